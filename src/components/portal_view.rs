use leptos::prelude::*;
use usagelens_core::portal::PeriodChoice;
use usagelens_core::units::parse_day;

use super::portal_sim::{short_day, PortalSim};
use crate::host::Host;
use crate::portal::{PortalController, SimEvent};
use crate::viewer_config::{PortalSubject, ViewerConfig};

fn now_s() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// "20 Nov 2026, 14:05 UTC" (or local time, as the host's `timeZone` says).
fn update_time(ms: f64, utc: bool) -> String {
    let offset = if utc {
        0
    } else {
        -(js_sys::Date::new_0().get_timezone_offset() as i64)
    };
    let zone = if utc { " UTC" } else { "" };
    chrono::DateTime::from_timestamp((ms / 1000.0) as i64 + offset * 60, 0)
        .map(|d| format!("{}{zone}", d.format("%-d %b %Y, %H:%M")))
        .unwrap_or_default()
}

/// Portal mode: the host's SIMs over the billing period the customer picks, fetched on mount
/// and on "Refresh". No import, no forms, no filters beyond the period.
#[component]
pub fn PortalView(
    config: RwSignal<ViewerConfig>,
    host: Host,
    credentials: StoredValue<Option<js_sys::Function>, LocalStorage>,
) -> impl IntoView {
    let initial = config.get_untracked();
    let controller = PortalController::new(initial.subjects.clone(), initial.billing_day);
    let host = StoredValue::new_local(host);
    let emit = move |event: &SimEvent| {
        let name = if event.is_error() { "error" } else { "loaded" };
        host.with_value(|h| h.emit(name, event));
    };
    let refresh = move || {
        let config = config.get_untracked();
        for slot in controller.slots.get_untracked() {
            slot.state.byte_base.set(config.units);
            slot.state.utc.set(config.utc);
        }
        controller.refresh(config, credentials.get_value(), emit);
    };
    // On mount, and again when the host changes the SIMs or the billing day.
    Effect::new(move |previous: Option<(Vec<PortalSubject>, u32)>| {
        let current = config.with(|c| (c.subjects.clone(), c.billing_day));
        match &previous {
            // Another key changed (theme, units): nothing to fetch.
            Some(p) if *p == current => return current,
            Some(_) => {
                controller.billing_day.set(current.1);
                controller.set_subjects(current.0.clone());
            }
            None => {}
        }
        let choice = controller.choice.get_untracked();
        if controller.choose(choice, now_s()).is_some() {
            refresh();
        }
        current
    });
    // Units and time zone follow `update()` without fetching again.
    Effect::new(move |_| {
        let (units, utc) = config.with(|c| (c.units, c.utc));
        for slot in controller.slots.get_untracked() {
            slot.state.byte_base.set(units);
            slot.state.utc.set(utc);
        }
    });
    let custom_first = RwSignal::new(String::new());
    let custom_last = RwSignal::new(String::new());
    let choice_name = move || match controller.choice.get() {
        PeriodChoice::This => "this",
        PeriodChoice::Last => "last",
        PeriodChoice::Custom { .. } => "custom",
    };
    let show_custom = RwSignal::new(false);
    let on_choice = move |ev: web_sys::Event| match event_target_value(&ev).as_str() {
        "last" => {
            show_custom.set(false);
            if controller.choose(PeriodChoice::Last, now_s()).is_some() {
                refresh();
            }
        }
        "custom" => {
            // Starts from the period shown; fetched once the customer applies it.
            if let Some(p) = controller.period.get_untracked() {
                let (first, last) = p.days();
                custom_first.set(first);
                custom_last.set(last);
            }
            show_custom.set(true);
        }
        _ => {
            show_custom.set(false);
            if controller.choose(PeriodChoice::This, now_s()).is_some() {
                refresh();
            }
        }
    };
    let apply_custom = move |ev: web_sys::SubmitEvent| {
        ev.prevent_default();
        let (Some(first_day), Some(last_day)) = (
            parse_day(&custom_first.get_untracked()),
            parse_day(&custom_last.get_untracked()),
        ) else {
            controller
                .period_error
                .set(Some("Choose the first and the last day.".into()));
            return;
        };
        if controller
            .choose(
                PeriodChoice::Custom {
                    first_day,
                    last_day,
                },
                now_s(),
            )
            .is_some()
        {
            refresh();
        }
    };
    let period_text = move || {
        controller
            .period
            .get()
            .map(|p| format!("{} – {}", short_day(p.start), short_day(p.end - 1)))
            .unwrap_or_default()
    };
    let updated = move || {
        let utc = config.with(|c| c.utc);
        match controller.last_update_ms() {
            Some(ms) => format!("Updated {}", update_time(ms, utc)),
            None if controller.loading() => "Updating…".to_owned(),
            None => "Not updated yet".to_owned(),
        }
    };
    let theme = move || config.with(|c| c.theme.as_str());
    let period_signal = Signal::derive(move || controller.period.get());
    view! {
        <div class="ul-root ul-portal" data-theme=theme>
            // Not a <main>: the host page has its own.
            <div class="ul-main">
                <section class="ul-card ul-portal-bar" aria-labelledby="ul-portal-title">
                    <div class="ul-portal-heading">
                        <h2 id="ul-portal-title">"Your mobile usage"</h2>
                        <p class="ul-portal-period" data-testid="portal-period">
                            {period_text}
                        </p>
                    </div>
                    <div class="ul-portal-controls">
                        <div class="ul-field">
                            <label for="ul-portal-choice">"Period"</label>
                            <select
                                id="ul-portal-choice"
                                data-testid="portal-choice"
                                prop:value=choice_name
                                on:change=on_choice
                            >
                                <option value="this">"This period"</option>
                                <option value="last">"Last period"</option>
                                <option value="custom">"Custom"</option>
                            </select>
                        </div>
                        <span
                            class="ul-portal-updated"
                            data-testid="portal-updated"
                            aria-live="polite"
                        >
                            {updated}
                        </span>
                        <button
                            class="ul-button ul-primary"
                            type="button"
                            data-testid="portal-refresh"
                            disabled=move || controller.loading()
                            on:click=move |_| refresh()
                        >
                            "Refresh"
                        </button>
                    </div>
                    <Show when=move || show_custom.get()>
                        <form class="ul-portal-custom" on:submit=apply_custom novalidate>
                            <div class="ul-field">
                                <label for="ul-portal-first">"First day"</label>
                                <input
                                    id="ul-portal-first"
                                    type="date"
                                    data-testid="portal-first"
                                    prop:value=move || custom_first.get()
                                    on:input=move |ev| custom_first.set(event_target_value(&ev))
                                />
                            </div>
                            <div class="ul-field">
                                <label for="ul-portal-last">"Last day"</label>
                                <input
                                    id="ul-portal-last"
                                    type="date"
                                    data-testid="portal-last"
                                    prop:value=move || custom_last.get()
                                    on:input=move |ev| custom_last.set(event_target_value(&ev))
                                />
                            </div>
                            <button class="ul-button" type="submit" data-testid="portal-apply">
                                "Show"
                            </button>
                        </form>
                    </Show>
                    {move || {
                        controller
                            .period_error
                            .get()
                            .map(|e| {
                                view! {
                                    <p class="ul-error" role="alert">
                                        {e}
                                    </p>
                                }
                            })
                    }}
                </section>
                <For
                    each=move || controller.slots.get()
                    key=|s| (s.index, s.subject.with_value(|p| p.subject.id.clone()))
                    let:sim
                >
                    <PortalSim sim=sim period=period_signal />
                </For>
            </div>
        </div>
    }
}
