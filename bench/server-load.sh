#!/usr/bin/env bash
# Load test of `mge serve` on loopback, beside the native `mge extract` throughput on the
# same sentence, so the server's overhead shows. It stops by itself.
#
#   bench/server-load.sh                  # 1, 8, 64 clients, 20 s each, then 8 clients for 60 s
#                                         # with the server's memory sampled every second
#   bench/server-load.sh --quick          # CI's short form: 4 s per level, no long run
#
# Checks as it goes and exits non-zero when one fails: no request fails (no status other
# than 200 or 503, no broken connection); no 503 while the clients fit in the server's
# places (workers + queue); at 64 clients, more than the places, some requests are turned
# away with 503.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[ "${1:-}" = "--quick" ] && quick=1
secs=20
[ $quick = 1 ] && secs=4

# MGE_PREBUILT=1: the binaries in target/release are current (the test command has just
# built them with `cargo test --workspace --release`; building one package alone would
# resolve other features and compile most dependencies again).
if [ "${MGE_PREBUILT:-0}" != 1 ]; then
  cargo build --quiet --release -p mge-trainer -p mge-server
fi
mge=target/release/mge
load=target/release/mge-load
sentence="Arthur B. Collins Jr., a banker in St. Paul, joined Wells Fargo in 1990, two years after the U.S. Navy hired Laura Kim as an engineer in Norfolk, Va."

tmp=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

# Native throughput: the same sentence, 200 times, one document per line.
n=200
[ $quick = 1 ] && n=50
for _ in $(seq $n); do echo "$sentence"; done >"$tmp/lines.txt"
t0=$(date +%s.%N)
"$mge" extract --model models/conll04.safetensors --format jsonl "$tmp/lines.txt" >/dev/null
t1=$(date +%s.%N)
python3 -c "t = $t1 - $t0; print(f'== native: mge extract, $n sentences in {t:.2f} s: {$n / t:.1f} sentences/s (model load included)')"

# The server, with its defaults (workers = cores, queue = 4 per worker).
port=$((20000 + RANDOM % 20000))
MGE_LOG=warn "$mge" serve --no-page --addr "127.0.0.1:$port" 2>"$tmp/serve.log" &
server_pid=$!
for _ in $(seq 100); do
  python3 -c "import urllib.request as u; print(u.urlopen('http://127.0.0.1:$port/healthz', timeout=1).read().decode())" \
    >"$tmp/health.json" 2>/dev/null && break
  sleep 0.1
done
capacity=$(python3 -c "import json,sys; print(json.load(open('$tmp/health.json'))['capacity'])")
echo "== server: mge serve, $(python3 -c "import json; h=json.load(open('$tmp/health.json')); print(h['workers'], 'workers,', h['capacity'], 'places')")"

"$load" --addr "127.0.0.1:$port" --text "$sentence" --concurrency 1,8,64 \
  --requests 100000 --duration "$secs" --pid "$server_pid" --json >"$tmp/levels.jsonl"
python3 - "$tmp/levels.jsonl" <<'PY'
import json, sys
def ms(v):
    return "-" if v is None else f"{v:.1f}ms"
print(f"{'clients':>7} {'requests':>8} {'ok/s':>7} {'ok p50':>9} {'ok p99':>9} {'503 p50':>9} {'503 p99':>9}  statuses")
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(f"{r['clients']:>7} {r['requests']:>8} {r['answered_per_second']:>7} {ms(r['ok_p50_ms']):>9} "
          f"{ms(r['ok_p99_ms']):>9} {ms(r['shed_p50_ms']):>9} {ms(r['shed_p99_ms']):>9}  {r['statuses']}")
PY

python3 - "$tmp/levels.jsonl" "$capacity" <<'PY'
import json, sys
levels = [json.loads(l) for l in open(sys.argv[1])]
capacity = int(sys.argv[2])
bad = []
for r in levels:
    other = {k: v for k, v in r["statuses"].items() if k not in ("200", "503")}
    if other:
        bad.append(f"{r['clients']} clients: failed requests {other}")
    shed = r["statuses"].get("503", 0)
    if r["clients"] <= capacity and shed:
        bad.append(f"{r['clients']} clients (within {capacity} places): {shed} answered 503")
    if r["clients"] > capacity and not shed:
        bad.append(f"{r['clients']} clients (over {capacity} places): nothing was turned away")
    if r["statuses"].get("200", 0) == 0:
        bad.append(f"{r['clients']} clients: no request was answered")
if bad:
    print("FAILED:\n  " + "\n  ".join(bad))
    sys.exit(1)
print("== checks: no failed request; no 503 within the places; 503s beyond them")
PY

if [ $quick = 0 ]; then
  echo "== memory: 8 clients for 60 s, the server's resident memory sampled every second"
  "$load" --addr "127.0.0.1:$port" --text "$sentence" --concurrency 8 --requests 1000000 \
    --duration 60 --pid "$server_pid" --json >"$tmp/memory.json"
  python3 - "$tmp/memory.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
mib = lambda k: r[k] / 1024
print(f"{r['requests']} requests, {r['answered_per_second']} answered/s, statuses {r['statuses']}, "
      f"RSS first {mib('rss_kib_first'):.1f} MiB, max {mib('rss_kib_max'):.1f} MiB, last {mib('rss_kib_last'):.1f} MiB")
PY
fi
