//! The teaching view: the entity and relation tables as heat maps, and the gates.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

use super::state::{Phase, TableKind, Ui};
use crate::models::ANALYZE_MAX_CHARS;
use crate::palette::heat;
use crate::query::Backend;
use crate::stats::grouped;

/// The teaching view's heat map, drawn on a canvas.
pub(super) fn draw_heatmap(
    canvas: &HtmlCanvasElement,
    tokens: &[String],
    values: &dyn Fn(usize, usize) -> Option<f32>,
) {
    let n = tokens.len();
    let cell = (440.0 / n.max(1) as f64).floor().clamp(7.0, 22.0);
    let margin = 96.0;
    let size = margin + cell * n as f64 + 4.0;
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
            let (x, y) = (margin + j as f64 * cell, margin + i as f64 * cell);
            match values(i, j) {
                Some(p) => ctx.set_fill_style_str(&heat(p)),
                None => ctx.set_fill_style_str("#f1f1f1"),
            }
            ctx.fill_rect(x, y, cell - 1.0, cell - 1.0);
        }
    }
    ctx.set_fill_style_str("#333");
    ctx.set_font(&format!("{}px sans-serif", (cell - 2.0).clamp(7.0, 12.0)));
    ctx.set_text_baseline("middle");
    ctx.set_text_align("right");
    for (i, t) in tokens.iter().enumerate() {
        let y = margin + i as f64 * cell + cell / 2.0;
        let _ = ctx.fill_text(&shorten(t, 12), margin - 4.0, y);
    }
    for (j, t) in tokens.iter().enumerate() {
        let x = margin + j as f64 * cell + cell / 2.0;
        ctx.save();
        let _ = ctx.translate(x, margin - 4.0);
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

/// Cell (row, column) of the heat map under a mouse position, if any.
pub(super) fn heat_cell(n: usize, x: f64, y: f64) -> Option<(usize, usize)> {
    let cell = (440.0 / n.max(1) as f64).floor().clamp(7.0, 22.0);
    let margin = 96.0;
    if x < margin || y < margin {
        return None;
    }
    let (j, i) = (
        ((x - margin) / cell) as usize,
        ((y - margin) / cell) as usize,
    );
    (i < n && j < n).then_some((i, j))
}

/// Value of a table cell: one type, or the maximum over types. NER cells below the
/// diagonal mean nothing (`None`).
pub(super) fn table_value(
    table: &[f32],
    n: usize,
    k: usize,
    kind: TableKind,
    ty: Option<usize>,
    i: usize,
    j: usize,
) -> Option<f32> {
    if kind == TableKind::Ner && i > j || k == 0 {
        return None;
    }
    let cell = (i * n + j) * k;
    let row = table.get(cell..cell + k)?;
    match ty {
        Some(t) => row.get(t).copied(),
        None => row.iter().copied().reduce(f32::max),
    }
}

#[component]
pub(super) fn Teaching(ui: Ui) -> impl IntoView {
    let canvas_ref = NodeRef::<leptos::html::Canvas>::new();
    Effect::new(move |_| {
        let Some(canvas) = canvas_ref.get() else {
            return;
        };
        let (kind, ty, s) = (
            ui.teach_table.get(),
            ui.teach_type.get(),
            ui.teach_sentence.get(),
        );
        ui.result.with(|r| {
            let Some(st) = r.as_ref().and_then(|r| r.sentences.get(s)) else {
                return;
            };
            let n = st.tokens.len();
            let (table, k) = match kind {
                TableKind::Ner => (&st.ner, st.ner.len() / (n * n).max(1)),
                TableKind::Re => (&st.re, st.re.len() / (n * n).max(1)),
            };
            draw_heatmap(&canvas, &st.tokens, &|i, j| {
                table_value(table, n, k, kind, ty, i, j)
            });
        });
    });

    let on_move = move |ev: leptos::ev::MouseEvent| {
        let (kind, ty, s) = (
            ui.teach_table.get_untracked(),
            ui.teach_type.get_untracked(),
            ui.teach_sentence.get_untracked(),
        );
        let text = ui.result.with_untracked(|r| {
            let st = r.as_ref()?.sentences.get(s)?;
            let info = ui.loaded.get_untracked()?;
            let n = st.tokens.len();
            let (i, j) = heat_cell(n, ev.offset_x() as f64, ev.offset_y() as f64)?;
            let (table, types) = match kind {
                TableKind::Ner => (&st.ner, &info.entity_types),
                TableKind::Re => (&st.re, &info.relation_types),
            };
            let k = table.len() / (n * n).max(1);
            let v = table_value(table, n, k, kind, ty, i, j)?;
            let what = match ty {
                Some(t) => types.get(t).cloned().unwrap_or_default(),
                None => {
                    let cell = (i * n + j) * k;
                    let row = table.get(cell..cell + k)?;
                    let best = row
                        .iter()
                        .enumerate()
                        .max_by(|a, b| a.1.total_cmp(b.1))
                        .map(|(t, _)| t)?;
                    format!(
                        "max over types ({})",
                        types.get(best).cloned().unwrap_or_default()
                    )
                }
            };
            let (ri, cj) = (&st.tokens[i], &st.tokens[j]);
            Some(match kind {
                TableKind::Ner => format!("span “{ri}” … “{cj}”: {what} p = {v:.3}"),
                TableKind::Re => {
                    format!("subject starts at “{ri}”, object at “{cj}”: {what} p = {v:.3}")
                }
            })
        });
        ui.teach_hover.set(text.unwrap_or_default());
    };

    let types = move || {
        let info = ui.loaded.get()?;
        Some(match ui.teach_table.get() {
            TableKind::Ner => info.entity_types,
            TableKind::Re => info.relation_types,
        })
    };

    let body = move || {
        let has = ui
            .result
            .with(|r| r.as_ref().is_some_and(|r| !r.sentences.is_empty()));
        if !has {
            let long = ui.text.with(|t| t.chars().count() > ANALYZE_MAX_CHARS);
            let msg = if ui.backend.get() == Backend::Server {
                "The tables come from the model in this browser; while it runs on the server they are not shown.".to_string()
            } else if long {
                format!(
                    "The tables are drawn for texts of up to {} characters.",
                    grouped(ANALYZE_MAX_CHARS)
                )
            } else if ui.phase.get() == Phase::Busy {
                "Computing the tables…".to_string()
            } else {
                "The tables appear with the next result.".to_string()
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
                        <select on:change=move |ev| {
                            if let Ok(s) = event_target_value(&ev).parse::<usize>() {
                                ui.teach_sentence.set(s);
                            }
                        }>{opts}</select>
                    </label>
                }
            })
        };
        let type_options = move || {
            types()
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .map(|(t, name)| view! { <option value=t prop:selected=move || ui.teach_type.get() == Some(t)>{name}</option> })
                .collect_view()
        };
        view! {
            <div class="teach-controls">
                {sentence_picker}
                <label>"Table "
                    <select on:change=move |ev| {
                        ui.teach_type.set(None);
                        ui.teach_table.set(if event_target_value(&ev) == "re" { TableKind::Re } else { TableKind::Ner });
                    }>
                        <option value="ner" prop:selected=move || ui.teach_table.get() == TableKind::Ner>"Entities (NER)"</option>
                        <option value="re" prop:selected=move || ui.teach_table.get() == TableKind::Re>"Relations (RE)"</option>
                    </select>
                </label>
                <label>"Type "
                    <select on:change=move |ev| ui.teach_type.set(event_target_value(&ev).parse::<usize>().ok())>
                        <option value="max" prop:selected=move || ui.teach_type.get().is_none()>"max over types"</option>
                        {type_options}
                    </select>
                </label>
            </div>
            <p class="axis-note">{move || match ui.teach_table.get() {
                TableKind::Ner => "Row: the sub-token a span starts at; column: where it ends (cells below the diagonal are unused). Darker = more probable.",
                TableKind::Re => "Row: the sub-token the subject starts at; column: the sub-token the object starts at. Darker = more probable.",
            }}</p>
            <div class="heatmap-wrap">
                <canvas node_ref=canvas_ref class="heatmap" on:mousemove=on_move
                    on:mouseleave=move |_| ui.teach_hover.set(String::new())></canvas>
            </div>
            <p class="hover-readout">{move || ui.teach_hover.get()}</p>
            <h4>"Gate activations per sub-token (mean over hidden units)"</h4>
            {move || gates_view(ui)}
        }
        .into_any()
    };

    view! {
        <details class="teaching" on:toggle=move |ev| {
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
            <summary>"How the model reads this text (teaching view)"</summary>
            <p class="explain">
                "MGE first runs the sentence through one shared BERT encoder. Two "<em>"task gates"</em>
                " then act as per-feature valves on that shared output: the entity gate lets through the
                features that help find and type mentions, the relation gate those that help connect them,
                so each task works from its own selection of the same representation. Two "
                <em>"interaction gates"</em>" make the tasks talk: each task's gated features are filtered
                once more and handed over to the other task's representation, so entity evidence can guide
                the relation table and relation evidence the entity table. Both tables are then filled for
                every pair of sub-tokens, which is what the heat map shows; the bars below show how open
                each gate is, on average, at every sub-token."
            </p>
            {body}
        </details>
    }
}

pub(super) fn gates_view(ui: Ui) -> impl IntoView {
    let s = ui.teach_sentence.get();
    ui.result.with(|r| {
        let Some(st) = r.as_ref().and_then(|r| r.sentences.get(s)) else {
            return view! { <p class="hint">"No gate activations for this sentence."</p> }.into_any();
        };
        let rows = [
            ("entity task", &st.gates.entity_task),
            ("relation task", &st.gates.relation_task),
            ("entity → relation", &st.gates.entity_interaction),
            ("relation → entity", &st.gates.relation_interaction),
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
                            view! {
                                <td title=format!("{a:.3}")>
                                    <div class="bar" style=format!("height:{:.1}px", 2.0 + a * 38.0)></div>
                                </td>
                            }
                        })
                        .collect_view()
                        .into_any(),
                    None => view! { <td class="absent" colspan=st.tokens.len().max(1)>"(this model has no such gate)"</td> }
                        .into_any(),
                };
                view! { <tr><th class="gate">{name}</th>{cells}</tr> }
            })
            .collect_view();
        view! {
            <div class="gates-wrap">
                <table class="gates">
                    <thead><tr><th></th>{header}</tr></thead>
                    <tbody>{body}</tbody>
                </table>
            </div>
        }
        .into_any()
    })
}
