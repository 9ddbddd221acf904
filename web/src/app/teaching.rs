//! The teaching view: a walk-through of the model on the visitor's own sentence, one step at
//! a time, from the sub-tokens through the encoder, the candidate features, the four gates
//! and the two tables to the decoded triples. Each step ties what is drawn to the paper's
//! equations (numbered as in `DESIGN.md` section 2).

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

use super::state::{Phase, TableKind, Ui};
use crate::api::SentenceTables;
use crate::linking::Focus;
use crate::models::ANALYZE_MAX_CHARS;
use crate::palette::{entity_colors, heat_of, relation_color};
use crate::protocol::{ModelInfo, RunResult};
use crate::query::Backend;
use crate::stats::grouped;

/// The steps of the walk-through: (short name, title).
pub(super) const STEPS: [(&str, &str); 6] = [
    ("tokens", "1. Sub-tokens"),
    ("encoder", "2. Encoder"),
    ("candidates", "3. Candidate features"),
    ("gates", "4. The four gates"),
    ("tables", "5. The two tables"),
    ("triples", "6. Decoding"),
];

/// Left and top margin of the heat map (room for the sub-tokens' names), and its cell size.
const MARGIN: f64 = 110.0;
fn cell_size(n: usize) -> f64 {
    (480.0 / n.max(1) as f64).floor().clamp(16.0, 26.0)
}

/// The model's type names for the table `kind`.
fn type_names(info: &ModelInfo, kind: TableKind) -> &[String] {
    match kind {
        TableKind::Ner => &info.entity_types,
        TableKind::Re => &info.relation_types,
    }
}

/// Colour of type `t` of the table `kind` (the entity border or the relation colour).
fn type_color(kind: TableKind, t: usize) -> &'static str {
    match kind {
        TableKind::Ner => entity_colors(t).1,
        TableKind::Re => relation_color(t),
    }
}

/// The heat map on a canvas: each cell in its type's colour (the selected type, or the most
/// probable one), as strong as its probability. `marked` is the clicked cell.
fn draw_heatmap(
    canvas: &HtmlCanvasElement,
    tokens: &[String],
    values: &dyn Fn(usize, usize) -> Option<(f32, usize)>,
    kind: TableKind,
    marked: Option<(usize, usize)>,
) {
    let n = tokens.len();
    let cell = cell_size(n);
    let size = MARGIN + cell * n as f64 + 4.0;
    let dpr = window().device_pixel_ratio().max(1.0);
    canvas.set_width((size * dpr) as u32);
    canvas.set_height((size * dpr) as u32);
    let _ = web_sys::HtmlElement::style(canvas).set_property("width", &format!("{size}px"));
    let _ = web_sys::HtmlElement::style(canvas).set_property("height", &format!("{size}px"));
    let Some(ctx) = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
    ctx.clear_rect(0.0, 0.0, size, size);
    for i in 0..n {
        for j in 0..n {
            let (x, y) = (MARGIN + j as f64 * cell, MARGIN + i as f64 * cell);
            match values(i, j) {
                Some((p, t)) => ctx.set_fill_style_str(&heat_of(type_color(kind, t), p)),
                None => ctx.set_fill_style_str("#eceef1"),
            }
            ctx.fill_rect(x, y, cell - 1.0, cell - 1.0);
        }
    }
    if let Some((i, j)) = marked.filter(|&(i, j)| i < n && j < n) {
        ctx.set_stroke_style_str("#1d232b");
        ctx.set_line_width(2.0);
        ctx.stroke_rect(
            MARGIN + j as f64 * cell - 1.0,
            MARGIN + i as f64 * cell - 1.0,
            cell + 1.0,
            cell + 1.0,
        );
    }
    ctx.set_fill_style_str("#1d232b");
    ctx.set_font("12px sans-serif");
    ctx.set_text_baseline("middle");
    ctx.set_text_align("right");
    for (i, t) in tokens.iter().enumerate() {
        let y = MARGIN + i as f64 * cell + cell / 2.0;
        let _ = ctx.fill_text(&shorten(t, 12), MARGIN - 6.0, y);
    }
    for (j, t) in tokens.iter().enumerate() {
        let x = MARGIN + j as f64 * cell + cell / 2.0;
        ctx.save();
        let _ = ctx.translate(x, MARGIN - 6.0);
        let _ = ctx.rotate(-std::f64::consts::FRAC_PI_2);
        ctx.set_text_align("left");
        let _ = ctx.fill_text(&shorten(t, 12), 0.0, 0.0);
        ctx.restore();
    }
}

pub(super) fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// Cell (row, column) of the heat map under a position on the canvas, if any.
fn heat_cell(n: usize, x: f64, y: f64) -> Option<(usize, usize)> {
    let cell = cell_size(n);
    if x < MARGIN || y < MARGIN {
        return None;
    }
    let (j, i) = (
        ((x - MARGIN) / cell) as usize,
        ((y - MARGIN) / cell) as usize,
    );
    (i < n && j < n).then_some((i, j))
}

/// A table cell: (probability, type) for one type or the most probable one. NER cells below
/// the diagonal mean nothing (`None`).
fn table_value(
    table: &[f32],
    n: usize,
    k: usize,
    kind: TableKind,
    ty: Option<usize>,
    i: usize,
    j: usize,
) -> Option<(f32, usize)> {
    if kind == TableKind::Ner && i > j || k == 0 {
        return None;
    }
    let cell = (i * n + j) * k;
    let row = table.get(cell..cell + k)?;
    match ty {
        Some(t) => row.get(t).map(|&p| (p, t)),
        None => row
            .iter()
            .copied()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(t, p)| (p, t)),
    }
}

/// The table of `kind` of a sentence and its number of types.
fn table_of(st: &SentenceTables, kind: TableKind) -> (&[f32], usize) {
    let n = st.tokens.len();
    let t = match kind {
        TableKind::Ner => &st.ner,
        TableKind::Re => &st.re,
    };
    (t, t.len() / (n * n).max(1))
}

/// The sub-tokens highlighted by the clicked cell: the span i..=j (entities) or the two
/// starts i and j (relations).
fn highlighted(kind: TableKind, cell: Option<(usize, usize)>, k: usize) -> bool {
    match (kind, cell) {
        (TableKind::Ner, Some((i, j))) => i <= k && k <= j,
        (TableKind::Re, Some((i, j))) => k == i || k == j,
        _ => false,
    }
}

/// What a clicked or hovered cell means, in words.
/// `f` on cell (i, j) of the table shown: the result, the sentence, the char spans of
/// sub-tokens i and j, and the table's kind; `None` when there is no such cell.
fn at_cell<T>(
    ui: Ui,
    i: usize,
    j: usize,
    f: impl FnOnce(&RunResult, &SentenceTables, (usize, usize), (usize, usize), TableKind) -> Option<T>,
) -> Option<T> {
    let (kind, s) = (
        ui.teach_table.get_untracked(),
        ui.teach_sentence.get_untracked(),
    );
    ui.result.with_untracked(|r| {
        let r = r.as_ref()?;
        let st = r.sentences.get(s)?;
        let (oi, oj) = (*st.offsets.get(i)?, *st.offsets.get(j)?);
        f(r, st, oi, oj, kind)
    })
}

fn describe_cell(ui: Ui, i: usize, j: usize) -> Option<String> {
    let ty = ui.teach_type.get_untracked();
    at_cell(ui, i, j, |r, st, oi, oj, kind| {
        let info = ui.loaded.get_untracked()?;
        let n = st.tokens.len();
        let (table, k) = table_of(st, kind);
        let (p, t) = table_value(table, n, k, kind, ty, i, j)?;
        let name = type_names(&info, kind).get(t).cloned().unwrap_or_default();
        let chars: Vec<char> = r.extraction.text.chars().collect();
        let text = |a: usize, b: usize| -> String {
            let (a, b) = (a.min(chars.len()), b.min(chars.len()));
            chars[a..b.max(a)].iter().collect()
        };
        Some(match kind {
            TableKind::Ner => format!(
                "Cell ({i}, {j}): the span “{}” (chars {}–{}) is {name} with p = {p:.3}",
                text(oi.0, oj.1),
                oi.0,
                oj.1
            ),
            TableKind::Re => format!(
                "Cell ({i}, {j}): a subject starting at “{}” and an object starting at “{}” are in {name} with p = {p:.3}",
                st.tokens[i], st.tokens[j]
            ),
        })
    })
}

/// The extracted entity (NER table) or relation (RE table) that cell (i, j) stands for.
fn extracted_at(ui: Ui, i: usize, j: usize) -> Option<Focus> {
    at_cell(ui, i, j, |r, _, oi, oj, kind| {
        let ex = &r.extraction;
        match kind {
            TableKind::Ner => ex
                .entities
                .iter()
                .position(|e| e.start == oi.0 && e.end == oj.1)
                .map(Focus::Entity),
            TableKind::Re => ex
                .relations
                .iter()
                .position(|x| {
                    let start = |e: usize| ex.entities.get(e).map(|e| e.start);
                    start(x.head) == Some(oi.0) && start(x.tail) == Some(oj.0)
                })
                .map(Focus::Relation),
        }
    })
}

/// The sentence as its sub-tokens, those of the clicked cell highlighted.
fn token_strip(ui: Ui, st: &SentenceTables) -> impl IntoView {
    let toks = st
        .tokens
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let class = move || {
                let hl = highlighted(ui.teach_table.get(), ui.teach_cell.get(), k);
                if hl {
                    "tok hl"
                } else {
                    "tok"
                }
            };
            let (a, b) = st.offsets.get(k).copied().unwrap_or((0, 0));
            view! { <span class=class data-i=k data-start=a data-end=b>{t.clone()}</span> }
        })
        .collect_view();
    view! { <div id="teach-tokens" class="teach-tokens" aria-label="Sub-tokens of the sentence">{toks}</div> }
}

/// The four gates' mean activation per sub-token, as bars on a 0–1 axis with their values.
fn gates_view(ui: Ui) -> impl IntoView {
    let s = ui.teach_sentence.get();
    ui.result.with(|r| {
        let Some(st) = r.as_ref().and_then(|r| r.sentences.get(s)) else {
            return view! { <p class="hint">"No gate activations for this sentence."</p> }.into_any();
        };
        let rows = [
            ("entity task (eq. 2)", &st.gates.entity_task),
            ("relation task (eq. 3)", &st.gates.relation_task),
            ("entity → relation (eq. 4)", &st.gates.entity_interaction),
            ("relation → entity (eq. 5)", &st.gates.relation_interaction),
        ];
        let header = st
            .tokens
            .iter()
            .map(|t| view! { <th class="tok"><span>{t.clone()}</span></th> })
            .collect_view();
        let body = rows
            .into_iter()
            .map(|(name, vals)| {
                let cells = match vals {
                    Some(v) => v
                        .iter()
                        .map(|&a| {
                            let a = if a.is_finite() { a.clamp(0.0, 1.0) } else { 0.0 };
                            let shown = format!("{a:.2}");
                            let short = shown.trim_start_matches('0').to_string();
                            view! {
                                <td title=shown.clone() data-value=shown>
                                    <div class="bar-box"><div class="bar" style=format!("height:{:.1}%", a * 100.0)></div></div>
                                    <span class="val">{short}</span>
                                </td>
                            }
                        })
                        .collect_view()
                        .into_any(),
                    None => view! { <td class="absent" colspan=st.tokens.len().max(1)>"(this model has no such gate)"</td> }
                        .into_any(),
                };
                view! {
                    <tr>
                        <th class="gate">{name}</th>
                        <td class="axis" aria-hidden="true"><span>"1"</span><span>"0.5"</span><span>"0"</span></td>
                        {cells}
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="gates-wrap">
                <table class="gates">
                    <thead><tr><th></th><th class="axis-head">"open"</th>{header}</tr></thead>
                    <tbody>{body}</tbody>
                </table>
            </div>
        }
        .into_any()
    })
}

/// The heat map with its controls, colour scale and readout.
#[component]
fn TablesStep(ui: Ui) -> impl IntoView {
    let canvas_ref = NodeRef::<leptos::html::Canvas>::new();
    Effect::new(move |_| {
        let Some(canvas) = canvas_ref.get() else {
            return;
        };
        let (kind, ty, s, marked) = (
            ui.teach_table.get(),
            ui.teach_type.get(),
            ui.teach_sentence.get(),
            ui.teach_cell.get(),
        );
        ui.result.with(|r| {
            let Some(st) = r.as_ref().and_then(|r| r.sentences.get(s)) else {
                return;
            };
            let n = st.tokens.len();
            let (table, k) = table_of(st, kind);
            draw_heatmap(
                &canvas,
                &st.tokens,
                &|i, j| table_value(table, n, k, kind, ty, i, j),
                kind,
                marked,
            );
        });
    });
    let n_tokens = move || {
        ui.result.with_untracked(|r| {
            r.as_ref()
                .and_then(|r| r.sentences.get(ui.teach_sentence.get_untracked()))
                .map(|st| st.tokens.len())
                .unwrap_or(0)
        })
    };
    let on_move = move |ev: leptos::ev::MouseEvent| {
        let text = heat_cell(n_tokens(), ev.offset_x() as f64, ev.offset_y() as f64)
            .and_then(|(i, j)| describe_cell(ui, i, j));
        ui.teach_hover.set(text.unwrap_or_default());
    };
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let cell = heat_cell(n_tokens(), ev.offset_x() as f64, ev.offset_y() as f64);
        let valid = cell.filter(|&(i, j)| describe_cell(ui, i, j).is_some());
        ui.teach_cell.set(valid);
        // When the cell is an extracted entity or relation, the annotated text above shows it
        // too (pinned, as a click on it would).
        if let Some(f) = valid.and_then(|(i, j)| extracted_at(ui, i, j)) {
            ui.pinned.set(Some(f));
        }
    };
    let types = move || {
        let info = ui.loaded.get()?;
        Some(type_names(&info, ui.teach_table.get()).to_vec())
    };
    let type_options = move || {
        types()
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(t, name)| view! { <option value=t prop:selected=move || ui.teach_type.get() == Some(t)>{name}</option> })
            .collect_view()
    };
    // The colour scale: one ramp for the selected type, one per type for "max over types".
    let scale = move || {
        let kind = ui.teach_table.get();
        let names = types().unwrap_or_default();
        let shown: Vec<(usize, String)> = match ui.teach_type.get() {
            Some(t) => names
                .get(t)
                .map(|n| vec![(t, n.clone())])
                .unwrap_or_default(),
            None => names.into_iter().enumerate().collect(),
        };
        shown
            .into_iter()
            .map(|(t, name)| {
                let c = type_color(kind, t);
                view! {
                    <div class="scale-row">
                        <span class="scale-name">{name}</span>
                        <span class="scale-end">"0"</span>
                        <span class="scale-ramp" style=format!("background:linear-gradient(to right, {}, {})", heat_of(c, 0.0), heat_of(c, 1.0))></span>
                        <span class="scale-end">"1"</span>
                    </div>
                }
            })
            .collect_view()
    };
    let cell_text = move || {
        ui.teach_cell
            .get()
            .and_then(|(i, j)| describe_cell(ui, i, j))
            .unwrap_or_else(|| "Click a cell to mark its sub-tokens in the sentence above.".into())
    };
    view! {
        <div class="teach-controls">
            <label>"Table "
                <select id="teach-table" on:change=move |ev| {
                    ui.teach_type.set(None);
                    ui.teach_cell.set(None);
                    ui.teach_table.set(if event_target_value(&ev) == "re" { TableKind::Re } else { TableKind::Ner });
                }>
                    <option value="ner" prop:selected=move || ui.teach_table.get() == TableKind::Ner>"Entities (NER)"</option>
                    <option value="re" prop:selected=move || ui.teach_table.get() == TableKind::Re>"Relations (RE)"</option>
                </select>
            </label>
            <label>"Type "
                <select id="teach-type" on:change=move |ev| ui.teach_type.set(event_target_value(&ev).parse::<usize>().ok())>
                    <option value="max" prop:selected=move || ui.teach_type.get().is_none()>"most probable type"</option>
                    {type_options}
                </select>
            </label>
        </div>
        <p class="axis-note">{move || match ui.teach_table.get() {
            TableKind::Ner => "Row: the sub-token a span starts at; column: where it ends (grey cells below the diagonal are not used). Each cell has the colour of its type, stronger the more probable.",
            TableKind::Re => "Row: the sub-token the subject starts at; column: the sub-token the object starts at. Each cell has the colour of its relation type, stronger the more probable.",
        }}</p>
        <div class="heatmap-row">
            <div class="heatmap-wrap">
                <canvas node_ref=canvas_ref class="heatmap" on:mousemove=on_move on:click=on_click
                    on:mouseleave=move |_| ui.teach_hover.set(String::new())></canvas>
            </div>
            <div class="scale" aria-label="Colour scale">{scale}</div>
        </div>
        <p class="hover-readout">{move || ui.teach_hover.get()}</p>
        <p id="teach-cell" class="cell-readout">{cell_text}</p>
    }
}

/// The decoded result of the sentence: the entities and relations inside its span.
fn decoded_view(ui: Ui) -> impl IntoView {
    let s = ui.teach_sentence.get();
    ui.result.with(|r| {
        let Some(r) = r.as_ref() else {
            return view! { <p class="hint">"No result."</p> }.into_any();
        };
        let Some(st) = r.sentences.get(s) else {
            return view! { <p class="hint">"No result."</p> }.into_any();
        };
        let ex = &r.extraction;
        let inside = |i: usize| {
            ex.entities
                .get(i)
                .is_some_and(|e| e.start >= st.start && e.end <= st.end)
        };
        let ents = (0..ex.entities.len())
            .filter(|&i| inside(i))
            .map(|i| {
                let e = &ex.entities[i];
                view! { <li>{format!("“{}” {} (p = {:.2})", e.text, e.label, e.score)}</li> }
            })
            .collect_view();
        let rels = ex
            .relations
            .iter()
            .filter(|x| inside(x.head) && inside(x.tail))
            .map(|x| {
                let name = |i: usize| ex.entities.get(i).map(|e| e.text.clone()).unwrap_or_default();
                view! { <li>{format!("{} —{}→ {} (p = {:.2})", name(x.head), x.label, name(x.tail), x.score)}</li> }
            })
            .collect_view();
        view! {
            <div class="decoded">
                <div><h4>"Entities"</h4><ul>{ents}</ul></div>
                <div><h4>"Relations"</h4><ul>{rels}</ul></div>
            </div>
        }
        .into_any()
    })
}

/// The explanation of a step (two or three sentences tied to the equations).
fn step_text(step: usize, n: usize, info_dataset: &str) -> Vec<String> {
    match step {
        0 => vec![
            format!("The tokenizer cuts the sentence into {n} WordPiece sub-tokens (shown above); a word it does not know becomes several pieces, the later ones marked “##”."),
            "Everything the model computes is per sub-token or per pair of sub-tokens, and every sub-token keeps the characters it came from, so results map back onto your text exactly.".into(),
        ],
        1 => vec![
            format!("A BERT encoder (here all-MiniLM-L6-v2: 6 layers, 384 numbers per sub-token) reads all {n} sub-tokens at once; self-attention lets each one look at every other."),
            format!("Its output H_b ({n} × 384) is one shared representation for both tasks. Fine-tuning on {info_dataset} taught it which contexts make an entity or a relation."),
        ],
        2 => vec![
            "Equation 1 turns the shared H_b into two candidate feature sets: Hc_e = tanh(H_b W_e + b_e) for entities and Hc_r = tanh(H_b W_r + b_r) for relations, 300 numbers per sub-token each.".into(),
            "They are candidates: the gates of the next step decide, number by number, how much of each is let through.".into(),
        ],
        3 => vec![
            "Each gate is a sigmoid of H_b, between 0 (closed) and 1 (open), multiplied element-wise with a candidate (equations 2–5). The two task gates select what each task keeps for itself; the two interaction gates select what each task hands over to the other.".into(),
            "The bars show each gate's mean opening at every sub-token, with its value under it. Where the entity and relation rows differ at a sub-token, the two tasks take different evidence from the same place.".into(),
        ],
        4 => vec![
            "Equation 6 joins each task's own features with what the other task handed over: H_ner = [H_e_task ; H_r_inter], H_re = [H_r_task ; H_e_inter].".into(),
            "Equations 7–10 fill one table per task for every pair of sub-tokens (i, j): a small network on [H_i ; H_j] gives a sigmoid probability per type. In the entity table, cell (i, j) asks “is the span from i to j an entity of this type?”; in the relation table it asks “does a subject starting at i relate to an object starting at j?”.".into(),
        ],
        _ => vec![
            "Decoding reads the tables: entity cells above the threshold become spans (overlapping ones resolved by score), and a relation cell above the threshold becomes a triple when entities start at both of its sub-tokens.".into(),
            "Training (equations 13–14) pushed exactly these cells towards 1 and all others towards 0 with binary cross-entropy; this is the list the page draws as highlights and arcs.".into(),
        ],
    }
}

#[component]
pub(super) fn Teaching(ui: Ui) -> impl IntoView {
    let body = move || {
        let has = ui
            .result
            .with(|r| r.as_ref().is_some_and(|r| !r.sentences.is_empty()));
        if !has {
            let long = ui.text.with(|t| t.chars().count() > ANALYZE_MAX_CHARS);
            let msg = if ui.backend.get() == Backend::Server {
                "The walk-through needs the model in this browser; while it runs on the server it is not shown.".to_string()
            } else if long {
                format!(
                    "The walk-through is drawn for texts of up to {} characters.",
                    grouped(ANALYZE_MAX_CHARS)
                )
            } else if ui.phase.get() == Phase::Busy {
                "Computing the tables…".to_string()
            } else {
                "The walk-through appears with the next result.".to_string()
            };
            return view! { <p class="hint">{msg}</p> }.into_any();
        }
        let sentence_picker = move || {
            // One entry per sentence, or per window of a sentence too long for one (windows
            // overlap), named by its first words.
            let names: Vec<String> = ui.result.with(|r| {
                r.as_ref()
                    .map(|r| {
                        let chars: Vec<char> = r.extraction.text.chars().collect();
                        r.sentences
                            .iter()
                            .enumerate()
                            .map(|(i, st)| {
                                let (a, b) = (st.start.min(chars.len()), st.end.min(chars.len()));
                                let words: String = chars[a..b.max(a)].iter().collect();
                                format!("{}. {}", i + 1, shorten(words.trim(), 40))
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            });
            (names.len() > 1).then(|| {
                let opts = names
                    .into_iter()
                    .enumerate()
                    .map(|(s, name)| view! { <option value=s prop:selected=move || ui.teach_sentence.get() == s>{name}</option> })
                    .collect_view();
                view! {
                    <label>"Part "
                        <select id="teach-part" on:change=move |ev| {
                            if let Ok(s) = event_target_value(&ev).parse::<usize>() {
                                ui.teach_cell.set(None);
                                ui.teach_sentence.set(s);
                            }
                        }>{opts}</select>
                    </label>
                }
            })
        };
        let tokens = move || {
            let s = ui.teach_sentence.get();
            ui.result.with(|r| {
                r.as_ref()
                    .and_then(|r| r.sentences.get(s))
                    .map(|st| token_strip(ui, st))
            })
        };
        let tabs = STEPS
            .iter()
            .enumerate()
            .map(|(i, &(key, title))| {
                view! {
                    <button class="step-tab" data-step=key
                        aria-current=move || (ui.teach_step.get() == i).then_some("step")
                        on:click=move |_| ui.teach_step.set(i)>{title}</button>
                }
            })
            .collect_view();
        let step_body = move || {
            let step = ui.teach_step.get();
            let n = ui.result.with(|r| {
                r.as_ref()
                    .and_then(|r| r.sentences.get(ui.teach_sentence.get()))
                    .map(|st| st.tokens.len())
                    .unwrap_or(0)
            });
            let dataset = ui.loaded.get().map(|i| i.dataset).unwrap_or_default();
            let text = step_text(step, n, &dataset)
                .into_iter()
                .map(|p| view! { <p>{p}</p> })
                .collect_view();
            let visual = match step {
                3 => gates_view(ui).into_any(),
                4 => view! { <TablesStep ui=ui /> }.into_any(),
                5 => decoded_view(ui).into_any(),
                1 => view! { <p class="shape">{format!("{n} sub-tokens → H_b: {n} × 384")}</p> }.into_any(),
                2 => view! { <p class="shape">{format!("H_b ({n} × 384) → Hc_e, Hc_r: {n} × 300 each")}</p> }.into_any(),
                _ => ().into_any(),
            };
            view! {
                <div id="teach-step" class="teach-step" data-step=STEPS[step].0>
                    <h4>{STEPS[step].1}</h4>
                    <div class="explain">{text}</div>
                    {visual}
                </div>
            }
        };
        view! {
            <div class="teach-controls">
                {sentence_picker}
                <button id="teach-present" aria-pressed=move || ui.teach_large.get().to_string()
                    on:click=move |_| ui.teach_large.update(|l| *l = !*l)>
                    {move || if ui.teach_large.get() { "Normal size" } else { "Larger (for a projector)" }}
                </button>
            </div>
            {tokens}
            <nav class="steps" aria-label="Steps of the walk-through">{tabs}</nav>
            {step_body}
            <div class="step-nav">
                <button id="teach-prev" disabled=move || ui.teach_step.get() == 0
                    on:click=move |_| ui.teach_step.update(|s| *s = s.saturating_sub(1))>"← Previous"</button>
                <button id="teach-next" disabled=move || { ui.teach_step.get() + 1 >= STEPS.len() }
                    on:click=move |_| ui.teach_step.update(|s| *s = (*s + 1).min(STEPS.len() - 1))>"Next →"</button>
            </div>
        }
        .into_any()
    };

    view! {
        <details class=move || if ui.teach_large.get() { "teaching large" } else { "teaching" } on:toggle=move |ev| {
            let open = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok())
                .is_some_and(|d| d.open());
            ui.teach_open.set(open);
            let need = open && ui.result.with_untracked(|r| r.as_ref().is_none_or(|r| r.sentences.is_empty()));
            if need {
                ui.run_now();
            }
        }>
            <summary>"How the model reads this text: a walk-through"</summary>
            {body}
        </details>
    }
}
