//! The model calls the worker makes, in one place (the `mge` crate's extraction API), so
//! the rest of the demo does not depend on where those types live.

pub use mge::engine::GateMeans;
pub use mge::extract::{
    Analysis, EntityMention, Extraction, Extractor, LoadError, RelationMention, SentenceTables,
    Timings,
};

/// A clock in milliseconds for the extractor's timings.
pub type Clock<'a> = &'a (dyn Fn() -> f64 + Sync);

/// Builds an extractor from a bundle's bytes.
pub fn load(bytes: &[u8]) -> Result<Extractor, LoadError> {
    Extractor::from_bundle(bytes)
}

/// Builds an extractor and the same model on `gpu` from one reading of a bundle.
pub fn load_also_on(
    bytes: &[u8],
    gpu: mge::engine::gpu::Gpu,
) -> Result<(Extractor, mge::Result<mge::engine::gpu::GpuEngine>), LoadError> {
    Extractor::from_bundle_also_on(bytes, mge::engine::Precision::Auto, gpu)
}

/// Extraction of several texts with the time each stage took.
pub fn extract_many_timed(
    ex: &Extractor,
    texts: &[&str],
    clock: Clock,
) -> mge::Result<(Vec<Extraction>, Timings)> {
    ex.extract_many_timed(texts, clock)
}

/// Extraction of one text with its tables and gate activations (teaching view).
pub fn analyze(ex: &Extractor, text: &str, clock: Clock) -> mge::Result<Analysis> {
    ex.analyze(text, clock)
}

pub fn entity_types(ex: &Extractor) -> Vec<String> {
    ex.entity_types().to_vec()
}

pub fn relation_types(ex: &Extractor) -> Vec<String> {
    ex.relation_types().to_vec()
}
