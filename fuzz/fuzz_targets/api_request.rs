//! Request bodies into the API's parsing (`mge_server::api::parse_extract_request`), as
//! they arrive over HTTP: any bytes, with one of a few content types. Every input is
//! either a job within the limits or a 4xx error with a reason; never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mge_server::api::parse_extract_request;
use mge_server::Limits;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the Content-Type header; the rest is the body.
    let (content_type, body) = match data.split_first() {
        Some((b, rest)) => (
            match b % 5 {
                0 => Some("application/json"),
                1 => Some("application/json; charset=utf-8"),
                2 => Some("application/problem+json"),
                3 => Some("text/plain"),
                _ => None,
            },
            rest,
        ),
        None => (None, data),
    };
    let limits = Limits {
        max_body_bytes: 4096,
        max_chars: 200,
        max_texts: 4,
        ..Limits::default()
    };
    match parse_extract_request(content_type, body, &limits) {
        Ok(job) => {
            assert!(content_type.is_some_and(|c| c.contains("json")));
            assert!(!job.texts.is_empty() && job.texts.len() <= limits.max_texts);
            for t in &job.texts {
                assert!(t.chars().count() <= limits.max_chars);
            }
            if let Some(t) = job.threshold {
                assert!(t > 0.0 && t < 1.0, "threshold {t}");
            }
        }
        Err(e) => {
            assert!(e.status.is_client_error(), "{e:?}");
            assert!(!e.message.is_empty());
        }
    }
});
