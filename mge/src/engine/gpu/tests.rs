//! Each kernel against the CPU backend's operation on the same inputs, with sizes that are
//! not multiples of the workgroups (one row, one token, odd widths, the longest sequence),
//! and the whole model against the CPU engine for every gate ablation.
//!
//! Without a GPU adapter the tests say so and pass, unless `MGE_REQUIRE_GPU=1` (the test
//! command sets it and installs lavapipe, Mesa's Vulkan driver on the CPU).

use std::sync::OnceLock;

use super::*;
use crate::engine::cpu::Cpu;
use crate::engine::{Engine, Precision};
use crate::init::Rng;
use crate::testing::{gate_ablations, max_abs_diff, tiny_model_with_gates};

fn gpu() -> Option<&'static Gpu> {
    static GPU: OnceLock<Option<Gpu>> = OnceLock::new();
    GPU.get_or_init(|| match Gpu::new_blocking() {
        Ok(g) => Some(g),
        Err(e) if std::env::var("MGE_REQUIRE_GPU").is_ok_and(|v| v == "1") => {
            panic!("MGE_REQUIRE_GPU=1 but {e}")
        }
        Err(e) => {
            eprintln!("GPU tests skipped: {e} (MGE_REQUIRE_GPU=1 makes this a failure)");
            None
        }
    })
    .as_ref()
}

const CPU: Cpu = Cpu { int8: false };

fn random(rng: &mut Rng, n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|_| rng.normal() * scale).collect()
}

/// Weights as the q8 blocks store them, so that both backends multiply the same values
/// (rows that are not whole blocks go to the GPU as f32; a bundle gives them one scale).
fn rounded(w: &[f32], input: usize) -> Vec<f32> {
    let block = if input.is_multiple_of(Q8_BLOCK) {
        Q8_BLOCK
    } else {
        input
    };
    let (q, scales) = quantize_blocks(w, block);
    q.iter()
        .enumerate()
        .map(|(i, &v)| v as f32 * scales[i / block])
        .collect()
}

fn read(g: &Gpu, cx: Recording, t: &Tensor) -> Vec<f32> {
    g.read_blocking(cx, &[t]).unwrap().remove(0)
}

fn close(got: &[f32], want: &[f32], tol: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let scale = want.iter().fold(1f32, |m, x| m.max(x.abs()));
    let diff = max_abs_diff(got, want);
    assert!(
        diff <= tol * scale,
        "{what}: differs by {diff} (scale {scale})"
    );
}

#[test]
fn matrix_products_with_every_activation() {
    let Some(g) = gpu() else { return };
    let mut rng = Rng::new(1);
    let shapes = [
        (1, 32, 1),
        (7, 96, 65),
        (9, 600, 300),
        (13, 37, 5),
        (64, 384, 1152),
    ];
    let acts = [
        None,
        Some(Activation::GeluErf),
        Some(Activation::GeluTanh),
        Some(Activation::Relu),
    ];
    for (s, &(rows, input, output)) in shapes.iter().enumerate() {
        let w = rounded(&random(&mut rng, input * output, 0.2), input);
        let bias = (s % 2 == 0).then(|| random(&mut rng, output, 0.5));
        let x = random(&mut rng, rows * input, 1.0);
        let parts = LinearParts {
            weight: w,
            bias,
            input,
            output,
        };
        let cl = CPU.linear(parts.clone(), None).unwrap();
        let gl = g.linear(parts, None).unwrap();
        for act in acts {
            let want = CPU.matmul(&mut (), &cl, &x, rows, act).unwrap();
            let mut cx = g.record();
            let y = g
                .matmul(&mut cx, &gl, &g.tensor_from(&x), rows, act)
                .unwrap();
            close(
                &read(g, cx, &y),
                &want,
                1e-5,
                &format!("{rows}x{input}x{output} {act:?}"),
            );
        }
    }
}

#[test]
fn layer_norms_with_and_without_a_residual() {
    let Some(g) = gpu() else { return };
    let mut rng = Rng::new(2);
    for (rows, d) in [(1, 384), (3, 37), (65, 384)] {
        let p = NormParts {
            gamma: random(&mut rng, d, 1.0),
            beta: random(&mut rng, d, 0.3),
            eps: 1e-12,
        };
        let (cn, gn) = (CPU.norm(&p).unwrap(), g.norm(&p).unwrap());
        let x = random(&mut rng, rows * d, 2.0);
        let r = random(&mut rng, rows * d, 2.0);
        let want = CPU.add_norm(&mut (), x.clone(), &r, &cn).unwrap();
        let mut cx = g.record();
        let y = g
            .add_norm(&mut cx, g.tensor_from(&x), &g.tensor_from(&r), &gn)
            .unwrap();
        close(
            &read(g, cx, &y),
            &want,
            1e-5,
            &format!("add_norm {rows}x{d}"),
        );

        // The embedding: word + position rows, then the norm alone.
        let vocab = 11;
        let word = random(&mut rng, vocab * d, 1.0);
        let position = random(&mut rng, 70 * d, 1.0);
        let ids: Vec<u32> = (0..rows.min(70)).map(|i| (i * 7 % vocab) as u32).collect();
        let ce = CPU.embeddings(word.clone(), position.clone(), d).unwrap();
        let ge = g.embeddings(word, position, d).unwrap();
        let want = CPU.embed(&mut (), &ce, &cn, &ids).unwrap();
        let mut cx = g.record();
        let y = g.embed(&mut cx, &ge, &gn, &ids).unwrap();
        close(&read(g, cx, &y), &want, 1e-5, &format!("embed {rows}x{d}"));
    }
}

#[test]
fn attention_from_one_token_to_the_longest_sequence() {
    let Some(g) = gpu() else { return };
    let mut rng = Rng::new(3);
    for (t, heads, d) in [(1, 12, 384), (2, 2, 8), (65, 12, 384), (512, 4, 64)] {
        let qkv = random(&mut rng, t * 3 * d, 1.0);
        let want = CPU.attention(&mut (), &qkv, t, heads, d).unwrap();
        let mut cx = g.record();
        let y = g
            .attention(&mut cx, &g.tensor_from(&qkv), t, heads, d)
            .unwrap();
        close(&read(g, cx, &y), &want, 1e-5, &format!("attention t={t}"));
    }
    let mut cx = g.record();
    let wide = g.tensor_from(&[0.0; 3 * 2 * 129]);
    assert!(
        g.attention(&mut cx, &wide, 1, 2, 2 * 129).is_err(),
        "heads over MAX_HEAD_DIM"
    );
}

#[test]
fn gates_and_their_means_with_every_ablation() {
    let Some(g) = gpu() else { return };
    let mut rng = Rng::new(4);
    let names = crate::model::PROJECTIONS;
    for drop in [None, Some(2), Some(3), Some(4), Some(5), Some(45)] {
        let kept: Vec<&str> = names
            .iter()
            .enumerate()
            .filter(|&(i, _)| drop != Some(i) && !(drop == Some(45) && i >= 4))
            .map(|(_, n)| *n)
            .collect();
        for (n, hidden) in [(1, 300), (13, 37)] {
            let layout = GateLayout::new(&kept, hidden).unwrap();
            let z = random(&mut rng, n * layout.width, 2.0);
            let want = CPU.gates(&mut (), &z, n, &layout, true).unwrap();
            let mut cx = g.record();
            let got = g
                .gates(&mut cx, &g.tensor_from(&z), n, &layout, true)
                .unwrap();
            let means = got.means.as_ref().unwrap();
            let v = g.read_blocking(cx, &[&got.ner, &got.re, means]).unwrap();
            let what = format!("gates without {drop:?}, n={n}");
            close(&v[0], &want.ner, 1e-5, &what);
            close(&v[1], &want.re, 1e-5, &what);
            let want_means = want.means.as_ref().unwrap();
            for (k, g) in layout.gates().into_iter().enumerate() {
                if g.is_some() {
                    let row = k * n..(k + 1) * n;
                    close(&v[2][row.clone()], &want_means[row], 1e-5, &what);
                }
            }
        }
    }
}

#[test]
fn table_heads_of_odd_sizes() {
    let Some(g) = gpu() else { return };
    let mut rng = Rng::new(5);
    for (n, hidden, labels) in [(1, 300, 4), (5, 37, 5), (17, 300, 7), (70, 600, 32)] {
        let norm = NormParts {
            gamma: random(&mut rng, hidden, 1.0),
            beta: random(&mut rng, hidden, 0.3),
            eps: 1e-5,
        };
        let tag = random(&mut rng, labels * hidden, 0.2);
        let bias = random(&mut rng, labels, 1.0);
        let ct = CPU.tagger(&norm, tag.clone(), bias.clone()).unwrap();
        let gt = g.tagger(&norm, tag, bias).unwrap();
        let a = random(&mut rng, n * hidden, 1.0);
        let b = random(&mut rng, n * hidden, 1.0);
        for upper in [true, false] {
            let want = CPU.table(&mut (), &ct, &a, &b, n, upper).unwrap();
            let mut cx = g.record();
            let y = g
                .table(
                    &mut cx,
                    &gt,
                    &g.tensor_from(&a),
                    &g.tensor_from(&b),
                    n,
                    upper,
                )
                .unwrap();
            close(
                &read(g, cx, &y),
                &want,
                1e-5,
                &format!("table n={n} upper={upper}"),
            );
        }
    }
}

#[test]
fn the_whole_model_matches_the_cpu_engine_with_every_gate_ablation() {
    if gpu().is_none() {
        return;
    }
    for (v, gates) in gate_ablations().into_iter().enumerate() {
        let (cfg, mut map) = tiny_model_with_gates(gates, 20 + v as u64).unwrap();
        // Matrices as a q8 bundle stores them, so that both backends see the same weights.
        for t in map.values_mut() {
            if let Ok((rows, cols)) = t.dims2() {
                let w = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
                let r = rounded(&w, cols);
                *t = candle_core::Tensor::from_vec(r, (rows, cols), &candle_core::Device::Cpu)
                    .unwrap();
            }
        }
        let model = MgeModel::load(&map, &cfg).unwrap();
        let cpu = Engine::with_precision(&model, Precision::F32).unwrap();
        let engine = GpuEngine::new(Gpu::new_blocking().unwrap(), &model).unwrap();
        for ids in [
            vec![1u32, 2],
            vec![1, 7, 2],
            vec![1, 5, 9, 12, 3, 30, 31, 8, 2],
        ] {
            let want = cpu.forward(&ids, true, None).unwrap();
            let got = engine.forward_blocking(&ids, true).unwrap();
            assert_eq!(got.n, want.n);
            // The bound for probabilities; the kernels alone agree to 1e-5 of scale.
            assert!(max_abs_diff(&got.ner, &want.ner) < 1e-3, "variant {v}: ner");
            assert!(max_abs_diff(&got.re, &want.re) < 1e-3, "variant {v}: re");
            let (a, b) = (got.gates.unwrap(), want.gates.unwrap());
            for (x, y) in [
                (a.entity_task, b.entity_task),
                (a.relation_task, b.relation_task),
                (a.entity_interaction, b.entity_interaction),
                (a.relation_interaction, b.relation_interaction),
            ] {
                assert_eq!(x.is_some(), y.is_some(), "variant {v}: gates present");
                if let (Some(x), Some(y)) = (x, y) {
                    assert!(max_abs_diff(&x, &y) < 1e-4, "variant {v}: gate means");
                }
            }
        }
        assert!(engine.forward_blocking(&[1], false).is_err());
        assert!(engine.forward_blocking(&[1, 400, 2], false).is_err());
    }
}
