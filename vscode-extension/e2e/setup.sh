#!/usr/bin/env bash
# Installs what the end-to-end test needs, once, into a cache folder (default: <repo>/.e2e):
#   - Debian packages: the build tools code-server's native modules need, ripgrep, chromium
#   - code-server 4.100.3 from npm (VS Code 1.100.3; the last release that runs on Node 20)
#   - playwright-core from npm (drives Debian's chromium; no browser download)
# Idempotent: every step is skipped when its result is already there.
# See ../../../shared/reference/editor-testing.md for why each step is needed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${HPO_E2E_CACHE:-$REPO/.e2e}"
CODE_SERVER_VERSION="4.100.3"
PLAYWRIGHT_VERSION="1.65.1"
mkdir -p "$CACHE"

log() { printf '[e2e setup] %s\n' "$*"; }

# 1. Debian packages --------------------------------------------------------
APT_PACKAGES=(build-essential pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev ripgrep chromium)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "apt-get install ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" \
    || { $SUDO apt-get update -q && $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"; }
fi
command -v chromium >/dev/null || { log "chromium missing after apt-get"; exit 1; }

# 2. code-server --------------------------------------------------------------
CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
CS_BIN="$CS_DIR/node_modules/.bin/code-server"
if [[ ! -x "$CS_BIN" ]] || ! "$CS_BIN" --version 2>/dev/null | grep -q "^$CODE_SERVER_VERSION"; then
  log "npm install code-server@$CODE_SERVER_VERSION into $CS_DIR (about 2 minutes)"
  # The ripgrep post-install step downloads from GitHub: pre-seed its cache with Debian's rg.
  SEED_TMP="$CACHE/tmp-install"; rm -rf "$SEED_TMP"; mkdir -p "$SEED_TMP/vscode-ripgrep-cache-1.15.11" "$SEED_TMP/rg"
  cp "$(command -v rg)" "$SEED_TMP/rg/rg"
  tar -czf "$SEED_TMP/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$SEED_TMP/rg" rg
  # Two attempts: a native module build (argon2, node-pty) has been seen to fail once
  # ("binding.gyp not found") and pass on the next try.
  for attempt in 1 2; do
    rm -rf "$CS_DIR"; mkdir -p "$CS_DIR"
    echo '{"name":"hpo-e2e-code-server","private":true}' > "$CS_DIR/package.json"
    if ( cd "$CS_DIR" && TMPDIR="$SEED_TMP" npm_config_unsafe_perm=true npm_config_yes=true \
        npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" ); then
      break
    fi
    [[ $attempt == 2 ]] && { log "npm install code-server@$CODE_SERVER_VERSION failed twice"; exit 1; }
    log "npm install failed; trying once more"
  done
  rm -rf "$SEED_TMP"
  "$CS_BIN" --version | grep -q "^$CODE_SERVER_VERSION" || { log "code-server did not install"; exit 1; }
fi

# 3. playwright-core ----------------------------------------------------------
DRIVER_DIR="$CACHE/driver"
if [[ ! -f "$DRIVER_DIR/node_modules/playwright-core/package.json" ]]; then
  log "npm install playwright-core@$PLAYWRIGHT_VERSION into $DRIVER_DIR"
  mkdir -p "$DRIVER_DIR"
  echo '{"name":"hpo-e2e-driver","private":true}' > "$DRIVER_DIR/package.json"
  ( cd "$DRIVER_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error "playwright-core@$PLAYWRIGHT_VERSION" )
fi
log "ready: $CS_BIN, $(command -v chromium), $DRIVER_DIR/node_modules/playwright-core"
