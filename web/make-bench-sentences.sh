#!/usr/bin/env bash
# Writes web/bench/conll04-test.txt for the in-page benchmark: one sentence per line, the
# tokens of each CoNLL04 test sentence (SpERT JSON) joined with single spaces.
# Usage: web/make-bench-sentences.sh [path/to/conll04/test.json]
set -euo pipefail
cd "$(dirname "$0")"
src="${1:-../../shared/data/conll04/test.json}"
python3 - "$src" bench/conll04-test.txt <<'PY'
import json, sys
src, out = sys.argv[1], sys.argv[2]
with open(src, encoding="utf-8") as f:
    sentences = json.load(f)
with open(out, "w", encoding="utf-8") as f:
    for s in sentences:
        f.write(" ".join(s["tokens"]).replace("\n", " ") + "\n")
print(f"{out}: {len(sentences)} sentences")
PY
