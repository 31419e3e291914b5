#!/usr/bin/env bash
# `make viz`: serve the Solara app (sim/viz/app.py) on http://127.0.0.1:${PORT:-8765}.
# Solara's JavaScript/CSS come from the offline cache that scripts/setup_browser.sh fills from
# the npm registry (these machines cannot reach Solara's CDN); it is filled here if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${PORT:-8765}"
PY="${PYTHON:-.venv/bin/python}"
if [ -z "${SOLARA_ASSETS_PROXY_CACHE_DIR:-}" ]; then
    SOLARA_ASSETS_PROXY_CACHE_DIR="$(bash scripts/setup_browser.sh --print-cache-dir)"
    bash scripts/setup_browser.sh --assets-only  # instant once the cache is complete
fi
export SOLARA_ASSETS_PROXY_CACHE_DIR

echo "Balancing sim: open http://127.0.0.1:${PORT}/ (Ctrl-C to stop)"
exec "$PY" -m solara run sim/viz/app.py --host 127.0.0.1 --port "$PORT" --no-open --production
