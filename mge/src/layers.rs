//! Small building blocks shared by the encoder and the MGE layers.

use candle_core::Tensor;

use crate::error::Result;
use crate::ops;
use crate::weights::Scope;

/// A dense layer `y = x Wᵀ + b` with a PyTorch-layout `[out, in]` weight.
#[derive(Debug, Clone)]
pub struct Linear {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
}

impl Linear {
    pub fn load(s: &Scope, input: usize, output: usize) -> Result<Self> {
        Ok(Self {
            weight: s.get("weight", &[output, input])?,
            bias: Some(s.get("bias", &[output])?),
        })
    }

    /// Several layers with the same input applied as one matmul (outputs concatenated).
    pub fn fuse(parts: &[&Linear]) -> Result<Self> {
        let weights: Vec<&Tensor> = parts.iter().map(|l| &l.weight).collect();
        let biases: Option<Vec<&Tensor>> = parts.iter().map(|l| l.bias.as_ref()).collect();
        Ok(Self {
            weight: Tensor::cat(&weights, 0)?,
            bias: match biases {
                Some(b) => Some(Tensor::cat(&b, 0)?),
                None => None,
            },
        })
    }

    pub fn out_dim(&self) -> usize {
        self.weight.dims()[0]
    }

    /// Applies the layer to `x` of shape `[.., in]`, as one 2-D matmul.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let dims = x.dims().to_vec();
        let input = *dims.last().unwrap_or(&0);
        let rows = x.elem_count() / input.max(1);
        let x2 = x.reshape((rows, input))?;
        let mut y = x2.matmul(&self.weight.t()?)?;
        if let Some(b) = &self.bias {
            y = y.broadcast_add(b)?;
        }
        let mut out_dims = dims;
        if let Some(last) = out_dims.last_mut() {
            *last = self.out_dim();
        }
        Ok(y.reshape(out_dims)?)
    }
}

/// Layer normalization over the last dimension.
#[derive(Debug, Clone)]
pub struct LayerNorm {
    pub weight: Tensor,
    pub bias: Tensor,
    pub eps: f64,
}

impl LayerNorm {
    pub fn load(s: &Scope, dim: usize, eps: f64) -> Result<Self> {
        Ok(Self {
            weight: s.get_either(&["weight", "gamma"], &[dim])?,
            bias: s.get_either(&["bias", "beta"], &[dim])?,
            eps,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        ops::layer_norm(x, &self.weight, &self.bias, self.eps)
    }
}
