#!/usr/bin/env bash
# Builds llama.cpp's `llama-server` offline from the source bundle that the node-llama-cpp npm package ships,
# into a cache OUTSIDE the work tree, and reuses the binary when it is already there.
#
# Why this shape:
# - node-llama-cpp is installed lean into its own cache folder (never into the project's package.json): its optional
#   dependencies would otherwise pull ~725 MB of CUDA/Vulkan binaries. We only need its git bundle (35 MB).
# - The UI options are switched off because with them on the build tries to download web assets (no internet here).
# - `nice -n 15` and `-j2`: the machine has 2 cores shared with other work.
# - GGML_NATIVE=ON: the binary is built for this machine's CPU (AVX2/AVX-512 where present), as node-llama-cpp's own
#   prebuilt binary picks the best variant at run time. With OFF, ggml's CPU code was built for the baseline x86-64 and
#   prefilled 2.5x slower than node-llama-cpp on the same model. The cache is per machine, so native code is safe here.
# - Only the llama-server target is built (no tests, examples or tools).
# - Run directly or through `npm run test:engine`: the nested npm install sees the same environment either way
#   (test/install/nestedInstallEnv.sh). A failure prints one line saying what failed and removes what it half made.
#
# Prints the path of the binary as the LAST line of stdout on success (callers read it).
# Environment: LATENCY_COPILOT_CACHE (default ~/.cache/latency-copilot), NODE_LLAMA_CPP_VERSION (default 3.22.1).
set -euo pipefail
# shellcheck source=../install/nestedInstallEnv.sh
source "$(dirname "${BASH_SOURCE[0]}")/../install/nestedInstallEnv.sh"
clean_nested_install_env

CACHE_DIR="${LATENCY_COPILOT_CACHE:-$HOME/.cache/latency-copilot}"
NLC_VERSION="${NODE_LLAMA_CPP_VERSION:-3.22.1}"
NLC_DIR="$CACHE_DIR/node-llama-cpp"
BUNDLE="$NLC_DIR/node_modules/node-llama-cpp/llama/gitRelease.bundle"

# What to remove when a step fails, so that the next run starts clean.
partial=""
fail() {
  local removed=""
  if [ -n "$partial" ]; then
    rm -rf "$partial"
    removed=" Removed the partial $partial."
  fi
  echo "buildLlamaServer: FAILED: $*$removed Fix it and run the same command again." >&2
  exit 1
}
say() { echo "buildLlamaServer: $*" >&2; }

# The build tools: Debian's packages, installed when missing (root, or sudo without a password).
missing_debs=()
command -v git >/dev/null 2>&1 || missing_debs+=(git)
command -v cmake >/dev/null 2>&1 || missing_debs+=(cmake)
{ command -v make >/dev/null 2>&1 && command -v c++ >/dev/null 2>&1; } || missing_debs+=(build-essential)
if (( ${#missing_debs[@]} > 0 )); then
  sudo_cmd=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || fail "${missing_debs[*]} missing, and installing them needs root. Run as root: apt-get update && apt-get install -y ${missing_debs[*]}."
    sudo_cmd=(sudo -n)
  fi
  command -v apt-get >/dev/null 2>&1 || fail "${missing_debs[*]} missing and there is no apt-get: install them with your system's package manager."
  say "apt-get install ${missing_debs[*]}"
  { "${sudo_cmd[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing_debs[@]}"; } >&2 \
    || fail "apt-get install ${missing_debs[*]} failed (run as root: apt-get update && apt-get install -y ${missing_debs[*]})."
fi
command -v npm >/dev/null 2>&1 || fail "npm is not on PATH."

mkdir -p "$CACHE_DIR"

# 1. The lean node-llama-cpp install (only for its source bundle and its prebuilt CPU binary).
if [ ! -f "$BUNDLE" ]; then
  say "installing node-llama-cpp@$NLC_VERSION (lean: CPU binary only) into $NLC_DIR"
  partial="$NLC_DIR.partial"
  rm -rf "$NLC_DIR.partial" "$NLC_DIR"
  mkdir -p "$NLC_DIR.partial"
  cat >"$NLC_DIR.partial/package.json" <<EOF
{
  "name": "latency-copilot-engine-cache",
  "private": true,
  "dependencies": {
    "node-llama-cpp": "$NLC_VERSION",
    "@node-llama-cpp/linux-x64": "$NLC_VERSION"
  }
}
EOF
  (cd "$NLC_DIR.partial" && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --omit=optional --no-audit --no-fund --loglevel=error >&2) \
    || fail "npm install of node-llama-cpp@$NLC_VERSION failed (is the npm registry reachable? is the disk full? free: $(df -Pk "$CACHE_DIR" | awk 'NR==2 { printf "%.1f GB", $4 / 1048576 }'))."
  [ -f "$NLC_DIR.partial/node_modules/node-llama-cpp/llama/gitRelease.bundle" ] \
    || fail "node-llama-cpp@$NLC_VERSION has no llama/gitRelease.bundle; cannot build llama-server offline."
  mv "$NLC_DIR.partial" "$NLC_DIR"
  partial=""
fi

# 2. The commit the bundle holds names the build folder, so a new node-llama-cpp version builds next to the old one.
COMMIT="$(git bundle list-heads "$BUNDLE" | head -n 1 | cut -c1-7)"
[ -n "$COMMIT" ] || fail "could not read the commit from $BUNDLE."
SRC_DIR="$CACHE_DIR/llama.cpp-$COMMIT"
BIN="$SRC_DIR/build/bin/llama-server"

if [ -x "$BIN" ] && "$BIN" --version >/dev/null 2>&1; then
  say "reusing llama-server (llama.cpp $COMMIT)"
  echo "$BIN"
  exit 0
fi

# 3. The build, guarded by a lock so two concurrent callers do not build into the same folder.
LOCK="$CACHE_DIR/llama.cpp-$COMMIT.lock"
exec 9>"$LOCK"
if ! flock -n 9; then
  say "another build of llama.cpp $COMMIT is running; waiting for it"
  flock 9
  if [ -x "$BIN" ]; then
    echo "$BIN"
    exit 0
  fi
fi

say "building llama-server from source, about 7 minutes on 2 quiet cores, 15 on busy ones (llama.cpp $COMMIT -> $SRC_DIR)"
START=$(date +%s)
# A source tree without a finished build is from a run that failed or was stopped: start it again from scratch.
rm -rf "$SRC_DIR"
partial="$SRC_DIR"
git clone --quiet "$BUNDLE" "$SRC_DIR" >&2 || fail "git clone of $BUNDLE failed."
cd "$SRC_DIR"
nice -n 15 cmake -B build -DCMAKE_BUILD_TYPE=Release \
  -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON -DGGML_NATIVE=ON >&2 \
  || fail "cmake configure failed in $SRC_DIR (see the output above)."
nice -n 15 cmake --build build --target llama-server -j2 >&2 \
  || fail "cmake build of llama-server failed in $SRC_DIR (see the output above; is the disk full? free: $(df -Pk "$CACHE_DIR" | awk 'NR==2 { printf "%.1f GB", $4 / 1048576 }'))."
[ -x "$BIN" ] || fail "the build finished but $BIN is missing."
"$BIN" --version >/dev/null 2>&1 || fail "$BIN was built but does not run."
partial=""
say "built llama-server in $(( $(date +%s) - START )) s"
echo "$BIN"
