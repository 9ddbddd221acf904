//! Which vector instructions the kernels use: detected once at run time on x86-64 (AVX-512,
//! AVX2 + FMA, or plain loops), fixed at build time elsewhere (SIMD128 on wasm32 when the
//! crate is built with it).
//!
//! `MGE_ISA=avx2` (or `portable`) makes an AVX-512 machine run the narrower path, to measure
//! and test the code most laptops run (with AVX-VNNI where the processor has it); a wider
//! path than the processor has is never chosen.
//! `MGE_INT8=0` keeps the matrix products in f32 where int8 ones would be used.

/// The instruction set of the x86-64 kernels.
#[cfg(target_arch = "x86_64")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Isa {
    Portable,
    Avx2,
    Avx512,
}

#[cfg(target_arch = "x86_64")]
impl Isa {
    /// The widest instruction set this processor has.
    pub fn detected() -> Isa {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
        {
            Isa::Avx512
        } else if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
        {
            Isa::Avx2
        } else {
            Isa::Portable
        }
    }

    /// Every instruction set this processor can run, narrowest first (for tests that
    /// compare the paths).
    pub fn available() -> Vec<Isa> {
        [Isa::Portable, Isa::Avx2, Isa::Avx512]
            .into_iter()
            .filter(|&i| i <= Isa::detected())
            .collect()
    }

    /// Parses `MGE_ISA`'s value.
    pub fn parse(s: &str) -> Option<Isa> {
        match s.trim().to_ascii_lowercase().as_str() {
            "avx512" | "avx-512" => Some(Isa::Avx512),
            "avx2" => Some(Isa::Avx2),
            "portable" | "scalar" | "none" => Some(Isa::Portable),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Isa::Avx512 => "avx512",
            Isa::Avx2 => "avx2",
            Isa::Portable => "portable",
        }
    }
}

/// The instruction set in use: the detected one, or a narrower one named by `MGE_ISA`.
#[cfg(target_arch = "x86_64")]
pub fn isa() -> Isa {
    use std::sync::OnceLock;
    static ISA: OnceLock<Isa> = OnceLock::new();
    *ISA.get_or_init(|| {
        let detected = Isa::detected();
        match std::env::var("MGE_ISA").ok().as_deref().map(Isa::parse) {
            Some(Some(wanted)) => wanted.min(detected),
            _ => detected,
        }
    })
}

/// Whether [`Precision::Auto`](crate::engine::Precision) computes in int8 here: where the int8
/// kernel is faster than the f32 one, as measured (`docs/BENCHMARKS.md`, "int8"): x86-64
/// with AVX2 (with VNNI or without: the plain AVX2 kernel reads seven-bit activations and
/// took the whole pass from 10.7 to 6.9 ms against the AVX2 f32 kernels), and WebAssembly
/// with SIMD128 (in Chromium the page's whole forward pass took 29 ms in int8 against 39
/// ms in f32). `MGE_INT8=0` turns it off natively.
pub fn int8_dot() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use std::sync::OnceLock;
        static INT8: OnceLock<bool> = OnceLock::new();
        *INT8.get_or_init(|| {
            let wanted = std::env::var("MGE_INT8").map_or(true, |v| v.trim() != "0");
            wanted && int8_kernel().is_some()
        })
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        true
    }
    #[cfg(not(any(
        target_arch = "x86_64",
        all(target_arch = "wasm32", target_feature = "simd128")
    )))]
    {
        false
    }
}

/// The x86-64 int8 kernels.
#[cfg(target_arch = "x86_64")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Int8Kernel {
    /// `vpdpbusd` on ZMM (AVX-512 VNNI).
    Avx512Vnni,
    /// `vpdpbusd` on YMM (AVX-VNNI: recent processors with AVX2 and no AVX-512, and Zen 5).
    AvxVnni,
    /// `vpmaddubsw` + `vpmaddwd` on seven-bit activations (AVX2 without VNNI).
    Avx2,
}

/// Whether VNNI may be used where the processor has it (`MGE_VNNI=0` says no).
#[cfg(target_arch = "x86_64")]
fn vnni_allowed() -> bool {
    use std::sync::OnceLock;
    static VNNI: OnceLock<bool> = OnceLock::new();
    *VNNI.get_or_init(|| std::env::var("MGE_VNNI").map_or(true, |v| v.trim() != "0"))
}

/// The int8 kernel for the instruction set in use, if this processor has one.
#[cfg(target_arch = "x86_64")]
pub fn int8_kernel() -> Option<Int8Kernel> {
    let vnni = vnni_allowed();
    match isa() {
        Isa::Avx512 if vnni && std::arch::is_x86_feature_detected!("avx512vnni") => {
            Some(Int8Kernel::Avx512Vnni)
        }
        Isa::Avx512 | Isa::Avx2 if vnni && std::arch::is_x86_feature_detected!("avxvnni") => {
            Some(Int8Kernel::AvxVnni)
        }
        Isa::Avx512 | Isa::Avx2 => Some(Int8Kernel::Avx2),
        Isa::Portable => None,
    }
}

/// Whether this processor (and the path chosen by `MGE_ISA`) has a vector int8 kernel:
/// AVX2 (with or without VNNI) on x86-64, SIMD128 on wasm32. Elsewhere
/// [`Precision::Int8`](crate::engine::Precision) runs plain integer loops.
pub fn int8_supported() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        int8_kernel().is_some()
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        true
    }
    #[cfg(not(any(
        target_arch = "x86_64",
        all(target_arch = "wasm32", target_feature = "simd128")
    )))]
    {
        false
    }
}

/// The kernels a pass in f32 or in int8 runs on: the instruction set (`avx512`, `avx2`,
/// `portable`, `simd128`) and, for int8, the dot products (`avx2, int8 by AVX-VNNI`).
pub fn describe(int8: bool) -> String {
    #[cfg(target_arch = "x86_64")]
    let (isa, dot) = (
        isa().name(),
        match int8_kernel() {
            Some(Int8Kernel::Avx512Vnni) => "AVX-512 VNNI",
            Some(Int8Kernel::AvxVnni) => "AVX-VNNI",
            Some(Int8Kernel::Avx2) => "vpmaddubsw, seven-bit activations",
            None => "integer loops",
        },
    );
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let (isa, dot) = ("simd128", "i32x4.dot_i16x8_s");
    #[cfg(not(any(
        target_arch = "x86_64",
        all(target_arch = "wasm32", target_feature = "simd128")
    )))]
    let (isa, dot) = ("portable", "integer loops");
    if int8 {
        format!("{isa}, int8 by {dot}")
    } else {
        format!("{isa}, f32")
    }
}

/// Defines `$name`, which calls the `#[inline(always)]` function `$inner` compiled for the
/// widest vector instructions in use (AVX-512 or AVX2+FMA on x86-64, chosen at run time;
/// elsewhere as built, e.g. SIMD128 on wasm32), so that its element-wise loops are
/// vectorized for them.
macro_rules! vectorized {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($a:ident: $t:ty),*) -> $r:ty = $inner:path) => {
        $(#[$m])*
        $vis fn $name($($a: $t),*) -> $r {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
                unsafe fn wide($($a: $t),*) -> $r {
                    $inner($($a),*)
                }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn narrow($($a: $t),*) -> $r {
                    $inner($($a),*)
                }
                // SAFETY: each instruction set is used only where it was detected.
                match $crate::engine::isa::isa() {
                    $crate::engine::isa::Isa::Avx512 => unsafe { wide($($a),*) },
                    $crate::engine::isa::Isa::Avx2 => unsafe { narrow($($a),*) },
                    $crate::engine::isa::Isa::Portable => $inner($($a),*),
                }
            }
            #[cfg(not(target_arch = "x86_64"))]
            {
                $inner($($a),*)
            }
        }
    };
}
pub(crate) use vectorized;

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_the_choice_never_exceeds_the_processor() {
        for i in Isa::available() {
            assert_eq!(Isa::parse(i.name()), Some(i));
        }
        assert_eq!(Isa::parse(" AVX-512 "), Some(Isa::Avx512));
        assert_eq!(Isa::parse("sse9"), None);
        assert!(isa() <= Isa::detected());
        assert_eq!(Isa::available().first(), Some(&Isa::Portable));
    }
}
