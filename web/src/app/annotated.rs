//! The annotated text: each line with its band of relation arcs, mentions in their type's
//! colour, and the legend.

use leptos::prelude::*;

use super::browser::measure;
use super::state::Ui;
use crate::layout::{
    break_lines_keeping, layout_arcs, split_pieces, ArcPart, ArcSpec, Piece, PieceKind,
};
use crate::linking::Focus;
use crate::palette::{entity_colors, relation_color, relation_dash};
use crate::protocol::{ModelInfo, RunResult};

/// Font of the annotated text; the canvas that measures pieces uses the very same string.
pub(super) const TEXT_FONT: &str =
    "17px system-ui, -apple-system, \"Segoe UI\", Roboto, \"Noto Sans\", \"DejaVu Sans\", sans-serif";
/// Font of arc labels.
pub(super) const LABEL_FONT: &str =
    "12px system-ui, -apple-system, \"Segoe UI\", Roboto, \"Noto Sans\", \"DejaVu Sans\", sans-serif";
/// Horizontal padding plus border of a mention, both sides together (see `style.css`).
pub(super) const MENTION_EXTRA: f64 = 6.0;
/// Horizontal padding plus border of the annotated text's box, both sides (`style.css`).
pub(super) const ANNOTATED_INSET: f64 = 26.0;
/// Height of one level of arcs.
pub(super) const LEVEL_H: f64 = 22.0;
/// Space kept above the top level of arcs.
pub(super) const ARCS_TOP: f64 = 4.0;
/// Horizontal margin between arcs on one level, and around labels.
pub(super) const ARC_GAP: f64 = 6.0;
pub(super) const LABEL_PAD: f64 = 8.0;

pub(super) fn type_index(types: &[String], label: &str) -> usize {
    types.iter().position(|t| t == label).unwrap_or(types.len())
}

/// The annotated text: lines of text, each with its band of arcs.
pub(super) fn annotated_view(
    ui: Ui,
    res: &RunResult,
    info: &ModelInfo,
    width: f64,
) -> impl IntoView {
    let ex = &res.extraction;
    let chars: Vec<char> = ex.text.chars().collect();
    let spans: Vec<(usize, usize)> = ex.entities.iter().map(|e| (e.start, e.end)).collect();
    let (pieces, entity_piece) = split_pieces(&ex.text, &spans);
    let piece_text = |p: &Piece| -> String {
        chars[p.start.min(chars.len())..p.end.min(chars.len())]
            .iter()
            .collect()
    };
    let texts: Vec<String> = pieces.iter().map(piece_text).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mut widths = measure(TEXT_FONT, &refs);
    for (w, p) in widths.iter_mut().zip(&pieces) {
        match p.kind {
            PieceKind::Mention(_) => *w += MENTION_EXTRA,
            PieceKind::Newline => *w = 0.0,
            _ => {}
        }
    }
    let labels: Vec<&str> = ex.relations.iter().map(|r| r.label.as_str()).collect();
    let label_widths = measure(LABEL_FONT, &labels);
    // The part of a relation continued from another line is labelled "Type …": its label is
    // wider, and the layout reserves room for the wider of the two.
    let continued: Vec<String> = labels.iter().map(|l| format!("{l} …")).collect();
    let continued_refs: Vec<&str> = continued.iter().map(String::as_str).collect();
    let continued_widths = measure(LABEL_FONT, &continued_refs);
    let specs: Vec<ArcSpec> = ex
        .relations
        .iter()
        .zip(&continued_widths)
        .map(|(r, w)| ArcSpec {
            head: r.head,
            tail: r.tail,
            label_width: w + LABEL_PAD,
        })
        .collect();
    // Both ends of a relation on one line where the text between them fits on one.
    let ends: Vec<(usize, usize)> = ex
        .relations
        .iter()
        .filter_map(|r| {
            Some((
                entity_piece.get(r.head).copied()??,
                entity_piece.get(r.tail).copied()??,
            ))
        })
        .collect();
    let lines = break_lines_keeping(&pieces, &widths, width, &ends);
    let arcs = layout_arcs(&lines, &entity_piece, &specs, width, ARC_GAP);

    lines
        .iter()
        .enumerate()
        .map(|(l, line)| {
            let levels = arcs.levels.get(l).copied().unwrap_or(0);
            let parts: Vec<&ArcPart> = arcs.parts.iter().filter(|p| p.line == l).collect();
            let svg = (levels > 0).then(|| {
                let h = ARCS_TOP + levels as f64 * LEVEL_H + 2.0;
                let drawn = parts
                    .iter()
                    .map(|p| {
                        let widths = if p.main {
                            &label_widths
                        } else {
                            &continued_widths
                        };
                        arc_view(ui, p, res, info, widths, h, width)
                    })
                    .collect_view();
                view! {
                    <svg class="arcs" width=width height=h viewBox=format!("0 0 {width} {h}")
                        role="group" aria-label="Relations of this line">
                        {drawn}
                    </svg>
                }
            });
            // Runs of plain pieces become one text node; mentions are spans.
            let mut nodes: Vec<AnyView> = Vec::new();
            let mut plain = String::new();
            for item in &line.items {
                let p = &pieces[item.piece];
                match p.kind {
                    PieceKind::Mention(e) => {
                        if !plain.is_empty() {
                            nodes.push(std::mem::take(&mut plain).into_any());
                        }
                        nodes.push(mention_view(ui, res, info, e, &texts[item.piece]).into_any());
                    }
                    PieceKind::Newline => {}
                    _ => plain.push_str(&texts[item.piece]),
                }
            }
            if !plain.is_empty() {
                nodes.push(plain.into_any());
            }
            view! {
                <div class="line">
                    {svg}
                    <div class="line-text" style=format!("font: {TEXT_FONT}")>{nodes}</div>
                </div>
            }
        })
        .collect_view()
}

/// Event handlers that make an element a handle for linked reading: hover and keyboard
/// focus show its links, a click, a tap or Enter pins them.
macro_rules! linkable {
    ($ui:expr, $focus:expr, $el:expr) => {{
        use leptos::tachys::html::attribute::global::OnAttribute;
        let (ui, f) = ($ui, $focus);
        $el.into_inner()
            .on(leptos::ev::mouseenter, move |_| ui.hover.set(Some(f)))
            .on(leptos::ev::mouseleave, move |_| ui.hover.set(None))
            .on(leptos::ev::focus, move |_| ui.hover.set(Some(f)))
            .on(leptos::ev::blur, move |_| ui.hover.set(None))
            .on(leptos::ev::click, move |_| ui.toggle_pin(f))
            .on(leptos::ev::keydown, move |ev: leptos::ev::KeyboardEvent| {
                if ev.key() == "Enter" || ev.key() == " " {
                    ev.prevent_default();
                    ui.toggle_pin(f);
                }
            })
    }};
}
pub(super) use linkable;

pub(super) fn mention_view(
    ui: Ui,
    res: &RunResult,
    info: &ModelInfo,
    e: usize,
    shown: &str,
) -> impl IntoView {
    let ent = &res.extraction.entities[e];
    let (fill, border) = entity_colors(type_index(&info.entity_types, &ent.label));
    let label = format!("{} “{}”, score {:.2}", ent.label, ent.text, ent.score);
    // A mention never contains a line break in practice; show one as a space if it does.
    let shown = shown.replace('\n', " ");
    let class = move || {
        let link = ui.linked.with(|l| l.entity(e));
        format!("mention {}", link.class())
    };
    let el = view! {
        <span class=class data-entity-type=ent.label.clone() data-start=ent.start
            data-end=ent.end data-entity=e data-label=ent.label.clone()
            data-score=format!("{:.3}", ent.score) title=label.clone() tabindex="0"
            role="button" aria-label=label
            aria-pressed=move || (ui.pinned.get() == Some(Focus::Entity(e))).to_string()
            style=format!("background:{fill};border-color:{border}")>{shown}</span>
    };
    linkable!(ui, Focus::Entity(e), el)
}

/// Stroke width and opacity of an arc by its score: a weak relation is drawn thin and pale.
pub(super) fn arc_strength(score: f32) -> (f64, f64) {
    let s = if score.is_finite() {
        score.clamp(0.0, 1.0) as f64
    } else {
        0.0
    };
    (1.0 + 2.2 * s, 0.45 + 0.55 * s)
}

pub(super) fn arc_view(
    ui: Ui,
    p: &ArcPart,
    res: &RunResult,
    info: &ModelInfo,
    label_widths: &[f64],
    h: f64,
    width: f64,
) -> impl IntoView {
    let r = p.relation;
    let rel = &res.extraction.relations[r];
    let ty = type_index(&info.relation_types, &rel.label);
    let color = relation_color(ty);
    let base = h;
    let y = h - 2.0 - (p.level as f64 + 0.5) * LEVEL_H;
    let (a, b) = (p.from_x, p.to_x);
    let dir = if b >= a { 1.0 } else { -1.0 };
    let rad = (5.0f64).min((b - a).abs() / 2.0);
    let mut d = String::new();
    if p.open_from {
        d.push_str(&format!("M{a:.1},{y:.1}"));
    } else {
        d.push_str(&format!(
            "M{a:.1},{base:.1}L{a:.1},{:.1}Q{a:.1},{y:.1} {:.1},{y:.1}",
            y + rad,
            a + dir * rad
        ));
    }
    if p.open_to {
        d.push_str(&format!("L{b:.1},{y:.1}"));
    } else {
        d.push_str(&format!(
            "L{:.1},{y:.1}Q{b:.1},{y:.1} {b:.1},{:.1}L{b:.1},{:.1}",
            b - dir * rad,
            y + rad,
            base - 1.0
        ));
    }
    let (stroke, opacity) = arc_strength(rel.score);
    let arrow = (p.main && !p.open_to).then(|| {
        view! {
            <polygon points=format!("{:.1},{:.1} {:.1},{:.1} {b:.1},{base:.1}", b - 4.0, base - 7.0, b + 4.0, base - 7.0)
                fill=color />
        }
    });
    let lw = label_widths.get(r).copied().unwrap_or(30.0) + LABEL_PAD;
    // A part that runs to the line's edge keeps its label clear of its one closed end (the
    // arrow, or the stem at the subject), so a short part's label never sits on the arrow.
    let mut mid = (a + b) / 2.0;
    let closed = if p.open_from && !p.open_to {
        Some(b)
    } else if p.open_to && !p.open_from {
        Some(a)
    } else {
        None
    };
    if let Some(c) = closed {
        let edge = if c == b { a } else { b };
        mid = if edge < c {
            mid.min(c - 8.0 - lw / 2.0)
        } else {
            mid.max(c + 8.0 + lw / 2.0)
        };
    }
    let mid = mid.clamp(lw / 2.0, (width - lw / 2.0).max(lw / 2.0));
    let name = |i: usize| {
        res.extraction
            .entities
            .get(i)
            .map(|e| e.text.clone())
            .unwrap_or_else(|| "?".into())
    };
    let title = format!(
        "{}: {} → {}, score {:.2}",
        rel.label,
        name(rel.head),
        name(rel.tail),
        rel.score
    );
    let aria = title.clone();
    let label = if p.main {
        rel.label.clone()
    } else {
        format!("{} …", rel.label)
    };
    let main = p.main;
    let class = move || {
        let link = ui.linked.with(|l| l.relation(r));
        let part = if main { "arc" } else { "arc arc-part" };
        format!("{part} {}", link.class())
    };
    let el = view! {
        <g class=class data-relation=rel.label.clone() data-head=rel.head data-tail=rel.tail
            data-score=format!("{:.3}", rel.score) data-part=if p.main { "main" } else { "continued" }
            tabindex=if p.main { Some("0") } else { None } role="button" aria-label=aria
            opacity=format!("{opacity:.2}")>
            <title>{title}</title>
            <path d=d fill="none" stroke=color stroke-width=format!("{stroke:.2}")
                stroke-dasharray=relation_dash(ty) />
            {arrow}
            <rect x=mid - lw / 2.0 y=y - 8.0 width=lw height="16" rx="3" fill="#ffffff" stroke=color
                stroke-width="0.6" />
            <text x=mid y=y + 0.5 fill=color text-anchor="middle" dominant-baseline="middle"
                style=format!("font: {LABEL_FONT}")>{label}</text>
        </g>
    };
    linkable!(ui, Focus::Relation(r), el)
}

pub(super) fn legend_view(info: &ModelInfo) -> impl IntoView {
    let ents = info
        .entity_types
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let (fill, border) = entity_colors(i);
            view! {
                <li class="legend-entity">
                    <span class="swatch" style=format!("background:{fill};border-color:{border}")></span>
                    {t.clone()}
                </li>
            }
        })
        .collect_view();
    let rels = info
        .relation_types
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let color = relation_color(i);
            view! {
                <li class="legend-relation">
                    <svg class="swatch-line" width="26" height="8" aria-hidden="true">
                        <line x1="1" y1="4" x2="25" y2="4" stroke=color stroke-width="2.6"
                            stroke-dasharray=relation_dash(i) />
                    </svg>
                    {t.clone()}
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="legend" aria-label="Legend">
            <span class="legend-title">"Entities"</span>
            <ul>{ents}</ul>
            <span class="legend-title">"Relations"</span>
            <ul>{rels}</ul>
        </div>
    }
}
