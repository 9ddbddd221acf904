#!/usr/bin/env python3
"""Writes mge/data/lowercase-words.txt: the words that the training text writes in lower
case and almost never capitalizes inside a sentence (the orthographic evidence of the
Punkt method, Kiss and Strunk 2006). The segmenter reads a capitalized one of them after
an abbreviation as the start of a new sentence (`Nashville, Tenn. Software engineers ...`);
a word such as `Navy` or `President`, often capitalized mid-sentence, is not.

    scripts/make_lowercase_words.py ../shared/data/conll04/train.json ../shared/data/scierc/train.json

Only training splits: the dev and test text that the segmenter is measured on stays out.
"""
import collections
import json
import sys
from pathlib import Path

# A word is kept when it is seen in lower case at least this often, and capitalized after
# the first word of a sentence at most a tenth as often.
MIN_LOWER = 2
MAX_CAPITALIZED_SHARE = 0.1
# Tokens after which a capital says nothing (a quotation or a bracket may open a sentence).
OPENERS = {"``", '"', "(", ":", "''", ".", "-LRB-", "--", ";"}


def main(paths):
    lower, capitalized = collections.Counter(), collections.Counter()
    for path in paths:
        for sentence in json.load(open(path)):
            tokens = sentence["tokens"]
            for i, w in enumerate(tokens):
                if len(w) < 2 or not w.isascii() or not w.isalpha():
                    continue
                if w.islower():
                    lower[w] += 1
                elif w[0].isupper() and w[1:].islower() and i > 0 and tokens[i - 1] not in OPENERS:
                    capitalized[w.lower()] += 1
    words = sorted(w for w, n in lower.items()
                   if n >= MIN_LOWER and capitalized[w] <= MAX_CAPITALIZED_SHARE * n)
    out = Path(__file__).resolve().parent.parent / "mge" / "data" / "lowercase-words.txt"
    out.write_text("\n".join(words) + "\n")
    print(f"{out}: {len(words)} words from {len(lower)} seen in lower case", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
