//! The browser demo of MGE-rs: a Leptos page (`mge-web`) and a Web Worker (`mge-worker`)
//! that owns the model, so inference never runs on the page's thread.
//!
//! The modules without a browser in them (layout, linked reading, links, text chunks, colours, statistics) compile
//! natively too, and their tests run with `cargo test -p mge-web`.

pub mod arcs;
pub mod chunks;
pub mod documents;
pub mod layout;
pub mod linking;
pub mod models;
pub mod palette;
pub mod query;
pub mod stats;

#[cfg(target_arch = "wasm32")]
pub mod api;
#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
pub mod protocol;
#[cfg(target_arch = "wasm32")]
pub mod remote;
#[cfg(target_arch = "wasm32")]
pub mod worker;
