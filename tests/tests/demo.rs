//! End-to-end tests of the browser demo: the built `dist/` served on 127.0.0.1, driven in
//! headless Chromium through chromedriver, checked through the page's DOM contract
//! (`web/README.md`): mentions carry `data-entity-type`/`data-start`/`data-end`, arcs
//! `data-relation`/`data-head`/`data-tail`, `#status` `data-state`/`data-backend`.
//!
//! `cargo test -p mge-e2e --release` (builds nothing of the demo: build dist/ first).

use std::collections::BTreeSet;
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{anyhow, ensure, Result};
use fantoccini::Locator;
use mge_e2e::{encode_query_value, run_e2e, shows_text_script, Browser, Mention, SAW_BUSY};
use serde_json::json;

/// Page load to first result: downloading and preparing a 27 MB bundle on a busy machine.
const LOAD: Duration = Duration::from_secs(120);
/// One more extraction (or a model switch) once the page is up.
const RUN: Duration = Duration::from_secs(60);

const CONLL04_TYPES: [&str; 4] = ["Loc", "Org", "Other", "Peop"];
const SCIERC_TYPES: [&str; 6] = [
    "Generic",
    "Material",
    "Method",
    "Metric",
    "OtherScientificTerm",
    "Task",
];

const ANY_RESULT: &str = "return document.querySelectorAll('.annotated .line-text').length > 0;";

/// Every mention's offsets (characters) select exactly its text in `text`.
fn check_offsets(text: &str, mentions: &[Mention]) -> Result<()> {
    let chars: Vec<char> = text.chars().collect();
    for m in mentions {
        let (s, e) = (m.start as usize, m.end as usize);
        ensure!(
            s < e && e <= chars.len(),
            "mention {m:?} has offsets outside the text"
        );
        let slice: String = chars[s..e].iter().collect();
        ensure!(
            slice == m.text,
            "mention {m:?}: data-start/data-end select {slice:?}, the element shows {:?}",
            m.text
        );
    }
    Ok(())
}

fn find<'a>(ms: &'a [Mention], ty: &str, text: &str) -> Result<&'a Mention> {
    ms.iter()
        .find(|m| m.entity_type == ty && m.text == text)
        .ok_or_else(|| anyhow!("no {ty} mention {text:?} among {ms:?}"))
}

async fn backend(b: &Browser) -> Result<String> {
    Ok(b.js(
        "return document.getElementById('status').getAttribute('data-backend');",
        vec![],
    )
    .await?
    .as_str()
    .unwrap_or_default()
    .to_string())
}

#[test]
fn typing_a_sentence_shows_entities_relations_and_triples() {
    run_e2e("01-typing", async |cx| {
        let b = &cx.browser;
        b.goto(&cx.server.url()).await?;
        // The page opens with its first example and runs it at once.
        b.wait_settled("the first example's result", LOAD, ANY_RESULT)
            .await?;
        b.screenshot("opening-example").await?;

        let text = "Maria Gonzalez works for the United Nations in Geneva.";
        let area = b.client.find(Locator::Id("text")).await?;
        area.clear().await?;
        area.send_keys(text).await?;
        b.wait_settled("the typed sentence's result", RUN, &shows_text_script(text))
            .await?;
        b.screenshot("typed-sentence").await?;

        let ms = b.mentions().await?;
        check_offsets(text, &ms)?;
        let maria = find(&ms, "Peop", "Maria Gonzalez")?;
        ensure!(
            (maria.start, maria.end) == (0, 14),
            "Maria Gonzalez at {}..{}, expected 0..14",
            maria.start,
            maria.end
        );
        let un = find(&ms, "Org", "United Nations")?;
        find(&ms, "Loc", "Geneva")?;

        let arcs = b.arcs().await?;
        ensure!(
            arcs.iter()
                .any(|a| a.relation == "Work_For" && a.head == maria.entity && a.tail == un.entity),
            "no Work_For arc from entity {} to {}: {arcs:?}",
            maria.entity,
            un.entity
        );
        let rows = b.triples().await?;
        ensure!(
            rows.contains(&(
                "Maria Gonzalez".to_string(),
                "Work_For".to_string(),
                "United Nations".to_string()
            )),
            "no (Maria Gonzalez, Work_For, United Nations) row in #triples: {rows:?}"
        );
        ensure!(backend(b).await? == "wasm", "data-backend is not wasm");
        Ok(())
    });
}

#[test]
fn switching_to_scierc_gives_scientific_entity_types() {
    run_e2e("02-scierc", async |cx| {
        let b = &cx.browser;
        b.goto(&cx.server.url()).await?;
        b.wait_settled("the first result", LOAD, ANY_RESULT).await?;

        let text = "We propose a new method for machine translation based on neural networks.";
        b.set_value("model", "scierc").await?;
        b.set_value("text", text).await?;
        b.wait_settled(
            "the SciERC result",
            LOAD,
            &format!(
                "return document.getElementById('model').value === 'scierc' && \
                 [...document.querySelectorAll('.legend-entity')].some(l => l.textContent.includes('Method')) && \
                 (function() {{ {} }})();",
                shows_text_script(text)
            ),
        )
        .await?;
        b.screenshot("scierc-result").await?;

        let ms = b.mentions().await?;
        check_offsets(text, &ms)?;
        ensure!(!ms.is_empty(), "no mentions for the science sentence");
        for m in &ms {
            ensure!(
                SCIERC_TYPES.contains(&m.entity_type.as_str()),
                "mention {m:?} has a type outside the SciERC set"
            );
            ensure!(
                !CONLL04_TYPES.contains(&m.entity_type.as_str()),
                "mention {m:?} has a CoNLL04 type"
            );
        }
        let legend = b
            .js(
                "return [...document.querySelectorAll('.legend-entity')].map(l => l.textContent.trim());",
                vec![],
            )
            .await?;
        let legend: BTreeSet<String> = legend
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let expected: BTreeSet<String> = SCIERC_TYPES.iter().map(|s| s.to_string()).collect();
        ensure!(
            legend == expected,
            "legend lists {legend:?}, expected {expected:?}"
        );
        eprintln!(
            "scierc mentions: {:?}",
            ms.iter()
                .map(|m| format!("{}:{}", m.entity_type, m.text))
                .collect::<Vec<_>>()
        );
        Ok(())
    });
}

#[test]
fn threshold_changes_the_number_of_mentions_monotonically() {
    run_e2e("03-threshold", async |cx| {
        let b = &cx.browser;
        // The long opening example has mentions of several confidences.
        b.goto(&cx.server.url()).await?;
        b.wait_settled("the first result", LOAD, ANY_RESULT).await?;

        let mut counts = Vec::new();
        for t in ["0.5", "0.95", "0.05"] {
            b.watch_busy().await?;
            b.set_value("threshold", t).await?;
            // The slider's own label shows the value; the result follows after a short debounce.
            b.wait_settled(
                &format!("the result at threshold {t}"),
                RUN,
                &format!(
                    "return {SAW_BUSY} && \
                     Math.abs(parseFloat(document.getElementById('threshold').value) - {t}) < 1e-6 && \
                     document.querySelectorAll('.annotated .line-text').length > 0;"
                ),
            )
            .await?;
            let m = b.mentions().await?.len();
            let r = b.arcs().await?.len();
            counts.push((t, m, r));
            b.screenshot(&format!("threshold-{t}")).await?;
        }
        eprintln!("(threshold, mentions, relations): {counts:?}");
        let (_, m50, r50) = counts[0];
        let (_, m95, r95) = counts[1];
        let (_, m05, r05) = counts[2];
        ensure!(
            m95 <= m50,
            "more mentions at 0.95 ({m95}) than at 0.5 ({m50})"
        );
        ensure!(
            m05 >= m50,
            "fewer mentions at 0.05 ({m05}) than at 0.5 ({m50})"
        );
        ensure!(
            r95 <= r50 && r05 >= r50,
            "relations not monotonic: {counts:?}"
        );
        ensure!(
            m05 + r05 > m95 + r95,
            "the threshold changed nothing between 0.05 and 0.95: {counts:?}"
        );
        Ok(())
    });
}

#[test]
fn a_link_with_text_model_and_threshold_runs_without_typing() {
    run_e2e("04-link", async |cx| {
        let b = &cx.browser;
        let text = "Angela Merkel met Emmanuel Macron in Paris on Monday.";
        let url = format!(
            "{}?text={}&model=conll04&threshold=0.5",
            cx.server.url(),
            encode_query_value(text)
        );
        b.goto(&url).await?;
        b.wait_settled("the linked text's result", LOAD, &shows_text_script(text))
            .await?;
        b.screenshot("linked-text").await?;
        let v = b
            .js(
                "return [document.getElementById('text').value, document.getElementById('model').value,\
                 document.getElementById('threshold').value];",
                vec![],
            )
            .await?;
        ensure!(v[0] == json!(text), "the textarea holds {}", v[0]);
        ensure!(v[1] == json!("conll04"), "the model picker shows {}", v[1]);
        let th: f64 = v[2].as_str().unwrap_or("").parse().unwrap_or(f64::NAN);
        ensure!((th - 0.5).abs() < 1e-6, "the threshold shows {}", v[2]);
        let ms = b.mentions().await?;
        check_offsets(text, &ms)?;
        ensure!(!ms.is_empty(), "no mentions for the linked text");
        ensure!(
            ms.iter().any(|m| m.entity_type == "Peop"),
            "no person among {ms:?}"
        );
        Ok(())
    });
}

#[test]
fn html_in_the_text_is_shown_as_text() {
    run_e2e("05-html", async |cx| {
        let b = &cx.browser;
        let text = "<b>Boston</b> <script>window.__x=1</script>";
        let url = format!("{}?text={}", cx.server.url(), encode_query_value(text));
        b.goto(&url).await?;
        b.wait_settled(
            "the result for the HTML text",
            LOAD,
            &shows_text_script(text),
        )
        .await?;
        b.screenshot("html-as-text").await?;
        let v = b
            .js(
                "const out = document.querySelector('section.output');\
                 return { injected: out.querySelectorAll('b, script').length,\
                          shown: [...out.querySelectorAll('.annotated .line-text')].map(l => l.textContent).join(''),\
                          x: typeof window.__x,\
                          area: document.getElementById('text').value };",
                vec![],
            )
            .await?;
        ensure!(
            v["injected"] == json!(0),
            "elements from the text were created: {v}"
        );
        ensure!(v["x"] == json!("undefined"), "the script ran: {v}");
        let shown = v["shown"].as_str().unwrap_or_default();
        ensure!(
            shown.contains("<b>Boston</b>") && shown.contains("<script>"),
            "the tags are not shown literally: {shown:?}"
        );
        ensure!(v["area"] == json!(text), "the textarea holds {}", v["area"]);
        check_offsets(text, &b.mentions().await?)?;
        Ok(())
    });
}

#[test]
fn an_empty_text_shows_a_hint_not_an_error() {
    run_e2e("06-empty", async |cx| {
        let b = &cx.browser;
        b.goto(&cx.server.url()).await?;
        b.wait_settled("the first result", LOAD, ANY_RESULT).await?;
        b.set_value("text", "").await?;
        let hint = b
            .wait_settled(
                "the hint for an empty text",
                RUN,
                "const h = document.querySelector('#input-hint.hint');\
                 return h && h.offsetParent !== null ? h.textContent : null;",
            )
            .await?;
        b.screenshot("empty-hint").await?;
        ensure!(
            hint.as_str().is_some_and(|h| h.trim().len() > 10),
            "hint: {hint}"
        );
        let state = b.state().await?;
        ensure!(state != "error", "status is {state} for an empty text");
        let alerts = b
            .js(
                "return document.querySelectorAll('.load-error, .refuse').length;",
                vec![],
            )
            .await?;
        ensure!(
            alerts == json!(0),
            "an error is shown for an empty text ({alerts})"
        );
        Ok(())
    });
}

#[test]
fn after_one_visit_the_page_works_offline() {
    run_e2e("07-offline", async |cx| {
        let text = "Maria Gonzalez works for the United Nations in Geneva.";
        let url = format!("{}?text={}", cx.server.url(), encode_query_value(text));
        {
            let b = &cx.browser;
            b.goto(&url).await?;
            b.wait_settled("the first visit's result", LOAD, &shows_text_script(text))
                .await?;
            // The service worker claims the page once active; reload if it has not.
            let controlled =
                "return !!(navigator.serviceWorker && navigator.serviceWorker.controller);";
            if b.wait_for("the service worker", Duration::from_secs(10), controlled)
                .await
                .is_err()
            {
                b.client.refresh().await?;
                b.wait_for("the service worker after a reload", RUN, controlled)
                    .await?;
                b.wait_settled(
                    "the result after the reload",
                    LOAD,
                    &shows_text_script(text),
                )
                .await?;
            }
            // The page asks the service worker to keep the bundle once it has loaded it.
            b.wait_for(
                "the model bundle in the service worker's cache",
                RUN,
                "return caches.keys()\
                   .then(names => Promise.all(names.map(n => caches.open(n).then(c => c.keys()))))\
                   .then(all => all.flat().some(r => r.url.endsWith('/models/conll04.safetensors')));",
            )
            .await?;
            b.screenshot("online-first-visit").await?;
        }
        let base = cx.server.url();
        ensure!(cx.server.hits("/models/conll04.safetensors") >= 1);
        cx.server.stop();
        let addr = base.trim_start_matches("http://").trim_end_matches('/');
        ensure!(
            TcpStream::connect(addr).is_err(),
            "the server still answers after stop"
        );

        let b = &cx.browser;
        b.goto(&url).await?;
        b.wait_settled(
            "the result with the server stopped",
            LOAD,
            &shows_text_script(text),
        )
        .await?;
        b.screenshot("offline-reload").await?;
        let ms = b.mentions().await?;
        check_offsets(text, &ms)?;
        find(&ms, "Peop", "Maria Gonzalez")?;
        ensure!(b.state().await? == "ready", "status is not ready offline");
        Ok(())
    });
}

#[test]
fn a_damaged_model_is_an_error_with_retry() {
    run_e2e("08-damaged-model", async |cx| {
        const BUNDLE: &str = "/models/conll04.safetensors";
        // Not a safetensors file: pseudo-random bytes of about a bundle's first megabyte.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let junk: Vec<u8> = (0..1 << 20)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        cx.server.set_override(BUNDLE, junk);

        let b = &cx.browser;
        let text = "Maria Gonzalez works for the United Nations in Geneva.";
        b.goto(&format!(
            "{}?text={}",
            cx.server.url(),
            encode_query_value(text)
        ))
        .await?;
        let msg = b
            .wait_for(
                "the load error",
                LOAD,
                "const s = document.getElementById('status');\
                 const e = document.querySelector('.load-error');\
                 return s && s.dataset.state === 'error' && e && e.offsetParent !== null\
                   ? e.textContent : null;",
            )
            .await?;
        b.screenshot("load-error").await?;
        let msg = msg.as_str().unwrap_or_default();
        ensure!(
            msg.contains("model"),
            "the error message does not say what failed: {msg:?}"
        );
        let retry = b.client.find(Locator::Id("retry")).await?;
        ensure!(retry.is_displayed().await?, "the Retry button is hidden");
        ensure!(
            b.mentions().await?.is_empty(),
            "mentions shown without a model"
        );

        // With the file repaired, Retry loads the model and the text is processed.
        cx.server.clear_override(BUNDLE);
        retry.click().await?;
        b.wait_settled("the result after Retry", LOAD, &shows_text_script(text))
            .await?;
        b.screenshot("after-retry").await?;
        find(&b.mentions().await?, "Peop", "Maria Gonzalez")?;
        ensure!(
            cx.server.hits(BUNDLE) >= 2,
            "Retry did not download the bundle again"
        );
        Ok(())
    });
}
