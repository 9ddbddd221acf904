#!/usr/bin/env bash
# The native CPU comparison of issue 15: ONNX Runtime (PyPI onnxruntime, CPU) running the
# bare all-MiniLM-L6-v2 encoder in fp32 and in int8, beside the mge engine's whole MGE
# forward pass (f32, int8, and the AVX2 kernels forced with MGE_ISA=avx2, in f32 and int8:
# with AVX-VNNI where the processor has it, and without it, MGE_VNNI=0), on the same
# token-id sequences and the same number of threads, in one run. On a processor with
# AVX-512 it also runs ONNX Runtime with its AVX2 kernels (bench/ort/force-avx2.py patches a
# copy of it) beside the engine's MGE_ISA=avx2 rows: the AVX2-only comparison. Prints
# markdown tables of medians with ratios to ONNX Runtime fp32 (docs/BENCHMARKS.md).
#
#   bench/cpu-vs-onnxruntime.sh [--threads N] [--rounds N] [--data FILE] [--bundle FILE]
#
# Run it on a quiet machine. Needs ../shared/data (or --data) and what bench/ort/setup.sh
# --native downloads the first time (a Python venv and the ONNX models, about 200 MB).
set -euo pipefail
cd "$(dirname "$0")/.."
threads=1
rounds=5
data=../shared/data/conll04/test.json
bundle=models/conll04.safetensors
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --bundle) bundle="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -f "$data" ] || { echo "missing $data (the datasets: see the README)" >&2; exit 1; }
bench/ort/setup.sh --native
cargo build --release -p mge --example forward_timing
avx512=false
grep -q -w avx512f /proc/cpuinfo 2>/dev/null && avx512=true
configs=("auto")
if $avx512; then
  configs+=("MGE_INT8=0 f32" "MGE_ISA=avx2 f32")
  # The AVX2 path's int8 kernel, where the processor has AVX-VNNI.
  grep -q -w avx_vnni /proc/cpuinfo 2>/dev/null && configs+=("MGE_ISA=avx2 int8")
  # The int8 kernel of AVX2 processors without VNNI (vpmaddubsw).
  configs+=("MGE_ISA=avx2 MGE_VNNI=0 int8")
elif grep -q -w avx2 /proc/cpuinfo 2>/dev/null; then
  # Auto is int8 here (the AVX2 int8 kernel, with AVX-VNNI or without); f32 beside it.
  configs+=("f32")
fi
ort_avx2=()
if $avx512; then
  # ONNX Runtime with AVX-512 hidden from its kernel choice, for the AVX2 table.
  # It patches one pinned build (onnxruntime 1.32.0 for CPython 3.11); with another, the
  # comparison runs without that table.
  if [ -f bench/ort/ort-avx2/onnxruntime/capi/FORCED-AVX2.sha256 ] ||
    bench/ort/.venv/bin/python bench/ort/force-avx2.py; then
    ort_avx2=(--ort-avx2 bench/ort/ort-avx2)
  else
    echo "note: no copy of ONNX Runtime on AVX2 kernels (above); its AVX2 rows are left out" >&2
  fi
fi
bench/ort/.venv/bin/python bench/ort/native.py "${ort_avx2[@]}" --bundle "$bundle" --data "$data" \
  --models bench/ort/models --timing target/release/examples/forward_timing \
  --threads "$threads" --rounds "$rounds" --configs "${configs[@]}" \
  --json "bench/ort/models/native-${threads}t.json"
