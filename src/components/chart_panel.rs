use leptos::prelude::*;
use usagelens_core::aggregate::{downsample, limit_series, time_series, Bucket, GroupBy};
use usagelens_core::units::{format_bytes, format_count, format_duration};
use usagelens_core::{Granularity, Service, UsageEvent};

use super::usage_chart::UsageChart;
use crate::state::AppState;

/// Most bars drawn: the chart is 800 units wide, so more would be thinner than a pixel pair.
const MAX_BARS: usize = 400;
/// How many series the chart may stack (the rest fold into "Other").
const SERIES_CHOICES: [usize; 4] = [8, 20, 50, 100];

/// The time-series chart with its controls: which service, stacked by what.
#[component]
pub fn ChartPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let max_series = RwSignal::new(SERIES_CHOICES[0]);
    // Aggregated once per data or filter change; the series limit and the chart's own toggles
    // work on this small matrix, never on the records again.
    let full = Memo::new(move |_| {
        let filter = state.filter.get();
        let metric = state.metric.get();
        let group = state.group_by.get();
        state.with_set(|set| time_series(set, &filter, metric, group, Bucket::Auto))
    });
    let series = Memo::new(move |_| {
        let limit = max_series.get();
        full.with(|ts| downsample(limit_series(ts.clone(), limit), MAX_BARS))
    });
    let format = Callback::new(move |q: u64| match state.metric.get_untracked() {
        Service::Data => format_bytes(q, state.byte_base.get_untracked()),
        Service::Voice => format_duration(q),
        _ => format_count(q),
    });
    let format_bucket = Callback::new(move |t: i64| {
        let granularity = match series.with_untracked(|s| s.bucket) {
            Bucket::Month => Granularity::Month,
            Bucket::Cycle => Granularity::Cycle,
            _ => Granularity::Day,
        };
        let offset = state.offset_minutes_untracked();
        usagelens_core::units::format_date(t, granularity, offset)
    });
    let events = Signal::derive(move || {
        state.with_set(|set| {
            set.events
                .iter()
                .filter_map(|e| {
                    let t = chrono::DateTime::parse_from_rfc3339(e.at())
                        .ok()?
                        .timestamp();
                    let label = match e {
                        UsageEvent::OverchargedSms {
                            description,
                            amount,
                            ..
                        } => {
                            format!(
                                "Overcharged SMS ×{amount}: {}",
                                description.clone().unwrap_or_default()
                            )
                        }
                        UsageEvent::RestOfWorld {
                            change,
                            soc_description,
                            ..
                        } => {
                            format!(
                                "Rest-of-World {change}: {}",
                                soc_description.clone().unwrap_or_default()
                            )
                        }
                    };
                    Some((t, label))
                })
                .collect::<Vec<_>>()
        })
    });
    let title = Signal::derive(move || {
        let empty = series.with(|s| s.is_empty());
        if empty {
            format!(
                "No {} usage for the current filters",
                state.metric.get().as_str()
            )
        } else {
            format!(
                "{} usage over time, stacked by {}",
                state.metric.get().as_str(),
                state.group_by.get().label().to_lowercase()
            )
        }
    });
    view! {
        <section class="ul-card ul-chart-panel" aria-labelledby="ul-chart-title">
            <div class="ul-card-head">
                <h2 id="ul-chart-title">"Usage over time"</h2>
                <div class="ul-controls">
                    <label for="ul-metric">"Show"</label>
                    <select id="ul-metric" on:change=move |ev| if let Some(s) = Service::parse(&event_target_value(&ev)) { state.metric.set(s) }>
                        {Service::ALL.map(|s| view! { <option value=s.as_str() selected=move || state.metric.get() == s>{s.as_str()}</option> }).collect_view()}
                    </select>
                    <label for="ul-group">"stacked by"</label>
                    <select id="ul-group" on:change=move |ev| if let Some(g) = GroupBy::parse(&event_target_value(&ev)) { state.group_by.set(g) }>
                        {GroupBy::ALL.map(|g| view! { <option value=g.as_str() selected=move || state.group_by.get() == g>{g.label()}</option> }).collect_view()}
                    </select>
                    <label for="ul-series-count">"top"</label>
                    <select id="ul-series-count" on:change=move |ev| if let Ok(n) = event_target_value(&ev).parse() { max_series.set(n) }>
                        {SERIES_CHOICES.map(|n| view! { <option value=n.to_string() selected=move || max_series.get() == n>{n}</option> }).collect_view()}
                    </select>
                </div>
            </div>
            <Show
                when=move || !series.with(|s| s.is_empty())
                fallback=move || view! { <p class="ul-empty-note">{move || title.get()}". Try another service or clear filters."</p> }
            >
                <UsageChart series=series format=format format_bucket=format_bucket events=events title=title />
            </Show>
        </section>
    }
}
