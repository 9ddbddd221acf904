//! Arbitrary bytes as a model bundle: what `mge inspect`, `mge extract --model` and the
//! browser demo (a file the user picks) read. Errors are fine, panics are bugs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let info = mge::bundle::read_info(data);
    let _ = mge::bundle::stored_tensors(data);
    let model = mge::extract::Extractor::from_bundle(data);
    // A bundle that builds an extractor has readable metadata.
    if model.is_ok() {
        assert!(info.is_ok());
    }
});
