//! [`FleetController`]: one fleet fetch, sans-IO. It owns the run ([`FleetRun`]), a
//! [`FetchJob`] per subject in flight, the access tokens and ThingSpace sessions of each
//! credentials scope, the rate limiter, and the records fetched but not yet shown. The executor
//! asks it what to send ([`FleetController::poll`]), sends it, and hands the answer back; time and
//! randomness are arguments, so every rule runs under native tests:
//!
//! - **Shared tokens**: a subject's job starts with the token and session its scope already has.
//!   Where the carrier's credentials buy a token ([`shares_token`]), the first subject of a scope
//!   goes alone and the others of that scope wait for its token (one token for the fleet, not
//!   one per parallel fetch).
//! - **Refused credentials**: when a carrier refuses a scope's credentials (an authentication
//!   error), the subjects of that scope still waiting fail without a request; other scopes go on.
//! - **Partial results**: a cancel stops every job; what each read so far is kept.
//! - **Retry merging**: a retried subject's records replace, add to or give way to what an
//!   earlier attempt left ([`Fetched`]), so nothing is counted twice.
//! - **Rate limits**: every request takes a slot from the per-carrier [`RateLimiter`], which
//!   hears every 429 and its `Retry-After`.

use std::collections::HashMap;

use super::carrier_rules::{credential_scope, query_for, shares_token};
use super::list::FleetEntry;
use super::run::{Fetched, FleetProgress, FleetRun, FleetStep};
use crate::fetch::{
    retry_after_ms, Credentials, FetchConfig, FetchErrorKind, FetchJob, HttpResponse, RateLimiter,
    RequestPlan, Step, Token, TransportError,
};
use crate::model::{Carrier, Subject, UsageSet};

/// How a fleet is fetched, as the form says: read at the start and again for each retry, so
/// mended credentials, a new limit, concurrency or proxy apply to the subjects fetched again.
#[derive(Clone, Debug, Default)]
pub struct FleetSetup {
    /// Subjects fetched at the same time.
    pub concurrency: usize,
    /// Requests per second per carrier; `None` for none (then one is learned from 429s).
    pub limits: Vec<(Carrier, Option<u32>)>,
    /// Each carrier's credentials.
    pub credentials: HashMap<Carrier, Credentials>,
    /// Proxy, timeout, retries and paging of every request.
    pub config: FetchConfig,
}

/// The time range every subject is fetched for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FleetPeriod {
    /// Unix seconds, inclusive.
    pub earliest: i64,
    /// Unix seconds, inclusive.
    pub latest: i64,
    /// Control Center: `Some(billing day)` fetches the cycle to date instead of usage in zone.
    pub billing_day: Option<u32>,
}

/// Names one request handed out by [`FleetController::poll`]; its answer comes back with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ticket(u64);

/// What the executor does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FleetPoll {
    /// Send this request, then hand its answer (or transport error) back with the ticket.
    Send {
        /// Names the request; hand it back with the answer.
        ticket: Ticket,
        /// The request to send.
        plan: RequestPlan,
    },
    /// Nothing to send before `until_ms` (a backoff, a `Retry-After`, a rate limit), unless an
    /// answer comes first: ask again then.
    Wait {
        /// Milliseconds (the executor's clock) to wait until.
        until_ms: u64,
    },
    /// Nothing to send until an answer comes back (or the run resumes, or may run more at once).
    Idle,
    /// Nothing is in flight and nothing will start: the run is over (or cancelled).
    Finished,
}

/// Records fetched since the last [`FleetController::take_results`], for the view.
#[derive(Clone, Debug, Default)]
pub struct FleetResults {
    /// The records.
    pub set: UsageSet,
    /// Subjects fetched again after a partial fetch: what the view holds of them goes first.
    pub replacing: Vec<Subject>,
}

impl FleetResults {
    /// Whether there is nothing new for the view.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.replacing.is_empty()
    }
}

/// A carrier and which of its credentials: the key of the token and session caches.
type Scope = (Carrier, String);

fn scope_of(entry: &FleetEntry) -> Scope {
    (entry.carrier, credential_scope(entry))
}

/// Where a scope's first subject (the one trying its credentials) is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Probe {
    /// Entry `index` is being fetched; the scope's others wait for its token.
    Running(usize),
    /// It ended, with or without a token: the others go (and fetch one each if it got none).
    Ended,
}

/// One subject being fetched.
#[derive(Debug)]
struct Active {
    index: usize,
    scope: Scope,
    job: FetchJob,
    /// The request in flight: its ticket and when it was sent.
    sent: Option<(Ticket, u64)>,
    /// A request the rate limiter holds back.
    held: Option<RequestPlan>,
}

/// What one active job wants.
enum JobStep {
    Send(FleetPoll),
    Wait(u64),
    InFlight,
    Done,
}

/// One fleet fetch: see the module documentation.
#[derive(Debug)]
pub struct FleetController {
    run: FleetRun,
    credentials: HashMap<Carrier, Credentials>,
    config: FetchConfig,
    period: FleetPeriod,
    limiter: RateLimiter,
    tokens: HashMap<Scope, Token>,
    sessions: HashMap<Scope, Token>,
    probes: HashMap<Scope, Probe>,
    active: Vec<Active>,
    next_ticket: u64,
    results: FleetResults,
    /// Fetches ended so far (any outcome), so the executor knows when to redraw.
    ended: u64,
    /// Set when no waiting subject could start, until something changes that could let one.
    blocked: bool,
}

impl FleetController {
    /// A fleet fetch of `entries` over `period`, set up by `setup`; nothing is sent until
    /// [`FleetController::poll`].
    pub fn new(entries: Vec<FleetEntry>, setup: FleetSetup, period: FleetPeriod) -> Self {
        let mut controller = FleetController {
            run: FleetRun::new(entries, setup.concurrency),
            credentials: HashMap::new(),
            config: FetchConfig::default(),
            period,
            limiter: RateLimiter::new(),
            tokens: HashMap::new(),
            sessions: HashMap::new(),
            probes: HashMap::new(),
            active: Vec::new(),
            next_ticket: 0,
            results: FleetResults::default(),
            ended: 0,
            blocked: false,
        };
        controller.apply(setup);
        controller
    }

    /// The run: its entries, their states, problems.
    pub fn run(&self) -> &FleetRun {
        &self.run
    }

    /// The run's counts and ETA at `now_ms` (milliseconds).
    pub fn progress(&self, now_ms: u64) -> FleetProgress {
        self.run.progress(now_ms)
    }

    /// The per-carrier rate limiter every request goes through.
    pub fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    /// The limits learned from 429s, per carrier (for carriers without a limit set).
    pub fn learned_limits(&self) -> Vec<(Carrier, u32)> {
        Carrier::ALL
            .iter()
            .filter_map(|c| self.limiter.learned_limit(*c).map(|n| (*c, n)))
            .collect()
    }

    /// How many fetches have ended so far: it moves whenever progress or results did.
    pub fn ended(&self) -> u64 {
        self.ended
    }

    /// Subjects being fetched now.
    pub fn active(&self) -> usize {
        self.active.len()
    }

    /// Applies a new concurrency and rate limits at once (they may change while the run runs).
    pub fn set_pace(&mut self, concurrency: usize, limits: &[(Carrier, Option<u32>)]) {
        self.run.set_concurrency(concurrency);
        for (carrier, limit) in limits {
            self.limiter.set_limit(*carrier, *limit);
        }
        self.blocked = false;
    }

    fn apply(&mut self, setup: FleetSetup) {
        self.set_pace(setup.concurrency, &setup.limits);
        self.credentials = setup.credentials;
        self.config = setup.config;
    }

    /// Stops starting new subjects until [`FleetController::resume`]; jobs running go on.
    pub fn pause(&mut self) {
        self.run.pause();
    }

    /// Lets a paused fetch start subjects again; the ETA counts from `now_ms`.
    pub fn resume(&mut self, now_ms: u64) {
        self.run.resume(now_ms);
        self.blocked = false;
    }

    /// Whether the fetch is paused.
    pub fn is_paused(&self) -> bool {
        self.run.is_paused()
    }

    /// Stops the run: nothing more starts, every job not waiting for an answer ends now with
    /// what it read, and the ones in flight end when their answer (or the executor's abort)
    /// comes back. Subjects not started stay pending for a retry.
    pub fn cancel(&mut self) {
        self.run.cancel();
        let mut i = 0;
        while i < self.active.len() {
            if self.active[i].sent.is_none() {
                self.active[i].held = None;
                self.active[i].job.cancel();
                self.end(i);
            } else {
                i += 1;
            }
        }
    }

    /// Fetches the failed and partial subjects again (and those a cancel left waiting) with
    /// `setup`: the tokens and sessions of before may belong to other credentials, so they are
    /// fetched again. Returns how many were queued again.
    pub fn retry(&mut self, setup: FleetSetup, now_ms: u64) -> usize {
        self.apply(setup);
        self.tokens.clear();
        self.sessions.clear();
        self.probes.clear();
        self.blocked = false;
        self.run.retry_failed(now_ms)
    }

    /// The records fetched since the last call.
    pub fn take_results(&mut self) -> FleetResults {
        std::mem::take(&mut self.results)
    }

    /// What to do now. `random` feeds request ids (e.g. Vodafone's `X-Correlator`).
    pub fn poll(&mut self, now_ms: u64, random: &mut dyn FnMut() -> u64) -> FleetPoll {
        let mut wake: Option<u64> = None;
        let mut i = 0;
        while i < self.active.len() {
            match self.step(i, now_ms, random) {
                JobStep::Send(send) => return send,
                JobStep::Wait(until) => {
                    wake = Some(wake.map_or(until, |w| w.min(until)));
                    i += 1;
                }
                JobStep::InFlight => i += 1,
                JobStep::Done => self.end(i),
            }
        }
        while !self.blocked {
            let probes = &self.probes;
            let step = self.run.next_where(now_ms, |e| may_start(probes, e));
            let index = match step {
                FleetStep::Start(index) => index,
                FleetStep::Finished => return FleetPoll::Finished,
                FleetStep::Idle => {
                    // Until something ends or the pace changes, the same subjects stay held.
                    self.blocked = self.run.has_waiting()
                        && !self.run.is_paused()
                        && self.active.len() < self.run.concurrency();
                    break;
                }
            };
            if !self.start(index, now_ms) {
                continue;
            }
            let at = self.active.len() - 1;
            match self.step(at, now_ms, random) {
                JobStep::Send(send) => return send,
                JobStep::Wait(until) => wake = Some(wake.map_or(until, |w| w.min(until))),
                JobStep::InFlight => {}
                JobStep::Done => self.end(at),
            }
        }
        if self.run.is_finished() {
            return FleetPoll::Finished;
        }
        wake.map_or(FleetPoll::Idle, |until_ms| FleetPoll::Wait { until_ms })
    }

    /// Feeds back the answer to the request `ticket` named.
    pub fn handle_response(
        &mut self,
        ticket: Ticket,
        response: &HttpResponse,
        now_ms: u64,
        random: u64,
    ) {
        let Some((i, sent_ms)) = self.answered(ticket) else {
            return;
        };
        let active = &mut self.active[i];
        if response.status == 429 {
            let retry_after = response
                .header("Retry-After")
                .and_then(|v| retry_after_ms(v, now_ms));
            self.limiter
                .refused(active.job.carrier(), sent_ms, now_ms, retry_after);
        }
        active.job.handle_response(response, now_ms, random);
        self.after_answer(i);
    }

    /// Feeds back that the request `ticket` named got no answer.
    pub fn handle_transport_error(
        &mut self,
        ticket: Ticket,
        error: &TransportError,
        now_ms: u64,
        random: u64,
    ) {
        let Some((i, _)) = self.answered(ticket) else {
            return;
        };
        self.active[i]
            .job
            .handle_transport_error(error, now_ms, random);
        self.after_answer(i);
    }

    /// The job the answer to `ticket` is for, and when its request went.
    fn answered(&mut self, ticket: Ticket) -> Option<(usize, u64)> {
        let i = self
            .active
            .iter()
            .position(|a| a.sent.is_some_and(|(t, _)| t == ticket))?;
        let (_, sent_ms) = self.active[i].sent.take()?;
        Some((i, sent_ms))
    }

    fn after_answer(&mut self, i: usize) {
        if self.run.is_cancelled() {
            self.active[i].job.cancel();
        }
        if self.active[i].job.is_done() {
            self.end(i);
        }
    }

    /// Polls active job `i`, through the rate limiter.
    fn step(&mut self, i: usize, now_ms: u64, random: &mut dyn FnMut() -> u64) -> JobStep {
        let active = &mut self.active[i];
        if active.sent.is_some() {
            return JobStep::InFlight;
        }
        let plan = match active.held.take() {
            Some(plan) => plan,
            None => {
                let random = (u128::from(random()) << 64) | u128::from(random());
                match active.job.poll(now_ms, random) {
                    Step::Done => return JobStep::Done,
                    Step::Wait { until_ms } => return JobStep::Wait(until_ms),
                    Step::Send(plan) => plan,
                }
            }
        };
        match self.limiter.acquire(active.job.carrier(), now_ms) {
            Ok(()) => {
                let ticket = Ticket(self.next_ticket);
                self.next_ticket += 1;
                active.sent = Some((ticket, now_ms));
                JobStep::Send(FleetPoll::Send { ticket, plan })
            }
            Err(until) => {
                active.held = Some(plan);
                JobStep::Wait(until.max(now_ms + 1))
            }
        }
    }

    /// Starts entry `index`: its job, with the token and session its scope has. False when it
    /// ended at once (no credentials, or a query or credentials the job refuses).
    fn start(&mut self, index: usize, now_ms: u64) -> bool {
        let entry = &self.run.entries[index];
        let scope = scope_of(entry);
        let job = match self.credentials.get(&entry.carrier) {
            None => Err(format!("no credentials for {}", entry.carrier.label())),
            Some(credentials) => query_for(entry, &self.period).and_then(|query| {
                FetchJob::new(
                    query,
                    credentials.clone(),
                    self.config.clone(),
                    self.tokens.get(&scope).cloned(),
                )
                .map(|job| job.with_session(self.sessions.get(&scope).cloned(), now_ms))
                .map_err(|e| e.message)
            }),
        };
        match job {
            Ok(job) => {
                if shares_token(scope.0) {
                    self.probes
                        .entry(scope.clone())
                        .or_insert(Probe::Running(index));
                }
                self.active.push(Active {
                    index,
                    scope,
                    job,
                    sent: None,
                    held: None,
                });
                true
            }
            Err(message) => {
                self.run.finish(index, 0, Some(message));
                self.ended += 1;
                false
            }
        }
    }

    /// Ends active job `i`: keeps its token and session for its scope, records how it ended,
    /// applies the refused-credentials rule, and keeps its records for the view.
    fn end(&mut self, i: usize) {
        let Active {
            index, scope, job, ..
        } = self.active.remove(i);
        let outcome = job.finish();
        if let Some(token) = outcome.token {
            self.tokens.insert(scope.clone(), token);
        }
        if let Some(session) = outcome.session {
            self.sessions.insert(scope.clone(), session);
        }
        if self.probes.get(&scope) == Some(&Probe::Running(index)) {
            self.probes.insert(scope.clone(), Probe::Ended);
        }
        let refused = outcome
            .error
            .as_ref()
            .is_some_and(|e| e.kind == FetchErrorKind::Auth);
        let error = outcome.error.map(|e| e.to_string());
        let fetched = self.run.finish(index, outcome.set.len(), error);
        let subject = self.run.entries[index].subject.clone();
        if refused {
            let message = format!(
                "not sent: {} refused the credentials for {subject} (mend them, then Retry failed)",
                scope.0.label()
            );
            self.run.fail_waiting(|e| scope_of(e) == scope, &message);
        }
        match fetched {
            Fetched::Add => self.results.set.extend_from(&outcome.set),
            Fetched::Replace => {
                self.results.replacing.push(subject);
                self.results.set.extend_from(&outcome.set);
            }
            Fetched::Discard => {}
        }
        self.ended += 1;
        self.blocked = false;
    }
}

/// Whether a waiting subject may start: not while the first subject of its scope is still
/// trying the credentials and fetching the token the others would share.
fn may_start(probes: &HashMap<Scope, Probe>, entry: &FleetEntry) -> bool {
    !shares_token(entry.carrier) || !matches!(probes.get(&scope_of(entry)), Some(Probe::Running(_)))
}
