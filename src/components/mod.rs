//! Leptos components, one per file.

pub mod app;
