//! What `mge serve` is told at start: where to listen, what to serve, and its limits.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Limits that keep one request, or many, from taking the service down.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    /// Longest text in characters (Unicode scalar values), as the page allows.
    pub max_chars: usize,
    /// Most texts in one request.
    pub max_texts: usize,
    /// Extractions that run at once (threads of the pool).
    pub workers: usize,
    /// Requests that may wait for a worker; beyond `workers + queue` requests in flight the
    /// server answers `503` at once.
    pub queue: usize,
    /// Longest time one extraction request may take before it is answered with `504`.
    pub timeout: Duration,
}

/// The page's own limit on the text box (`web/src/models.rs`, `MAX_CHARS`).
pub const DEFAULT_MAX_CHARS: usize = 20_000;

impl Default for Limits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        Limits {
            max_body_bytes: 1 << 20,
            max_chars: DEFAULT_MAX_CHARS,
            max_texts: 64,
            workers: cores,
            queue: 4 * cores,
            timeout: Duration::from_secs(30),
        }
    }
}

/// A bundle to load, under the name the API knows it by.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSource {
    pub name: String,
    pub path: PathBuf,
}

impl std::str::FromStr for ModelSource {
    type Err = String;

    /// `NAME=PATH`, or a bare `PATH` named by its file stem.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, path) = match s.split_once('=') {
            Some((name, path)) => (name.trim().to_string(), PathBuf::from(path)),
            None => {
                let path = PathBuf::from(s);
                let stem = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default()
                    .to_string();
                (stem, path)
            }
        };
        if name.is_empty() {
            return Err(format!("{s:?}: the model needs a name (NAME=PATH)"));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(format!(
                "{name:?}: a model name may only hold ASCII letters, digits, '-', '_' and '.'"
            ));
        }
        if path.as_os_str().is_empty() {
            return Err(format!("{s:?}: no path after the name"));
        }
        Ok(ModelSource { name, path })
    }
}

/// Everything `mge serve` needs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub addr: SocketAddr,
    /// The built page (`dist/`); `None` serves the API only.
    pub dist: Option<PathBuf>,
    pub models: Vec<ModelSource>,
    pub limits: Limits,
    /// Run the forward passes on a GPU through wgpu (feature `gpu`) instead of the CPU.
    pub gpu: bool,
}

/// The bundles committed in the repository's `models/` folder, for when no `--model` is
/// given: those under `./models` when the server runs from a checkout, else those of the
/// checkout it was built from.
pub fn default_models() -> Vec<ModelSource> {
    let here = PathBuf::from("models");
    let built = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../models"));
    for dir in [here, built] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut found: Vec<ModelSource> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "safetensors"))
            .filter_map(|p| p.to_str().and_then(|s| s.parse().ok()))
            .collect();
        if !found.is_empty() {
            found.sort_by(|a, b| a.name.cmp(&b.name));
            // The page's default model first: it is the API's default too.
            found.sort_by_key(|m| m.name != "conll04");
            return found;
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_sources_parse() {
        let m: ModelSource = "news=models/conll04.safetensors".parse().unwrap();
        assert_eq!(m.name, "news");
        assert_eq!(m.path, PathBuf::from("models/conll04.safetensors"));
        let m: ModelSource = "/x/scierc.safetensors".parse().unwrap();
        assert_eq!(m.name, "scierc");
        assert!("=x.safetensors".parse::<ModelSource>().is_err());
        assert!("a b=x".parse::<ModelSource>().is_err());
        assert!("news=".parse::<ModelSource>().is_err());
    }

    #[test]
    fn the_committed_bundles_are_the_default() {
        let names: Vec<String> = default_models().into_iter().map(|m| m.name).collect();
        assert_eq!(names.first().map(String::as_str), Some("conll04"));
        assert!(names.iter().any(|n| n == "scierc"), "{names:?}");
    }
}
