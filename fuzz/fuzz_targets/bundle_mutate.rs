//! Structure-aware bundle fuzzing: a valid bundle with a few bytes changed, inserted,
//! removed or cut off where the fuzzer says. Random bytes rarely get past the safetensors
//! header; these do, and reach the metadata JSON, the tensor table and model loading.
//!
//! Input: one selector byte, then edits of 6 bytes each: `[op, position (u32 LE), value]`.
//! - selector even: a tiny bundle made here (random weights, toy tokenizer): edits land
//!   anywhere, and a surviving bundle builds an extractor that extracts from a sentence;
//! - selector odd: the committed CoNLL04 bundle: edits land in its header (the length
//!   prefix and the JSON: tensor table and metadata), cuts anywhere.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mge::bundle::{self, Provenance, Quantization};
use mge::extract::Extractor;

fn real_bundle() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/conll04.safetensors");
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
    })
}

fn tiny_bundles() -> &'static [Vec<u8>; 3] {
    static BYTES: OnceLock<[Vec<u8>; 3]> = OnceLock::new();
    BYTES.get_or_init(|| {
        let words = [
            "john", "smith", "lives", "in", "boston", ".", "acme", "corp",
        ];
        let tokenizer = mge::tokenize::test_tokenizer_json(&words);
        let (config, tensors) = mge::testing::tiny_model(words.len() + 4, 3).expect("tiny model");
        let provenance = Provenance {
            dataset: "conll04".into(),
            command: "fuzz".into(),
            metrics: Default::default(),
        };
        [Quantization::Q8, Quantization::F16, Quantization::F32].map(|q| {
            bundle::write_bundle(&tensors, &config, &tokenizer, &provenance, q).expect("bundle")
        })
    })
}

/// Whether an edited real bundle reads as the original: the same metadata, the same
/// tensor table and the same tensor data (edits that only moved whitespace or rewrote a
/// number as itself).
fn unchanged(
    bytes: &[u8],
    info: &Result<bundle::BundleInfo, bundle::BundleError>,
    tensors: &Result<Vec<bundle::StoredTensor>, bundle::BundleError>,
) -> bool {
    static ORIGINAL: OnceLock<(bundle::BundleInfo, Vec<bundle::StoredTensor>)> = OnceLock::new();
    let (info0, tensors0) = ORIGINAL.get_or_init(|| {
        let real = real_bundle();
        (
            bundle::read_info(real).expect("the committed bundle's metadata"),
            bundle::stored_tensors(real).expect("the committed bundle's tensors"),
        )
    });
    let (Ok(info), Ok(tensors)) = (info, tensors) else {
        return false;
    };
    let real = real_bundle();
    info == info0
        && tensors == tensors0
        && bytes.len() >= 8
        && bytes[header_len(bytes).min(bytes.len())..] == real[header_len(real)..]
}

/// Length of the safetensors header, its 8-byte length prefix included.
fn header_len(bytes: &[u8]) -> usize {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap());
    usize::try_from(n).map_or(usize::MAX, |n| n.saturating_add(8))
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, edits)) = data.split_first() else {
        return;
    };
    let real = selector % 2 == 1;
    let mut bytes = if real {
        real_bundle().to_vec()
    } else {
        tiny_bundles()[(selector as usize / 2) % 3].clone()
    };
    // Edits at positions inside the header for the real bundle (its tensor data is 27 MB
    // of weights, where a changed byte only changes a weight).
    let region = if real {
        header_len(&bytes)
    } else {
        bytes.len()
    };
    for edit in edits.chunks_exact(6).take(8) {
        let (op, value) = (edit[0], edit[5]);
        let at = u32::from_le_bytes(edit[1..5].try_into().unwrap()) as usize;
        if bytes.is_empty() {
            break;
        }
        let pos = at % region.min(bytes.len());
        match op % 6 {
            0 => bytes[pos] = value,
            1 => bytes[pos] ^= 1 << (value % 8),
            2 => bytes.insert(pos, value),
            3 => {
                bytes.drain(pos..(pos + 1 + value as usize % 16).min(bytes.len()));
            }
            // Cut anywhere (the real bundle: also inside its tensor data).
            4 => bytes.truncate(at % bytes.len()),
            // A digit changed: numbers in the JSON (offsets, shapes, sizes) stay numbers.
            _ => {
                if bytes[pos].is_ascii_digit() {
                    bytes[pos] = b'0' + value % 10;
                }
            }
        }
    }
    let info = bundle::read_info(&bytes);
    let tensors = bundle::stored_tensors(&bytes);
    if real && unchanged(&bytes, &info, &tensors) {
        // Loads as the committed bundle does (1-2 s with AddressSanitizer): nothing to learn.
        return;
    }
    let Ok(ex) = Extractor::from_bundle(&bytes) else {
        return;
    };
    assert!(
        info.is_ok(),
        "an extractor from a bundle whose metadata is unreadable"
    );
    if !real {
        // A changed model still extracts (or fails with an error) from a sentence.
        let _ = ex.extract("John Smith lives in Boston. Acme Corp is in Boston.");
    }
});
