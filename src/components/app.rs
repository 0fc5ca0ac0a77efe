use leptos::prelude::*;

use super::allowances::Allowances;
use super::breakdown::Breakdown;
use super::chart_panel::ChartPanel;
use super::data_bar::DataBar;
use super::export_buttons::ExportButtons;
use super::filters_bar::FiltersBar;
use super::fleet_fetch::FleetFetch;
use super::fleet_view::FleetView;
use super::import_panel::{start_demo_load, ImportPanel};
use super::kpi_cards::KpiCards;
use super::live_fetch::LiveFetch;
use super::record_detail::RecordDetail;
use super::records_table::RecordsTable;
use super::source_list::SourceList;
use crate::state::{AppState, SourceOrigin};
use serde::Serialize;
use usagelens_core::aggregate::Filter;
use usagelens_core::view_state::ViewState;

use crate::host::Host;
use crate::viewer_config::{Theme, ViewerConfig};

/// The stand-alone app: the dashboard with default settings, its view kept in the URL.
#[component]
pub fn App() -> impl IntoView {
    let state = AppState::new();
    #[cfg(feature = "bench")]
    crate::bench::register_app(state);
    let config = RwSignal::new(ViewerConfig::default());
    let credentials = StoredValue::new_local(None);
    view! { <Dashboard state=state config=config host=None credentials=credentials /> }
}

/// Whether the `<details>` an event came from is open.
fn details_open(ev: &web_sys::Event) -> bool {
    use wasm_bindgen::JsCast;
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok())
        .is_some_and(|d| d.open())
}

/// How long the view must stay unchanged before the URL is rewritten.
const URL_WRITE_DELAY_MS: u64 = 250;

/// Loads the view from the page URL and writes it back as it changes.
fn keep_view_in_url(state: AppState) -> Vec<String> {
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
    let pending_url_write = StoredValue::new(None::<TimeoutHandle>);
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
        // Written once the view has been still for a moment: Chromium's replaceState cost about
        // 13 ms a call (browser benchmark profile), a quarter of a filter change's redraw.
        if let Some(pending) = pending_url_write.get_value() {
            pending.clear();
        }
        let write = move || {
            pending_url_write.set_value(None);
            let Some(w) = web_sys::window() else { return };
            let path = w.location().pathname().unwrap_or_default();
            let current = format!("{path}{}", w.location().search().unwrap_or_default());
            let url = if query.is_empty() {
                path
            } else {
                format!("{path}?{query}")
            };
            if current != url {
                if let Ok(history) = w.history() {
                    let _ = history.replace_state_with_url(
                        &wasm_bindgen::JsValue::NULL,
                        "",
                        Some(&url),
                    );
                }
            }
        };
        pending_url_write.set_value(
            set_timeout_with_handle(write, std::time::Duration::from_millis(URL_WRITE_DELAY_MS))
                .ok(),
        );
    });
    url_warnings
}

/// Lets a filter change reach the chart (and the totals above it) first and the panels below
/// (breakdown, fleet view, records) once that frame has been painted: on a fleet, those panels
/// cost as much again as the chart, and the chart is what the user is watching.
fn defer_details(state: AppState) {
    Effect::new(move |_| {
        let filter = state.filter.get();
        let apply = move |filter: Filter| {
            // Only the newest filter is applied, whichever scheduled call comes first.
            let current = state.filter.with_untracked(|f| *f == filter);
            let stale = state.details_filter.with_untracked(|f| *f != filter);
            if current && stale {
                state.details_filter.set(filter);
            }
        };
        let after_paint = filter.clone();
        request_animation_frame(move || {
            set_timeout(move || apply(after_paint), std::time::Duration::ZERO)
        });
        // Animation frames stop in hidden tabs and some embedding frames: a timer as well.
        set_timeout(
            move || apply(filter),
            std::time::Duration::from_millis(DETAILS_FALLBACK_MS),
        );
    });
}

/// Longest wait before the panels below the chart follow a filter change.
const DETAILS_FALLBACK_MS: u64 = 100;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SourceEvent {
    source: String,
    carrier: Option<&'static str>,
    records: usize,
    total_records: usize,
    error: Option<String>,
}

/// Tells an embedding host about loaded sources, errors and filter changes.
fn report_to_host(state: AppState, host: Host) {
    let host = StoredValue::new_local(host);
    let seen = StoredValue::new(0usize);
    Effect::new(move |_| {
        let sources = state.sources.get();
        let total = state.with_set(|s| s.len());
        let from = seen.get_value().min(sources.len());
        for source in &sources[from..] {
            let event = SourceEvent {
                source: source.name.clone(),
                carrier: source.carrier.map(|c| c.as_str()),
                records: source.records,
                total_records: total,
                error: source.error.clone(),
            };
            let name = if source.error.is_some() {
                "error"
            } else {
                "loaded"
            };
            host.with_value(|h| h.emit(name, &event));
        }
        seen.set_value(sources.len());
    });
    Effect::new(move |previous: Option<()>| {
        let query = ViewState {
            filter: state.filter.get(),
            ..ViewState::default()
        }
        .to_query();
        if previous.is_some() {
            host.with_value(|h| h.emit("filterchange", &query));
        }
    });
}

/// The dashboard: import on top, then the view of whatever is loaded. `host` is set when it is
/// embedded in another page (events go there, the URL is left alone).
#[component]
pub fn Dashboard(
    state: AppState,
    config: RwSignal<ViewerConfig>,
    host: Option<Host>,
    credentials: StoredValue<Option<js_sys::Function>, LocalStorage>,
) -> impl IntoView {
    provide_context(state);
    provide_context(config);
    provide_context(credentials);
    let initial = config.get_untracked();
    state.byte_base.set(initial.units);
    state.utc.set(initial.utc);
    let url_warnings = if initial.url_state {
        keep_view_in_url(state)
    } else {
        Vec::new()
    };
    if let Some(host) = host {
        report_to_host(state, host);
    }
    defer_details(state);
    let theme = move || config.with(|c| c.theme.as_str());
    let has_records = move || state.with_set(|s| !s.is_empty());
    // Whether the user opened the import area again after loading something. It also stays
    // open while a fetch form is open (the user is working there), and opens when a source
    // fails, so its error is seen.
    let import_open = RwSignal::new(false);
    let live_open = RwSignal::new(false);
    let fleet_open = RwSignal::new(false);
    let import_shown =
        move || !has_records() || import_open.get() || live_open.get() || fleet_open.get();
    // "Hide import" closes the fetch forms too (a running fleet carries on, named in the header).
    let show_import = Callback::new(move |show: bool| {
        import_open.set(show);
        if !show {
            live_open.set(false);
            fleet_open.set(false);
        }
    });
    Effect::new(move |failed_before: Option<usize>| {
        let failed = state
            .sources
            .with(|s| s.iter().filter(|x| x.error.is_some()).count());
        if failed > failed_before.unwrap_or(0) {
            import_open.set(true);
        }
        failed
    });

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
                    // A running fleet is named without the spinner: its panel has a progress bar,
                    // and where the browser draws without a GPU the spinner's animation costs a
                    // frame on the page's thread 60 times a second (profile: 250 frames, 0.77 s
                    // of a 9 s fleet fetch, on the thread that handles the answers).
                    <Show when=move || { state.fleet_running.get() && state.busy.get() == 0 }>
                        <span class="ul-progress" role="status" data-testid="fleet-running">
                            "Fetching a fleet…"
                        </span>
                    </Show>
                    <button
                        class="ul-button ul-ghost"
                        type="button"
                        on:click=move |_| {
                            config
                                .update(|c| {
                                    c.theme = match c.theme {
                                        Theme::Auto => Theme::Dark,
                                        Theme::Dark => Theme::Light,
                                        Theme::Light => Theme::Auto,
                                    }
                                })
                        }
                    >
                        {move || format!("Theme: {}", theme())}
                    </button>
                </div>
            </header>
            <main class="ul-main">
                {(!url_warnings.is_empty())
                    .then(|| {
                        view! {
                            <p class="ul-note" role="status">
                                {url_warnings.join("; ")}
                            </p>
                        }
                    })}
                // Data first: once usage is loaded, the import area folds into one line and the
                // view of the data takes the first screen. Folded with `hidden`, not removed, so
                // a form's fields and a running fleet fetch carry on.
                <Show when=has_records>
                    <DataBar
                        open=Signal::derive(import_shown)
                        show=show_import
                        controls="ul-import-area"
                    />
                </Show>
                <div id="ul-import-area" class="ul-import-area" hidden=move || !import_shown()>
                    <ImportPanel />
                    <Show when=move || !config.with(|c| c.read_only)>
                        <details
                            class="ul-live-wrap"
                            data-testid="fetch-live"
                            prop:open=move || live_open.get()
                            on:toggle=move |ev| live_open.set(details_open(&ev))
                        >
                            <summary>"Fetch live from a carrier"</summary>
                            <LiveFetch />
                        </details>
                        <details
                            class="ul-live-wrap"
                            data-testid="fleet-wrap"
                            prop:open=move || fleet_open.get()
                            on:toggle=move |ev| fleet_open.set(details_open(&ev))
                        >
                            <summary>"Fetch a fleet (many SIMs at once)"</summary>
                            <FleetFetch />
                        </details>
                    </Show>
                    <SourceList />
                </div>
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
                        <div class="ul-side">
                            <Allowances />
                            <Breakdown />
                        </div>
                    </div>
                    <Show when=move || state.with_set(|s| s.subjects().len() > 1)>
                        <FleetView />
                    </Show>
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
