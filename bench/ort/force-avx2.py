#!/usr/bin/env python3
"""A copy of the pinned onnxruntime 1.32.0 (PyPI, Linux x86-64, CPython 3.11) that runs its
AVX2 kernels on a processor with AVX-512, for issue 15's AVX2-only comparison.

ONNX Runtime has no switch to narrow its kernels: MLAS (its matrix and element-wise library)
reads CPUID and XCR0 once, when the library loads, and takes AVX-512 kernels wherever the
processor has them. This script copies the installed `onnxruntime` package into OUT (default
bench/ort/ort-avx2) and changes three conditional branches in the copy of
`onnxruntime_pybind11_state...so`, so that each of ONNX Runtime's three CPU feature checks
finds no AVX-512:

- MLAS's platform setup: the jump that skips the AVX-512 kernels when CPUID leaf 7 has no
  AVX512F is made unconditional (`je` -> `jmp`). MLAS then keeps the kernels it chose for
  AVX2 and FMA3 (and for AVX-VNNI where the processor has it, as an Alder Lake core would).
- ONNX Runtime's own CPUIDInfo: the mask of XCR0 that must equal 0xe6 (the AVX-512 register
  state saved by the OS) becomes 0x06, so `HasAVX512*` are false.
- The cpuinfo library's same test: `sete` of "AVX-512 state enabled" becomes `seto`, which
  is always 0 after a `test`.

Every change is checked before it is made: the file's sha256 is the pinned wheel's, and each
byte pattern occurs exactly once. `--check` loads a package (the copy with PYTHONPATH=OUT, or
the installed one) and reads MLAS's chosen kernels from the process's memory: the f32 GEMM
kernel's pointer and the u8s8 int8 kernel's pointer, named by what the copy's machine code
uses (zmm registers or ymm; `vpmaddubsw` or `vpdpbusd`).

    python force-avx2.py [--out DIR]          # make the copy (idempotent)
    PYTHONPATH=DIR python force-avx2.py --check   # prints e.g. {"f32": "fma3", "int8": "avx2"}
"""

import argparse
import ctypes
import hashlib
import importlib.util
import json
import shutil
import sys
from pathlib import Path

LIB = "onnxruntime_pybind11_state.cpython-311-x86_64-linux-gnu.so"
SHA256 = "f31fb5f25aea85032805e0722c07a41443a23c8b612c7238dbea3cf67e9042ba"
MARKER = "FORCED-AVX2.sha256"  # written beside the patched library: its own sha256

# (what, bytes before, bytes after, index of the byte that changes)
PATCHES = [
    (
        "MLAS: skip the AVX-512 kernels (test $0x10000,%r10d; je -> jmp)",
        bytes.fromhex("41f7c2 00000100 740e 4c89c0"),
        0x74,
        0xEB,
        7,
    ),
    (
        "CPUIDInfo: XCR0 & 0xe6 -> XCR0 & 0x06",
        bytes.fromhex("4181e1 e6000000 4531d2"),
        0xE6,
        0x06,
        3,
    ),
    (
        "cpuinfo: sete -> seto for the AVX-512 state",
        bytes.fromhex("4889d0 48f7d0 a8e6 410f94c1"),
        0x94,
        0x90,
        10,
    ),
]

# Where MLAS_PLATFORM keeps two kernel pointers in this build, and what they may point to
# (virtual addresses in the library, read off `objdump -d`: the platform constructor writes
# one of these into each slot).
F32_SLOT = 0x22EC090
F32_KERNELS = {0x191CBC0: "fma3", 0x19251F0: "avx512f"}
INT8_SLOT = 0x22EC180
INT8_KERNELS = {
    0x1913050: "avx2",
    0x190C420: "avxvnni",
    0x1935380: "avx512core",
    0x1935390: "avx512vnni",
}


def installed_package() -> Path:
    spec = importlib.util.find_spec("onnxruntime")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("onnxruntime is not installed here (run bench/ort/setup.sh --native)")
    return Path(list(spec.submodule_search_locations)[0])


def make_copy(out: Path) -> None:
    src = installed_package()
    lib = src / "capi" / LIB
    data = lib.read_bytes()
    if hashlib.sha256(data).hexdigest() != SHA256:
        sys.exit(f"{lib} is not the pinned onnxruntime 1.32.0 build; the patch offsets would be wrong")
    patched = bytearray(data)
    for what, pattern, before, after, at in PATCHES:
        hits = []
        start = 0
        while (i := data.find(pattern, start)) != -1:
            hits.append(i)
            start = i + 1
        if len(hits) != 1:
            sys.exit(f"{what}: pattern found {len(hits)} times, expected once")
        if patched[hits[0] + at] != before:
            sys.exit(f"{what}: unexpected byte at {hits[0] + at:#x}")
        patched[hits[0] + at] = after
        print(f"{what}: byte {hits[0] + at:#x} {before:#04x} -> {after:#04x}", file=sys.stderr)
    dst = out / "onnxruntime"
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    (dst / "capi" / LIB).write_bytes(bytes(patched))
    (dst / "capi" / MARKER).write_text(hashlib.sha256(patched).hexdigest() + "\n")
    print(f"wrote {dst} (ONNX Runtime with AVX-512 hidden from its kernel choice)", file=sys.stderr)


def library_base(path: Path) -> int:
    for line in Path("/proc/self/maps").read_text().splitlines():
        fields = line.split()
        if len(fields) >= 6 and Path(fields[5]) == path and int(fields[2], 16) == 0:
            return int(fields[0].split("-")[0], 16)
    sys.exit(f"{path} is not mapped")


def check() -> dict:
    import onnxruntime  # noqa: F401  (loads the library, whose constructor sets up MLAS)

    lib = (installed_package() / "capi" / LIB).resolve()
    digest = hashlib.sha256(lib.read_bytes()).hexdigest()
    marker = lib.parent / MARKER
    copy = marker.exists() and marker.read_text().strip() == digest
    if digest != SHA256 and not copy:
        # Another build: its kernel pointers are elsewhere.
        return {"package": str(lib.parent.parent), "patched": False, "f32": "kernels not read", "int8": "kernels not read"}
    base = library_base(lib)
    f32 = ctypes.c_uint64.from_address(base + F32_SLOT).value - base
    int8 = ctypes.c_uint64.from_address(base + INT8_SLOT).value - base
    return {
        "package": str(lib.parent.parent),
        "patched": copy,
        "f32": F32_KERNELS.get(f32, f"unknown {f32:#x}"),
        "int8": INT8_KERNELS.get(int8, f"unknown {int8:#x}"),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "ort-avx2")
    ap.add_argument("--check", action="store_true", help="print the kernels MLAS chose in this process")
    args = ap.parse_args()
    if args.check:
        kernels = check()
        print(json.dumps(kernels))
        if kernels["f32"] == "kernels not read":
            sys.exit("not the pinned onnxruntime 1.32.0 build: its kernel pointers are not known")
    else:
        make_copy(args.out)


if __name__ == "__main__":
    main()
