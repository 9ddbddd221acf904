//! `mge sweep`: the same training run over several seeds and gate configurations (the
//! paper's ablation, its Table 4), one run folder each, and one table of means and standard
//! deviations. An interrupted sweep continues where it stopped: finished runs are kept,
//! an unfinished one resumes from its last epoch.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Serialize;

use crate::train::{self, RunMetrics, RunOptions, TrainConfig};
use crate::Result;

#[derive(clap::Args)]
pub struct SweepArgs {
    /// Training settings shared by every run (as for `mge train`); --out is the sweep's
    /// folder, --seed and --without are replaced by --seeds and --configs.
    #[command(flatten)]
    pub train: crate::TrainArgs,
    /// Seeds, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
    pub seeds: Vec<u64>,
    /// Configurations, comma-separated: `full`, or the gates to remove joined by `+`
    /// (`interaction`, `entity-task+relation-task`; names as for `mge train --without`).
    #[arg(long, value_delimiter = ',', default_value = "full")]
    pub configs: Vec<String>,
    /// ADE folds, comma-separated (with --preset ade; the ADE literature reports the mean
    /// over its 10 folds): every configuration and seed runs on each fold, and the table
    /// averages over folds and seeds. Default: the one fold of --fold.
    #[arg(long, value_delimiter = ',')]
    pub folds: Vec<usize>,
    /// Write the table from the runs already finished in --out, without training.
    #[arg(long)]
    pub report_only: bool,
}

/// One run of the sweep: its fold (when the sweep has folds) and seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunKey {
    pub fold: Option<usize>,
    pub seed: u64,
}

impl RunKey {
    fn label(&self) -> String {
        match self.fold {
            Some(f) => format!("fold-{f}-seed-{}", self.seed),
            None => format!("seed-{}", self.seed),
        }
    }
}

/// Every (fold, seed) pair of the sweep, folds outermost.
fn keys(a: &SweepArgs) -> Vec<RunKey> {
    let folds: Vec<Option<usize>> = if a.folds.is_empty() {
        vec![None]
    } else {
        a.folds.iter().map(|&f| Some(f)).collect()
    };
    folds
        .into_iter()
        .flat_map(|fold| a.seeds.iter().map(move |&seed| RunKey { fold, seed }))
        .collect()
}

/// The gates a configuration removes (`full` removes none).
pub fn removed_gates(config: &str) -> Vec<String> {
    if config == "full" {
        return Vec::new();
    }
    config.split('+').map(str::to_string).collect()
}

/// Mean and sample standard deviation (0 for a single value).
fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, 0.0);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// One configuration's line of the table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Row {
    pub config: String,
    /// The finished runs (`seed-1`, or `fold-0-seed-1` in a sweep over folds).
    pub runs: Vec<String>,
    /// Mean and standard deviation of each score over the finished runs.
    pub dev_ner: (f64, f64),
    pub dev_re: (f64, f64),
    pub test_ner: Option<(f64, f64)>,
    pub test_re: Option<(f64, f64)>,
    /// Test RE as PFN and the MGE paper count it (boundaries only: the paper's measure for
    /// CoNLL04 and SciERC).
    #[serde(default)]
    pub test_re_pfn: Option<(f64, f64)>,
    pub best_epochs: Vec<usize>,
    pub epochs_run: Vec<usize>,
}

/// The table's line for the finished runs of one configuration.
pub fn row(config: &str, runs: &[(String, RunMetrics)]) -> Option<Row> {
    let finished: Vec<&(String, RunMetrics)> =
        runs.iter().filter(|(_, m)| m.dev.is_some()).collect();
    if finished.is_empty() {
        return None;
    }
    let pick = |f: &dyn Fn(&RunMetrics) -> Option<f64>| -> Option<(f64, f64)> {
        let v: Vec<f64> = finished.iter().filter_map(|(_, m)| f(m)).collect();
        (v.len() == finished.len()).then(|| mean_sd(&v))
    };
    Some(Row {
        config: config.to_string(),
        runs: finished.iter().map(|(k, _)| k.clone()).collect(),
        dev_ner: pick(&|m| m.dev.as_ref().map(|r| r.ner.f1))?,
        dev_re: pick(&|m| m.dev.as_ref().map(|r| r.re_strict.f1))?,
        test_ner: pick(&|m| m.test.as_ref().map(|r| r.ner.f1)),
        test_re: pick(&|m| m.test.as_ref().map(|r| r.re_strict.f1)),
        test_re_pfn: pick(&|m| m.test.as_ref().map(|r| r.re_pfn.f1)),
        best_epochs: finished
            .iter()
            .map(|(_, m)| m.best_epoch.unwrap_or(0))
            .collect(),
        epochs_run: finished.iter().map(|(_, m)| m.curve.len()).collect(),
    })
}

/// The table as Markdown: F1 as mean ± standard deviation over the runs.
pub fn markdown(dataset: &str, rows: &[Row]) -> String {
    let cell = |v: Option<(f64, f64)>| match v {
        Some((m, sd)) => format!("{m:.2} ± {sd:.2}"),
        None => "–".to_string(),
    };
    let list = |v: &[usize]| {
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut s = format!(
        "{dataset}: F1 as mean ± standard deviation over runs (RE strict, and PFN-style as the \
         paper counts it)\n\n\
         | configuration | runs | dev NER | dev RE | test NER | test RE | test RE (PFN) | best epoch | epochs run |\n\
         |---|---|---|---|---|---|---|---|---|\n"
    );
    for r in rows {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.config,
            r.runs.join(", "),
            cell(Some(r.dev_ner)),
            cell(Some(r.dev_re)),
            cell(r.test_ner),
            cell(r.test_re),
            cell(r.test_re_pfn),
            list(&r.best_epochs),
            list(&r.epochs_run),
        ));
    }
    s
}

fn run_dir(out: &Path, config: &str, key: RunKey) -> PathBuf {
    out.join(config).join(key.label())
}

/// The metrics of a run folder, if it has any.
fn read_metrics(dir: &Path) -> Result<Option<RunMetrics>> {
    let path = dir.join("metrics.json");
    if !path.exists() {
        return Ok(None);
    }
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let m: RunMetrics =
        serde_json::from_slice(&bytes).with_context(|| format!("bad {}", path.display()))?;
    Ok(Some(m))
}

/// Runs (or continues) the sweep, then writes `sweep.md` and `sweep.json` in the sweep's
/// folder and prints the table. `config_of(run, removed gates)` gives each run's settings.
pub fn run(
    a: &SweepArgs,
    config_of: impl Fn(RunKey, &[String]) -> Result<TrainConfig>,
) -> Result<()> {
    let out = &a.train.out;
    if !a.train.without.is_empty() {
        bail!("mge sweep takes the gates to remove in --configs (for example --configs full,interaction), not --without");
    }
    if !a.folds.is_empty() && !matches!(a.train.preset, Some(crate::Preset::Ade)) {
        bail!("--folds needs --preset ade (the folds are ADE's)");
    }
    if a.seeds.is_empty() || a.configs.is_empty() {
        bail!("give at least one seed (--seeds) and one configuration (--configs)");
    }
    // Every run's settings first, so that a typo fails before hours of training.
    let mut plan = Vec::new();
    for config in &a.configs {
        for key in keys(a) {
            let cfg = config_of(key, &removed_gates(config))
                .with_context(|| format!("configuration `{config}`"))?;
            plan.push((config.clone(), key, cfg));
        }
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let dataset = plan
        .first()
        .map(|(_, _, c)| c.dataset.clone())
        .unwrap_or_default();
    let total = plan.len();
    for (k, (config, key, cfg)) in plan.iter().enumerate() {
        let dir = run_dir(out, config, *key);
        let name = key.label();
        let existing = read_metrics(&dir)?;
        if let Some(m) = &existing {
            if m.config != *cfg {
                bail!(
                    "{} holds a run with other settings than this sweep's; move it away or give another --out",
                    dir.display()
                );
            }
            if m.dev.is_some() {
                eprintln!("[{}/{total}] {config}, {name}: finished before", k + 1);
                continue;
            }
        }
        if a.report_only {
            continue;
        }
        let resume = dir.join("last").exists();
        eprintln!(
            "[{}/{total}] {config}, {name}: {} in {}",
            k + 1,
            if resume { "resuming" } else { "training" },
            dir.display()
        );
        let opts = RunOptions {
            resume,
            stop_after: a.train.stop_after,
            progress: !a.train.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        };
        train::train(cfg, &dir, &opts)?;
        write_table(a, out, &dataset)?;
    }
    let table = write_table(a, out, &dataset)?;
    println!("{table}");
    Ok(())
}

/// Writes `sweep.md` and `sweep.json` from the finished runs; returns the Markdown.
fn write_table(a: &SweepArgs, out: &Path, dataset: &str) -> Result<String> {
    let mut rows = Vec::new();
    for config in &a.configs {
        let mut runs = Vec::new();
        for key in keys(a) {
            if let Some(m) = read_metrics(&run_dir(out, config, key))? {
                runs.push((key.label(), m));
            }
        }
        rows.extend(row(config, &runs));
    }
    let md = markdown(dataset, &rows);
    std::fs::write(out.join("sweep.md"), &md)?;
    std::fs::write(out.join("sweep.json"), serde_json::to_vec_pretty(&rows)?)?;
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_standard_deviation() {
        let (m, sd) = mean_sd(&[50.0, 52.0, 54.0]);
        assert!((m - 52.0).abs() < 1e-12);
        assert!((sd - 2.0).abs() < 1e-12);
        assert_eq!(mean_sd(&[7.5]), (7.5, 0.0));
        assert!(mean_sd(&[]).0.is_nan());
    }

    #[test]
    fn runs_are_named_by_fold_and_seed() {
        let k = RunKey {
            fold: Some(3),
            seed: 2,
        };
        assert_eq!(k.label(), "fold-3-seed-2");
        assert_eq!(
            RunKey {
                fold: None,
                seed: 7
            }
            .label(),
            "seed-7"
        );
    }

    #[test]
    fn configurations_name_the_gates_they_remove() {
        assert!(removed_gates("full").is_empty());
        assert_eq!(removed_gates("interaction"), ["interaction"]);
        assert_eq!(
            removed_gates("entity-task+relation-task"),
            ["entity-task", "relation-task"]
        );
    }

    #[test]
    fn the_table_shows_mean_and_deviation_per_configuration() {
        let rows = vec![Row {
            config: "interaction".into(),
            runs: vec!["seed-1".into(), "seed-2".into()],
            dev_ner: (80.0, 1.0),
            dev_re: (55.5, 0.25),
            test_ner: Some((81.0, 0.5)),
            test_re: None,
            test_re_pfn: Some((57.25, 1.5)),
            best_epochs: vec![18, 20],
            epochs_run: vec![20, 20],
        }];
        let md = markdown("conll04", &rows);
        assert!(
            md.contains("| interaction | seed-1, seed-2 | 80.00 ± 1.00 | 55.50 ± 0.25 | 81.00 ± 0.50 | – | 57.25 ± 1.50 | 18, 20 | 20, 20 |"),
            "{md}"
        );
    }
}
