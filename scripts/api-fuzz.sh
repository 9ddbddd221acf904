#!/usr/bin/env bash
# Property-based tests of mge serve's API against its own OpenAPI document, with
# schemathesis (PyPI, installed into .tools/venv): every check, a bounded number of
# examples per operation. No answer may be a 5xx, and every answer must match the document.
#   scripts/api-fuzz.sh            # 100 examples per operation
#   scripts/api-fuzz.sh 25         # CI's short form
#   scripts/api-fuzz.sh --install-only
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.tools/venv
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==4.32.5"
fi
# --install-only: just the above (the test command installs it beside other downloads).
[ "${1:-}" = "--install-only" ] && exit 0
examples="${1:-100}"
# MGE_PREBUILT=1: the binaries in target/release are current (the test command has just
# built them with `cargo test --workspace --release`; building one package alone would
# resolve other features and compile most dependencies again).
if [ "${MGE_PREBUILT:-0}" != 1 ]; then
  cargo build --quiet --release -p mge-trainer
fi

port=$((20000 + RANDOM % 20000))
log=$(mktemp)
MGE_LOG=warn target/release/mge serve --no-page --addr "127.0.0.1:$port" 2>"$log" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do
  python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/healthz', timeout=1)" \
    2>/dev/null && break
  sleep 0.1
done

# Long generated bodies are cut in the report; the seed reproduces a run.
"$venv/bin/schemathesis" --config-file server/schemathesis.toml run \
  "http://127.0.0.1:$port/api/openapi.json" \
  --checks all --max-examples "$examples" --workers 1 --output-truncate true \
  --suppress-health-check too_slow,data_too_large 2>&1 | cut -c1-400
status=${PIPESTATUS[0]}
if grep -q panicked "$log"; then
  echo "mge serve panicked:"; cat "$log"; exit 1
fi
kill -0 $server 2>/dev/null || { echo "mge serve died during the run"; cat "$log"; exit 1; }
exit "$status"
