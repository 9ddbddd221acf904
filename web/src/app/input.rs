//! The controls (model picker, threshold, link, download) and the text box with its examples.

use std::time::Duration;

use leptos::prelude::*;

use super::state::Ui;
use crate::models::{example_name, is_example, ModelKey, MAX_CHARS};
use crate::query::{format_threshold, THRESHOLD_MAX, THRESHOLD_MIN};
use crate::stats::{counted, grouped};

/// Debounce of typing and of the threshold slider.
const TYPE_DEBOUNCE: Duration = Duration::from_millis(300);
const SLIDER_DEBOUNCE: Duration = Duration::from_millis(150);

/// The loaded model's test scores, where the model is picked: how far to trust it.
fn model_scores(ui: Ui) -> Option<String> {
    let info = ui.loaded.get()?;
    match (info.test_ner_f1, info.test_re_f1) {
        (Some(n), Some(r)) => Some(format!(
            "F1 on its test set: entities {n:.1}, relations {r:.1}{}",
            if r < 70.0 {
                " (expect missed and wrong relations)"
            } else {
                ""
            }
        )),
        _ => None,
    }
}

/// What the threshold does to the result shown (`#threshold-note`).
fn threshold_note(ui: Ui) -> String {
    let t = format_threshold(ui.threshold.get());
    let shown = ui.result.with(|r| {
        r.as_ref()
            .map(|r| (r.extraction.entities.len(), r.extraction.relations.len()))
    });
    match shown {
        Some((e, r)) => format!(
            "Hides entities and relations scoring below {t}: {} and {} shown.",
            counted(e, "entity", "entities"),
            counted(r, "relation", "relations")
        ),
        None => format!("Hides entities and relations scoring below {t}."),
    }
}

/// `#model`, `#threshold`, `#copy-link` and `#download-json`, with the link's note.
#[component]
pub(super) fn Controls(ui: Ui) -> impl IntoView {
    view! {
    <section class="controls">
        <label>"Model "
            <select id="model" on:change=move |ev| {
                if let Some(m) = ModelKey::from_key(&event_target_value(&ev)) {
                    if m != ui.model.get_untracked() {
                        // An example of the old model makes no sense to the new one (a
                        // person's name read as a Method): the new model's first example
                        // takes its place. Text the visitor wrote stays.
                        let example = ui.text.with_untracked(|t| t.trim().is_empty() || is_example(t));
                        if example {
                            ui.text.set(m.examples()[0].to_string());
                        }
                        ui.model.set(m);
                        ui.result.set(None);
                        ui.teach_type.set(None);
                        ui.load_model_and_send();
                    }
                }
            }>
                {ModelKey::ALL.iter().map(|&m| view! {
                    <option value=m.key() prop:selected=move || ui.model.get() == m>{m.label()}</option>
                }).collect_view()}
            </select>
        </label>
        <span id="model-scores" class="model-scores">{move || model_scores(ui)}</span>
        <label class="threshold">"Threshold "
            <input id="threshold" type="range" min=THRESHOLD_MIN max=THRESHOLD_MAX step="0.01"
                prop:value=move || ui.threshold.get().to_string()
                on:input=move |ev| {
                    if let Ok(t) = event_target_value(&ev).parse::<f32>() {
                        if t.is_finite() {
                            ui.threshold.set(t.clamp(THRESHOLD_MIN, THRESHOLD_MAX));
                            ui.schedule(SLIDER_DEBOUNCE);
                        }
                    }
                } />
            <output>{move || format_threshold(ui.threshold.get())}</output>
        </label>
        <span id="threshold-note" class="threshold-note">{move || threshold_note(ui)}</span>
        <button id="copy-link" on:click=move |_| ui.copy_link()>"Copy link"</button>
        <button id="download-json" on:click=move |_| ui.download_json()
            disabled=move || ui.result.with(|r| r.is_none())>"Download JSON"</button>
    </section>
    {move || ui.link_note.get().map(|n| view! { <p class="link-note">{n}</p> })}
    }
}

/// `#text`, the example buttons, the character count and the hint or refusal under it.
#[component]
pub(super) fn TextInput(ui: Ui) -> impl IntoView {
    let chars = move || ui.text.with(|t| t.chars().count());
    let input_notice = move || {
        let n = chars();
        let empty = ui.text.with(|t| t.trim().is_empty());
        if empty {
            Some(view! { <p class="hint" id="input-hint">"Type or paste English text above (a sentence or a few paragraphs), or pick an example."</p> }.into_any())
        } else if n > MAX_CHARS {
            Some(view! {
                <p class="refuse" id="input-hint" role="alert">
                    {format!("This text has {} characters; the demo accepts at most {}. Please shorten it or split it into parts.", grouped(n), grouped(MAX_CHARS))}
                </p>
            }.into_any())
        } else {
            None
        }
    };
    let examples = move || {
        let m = ui.model.get();
        m.examples()
            .iter()
            .map(|&ex| {
                view! {
                    <button class="example" title=ex on:click=move |_| {
                        ui.text.set(ex.to_string());
                        ui.run_now();
                    }>{example_name(ex, 4)}</button>
                }
            })
            .collect_view()
    };

    // Which page of a long document the text box shows, with the way to the others.
    let pager = move || {
        ui.doc_page.get().map(|(doc, page, pages)| {
            let name = ui.docs.with(|d| {
                d.docs
                    .get(doc)
                    .map(|x| {
                        let file = d.files.get(x.file).map_or("", |f| f.name.as_str());
                        format!("{file}, document {}", x.n)
                    })
                    .unwrap_or_default()
            });
            // (A `>` inside the view's attributes would end the tag.)
            let (first, last) = (page == 0, page + 1 >= pages);
            view! {
                <p id="doc-page" class="hint" data-page=page + 1 data-pages=pages>
                    {format!("{name}: page {} of {pages} ", page + 1)}
                    <button id="doc-page-prev" disabled=first
                        on:click=move |_| ui.open_doc_page(doc, page.saturating_sub(1))>"Previous page"</button>
                    " "
                    <button id="doc-page-next" disabled=last
                        on:click=move |_| ui.open_doc_page(doc, page + 1)>"Next page"</button>
                </p>
            }
        })
    };

    view! {
    <section class="input">
        {pager}
        <textarea id="text" rows="5" spellcheck="false" aria-label="Text to analyse"
            prop:value=move || ui.text.get()
            on:input=move |ev| {
                ui.text.set(event_target_value(&ev));
                ui.schedule(TYPE_DEBOUNCE);
            }></textarea>
        <div class="under-input">
            <div class="examples">"Try: "{examples}</div>
            <span class=move || { if chars() > MAX_CHARS { "count over" } else { "count" } }>
                {move || format!("{} / {} characters", grouped(chars()), grouped(MAX_CHARS))}
            </span>
        </div>
        {input_notice}
    </section>
    }
}
