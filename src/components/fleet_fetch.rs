use std::collections::HashMap;

use leptos::prelude::*;
use usagelens_core::fetch::{FetchConfig, ProxyConfig};
use usagelens_core::fleet::{parse_subject_list, FleetPeriod, FleetSetup};
use usagelens_core::sorting::sort_by_shared;
use usagelens_core::units::parse_day;
use usagelens_core::Carrier;

use super::fleet_account::FleetAccount;
use super::fleet_actions::FleetActions;
use super::fleet_credentials::{CarrierSecrets, FleetCredentials};
use super::fleet_failures::FleetFailures;
use super::fleet_period::FleetPeriodFields;
use super::fleet_progress::FleetProgressLine;
use super::fleet_proxy::FleetProxyFields;
use super::fleet_subjects::FleetSubjects;
use super::live_fetch::parse_billing_day;
use crate::remember::{FleetSettings, FLEET_KEY};
use crate::use_fleet_fetch::use_fleet_fetch;

/// Fetches many subjects (pasted or imported as CSV) with bounded concurrency and per-carrier
/// rate limits; results stream into the dashboard as one growing source. The fetch itself is
/// [`use_fleet_fetch`]'s; this form reads what to fetch and how.
#[component]
pub fn FleetFetch() -> impl IntoView {
    let fleet = use_fleet_fetch();
    let running = Signal::from(fleet.running);
    let list = RwSignal::new(String::new());
    let default_carrier = RwSignal::new(String::new());
    let concurrency = RwSignal::new("8".to_owned());
    let origin = web_sys::window().and_then(|w| w.location().origin().ok());
    let proxy = RwSignal::new(origin.unwrap_or_default());
    let today = chrono::Utc::now().date_naive();
    let from = RwSignal::new((today - chrono::Duration::days(29)).to_string());
    let to = RwSignal::new(today.to_string());
    let secrets = StoredValue::new(CarrierSecrets::for_all());
    let form_error = RwSignal::new(None::<String>);
    let cc_cycle_to_date = RwSignal::new(false);
    let cc_billing_day = RwSignal::new("1".to_owned());
    let account_carrier = RwSignal::new(None::<Carrier>);
    // Non-secret settings the user asked to keep (never the credentials).
    let remembered = crate::remember::load::<FleetSettings>(FLEET_KEY);
    let remember = RwSignal::new(remembered.is_some());
    if let Some(r) = remembered {
        default_carrier.set(r.default_carrier);
        if !r.proxy_url.is_empty() {
            proxy.set(r.proxy_url);
        }
        if !r.concurrency.is_empty() {
            concurrency.set(r.concurrency);
        }
        for (name, rate) in r.rate_limits {
            if let Some(c) = Carrier::parse(&name) {
                secrets.with_value(|m| m[&c].rate.set(rate));
            }
        }
    }
    Effect::new(move |_| {
        let rate_limits = Carrier::ALL
            .iter()
            .map(|c| {
                (
                    c.as_str().to_owned(),
                    secrets.with_value(|m| m[c].rate.get()),
                )
            })
            .filter(|(_, rate)| !rate.is_empty())
            .collect();
        let settings = FleetSettings {
            default_carrier: default_carrier.get(),
            proxy_url: proxy.get(),
            concurrency: concurrency.get(),
            rate_limits,
        };
        if remember.get() {
            crate::remember::save(FLEET_KEY, &settings);
        } else {
            crate::remember::forget(FLEET_KEY);
        }
    });

    let parsed = Memo::new(move |_| {
        let text = list.get();
        if text.trim().is_empty() {
            return Err(String::new());
        }
        parse_subject_list(&text, Carrier::parse(&default_carrier.get())).map_err(|e| e.to_string())
    });
    let carriers_in_list = Signal::derive(move || {
        let mut c: Vec<Carrier> = parsed.with(|p| {
            p.as_ref()
                .map(|l| l.entries.iter().map(|e| e.carrier).collect())
                .unwrap_or_default()
        });
        // The account loader's carrier needs its credentials too.
        c.extend(account_carrier.get());
        sort_by_shared(&mut c, Ord::cmp);
        c.dedup();
        c
    });

    // How to fetch, as the form says now: read at the start and again for each retry, and for
    // the concurrency and rate limits also while a fleet runs.
    let read_setup = move || -> Result<FleetSetup, String> {
        let concurrency = match concurrency.get_untracked().trim().parse::<usize>() {
            Ok(n) if (1..=64).contains(&n) => n,
            _ => return Err("concurrency takes 1 to 64 parallel fetches".into()),
        };
        let mut limits = Vec::new();
        let mut credentials = HashMap::new();
        for c in Carrier::ALL {
            let s = secrets.with_value(|m| m[&c]);
            let rate = s.rate.get_untracked();
            let limit = match rate.trim() {
                "" => None,
                text => Some(text.parse::<u32>().map_err(|_| {
                    format!(
                        "{} rate limit {rate:?}: enter requests per second, or leave it empty",
                        c.label()
                    )
                })?),
            };
            limits.push((c, limit));
            credentials.insert(c, s.credentials(c));
        }
        let base = proxy
            .get_untracked()
            .trim()
            .trim_end_matches('/')
            .to_owned();
        let config = FetchConfig {
            proxy: ProxyConfig::per_carrier(&base),
            today: Some(chrono::Utc::now().date_naive()),
            ..FetchConfig::default()
        };
        Ok(FleetSetup {
            concurrency,
            limits,
            credentials,
            config,
        })
    };
    let read_period = move || -> Result<FleetPeriod, String> {
        let (Some(earliest), Some(last_day)) = (
            parse_day(&from.get_untracked()),
            parse_day(&to.get_untracked()),
        ) else {
            return Err("choose the first and the last day".into());
        };
        if last_day < earliest {
            return Err("the last day is before the first".into());
        }
        let billing_day = match cc_cycle_to_date.get_untracked() {
            true => Some(parse_billing_day(&cc_billing_day.get_untracked())?),
            false => None,
        };
        Ok(FleetPeriod {
            earliest,
            latest: last_day + 86_399,
            billing_day,
        })
    };
    let start_fetch = move || {
        form_error.set(None);
        let started = parsed
            .get_untracked()
            .map_err(|e| {
                if e.is_empty() {
                    "paste or import a list of identifiers first".into()
                } else {
                    e
                }
            })
            .and_then(|list| {
                let setup = read_setup()?;
                fleet.start(list.entries, setup, read_period()?);
                Ok(())
            });
        form_error.set(started.err());
    };
    // Concurrency and rate limits apply to a running fetch at once; the rest of the form waits
    // for the next start or retry.
    let apply_live = move || {
        if running.get_untracked() {
            let setup = read_setup();
            if let Ok(s) = &setup {
                fleet.set_pace(s.concurrency, &s.limits);
            }
            form_error.set(setup.err());
        }
    };
    let retry = move |()| {
        let setup = read_setup();
        form_error.set(setup.as_ref().err().cloned());
        if let Ok(setup) = setup {
            fleet.retry(setup);
        }
    };
    // Fills the list the form validates with the devices found, then fetches them.
    let fetch_found = Callback::new(move |csv: String| {
        list.set(csv);
        start_fetch();
    });
    let retry_disabled = move || {
        running.get() || {
            let p = fleet.progress.get();
            p.failed + p.partial + p.remaining == 0
        }
    };

    view! {
        <div class="ul-fleet-fetch" data-testid="fleet-fetch">
            <p class="ul-hint">
                "One identifier per line, or CSV with a header naming "<code>"identifier"</code>", "
                <code>"carrier"</code> " and optionally "<code>"kind"</code>
                ". Every identifier is checked before anything is sent."
            </p>
            <FleetAccount
                carrier=account_carrier
                running=running
                setup=Callback::new(move |()| read_setup())
                fetch=fetch_found
            />
            <FleetSubjects
                list=list
                default_carrier=default_carrier
                parsed=parsed
                running=running
                form_error=form_error
            />
            <FleetPeriodFields from=from to=to running=running />
            <FleetCredentials
                carriers=carriers_in_list
                secrets=secrets
                running=running
                cc_cycle_to_date=cc_cycle_to_date
                cc_billing_day=cc_billing_day
                on_rate=Callback::new(move |()| apply_live())
            />
            <FleetProxyFields
                proxy=proxy
                concurrency=concurrency
                running=running
                on_concurrency=Callback::new(move |()| apply_live())
            />
            <div class="ul-field ul-check ul-remember">
                <label>
                    <input
                        type="checkbox"
                        data-testid="fleet-remember"
                        prop:checked=move || remember.get()
                        on:change=move |ev| remember.set(event_target_checked(&ev))
                    />
                    " Remember these settings (default carrier, proxy, parallel fetches, rate limits) in this browser; credentials are never stored"
                </label>
            </div>
            {move || {
                form_error
                    .get()
                    .map(|e| {
                        view! {
                            <p class="ul-error" role="alert">
                                {e}
                            </p>
                        }
                    })
            }}
            <FleetActions
                fleet=fleet
                on_start=Callback::new(move |()| start_fetch())
                on_retry=Callback::new(move |()| retry(()))
                retry_disabled=Signal::derive(retry_disabled)
            />
            <FleetProgressLine fleet=fleet />
            <FleetFailures fleet=fleet />
        </div>
    }
}
