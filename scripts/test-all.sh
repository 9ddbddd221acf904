#!/usr/bin/env bash
# Runs every check and test of the workspace on a fresh machine: installs what is missing
# (the wasm target, the default encoder, the browser toolchain and Chromium, lavapipe for
# the GPU backend, schemathesis, cargo-fuzz),
# then formatting, lints, the native tests, short bounded runs of the API property tests,
# the server load test and the fuzzers, and the model crate built for wasm32 and tested in
# headless Chromium against the native results (the browser runs that exact code).
set -euo pipefail
cd "$(dirname "$0")/.."

# The background downloads end with the script, also when a step fails.
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

start=$SECONDS
last=$SECONDS
# Each step prints the time the previous one took and the total so far, so a slow step
# shows in CI's log.
step() {
  printf '\n==> %s   (previous step %ds, total %dm%02ds)\n' "$*" $((SECONDS - last)) \
    $(((SECONDS - start) / 60)) $(((SECONDS - start) % 60))
  last=$SECONDS
}

step "toolchain"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
rustup component list --installed | grep -q '^clippy' || rustup component add clippy
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt

# Downloads (the encoder and cargo-fuzz from PyPI, Chromium from apt, wasm-opt from npm) wait on the
# network, not the processor: they run beside the lints and the first build.
step "downloads in the background: the encoder, Chromium, wasm-opt, lavapipe, schemathesis, cargo-fuzz"
downloads_log=$(mktemp)
(./scripts/fetch-encoder.sh && ./scripts/install-web-tools.sh chromium wasm-opt lavapipe &&
  ./scripts/api-fuzz.sh --install-only && ./scripts/fuzz.sh --install-only) >"$downloads_log" 2>&1 &
downloads=$!

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets --release -- -D warnings

step "waiting for the downloads"
if ! wait "$downloads"; then
  cat "$downloads_log"
  echo "error: a download failed (log above)" >&2
  exit 1
fi
cat "$downloads_log"
export MGE_REQUIRE_ENCODER=1
# The GPU backend's kernel and parity tests run on lavapipe (installed above) and fail
# rather than skip without an adapter. Mesa looks for a Wayland display under
# XDG_RUNTIME_DIR and complains on every start where none is set.
export MGE_REQUIRE_GPU=1
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"

step "cargo test (native)"
# The browser end-to-end tests need dist/, built below; they run at the end.
MGE_E2E_SKIP=1 cargo test --workspace --release

step "mge serve: its API against its OpenAPI document (schemathesis, 25 examples per operation)"
MGE_PREBUILT=1 ./scripts/api-fuzz.sh 25

step "mge serve: a short load test (no failed request, 503 only beyond its places)"
MGE_PREBUILT=1 ./bench/server-load.sh --quick

step "fuzzing, short form: each cargo fuzz target for ${FUZZ_SECONDS:-5} s (scripts/fuzz.sh)"
# In the foreground: run beside the browser toolchain's build on 2 cores, it made the two
# take longer together (17 min) than one after the other (16 min).
./scripts/fuzz.sh "${FUZZ_SECONDS:-5}"

step "browser toolchain (trunk, wasm-bindgen)"
./scripts/install-web-tools.sh
export PATH="$PWD/.tools/node_modules/.bin:$PATH"
export CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver)}"

step "mge in wasm32 (SIMD128) in headless Chromium = native results"
WASM_BINDGEN_TEST_TIMEOUT=300 cargo test -p mge-web --release --target wasm32-unknown-unknown --test parity_wasm

step "web crate lints for wasm32"
cargo clippy -p mge-web --target wasm32-unknown-unknown --release --all-targets -- -D warnings

step "demo: trunk build, then end-to-end tests in headless Chromium"
trunk build --release --offline
# --workspace: the same features as the native tests above, so nothing is built again.
cargo test --workspace --release --test demo

step "done"
