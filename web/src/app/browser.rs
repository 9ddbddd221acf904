//! Small wrappers around browser facilities: the clock, the offline cache, downloads and text
//! measurement.

use std::cell::RefCell;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// Milliseconds since the page started loading.
pub(super) fn page_now() -> f64 {
    window().performance().map(|p| p.now()).unwrap_or(0.0)
}

/// Asks the service worker (`sw.js`, registered by `index.html`) to keep a copy of `url`, in
/// case the page was not yet under its control when the worker fetched it.
pub(super) fn cache_offline(url: &str) {
    let Ok(f) = js_sys::Reflect::get(&window(), &"mgeCacheForOffline".into()) else {
        return;
    };
    if let Some(f) = f.dyn_ref::<js_sys::Function>() {
        let _ = f.call1(&JsValue::NULL, &JsValue::from_str(url));
    }
}

/// Hands `content` to the browser as a download named `name`.
pub(super) fn save_bytes(name: &str, content: &[u8], mime: &str) -> Result<(), JsValue> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(content));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts)?;
    download(&blob, name)
}

fn download(blob: &web_sys::Blob, name: &str) -> Result<(), JsValue> {
    let url = web_sys::Url::create_object_url_with_blob(blob)?;
    let a: web_sys::HtmlAnchorElement = document().create_element("a")?.unchecked_into();
    a.set_href(&url);
    a.set_download(name);
    a.click();
    web_sys::Url::revoke_object_url(&url)?;
    Ok(())
}

pub(super) fn save_file(name: &str, content: &str, mime: &str) -> Result<(), JsValue> {
    let parts = js_sys::Array::of1(&JsValue::from_str(content));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts)?;
    download(&blob, name)
}

thread_local! {
    static MEASURE: RefCell<Option<CanvasRenderingContext2d>> = const { RefCell::new(None) };
}

/// Widths of `texts` in `font`, measured on an off-screen canvas (estimated from the number
/// of characters when there is no canvas).
pub(super) fn measure(font: &str, texts: &[&str]) -> Vec<f64> {
    MEASURE.with(|m| {
        let mut m = m.borrow_mut();
        if m.is_none() {
            *m = document()
                .create_element("canvas")
                .ok()
                .and_then(|c| c.dyn_into::<HtmlCanvasElement>().ok())
                .and_then(|c| c.get_context("2d").ok().flatten())
                .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok());
        }
        match m.as_ref() {
            Some(ctx) => {
                ctx.set_font(font);
                texts
                    .iter()
                    .map(|t| ctx.measure_text(t).map(|m| m.width()).unwrap_or(0.0))
                    .collect()
            }
            None => texts
                .iter()
                .map(|t| t.chars().count() as f64 * 9.0)
                .collect(),
        }
    })
}

/// `window.mgeMemory()`: bytes of the page's WebAssembly memory (which only grows, so it
/// tells the most the page's own data ever took), for the test of long documents and for
/// anyone watching the page's memory.
pub(super) fn expose_memory() {
    let size = Closure::<dyn Fn() -> f64>::new(|| {
        js_sys::Reflect::get(&wasm_bindgen::memory(), &"buffer".into())
            .ok()
            .and_then(|b| b.dyn_into::<js_sys::ArrayBuffer>().ok())
            .map_or(0.0, |b| f64::from(b.byte_length()))
    });
    let _ = js_sys::Reflect::set(&window(), &"mgeMemory".into(), size.as_ref());
    size.forget();
}
