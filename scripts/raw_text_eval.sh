#!/usr/bin/env bash
# Raw-text F1 of the default bundles on a split of CoNLL04 and SciERC, in the seven forms of
# docs/RESULTS.md (spaced, typed, run-on, typed text wrapped at 72 characters a line, typed
# text in lower case, in capitals, and with typographic quotes),
# the ADE bundle on its fold's test split (ADE has no dev split: the same file for dev and
# test), then on the hand-annotated raw sentences.
#
#   scripts/raw_text_eval.sh [dev|test] [OUT_DIR]
#
# Uses target/release/mge (cargo build --release first) and scripts/raw_text_f1.py; texts,
# gold files and predictions stay in OUT_DIR (default: a temporary folder). Reads the data
# from $MGE_DATA (default ../shared/data). CONLL04_MODEL, SCIERC_MODEL and ADE_MODEL replace
# the default bundles (models/conll04.safetensors, models/scierc.safetensors,
# models/ade.safetensors, trained on fold 0). DATASETS limits the run to some of them
# (default: "conll04 scierc ade"). EXTRACT_FLAGS is passed to every `mge extract` (for
# example EXTRACT_FLAGS="--titles read" to compare a setting with the default).
set -euo pipefail
cd "$(dirname "$0")/.."
split=${1:-dev}
case $split in dev | test) ;; *) echo "usage: $0 [dev|test] [OUT_DIR]" >&2; exit 2 ;; esac
out=${2:-$(mktemp -d)}
mkdir -p "$out"
data=${MGE_DATA:-../shared/data}
mge=target/release/mge
[ -x $mge ] || { echo "build first: cargo build --release" >&2; exit 1; }
f1=scripts/raw_text_f1.py
model_of() {
  case $1 in
    conll04) echo "${CONLL04_MODEL:-models/conll04.safetensors}" ;;
    scierc) echo "${SCIERC_MODEL:-models/scierc.safetensors}" ;;
    ade) echo "${ADE_MODEL:-models/ade.safetensors}" ;;
  esac
}
file_of() {
  case $1 in
    ade) echo "$data/ade/split_0_test.json" ;;
    *) echo "$data/$1/$split.json" ;;
  esac
}
datasets=${DATASETS:-conll04 scierc ade}
read -r -a extra <<<"${EXTRACT_FLAGS:-}"
for ds in $datasets; do
  for form in spaced typed run-on wrapped lower capitals curly; do
    flags=()
    input=()
    [ $form = typed ] && flags=(--detok)
    [ $form = run-on ] && flags=(--runon)
    [ $form = wrapped ] && flags=(--detok --wrap) && input=(--jsonl)
    [ $form = lower ] && flags=(--detok --lower)
    [ $form = capitals ] && flags=(--detok --upper)
    [ $form = curly ] && flags=(--detok --curly)
    base="$out/$ds-$split-$form"
    python3 $f1 make "$(file_of $ds)" "$base.txt" "$base.gold" "${flags[@]}"
    $mge extract "${input[@]}" "${extra[@]}" --model "$(model_of $ds)" "$base.txt" >"$base.pred"
    $mge segment "${input[@]}" --json "$base.txt" >"$base.seg"
    printf '%-8s %-5s %-7s %s; %s\n' $ds "$split" $form "$(python3 $f1 score "$base.gold" "$base.pred")" \
      "$(python3 $f1 boundaries "$base.gold" "$base.seg")"
  done
done
fixture=mge/tests/fixtures/raw-sentences.jsonl
for ds in $datasets; do
  grep "\"model\": \"$ds\"" $fixture | $mge extract --jsonl "${extra[@]}" --model "$(model_of $ds)" >"$out/fixture-$ds.pred"
  python3 $f1 score-fixture $fixture $ds "$out/fixture-$ds.pred"
done
echo "files in $out" >&2
