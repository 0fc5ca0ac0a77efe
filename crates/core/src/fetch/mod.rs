//! Sans-IO fetching: a [`FetchJob`] says which request to send next ([`Step::Send`]), when to
//! wait ([`Step::Wait`]) and when it is done; the caller performs the I/O and feeds responses
//! back. Time and randomness come in as arguments, so every path (token reuse, paging,
//! re-login, retries, cancellation) runs under native tests. Model: quinn-proto, h11.

pub mod devices;
mod job;
pub mod proxy;
pub mod rate_limit;

pub use crate::carriers::{Credentials, DeviceRef, UsageQuery};
pub(crate) use job::{
    final_transport_error, read_session_answer, read_token_answer, SESSION_LIFETIME_MS,
};
pub use proxy::ProxyConfig;
pub use rate_limit::RateLimiter;

use std::fmt;

use crate::model::{Carrier, UsageSet, Warning};

/// The HTTP methods the carriers' APIs use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// HTTP `GET`.
    Get,
    /// HTTP `POST`.
    Post,
}

impl Method {
    /// `GET` or `POST`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// What a request is for, for progress display and logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// The access token request.
    Token,
    /// The session login (ThingSpace).
    Login,
    /// A usage page, numbered from 1.
    Usage(u32),
}

/// One HTTP request, fully described; the executor sends it as it is.
#[derive(Clone, PartialEq, Eq)]
pub struct RequestPlan {
    /// The HTTP method.
    pub method: Method,
    /// The full URL, routed by the [`ProxyConfig`].
    pub url: String,
    /// Header names and values, in order; some hold secrets (see [`RequestPlan::describe`]).
    pub headers: Vec<(String, String)>,
    /// The request body, if any.
    pub body: Option<String>,
    /// What the request is for.
    pub purpose: Purpose,
    /// How long to wait for the answer, in milliseconds.
    pub timeout_ms: u32,
}

/// Header names whose values are secrets.
const SECRET_HEADERS: [&str; 2] = ["authorization", "vz-m2m-token"];

impl RequestPlan {
    /// A carrier's planned request, routed through the configured proxy.
    pub(crate) fn routed(
        planned: crate::carriers::PlannedRequest,
        carrier: Carrier,
        config: &FetchConfig,
        purpose: Purpose,
    ) -> RequestPlan {
        RequestPlan {
            method: planned.method,
            url: config.proxy.route(carrier, &planned.path),
            headers: planned.headers,
            body: planned.body,
            purpose,
            timeout_ms: config.timeout_ms,
        }
    }

    /// A one-line description for logs: secrets in headers and bodies are replaced by `***`.
    #[must_use]
    pub fn describe(&self) -> String {
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|(k, v)| {
                if SECRET_HEADERS.contains(&k.to_ascii_lowercase().as_str()) {
                    let scheme = v.split_once(' ').map_or("", |(s, _)| s);
                    format!("{k}: {scheme} ***").replace(":  ***", ": ***")
                } else {
                    format!("{k}: {v}")
                }
            })
            .collect();
        let body = match (&self.body, self.purpose) {
            (None, _) => String::new(),
            (Some(_), Purpose::Login) => " body: ***".to_owned(),
            (Some(b), _) => format!(" body: {b}"),
        };
        format!(
            "{} {} [{}]{body}",
            self.method.as_str(),
            self.url,
            headers.join("; ")
        )
    }
}

impl fmt::Debug for RequestPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// What came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The response headers, names in any case.
    pub headers: Vec<(String, String)>,
    /// The body, as text.
    pub body: String,
}

impl HttpResponse {
    /// An answer with `status` and `body`, without headers.
    #[must_use]
    pub fn new(status: u16, body: impl Into<String>) -> HttpResponse {
        HttpResponse {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn with_header(mut self, name: &str, value: &str) -> HttpResponse {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The value of the first header named `name` (ASCII case ignored).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A request that got no HTTP answer usagelens can use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportError {
    /// No answer within the request's timeout.
    Timeout,
    /// The browser refused or the network failed (often CORS: the proxy is not configured).
    Network(String),
    /// The answer was a redirect (the browser hides its status and target). Redirects are not
    /// followed, so the credentials were not sent on to another address.
    Redirected,
    /// The answer is larger than [`MAX_ANSWER_BYTES`](crate::limits::MAX_ANSWER_BYTES):
    /// `bytes` as its `Content-Length` announced (`announced`), or what had arrived when
    /// reading stopped.
    TooLarge {
        /// The size in bytes: as announced, or as read when reading stopped.
        bytes: u64,
        /// True when `bytes` is the announced `Content-Length`.
        announced: bool,
    },
}

/// What kind of failure ended a fetch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchErrorKind {
    /// An identifier, date or option is wrong; nothing was sent.
    InvalidInput,
    /// Credentials or token refused.
    Auth,
    /// Access denied (HTTP 403, or a carrier code that means it).
    Forbidden,
    /// Not found (HTTP 404, or a carrier code that means it), e.g. an unknown device.
    NotFound,
    /// The carrier rejected a parameter.
    BadRequest,
    /// HTTP 429, still after the retries the [`RetryPolicy`] allows.
    RateLimited,
    /// A server error (5xx), still after the retries the [`RetryPolicy`] allows.
    Server,
    /// No answer in time (or the proxy's gateway timeout), still after the allowed retries.
    Timeout,
    /// No answer at all: a failed connection, a missing proxy, or a proxy that cannot reach the
    /// carrier.
    Network,
    /// Stopped by the caller.
    Cancelled,
    /// The carrier answered something usagelens cannot read.
    BadResponse,
    /// ThingSpace paging did not move forward.
    PagingStalled,
}

/// A failed fetch, with a message that says what happened and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchError {
    /// What kind of failure this is.
    pub kind: FetchErrorKind,
    /// The carrier the fetch was for.
    pub carrier: Carrier,
    /// The HTTP status of the answer that ended the fetch; `None` when no answer did.
    pub http_status: Option<u16>,
    /// The carrier's own error code, from the answer's body.
    pub carrier_code: Option<String>,
    /// What happened and what to do, for people.
    pub message: String,
}

impl FetchError {
    /// An error without HTTP status or carrier code.
    #[must_use]
    pub fn new(kind: FetchErrorKind, carrier: Carrier, message: impl Into<String>) -> FetchError {
        FetchError {
            kind,
            carrier,
            http_status: None,
            carrier_code: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.carrier.label(), self.message)?;
        match (self.http_status, &self.carrier_code) {
            (Some(s), Some(c)) => write!(f, " (HTTP {s}, {c})"),
            (Some(s), None) => write!(f, " (HTTP {s})"),
            (None, Some(c)) => write!(f, " ({c})"),
            (None, None) => Ok(()),
        }
    }
}

impl std::error::Error for FetchError {}

/// Bounded retries with jittered exponential backoff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after HTTP 429.
    pub max_rate_limited: u32,
    /// Retries after a 5xx or a timeout.
    pub max_server_errors: u32,
    /// Retries after a request got no answer at all (a dropped connection; also what a
    /// missing or wrong proxy looks like to the page, hence only one).
    pub max_network_errors: u32,
    /// The first retry's backoff in milliseconds, before jitter; doubled for each retry after.
    pub base_delay_ms: u64,
    /// The longest wait before a retry, in milliseconds (backoff and `Retry-After` alike).
    pub max_delay_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_rate_limited: 3,
            max_server_errors: 2,
            max_network_errors: 1,
            base_delay_ms: 500,
            max_delay_ms: crate::limits::MAX_RETRY_AFTER_MS,
        }
    }
}

impl RetryPolicy {
    /// Backoff before retry `attempt` (1-based): base x 2^(attempt-1), capped, with "full
    /// jitter" between half and all of it so clients spread out.
    #[must_use]
    pub fn backoff_ms(&self, attempt: u32, random: u64) -> u64 {
        let exp = self
            .base_delay_ms
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(20))
            .min(self.max_delay_ms);
        let half = exp / 2;
        half + random % (exp - half + 1)
    }
}

/// Why `value` cannot go out as an HTTP header value, if it cannot. Browsers refuse the whole
/// request otherwise (the Fetch standard takes Latin-1 text, without NUL or line breaks once
/// the ends are trimmed), and gloo-net's header setter throws through the wasm module.
#[must_use]
pub fn header_value_problem(value: &str) -> Option<String> {
    const HTTP_WHITESPACE: [char; 4] = [' ', '\t', '\r', '\n'];
    // Line breaks at the ends are trimmed by the browser; inside they are refused.
    let start = value.len() - value.trim_start_matches(HTTP_WHITESPACE).len();
    let inner = start..start + value.trim_matches(HTTP_WHITESPACE).len();
    let (index, (_, c)) = value.char_indices().enumerate().find(|(_, (at, c))| {
        u32::from(*c) > 0xFF || *c == '\0' || (matches!(c, '\r' | '\n') && inner.contains(at))
    })?;
    let what = match c {
        '\r' | '\n' => "a line break".to_owned(),
        '\0' => "a NUL character".to_owned(),
        c => format!("\"{c}\" (U+{:04X})", u32::from(c)),
    };
    Some(format!(
        "character {} is {what}, which an HTTP header cannot carry (Latin-1 text on one line)",
        index + 1
    ))
}

/// `Retry-After` as seconds or an HTTP date (any of the three forms HTTP allows: IMF-fixdate
/// `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT` and asctime
/// `Sun Nov  6 08:49:37 1994`), in milliseconds from `now_ms`, at most
/// [`MAX_RETRY_AFTER_MS`](crate::limits::MAX_RETRY_AFTER_MS).
#[must_use]
pub fn retry_after_ms(value: &str, now_ms: u64) -> Option<u64> {
    let v = value.trim();
    let wait = if v.bytes().all(|b| b.is_ascii_digit()) && !v.is_empty() {
        // More digits than a u64 holds is still "a very long time".
        v.parse::<u64>().unwrap_or(u64::MAX).saturating_mul(1000)
    } else {
        let at = http_date_ms(v)?;
        (at.max(0) as u64).saturating_sub(now_ms)
    };
    Some(wait.min(crate::limits::MAX_RETRY_AFTER_MS))
}

/// An HTTP date in any of its three forms, as Unix milliseconds.
fn http_date_ms(v: &str) -> Option<i64> {
    if let Ok(at) = chrono::DateTime::parse_from_rfc2822(v) {
        return Some(at.timestamp_millis());
    }
    // RFC 850: a two-digit year, read as the nearest (chrono: 69-99 are 19xx).
    const FORMS: [&str; 2] = ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"];
    FORMS.iter().find_map(|form| {
        chrono::NaiveDateTime::parse_from_str(v, form)
            .ok()
            .map(|t| t.and_utc().timestamp_millis())
    })
}

/// Per-job settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchConfig {
    /// How requests reach the carriers.
    pub proxy: ProxyConfig,
    /// Per-request timeout, in milliseconds.
    pub timeout_ms: u32,
    /// When to retry, how often, and how long to wait.
    pub retry: RetryPolicy,
    /// ThingSpace: most pages one job requests.
    pub max_pages: u32,
    /// Today, for client-side date checks (Control Center's last three cycles); unchecked
    /// when `None`.
    pub today: Option<chrono::NaiveDate>,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            proxy: ProxyConfig::Direct,
            timeout_ms: 30_000,
            retry: RetryPolicy::default(),
            max_pages: 100,
            today: None,
        }
    }
}

/// A bearer token and when it stops being valid (milliseconds, caller's clock).
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    /// The token itself: a secret (`Debug` does not show it).
    pub value: String,
    /// When it stops being valid, in the caller's clock (milliseconds); `u64::MAX` for a pasted
    /// token.
    pub expires_at_ms: u64,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token(***, expires at {} ms)", self.expires_at_ms)
    }
}

impl Token {
    /// Tokens are dropped a minute early so none expires in flight (a token that lives less
    /// than that is used once by the job that fetched it, see `FetchJob`).
    #[must_use]
    pub fn is_fresh(&self, now_ms: u64) -> bool {
        now_ms.saturating_add(crate::limits::TOKEN_EXPIRY_MARGIN_MS) < self.expires_at_ms
    }
}

/// What the driver asks of the executor.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "a job only moves on when its step is carried out"]
pub enum Step {
    /// Send this request, then feed back its answer or its transport error.
    Send(RequestPlan),
    /// Call `poll` again at this time (backoff or Retry-After).
    Wait {
        /// In the caller's clock, milliseconds.
        until_ms: u64,
    },
    /// The job is over: take what it produced with `finish`.
    Done,
}

/// Everything a finished job produced: the records read (also when a later step failed), the
/// readers' warnings, notices (e.g. "no usage"), the error that ended it, and the tokens worth
/// keeping for the next job.
#[derive(Clone, Debug, Default)]
#[must_use = "the outcome holds the records read and the error that ended the job"]
pub struct FetchOutcome {
    /// The records and events read, including those read before a later step failed.
    pub set: UsageSet,
    /// The readers' warnings, over all pages.
    pub warnings: Vec<Warning>,
    /// Notices for people, e.g. that the subject has no usage.
    pub notices: Vec<String>,
    /// The error that ended the job; `None` when it completed.
    pub error: Option<FetchError>,
    /// Usage pages read.
    pub pages: u32,
    /// The access token, for the next job with the same credentials; never a pasted one.
    pub token: Option<Token>,
    /// The ThingSpace session, for the next job with the same credentials.
    pub session: Option<Token>,
}

pub use job::FetchJob;

/// The request of an authentication phase, shared by the usage fetch and the device listing:
/// the access token (`login` false) or the session login with `token`; `None` when the
/// carrier's credentials have no such step.
pub(crate) fn auth_request(
    carrier: Carrier,
    credentials: &Credentials,
    token: Option<&str>,
    login: bool,
) -> Option<(crate::carriers::PlannedRequest, Purpose)> {
    let spec = carrier.spec();
    if login {
        spec.login_request(credentials, token.unwrap_or_default())
            .map(|p| (p, Purpose::Login))
    } else {
        spec.token_request(credentials).map(|p| (p, Purpose::Token))
    }
}
