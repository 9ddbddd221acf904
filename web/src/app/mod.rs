//! The page: text box, model picker, threshold, the annotated text with relation arcs, the
//! triples, timings, the teaching view and the in-page benchmark.
//!
//! All model work happens in the worker (`crate::worker`); this side only sends requests,
//! keeps the id of the latest one of each kind and renders what comes back. When the
//! worker cannot run the model (its WebAssembly does not start, or the model does not
//! load) and the page is served by `mge serve`, the same requests go to the server's API
//! instead (`crate::remote`); `?backend=server` asks for that from the start.

mod annotated;
mod bench;
mod browser;
mod documents;
mod input;
mod messages;
mod pool;
mod results;
mod state;
mod status;
mod teaching;
mod triples;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use annotated::ANNOTATED_INSET;
use bench::BenchPanel;
use documents::Documents;
use input::{Controls, TextInput};
use results::Results;
use state::Ui;
use status::{Header, PageFooter, Progress};
use teaching::Teaching;

use crate::query::parse_query;

#[component]
pub fn App() -> impl IntoView {
    let search = window().location().search().unwrap_or_default();
    let q = parse_query(&search);
    let ui = Ui::new(&q);
    ui.load_model();
    ui.start_worker();

    // Width available to the annotated text, kept current on resize.
    let text_box = NodeRef::<leptos::html::Div>::new();
    let measure_width = move || {
        if let Some(el) = text_box.get_untracked() {
            let w = el.client_width() as f64 - ANNOTATED_INSET;
            if w > 0.0 && (w - ui.width.get_untracked()).abs() >= 1.0 {
                ui.width.set(w);
            }
        }
    };
    Effect::new(move |_| {
        if text_box.get().is_some() {
            measure_width();
        }
    });
    // The page lives as long as the document: the listener is never removed.
    let _resize = window_event_listener(leptos::ev::resize, move |_| measure_width());

    view! {
        <Header ui=ui />
        <Controls ui=ui />
        <TextInput ui=ui />
        <Progress ui=ui />
        <section class="output">
            <div class="measure" node_ref=text_box></div>
            <Results ui=ui />
        </section>
        <Documents ui=ui />
        <Teaching ui=ui />
        {ui.query_bench.then(|| view! { <BenchPanel ui=ui /> })}
        <PageFooter ui=ui />
    }
}

/// Mounts the page into `#app` (or the body when there is none).
pub fn start() {
    console_error_panic_hook::set_once();
    browser::expose_memory();
    let target = document()
        .get_element_by_id("app")
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    match target {
        Some(el) => {
            el.set_inner_html("");
            leptos::mount::mount_to(el, App).forget();
        }
        None => leptos::mount::mount_to_body(App),
    }
}
