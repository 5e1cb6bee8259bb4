#!/usr/bin/env bash
# Builds llama.cpp's `llama-server` offline from the source bundle that the node-llama-cpp npm package ships,
# into a cache OUTSIDE the work tree, and reuses the binary when it is already there.
#
# Why this shape:
# - node-llama-cpp is installed lean into its own cache folder (never into the project's package.json): its optional
#   dependencies would otherwise pull ~725 MB of CUDA/Vulkan binaries. We only need its git bundle (35 MB).
# - The UI options are switched off because with them on the build tries to download web assets (no internet here).
# - `nice -n 15` and `-j2`: the machine has 2 cores shared with other work.
#
# Prints the path of the binary as the LAST line of stdout on success (callers read it).
# Environment: LATENCY_COPILOT_CACHE (default ~/.cache/latency-copilot), NODE_LLAMA_CPP_VERSION (default 3.22.1).
set -euo pipefail

CACHE_DIR="${LATENCY_COPILOT_CACHE:-$HOME/.cache/latency-copilot}"
NLC_VERSION="${NODE_LLAMA_CPP_VERSION:-3.22.1}"
NLC_DIR="$CACHE_DIR/node-llama-cpp"
BUNDLE="$NLC_DIR/node_modules/node-llama-cpp/llama/gitRelease.bundle"

fail() {
  echo "buildLlamaServer: $*" >&2
  exit 1
}
say() { echo "buildLlamaServer: $*" >&2; }

for tool in git cmake make c++ npm; do
  command -v "$tool" >/dev/null 2>&1 || fail "'$tool' is not installed; it is needed to build llama-server (apt-get install build-essential cmake git)."
done

mkdir -p "$CACHE_DIR"

# 1. The lean node-llama-cpp install (only for its source bundle and its prebuilt CPU binary).
if [ ! -f "$BUNDLE" ]; then
  say "installing node-llama-cpp@$NLC_VERSION (lean: CPU binary only) into $NLC_DIR"
  mkdir -p "$NLC_DIR"
  cat >"$NLC_DIR/package.json" <<EOF
{
  "name": "latency-copilot-engine-cache",
  "private": true,
  "dependencies": {
    "node-llama-cpp": "$NLC_VERSION",
    "@node-llama-cpp/linux-x64": "$NLC_VERSION"
  }
}
EOF
  (cd "$NLC_DIR" && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --omit=optional --no-audit --no-fund --loglevel=error >&2) \
    || fail "npm install of node-llama-cpp@$NLC_VERSION failed in $NLC_DIR (is the npm registry reachable?)."
  [ -f "$BUNDLE" ] || fail "node-llama-cpp@$NLC_VERSION has no llama/gitRelease.bundle; cannot build llama-server offline."
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

say "building llama-server from source, about 12 minutes on 2 cores (llama.cpp $COMMIT -> $SRC_DIR)"
START=$(date +%s)
if [ ! -d "$SRC_DIR/.git" ]; then
  rm -rf "$SRC_DIR"
  git clone --quiet "$BUNDLE" "$SRC_DIR" >&2 || fail "git clone of $BUNDLE failed."
fi
cd "$SRC_DIR"
nice -n 15 cmake -B build -DCMAKE_BUILD_TYPE=Release \
  -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DGGML_NATIVE=OFF >&2 \
  || fail "cmake configure failed in $SRC_DIR (see the output above)."
nice -n 15 cmake --build build --target llama-server -j2 >&2 \
  || fail "cmake build of llama-server failed in $SRC_DIR (see the output above)."
[ -x "$BIN" ] || fail "the build finished but $BIN is missing."
"$BIN" --version >/dev/null 2>&1 || fail "$BIN was built but does not run."
say "built llama-server in $(( $(date +%s) - START )) s"
echo "$BIN"
