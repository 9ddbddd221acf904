#!/usr/bin/env python3
"""Strict F1 of `mge extract` on raw text made from a SpERT dataset file.

The sentences of the file are joined into one document, so the extractor's own sentence
splitting and windows are part of what is measured. By default the words are joined with
spaces as the dataset has them (`Smith , 50 , joined ...`); `--detok` writes them as a
person types: no space before `, . ; : ! ? ) 's n't`, none after `( $`, PTB quotes and
brackets (`` '' -LRB-) as the characters they stand for. `--runon` also drops each
sentence's final `.`, `?` or `!`, which leaves the splitter nothing to cut at. Gold entities
and relations are mapped to character offsets of that document; an entity counts when its
character span and type match, a relation when its type and both entities match.

`score` prints that exact score, then the score with the full stop that ends a sentence
left out of every span that ends on it, gold and predicted alike. The datasets' tokenizers
glued some sentences' final full stop to the last word (CoNLL04 writes `Boise.`, `Neil
Estes.`), so their gold mentions end on it; the extractor leaves a sentence's full stop out
of a mention, as a reader would, unless the word is an abbreviation. The second score
counts `Boise` for `Boise.` and `Mass` for `Mass.` when either ends the sentence (closing
quotes and brackets may follow: `Bangkok. ''`), and nothing else changes.

    scripts/raw_text_f1.py make DATA.json TEXT.txt GOLD.json [--runon] [--detok] [--lines|--wrap] [--lower|--upper] [--curly]

`--lines` puts each sentence on a line of its own in one JSONL document, for
`mge extract --jsonl --sentences lines`: the dataset's own sentence boundaries, to tell
what segmentation costs. `--wrap` writes the text as one JSONL document wrapped at 72
characters a line, as an e-mail or a PDF has it (a space becomes a line break; offsets do
not move), for `mge extract --jsonl`. `--lower` writes the text in lower case, as people
type in a hurry, `--upper` in capitals, as a headline or a stuck Caps Lock has it, and
`--curly` with typographic quotes and apostrophes (`“`, `”`, `’`) as a word processor
types them (offsets do not move).
    mge extract --model BUNDLE TEXT.txt > PRED.jsonl
    scripts/raw_text_f1.py score GOLD.json PRED.jsonl

How the extractor's sentences compare with the dataset's (recall and precision of the
boundaries; SHOW: print that many missed and extra ones, reading TEXT.txt beside GOLD):

    mge segment --json TEXT.txt > SEGMENTS.jsonl
    scripts/raw_text_f1.py boundaries GOLD.json SEGMENTS.jsonl [SHOW]

The hand-annotated sentences (mge/tests/fixtures/raw-sentences.jsonl) are scored the same
way, one model's lines at a time:

    grep '"model": "conll04"' FIXTURE | mge extract --jsonl --model BUNDLE > PRED.jsonl
    scripts/raw_text_f1.py score-fixture FIXTURE conll04 PRED.jsonl
"""
import bisect
import json
import sys


# Penn Treebank escapes and the characters they stand for.
PTB = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]", "-LCB-": "{", "-RCB-": "}",
       "``": '"', "''": '"'}
NO_SPACE_BEFORE = {",", ".", ";", ":", "!", "?", "%", ")", "]", "}", "'s", "'S", "n't", "'re",
                   "'ve", "'ll", "'d", "'m", "'"}
NO_SPACE_AFTER = {"(", "[", "{", "$", "#"}


def detokenize(tokens):
    """The tokens as typed text: (text, first token index, tokens covered, whether a space
    goes before it) for each piece."""
    out, quote_open = [], False
    k = 0
    while k < len(tokens):
        t = tokens[k]
        # `` and '' may also come as two tokens: ` ` and ' '.
        if t in ("`", "'") and k + 1 < len(tokens) and tokens[k + 1] == t:
            out.append((t + t, k, 2))
            k += 2
            continue
        out.append((t, k, 1))
        k += 1
    words, glue = [], True  # glue: no space before the next piece
    alnum = lambda x: x[:1].isalnum() if x else False
    for n, (t, k, width) in enumerate(out):
        text = PTB.get(t, t)
        space = not glue
        # A hyphen the dataset wrote as a token of its own between two words (ADE's
        # `Lithium - induced`) is typed inside one word: `Lithium-induced`.
        if (t == "-" and 0 < n < len(out) - 1 and alnum(out[n - 1][0][-1:])
                and alnum(out[n + 1][0])):
            words.append((text, k, width, False))
            glue = True
            continue
        if t == "``" or (t == '"' and not quote_open):
            quote_open, glue = True, True
        elif t == "''" or (t == '"' and quote_open):
            quote_open, glue, space = False, False, False
        else:
            glue = text in NO_SPACE_AFTER
            if text in NO_SPACE_BEFORE:
                space = False
        words.append((text, k, width, space))
    return words


WRAP = 72


def wrap(text, width=WRAP):
    """`text` with the last space before every `width` characters made a line break."""
    chars, start = list(text), 0
    while len(chars) - start > width:
        cut = text.rfind(" ", start, start + width + 1)
        if cut <= start:
            cut = text.find(" ", start + width)
            if cut < 0:
                break
        chars[cut] = "\n"
        start = cut + 1
    return "".join(chars)


def lower(text):
    """`text` in lower case, char for char (a char whose lower case is longer stays)."""
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def upper(text):
    """`text` in capitals, char for char (a char whose capital is longer stays)."""
    return "".join(c.upper() if len(c.upper()) == 1 else c for c in text)


def curly(text):
    """`text` with typographic quotes: an opening one after a space or a bracket, a closing
    one (or an apostrophe) elsewhere; char for char."""
    out = []
    for k, c in enumerate(text):
        opening = k == 0 or text[k - 1].isspace() or text[k - 1] in "([{"
        if c == "'":
            out.append("\u2018" if opening else "\u2019")
        elif c == '"':
            out.append("\u201c" if opening else "\u201d")
        else:
            out.append(c)
    return "".join(out)


def make(data_path, text_path, gold_path, runon, detok=False, lines=False, wrapped=False,
         lowered=False, uppered=False, curled=False):
    sentences = json.load(open(data_path))
    text, entities, relations, starts_of_sentences, ends_of_sentences = "", [], [], [], []
    for s in sentences:
        tokens = list(s["tokens"])
        if runon and tokens and tokens[-1] in (".", "?", "!"):
            tokens = tokens[:-1]
        # Char start of each token; a token merged into a quote shares its start.
        starts = [0] * len(tokens)
        ends = [0] * len(tokens)
        pieces = detokenize(tokens) if detok else [(t, k, 1, True) for k, t in enumerate(tokens)]
        for n, (piece, k, width, space) in enumerate(pieces):
            if text and n == 0:
                text += "\n" if lines else " "
            if n == 0:
                starts_of_sentences.append(len(text))
            elif text and space:
                text += " "
            for m in range(k, k + width):
                starts[m] = len(text)
                ends[m] = len(text) + len(piece)
            text += piece
        if pieces:
            ends_of_sentences.append(len(text))
        spans = []
        for e in s["entities"]:
            if e["end"] > len(tokens):
                spans.append(None)
                continue
            last = e["end"] - 1
            span = (starts[e["start"]], ends[last], e["type"])
            spans.append(span)
            entities.append(span)
        for r in s["relations"]:
            head, tail = spans[r["head"]], spans[r["tail"]]
            if head and tail:
                relations.append((head, tail, r["type"]))
    if wrapped:
        text = wrap(text)
    if lowered:
        text = lower(text)
    if uppered:
        text = upper(text)
    if curled:
        text = curly(text)
    with open(text_path, "w") as f:
        f.write((json.dumps({"text": text}) if lines or wrapped else text) + "\n")
    with open(gold_path, "w") as f:
        json.dump({"entities": entities, "relations": relations,
                   "sentences": starts_of_sentences, "ends": ends_of_sentences}, f)


def boundaries(gold_path, segments_path, show):
    """How the segmenter's cuts (`mge segment --json`) compare with the dataset's sentence
    boundaries: recall and precision of the boundaries, and the ones it missed."""
    gold = json.load(open(gold_path))
    want = set(gold["sentences"][1:])
    docs = [json.loads(l) for l in open(segments_path) if l.strip()]
    if len(docs) != 1:
        sys.exit(f"{segments_path}: expected one document, found {len(docs)}")
    got = {s["start"] for s in docs[0]["sentences"][1:]}
    text = text_beside(gold_path) if show else ""
    hits = len(want & got)
    print(f"boundaries: {len(want)} in the dataset, {len(got)} cut, {hits} right: "
          f"recall {100 * hits / max(len(want), 1):.1f}, precision {100 * hits / max(len(got), 1):.1f}")
    for kind, points in (("missed", want - got), ("extra", got - want)):
        for at in sorted(points)[:show]:
            print(f"  {kind}: ...{text[max(0, at - 50):at]!r} | {text[at:at + 30]!r}")


def f1(predicted, gold):
    hits = len(predicted & gold)
    p = hits / len(predicted) if predicted else 0.0
    r = hits / len(gold) if gold else 0.0
    return 100 * 2 * p * r / (p + r) if p + r else 0.0


def text_beside(gold_path):
    """The text that `make` wrote beside GOLD (`X.gold` → `X.txt`), as one string."""
    text = open(gold_path.replace(".gold", ".txt")).read()
    return json.loads(text)["text"] if text.startswith('{"text"') else text


# What may follow a sentence's full stop before its end: closing quotes and brackets
# (CoNLL04 writes `Bangkok. ''`), and the spaces between them.
CLOSERS = " '\"`)]}\u201d\u2019\u00bb"


def score(gold_path, pred_path):
    """Exact character spans, and again with each sentence's final full stop left out of
    every span on both sides (see the module documentation)."""
    gold = json.load(open(gold_path))
    ge = {tuple(e) for e in gold["entities"]}
    gr = {(tuple(h), tuple(t), r) for h, t, r in gold["relations"]}
    pe, pr = set(), set()
    for line in open(pred_path):
        doc = json.loads(line)
        found = doc["entities"]
        key = lambda e: (e["start"], e["end"], e["type"])
        pe.update(key(e) for e in found)
        for r in doc["relations"]:
            pr.add((key(found[r["head"]]), key(found[r["tail"]]), r["type"]))
    line = f"entities {len(pe)} F1 {f1(pe, ge):.2f}  relations {len(pr)} F1 {f1(pr, gr):.2f}"
    ends = set(gold.get("ends", []))
    if ends and gold_path.endswith(".gold"):
        text = text_beside(gold_path)
        sentence_ends = sorted(ends)

        def final(end):
            # The sentence's own end, or only closing quotes and brackets after it.
            k = bisect.bisect_left(sentence_ends, end)
            return k < len(sentence_ends) and not text[end : sentence_ends[k]].strip(CLOSERS)

        def span(s):
            start, end, kind = s
            if text[end - 1 : end] == "." and final(end):
                end -= 1
                while end > start and text[end - 1] == " ":
                    end -= 1
            return (start, end, kind)

        entities = lambda es: {span(e) for e in es}
        relations = lambda rs: {(span(h), span(t), r) for h, t, r in rs}
        line += (f"  (final stop left out: {f1(entities(pe), entities(ge)):.2f} / "
                 f"{f1(relations(pr), relations(gr)):.2f})")
    print(line)


def score_fixture(fixture_path, model, pred_path):
    gold = [json.loads(l) for l in open(fixture_path) if l.strip()]
    gold = [g for g in gold if g["model"] == model]
    pred = [json.loads(l) for l in open(pred_path) if l.strip()]
    if len(gold) != len(pred):
        sys.exit(f"{len(gold)} {model} sentences in the fixture, {len(pred)} predictions")
    key = lambda e: (e["start"], e["end"], e["type"])
    ge, pe, gr, pr = set(), set(), set(), set()
    for k, (g, p) in enumerate(zip(gold, pred)):
        if g["text"] != p["text"]:
            sys.exit(f"line {k + 1}: the prediction is for another text")
        ge.update((k,) + key(e) for e in g["entities"])
        pe.update((k,) + key(e) for e in p["entities"])
        for rels, ents, out in ((g["relations"], g["entities"], gr), (p["relations"], p["entities"], pr)):
            out.update((k, key(ents[r["head"]]), key(ents[r["tail"]]), r["type"]) for r in rels)
    print(
        f"{model}: {len(gold)} sentences, entities {len(pe)} of {len(ge)} F1 {f1(pe, ge):.2f}  "
        f"relations {len(pr)} of {len(gr)} F1 {f1(pr, gr):.2f}"
    )


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "make":
        flags = sys.argv[5:]
        make(sys.argv[2], sys.argv[3], sys.argv[4], "--runon" in flags, "--detok" in flags,
             "--lines" in flags, "--wrap" in flags, "--lower" in flags, "--upper" in flags,
             "--curly" in flags)
    elif len(sys.argv) == 4 and sys.argv[1] == "score":
        score(sys.argv[2], sys.argv[3])
    elif len(sys.argv) in (4, 5) and sys.argv[1] == "boundaries":
        boundaries(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) == 5 else 0)
    elif len(sys.argv) == 5 and sys.argv[1] == "score-fixture":
        score_fixture(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
