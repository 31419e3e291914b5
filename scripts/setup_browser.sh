#!/usr/bin/env bash
# Set up what the browser tests and `make viz` need on a fresh machine:
#   1. Debian's Chromium at /usr/bin/chromium (Playwright cannot download its own browsers here);
#   2. Solara's offline asset cache: the JavaScript/CSS that Solara normally loads from a public
#      CDN, taken from the npm registry and laid out as <npm-name>@<version>/<file path>.
# Idempotent: a stamp file makes a second run instant. Failures are reported, not fatal: the
# browser tests skip with a reason when Chromium or the assets are missing.
#
# Options: --assets-only (skip Chromium), --print-cache-dir (print the cache folder). It is
#   ${BALANCING_SIM_ASSETS:-${XDG_CACHE_HOME:-$HOME/.cache}/balancing-sim/solara-assets}
set -uo pipefail

CACHE_DIR="${BALANCING_SIM_ASSETS:-${XDG_CACHE_HOME:-$HOME/.cache}/balancing-sim/solara-assets}"
ASSETS_ONLY=0
case "${1:-}" in
    --print-cache-dir) echo "$CACHE_DIR"; exit 0 ;;
    --assets-only) ASSETS_ONLY=1 ;;  # `make viz` needs no Chromium
esac

# The npm packages the page of sim/viz/app.py requests through Solara's CDN proxy (checked in the
# browser's network log, Solara 1.64.1, every view of the app): solara-vuetify-app's
# dist/{main8.css,fonts.css,solara-vuetify-app8.min.js,*.woff2}, requirejs's require.js,
# font-awesome's css/font-awesome.min.css, and for the app's Vega-Lite charts (sim/viz/chart.vue,
# loaded as Solara's own FigureAltair loads them) build/*.min.js of vega@5, vega-lite@5 and
# vega-embed@6, under those exact folder names. No mermaid: the app does not use solara.Markdown.
PACKAGES=(
    "@widgetti/solara-vuetify-app@10.1.1"
    "requirejs@2.3.6"
    "font-awesome@4.5.0"
    "vega@5"
    "vega-lite@5"
    "vega-embed@6"
)
STAMP="$CACHE_DIR/.complete-$(printf '%s\n' "${PACKAGES[@]}" | cksum | cut -d' ' -f1)"

log() { echo "setup_browser: $*"; }

# apt-get install as root, with one `apt-get update` first (a fresh machine has no package lists).
APT_UPDATED=0
apt_install() {
    if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
        log "cannot install $* (needs root and apt-get)"
        return 1
    fi
    if [ "$APT_UPDATED" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# --- 1. Chromium -----------------------------------------------------------------------------
if [ "$ASSETS_ONLY" = 1 ]; then
    :
elif [ -x /usr/bin/chromium ]; then
    log "chromium present ($(/usr/bin/chromium --version 2>/dev/null | head -n1))"
else
    log "installing Debian's chromium (about a minute)"
    if apt_install chromium && [ -x /usr/bin/chromium ]; then
        log "chromium installed"
    else
        log "could not install chromium: browser tests will be skipped"
    fi
fi

# --- 2. Solara's offline asset cache ---------------------------------------------------------
if [ -f "$STAMP" ]; then
    log "solara assets present in $CACHE_DIR"
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    log "installing npm to fetch Solara's assets from the npm registry"
    apt_install npm || true
fi
if ! command -v npm >/dev/null 2>&1; then
    log "npm missing: cannot fill $CACHE_DIR; the Solara page needs its CDN then"
    exit 0
fi

mkdir -p "$CACHE_DIR" || { log "cannot create $CACHE_DIR"; exit 0; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
ok=1
for spec in "${PACKAGES[@]}"; do
    dest="$CACHE_DIR/$spec"
    if [ -f "$dest/package.json" ]; then
        continue
    fi
    log "fetching $spec from the npm registry"
    tgz="$(cd "$WORK" && npm pack --silent "$spec" 2>/dev/null | tail -n1)"
    if [ -z "$tgz" ] || [ ! -f "$WORK/$tgz" ]; then
        log "npm pack $spec failed"
        ok=0
        continue
    fi
    # Unpack into a temporary folder and rename, so a half-unpacked package never looks complete.
    tmp="$CACHE_DIR/.tmp-$$"
    rm -rf "$tmp" && mkdir -p "$tmp"
    if tar -xzf "$WORK/$tgz" -C "$tmp" --strip-components=1 --no-same-owner; then
        mkdir -p "$(dirname "$dest")"
        rm -rf "$dest" && mv "$tmp" "$dest"
    else
        log "could not unpack $tgz"
        rm -rf "$tmp"
        ok=0
    fi
    rm -f "$WORK/$tgz"
done

if [ "$ok" = 1 ]; then
    touch "$STAMP"
    log "solara assets ready in $CACHE_DIR ($(du -sh "$CACHE_DIR" 2>/dev/null | cut -f1))"
else
    log "some solara assets are missing (see above); the page may not render offline"
fi
exit 0
