#!/usr/bin/env bash
# Builds a release `mge` binary with the `cuda` feature for H100/H200 (sm_90) on a machine that
# has no GPU and no CUDA install (see DESIGN.md section 6).
#
# What it does, each step skipped when its result is already there:
#   1. downloads the pinned CUDA 13.0 toolkit wheels from PyPI (nvcc, nvvm, crt headers, cccl,
#      runtime) into target/cuda-toolkit/wheels and unpacks them into one prefix, which gives a
#      toolkit folder target/cuda-toolkit/prefix/nvidia/cu13/{bin,nvvm,include,lib};
#   2. generates link-only stub libraries for the CUDA libraries those wheels lack (libcuda,
#      libcublas, libcublasLt, libnvrtc, libcurand), with the symbol names taken from the sources
#      of the cudarc version that Cargo.lock pins; they live in target/cuda-toolkit/link-stubs and
#      are only put on the linker's search path, never next to the binary;
#   3. runs `cargo build --release -p mge-trainer --features cuda` in its own target directory
#      (target/cuda), so the normal CPU build in target/ is not invalidated.
#
# Every heavy step runs under `nice -n 19` so it does not slow other work on a shared machine.
# Usage: scripts/build-cuda.sh            (extra arguments are passed on to `cargo build`)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# ---- settings --------------------------------------------------------------------------------
# Pinned to CUDA 13.0: cudarc 0.19 rejects 13.5, and PTX from a newer nvcc does not load on the
# 580 driver of the GPU machines.
wheel_specs=(
  nvidia-cuda-nvcc==13.0.88
  nvidia-nvvm==13.0.88
  nvidia-cuda-crt==13.0.88
  nvidia-cuda-cccl==13.0.85
  nvidia-cuda-runtime==13.0.96
)
cache=$root/target/cuda-toolkit        # under target/, so ignored by git
wheels=$cache/wheels                   # downloaded .whl files
prefix=$cache/prefix                   # the wheels unpacked, as pip would into site-packages
toolkit=$prefix/nvidia/cu13            # what CUDA_HOME points at
stubs=$cache/link-stubs                # link-time stub libraries (never shipped)
target_dir=$root/target/cuda           # separate cargo target dir for the cuda build
compute_cap=90                         # sm_90: H100 / H200

# cudarc `sys` module -> library it links (-l name) and the soname the binary will ask for.
# These are the five libraries candle's cudarc features (driver, cublas, cublaslt, nvrtc,
# curand) link with `dynamic-linking`.
stub_libs=(
  "driver:cuda:libcuda.so.1"
  "cublas:cublas:libcublas.so.13"
  "cublaslt:cublasLt:libcublasLt.so.13"
  "nvrtc:nvrtc:libnvrtc.so.13"
  "curand:curand:libcurand.so.10"
)

die() { echo "build-cuda.sh: error: $*" >&2; exit 1; }
step() { echo "==> $*"; }

# ---- prerequisites ---------------------------------------------------------------------------
command -v python3 >/dev/null 2>&1 || die "python3 not found; it is needed to download the CUDA wheels"
python3 -m pip --version >/dev/null 2>&1 \
  || die "pip is not available for python3 (try: python3 -m ensurepip --upgrade)"
command -v cc >/dev/null 2>&1 || die "no C compiler 'cc' found; it builds the link stubs and is nvcc's host compiler"
command -v cargo >/dev/null 2>&1 || die "cargo not found; install Rust (https://rustup.rs)"
[ -f Cargo.lock ] || die "no Cargo.lock in $root"

# ---- 1. toolkit wheels -----------------------------------------------------------------------
mkdir -p "$wheels"
missing=()
for spec in "${wheel_specs[@]}"; do
  name=${spec%%==*} version=${spec##*==}
  # Wheel file names use '_' where the project name has '-'.
  if ! compgen -G "$wheels/${name//-/_}-${version}-*.whl" >/dev/null; then
    missing+=("$spec")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  step "downloading ${missing[*]}"
  python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$wheels" "${missing[@]}" \
    || die "pip download failed for: ${missing[*]}"
else
  step "toolkit wheels already in $wheels"
fi

# The list of wheel files is the stamp of the unpacked prefix: unpack again only if it changed.
wanted_stamp=$(for spec in "${wheel_specs[@]}"; do
  name=${spec%%==*} version=${spec##*==}
  basename "$(compgen -G "$wheels/${name//-/_}-${version}-*.whl" | head -n 1)"
done)
if [ -f "$prefix/.wheels" ] && [ "$(cat "$prefix/.wheels")" = "$wanted_stamp" ] && [ -x "$toolkit/bin/nvcc" ]; then
  step "toolkit already unpacked in $toolkit"
else
  step "unpacking the toolkit into $toolkit"
  rm -rf "$prefix" "$prefix.tmp"
  mkdir -p "$prefix.tmp"
  # Unzip with Python (no dependency on `unzip`), keeping the executable bits that nvcc, ptxas,
  # cicc and friends need; zipfile.extractall would drop them.
  python3 - "$prefix.tmp" "$wheels" $wanted_stamp <<'PY'
import os, pathlib, sys, zipfile
dest, wheel_dir, names = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3:]
for name in names:
    with zipfile.ZipFile(wheel_dir / name) as z:
        for info in z.infolist():
            path = z.extract(info, dest)
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                os.chmod(path, mode)
PY
  printf '%s\n' "$wanted_stamp" >"$prefix.tmp/.wheels"
  mv "$prefix.tmp" "$prefix"
fi
[ -x "$toolkit/bin/nvcc" ] || die "nvcc missing from the unpacked toolkit ($toolkit/bin/nvcc)"
[ -f "$toolkit/lib/libcudart.so.13" ] || die "libcudart.so.13 missing from $toolkit/lib"
# candle-kernels links with -lcudart, which needs the unversioned name.
ln -sfn libcudart.so.13 "$toolkit/lib/libcudart.so"

nvcc_version=$("$toolkit/bin/nvcc" --version) || die "the unpacked nvcc does not run"
grep -q 'release 13\.0,' <<<"$nvcc_version" \
  || die "unexpected nvcc version (want release 13.0):"$'\n'"$nvcc_version"

# ---- 2. link-only stubs ----------------------------------------------------------------------
# Find the cudarc that the cuda feature resolves to. `cargo metadata` downloads the crate sources
# if needed and tells where they are, so this works with any CARGO_HOME.
step "resolving cudarc for --features cuda"
metadata=$(nice -n 19 cargo metadata --format-version 1 --features mge-trainer/cuda) \
  || die "cargo metadata failed"
read -r cudarc_version cudarc_dir < <(python3 -c '
import json, os, sys
meta = json.load(sys.stdin)
in_graph = {node["id"] for node in meta["resolve"]["nodes"]}
found = [p for p in meta["packages"] if p["name"] == "cudarc" and p["id"] in in_graph]
if len(found) != 1:
    sys.exit("expected exactly one cudarc in the dependency graph, found %d" % len(found))
print(found[0]["version"], os.path.dirname(found[0]["manifest_path"]))
' <<<"$metadata") || die "could not find cudarc among the dependencies of the cuda feature"
lock_version=$(awk '/^name = "cudarc"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
[ "$lock_version" = "$cudarc_version" ] \
  || die "Cargo.lock pins cudarc '$lock_version' but the cuda feature resolves to '$cudarc_version'"
echo "    cudarc $cudarc_version at $cudarc_dir"

stub_stamp="cudarc $cudarc_version"
if [ -f "$stubs/.stamp" ] && [ "$(cat "$stubs/.stamp")" = "$stub_stamp" ]; then
  step "link stubs already in $stubs"
else
  step "generating link stubs in $stubs"
  rm -rf "$stubs"
  mkdir -p "$stubs/src"
  for entry in "${stub_libs[@]}"; do
    IFS=: read -r module lib soname <<<"$entry"
    sys_rs=$cudarc_dir/src/$module/sys/mod.rs
    [ -f "$sys_rs" ] || die "$sys_rs not found; has cudarc's layout changed?"
    # With `dynamic-linking`, cudarc declares every C function as
    #     extern "C" {
    #         fn cuInit(Flags: ::core::ffi::c_uint) -> CUresult;
    #     }
    # Collect the names declared inside those blocks.
    symbols=$(awk '
      /extern "C" \{/ { inside = 1; next }
      inside && /^[[:space:]]*\}/ { inside = 0 }
      inside && match($0, /fn [A-Za-z_][A-Za-z0-9_]*\(/) { print substr($0, RSTART + 3, RLENGTH - 4) }
    ' "$sys_rs" | sort -u)
    [ -n "$symbols" ] || die "no extern \"C\" functions found in $sys_rs"
    # The signatures do not matter to the linker, only the names: each one becomes an empty
    # function. The real library is loaded in its place at run time.
    {
      echo "/* Link-only stub for $soname, generated from cudarc $cudarc_version src/$module/sys. */"
      echo "/* Do not ship: it exists only so the linker can resolve the names. */"
      while read -r sym; do echo "void $sym(void) {}"; done <<<"$symbols"
    } >"$stubs/src/$lib.c"
    nice -n 19 cc -shared -fPIC -o "$stubs/lib$lib.so" -Wl,-soname,"$soname" "$stubs/src/$lib.c" \
      || die "compiling the $soname stub failed"
    echo "    lib$lib.so ($soname): $(wc -l <<<"$symbols") symbols"
  done
  echo "$stub_stamp" >"$stubs/.stamp"
fi

# ---- 3. build --------------------------------------------------------------------------------
export CUDA_HOME=$toolkit CUDA_PATH=$toolkit
export PATH=$toolkit/bin:$PATH
export CUDA_COMPUTE_CAP=$compute_cap
export CUDAFORGE_THREADS=2
export CARGO_TARGET_DIR=$target_dir
# Only this target dir sees these flags, so the CPU build's fingerprints stay untouched.
export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-L native=$stubs"

step "building (nice -n 19; CUDA_HOME=$CUDA_HOME, CUDA_COMPUTE_CAP=$CUDA_COMPUTE_CAP, target dir $CARGO_TARGET_DIR)"
start=$(date +%s)
nice -n 19 cargo build --release -p mge-trainer --features cuda "$@" \
  || die "cargo build failed (see the output above)"
elapsed=$(( $(date +%s) - start ))

bin=$target_dir/release/mge
[ -x "$bin" ] || die "the build finished but $bin is missing"

# ---- report ----------------------------------------------------------------------------------
echo
echo "built $bin ($(du -h "$bin" | cut -f1), ${elapsed}s)"
if command -v readelf >/dev/null 2>&1; then
  echo "CUDA libraries it needs at run time:"
  readelf -d "$bin" | awk '/NEEDED/ && /cu|nvrtc/ { gsub(/[][]/, "", $NF); print "    " $NF }'
fi
cat <<EOF

To run it on the GPU machine (NVIDIA driver >= 580), copy the binary there, then:
    python3 -m venv cuda-venv
    cuda-venv/bin/pip install nvidia-cuda-runtime==13.0.96 nvidia-cublas==13.0.2.14 \\
        nvidia-cuda-nvrtc==13.0.88 nvidia-curand==10.4.0.35
    export LD_LIBRARY_PATH=\$(cuda-venv/bin/python -c \\
        'import nvidia, os; print(os.path.join(list(nvidia.__path__)[0], "cu13", "lib"))')
    ./mge train --device cuda:0 ...
libcuda.so.1 comes from the driver. Never copy $stubs there: those are empty stubs.
EOF
