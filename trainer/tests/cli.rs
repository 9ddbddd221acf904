//! End-to-end tests of the `mge` command: train, eval and the errors a user sees.

use std::path::Path;
use std::process::{Command, Output};

use mge::testing::{toy_sentences, vocabulary, write_tiny_encoder};

fn mge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mge"))
        .args(args)
        .output()
        .expect("run mge")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn toy(dir: &Path) -> (String, String) {
    let sentences = toy_sentences();
    write_tiny_encoder(&dir.join("enc"), &vocabulary(&sentences), 1).unwrap();
    let data = dir.join("toy.json");
    std::fs::write(&data, serde_json::to_string(&sentences).unwrap()).unwrap();
    (
        dir.join("enc").display().to_string(),
        data.display().to_string(),
    )
}

#[test]
fn help_lists_the_subcommands() {
    let o = mge(&["--help"]);
    assert!(o.status.success());
    let t = text(&o);
    assert!(t.contains("train") && t.contains("eval"), "{t}");
    let o = mge(&["train", "--help"]);
    assert!(text(&o).contains("--resume"));
}

#[test]
fn train_then_eval_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (enc, data) = toy(dir.path());
    let run = dir.path().join("run");
    let run_s = run.display().to_string();
    let o = mge(&[
        "train",
        "--train",
        &data,
        "--dev",
        &data,
        "--test",
        &data,
        "--encoder",
        &enc,
        "--out",
        &run_s,
        "--epochs",
        "2",
        "--hidden",
        "16",
        "--batch-size",
        "4",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("epoch 2/2") && t.contains("test (best checkpoint)"),
        "{t}"
    );
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["curve"].as_array().unwrap().len(), 2);
    assert!(metrics["test"]["ner"]["f1"].is_number());
    assert!(metrics["test"]["re_pfn"]["f1"].is_number());
    assert!(metrics["test"]["ner_per_type"]["Peop"]["precision"].is_number());
    assert_eq!(metrics["config"]["hidden"], 16);

    let report = dir.path().join("report.json");
    let o = mge(&[
        "eval",
        "--checkpoint",
        &format!("{run_s}/best"),
        "--data",
        &data,
        "--json",
        &report.display().to_string(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("RE (PFN-style)"));
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    assert!(r["re_per_type"]["Work_For"]["f1"].is_number());

    // Export the best checkpoint as a bundle and inspect it.
    let bundle = dir.path().join("toy.safetensors").display().to_string();
    let o = mge(&[
        "export",
        "--checkpoint",
        &format!("{run_s}/best"),
        "--out",
        &bundle,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = mge(&["inspect", &bundle]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("weights q8") && t.contains("trained on: toy") && t.contains("NER head"),
        "{t}"
    );
    let o = mge(&["inspect", &format!("{run_s}/best/model.safetensors")]);
    assert!(!o.status.success());
    assert!(text(&o).contains("not an MGE bundle"), "{}", text(&o));

    // A second run with --resume on a finished run does no more epochs.
    let o = mge(&[
        "train",
        "--train",
        &data,
        "--dev",
        &data,
        "--encoder",
        &enc,
        "--out",
        &run_s,
        "--epochs",
        "2",
        "--hidden",
        "16",
        "--resume",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("epoch 1/2"));
}

#[test]
fn bad_input_gives_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (enc, data) = toy(dir.path());
    let out = dir.path().join("run").display().to_string();

    let bad = dir.path().join("offsets.json");
    std::fs::write(&bad, r#"[{"tokens": ["a"], "entities": [{"type": "Peop", "start": 0, "end": 3}], "relations": []}]"#).unwrap();
    let o = mge(&[
        "train",
        "--train",
        &bad.display().to_string(),
        "--dev",
        &data,
        "--encoder",
        &enc,
        "--out",
        &out,
    ]);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(
        t.contains("offsets.json") && t.contains("sentence 0"),
        "{t}"
    );
    assert!(!t.contains("panicked"), "{t}");

    let o = mge(&[
        "train",
        "--train",
        &data,
        "--dev",
        &data,
        "--encoder",
        "/nonexistent/encoder",
        "--out",
        &out,
    ]);
    assert!(!o.status.success());
    assert!(text(&o).contains("fetch-encoder.sh"), "{}", text(&o));

    let o = mge(&[
        "eval",
        "--checkpoint",
        &dir.path().display().to_string(),
        "--data",
        &data,
    ]);
    assert!(!o.status.success());
    assert!(text(&o).contains("not a checkpoint"), "{}", text(&o));

    let o = mge(&[
        "train",
        "--train",
        &data,
        "--dev",
        &data,
        "--encoder",
        &enc,
        "--out",
        &out,
        "--without",
        "nonsense",
    ]);
    assert!(!o.status.success());
    assert!(text(&o).contains("unknown gate"), "{}", text(&o));

    let o = mge(&[
        "train",
        "--train",
        &data,
        "--dev",
        &data,
        "--encoder",
        &enc,
        "--out",
        &out,
        "--device",
        "tpu",
    ]);
    assert!(!o.status.success());
    assert!(text(&o).contains("unknown device"), "{}", text(&o));
}
