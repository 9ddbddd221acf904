//! Documents: the visitor's own files (opened or dropped on the page), read in the browser a
//! piece at a time and sent to the worker one document (or one part of a long document) at a
//! time, with progress, Cancel, a list of results that opens each document in the annotated
//! view, and exports in the formats of `mge extract`. Nothing is uploaded: with the model on
//! the server, documents are refused.
//!
//! Memory follows the results, not the files: a file is read in slices of [`SLICE_BYTES`],
//! and only while fewer than [`READ_AHEAD_CHARS`] characters of documents wait for the
//! worker; a document's text is held once (as its result's text once answered); a document
//! longer than [`PART_CHARS`] goes to the worker in parts of whole sentences.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::browser::{page_now, save_bytes, save_file};
use super::state::Ui;
use crate::api::Timings;
use crate::chunks::{append_shifted, next_part, sentence_chunks, Chunk};
use crate::documents::{export_brat_zip, export_csv, export_jsonl, page_of, DocReader, ReadDoc};
use crate::models::{example_name, MAX_CHARS};
use crate::protocol::{RunResult, ToWorker};
use crate::query::Backend;
use crate::stats::{counted, grouped};

/// Bytes of a file read at a time.
const SLICE_BYTES: f64 = 1024.0 * 1024.0;
/// Characters of documents read ahead of the worker at most (reading waits beyond).
const READ_AHEAD_CHARS: usize = 512 * 1024;
/// A longer document goes to the worker in parts of whole sentences of at most this many
/// characters, so that neither side holds a message of the whole document.
const PART_CHARS: usize = 64 * 1024;
/// Documents of a file listed at most (the exports and the triples table have them all).
const LISTED_PER_FILE: usize = 1000;

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
    /// Bytes of the file it takes (with its line break), for progress by bytes, and the
    /// file offset just past it.
    pub(super) bytes: usize,
    byte_end: usize,
    /// Where the text not yet sent begins (byte, char), the part the worker has, and the
    /// results of the parts answered.
    sent: (usize, usize),
    part: Option<Chunk>,
    partial: Option<mge::extract::Extraction>,
    /// The worker of the pool its parts go to, once it has started.
    slot: Option<usize>,
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

    /// The value of its `data-state`.
    fn state(&self, running: bool) -> &'static str {
        match (&self.result, &self.error) {
            (Some(_), _) => "done",
            (None, Some(_)) => "error",
            _ if self.cancelled => "cancelled",
            _ if running => "running",
            _ => "queued",
        }
    }
}

/// A file the visitor gave: its size, how far it has been read, its documents so far, and
/// why it stopped when it did.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct DocFile {
    pub(super) name: String,
    pub(super) error: Option<String>,
    pub(super) docs: usize,
    pub(super) size: usize,
    /// Whether every byte has been read (or reading stopped for good).
    pub(super) read: bool,
    /// Why reading stopped before the end without a fault (Cancel).
    pub(super) note: Option<String>,
}

/// A file being read: the browser's handle, where the next slice begins, the reader.
pub(super) struct Reading {
    file: usize,
    handle: web_sys::File,
    next: f64,
    reader: DocReader,
}

/// The documents and how far their extraction is.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Docs {
    pub(super) files: Vec<DocFile>,
    pub(super) docs: Vec<Doc>,
    /// The documents a worker has now (one per worker of the pool at most).
    pub(super) running: Vec<usize>,
    /// When this run started (page time, ms), and the bytes finished and sentences answered
    /// by then (for the speed of this run).
    pub(super) started_ms: f64,
    pub(super) start_bytes: usize,
    /// Sentences answered in this run.
    pub(super) sentences: usize,
    /// When the last document of the run finished (page time, ms; 0 while running).
    pub(super) finished_ms: f64,
    pub(super) cancelled: bool,
}

impl Docs {
    /// Bytes of the readable files (what the run goes through).
    fn bytes_total(&self) -> usize {
        self.files
            .iter()
            .filter(|f| f.error.is_none())
            .map(|f| f.size)
            .sum()
    }

    /// Bytes of the documents finished, and the answered share of the running ones
    /// (`chunks`: a running document's part, its chunks done and all).
    fn bytes_finished(&self, chunks: &[(usize, usize, usize)]) -> usize {
        let done: usize = self
            .docs
            .iter()
            .filter(|d| d.finished())
            .map(|d| d.bytes)
            .sum();
        let running: usize = self
            .running
            .iter()
            .filter_map(|&i| {
                let d = self.docs.get(i)?;
                let (k, n) = chunks
                    .iter()
                    .find(|c| c.0 == i)
                    .map_or((0, 1), |c| (c.1, c.2));
                let share = d.part.map_or(0.0, |p| {
                    let part_chars = d.sent.1.saturating_sub(p.char_start) as f64;
                    (p.char_start as f64 + part_chars * k as f64 / n.max(1) as f64)
                        / d.chars.max(1) as f64
                });
                Some((d.bytes as f64 * share.clamp(0.0, 1.0)) as usize)
            })
            .sum();
        done + running
    }

    /// Characters of documents read and not yet answered.
    fn chars_waiting(&self) -> usize {
        self.docs
            .iter()
            .filter(|d| !d.finished())
            .map(|d| d.chars)
            .sum()
    }

    fn finished(&self) -> usize {
        self.docs.iter().filter(|d| d.finished()).count()
    }
}

impl Ui {
    /// Adds the files (read in the browser, a slice at a time) and starts the run if idle.
    pub(super) fn add_files(self, files: web_sys::FileList) {
        let column = self.csv_column.get_untracked();
        let list: Vec<web_sys::File> = (0..files.length()).filter_map(|i| files.get(i)).collect();
        let idle = self.docs.with_untracked(|d| d.running.is_empty());
        for handle in list {
            let name = handle.name();
            let size = handle.size() as usize;
            let reader = DocReader::new(&name, &column);
            self.docs.update(|d| {
                let file = d.files.len();
                let error = reader.as_ref().err().map(ToString::to_string);
                d.files.push(DocFile {
                    name,
                    read: error.is_some(),
                    error,
                    docs: 0,
                    size,
                    note: None,
                });
                if let Ok(reader) = reader {
                    self.readings.update_value(|r| {
                        r.push(Reading {
                            file,
                            handle,
                            next: 0.0,
                            reader,
                        })
                    });
                }
            });
        }
        if idle {
            self.docs.update(|d| {
                d.cancelled = false;
                d.started_ms = page_now();
                d.finished_ms = 0.0;
                d.start_bytes = d.bytes_finished(&[]);
                d.sentences = 0;
            });
        }
        self.read_ahead();
    }

    /// Reads the files on, a slice at a time, while few characters wait for the worker;
    /// sends the next document when the worker is idle. One reading at a time.
    fn read_ahead(self) {
        if self.reading_now.get_value() {
            return;
        }
        self.reading_now.set_value(true);
        leptos::task::spawn_local(async move {
            loop {
                if self.docs.with_untracked(|d| d.cancelled) {
                    break;
                }
                if self.docs.with_untracked(|d| d.chars_waiting()) >= READ_AHEAD_CHARS {
                    break;
                }
                let Some((handle, next)) = self
                    .readings
                    .with_value(|r| r.first().map(|x| (x.handle.clone(), x.next)))
                else {
                    break;
                };
                let size = handle.size();
                let end = (next + SLICE_BYTES).min(size);
                let bytes = match handle.slice_with_f64_and_f64(next, end) {
                    Ok(blob) => JsFuture::from(blob.array_buffer())
                        .await
                        .map(|b| js_sys::Uint8Array::new(&b).to_vec())
                        .map_err(|_| "the browser could not read the file".to_string()),
                    Err(_) => Err("the browser could not read the file".to_string()),
                };
                self.take_slice(bytes, end, end >= size);
                self.dispatch_docs();
            }
            self.reading_now.set_value(false);
            self.dispatch_docs();
        });
    }

    /// Gives a slice of the first file being read to its reader and adds the documents it
    /// completes; the file's end, or a fault, ends its reading.
    fn take_slice(&self, bytes: Result<Vec<u8>, String>, end: f64, last: bool) {
        let Some(mut reading) = self
            .readings
            .try_update_value(|r| (!r.is_empty()).then(|| r.remove(0)))
            .flatten()
        else {
            return;
        };
        let (mut got, mut fault) = match bytes {
            Ok(b) => {
                let (docs, read) = reading.reader.push(&b);
                (docs, read.err().map(|e| e.to_string()))
            }
            Err(e) => (Vec::new(), Some(e)),
        };
        if fault.is_none() && last {
            match reading.reader.finish() {
                Ok(docs) => got.extend(docs),
                Err(e) => fault = Some(e.to_string()),
            }
        }
        let file = reading.file;
        let done = fault.is_some() || last;
        self.docs.update(|d| {
            add_read_docs(d, file, got, fault);
            if let Some(f) = d.files.get_mut(file).filter(|_| done) {
                f.read = true;
            }
        });
        if !done {
            reading.next = end;
            self.readings.update_value(|r| r.insert(0, reading));
        }
    }

    /// Gives every idle worker of the pool a document, or the next part of the long one it
    /// has; when nothing is left to give and files are still being read, reading goes on;
    /// when nothing is left at all, the run is over.
    pub(super) fn dispatch_docs(self) {
        if self.docs.with_untracked(|d| d.cancelled) {
            return;
        }
        self.ensure_pool();
        let model = self.model.get_untracked();
        let slots = self.slots.with_value(|s| s.len());
        for k in 0..slots {
            let idle = self
                .slots
                .with_value(|s| s.get(k).is_some_and(|x| x.ready && x.busy.is_none()));
            if !idle || !self.slot_has_model(k, model) {
                continue;
            }
            // Its own long document first, else the first one nobody has started.
            let next = self.docs.with_untracked(|d| {
                let free = |i: &usize| !d.running.contains(i);
                let doc = |i: usize| &d.docs[i];
                (0..d.docs.len())
                    .filter(free)
                    .find(|&i| !doc(i).finished() && doc(i).slot == Some(k))
                    .or_else(|| {
                        (0..d.docs.len())
                            .filter(free)
                            .find(|&i| !doc(i).finished() && doc(i).slot.is_none())
                    })
            });
            let Some(i) = next else { break };
            self.send_part(k, i, model);
        }
        let (idle, waiting) = self
            .docs
            .with_untracked(|d| (d.running.is_empty(), d.docs.iter().any(|x| !x.finished())));
        if self.readings.with_value(|r| !r.is_empty()) {
            // Reading stops at the read-ahead limit and goes on from here once documents
            // are answered.
            let room = self.docs.with_untracked(|d| d.chars_waiting()) < READ_AHEAD_CHARS;
            if room && !self.reading_now.get_value() {
                self.read_ahead();
            }
        } else if idle && !waiting {
            self.docs.update(|d| {
                if d.finished_ms == 0.0 {
                    d.finished_ms = page_now();
                }
            });
            self.tick_triples(true);
        }
    }

    /// Sends document `i` (whole, or its next part) to worker `k`.
    fn send_part(&self, k: usize, i: usize, model: crate::models::ModelKey) {
        let id = self.fresh_id();
        self.doc_requests.update_value(|r| r.push((id, i)));
        self.slots.update_value(|s| {
            if let Some(x) = s.get_mut(k) {
                x.busy = Some(id);
            }
        });
        let text = self.docs.try_update(|d| {
            d.running.push(i);
            d.finished_ms = 0.0;
            let doc = &mut d.docs[i];
            doc.slot = Some(k);
            // A short document goes whole; a long one a part of whole sentences at a time,
            // found in a window of the text after the part before (not by segmenting the
            // whole document at once).
            let (from, from_char) = doc.sent;
            let part = if doc.chars <= PART_CHARS {
                Chunk {
                    byte_start: 0,
                    byte_end: doc.text.len(),
                    char_start: 0,
                    sentences: 0,
                }
            } else {
                next_part(&doc.text, from, from_char, PART_CHARS).unwrap_or(Chunk {
                    byte_start: from,
                    byte_end: doc.text.len(),
                    char_start: from_char,
                    sentences: 0,
                })
            };
            let text = doc.text[part.byte_start..part.byte_end].to_string();
            doc.sent = (part.byte_end, part.char_start + text.chars().count());
            doc.part = Some(part);
            text
        });
        self.post_to(
            k,
            &ToWorker::Document {
                id,
                model,
                text: text.unwrap_or_default(),
                threshold: self.threshold.get_untracked(),
            },
        );
    }

    /// Whether `id` is a request for a document of this run.
    pub(super) fn is_doc_request(&self, id: u64) -> bool {
        self.doc_requests
            .with_value(|r| r.iter().any(|x| x.0 == id))
    }

    /// Chunks done of a document part at a worker: a signal of its own, so that the list
    /// of documents is not redrawn for every chunk.
    pub(super) fn doc_progress(&self, id: u64, done: usize, total: usize) {
        let Some(i) = self
            .doc_requests
            .with_value(|r| r.iter().find(|x| x.0 == id).map(|x| x.1))
        else {
            return;
        };
        self.doc_chunk.update(|c| {
            c.retain(|x| x.0 != i);
            c.push((i, done, total));
        });
    }

    /// A worker's answer for a document (or part): its result or why it failed.
    pub(super) fn doc_finished(self, id: u64, outcome: Result<RunResult, String>) {
        let Some(i) = self
            .doc_requests
            .try_update_value(|r| {
                let at = r.iter().position(|x| x.0 == id)?;
                Some(r.remove(at).1)
            })
            .flatten()
        else {
            return;
        };
        self.slots.update_value(|s| {
            for x in s.iter_mut().filter(|x| x.busy == Some(id)) {
                x.busy = None;
            }
        });
        self.doc_chunk.update(|c| c.retain(|x| x.0 != i));
        self.docs.update(|d| {
            d.running.retain(|&x| x != i);
            let doc = &mut d.docs[i];
            match outcome {
                Ok(r) => {
                    d.sentences += r.sentence_count;
                    let start = doc.part.take().map_or(0, |c| c.char_start);
                    let whole = doc.partial.get_or_insert_with(Default::default);
                    append_shifted(whole, r.extraction, start);
                    // Done when only white space is left after the parts sent.
                    let rest = doc.text.get(doc.sent.0..).unwrap_or_default();
                    if rest.trim().is_empty() {
                        let mut whole = doc.partial.take().unwrap_or_default();
                        whole.text = std::mem::take(&mut doc.text);
                        doc.result = Some(whole);
                    }
                }
                Err(e) => {
                    doc.error = Some(e);
                    doc.text = String::new();
                    doc.partial = None;
                }
            }
        });
        self.dispatch_docs();
        self.tick_triples(false);
    }

    /// Lets the table of all triples redraw: at once when `now`, otherwise at most once a
    /// second, so that a run of many short documents does not rebuild it after each one.
    fn tick_triples(&self, now: bool) {
        let t = page_now();
        if now || t - self.triples_tick_ms.get_value() >= 1000.0 {
            self.triples_tick_ms.set_value(t);
            self.triples_tick.update(|n| *n += 1);
        }
    }

    /// Stops after the chunk under way: the documents done stay, the rest are marked, and
    /// files not read to their end stay unread.
    fn cancel_docs(&self) {
        let slots = self.slots.with_value(|s| s.len());
        for k in 0..slots {
            self.post_to(k, &ToWorker::Cancel);
        }
        self.doc_requests.update_value(|r| r.clear());
        self.slots
            .update_value(|s| s.iter_mut().for_each(|x| x.busy = None));
        self.doc_chunk.set(Vec::new());
        let unread: Vec<usize> = self
            .readings
            .try_update_value(|r| r.drain(..).map(|x| x.file).collect())
            .unwrap_or_default();
        self.docs.update(|d| {
            d.cancelled = true;
            d.running.clear();
            d.finished_ms = page_now();
            for x in d.docs.iter_mut().filter(|x| !x.answered()) {
                x.cancelled = true;
                x.text = String::new();
                x.partial = None;
            }
            for f in unread {
                if let Some(file) = d.files.get_mut(f) {
                    file.read = true;
                    file.note = Some("cancelled before the end of the file".into());
                }
            }
        });
        self.tick_triples(true);
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
            sentence_count: 0,
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

/// Adds the documents read from file `file` (the file's fault, if reading it failed).
fn add_read_docs(d: &mut Docs, file: usize, got: Vec<ReadDoc>, fault: Option<String>) {
    let Some(f) = d.files.get_mut(file) else {
        return;
    };
    // Each document takes the file's bytes from the previous one's end to its own.
    let mut start = d
        .docs
        .iter()
        .rev()
        .find(|x| x.file == file)
        .map_or(0, |x| x.byte_end);
    for ReadDoc { text, byte_end } in got {
        f.docs += 1;
        d.docs.push(Doc {
            file,
            n: f.docs,
            chars: text.chars().count(),
            preview: preview(&text),
            bytes: byte_end.saturating_sub(start),
            byte_end,
            text,
            sent: (0, 0),
            part: None,
            partial: None,
            slot: None,
            result: None,
            error: None,
            cancelled: false,
        });
        start = byte_end;
    }
    if let Some(e) = fault {
        f.read = true;
        // The documents before the fault go on; with none, the file has only its error.
        f.error = Some(if f.docs == 0 {
            e
        } else {
            format!(
                "{e}; read up to there ({})",
                counted(f.docs, "document", "documents")
            )
        });
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

/// A document's entry in the list: what it shows (and its key).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct DocRow {
    i: usize,
    n: usize,
    state: &'static str,
    entities: usize,
    relations: usize,
    preview: String,
    what: String,
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
        // Redrawn at most once a second while documents run (see `Ui::tick_triples`).
        ui.triples_tick.track();
        ui.docs.with_untracked(|d| {
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
        let chunks = ui.doc_chunk.get();
        ui.docs.with(|d| {
            if d.docs.is_empty() && d.files.is_empty() {
                return None;
            }
            let total = d.bytes_total().max(1);
            let done_bytes = d.bytes_finished(&chunks).min(total);
            let running = !d.running.is_empty() || ui.reading_now.get_value();
            let now = if running { page_now() } else { d.finished_ms };
            let secs = ((now - d.started_ms) / 1000.0).max(0.001);
            let finished = d.finished();
            // Speed and time left count this run's work only.
            let rate = d.sentences as f64 / secs;
            let this_run = done_bytes.saturating_sub(d.start_bytes);
            let left = if this_run > 0 && running {
                let per_byte = secs / this_run as f64;
                format!(", about {:.0} s left", per_byte * (total - done_bytes) as f64)
            } else {
                String::new()
            };
            let state = if running {
                format!("{rate:.1} sentences/s{left}")
            } else if d.cancelled {
                "cancelled".to_string()
            } else {
                format!("done ({rate:.1} sentences/s)")
            };
            // For benchmarks: the run's wall time once it has finished.
            let elapsed = (!running && d.finished_ms > 0.0)
                .then(|| format!("{:.1}", d.finished_ms - d.started_ms));
            // The workers documents go to (the pool's size).
            let workers = ui.slots.with_value(|s| s.len());
            Some(view! {
                <p class="docs-progress" data-elapsed-ms=elapsed data-finished=finished
                    data-sentences=d.sentences data-workers=workers>
                    <progress id="docs-progress" max=total value=done_bytes></progress>
                    {format!(" {} of {} · {state}", grouped(finished), counted(d.docs.len(), "document", "documents"))}
                </p>
            })
        })
    };
    // Files and their documents are keyed by what they show, so that a document finishing
    // redraws its own entry and its file's head, not the whole list.
    let file_heads = move || {
        ui.docs.with(|d| {
            d.files
                .iter()
                .enumerate()
                .map(|(f, file)| (f, file.name.clone()))
                .collect::<Vec<_>>()
        })
    };
    let file_entry = move |(f, name): (usize, String)| {
        let head = move || {
            ui.docs.with(|d| {
                let Some(file) = d.files.get(f) else {
                    return String::new();
                };
                let mut head = match &file.error {
                    Some(e) => format!("{}: {e}", file.name),
                    None => format!(
                        "{} · {}",
                        file.name,
                        counted(file.docs, "document", "documents")
                    ),
                };
                if !file.read {
                    head.push_str(" so far (reading)");
                }
                if let Some(n) = &file.note {
                    head.push_str(&format!(" · {n}"));
                }
                if file.docs > LISTED_PER_FILE {
                    head.push_str(&format!(" · the first {} listed", grouped(LISTED_PER_FILE)));
                }
                head
            })
        };
        let error = move || {
            ui.docs
                .with(|d| d.files.get(f).and_then(|x| x.error.clone()))
        };
        // The file's own progress: its bytes whose documents are finished.
        let bar = move || {
            ui.docs.with(|d| {
                let file = d.files.get(f)?;
                let whole = file.error.is_none() || file.docs > 0;
                let value: usize = d
                    .docs
                    .iter()
                    .filter(|x| x.file == f && x.finished())
                    .map(|x| x.bytes)
                    .sum();
                (whole && file.size > 0).then(|| {
                    // A file read to its end and finished shows a full bar (its last
                    // bytes may be a line break that belongs to no document).
                    let all =
                        file.read && d.docs.iter().filter(|x| x.file == f).all(|x| x.finished());
                    let value = if all { file.size } else { value.min(file.size) };
                    view! { <progress class="file-progress" max=file.size value=value></progress> }
                })
            })
        };
        let rows = move || {
            ui.docs.with(|d| {
                d.docs
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| x.file == f)
                    .take(LISTED_PER_FILE)
                    .map(|(i, x)| {
                        let (ents, rels) = x
                            .result
                            .as_ref()
                            .map_or((0, 0), |r| (r.entities.len(), r.relations.len()));
                        let what = match (&x.result, &x.error) {
                            (Some(_), _) => format!(
                                "{}, {}",
                                counted(ents, "entity", "entities"),
                                counted(rels, "relation", "relations")
                            ),
                            (None, Some(e)) => format!("failed: {e}"),
                            _ => x.state(d.running.contains(&i)).to_string(),
                        };
                        DocRow {
                            i,
                            n: x.n,
                            state: x.state(d.running.contains(&i)),
                            entities: ents,
                            relations: rels,
                            preview: x.preview.clone(),
                            what,
                        }
                    })
                    .collect::<Vec<_>>()
            })
        };
        let name_for_rows = name.clone();
        view! {
            <li class="doc-file" data-name=name.clone() data-file-error=move || error().unwrap_or_default()>
                <span class=move || if error().is_some() { "file-name refuse" } else { "file-name" }>{head}</span>
                " "{bar}
                <ul>
                    <For each=rows key=|r| r.clone() children=move |r: DocRow| {
                        let i = r.i;
                        view! {
                            <li data-doc=i data-name=name_for_rows.clone() data-state=r.state
                                data-entities=r.entities data-relations=r.relations>
                                <button class="doc-open" disabled=r.state != "done"
                                    on:click=move |_| ui.open_doc(i)>
                                    {format!("#{} ", r.n)}<span class="doc-preview">{r.preview.clone()}</span>
                                </button>
                                <span class="doc-counts">{r.what.clone()}</span>
                            </li>
                        }
                    } />
                </ul>
            </li>
        }
    };
    let list = move || {
        view! {
            <ul id="documents">
                <For each=file_heads key=|f| f.clone() children=file_entry />
            </ul>
        }
    };
    let any_done = move || ui.docs.with(|d| d.docs.iter().any(|x| x.result.is_some()));
    let filter = RwSignal::new(String::new());
    let search = RwSignal::new(String::new());
    let order = RwSignal::new(Order::Document);
    let relation_types = move || {
        ui.triples_tick.track();
        ui.docs.with_untracked(|d| {
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
        ui.triples_tick.track();
        let any_done = ui
            .docs
            .with_untracked(|d| d.docs.iter().any(|x| x.result.is_some()));
        any_done.then(|| {
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
                <button id="docs-cancel" disabled=move || ui.docs.with(|d| d.running.is_empty())
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
