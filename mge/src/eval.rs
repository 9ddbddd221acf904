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

/// Strict and PFN-style scores of the inference engine (the path `mge extract`, the server
/// and the browser run) on `examples`, one sequence at a time; `on_example` is called after
/// each. With the same weights and f32 arithmetic this gives [`evaluate`]'s scores (the
/// engine's parity with the training model is tested); with int8 arithmetic it measures
/// what that costs.
pub fn evaluate_engine(
    engine: &crate::engine::Engine,
    examples: &[Example],
    schema: &LabelSchema,
    threshold: f32,
    mut on_example: impl FnMut(usize),
) -> Result<EvalReport> {
    let mut ev = Evaluator::new(schema);
    for (n, ex) in examples.iter().enumerate() {
        let tables = engine.forward(&ex.pieces.ids, false, None)?;
        let gold = SentencePrediction::gold(&ex.sentence, schema);
        ev.add(&gold, &to_words(&tables.decode(threshold), &ex.pieces));
        on_example(n + 1);
    }
    Ok(ev.report())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, Precision};
    use crate::testing::{tiny_model, toy_sentences, vocabulary};
    use crate::tokenize::{test_tokenizer_json, SubwordTokenizer};

    /// The engine in f32 scores exactly what the training model scores, on predictions that
    /// are not empty (a random model at its threshold reports many cells).
    #[test]
    fn the_engine_scores_what_the_training_model_scores() {
        let sentences = toy_sentences();
        let words = vocabulary(&sentences);
        let refs: Vec<&str> = words.iter().map(String::as_str).collect();
        let tok = SubwordTokenizer::from_bytes(test_tokenizer_json(&refs).as_bytes()).unwrap();
        let (cfg, map) = tiny_model(words.len() + 4, 3).unwrap();
        let model = MgeModel::load(&map, &cfg).unwrap();
        let examples = crate::align::examples(&sentences, &cfg.labels, &tok, 100, 60).unwrap();
        let want = evaluate(
            &model,
            &examples,
            &cfg.labels,
            4,
            tok.pad_id(),
            &Device::Cpu,
            |_| {},
        )
        .unwrap();
        let engine = Engine::with_precision(&model, Precision::F32).unwrap();
        let mut seen = 0;
        let threshold = model.config.mge.threshold;
        let got =
            evaluate_engine(&engine, &examples, &cfg.labels, threshold, |n| seen = n).unwrap();
        assert_eq!(seen, examples.len());
        assert!(got.ner.pred > 0 && got.re_strict.pred > 0, "{:?}", got.ner);
        assert_eq!(
            serde_json::to_string(&got).unwrap(),
            serde_json::to_string(&want).unwrap()
        );
    }
}
