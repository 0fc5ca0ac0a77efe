use leptos::prelude::*;
use usagelens_core::aggregate::filtered_indices;
use usagelens_core::export::{records_csv, records_json};
use wasm_bindgen::JsCast;

use crate::state::AppState;

/// Downloads the filtered records as CSV or JSON in the model's schema.
#[component]
pub fn ExportButtons() -> impl IntoView {
    let state = expect_context::<AppState>();
    let export = move |kind: &'static str| {
        let filter = state.filter.get_untracked();
        let text = state.merged_with(|set| {
            let idx = filtered_indices(set, &filter);
            if kind == "csv" {
                records_csv(set, &idx)
            } else {
                records_json(set, &idx)
            }
        });
        let date = chrono::Utc::now().format("%Y%m%d");
        let mime = if kind == "csv" {
            "text/csv"
        } else {
            "application/json"
        };
        if let Err(e) = download(&format!("usagelens-records-{date}.{kind}"), mime, &text) {
            web_sys::console::error_1(&e);
        }
    };
    view! {
        <div class="ul-export">
            <button
                type="button"
                class="ul-button"
                data-testid="export-csv"
                on:click=move |_| export("csv")
            >
                "Export CSV"
            </button>
            <button
                type="button"
                class="ul-button"
                data-testid="export-json"
                on:click=move |_| export("json")
            >
                "Export JSON"
            </button>
        </div>
    }
}

/// Offers `text` as a file download through a Blob URL.
pub fn download(name: &str, mime: &str, text: &str) -> Result<(), wasm_bindgen::JsValue> {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    download_url(name, &url)?;
    web_sys::Url::revoke_object_url(&url)?;
    Ok(())
}

/// Offers the resource at `url` (a blob or data URL) as a file download named `name`.
pub fn download_url(name: &str, url: &str) -> Result<(), wasm_bindgen::JsValue> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = document.create_element("a")?.dyn_into()?;
    a.set_href(url);
    a.set_download(name);
    a.click();
    Ok(())
}
