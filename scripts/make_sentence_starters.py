#!/usr/bin/env python3
"""Writes mge/data/sentence-starters.txt: capitalized words that often begin a training
sentence and that inside a sentence the training text almost always writes in lower case
(`The`, `In`, `We`, `These`, `Using`). Where text runs on without full stops (notes,
transcripts, lists pasted as one paragraph), the segmenter reads such a word after a
lower-case word as the start of a new sentence (`... was an actor The opera company ...`);
a word often capitalized mid-sentence, such as `President`, is not one of them.

    scripts/make_sentence_starters.py ../shared/data/conll04/train.json ../shared/data/scierc/train.json

Only training splits: the dev and test text that the segmenter is measured on stays out.
"""
import collections
import json
import sys
from pathlib import Path

# A word is kept when it begins at least this many training sentences,
MIN_FIRST = 3
# is seen in lower case inside sentences at least this often,
MIN_LOWER = 20
# and capitalized inside sentences at most this share as often as in lower case.
MAX_CAPITALIZED_SHARE = 0.2
# Tokens after which a capital says nothing (a quotation or a bracket may open a sentence).
OPENERS = {"``", '"', "(", ":", "''", ".", "-LRB-", "--", ";"}


def main(paths):
    first, lower, capitalized = collections.Counter(), collections.Counter(), collections.Counter()
    for path in paths:
        for sentence in json.load(open(path)):
            tokens = sentence["tokens"]
            if tokens:
                first[tokens[0]] += 1
            for i, w in enumerate(tokens[1:], 1):
                if not w.isascii() or not w.isalpha():
                    continue
                if w.islower():
                    lower[w] += 1
                elif w[0].isupper() and w[1:].islower() and tokens[i - 1] not in OPENERS:
                    capitalized[w.lower()] += 1
    words = sorted(
        w for w, n in first.items()
        if n >= MIN_FIRST and w.isascii() and w.isalpha() and w[0].isupper() and (len(w) == 1 or w[1:].islower())
        and lower[w.lower()] >= MIN_LOWER
        and capitalized[w.lower()] <= MAX_CAPITALIZED_SHARE * lower[w.lower()]
    )
    out = Path(__file__).resolve().parent.parent / "mge" / "data" / "sentence-starters.txt"
    out.write_text("\n".join(words) + "\n")
    print(f"{out}: {len(words)} words from {len(first)} first words", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
