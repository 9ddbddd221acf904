//! Named tensors with PyTorch-compatible names, and a prefixed view used to build layers.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};

use crate::error::{Error, Result};

/// All tensors of a model by their checkpoint name.
pub type TensorMap = HashMap<String, Tensor>;

/// A view of a [`TensorMap`] under a name prefix (`bert.encoder.layer.0.`…).
#[derive(Clone, Copy)]
pub struct Weights<'a> {
    map: &'a TensorMap,
    prefix: &'a str,
}

/// An owned prefix so that nested views can be created without lifetimes getting in the way.
pub struct Scope<'a> {
    map: &'a TensorMap,
    prefix: String,
}

impl<'a> Weights<'a> {
    pub fn new(map: &'a TensorMap) -> Self {
        Self { map, prefix: "" }
    }

    pub fn pp(&self, name: &str) -> Scope<'a> {
        Scope {
            map: self.map,
            prefix: join(self.prefix, name),
        }
    }

    pub fn get(&self, name: &str, shape: &[usize]) -> Result<Tensor> {
        get(self.map, &join(self.prefix, name), shape)
    }
}

impl<'a> Scope<'a> {
    pub fn pp(&self, name: &str) -> Scope<'a> {
        Scope {
            map: self.map,
            prefix: join(&self.prefix, name),
        }
    }

    pub fn get(&self, name: &str, shape: &[usize]) -> Result<Tensor> {
        get(self.map, &join(&self.prefix, name), shape)
    }

    /// A layer norm's scale, accepting the old `gamma` name of early BERT checkpoints.
    pub fn get_either(&self, names: &[&str], shape: &[usize]) -> Result<Tensor> {
        for name in names {
            let full = join(&self.prefix, name);
            if self.map.contains_key(&full) {
                return get(self.map, &full, shape);
            }
        }
        Err(Error::MissingWeight(join(&self.prefix, names[0])))
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

fn get(map: &TensorMap, name: &str, shape: &[usize]) -> Result<Tensor> {
    let t = map
        .get(name)
        .ok_or_else(|| Error::MissingWeight(name.to_string()))?;
    if t.dims() != shape {
        return Err(Error::WeightShape {
            name: name.to_string(),
            expected: shape.to_vec(),
            found: t.dims().to_vec(),
        });
    }
    Ok(t.clone())
}

/// Reads a safetensors buffer into f32 tensors on `device`.
pub fn load_safetensors(bytes: &[u8], device: &Device) -> Result<TensorMap> {
    let st = safetensors::SafeTensors::deserialize(bytes)?;
    let mut map = TensorMap::new();
    for (name, view) in st.tensors() {
        let t = candle_core::safetensors::Load::load(&view, device)?;
        let t = if t.dtype() == DType::F32 {
            t
        } else {
            t.to_dtype(DType::F32)?
        };
        map.insert(name.to_string(), t);
    }
    Ok(map)
}

/// The encoder weights of a Hugging Face BERT checkpoint renamed under `bert.` (whether or not
/// the file used that prefix), leaving out buffers such as `embeddings.position_ids` and any
/// pooler or task head.
pub fn encoder_tensors(raw: TensorMap) -> TensorMap {
    let mut out = TensorMap::new();
    for (name, t) in raw {
        let name = name.strip_prefix("bert.").unwrap_or(&name).to_string();
        let weight = [".weight", ".bias", ".gamma", ".beta"]
            .iter()
            .any(|s| name.ends_with(s));
        if weight && (name.starts_with("embeddings.") || name.starts_with("encoder.")) {
            out.insert(format!("bert.{name}"), t);
        }
    }
    out
}

/// Serializes named tensors to safetensors bytes (CPU copies, contiguous).
pub fn serialize_safetensors(tensors: &[(String, &Tensor)]) -> Result<Vec<u8>> {
    let owned: Vec<(String, Tensor)> = tensors
        .iter()
        .map(|(k, v)| Ok((k.clone(), v.to_device(&Device::Cpu)?.contiguous()?)))
        .collect::<Result<_>>()?;
    let views: Vec<(String, &Tensor)> = owned.iter().map(|(k, v)| (k.clone(), v)).collect();
    Ok(safetensors::tensor::serialize(views, None)?)
}
