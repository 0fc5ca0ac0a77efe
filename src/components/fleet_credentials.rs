use std::collections::HashMap;

use leptos::prelude::*;
use usagelens_core::carriers::PeriodInput;
use usagelens_core::fetch::Credentials;
use usagelens_core::Carrier;

use super::credential_fields::{CredentialFields, CredentialInputs};
use super::live_fetch::control_center_endpoint;

/// One carrier's credentials and rate limit in the fleet form.
#[derive(Clone, Copy)]
pub struct CarrierSecrets {
    pub inputs: CredentialInputs,
    /// Requests per second, as typed ("": no limit).
    pub rate: RwSignal<String>,
}

impl CarrierSecrets {
    /// Empty fields for every carrier.
    pub fn for_all() -> HashMap<Carrier, CarrierSecrets> {
        Carrier::ALL
            .iter()
            .map(|c| {
                let secrets = CarrierSecrets {
                    inputs: CredentialInputs::new(),
                    rate: RwSignal::new(String::new()),
                };
                (*c, secrets)
            })
            .collect()
    }

    /// The carrier's credentials from the fields (the fleet form has no pasted-token choice).
    pub fn credentials(&self, carrier: Carrier) -> Credentials {
        carrier.spec().credentials(&self.inputs.values())
    }
}

/// The fleet form's Credentials fieldset: one group per carrier in the list (or the account
/// loader's), with its rate limit, which applies at once while a fleet runs (`on_rate`).
#[component]
pub fn FleetCredentials(
    carriers: Signal<Vec<Carrier>>,
    secrets: StoredValue<HashMap<Carrier, CarrierSecrets>>,
    running: Signal<bool>,
    /// Carriers with billing cycles: the cycle to date rather than the current cycle, and the
    /// billing day.
    cc_cycle_to_date: RwSignal<bool>,
    cc_billing_day: RwSignal<String>,
    on_rate: Callback<()>,
) -> impl IntoView {
    let group = move |c: Carrier| {
        let s = secrets.with_value(|m| m[&c]);
        let cycles = c.spec().period_input() == PeriodInput::Cycle;
        let prefix = format!("ul-fleet-{}-", c.as_str());
        let rate_id = format!("{prefix}rate");
        view! {
            <fieldset class="ul-fleet-carrier" data-carrier=c.as_str()>
                <legend>{c.label()}</legend>
                <CredentialFields carrier=c inputs=s.inputs id_prefix=prefix disabled=running />
                {cycles
                    .then(|| {
                        view! {
                            {control_center_endpoint(
                                "ul-fleet-cc-endpoint",
                                cc_cycle_to_date,
                                "fleet-cc-endpoint",
                            )}
                            <Show when=move || cc_cycle_to_date.get()>
                                <label class="ul-field">
                                    <span>"Billing day (cycle starts)"</span>
                                    <input
                                        type="number"
                                        min="1"
                                        max="31"
                                        data-testid="fleet-billing-day"
                                        disabled=move || running.get()
                                        prop:value=move || cc_billing_day.get()
                                        on:input=move |ev| {
                                            cc_billing_day.set(event_target_value(&ev))
                                        }
                                    />
                                </label>
                            </Show>
                        }
                    })}
                <div class="ul-field">
                    <label for=rate_id.clone()>"Requests per second (empty: no limit)"</label>
                    <input
                        id=rate_id
                        type="number"
                        min="1"
                        data-field="rate"
                        prop:value=move || s.rate.get()
                        on:input=move |ev| {
                            s.rate.set(event_target_value(&ev));
                            on_rate.run(())
                        }
                    />
                </div>
            </fieldset>
        }
    };
    view! {
        <fieldset class="ul-fieldset" data-testid="fieldset-credentials">
            <legend>"Credentials"</legend>
            <Show
                when=move || !carriers.with(Vec::is_empty)
                fallback=|| {
                    view! {
                        <p class="ul-field-note">
                            "Each carrier in the list asks for its credentials here."
                        </p>
                    }
                }
            >
                {move || carriers.get().into_iter().map(group).collect_view()}
            </Show>
        </fieldset>
    }
}
