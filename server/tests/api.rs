//! The API of a real server on a loopback port: every endpoint, every kind of bad input,
//! load shedding, timeouts and graceful shutdown.

mod common;

use std::time::Duration;

use common::{long_text, models, request, TestServer};
use mge_server::Limits;

const SENTENCE: &str = "The U.S. Navy hired Laura Kim, an engineer from Boston.";

type Headers<'a> = Vec<(&'a str, &'a str)>;

/// The answer's results, checked to be in the shared schema, as JSON (scores as written).
fn results(v: &serde_json::Value) -> serde_json::Value {
    let _: Vec<mge::extract::Extraction> =
        serde_json::from_value(v["results"].clone()).expect("the shared extraction schema");
    v["results"].clone()
}

/// What the library's results look like in the shared schema.
fn as_json(r: &[mge::extract::Extraction]) -> serde_json::Value {
    serde_json::to_value(r).expect("serializable")
}

fn limits() -> Limits {
    Limits {
        workers: 2,
        queue: 2,
        ..Limits::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_models_and_the_document() {
    let server = TestServer::start(limits(), None).await;
    let r = server.get("/healthz").await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["status"], "ok");
    assert_eq!(v["models"], serde_json::json!(["conll04", "scierc"]));
    assert_eq!(v["capacity"], 4);
    assert!(r.header("x-request-id").is_some(), "{r:?}");
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));

    let v = server.get("/api/models").await.json();
    let m = &v["models"][0];
    assert_eq!(m["name"], "conll04");
    assert_eq!(m["dataset"], "conll04");
    assert_eq!(m["quantization"], "q8");
    assert_eq!(m["nested_entities"], false);
    assert!(m["entity_types"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("Peop")));
    assert!(m["relation_types"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("Work_For")));
    assert!(m["command"].as_str().unwrap().contains("mge train"), "{m}");
    assert_eq!(v["models"][1]["name"], "scierc");

    let r = server.get("/api/openapi.json").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["paths"]["/api/extract"]["post"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extraction_is_what_the_library_gives() {
    let server = TestServer::start(limits(), None).await;
    let r = server
        .post_json(
            "/api/extract",
            &serde_json::json!({ "text": SENTENCE }).to_string(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["model"], "conll04");
    assert_eq!(v["threshold"], 0.5);
    let extractor = models().get(Some("conll04")).unwrap().extractor.clone();
    let expected = extractor.extract(SENTENCE).unwrap();
    assert!(!expected.entities.is_empty());
    assert_eq!(results(&v), as_json(&[expected]));

    // Several texts, another model, another threshold: in order, as the library gives.
    let texts = ["We parse sentences with a neural network.", "", SENTENCE];
    let body = serde_json::json!({ "texts": texts, "model": "scierc", "threshold": 0.3 });
    let v = server
        .post_json("/api/extract", &body.to_string())
        .await
        .json();
    assert_eq!(v["model"], "scierc");
    let scierc = models().get(Some("scierc")).unwrap().extractor.clone();
    let expected = scierc.extract_many_at(&texts, 0.3).unwrap();
    assert_eq!(results(&v), as_json(&expected));
    assert_eq!(v["threshold"].as_f64().unwrap() as f32, 0.3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_is_a_4xx_with_a_json_reason() {
    let l = Limits {
        max_body_bytes: 4096,
        max_chars: 100,
        max_texts: 3,
        ..limits()
    };
    let server = TestServer::start(l, None).await;
    let addr = server.addr;
    let json = [("Content-Type", "application/json")];
    // (what, headers, body, status, error code)
    type Case<'a> = (&'a str, Headers<'a>, Vec<u8>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "malformed JSON",
            json.to_vec(),
            b"{\"text\": \"a".to_vec(),
            400,
            "malformed_json",
        ),
        (
            "not an object",
            json.to_vec(),
            b"[1, 2]".to_vec(),
            400,
            "malformed_json",
        ),
        (
            "unknown field",
            json.to_vec(),
            br#"{"text":"a","lang":"en"}"#.to_vec(),
            400,
            "malformed_json",
        ),
        (
            "no text",
            json.to_vec(),
            b"{}".to_vec(),
            400,
            "invalid_request",
        ),
        (
            "wrong content type",
            vec![("Content-Type", "text/plain")],
            br#"{"text":"a"}"#.to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "no content type",
            vec![],
            br#"{"text":"a"}"#.to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "form",
            vec![("Content-Type", "application/x-www-form-urlencoded")],
            b"text=a".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "unknown model",
            json.to_vec(),
            br#"{"text":"a","model":"gpt"}"#.to_vec(),
            400,
            "unknown_model",
        ),
        (
            "threshold 0",
            json.to_vec(),
            br#"{"text":"a","threshold":0}"#.to_vec(),
            400,
            "invalid_threshold",
        ),
        (
            "threshold 1",
            json.to_vec(),
            br#"{"text":"a","threshold":1}"#.to_vec(),
            400,
            "invalid_threshold",
        ),
        (
            "threshold 7",
            json.to_vec(),
            br#"{"text":"a","threshold":7}"#.to_vec(),
            400,
            "invalid_threshold",
        ),
        (
            "threshold text",
            json.to_vec(),
            br#"{"text":"a","threshold":"high"}"#.to_vec(),
            400,
            "malformed_json",
        ),
        (
            "invalid UTF-8",
            json.to_vec(),
            b"{\"text\":\"caf\xe9\"}".to_vec(),
            400,
            "invalid_utf8",
        ),
        (
            "text too long",
            json.to_vec(),
            format!(r#"{{"text":"{}"}}"#, "a".repeat(101)).into_bytes(),
            413,
            "text_too_long",
        ),
        (
            "too many texts",
            json.to_vec(),
            br#"{"texts":["a","b","c","d"]}"#.to_vec(),
            413,
            "too_many_texts",
        ),
        (
            "body too large",
            json.to_vec(),
            format!(r#"{{"text":"{}"}}"#, "a".repeat(5000)).into_bytes(),
            413,
            "body_too_large",
        ),
    ];
    for (what, headers, body, status, code) in cases {
        let r = request(addr, "POST", "/api/extract", &headers, &body).await;
        assert_eq!(r.status, status, "{what}: {}", r.text());
        assert_eq!(r.error_code(), code, "{what}");
    }
    let r = request(
        addr,
        "POST",
        "/api/extract",
        &json,
        format!(r#"{{"text":"{}"}}"#, "a".repeat(101)).as_bytes(),
    )
    .await;
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("100 characters"),
        "the limit is named"
    );
    let r = request(
        addr,
        "POST",
        "/api/extract",
        &json,
        br#"{"text":"a","model":"gpt"}"#,
    )
    .await;
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("conll04, scierc"),
        "the models are named"
    );

    let r = server.get("/api/extract").await;
    assert_eq!(r.status, 405);
    assert_eq!(r.error_code(), "method_not_allowed");
    let r = server.get("/api/nothing").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.error_code(), "not_found");

    // Nothing above cost the server a model or a place in the pool.
    let r = server
        .post_json(
            "/api/extract",
            &serde_json::json!({ "text": SENTENCE }).to_string(),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(!r.json()["results"][0]["entities"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(server.state.pool.in_flight(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_pool_answers_503_at_once() {
    let server = TestServer::start(
        Limits {
            workers: 1,
            queue: 0,
            ..Limits::default()
        },
        None,
    )
    .await;
    let addr = server.addr;
    let body = serde_json::json!({ "text": long_text(20_000) }).to_string();
    let slow = tokio::spawn(async move {
        request(
            addr,
            "POST",
            "/api/extract",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )
        .await
    });
    server.wait_in_flight(1).await;
    let r = server
        .post_json(
            "/api/extract",
            &serde_json::json!({ "text": SENTENCE }).to_string(),
        )
        .await;
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(r.error_code(), "busy");
    // Health checks are not extraction: they still answer.
    assert_eq!(server.get("/healthz").await.json()["in_flight"], 1);
    let slow = slow.await.unwrap();
    assert_eq!(slow.status, 200, "the running request is unharmed");
    // The place is free again.
    let r = server
        .post_json(
            "/api/extract",
            &serde_json::json!({ "text": SENTENCE }).to_string(),
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_extraction_times_out_with_504() {
    let server = TestServer::start(
        Limits {
            timeout: Duration::from_millis(1),
            ..limits()
        },
        None,
    )
    .await;
    let r = server
        .post_json(
            "/api/extract",
            &serde_json::json!({ "text": long_text(5_000) }).to_string(),
        )
        .await;
    assert_eq!(r.status, 504, "{}", r.text());
    assert_eq!(r.error_code(), "timeout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_the_request_in_flight() {
    let mut server = TestServer::start(limits(), None).await;
    let addr = server.addr;
    let text = long_text(20_000);
    let body = serde_json::json!({ "text": text }).to_string();
    let slow = tokio::spawn(async move {
        request(
            addr,
            "POST",
            "/api/extract",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )
        .await
    });
    server.wait_in_flight(1).await;
    server.begin_shutdown();
    let r = slow.await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["results"][0]["text"], text.as_str());
    server.stopped().await.expect("a clean stop");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no new connections after the stop"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiny_threshold_cannot_blow_up_the_answer() {
    // At 1e-20 the science model scores nearly every span and pair above the threshold;
    // before the decoder's limit, 380 characters gave 1.1 GB of triples.
    let server = TestServer::start(limits(), None).await;
    let text = "We propose a graph-based parsing method for dependency parsing that \
                outperforms transition-based parsers on the Penn Treebank. "
        .repeat(10);
    let body = serde_json::json!({ "text": text, "model": "scierc", "threshold": 1e-30 });
    let r = server.post_json("/api/extract", &body.to_string()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.body.len() < 2_000_000, "{} bytes", r.body.len());
}
