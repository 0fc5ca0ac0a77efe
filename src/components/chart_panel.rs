use leptos::prelude::*;
use usagelens_core::aggregate::{downsample, limit_series, time_series_at, Bucket, GroupBy};
use usagelens_core::units::{format_bytes, format_count, format_date, format_duration};
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
    // The interval picked; `Auto` until the user picks one (the data's finest granularity).
    let interval = RwSignal::new(Bucket::Auto);
    // The date range before the first brush zoom, for "Reset zoom".
    let before_zoom = RwSignal::new(None::<(Option<i64>, Option<i64>)>);
    // Aggregated once per data or filter change; the series limit and the chart's own toggles
    // work on this small matrix, never on the records again.
    let full = Memo::new(move |_| {
        let filter = state.filter.get();
        let metric = state.metric.get();
        let group = state.group_by.get();
        let bucket = interval.get();
        let offset = i64::from(state.offset_minutes()) * 60;
        state.with_set(|set| time_series_at(set, &filter, metric, group, bucket, offset))
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
    // Day, week and month buckets start at midnight in the view's clock; billing periods are
    // the carrier's own dates (UTC), like the records they come from.
    let format_bucket = Callback::new(move |t: i64| match series.with_untracked(|s| s.bucket) {
        Bucket::Month => format_date(t, Granularity::Month, state.offset_minutes_untracked()),
        Bucket::Cycle => format_date(t, Granularity::Day, 0),
        _ => format_date(t, Granularity::Day, state.offset_minutes_untracked()),
    });
    let format_span = Callback::new(move |(start, end, long): (i64, i64, Option<Granularity>)| {
        let offset = state.offset_minutes_untracked();
        let cycle = |start: i64, end: i64| {
            format!(
                "{} – {}",
                format_date(start, Granularity::Day, 0),
                format_date(end - 1, Granularity::Day, 0)
            )
        };
        match long {
            Some(Granularity::Month) => format_date(start, Granularity::Month, 0),
            Some(_) => cycle(start, end),
            None => match series.with_untracked(|s| s.bucket) {
                Bucket::Month => format_date(start, Granularity::Month, offset),
                Bucket::Week => format!("Week of {}", format_date(start, Granularity::Day, offset)),
                Bucket::Cycle => cycle(start, end),
                _ => format_date(start, Granularity::Day, offset),
            },
        }
    });
    // A brushed range becomes the From/To filter, as whole days of the view's calendar (the
    // date fields show days).
    let on_zoom = Callback::new(move |(start, end): (i64, i64)| {
        let offset = i64::from(state.offset_minutes_untracked()) * 60;
        let day = |t: i64| (t + offset).div_euclid(86_400) * 86_400;
        let (from, to) = (day(start), day(end + 86_399).max(day(start) + 86_400));
        state.filter.update(|f| {
            if before_zoom.get_untracked().is_none() {
                before_zoom.set(Some((f.from, f.to)));
            }
            f.from = Some(from);
            f.to = Some(to);
        });
    });
    let reset_zoom = move |_| {
        if let Some((from, to)) = before_zoom.get_untracked() {
            state.filter.update(|f| {
                f.from = from;
                f.to = to;
            });
            before_zoom.set(None);
        }
    };
    // Said when long periods are drawn as totals beside the bars rather than as bars.
    let period_note = move || {
        let (bucket, granularities) = series.with(|s| {
            let mut g: Vec<Granularity> = s.periods.iter().map(|p| p.granularity).collect();
            g.sort();
            g.dedup();
            (s.bucket, g)
        });
        if granularities.is_empty() {
            return None;
        }
        let what = match granularities.as_slice() {
            [Granularity::Month] => "Monthly totals",
            [Granularity::Cycle] => "Billing-cycle totals",
            _ => "Monthly and billing-cycle totals",
        };
        let unit = match bucket {
            Bucket::Week => "weeks",
            Bucket::Month => "calendar months",
            _ => "days",
        };
        Some(view! {
            <p class="ul-chart-note" data-testid="chart-period-note">
                {format!(
                    "{what} cannot be split into {unit}: they are drawn as spans over their period below the bars, not as bars. Pick a coarser interval to compare them as bars.",
                )}
            </p>
        })
    };
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
                    <select
                        id="ul-metric"
                        on:change=move |ev| {
                            if let Some(s) = Service::parse(&event_target_value(&ev)) {
                                state.metric.set(s)
                            }
                        }
                    >
                        {Service::ALL
                            .map(|s| {
                                view! {
                                    <option
                                        value=s.as_str()
                                        selected=move || state.metric.get() == s
                                    >
                                        {s.as_str()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                    <label for="ul-group">"stacked by"</label>
                    <select
                        id="ul-group"
                        on:change=move |ev| {
                            if let Some(g) = GroupBy::parse(&event_target_value(&ev)) {
                                state.group_by.set(g)
                            }
                        }
                    >
                        {GroupBy::ALL
                            .map(|g| {
                                view! {
                                    <option
                                        value=g.as_str()
                                        selected=move || state.group_by.get() == g
                                    >
                                        {g.label()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                    <label for="ul-interval">"per"</label>
                    <select
                        id="ul-interval"
                        data-testid="chart-interval"
                        on:change=move |ev| {
                            if let Some(b) = Bucket::parse(&event_target_value(&ev)) {
                                interval.set(b)
                            }
                        }
                    >
                        {Bucket::CHOICES
                            .map(|b| {
                                view! {
                                    <option
                                        value=b.as_str()
                                        selected=move || series.with(|s| s.bucket) == b
                                    >
                                        {b.label()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                    <label for="ul-series-count">"top"</label>
                    <select
                        id="ul-series-count"
                        on:change=move |ev| {
                            if let Ok(n) = event_target_value(&ev).parse() {
                                max_series.set(n)
                            }
                        }
                    >
                        {SERIES_CHOICES
                            .map(|n| {
                                view! {
                                    <option
                                        value=n.to_string()
                                        selected=move || max_series.get() == n
                                    >
                                        {n}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                    <Show when=move || before_zoom.with(|z| z.is_some())>
                        <button
                            type="button"
                            class="ul-button"
                            data-testid="chart-reset-zoom"
                            on:click=reset_zoom
                        >
                            "Reset zoom"
                        </button>
                    </Show>
                </div>
            </div>
            {period_note}
            <Show
                when=move || !series.with(|s| s.is_empty())
                fallback=move || {
                    view! {
                        <p class="ul-empty-note">
                            {move || title.get()}". Try another service or clear filters."
                        </p>
                    }
                }
            >
                <UsageChart
                    series=series
                    format=format
                    format_bucket=format_bucket
                    events=events
                    title=title
                    format_span=format_span
                    on_zoom=on_zoom
                />
            </Show>
        </section>
    }
}
