//! The four carriers' request plans and the job that drives them.
//!
//! - Vodafone VRS: OAuth2 client credentials (`POST /oauth2/token`, Basic auth), token valid
//!   59:59 and per country (cached by the IMSI's MCC), or a pasted bearer token; then
//!   `GET /tmf-api/usageManagement/v4/usage/{imsi}` with a fresh `X-Correlator` UUID.
//! - TelecomX: `GET /mvno/{account}/usage?fromDate&toDate&type`, Basic or bearer auth; whole
//!   months, to >= from, at most 12 months.
//! - ThingSpace: OAuth token, session login, then `POST /devices/usage/actions/list` pages
//!   (HTTP 202 / `hasMoreData`), `earliest` moved past the last row; re-login once when the
//!   session expires; ranges over 12 months are fetched in 12-month windows, with a warning
//!   that ThingSpace keeps only the last 12 months.
//! - Control Center: `GET /rws/api/v1/devices/{iccid}/usageInZone` with Basic auth (user, API
//!   key) and optional `cycleStartDate`, `ratePlan`, `zone`; or the cycle to date,
//!   `GET /rws/api/v1/devices/{iccid}/ctdUsages`, read with the account's billing day.

use serde_json::Value;

use super::proxy::encode_component;
use super::{
    retry_after_ms, FetchConfig, FetchError, FetchErrorKind, FetchOutcome, HttpResponse, Method,
    Purpose, RequestPlan, Step, Token, TransportError,
};
use crate::ident::validate;
use crate::limits::{limit_text, size_text, MAX_ANSWER_BYTES, MAX_TOKEN_FETCHES_PER_JOB};
use crate::model::{format_timestamp, Carrier, Subject, SubjectKind, Warning};
use crate::readers::{carrier_error_fields, parse, ParseOptions};

/// A ThingSpace device: an id of some kind, or a label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceRef {
    Id(Subject),
    Label { name: String, value: String },
}

/// What to fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UsageQuery {
    Vodafone {
        imsi: String,
    },
    Telecomx {
        account: String,
        from: (i32, u32),
        to: (i32, u32),
        csv: bool,
    },
    Thingspace {
        device: DeviceRef,
        earliest: i64,
        latest: i64,
    },
    ControlCenter {
        iccid: String,
        cycle_start: Option<chrono::NaiveDate>,
        rate_plan: Option<String>,
        zone: Option<String>,
    },
    /// Control Center usage of the current billing cycle so far (`ctdUsages`).
    ControlCenterCtd {
        iccid: String,
        /// The day of the month the account's billing cycle starts (1-31).
        billing_day: u32,
    },
}

impl UsageQuery {
    pub fn carrier(&self) -> Carrier {
        match self {
            UsageQuery::Vodafone { .. } => Carrier::VodafoneVrs,
            UsageQuery::Telecomx { .. } => Carrier::Telecomx,
            UsageQuery::Thingspace { .. } => Carrier::Thingspace,
            UsageQuery::ControlCenter { .. } | UsageQuery::ControlCenterCtd { .. } => {
                Carrier::ControlCenter
            }
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    VodafoneClient {
        client_id: String,
        client_secret: String,
    },
    VodafoneBearer(String),
    TelecomxBasic {
        user: String,
        password: String,
    },
    TelecomxBearer(String),
    Thingspace {
        key: String,
        secret: String,
        username: String,
        password: String,
    },
    ControlCenter {
        username: String,
        api_key: String,
    },
}

/// Names the kind of credentials only: secrets never reach logs through `{:?}`.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credentials::VodafoneClient { .. } => "VodafoneClient(***)",
            Credentials::VodafoneBearer(_) => "VodafoneBearer(***)",
            Credentials::TelecomxBasic { .. } => "TelecomxBasic(***)",
            Credentials::TelecomxBearer(_) => "TelecomxBearer(***)",
            Credentials::Thingspace { .. } => "Thingspace(***)",
            Credentials::ControlCenter { .. } => "ControlCenter(***)",
        })
    }
}

/// Standard base64 (RFC 4648) for Basic auth headers.
pub fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn basic(user: &str, secret: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{secret}").as_bytes()))
}

/// A version-4 UUID from 128 random bits (the caller supplies them: no RNG in the core).
pub fn uuid_v4(random: u128) -> String {
    let mut b = random.to_be_bytes();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

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
    /// ThingSpace: where the next page starts, and where the previous one started.
    earliest: i64,
    previous_earliest: Option<i64>,
    /// ThingSpace: the end of the current window and of the whole range.
    window_latest: i64,
    range_latest: i64,
    outcome: FetchOutcome,
    subject: Option<Subject>,
}

const TMF_PATH: &str = "/tmf-api/usageManagement/v4/usage/";
/// ThingSpace requests cover at most this much (its 12 months of retention).
const WINDOW: i64 = 365 * 86_400;
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

/// A ThingSpace session login answer (`{"sessionToken"}`): the session token.
pub(crate) fn read_session_answer(body: &str) -> Result<String, FetchError> {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("sessionToken")?.as_str().map(str::to_owned))
        .ok_or_else(|| {
            FetchError::new(
                FetchErrorKind::BadResponse,
                Carrier::Thingspace,
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
        let invalid = |m: String| FetchError::new(FetchErrorKind::InvalidInput, carrier, m);
        config.proxy.validate().map_err(invalid)?;
        let credentials_fit = matches!(
            (&query, &credentials),
            (
                UsageQuery::Vodafone { .. },
                Credentials::VodafoneClient { .. } | Credentials::VodafoneBearer(_)
            ) | (
                UsageQuery::Telecomx { .. },
                Credentials::TelecomxBasic { .. } | Credentials::TelecomxBearer(_)
            ) | (
                UsageQuery::Thingspace { .. },
                Credentials::Thingspace { .. }
            ) | (
                UsageQuery::ControlCenter { .. } | UsageQuery::ControlCenterCtd { .. },
                Credentials::ControlCenter { .. }
            )
        );
        if !credentials_fit {
            return Err(invalid(format!(
                "these credentials are not {}'s",
                carrier.label()
            )));
        }
        let empty_secret = match &credentials {
            Credentials::VodafoneClient {
                client_id,
                client_secret,
            } => client_id.is_empty() || client_secret.is_empty(),
            Credentials::VodafoneBearer(t) | Credentials::TelecomxBearer(t) => t.trim().is_empty(),
            Credentials::TelecomxBasic { user, password } => user.is_empty() || password.is_empty(),
            Credentials::Thingspace {
                key,
                secret,
                username,
                password,
            } => key.is_empty() || secret.is_empty() || username.is_empty() || password.is_empty(),
            Credentials::ControlCenter { username, api_key } => {
                username.is_empty() || api_key.is_empty()
            }
        };
        if empty_secret {
            return Err(invalid("fill in every credential field".to_owned()));
        }
        if let Credentials::VodafoneBearer(t) | Credentials::TelecomxBearer(t) = &credentials {
            if let Some(problem) = super::header_value_problem(t.trim()) {
                return Err(invalid(format!("the access token: {problem}")));
            }
        }
        let mut earliest = 0;
        let mut range_latest = 0;
        let query = match query {
            UsageQuery::Vodafone { imsi } => UsageQuery::Vodafone {
                imsi: validate(SubjectKind::Imsi, &imsi).map_err(|e| invalid(e.message))?,
            },
            UsageQuery::Telecomx {
                account,
                from,
                to,
                csv,
            } => {
                let account =
                    validate(SubjectKind::Account, &account).map_err(|e| invalid(e.message))?;
                let months = |(y, m): (i32, u32)| i64::from(y) * 12 + i64::from(m);
                if !(1..=12).contains(&from.1) || !(1..=12).contains(&to.1) {
                    return Err(invalid("months run from 1 to 12".to_owned()));
                }
                if months(to) < months(from) {
                    return Err(invalid(
                        "the last month is before the first month".to_owned(),
                    ));
                }
                if months(to) - months(from) >= 12 {
                    return Err(invalid(
                        "TelecomX returns at most one year: choose 12 months or fewer".to_owned(),
                    ));
                }
                UsageQuery::Telecomx {
                    account,
                    from,
                    to,
                    csv,
                }
            }
            UsageQuery::Thingspace {
                device,
                earliest: e,
                latest,
            } => {
                let device = match device {
                    DeviceRef::Id(s) => DeviceRef::Id(Subject::new(
                        s.kind,
                        validate(s.kind, &s.id).map_err(|e| invalid(e.message))?,
                    )),
                    DeviceRef::Label { name, value } => {
                        validate(SubjectKind::Label, &format!("{name}={value}"))
                            .map_err(|e| invalid(e.message))?;
                        DeviceRef::Label { name, value }
                    }
                };
                if latest <= e {
                    return Err(invalid(
                        "the end of the range is not after its start".to_owned(),
                    ));
                }
                if latest - e > 10 * WINDOW {
                    return Err(invalid("choose a range of at most ten years".to_owned()));
                }
                range_latest = latest;
                earliest = e;
                UsageQuery::Thingspace {
                    device,
                    earliest: e,
                    latest,
                }
            }
            UsageQuery::ControlCenter {
                iccid,
                cycle_start,
                rate_plan,
                zone,
            } => UsageQuery::ControlCenter {
                iccid: validate(SubjectKind::Iccid, &iccid).map_err(|e| invalid(e.message))?,
                cycle_start: match (cycle_start, config.today) {
                    (Some(start), Some(today)) if start > today => {
                        return Err(invalid("the cycle start date is in the future".to_owned()))
                    }
                    (Some(start), Some(today))
                        if today
                            .checked_sub_months(chrono::Months::new(3))
                            .is_some_and(|oldest| start < oldest) =>
                    {
                        return Err(invalid(
                            "Control Center keeps the current billing cycle and the two before it: choose a cycle start within the last three months".to_owned(),
                        ))
                    }
                    (start, _) => start,
                },
                rate_plan: rate_plan.filter(|r| !r.trim().is_empty()),
                zone: zone.filter(|z| !z.trim().is_empty()),
            },
            UsageQuery::ControlCenterCtd { iccid, billing_day } => {
                if !(1..=31).contains(&billing_day) {
                    return Err(invalid(format!(
                        "the billing day is a day of the month, 1 to 31, not {billing_day}"
                    )));
                }
                UsageQuery::ControlCenterCtd {
                    iccid: validate(SubjectKind::Iccid, &iccid).map_err(|e| invalid(e.message))?,
                    billing_day,
                }
            }
        };
        let subject = match &query {
            UsageQuery::Vodafone { imsi } => Some(Subject::new(SubjectKind::Imsi, imsi.clone())),
            UsageQuery::Telecomx { account, .. } => {
                Some(Subject::new(SubjectKind::Account, account.clone()))
            }
            UsageQuery::Thingspace {
                device: DeviceRef::Id(s),
                ..
            } => Some(s.clone()),
            UsageQuery::Thingspace {
                device: DeviceRef::Label { name, value },
                ..
            } => Some(Subject::new(SubjectKind::Label, format!("{name}={value}"))),
            UsageQuery::ControlCenter { iccid, .. }
            | UsageQuery::ControlCenterCtd { iccid, .. } => {
                Some(Subject::new(SubjectKind::Iccid, iccid.clone()))
            }
        };
        let token = match &credentials {
            Credentials::VodafoneBearer(t) => Some(Token {
                value: t.trim().to_owned(),
                expires_at_ms: u64::MAX,
            }),
            Credentials::VodafoneClient { .. } | Credentials::Thingspace { .. } => cached_token,
            _ => None,
        };
        let phase = match (&credentials, &token) {
            (Credentials::VodafoneClient { .. } | Credentials::Thingspace { .. }, None) => {
                Phase::Token
            }
            (Credentials::Thingspace { .. }, Some(_)) => Phase::Login,
            _ => Phase::Usage,
        };
        let mut outcome = FetchOutcome::default();
        if range_latest - earliest > WINDOW {
            outcome.warnings.push(Warning::new(
                "the range is longer than 12 months: it is fetched in 12-month windows, and ThingSpace keeps only the last 12 months, so older windows may be empty",
            ));
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
            earliest,
            previous_earliest: None,
            window_latest: range_latest.min(earliest.saturating_add(WINDOW)),
            range_latest,
            outcome,
            subject,
        })
    }

    /// Reuses a ThingSpace session from an earlier job, so a fleet logs in once rather than per
    /// device. A stale session is ignored; one that expires in flight is renewed by the usual
    /// re-login.
    pub fn with_session(mut self, session: Option<Token>, now_ms: u64) -> FetchJob {
        if self.phase == Phase::Login {
            if let Some(session) = session.filter(|s| s.is_fresh(now_ms)) {
                self.session = Some(session);
                self.phase = Phase::Usage;
            }
        }
        self
    }

    pub fn carrier(&self) -> Carrier {
        self.query.carrier()
    }

    /// Pages of usage read so far.
    pub fn pages(&self) -> u32 {
        self.outcome.pages
    }

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
                && !matches!(self.credentials, Credentials::VodafoneBearer(_))
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
        let route = |path: &str| self.config.proxy.route(carrier, path);
        let bearer = || {
            format!(
                "Bearer {}",
                self.token.as_ref().map_or("", |t| t.value.as_str())
            )
        };
        let mut plan = RequestPlan {
            method: Method::Get,
            url: String::new(),
            headers: Vec::new(),
            body: None,
            purpose: Purpose::Usage(self.page + 1),
            timeout_ms: self.config.timeout_ms,
        };
        match (&self.query, &self.credentials, self.phase) {
            (
                _,
                Credentials::VodafoneClient {
                    client_id,
                    client_secret,
                },
                Phase::Token,
            ) => {
                plan.method = Method::Post;
                plan.url = route("/oauth2/token");
                plan.purpose = Purpose::Token;
                plan.headers
                    .push(("Authorization".into(), basic(client_id, client_secret)));
                plan.headers.push((
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ));
                plan.body = Some("grant_type=client_credentials".into());
            }
            (UsageQuery::Vodafone { imsi }, _, _) => {
                plan.url = route(&format!("{TMF_PATH}{}", encode_component(imsi)));
                plan.headers
                    .push(("Accept".into(), "application/json;charset=utf-8".into()));
                plan.headers.push(("Authorization".into(), bearer()));
                plan.headers.push(("X-Correlator".into(), uuid_v4(random)));
            }
            (
                UsageQuery::Telecomx {
                    account,
                    from,
                    to,
                    csv,
                },
                credentials,
                _,
            ) => {
                plan.url = route(&format!(
                    "/mvno/{account}/usage?fromDate={:04}-{:02}-01&toDate={:04}-{:02}-01&type={}",
                    from.0,
                    from.1,
                    to.0,
                    to.1,
                    if *csv { "CSV" } else { "JSON" }
                ));
                let auth = match credentials {
                    Credentials::TelecomxBasic { user, password } => basic(user, password),
                    Credentials::TelecomxBearer(t) => format!("Bearer {}", t.trim()),
                    _ => String::new(),
                };
                plan.headers.push(("Authorization".into(), auth));
            }
            (
                UsageQuery::Thingspace { .. },
                Credentials::Thingspace { key, secret, .. },
                Phase::Token,
            ) => {
                plan.method = Method::Post;
                plan.url = route("/api/ts/v1/oauth2/token");
                plan.purpose = Purpose::Token;
                plan.headers
                    .push(("Authorization".into(), basic(key, secret)));
                plan.headers.push((
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ));
                plan.body = Some("grant_type=client_credentials".into());
            }
            (
                UsageQuery::Thingspace { .. },
                Credentials::Thingspace {
                    username, password, ..
                },
                Phase::Login,
            ) => {
                plan.method = Method::Post;
                plan.url = route("/api/m2m/v1/session/login");
                plan.purpose = Purpose::Login;
                plan.headers.push(("Authorization".into(), bearer()));
                plan.headers
                    .push(("Content-Type".into(), "application/json".into()));
                plan.body = Some(
                    serde_json::json!({"username": username, "password": password}).to_string(),
                );
            }
            (UsageQuery::Thingspace { device, .. }, _, _) => {
                plan.method = Method::Post;
                plan.url = route("/api/m2m/v1/devices/usage/actions/list");
                plan.headers.push(("Authorization".into(), bearer()));
                plan.headers.push((
                    "VZ-M2M-Token".into(),
                    self.session
                        .as_ref()
                        .map_or(String::new(), |s| s.value.clone()),
                ));
                plan.headers
                    .push(("Content-Type".into(), "application/json".into()));
                let mut body = serde_json::json!({
                    "earliest": format_timestamp(self.earliest),
                    "latest": format_timestamp(self.window_latest),
                });
                match device {
                    DeviceRef::Id(s) => {
                        body["deviceId"] = serde_json::json!({"kind": s.kind.as_str(), "id": s.id})
                    }
                    DeviceRef::Label { name, value } => {
                        body["label"] = serde_json::json!({"name": name, "value": value})
                    }
                }
                plan.body = Some(body.to_string());
            }
            (
                UsageQuery::ControlCenter {
                    iccid,
                    cycle_start,
                    rate_plan,
                    zone,
                },
                credentials,
                _,
            ) => {
                let mut query = Vec::new();
                if let Some(d) = cycle_start {
                    query.push(format!(
                        "cycleStartDate={}",
                        encode_component(&format!("{}Z", d.format("%Y-%m-%d")))
                    ));
                }
                if let Some(r) = rate_plan {
                    query.push(format!("ratePlan={}", encode_component(r)));
                }
                if let Some(z) = zone {
                    query.push(format!("zone={}", encode_component(z)));
                }
                let q = if query.is_empty() {
                    String::new()
                } else {
                    format!("?{}", query.join("&"))
                };
                plan.url = route(&format!("/rws/api/v1/devices/{iccid}/usageInZone{q}"));
                if let Credentials::ControlCenter { username, api_key } = credentials {
                    plan.headers
                        .push(("Authorization".into(), basic(username, api_key)));
                }
                plan.headers
                    .push(("Accept".into(), "application/json".into()));
            }
            (UsageQuery::ControlCenterCtd { iccid, .. }, credentials, _) => {
                plan.url = route(&format!("/rws/api/v1/devices/{iccid}/ctdUsages"));
                if let Credentials::ControlCenter { username, api_key } = credentials {
                    plan.headers
                        .push(("Authorization".into(), basic(username, api_key)));
                }
                plan.headers
                    .push(("Accept".into(), "application/json".into()));
            }
        }
        plan
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
        self.phase = if matches!(self.query, UsageQuery::Thingspace { .. }) && !session_fresh {
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
        match read_session_answer(&response.body) {
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
        let can_refresh = matches!(
            self.credentials,
            Credentials::VodafoneClient { .. } | Credentials::Thingspace { .. }
        );
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
            self.outcome.notices.push(match carrier {
                Carrier::VodafoneVrs => {
                    "No usage data available for this IMSI (HTTP 204).".to_owned()
                }
                _ => "The carrier has no usage for this request (HTTP 204).".to_owned(),
            });
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
            billing_day: match self.query {
                UsageQuery::ControlCenterCtd { billing_day, .. } => Some(billing_day),
                _ => None,
            },
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
        if !matches!(self.query, UsageQuery::Thingspace { .. }) {
            self.phase = Phase::Done;
            return;
        }
        if !more {
            if self.window_latest < self.range_latest {
                // The next 12-month window.
                self.earliest = self.window_latest + 1;
                self.previous_earliest = None;
                self.window_latest = self.range_latest.min(self.earliest.saturating_add(WINDOW));
            } else {
                self.phase = Phase::Done;
            }
            return;
        }
        let Some(last) = report.last_timestamp else {
            return self.fail(FetchError::new(
                FetchErrorKind::PagingStalled,
                carrier,
                "ThingSpace said it has more data but the page had no rows to continue from; the rows read so far are kept",
            ));
        };
        let next = last + 1;
        if next <= self.earliest || self.previous_earliest == Some(next) {
            return self.fail(FetchError::new(
                FetchErrorKind::PagingStalled,
                carrier,
                "ThingSpace paging did not move forward (the same page came back); stopped to avoid looping, the rows read so far are kept",
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
        let (kind, advice): (K, String) = match (carrier, status, c) {
            (_, 429, _) => (K::RateLimited, format!("the carrier's rate limit was hit {} times; wait a minute and try again", self.rate_limited)),
            (Carrier::ControlCenter, _, "10000001") => (K::Auth, "invalid credentials, or this IP address is not in the allowed range: check the user name and API key".into()),
            (Carrier::ControlCenter, _, "10000012") => (K::BadRequest, "invalid date format: the cycle start date must be yyyy-MM-ddZ".into()),
            (Carrier::ControlCenter, _, "10000013") => (K::NotFound, "unknown rate plan: check its exact name or leave it empty".into()),
            (Carrier::ControlCenter, _, "10000024") => (K::BadRequest, "invalid API version: the proxy or base URL must end at /rws/api/v1".into()),
            (Carrier::ControlCenter, _, "10000028") => (K::BadRequest, "the request had a parameter Control Center does not know".into()),
            (Carrier::ControlCenter, _, "10000031") => (K::BadRequest, "unknown zone: check its exact name or leave it empty".into()),
            (Carrier::ControlCenter, _, "10000032") => (K::BadRequest, "the cycle start date must be one of the last three billing cycles".into()),
            (Carrier::ControlCenter, _, "20000001") => (K::NotFound, "no device with this ICCID".into()),
            (Carrier::ControlCenter, _, "30000001") => (K::Server, "unknown server error at Control Center; try again later".into()),
            (Carrier::VodafoneVrs, 400, "missingParameter") => (K::BadRequest, "a required parameter is missing".into()),
            (Carrier::VodafoneVrs, 400, _) => (K::BadRequest, "a parameter has the wrong type (the IMSI must be a string)".into()),
            (Carrier::VodafoneVrs, 401, _) => (K::Auth, "the access token is missing or invalid: check the client id and secret, or paste a fresh token (tokens are per country)".into()),
            (Carrier::VodafoneVrs, 403, _) => (K::Forbidden, "this IMSI is not in your allowed range".into()),
            (Carrier::VodafoneVrs, 404, _) => (K::NotFound, "no usage resource with this id".into()),
            (Carrier::VodafoneVrs, 422, _) => (K::InvalidInput, "Vodafone says the IMSI format is invalid".into()),
            (Carrier::VodafoneVrs, 302, _) => (K::BadResponse, "Vodafone redirected the request; point the proxy at the new location".into()),
            (Carrier::Telecomx, 400, _) => (K::BadRequest, "MVNO account id not found in the request: it must be 24 hex characters".into()),
            (Carrier::Telecomx, 404, _) => (K::NotFound, "no MVNO account with this id".into()),
            (Carrier::Telecomx, 403, _) => (K::Forbidden, "insufficient access level for this account: check the user or token".into()),
            (Carrier::Telecomx, 401, _) => (K::Auth, "credentials refused: check the user and password or token".into()),
            (Carrier::Telecomx, 422, _) => (K::InvalidInput, "the to date is before the from date".into()),
            (Carrier::Telecomx, 409, _) => (K::InvalidInput, "the date span is too large: at most one year".into()),
            (Carrier::Thingspace, _, "900901") => (K::Auth, "ThingSpace refused the access token: check the key and secret".into()),
            (Carrier::Thingspace, _, c) if c.contains("SessionToken") => (K::Auth, "the ThingSpace session expired again after a new login: check the user name and password".into()),
            (Carrier::Thingspace, _, "invalid_client") => (K::Auth, "ThingSpace refused the key and secret".into()),
            (Carrier::Thingspace, 401, _) => (K::Auth, "ThingSpace refused the credentials: check key, secret, user name and password".into()),
            (Carrier::Thingspace, 400, _) => (K::BadRequest, "ThingSpace rejected the request: check the device id kind and value, and the dates".into()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_uuid() {
        assert_eq!(
            base64(b"demo-client:demo-secret"),
            "ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ="
        );
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b""), "");
        let u = uuid_v4(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        assert_eq!(u, "01234567-89ab-4def-8123-456789abcdef");
    }
}
