#!/usr/bin/env bash
# The trainer on a GPU, checked in one go (docs/GPU.md says when and how to run each part).
#
#   scripts/gpu-check.sh --pack [--bin PATH]
#       Here, before a GPU session: puts what the GPU machine needs into target/gpu-carry
#       (the CUDA binary xz-compressed, the encoder with f16 weights, the CoNLL04 files) and
#       says whether the working tree plus that folder fit the 64 MiB a device call carries.
#
#   scripts/gpu-check.sh [--cpu] [--out DIR] [--budget SECONDS] [--epochs N] [--batch-sizes "8 32"]
#       On the GPU machine (or with --cpu on any machine, with tiny settings):
#       1. `mge check-step`: one training step on CUDA and on the CPU from the same weights and
#          batch; loss, gradients and one AdamW update compared (tolerances in docs/GPU.md);
#       2. `mge train` on CoNLL04 with the preset (batch 8), then with batch 32 and the learning
#          rates scaled by sqrt(32/8), each cut to the time budget: seconds per epoch, peak GPU
#          memory, dev and test scores;
#       3. `mge eval` of the best checkpoint on CUDA and on the CPU, `mge export` to a q8
#          bundle, `mge verify` of that bundle against the checkpoint, `mge extract` with it;
#       and writes to $OUT (or --out) at most 8 files, none over 16 MiB: summary.txt,
#       results.tar.gz (every report and log) and the bundle in parts (bundle.safetensors.NN).
#       Exit status 0 when every required check passed.
#
#   scripts/gpu-check.sh --fetched DIR [--checkpoint DIR]
#       Back here on the CPU with the files a GPU run wrote: joins the bundle, checks its
#       sha256, runs `mge inspect` and `mge extract` on it and compares the extraction with the
#       GPU machine's; `mge verify` too when the checkpoint is at hand (--checkpoint).
#
# Settings (flags win over the environment):
#   --bin PATH / MGE_BIN       the mge binary (default: target/gpu-carry/mge.xz unpacked, else
#                              target/cuda/release/mge; with --cpu target/release/mge, built
#                              if missing)
#   --encoder DIR / ENCODER    default target/gpu-carry/encoder, else encoders/all-MiniLM-L6-v2
#   --data-root DIR / DATA_ROOT  folder holding conll04/ (default target/gpu-carry/data,
#                              shared/data, ../shared/data)
#   --device SPEC              default cuda:0 (cpu with --cpu)
#   --budget SECONDS           hard limit for everything (default 480; 600 with --cpu)
#   --epochs N                 epochs each training run aims at (default 20; 2 with --cpu)
#   --batch-sizes "A B"        training runs, the first is the one exported (default "8 32";
#                              "8 16" with --cpu)
#   --work DIR                 scratch space for checkpoints (default a new folder in /tmp,
#                              removed at the end unless --keep-work)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
started=$(date +%s)

die() { echo "gpu-check.sh: error: $*" >&2; exit 2; }
say() { echo "==> $*"; }
elapsed() { echo $(( $(date +%s) - started )); }

# ---- arguments -------------------------------------------------------------------------------
mode=run cpu=0 keep_work=0 fetched="" checkpoint=""
bin=${MGE_BIN:-} encoder=${ENCODER:-} data_root=${DATA_ROOT:-} device="" budget="" epochs=""
batch_sizes="" out=${OUT:-} work=""
while [ $# -gt 0 ]; do
  case $1 in
    --pack) mode=pack ;;
    --fetched) mode=fetched; fetched=${2:?--fetched needs a folder}; shift ;;
    --checkpoint) checkpoint=${2:?}; shift ;;
    --cpu) cpu=1 ;;
    --bin) bin=${2:?}; shift ;;
    --encoder) encoder=${2:?}; shift ;;
    --data-root) data_root=${2:?}; shift ;;
    --device) device=${2:?}; shift ;;
    --budget) budget=${2:?}; shift ;;
    --epochs) epochs=${2:?}; shift ;;
    --batch-sizes) batch_sizes=${2:?}; shift ;;
    --out) out=${2:?}; shift ;;
    --work) work=${2:?}; shift ;;
    --keep-work) keep_work=1 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
  shift
done
carry=$root/target/gpu-carry
command -v python3 >/dev/null 2>&1 || die "python3 is needed (JSON, compression, summaries)"

first_dir() { for d in "$@"; do [ -n "$d" ] && [ -d "$d" ] && { echo "$d"; return 0; }; done; return 1; }

# An encoder folder: the carried one, the repository's, or all-MiniLM-L6-v2 in a Hugging Face
# cache (sentence-transformers is installed on the GPU machines; whether a model is cached there
# has not been seen).
find_encoder() {
  local d
  for d in "$carry/encoder" "$root/encoders/all-MiniLM-L6-v2"; do
    [ -f "$d/model.safetensors" ] && [ -f "$d/tokenizer.json" ] && { echo "$d"; return 0; }
  done
  for d in "${HF_HOME:-$HOME/.cache/huggingface}"/hub/models--sentence-transformers--all-MiniLM-L6-v2/snapshots/*; do
    [ -f "$d/model.safetensors" ] && [ -f "$d/tokenizer.json" ] && [ -f "$d/config.json" ] \
      && { echo "$d"; return 0; }
  done
  return 1
}

# ==== --pack: prepare target/gpu-carry here ====================================================
if [ "$mode" = pack ]; then
  src_bin=${bin:-target/cuda/release/mge}
  src_enc=${encoder:-encoders/all-MiniLM-L6-v2}
  src_data=$(first_dir "$data_root" shared/data ../shared/data) || die "no data root (--data-root)"
  [ -f "$src_data/conll04/train.json" ] || die "$src_data/conll04/train.json not found"
  [ -f "$src_enc/model.safetensors" ] || die "no encoder in $src_enc (scripts/fetch-encoder.sh)"
  mkdir -p "$carry/encoder" "$carry/data/conll04"
  if [ -x "$src_bin" ]; then
    sum=$(sha256sum "$src_bin" | cut -d' ' -f1)
    if [ ! -f "$carry/mge.xz" ] || [ "$sum" != "$(cat "$carry/mge.sha256" 2>/dev/null)" ]; then
      say "compressing $src_bin ($(du -h "$src_bin" | cut -f1)) to $carry/mge.xz"
      rm -f "$carry/mge.sha256"
      nice -n 10 xz -T2 -6 -c "$src_bin" >"$carry/mge.xz.tmp" && mv "$carry/mge.xz.tmp" "$carry/mge.xz" \
        || die "xz failed"
      echo "$sum" >"$carry/mge.sha256"
    fi
    if readelf -d "$src_bin" 2>/dev/null | grep -q 'libcuda\.so'; then
      echo "cuda" >"$carry/mge.kind"
    else
      echo "cpu" >"$carry/mge.kind"
      echo "    note: $src_bin is not a CUDA build (build one with scripts/build-cuda.sh)"
    fi
  else
    echo "    note: no binary at $src_bin: build it with scripts/build-cuda.sh, then --pack again"
  fi
  cp "$src_enc/config.json" "$src_enc/tokenizer.json" "$carry/encoder/"
  if [ ! -f "$carry/encoder/model.safetensors" ] || [ "$src_enc/model.safetensors" -nt "$carry/encoder/model.safetensors" ]; then
    say "writing the encoder's weights as f16 (half the size; mge loads them as f32)"
    python3 - "$src_enc/model.safetensors" "$carry/encoder/model.safetensors" <<'PY' || die "f16 conversion failed"
import array, json, struct, sys
src, dst = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
base = 8 + n
meta = header.pop("__metadata__", None)
out, chunks, off = {}, [], 0
for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
    a, b = info["data_offsets"]
    raw = data[base + a:base + b]
    dtype = info["dtype"]
    if dtype == "F32":
        values = array.array("f")
        values.frombytes(raw)
        if sys.byteorder != "little":
            values.byteswap()
        try:
            raw = struct.pack("<%de" % len(values), *values)
        except OverflowError:
            sys.exit(f"{name}: a value is outside the f16 range")
        dtype = "F16"
    out[name] = {"dtype": dtype, "shape": info["shape"], "data_offsets": [off, off + len(raw)]}
    chunks.append(raw)
    off += len(raw)
if meta is not None:
    out["__metadata__"] = meta
h = json.dumps(out, separators=(",", ":")).encode()
h += b" " * (-len(h) % 8)
with open(dst + ".tmp", "wb") as f:
    f.write(struct.pack("<Q", len(h)))
    f.write(h)
    for c in chunks:
        f.write(c)
import os
os.replace(dst + ".tmp", dst)
PY
  fi
  cp "$src_data"/conll04/{train,dev,test}.json "$carry/data/conll04/"
  # What a device call sends: tracked files, untracked files git does not ignore, and carry.
  tree_bytes=$( { git ls-files -z; git ls-files -z --others --exclude-standard; } \
    | xargs -0 -r stat -c %s 2>/dev/null | awk '{s += $1} END {print s + 0}')
  carry_bytes=$(du -sb "$carry" | cut -f1)
  limit=$((64 * 1024 * 1024))
  echo
  echo "target/gpu-carry:"
  (cd "$carry" && du -ab . | sort -k2 | awk '{printf "    %8.1f MB  %s\n", $1 / 1e6, $2}')
  awk -v t="$tree_bytes" -v c="$carry_bytes" -v l="$limit" 'BEGIN {
    printf "working tree %.1f MB + carry %.1f MB = %.1f MB; a device call takes at most %.1f MB (64 MiB)\n",
      t / 1e6, c / 1e6, (t + c) / 1e6, l / 1e6 }'
  if [ $((tree_bytes + carry_bytes)) -gt $limit ]; then
    echo "TOO LARGE for one device call. The largest files of the working tree:"
    { git ls-files -z; git ls-files -z --others --exclude-standard; } | xargs -0 -r stat -c '%s %n' \
      | sort -rn | head -5 | awk '{printf "    %8.1f MB  %s\n", $1 / 1e6, $2}'
    echo "(docs/GPU.md: what to do about it)"
    exit 3
  fi
  echo "fits. On the GPU machine: run with carry [\"target/gpu-carry\"], command: bash scripts/gpu-check.sh"
  exit 0
fi

# ==== --fetched: back here on the CPU ==========================================================
if [ "$mode" = fetched ]; then
  [ -d "$fetched" ] || die "$fetched is not a folder"
  bin=${bin:-target/release/mge}
  if [ ! -x "$bin" ]; then
    say "building $bin"
    nice -n 10 cargo build --release -p mge-trainer || die "cargo build failed"
  fi
  here=${out:-target/gpu-check/fetched}
  mkdir -p "$here" || die "cannot create $here"
  rm -rf "$here/results" "$here/bundle.safetensors"
  tar -xzf "$fetched/results.tar.gz" -C "$here" || die "cannot unpack $fetched/results.tar.gz"
  parts=("$fetched"/bundle.safetensors.[0-9][0-9])
  [ -f "${parts[0]}" ] || die "no bundle parts (bundle.safetensors.NN) in $fetched"
  cat "${parts[@]}" >"$here/bundle.safetensors"
  want=$(cat "$here/results/bundle.sha256" 2>/dev/null | cut -d' ' -f1)
  got=$(sha256sum "$here/bundle.safetensors" | cut -d' ' -f1)
  fails=()
  if [ -n "$want" ] && [ "$want" = "$got" ]; then
    echo "bundle: ${#parts[@]} parts joined, sha256 matches ($got)"
  else
    echo "bundle: sha256 $got, expected '${want:-?}'"; fails+=("bundle sha256")
  fi
  "$bin" inspect "$here/bundle.safetensors" | tee "$here/inspect.txt" || fails+=("inspect")
  if [ -f "$here/results/extract-input.txt" ]; then
    "$bin" extract --model "$here/bundle.safetensors" --format jsonl "$here/results/extract-input.txt" \
      >"$here/extract-here.jsonl" || fails+=("extract")
    python3 - "$here/results/extract.jsonl" "$here/extract-here.jsonl" <<'PY' || fails+=("extract differs")
import json, sys
there = [json.loads(l) for l in open(sys.argv[1])]
here = [json.loads(l) for l in open(sys.argv[2])]
def key(doc):
    ents = sorted((e["start"], e["end"], e["type"]) for e in doc.get("entities", []))
    rels = sorted(json.dumps({k: v for k, v in r.items() if k != "score"}, sort_keys=True)
                  for r in doc.get("relations", []))
    return ents, rels
same = sum(key(a) == key(b) for a, b in zip(there, here))
scores = [abs(x["score"] - y["score"])
          for a, b in zip(there, here) if key(a) == key(b)
          for kind in ("entities", "relations")
          for x, y in zip(a.get(kind, []), b.get(kind, []))]
n_ent = sum(len(d.get("entities", [])) for d in here)
n_rel = sum(len(d.get("relations", [])) for d in here)
print(f"extract here: {len(here)} lines, {n_ent} entities, {n_rel} relations; "
      f"{same}/{len(there)} lines with the same entities and relations as on the GPU machine; "
      f"largest score difference {max(scores, default=0.0):.2e}")
sys.exit(0 if len(here) == len(there) and same == len(there) and max(scores, default=0.0) < 1e-3 else 1)
PY
  else
    fails+=("no extract-input.txt in results")
  fi
  if [ -n "$checkpoint" ]; then
    # The GPU machine's dev file, where it exists here too; else the local copy.
    data=$(cat "$here/results/verify-data.txt" 2>/dev/null)
    if [ ! -f "$data" ]; then
      data=$(first_dir "$data_root" "$carry/data" shared/data ../shared/data)/conll04/dev.json
    fi
    "$bin" verify "$here/bundle.safetensors" --checkpoint "$checkpoint" --data "$data" \
      | tee "$here/verify-here.txt" || fails+=("verify")
  else
    echo "verify on the GPU machine (the checkpoint stays there):"
    sed 's/^/    /' "$here/results/verify.txt" 2>/dev/null || echo "    (no verify.txt)"
  fi
  echo
  if [ ${#fails[@]} -eq 0 ]; then echo "fetched results: OK ($here)"; exit 0; fi
  echo "fetched results: FAILED: ${fails[*]}"; exit 1
fi

# ==== the check itself ==========================================================================
if [ $cpu = 1 ]; then
  device=${device:-cpu} budget=${budget:-600} epochs=${epochs:-2} batch_sizes=${batch_sizes:-"8 16"}
else
  device=${device:-cuda:0} budget=${budget:-480} epochs=${epochs:-20} batch_sizes=${batch_sizes:-"8 32"}
fi
out=${out:-$root/target/gpu-check/$([ $cpu = 1 ] && echo cpu || echo cuda)}
work=${work:-$(mktemp -d "${TMPDIR:-/tmp}/mge-gpu-check.XXXXXX")}
res=$work/results                 # what results.tar.gz holds
mkdir -p "$out" "$res" || die "cannot create $out / $res"
out=$(cd "$out" && pwd)
rm -f "$out"/summary.txt "$out"/results.tar.gz "$out"/bundle.safetensors.[0-9][0-9]
exec > >(tee -a "$res/log.txt") 2>&1
sampler=""
cleanup() {
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null
  [ $keep_work = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

left() { echo $(( budget - $(elapsed) )); }
have_timeout=0; command -v timeout >/dev/null 2>&1 && have_timeout=1
# Runs a command with at most $1 seconds (and never past the budget): status 124 on time-out.
bounded() {
  local secs=$1; shift
  local l; l=$(left)
  [ "$secs" -gt "$l" ] && secs=$l
  if [ "$secs" -le 0 ]; then echo "(skipped: the time budget is spent)"; return 124; fi
  if [ $have_timeout = 1 ]; then timeout --kill-after=10 "$secs" "$@"; else "$@"; fi
}

required_failed=()
notes=()
fail() { required_failed+=("$1"); echo "FAILED: $1"; }

say "MGE GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ), mode $([ $cpu = 1 ] && echo cpu || echo cuda), device $device, budget ${budget}s"
echo "    out $out, work $work"

# ---- the binary -------------------------------------------------------------------------------
if [ -z "$bin" ]; then
  if [ $cpu = 1 ]; then
    bin=target/release/mge
    say "building $bin (cargo build --release -p mge-trainer; nothing to do when it is fresh)"
    nice -n 10 cargo build --release -p mge-trainer || die "cargo build failed"
  elif [ -f "$carry/mge.xz" ]; then
    if [ "$(cat "$carry/mge.kind" 2>/dev/null)" = cpu ] && [ "$device" != cpu ]; then
      die "$carry/mge.xz holds a CPU build: build with scripts/build-cuda.sh and run --pack again"
    fi
    say "unpacking $carry/mge.xz"
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
      "$carry/mge.xz" "$work/mge" || die "cannot unpack $carry/mge.xz"
    chmod +x "$work/mge"
    bin=$work/mge
    if [ -f "$carry/mge.sha256" ] && [ "$(sha256sum "$bin" | cut -d' ' -f1)" != "$(cat "$carry/mge.sha256")" ]; then
      die "the unpacked binary does not match $carry/mge.sha256"
    fi
  else
    bin=target/cuda/release/mge
  fi
fi
[ -x "$bin" ] || die "no mge binary at $bin"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

# CUDA libraries: libcuda.so.1 comes with the driver; cuBLAS, cuBLASLt, NVRTC, cuRAND and the
# runtime from the Python venv's nvidia wheels (or a CUDA toolkit). Add every folder that holds
# one the binary cannot find yet.
if [ $cpu = 0 ]; then
  if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi >"$res/nvidia-smi.txt" 2>&1
    nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader \
      >"$res/gpu.csv" 2>&1
    head -n 12 "$res/nvidia-smi.txt"
  else
    echo "nvidia-smi not found" | tee "$res/nvidia-smi.txt"
  fi
  lib_dirs=()
  while read -r d; do [ -d "$d" ] && lib_dirs+=("$d"); done < <(
    python3 - <<'PY' 2>/dev/null
import glob, os, site, sys
roots = []
try:
    import nvidia
    roots += list(nvidia.__path__)
except Exception:
    pass
for sp in site.getsitepackages() + glob.glob("/opt/*/.venv/lib/python3*/site-packages") + glob.glob("/usr/local/lib/python3*/dist-packages"):
    roots.append(os.path.join(sp, "nvidia"))
seen = []
for r in roots:
    for d in [os.path.join(r, "cu13", "lib")] + glob.glob(os.path.join(r, "*", "lib")):
        if os.path.isdir(d) and d not in seen:
            seen.append(d)
print("\n".join(seen))
PY
    for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/nvidia/lib64 /usr/lib/x86_64-linux-gnu; do echo "$d"; done
  )
  for pass in 1 2; do
    missing=$(LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-} ldd "$bin" 2>/dev/null | awk '/not found/ {print $1}')
    [ -z "$missing" ] && break
    for lib in $missing; do
      for d in "${lib_dirs[@]}"; do
        if [ -e "$d/$lib" ]; then
          export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
          break
        fi
      done
    done
  done
  {
    echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
    ldd "$bin" 2>&1 | grep -E 'cu|nvrtc|not found'
  } | tee "$res/libraries.txt"
fi
if ! "$bin" --version >"$res/version.txt" 2>&1; then
  cat "$res/version.txt"
  fail "the binary does not start (libraries above)"
fi
say "$(cat "$res/version.txt"), $(sha256sum "$bin" | cut -c1-16)…, $(elapsed)s"

# ---- encoder and data -------------------------------------------------------------------------
if [ -z "$encoder" ]; then encoder=$(find_encoder) || die "no encoder (--encoder)"; fi
[ -f "$encoder/model.safetensors" ] || die "no model.safetensors in $encoder"
data_root=$(first_dir "$data_root" "$carry/data" shared/data ../shared/data) || die "no data root (--data-root)"
[ -f "$data_root/conll04/train.json" ] || die "$data_root/conll04/train.json not found"
enc_dtype=$(python3 -c 'import json, struct, sys
f = open(sys.argv[1], "rb"); h = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
print(",".join(sorted({v["dtype"] for k, v in h.items() if k != "__metadata__"})))' "$encoder/model.safetensors")
echo "encoder $encoder (weights stored as $enc_dtype), data $data_root"
limit=()
if [ $cpu = 1 ]; then
  # Tiny settings: 48 training sentences, the first 40 of dev and of test.
  mkdir -p "$work/data/conll04"
  cp "$data_root/conll04/train.json" "$work/data/conll04/"
  for split in dev test; do
    python3 -c 'import json, sys; json.dump(json.load(open(sys.argv[1]))[:40], open(sys.argv[2], "w"))' \
      "$data_root/conll04/$split.json" "$work/data/conll04/$split.json"
  done
  data_root=$work/data
  limit=(--limit-train 48)
fi
common=(--preset conll04 --data-root "$data_root" --encoder "$encoder" --seed 42 "${limit[@]}")

# ---- 1. one step on two devices ----------------------------------------------------------------
# name | required | extra flags
if [ $cpu = 1 ]; then
  checks=(
    "same-first|1|--reference cpu"
    "composed-first|1|--reference cpu --tested-ops composed"
    "composed-longest|1|--reference cpu --tested-ops composed --which-batch longest"
  )
else
  checks=(
    "cuda-first|1|--reference cpu"
    "cuda-longest|1|--reference cpu --which-batch longest"
    "cuda-vs-composed-cpu|1|--reference cpu --reference-ops composed"
    "cuda-tf32|0|--reference cpu --tf32"
  )
fi
for c in "${checks[@]}"; do
  IFS='|' read -r name req flags <<<"$c"
  say "check-step $name ($(elapsed)s)"
  # shellcheck disable=SC2086
  bounded 150 "$bin" check-step "${common[@]}" --device "$device" $flags --out "$work/check-$name" \
    2>&1 | tee "$res/check-$name.txt"
  status=${PIPESTATUS[0]}
  cp "$work/check-$name/check-step.json" "$res/check-$name.json" 2>/dev/null
  if [ "$status" != 0 ]; then
    if [ "$req" = 1 ]; then fail "check-step $name (status $status)"; else notes+=("check-step $name: outside its tolerance or failed (status $status), informational"); fi
  fi
done

# ---- 2. training, cut to the budget ------------------------------------------------------------
reserve=$([ $cpu = 1 ] && echo 150 || echo 150)   # eval, export, verify, extract, packing
runs=($batch_sizes)
mem_sample() {  # starts sampling GPU memory into $1 every 500 ms
  sampler=""
  command -v nvidia-smi >/dev/null 2>&1 || return 0
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 500 >"$1" 2>/dev/null &
  sampler=$!
}
mem_stop() { [ -n "$sampler" ] && kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null; sampler=""; }
baseline_mem=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits 2>/dev/null | head -n 1)
echo "${baseline_mem:-n/a}" >"$res/gpu-memory-baseline.txt"

for k in "${!runs[@]}"; do
  bs=${runs[$k]}
  name=conll04-b$bs
  run=$work/$name
  # AdamW with the batch k times larger: learning rates times sqrt(k) (the usual rule for Adam;
  # the loss is a mean over sub-tokens, so the gradient scale does not grow with the batch).
  lrs=$(python3 -c "import math; f = math.sqrt($bs / 8); print(f'{5e-5 * f:.3g} {1e-3 * f:.3g}')")
  read -r lr_enc lr_heads <<<"$lrs"
  flags=(--batch-size "$bs" --lr-encoder "$lr_enc" --lr-heads "$lr_heads" --device "$device" --quiet --out "$run")
  train_left=$(( $(left) - reserve ))
  share=$train_left
  [ "$k" -lt $(( ${#runs[@]} - 1 )) ] && share=$(( train_left * 2 / 3 ))
  if [ "$share" -lt 30 ]; then notes+=("$name: not run, the time budget was spent"); continue; fi
  say "train $name: batch $bs, lr $lr_enc / $lr_heads, aiming at $epochs epochs within ${share}s ($(elapsed)s)"
  mem_sample "$res/memory-$name.csv"
  t0=$(date +%s)
  bounded "$share" "$bin" train "${common[@]}" "${flags[@]}" --epochs "$epochs" --stop-after 1 \
    >"$res/train-$name.txt" 2>&1
  status=$?
  t1=$(( $(date +%s) - t0 ))
  tail -n 3 "$res/train-$name.txt"
  if [ $status != 0 ]; then
    mem_stop
    [ "$k" = 0 ] && fail "train $name (first epoch, status $status)" || notes+=("train $name failed (status $status)")
    continue
  fi
  # Each further epoch costs about what the first did (it includes loading, dev eval, saving).
  per=$(( t1 > 1 ? t1 : 1 ))
  room=$(( share - t1 - per ))
  more=$(( room / per ))
  [ $more -gt $(( epochs - 1 )) ] && more=$(( epochs - 1 ))
  [ $more -lt 0 ] && more=0
  total=$(( 1 + more ))
  if [ $total -lt "$epochs" ]; then
    if [ $total -gt 1 ]; then
      notes+=("$name: cut from $epochs to $total epochs by the budget (the first epoch took ${t1}s); epochs 2 to $total followed the learning-rate schedule of a $total-epoch run")
    else
      notes+=("$name: only 1 of $epochs epochs fitted the budget (it took ${t1}s)")
    fi
  fi
  echo "    first epoch ${t1}s (wall): $total epochs in all"
  bounded $(( share - t1 + 30 )) "$bin" train "${common[@]}" "${flags[@]}" --epochs "$total" --resume \
    >>"$res/train-$name.txt" 2>&1
  status=$?
  mem_stop
  tail -n 12 "$res/train-$name.txt"
  echo "$(( $(date +%s) - t0 ))" >"$res/wall-$name.txt"
  cp "$run/metrics.json" "$res/metrics-$name.json" 2>/dev/null
  cp "$run/curve.svg" "$res/curve-$name.svg" 2>/dev/null
  if [ $status != 0 ] || [ ! -f "$run/best/test_report.json" ]; then
    [ "$k" = 0 ] && fail "train $name (status $status, no test report)" || notes+=("train $name did not finish (status $status)")
  fi
done

# ---- 3. evaluate, export, verify, extract the first run ----------------------------------------
best=$work/conll04-b${runs[0]}/best
bundle=$work/bundle.safetensors
if [ -f "$best/model.safetensors" ]; then
  for split in dev test; do
    say "eval $split on $device ($(elapsed)s)"
    bounded 120 "$bin" eval --checkpoint "$best" --data "$data_root/conll04/$split.json" --device "$device" \
      --json "$res/eval-$split-$(tr ':' '-' <<<"$device").json" 2>&1 | tee "$res/eval-$split-device.txt"
    [ "${PIPESTATUS[0]}" = 0 ] || fail "eval $split on $device"
  done
  if [ "$device" != cpu ]; then
    say "eval test on cpu, the same checkpoint ($(elapsed)s)"
    bounded 150 "$bin" eval --checkpoint "$best" --data "$data_root/conll04/test.json" --device cpu \
      --json "$res/eval-test-cpu.json" >"$res/eval-test-cpu.txt" 2>&1 || notes+=("eval test on cpu did not finish")
  fi
  say "export ($(elapsed)s)"
  if bounded 120 "$bin" export --checkpoint "$best" --out "$bundle" 2>&1 | tee "$res/export.txt" \
      && [ -f "$bundle" ]; then
    sha256sum "$bundle" | sed "s|$bundle|bundle.safetensors|" >"$res/bundle.sha256"
    "$bin" inspect --json "$bundle" >"$res/inspect.json" 2>&1 || fail "inspect"
    say "verify the bundle against the checkpoint on dev, on the CPU ($(elapsed)s)"
    echo "$data_root/conll04/dev.json" >"$res/verify-data.txt"
    bounded 180 "$bin" verify "$bundle" --checkpoint "$best" --data "$data_root/conll04/dev.json" \
      2>&1 | tee "$res/verify.txt"
    [ "${PIPESTATUS[0]}" = 0 ] || fail "verify"
    say "extract the test sentences with the bundle ($(elapsed)s)"
    python3 -c 'import json, sys
for s in json.load(open(sys.argv[1])): print(" ".join(s["tokens"]))' \
      "$data_root/conll04/test.json" >"$res/extract-input.txt"
    bounded 120 "$bin" extract --model "$bundle" --format jsonl "$res/extract-input.txt" \
      >"$res/extract.jsonl" 2>"$res/extract-stderr.txt" || fail "extract"
  else
    fail "export"
  fi
else
  fail "no best checkpoint to evaluate and export"
fi

# ---- summary and packing ------------------------------------------------------------------------
printf '%s\n' "${required_failed[@]}" >"$res/failed.txt"
printf '%s\n' "${notes[@]}" >"$res/notes.txt"
python3 - "$res" "$device" "$enc_dtype" "$(elapsed)" "$budget" >"$res/summary.txt" <<'PY'
import glob, json, os, sys
res, device, enc_dtype, secs, budget = sys.argv[1:6]
def load(p):
    try:
        return json.load(open(p))
    except Exception:
        return None
def read(p):
    try:
        return open(p).read().strip()
    except Exception:
        return ""
lines = []
gpu = read(os.path.join(res, "gpu.csv")) or read(os.path.join(res, "nvidia-smi.txt")) or "no GPU (cpu mode)"
lines.append(f"MGE GPU check on {device}: {gpu}")
lines.append(f"binary: {read(os.path.join(res, 'version.txt'))}; encoder weights {enc_dtype}; {secs}s of a {budget}s budget")
lines.append("")
lines.append("check-step (one training step, tested vs reference):")
for p in sorted(glob.glob(os.path.join(res, "check-*.json")), key=os.path.getmtime):
    r = load(p)
    name = os.path.basename(p)[len("check-"):-len(".json")]
    if not r:
        lines.append(f"  {name}: no report")
        continue
    c = r["comparison"]
    # Infinite values (a difference where the bound is 0) are written as null.
    num = lambda x: float("inf") if x is None else x
    g = [d for d in c["gradients"] if d["cosine_checked"]]
    worst_g = max(c["gradients"], key=lambda d: num(d["ratio"]))
    worst_rel = max(g, key=lambda d: num(d["rel_l2"])) if g else None
    worst_u = max(c["updates"], key=lambda d: num(d["ratio"]))
    lines.append(
        f"  {name}: {'PASS' if c['passed'] else 'FAIL'} ({c['tolerance']['name']}, TF32 {'on' if r['tf32'] else 'off'}), "
        f"{r['tested']['device']} [{r['tested']['ops']}] vs {r['reference']['device']} [{r['reference']['ops']}], "
        f"batch {r['batch']['position']} ({len(r['batch']['examples'])} sentences, padded {r['batch']['padded_len']})")
    lines.append(
        f"      loss {c['loss']['tested']:.7g} vs {c['loss']['reference']:.7g} (rel {c['loss']['rel']:.1e}); "
        f"gradients: worst rel L2 {num(worst_rel['rel_l2']) if worst_rel else 0:.1e}"
        f"{' (' + worst_rel['name'] + ')' if worst_rel else ''}, min cosine "
        f"{min((d['cosine'] for d in g), default=1):.9f}, {num(worst_g['ratio']):.3f} of the bound at most; "
        f"updates {num(worst_u['ratio']):.3f} of the bound at most")
    for f in c["failures"][:3]:
        lines.append(f"      {f}")
lines.append("")
lines.append("training on CoNLL04:")
def batch_of(p):
    tail = p.rsplit("-b", 1)[-1].split(".")[0]
    return int(tail) if tail.isdigit() else 0
for p in sorted(glob.glob(os.path.join(res, "metrics-*.json")), key=batch_of):
    m = load(p)
    name = os.path.basename(p)[len("metrics-"):-len(".json")]
    if not m:
        continue
    cfg = m["config"]
    curve = m["curve"]
    wall = read(os.path.join(res, f"wall-{name}.txt"))
    mem = []
    for l in read(os.path.join(res, f"memory-{name}.csv")).splitlines():
        try:
            mem.append(int(l.strip()))
        except ValueError:
            pass
    base = read(os.path.join(res, "gpu-memory-baseline.txt"))
    peak = f"peak GPU memory {max(mem)} MiB (nvidia-smi every 0.5 s; {base} MiB before)" if mem else "GPU memory not sampled"
    lines.append(
        f"  {name}: batch {cfg['batch_size']}, lr {cfg['lr_encoder']:g}/{cfg['lr_heads']:g}, "
        f"{len(curve)}/{cfg['epochs']} epochs, {m['seconds_per_epoch']:.1f} s/epoch training "
        f"({(int(wall) / max(len(curve), 1)) if wall else float('nan'):.1f} s/epoch wall with dev eval and saving), "
        f"{curve[-1]['sentences_per_second'] if curve else 0:.0f} sentences/s; {peak}")
    d, t = m.get("dev"), m.get("test")
    if d and t:
        lines.append(
            f"      best epoch {m['best_epoch']}: dev NER {d['ner']['f1']:.2f} RE {d['re_strict']['f1']:.2f}; "
            f"test NER {t['ner']['f1']:.2f} RE {t['re_strict']['f1']:.2f} RE(PFN) {t['re_pfn']['f1']:.2f}")
    else:
        lines.append("      no final dev/test scores (the run did not finish)")
evals = {os.path.basename(p): load(p) for p in glob.glob(os.path.join(res, "eval-*.json"))}
if evals:
    lines.append("")
    lines.append("eval of the first run's best checkpoint:")
    for k in sorted(evals):
        r = evals[k]
        if r:
            lines.append(f"  {k[5:-5]}: NER {r['ner']['f1']:.2f} RE {r['re_strict']['f1']:.2f} RE(PFN) {r['re_pfn']['f1']:.2f}")
v = read(os.path.join(res, "verify.txt"))
if v:
    lines.append("")
    lines.append("verify (q8 bundle against the f32 checkpoint, dev, on the CPU):")
    lines += ["  " + l for l in v.splitlines()]
ex = os.path.join(res, "extract.jsonl")
if os.path.exists(ex):
    docs = [json.loads(l) for l in open(ex) if l.strip()]
    ents = sum(len(d.get("entities", [])) for d in docs)
    rels = sum(len(d.get("relations", [])) for d in docs)
    lines.append(f"extract with the bundle: {len(docs)} test sentences, {ents} entities, {rels} relations")
notes = [l for l in read(os.path.join(res, "notes.txt")).splitlines() if l]
failed = [l for l in read(os.path.join(res, "failed.txt")).splitlines() if l]
if notes:
    lines.append("")
    lines.append("notes:")
    lines += ["  " + n for n in notes]
lines.append("")
lines.append("RESULT: " + ("PASS" if not failed else "FAIL: " + "; ".join(failed)))
print("\n".join(lines))
PY
cp "$res/summary.txt" "$out/summary.txt"
tar -czf "$out/results.tar.gz" -C "$work" results
if [ -f "$bundle" ]; then
  # 15 MiB parts: the device tool brings back files of at most 16 MiB.
  split -b 15M -d -a 2 "$bundle" "$out/bundle.safetensors."
fi
echo
cat "$out/summary.txt"
echo
echo "files in $out:"; (cd "$out" && ls -l | tail -n +2 | awk '{printf "    %10d  %s\n", $5, $9}')
[ ${#required_failed[@]} -eq 0 ]
