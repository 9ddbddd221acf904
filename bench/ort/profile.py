#!/usr/bin/env python3
"""Where ONNX Runtime's time goes: runs one of the encoders of bench/ort/models on the
benchmark sentence (ids.json's "one") with ONNX Runtime's profiler on, one thread, and
prints the mean microseconds per run of each operator type, busiest first. Run it with the
copy made by force-avx2.py on PYTHONPATH to see its AVX2 kernels:

    bench/ort/.venv/bin/python bench/ort/profile.py bench/ort/models/minilm-dynamic-int8.onnx
    PYTHONPATH=bench/ort/ort-avx2 bench/ort/.venv/bin/python bench/ort/profile.py …

The profiler times every node, which slows the whole run down (a run takes longer than in
native.py); the per-operator times are for comparing shares, e.g. the int8 matrix products
(DynamicQuantizeMatMul, MatMulIntegerToFloat) against the rest.
"""

import argparse
import collections
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", type=Path, help="an .onnx file of bench/ort/models")
    ap.add_argument("--ids", type=Path, default=Path(__file__).parent / "models" / "ids.json")
    ap.add_argument("--runs", type=int, default=300, help="runs counted (after 50 warm-up runs)")
    args = ap.parse_args()
    if not args.model.is_file() or not args.ids.is_file():
        sys.exit(f"missing {args.model} or {args.ids}: run bench/ort/setup.sh --native first")
    import onnxruntime as ort

    ids = json.loads(args.ids.read_text())["one"]
    feeds = {"input_ids": np.array([ids], dtype=np.int64)}
    feeds["attention_mask"] = np.ones_like(feeds["input_ids"])
    feeds["token_type_ids"] = np.zeros_like(feeds["input_ids"])
    warm_up = 50
    with tempfile.TemporaryDirectory() as tmp:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.enable_profiling = True
        opts.profile_file_prefix = os.path.join(tmp, "ort")
        sess = ort.InferenceSession(str(args.model), opts, providers=["CPUExecutionProvider"])
        for _ in range(warm_up + args.runs):
            sess.run(None, feeds)
        events = json.loads(Path(sess.end_profiling()).read_text())
    # The runs after the warm-up ones, and the nodes that ran in them.
    starts = sorted(e["ts"] for e in events if e.get("cat") == "Session" and e["name"] == "model_run")
    if len(starts) <= warm_up:
        sys.exit("the profile holds no runs after the warm-up")
    since = starts[warm_up]
    runs = [e["dur"] for e in events
            if e.get("cat") == "Session" and e["name"] == "model_run" and e["ts"] >= since]
    by_op = collections.defaultdict(float)
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time") and e["ts"] >= since:
            by_op[e["args"]["op_name"]] += e["dur"]
    total = sum(by_op.values())
    print(f"{args.model.name}: {ort.__file__}")
    print(f"profiled run: median {statistics.median(runs) / 1e3:.2f} ms over {len(runs)} runs")
    for op, us in sorted(by_op.items(), key=lambda kv: -kv[1]):
        per_run = us / len(runs)
        print(f"{op:28s} {per_run:9.1f} µs/run  {100 * us / total:5.1f}%")


if __name__ == "__main__":
    main()
