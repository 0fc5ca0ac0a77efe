//! The carrier registry: everything usagelens knows about one carrier lives in its folder
//! (`vodafone/`, `telecomx/`, `thingspace/`, `control_center/`): its reader, its API (the
//! identifier kinds it takes, its credentials and their labels, its token scope, request plans,
//! documented errors, base URL, proxy prefix and paging) and its documentation.
//!
//! The rest of usagelens learns about a carrier through [`CarrierSpec`], reached with
//! [`Carrier::spec`](crate::model::Carrier::spec): detection and parsing ([`crate::readers`]),
//! the fetch job's generic phases (token, login, pages, retry: [`crate::fetch::FetchJob`]), the
//! fleet, the proxy configuration and both forms. This file holds the contract types that name
//! the carriers' own variants ([`Format`], [`UsageQuery`], [`Credentials`]) and the one table of
//! formats in detection order.
//!
//! Adding a carrier: see `docs/architecture.md`, "Adding a carrier".

pub mod control_center;
pub mod telecomx;
pub mod thingspace;
pub mod vodafone;

use serde::Serialize;

use crate::error::ParseError;
use crate::fetch::{FetchConfig, FetchErrorKind, Method};
use crate::model::{Carrier, Subject, SubjectKind, UsageSet};
use crate::readers::{ParseOptions, ReadOutcome};

/// The body formats usagelens reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Format {
    /// TMF635 `Usage` (one object or an array of them).
    #[serde(rename = "tmf635-json")]
    Tmf635Json,
    /// TelecomX monthly usage JSON.
    #[serde(rename = "telecomx-json")]
    TelecomxJson,
    /// TelecomX monthly usage CSV.
    #[serde(rename = "telecomx-csv")]
    TelecomxCsv,
    /// ThingSpace usage history (`devices/usage/actions/list`).
    #[serde(rename = "thingspace-json")]
    ThingspaceJson,
    /// Control Center `usageInZone` (one device, per billing cycle and zone).
    #[serde(rename = "control-center-json")]
    ControlCenterJson,
    /// Control Center `ctdUsages` (cycle-to-date usage of one device).
    #[serde(rename = "control-center-ctd-json")]
    ControlCenterCtdJson,
}

/// How a format is recognised and read.
struct FormatEntry {
    format: Format,
    carrier: Carrier,
    name: &'static str,
    /// One line for error messages that list what is known.
    description: &'static str,
    /// Whether a JSON body (or, for a CSV format, the first line) has this format's shape.
    looks_like: fn(&str) -> bool,
    read: fn(&str, &ParseOptions, &mut UsageSet) -> Result<ReadOutcome, ParseError>,
    csv: bool,
}

/// Every format, in detection order (the first whose shape fits wins).
const FORMATS: [FormatEntry; 6] = [
    FormatEntry {
        format: Format::ThingspaceJson,
        carrier: Carrier::Thingspace,
        name: "thingspace-json",
        description: "ThingSpace usage history JSON (usageHistory, hasMoreData)",
        looks_like: thingspace::looks_like,
        read: thingspace::reader::read,
        csv: false,
    },
    FormatEntry {
        format: Format::ControlCenterJson,
        carrier: Carrier::ControlCenter,
        name: "control-center-json",
        description: "Control Center usageInZone JSON (deviceCycleUsageInZones)",
        looks_like: control_center::looks_like,
        read: control_center::reader::read,
        csv: false,
    },
    FormatEntry {
        format: Format::Tmf635Json,
        carrier: Carrier::VodafoneVrs,
        name: "tmf635-json",
        description: "Vodafone VRS TMF635 Usage JSON (usageCharacteristic)",
        looks_like: vodafone::looks_like,
        read: vodafone::reader::read,
        csv: false,
    },
    FormatEntry {
        format: Format::TelecomxJson,
        carrier: Carrier::Telecomx,
        name: "telecomx-json",
        description: "TelecomX usage JSON (account, data, voice, sms, mms)",
        looks_like: telecomx::looks_like,
        read: telecomx::reader::read_json,
        csv: false,
    },
    FormatEntry {
        format: Format::ControlCenterCtdJson,
        carrier: Carrier::ControlCenter,
        name: "control-center-ctd-json",
        description: "Control Center cycle-to-date JSON (ctdDataUsage, ctdSMSUsage, ctdVoiceUsage)",
        looks_like: control_center::ctd::looks_like,
        read: control_center::ctd::read,
        csv: false,
    },
    FormatEntry {
        format: Format::TelecomxCsv,
        carrier: Carrier::Telecomx,
        name: "telecomx-csv",
        description: "TelecomX usage CSV (header number,name,ratePlan,year,month,...)",
        looks_like: telecomx::reader::is_csv_header,
        read: telecomx::reader::read_csv,
        csv: true,
    },
];

impl Format {
    /// Every format, in the order of [`Format::describe_all`].
    pub const ALL: [Format; 6] = [
        Format::Tmf635Json,
        Format::TelecomxJson,
        Format::TelecomxCsv,
        Format::ThingspaceJson,
        Format::ControlCenterJson,
        Format::ControlCenterCtdJson,
    ];

    fn entry(self) -> &'static FormatEntry {
        // Every format has its row: `FORMATS` lists each variant once (a unit test checks).
        FORMATS
            .iter()
            .find(|e| e.format == self)
            .unwrap_or(&FORMATS[0])
    }

    /// The contract name, e.g. `telecomx-csv`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.entry().name
    }

    /// Whose format this is.
    #[must_use]
    pub fn carrier(self) -> Carrier {
        self.entry().carrier
    }

    /// One line per format, for error messages that list what is known.
    #[must_use]
    pub fn describe_all() -> String {
        Format::ALL
            .iter()
            .map(|f| f.entry().description)
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The JSON format whose shape `body` has, in detection order.
    pub(crate) fn detect_json(body: &str) -> Option<Format> {
        FORMATS
            .iter()
            .find(|e| !e.csv && (e.looks_like)(body))
            .map(|e| e.format)
    }

    /// The CSV format whose header `first_line` is.
    pub(crate) fn detect_csv(first_line: &str) -> Option<Format> {
        FORMATS
            .iter()
            .find(|e| e.csv && (e.looks_like)(first_line))
            .map(|e| e.format)
    }

    /// Runs this format's reader.
    pub(crate) fn read(
        self,
        body: &str,
        options: &ParseOptions,
        set: &mut UsageSet,
    ) -> Result<ReadOutcome, ParseError> {
        (self.entry().read)(body, options, set)
    }
}

/// A ThingSpace device: an id of some kind, or a label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceRef {
    /// A typed device identifier (IMEI, ICCID, MDN, ...).
    Id(Subject),
    /// A label the account gave its devices.
    Label {
        /// The label's name.
        name: String,
        /// The label's value.
        value: String,
    },
}

/// What to fetch, in a carrier's own terms. Build one from a carrier-neutral
/// [`UsageRequest`] with [`CarrierSpec::query`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UsageQuery {
    /// Vodafone VRS TMF635 usage of one IMSI.
    Vodafone {
        /// 15 digits.
        imsi: String,
    },
    /// TelecomX monthly usage of one MVNO account.
    Telecomx {
        /// 24 hex characters.
        account: String,
        /// First month, (year, month).
        from: (i32, u32),
        /// Last month, (year, month).
        to: (i32, u32),
        /// Ask for CSV rather than JSON.
        csv: bool,
    },
    /// ThingSpace daily usage of one device.
    Thingspace {
        /// Which device.
        device: DeviceRef,
        /// First second (Unix).
        earliest: i64,
        /// Last second (Unix).
        latest: i64,
    },
    /// Control Center usage per zone of one billing cycle (`usageInZone`).
    ControlCenter {
        /// 19-20 digits.
        iccid: String,
        /// The cycle's first day; the current cycle when `None`.
        cycle_start: Option<chrono::NaiveDate>,
        /// Only this rate plan.
        rate_plan: Option<String>,
        /// Only this zone.
        zone: Option<String>,
    },
    /// Control Center usage of the current billing cycle so far (`ctdUsages`).
    ControlCenterCtd {
        /// 19-20 digits.
        iccid: String,
        /// The day of the month the account's billing cycle starts (1-31).
        billing_day: u32,
    },
}

impl UsageQuery {
    /// Whose API this query is for.
    #[must_use]
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

    /// The subject the answer is about.
    #[must_use]
    pub fn subject(&self) -> Subject {
        match self {
            UsageQuery::Vodafone { imsi } => Subject::new(SubjectKind::Imsi, imsi.clone()),
            UsageQuery::Telecomx { account, .. } => {
                Subject::new(SubjectKind::Account, account.clone())
            }
            UsageQuery::Thingspace {
                device: DeviceRef::Id(s),
                ..
            } => s.clone(),
            UsageQuery::Thingspace {
                device: DeviceRef::Label { name, value },
                ..
            } => Subject::new(SubjectKind::Label, format!("{name}={value}")),
            UsageQuery::ControlCenter { iccid, .. }
            | UsageQuery::ControlCenterCtd { iccid, .. } => {
                Subject::new(SubjectKind::Iccid, iccid.clone())
            }
        }
    }
}

/// A carrier's credentials, as its API takes them.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// Vodafone OAuth2 client credentials.
    VodafoneClient {
        /// The OAuth client id.
        client_id: String,
        /// The OAuth client secret.
        client_secret: String,
    },
    /// A Vodafone access token pasted by the user (per country).
    VodafoneBearer(String),
    /// TelecomX Basic auth.
    TelecomxBasic {
        /// The user name.
        user: String,
        /// The password.
        password: String,
    },
    /// A TelecomX bearer token.
    TelecomxBearer(String),
    /// ThingSpace: the application's key and secret (OAuth), and the account user (session).
    Thingspace {
        /// The application key.
        key: String,
        /// The application secret.
        secret: String,
        /// The ThingSpace user name.
        username: String,
        /// The ThingSpace password.
        password: String,
    },
    /// Control Center Basic auth with an API key.
    ControlCenter {
        /// The user name.
        username: String,
        /// The API key.
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

impl Credentials {
    /// Whose credentials these are.
    #[must_use]
    pub fn carrier(&self) -> Carrier {
        match self {
            Credentials::VodafoneClient { .. } | Credentials::VodafoneBearer(_) => {
                Carrier::VodafoneVrs
            }
            Credentials::TelecomxBasic { .. } | Credentials::TelecomxBearer(_) => Carrier::Telecomx,
            Credentials::Thingspace { .. } => Carrier::Thingspace,
            Credentials::ControlCenter { .. } => Carrier::ControlCenter,
        }
    }
}

/// Where a credential field's value goes: the five slots every form and host page use
/// (`getCredentials` answers `{user, secret, key, keySecret, token}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CredentialSlot {
    /// A user name or client id.
    User,
    /// A password, client secret or API key.
    Secret,
    /// ThingSpace's application key.
    Key,
    /// ThingSpace's application secret.
    KeySecret,
    /// A pasted access token.
    Token,
}

impl CredentialSlot {
    /// The field's name in `getCredentials` answers and form ids.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialSlot::User => "user",
            CredentialSlot::Secret => "secret",
            CredentialSlot::Key => "key",
            CredentialSlot::KeySecret => "keySecret",
            CredentialSlot::Token => "token",
        }
    }

    /// The slot's name in element ids (`ul-<name>`) and test ids (`fetch-<name>`).
    #[must_use]
    pub fn id_name(self) -> &'static str {
        match self {
            CredentialSlot::User => "user",
            CredentialSlot::Secret => "secret",
            CredentialSlot::Key => "key",
            CredentialSlot::KeySecret => "key-secret",
            CredentialSlot::Token => "token",
        }
    }
}

/// One credential field a form shows for a carrier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CredentialField {
    /// Where its value goes.
    pub slot: CredentialSlot,
    /// The label, in the carrier's own words ("Client id", "API key").
    pub label: &'static str,
    /// Shown as a password field, never remembered.
    pub secret: bool,
}

/// The values of the credential slots, as a form or a host page gives them.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CredentialValues {
    /// [`CredentialSlot::User`].
    pub user: String,
    /// [`CredentialSlot::Secret`].
    pub secret: String,
    /// [`CredentialSlot::Key`].
    pub key: String,
    /// [`CredentialSlot::KeySecret`].
    pub key_secret: String,
    /// [`CredentialSlot::Token`]: when given (and the carrier takes one) it is used instead of
    /// the other fields.
    pub token: String,
}

/// Names no secret: these are printed in errors and logs.
impl std::fmt::Debug for CredentialValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialValues(***)")
    }
}

impl CredentialValues {
    /// The value of one slot.
    #[must_use]
    pub fn get(&self, slot: CredentialSlot) -> &str {
        match slot {
            CredentialSlot::User => &self.user,
            CredentialSlot::Secret => &self.secret,
            CredentialSlot::Key => &self.key,
            CredentialSlot::KeySecret => &self.key_secret,
            CredentialSlot::Token => &self.token,
        }
    }

    /// Sets one slot.
    pub fn set(&mut self, slot: CredentialSlot, value: String) {
        *match slot {
            CredentialSlot::User => &mut self.user,
            CredentialSlot::Secret => &mut self.secret,
            CredentialSlot::Key => &mut self.key,
            CredentialSlot::KeySecret => &mut self.key_secret,
            CredentialSlot::Token => &mut self.token,
        } = value;
    }
}

/// The period fields a form shows for a carrier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodInput {
    /// None: the carrier answers with its latest usage (Vodafone).
    Latest,
    /// A first and a last month (TelecomX), and whether CSV can be asked for.
    Months {
        /// The carrier answers CSV too.
        csv: bool,
    },
    /// A first and a last day (ThingSpace).
    Days,
    /// A billing cycle (Control Center): its start date (empty: the current cycle), a rate plan
    /// and zone filter, or the current cycle to date with the account's billing day.
    Cycle,
}

/// What a user asks for, in carrier-neutral terms: the live form, the fleet and the portal fill
/// it in, and [`CarrierSpec::query`] turns it into the carrier's [`UsageQuery`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UsageRequest {
    /// Which SIM, device or account (already validated for its kind).
    pub subject: Option<Subject>,
    /// The first and last second of the period (Unix); `None` asks for the carrier's current
    /// period (Control Center's current cycle). Monthly carriers take the months it covers.
    pub period: Option<(i64, i64)>,
    /// The period is the one under way: a carrier with its own billing cycles (Control Center)
    /// is asked for its current cycle, whose dates need not match the period's.
    pub current: bool,
    /// Control Center: the usage of the current cycle so far, with the account's billing day.
    pub cycle_to_date: Option<u32>,
    /// Control Center: only this rate plan.
    pub rate_plan: Option<String>,
    /// Control Center: only this zone.
    pub zone: Option<String>,
    /// TelecomX: ask for CSV.
    pub csv: bool,
}

/// A request as a carrier plans it; the fetch job adds the proxy route, purpose and timeout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedRequest {
    /// GET or POST.
    pub method: Method,
    /// The path (and query) below the carrier's API base, starting with `/`.
    pub path: String,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body, for a POST.
    pub body: Option<String>,
}

impl PlannedRequest {
    /// A GET of `path`.
    #[must_use]
    pub fn get(path: String) -> PlannedRequest {
        PlannedRequest {
            method: Method::Get,
            path,
            headers: Vec::new(),
            body: None,
        }
    }

    /// A POST of `body` to `path` (headers, the content type included, added after).
    #[must_use]
    pub fn post(path: &str, body: String) -> PlannedRequest {
        PlannedRequest {
            method: Method::Post,
            path: path.to_owned(),
            headers: Vec::new(),
            body: Some(body),
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: &str, value: String) -> PlannedRequest {
        self.headers.push((name.to_owned(), value));
        self
    }
}

/// What a carrier's usage request is planned from.
#[derive(Clone, Copy, Debug)]
pub struct UsagePage<'a> {
    /// The checked query.
    pub query: &'a UsageQuery,
    /// The credentials.
    pub credentials: &'a Credentials,
    /// The access token, for carriers that use one.
    pub token: Option<&'a str>,
    /// The session token, for carriers that log in.
    pub session: Option<&'a str>,
    /// Cursor paging: the first and last second this page asks for.
    pub window: (i64, i64),
    /// Random bits, for correlation ids.
    pub random: u128,
}

/// Which account's devices to list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceListQuery {
    /// Control Center's `GET /devices` (Basic auth).
    ControlCenter {
        /// Devices changed since this day (the API requires it; a year back lists most).
        modified_since: chrono::NaiveDate,
        /// Devices a page, 1 to 50.
        page_size: u32,
        /// Only devices in this state (`ACTIVATED`, `DEACTIVATED`, ...), any case.
        status: Option<String>,
    },
    /// ThingSpace's `devices/actions/list` (token and session).
    Thingspace {
        /// The account, e.g. `0000123456-00001`.
        account_name: String,
        /// Only devices in this carrier state (`active`, `deactive`, `suspend`, ...), any case.
        status: Option<String>,
    },
}

impl DeviceListQuery {
    /// Whose account this lists.
    #[must_use]
    pub fn carrier(&self) -> Carrier {
        match self {
            DeviceListQuery::ControlCenter { .. } => Carrier::ControlCenter,
            DeviceListQuery::Thingspace { .. } => Carrier::Thingspace,
        }
    }

    /// The carrier state the listing keeps, if any.
    #[must_use]
    pub fn status(&self) -> Option<&str> {
        match self {
            DeviceListQuery::ControlCenter { status, .. }
            | DeviceListQuery::Thingspace { status, .. } => status.as_deref(),
        }
    }
}

/// What the account loader's form says: the day devices changed since (`yyyy-mm-dd`), the
/// account name, and a status to keep (empty: any).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountFilter {
    /// The day devices changed since, `yyyy-mm-dd`.
    pub since: String,
    /// The carrier's account name.
    pub account_name: String,
    /// Only devices in this state (empty: any).
    pub status: String,
}

/// What the account loader's form asks for a carrier's listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountFields {
    /// The day devices changed since.
    pub since: bool,
    /// The account name.
    pub account_name: bool,
    /// The states a listing can keep.
    pub statuses: &'static [&'static str],
}

/// One page request of a device listing.
#[derive(Clone, Copy, Debug)]
pub struct DeviceListPage<'a> {
    /// The checked listing query.
    pub query: &'a DeviceListQuery,
    /// The credentials.
    pub credentials: &'a Credentials,
    /// The access token, for carriers that use one.
    pub token: Option<&'a str>,
    /// The session token, for carriers that log in.
    pub session: Option<&'a str>,
    /// The page's number, from 1.
    pub number: u32,
    /// Cursor paging: the last id of the page before.
    pub last_seen: Option<&'a str>,
}

/// Listing an account's devices (a fleet from the account), for carriers that can. The
/// generic phases (token, login, pages, retries) are [`crate::fetch::devices::DeviceListJob`]'s.
pub trait DeviceListing: Sync {
    /// What the account loader's form asks for this listing.
    fn fields(&self) -> AccountFields;

    /// The listing query for what the account loader's form says, or what is missing.
    fn query(&self, filter: &AccountFilter) -> Result<DeviceListQuery, String>;

    /// Checks a listing query before anything is sent; the message names the field.
    fn check(&self, query: &DeviceListQuery) -> Result<(), String>;

    /// The request of one page.
    #[must_use]
    fn page_request(&self, page: &DeviceListPage<'_>) -> PlannedRequest;

    /// One device of a page (`None` when it has no valid identifier); a cursor-paged carrier
    /// also sets `page.last_id`.
    #[must_use]
    fn device(
        &self,
        device: &serde_json::Map<String, serde_json::Value>,
        page: &mut crate::fetch::devices::DevicePage,
    ) -> Option<crate::fetch::devices::ListedDevice>;

    /// Whether the carrier says it has more pages.
    #[must_use]
    fn more(&self, root: &serde_json::Map<String, serde_json::Value>) -> bool;

    /// The next page is asked for by the last id seen (else by page number).
    #[must_use]
    fn cursor_paging(&self) -> bool {
        false
    }

    /// The carrier's documented meaning of an error answer to a listing request.
    #[must_use]
    fn error_advice(&self, status: u16, code: &str) -> Option<(FetchErrorKind, &'static str)>;
}

/// A carrier's documented meaning of an error answer: its kind and what to do.
pub type ErrorAdvice = (FetchErrorKind, String);

/// Everything usagelens knows about one carrier. One implementation per carrier folder; reached
/// with [`Carrier::spec`](crate::model::Carrier::spec).
pub trait CarrierSpec: Sync {
    /// Which carrier this is.
    #[must_use]
    fn carrier(&self) -> Carrier;

    // --- identifiers ---

    /// The identifier kinds the carrier takes, the usual one first.
    #[must_use]
    fn subject_kinds(&self) -> &'static [SubjectKind];

    /// Whether a device may be named by a `name=value` label instead of an identifier.
    #[must_use]
    fn takes_labels(&self) -> bool {
        false
    }

    /// The period fields a form shows.
    #[must_use]
    fn period_input(&self) -> PeriodInput;

    /// The kind of a bare identifier string given for this carrier.
    #[must_use]
    fn default_subject_kind(&self, id: &str) -> SubjectKind {
        let _ = id;
        self.subject_kinds()[0]
    }

    /// The names a subject list may give this carrier by (lower case, words joined by `-`),
    /// besides [`Carrier::as_str`].
    #[must_use]
    fn list_names(&self) -> &'static [&'static str];

    // --- credentials ---

    /// The credential fields a form shows; `token` asks for the fields of the pasted-token
    /// alternative (only for carriers where [`CarrierSpec::takes_token`]).
    #[must_use]
    fn credential_fields(&self, token: bool) -> &'static [CredentialField];

    /// Whether the carrier takes a pasted access token instead of its other credentials.
    #[must_use]
    fn takes_token(&self) -> bool {
        false
    }

    /// The carrier's credentials from the slots' values (a token, when given and taken, wins).
    #[must_use]
    fn credentials(&self, values: &CredentialValues) -> Credentials;

    /// The carrier's credentials buy an access token (and maybe a session) that later requests
    /// of the same [`CarrierSpec::token_scope`] reuse: a fleet then tries a scope's first
    /// subject alone, and the others wait for its token rather than each asking for one.
    fn issues_tokens(&self) -> bool {
        false
    }

    /// Tokens (and sessions) are shared by subjects with the same scope: Vodafone's tokens work
    /// for one country only, so its scope is the IMSI's country code; others have one scope.
    #[must_use]
    fn token_scope(&self, subject: &Subject) -> String {
        let _ = subject;
        String::new()
    }

    // --- where requests go ---

    /// The carrier's own API base, from its documents.
    #[must_use]
    fn default_base(&self) -> &'static str;

    /// The path prefix of the carrier on the usagelens proxy (`/<prefix>/...`).
    #[must_use]
    fn proxy_prefix(&self) -> &'static str;

    // --- fetching ---

    /// The carrier's query for a carrier-neutral request, or what is missing.
    fn query(&self, request: &UsageRequest) -> Result<UsageQuery, String>;

    /// Checks (and normalises) a query before anything is sent; the message names the field.
    fn check_query(&self, query: UsageQuery, config: &FetchConfig) -> Result<UsageQuery, String>;

    /// Whether `credentials` are this carrier's and complete; the message says what is wrong.
    fn check_credentials(&self, credentials: &Credentials) -> Result<(), String>;

    /// A token the user pasted, used as it is (never refreshed).
    #[must_use]
    fn pasted_token<'a>(&self, credentials: &'a Credentials) -> Option<&'a str> {
        let _ = credentials;
        None
    }

    /// The access-token request, for credentials that fetch one.
    #[must_use]
    fn token_request(&self, credentials: &Credentials) -> Option<PlannedRequest> {
        let _ = credentials;
        None
    }

    /// The session login, for carriers that log in after the token.
    #[must_use]
    fn login_request(&self, credentials: &Credentials, token: &str) -> Option<PlannedRequest> {
        let _ = (credentials, token);
        None
    }

    /// The usage request of one page.
    #[must_use]
    fn usage_request(&self, page: &UsagePage<'_>) -> PlannedRequest;

    /// Cursor paging over `(earliest, latest)` in windows of at most this many seconds: the
    /// carrier answers `hasMoreData`/202 and the next page starts after the last row. `None`
    /// for carriers that answer in one page.
    #[must_use]
    fn paging(&self, query: &UsageQuery) -> Option<Paging> {
        let _ = query;
        None
    }

    /// Reading options the query implies (Control Center cycle to date: the billing day).
    #[must_use]
    fn billing_day(&self, query: &UsageQuery) -> Option<u32> {
        let _ = query;
        None
    }

    /// The notice for an HTTP 204 answer.
    #[must_use]
    fn no_usage_notice(&self) -> &'static str {
        "The carrier has no usage for this request (HTTP 204)."
    }

    /// The carrier's documented meaning of an error answer (status and error code), where it
    /// has one; the fetch job falls back to the generic meanings.
    #[must_use]
    fn error_advice(&self, status: u16, code: &str) -> Option<ErrorAdvice>;

    /// Listing the account's devices, where the carrier can.
    #[must_use]
    fn device_listing(&self) -> Option<&'static dyn DeviceListing> {
        None
    }
}

/// A carrier's cursor paging (see [`CarrierSpec::paging`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paging {
    /// First second of the whole range.
    pub earliest: i64,
    /// Last second of the whole range.
    pub latest: i64,
    /// Longest window one series of pages covers (seconds).
    pub window: i64,
    /// Longest range one job fetches (seconds).
    pub max_range: i64,
    /// The warning when the range is longer than one window.
    pub long_range_warning: &'static str,
}

impl Carrier {
    /// Everything usagelens knows about this carrier. This is the one exhaustive match on the
    /// carriers outside their folders.
    #[must_use]
    pub fn spec(self) -> &'static dyn CarrierSpec {
        match self {
            Carrier::VodafoneVrs => &vodafone::Vodafone,
            Carrier::Telecomx => &telecomx::Telecomx,
            Carrier::Thingspace => &thingspace::Thingspace,
            Carrier::ControlCenter => &control_center::ControlCenter,
        }
    }

    /// The carrier a subject list names: its contract name or one of its
    /// [`CarrierSpec::list_names`], in any case, with `_` or spaces for `-`.
    #[must_use]
    pub fn from_list_name(name: &str) -> Option<Carrier> {
        let name = name.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        Carrier::ALL
            .into_iter()
            .find(|c| c.as_str() == name || c.spec().list_names().contains(&name.as_str()))
    }
}

/// Standard base64 (RFC 4648) for Basic auth headers.
#[must_use]
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

/// An HTTP Basic `Authorization` value.
pub(crate) fn basic(user: &str, secret: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{secret}").as_bytes()))
}

/// An OAuth2 client-credentials token request to `path`, with Basic auth.
pub(crate) fn client_credentials_request(path: &str, id: &str, secret: &str) -> PlannedRequest {
    PlannedRequest::post(path, "grant_type=client_credentials".into())
        .header("Authorization", basic(id, secret))
        .header("Content-Type", "application/x-www-form-urlencoded".into())
}

/// "fill in every credential field" when any is empty.
pub(crate) fn require_filled(fields: &[&str]) -> Result<(), String> {
    if fields.iter().any(|f| f.is_empty()) {
        return Err("fill in every credential field".to_owned());
    }
    Ok(())
}

/// A pasted token must be sendable as a header value.
pub(crate) fn check_token(token: &str) -> Result<(), String> {
    if token.trim().is_empty() {
        return Err("fill in every credential field".to_owned());
    }
    match crate::fetch::header_value_problem(token.trim()) {
        Some(problem) => Err(format!("the access token: {problem}")),
        None => Ok(()),
    }
}

/// The message for credentials of another carrier.
pub(crate) fn not_ours(carrier: Carrier) -> String {
    format!("these credentials are not {}'s", carrier.label())
}

/// The message for a query of another carrier.
pub(crate) fn query_not_ours(carrier: Carrier) -> String {
    format!("this query is not for {}", carrier.label())
}

/// A validated identifier of `kind`, or the validator's message.
pub(crate) fn checked_id(kind: SubjectKind, id: &str) -> Result<String, String> {
    crate::ident::validate(kind, id).map_err(|e| e.message)
}

/// The (year, month) of a Unix time.
pub(crate) fn month_of(t: i64) -> (i32, u32) {
    use chrono::Datelike;
    let d = chrono::DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .date_naive();
    (d.year(), d.month())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_has_one_row_and_its_name() {
        for format in Format::ALL {
            let rows = FORMATS.iter().filter(|e| e.format == format).count();
            assert_eq!(rows, 1, "{format:?}");
        }
        assert_eq!(Format::TelecomxCsv.as_str(), "telecomx-csv");
        assert_eq!(
            Format::ControlCenterCtdJson.carrier(),
            Carrier::ControlCenter
        );
    }

    #[test]
    fn every_carrier_spec_is_its_own() {
        for carrier in Carrier::ALL {
            assert_eq!(carrier.spec().carrier(), carrier);
            assert!(!carrier.spec().subject_kinds().is_empty());
            assert!(!carrier.spec().credential_fields(false).is_empty());
        }
    }

    #[test]
    fn base64_and_uuid() {
        assert_eq!(
            base64(b"demo-client:demo-secret"),
            "ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ="
        );
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b""), "");
        let u = vodafone::uuid_v4(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        assert_eq!(u, "01234567-89ab-4def-8123-456789abcdef");
    }

    #[test]
    fn list_names_find_their_carrier() {
        assert_eq!(
            Carrier::from_list_name("Vodafone"),
            Some(Carrier::VodafoneVrs)
        );
        assert_eq!(
            Carrier::from_list_name("control-center"),
            Some(Carrier::ControlCenter)
        );
        assert_eq!(
            Carrier::from_list_name("Verizon ThingSpace"),
            Some(Carrier::Thingspace)
        );
        assert_eq!(Carrier::from_list_name("acme"), None);
    }
}
