//! The result of the latest run: the legend, the readout of what is pointed at, the annotated
//! text, the timings, the triples and the entities.

use leptos::prelude::*;

use super::annotated::{annotated_view, legend_view};
use super::state::{Phase, Ui};
use super::status::timing_view;
use super::triples::{at, entities_view, relations_of, triples_view};
use crate::linking::Focus;
use crate::stats::counted;

/// What the focused or pinned element is, with its type, text and score (`#focus-info`).
fn focus_text(ui: Ui) -> String {
    let Some(focus) = ui.focus.get() else {
        return "Point at a mention, an arc or a row (or Tab to it) to see what it is linked to \
                and its score; click or press Enter to keep it."
            .to_string();
    };
    let pinned = if ui.pinned.get() == Some(focus) {
        " (kept: click it again to let go)"
    } else {
        ""
    };
    ui.result.with(|r| {
        let Some(ex) = r.as_ref().map(|r| &r.extraction) else {
            return String::new();
        };
        let name = |i: usize| {
            ex.entities
                .get(i)
                .map(|e| format!("“{}”", e.text))
                .unwrap_or_else(|| "?".into())
        };
        match focus {
            Focus::Entity(e) => ex.entities.get(e).map(|ent| {
                let n = relations_of(ex, e);
                format!(
                    "{} {} · score {:.2} · {} · in {}{pinned}",
                    ent.label,
                    name(e),
                    ent.score,
                    at(ent.start, ent.end),
                    counted(n, "relation", "relations")
                )
            }),
            Focus::Relation(i) => ex.relations.get(i).map(|rel| {
                format!(
                    "{}: {} → {} · score {:.2}{pinned}",
                    rel.label,
                    name(rel.head),
                    name(rel.tail),
                    rel.score
                )
            }),
        }
        .unwrap_or_default()
    })
}

/// Everything the latest result shows, greyed while a newer run is under way.
#[component]
pub(super) fn Results(ui: Ui) -> impl IntoView {
    move || {
        let info = ui.loaded.get()?;
        let width = ui.width.get();
        let stale = ui.phase.get() == Phase::Busy;
        ui.result.with(|r| {
            let r = r.as_ref()?;
            (r.model == info.model).then(|| {
                view! {
                    <div class={ if stale { "results stale" } else { "results" } }>
                        {legend_view(&info)}
                        <p id="focus-info" class=move || if ui.focus.get().is_some() { "focus-info on" } else { "focus-info" }
                            aria-live="polite">{move || focus_text(ui)}</p>
                        <div class=move || if ui.focus.get().is_some() { "annotated focusing" } else { "annotated" }
                            aria-label="Text with entities and relations">
                            {annotated_view(ui, r, &info, width)}
                        </div>
                        {timing_view(&r.timings, r.chunks, ui.backend.get_untracked(), ui.simd.get_untracked(), ui.kernels.get_untracked(), ui.loaded.get_untracked().map(|i| i.choice))}
                        <div class="tables">
                            {triples_view(ui, r)}
                            {entities_view(ui, r)}
                        </div>
                    </div>
                }
            })
        })
    }
}
