use leptos::prelude::*;
use usagelens_core::aggregate::totals;
use usagelens_core::units::{format_bytes, format_count, format_duration};
use usagelens_core::Service;

use crate::state::AppState;

/// Totals for the current filters: data, voice, SMS, MMS and roaming share (the allowances are
/// their own card, beside the chart).
#[component]
pub fn KpiCards() -> impl IntoView {
    let state = expect_context::<AppState>();
    let now = (js_sys::Date::now() / 1000.0) as i64;
    let totals = Memo::new(move |_| {
        let filter = state.filter.get();
        state.with_set(|set| totals(set, &filter, now))
    });
    let base = move || state.byte_base.get();
    let share = |part: u64, whole: u64| {
        if whole == 0 {
            "no data".to_owned()
        } else {
            format!("{:.0}% roaming", part as f64 * 100.0 / whole as f64)
        }
    };
    let card = move |service: Service, label: &'static str, testid: &'static str| {
        let value = move || totals.with(|t| t.of(service));
        let shown = move || match service {
            Service::Data => format_bytes(value(), base()),
            Service::Voice => format_duration(value()),
            _ => format_count(value()),
        };
        let note = move || {
            totals.with(|t| match service {
                Service::Data => share(t.roaming_data_bytes, t.data_bytes),
                Service::Voice => format!(
                    "{} min · {}",
                    t.voice_seconds / 60,
                    share(t.roaming_voice_seconds, t.voice_seconds)
                ),
                Service::Sms => "messages".to_owned(),
                Service::Mms => "messages".to_owned(),
            })
        };
        view! {
            <div class="ul-kpi" data-testid=testid data-value=move || value().to_string()>
                <span class="ul-kpi-label">{label}</span>
                <span class="ul-kpi-value">{shown}</span>
                <span class="ul-kpi-note">{note}</span>
            </div>
        }
    };
    view! {
        <section class="ul-kpis" aria-label="Totals for the current filters">
            {card(Service::Data, "Data", "kpi-data")}
            {card(Service::Voice, "Voice", "kpi-voice")}
            {card(Service::Sms, "SMS", "kpi-sms")}
            {card(Service::Mms, "MMS", "kpi-mms")}
        </section>
    }
}
