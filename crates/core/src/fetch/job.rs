//! The fetch job: one subject's fetch, from credentials to records, in the generic phases every
//! carrier goes through: token, login, usage pages, retry. What differs between carriers (which
//! requests, which checks, which errors mean what) comes from their [`CarrierSpec`].

use serde_json::Value;

use super::{
    retry_after_ms, FetchConfig, FetchError, FetchErrorKind, FetchOutcome, HttpResponse, Purpose,
    RequestPlan, Step, Token, TransportError,
};
use crate::carriers::{CarrierSpec, Credentials, Paging, UsagePage, UsageQuery};
use crate::limits::{limit_text, size_text, MAX_ANSWER_BYTES, MAX_TOKEN_FETCHES_PER_JOB};
use crate::model::{Carrier, Subject, Warning};
use crate::readers::{carrier_error_fields, parse, ParseOptions};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Token,
    Login,
    Usage,
    Done,
}

/// One subject's fetch, from credentials to records.
#[derive(Debug)]
pub struct FetchJob {
    query: UsageQuery,
    credentials: Credentials,
    config: FetchConfig,
    phase: Phase,
    in_flight: bool,
    wait_until: Option<u64>,
    token: Option<Token>,
    session: Option<Token>,
    token_refreshed: bool,
    /// Access tokens received, at most [`MAX_TOKEN_FETCHES_PER_JOB`] (a token request that
    /// failed and is retried, e.g. a 502, is not a new token).
    token_fetches: u32,
    /// The token just fetched lives less than the expiry margin: it serves the next request
    /// only (rather than being dropped at once and fetched again, forever).
    token_single_use: bool,
    /// The lifetime the last token answer gave, for the message when tokens run out.
    last_token_lifetime_ms: Option<u64>,
    relogged: bool,
    rate_limited: u32,
    server_errors: u32,
    network_errors: u32,
    page: u32,
    /// Cursor paging (see [`CarrierSpec::paging`]): the carrier's windows and range.
    paging: Option<Paging>,
    /// Cursor paging: where the next page starts, and where the previous one started.
    earliest: i64,
    previous_earliest: Option<i64>,
    /// Cursor paging: the end of the current window and of the whole range.
    window_latest: i64,
    range_latest: i64,
    outcome: FetchOutcome,
    subject: Option<Subject>,
}

const TOKEN_LIFETIME_MS: u64 = 3_599_000;

/// The error for a request whose answer is not worth asking for again (a redirect, an answer
/// over the size limit); `None` for a timeout or a dropped connection, which are retried.
pub(crate) fn final_transport_error(
    error: &TransportError,
    carrier: Carrier,
) -> Option<FetchError> {
    match error {
        TransportError::Redirected => Some(FetchError::new(
            FetchErrorKind::BadResponse,
            carrier,
            "the answer was a redirect to another address (the browser shows neither its status nor where it points); usagelens does not follow redirects, so the credentials were not sent on: point the proxy at the carrier's current address",
        )),
        TransportError::TooLarge { bytes, announced } => {
            let size = if *announced {
                format!("the answer is {}", size_text(*bytes))
            } else {
                format!(
                    "{} of the answer had arrived when reading stopped",
                    size_text(*bytes)
                )
            };
            Some(FetchError::new(
                FetchErrorKind::BadResponse,
                carrier,
                format!(
                    "{size}, over the limit of {} read per answer; choose a shorter range (the rows read so far are kept)",
                    limit_text(MAX_ANSWER_BYTES)
                ),
            ))
        }
        TransportError::Timeout | TransportError::Network(_) => None,
    }
}

/// How long a ThingSpace session is taken to last: 20 minutes of inactivity.
pub(crate) const SESSION_LIFETIME_MS: u64 = 20 * 60_000;

/// An OAuth token answer (`{"access_token", "expires_in"}`, the lifetime as a number or a
/// string of seconds): the token and its lifetime in milliseconds. Shared by the usage fetch and
/// the account device listing.
pub(crate) fn read_token_answer(body: &str, carrier: Carrier) -> Result<(String, u64), FetchError> {
    let value: Option<Value> = serde_json::from_str(body).ok();
    let token = value
        .as_ref()
        .and_then(|v| v.get("access_token"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            FetchError::new(
                FetchErrorKind::BadResponse,
                carrier,
                "the token answer has no access_token",
            )
        })?;
    let lifetime = value
        .as_ref()
        .and_then(|v| v.get("expires_in"))
        .and_then(|e| e.as_u64().or_else(|| e.as_str()?.parse().ok()))
        .map_or(TOKEN_LIFETIME_MS, |s| s.saturating_mul(1000));
    Ok((token.to_owned(), lifetime))
}

/// A session login answer (`{"sessionToken"}`, ThingSpace's): the session token.
pub(crate) fn read_session_answer(body: &str, carrier: Carrier) -> Result<String, FetchError> {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("sessionToken")?.as_str().map(str::to_owned))
        .ok_or_else(|| {
            FetchError::new(
                FetchErrorKind::BadResponse,
                carrier,
                "the session login answer has no sessionToken",
            )
        })
}

/// The `error` codes of the usagelens proxy's own 502 and 504 answers (nginx's error_page).
const PROXY_BAD_GATEWAY: &str = "usagelens-proxy-bad-gateway";
const PROXY_GATEWAY_TIMEOUT: &str = "usagelens-proxy-gateway-timeout";

fn message_of(body: &str) -> (Option<String>, Option<String>) {
    carrier_error_fields(body).unwrap_or((None, None))
}

impl FetchJob {
    /// Checks the query and credentials before anything is sent: an invalid identifier, date
    /// range or missing credential is an `InvalidInput` error and no request is ever planned.
    pub fn new(
        query: UsageQuery,
        credentials: Credentials,
        config: FetchConfig,
        cached_token: Option<Token>,
    ) -> Result<FetchJob, FetchError> {
        let carrier = query.carrier();
        let spec = carrier.spec();
        let invalid = |m: String| FetchError::new(FetchErrorKind::InvalidInput, carrier, m);
        config.proxy.validate().map_err(invalid)?;
        spec.check_credentials(&credentials).map_err(invalid)?;
        let query = spec.check_query(query, &config).map_err(invalid)?;
        let subject = Some(query.subject());
        let paging = spec.paging(&query);
        let (earliest, range_latest, window) =
            paging.map_or((0, 0, 0), |p| (p.earliest, p.latest, p.window));
        let fetches_token = spec.token_request(&credentials).is_some();
        let token = match spec.pasted_token(&credentials) {
            Some(pasted) => Some(Token {
                value: pasted.to_owned(),
                expires_at_ms: u64::MAX,
            }),
            None if fetches_token => cached_token,
            None => None,
        };
        let phase = if fetches_token && token.is_none() {
            Phase::Token
        } else if spec.login_request(&credentials, "").is_some() {
            Phase::Login
        } else {
            Phase::Usage
        };
        let mut outcome = FetchOutcome::default();
        if let Some(p) = paging.filter(|p| p.latest - p.earliest > p.window) {
            outcome.warnings.push(Warning::new(p.long_range_warning));
        }
        Ok(FetchJob {
            query,
            credentials,
            config,
            phase,
            in_flight: false,
            wait_until: None,
            token,
            session: None,
            token_refreshed: false,
            token_fetches: 0,
            token_single_use: false,
            last_token_lifetime_ms: None,
            relogged: false,
            rate_limited: 0,
            server_errors: 0,
            network_errors: 0,
            page: 0,
            paging,
            earliest,
            previous_earliest: None,
            window_latest: range_latest.min(earliest.saturating_add(window)),
            range_latest,
            outcome,
            subject,
        })
    }

    /// Reuses a ThingSpace session from an earlier job, so a fleet logs in once rather than per
    /// device. A stale session is ignored; one that expires in flight is renewed by the usual
    /// re-login.
    #[must_use]
    pub fn with_session(mut self, session: Option<Token>, now_ms: u64) -> FetchJob {
        if self.phase == Phase::Login {
            if let Some(session) = session.filter(|s| s.is_fresh(now_ms)) {
                self.session = Some(session);
                self.phase = Phase::Usage;
            }
        }
        self
    }

    /// The carrier the job fetches from.
    #[must_use]
    pub fn carrier(&self) -> Carrier {
        self.query.carrier()
    }

    fn spec(&self) -> &'static dyn CarrierSpec {
        self.carrier().spec()
    }

    /// Pages of usage read so far.
    #[must_use]
    pub fn pages(&self) -> u32 {
        self.outcome.pages
    }

    /// True once the job is over (completed, failed or cancelled).
    #[must_use]
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Stops the job; what was read so far is kept.
    pub fn cancel(&mut self) {
        if self.phase != Phase::Done {
            self.fail(FetchError::new(
                FetchErrorKind::Cancelled,
                self.carrier(),
                "cancelled; the usage read so far is kept",
            ));
        }
    }

    /// The error when a job would need a third access token.
    fn tokens_exhausted(&self) -> FetchError {
        let carrier = self.carrier();
        let asked = format!(
            "stopped after asking for {MAX_TOKEN_FETCHES_PER_JOB} access tokens in one fetch rather than ask again; the rows read so far are kept"
        );
        let message = match self.last_token_lifetime_ms {
            Some(ms) if ms < crate::limits::TOKEN_EXPIRY_MARGIN_MS => format!(
                "{} issues access tokens that expire within {} s (expires_in), too soon to serve more than one request each: {asked}",
                carrier.label(),
                ms / 1000
            ),
            _ => format!(
                "{} needed a new access token a third time: {asked}",
                carrier.label()
            ),
        };
        FetchError::new(FetchErrorKind::BadResponse, carrier, message)
    }

    /// Ends the job and hands over everything it produced.
    pub fn finish(mut self) -> FetchOutcome {
        self.outcome.token = self.token.filter(|t| t.expires_at_ms != u64::MAX);
        self.outcome.session = self.session;
        self.outcome
    }

    fn fail(&mut self, error: FetchError) {
        self.outcome.error = Some(error);
        self.phase = Phase::Done;
        self.in_flight = false;
    }

    /// What to do now. `random` feeds the X-Correlator UUID.
    pub fn poll(&mut self, now_ms: u64, random: u128) -> Step {
        if self.phase == Phase::Done {
            return Step::Done;
        }
        if let Some(until) = self.wait_until {
            if now_ms < until {
                return Step::Wait { until_ms: until };
            }
            self.wait_until = None;
        }
        if self.in_flight {
            // The executor polls only after answering; a second poll re-sends nothing.
            return Step::Wait {
                until_ms: now_ms + 50,
            };
        }
        if let Some(t) = &self.token {
            if self.phase != Phase::Token
                && !t.is_fresh(now_ms)
                && !self.token_single_use
                && self.spec().pasted_token(&self.credentials).is_none()
            {
                self.token = None;
                self.phase = Phase::Token;
            }
        }
        if self.phase == Phase::Token {
            if self.token_fetches >= MAX_TOKEN_FETCHES_PER_JOB {
                let e = self.tokens_exhausted();
                self.fail(e);
                return Step::Done;
            }
        } else {
            // This request uses the token, if it needs one.
            self.token_single_use = false;
        }
        let plan = self.plan(random);
        // What the user typed was checked in `new`; this catches what a carrier issued (a token
        // sent back in a header), before the browser would refuse the request.
        let unsendable = plan.headers.iter().find_map(|(name, value)| {
            super::header_value_problem(value).map(|problem| format!("{name} header: {problem}"))
        });
        if let Some(problem) = unsendable {
            let carrier = self.carrier();
            self.fail(FetchError::new(
                FetchErrorKind::BadResponse,
                carrier,
                format!(
                    "what {} issued cannot be sent back: the {problem}",
                    carrier.label()
                ),
            ));
            return Step::Done;
        }
        self.in_flight = true;
        Step::Send(plan)
    }

    fn plan(&self, random: u128) -> RequestPlan {
        let carrier = self.carrier();
        let spec = carrier.spec();
        let token = self.token.as_ref().map(|t| t.value.as_str());
        let auth = match self.phase {
            Phase::Token | Phase::Login => super::auth_request(
                carrier,
                &self.credentials,
                token,
                self.phase == Phase::Login,
            ),
            Phase::Usage | Phase::Done => None,
        };
        let (planned, purpose) = auth.unwrap_or_else(|| {
            let page = UsagePage {
                query: &self.query,
                credentials: &self.credentials,
                token,
                session: self.session.as_ref().map(|s| s.value.as_str()),
                window: (self.earliest, self.window_latest),
                random,
            };
            (spec.usage_request(&page), Purpose::Usage(self.page + 1))
        });
        RequestPlan::routed(planned, carrier, &self.config, purpose)
    }

    /// Feeds back the answer to the last `Send`.
    pub fn handle_response(&mut self, response: &HttpResponse, now_ms: u64, random: u64) {
        if self.phase == Phase::Done || !self.in_flight {
            return;
        }
        self.in_flight = false;
        let status = response.status;
        if status == 429 {
            self.rate_limited += 1;
            if self.rate_limited > self.config.retry.max_rate_limited {
                let e = self.error_for(response);
                return self.fail(e);
            }
            let delay = response
                .header("Retry-After")
                .and_then(|v| retry_after_ms(v, now_ms))
                .map(|ms| ms.min(self.config.retry.max_delay_ms))
                .unwrap_or_else(|| self.config.retry.backoff_ms(self.rate_limited, random));
            self.wait_until = Some(now_ms.saturating_add(delay));
            return;
        }
        if status >= 500 {
            self.server_errors += 1;
            if self.server_errors > self.config.retry.max_server_errors {
                let e = self.error_for(response);
                return self.fail(e);
            }
            self.wait_until = Some(
                now_ms.saturating_add(self.config.retry.backoff_ms(self.server_errors, random)),
            );
            return;
        }
        match self.phase {
            Phase::Token => self.on_token(response, now_ms),
            Phase::Login => self.on_login(response, now_ms),
            Phase::Usage => self.on_usage(response, now_ms),
            Phase::Done => {}
        }
    }

    /// Feeds back a request that got no answer: timeouts are retried like server errors, a
    /// failed connection once.
    pub fn handle_transport_error(&mut self, error: &TransportError, now_ms: u64, random: u64) {
        if self.phase == Phase::Done || !self.in_flight {
            return;
        }
        self.in_flight = false;
        let carrier = self.carrier();
        let retry = self.config.retry;
        // Neither is worth another try: the same request gets the same answer.
        if let Some(e) = final_transport_error(error, carrier) {
            return self.fail(e);
        }
        // A connection can drop under a request (an HTTP/2 server closing a connection after
        // its request limit, a proxy restarting): worth one more try, like a timeout.
        let (attempts, max, kind) = match error {
            TransportError::Timeout => {
                self.server_errors += 1;
                (
                    self.server_errors,
                    retry.max_server_errors,
                    FetchErrorKind::Timeout,
                )
            }
            TransportError::Network(_) => {
                self.network_errors += 1;
                (
                    self.network_errors,
                    retry.max_network_errors,
                    FetchErrorKind::Network,
                )
            }
            // Ended above.
            TransportError::Redirected | TransportError::TooLarge { .. } => return,
        };
        if attempts <= max {
            self.wait_until = Some(now_ms.saturating_add(retry.backoff_ms(attempts, random)));
            return;
        }
        let message = match error {
            TransportError::Timeout => format!(
                "no answer within {} s, {attempts} times; try a shorter range or a longer timeout",
                self.config.timeout_ms / 1000
            ),
            TransportError::Network(detail) => format!(
                "the request did not get through ({detail}); check the proxy settings: carriers send no CORS headers, so the browser needs a proxy that adds them"
            ),
            TransportError::Redirected | TransportError::TooLarge { .. } => return,
        };
        self.fail(FetchError::new(kind, carrier, message));
    }

    fn on_token(&mut self, response: &HttpResponse, now_ms: u64) {
        if response.status != 200 {
            let e = self.error_for(response);
            return self.fail(e);
        }
        let (token, lifetime) = match read_token_answer(&response.body, self.carrier()) {
            Ok(answer) => answer,
            Err(e) => return self.fail(e),
        };
        self.last_token_lifetime_ms = Some(lifetime);
        self.token_single_use = lifetime < crate::limits::TOKEN_EXPIRY_MARGIN_MS;
        self.token_fetches += 1;
        self.token = Some(Token {
            value: token,
            expires_at_ms: now_ms.saturating_add(lifetime),
        });
        // A ThingSpace session still fresh (the token expired under it) is kept: logging in
        // again would spend the new token, which may serve one request only.
        let session_fresh = self.session.as_ref().is_some_and(|s| s.is_fresh(now_ms));
        let logs_in = self.spec().login_request(&self.credentials, "").is_some();
        self.phase = if logs_in && !session_fresh {
            Phase::Login
        } else {
            Phase::Usage
        };
    }

    fn on_login(&mut self, response: &HttpResponse, now_ms: u64) {
        if response.status != 200 {
            if self.retry_auth(response) {
                return;
            }
            let e = self.error_for(response);
            return self.fail(e);
        }
        match read_session_answer(&response.body, self.carrier()) {
            Ok(s) => {
                // ThingSpace sessions last 20 minutes of inactivity; re-login handles expiry.
                self.session = Some(Token {
                    value: s,
                    expires_at_ms: now_ms.saturating_add(SESSION_LIFETIME_MS),
                });
                self.phase = Phase::Usage;
            }
            Err(e) => self.fail(e),
        }
    }

    /// A refused token or expired session: fetch a new one once, then give up.
    fn retry_auth(&mut self, response: &HttpResponse) -> bool {
        let (code, _) = message_of(&response.body);
        let code = code.unwrap_or_default();
        if code.contains("SessionToken") {
            if self.relogged {
                return false;
            }
            self.relogged = true;
            self.session = None;
            self.phase = Phase::Login;
            return true;
        }
        let token_refused = response.status == 401
            && (code == "900901"
                || code == "missingToken"
                || code.contains("Token")
                || code.is_empty());
        let can_refresh = self.spec().token_request(&self.credentials).is_some();
        if token_refused && can_refresh && !self.token_refreshed && self.phase != Phase::Token {
            self.token_refreshed = true;
            self.token = None;
            self.session = None;
            self.phase = Phase::Token;
            return true;
        }
        false
    }

    fn on_usage(&mut self, response: &HttpResponse, now_ms: u64) {
        let carrier = self.carrier();
        if response.status == 204 {
            self.outcome
                .notices
                .push(self.spec().no_usage_notice().to_owned());
            self.phase = Phase::Done;
            return;
        }
        if response.status != 200 && response.status != 202 {
            if self.retry_auth(response) {
                return;
            }
            let e = self.error_for(response);
            return self.fail(e);
        }
        let options = ParseOptions {
            carrier: Some(carrier),
            subject: self.subject.clone(),
            // A cycle-to-date answer counts up to now, from the account's billing day.
            billing_day: self.spec().billing_day(&self.query),
            fetched_at: Some((now_ms / 1000) as i64),
            ..ParseOptions::default()
        };
        let report = match parse(&response.body, &options, &mut self.outcome.set) {
            Ok(r) => r,
            Err(e) => {
                return self.fail(FetchError::new(
                    FetchErrorKind::BadResponse,
                    carrier,
                    format!("the answer could not be read: {e}"),
                ))
            }
        };
        self.page += 1;
        self.outcome.pages = self.page;
        self.outcome.warnings.extend(report.warnings);
        let more = report.has_more_data == Some(true) || response.status == 202;
        let Some(paging) = self.paging else {
            self.phase = Phase::Done;
            return;
        };
        if !more {
            if self.window_latest < self.range_latest {
                // The next 12-month window.
                self.earliest = self.window_latest + 1;
                self.previous_earliest = None;
                self.window_latest = self
                    .range_latest
                    .min(self.earliest.saturating_add(paging.window));
            } else {
                self.phase = Phase::Done;
            }
            return;
        }
        let Some(last) = report.last_timestamp else {
            return self.fail(FetchError::new(
                FetchErrorKind::PagingStalled,
                carrier,
                format!("{} said it has more data but the page had no rows to continue from; the rows read so far are kept", carrier.label()),
            ));
        };
        let next = last + 1;
        if next <= self.earliest || self.previous_earliest == Some(next) {
            return self.fail(FetchError::new(
                FetchErrorKind::PagingStalled,
                carrier,
                format!("{} paging did not move forward (the same page came back); stopped to avoid looping, the rows read so far are kept", carrier.label()),
            ));
        }
        if self.page >= self.config.max_pages {
            return self.fail(FetchError::new(
                FetchErrorKind::PagingStalled,
                carrier,
                format!("stopped after {} pages; choose a shorter range", self.page),
            ));
        }
        self.previous_earliest = Some(self.earliest);
        self.earliest = next;
    }

    /// The documented meaning of an error answer, with what to do about it.
    fn error_for(&self, response: &HttpResponse) -> FetchError {
        let carrier = self.carrier();
        let (code, text) = message_of(&response.body);
        let status = response.status;
        let c = code.as_deref().unwrap_or("");
        use FetchErrorKind as K;
        let documented = match status {
            429 => None,
            _ => carrier.spec().error_advice(status, c),
        };
        let (kind, advice): (K, String) = match (documented, status, c) {
            (_, 429, _) => (K::RateLimited, format!("the carrier's rate limit was hit {} times; wait a minute and try again", self.rate_limited)),
            (Some(documented), _, _) => documented,
            (_, 401, _) => (K::Auth, "credentials refused".into()),
            (_, 403, _) => (K::Forbidden, "access denied".into()),
            (_, 404, _) => (K::NotFound, "not found".into()),
            // The usagelens proxy's own answers (deploy/nginx/carriers.conf.template): the carrier
            // was never reached, or its certificate was refused.
            (_, _, PROXY_BAD_GATEWAY) => (K::Network, format!("the proxy could not connect to the carrier, or could not verify its TLS certificate ({} tries; the proxy's error log says which)", self.server_errors)),
            (_, _, PROXY_GATEWAY_TIMEOUT) => (K::Timeout, format!("the carrier did not answer the proxy in time ({} tries)", self.server_errors)),
            (_, s, _) if s >= 500 => (K::Server, format!("the carrier failed {} times; try again later", self.server_errors)),
            _ => (K::BadResponse, "unexpected answer".into()),
        };
        let from_proxy = matches!(c, PROXY_BAD_GATEWAY | PROXY_GATEWAY_TIMEOUT);
        let message = match text {
            Some(t) if !t.is_empty() && !from_proxy => format!("{advice} (carrier says: {t})"),
            _ => advice,
        };
        FetchError {
            kind,
            carrier,
            http_status: Some(status),
            carrier_code: code,
            message,
        }
    }
}
