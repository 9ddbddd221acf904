//! Documents: the visitor's own files (opened or dropped on the page), read in the browser and
//! sent to the worker one document at a time, with progress, Cancel, a list of results that
//! opens each document in the annotated view, and exports in the formats of `mge extract`.
//! Nothing is uploaded: with the model on the server, documents are refused.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::browser::{page_now, save_bytes, save_file};
use super::state::Ui;
use crate::api::Timings;
use crate::chunks::sentence_chunks;
use crate::documents::{documents, export_brat_zip, export_csv, export_jsonl, page_of};
use crate::models::{example_name, MAX_CHARS};
use crate::protocol::{RunResult, ToWorker};
use crate::query::Backend;
use crate::stats::{counted, grouped};

/// One document of a file.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Doc {
    pub(super) file: usize,
    /// Its number in the file, from 1 (the line, or the CSV row after the header).
    pub(super) n: usize,
    /// The text until the worker has answered; then empty (the result holds the text), so
    /// that the page keeps each document's text once.
    pub(super) text: String,
    /// Its first words, for the list.
    pub(super) preview: String,
    pub(super) chars: usize,
    pub(super) result: Option<mge::extract::Extraction>,
    pub(super) error: Option<String>,
    pub(super) cancelled: bool,
}

impl Doc {
    /// Whether the worker has answered for it (a result or an error).
    fn answered(&self) -> bool {
        self.result.is_some() || self.error.is_some()
    }

    /// Whether nothing more will happen to it in this run.
    fn finished(&self) -> bool {
        self.answered() || self.cancelled
    }
}

/// A file the visitor gave, with its documents or why it has none.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct DocFile {
    pub(super) name: String,
    pub(super) error: Option<String>,
    pub(super) docs: usize,
}

/// The documents and how far their extraction is.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Docs {
    pub(super) files: Vec<DocFile>,
    pub(super) docs: Vec<Doc>,
    /// The document the worker has now.
    pub(super) running: Option<usize>,
    /// When this run started (page time, ms), and the documents and characters answered by
    /// then (for the speed of this run).
    pub(super) started_ms: f64,
    pub(super) start_docs: usize,
    pub(super) start_chars: usize,
    /// When the last document of the run finished (page time, ms; 0 while running).
    pub(super) finished_ms: f64,
    pub(super) cancelled: bool,
}

impl Docs {
    /// Characters of the documents that are or will be processed (not cancelled).
    fn chars_total(&self) -> usize {
        self.docs
            .iter()
            .filter(|d| !d.cancelled)
            .map(|d| d.chars)
            .sum()
    }

    /// Characters of the documents answered.
    fn chars_answered(&self) -> usize {
        self.docs
            .iter()
            .filter(|d| d.answered())
            .map(|d| d.chars)
            .sum()
    }

    fn finished(&self) -> usize {
        self.docs.iter().filter(|d| d.finished()).count()
    }
}

impl Ui {
    /// Reads the files (in the browser), adds their documents and starts the run if idle.
    pub(super) fn add_files(self, files: web_sys::FileList) {
        let list: Vec<web_sys::File> = (0..files.length()).filter_map(|i| files.get(i)).collect();
        let column = self.csv_column.get_untracked();
        leptos::task::spawn_local(async move {
            for f in list {
                let name = f.name();
                let bytes = match JsFuture::from(f.array_buffer()).await {
                    Ok(buf) => Ok(js_sys::Uint8Array::new(&buf).to_vec()),
                    Err(_) => Err("the browser could not read the file".to_string()),
                };
                let parsed =
                    bytes.and_then(|b| documents(&name, &b, &column).map_err(|e| e.to_string()));
                self.docs.update(|d| {
                    let file = d.files.len();
                    match parsed {
                        Ok(texts) => {
                            d.files.push(DocFile {
                                name,
                                error: None,
                                docs: texts.len(),
                            });
                            for (i, text) in texts.into_iter().enumerate() {
                                d.docs.push(Doc {
                                    file,
                                    n: i + 1,
                                    chars: text.chars().count(),
                                    preview: preview(&text),
                                    text,
                                    result: None,
                                    error: None,
                                    cancelled: false,
                                });
                            }
                        }
                        Err(error) => d.files.push(DocFile {
                            name,
                            error: Some(error),
                            docs: 0,
                        }),
                    }
                });
            }
            if self.docs.with_untracked(|d| d.running.is_none()) {
                self.docs.update(|d| {
                    d.cancelled = false;
                    d.started_ms = page_now();
                    d.finished_ms = 0.0;
                    d.start_docs = d.finished();
                    d.start_chars = d.chars_answered();
                });
                self.send_next_doc();
            }
        });
    }

    /// Sends the next waiting document to the worker, if any.
    fn send_next_doc(&self) {
        let next = self
            .docs
            .with_untracked(|d| d.docs.iter().position(|x| !x.finished()));
        let Some(i) = next else {
            self.docs.update(|d| {
                d.running = None;
                d.finished_ms = page_now();
            });
            return;
        };
        let id = self.fresh_id();
        self.latest_doc.set_value(id);
        let text = self.docs.with_untracked(|d| d.docs[i].text.clone());
        self.doc_chunk.set((0, 0));
        self.docs.update(|d| d.running = Some(i));
        self.send(&ToWorker::Document {
            id,
            model: self.model.get_untracked(),
            text,
            threshold: self.threshold.get_untracked(),
        });
    }

    /// Chunks done of the running document: a signal of its own, so that the list of
    /// documents is not redrawn for every chunk.
    pub(super) fn doc_progress(&self, done: usize, total: usize) {
        self.doc_chunk.set((done, total));
    }

    /// The worker's answer for the running document: its result or why it failed.
    pub(super) fn doc_finished(&self, outcome: Result<mge::extract::Extraction, String>) {
        self.docs.update(|d| {
            if let Some(i) = d.running.take() {
                let doc = &mut d.docs[i];
                match outcome {
                    Ok(r) => doc.result = Some(r),
                    Err(e) => doc.error = Some(e),
                }
                doc.text = String::new();
            }
        });
        if !self.docs.with_untracked(|d| d.cancelled) {
            self.send_next_doc();
        }
    }

    /// Stops after the chunk under way: the documents done stay, the rest are marked.
    fn cancel_docs(&self) {
        self.send(&ToWorker::Cancel);
        self.latest_doc.set_value(self.fresh_id());
        self.docs.update(|d| {
            d.cancelled = true;
            d.running = None;
            for x in d.docs.iter_mut().filter(|x| !x.answered()) {
                x.cancelled = true;
            }
        });
    }

    /// Shows document `i` in the annotated view, as if typed (without running it again); a
    /// document longer than the text box holds, a page at a time.
    fn open_doc(&self, i: usize) {
        self.open_doc_page(i, 0);
    }

    /// Shows page `page` of document `i`: pages end at sentence boundaries and hold at most
    /// what the text box holds.
    pub(super) fn open_doc_page(&self, i: usize, page: usize) {
        let Some((text, result)) = self.docs.with_untracked(|d| {
            d.docs
                .get(i)
                .and_then(|x| x.result.clone())
                .map(|r| (r.text.clone(), r))
        }) else {
            return;
        };
        let (shown, pages) = if text.chars().count() > MAX_CHARS {
            let pages = sentence_chunks(&text, MAX_CHARS);
            let n = pages.len();
            let Some(c) = pages.get(page.min(n.saturating_sub(1))) else {
                return;
            };
            let chars = text[c.byte_start..c.byte_end].chars().count();
            (
                page_of(&result, c.char_start, c.char_start + chars),
                Some((i, page.min(n - 1), n)),
            )
        } else {
            (result, None)
        };
        self.docs_note.set(None);
        self.debounce.update_value(|g| *g += 1);
        self.latest_extract.set_value(self.fresh_id());
        self.text.set(shown.text.clone());
        self.doc_page.set(pages);
        self.hover.set(None);
        self.pinned.set(None);
        self.result.set(Some(RunResult {
            model: self.model.get_untracked(),
            threshold: self.threshold.get_untracked(),
            extraction: shown,
            timings: Timings::default(),
            sentences: Vec::new(),
            chunks: 1,
        }));
        if let Some(el) = document().get_element_by_id("text") {
            el.scroll_into_view();
        }
    }

    fn export(&self, kind: &str) {
        let saved = self.docs.with_untracked(|d| {
            let done: Vec<&Doc> = d.docs.iter().filter(|x| x.result.is_some()).collect();
            let results = done.iter().filter_map(|x| x.result.as_ref());
            match kind {
                "jsonl" => save_file(
                    "mge-documents.jsonl",
                    &export_jsonl(results),
                    "application/x-ndjson",
                ),
                "csv" => save_file(
                    "mge-triples.csv",
                    &export_csv(done.iter().filter_map(|x| {
                        Some((d.files.get(x.file)?.name.as_str(), x.n, x.result.as_ref()?))
                    })),
                    "text/csv",
                ),
                _ => save_bytes("mge-brat.zip", &export_brat_zip(results), "application/zip"),
            }
        });
        if let Err(e) = saved {
            web_sys::console::error_2(&"export failed".into(), &e);
        }
    }
}

/// The first words of a document, for its entry in the list.
fn preview(text: &str) -> String {
    let name = example_name(text, 8);
    if name.is_empty() {
        "(empty)".into()
    } else {
        name
    }
}

/// How the table of all triples is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    Document,
    ScoreDown,
    ScoreUp,
}

/// Rows the table of all triples shows at most (the CSV export has them all).
const MAX_ROWS: usize = 500;

/// Every triple of every finished document, filtered by relation type and a search over
/// the two entities and the file name, in document order or by score (`#all-triples`).
fn all_triples_view(
    ui: Ui,
    filter: RwSignal<String>,
    search: RwSignal<String>,
    order: RwSignal<Order>,
) -> impl IntoView {
    move || {
        let (f, q, o) = (filter.get(), search.get().to_lowercase(), order.get());
        ui.docs.with(|d| {
            let mut rows = Vec::new();
            for (i, x) in d.docs.iter().enumerate() {
                let Some(r) = &x.result else { continue };
                let file = d.files.get(x.file).map(|f| f.name.as_str()).unwrap_or("");
                for rel in &r.relations {
                    let (Some(h), Some(t)) = (r.entities.get(rel.head), r.entities.get(rel.tail))
                    else {
                        continue;
                    };
                    if !f.is_empty() && rel.label != f {
                        continue;
                    }
                    // An empty search matches everything.
                    let hit = |s: &str| s.to_lowercase().contains(&q);
                    if !(hit(&h.text) || hit(&t.text) || hit(file)) {
                        continue;
                    }
                    rows.push((i, file, x.n, h, rel, t));
                }
            }
            match o {
                Order::Document => {}
                Order::ScoreDown => rows.sort_by(|a, b| b.4.score.total_cmp(&a.4.score)),
                Order::ScoreUp => rows.sort_by(|a, b| a.4.score.total_cmp(&b.4.score)),
            }
            let total = rows.len();
            let body = rows
                .into_iter()
                .take(MAX_ROWS)
                .map(|(i, file, n, h, rel, t)| {
                    view! {
                        <tr data-doc-row=i data-relation=rel.label.clone() tabindex="0"
                            on:click=move |_| ui.open_doc(i)
                            on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" { ui.open_doc(i) }>
                            <td class="where">{format!("{file} #{n}")}</td>
                            <td><span class="name">{h.text.clone()}</span>" "<small>{h.label.clone()}</small></td>
                            <td class="rel">{rel.label.clone()}</td>
                            <td><span class="name">{t.text.clone()}</span>" "<small>{t.label.clone()}</small></td>
                            <td class="num">{format!("{:.2}", rel.score)}</td>
                        </tr>
                    }
                })
                .collect_view();
            let caption = if total > MAX_ROWS {
                format!("{} of {} triples (the CSV export has all)", grouped(MAX_ROWS), grouped(total))
            } else {
                counted(total, "triple", "triples")
            };
            view! {
                <table id="all-triples" class="result-table">
                    <caption>{caption}</caption>
                    <thead><tr><th>"Document"</th><th>"Subject"</th><th>"Relation"</th><th>"Object"</th><th class="num">"Score"</th></tr></thead>
                    <tbody>{body}</tbody>
                </table>
            }
        })
    }
}

#[component]
pub(super) fn Documents(ui: Ui) -> impl IntoView {
    let on_files = move |ev: leptos::ev::Event| {
        let input = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
        if let Some(input) = input {
            if let Some(files) = input.files() {
                ui.add_files(files);
            }
            // The same file may be chosen again later.
            input.set_value("");
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        ui.drop_active.set(false);
        if let Some(files) = ev.data_transfer().and_then(|d| d.files()) {
            ui.add_files(files);
        }
    };
    let server = move || ui.backend.get() == Backend::Server;
    let summary = move || {
        let (chunk, chunks) = ui.doc_chunk.get();
        ui.docs.with(|d| {
            if d.docs.is_empty() && d.files.is_empty() {
                return None;
            }
            let total = d.chars_total().max(1);
            let running_part = d
                .running
                .and_then(|i| (d.docs[i].chars * chunk).checked_div(chunks))
                .unwrap_or(0);
            let done_chars = (d.chars_answered() + running_part).min(total);
            let secs = ((page_now() - d.started_ms) / 1000.0).max(0.001);
            let finished = d.finished();
            // Speed and time left count this run's work only.
            let rate = finished.saturating_sub(d.start_docs) as f64 / secs;
            let this_run = done_chars.saturating_sub(d.start_chars);
            let left = if this_run > 0 && d.running.is_some() {
                let per_char = secs / this_run as f64;
                format!(", about {:.0} s left", per_char * (total - done_chars) as f64)
            } else {
                String::new()
            };
            let state = if d.running.is_some() {
                format!("{rate:.1} documents/s{left}")
            } else if d.cancelled {
                "cancelled".to_string()
            } else {
                "done".to_string()
            };
            // For benchmarks: the run's wall time once it has finished.
            let elapsed = (d.running.is_none() && d.finished_ms > 0.0)
                .then(|| format!("{:.1}", d.finished_ms - d.started_ms));
            Some(view! {
                <p class="docs-progress" data-elapsed-ms=elapsed data-finished=finished>
                    <progress id="docs-progress" max=total value=done_chars></progress>
                    {format!(" {} of {} · {state}", grouped(finished), counted(d.docs.len(), "document", "documents"))}
                </p>
            })
        })
    };
    let list = move || {
        ui.docs.with(|d| {
            let files = d
                .files
                .iter()
                .enumerate()
                .map(|(f, file)| {
                    let items = d
                        .docs
                        .iter()
                        .enumerate()
                        .filter(|(_, x)| x.file == f)
                        .map(|(i, x)| {
                            let (status, ents, rels) = match (&x.result, &x.error) {
                                (Some(r), _) => ("done", r.entities.len(), r.relations.len()),
                                (None, Some(_)) => ("error", 0, 0),
                                _ if x.cancelled => ("cancelled", 0, 0),
                                _ if d.running == Some(i) => ("running", 0, 0),
                                _ => ("waiting", 0, 0),
                            };
                            let what = match (&x.result, &x.error) {
                                (Some(_), _) => format!(
                                    "{}, {}",
                                    counted(ents, "entity", "entities"),
                                    counted(rels, "relation", "relations")
                                ),
                                (None, Some(e)) => format!("failed: {e}"),
                                _ => status.to_string(),
                            };
                            view! {
                                <li data-doc=i data-file=file.name.clone() data-status=status
                                    data-entities=ents data-relations=rels>
                                    <button class="doc-open" disabled=status != "done"
                                        on:click=move |_| ui.open_doc(i)>
                                        {format!("#{} ", x.n)}<span class="doc-preview">{x.preview.clone()}</span>
                                    </button>
                                    <span class="doc-counts">{what}</span>
                                </li>
                            }
                        })
                        .collect_view();
                    let head = match &file.error {
                        Some(e) => format!("{}: {e}", file.name),
                        None => format!("{} · {}", file.name, counted(file.docs, "document", "documents")),
                    };
                    // The file's own progress: its documents finished (done, failed or cancelled).
                    let finished = d.docs.iter().filter(|x| x.file == f && x.finished()).count();
                    let bar = (file.error.is_none() && file.docs > 0).then(|| {
                        view! { <progress class="file-progress" max=file.docs value=finished></progress> }
                    });
                    view! {
                        <li class="doc-file" data-file-error=file.error.clone().unwrap_or_default()>
                            <span class=if file.error.is_some() { "file-name refuse" } else { "file-name" }>{head}</span>
                            " "{bar}
                            <ul>{items}</ul>
                        </li>
                    }
                })
                .collect_view();
            view! { <ul id="documents">{files}</ul> }
        })
    };
    let any_done = move || ui.docs.with(|d| d.docs.iter().any(|x| x.result.is_some()));
    let filter = RwSignal::new(String::new());
    let search = RwSignal::new(String::new());
    let order = RwSignal::new(Order::Document);
    let relation_types = move || {
        ui.docs.with(|d| {
            let mut t: Vec<String> = d
                .docs
                .iter()
                .filter_map(|x| x.result.as_ref())
                .flat_map(|r| r.relations.iter().map(|x| x.label.clone()))
                .collect();
            t.sort();
            t.dedup();
            t
        })
    };
    let triples = move || {
        any_done().then(|| {
            let options = relation_types()
                .into_iter()
                .map(|t| {
                    let selected = {
                        let t = t.clone();
                        move || filter.get() == t
                    };
                    view! { <option value=t.clone() prop:selected=selected>{t.clone()}</option> }
                })
                .collect_view();
            view! {
                <h3>"All triples"</h3>
                <div class="docs-controls triples-controls">
                    <label>"Relation "
                        <select id="triples-filter" on:change=move |ev| filter.set(event_target_value(&ev))>
                            <option value="" prop:selected=move || filter.get().is_empty()>"all"</option>
                            {options}
                        </select>
                    </label>
                    <label>"Search "
                        <input id="triples-search" type="search" placeholder="entity or file"
                            prop:value=move || search.get()
                            on:input=move |ev| search.set(event_target_value(&ev)) />
                    </label>
                    <label>"Order "
                        <select id="triples-order" on:change=move |ev| order.set(match event_target_value(&ev).as_str() {
                            "down" => Order::ScoreDown,
                            "up" => Order::ScoreUp,
                            _ => Order::Document,
                        })>
                            <option value="doc">"as in the documents"</option>
                            <option value="down">"score, highest first"</option>
                            <option value="up">"score, lowest first"</option>
                        </select>
                    </label>
                </div>
                {all_triples_view(ui, filter, search, order)}
            }
        })
    };
    view! {
        <section class=move || if ui.drop_active.get() { "documents dropping" } else { "documents" }
            aria-label="Documents"
            on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); ui.drop_active.set(true); }
            on:dragleave=move |_| ui.drop_active.set(false)
            on:drop=on_drop>
            <h2>"Your documents"</h2>
            <p class="hint-plain">"Open or drop files: plain text and Markdown (one document per line, as "
                <code>"mge extract"</code>" reads them), JSONL with a "<code>"text"</code>
                " field, or CSV with a text column. They are read and analysed in this browser; nothing is uploaded."</p>
            <div class="docs-controls">
                <label class="file-button">"Open files "
                    <input id="files" type="file" multiple accept=".txt,.md,.markdown,.text,.jsonl,.ndjson,.csv"
                        disabled=server on:change=on_files />
                </label>
                <label>"CSV column "
                    <input id="csv-column" type="text" size="10" prop:value=move || ui.csv_column.get()
                        on:input=move |ev| ui.csv_column.set(event_target_value(&ev)) />
                </label>
                <button id="docs-cancel" disabled=move || ui.docs.with(|d| d.running.is_none())
                    on:click=move |_| ui.cancel_docs()>"Cancel"</button>
                <button id="export-jsonl" disabled=move || !any_done() on:click=move |_| ui.export("jsonl")>"Export JSONL"</button>
                <button id="export-brat" disabled=move || !any_done() on:click=move |_| ui.export("brat")>"Export brat (.zip)"</button>
                <button id="export-csv" disabled=move || !any_done() on:click=move |_| ui.export("csv")>"Export triples (CSV)"</button>
            </div>
            {move || server().then(|| view! { <p class="refuse">"The model runs on this page's server now; your files would have to be uploaded, so documents are off."</p> })}
            {move || ui.docs_note.get().map(|n| view! { <p class="hint">{n}</p> })}
            {summary}
            {list}
            {triples}
        </section>
    }
}
