#!/usr/bin/env python3
"""Strict F1 of `mge extract` on raw text made from a SpERT dataset file.

The sentences of the file are joined with spaces into one document, so the extractor's own
sentence splitting and windows are part of what is measured; `--runon` also drops each
sentence's final `.`, `?` or `!`, which leaves the splitter nothing to cut at. Gold entities
and relations are mapped to character offsets of that document; an entity counts when its
character span and type match, a relation when its type and both entities match.

    scripts/raw_text_f1.py make DATA.json TEXT.txt GOLD.json [--runon]
    mge extract --model BUNDLE TEXT.txt > PRED.jsonl
    scripts/raw_text_f1.py score GOLD.json PRED.jsonl
"""
import json
import sys


def make(data_path, text_path, gold_path, runon):
    sentences = json.load(open(data_path))
    text, entities, relations = "", [], []
    for s in sentences:
        tokens = list(s["tokens"])
        if runon and tokens and tokens[-1] in (".", "?", "!"):
            tokens = tokens[:-1]
        starts = []
        for t in tokens:
            if text:
                text += " "
            starts.append(len(text))
            text += t
        spans = []
        for e in s["entities"]:
            if e["end"] > len(tokens):
                spans.append(None)
                continue
            last = e["end"] - 1
            span = (starts[e["start"]], starts[last] + len(tokens[last]), e["type"])
            spans.append(span)
            entities.append(span)
        for r in s["relations"]:
            head, tail = spans[r["head"]], spans[r["tail"]]
            if head and tail:
                relations.append((head, tail, r["type"]))
    with open(text_path, "w") as f:
        f.write(text + "\n")
    with open(gold_path, "w") as f:
        json.dump({"entities": entities, "relations": relations}, f)


def f1(predicted, gold):
    hits = len(predicted & gold)
    p = hits / len(predicted) if predicted else 0.0
    r = hits / len(gold) if gold else 0.0
    return 100 * 2 * p * r / (p + r) if p + r else 0.0


def score(gold_path, pred_path):
    gold = json.load(open(gold_path))
    gold_entities = {tuple(e) for e in gold["entities"]}
    gold_relations = {(tuple(h), tuple(t), r) for h, t, r in gold["relations"]}
    entities, relations = set(), set()
    for line in open(pred_path):
        doc = json.loads(line)
        found = doc["entities"]
        key = lambda e: (e["start"], e["end"], e["type"])
        entities.update(key(e) for e in found)
        for r in doc["relations"]:
            relations.add((key(found[r["head"]]), key(found[r["tail"]]), r["type"]))
    print(
        f"entities {len(entities)} F1 {f1(entities, gold_entities):.2f}  "
        f"relations {len(relations)} F1 {f1(relations, gold_relations):.2f}"
    )


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3], sys.argv[4], "--runon" in sys.argv[5:])
    elif len(sys.argv) == 4 and sys.argv[1] == "score":
        score(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
