#!/usr/bin/env python3
"""An independent NumPy implementation of the BERT encoder forward pass, used to produce the
reference hidden states that `mge/tests/encoder_reference.rs` compares our Rust encoder with.

Usage: python3 scripts/bert_reference.py ENCODER_DIR > mge/tests/fixtures/minilm_reference.json
Reads config.json and model.safetensors directly (no torch, no transformers); the token ids
are fixed below (what the MiniLM tokenizer gives for the sentence) so tokenization is tested
separately.
"""
import json
import math
import struct
import sys

import numpy as np

SENTENCE = "John Smith works for Acme Corp in Boston."


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__" or meta["dtype"] != "F32":
            continue  # e.g. the integer position_ids buffer
        a, b = meta["data_offsets"]
        out[name.removeprefix("bert.")] = np.frombuffer(data[a:b], dtype="<f4").reshape(meta["shape"])
    return out


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def forward(w, cfg, ids):
    eps = cfg["layer_norm_eps"]
    heads = cfg["num_attention_heads"]
    t = len(ids)
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:t] + w["embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    d = x.shape[1]
    dh = d // heads
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        lin = lambda v, n: v @ w[p + n + ".weight"].T + w[p + n + ".bias"]
        q = lin(x, "attention.self.query").reshape(t, heads, dh).transpose(1, 0, 2)
        k = lin(x, "attention.self.key").reshape(t, heads, dh).transpose(1, 0, 2)
        v = lin(x, "attention.self.value").reshape(t, heads, dh).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(dh)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(t, d)
        x = layer_norm(lin(ctx, "attention.output.dense") + x, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
        h = gelu(lin(x, "intermediate.dense"))
        x = layer_norm(lin(h, "output.dense") + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
    return x


def main():
    enc = sys.argv[1]
    cfg = json.load(open(f"{enc}/config.json"))
    vocab = json.load(open(f"{enc}/tokenizer.json"))["model"]["vocab"]
    pieces = ["[CLS]", "john", "smith", "works", "for", "ac", "##me", "corp", "in", "boston", ".", "[SEP]"]
    ids = [vocab[p] for p in pieces]
    w = {k: v.astype(np.float64) for k, v in load_safetensors(f"{enc}/model.safetensors").items()}
    x = forward(w, cfg, ids)
    json.dump({"sentence": SENTENCE, "pieces": pieces, "ids": ids, "hidden": [[round(float(v), 6) for v in row] for row in x]}, sys.stdout)


if __name__ == "__main__":
    main()
