use leptos::prelude::*;
use leptos::task::spawn_local;
use usagelens_core::{ParseOptions, Subject, SubjectKind};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::state::{AppState, SourceOrigin};

/// The three ways in: the demo, files (chosen or dropped), and pasted text.
#[component]
pub fn ImportPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let config = expect_context::<RwSignal<crate::viewer_config::ViewerConfig>>();
    let paste = RwSignal::new(String::new());
    let dragging = RwSignal::new(false);

    let load_demo = move |_| start_demo_load(state);

    let read_files = move |files: web_sys::FileList| {
        let files: Vec<web_sys::File> = (0..files.length()).filter_map(|i| files.get(i)).collect();
        if files.is_empty() {
            return;
        }
        state.busy.update(|b| *b += 1);
        spawn_local(async move {
            for file in files {
                let name = file.name();
                // Refused before reading: a file is read whole into the page's memory.
                let size = file.size();
                if size > usagelens_core::text::MAX_FILE_BYTES as f64 {
                    state.add_failure(
                        &name,
                        SourceOrigin::File,
                        usagelens_core::text::too_large("the file", size as u64),
                    );
                    continue;
                }
                // Bytes, not `file.text()`: spreadsheets save CSV as Windows-1252 or UTF-16,
                // which `text()` would read as UTF-8 (see usagelens_core::text).
                match JsFuture::from(file.array_buffer()).await {
                    Ok(buffer) => {
                        let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
                        let _ = state.ingest_bytes(
                            &name,
                            SourceOrigin::File,
                            &bytes,
                            &ParseOptions::default(),
                        );
                    }
                    Err(_) => {
                        state.add_failure(
                            &name,
                            SourceOrigin::File,
                            "the browser could not read this file".into(),
                        );
                    }
                }
            }
            state.busy.update(|b| *b -= 1);
        });
    };

    let on_file_change = move |ev: web_sys::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        if let Some(files) = input.files() {
            read_files(files);
        }
        input.set_value("");
    };

    let on_drop = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(files) = ev.data_transfer().and_then(|d| d.files()) {
            read_files(files);
        }
    };

    let submit_paste = move |_| {
        let text = paste.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        let n = state
            .sources
            .with_untracked(|s| s.iter().filter(|x| x.origin == SourceOrigin::Paste).count())
            + 1;
        // Refused before it is read; the text stays in the box so nothing is lost.
        if let Some(problem) = usagelens_core::limits::pasted_text_problem(text.len() as u64) {
            state.add_failure(&format!("pasted text {n}"), SourceOrigin::Paste, problem);
            return;
        }
        if state
            .ingest_text(
                &format!("pasted text {n}"),
                SourceOrigin::Paste,
                &text,
                &ParseOptions::default(),
            )
            .is_ok()
        {
            paste.set(String::new());
        }
    };

    view! {
        <section
            class="ul-card ul-import"
            class:ul-dragging=move || dragging.get()
            aria-labelledby="ul-import-title"
            on:dragover=move |ev: web_sys::DragEvent| {
                ev.prevent_default();
                dragging.set(true);
            }
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop
        >
            <h2 id="ul-import-title">"Get usage in"</h2>
            <div class="ul-import-grid">
                <Show when=move || config.with(|c| c.demo)>
                    <div class="ul-import-way">
                        <h3>"Demo"</h3>
                        <p>"One sample response from each of the four carriers."</p>
                        <button
                            class="ul-button ul-primary"
                            type="button"
                            data-testid="load-demo"
                            on:click=load_demo
                        >
                            "Load demo data"
                        </button>
                    </div>
                </Show>
                <div class="ul-import-way">
                    <h3>"Files"</h3>
                    <p>"Saved responses, JSON or CSV. Drop them anywhere on this panel."</p>
                    <label class="ul-button ul-file">
                        "Choose files…"
                        <input
                            type="file"
                            multiple
                            accept=".json,.csv,.txt,application/json,text/csv"
                            data-testid="import-file"
                            class="ul-visually-hidden"
                            on:change=on_file_change
                        />
                    </label>
                </div>
                <div class="ul-import-way ul-import-paste">
                    <h3>
                        <label for="ul-paste">"Paste"</label>
                    </h3>
                    <textarea
                        id="ul-paste"
                        data-testid="import-paste"
                        rows="4"
                        placeholder="Paste a carrier response body here"
                        prop:value=move || paste.get()
                        on:input=move |ev| paste.set(event_target_value(&ev))
                    ></textarea>
                    <button
                        class="ul-button"
                        type="button"
                        data-testid="import-paste-submit"
                        on:click=submit_paste
                    >
                        "Read pasted text"
                    </button>
                </div>
            </div>
        </section>
    }
}

/// Loads the built-in demo in the background, with the progress indicator on.
pub fn start_demo_load(state: AppState) {
    state.busy.update(|b| *b += 1);
    spawn_local(async move {
        if let Err(message) = load_demo_files(state).await {
            state.add_failure("demo", SourceOrigin::Demo, message);
        }
        state.busy.update(|b| *b -= 1);
    });
}

/// Fetches `demo/index.json` and each file it lists (same origin, no carrier is contacted).
async fn load_demo_files(state: AppState) -> Result<(), String> {
    let index = fetch_text("demo/index.json").await?;
    let index: serde_json::Value = serde_json::from_str(&index)
        .map_err(|e| format!("demo/index.json is not valid JSON: {e}"))?;
    let files = index
        .get("files")
        .and_then(|f| f.as_array())
        .ok_or("demo/index.json has no \"files\" list")?;
    for entry in files {
        let Some(file) = entry.get("file").and_then(|f| f.as_str()) else {
            continue;
        };
        let mut options = ParseOptions::default();
        if let Some(subject) = entry.get("subject").filter(|s| !s.is_null()) {
            let kind = subject
                .get("kind")
                .and_then(|k| k.as_str())
                .and_then(SubjectKind::parse);
            let id = subject.get("id").and_then(|i| i.as_str());
            if let (Some(kind), Some(id)) = (kind, id) {
                options.subject = Some(Subject::new(kind, id));
            }
        }
        // Control Center cycle-to-date: the demo account's cycles start on this day.
        options.billing_day = entry
            .get("billingDay")
            .and_then(|d| d.as_u64())
            .and_then(|d| u32::try_from(d).ok());
        let name = format!("demo/{file}");
        match fetch_text(&name).await {
            Ok(text) => {
                let _ = state.ingest_text(&name, SourceOrigin::Demo, &text, &options);
            }
            Err(message) => state.add_failure(&name, SourceOrigin::Demo, message),
        }
    }
    Ok(())
}

async fn fetch_text(url: &str) -> Result<String, String> {
    let response = gloo_net::http::Request::get(url)
        .send()
        .await
        .map_err(|e| format!("could not load {url}: {e}"))?;
    if !response.ok() {
        return Err(format!("could not load {url}: HTTP {}", response.status()));
    }
    response
        .text()
        .await
        .map_err(|e| format!("could not read {url}: {e}"))
}
