#!/usr/bin/env bash
# End-to-end test of the extension in a real VS Code (code-server 4.100.3) driven by a real
# browser (Debian's chromium) through playwright-core. Installs everything it needs
# (e2e/setup.sh, npm ci), builds and packages the .vsix, installs it into a fresh extensions
# folder, starts code-server on 127.0.0.1 with its own XDG/TMPDIR folders in its own process
# group, runs e2e/test.mjs, saves screenshots and a summary, and always stops the process group.
#
# Environment:
#   HPO_E2E_PYTHON   Python with the hpo package installed (default: <repo>/.venv/bin/python)
#   HPO_E2E_OUTPUT   where screenshots, logs and summary.json go (default: vscode-extension/test-output/e2e)
#   HPO_E2E_CACHE    cache of code-server / playwright-core (default: <repo>/.e2e)
#   HPO_E2E_SERVER   optional: a command for the hpo.server.path setting instead of <python> -m hpo_lsp
#   HPO_E2E_REDHAT_YAML  Red Hat's YAML extension (.vsix) installed beside hpo's
#                    (default: <repo>/../shared/third-party/redhat-yaml-1.25.0-local.vsix; when it is
#                    missing, the "once beside Red Hat YAML" steps are reported as skipped)
# Exit status: 0 when every step passed, non-zero otherwise.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EXT="$(cd "$HERE/.." && pwd)"
REPO="$(cd "$EXT/.." && pwd)"
CACHE="${HPO_E2E_CACHE:-$REPO/.e2e}"
OUT="${HPO_E2E_OUTPUT:-$EXT/test-output/e2e}"
PYTHON="${HPO_E2E_PYTHON:-$REPO/.venv/bin/python}"
export HPO_E2E_CACHE="$CACHE"
started=$(date +%s)
log() { printf '[e2e %3ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }

# 1. tools ----------------------------------------------------------------------------
bash "$HERE/setup.sh"
CODE_SERVER="$CACHE/code-server-4.100.3/node_modules/.bin/code-server"
PLAYWRIGHT_DIR="$CACHE/driver/node_modules/playwright-core"

# 2. the Python side -------------------------------------------------------------------
# An absolute path (the editor runs it from elsewhere); a venv's python symlink is kept as is.
if [[ "$PYTHON" != */* ]]; then PYTHON="$(command -v "$PYTHON" || echo "$PYTHON")"; fi
if [[ -e "$PYTHON" ]]; then PYTHON="$(cd "$(dirname "$PYTHON")" && pwd)/$(basename "$PYTHON")"; fi
if [[ ! -x "$PYTHON" ]]; then
  log "no Python at $PYTHON: create it (python3 -m venv .venv && .venv/bin/pip install -e '.[test]') or set HPO_E2E_PYTHON"
  exit 2
fi
"$PYTHON" -c "import hpo_lsp, hpo_engine.cli" || { log "$PYTHON cannot import hpo_lsp / hpo_engine: pip install -e '$REPO[test]'"; exit 2; }

# 3. build, unit-test and package the extension --------------------------------------
cd "$EXT"
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
log "unit tests"
npm test --silent > /dev/null 2> >(cat >&2) || { npm test; exit 1; }
log "npm run package"
rm -rf dist
npm run --silent package > /dev/null
VSIX="$(ls "$EXT"/dist/*.vsix)"
log "packaged $VSIX"

# 4. a fresh VS Code profile and workspace ---------------------------------------------
rm -rf "$OUT"; mkdir -p "$OUT"
RUN="$OUT/run"
mkdir -p "$RUN"/{extensions,user-data/User,xdg/config,xdg/data,xdg/cache,xdg/state,tmp,browser-profile}
WORKSPACE="$RUN/workspace"
cp -r "$HERE/fixtures/workspace" "$WORKSPACE"
if [[ -f "$REPO/examples/seed-typo.yaml" ]]; then
  cp "$REPO/examples/seed-typo.yaml" "$WORKSPACE/seed-typo.yaml"
else
  cp "$HERE/fixtures/seed-typo.yaml" "$WORKSPACE/seed-typo.yaml"
fi
# the seed manifest under both names Red Hat YAML could claim; a plain YAML file with a syntax
# error (only Red Hat YAML reports it: proof that it runs); an invalid manifest to run
cp "$WORKSPACE/seed-typo.yaml" "$WORKSPACE/seed-typo.hpo.yaml"
printf 'services:\n  web: [unclosed\n' > "$WORKSPACE/plain-broken.yaml"
sed 's/double_values:/double_valuez:/' "$WORKSPACE/tiny.hpo.yaml" > "$WORKSPACE/invalid.hpo.yaml"
export XDG_CONFIG_HOME="$RUN/xdg/config" XDG_DATA_HOME="$RUN/xdg/data" XDG_CACHE_HOME="$RUN/xdg/cache" XDG_STATE_HOME="$RUN/xdg/state" TMPDIR="$RUN/tmp"
SERVER_PATH="${HPO_E2E_SERVER:-}"
"$PYTHON" - "$RUN/user-data/User/settings.json" "$PYTHON" "$SERVER_PATH" <<'PY'
import json, sys
path, python, server = sys.argv[1:4]
json.dump({
    "hpo.python.interpreterPath": python,
    "hpo.server.path": server,
    "hpo.preview.maxPoints": 10,
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "workbench.enableExperiments": False,
    "security.workspace.trust.enabled": False,
    "extensions.ignoreRecommendations": True,
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "files.autoSave": "off",
    "git.openRepositoryInParentFolders": "never",
    "git.autoRepositoryDetection": False,
    "editor.minimap.enabled": False,
    "chat.commandCenter.enabled": False,
    "workbench.colorTheme": "Default Dark Modern",
    # Red Hat YAML: no telemetry question, no schema store download (no internet here)
    "redhat.telemetry.enabled": False,
    "yaml.schemaStore.enable": False,
    "yaml.extension.recommendations": False,
}, open(path, "w"), indent=2)
PY

log "install the .vsix into a fresh extensions folder"
"$CODE_SERVER" --extensions-dir "$RUN/extensions" --user-data-dir "$RUN/user-data" --install-extension "$VSIX" > "$OUT/install-extension.log" 2>&1 \
  || { cat "$OUT/install-extension.log"; exit 1; }
ls "$RUN/extensions" | grep -q "^hpo.hpo-manifests-" || { log "the extension is not in $RUN/extensions"; exit 1; }
REDHAT_VSIX="${HPO_E2E_REDHAT_YAML:-$REPO/../shared/third-party/redhat-yaml-1.25.0-local.vsix}"
if [[ -f "$REDHAT_VSIX" ]]; then
  log "install Red Hat YAML beside it: $REDHAT_VSIX"
  "$CODE_SERVER" --extensions-dir "$RUN/extensions" --user-data-dir "$RUN/user-data" --install-extension "$REDHAT_VSIX" >> "$OUT/install-extension.log" 2>&1 \
    || { cat "$OUT/install-extension.log"; exit 1; }
  ls "$RUN/extensions" | grep -q "^redhat.vscode-yaml-" || { log "Red Hat YAML is not in $RUN/extensions"; exit 1; }
  export E2E_REDHAT=1
else
  log "no Red Hat YAML vsix at $REDHAT_VSIX: its steps are skipped"
  export E2E_REDHAT=0
fi

# 5. code-server in its own process group ----------------------------------------------
PORT="$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cat > "$RUN/config.yaml" <<CFG
bind-addr: 127.0.0.1:$PORT
auth: none
cert: false
CFG
log "start code-server on 127.0.0.1:$PORT"
HPO_E2E_SLOW_MARKER="$WORKSPACE/.slow-tiny" setsid "$CODE_SERVER" --config "$RUN/config.yaml" --user-data-dir "$RUN/user-data" --extensions-dir "$RUN/extensions" \
  --disable-telemetry --disable-update-check --disable-workspace-trust --disable-getting-started-override \
  "$WORKSPACE" > "$OUT/code-server.log" 2>&1 < /dev/null &
CS_PID=$!
cleanup() {
  local rc=$?
  if kill -0 "$CS_PID" 2>/dev/null; then
    kill -TERM -- "-$CS_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$CS_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$CS_PID" 2>/dev/null || true
  fi
  log "code-server stopped; output in $OUT"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
healthy() { node -e 'fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "http://127.0.0.1:$PORT/healthz"; }
for _ in $(seq 120); do
  healthy && break
  kill -0 "$CS_PID" 2>/dev/null || { cat "$OUT/code-server.log"; log "code-server exited"; exit 1; }
  sleep 0.25
done
healthy || { log "code-server did not answer /healthz"; exit 1; }

# A Python that cannot import hpo (no site-packages): the last step checks the install hint.
cat > "$RUN/python-without-hpo" <<SH
#!/bin/sh
exec "$PYTHON" -I -S "\$@"
SH
chmod +x "$RUN/python-without-hpo"

# 6. drive the editor ------------------------------------------------------------------
log "drive chromium"
PLAYWRIGHT_CORE="$PLAYWRIGHT_DIR" E2E_URL="http://127.0.0.1:$PORT/?folder=$WORKSPACE" E2E_WORKSPACE="$WORKSPACE" \
  E2E_OUTPUT="$OUT" E2E_BROWSER_PROFILE="$RUN/browser-profile" E2E_SETTINGS="$RUN/user-data/User/settings.json" \
  E2E_PYTHON_WITHOUT_HPO="$RUN/python-without-hpo" E2E_DOCS_IMAGE="${HPO_E2E_DOCS_IMAGE:-$REPO/docs/images/vscode-results-charts.png}" \
  node "$HERE/test.mjs"
log "passed"
