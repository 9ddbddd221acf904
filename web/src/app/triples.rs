//! The tables under the annotated text: the triples (`#triples`) and every entity found
//! (`#entities`), each row a handle for linked reading and saying where in the text it is.

use leptos::prelude::*;

use super::annotated::linkable;
use super::state::Ui;
use crate::api::Extraction;
use crate::linking::Focus;
use crate::protocol::RunResult;
use crate::stats::counted;

/// Where a span is, in characters of the text ("chars 4–18").
pub(super) fn at(start: usize, end: usize) -> String {
    format!("chars {start}–{end}")
}

/// How many relations entity `e` takes part in.
pub(super) fn relations_of(ex: &Extraction, e: usize) -> usize {
    ex.relations
        .iter()
        .filter(|r| r.head == e || r.tail == e)
        .count()
}

/// A score as a number with a bar of its size behind it.
fn score_cell(score: f32) -> impl IntoView {
    let s = if score.is_finite() {
        score.clamp(0.0, 1.0)
    } else {
        0.0
    };
    view! {
        <td class="num score">
            <span class="score-bar" style=format!("width:{:.0}%", s * 100.0)></span>
            <span class="score-num">{format!("{s:.2}")}</span>
        </td>
    }
}

pub(super) fn triples_view(ui: Ui, res: &RunResult) -> impl IntoView {
    let ex = &res.extraction;
    let rows = if ex.relations.is_empty() {
        view! { <tr class="empty"><td colspan="4">"No relations above the threshold."</td></tr> }
            .into_any()
    } else {
        ex.relations
            .iter()
            .enumerate()
            .map(|(r, rel)| {
                // The entity's text, then its type and place, so that two identical triples
                // from different sentences can be told apart.
                let side = |i: usize| {
                    let (name, detail) = ex
                        .entities
                        .get(i)
                        .map(|e| (e.text.clone(), format!("{} · {}", e.label, at(e.start, e.end))))
                        .unwrap_or_else(|| ("?".into(), String::new()));
                    view! { <td><span class="name">{name}</span>" "<small>{detail}</small></td> }
                };
                let class = move || ui.linked.with(|l| l.relation(r).class());
                let row = view! {
                    <tr class=class data-row-relation=r tabindex="0"
                        aria-pressed=move || (ui.pinned.get() == Some(Focus::Relation(r))).to_string()>
                        {side(rel.head)}
                        <td class="rel">{rel.label.clone()}</td>
                        {side(rel.tail)}
                        {score_cell(rel.score)}
                    </tr>
                };
                linkable!(ui, Focus::Relation(r), row)
            })
            .collect_view()
            .into_any()
    };
    view! {
        <table id="triples" class="result-table">
            <caption>{format!("{}, {}", counted(ex.entities.len(), "entity", "entities"), counted(ex.relations.len(), "relation", "relations"))}</caption>
            <thead>
                <tr><th>"Subject"</th><th>"Relation"</th><th>"Object"</th><th class="num">"Score"</th></tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// Every entity shown, also those in no relation, in the order of the text.
pub(super) fn entities_view(ui: Ui, res: &RunResult) -> impl IntoView {
    let ex = &res.extraction;
    let mut order: Vec<usize> = (0..ex.entities.len()).collect();
    order.sort_by_key(|&i| (ex.entities[i].start, ex.entities[i].end));
    let rows = if order.is_empty() {
        view! { <tr class="empty"><td colspan="4">"No entities above the threshold."</td></tr> }
            .into_any()
    } else {
        order
            .into_iter()
            .map(|e| {
                let ent = &ex.entities[e];
                let links = relations_of(ex, e);
                let class = move || ui.linked.with(|l| l.entity(e).class());
                let row = view! {
                    <tr class=class data-row-entity=e tabindex="0"
                        aria-pressed=move || (ui.pinned.get() == Some(Focus::Entity(e))).to_string()>
                        <td><span class="name">{ent.text.clone()}</span>" "<small>{ent.label.clone()}</small></td>
                        <td class="where">{at(ent.start, ent.end)}</td>
                        <td class="num">{links}</td>
                        {score_cell(ent.score)}
                    </tr>
                };
                linkable!(ui, Focus::Entity(e), row)
            })
            .collect_view()
            .into_any()
    };
    view! {
        <table id="entities" class="result-table">
            <caption>{format!("{} in the text", counted(ex.entities.len(), "entity", "entities"))}</caption>
            <thead>
                <tr><th>"Entity"</th><th>"Where"</th><th class="num" title="Relations it takes part in">"Rel."</th><th class="num">"Score"</th></tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
