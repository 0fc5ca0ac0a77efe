use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use usagelens_core::fetch::{
    Credentials, DeviceRef, FetchConfig, FetchErrorKind, FetchJob, ProxyConfig, RateLimiter, Token,
    UsageQuery,
};
use usagelens_core::fleet::{
    parse_subject_list, Fetched, FleetEntry, FleetProgress, FleetRun, FleetStep, FlushPacer,
};
use usagelens_core::sorting::sort_by_shared;
use usagelens_core::units::parse_day;
use usagelens_core::{Carrier, Subject, UsageSet};

use super::export_buttons::download;
use super::live_fetch::{control_center_endpoint, parse_billing_day, prefix};
use crate::fetch::{now_ms, run_device_list, run_job_limited, sleep, CancelFlag};
use crate::remember::{FleetSettings, FLEET_KEY};
use crate::state::{AppState, SourceOrigin};
use usagelens_core::fetch::devices::{
    fleet_list_csv, DeviceListJob, DeviceListQuery, CONTROL_CENTER_MAX_PAGE_SIZE,
};

/// Results reach the view at most this often, so thousands of arrivals cost a few re-draws.
const FLUSH_MS: u64 = 500;
/// Share of the main thread the view may take following a running fetch (see [`FlushPacer`]):
/// at 3 % a 50 ms redraw comes every 1.7 s. 10 % kept the thread busy a fifth of the time on
/// 1000 subjects; 3 % took a quarter of that off (README "Performance").
const FLUSH_SHARE: f64 = 0.03;
/// How often the progress line follows while subjects finish.
const PROGRESS_MS: u64 = 200;

/// One carrier's credentials in the fleet form.
#[derive(Clone, Copy)]
struct CarrierSecrets {
    user: RwSignal<String>,
    secret: RwSignal<String>,
    key: RwSignal<String>,
    key_secret: RwSignal<String>,
    rate: RwSignal<String>,
}

impl CarrierSecrets {
    fn new() -> CarrierSecrets {
        CarrierSecrets {
            user: RwSignal::new(String::new()),
            secret: RwSignal::new(String::new()),
            key: RwSignal::new(String::new()),
            key_secret: RwSignal::new(String::new()),
            rate: RwSignal::new(String::new()),
        }
    }

    fn credentials(&self, carrier: Carrier) -> Credentials {
        let (user, secret) = (self.user.get_untracked(), self.secret.get_untracked());
        match carrier {
            Carrier::VodafoneVrs => Credentials::VodafoneClient {
                client_id: user,
                client_secret: secret,
            },
            Carrier::Telecomx => Credentials::TelecomxBasic {
                user,
                password: secret,
            },
            Carrier::Thingspace => Credentials::Thingspace {
                key: self.key.get_untracked(),
                secret: self.key_secret.get_untracked(),
                username: user,
                password: secret,
            },
            Carrier::ControlCenter => Credentials::ControlCenter {
                username: user,
                api_key: secret,
            },
        }
    }
}

/// How to fetch, as the form says: read at the start and again for each retry, so mended
/// credentials, a new limit, concurrency or proxy apply to the subjects fetched again.
struct FetchSettings {
    concurrency: usize,
    limits: Vec<(Carrier, Option<u32>)>,
    credentials: HashMap<Carrier, Credentials>,
    config: FetchConfig,
}

impl FetchSettings {
    /// Applies the concurrency and rate limits to a run, the parts that may change while it
    /// runs.
    fn pace(&self, ctx: &FleetContext) {
        ctx.run.borrow_mut().set_concurrency(self.concurrency);
        let mut limiter = ctx.limiter.borrow_mut();
        for (c, limit) in &self.limits {
            limiter.set_limit(*c, *limit);
        }
    }
}

/// Everything the workers share during one run.
struct FleetContext {
    run: RefCell<FleetRun>,
    credentials: RefCell<HashMap<Carrier, Credentials>>,
    config: RefCell<FetchConfig>,
    earliest: i64,
    latest: i64,
    /// Control Center: `Some(billing day)` fetches the cycle to date instead of usage in zone.
    cc_billing_day: Option<u32>,
    limiter: Rc<RefCell<RateLimiter>>,
    tokens: RefCell<HashMap<(Carrier, String), Token>>,
    session: RefCell<Option<Token>>,
    cancel: RefCell<CancelFlag>,
    batch: RefCell<UsageSet>,
    /// Subjects in `batch` fetched again after a partial fetch: their earlier records go.
    replacing: RefCell<Vec<Subject>>,
    pacer: RefCell<FlushPacer>,
    last_progress: RefCell<u64>,
    /// Worker tasks alive; the last one out ends the run.
    workers: Cell<usize>,
    source: u32,
}

fn query_for(
    entry: &FleetEntry,
    earliest: i64,
    latest: i64,
    cc_billing_day: Option<u32>,
) -> UsageQuery {
    let month = |t: i64| {
        use chrono::Datelike;
        let d = chrono::DateTime::from_timestamp(t, 0).unwrap_or_default();
        (d.year(), d.month())
    };
    match entry.carrier {
        Carrier::VodafoneVrs => UsageQuery::Vodafone {
            imsi: entry.subject.id.clone(),
        },
        Carrier::Telecomx => UsageQuery::Telecomx {
            account: entry.subject.id.clone(),
            from: month(earliest),
            to: month(latest),
            csv: false,
        },
        Carrier::Thingspace => UsageQuery::Thingspace {
            device: DeviceRef::Id(entry.subject.clone()),
            earliest,
            latest,
        },
        Carrier::ControlCenter if cc_billing_day.is_some() => UsageQuery::ControlCenterCtd {
            iccid: entry.subject.id.clone(),
            billing_day: cc_billing_day.unwrap_or(1),
        },
        Carrier::ControlCenter => UsageQuery::ControlCenter {
            iccid: entry.subject.id.clone(),
            cycle_start: None,
            rate_plan: None,
            zone: None,
        },
    }
}

/// Which credentials a subject is fetched with, beyond its carrier: Vodafone issues tokens per
/// country (the IMSI's first three digits), the others one for the account.
fn credential_scope(entry: &FleetEntry) -> String {
    if entry.carrier == Carrier::VodafoneVrs {
        entry.subject.id.chars().take(3).collect()
    } else {
        String::new()
    }
}

/// Fetches one subject and records how it ended in the run.
async fn fetch_one(ctx: &FleetContext, index: usize) {
    let entry = ctx.run.borrow().entries[index].clone();
    let country = credential_scope(&entry);
    let cached = ctx
        .tokens
        .borrow()
        .get(&(entry.carrier, country.clone()))
        .cloned();
    let Some(credentials) = ctx.credentials.borrow().get(&entry.carrier).cloned() else {
        let message = format!("no credentials for {}", entry.carrier.label());
        ctx.run.borrow_mut().finish(index, 0, Some(message));
        return;
    };
    let query = query_for(&entry, ctx.earliest, ctx.latest, ctx.cc_billing_day);
    let config = ctx.config.borrow().clone();
    let job = match FetchJob::new(query, credentials, config, cached) {
        Ok(job) => job.with_session(ctx.session.borrow().clone(), now_ms()),
        Err(e) => {
            ctx.run.borrow_mut().finish(index, 0, Some(e.message));
            return;
        }
    };
    let cancel = ctx.cancel.borrow().clone();
    let outcome = run_job_limited(job, cancel, |_| {}, Some(ctx.limiter.clone())).await;
    if let Some(t) = outcome.token.clone() {
        ctx.tokens
            .borrow_mut()
            .insert((entry.carrier, country.clone()), t);
    }
    if outcome.session.is_some() {
        *ctx.session.borrow_mut() = outcome.session.clone();
    }
    let records = outcome.set.len();
    let refused = outcome
        .error
        .as_ref()
        .is_some_and(|e| e.kind == FetchErrorKind::Auth);
    let error = outcome.error.map(|e| e.to_string());
    let fetched = ctx.run.borrow_mut().finish(index, records, error);
    if refused {
        let message = format!(
            "not sent: {} refused the credentials for {} (mend them, then Retry failed)",
            entry.carrier.label(),
            entry.subject
        );
        ctx.run.borrow_mut().fail_waiting(
            |e| e.carrier == entry.carrier && credential_scope(e) == country,
            &message,
        );
    }
    match fetched {
        Fetched::Add => ctx.batch.borrow_mut().extend_from(&outcome.set),
        Fetched::Replace => {
            ctx.replacing.borrow_mut().push(entry.subject);
            ctx.batch.borrow_mut().extend_from(&outcome.set);
        }
        Fetched::Discard => {}
    }
}

/// Moves the fetched batch into the view (paced unless `force`).
fn flush(ctx: &Rc<FleetContext>, state: AppState, force: bool) {
    let now = now_ms();
    if !force && !ctx.pacer.borrow().due(now) {
        return;
    }
    ctx.pacer.borrow_mut().moved(now, 0);
    let batch = std::mem::take(&mut *ctx.batch.borrow_mut());
    let replacing = std::mem::take(&mut *ctx.replacing.borrow_mut());
    let p = ctx.run.borrow().progress(now);
    let error = (p.failed + p.partial > 0).then(|| {
        format!(
            "{} subject(s) failed and {} came back partial: see the fleet panel",
            p.failed, p.partial
        )
    });
    if !state.append_to_source(ctx.source, batch, &replacing, error) {
        // The fleet's source was removed (or everything cleared): its fetch stops with it.
        ctx.run.borrow_mut().cancel();
        ctx.cancel.borrow().cancel();
        return;
    }
    // The view follows in microtasks; a zero timer runs once they are all done (and after any
    // task already queued), so it measures what this move cost the thread, or a little more.
    let ctx = ctx.clone();
    spawn_local(async move {
        sleep(0).await;
        ctx.pacer
            .borrow_mut()
            .moved(now, now_ms().saturating_sub(now));
    });
}

async fn worker(
    ctx: Rc<FleetContext>,
    state: AppState,
    progress: RwSignal<FleetProgress>,
    failures: RwSignal<Vec<FailureGroup>>,
) {
    loop {
        let step = ctx.run.borrow_mut().next(now_ms());
        match step {
            FleetStep::Start(index) => {
                fetch_one(&ctx, index).await;
                // The progress line is redrawn a few times a second, not per subject: at 8
                // subjects in flight and 50 ms each that is 160 redraws a second otherwise, on
                // the thread that also handles the answers.
                let now = now_ms();
                if now >= *ctx.last_progress.borrow() + PROGRESS_MS {
                    *ctx.last_progress.borrow_mut() = now;
                    show_progress(&ctx.run.borrow(), progress, failures);
                }
                flush(&ctx, state, false);
            }
            FleetStep::Idle => sleep(100).await,
            FleetStep::Finished => break,
        }
    }
}

/// Subjects named under each reason in the panel; the download has all of them.
const NAMES_PER_REASON: usize = 20;

/// Failed and partial subjects sharing a reason, as the panel shows them.
#[derive(Clone, Debug, PartialEq)]
struct FailureGroup {
    why: String,
    count: usize,
    who: Vec<String>,
}

/// Brings the progress line and the failures list up to date with the run.
fn show_progress(
    run: &FleetRun,
    progress: RwSignal<FleetProgress>,
    failures: RwSignal<Vec<FailureGroup>>,
) {
    let p = run.progress(now_ms());
    let counted = |groups: &Vec<FailureGroup>| groups.iter().map(|g| g.count).sum::<usize>();
    // Grouped again only when subjects failed since: a tick of a clean run costs nothing.
    if failures.with_untracked(counted) != p.failed + p.partial {
        let groups: Vec<FailureGroup> = run
            .problem_groups(NAMES_PER_REASON)
            .into_iter()
            .map(|g| FailureGroup {
                why: g.message.to_owned(),
                count: g.count,
                who: g
                    .first
                    .iter()
                    .map(|p| {
                        let who = format!("{} {}", p.entry.carrier.label(), p.entry.subject);
                        match p.kept {
                            Some(n) => format!(
                                "{who} (partial: {n} record{} kept)",
                                if n == 1 { "" } else { "s" }
                            ),
                            None => who,
                        }
                    })
                    .collect(),
            })
            .collect();
        failures.set(groups);
    }
    progress.set(p);
}

/// Which carriers answered 429 without a limit set, and the pace they now get.
fn learned_limits_text(limiter: &RateLimiter) -> String {
    Carrier::ALL
        .iter()
        .filter_map(|c| {
            limiter.learned_limit(*c).map(|n| {
                format!(
                    "{} answered 429 (too many requests): now at most {n} request{} a second to it.",
                    c.label(),
                    if n == 1 { "" } else { "s" }
                )
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn progress_text(p: &FleetProgress) -> String {
    let eta = match p.eta_ms {
        Some(0) | None => String::new(),
        Some(ms) if ms < 60_000 => format!(", about {} s left", ms.div_ceil(1000)),
        Some(ms) => format!(", about {} min left", ms.div_ceil(60_000)),
    };
    format!(
        "{} of {} done ({} partial), {} failed, {} running, {} waiting; {} records{eta}",
        p.done, p.total, p.partial, p.failed, p.running, p.remaining, p.records
    )
}

/// Fetches many subjects (pasted or imported as CSV) with bounded concurrency and per-carrier
/// rate limits; results stream into the dashboard as one growing source.
#[component]
pub fn FleetFetch() -> impl IntoView {
    let state = expect_context::<AppState>();
    let list = RwSignal::new(String::new());
    let default_carrier = RwSignal::new(String::new());
    let concurrency = RwSignal::new("8".to_owned());
    let proxy = RwSignal::new(
        web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default(),
    );
    let today = chrono::Utc::now().date_naive();
    let from = RwSignal::new((today - chrono::Duration::days(29)).to_string());
    let to = RwSignal::new(today.to_string());
    let secrets: HashMap<Carrier, CarrierSecrets> = Carrier::ALL
        .iter()
        .map(|c| (*c, CarrierSecrets::new()))
        .collect();
    let secrets = StoredValue::new(secrets);
    let form_error = RwSignal::new(None::<String>);
    let problems = RwSignal::new(Vec::<String>::new());
    let progress = RwSignal::new(FleetProgress::default());
    let failures = RwSignal::new(Vec::<FailureGroup>::new());
    let context: StoredValue<Option<Rc<FleetContext>>, LocalStorage> = StoredValue::new_local(None);
    let running = RwSignal::new(false);
    let paused = RwSignal::new(false);
    let cc_cycle_to_date = RwSignal::new(false);
    let cc_billing_day = RwSignal::new("1".to_owned());
    let account = AccountLoader::new(today);
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
        let settings = FleetSettings {
            default_carrier: default_carrier.get(),
            proxy_url: proxy.get(),
            concurrency: concurrency.get(),
            rate_limits: Carrier::ALL
                .iter()
                .map(|c| {
                    (
                        c.as_str().to_owned(),
                        secrets.with_value(|m| m[c].rate.get()),
                    )
                })
                .filter(|(_, rate)| !rate.is_empty())
                .collect(),
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
    let carriers_in_list = move || {
        parsed.with(|p| {
            let mut c: Vec<Carrier> = p
                .as_ref()
                .map(|l| l.entries.iter().map(|e| e.carrier).collect())
                .unwrap_or_default();
            // The account loader's carrier needs its credentials too.
            if let Some(loading) = account.carrier.get() {
                c.push(loading);
            }
            sort_by_shared(&mut c, Ord::cmp);
            c.dedup();
            c
        })
    };
    Effect::new(move |_| {
        problems.set(parsed.with(|p| {
            match p {
                Ok(l) => l
                    .problems
                    .iter()
                    .map(|p| format!("line {}: {}", p.line, p.message))
                    .collect(),
                Err(e) if !e.is_empty() => vec![e.clone()],
                Err(_) => Vec::new(),
            }
        }))
    });

    // Starts workers until there are as many as the run's concurrency (which can grow while it
    // runs); the last one to stop moves the rest into the view and ends the run.
    let spawn_workers = move |ctx: Rc<FleetContext>| {
        let want = ctx.run.borrow().concurrency();
        if ctx.workers.get() == 0 {
            running.set(true);
            state.fleet_running.set(true);
        }
        while ctx.workers.get() < want {
            ctx.workers.set(ctx.workers.get() + 1);
            let ctx = ctx.clone();
            spawn_local(async move {
                worker(ctx.clone(), state, progress, failures).await;
                ctx.workers.set(ctx.workers.get() - 1);
                if ctx.workers.get() == 0 {
                    flush(&ctx, state, true);
                    if state.has_source(ctx.source) {
                        show_progress(&ctx.run.borrow(), progress, failures);
                    } else {
                        // Nothing of this run is left to show or retry.
                        context.set_value(None);
                        progress.set(FleetProgress::default());
                        failures.set(Vec::new());
                    }
                    running.set(false);
                    state.fleet_running.set(false);
                }
            });
        }
    };

    let read_settings = move || -> Result<FetchSettings, String> {
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
            proxy: ProxyConfig::PerCarrierBase(
                Carrier::ALL
                    .iter()
                    .map(|c| (*c, format!("{base}/{}", prefix(*c))))
                    .collect(),
            ),
            today: Some(chrono::Utc::now().date_naive()),
            ..FetchConfig::default()
        };
        Ok(FetchSettings {
            concurrency,
            limits,
            credentials,
            config,
        })
    };

    let start_fetch = move || {
        form_error.set(None);
        let list = match parsed.get_untracked() {
            Ok(l) => l,
            Err(e) if e.is_empty() => {
                form_error.set(Some("paste or import a list of identifiers first".into()));
                return;
            }
            Err(e) => {
                form_error.set(Some(e));
                return;
            }
        };
        let settings = match read_settings() {
            Ok(s) => s,
            Err(e) => {
                form_error.set(Some(e));
                return;
            }
        };
        let (Some(earliest), Some(last_day)) = (
            parse_day(&from.get_untracked()),
            parse_day(&to.get_untracked()),
        ) else {
            form_error.set(Some("choose the first and the last day".into()));
            return;
        };
        if last_day < earliest {
            form_error.set(Some("the last day is before the first".into()));
            return;
        }
        let cc_billing_day = if cc_cycle_to_date.get_untracked() {
            match parse_billing_day(&cc_billing_day.get_untracked()) {
                Ok(day) => Some(day),
                Err(e) => {
                    form_error.set(Some(e));
                    return;
                }
            }
        } else {
            None
        };
        let n = list.entries.len();
        let source = state.start_streamed_source(
            &format!("Fleet: {n} subject{}", if n == 1 { "" } else { "s" }),
            SourceOrigin::Live,
        );
        failures.set(Vec::new());
        paused.set(false);
        let ctx = Rc::new(FleetContext {
            run: RefCell::new(FleetRun::new(list.entries, settings.concurrency)),
            credentials: RefCell::new(settings.credentials.clone()),
            config: RefCell::new(settings.config.clone()),
            earliest,
            latest: last_day + 86_399,
            cc_billing_day,
            limiter: Rc::new(RefCell::new(RateLimiter::new())),
            tokens: RefCell::new(HashMap::new()),
            session: RefCell::new(None),
            cancel: RefCell::new(CancelFlag::default()),
            batch: RefCell::new(UsageSet::new()),
            replacing: RefCell::new(Vec::new()),
            pacer: RefCell::new(FlushPacer::new(now_ms(), FLUSH_MS, FLUSH_SHARE)),
            last_progress: RefCell::new(0),
            workers: Cell::new(0),
            source,
        });
        settings.pace(&ctx);
        progress.set(ctx.run.borrow().progress(now_ms()));
        context.set_value(Some(ctx.clone()));
        spawn_workers(ctx);
    };
    let start = move |_| start_fetch();
    let list_devices = move |_| {
        account.error.set(None);
        let settings = match read_settings() {
            Ok(s) => s,
            Err(e) => return account.error.set(Some(e)),
        };
        match account.job(&settings) {
            Ok(job) => account.run(job),
            Err(e) => account.error.set(Some(e)),
        }
    };
    // Fills the list the form validates with the devices found, then fetches them.
    let fetch_found = move |_| {
        let found = account
            .found
            .with_untracked(|f| f.as_ref().map(|f| fleet_list_csv(f.carrier, &f.devices)));
        if let Some(csv) = found {
            list.set(csv);
            start_fetch();
        }
    };
    let with_ctx = move |f: &dyn Fn(&Rc<FleetContext>)| {
        context.with_value(|c| {
            if let Some(c) = c {
                f(c)
            }
        })
    };
    // Concurrency and rate limits apply to a running fetch at once (to slow down for a carrier
    // that complains, or to speed up); the rest of the form waits for the next start or retry.
    let apply_live = move || {
        if !running.get_untracked() {
            return;
        }
        match read_settings() {
            Err(e) => form_error.set(Some(e)),
            Ok(settings) => {
                form_error.set(None);
                with_ctx(&|ctx| {
                    settings.pace(ctx);
                    spawn_workers(ctx.clone());
                })
            }
        }
    };
    let toggle_pause = move |_| {
        with_ctx(&|ctx| {
            let mut run = ctx.run.borrow_mut();
            if run.is_paused() {
                run.resume(now_ms());
                paused.set(false);
            } else {
                run.pause();
                paused.set(true);
            }
            progress.set(run.progress(now_ms()));
        })
    };
    let cancel = move |_| {
        with_ctx(&|ctx| {
            ctx.run.borrow_mut().cancel();
            ctx.cancel.borrow().cancel();
        })
    };
    let retry = move |_| {
        form_error.set(None);
        let settings = match read_settings() {
            Ok(s) => s,
            Err(e) => {
                form_error.set(Some(e));
                return;
            }
        };
        with_ctx(&|ctx| {
            settings.pace(ctx);
            *ctx.credentials.borrow_mut() = settings.credentials.clone();
            *ctx.config.borrow_mut() = settings.config.clone();
            // Tokens from before may belong to other credentials: fetched again on demand.
            ctx.tokens.borrow_mut().clear();
            *ctx.session.borrow_mut() = None;
            *ctx.cancel.borrow_mut() = CancelFlag::default();
            let again = ctx.run.borrow_mut().retry_failed(now_ms());
            failures.set(Vec::new());
            if again > 0 || ctx.run.borrow().progress(now_ms()).remaining > 0 {
                paused.set(false);
                spawn_workers(ctx.clone());
            }
        })
    };
    // The failed and partial subjects as a list the fleet form reads back (extra columns
    // say what happened), to fetch again later or send to the carrier.
    let download_problems = move |_| {
        with_ctx(&|ctx| {
            let date = chrono::Utc::now().format("%Y%m%d");
            let csv = ctx.run.borrow().problems_csv();
            if let Err(e) = download(
                &format!("usagelens-fleet-problems-{date}.csv"),
                "text/csv",
                &csv,
            ) {
                web_sys::console::error_1(&e);
            }
        })
    };
    let file_input = NodeRef::<leptos::html::Input>::new();
    let on_file = move |_| {
        let Some(input) = file_input.get_untracked() else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        spawn_local(async move {
            match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                Ok(text) => list.set(text.as_string().unwrap_or_default()),
                Err(_) => form_error.set(Some(format!("{} could not be read", file.name()))),
            }
        });
    };
    // Whether the progress line is shown: a memo, so the line is built once per run and only its
    // attributes follow each tick (reading `progress` here built it again five times a second).
    let started = Memo::new(move |_| progress.with(|p| p.total > 0));
    let percent = move || {
        let p = progress.get();
        if p.total == 0 {
            0.0
        } else {
            (p.done + p.failed) as f64 / p.total as f64 * 100.0
        }
    };

    view! {
        <div class="ul-fleet-fetch" data-testid="fleet-fetch">
            <p class="ul-hint">
                "One identifier per line, or CSV with a header naming "<code>"identifier"</code>", "<code>"carrier"</code>
                " and optionally "<code>"kind"</code>". Every identifier is checked before anything is sent."
            </p>
            {account.view(running, list_devices, fetch_found)}
            <fieldset class="ul-fieldset" data-testid="fieldset-subject">
                <legend>"Subject"</legend>
                <label class="ul-field ul-wide">
                    <span>"Subjects"</span>
                    <textarea rows="6" spellcheck="false" data-testid="fleet-list" disabled=move || running.get()
                        placeholder="identifier,carrier\n89148000000000000019,thingspace\n8988216716970004973,control-center"
                        prop:value=move || list.get()
                        on:input=move |ev| list.set(event_target_value(&ev))></textarea>
                </label>
                <label class="ul-field">
                    <span>"Import a CSV list"</span>
                    <input type="file" accept=".csv,.txt,text/csv,text/plain" disabled=move || running.get() node_ref=file_input on:change=on_file />
                </label>
                <label class="ul-field">
                    <span>"Carrier for rows without one"</span>
                    <select disabled=move || running.get() prop:value=move || default_carrier.get() on:change=move |ev| default_carrier.set(event_target_value(&ev))>
                        <option value="">"(none: the list says)"</option>
                        {Carrier::ALL.map(|c| view! { <option value=c.as_str()>{c.label()}</option> }).collect_view()}
                    </select>
                </label>
            </fieldset>
            {move || {
                let p = problems.get();
                let n = p.len();
                (n > 0).then(|| view! {
                    <details class="ul-note ul-warning" open=n <= 5 data-testid="fleet-problems">
                        <summary>{format!("{n} line(s) not taken")}</summary>
                        <ul>{p.into_iter().take(50).map(|m| view! { <li>{m}</li> }).collect_view()}</ul>
                    </details>
                })
            }}
            {move || {
                let count = parsed.with(|p| p.as_ref().map_or(0, |l| l.entries.len()));
                (count > 0).then(|| view! { <p class="ul-hint" data-testid="fleet-count">{format!("{count} subjects ready")}</p> })
            }}
            <fieldset class="ul-fieldset" data-testid="fieldset-period">
                <legend>"Period"</legend>
                <label class="ul-field">
                    <span>"First day"</span>
                    <input type="date" disabled=move || running.get() prop:value=move || from.get() on:change=move |ev| from.set(event_target_value(&ev)) />
                </label>
                <label class="ul-field">
                    <span>"Last day"</span>
                    <input type="date" disabled=move || running.get() prop:value=move || to.get() on:change=move |ev| to.set(event_target_value(&ev)) />
                </label>
            </fieldset>
            <fieldset class="ul-fieldset" data-testid="fieldset-credentials">
                <legend>"Credentials"</legend>
                <Show when=move || !carriers_in_list().is_empty()
                    fallback=|| view! { <p class="ul-field-note">"Each carrier in the list asks for its credentials here."</p> }>
                    {move || carriers_in_list().into_iter().map(|c| {
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
                                <label class="ul-field"><span>"Requests per second (empty: no limit)"</span><input type="number" min="1" data-field="rate" prop:value=move || s.rate.get() on:input=move |ev| { s.rate.set(event_target_value(&ev)); apply_live() } /></label>
                            </fieldset>
                        }
                    }).collect_view()}
                </Show>
            </fieldset>
            <fieldset class="ul-fieldset" data-testid="fieldset-proxy">
                <legend>"Proxy"</legend>
                <label class="ul-field ul-wide">
                    <span>"Proxy base URL"</span>
                    <input type="url" data-testid="fleet-proxy" disabled=move || running.get() prop:value=move || proxy.get() on:input=move |ev| proxy.set(event_target_value(&ev)) />
                </label>
                <label class="ul-field">
                    <span>"Parallel fetches"</span>
                    <input type="number" min="1" max="64" data-testid="fleet-concurrency" prop:value=move || concurrency.get() on:input=move |ev| { concurrency.set(event_target_value(&ev)); apply_live() } />
                </label>
            </fieldset>
            <div class="ul-field ul-check ul-remember">
                <label><input type="checkbox" data-testid="fleet-remember" prop:checked=move || remember.get()
                    on:change=move |ev| remember.set(event_target_checked(&ev)) />
                    " Remember these settings (default carrier, proxy, parallel fetches, rate limits) in this browser; credentials are never stored"</label>
            </div>
            {move || form_error.get().map(|e| view! { <p class="ul-error" role="alert">{e}</p> })}
            <div class="ul-actions">
                <button class="ul-button" type="button" data-testid="fleet-start" disabled=move || running.get() on:click=start>"Fetch fleet"</button>
                <button class="ul-button ul-ghost" type="button" disabled=move || !running.get() on:click=toggle_pause>
                    {move || if paused.get() { "Resume" } else { "Pause" }}
                </button>
                <button class="ul-button ul-ghost" type="button" disabled=move || !running.get() on:click=cancel>"Cancel"</button>
                <button class="ul-button ul-ghost" type="button" data-testid="fleet-retry"
                    title="Fetches the failed and partial subjects again, with the credentials, limits and proxy the form has now"
                    disabled=move || running.get() || { let p = progress.get(); p.failed + p.partial + p.remaining == 0 }
                    on:click=retry>"Retry failed"</button>
            </div>
            {move || started.get().then(|| view! {
                <div class="ul-fleet-progress" role="status" data-testid="fleet-progress"
                    data-done=move || progress.get().done data-failed=move || progress.get().failed data-total=move || progress.get().total
                    data-running=move || running.get().to_string()>
                    <progress max="100" value=move || format!("{:.1}", percent())></progress>
                    <span>{move || progress_text(&progress.get())}</span>
                </div>
            })}
            {move || {
                // Follows the progress line; the limiter itself is not reactive.
                progress.track();
                let text = context.with_value(|c| c.as_ref().map(|c| learned_limits_text(&c.limiter.borrow())).unwrap_or_default());
                (!text.is_empty()).then(|| view! { <p class="ul-hint" data-testid="fleet-learned-limits">{text}</p> })
            }}
            {move || {
                let groups = failures.get();
                let p = progress.get_untracked();
                (!groups.is_empty()).then(|| view! {
                    <details class="ul-note ul-warning" data-testid="fleet-failures">
                        <summary>{format!("{} failed, {} partial", p.failed, p.partial)}</summary>
                        <button type="button" class="ul-button ul-ghost" data-testid="fleet-failures-download" on:click=download_problems>
                            "Download the list (CSV)"
                        </button>
                        <ul class="ul-failure-groups">
                            {groups.into_iter().map(|g| {
                                let more = g.count - g.who.len();
                                view! {
                                    <li data-testid="fleet-failure-group" data-count=g.count>
                                        <strong>{format!("{} subject{}", g.count, if g.count == 1 { "" } else { "s" })}</strong>": "{g.why}
                                        <ul class="ul-failure-subjects">
                                            {g.who.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}
                                            {(more > 0).then(|| view! { <li>{format!("and {more} more (in the download)")}</li> })}
                                        </ul>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </details>
                })
            }}
        </div>
    }
}

/// What an account listing found.
#[derive(Clone, Debug)]
struct FoundDevices {
    carrier: Carrier,
    devices: Vec<usagelens_core::fetch::devices::ListedDevice>,
    filtered_out: usize,
    invalid: usize,
    /// Why the listing stopped early, if it did (the devices so far are kept).
    stopped: Option<String>,
}

/// "Load devices from the account": lists a Control Center or ThingSpace account's devices,
/// page by page, says how many it found, and hands them to the fleet list.
#[derive(Clone, Copy)]
struct AccountLoader {
    /// The carrier to list; its credentials fieldset shows while one is chosen.
    carrier: RwSignal<Option<Carrier>>,
    /// Control Center: devices changed since this day (the API requires one).
    since: RwSignal<String>,
    /// ThingSpace: the account name.
    account_name: RwSignal<String>,
    status: RwSignal<String>,
    /// Pages read and devices listed while a listing runs.
    listing: RwSignal<Option<(u32, usize)>>,
    found: RwSignal<Option<FoundDevices>>,
    error: RwSignal<Option<String>>,
    cancel: StoredValue<CancelFlag>,
}

impl AccountLoader {
    fn new(today: chrono::NaiveDate) -> AccountLoader {
        AccountLoader {
            carrier: RwSignal::new(None),
            since: RwSignal::new((today - chrono::Duration::days(365)).to_string()),
            account_name: RwSignal::new(String::new()),
            status: RwSignal::new(String::new()),
            listing: RwSignal::new(None),
            found: RwSignal::new(None),
            error: RwSignal::new(None),
            cancel: StoredValue::new(CancelFlag::default()),
        }
    }

    fn job(&self, settings: &FetchSettings) -> Result<DeviceListJob, String> {
        let status = Some(self.status.get_untracked()).filter(|s| !s.trim().is_empty());
        let (carrier, query) = match self.carrier.get_untracked() {
            Some(Carrier::ControlCenter) => {
                let since = chrono::NaiveDate::parse_from_str(
                    &self.since.get_untracked(),
                    "%Y-%m-%d",
                )
                .map_err(|_| {
                    "choose the day to list devices changed since (Control Center requires one)"
                        .to_owned()
                })?;
                (
                    Carrier::ControlCenter,
                    DeviceListQuery::ControlCenter {
                        modified_since: since,
                        page_size: CONTROL_CENTER_MAX_PAGE_SIZE,
                        status,
                    },
                )
            }
            Some(Carrier::Thingspace) => (
                Carrier::Thingspace,
                DeviceListQuery::Thingspace {
                    account_name: self.account_name.get_untracked(),
                    status,
                },
            ),
            _ => {
                return Err(
                    "choose Control Center or ThingSpace to list an account's devices".into(),
                )
            }
        };
        let credentials = settings
            .credentials
            .get(&carrier)
            .cloned()
            .ok_or_else(|| format!("no credentials for {}", carrier.label()))?;
        DeviceListJob::new(query, credentials, settings.config.clone(), None)
            .map_err(|e| e.to_string())
    }

    fn run(self, job: DeviceListJob) {
        let carrier = job.carrier();
        let flag = CancelFlag::default();
        self.cancel.set_value(flag.clone());
        self.found.set(None);
        self.listing.set(Some((0, 0)));
        spawn_local(async move {
            let outcome = run_device_list(job, flag, move |pages, n| {
                self.listing.set(Some((pages, n)))
            })
            .await;
            self.listing.set(None);
            self.found.set(Some(FoundDevices {
                carrier,
                devices: outcome.devices,
                filtered_out: outcome.filtered_out,
                invalid: outcome.invalid,
                stopped: outcome.error.map(|e| e.to_string()),
            }));
        });
    }

    fn view(
        self,
        running: RwSignal<bool>,
        list_devices: impl Fn(web_sys::MouseEvent) + Copy + Send + Sync + 'static,
        fetch_found: impl Fn(web_sys::MouseEvent) + Copy + Send + Sync + 'static,
    ) -> impl IntoView {
        let busy = move || running.get() || self.listing.get().is_some();
        let statuses = move || match self.carrier.get() {
            Some(Carrier::ControlCenter) => vec![
                "ACTIVATED",
                "ACTIVATION_READY",
                "DEACTIVATED",
                "INVENTORY",
                "RETIRED",
                "TEST_READY",
            ],
            Some(Carrier::Thingspace) => vec!["active", "deactive", "suspend", "pending resume"],
            _ => Vec::new(),
        };
        view! {
            <details class="ul-fleet-account" data-testid="fleet-account">
                <summary>"Load devices from the account"</summary>
                <p class="ul-hint">"Lists the account's devices page by page (Control Center or ThingSpace, with the credentials below), then fetches their usage."</p>
                <div class="ul-fleet-grid">
                    <label class="ul-field">
                        <span>"Account of"</span>
                        <select data-testid="fleet-account-carrier" disabled=busy
                            on:change=move |ev| { self.status.set(String::new()); self.found.set(None); self.carrier.set(Carrier::parse(&event_target_value(&ev))) }>
                            <option value="">"(choose)"</option>
                            <option value=Carrier::ControlCenter.as_str()>{Carrier::ControlCenter.label()}</option>
                            <option value=Carrier::Thingspace.as_str()>{Carrier::Thingspace.label()}</option>
                        </select>
                    </label>
                    <Show when=move || self.carrier.get() == Some(Carrier::ControlCenter)>
                        <label class="ul-field">
                            <span>"Changed since"</span>
                            <input type="date" data-testid="fleet-account-since" disabled=busy prop:value=move || self.since.get() on:change=move |ev| self.since.set(event_target_value(&ev)) />
                        </label>
                    </Show>
                    <Show when=move || self.carrier.get() == Some(Carrier::Thingspace)>
                        <label class="ul-field">
                            <span>"Account name"</span>
                            <input autocomplete="off" data-testid="fleet-account-name" placeholder="0000123456-00001" disabled=busy prop:value=move || self.account_name.get() on:input=move |ev| self.account_name.set(event_target_value(&ev)) />
                        </label>
                    </Show>
                    <label class="ul-field">
                        <span>"Status"</span>
                        <select data-testid="fleet-account-status" disabled=busy prop:value=move || self.status.get() on:change=move |ev| self.status.set(event_target_value(&ev))>
                            <option value="">"(any)"</option>
                            {move || statuses().into_iter().map(|s| view! { <option value=s>{s}</option> }).collect_view()}
                        </select>
                    </label>
                </div>
                <div class="ul-actions">
                    <button class="ul-button" type="button" data-testid="fleet-account-list" disabled=busy on:click=list_devices>"List devices"</button>
                    <Show when=move || self.listing.get().is_some()>
                        <button class="ul-button ul-ghost" type="button" data-testid="fleet-account-cancel" on:click=move |_| self.cancel.with_value(|c| c.cancel())>"Cancel"</button>
                        <span class="ul-progress" role="status" data-testid="fleet-account-progress">
                            <span class="ul-spinner" aria-hidden="true"></span>
                            {move || self.listing.get().map(|(pages, n)| format!("Listing devices: {} page{} read, {} devices so far", pages, if pages == 1 { "" } else { "s" }, usagelens_core::units::format_count(n as u64)))}
                        </span>
                    </Show>
                </div>
                {move || self.error.get().map(|e| view! { <p class="ul-error" role="alert">{e}</p> })}
                {move || self.found.with(|f| f.as_ref().map(|f| {
                    let n = f.devices.len();
                    let mut notes = Vec::new();
                    if f.filtered_out > 0 {
                        notes.push(format!("{} left out by the status filter", usagelens_core::units::format_count(f.filtered_out as u64)));
                    }
                    if f.invalid > 0 {
                        notes.push(format!("{} without a valid identifier, not taken", f.invalid));
                    }
                    let stopped = f.stopped.clone();
                    view! {
                        <div class="ul-note" role="status" data-testid="fleet-account-found" data-count=n>
                            <strong>{format!("{} device{} found", usagelens_core::units::format_count(n as u64), if n == 1 { "" } else { "s" })}</strong>
                            {(!notes.is_empty()).then(|| format!(" ({})", notes.join("; ")))}
                            {stopped.map(|s| view! { <p class="ul-warning">{format!("The listing stopped early, the devices found so far are kept: {s}")}</p> })}
                            {(n > 0).then(|| view! {
                                " — "
                                <button class="ul-button ul-primary" type="button" data-testid="fleet-account-fetch" disabled=move || running.get() on:click=fetch_found>"Fetch usage for them"</button>
                            })}
                        </div>
                    }
                }))}
            </details>
        }
    }
}
