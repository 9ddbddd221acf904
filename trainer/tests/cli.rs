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

/// `COMMAND` on the toy data (train, dev and test), two epochs of a small model, no bars.
fn toy_run<'a>(command: &'a str, data: &'a str, enc: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        command,
        "--train",
        data,
        "--dev",
        data,
        "--test",
        data,
        "--encoder",
        enc,
        "--out",
        out,
        "--epochs",
        "2",
        "--hidden",
        "16",
        "--batch-size",
        "4",
        "--quiet",
    ]
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
    let o = mge(&toy_run("train", &data, &enc, &run_s));
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
        t.contains("weights q8")
            && t.contains("trained on: toy")
            && t.contains("NER head")
            && t.contains("hyphens: inside words, hyphenated words stay whole (as the training"),
        "{t}"
    );
    // The bundle scored through the inference engine, in both arithmetics; without a
    // model to score, the error names the two ways to give one.
    for precision in ["f32", "int8"] {
        let args = [
            "eval",
            "--bundle",
            &bundle,
            "--data",
            &data,
            "--precision",
            precision,
        ];
        let o = mge(&args);
        assert!(o.status.success(), "{}", text(&o));
        let t = text(&o);
        let line = t.lines().find(|l| l.starts_with("NER (strict)"));
        let line = line.unwrap_or_else(|| panic!("no NER line in {t}"));
        let f1 = line
            .split_whitespace()
            .nth(4)
            .and_then(|v| v.parse::<f64>().ok());
        assert!(f1.is_some_and(|f| (0.0..=100.0).contains(&f)), "{line}");
    }
    let o = mge(&["eval", "--data", &data]);
    assert!(!o.status.success());
    assert!(text(&o).contains("--bundle"), "{}", text(&o));
    let o = mge(&["inspect", &format!("{run_s}/best/model.safetensors")]);
    assert!(!o.status.success());
    assert!(text(&o).contains("not an MGE bundle"), "{}", text(&o));

    // Extract from standard input: JSONL in the shared schema, brat files, UTF-8 errors.
    let run_extract = |args: &[&str], input: &[u8]| -> Output {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_mge"))
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // A command refused at argument parsing exits without reading its input, so the
        // write may meet a closed pipe; the exit status and messages are what is checked.
        if let Err(e) = child.stdin.take().unwrap().write_all(input) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
        child.wait_with_output().unwrap()
    };
    let o = run_extract(
        &["extract", "--model", &bundle, "--threshold", "0.0"],
        "John Smith lives in Boston .\nMary works for Acme Corp .\n".as_bytes(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["text"], "John Smith lives in Boston .");
    let e = &lines[0]["entities"][0];
    assert!(
        e["start"].is_number()
            && e["end"].is_number()
            && e["type"].is_string()
            && e["score"].is_number()
    );
    let o = run_extract(
        &[
            "extract", "--model", &bundle, "--jsonl", "--format", "jsonl",
        ],
        br#"{"text": "Mary lives in Paris ."}"#,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("\"text\":\"Mary lives in Paris .\""));
    // --titles: the comparison switches run, and an unknown value is refused.
    for titles in ["read", "drop", "restore"] {
        let args = ["extract", "--model", &bundle, "--titles", titles];
        let o = run_extract(&args, b"Dr. John Smith lives in Boston .\n");
        assert!(o.status.success(), "{titles}: {}", text(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains("\"entities\""));
    }
    let o = run_extract(&["extract", "--model", &bundle, "--titles", "hide"], b"x\n");
    assert!(!o.status.success());
    // --backend wgpu finds what the CPU finds (on lavapipe here); without any adapter it
    // says what it needs.
    let spans = |o: &Output| -> Vec<(u64, u64, String)> {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .flat_map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let ents = v["entities"].as_array().cloned().unwrap_or_default();
                ents.into_iter().map(|e| {
                    let n = |k: &str| e[k].as_u64().unwrap_or(u64::MAX);
                    (n("start"), n("end"), e["type"].to_string())
                })
            })
            .collect()
    };
    let input = "John Smith lives in Boston .\nMary works for Acme Corp in Paris .\n";
    let on = |backend: &str| {
        let args = [
            "extract",
            "--model",
            &bundle,
            "--threshold",
            "0.3",
            "--precision",
            "f32",
            "--backend",
            backend,
        ];
        run_extract(&args, input.as_bytes())
    };
    let (cpu, gpu) = (on("cpu"), on("wgpu"));
    assert!(cpu.status.success(), "{}", text(&cpu));
    if gpu.status.success() {
        assert!(
            text(&gpu).contains("forward passes on wgpu"),
            "{}",
            text(&gpu)
        );
        assert!(!spans(&cpu).is_empty());
        assert_eq!(spans(&gpu), spans(&cpu));
    } else {
        assert!(text(&gpu).contains("needs a GPU adapter"), "{}", text(&gpu));
        assert_ne!(
            std::env::var("MGE_REQUIRE_GPU").as_deref(),
            Ok("1"),
            "{}",
            text(&gpu)
        );
    }
    let brat_dir = dir.path().join("brat");
    let o = run_extract(
        &[
            "extract",
            "--model",
            &bundle,
            "--format",
            "brat",
            "--out-dir",
            &brat_dir.display().to_string(),
            "--threshold",
            "0.0",
            // Every cell is above threshold 0; the relations between the mentions the flat
            // decoding keeps need not fit the tiny training set's argument types.
            "--any-argument-types",
        ],
        b"Mary lives in Paris .\n",
    );
    assert!(o.status.success(), "{}", text(&o));
    let ann = std::fs::read_to_string(brat_dir.join("doc-1.ann")).unwrap();
    assert!(ann.starts_with("T1\t") && ann.contains("Arg1:T"), "{ann}");
    assert_eq!(
        std::fs::read_to_string(brat_dir.join("doc-1.txt")).unwrap(),
        "Mary lives in Paris ."
    );
    // Streaming: with --batch 1 each document's result comes out before the next line is
    // even written (the input is never read whole, so memory does not grow with it).
    {
        use std::io::{BufRead, Write};
        let mut child = Command::new(env!("CARGO_BIN_EXE_mge"))
            .args(["extract", "--model", &bundle, "--batch", "1"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                if tx.send(line.unwrap()).is_err() {
                    break;
                }
            }
        });
        let wait = std::time::Duration::from_secs(60);
        for doc in ["Mary lives in Paris .", "John works for Acme Corp ."] {
            writeln!(stdin, "{doc}").unwrap();
            stdin.flush().unwrap();
            let got = rx
                .recv_timeout(wait)
                .expect("no result while the input is still open");
            let v: serde_json::Value = serde_json::from_str(&got).unwrap();
            assert_eq!(v["text"], doc);
        }
        drop(stdin);
        assert!(child.wait().unwrap().success());
        reader.join().unwrap();
    }
    let o = run_extract(&["extract", "--model", &bundle], b"fine\n\xff\xfe broken\n");
    assert!(!o.status.success());
    assert!(text(&o).contains("line 2: not valid UTF-8"), "{}", text(&o));
    let o = run_extract(
        &["extract", "--model", &format!("{run_s}/best/config.json")],
        b"x\n",
    );
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
    // One line of causes, no backtrace, even with RUST_BACKTRACE set.
    let o = Command::new(env!("CARGO_BIN_EXE_mge"))
        .args(["extract", "--model", "/nonexistent/model.safetensors"])
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("run mge");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("error: cannot read /nonexistent/model.safetensors: "),
        "{err}"
    );
    assert!(!err.contains("backtrace"), "{err}");

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

    // Bad options on an otherwise valid training command.
    for (extra, expected) in [
        (["--without", "nonsense"], "unknown gate"),
        (["--device", "tpu"], "unknown device"),
    ] {
        let mut args = vec![
            "train",
            "--train",
            &data,
            "--dev",
            &data,
            "--encoder",
            &enc,
            "--out",
            &out,
        ];
        args.extend(extra);
        let o = mge(&args);
        assert!(!o.status.success());
        assert!(text(&o).contains(expected), "{}", text(&o));
    }
}

#[test]
fn check_step_compares_two_runs_of_one_training_step() {
    let dir = tempfile::tempdir().unwrap();
    let (enc, data) = toy(dir.path());
    let check = |name: &str, extra: &[&str]| -> (Output, Option<serde_json::Value>) {
        let out = dir.path().join(name);
        let mut args = vec![
            "check-step",
            "--train",
            &data,
            "--dev",
            &data,
            "--encoder",
            &enc,
            "--hidden",
            "16",
            "--batch-size",
            "4",
            "--device",
            "cpu",
        ];
        let out_s = out.display().to_string();
        args.extend(["--out", &out_s]);
        args.extend(extra);
        let o = mge(&args);
        let report = std::fs::read(out.join("check-step.json"))
            .ok()
            .map(|b| serde_json::from_slice(&b).unwrap());
        (o, report)
    };

    // The same code on the same device: bit for bit, with the exact tolerance.
    let (o, r) = check("same", &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("PASS (tolerance exact)"), "{}", text(&o));
    let r = r.unwrap();
    let c = &r["comparison"];
    assert_eq!(c["passed"], true);
    assert_eq!(c["tolerance"]["name"], "exact");
    assert_eq!(c["loss"]["abs"], 0.0);
    let grads = c["gradients"].as_array().unwrap();
    assert!(grads.len() > 20);
    for d in grads.iter().chain(c["updates"].as_array().unwrap()) {
        assert_eq!(d["diff_norm"], 0.0, "{d}");
    }
    assert_eq!(r["tf32"], false);
    assert_eq!(r["batch"]["position"], 0);
    assert_eq!(r["batch"]["examples"].as_array().unwrap().len(), 4);

    // The op graph CUDA runs, on the CPU, against the fused kernels: small differences,
    // within the f32 tolerance.
    let (o, r) = check(
        "composed",
        &["--tested-ops", "composed", "--which-batch", "longest"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let r = r.unwrap();
    let c = &r["comparison"];
    assert_eq!(c["tolerance"]["name"], "f32");
    assert_eq!(r["tested"]["ops"], "composed tensor ops");
    assert!(
        c["gradients"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["diff_norm"].as_f64().unwrap() > 0.0),
        "the composed ops must round differently somewhere"
    );
    for d in c["gradients"].as_array().unwrap() {
        assert!(d["ratio"].as_f64().unwrap() < 0.1, "{d}");
    }

    // The same differences against the exact tolerance: exit status 1 and the failures named.
    let (o, r) = check(
        "strict",
        &["--tested-ops", "composed", "--tolerance", "exact"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("outside the exact tolerance"),
        "{}",
        text(&o)
    );
    assert_eq!(r.unwrap()["comparison"]["passed"], false);

    // The step checked is the one `mge train` takes first, dropout mask included: with an
    // epoch of one batch, the epoch's training loss is that step's loss.
    let (o, r) = check("one-batch", &["--limit-train", "4", "--dropout", "0.3"]);
    assert!(o.status.success(), "{}", text(&o));
    let step_loss = r.unwrap()["reference"]["loss"].as_f64().unwrap();
    let (_, r) = check("no-dropout", &["--limit-train", "4", "--dropout", "0"]);
    let plain_loss = r.unwrap()["reference"]["loss"].as_f64().unwrap();
    // (The mask moves the loss a hundred times more than the agreement asked for below, so
    // a different mask could not pass.)
    assert!(
        (step_loss - plain_loss).abs() > 1e-4 * step_loss,
        "dropout changes the step ({step_loss} vs {plain_loss})"
    );
    let run = dir.path().join("one-batch-run").display().to_string();
    let o = mge(&[
        "train",
        "--train",
        &data,
        "--dev",
        &data,
        "--encoder",
        &enc,
        "--hidden",
        "16",
        "--batch-size",
        "4",
        "--limit-train",
        "4",
        "--dropout",
        "0.3",
        "--epochs",
        "1",
        "--quiet",
        "--out",
        &run,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(Path::new(&run).join("metrics.json")).unwrap())
            .unwrap();
    let train_loss = metrics["curve"][0]["train_loss"].as_f64().unwrap();
    assert!(
        (train_loss - step_loss).abs() <= 1e-6 * step_loss,
        "train {train_loss} vs check-step {step_loss}"
    );

    // TF32 only exists on CUDA.
    let (o, _) = check("tf32", &["--tf32"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("--tf32"), "{}", text(&o));
    let (o, _) = check("batch", &["--which-batch", "99"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("epoch 1 has 2 batches"), "{}", text(&o));
}

#[test]
fn segment_prints_the_sentences_extract_reads() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    let mut f = std::fs::File::create(&input).unwrap();
    writeln!(
        f,
        "Dr. Smith moved to Nashville, Tenn. Software engineers followed."
    )
    .unwrap();
    writeln!(f, "PERUGIA, Italy (AP) Reagan spoke.").unwrap();
    drop(f);
    let path = input.display().to_string();
    let o = mge(&["segment", &path]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "Dr. Smith moved to Nashville, Tenn.\nSoftware engineers followed.\n\n\
         PERUGIA, Italy (AP)\nReagan spoke.\n\n"
    );
    let o = mge(&["segment", "--json", "--sentences", "lines", &path]);
    let first: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(first["sentences"][0]["start"], 0);
    assert_eq!(first["sentences"][0]["end"], 64);
    let o = mge(&["segment", "/nonexistent/in.txt"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("cannot open /nonexistent/in.txt"),
        "{}",
        text(&o)
    );
}

#[test]
fn sweep_runs_seeds_and_configurations_into_one_table_and_continues() {
    let dir = tempfile::tempdir().unwrap();
    let (enc, data) = toy(dir.path());
    let out = dir.path().join("sweep");
    let out_s = out.display().to_string();
    let sweep = |extra: &[&str]| {
        let mut args = toy_run("sweep", &data, &enc, &out_s);
        args.extend(["--seeds", "1,2", "--configs", "full,interaction"]);
        args.extend_from_slice(extra);
        mge(&args)
    };
    // Interrupted after one epoch of the first run: no table line yet for it.
    let o = sweep(&["--stop-after", "1"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(out.join("full/seed-1/last").exists());
    // The full sweep continues the four runs and writes the table.
    let o = sweep(&[]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("[1/4] full, seed-1: resuming"), "{t}");
    let md = std::fs::read_to_string(out.join("sweep.md")).unwrap();
    let lines: Vec<&str> = md.lines().filter(|l| l.starts_with("| ")).collect();
    assert_eq!(lines.len(), 3, "{md}");
    assert!(lines[1].starts_with("| full | seed-1, seed-2 | "), "{md}");
    assert!(
        lines[2].starts_with("| interaction | seed-1, seed-2 | "),
        "{md}"
    );
    assert!(
        lines[1].contains(" ± ") && lines[1].ends_with("| 2, 2 |"),
        "{md}"
    );
    let rows: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2);
    // Nothing is trained again.
    let o = sweep(&[]);
    assert!(o.status.success());
    assert_eq!(
        text(&o).matches("finished before").count(),
        4,
        "{}",
        text(&o)
    );
    // Mistakes fail before any training.
    let o = sweep(&["--configs", "full,no-such-gate"]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("unknown gate `no-such-gate`"),
        "{}",
        text(&o)
    );
    let o = sweep(&["--without", "interaction"]);
    assert!(text(&o).contains("not --without"), "{}", text(&o));
    let o = sweep(&["--folds", "0,1"]);
    assert!(
        text(&o).contains("--folds needs --preset ade"),
        "{}",
        text(&o)
    );
}
