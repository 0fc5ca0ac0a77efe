//! The fleet form's Period fieldset: the first and the last day fetched.

use leptos::prelude::*;

/// The first and last day of a fleet fetch (`yyyy-mm-dd`); fixed while a fleet runs.
#[component]
pub fn FleetPeriodFields(
    from: RwSignal<String>,
    to: RwSignal<String>,
    running: Signal<bool>,
) -> impl IntoView {
    view! {
        <fieldset class="ul-fieldset" data-testid="fieldset-period">
            <legend>"Period"</legend>
            <label class="ul-field">
                <span>"First day"</span>
                <input
                    type="date"
                    disabled=move || running.get()
                    prop:value=move || from.get()
                    on:change=move |ev| from.set(event_target_value(&ev))
                />
            </label>
            <label class="ul-field">
                <span>"Last day"</span>
                <input
                    type="date"
                    disabled=move || running.get()
                    prop:value=move || to.get()
                    on:change=move |ev| to.set(event_target_value(&ev))
                />
            </label>
        </fieldset>
    }
}
