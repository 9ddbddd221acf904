//! How far the int8 arithmetic of this processor moves a bundle's tables from f32: runs
//! every sentence of a dataset through both and counts the table cells whose decision
//! (probability over 0.5) differs, with the mean and largest change of a probability.
//! Decisions that flip are what an F1 score counts, but one F1 on a few hundred sentences
//! moves by half a point when a handful of them do; the count of flips and the mean change
//! tell two int8 codings apart where the F1 scores cannot.
//!
//! ```sh
//! [MGE_ISA=avx2 MGE_VNNI=0] cargo run --release -p mge --example int8_drift -- BUNDLE DATA.json
//! ```
//!
//! Prints one JSON line.

use mge::engine::{Engine, Precision};
use mge::tokenize::SubwordTokenizer;

#[derive(Default)]
struct Drift {
    cells: usize,
    flips: usize,
    positives: usize,
    sum_abs: f64,
    max_abs: f64,
}

impl Drift {
    /// Adds the cells of one table (f32 `want`, int8 `got`); cells f32 did not compute are
    /// 0 in both and count for nothing.
    fn add(&mut self, want: &[f32], got: &[f32]) {
        for (&w, &g) in want.iter().zip(got) {
            if w == 0.0 && g == 0.0 {
                continue;
            }
            let d = (w - g).abs() as f64;
            self.cells += 1;
            self.sum_abs += d;
            self.max_abs = self.max_abs.max(d);
            self.flips += usize::from((w > 0.5) != (g > 0.5));
            self.positives += usize::from(w > 0.5);
        }
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "cells": self.cells,
            "f32_positives": self.positives,
            "flips": self.flips,
            "mean_abs": self.sum_abs / self.cells.max(1) as f64,
            "max_abs": self.max_abs,
        })
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, bundle, data] = args.as_slice() else {
        return Err("usage: int8_drift BUNDLE DATA.json".into());
    };
    let bytes = std::fs::read(bundle)?;
    let (info, tensors) = mge::bundle::read_bundle(&bytes, &candle_core::Device::Cpu)?;
    let model = mge::model::MgeModel::load(&tensors, &info.config)?;
    let tokenizer = SubwordTokenizer::from_bytes(info.tokenizer_json.as_bytes())?;
    let sentences = mge::data::load_dataset(std::path::Path::new(data))?;
    let f32 = Engine::with_precision(&model, Precision::F32)?;
    let int8 = Engine::with_precision(&model, Precision::Int8)?;
    let max_len = f32.max_positions();
    let (mut ner, mut re) = (Drift::default(), Drift::default());
    for s in &sentences {
        let pieces = tokenizer.encode_words(&s.tokens, max_len)?;
        let want = f32.forward(&pieces.ids, false, None)?;
        let got = int8.forward(&pieces.ids, false, None)?;
        ner.add(&want.ner, &got.ner);
        re.add(&want.re, &got.re);
    }
    println!(
        "{}",
        serde_json::json!({
            "sentences": sentences.len(),
            "kernels": mge::engine::isa::describe(true),
            "entities": ner.json(),
            "relations": re.json(),
        })
    );
    Ok(())
}
