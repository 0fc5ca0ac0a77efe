//! Listing the devices of an account, page by page, so a fleet can be fetched without typing its
//! identifiers. Sans-IO like [`super::FetchJob`]: [`DeviceListJob::poll`] says what to send,
//! the caller feeds the answers back.
//!
//! - Control Center: `GET /rws/api/v1/devices?modifiedSince=<ISO date>&pageSize=<n>&pageNumber=<n>`
//!   (Basic auth; `modifiedSince` is required by the API), pages from 1 until `lastPage` is true
//!   or a page is empty; an optional `status` is sent as a parameter and checked again here.
//! - ThingSpace: OAuth token and session login as for usage, then
//!   `POST /api/m2m/v1/devices/actions/list` with `{"accountName", "currentState"?,
//!   "largestDeviceIdSeen"?}`, the next page asked for with the first id of the last device seen,
//!   until `hasMoreData` is false. An expired session is renewed once.
//!
//! Every device is checked like a typed identifier; those that do not validate are counted, not
//! listed. Field names are matched without regard to case.

use serde_json::{Map, Value};

use super::{read_session_answer, read_token_answer, SESSION_LIFETIME_MS};
use super::{
    retry_after_ms, FetchConfig, FetchError, FetchErrorKind, HttpResponse, Purpose, RequestPlan,
    Step, Token, TransportError,
};
pub use crate::carriers::DeviceListQuery;
use crate::carriers::{DeviceListPage, PlannedRequest};
use crate::model::{Carrier, Subject};
use crate::readers::carrier_error_fields;
use crate::readers::json_util::get_ci as field;

pub use crate::carriers::control_center::CONTROL_CENTER_MAX_PAGE_SIZE;

/// One device of the account, with what the listing says about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedDevice {
    /// The device's identifier, validated.
    pub subject: Subject,
    /// Its state (Control Center `status`, ThingSpace `state`).
    pub status: Option<String>,
    /// Its rate plan (Control Center `ratePlan`, ThingSpace `servicePlan`).
    pub rate_plan: Option<String>,
    /// Its communication plan (Control Center `communicationPlan`; ThingSpace gives none).
    pub communication_plan: Option<String>,
}

/// What a finished listing produced (also when it stopped early: the devices so far are kept).
#[derive(Clone, Debug, Default)]
#[must_use = "the outcome holds the devices listed and the error that ended the listing"]
pub struct DeviceListOutcome {
    /// The devices listed, with a valid identifier and past the status filter.
    pub devices: Vec<ListedDevice>,
    /// Devices listed by the carrier but left out by the status filter.
    pub filtered_out: usize,
    /// Devices whose identifier does not validate (or that have none): not listed.
    pub invalid: usize,
    /// Pages read.
    pub pages: u32,
    /// The error that ended the listing; `None` when it completed.
    pub error: Option<FetchError>,
    /// The access token, for the next job with the same credentials.
    pub token: Option<Token>,
    /// The ThingSpace session, for the next job with the same credentials.
    pub session: Option<Token>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Token,
    Login,
    List,
    Done,
}

/// Pages one listing reads at most (5,000 devices are 100 Control Center pages).
const MAX_PAGES: u32 = 5_000;

/// One account's device listing, from credentials to identifiers.
#[derive(Debug)]
pub struct DeviceListJob {
    query: DeviceListQuery,
    credentials: super::Credentials,
    config: FetchConfig,
    phase: Phase,
    in_flight: bool,
    wait_until: Option<u64>,
    token: Option<Token>,
    session: Option<Token>,
    token_refreshed: bool,
    relogged: bool,
    rate_limited: u32,
    server_errors: u32,
    network_errors: u32,
    /// Control Center: the next page number; ThingSpace: pages read.
    page: u32,
    last_seen: Option<String>,
    outcome: DeviceListOutcome,
}

impl DeviceListJob {
    /// Checks the query and credentials before anything is sent.
    pub fn new(
        query: DeviceListQuery,
        credentials: super::Credentials,
        config: FetchConfig,
        cached_token: Option<Token>,
    ) -> Result<DeviceListJob, FetchError> {
        let carrier = query.carrier();
        let invalid = |m: String| FetchError::new(FetchErrorKind::InvalidInput, carrier, m);
        config.proxy.validate().map_err(invalid)?;
        let spec = carrier.spec();
        let listing = spec.device_listing().ok_or_else(|| {
            invalid(format!(
                "{} has no device listing usagelens knows",
                carrier.label()
            ))
        })?;
        spec.check_credentials(&credentials).map_err(invalid)?;
        listing.check(&query).map_err(invalid)?;
        let fetches_token = spec.token_request(&credentials).is_some();
        let cached_token = cached_token.filter(|_| fetches_token);
        let phase = if fetches_token && cached_token.is_none() {
            Phase::Token
        } else if spec.login_request(&credentials, "").is_some() {
            Phase::Login
        } else {
            Phase::List
        };
        Ok(DeviceListJob {
            token: cached_token,
            query,
            credentials,
            config,
            phase,
            in_flight: false,
            wait_until: None,
            session: None,
            token_refreshed: false,
            relogged: false,
            rate_limited: 0,
            server_errors: 0,
            network_errors: 0,
            page: 0,
            last_seen: None,
            outcome: DeviceListOutcome::default(),
        })
    }

    /// The carrier whose account is listed.
    #[must_use]
    pub fn carrier(&self) -> Carrier {
        self.query.carrier()
    }

    /// Devices listed so far.
    #[must_use]
    pub fn devices(&self) -> &[ListedDevice] {
        &self.outcome.devices
    }

    /// Pages read so far.
    #[must_use]
    pub fn pages(&self) -> u32 {
        self.outcome.pages
    }

    /// True once the listing is over (completed, failed or cancelled).
    #[must_use]
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Stops the listing; the devices listed so far are kept.
    pub fn cancel(&mut self) {
        if self.phase != Phase::Done {
            let carrier = self.carrier();
            self.fail(FetchError::new(
                FetchErrorKind::Cancelled,
                carrier,
                "cancelled; the devices listed so far are kept",
            ));
        }
    }

    /// Ends the listing and hands over everything it produced.
    pub fn finish(mut self) -> DeviceListOutcome {
        self.outcome.token = self.token;
        self.outcome.session = self.session;
        self.outcome
    }

    fn fail(&mut self, error: FetchError) {
        self.outcome.error = Some(error);
        self.phase = Phase::Done;
        self.in_flight = false;
    }

    /// What to do now.
    pub fn poll(&mut self, now_ms: u64) -> Step {
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
            return Step::Wait {
                until_ms: now_ms + 50,
            };
        }
        if self.phase != Phase::Token && self.token.as_ref().is_some_and(|t| !t.is_fresh(now_ms)) {
            self.token = None;
            self.session = None;
            self.phase = Phase::Token;
        }
        let plan = self.plan();
        if let Some(problem) = plan.headers.iter().find_map(|(name, value)| {
            super::header_value_problem(value).map(|p| format!("the {name} header: {p}"))
        }) {
            let carrier = self.carrier();
            self.fail(FetchError::new(
                FetchErrorKind::InvalidInput,
                carrier,
                format!("the request cannot be sent: {problem}"),
            ));
            return Step::Done;
        }
        self.in_flight = true;
        Step::Send(plan)
    }

    fn plan(&self) -> RequestPlan {
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
            Phase::List | Phase::Done => None,
        };
        let (planned, purpose) = auth.unwrap_or_else(|| {
            let page = DeviceListPage {
                query: &self.query,
                credentials: &self.credentials,
                token,
                session: self.session.as_ref().map(|s| s.value.as_str()),
                number: self.page + 1,
                last_seen: self.last_seen.as_deref(),
            };
            // `new` checked that the carrier lists devices.
            let planned = spec.device_listing().map_or_else(
                || PlannedRequest::get(String::new()),
                |l| l.page_request(&page),
            );
            (planned, Purpose::Usage(self.outcome.pages + 1))
        });
        RequestPlan::routed(planned, carrier, &self.config, purpose)
    }

    /// Feeds back the answer to the last `Send`.
    pub fn handle_response(&mut self, response: &HttpResponse, now_ms: u64, random: u64) {
        if self.phase == Phase::Done || !self.in_flight {
            return;
        }
        self.in_flight = false;
        let retry = self.config.retry;
        if response.status == 429 {
            self.rate_limited += 1;
            if self.rate_limited > retry.max_rate_limited {
                let e = self.error_for(response);
                return self.fail(e);
            }
            let delay = response
                .header("Retry-After")
                .and_then(|v| retry_after_ms(v, now_ms))
                .map(|ms| ms.min(retry.max_delay_ms))
                .unwrap_or_else(|| retry.backoff_ms(self.rate_limited, random));
            self.wait_until = Some(now_ms + delay);
            return;
        }
        if response.status >= 500 {
            self.server_errors += 1;
            if self.server_errors > retry.max_server_errors {
                let e = self.error_for(response);
                return self.fail(e);
            }
            self.wait_until = Some(now_ms + retry.backoff_ms(self.server_errors, random));
            return;
        }
        match self.phase {
            Phase::Token => self.on_token(response, now_ms),
            Phase::Login => self.on_login(response, now_ms),
            Phase::List => self.on_page(response),
            Phase::Done => {}
        }
    }

    /// Feeds back a request that got no answer: retried like [`super::FetchJob`] does.
    pub fn handle_transport_error(&mut self, error: &TransportError, now_ms: u64, random: u64) {
        if self.phase == Phase::Done || !self.in_flight {
            return;
        }
        self.in_flight = false;
        if let Some(e) = super::final_transport_error(error, self.carrier()) {
            return self.fail(e);
        }
        let retry = self.config.retry;
        let (attempts, max, kind, message) = match error {
            TransportError::Timeout => {
                self.server_errors += 1;
                (
                    self.server_errors,
                    retry.max_server_errors,
                    FetchErrorKind::Timeout,
                    format!(
                        "no answer within {} s, {} times",
                        self.config.timeout_ms / 1000,
                        self.server_errors
                    ),
                )
            }
            TransportError::Network(detail) => {
                self.network_errors += 1;
                (
                    self.network_errors,
                    retry.max_network_errors,
                    FetchErrorKind::Network,
                    format!("the request did not get through ({detail}); check the proxy"),
                )
            }
            TransportError::Redirected | TransportError::TooLarge { .. } => return,
        };
        if attempts <= max {
            self.wait_until = Some(now_ms + retry.backoff_ms(attempts, random));
            return;
        }
        let carrier = self.carrier();
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
        self.token = Some(Token {
            value: token,
            expires_at_ms: now_ms.saturating_add(lifetime),
        });
        self.phase = if self
            .carrier()
            .spec()
            .login_request(&self.credentials, "")
            .is_some()
        {
            Phase::Login
        } else {
            Phase::List
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
                self.session = Some(Token {
                    value: s,
                    expires_at_ms: now_ms.saturating_add(SESSION_LIFETIME_MS),
                });
                self.phase = Phase::List;
            }
            Err(e) => self.fail(e),
        }
    }

    /// An expired session or refused token: renewed once, then the listing gives up.
    fn retry_auth(&mut self, response: &HttpResponse) -> bool {
        let spec = self.carrier().spec();
        if spec.token_request(&self.credentials).is_none() {
            return false;
        }
        let code = carrier_error_fields(&response.body)
            .and_then(|(code, _)| code)
            .unwrap_or_default();
        if code.contains("SessionToken") && !self.relogged {
            self.relogged = true;
            self.session = None;
            self.phase = Phase::Login;
            return true;
        }
        if response.status == 401 && code == "900901" && !self.token_refreshed {
            self.token_refreshed = true;
            self.token = None;
            self.session = None;
            self.phase = Phase::Token;
            return true;
        }
        false
    }

    fn on_page(&mut self, response: &HttpResponse) {
        let carrier = self.carrier();
        if response.status != 200 && response.status != 202 {
            if self.retry_auth(response) {
                return;
            }
            let e = self.error_for(response);
            return self.fail(e);
        }
        let page = match read_page(carrier, &response.body) {
            Ok(page) => page,
            Err(message) => {
                return self.fail(FetchError::new(
                    FetchErrorKind::BadResponse,
                    carrier,
                    format!(
                        "page {} of the device list could not be read: {message}; the devices listed so far are kept",
                        self.outcome.pages + 1
                    ),
                ))
            }
        };
        self.outcome.pages += 1;
        self.page += 1;
        self.outcome.invalid += page.invalid;
        let wanted = self.query.status().map(|s| s.trim().to_ascii_lowercase());
        let seen = page.devices.len();
        for device in page.devices {
            let keep = match (&wanted, &device.status) {
                (None, _) => true,
                (Some(w), Some(s)) => s.trim().eq_ignore_ascii_case(w),
                (Some(_), None) => false,
            };
            if keep {
                self.outcome.devices.push(device);
            } else {
                self.outcome.filtered_out += 1;
            }
        }
        if !page.more || seen + page.invalid == 0 {
            self.phase = Phase::Done;
            return;
        }
        if page.cursor_paging {
            match page.last_id {
                Some(last) if self.last_seen.as_ref() != Some(&last) => self.last_seen = Some(last),
                _ => {
                    return self.fail(FetchError::new(
                        FetchErrorKind::PagingStalled,
                        carrier,
                        format!("{} said it has more devices but paging did not move forward; the devices listed so far are kept", carrier.label()),
                    ))
                }
            }
        }
        if self.outcome.pages >= MAX_PAGES {
            self.fail(FetchError::new(
                FetchErrorKind::PagingStalled,
                carrier,
                format!("stopped after {MAX_PAGES} pages; the devices listed so far are kept"),
            ));
        }
    }

    fn error_for(&self, response: &HttpResponse) -> FetchError {
        let carrier = self.carrier();
        let (code, text) = carrier_error_fields(&response.body).unwrap_or((None, None));
        let c = code.as_deref().unwrap_or("");
        use FetchErrorKind as K;
        let documented = match response.status {
            429 => None,
            _ => carrier
                .spec()
                .device_listing()
                .and_then(|l| l.error_advice(response.status, c)),
        };
        let (kind, advice): (K, &str) = match (documented, response.status, c) {
            (_, 429, _) => (
                K::RateLimited,
                "the carrier's rate limit was hit again and again; wait a minute and try again",
            ),
            (Some(documented), _, _) => documented,
            (_, 400, _) => (K::BadRequest, "the carrier rejected the listing request"),
            (_, 401, _) => (K::Auth, "credentials refused"),
            (_, 403, _) => (
                K::Forbidden,
                "access denied: these credentials may not list the account's devices",
            ),
            (_, 404, _) => (
                K::NotFound,
                "the device list was not found: check the proxy base URL",
            ),
            (_, s, _) if s >= 500 => (
                K::Server,
                "the carrier failed several times; try again later",
            ),
            _ => (K::BadResponse, "unexpected answer"),
        };
        let message = match text {
            Some(t) if !t.is_empty() => format!("{advice} (carrier says: {t})"),
            _ => advice.to_owned(),
        };
        FetchError {
            kind,
            carrier,
            http_status: Some(response.status),
            carrier_code: code,
            message,
        }
    }
}

/// One page of a device list, read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DevicePage {
    /// The page's devices with a valid identifier.
    pub devices: Vec<ListedDevice>,
    /// Entries without a valid identifier.
    pub invalid: usize,
    /// Whether the carrier has more pages.
    pub more: bool,
    /// Cursor paging: where the next page starts (ThingSpace's `largestDeviceIdSeen`).
    pub last_id: Option<String>,
    /// The carrier pages by the last id seen, which must move from page to page.
    pub cursor_paging: bool,
}

pub(crate) fn field_text(object: &Map<String, Value>, key: &str) -> Option<String> {
    match field(object, key)? {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) fn flag(object: &Map<String, Value>, key: &str) -> Option<bool> {
    match field(object, key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Reads one page of a device list (exposed for tests and saved pages).
pub fn read_page(carrier: Carrier, body: &str) -> Result<DevicePage, String> {
    let listing = carrier
        .spec()
        .device_listing()
        .ok_or_else(|| format!("{} has no device listing", carrier.label()))?;
    let value: Value =
        serde_json::from_str(body).map_err(|e| format!("it is not valid JSON ({e})"))?;
    let Value::Object(root) = value else {
        return Err("expected an object with a devices list".into());
    };
    let devices = match field(&root, "devices") {
        Some(Value::Array(d)) => d.as_slice(),
        None => &[],
        Some(_) => return Err("devices is not a list".into()),
    };
    let mut page = DevicePage {
        cursor_paging: listing.cursor_paging(),
        ..DevicePage::default()
    };
    for (i, device) in devices.iter().enumerate() {
        let Value::Object(device) = device else {
            return Err(format!("devices[{i}] is not an object"));
        };
        let listed = listing.device(device, &mut page);
        match listed {
            Some(d) => page.devices.push(d),
            None => page.invalid += 1,
        }
    }
    page.more = listing.more(&root);
    Ok(page)
}

/// The listed devices as the fleet form's list: `identifier,carrier,kind`, one a line.
#[must_use]
pub fn fleet_list_csv(carrier: Carrier, devices: &[ListedDevice]) -> String {
    let mut out = String::with_capacity(40 * (devices.len() + 1));
    out.push_str("identifier,carrier,kind\n");
    for d in devices {
        out.push_str(&d.subject.id);
        out.push(',');
        out.push_str(carrier.as_str());
        out.push(',');
        out.push_str(d.subject.kind.as_str());
        out.push('\n');
    }
    out
}
