#!/usr/bin/env python3
"""Prints a Markdown table of runs from their metrics.json files (as written by `mge train`).

Usage: python3 scripts/results_table.py docs/results/*.json
"""
import json
import sys


def row(path):
    m = json.load(open(path))
    c = m["config"]
    gates = m["model"]["mge"]["gates"]
    off = [k for k, v in gates.items() if not v]
    dev, test = m.get("dev") or {}, m.get("test") or {}
    f = lambda r, k: f'{r[k]["f1"]:.2f}' if r else "–"
    return (
        f'| {c["dataset"]} | {"full" if not off else "without " + ", ".join(off)} | {c["seed"]} | '
        f'{len(m["curve"])}/{c["epochs"]} | {m["best_epoch"]} | {f(dev, "ner")} | {f(dev, "re_strict")} | '
        f'{f(test, "ner")} | {f(test, "re_strict")} | {f(test, "re_pfn")} | {m["seconds_per_epoch"]:.0f} |'
    )


print("| dataset | model | seed | epochs | best epoch | dev NER | dev RE | test NER | test RE (strict) | test RE (PFN) | s/epoch |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for p in sys.argv[1:]:
    print(row(p))
