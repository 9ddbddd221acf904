#!/usr/bin/env bash
# Installs what building and testing the browser demo needs, skipping whatever is already
# there: the wasm32 target, trunk, wasm-bindgen-cli (the version web/ links against),
# binaryen's wasm-opt (npm, into .tools/), and Chromium with its chromedriver (apt).
# Prints the PATH addition the other scripts use: source scripts/web-env.sh afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION="~0.21"
WASM_BINDGEN_VERSION="0.2.130"
BINARYEN_VERSION="132.0.0"

have() { command -v "$1" >/dev/null 2>&1; }
say() { printf '  %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

if have trunk; then
  say "trunk: $(trunk --version)"
else
  # trunk 0.22 needs a newer rustc than ours; 0.21 builds with --locked.
  # trunk's own release profile links with fat LTO and one codegen unit (about 15 minutes
  # on 2 cores); a build tool that mostly waits for wasm-bindgen and wasm-opt does not need
  # that. Thin-local LTO and 16 codegen units cut the install to a few minutes.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install --locked trunk --version "$TRUNK_VERSION"
fi

if have wasm-bindgen && wasm-bindgen --version | grep -q " $WASM_BINDGEN_VERSION\b"; then
  say "wasm-bindgen: $(wasm-bindgen --version)"
else
  # Not --locked: one locked dependency is missing from the registry mirror.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install --force wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ -x .tools/node_modules/.bin/wasm-opt ]; then
  say "wasm-opt: $(.tools/node_modules/.bin/wasm-opt --version)"
else
  mkdir -p .tools
  npm install --silent --no-audit --no-fund --prefix .tools "binaryen@$BINARYEN_VERSION"
fi

if have chromium && have chromedriver; then
  say "chromium: $(chromium --version 2>/dev/null | head -1)"
else
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium chromium-driver
fi
