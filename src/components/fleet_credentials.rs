use std::collections::HashMap;

use leptos::prelude::*;
use usagelens_core::fetch::Credentials;
use usagelens_core::fleet::carrier_rules::{credentials_from_form, CredentialText};
use usagelens_core::Carrier;

use super::live_fetch::control_center_endpoint;

/// One carrier's credentials and rate limit in the fleet form.
#[derive(Clone, Copy)]
pub struct CarrierSecrets {
    pub user: RwSignal<String>,
    pub secret: RwSignal<String>,
    pub key: RwSignal<String>,
    pub key_secret: RwSignal<String>,
    /// Requests per second, as typed ("": no limit).
    pub rate: RwSignal<String>,
}

impl CarrierSecrets {
    /// Empty fields for every carrier.
    pub fn for_all() -> HashMap<Carrier, CarrierSecrets> {
        let field = || RwSignal::new(String::new());
        Carrier::ALL
            .iter()
            .map(|c| {
                let secrets = CarrierSecrets {
                    user: field(),
                    secret: field(),
                    key: field(),
                    key_secret: field(),
                    rate: field(),
                };
                (*c, secrets)
            })
            .collect()
    }

    pub fn credentials(&self, carrier: Carrier) -> Credentials {
        let text = CredentialText {
            user: self.user.get_untracked(),
            secret: self.secret.get_untracked(),
            key: self.key.get_untracked(),
            key_secret: self.key_secret.get_untracked(),
        };
        credentials_from_form(carrier, text)
    }
}

/// The fleet form's Credentials fieldset: one group per carrier in the list (or the account
/// loader's), with its rate limit, which applies at once while a fleet runs (`on_rate`).
#[component]
pub fn FleetCredentials(
    carriers: Signal<Vec<Carrier>>,
    secrets: StoredValue<HashMap<Carrier, CarrierSecrets>>,
    running: Signal<bool>,
    /// Control Center: the cycle to date rather than usage in zone, and the billing day.
    cc_cycle_to_date: RwSignal<bool>,
    cc_billing_day: RwSignal<String>,
    on_rate: Callback<()>,
) -> impl IntoView {
    let group = move |c: Carrier| {
        let s = secrets.with_value(|m| m[&c]);
        let thingspace = c == Carrier::Thingspace;
        let (user_label, secret_label) = match c {
            Carrier::VodafoneVrs => ("Client id", "Client secret"),
            Carrier::ControlCenter => ("User name", "API key"),
            _ => ("User name", "Password"),
        };
        view! {
            <fieldset class="ul-fleet-carrier" data-carrier=c.as_str()>
                <legend>{c.label()}</legend>
                {thingspace.then(|| view! {
                    <label class="ul-field"><span>"Key"</span><input autocomplete="off" data-field="key" disabled=move || running.get() prop:value=move || s.key.get() on:input=move |ev| s.key.set(event_target_value(&ev)) /></label>
                    <label class="ul-field"><span>"Key secret"</span><input type="password" autocomplete="off" data-field="key-secret" disabled=move || running.get() prop:value=move || s.key_secret.get() on:input=move |ev| s.key_secret.set(event_target_value(&ev)) /></label>
                })}
                <label class="ul-field"><span>{user_label}</span><input autocomplete="off" data-field="user" disabled=move || running.get() prop:value=move || s.user.get() on:input=move |ev| s.user.set(event_target_value(&ev)) /></label>
                <label class="ul-field"><span>{secret_label}</span><input type="password" autocomplete="off" data-field="secret" disabled=move || running.get() prop:value=move || s.secret.get() on:input=move |ev| s.secret.set(event_target_value(&ev)) /></label>
                {(c == Carrier::ControlCenter).then(|| view! {
                    {control_center_endpoint("ul-fleet-cc-endpoint", cc_cycle_to_date, "fleet-cc-endpoint")}
                    <Show when=move || cc_cycle_to_date.get()>
                        <label class="ul-field"><span>"Billing day (cycle starts)"</span><input type="number" min="1" max="31" data-testid="fleet-billing-day" disabled=move || running.get() prop:value=move || cc_billing_day.get() on:input=move |ev| cc_billing_day.set(event_target_value(&ev)) /></label>
                    </Show>
                })}
                <label class="ul-field"><span>"Requests per second (empty: no limit)"</span><input type="number" min="1" data-field="rate" prop:value=move || s.rate.get() on:input=move |ev| { s.rate.set(event_target_value(&ev)); on_rate.run(()) } /></label>
            </fieldset>
        }
    };
    view! {
        <fieldset class="ul-fieldset" data-testid="fieldset-credentials">
            <legend>"Credentials"</legend>
            <Show when=move || !carriers.with(Vec::is_empty)
                fallback=|| view! { <p class="ul-field-note">"Each carrier in the list asks for its credentials here."</p> }>
                {move || carriers.get().into_iter().map(group).collect_view()}
            </Show>
        </fieldset>
    }
}
