//! The triples table under the annotated text.

use leptos::prelude::*;

use crate::protocol::RunResult;

pub(super) fn triples_view(res: &RunResult) -> impl IntoView {
    let ex = &res.extraction;
    let rows = if ex.relations.is_empty() {
        view! { <tr class="empty"><td colspan="4">"No relations above the threshold."</td></tr> }
            .into_any()
    } else {
        ex.relations
            .iter()
            .map(|r| {
                let side = |i: usize| {
                    ex.entities
                        .get(i)
                        .map(|e| (e.text.clone(), e.label.clone()))
                        .unwrap_or_else(|| ("?".into(), String::new()))
                };
                let (h, ht) = side(r.head);
                let (t, tt) = side(r.tail);
                view! {
                    <tr>
                        <td>{h}" "<small>{ht}</small></td>
                        <td class="rel">{r.label.clone()}</td>
                        <td>{t}" "<small>{tt}</small></td>
                        <td class="num">{format!("{:.2}", r.score)}</td>
                    </tr>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <table id="triples">
            <caption>{format!("{} entities, {} relations", ex.entities.len(), ex.relations.len())}</caption>
            <thead>
                <tr><th>"Subject"</th><th>"Relation"</th><th>"Object"</th><th class="num">"Score"</th></tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
