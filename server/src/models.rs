//! The models a server holds: bundles read and built once at start, shared read-only by
//! every request (an `Arc`, no lock: a failed request cannot leave a model half-changed).

use std::sync::Arc;

use mge::extract::Extractor;
use serde::Serialize;
use utoipa::ToSchema;

use crate::config::ModelSource;
use crate::ServeError;

/// What `GET /api/models` says of a model.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct ModelDescription {
    /// The name requests use (`"model"`).
    pub name: String,
    /// The dataset it was trained on.
    pub dataset: String,
    pub entity_types: Vec<String>,
    pub relation_types: Vec<String>,
    /// How its weights are stored (`q8`, `f16`, `f32`).
    pub quantization: String,
    /// The threshold used when a request gives none.
    pub default_threshold: f32,
    /// Whether overlapping entities may be reported (models trained on nested data; mentions
    /// of one type overlap only where the training data has such, which ADE's has not).
    pub nested_entities: bool,
    /// The command that trained it.
    pub command: String,
    /// Scores recorded at training time (the trainer's report), as the bundle stores them.
    #[schema(value_type = Object)]
    pub metrics: serde_json::Value,
    /// Size of the bundle in bytes.
    pub bytes: u64,
}

pub struct ModelEntry {
    pub description: ModelDescription,
    pub extractor: Arc<Extractor>,
}

/// A bundle's extractor, on the CPU or (with the `gpu` feature) on a GPU.
fn build(bytes: &[u8], gpu: bool) -> Result<Extractor, mge::extract::LoadError> {
    if !gpu {
        return Extractor::from_bundle(bytes);
    }
    #[cfg(feature = "gpu")]
    {
        let device = mge::engine::gpu::Gpu::new_blocking()?;
        Extractor::from_bundle_gpu(bytes, device)
    }
    #[cfg(not(feature = "gpu"))]
    Err(mge::extract::LoadError::Model(mge::Error::Gpu(
        "this server was built without the `gpu` feature".into(),
    )))
}

/// The loaded models, in the order given; the first is the default.
pub struct Models {
    entries: Vec<ModelEntry>,
}

impl Models {
    /// Reads and builds every bundle. Any failure stops the start: a server that silently
    /// lacks a model it was told to serve would answer `unknown model` later.
    pub fn load(sources: &[ModelSource]) -> Result<Self, ServeError> {
        Self::load_on(sources, false)
    }

    /// [`load`](Self::load), with the forward passes on a GPU (through wgpu) when `gpu`
    /// is set: each model gets the first adapter there is, or the start fails.
    pub fn load_on(sources: &[ModelSource], gpu: bool) -> Result<Self, ServeError> {
        if sources.is_empty() {
            return Err(ServeError::NoModels);
        }
        let mut entries: Vec<ModelEntry> = Vec::with_capacity(sources.len());
        for source in sources {
            if entries.iter().any(|e| e.description.name == source.name) {
                return Err(ServeError::DuplicateModel(source.name.clone()));
            }
            let bytes = std::fs::read(&source.path).map_err(|e| ServeError::ReadModel {
                name: source.name.clone(),
                path: source.path.clone(),
                source: e,
            })?;
            let extractor = build(&bytes, gpu).map_err(|e| ServeError::LoadModel {
                name: source.name.clone(),
                path: source.path.clone(),
                source: Box::new(e),
            })?;
            entries.push(ModelEntry::new(&source.name, extractor, bytes.len() as u64));
        }
        Ok(Models { entries })
    }

    /// Models built elsewhere (tests).
    pub fn from_entries(entries: Vec<ModelEntry>) -> Result<Self, ServeError> {
        if entries.is_empty() {
            return Err(ServeError::NoModels);
        }
        Ok(Models { entries })
    }

    pub fn get(&self, name: Option<&str>) -> Option<&ModelEntry> {
        match name {
            None => self.entries.first(),
            Some(n) => self.entries.iter().find(|e| e.description.name == n),
        }
    }

    pub fn names(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|e| e.description.name.clone())
            .collect()
    }

    pub fn descriptions(&self) -> Vec<ModelDescription> {
        self.entries.iter().map(|e| e.description.clone()).collect()
    }
}

impl ModelEntry {
    pub fn new(name: &str, extractor: Extractor, bytes: u64) -> Self {
        let info = extractor.info();
        let description = ModelDescription {
            name: name.to_string(),
            dataset: info
                .map(|i| i.provenance.dataset.clone())
                .unwrap_or_default(),
            entity_types: extractor.entity_types().to_vec(),
            relation_types: extractor.relation_types().to_vec(),
            quantization: info
                .map(|i| i.quantization.to_string())
                .unwrap_or_else(|| "f32".into()),
            default_threshold: extractor.threshold,
            nested_entities: !extractor.flat_entities,
            command: info
                .map(|i| i.provenance.command.clone())
                .unwrap_or_default(),
            metrics: info
                .map(|i| i.provenance.metrics.clone())
                .unwrap_or(serde_json::Value::Null),
            bytes,
        };
        ModelEntry {
            description,
            extractor: Arc::new(extractor),
        }
    }
}

#[cfg(all(test, feature = "gpu"))]
mod tests {
    use super::*;

    /// `mge serve --backend wgpu`: the committed news model on the GPU (lavapipe here) finds
    /// what the CPU finds.
    #[test]
    fn models_on_the_gpu_extract_what_the_cpu_extracts() {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../models/conll04.safetensors");
        let sources = [ModelSource {
            name: "news".into(),
            path,
        }];
        let on_gpu = match Models::load_on(&sources, true) {
            Ok(m) => m,
            Err(e) if std::env::var("MGE_REQUIRE_GPU").as_deref() == Ok("1") => {
                panic!("MGE_REQUIRE_GPU=1 but {e}")
            }
            Err(e) => {
                eprintln!("skipped: {e} (MGE_REQUIRE_GPU=1 makes this a failure)");
                return;
            }
        };
        let on_cpu = Models::load(&sources).unwrap();
        let text = "Maria Gonzalez works for the United Nations in Geneva.";
        let run = |m: &Models| {
            let entry = m.get(None).unwrap();
            assert!(entry.extractor.runner().describe().len() > 3);
            let r = entry.extractor.extract(text).unwrap();
            let ents: Vec<_> = r
                .entities
                .iter()
                .map(|e| (e.start, e.end, e.label.clone()))
                .collect();
            (ents, r.relations.len(), entry.extractor.runner().describe())
        };
        let (a, b) = (run(&on_gpu), run(&on_cpu));
        assert!(
            a.2.starts_with("wgpu") && b.2.starts_with("cpu"),
            "{} / {}",
            a.2,
            b.2
        );
        assert!(!a.0.is_empty());
        assert_eq!((a.0, a.1), (b.0, b.1));
    }
}
