use leptos::prelude::*;

use super::breakdown::Breakdown;
use super::chart_panel::ChartPanel;
use super::export_buttons::ExportButtons;
use super::filters_bar::FiltersBar;
use super::import_panel::{start_demo_load, ImportPanel};
use super::kpi_cards::KpiCards;
use super::live_fetch::LiveFetch;
use super::record_detail::RecordDetail;
use super::records_table::RecordsTable;
use super::source_list::SourceList;
use crate::state::{AppState, SourceOrigin};
use usagelens_core::view_state::ViewState;

/// The dashboard's root: import on top, then the view of whatever is loaded.
#[component]
pub fn App() -> impl IntoView {
    let state = AppState::new();
    provide_context(state);
    // The view comes from the URL (shared or bookmarked), and goes back into it as it changes.
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    let (view, url_warnings) = ViewState::from_query(&search);
    state.filter.set(view.filter);
    state.metric.set(view.metric);
    state.group_by.set(view.group_by);
    state.byte_base.set(view.byte_base);
    state.utc.set(view.utc);
    if view.sources.iter().any(|s| s == "demo") {
        start_demo_load(state);
    }
    Effect::new(move |_| {
        let demo = state
            .sources
            .with(|s| s.iter().any(|x| x.origin == SourceOrigin::Demo));
        let view = ViewState {
            filter: state.filter.get(),
            metric: state.metric.get(),
            group_by: state.group_by.get(),
            byte_base: state.byte_base.get(),
            utc: state.utc.get(),
            sources: if demo {
                vec!["demo".to_owned()]
            } else {
                Vec::new()
            },
        };
        let query = view.to_query();
        if let Some(w) = web_sys::window() {
            let path = w.location().pathname().unwrap_or_default();
            let url = if query.is_empty() {
                path
            } else {
                format!("{path}?{query}")
            };
            if let Ok(history) = w.history() {
                let _ =
                    history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
            }
        }
    });
    let dark = RwSignal::new(None::<bool>);
    let theme = move || match dark.get() {
        None => "auto",
        Some(true) => "dark",
        Some(false) => "light",
    };
    let has_records = move || state.with_set(|s| !s.is_empty());
    view! {
        <div class="ul-root" data-theme=theme>
            <header class="ul-header">
                <div class="ul-brand">
                    <span class="ul-logo" aria-hidden="true"></span>
                    <h1>"usagelens"</h1>
                    <p class="ul-tagline">"Mobile usage from four carriers, in one view"</p>
                </div>
                <div class="ul-header-actions">
                    <Show when=move || { state.busy.get() > 0 }>
                        <span class="ul-progress" role="status">
                            <span class="ul-spinner" aria-hidden="true"></span>
                            "Loading…"
                        </span>
                    </Show>
                    <button
                        class="ul-button ul-ghost"
                        type="button"
                        on:click=move |_| {
                            dark.update(|d| {
                                *d = match *d {
                                    None => Some(true),
                                    Some(true) => Some(false),
                                    Some(false) => None,
                                }
                            })
                        }
                    >
                        {move || format!("Theme: {}", theme())}
                    </button>
                </div>
            </header>
            <main class="ul-main">
                {(!url_warnings.is_empty()).then(|| view! {
                    <p class="ul-note" role="status">{url_warnings.join("; ")}</p>
                })}
                <ImportPanel />
                <details class="ul-live-wrap" data-testid="fetch-live">
                    <summary>"Fetch live from a carrier"</summary>
                    <LiveFetch />
                </details>
                <SourceList />
                <Show
                    when=has_records
                    fallback=|| {
                        view! {
                            <section class="ul-empty" aria-labelledby="ul-empty-title">
                                <h2 id="ul-empty-title">"No usage loaded yet"</h2>
                                <p>
                                    "Load the built-in demo (one response from each carrier), drop saved responses "
                                    "(Vodafone VRS TMF635 JSON, TelecomX JSON or CSV, ThingSpace usage history, "
                                    "Control Center usageInZone), or paste one. Everything is read in your browser; "
                                    "nothing is uploaded."
                                </p>
                            </section>
                        }
                    }
                >
                    <FiltersBar />
                    <KpiCards />
                    <div class="ul-grid">
                        <ChartPanel />
                        <Breakdown />
                    </div>
                    <section class="ul-card" aria-labelledby="ul-records-title">
                        <div class="ul-card-head">
                            <h2 id="ul-records-title">"Records"</h2>
                            <ExportButtons />
                        </div>
                        <RecordsTable />
                    </section>
                    <RecordDetail />
                </Show>
            </main>
        </div>
    }
}
