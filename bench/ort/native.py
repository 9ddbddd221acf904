#!/usr/bin/env python3
"""Native CPU comparison: ONNX Runtime's bare all-MiniLM-L6-v2 encoder (fp32, and int8 with
integer arithmetic) against the mge engine's whole MGE forward pass, on the same token-id
sequences, threads and machine, in one run. Called by bench/cpu-vs-onnxruntime.sh.

    python native.py --bundle models/conll04.safetensors --data ../shared/data/conll04/test.json \\
        --models bench/ort/models --timing target/release/examples/forward_timing [--threads 1]

- fp32: models/minilm-fp32.onnx (make-models.py).
- int8: models/minilm-dynamic-int8.onnx, written here from the fp32 graph by ONNX Runtime's
  own quantize_dynamic (int8 weights, activations quantized at run time, MatMulInteger):
  integer arithmetic, unlike the int8 *file* of the browser comparison, whose weights ONNX
  Runtime turns back into f32 when it loads them.
- The sequences: the benchmark sentence of the browser comparison, and every sentence of
  the data file as the mge crate tokenizes raw text ([CLS] ... [SEP], the bundle's
  tokenizer, no padding), written to ids.json for the engine.
- The engine runs once per configuration given by --configs (environment assignments and
  an arithmetic), e.g. "auto", "MGE_INT8=0 f32", "MGE_ISA=avx2 f32".

With --ort-avx2 DIR (a copy of onnxruntime made by force-avx2.py, which hides AVX-512 from
ONNX Runtime's kernel choice), ONNX Runtime also runs with its AVX2 kernels, in a child
process with PYTHONPATH=DIR, and the engine's MGE_ISA=avx2 rows are compared with those:
the AVX2-only comparison on a processor with AVX-512. Every ONNX Runtime row names the
kernels MLAS chose in its process (read from memory by force-avx2.py --check).

Prints a markdown table of medians and ratios (ONNX Runtime fp32 = 1) per instruction set,
and writes it with the raw numbers as JSON to --json.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from importlib import import_module

mm = import_module("make-models")  # the tokenizer helpers of make-models.py
avx2 = import_module("force-avx2")  # which kernels ONNX Runtime chose


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_flags() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags |= set(line.split(":", 1)[1].split())
    keep = ["avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni"]
    return " ".join(f for f in keep if f in flags)


def ort_session(path: Path, threads: int):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def feeds(ids):
    a = np.array([ids], dtype=np.int64)
    return {"input_ids": a, "attention_mask": np.ones_like(a), "token_type_ids": np.zeros_like(a)}


def time_ort(sess, one, all_ids, rounds):
    one_f = feeds(one)
    all_f = [feeds(s) for s in all_ids]
    one_ms, all_s = [], []
    for r in range(rounds + 1):  # round 0 warms up
        times = []
        for _ in range(20):
            t = time.perf_counter()
            sess.run(None, one_f)
            times.append((time.perf_counter() - t) * 1e3)
        t = time.perf_counter()
        for f in all_f:
            sess.run(None, f)
        total = time.perf_counter() - t
        if r > 0:
            one_ms.append(statistics.median(times))
            all_s.append(total)
    return statistics.median(one_ms), statistics.median(all_s)


def time_both_ort(fp32, int8, one, all_ids, threads, rounds):
    """Rows for ONNX Runtime's fp32 and int8 encoders in this process, named by the kernels
    MLAS chose here (`f32` and `int8` of force-avx2.py --check)."""
    kernels = avx2.check()
    rows = []
    for name, path, k in [("fp32", fp32, kernels["f32"]), ("int8 (dynamic)", int8, kernels["int8"])]:
        o, a = time_ort(ort_session(path, threads), one, all_ids, rounds)
        rows.append({"what": f"ONNX Runtime, bare encoder, {name} ({k})", "kernel": k, "one_ms": o, "all_s": a})
        print(f"{rows[-1]['what']}: {o:.2f} ms, {a:.2f} s", file=sys.stderr)
    return rows


def ort_child(args):
    """--ort-child: time ONNX Runtime on ids.json and print the rows as one JSON line."""
    ids = json.loads((args.models / "ids.json").read_text())
    fp32 = args.models / "minilm-fp32.onnx"
    int8 = args.models / "minilm-dynamic-int8.onnx"
    print(json.dumps(time_both_ort(fp32, int8, ids["one"], ids["all"], args.threads, args.rounds)))


def print_table(title, rows, n):
    base = rows[0]
    print(f"\n{title}\n")
    print(f"| | one sentence | ratio | {n} sequences | per second | ratio |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['what']} | {r['one_ms']:.2f} ms | {r['one_ms'] / base['one_ms']:.2f} | "
            f"{r['all_s']:.2f} s | {n / r['all_s']:.0f} | {r['all_s'] / base['all_s']:.2f} |"
        )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", type=Path, required=True)
    ap.add_argument("--data", type=Path, required=True, help="SpERT JSON (e.g. CoNLL04 test)")
    ap.add_argument("--models", type=Path, required=True, help="folder with minilm-fp32.onnx")
    ap.add_argument("--timing", type=Path, required=True, help="the forward_timing example binary")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument(
        "--configs",
        nargs="+",
        default=["auto", "MGE_INT8=0 f32", "MGE_ISA=avx2 f32"],
        help="engine runs: environment assignments, then f32|int8|auto",
    )
    ap.add_argument("--json", type=Path)
    ap.add_argument("--ort-avx2", type=Path, help="the copy of onnxruntime made by force-avx2.py")
    ap.add_argument("--ort-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.ort_child:
        ort_child(args)
        return

    fp32 = args.models / "minilm-fp32.onnx"
    int8 = args.models / "minilm-dynamic-int8.onnx"
    if not fp32.exists():
        sys.exit(f"missing {fp32}: run bench/ort/setup.sh --native first")
    if not int8.exists():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
        print(f"wrote {int8} ({int8.stat().st_size} bytes)", file=sys.stderr)

    tok = mm.bundle_tokenizer(args.bundle)
    one = mm.tokens(tok, mm.SENTENCE)["input_ids"]
    sentences = json.loads(args.data.read_text())
    all_ids = [mm.tokens(tok, " ".join(s["tokens"]))["input_ids"] for s in sentences]
    # The encoder's 512 positions: longer sequences are cut as mge's windows would be.
    all_ids = [s if len(s) <= 512 else s[:511] + [s[-1]] for s in all_ids]
    ids_file = args.models / "ids.json"
    ids_file.write_text(json.dumps({"one": one, "all": all_ids}))

    env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads))
    rows = []
    for r in time_both_ort(fp32, int8, one, all_ids, args.threads, args.rounds):
        rows.append(dict(r, isa="native"))
    if args.ort_avx2:
        child_env = dict(os.environ, PYTHONPATH=str(args.ort_avx2.resolve()))
        out = subprocess.run(
            [sys.executable, __file__, "--ort-child", "--bundle", str(args.bundle), "--data", str(args.data),
             "--models", str(args.models), "--timing", str(args.timing),
             "--threads", str(args.threads), "--rounds", str(args.rounds)],
            env=child_env, check=True, capture_output=True, text=True,
        )
        sys.stderr.write(out.stderr)
        for r in json.loads(out.stdout.strip().splitlines()[-1]):
            if r["kernel"] not in ("fma3", "avx2", "avxvnni"):
                sys.exit(f"the copy in {args.ort_avx2} did not choose AVX2 kernels: {r['what']}")
            rows.append(dict(r, isa="avx2"))
    for config in args.configs:
        parts = config.split()
        arith = parts[-1] if parts and "=" not in parts[-1] else "auto"
        run_env = dict(env)
        for p in parts:
            if "=" in p:
                k, v = p.split("=", 1)
                run_env[k] = v
        out = subprocess.run(
            [str(args.timing), str(args.bundle), str(ids_file), str(args.rounds), arith],
            env=run_env, check=True, capture_output=True, text=True,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        label = f"mge, whole MGE forward ({r['kernels']})"
        isa = "avx2" if "MGE_ISA=avx2" in parts else "native"
        rows.append({"what": label, "config": config, "isa": isa, "one_ms": r["one_ms"], "all_s": r["all_s"]})
        print(f"{label}: {r['one_ms']:.2f} ms, {r['all_s']:.2f} s", file=sys.stderr)

    n = len(all_ids)
    print(f"\n{cpu_name()} ({cpu_flags()}), {args.threads} thread(s), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"one sentence: {len(one)} sub-tokens; all: {n} sequences of {args.data.name}; medians of {args.rounds} rounds")
    native = [r for r in rows if r["isa"] == "native"]
    forced = [r for r in rows if r["isa"] == "avx2"]
    if args.ort_avx2:
        print_table("Each with the kernels it picks on this processor:", native, n)
        print_table("Both with their AVX2 kernels (ONNX Runtime patched by force-avx2.py, mge with MGE_ISA=avx2):", forced, n)
    else:
        print_table("Ratios to ONNX Runtime fp32 (whatever kernels each picks; MGE_ISA=avx2 rows forced):", native + forced, n)
    if args.json:
        args.json.write_text(json.dumps({"cpu": cpu_name(), "flags": cpu_flags(), "threads": args.threads, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
