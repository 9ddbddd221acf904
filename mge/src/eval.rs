//! Batched prediction and evaluation over prepared dataset examples.

use candle_core::Device;

use crate::align::{to_words, Example};
use crate::data::LabelSchema;
use crate::error::Result;
use crate::metrics::{EvalReport, Evaluator, SentencePrediction};
use crate::model::{Batch, MgeModel};
use crate::table::{decode, TableDecoding};

/// Decodes every example (batched by similar length; results in input order).
pub fn predict(
    model: &MgeModel,
    examples: &[Example],
    batch_size: usize,
    threshold: f32,
    pad_id: u32,
    device: &Device,
    mut on_batch: impl FnMut(usize),
) -> Result<Vec<TableDecoding>> {
    let mut order: Vec<usize> = (0..examples.len()).collect();
    order.sort_by_key(|&i| examples[i].pieces.ids.len());
    let mut out = vec![TableDecoding::default(); examples.len()];
    for chunk in order.chunks(batch_size.max(1)) {
        let seqs: Vec<&[u32]> = chunk
            .iter()
            .map(|&i| examples[i].pieces.ids.as_slice())
            .collect();
        let batch = Batch::new(&seqs, pad_id, device)?;
        let result = model.forward(&batch, None)?;
        for (k, d) in decode(&result, &batch, threshold)?.into_iter().enumerate() {
            out[chunk[k]] = d;
        }
        on_batch(chunk.len());
    }
    Ok(out)
}

/// Strict and PFN-style scores of `model` on `examples`.
pub fn evaluate(
    model: &MgeModel,
    examples: &[Example],
    schema: &LabelSchema,
    batch_size: usize,
    pad_id: u32,
    device: &Device,
    on_batch: impl FnMut(usize),
) -> Result<EvalReport> {
    let threshold = model.config.mge.threshold;
    let decoded = predict(
        model, examples, batch_size, threshold, pad_id, device, on_batch,
    )?;
    let mut ev = Evaluator::new(schema);
    for (ex, d) in examples.iter().zip(&decoded) {
        let gold = SentencePrediction::gold(&ex.sentence, schema);
        ev.add(&gold, &to_words(d, &ex.pieces));
    }
    Ok(ev.report())
}
