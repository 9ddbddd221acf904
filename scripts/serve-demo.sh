#!/usr/bin/env bash
# Builds the browser demo (trunk, release, offline) and serves dist/ on 127.0.0.1.
#   PORT=8080 scripts/serve-demo.sh        # then open http://127.0.0.1:8080/
# Missing tools (trunk, wasm-bindgen-cli, wasm-opt, Chromium) are installed first by
# scripts/install-web-tools.sh. SKIP_BUILD=1 serves the existing dist/ as it is.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${PORT:-8080}"
export PATH="$PWD/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"

if [ "${SKIP_BUILD:-0}" != "1" ]; then
  ./scripts/install-web-tools.sh
  if [ ! -f web/bench/conll04-test.txt ]; then
    if [ -f ../shared/data/conll04/test.json ]; then
      web/make-bench-sentences.sh
    else
      echo "note: no web/bench/conll04-test.txt; ?bench=1 will report no throughput (web/README.md)" >&2
    fi
  fi
  trunk build --release --offline
fi

# A static server that sends .wasm as application/wasm (streaming compilation needs it).
exec python3 - "$PORT" <<'PY'
import functools, http.server, sys
port = int(sys.argv[1])
class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".js": "text/javascript",
        ".safetensors": "application/octet-stream",
    }
server = http.server.ThreadingHTTPServer(
    ("127.0.0.1", port), functools.partial(Handler, directory="dist"))
print(f"MGE-rs demo: http://127.0.0.1:{port}/  (Ctrl-C stops)", flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    pass
PY
