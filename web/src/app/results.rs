//! The result of the latest run: the legend, the annotated text, the timings and the triples.

use leptos::prelude::*;

use super::annotated::{annotated_view, legend_view};
use super::state::{Phase, Ui};
use super::status::timing_view;
use super::triples::triples_view;

/// Everything the latest result shows, greyed while a newer run is under way.
#[component]
pub(super) fn Results(ui: Ui) -> impl IntoView {
    let results = move || {
        let info = ui.loaded.get()?;
        let width = ui.width.get();
        let stale = ui.phase.get() == Phase::Busy;
        ui.result.with(|r| {
            let r = r.as_ref()?;
            (r.model == info.model).then(|| {
                view! {
                    <div class={ if stale { "results stale" } else { "results" } }>
                        {legend_view(&info)}
                        <div class="annotated" aria-label="Text with entities and relations">
                            {annotated_view(r, &info, width)}
                        </div>
                        {timing_view(&r.timings, r.chunks, ui.backend.get_untracked(), ui.simd.get_untracked())}
                        {triples_view(r)}
                    </div>
                }
            })
        })
    };

    results
}
