#!/usr/bin/env python3
"""Writes mge/data/relation-signatures.tsv: for each dataset the presets know, the
(relation, head type, tail type) combinations its training split holds, with their counts.

A model exported since this was recorded carries its own training data's signatures in its
label schema; for bundles exported before, the extractor looks the dataset's name up in this
file and drops a predicted relation whose argument types its training data never pairs that
way (a person `OrgBased_In` a place in CoNLL04, where only organizations are).

    scripts/make_relation_signatures.py conll04=../shared/data/conll04/train.json \
        scierc=../shared/data/scierc/train.json ade=../shared/data/ade/split_0_train.json

Only training splits, as a model knows only those. Every ADE fold's training split has the
one signature `Adverse-Effect: Adverse-Effect -> Drug`.
"""
import collections
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "mge" / "data" / "relation-signatures.tsv"


def signatures(path):
    counts = collections.Counter()
    for sentence in json.loads(Path(path).read_text()):
        entities = sentence["entities"]
        for r in sentence["relations"]:
            head, tail = entities[r["head"]]["type"], entities[r["tail"]]["type"]
            counts[(r["type"], head, tail)] += 1
    return counts


def main(args):
    if not args or any("=" not in a for a in args):
        sys.exit(__doc__)
    lines = [
        "# dataset\trelation\thead type\ttail type\ttraining relations"
        " (scripts/make_relation_signatures.py)"
    ]
    for arg in args:
        name, path = arg.split("=", 1)
        for (rel, head, tail), n in sorted(signatures(path).items()):
            lines.append(f"{name}\t{rel}\t{head}\t{tail}\t{n}")
    OUT.write_text("\n".join(lines) + "\n")
    print(f"{OUT}: {len(lines) - 1} signatures")


if __name__ == "__main__":
    main(sys.argv[1:])
