#!/usr/bin/env bash
# Builds the browser demo (trunk, release, offline) and the `mge` command, then serves the
# page and the extraction API with `mge serve` on 127.0.0.1.
#   PORT=8080 scripts/serve-demo.sh        # then open http://127.0.0.1:8080/
# Missing tools (trunk, wasm-bindgen-cli, wasm-opt) are installed first by
# scripts/install-web-tools.sh. SKIP_BUILD=1 serves the existing dist/ as it is; further
# arguments go to `mge serve` (see `mge serve --help`: models, limits, workers).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${PORT:-8080}"
export PATH="$PWD/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"

if [ "${SKIP_BUILD:-0}" != "1" ]; then
  ./scripts/install-web-tools.sh trunk wasm-bindgen wasm-opt
  if [ ! -f web/bench/conll04-test.txt ]; then
    if [ -f ../shared/data/conll04/test.json ]; then
      web/make-bench-sentences.sh
    else
      echo "note: no web/bench/conll04-test.txt; ?bench=1 will report no throughput (web/README.md)" >&2
    fi
  fi
  trunk build --release --offline
  # Precompressed copies for browsers that accept gzip (mge serve sends them as they are);
  # the model bundles stay as they are: int8 weights gain 6% and the page's progress bar
  # needs their length.
  find dist -maxdepth 1 \( -name '*.wasm' -o -name '*.js' -o -name '*.css' \) \
    -exec gzip -9 -k -f {} \;
  cargo build --release -p mge-trainer
fi

exec target/release/mge serve --addr "127.0.0.1:$PORT" --dist dist "$@"
