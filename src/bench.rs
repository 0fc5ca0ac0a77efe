//! Measurement hooks for the browser benchmark (`scripts/bench.sh`): read bodies into a resident
//! set without building JS objects, generate a fleet, hand it to the running dashboard, and
//! report wasm memory. Timing is done by the page (`performance.now()`), never here. Built only
//! with the `bench` feature (`trunk build --release --features bench`), so the production module
//! exports none of them.

use std::cell::RefCell;

use usagelens_core::{parse, ParseOptions, UsageSet};
use wasm_bindgen::prelude::*;

use crate::state::{AppState, SourceOrigin};

thread_local! {
    static STAGED: RefCell<UsageSet> = RefCell::new(UsageSet::new());
    static APP: RefCell<Option<AppState>> = const { RefCell::new(None) };
}

/// The stand-alone app registers its state so `benchShowStaged` can load into it.
pub fn register_app(state: AppState) {
    APP.with(|a| *a.borrow_mut() = Some(state));
}

/// Reads each body (`parseUsage`'s read and normalize, without the JS result objects) into the
/// staged set; returns the number of records it holds.
#[wasm_bindgen(js_name = benchReadBodies)]
pub fn bench_read_bodies(bodies: js_sys::Array) -> Result<f64, JsError> {
    STAGED.with(|staged| {
        let mut set = staged.borrow_mut();
        for (i, body) in bodies.iter().enumerate() {
            let text = body
                .as_string()
                .ok_or_else(|| JsError::new(&format!("body {i} is not a string")))?;
            parse(&text, &ParseOptions::default(), &mut set)
                .map_err(|e| JsError::new(&format!("body {i}: {e}")))?;
        }
        Ok(set.len() as f64)
    })
}

/// Generates `subjects` x `days` daily data records (deterministic, heavy-tailed volumes) into
/// the staged set; returns its record count.
#[wasm_bindgen(js_name = benchGenerateFleet)]
pub fn bench_generate_fleet(subjects: u32, days: u32) -> f64 {
    STAGED.with(|staged| {
        let mut set = staged.borrow_mut();
        *set = usagelens_core::bench::synthetic_fleet(subjects, days);
        set.len() as f64
    })
}

#[wasm_bindgen(js_name = benchStagedRecords)]
pub fn bench_staged_records() -> f64 {
    STAGED.with(|s| s.borrow().len() as f64)
}

#[wasm_bindgen(js_name = benchClearStaged)]
pub fn bench_clear_staged() {
    STAGED.with(|s| *s.borrow_mut() = UsageSet::new());
}

/// Moves the staged set into the running dashboard as one source (no copy when the dashboard is
/// empty); its aggregation and chart follow.
#[wasm_bindgen(js_name = benchShowStaged)]
pub fn bench_show_staged() -> Result<(), JsError> {
    let set = STAGED.with(|s| std::mem::take(&mut *s.borrow_mut()));
    APP.with(|a| match *a.borrow() {
        Some(state) => {
            state.add_set(
                "benchmark fleet",
                SourceOrigin::Live,
                set,
                None,
                Vec::new(),
                None,
            );
            Ok(())
        }
        None => Err(JsError::new("no dashboard is mounted on this page")),
    })
}

/// The wasm linear memory's size in bytes (it only grows: a high-water mark).
#[wasm_bindgen(js_name = wasmMemoryBytes)]
pub fn wasm_memory_bytes() -> f64 {
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .map(|m| {
            m.buffer()
                .unchecked_into::<js_sys::ArrayBuffer>()
                .byte_length() as f64
        })
        .unwrap_or(0.0)
}

/// The previous `parseUsage` path (records built field by field), for the benchmark's reference.
#[wasm_bindgen(js_name = benchParseUsageFieldByField)]
pub fn bench_parse_usage_field_by_field(text: &str) -> Result<JsValue, JsError> {
    crate::api::parse_usage_field_by_field(text, JsValue::UNDEFINED)
}
