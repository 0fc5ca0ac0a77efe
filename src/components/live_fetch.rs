use std::collections::HashMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use usagelens_core::carriers::{PeriodInput, UsageRequest};
use usagelens_core::fetch::{FetchConfig, FetchJob, ProxyConfig, Token};
use usagelens_core::ident::validate;
use usagelens_core::units::parse_day;
use usagelens_core::{Carrier, Subject, SubjectKind, Warning};

use crate::components::credential_fields::{CredentialFields, CredentialInputs};

use crate::fetch::{run_job, CancelFlag, Progress};
use crate::remember::{LiveSettings, LIVE_KEY};
use crate::state::{AppState, SourceOrigin};
use crate::viewer_config::ViewerConfig;

/// How requests reach the carrier, as the user chose it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ProxyMode {
    /// `<base>/<carrier>` for each carrier (a reverse proxy like deploy/nginx, or trunk's proxy).
    PerCarrier,
    Prefix,
    Template,
}

fn proxy_mode_name(mode: ProxyMode) -> &'static str {
    match mode {
        ProxyMode::Prefix => "prefix",
        ProxyMode::Template => "template",
        ProxyMode::PerCarrier => "carrier",
    }
}

fn proxy_mode_named(name: &str) -> ProxyMode {
    match name {
        "prefix" => ProxyMode::Prefix,
        "template" => ProxyMode::Template,
        _ => ProxyMode::PerCarrier,
    }
}

/// The first second of a month typed as `YYYY-MM`.
fn month_start(value: &str) -> Option<i64> {
    let (y, m) = value.split_once('-')?;
    let (y, m): (i32, u32) = (y.parse().ok()?, m.get(..2).unwrap_or(m).parse().ok()?);
    let day = chrono::NaiveDate::from_ymd_opt(y, m, 1)?;
    Some(day.and_hms_opt(0, 0, 0)?.and_utc().timestamp())
}

fn page_origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

fn text_input(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    kind: &'static str,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <div class="ul-field">
            <label for=id>{label}</label>
            <input
                id=id
                type=kind
                data-testid=testid
                autocomplete="off"
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
        </div>
    }
}

/// The live-fetch form: identifier, range and credentials for one carrier, and the proxy.
/// Identifiers are validated as they are typed; nothing is sent until they are valid.
#[component]
pub fn LiveFetch() -> impl IntoView {
    let state = expect_context::<AppState>();
    let config = expect_context::<RwSignal<ViewerConfig>>();
    let credentials_callback =
        expect_context::<StoredValue<Option<js_sys::Function>, LocalStorage>>();
    let initial = config.get_untracked();
    let carriers = move || config.with(|c| c.carriers.clone());
    let carrier = RwSignal::new(if initial.carriers.contains(&Carrier::FORM_DEFAULT) {
        Carrier::FORM_DEFAULT
    } else {
        initial
            .carriers
            .first()
            .copied()
            .unwrap_or(Carrier::FORM_DEFAULT)
    });
    let id = RwSignal::new(initial.subject.clone().unwrap_or_default());
    let device_kind = RwSignal::new(SubjectKind::Imei);
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let rate_plan = RwSignal::new(String::new());
    let zone = RwSignal::new(String::new());
    // Control Center: usage in zone per cycle, or the current cycle to date.
    let cycle_to_date = RwSignal::new(false);
    let billing_day = RwSignal::new("1".to_owned());
    let csv = RwSignal::new(false);
    let inputs = CredentialInputs::new();
    let (initial_mode, initial_url) = match &initial.proxy {
        Some(p) => (
            match p.mode.as_str() {
                "prefix" => ProxyMode::Prefix,
                "template" => ProxyMode::Template,
                _ => ProxyMode::PerCarrier,
            },
            p.url.clone(),
        ),
        None => (ProxyMode::PerCarrier, page_origin()),
    };
    let proxy_mode = RwSignal::new(initial_mode);
    let proxy = RwSignal::new(initial_url);
    // A host's `update({proxy})` reaches the form.
    Effect::new(move |previous: Option<()>| {
        let setting = config.with(|c| c.proxy.clone());
        if previous.is_none() {
            return;
        }
        if let Some(p) = setting {
            proxy_mode.set(match p.mode.as_str() {
                "prefix" => ProxyMode::Prefix,
                "template" => ProxyMode::Template,
                _ => ProxyMode::PerCarrier,
            });
            proxy.set(p.url);
        }
    });
    // Credentials the host configured for the chosen carrier fill the form.
    Effect::new(move |_| {
        let c = carrier.get();
        if let Some(preset) = config.with(|cfg| {
            cfg.credentials
                .iter()
                .find(|(k, _)| *k == c)
                .map(|(_, p)| p.clone())
        }) {
            inputs.fill(preset);
        }
    });
    let asks_host = move || config.with(|c| c.credentials_callback);
    let timeout_s = RwSignal::new("30".to_owned());
    // Non-secret settings the user asked to keep; a host's proxy setting wins over them.
    let remembered = crate::remember::load::<LiveSettings>(LIVE_KEY);
    let remember = RwSignal::new(remembered.is_some());
    if let Some(r) = remembered {
        if let Some(c) = Carrier::parse(&r.carrier).filter(|c| initial.carriers.contains(c)) {
            carrier.set(c);
        }
        if initial.proxy.is_none() && !r.proxy_url.is_empty() {
            proxy_mode.set(proxy_mode_named(&r.proxy_mode));
            proxy.set(r.proxy_url);
        }
        if !r.timeout_s.is_empty() {
            timeout_s.set(r.timeout_s);
        }
    }
    Effect::new(move |_| {
        let settings = LiveSettings {
            carrier: carrier.get().as_str().to_owned(),
            proxy_mode: proxy_mode_name(proxy_mode.get()).to_owned(),
            proxy_url: proxy.get(),
            timeout_s: timeout_s.get(),
        };
        if remember.get() {
            crate::remember::save(LIVE_KEY, &settings);
        } else {
            crate::remember::forget(LIVE_KEY);
        }
    });
    let progress = RwSignal::new(None::<Progress>);
    let form_error = RwSignal::new(None::<String>);
    let cancel = StoredValue::new(CancelFlag::default());
    // Tokens by carrier and country (Vodafone tokens only work for one country).
    let tokens: StoredValue<HashMap<(Carrier, String), Token>> = StoredValue::new(HashMap::new());

    // The kind the device-kind choice names, where the carrier takes it; else its usual kind.
    let subject_kind = move || {
        let spec = carrier.get().spec();
        let chosen = device_kind.get();
        let takes = spec.subject_kinds().contains(&chosen)
            || (spec.takes_labels() && chosen == SubjectKind::Label);
        if takes && spec.subject_kinds().len() > 1 {
            chosen
        } else {
            spec.subject_kinds()[0]
        }
    };
    let kind_choices = move || {
        let spec = carrier.get().spec();
        let mut kinds = spec.subject_kinds().to_vec();
        if spec.takes_labels() {
            kinds.push(SubjectKind::Label);
        }
        kinds
    };
    let id_error = move || {
        let value = id.get();
        if value.trim().is_empty() {
            return None;
        }
        validate(subject_kind(), &value).err().map(|e| e.message)
    };

    let build = move || -> Result<(FetchJob, String), String> {
        let c = carrier.get_untracked();
        let kind = subject_kind();
        let id_value = validate(kind, &id.get_untracked()).map_err(|e| e.message)?;
        let spec = c.spec();
        let subject = Subject::new(kind, id_value.clone());
        let mut request = UsageRequest {
            subject: Some(subject.clone()),
            ..UsageRequest::default()
        };
        match spec.period_input() {
            PeriodInput::Latest => {}
            PeriodInput::Months { csv: takes_csv } => {
                let first = month_start(&from.get_untracked()).ok_or("choose the first month")?;
                let last = month_start(&to.get_untracked()).unwrap_or(first);
                request.period = Some((first, last));
                request.csv = takes_csv && csv.get_untracked();
            }
            PeriodInput::Days => {
                let earliest = parse_day(&from.get_untracked()).ok_or("choose the first day")?;
                let latest = parse_day(&to.get_untracked()).ok_or("choose the last day")? + 86_399;
                request.period = Some((earliest, latest));
            }
            PeriodInput::Cycle if cycle_to_date.get_untracked() => {
                request.cycle_to_date = Some(parse_billing_day(&billing_day.get_untracked())?);
            }
            PeriodInput::Cycle => {
                request.period = parse_day(&from.get_untracked()).map(|start| (start, start));
                request.rate_plan = Some(rate_plan.get_untracked());
                request.zone = Some(zone.get_untracked());
            }
        }
        let query = spec.query(&request)?;
        let credentials = spec.credentials(&inputs.values());
        let base = proxy
            .get_untracked()
            .trim()
            .trim_end_matches('/')
            .to_owned();
        let proxy_config = match proxy_mode.get_untracked() {
            ProxyMode::PerCarrier => ProxyConfig::per_carrier(&base),
            ProxyMode::Prefix => ProxyConfig::Prefix(format!("{base}/")),
            ProxyMode::Template => ProxyConfig::Template(proxy.get_untracked().trim().to_owned()),
        };
        let country = spec.token_scope(&subject);
        let cached = tokens.with_value(|t| t.get(&(c, country.clone())).cloned());
        let timeout_ms = timeout_s
            .get_untracked()
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|s| (1..=600).contains(s))
            .ok_or("the timeout takes 1 to 600 seconds")?
            * 1000;
        let config = FetchConfig {
            proxy: proxy_config,
            timeout_ms,
            today: Some(chrono::Utc::now().date_naive()),
            ..FetchConfig::default()
        };
        let job = FetchJob::new(query, credentials, config, cached).map_err(|e| e.message)?;
        Ok((job, country))
    };

    let start_fetch = move || {
        let (job, country) = match build() {
            Ok(j) => j,
            Err(message) => {
                form_error.set(Some(message));
                return;
            }
        };
        form_error.set(None);
        let c = carrier.get_untracked();
        let name = format!("{} {}", c.label(), id.get_untracked().trim());
        let flag = CancelFlag::default();
        cancel.set_value(flag.clone());
        progress.set(Some(Progress {
            step: "starting".into(),
            pages: 0,
        }));
        state.busy.update(|b| *b += 1);
        spawn_local(async move {
            let outcome = run_job(job, flag, move |p| progress.set(Some(p))).await;
            if let Some(t) = outcome.token.clone() {
                tokens.update_value(|m| {
                    m.insert((c, country), t);
                });
            }
            let mut warnings = outcome.warnings;
            warnings.extend(outcome.notices.into_iter().map(Warning::new));
            let error = outcome.error.map(|e| {
                if outcome.set.is_empty() {
                    e.to_string()
                } else {
                    format!(
                        "{e} ({} records fetched before this are kept)",
                        outcome.set.len()
                    )
                }
            });
            state.add_set(
                &name,
                SourceOrigin::Live,
                outcome.set,
                Some(c),
                warnings,
                error,
            );
            progress.set(None);
            state.busy.update(|b| *b -= 1);
        });
    };

    let submit = move |ev: web_sys::SubmitEvent| {
        ev.prevent_default();
        if progress.get_untracked().is_some() {
            return;
        }
        if asks_host() {
            // The host keeps the secrets: ask it now, fill the (hidden) fields, then fetch.
            let c = carrier.get_untracked();
            let Some(function) = credentials_callback.with_value(|f| f.clone()) else {
                return;
            };
            progress.set(Some(Progress {
                step: "asking the page for credentials".into(),
                pages: 0,
            }));
            spawn_local(async move {
                let answer = function
                    .call1(&wasm_bindgen::JsValue::NULL, &c.as_str().into())
                    .map(|v| js_sys::Promise::resolve(&v))
                    .map(wasm_bindgen_futures::JsFuture::from);
                let value = match answer {
                    Ok(future) => future.await,
                    Err(e) => Err(e),
                };
                progress.set(None);
                match value {
                    Ok(v) => {
                        inputs.fill(crate::viewer_config::credential_values_from_js(&v));
                        start_fetch();
                    }
                    Err(_) => form_error.set(Some(format!(
                        "the page could not give credentials for {}",
                        c.label()
                    ))),
                }
            });
            return;
        }
        start_fetch();
    };

    let range_fields = move || match carrier.get().spec().period_input() {
        PeriodInput::Months { csv: takes_csv } => view! {
            {text_input("ul-from-month", "First month", from, "month", "fetch-from")}
            {text_input("ul-to-month", "Last month", to, "month", "fetch-to")}
            {takes_csv
                .then(|| {
                    view! {
                        <div class="ul-field ul-check">
                            <label>
                                <input
                                    type="checkbox"
                                    prop:checked=move || csv.get()
                                    on:change=move |ev| csv.set(event_target_checked(&ev))
                                />
                                " As CSV"
                            </label>
                        </div>
                    }
                })}
        }
        .into_any(),
        PeriodInput::Days => view! {
            {text_input("ul-from-day", "First day", from, "date", "fetch-from")}
            {text_input("ul-to-day", "Last day", to, "date", "fetch-to")}
        }
        .into_any(),
        PeriodInput::Cycle => view! {
            {control_center_endpoint("ul-cc-endpoint", cycle_to_date, "fetch-cc-endpoint")}
            <Show
                when=move || cycle_to_date.get()
                fallback=move || {
                    view! {
                        {text_input(
                            "ul-cycle",
                            "Cycle start (optional)",
                            from,
                            "date",
                            "fetch-from",
                        )}
                        {text_input(
                            "ul-rate-plan",
                            "Rate plan (optional)",
                            rate_plan,
                            "text",
                            "fetch-rate-plan",
                        )}
                        {text_input(
                            "ul-zone-filter",
                            "Zone (optional)",
                            zone,
                            "text",
                            "fetch-zone",
                        )}
                    }
                }
            >
                {text_input(
                    "ul-billing-day",
                    "Billing day (cycle starts)",
                    billing_day,
                    "number",
                    "fetch-billing-day",
                )}
            </Show>
        }
        .into_any(),
        PeriodInput::Latest => view! {
            <p class="ul-field-note">
                {format!(
                    "{} answers with its latest usage; there is no period to choose.",
                    carrier.get().label(),
                )}
            </p>
        }
        .into_any(),
    };

    view! {
        <section class="ul-card ul-live" aria-labelledby="ul-live-title">
            <h2 id="ul-live-title">"Fetch live"</h2>
            <p>"Credentials stay in this page and go only to the proxy below, in headers."</p>
            <form class="ul-live-form ul-form" on:submit=submit novalidate>
                <fieldset class="ul-fieldset" data-testid="fieldset-subject">
                    <legend>"Subject"</legend>
                    <div class="ul-field">
                        <label for="ul-carrier-live">"Carrier"</label>
                        <select
                            id="ul-carrier-live"
                            data-testid="fetch-carrier"
                            on:change=move |ev| {
                                if let Some(c) = Carrier::parse(&event_target_value(&ev)) {
                                    carrier.set(c);
                                    form_error.set(None)
                                }
                            }
                        >
                            {move || {
                                carriers()
                                    .into_iter()
                                    .map(|c| {
                                        view! {
                                            <option
                                                value=c.as_str()
                                                selected=move || carrier.get() == c
                                            >
                                                {c.label()}
                                            </option>
                                        }
                                    })
                                    .collect_view()
                            }}
                        </select>
                    </div>
                    <Show when=move || { kind_choices().len() > 1 }>
                        <div class="ul-field">
                            <label for="ul-device-kind">"Device id kind"</label>
                            <select
                                id="ul-device-kind"
                                on:change=move |ev| {
                                    if let Some(k) = SubjectKind::parse(&event_target_value(&ev)) {
                                        device_kind.set(k)
                                    }
                                }
                            >
                                {move || {
                                    kind_choices()
                                        .into_iter()
                                        .map(|k| {
                                            view! {
                                                <option
                                                    value=k.as_str()
                                                    selected=move || subject_kind() == k
                                                >
                                                    {k.as_str().to_uppercase()}
                                                </option>
                                            }
                                        })
                                        .collect_view()
                                }}
                            </select>
                        </div>
                    </Show>
                    <div class="ul-field ul-wide">
                        <label for="ul-ident">
                            {move || format!("{} ", subject_kind().as_str().to_uppercase())}
                        </label>
                        <input
                            id="ul-ident"
                            data-testid="fetch-id"
                            autocomplete="off"
                            spellcheck="false"
                            aria-invalid=move || id_error().is_some().to_string()
                            aria-describedby="ul-ident-error"
                            prop:value=move || id.get()
                            on:input=move |ev| id.set(event_target_value(&ev))
                        />
                        <span id="ul-ident-error" class="ul-field-error" aria-live="polite">
                            {id_error}
                        </span>
                    </div>
                </fieldset>
                <fieldset class="ul-fieldset" data-testid="fieldset-period">
                    <legend>"Period"</legend>
                    {range_fields}
                </fieldset>
                <fieldset class="ul-fieldset" data-testid="fieldset-credentials">
                    <legend>"Credentials"</legend>
                    <Show
                        when=move || !asks_host()
                        fallback=|| {
                            view! {
                                <p class="ul-field-note">
                                    "Credentials come from the page this viewer is embedded in."
                                </p>
                            }
                        }
                    >
                        <CredentialFields
                            carrier=carrier
                            inputs=inputs
                            id_prefix="ul-"
                            testid_prefix="fetch-"
                        />
                    </Show>
                </fieldset>
                <fieldset class="ul-fieldset" data-testid="fieldset-proxy">
                    <legend>"Proxy"</legend>
                    <div class="ul-field">
                        <label for="ul-proxy-mode">"Proxy"</label>
                        <select
                            id="ul-proxy-mode"
                            prop:value=move || proxy_mode_name(proxy_mode.get())
                            on:change=move |ev| {
                                proxy_mode.set(proxy_mode_named(&event_target_value(&ev)))
                            }
                        >
                            <option value="carrier">"Base URL + /carrier"</option>
                            <option value="prefix">"Prefix + full URL"</option>
                            <option value="template">"Template with {url}"</option>
                        </select>
                    </div>
                    <div class="ul-field ul-wide">
                        <label for="ul-proxy">"Proxy URL"</label>
                        <input
                            id="ul-proxy"
                            data-testid="fetch-proxy"
                            prop:value=move || proxy.get()
                            on:input=move |ev| proxy.set(event_target_value(&ev))
                        />
                    </div>
                    {text_input("ul-timeout", "Timeout (s)", timeout_s, "number", "fetch-timeout")}
                </fieldset>
                <div class="ul-field ul-check ul-remember">
                    <label>
                        <input
                            type="checkbox"
                            data-testid="fetch-remember"
                            prop:checked=move || remember.get()
                            on:change=move |ev| remember.set(event_target_checked(&ev))
                        />
                        " Remember these settings (carrier, proxy, timeout) in this browser; credentials are never stored"
                    </label>
                </div>
                <div class="ul-live-actions">
                    <button
                        class="ul-button ul-primary"
                        type="submit"
                        data-testid="fetch-submit"
                        disabled=move || progress.get().is_some()
                    >
                        "Fetch usage"
                    </button>
                    <Show when=move || progress.get().is_some()>
                        <button
                            class="ul-button"
                            type="button"
                            data-testid="fetch-cancel"
                            on:click=move |_| cancel.with_value(|c| c.cancel())
                        >
                            "Cancel"
                        </button>
                        <span class="ul-progress" role="status">
                            <span class="ul-spinner" aria-hidden="true"></span>
                            {move || {
                                progress
                                    .get()
                                    .map(|p| {
                                        if p.pages > 0 {
                                            format!("{} · {} page(s) read", p.step, p.pages)
                                        } else {
                                            p.step
                                        }
                                    })
                            }}
                        </span>
                    </Show>
                </div>
                {move || {
                    form_error
                        .get()
                        .map(|e| {
                            view! {
                                <p class="ul-error" role="alert" data-testid="error">
                                    {e}
                                </p>
                            }
                        })
                }}
            </form>
        </section>
    }
}

/// The Control Center endpoint choice: usage in zone per billing cycle (`usageInZone`), or the
/// current cycle to date (`ctdUsages`).
pub fn control_center_endpoint(
    id: &'static str,
    cycle_to_date: RwSignal<bool>,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <div class="ul-field">
            <label for=id>"Control Center usage"</label>
            <select
                id=id
                data-testid=testid
                prop:value=move || if cycle_to_date.get() { "ctd" } else { "zone" }
                on:change=move |ev| cycle_to_date.set(event_target_value(&ev) == "ctd")
            >
                <option value="zone">"Usage in zone per cycle"</option>
                <option value="ctd">"Cycle to date"</option>
            </select>
        </div>
    }
}

/// The day of the month a billing cycle starts, as typed.
pub fn parse_billing_day(text: &str) -> Result<u32, String> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|d| (1..=31).contains(d))
        .ok_or_else(|| format!("the billing day is a day of the month, 1 to 31, not {text:?}"))
}
