//! Shareable links: `?text=…&model=conll04|scierc|ade&threshold=…` (and `bench=1`,
//! `backend=webgpu|wasm|server`, `workers=N`).

use crate::models::ModelKey;

/// What a page address asks for. Values that do not parse are ignored (left `None`), never
/// an error: a mangled link still opens the page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageQuery {
    pub text: Option<String>,
    pub model: Option<ModelKey>,
    pub threshold: Option<f32>,
    pub bench: bool,
    /// Where the model runs, when the link says (otherwise the page chooses).
    pub backend: Option<Backend>,
    /// How many workers documents go to (otherwise one per core, at most four).
    pub workers: Option<usize>,
}

/// Where the model runs: in the page's worker on the visitor's GPU (WebGPU) or in
/// WebAssembly, or on the server that serves the page (`mge serve`), the fallback when the
/// worker cannot run it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    WebGpu,
    Wasm,
    Server,
}

impl Backend {
    /// The value of `#status[data-backend]` and of `?backend=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::WebGpu => "webgpu",
            Backend::Wasm => "wasm",
            Backend::Server => "server",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        match key.trim().to_ascii_lowercase().as_str() {
            "webgpu" => Some(Backend::WebGpu),
            "wasm" => Some(Backend::Wasm),
            "server" => Some(Backend::Server),
            _ => None,
        }
    }
}

/// Lowest and highest threshold the slider offers; link values are clamped to them.
pub const THRESHOLD_MIN: f32 = 0.05;
pub const THRESHOLD_MAX: f32 = 0.95;

/// Parses `location.search` (with or without the leading `?`).
pub fn parse_query(search: &str) -> PageQuery {
    let mut q = PageQuery::default();
    let search = search.strip_prefix('?').unwrap_or(search);
    for pair in search.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode_component(key);
        let value = decode_component(value);
        match key.as_str() {
            "text" => q.text = Some(value),
            "model" => q.model = ModelKey::from_key(value.trim()),
            "threshold" => q.threshold = parse_threshold(&value),
            "bench" => q.bench = matches!(value.trim(), "1" | "true" | "yes" | ""),
            "backend" => q.backend = Backend::from_key(&value),
            "workers" => q.workers = value.trim().parse().ok().filter(|&n| (1..=64).contains(&n)),
            _ => {}
        }
    }
    q
}

/// A threshold from a link: a finite number, clamped to the slider's range.
pub fn parse_threshold(value: &str) -> Option<f32> {
    let t: f32 = value.trim().parse().ok()?;
    t.is_finite().then(|| t.clamp(THRESHOLD_MIN, THRESHOLD_MAX))
}

/// The query string (with `?`) that reproduces the page's state.
pub fn build_query(text: &str, model: ModelKey, threshold: f32) -> String {
    format!(
        "?text={}&model={}&threshold={}",
        encode_component(text),
        model.key(),
        format_threshold(threshold)
    )
}

/// A threshold as the slider shows it: two decimals, trailing zeros dropped.
pub fn format_threshold(t: f32) -> String {
    let s = format!("{:.2}", t);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// Percent-encodes everything but unreserved characters (RFC 3986), byte by byte in UTF-8.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes and `+` (a space in form encoding). Malformed escapes stay as they
/// are; byte sequences that are not UTF-8 become U+FFFD.
pub fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => match (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: Option<&u8>) -> Option<u8> {
    let c = *b?;
    (c as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_query_asks_for_nothing() {
        assert_eq!(parse_query(""), PageQuery::default());
        assert_eq!(parse_query("?"), PageQuery::default());
    }

    #[test]
    fn all_fields() {
        let q = parse_query("?text=Maria+works+in%20Geneva.&model=scierc&threshold=0.3&bench=1");
        assert_eq!(q.text.as_deref(), Some("Maria works in Geneva."));
        assert_eq!(q.model, Some(ModelKey::Scierc));
        assert_eq!(q.threshold, Some(0.3));
        assert!(q.bench);
    }

    #[test]
    fn unknown_or_bad_values_are_ignored() {
        let q = parse_query("model=wikipedia&threshold=abc&colour=red&bench=0");
        assert_eq!(q.model, None);
        assert_eq!(q.threshold, None);
        assert!(!q.bench);
        assert_eq!(parse_query("threshold=NaN").threshold, None);
        assert_eq!(parse_query("threshold=inf").threshold, None);
    }

    #[test]
    fn threshold_is_clamped_to_the_slider() {
        assert_eq!(parse_query("threshold=2").threshold, Some(THRESHOLD_MAX));
        assert_eq!(parse_query("threshold=-1").threshold, Some(THRESHOLD_MIN));
    }

    #[test]
    fn backends() {
        assert_eq!(parse_query("backend=server").backend, Some(Backend::Server));
        assert_eq!(parse_query("backend=WASM").backend, Some(Backend::Wasm));
        assert_eq!(parse_query("backend=webgpu").backend, Some(Backend::WebGpu));
        for b in [Backend::WebGpu, Backend::Wasm, Backend::Server] {
            assert_eq!(Backend::from_key(b.as_str()), Some(b));
        }
        assert_eq!(parse_query("backend=quantum").backend, None);
        assert_eq!(parse_query("text=a").backend, None);
    }

    #[test]
    fn workers_are_a_small_positive_count() {
        assert_eq!(parse_query("workers=2").workers, Some(2));
        assert_eq!(parse_query("workers=0").workers, None);
        assert_eq!(parse_query("workers=many").workers, None);
        assert_eq!(parse_query("text=a").workers, None);
    }

    #[test]
    fn model_keys_ignore_case() {
        assert_eq!(parse_query("model=CoNLL04").model, Some(ModelKey::Conll04));
    }

    #[test]
    fn malformed_escapes_and_bad_utf8_do_not_fail() {
        assert_eq!(decode_component("100%"), "100%");
        assert_eq!(decode_component("%zz%4"), "%zz%4");
        assert_eq!(decode_component("%FF"), "\u{FFFD}");
        assert_eq!(decode_component("%E2%82%AC"), "€");
    }

    #[test]
    fn text_without_value_and_repeated_keys() {
        assert_eq!(parse_query("text").text.as_deref(), Some(""));
        // The last value wins, as in URLSearchParams.get on a rebuilt link.
        assert_eq!(parse_query("text=a&text=b").text.as_deref(), Some("b"));
    }

    #[test]
    fn build_then_parse_round_trips() {
        let text = "Zoë & <b>Bob</b> met in São Paulo?\n100% sure = yes #1 + ümlaut 東京";
        let link = build_query(text, ModelKey::Scierc, 0.35);
        assert!(!link.contains(' ') && !link.contains('<') && !link.contains('#'));
        let q = parse_query(&link);
        assert_eq!(q.text.as_deref(), Some(text));
        assert_eq!(q.model, Some(ModelKey::Scierc));
        assert_eq!(q.threshold, Some(0.35));
        assert!(!q.bench);
    }

    #[test]
    fn thresholds_print_short() {
        assert_eq!(format_threshold(0.5), "0.5");
        assert_eq!(format_threshold(0.35), "0.35");
        assert_eq!(format_threshold(0.3500001), "0.35");
    }
}
