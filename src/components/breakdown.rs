use leptos::prelude::*;
use usagelens_core::aggregate::{breakdown, GroupBy};
use usagelens_core::units::{format_bytes, format_count, format_duration};
use usagelens_core::Service;

use crate::state::AppState;

/// The chart's service broken down by zone or rate plan, largest first.
#[component]
pub fn Breakdown() -> impl IntoView {
    let state = expect_context::<AppState>();
    let by = RwSignal::new(GroupBy::Zone);
    let rows = Memo::new(move |_| {
        let filter = state.details_filter.get();
        let metric = state.metric.get();
        let by = by.get();
        state.with_set(|set| breakdown(set, &filter, metric, by))
    });
    let row_count = Memo::new(move |_| rows.with(|r| r.len().min(12)));
    let fmt = move |q: u64| match state.metric.get() {
        Service::Data => format_bytes(q, state.byte_base.get()),
        Service::Voice => format_duration(q),
        _ => format_count(q),
    };
    view! {
        <section class="ul-card ul-breakdown" aria-labelledby="ul-breakdown-title">
            <div class="ul-card-head">
                <h2 id="ul-breakdown-title">
                    {move || format!("{} by", state.metric.get().as_str())}
                </h2>
                <label class="ul-visually-hidden" for="ul-breakdown-by">
                    "Break down by"
                </label>
                <select
                    id="ul-breakdown-by"
                    on:change=move |ev| {
                        by.set(
                            if event_target_value(&ev) == "ratePlan" {
                                GroupBy::RatePlan
                            } else {
                                GroupBy::Zone
                            },
                        )
                    }
                >
                    <option value="zone">"zone"</option>
                    <option value="ratePlan">"rate plan"</option>
                </select>
            </div>
            <table class="ul-table ul-compact">
                <thead>
                    <tr>
                        <th scope="col">{move || by.get().label()}</th>
                        <th scope="col" class="ul-num">
                            "Used"
                        </th>
                        <th scope="col" class="ul-num">
                            "Share"
                        </th>
                    </tr>
                </thead>
                <tbody>
                    // Rows stay in the DOM across filter changes; only their texts change.
                    <For each=move || 0..row_count.get() key=|i| *i let:i>
                        {
                            let row = Memo::new(move |_| {
                                rows.with(|r| {
                                        r.get(i).map(|r| (r.key.clone(), fmt(r.quantity), r.share))
                                    })
                                    .unwrap_or_default()
                            });
                            view! {
                                <tr>
                                    <td>{move || row.with(|r| r.0.clone())}</td>
                                    <td class="ul-num">{move || row.with(|r| r.1.clone())}</td>
                                    <td class="ul-num">
                                        <span
                                            class="ul-share-bar"
                                            style=(
                                                "--share",
                                                move || row.with(|r| format!("{:.1}%", r.2 * 100.0)),
                                            )
                                        ></span>
                                        {move || row.with(|r| format!("{:.0}%", r.2 * 100.0))}
                                    </td>
                                </tr>
                            }
                        }
                    </For>
                </tbody>
            </table>
        </section>
    }
}
