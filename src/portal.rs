//! Portal mode's controller: the SIMs a host named, the period the customer chose, and each
//! SIM's fetch from request to what the customer reads. The decisions (which queries, how an
//! outcome lands, what the host hears) are plain methods over signals, tested natively under
//! an `Owner`; [`PortalController::refresh`] only adds the browser's I/O around them.

use std::collections::HashMap;

use leptos::prelude::*;
use serde::Serialize;
use usagelens_core::fetch::{
    FetchConfig, FetchError, FetchErrorKind, FetchJob, FetchOutcome, ProxyConfig, Token, UsageQuery,
};
use usagelens_core::portal::{
    customer_message, error_kind_name, period_query, Period, PeriodChoice,
};
use usagelens_core::{Carrier, Warning};

use crate::state::{AppState, SourceOrigin};
use crate::viewer_config::{credential_values_from_js, PortalSubject, ProxySetting, ViewerConfig};
use usagelens_core::carriers::CredentialValues;

/// Where one SIM stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimStatus {
    /// Nothing asked yet.
    Idle,
    /// A fetch is under way; the text says which step.
    Loading(String),
    Ready,
    /// The fetch failed (`partial`: some records came before the error and are shown).
    Failed {
        message: String,
        partial: bool,
    },
}

/// One SIM of the portal: who it is, its records (its own state, so the chart and the
/// summary read only its records), where its fetch stands and when it last succeeded.
#[derive(Clone, Copy)]
pub struct SimSlot {
    pub index: usize,
    pub subject: StoredValue<PortalSubject>,
    pub state: AppState,
    pub status: RwSignal<SimStatus>,
    /// Milliseconds since 1970 of the last fetch that answered.
    pub updated_ms: RwSignal<Option<f64>>,
}

impl SimSlot {
    /// "Tracker 3", or the carrier and identifier when the host gave no label.
    pub fn title(&self) -> String {
        self.subject.with_value(|s| {
            s.label
                .clone()
                .unwrap_or_else(|| format!("SIM {}", s.subject.id))
        })
    }
}

/// What the host hears about one SIM (`usagelens:loaded` and `usagelens:error` details).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimEvent {
    pub source: String,
    pub carrier: Option<&'static str>,
    pub subject: String,
    pub records: usize,
    pub total_records: usize,
    /// The period fetched, first and last day.
    pub period: (String, String),
    /// What went wrong, in full (carrier codes, HTTP status); `null` for `loaded`.
    pub error: Option<String>,
    /// `network`, `auth`, `not-found`, … or `credentials` when `getCredentials` failed.
    pub kind: Option<&'static str>,
    pub http_status: Option<u16>,
    pub carrier_code: Option<String>,
    /// What the customer was shown.
    pub customer_message: Option<String>,
}

impl SimEvent {
    pub fn is_error(&self) -> bool {
        self.error.is_some()
    }
}

/// The message shown when the host's `getCredentials` fails for a carrier.
pub const CREDENTIALS_FAILED: &str =
    "We could not sign in to your carrier to read this SIM's usage. Please contact support.";

#[derive(Clone, Copy)]
pub struct PortalController {
    pub slots: RwSignal<Vec<SimSlot>>,
    pub choice: RwSignal<PeriodChoice>,
    /// The period shown, once the choice resolved.
    pub period: RwSignal<Option<Period>>,
    /// Why a custom period was refused.
    pub period_error: RwSignal<Option<String>>,
    pub billing_day: RwSignal<u32>,
    /// Bumped by each refresh: answers of an earlier one are dropped.
    generation: StoredValue<u64>,
    /// Tokens by carrier and scope (Vodafone's are per country), reused by the next refresh.
    tokens: StoredValue<HashMap<(Carrier, String), Token>>,
    cancels: StoredValue<Vec<crate::fetch::CancelFlag>>,
}

impl PortalController {
    pub fn new(subjects: Vec<PortalSubject>, billing_day: u32) -> PortalController {
        let c = PortalController {
            slots: RwSignal::new(Vec::new()),
            choice: RwSignal::new(PeriodChoice::This),
            period: RwSignal::new(None),
            period_error: RwSignal::new(None),
            billing_day: RwSignal::new(billing_day),
            generation: StoredValue::new(0),
            tokens: StoredValue::new(HashMap::new()),
            cancels: StoredValue::new(Vec::new()),
        };
        c.set_subjects(subjects);
        c
    }

    /// Replaces the SIMs (a host's `update({subjects})`); each gets an empty state.
    pub fn set_subjects(&self, subjects: Vec<PortalSubject>) {
        let slots = subjects
            .into_iter()
            .enumerate()
            .map(|(index, subject)| SimSlot {
                index,
                subject: StoredValue::new(subject),
                state: AppState::new(),
                status: RwSignal::new(SimStatus::Idle),
                updated_ms: RwSignal::new(None),
            })
            .collect();
        self.slots.set(slots);
    }

    /// Resolves `choice` at `now` (Unix seconds); returns the period to fetch, or `None` (and
    /// the reason in `period_error`) when a custom period is not valid.
    pub fn choose(&self, choice: PeriodChoice, now: i64) -> Option<Period> {
        self.choice.set(choice);
        match choice.resolve(now, self.billing_day.get_untracked()) {
            Ok(p) => {
                self.period_error.set(None);
                self.period.set(Some(p));
                for slot in self.slots.get_untracked() {
                    slot.state.filter.update(|f| {
                        f.from = Some(p.start);
                        f.to = Some(p.end);
                    });
                }
                Some(p)
            }
            Err(e) => {
                self.period_error.set(Some(e));
                None
            }
        }
    }

    /// The query for each SIM over `period` at `now`.
    pub fn queries(&self, period: Period, now: i64) -> Vec<(usize, Result<UsageQuery, String>)> {
        let current = period.contains(now);
        self.slots
            .get_untracked()
            .iter()
            .map(|slot| {
                let query = slot
                    .subject
                    .with_value(|s| period_query(&s.subject, s.carrier, period, now, current));
                (slot.index, query)
            })
            .collect()
    }

    /// Starts a new refresh: earlier fetches are cancelled and their answers will be dropped.
    /// Returns the refresh's generation.
    pub fn begin(&self) -> u64 {
        self.cancels.update_value(|flags| {
            for f in flags.drain(..) {
                f.cancel();
            }
        });
        let generation = self.generation.get_value() + 1;
        self.generation.set_value(generation);
        for slot in self.slots.get_untracked() {
            slot.status
                .set(SimStatus::Loading("asking your carrier".into()));
        }
        generation
    }

    pub fn is_current(&self, generation: u64) -> bool {
        self.generation.get_value() == generation
    }

    fn slot(&self, index: usize) -> Option<SimSlot> {
        self.slots
            .with_untracked(|s| s.iter().find(|x| x.index == index).copied())
    }

    fn event(&self, slot: &SimSlot, records: usize, period: Period) -> SimEvent {
        let (carrier, subject) = slot
            .subject
            .with_value(|s| (s.carrier, s.subject.id.clone()));
        SimEvent {
            source: slot.title(),
            carrier: Some(carrier.as_str()),
            subject,
            records,
            total_records: slot.state.merged_with(|s| s.len()),
            period: period.days(),
            error: None,
            kind: None,
            http_status: None,
            carrier_code: None,
            customer_message: None,
        }
    }

    /// Lands a finished fetch of SIM `index`: its records replace what it showed (also the
    /// records of a failed fetch that got some), its status says what the customer reads.
    /// Returns what the host hears, or `None` for an answer of an earlier refresh.
    pub fn apply_outcome(
        &self,
        generation: u64,
        index: usize,
        outcome: FetchOutcome,
        period: Period,
        now_ms: f64,
    ) -> Option<SimEvent> {
        if !self.is_current(generation) {
            return None;
        }
        let slot = self.slot(index)?;
        if let Some(t) = outcome.token.clone() {
            let (carrier, scope) = slot.subject.with_value(|s| (s.carrier, token_scope(s)));
            self.tokens.update_value(|m| {
                m.insert((carrier, scope), t);
            });
        }
        let records = outcome.set.len();
        let carrier = slot.subject.with_value(|s| s.carrier);
        // A failed fetch with nothing read leaves what the SIM showed before on screen.
        if outcome.error.is_none() || records > 0 {
            let mut warnings = outcome.warnings;
            warnings.extend(outcome.notices.into_iter().map(Warning::new));
            slot.state.clear();
            slot.state.add_set(
                &slot.title(),
                SourceOrigin::Live,
                outcome.set,
                Some(carrier),
                warnings,
                outcome.error.as_ref().map(|e| e.to_string()),
            );
            slot.state.filter.update(|f| {
                f.from = Some(period.start);
                f.to = Some(period.end);
            });
        }
        let mut event = self.event(&slot, records, period);
        match outcome.error {
            None => {
                slot.status.set(SimStatus::Ready);
                slot.updated_ms.set(Some(now_ms));
            }
            Some(e) => {
                let message = customer_message(&e).to_owned();
                if records > 0 {
                    slot.updated_ms.set(Some(now_ms));
                }
                slot.status.set(SimStatus::Failed {
                    message: message.clone(),
                    partial: records > 0,
                });
                event.error = Some(e.to_string());
                event.kind = Some(error_kind_name(e.kind));
                event.http_status = e.http_status;
                event.carrier_code = e.carrier_code.clone();
                event.customer_message = Some(message);
            }
        }
        Some(event)
    }

    /// Marks every SIM of `carrier` failed because the host gave no credentials; returns the
    /// events for the host.
    pub fn credentials_failed(
        &self,
        generation: u64,
        carrier: Carrier,
        detail: &str,
        period: Period,
    ) -> Vec<SimEvent> {
        if !self.is_current(generation) {
            return Vec::new();
        }
        self.slots
            .get_untracked()
            .into_iter()
            .filter(|s| s.subject.with_value(|x| x.carrier == carrier))
            .map(|slot| {
                slot.status.set(SimStatus::Failed {
                    message: CREDENTIALS_FAILED.to_owned(),
                    partial: false,
                });
                let mut event = self.event(&slot, 0, period);
                event.error = Some(format!(
                    "getCredentials({:?}) failed: {detail}",
                    carrier.as_str()
                ));
                event.kind = Some("credentials");
                event.customer_message = Some(CREDENTIALS_FAILED.to_owned());
                event
            })
            .collect()
    }

    /// The newest update time over all SIMs.
    pub fn last_update_ms(&self) -> Option<f64> {
        self.slots
            .with(|s| s.iter().filter_map(|x| x.updated_ms.get()).reduce(f64::max))
    }

    pub fn loading(&self) -> bool {
        self.slots.with(|s| {
            s.iter()
                .any(|x| matches!(x.status.get(), SimStatus::Loading(_)))
        })
    }

    pub fn cached_token(&self, subject: &PortalSubject) -> Option<Token> {
        self.tokens
            .with_value(|m| m.get(&(subject.carrier, token_scope(subject))).cloned())
    }
}

/// Tokens are shared by the SIMs of one carrier's token scope (Vodafone's are per country).
fn token_scope(subject: &PortalSubject) -> String {
    subject.carrier.spec().token_scope(&subject.subject)
}

/// How requests reach the carriers: the host's proxy setting, or this page's origin plus
/// `/<carrier>` (deploy/nginx's layout).
pub fn proxy_config(setting: Option<&ProxySetting>, page_origin: &str) -> ProxyConfig {
    let (mode, url) = match setting {
        Some(p) => (p.mode.as_str(), p.url.as_str()),
        None => ("carrier", page_origin),
    };
    let base = url.trim().trim_end_matches('/');
    match mode {
        "prefix" => ProxyConfig::Prefix(format!("{base}/")),
        "template" => ProxyConfig::Template(url.trim().to_owned()),
        _ => ProxyConfig::per_carrier(base),
    }
}

impl PortalController {
    /// Fetches every SIM for the chosen period: asks the host for each carrier's credentials
    /// once (or takes those configured), then runs the SIMs' jobs side by side. `emit` hears
    /// each SIM's result.
    pub fn refresh(
        &self,
        config: ViewerConfig,
        callback: Option<js_sys::Function>,
        emit: impl Fn(&SimEvent) + Clone + 'static,
    ) {
        let Some(period) = self.period.get_untracked() else {
            return;
        };
        let now_s = (js_sys::Date::now() / 1000.0) as i64;
        let generation = self.begin();
        let queries = self.queries(period, now_s);
        let this = *self;
        let fetch = FetchConfig {
            proxy: proxy_config(config.proxy.as_ref(), &page_origin()),
            today: Some(chrono::Utc::now().date_naive()),
            ..FetchConfig::default()
        };
        let mut carriers: Vec<Carrier> = self.slots.with_untracked(|s| {
            s.iter()
                .map(|x| x.subject.with_value(|p| p.carrier))
                .collect()
        });
        carriers.sort_by_key(|c| c.as_str());
        carriers.dedup();
        leptos::task::spawn_local(async move {
            for carrier in carriers {
                let credentials = match credentials_for(&config, callback.as_ref(), carrier).await {
                    Ok(c) => c,
                    Err(detail) => {
                        for e in this.credentials_failed(generation, carrier, &detail, period) {
                            emit(&e);
                        }
                        continue;
                    }
                };
                for (index, query) in queries.iter().cloned() {
                    let Some(slot) = this.slot(index) else {
                        continue;
                    };
                    let subject = slot.subject.get_value();
                    if subject.carrier != carrier {
                        continue;
                    }
                    let job = query
                        .map_err(|m| FetchError::new(FetchErrorKind::InvalidInput, carrier, m))
                        .and_then(|query| {
                            FetchJob::new(
                                query,
                                carrier.spec().credentials(&credentials),
                                fetch.clone(),
                                this.cached_token(&subject),
                            )
                        });
                    let flag = crate::fetch::CancelFlag::default();
                    this.cancels.update_value(|f| f.push(flag.clone()));
                    let emit = emit.clone();
                    leptos::task::spawn_local(async move {
                        let outcome = match job {
                            Ok(job) => {
                                let status = slot.status;
                                crate::fetch::run_job(job, flag, move |p| {
                                    if this.is_current(generation) {
                                        status.set(SimStatus::Loading(p.step));
                                    }
                                })
                                .await
                            }
                            Err(error) => FetchOutcome {
                                error: Some(error),
                                ..FetchOutcome::default()
                            },
                        };
                        if let Some(e) = this.apply_outcome(
                            generation,
                            index,
                            outcome,
                            period,
                            js_sys::Date::now(),
                        ) {
                            emit(&e);
                        }
                    });
                }
            }
        });
    }
}

/// The credentials for `carrier`: those the host configured, else what `getCredentials`
/// answers (a value or a promise).
async fn credentials_for(
    config: &ViewerConfig,
    callback: Option<&js_sys::Function>,
    carrier: Carrier,
) -> Result<CredentialValues, String> {
    if let Some((_, preset)) = config.credentials.iter().find(|(c, _)| *c == carrier) {
        return Ok(preset.clone());
    }
    let function = callback.ok_or("no getCredentials and no credentials configured")?;
    let promise = function
        .call1(&wasm_bindgen::JsValue::NULL, &carrier.as_str().into())
        .map(|v| js_sys::Promise::resolve(&v))
        .map_err(js_error_text)?;
    let value = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(js_error_text)?;
    if !value.is_object() {
        return Err("it answered no object".into());
    }
    Ok(credential_values_from_js(&value))
}

fn js_error_text(e: wasm_bindgen::JsValue) -> String {
    use wasm_bindgen::JsCast;
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "it threw".into())
}

fn page_origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use usagelens_core::fetch::{FetchError, FetchErrorKind};
    use usagelens_core::portal::{billing_period, PlanAllowances};
    use usagelens_core::{parse, ParseOptions, Subject, SubjectKind, UsageSet};

    const TS: &str = include_str!("../crates/core/tests/fixtures/thingspace-doc-device.json");

    fn subjects() -> Vec<PortalSubject> {
        vec![
            PortalSubject {
                carrier: Carrier::Thingspace,
                subject: Subject::new(SubjectKind::Imei, "990013907835573"),
                label: Some("Van 3".into()),
                plan: PlanAllowances::default(),
            },
            PortalSubject {
                carrier: Carrier::ControlCenter,
                subject: Subject::new(SubjectKind::Iccid, "8988216716970004973"),
                label: None,
                plan: PlanAllowances::default(),
            },
        ]
    }

    fn day(d: &str) -> i64 {
        usagelens_core::units::parse_day(d).unwrap()
    }

    #[test]
    fn each_sim_gets_its_query_and_its_own_records() {
        let owner = Owner::new();
        owner.set();
        let c = PortalController::new(subjects(), 1);
        let now = day("2026-11-20");
        let period = c.choose(PeriodChoice::This, now).unwrap();
        assert_eq!(period, billing_period(now, 1));
        let queries = c.queries(period, now);
        assert_eq!(queries.len(), 2);
        assert_eq!(
            queries[0].1.as_ref().unwrap().carrier(),
            Carrier::Thingspace
        );
        assert!(matches!(
            queries[1].1.as_ref().unwrap(),
            UsageQuery::ControlCenter {
                cycle_start: None,
                ..
            }
        ));
        // A custom period that ends before it starts is refused and keeps the period shown.
        assert_eq!(
            c.choose(
                PeriodChoice::Custom {
                    first_day: day("2026-10-05"),
                    last_day: day("2026-10-01")
                },
                now
            ),
            None
        );
        assert!(c.period_error.get_untracked().is_some());
        assert_eq!(c.period.get_untracked(), Some(period));
        assert_eq!(c.slots.get_untracked()[0].title(), "Van 3");
        assert_eq!(
            c.slots.get_untracked()[1].title(),
            "SIM 8988216716970004973"
        );
    }

    #[test]
    fn outcomes_land_in_their_sim_and_errors_speak_to_the_customer() {
        let owner = Owner::new();
        owner.set();
        let c = PortalController::new(subjects(), 1);
        let period = Period {
            start: 0,
            end: i64::MAX / 2,
        };
        let generation = c.begin();
        assert!(c.loading());
        let mut set = UsageSet::new();
        parse(TS, &ParseOptions::default(), &mut set).unwrap();
        let n = set.len();
        let ok = FetchOutcome {
            set,
            ..FetchOutcome::default()
        };
        let event = c.apply_outcome(generation, 0, ok, period, 1000.0).unwrap();
        assert!(!event.is_error());
        assert_eq!(
            (event.records, event.carrier, event.source.as_str()),
            (n, Some("thingspace"), "Van 3")
        );
        let slots = c.slots.get_untracked();
        assert_eq!(slots[0].status.get_untracked(), SimStatus::Ready);
        assert_eq!(slots[0].state.merged_with(|s| s.len()), n);
        assert_eq!(
            slots[1].state.merged_with(|s| s.len()),
            0,
            "the other SIM holds none of them"
        );
        let failed = FetchOutcome {
            error: Some(FetchError {
                kind: FetchErrorKind::Network,
                carrier: Carrier::ControlCenter,
                http_status: None,
                carrier_code: None,
                message: "the proxy did not answer".into(),
            }),
            ..FetchOutcome::default()
        };
        let event = c
            .apply_outcome(generation, 1, failed, period, 2000.0)
            .unwrap();
        assert_eq!(event.kind, Some("network"));
        assert!(event
            .error
            .as_deref()
            .unwrap()
            .contains("the proxy did not answer"));
        assert_eq!(
            slots[1].status.get_untracked(),
            SimStatus::Failed {
                message: "We could not reach your carrier; try again in a minute.".into(),
                partial: false
            }
        );
        assert_eq!(
            c.last_update_ms(),
            Some(1000.0),
            "a failure is not an update"
        );
        assert!(!c.loading());
        // A new refresh drops what the old one still brings.
        let next = c.begin();
        assert!(c
            .apply_outcome(generation, 0, FetchOutcome::default(), period, 3000.0)
            .is_none());
        // A failure with nothing read keeps the records shown before.
        let failed = FetchOutcome {
            error: Some(FetchError::new(
                FetchErrorKind::Server,
                Carrier::Thingspace,
                "down",
            )),
            ..FetchOutcome::default()
        };
        c.apply_outcome(next, 0, failed, period, 4000.0).unwrap();
        assert_eq!(slots[0].state.merged_with(|s| s.len()), n);
    }

    #[test]
    fn a_carrier_without_credentials_fails_only_its_sims() {
        let owner = Owner::new();
        owner.set();
        let c = PortalController::new(subjects(), 1);
        let generation = c.begin();
        let events = c.credentials_failed(
            generation,
            Carrier::ControlCenter,
            "host said no",
            Period {
                start: 0,
                end: 86_400,
            },
        );
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, Some("credentials"));
        assert!(events[0].error.as_deref().unwrap().contains("host said no"));
        let slots = c.slots.get_untracked();
        assert!(matches!(
            slots[0].status.get_untracked(),
            SimStatus::Loading(_)
        ));
        assert!(matches!(
            slots[1].status.get_untracked(),
            SimStatus::Failed { .. }
        ));
    }

    #[test]
    fn the_proxy_follows_the_hosts_setting() {
        assert_eq!(
            proxy_config(None, "https://portal.example"),
            ProxyConfig::PerCarrierBase(
                Carrier::ALL
                    .iter()
                    .map(|c| (
                        *c,
                        format!("https://portal.example/{}", c.spec().proxy_prefix())
                    ))
                    .collect()
            )
        );
        let prefix = ProxySetting {
            mode: "prefix".into(),
            url: "https://p.example/go/".into(),
        };
        assert_eq!(
            proxy_config(Some(&prefix), ""),
            ProxyConfig::Prefix("https://p.example/go/".into())
        );
    }
}
