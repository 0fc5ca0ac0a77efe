use leptos::prelude::*;
use usagelens_core::carriers::control_center::ctd::overage_flags;
use usagelens_core::fleet::{fleet_summary, FleetSummary, SubjectTotal};
use usagelens_core::units::{format_bytes, format_count, format_duration, format_quantity};
use usagelens_core::{Granularity, Service, Subject};

use crate::state::AppState;

const TOP_CHOICES: [usize; 3] = [10, 25, 100];
const BINS: usize = 12;

/// The fleet questions for the service in view: who used most, how usage is spread across
/// subjects, and who is over an allowance; each subject drills down into the dashboard.
/// Shown when the loaded records cover more than one subject.
#[component]
pub fn FleetView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let top_n = RwSignal::new(TOP_CHOICES[0]);
    // Per-subject, per-calendar-month cap in the service's unit (GB for data, minutes for voice).
    let cap_text = RwSignal::new(String::new());
    let cap = move || -> Option<u64> {
        let value: f64 = cap_text
            .get()
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| *v > 0.0)?;
        Some(match state.metric.get() {
            Service::Data => (value * 1e9) as u64,
            Service::Voice => (value * 60.0) as u64,
            _ => value as u64,
        })
    };
    let summary = Memo::new(move |_| {
        let mut filter = state.details_filter.get();
        // The fleet view ranks subjects, so a subject filter (a drill-down) is not applied here.
        filter.subjects.clear();
        let metric = state.metric.get();
        let cap = cap();
        state.with_set(|set| fleet_summary(set, &filter, metric, cap, BINS))
    });
    let format = move |q: u64| match state.metric.get() {
        Service::Data => format_bytes(q, state.byte_base.get()),
        Service::Voice => format_duration(q),
        _ => format_count(q),
    };
    let top_count = Memo::new(move |_| summary.with(|s| s.subjects.len().min(top_n.get())));
    let drilled = move || state.filter.with(|f| f.subjects.first().cloned());
    let drill = move |subject: Subject| state.filter.update(|f| f.subjects = vec![subject]);
    // Control Center devices whose cycle-to-date answer says the overage limit is reached.
    let overage = Memo::new(move |_| state.with_set(overage_flags));
    let cap_unit = move || match state.metric.get() {
        Service::Data => "GB",
        Service::Voice => "minutes",
        _ => "messages",
    };

    view! {
        <section class="ul-card ul-fleet" aria-labelledby="ul-fleet-title" data-testid="fleet-view">
            <div class="ul-card-head">
                <h2 id="ul-fleet-title">
                    {move || {
                        format!(
                            "Fleet: {} subjects with {} usage",
                            summary.with(|s| s.subjects.len()),
                            state.metric.get().as_str(),
                        )
                    }}
                </h2>
                <div class="ul-controls">
                    <label for="ul-fleet-top">"Top"</label>
                    <select
                        id="ul-fleet-top"
                        on:change=move |ev| {
                            if let Ok(n) = event_target_value(&ev).parse() {
                                top_n.set(n)
                            }
                        }
                    >
                        {TOP_CHOICES
                            .map(|n| view! { <option value=n.to_string()>{n}</option> })
                            .collect_view()}
                    </select>
                    <label for="ul-fleet-cap">
                        {move || format!("Monthly cap per subject ({})", cap_unit())}
                    </label>
                    <input
                        id="ul-fleet-cap"
                        type="number"
                        min="0"
                        step="any"
                        class="ul-narrow"
                        prop:value=move || cap_text.get()
                        on:input=move |ev| cap_text.set(event_target_value(&ev))
                    />
                </div>
            </div>
            {move || {
                drilled()
                    .map(|s| {
                        view! {
                            <p class="ul-note" role="status" data-testid="fleet-drilled">
                                {format!("Showing {s} in the dashboard. ")}
                                <button
                                    type="button"
                                    class="ul-button ul-ghost"
                                    on:click=move |_| state.filter.update(|f| f.subjects.clear())
                                >
                                    "Back to the whole fleet"
                                </button>
                            </p>
                        }
                    })
            }}
            {move || {
                overage
                    .with(|flags| {
                        (!flags.is_empty())
                            .then(|| {
                                let n = flags.len();
                                view! {
                                    <details
                                        class="ul-note ul-warning"
                                        data-testid="fleet-overage"
                                        data-count=n
                                        open=n <= 10
                                    >
                                        <summary>
                                            {format!(
                                                "{n} device{} reached the overage limit (Control Center, cycle to date)",
                                                if n == 1 { "" } else { "s" },
                                            )}
                                        </summary>
                                        <ul class="ul-overage-list">
                                            {flags
                                                .iter()
                                                .take(100)
                                                .map(|f| {
                                                    let subject = f.subject.clone();
                                                    let detail = [
                                                        f.rate_plan.clone(),
                                                        f.override_setting.clone().map(|o| format!("override {o}")),
                                                        f.retrieved_at.clone().map(|t| format!("as of {t}")),
                                                    ]
                                                        .into_iter()
                                                        .flatten()
                                                        .collect::<Vec<_>>()
                                                        .join(", ");
                                                    view! {
                                                        <li>
                                                            <button
                                                                type="button"
                                                                class="ul-link"
                                                                title="Show this subject in the dashboard"
                                                                on:click=move |_| drill(subject.clone())
                                                            >
                                                                {f.subject.to_string()}
                                                            </button>
                                                            {(!detail.is_empty()).then(|| format!(" ({detail})"))}
                                                        </li>
                                                    }
                                                })
                                                .collect_view()}
                                            {(n > 100)
                                                .then(|| {
                                                    view! { <li>{format!("and {} more", n - 100)}</li> }
                                                })}
                                        </ul>
                                    </details>
                                }
                            })
                    })
            }}
            <div class="ul-fleet-grid">
                <div>
                    <h3>"Top subjects"</h3>
                    <ol class="ul-top-list" data-testid="fleet-top">
                        // Rows stay in the DOM across filter changes; only their content changes.
                        <For each=move || 0..top_count.get() key=|i| *i let:i>
                            {
                                let row = Memo::new(move |_| {
                                    summary
                                        .with(|s| {
                                            let max = s
                                                .subjects
                                                .first()
                                                .map_or(1, |t| t.quantity.max(1));
                                            s.subjects
                                                .get(i)
                                                .map(|t| (
                                                    t.clone(),
                                                    t.quantity as f64 / max as f64 * 100.0,
                                                ))
                                        })
                                });
                                let field = move |f: fn(&SubjectTotal, f64) -> String| move || {
                                    row.with(|r| {
                                        r.as_ref().map(|(t, w)| f(t, *w)).unwrap_or_default()
                                    })
                                };
                                view! {
                                    <li data-value=field(|t, _| t.quantity.to_string())>
                                        <button
                                            type="button"
                                            class="ul-link"
                                            title="Show this subject in the dashboard"
                                            on:click=move |_| {
                                                if let Some(subject) = row
                                                    .with_untracked(|r| {
                                                        r.as_ref().map(|(t, _)| t.subject.clone())
                                                    })
                                                {
                                                    drill(subject)
                                                }
                                            }
                                        >
                                            {field(|t, _| t.subject.to_string())}
                                        </button>
                                        <span class="ul-carrier-tag">
                                            {field(|t, _| {
                                                t.carrier.map(|c| c.label()).unwrap_or_default().to_owned()
                                            })}
                                        </span>
                                        {move || {
                                            row.with(|r| {
                                                    r.as_ref()
                                                        .is_some_and(|(t, _)| {
                                                            overage.with(|f| f.iter().any(|o| o.subject == t.subject))
                                                        })
                                                })
                                                .then(|| {
                                                    view! {
                                                        <span
                                                            class="ul-carrier-tag ul-overage-tag"
                                                            data-testid="fleet-overage-tag"
                                                            title="Control Center says this device reached its overage limit in the current cycle"
                                                        >
                                                            "overage limit"
                                                        </span>
                                                    }
                                                })
                                        }}
                                        <span
                                            class="ul-bar"
                                            style=("--ul-w", field(|_, w| format!("{w:.1}%")))
                                            aria-hidden="true"
                                        ></span>
                                        <span class="ul-num">
                                            {move || {
                                                row.with(|r| r.as_ref().map(|(t, _)| format(t.quantity)))
                                                    .unwrap_or_default()
                                            }}
                                        </span>
                                    </li>
                                }
                            }
                        </For>
                    </ol>
                </div>
                <div>
                    <h3>"How many subjects used how much"</h3>
                    <Distribution summary=summary format=Callback::new(format) />
                </div>
                <div>
                    <h3>"Over an allowance"</h3>
                    {move || {
                        let s = summary.get();
                        if s.over.is_empty() {
                            view! {
                                <p class="ul-hint" data-testid="fleet-over-none">
                                    "No subject is over a carrier allowance or the monthly cap."
                                </p>
                            }
                                .into_any()
                        } else {
                            let metric = state.metric.get();
                            let base = state.byte_base.get();
                            view! {
                                <table class="ul-table" data-testid="fleet-over">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Subject"</th>
                                            <th scope="col">"Period"</th>
                                            <th scope="col">"Used"</th>
                                            <th scope="col">"Allowance"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {s
                                            .over
                                            .into_iter()
                                            .take(50)
                                            .map(|o| {
                                                let subject = o.subject.clone();
                                                view! {
                                                    <tr>
                                                        <td>
                                                            <button
                                                                type="button"
                                                                class="ul-link"
                                                                on:click=move |_| drill(subject.clone())
                                                            >
                                                                {o.subject.to_string()}
                                                            </button>
                                                        </td>
                                                        <td>
                                                            {usagelens_core::units::format_date(
                                                                o.period_start,
                                                                Granularity::Month,
                                                                0,
                                                            )}
                                                        </td>
                                                        <td class="ul-num">
                                                            {format_quantity(o.used, metric.unit(), base)}
                                                            {format!(
                                                                " ({:.0} %)",
                                                                o.used as f64 / o.allowance.max(1) as f64 * 100.0,
                                                            )}
                                                        </td>
                                                        <td class="ul-num">
                                                            {format_quantity(o.allowance, metric.unit(), base)}
                                                            {if o.from_carrier { " (carrier)" } else { " (cap)" }}
                                                        </td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                            }
                                .into_any()
                        }
                    }}
                </div>
            </div>
        </section>
    }
}

/// A histogram of per-subject totals, drawn as SVG bars with their counts.
#[component]
fn Distribution(summary: Memo<FleetSummary>, format: Callback<u64, String>) -> impl IntoView {
    const W: f64 = 360.0;
    const H: f64 = 160.0;
    let bin_count = Memo::new(move |_| summary.with(|s| s.distribution.len()));
    view! {
        <svg
            class="ul-histogram"
            viewBox=format!("0 0 {W} {}", H + 34.0)
            role="img"
            data-testid="fleet-distribution"
            aria-label=move || {
                summary
                    .with(|s| {
                        s.distribution
                            .iter()
                            .map(|b| {
                                format!(
                                    "{} subjects from {} to {}",
                                    b.subjects,
                                    format.run(b.low),
                                    format.run(b.high),
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("; ")
                    })
            }
        >
            // Bars stay in the DOM across filter changes; only their geometry and texts change.
            <For each=move || 0..bin_count.get() key=|i| *i let:i>
                {
                    let bar = Memo::new(move |_| {
                        summary
                            .with(|s| {
                                let n = s.distribution.len().max(1) as f64;
                                let max = s
                                    .distribution
                                    .iter()
                                    .map(|b| b.subjects)
                                    .max()
                                    .unwrap_or(1)
                                    .max(1) as f64;
                                let slot = W / n;
                                s.distribution
                                    .get(i)
                                    .map(|b| {
                                        let h = b.subjects as f64 / max * (H - 14.0);
                                        let x = i as f64 * slot;
                                        (
                                            [
                                                format!("{:.1}", x + 1.0),
                                                format!("{:.1}", H - h),
                                                format!("{:.1}", (slot - 2.0).max(1.0)),
                                                format!("{h:.1}"),
                                                format!("{:.1}", x + slot / 2.0),
                                                format!("{:.1}", H - h - 3.0),
                                            ],
                                            format!(
                                                "{} subjects used {} to {}",
                                                b.subjects,
                                                format.run(b.low),
                                                format.run(b.high),
                                            ),
                                            if b.subjects > 0 {
                                                b.subjects.to_string()
                                            } else {
                                                String::new()
                                            },
                                        )
                                    })
                            })
                            .unwrap_or_default()
                    });
                    let at = move |k: usize| move || bar.with(|b| b.0[k].clone());
                    view! {
                        <g>
                            <rect class="ul-series-0" x=at(0) y=at(1) width=at(2) height=at(3)>
                                <title>{move || bar.with(|b| b.1.clone())}</title>
                            </rect>
                            <text x=at(4) y=at(5) text-anchor="middle" class="ul-hist-count">
                                {move || bar.with(|b| b.2.clone())}
                            </text>
                        </g>
                    }
                }
            </For>
            <text x="0" y=H + 16.0 class="ul-xlabel">
                "0"
            </text>
            <text x=W y=H + 16.0 text-anchor="end" class="ul-xlabel">
                {move || summary.with(|s| format.run(s.distribution.last().map_or(0, |b| b.high)))}
            </text>
            <text x=W / 2.0 y=H + 30.0 text-anchor="middle" class="ul-xlabel">
                "total per subject"
            </text>
        </svg>
    }
}
