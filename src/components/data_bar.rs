use leptos::prelude::*;
use usagelens_core::units::format_count;

use crate::state::AppState;

/// Once usage is loaded, the import area folds into this one line: what is loaded, "Add data"
/// (opens the import, fetch and source panels again) and "Clear".
#[component]
pub fn DataBar(
    /// Whether the import area is shown.
    open: Signal<bool>,
    /// Shows (true) or hides the import area.
    show: Callback<bool>,
    /// The id of the import area, for `aria-controls`.
    controls: &'static str,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let summary = move || {
        state.sources.with(|sources| {
            let n = sources.len();
            let records: usize = sources.iter().map(|s| s.records).sum();
            let failed = sources.iter().filter(|s| s.error.is_some()).count();
            let mut text = format!(
                "{n} source{} · {} records",
                if n == 1 { "" } else { "s" },
                format_count(records as u64)
            );
            if failed > 0 {
                text.push_str(&format!(" · {failed} with errors"));
            }
            text
        })
    };
    let names = move || {
        state.sources.with(|sources| {
            let mut carriers: Vec<&'static str> = sources
                .iter()
                .filter_map(|s| s.carrier.map(|c| c.label()))
                .collect();
            carriers.sort_unstable();
            carriers.dedup();
            carriers.join(", ")
        })
    };
    view! {
        <section class="ul-data-bar" aria-label="Loaded data" data-testid="data-bar">
            <span class="ul-data-bar-summary">
                <strong data-testid="data-bar-summary">{summary}</strong>
                <span class="ul-data-bar-carriers">{names}</span>
            </span>
            <span class="ul-data-bar-actions">
                <button
                    class="ul-button"
                    type="button"
                    data-testid="data-add"
                    aria-expanded=move || open.get().to_string()
                    aria-controls=controls
                    on:click=move |_| show.run(!open.get_untracked())
                >
                    {move || if open.get() { "Hide import" } else { "Add data" }}
                </button>
                <button
                    class="ul-button ul-ghost"
                    type="button"
                    data-testid="data-clear"
                    on:click=move |_| {
                        state.clear();
                        show.run(false)
                    }
                >
                    "Clear"
                </button>
            </span>
        </section>
    }
}
