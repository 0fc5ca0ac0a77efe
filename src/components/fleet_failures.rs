use leptos::prelude::*;

use super::export_buttons::download;
use crate::use_fleet_fetch::UseFleetFetch;

/// The failed and partial subjects of a fleet fetch, grouped by reason, and their download: a
/// list the fleet form reads back (extra columns say what happened), to fetch again later or
/// send to the carrier.
#[component]
pub fn FleetFailures(fleet: UseFleetFetch) -> impl IntoView {
    let download_problems = move |_| {
        let Some(csv) = fleet.problems_csv() else {
            return;
        };
        let date = chrono::Utc::now().format("%Y%m%d");
        let name = format!("usagelens-fleet-problems-{date}.csv");
        if let Err(e) = download(&name, "text/csv", &csv) {
            web_sys::console::error_1(&e);
        }
    };
    move || {
        let groups = fleet.failures.get();
        let p = fleet.progress.get_untracked();
        (!groups.is_empty()).then(|| view! {
            <details class="ul-note ul-warning" data-testid="fleet-failures">
                <summary>{format!("{} failed, {} partial", p.failed, p.partial)}</summary>
                <button
                    type="button"
                    class="ul-button ul-ghost"
                    data-testid="fleet-failures-download"
                    on:click=download_problems
                >
                    "Download the list (CSV)"
                </button>
                <ul class="ul-failure-groups">
                    {groups
                        .into_iter()
                        .map(|g| {
                            let more = g.count - g.who.len();
                            view! {
                                <li data-testid="fleet-failure-group" data-count=g.count>
                                    <strong>
                                        {format!(
                                            "{} subject{}",
                                            g.count,
                                            if g.count == 1 { "" } else { "s" },
                                        )}
                                    </strong>
                                    ": "
                                    {g.why}
                                    <ul class="ul-failure-subjects">
                                        {g
                                            .who
                                            .into_iter()
                                            .map(|w| view! { <li>{w}</li> })
                                            .collect_view()}
                                        {(more > 0)
                                            .then(|| {
                                                view! {
                                                    <li>{format!("and {more} more (in the download)")}</li>
                                                }
                                            })}
                                    </ul>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </details>
        })
    }
}
