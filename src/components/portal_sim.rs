use leptos::prelude::*;
use usagelens_core::aggregate::{time_series, Bucket, GroupBy, TimeSeries};
use usagelens_core::portal::{summarize, Period};
use usagelens_core::units::{format_bytes, format_count, format_duration};
use usagelens_core::{Granularity, Service};

use super::usage_chart::UsageChart;
use super::usage_gauge::UsageGauge;
use crate::portal::{SimSlot, SimStatus};

/// "30 Nov 2026".
pub fn short_day(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%-d %b %Y").to_string())
        .unwrap_or_default()
}

/// One SIM in the portal: its allowances as gauges, its data day by day, where it roamed.
#[component]
pub fn PortalSim(sim: SimSlot, #[prop(into)] period: Signal<Option<Period>>) -> impl IntoView {
    let slot = sim;
    let state = slot.state;
    let title = slot.title();
    let (carrier, id) = slot
        .subject
        .with_value(|s| (s.carrier.label(), s.subject.to_string()));
    let heading_id = format!("ul-sim-{}", slot.index);
    let labelled_by = heading_id.clone();
    let summary = Memo::new(move |_| {
        let period = period.get()?;
        let now = (js_sys::Date::now() / 1000.0) as i64;
        let plan = slot.subject.with_value(|s| s.plan);
        Some(state.with_set(|set| summarize(set, None, period, now, &plan)))
    });
    let base = Signal::derive(move || state.byte_base.get());
    let period_end = Signal::derive(move || {
        period
            .get()
            .map(|p| short_day(p.end - 1))
            .unwrap_or_default()
    });
    let series = Memo::new(move |_| {
        let filter = state.filter.get();
        state
            .with_set(|set| time_series(set, &filter, Service::Data, GroupBy::Roaming, Bucket::Day))
    });
    let chart_format =
        Callback::new(move |q: u64| format_bytes(q, state.byte_base.get_untracked()));
    // The tooltip's and the period band's words: a day, or a whole billing period.
    let chart_span =
        Callback::new(
            move |(start, end, long): (i64, i64, Option<Granularity>)| match long {
                Some(_) => format!("{} – {}", short_day(start), short_day(end - 1)),
                None => short_day(start),
            },
        );
    let chart_day = Callback::new(move |t: i64| {
        usagelens_core::units::format_date(t, Granularity::Day, state.offset_minutes_untracked())
    });
    let no_events = Signal::derive(Vec::<(i64, String)>::new);
    let chart_title = Signal::derive(move || "Data per day, at home and roaming".to_owned());
    let has_chart = move || {
        summary.with(|s| s.as_ref().is_some_and(|s| s.has_daily))
            && series.with(|s: &TimeSeries| !s.is_empty())
    };
    let status = slot.status;
    view! {
        <section
            class="ul-card ul-sim"
            aria-labelledby=labelled_by
            data-testid="portal-sim"
            data-status=move || match status.get() {
                SimStatus::Idle => "idle",
                SimStatus::Loading(_) => "loading",
                SimStatus::Ready => "ready",
                SimStatus::Failed { .. } => "failed",
            }
        >
            <div class="ul-card-head">
                <div>
                    <h3 id=heading_id>{title}</h3>
                    <p class="ul-sim-id">{format!("{carrier} · {id}")}</p>
                </div>
                {move || match status.get() {
                    SimStatus::Loading(step) => {
                        view! {
                            <span class="ul-progress" role="status">
                                <span class="ul-spinner" aria-hidden="true"></span>
                                {format!("Updating: {step}…")}
                            </span>
                        }
                            .into_any()
                    }
                    _ => ().into_any(),
                }}
            </div>
            {move || match status.get() {
                SimStatus::Failed { message, partial } => {
                    view! {
                        <p class="ul-error" role="alert" data-testid="portal-error">
                            {message}
                            {partial.then_some(" What your carrier sent before that is shown.")}
                        </p>
                    }
                        .into_any()
                }
                _ => ().into_any(),
            }}
            {move || {
                summary
                    .get()
                    .filter(|s| s.records > 0 || matches!(status.get(), SimStatus::Ready))
                    .map(|s| {
                        let share = s.roaming_share.map(|r| format!("{:.0}%", r * 100.0));
                        let places = s.places.clone();
                        view! {
                            <div class="ul-sim-body">
                                <div class="ul-sim-allowances">
                                    <h4>"Use this period"</h4>
                                    <ul class="ul-gauges">
                                        {s
                                            .gauges
                                            .into_iter()
                                            .map(|g| {
                                                view! {
                                                    <UsageGauge gauge=g base=base period_end=period_end />
                                                }
                                            })
                                            .collect_view()}
                                    </ul>
                                </div>
                                <div class="ul-sim-roaming" data-testid="portal-roaming">
                                    <h4>"Roaming"</h4>
                                    {match share {
                                        Some(share) => {
                                            view! {
                                                <p class="ul-roaming-share">
                                                    <strong>{share}</strong>
                                                    {format!(
                                                        " of your data was used abroad ({} of {}).",
                                                        format_bytes(s.roaming_data_bytes, base.get_untracked()),
                                                        format_bytes(s.data_bytes, base.get_untracked()),
                                                    )}
                                                </p>
                                            }
                                                .into_any()
                                        }
                                        None => {
                                            view! { <p>"No data used this period."</p> }.into_any()
                                        }
                                    }}
                                    {if places.is_empty() {
                                        view! { <p class="ul-hint">"No roaming this period."</p> }
                                            .into_any()
                                    } else {
                                        view! {
                                            <ul class="ul-places">
                                                {places
                                                    .into_iter()
                                                    .map(|p| {
                                                        let mut parts = Vec::new();
                                                        if p.data_bytes > 0 {
                                                            parts
                                                                .push(format_bytes(p.data_bytes, base.get_untracked()));
                                                        }
                                                        if p.voice_seconds > 0 {
                                                            parts
                                                                .push(
                                                                    format!("{} of calls", format_duration(p.voice_seconds)),
                                                                );
                                                        }
                                                        if p.messages > 0 {
                                                            parts
                                                                .push(format!("{} messages", format_count(p.messages)));
                                                        }
                                                        view! {
                                                            <li>
                                                                <span>{p.name}</span>
                                                                <span class="ul-num">{parts.join(" · ")}</span>
                                                            </li>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </ul>
                                        }
                                            .into_any()
                                    }}
                                </div>
                            </div>
                        }
                    })
            }}
            <Show when=move || summary.with(|s| s.as_ref().is_some_and(|s| s.records > 0))>
                <div class="ul-sim-chart">
                    <h4>"Data per day"</h4>
                    <Show
                        when=has_chart
                        fallback=|| {
                            view! {
                                <p class="ul-hint">
                                    "Your carrier reports this period as one total, not day by day."
                                </p>
                            }
                        }
                    >
                        <UsageChart
                            series=series
                            format=chart_format
                            format_bucket=chart_day
                            events=no_events
                            title=chart_title
                            format_span=chart_span
                        />
                    </Show>
                </div>
            </Show>
        </section>
    }
}
