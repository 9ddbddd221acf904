#!/usr/bin/env python3
"""Counts, in training files with each sentence's final `.`, `?` or `!` dropped, how often
each pattern the segmenter cuts run-on text at (`segment::starts_run_on`) stands at a
sentence's start (the previous word is the last of the sentence before) and how often
inside a sentence: the table of docs/RESULTS.md, "Text that runs on: more places where a
sentence plainly begins".

    scripts/boundary_patterns.py [--rev REV] TRAIN.json [TRAIN.json ...]

The word lists come from mge/data (sentence-starters.txt, lowercase-words.txt); with
`--rev REV`, as they were at that commit (`git show`). The table in RESULTS used the lists
from before the change (`--rev 2700a28~1`) on CoNLL04 and SciERC train. A last row
counts what no word list tells apart: a name after a word.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def word_list(name, rev):
    if rev:
        text = subprocess.check_output(["git", "-C", str(ROOT), "show", f"{rev}:mge/data/{name}"], text=True)
    else:
        text = (ROOT / "mge" / "data" / name).read_text()
    return set(text.split())


def closed_starters():
    """`segment::CLOSED_STARTERS`, read from the source."""
    src = (ROOT / "mge" / "src" / "segment.rs").read_text()
    at = src.index("const CLOSED_STARTERS")
    return set(re.findall(r'"([A-Za-z]+)"', src[at:src.index("];", at)]))


def patterns(previous, word, after, starters, lower, closed):
    """The patterns `word` (between `previous` and `after`) matches."""
    first_lower = (previous[:1].islower() or previous[:1].isdigit()) and previous[-1:].isalnum()
    first_capital = previous[:1].isupper() and previous[-1:].isalnum()
    closed_starter = word in starters and word in closed and word != "A"
    out = []
    if closed_starter and first_capital and after[:1].islower():
        out.append("capitalized, closed-class starter, lower case")
    if closed_starter and first_capital and not after[:1].isalpha():
        out.append("capitalized, closed-class starter, a number or punctuation")
    if (word in starters and word in closed and first_lower and after[:1].isupper()
            and after.lower() not in lower):
        out.append("lower case, closed-class starter, a name")
    if (word not in starters and previous[:1].islower() and previous[-1:].isalnum()
            and after[:1].islower() and word[:1].isupper() and word.lower() in lower):
        acronym = not any(c.islower() for c in word[1:])
        out.append("lower case, common word capitalized (an acronym), lower case" if acronym
                   else "lower case, common word capitalized, lower case")
    # What no word list tells apart: a name after a word (`... in Cambodia Derwinski , a
    # Republican ...`).
    if ((previous[:1].isalpha() or previous[:1].isdigit()) and word[:1].isupper()
            and word not in starters and word.lower() not in lower):
        out.append("a word, a name (neither a starter nor a common word), any")
    return out


def main(args):
    rev = None
    if args[:1] == ["--rev"]:
        rev, args = args[1], args[2:]
    if not args:
        sys.exit(__doc__)
    starters = word_list("sentence-starters.txt", rev)
    lower = word_list("lowercase-words.txt", rev)
    closed = closed_starters()
    counts = {}
    for path in args:
        previous = None
        for sentence in json.load(open(path)):
            tokens = list(sentence["tokens"])
            if tokens and tokens[-1] in (".", "?", "!"):
                tokens = tokens[:-1]
            if previous and len(tokens) > 1:
                for p in patterns(previous, tokens[0], tokens[1], starters, lower, closed):
                    counts.setdefault(p, [0, 0])[0] += 1
            for i in range(1, len(tokens) - 1):
                for p in patterns(tokens[i - 1], tokens[i], tokens[i + 1], starters, lower, closed):
                    counts.setdefault(p, [0, 0])[1] += 1
            previous = tokens[-1] if tokens else None
    print("| pattern (previous word, word, next word) | at a boundary | inside a sentence |")
    print("|---|---|---|")
    for p, (at, inside) in sorted(counts.items()):
        print(f"| {p} | {at} | {inside} |")


if __name__ == "__main__":
    main(sys.argv[1:])
