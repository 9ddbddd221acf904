//! The arithmetic of `mge check-step`: how far one training step on a tested device is from
//! the same step on a reference device — the loss, each parameter's gradient, and each
//! parameter's change in one AdamW update — and whether that is within a [`Tolerance`].
//!
//! Every per-tensor test has the form of `allclose` on norms,
//! `‖a − b‖ ≤ rel · ‖b‖ + floor · G`, with `b` the reference, `a` the tested values and `G`
//! the global norm of the reference over all tensors. The relative term carries the check
//! for every tensor that matters; the floor is there for tensors whose exact value is 0 and
//! which hold only rounding noise (the gradient of the attention key bias is one: adding the
//! same vector to every key shifts each row of scores by a constant, which softmax ignores),
//! where a relative difference is noise over noise.

use std::collections::HashMap;

use serde::Serialize;
use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum CompareError {
    #[error("`{name}`: {reference} values on the reference side but {tested} on the tested side")]
    Length {
        name: String,
        reference: usize,
        tested: usize,
    },
    #[error("`{name}` is on the {side} side only")]
    Unpaired { name: String, side: &'static str },
}

/// How close the tested step must be to the reference step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Tolerance {
    /// Name of the preset (`exact`, `f32`, `tf32`).
    pub name: &'static str,
    /// Largest `|loss_a − loss_b| / |loss_b|`.
    pub loss_rel: f64,
    /// Per tensor, `‖g_a − g_b‖ ≤ grad_rel · ‖g_b‖ + grad_floor · G`.
    pub grad_rel: f64,
    pub grad_floor: f64,
    /// Smallest cosine similarity of a tensor's two gradients; checked where the relative
    /// term of the bound is the larger one (`grad_rel · ‖g_b‖ > grad_floor · G`), that is
    /// where the gradient is above noise level.
    pub min_cosine: f64,
    /// Per tensor, for the update `Δθ = θ_after − θ_before`:
    /// `‖Δ_a − Δ_b‖ ≤ update_rel · ‖Δ_b‖ + update_floor · U`, `U` the global update norm.
    pub update_rel: f64,
    pub update_floor: f64,
}

impl Tolerance {
    /// The same code on the same kind of device: bit for bit.
    pub const EXACT: Tolerance = Tolerance {
        name: "exact",
        loss_rel: 0.0,
        grad_rel: 0.0,
        grad_floor: 0.0,
        min_cosine: 1.0,
        update_rel: 0.0,
        update_floor: 0.0,
    };

    /// f32 on both sides, different kernels and reduction orders (CPU against CUDA with
    /// TF32 off, or the fused CPU kernels against the composed ops). Each f32 sum or product
    /// of `k` terms is off by about `√k · 6e-8` relative; through the six encoder layers
    /// forward and back that grows to 1e-6…1e-5 relative per gradient tensor. The bounds
    /// below leave a factor of about 100 over that, and still catch any real mistake in a
    /// kernel (a wrong sign, index, mask or scale moves a tensor by 1e-2 or more).
    /// AdamW's first step moves each element by about `lr · g/|g|`, so an element whose
    /// gradient is at rounding-noise level can move either way: updates get a looser
    /// relative bound than gradients.
    pub const F32: Tolerance = Tolerance {
        name: "f32",
        loss_rel: 1e-4,
        grad_rel: 1e-3,
        grad_floor: 1e-7,
        min_cosine: 0.9999,
        update_rel: 1e-2,
        update_floor: 1e-4,
    };

    /// f32 matrix products on CUDA with TF32 tensor cores (10-bit mantissa inputs, f32
    /// accumulation: each product is off by up to about 5e-4 relative), against f32.
    pub const TF32: Tolerance = Tolerance {
        name: "tf32",
        loss_rel: 1e-3,
        grad_rel: 3e-2,
        grad_floor: 1e-5,
        min_cosine: 0.999,
        update_rel: 1e-1,
        update_floor: 1e-3,
    };
}

/// One side of the comparison, each list by parameter name.
#[derive(Debug, Clone, Default)]
pub struct StepResult {
    pub loss: f64,
    pub gradients: Vec<(String, Vec<f32>)>,
    /// `θ_after − θ_before` of one optimizer step.
    pub updates: Vec<(String, Vec<f32>)>,
}

/// The difference of one tensor on the two sides.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TensorDiff {
    pub name: String,
    pub elements: usize,
    pub reference_norm: f64,
    pub tested_norm: f64,
    /// `‖a − b‖`.
    pub diff_norm: f64,
    /// Largest `|a_i − b_i|`.
    pub max_abs: f64,
    /// `‖a − b‖ / ‖b‖` (0 when both are 0; infinite, written as null, when only `b` is 0).
    pub rel_l2: f64,
    /// `a · b / (‖a‖ ‖b‖)`; 1 when the two are equal, 0 when one of them is 0.
    pub cosine: f64,
    /// The bound `diff_norm` must stay under.
    pub allowed: f64,
    /// `diff_norm / allowed`: how much of the bound is used (≤ 1 passes).
    pub ratio: f64,
    /// Whether the cosine was checked (the tensor is above noise level).
    pub cosine_checked: bool,
    /// No NaN or infinity on either side.
    pub finite: bool,
    pub within: bool,
}

/// The loss on the two sides.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LossDiff {
    pub reference: f64,
    pub tested: f64,
    pub abs: f64,
    pub rel: f64,
    pub within: bool,
}

/// The full comparison of one step.
#[derive(Debug, Clone, Serialize)]
pub struct StepComparison {
    pub tolerance: Tolerance,
    pub loss: LossDiff,
    pub reference_gradient_norm: f64,
    pub tested_gradient_norm: f64,
    pub gradients: Vec<TensorDiff>,
    pub updates: Vec<TensorDiff>,
    /// One line for each value outside its bound.
    pub failures: Vec<String>,
    pub passed: bool,
}

impl StepComparison {
    /// The `n` tensors that use the most of their bound, worst first.
    pub fn worst(list: &[TensorDiff], n: usize) -> Vec<&TensorDiff> {
        let mut v: Vec<&TensorDiff> = list.iter().collect();
        // Non-finite tensors first, then by ratio (NaN ratios, from 0/0, count as 0).
        let key = |d: &TensorDiff| {
            if !d.finite {
                f64::INFINITY
            } else if d.ratio.is_nan() {
                0.0
            } else {
                d.ratio
            }
        };
        v.sort_by(|a, b| key(b).total_cmp(&key(a)));
        v.truncate(n);
        v
    }
}

struct Sums {
    ref_sq: f64,
    test_sq: f64,
    diff_sq: f64,
    dot: f64,
    max_abs: f64,
    finite: bool,
}

fn sums(reference: &[f32], tested: &[f32]) -> Sums {
    let mut s = Sums {
        ref_sq: 0.0,
        test_sq: 0.0,
        diff_sq: 0.0,
        dot: 0.0,
        max_abs: 0.0,
        finite: true,
    };
    for (&b, &a) in reference.iter().zip(tested) {
        if !a.is_finite() || !b.is_finite() {
            s.finite = false;
            continue;
        }
        let (a, b) = (a as f64, b as f64);
        let d = a - b;
        s.ref_sq += b * b;
        s.test_sq += a * a;
        s.diff_sq += d * d;
        s.dot += a * b;
        s.max_abs = s.max_abs.max(d.abs());
    }
    s
}

/// A tensor's name, reference values and tested values.
type Pair<'a> = (&'a str, &'a [f32], &'a [f32]);

/// Pairs the lists by name; an error when a name is on one side only or lengths differ.
fn paired<'a>(
    reference: &'a [(String, Vec<f32>)],
    tested: &'a [(String, Vec<f32>)],
) -> Result<Vec<Pair<'a>>, CompareError> {
    let by_name: HashMap<&str, &[f32]> = tested
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    if let Some((n, _)) = tested
        .iter()
        .find(|(n, _)| !reference.iter().any(|(r, _)| r == n))
    {
        return Err(CompareError::Unpaired {
            name: n.clone(),
            side: "tested",
        });
    }
    reference
        .iter()
        .map(|(name, b)| {
            let a = by_name
                .get(name.as_str())
                .ok_or_else(|| CompareError::Unpaired {
                    name: name.clone(),
                    side: "reference",
                })?;
            if a.len() != b.len() {
                return Err(CompareError::Length {
                    name: name.clone(),
                    reference: b.len(),
                    tested: a.len(),
                });
            }
            Ok((name.as_str(), b.as_slice(), *a))
        })
        .collect()
}

/// Compares every tensor of two lists with the bound `‖a − b‖ ≤ rel · ‖b‖ + floor · G`.
/// Returns the diffs and the two global norms (reference, tested).
pub fn compare_tensors(
    reference: &[(String, Vec<f32>)],
    tested: &[(String, Vec<f32>)],
    rel: f64,
    floor: f64,
    min_cosine: f64,
) -> Result<(Vec<TensorDiff>, f64, f64), CompareError> {
    let pairs = paired(reference, tested)?;
    let all: Vec<Sums> = pairs.iter().map(|(_, b, a)| sums(b, a)).collect();
    let global_ref = all.iter().map(|s| s.ref_sq).sum::<f64>().sqrt();
    let global_test = all.iter().map(|s| s.test_sq).sum::<f64>().sqrt();
    let diffs = pairs
        .iter()
        .zip(&all)
        .map(|((name, b, _), s)| {
            let (nb, na, nd) = (s.ref_sq.sqrt(), s.test_sq.sqrt(), s.diff_sq.sqrt());
            let rel_l2 = if nd == 0.0 {
                0.0
            } else if nb == 0.0 {
                f64::INFINITY
            } else {
                nd / nb
            };
            let cosine = if s.max_abs == 0.0 && nb > 0.0 {
                1.0
            } else if na == 0.0 || nb == 0.0 {
                if na == nb {
                    1.0
                } else {
                    0.0
                }
            } else {
                s.dot / (na * nb)
            };
            let allowed = rel * nb + floor * global_ref;
            let ratio = if nd == 0.0 { 0.0 } else { nd / allowed };
            let cosine_checked = rel > 0.0 && rel * nb > floor * global_ref;
            let within = s.finite && nd <= allowed && (!cosine_checked || cosine >= min_cosine);
            TensorDiff {
                name: name.to_string(),
                elements: b.len(),
                reference_norm: nb,
                tested_norm: na,
                diff_norm: nd,
                max_abs: s.max_abs,
                rel_l2,
                cosine,
                allowed,
                ratio,
                cosine_checked,
                finite: s.finite,
                within,
            }
        })
        .collect();
    Ok((diffs, global_ref, global_test))
}

fn describe(kind: &str, d: &TensorDiff) -> String {
    if !d.finite {
        format!("{kind} of {}: NaN or infinity", d.name)
    } else {
        format!(
            "{kind} of {}: difference {:.3e} over the bound {:.3e} (relative {:.3e}, cosine {:.7})",
            d.name, d.diff_norm, d.allowed, d.rel_l2, d.cosine
        )
    }
}

/// Compares a whole step.
pub fn compare_steps(
    reference: &StepResult,
    tested: &StepResult,
    tol: &Tolerance,
) -> Result<StepComparison, CompareError> {
    let abs = (tested.loss - reference.loss).abs();
    let rel = if abs == 0.0 {
        0.0
    } else {
        abs / reference.loss.abs()
    };
    let loss = LossDiff {
        reference: reference.loss,
        tested: tested.loss,
        abs,
        rel,
        within: tested.loss.is_finite() && reference.loss.is_finite() && rel <= tol.loss_rel,
    };
    let (gradients, reference_gradient_norm, tested_gradient_norm) = compare_tensors(
        &reference.gradients,
        &tested.gradients,
        tol.grad_rel,
        tol.grad_floor,
        tol.min_cosine,
    )?;
    // The update's cosine is not checked: it moves by sign flips of noise-level gradients.
    let (updates, _, _) = compare_tensors(
        &reference.updates,
        &tested.updates,
        tol.update_rel,
        tol.update_floor,
        -1.0,
    )?;
    let mut failures = Vec::new();
    if !loss.within {
        failures.push(format!(
            "loss: {} against {} (relative difference {:.3e}, allowed {:.1e})",
            tested.loss, reference.loss, rel, tol.loss_rel
        ));
    }
    failures.extend(
        gradients
            .iter()
            .filter(|d| !d.within)
            .map(|d| describe("gradient", d)),
    );
    failures.extend(
        updates
            .iter()
            .filter(|d| !d.within)
            .map(|d| describe("update", d)),
    );
    Ok(StepComparison {
        tolerance: *tol,
        loss,
        reference_gradient_norm,
        tested_gradient_norm,
        gradients,
        updates,
        passed: failures.is_empty(),
        failures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random vector (values in [-1, 1)).
    fn vector(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = mge::init::Rng::new(seed);
        (0..n).map(|_| rng.uniform() * 2.0 - 1.0).collect()
    }

    /// `v` with relative noise of size `eps` (elementwise, pseudo-random signs).
    fn perturbed(v: &[f32], eps: f32, seed: u64) -> Vec<f32> {
        let noise = vector(v.len(), seed);
        v.iter()
            .zip(noise)
            .map(|(x, n)| x * (1.0 + eps * n))
            .collect()
    }

    fn step(loss: f64, grads: Vec<(&str, Vec<f32>)>, updates: Vec<(&str, Vec<f32>)>) -> StepResult {
        let own =
            |l: Vec<(&str, Vec<f32>)>| l.into_iter().map(|(n, v)| (n.to_string(), v)).collect();
        StepResult {
            loss,
            gradients: own(grads),
            updates: own(updates),
        }
    }

    fn reference() -> StepResult {
        step(
            1.25,
            vec![
                ("a.weight", vector(1000, 1)),
                ("a.bias", vector(10, 2)),
                // A gradient that is 0 in exact arithmetic: rounding noise only.
                ("key.bias", vec![1e-9, -2e-9, 0.0]),
            ],
            vec![("a.weight", vector(1000, 3)), ("a.bias", vector(10, 4))],
        )
    }

    #[test]
    fn identical_steps_pass_even_the_exact_tolerance() {
        let r = reference();
        let c = compare_steps(&r, &r.clone(), &Tolerance::EXACT).unwrap();
        assert!(c.passed, "{:?}", c.failures);
        for d in c.gradients.iter().chain(&c.updates) {
            assert_eq!(d.diff_norm, 0.0);
            assert_eq!(d.max_abs, 0.0);
            assert_eq!(d.rel_l2, 0.0);
            assert_eq!(d.cosine, 1.0);
        }
        assert_eq!(c.loss.rel, 0.0);
    }

    #[test]
    fn rounding_level_differences_pass_f32_but_not_exact() {
        let r = reference();
        let mut t = r.clone();
        t.loss = r.loss * (1.0 + 3e-7);
        for (i, (_, g)) in t.gradients.iter_mut().enumerate() {
            *g = perturbed(g, 1e-5, 10 + i as u64);
        }
        // The noise-only tensor comes out as different noise.
        t.gradients[2].1 = vec![-3e-9, 1e-9, 2e-9];
        for (i, (_, u)) in t.updates.iter_mut().enumerate() {
            *u = perturbed(u, 1e-4, 20 + i as u64);
        }
        let c = compare_steps(&r, &t, &Tolerance::F32).unwrap();
        assert!(c.passed, "{:?}", c.failures);
        let w = &c.gradients[0];
        assert!(w.rel_l2 > 1e-6 && w.rel_l2 < 1e-5, "{w:?}");
        assert!(w.cosine > 0.999_999 && w.cosine_checked);
        let noise = &c.gradients[2];
        assert!(
            noise.rel_l2 > 1.0,
            "noise over noise is a large relative difference"
        );
        assert!(!noise.cosine_checked && noise.within, "{noise:?}");

        let exact = compare_steps(&r, &t, &Tolerance::EXACT).unwrap();
        assert!(!exact.passed);
        assert_eq!(exact.failures.len(), 1 + 3 + 2);
    }

    #[test]
    fn a_wrong_gradient_fails_and_is_named() {
        let r = reference();
        let mut t = r.clone();
        // One element of a thousand off by 1: about 5% of the tensor's norm (18.3).
        t.gradients[0].1[17] += 1.0;
        let c = compare_steps(&r, &t, &Tolerance::F32).unwrap();
        assert!(!c.passed);
        assert_eq!(c.failures.len(), 1, "{:?}", c.failures);
        assert!(
            c.failures[0].contains("gradient of a.weight"),
            "{:?}",
            c.failures
        );
        let worst = StepComparison::worst(&c.gradients, 1);
        assert_eq!(worst[0].name, "a.weight");
        assert!(worst[0].ratio > 1.0);
        // TF32's bound is looser but not that loose.
        assert!(!compare_steps(&r, &t, &Tolerance::TF32).unwrap().passed);
    }

    #[test]
    fn a_gradient_scaled_by_a_constant_fails_on_the_relative_bound() {
        // Same direction (cosine 1) but 1% too large: a missing normalization, say.
        let r = reference();
        let mut t = r.clone();
        t.gradients[1].1.iter_mut().for_each(|x| *x *= 1.01);
        let c = compare_steps(&r, &t, &Tolerance::F32).unwrap();
        let d = &c.gradients[1];
        assert!(d.cosine > 0.999_999 && !d.within, "{d:?}");
        assert!((d.rel_l2 - 0.01).abs() < 1e-4);
    }

    #[test]
    fn nan_loss_or_gradient_fails() {
        let r = reference();
        let mut t = r.clone();
        t.gradients[1].1[3] = f32::NAN;
        let c = compare_steps(&r, &t, &Tolerance::TF32).unwrap();
        assert!(!c.passed);
        assert!(!c.gradients[1].finite);
        assert!(c.failures[0].contains("NaN"));
        assert_eq!(StepComparison::worst(&c.gradients, 1)[0].name, "a.bias");
        let mut t = r.clone();
        t.loss = f64::NAN;
        assert!(!compare_steps(&r, &t, &Tolerance::TF32).unwrap().loss.within);
    }

    #[test]
    fn a_loss_off_by_more_than_the_tolerance_fails() {
        let r = reference();
        let mut t = r.clone();
        t.loss = r.loss * (1.0 + 2e-4);
        let c = compare_steps(&r, &t, &Tolerance::F32).unwrap();
        assert!(!c.loss.within && !c.passed);
        assert!(compare_steps(&r, &t, &Tolerance::TF32).unwrap().passed);
    }

    #[test]
    fn mismatched_tensors_are_errors_not_verdicts() {
        let r = reference();
        let mut t = r.clone();
        t.gradients[0].1.pop();
        assert_eq!(
            compare_steps(&r, &t, &Tolerance::F32).unwrap_err(),
            CompareError::Length {
                name: "a.weight".into(),
                reference: 1000,
                tested: 999
            }
        );
        let mut t = r.clone();
        t.gradients[1].0 = "other".into();
        assert!(matches!(
            compare_steps(&r, &t, &Tolerance::F32).unwrap_err(),
            CompareError::Unpaired { .. }
        ));
    }

    #[test]
    fn zero_vectors_compare_cleanly() {
        let z = vec![("z".to_string(), vec![0f32; 4])];
        let (d, g, _) = compare_tensors(&z, &z, 1e-3, 1e-6, 0.9999).unwrap();
        assert_eq!(g, 0.0);
        assert!(d[0].within && d[0].cosine == 1.0 && d[0].rel_l2 == 0.0);
        let nz = vec![("z".to_string(), vec![0f32, 1e-3, 0.0, 0.0])];
        let (d, _, _) = compare_tensors(&z, &nz, 1e-3, 1e-6, 0.9999).unwrap();
        assert!(d[0].rel_l2.is_infinite() && d[0].cosine == 0.0 && !d[0].within);
    }
}
