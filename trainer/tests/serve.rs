//! `mge serve` as a process: it starts on the committed bundles, answers, and on SIGTERM
//! finishes the request in flight before it exits with success.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn http(addr: &str, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(120)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = String::new();
    s.read_to_string(&mut raw)?;
    let status = raw
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

#[test]
fn sigterm_finishes_the_request_in_flight() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../models");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mge"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--no-page",
            "--workers",
            "1",
            "--model",
            &format!("conll04={root}/conll04.safetensors"),
        ])
        .env("MGE_LOG", "warn")
        .stderr(Stdio::piped())
        .spawn()
        .expect("mge serve starts");
    // It prints its address once it listens.
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut addr = String::new();
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap_or(0) > 0 {
        if let Some(rest) = line.trim().strip_prefix("MGE-rs: http://") {
            addr = rest.split('/').next().unwrap_or_default().to_string();
            break;
        }
        line.clear();
    }
    assert!(!addr.is_empty(), "mge serve did not say where it listens");
    let (status, body) = http(&addr, "GET", "/healthz", "").unwrap();
    assert_eq!(status, 200, "{body}");

    let sentence = "Arthur B. Collins Jr., a banker in St. Paul, joined Wells Fargo in 1990. ";
    let text = sentence.repeat(20_000 / sentence.len());
    let request = serde_json::json!({ "text": text }).to_string();
    let a = addr.clone();
    let slow = std::thread::spawn(move || http(&a, "POST", "/api/extract", &request));
    let t0 = Instant::now();
    loop {
        let (_, health) = http(&addr, "GET", "/healthz", "").unwrap();
        let v: serde_json::Value = serde_json::from_str(&health).unwrap();
        if v["in_flight"] == 1 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the request never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let (status, body) = slow
        .join()
        .unwrap()
        .expect("an answer, not a broken connection");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["results"][0]["text"], text.as_str());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "mge serve exited with {exit}");
    let mut rest = String::new();
    let _ = stderr.read_to_string(&mut rest);
    assert!(
        !rest.contains("panicked"),
        "mge serve wrote a panic: {rest}"
    );
}

#[test]
fn serve_refuses_a_bad_model_with_a_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_mge"))
        .args([
            "serve",
            "--no-page",
            "--model",
            "x=/nonexistent/x.safetensors",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("model x") && err.contains("/nonexistent/x.safetensors"),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_mge"))
        .args(["serve", "--model", "a b=x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("model name"));
}
