#!/usr/bin/env bash
# Installs what building and testing the browser demo needs, skipping whatever is already
# there: the wasm32 target, trunk, wasm-bindgen-cli (the version web/ links against),
# binaryen's wasm-opt (npm, into .tools/), Chromium with its chromedriver (apt), and
# lavapipe, Mesa's Vulkan driver on the CPU (apt), on which the GPU backend's tests run.
#
#   scripts/install-web-tools.sh                      # all of them
#   scripts/install-web-tools.sh chromium wasm-opt    # only these (downloads, no compiling)
#
# Afterwards put .tools/node_modules/.bin on PATH (wasm-opt); cargo puts trunk and
# wasm-bindgen in ~/.cargo/bin.
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION="~0.21"
WASM_BINDGEN_VERSION="0.2.130"
BINARYEN_VERSION="132.0.0"

have() { command -v "$1" >/dev/null 2>&1; }
say() { printf '  %s\n' "$*"; }

wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=(trunk wasm-bindgen wasm-opt chromium lavapipe)
want() {
  local w
  for w in "${wanted[@]}"; do [ "$w" = "$1" ] && return 0; done
  return 1
}
for w in "${wanted[@]}"; do
  case "$w" in
    trunk | wasm-bindgen | wasm-opt | chromium | lavapipe) ;;
    *) echo "unknown tool '$w' (trunk, wasm-bindgen, wasm-opt, chromium, lavapipe)" >&2; exit 2 ;;
  esac
done

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

if want trunk; then
  if have trunk; then
    say "trunk: $(trunk --version)"
  else
    # trunk 0.22 needs a newer rustc than ours; 0.21 builds with --locked. Its release
    # profile (fat LTO, one codegen unit) took 15 of the 49 minutes of a first test run on
    # 2 cores. trunk mostly waits for cargo, wasm-bindgen and wasm-opt, so an unoptimised
    # build serves as well and compiles in a fraction of the time. Without its default
    # features it has no TLS and no update check (16 crates fewer, rustls among them): it
    # serves the demo on plain HTTP and never downloads a tool, since this script installs
    # wasm-bindgen and wasm-opt. Without debug information: 181 s against 209 s here
    # (2 cores, 2026-12-03).
    CARGO_PROFILE_DEV_DEBUG=0 CARGO_INCREMENTAL=0 \
      cargo install --locked --debug --no-default-features trunk --version "$TRUNK_VERSION"
  fi
fi

if want wasm-bindgen; then
  if have wasm-bindgen && wasm-bindgen --version | grep -q " $WASM_BINDGEN_VERSION\b"; then
    say "wasm-bindgen: $(wasm-bindgen --version)"
  else
    # Not --locked: one locked dependency is missing from the registry mirror. Unoptimised
    # and without debug information it builds in 71 s against 139 s at opt-level 1, and
    # rewrites a wasm of the demo in 3-4 s against 1 s; the tests and the demo run it three
    # times (2 cores, 2026-12-03).
    CARGO_PROFILE_DEV_DEBUG=0 CARGO_INCREMENTAL=0 \
      cargo install --debug --force wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
  fi
fi

if want wasm-opt; then
  if [ -x .tools/node_modules/.bin/wasm-opt ]; then
    say "wasm-opt: $(.tools/node_modules/.bin/wasm-opt --version)"
  else
    mkdir -p .tools
    npm install --silent --no-audit --no-fund --prefix .tools "binaryen@$BINARYEN_VERSION"
  fi
fi

# Debian packages still missing, installed with one apt run.
packages=()
if want chromium; then
  if have chromium && have chromedriver; then
    say "chromium: $(chromium --version 2>/dev/null | head -1)"
  else
    packages+=(chromium chromium-driver)
  fi
fi
if want lavapipe; then
  if ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; then
    say "lavapipe: $(ls /usr/share/vulkan/icd.d/lvp_icd*.json | head -1)"
  else
    packages+=(mesa-vulkan-drivers)
  fi
fi
if [ ${#packages[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${packages[@]}"
fi
