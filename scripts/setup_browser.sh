#!/usr/bin/env bash
# Placeholder until the browser-test issue lands: nothing to install yet.
exit 0
