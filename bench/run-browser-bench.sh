#!/usr/bin/env bash
# The demo's in-browser benchmark (?bench=1) side by side with ONNX Runtime Web running the bare
# all-MiniLM-L6-v2 encoder (int8 and fp32), in one headless Chromium; prints a table of medians.
#
#   bench/ort/setup.sh                       # once (onnxruntime-web, the ONNX files, tokens.js)
#   bench/run-browser-bench.sh [--rounds 3] [--no-fp32] [--json results.json]
#   bench/run-browser-bench.sh --documents FILE [--rounds 3]   # the page's documents on FILE (a
#                                     document per line) beside the native extractor
#
# Builds nothing of the demo: it serves dist/ (or $MGE_DIST) as it is; build it first with
# trunk (web/README.md). Only the small runner (tests/, mge-browser-bench) is compiled.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --quiet --release -p mge-e2e --bin mge-browser-bench -- "$@"
