//! The normalized usage model.
//!
//! A [`Record`] is one quantity of one service for one subject over one period. Records are kept
//! compact (48 bytes, `Copy`) because a fleet holds millions of them: every string a record refers
//! to (subject id, zone, rate plan, networks, attributes) lives once in the [`UsageSet`]'s
//! interner, and a record holds 32-bit handles to it. [`RecordJson`] is the public JSON contract
//! (camelCase), produced on demand by [`UsageSet::record_json`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::hash::BuildHasher;

use rustc_hash::FxHashMap;

use serde::{Deserialize, Serialize};

/// Which reader produced a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Carrier {
    /// Vodafone VRS: TMF635 `Usage` of one IMSI.
    VodafoneVrs,
    /// TelecomX MVNO: monthly usage of one account (JSON or CSV).
    Telecomx,
    /// Verizon ThingSpace: daily usage rows of one device.
    Thingspace,
    /// Cisco IoT Control Center: usage per zone of one device's billing cycle.
    ControlCenter,
}

impl Carrier {
    /// The carrier the forms start with where the page allows it (ThingSpace: its daily rows
    /// show the most of what usagelens does).
    pub const FORM_DEFAULT: Carrier = Carrier::Thingspace;

    /// Every carrier, in declaration order.
    pub const ALL: [Carrier; 4] = [
        Carrier::VodafoneVrs,
        Carrier::Telecomx,
        Carrier::Thingspace,
        Carrier::ControlCenter,
    ];

    /// The contract's name: `vodafone-vrs`, `telecomx`, `thingspace`, `control-center`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Carrier::VodafoneVrs => "vodafone-vrs",
            Carrier::Telecomx => "telecomx",
            Carrier::Thingspace => "thingspace",
            Carrier::ControlCenter => "control-center",
        }
    }

    /// A name for people: "Vodafone VRS", "TelecomX", ...
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Carrier::VodafoneVrs => "Vodafone VRS",
            Carrier::Telecomx => "TelecomX",
            Carrier::Thingspace => "Verizon ThingSpace",
            Carrier::ControlCenter => "Cisco Control Center",
        }
    }

    /// The carrier whose contract name ([`Carrier::as_str`]) is exactly `name`.
    #[must_use]
    pub fn parse(name: &str) -> Option<Carrier> {
        Carrier::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl fmt::Display for Carrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How long a period a record covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    /// A single usage event at one instant (Vodafone's `Usage`): duration 0.
    Event,
    /// One day (ThingSpace's daily rows).
    Day,
    /// One calendar month, UTC (TelecomX).
    Month,
    /// One billing cycle, which need not be a calendar month (Control Center).
    Cycle,
}

impl Granularity {
    /// The contract's name: `event`, `day`, `month`, `cycle`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Event => "event",
            Granularity::Day => "day",
            Granularity::Month => "month",
            Granularity::Cycle => "cycle",
        }
    }
}

/// The kind of traffic a record counts; each has exactly one [`Unit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    /// Packet data, in bytes.
    Data,
    /// Voice calls, in seconds.
    Voice,
    /// Text messages, counted.
    Sms,
    /// Multimedia messages, counted.
    Mms,
}

impl Service {
    /// Every service, in declaration order.
    pub const ALL: [Service; 4] = [Service::Data, Service::Voice, Service::Sms, Service::Mms];

    /// The contract's name: `data`, `voice`, `sms`, `mms`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Data => "data",
            Service::Voice => "voice",
            Service::Sms => "sms",
            Service::Mms => "mms",
        }
    }

    /// The service whose contract name ([`Service::as_str`]) is exactly `name`.
    #[must_use]
    pub fn parse(name: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Each service has exactly one unit, so a record need not store it.
    #[must_use]
    pub fn unit(self) -> Unit {
        match self {
            Service::Data => Unit::Bytes,
            Service::Voice => Unit::Seconds,
            Service::Sms | Service::Mms => Unit::Messages,
        }
    }
}

/// data: up/down/total; voice, sms, mms: mo/mt/total.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Data sent by the device (uplink).
    Up,
    /// Data received by the device (downlink).
    Down,
    /// Mobile originated: calls made, messages sent.
    Mo,
    /// Mobile terminated: calls and messages received.
    Mt,
    /// Both directions together, where the body does not split them.
    Total,
}

impl Direction {
    /// Every direction, in declaration order.
    pub const ALL: [Direction; 5] = [
        Direction::Up,
        Direction::Down,
        Direction::Mo,
        Direction::Mt,
        Direction::Total,
    ];

    /// The contract's name: `up`, `down`, `mo`, `mt`, `total`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
            Direction::Mo => "mo",
            Direction::Mt => "mt",
            Direction::Total => "total",
        }
    }

    /// The direction whose contract name ([`Direction::as_str`]) is exactly `name`.
    #[must_use]
    pub fn parse(name: &str) -> Option<Direction> {
        Direction::ALL.into_iter().find(|d| d.as_str() == name)
    }
}

/// The unit of a record's quantity, fixed by its service ([`Service::unit`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Bytes (data).
    Bytes,
    /// Seconds (voice).
    Seconds,
    /// A count of messages (SMS, MMS).
    Messages,
}

impl Unit {
    /// The contract's name: `bytes`, `seconds`, `messages`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Bytes => "bytes",
            Unit::Seconds => "seconds",
            Unit::Messages => "messages",
        }
    }
}

/// What kind of identifier a [`Subject`] is; [`crate::ident::validate`] checks each kind's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectKind {
    /// IMSI: the SIM's subscriber identity, 15 digits (or an encrypted IMSI for Vodafone).
    Imsi,
    /// ICCID: the SIM card's number, 18 to 20 digits ending in a Luhn check digit.
    Iccid,
    /// MSISDN: the phone number, 11 digits or E.164 (`+` and up to 15 digits).
    Msisdn,
    /// IMEI: the device's identity, 15 digits with a Luhn check digit, or a 16-digit IMEISV.
    Imei,
    /// EID: the eUICC's identity, 32 digits.
    Eid,
    /// MDN: the mobile directory number, 10 digits.
    Mdn,
    /// MEID: a CDMA device identity, 14 hexadecimal characters.
    Meid,
    /// ESN: a CDMA electronic serial number, 11 digits.
    Esn,
    /// A TelecomX account id, 24 hexadecimal characters.
    Account,
    /// A device label `name=value` (ThingSpace), or an id of no known shape.
    Label,
}

impl SubjectKind {
    /// Every subject kind, in declaration order.
    pub const ALL: [SubjectKind; 10] = [
        SubjectKind::Imsi,
        SubjectKind::Iccid,
        SubjectKind::Msisdn,
        SubjectKind::Imei,
        SubjectKind::Eid,
        SubjectKind::Mdn,
        SubjectKind::Meid,
        SubjectKind::Esn,
        SubjectKind::Account,
        SubjectKind::Label,
    ];

    /// The contract's name, lower case: `imsi`, `iccid`, ... `account`, `label`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Imsi => "imsi",
            SubjectKind::Iccid => "iccid",
            SubjectKind::Msisdn => "msisdn",
            SubjectKind::Imei => "imei",
            SubjectKind::Eid => "eid",
            SubjectKind::Mdn => "mdn",
            SubjectKind::Meid => "meid",
            SubjectKind::Esn => "esn",
            SubjectKind::Account => "account",
            SubjectKind::Label => "label",
        }
    }

    /// Case-insensitive: ThingSpace writes `eid` and `Eid` for the same kind.
    #[must_use]
    pub fn parse(name: &str) -> Option<SubjectKind> {
        SubjectKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(name))
    }
}

/// Who the usage belongs to, as the public contract writes it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Subject {
    /// What kind of identifier `id` is.
    pub kind: SubjectKind,
    /// The identifier itself, e.g. an ICCID's digits.
    pub id: String,
}

impl Subject {
    /// A subject of `kind` with the identifier `id`, as given (not validated).
    #[must_use]
    pub fn new(kind: SubjectKind, id: impl Into<String>) -> Subject {
        Subject {
            kind,
            id: id.into(),
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.as_str(), self.id)
    }
}

/// A PLMN as the body describes it; every part optional because carriers give what they have.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Network {
    /// Mobile country code, as the body writes it.
    pub mcc: Option<String>,
    /// Mobile network code, as the body writes it.
    pub mnc: Option<String>,
    /// The country, as the body writes it.
    pub country: Option<String>,
    /// The network's name.
    pub name: Option<String>,
}

impl Network {
    /// True when no part is known.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.mcc.is_none() && self.mnc.is_none() && self.country.is_none() && self.name.is_none()
    }
}

/// A handle to an interned string; `Sym::NONE` stands for "absent".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(u32);

impl Sym {
    /// The absent handle; resolves to nothing in any set.
    pub const NONE: Sym = Sym(u32::MAX);

    /// True for [`Sym::NONE`].
    #[must_use]
    pub fn is_none(self) -> bool {
        self == Sym::NONE
    }

    /// The handle's index into its set's table; `None` for [`Sym::NONE`].
    #[must_use]
    pub fn index(self) -> Option<usize> {
        (!self.is_none()).then_some(self.0 as usize)
    }
}

/// Where a record was used relative to its home network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Roaming {
    /// The body does not say.
    Unknown,
    /// Used in the home network.
    Home,
    /// Used outside the home network.
    Roaming,
}

impl Roaming {
    /// From the contract's `roaming`: `None` unknown, `Some(false)` home, `Some(true)` roaming.
    #[must_use]
    pub fn from_option(value: Option<bool>) -> Roaming {
        match value {
            None => Roaming::Unknown,
            Some(false) => Roaming::Home,
            Some(true) => Roaming::Roaming,
        }
    }

    /// The contract's `roaming`: `None` when unknown, else whether the use was roaming.
    #[must_use]
    pub fn as_option(self) -> Option<bool> {
        match self {
            Roaming::Unknown => None,
            Roaming::Home => Some(false),
            Roaming::Roaming => Some(true),
        }
    }
}

/// The compact, resident form of one record. Strings are handles into the owning [`UsageSet`].
///
/// `start` is Unix seconds (UTC); `end = start + duration` (half-open; 0 for an instantaneous event).
/// `allowance` uses `u64::MAX` for "none" so the record stays 48 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Record {
    /// Unix seconds (UTC) of the period's start, inclusive.
    pub start: i64,
    /// The amount used, exact, in the service's [`Unit`].
    pub quantity: u64,
    allowance: u64,
    /// The period's length in seconds (0 for an instantaneous event).
    pub duration: u32,
    /// The interned [`Subject`]; [`Sym::NONE`] when unknown.
    pub subject: Sym,
    /// The interned billing zone, roaming region or destination category; [`Sym::NONE`] when none.
    pub zone: Sym,
    /// Interned [`Context`]: networks, rate plan, source and attributes, shared by all the
    /// quantities read from one row of the body.
    pub context: Sym,
    /// Which reader produced the record.
    pub carrier: Carrier,
    /// How long a period the record covers.
    pub granularity: Granularity,
    /// What traffic the quantity counts.
    pub service: Service,
    /// Which way the traffic went.
    pub direction: Direction,
    /// Whether the use was in the home network, roaming, or unknown.
    pub roaming: Roaming,
}

impl Record {
    /// A record without allowance, zone or context, roaming unknown; the `with_*` methods add
    /// them.
    #[allow(clippy::too_many_arguments)]
    #[must_use]
    pub fn new(
        carrier: Carrier,
        subject: Sym,
        start: i64,
        duration: u32,
        granularity: Granularity,
        service: Service,
        direction: Direction,
        quantity: u64,
    ) -> Record {
        Record {
            start,
            quantity,
            allowance: u64::MAX,
            duration,
            subject,
            zone: Sym::NONE,
            context: Sym::NONE,
            carrier,
            granularity,
            service,
            direction,
            roaming: Roaming::Unknown,
        }
    }

    /// Unix seconds of the period's end, exclusive: `start + duration`.
    #[must_use]
    pub fn end(&self) -> i64 {
        self.start + i64::from(self.duration)
    }

    /// The quantity's unit, fixed by the service.
    #[must_use]
    pub fn unit(&self) -> Unit {
        self.service.unit()
    }

    /// The included quantity for this record's service, zone and period, in its unit; `None`
    /// when there is none.
    #[must_use]
    pub fn allowance(&self) -> Option<u64> {
        (self.allowance != u64::MAX).then_some(self.allowance)
    }

    /// Sets the allowance (`None`: none); `u64::MAX`, the "none" marker, is stored as
    /// `u64::MAX - 1`.
    #[must_use]
    pub fn with_allowance(mut self, allowance: Option<u64>) -> Record {
        // u64::MAX is the "none" marker; a real allowance that large is clamped just below it.
        self.allowance = allowance.map_or(u64::MAX, |a| a.min(u64::MAX - 1));
        self
    }

    /// Sets the interned zone.
    #[must_use]
    pub fn with_zone(mut self, zone: Sym) -> Record {
        self.zone = zone;
        self
    }

    /// Sets roaming from the contract's form (`None`: unknown).
    #[must_use]
    pub fn with_roaming(mut self, roaming: Option<bool>) -> Record {
        self.roaming = Roaming::from_option(roaming);
        self
    }

    /// Sets the interned [`Context`].
    #[must_use]
    pub fn with_context(mut self, context: Sym) -> Record {
        self.context = context;
        self
    }
}

/// What one row of a body says around its quantities. Interned, so the thousands of ThingSpace
/// days that share `source = "Raw Usage"` share one context.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Context {
    /// The subscriber's home network.
    pub home_network: Option<Network>,
    /// The network the usage happened on.
    pub visited_network: Option<Network>,
    /// The rate plan's name.
    pub rate_plan: Option<String>,
    /// The rate plan's version.
    pub rate_plan_version: Option<String>,
    /// The carrier's own source label, e.g. ThingSpace `Raw Usage`.
    pub source: Option<String>,
    /// Sorted by key, so equal attribute sets intern to the same context.
    pub attributes: BTreeMap<String, String>,
}

/// Carrier events kept beside the records; the dashboard shows them as chart annotations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum UsageEvent {
    /// TelecomX `charges[]`: an SMS to a premium service, billed on top of the plan.
    #[serde(rename_all = "camelCase")]
    OverchargedSms {
        /// Always [`Carrier::Telecomx`].
        carrier: Carrier,
        /// The account the charge belongs to, where known.
        subject: Option<Subject>,
        /// RFC 3339 UTC.
        at: String,
        /// The charge's `number`, as the document writes it.
        number: Option<String>,
        /// The charge's `description`.
        description: Option<String>,
        /// The charge's `amount` (1 when the body has none).
        amount: u64,
        /// The charge's `price`, as the document writes it.
        price: Option<f64>,
        /// True when the SMS is VAT exempt (the document's `vat`).
        vat_exempt: Option<bool>,
        /// The charge's `wholesale` amount, as the document writes it.
        wholesale: Option<f64>,
        /// The charge's `cost`, as the document writes it.
        cost: Option<f64>,
    },
    /// TelecomX `restOfWorldChangeLog[]` (also spelled `restOfWorldRoaming`).
    #[serde(rename_all = "camelCase")]
    RestOfWorld {
        /// Always [`Carrier::Telecomx`].
        carrier: Carrier,
        /// The account the change belongs to, where known.
        subject: Option<Subject>,
        /// `CHANGE`, `ACTIVATION`, `REVERSION` or `CHANGE_RATEPLAN`.
        change: String,
        /// RFC 3339 UTC; the document's `when`.
        at: String,
        /// RFC 3339 UTC; the document's `expiresAt`.
        expires_at: Option<String>,
        /// The change's `soc._id`.
        soc_id: Option<String>,
        /// The change's `soc.description`.
        soc_description: Option<String>,
        /// `AUTOSTART` or `PURCHASE`.
        soc_row_type: Option<String>,
        /// The change's `cost`, as the document writes it.
        cost: Option<f64>,
        /// The change's `wholesale` amount, as the document writes it.
        wholesale: Option<f64>,
        /// The change's `price`, as the document writes it.
        price: Option<f64>,
        /// The document's `isIncluded`.
        is_included: Option<bool>,
    },
}

impl UsageEvent {
    /// The event's time (RFC 3339), for placing it on a time axis.
    #[must_use]
    pub fn at(&self) -> &str {
        match self {
            UsageEvent::OverchargedSms { at, .. } | UsageEvent::RestOfWorld { at, .. } => at,
        }
    }
}

/// Something a reader noticed and did not turn into an error: the data is still usable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Warning {
    /// What the reader noticed, for people (cut to 600 characters).
    pub message: String,
    /// A JSON path or CSV column the warning is about, e.g. `usageHistory[3].extendedAttributes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// 1-based line (CSV rows, or the JSON line) where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

impl Warning {
    /// A warning saying `message` (cut to 600 characters), without field or line.
    #[must_use]
    pub fn new(message: impl Into<String>) -> Warning {
        Warning {
            message: crate::error::bounded(message.into(), crate::error::MAX_MESSAGE_CHARS),
            field: None,
            line: None,
        }
    }

    /// Names the JSON path or CSV column the warning is about (cut to 200 characters).
    #[must_use]
    pub fn at_field(mut self, field: impl Into<String>) -> Warning {
        self.field = Some(crate::error::bounded(
            field.into(),
            crate::error::MAX_FIELD_CHARS,
        ));
        self
    }

    /// Sets the 1-based line the warning is about.
    #[must_use]
    pub fn at_line(mut self, line: u64) -> Warning {
        self.line = Some(line);
        self
    }
}

fn context_has_unsafe_text(context: &Context) -> bool {
    let unsafe_text = |t: &Option<String>| t.as_deref().is_some_and(has_unsafe_display_char);
    let network_unsafe = |n: &Option<Network>| {
        n.as_ref().is_some_and(|n| {
            [&n.mcc, &n.mnc, &n.country, &n.name]
                .into_iter()
                .any(unsafe_text)
        })
    };
    network_unsafe(&context.home_network)
        || network_unsafe(&context.visited_network)
        || [
            &context.rate_plan,
            &context.rate_plan_version,
            &context.source,
        ]
        .into_iter()
        .any(unsafe_text)
        || context
            .attributes
            .iter()
            .any(|(k, v)| has_unsafe_display_char(k) || has_unsafe_display_char(v))
}

/// The public JSON form of a record (see `schema/usage-record.schema.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordJson {
    /// Which reader produced the record.
    pub carrier: Carrier,
    /// Who the usage belongs to; `None` when neither the body nor the caller says.
    pub subject: Option<Subject>,
    /// RFC 3339 UTC, inclusive.
    pub start: String,
    /// RFC 3339 UTC, exclusive; equal to `start` for an instantaneous event.
    pub end: String,
    /// How long a period the record covers.
    pub granularity: Granularity,
    /// What traffic the quantity counts.
    pub service: Service,
    /// data: up/down/total; voice, sms, mms: mo/mt/total.
    pub direction: Direction,
    /// Exact, in `unit`.
    pub quantity: u64,
    /// data: bytes; voice: seconds; sms and mms: messages.
    pub unit: Unit,
    /// Billing zone, roaming region or destination category.
    pub zone: Option<String>,
    /// True when used outside the home network; `None` when unknown.
    pub roaming: Option<bool>,
    /// The subscriber's home network.
    pub home_network: Option<Network>,
    /// The network the usage happened on.
    pub visited_network: Option<Network>,
    /// The rate plan's name.
    pub rate_plan: Option<String>,
    /// The rate plan's version.
    pub rate_plan_version: Option<String>,
    /// Included quantity for this record's service, zone and period, in `unit`.
    pub allowance: Option<u64>,
    /// The carrier's own source label, e.g. ThingSpace `Raw Usage`.
    pub source: Option<String>,
    /// Everything else the body says, by field name.
    pub attributes: BTreeMap<String, String>,
}

/// Formats Unix seconds as the contract's RFC 3339 UTC string (`2020-12-01T00:00:00Z`).
#[must_use]
pub fn format_timestamp(unix_seconds: i64) -> String {
    match chrono::DateTime::from_timestamp(unix_seconds, 0) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => unix_seconds.to_string(),
    }
}

/// Records kept in chunks of [`RecordStore::CHUNK`]: appending never moves what is stored.
///
/// A doubling `Vec` of 3.65 M records (175 MB) copies itself into a buffer twice as large, and wasm
/// memory never shrinks, so up to three times the data would stay resident. Here the first chunk
/// grows like a `Vec` (small sets stay small) and every later one is allocated at its final size.
#[derive(Clone, Debug, Default)]
pub struct RecordStore {
    chunks: Vec<Vec<Record>>,
    len: usize,
}

impl RecordStore {
    /// 65 536 records (3 MiB) per chunk.
    pub const CHUNK: usize = 1 << 16;

    /// How many records are stored.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no record is stored.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends a record.
    pub fn push(&mut self, record: Record) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < Self::CHUNK => chunk.push(record),
            _ => {
                let mut chunk = if self.chunks.is_empty() {
                    Vec::new()
                } else {
                    Vec::with_capacity(Self::CHUNK)
                };
                chunk.push(record);
                self.chunks.push(chunk);
            }
        }
        self.len += 1;
    }

    /// The record at `index`; `None` past the end.
    #[must_use]
    pub fn get(&self, index: usize) -> Option<&Record> {
        self.chunks
            .get(index / Self::CHUNK)
            .and_then(|c| c.get(index % Self::CHUNK))
    }

    /// The records in order.
    #[must_use]
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Record> + Clone + '_ {
        self.chunks.iter().flat_map(|c| c.iter())
    }

    /// Keeps the first `len` records.
    pub fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        let full = len / Self::CHUNK;
        self.chunks.truncate(full + 1);
        if let Some(last) = self.chunks.get_mut(full) {
            last.truncate(len % Self::CHUNK);
        }
        if self.chunks.last().is_some_and(Vec::is_empty) {
            self.chunks.pop();
        }
        self.len = len;
    }

    /// Bytes held for records (allocated capacity, not only the used part).
    #[must_use]
    pub fn allocated_bytes(&self) -> usize {
        self.chunks
            .iter()
            .map(|c| c.capacity() * std::mem::size_of::<Record>())
            .sum::<usize>()
            + self.chunks.capacity() * std::mem::size_of::<Vec<Record>>()
    }
}

impl std::ops::Index<usize> for RecordStore {
    type Output = Record;

    fn index(&self, index: usize) -> &Record {
        &self.chunks[index / Self::CHUNK][index % Self::CHUNK]
    }
}

impl<'a> IntoIterator for &'a RecordStore {
    type Item = &'a Record;
    type IntoIter = std::iter::Flatten<std::slice::Iter<'a, Vec<Record>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.chunks.iter().flatten()
    }
}

/// Records plus the tables their handles point into. One set can hold many parsed bodies
/// (a fleet), so strings are shared across all of them.
#[derive(Clone, Debug, Default)]
pub struct UsageSet {
    /// The records of every body read into the set, in reading order.
    pub records: RecordStore,
    /// The carrier events read beside the records, in reading order.
    pub events: Vec<UsageEvent>,
    strings: Vec<Box<str>>,
    // Fx, not SipHash: interning is per row in the readers, and these keys come from bodies the
    // user chose to load, so there is nobody to flood the table against.
    string_index: FxHashMap<Box<str>, u32>,
    subjects: Vec<Subject>,
    subject_index: FxHashMap<Subject, u32>,
    contexts: Vec<Context>,
    /// Each context's hash to the last context interned with it; `context_next` chains the
    /// earlier ones with the same hash. Contexts are stored once: keyed by the context itself,
    /// every new one was cloned into the map and the map's growth moved the ~300-byte keys
    /// (a third of reading a CSV with thousands of accounts, in wasm).
    context_index: FxHashMap<u64, u32>,
    context_next: Vec<u32>,
    /// How many strings from bodies held control or bidirectional-override characters (stored
    /// escaped), and the first of them as stored: the reader warns with it.
    escaped_strings: u64,
    first_escaped: Option<String>,
}

/// Characters that change how the text around them reads or prints (C0/C1 controls other than
/// tab, bidirectional embeddings, overrides and isolates, zero-width marks): a zone named with
/// U+202E would show reversed. Body strings holding one are stored with it escaped (`\u202E`).
#[must_use]
pub fn is_unsafe_display_char(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{a}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}'
        | '\u{feff}')
}

/// Whether `text` holds an [`is_unsafe_display_char`]. Printable ASCII and tab (nearly every
/// body string) are told apart byte by byte before any character is decoded.
#[inline]
pub fn has_unsafe_display_char(text: &str) -> bool {
    !text
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) || b == b'\t')
        && text.chars().any(is_unsafe_display_char)
}

/// `text` with every [`is_unsafe_display_char`] written as `\uXXXX`; `None` when it has none.
#[must_use]
pub fn escape_unsafe_display(text: &str) -> Option<String> {
    if !has_unsafe_display_char(text) {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe_display_char(c) {
            out.push_str(&format!("\\u{:04X}", c as u32));
        } else {
            out.push(c);
        }
    }
    Some(out)
}

impl UsageSet {
    /// An empty set.
    #[must_use]
    pub fn new() -> UsageSet {
        UsageSet::default()
    }

    /// How many records the set holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when the set holds no record.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The handle of `text`, added if new; display-unsafe characters are stored escaped.
    pub fn intern(&mut self, text: &str) -> Sym {
        if let Some(&i) = self.string_index.get(text) {
            return Sym(i);
        }
        if let Some(escaped) = self.escaped(text) {
            return self.intern(&escaped);
        }
        let i = self.strings.len() as u32;
        self.strings.push(text.into());
        self.string_index.insert(text.into(), i);
        Sym(i)
    }

    /// [`UsageSet::intern`] of `text`, or [`Sym::NONE`] for `None`.
    pub fn intern_opt(&mut self, text: Option<&str>) -> Sym {
        text.map_or(Sym::NONE, |t| self.intern(t))
    }

    /// The string behind a handle; `None` for `Sym::NONE` or a handle from another set.
    #[must_use]
    pub fn resolve(&self, sym: Sym) -> Option<&str> {
        sym.index().and_then(|i| self.strings.get(i)).map(|s| &**s)
    }

    /// Looks a string up without adding it (for filters: an unknown zone matches nothing).
    #[must_use]
    pub fn lookup(&self, text: &str) -> Option<Sym> {
        self.string_index.get(text).map(|&i| Sym(i))
    }

    /// The handle of `subject`, added if new; a display-unsafe id is stored escaped.
    pub fn intern_subject(&mut self, subject: &Subject) -> Sym {
        if let Some(&i) = self.subject_index.get(subject) {
            return Sym(i);
        }
        if let Some(id) = self.escaped(&subject.id) {
            return self.intern_subject(&Subject::new(subject.kind, id));
        }
        let i = self.subjects.len() as u32;
        self.subjects.push(subject.clone());
        self.subject_index.insert(subject.clone(), i);
        Sym(i)
    }

    /// The subject behind a handle; `None` for [`Sym::NONE`] or an unknown handle.
    #[must_use]
    pub fn subject(&self, sym: Sym) -> Option<&Subject> {
        sym.index().and_then(|i| self.subjects.get(i))
    }

    /// The handle of the `index`-th subject of [`UsageSet::subjects`].
    #[must_use]
    pub fn subject_sym(&self, index: usize) -> Sym {
        if index < self.subjects.len() {
            Sym(index as u32)
        } else {
            Sym::NONE
        }
    }

    /// Every interned subject, in the order first seen.
    #[must_use]
    pub fn subjects(&self) -> &[Subject] {
        &self.subjects
    }

    /// The interned context equal to `context` (whose hash is `hash`), if any.
    fn find_context(&self, hash: u64, context: &Context) -> Option<u32> {
        let mut i = *self.context_index.get(&hash)?;
        while i != u32::MAX {
            if self.contexts[i as usize] == *context {
                return Some(i);
            }
            i = self.context_next[i as usize];
        }
        None
    }

    /// The handle of `context`, added if new; [`Sym::NONE`] for an empty context.
    /// Display-unsafe text is stored escaped.
    pub fn intern_context(&mut self, context: Context) -> Sym {
        if context == Context::default() {
            return Sym::NONE;
        }
        let hash = rustc_hash::FxBuildHasher.hash_one(&context);
        if let Some(i) = self.find_context(hash, &context) {
            return Sym(i);
        }
        let mut context = context;
        if context_has_unsafe_text(&context) {
            let mut clean = |t: &mut String| {
                if let Some(e) = self.escaped(t) {
                    *t = e;
                }
            };
            for network in [&mut context.home_network, &mut context.visited_network]
                .into_iter()
                .flatten()
            {
                for t in [
                    &mut network.mcc,
                    &mut network.mnc,
                    &mut network.country,
                    &mut network.name,
                ]
                .into_iter()
                .flatten()
                {
                    clean(t);
                }
            }
            for t in [
                &mut context.rate_plan,
                &mut context.rate_plan_version,
                &mut context.source,
            ]
            .into_iter()
            .flatten()
            {
                clean(t);
            }
            let attributes = std::mem::take(&mut context.attributes);
            for (mut k, mut v) in attributes {
                clean(&mut k);
                clean(&mut v);
                context.attributes.insert(k, v);
            }
            return self.intern_context(context);
        }
        let i = self.contexts.len() as u32;
        self.contexts.push(context);
        let previous = self.context_index.insert(hash, i).unwrap_or(u32::MAX);
        self.context_next.push(previous);
        Sym(i)
    }

    /// `text` escaped when it holds characters that would change how it displays, counted.
    fn escaped(&mut self, text: &str) -> Option<String> {
        let escaped = escape_unsafe_display(text)?;
        self.escaped_strings += 1;
        if self.first_escaped.is_none() {
            self.first_escaped = Some(escaped.clone());
        }
        Some(escaped)
    }

    /// How many body strings were stored escaped so far, and the first of them.
    #[must_use]
    pub fn escaped_strings(&self) -> (u64, Option<&str>) {
        (self.escaped_strings, self.first_escaped.as_deref())
    }

    /// The context behind a handle; `None` for [`Sym::NONE`] or an unknown handle.
    #[must_use]
    pub fn context(&self, sym: Sym) -> Option<&Context> {
        sym.index().and_then(|i| self.contexts.get(i))
    }

    /// Appends a record whose handles come from this set.
    pub fn push(&mut self, record: Record) {
        self.records.push(record);
    }

    /// Moves another set's records and events into this one, re-interning their strings.
    pub fn extend_from(&mut self, other: &UsageSet) {
        let mut string_map: HashMap<u32, Sym> = HashMap::new();
        let mut subject_map: HashMap<u32, Sym> = HashMap::new();
        let mut context_map: HashMap<u32, Sym> = HashMap::new();
        for r in &other.records {
            let mut r = *r;
            r.zone = match r.zone.index() {
                None => Sym::NONE,
                Some(i) => *string_map
                    .entry(i as u32)
                    .or_insert_with(|| self.intern(&other.strings[i])),
            };
            r.subject = match r.subject.index() {
                None => Sym::NONE,
                Some(i) => *subject_map
                    .entry(i as u32)
                    .or_insert_with(|| self.intern_subject(&other.subjects[i])),
            };
            r.context = match r.context.index() {
                None => Sym::NONE,
                Some(i) => *context_map
                    .entry(i as u32)
                    .or_insert_with(|| self.intern_context(other.contexts[i].clone())),
            };
            self.records.push(r);
        }
        self.events.extend(other.events.iter().cloned());
    }

    /// Drops the records and events in the given index ranges (sorted, disjoint), keeping the
    /// rest in order. Interned strings stay: they are shared and cheap. One pass, so removing
    /// many small runs (a fleet's retried subjects) costs no more than removing one.
    pub fn remove_ranges(
        &mut self,
        records: &[std::ops::Range<usize>],
        events: &[std::ops::Range<usize>],
    ) {
        let mut kept = RecordStore::default();
        let mut runs = records.iter().peekable();
        for (i, r) in self.records.iter().enumerate() {
            while runs.next_if(|run| run.end <= i).is_some() {}
            if !runs.peek().is_some_and(|run| run.contains(&i)) {
                kept.push(*r);
            }
        }
        self.records = kept;
        let mut runs = events.iter().peekable();
        let mut i = 0;
        self.events.retain(|_| {
            while runs.next_if(|run| run.end <= i).is_some() {}
            let keep = !runs.peek().is_some_and(|run| run.contains(&i));
            i += 1;
            keep
        });
    }

    /// The records and events of `subjects` inside the given ranges (sorted, disjoint), as
    /// sorted runs of indices for [`UsageSet::remove_ranges`] and [`shift_range`].
    #[must_use]
    pub fn subject_runs(
        &self,
        records: &[std::ops::Range<usize>],
        events: &[std::ops::Range<usize>],
        subjects: &[Subject],
    ) -> (Vec<std::ops::Range<usize>>, Vec<std::ops::Range<usize>>) {
        let syms: HashSet<Sym> = subjects
            .iter()
            .filter_map(|s| self.subject_index.get(s).map(|&i| Sym(i)))
            .collect();
        let mut record_runs = Runs::default();
        for i in records.iter().flat_map(|r| r.clone()) {
            match self.records.get(i) {
                Some(r) if syms.contains(&r.subject) => record_runs.add(i),
                Some(_) => {}
                None => break,
            }
        }
        let mut event_runs = Runs::default();
        for range in events {
            for i in range.clone() {
                let subject = match self.events.get(i) {
                    Some(
                        UsageEvent::OverchargedSms { subject, .. }
                        | UsageEvent::RestOfWorld { subject, .. },
                    ) => subject.as_ref(),
                    None => break,
                };
                if subject.is_some_and(|s| subjects.contains(s)) {
                    event_runs.add(i);
                }
            }
        }
        (record_runs.0, event_runs.0)
    }

    /// The public JSON form of one record.
    #[must_use]
    pub fn record_json(&self, record: &Record) -> RecordJson {
        let context = self.context(record.context);
        RecordJson {
            carrier: record.carrier,
            subject: self.subject(record.subject).cloned(),
            start: format_timestamp(record.start),
            end: format_timestamp(record.end()),
            granularity: record.granularity,
            service: record.service,
            direction: record.direction,
            quantity: record.quantity,
            unit: record.unit(),
            zone: self.resolve(record.zone).map(str::to_owned),
            roaming: record.roaming.as_option(),
            home_network: context.and_then(|c| c.home_network.clone()),
            visited_network: context.and_then(|c| c.visited_network.clone()),
            rate_plan: context.and_then(|c| c.rate_plan.clone()),
            rate_plan_version: context.and_then(|c| c.rate_plan_version.clone()),
            allowance: record.allowance(),
            source: context.and_then(|c| c.source.clone()),
            attributes: context.map(|c| c.attributes.clone()).unwrap_or_default(),
        }
    }

    /// The public JSON form of every record, in order.
    #[must_use]
    pub fn records_json(&self) -> Vec<RecordJson> {
        self.records.iter().map(|r| self.record_json(r)).collect()
    }
}

/// Sorted indices gathered into runs.
#[derive(Default)]
struct Runs(Vec<std::ops::Range<usize>>);

impl Runs {
    fn add(&mut self, i: usize) {
        match self.0.last_mut() {
            Some(run) if run.end == i => run.end += 1,
            _ => self.0.push(i..i + 1),
        }
    }
}

/// Where `range` lands once the sorted, disjoint `removed` runs are taken out of its list.
#[must_use]
pub fn shift_range(
    range: &std::ops::Range<usize>,
    removed: &[std::ops::Range<usize>],
) -> std::ops::Range<usize> {
    let removed_before = |at: usize| -> usize {
        removed
            .iter()
            .take_while(|r| r.start < at)
            .map(|r| r.end.min(at) - r.start)
            .sum()
    };
    range.start - removed_before(range.start)..range.end - removed_before(range.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_stays_small() {
        assert_eq!(std::mem::size_of::<Record>(), 48);
    }

    #[test]
    fn subject_runs_remove_ranges_and_shift_range_agree() {
        let mut set = UsageSet::new();
        let subject = |i: usize| Subject::new(SubjectKind::Iccid, format!("8901{i:015}"));
        // Ten records cycling over three subjects: 0 1 2 0 1 2 0 1 2 0.
        for i in 0..10 {
            let sym = set.intern_subject(&subject(i % 3));
            let r = Record::new(
                Carrier::ControlCenter,
                sym,
                i as i64 * 86_400,
                86_400,
                Granularity::Day,
                Service::Data,
                Direction::Total,
                i as u64,
            );
            set.push(r);
        }
        // Two sources own 0..4 and 4..10; subject 0 is dropped from the second one only.
        let (records, events) = set.subject_runs(&[4..7, 7..10], &[], &[subject(0), subject(7)]);
        assert_eq!(records, vec![6..7, 9..10]);
        assert!(events.is_empty());
        set.remove_ranges(&records, &events);
        let quantities: Vec<u64> = set.records.iter().map(|r| r.quantity).collect();
        assert_eq!(quantities, vec![0, 1, 2, 3, 4, 5, 7, 8]);
        assert_eq!(shift_range(&(0..4), &records), 0..4);
        assert_eq!(shift_range(&(4..10), &records), 4..8);
        assert_eq!(
            shift_range(&(10..12), &records),
            8..10,
            "a later source moves down"
        );
        assert_eq!(
            shift_range(&(6..7), &records),
            6..6,
            "a removed run empties"
        );
        // Left: subjects 0 1 2 0 1 2 1 2. Adjacent indices join into one run; no ranges, no runs.
        assert_eq!(
            set.subject_runs(&[0..3, 3..8], &[], &[subject(1), subject(2)])
                .0,
            vec![1..3, 4..8]
        );
        assert_eq!(set.subject_runs(&[], &[], &[subject(1)]).0, vec![]);
    }

    #[test]
    fn contexts_intern_once_by_value_and_escaped_twins_share_a_handle() {
        let mut set = UsageSet::new();
        let context = |plan: &str, msisdn: &str| Context {
            rate_plan: Some(plan.to_owned()),
            attributes: [("msisdn".to_owned(), msisdn.to_owned())].into(),
            ..Context::default()
        };
        assert_eq!(set.intern_context(Context::default()), Sym::NONE);
        let handles: Vec<Sym> = (0..5000)
            .map(|i| set.intern_context(context(&format!("Plan {}", i % 7), &i.to_string())))
            .collect();
        for (i, &h) in handles.iter().enumerate() {
            assert_eq!(
                set.intern_context(context(&format!("Plan {}", i % 7), &i.to_string())),
                h
            );
            assert_eq!(
                set.context(h),
                Some(&context(&format!("Plan {}", i % 7), &i.to_string()))
            );
        }
        assert_eq!(handles.iter().collect::<HashSet<_>>().len(), 5000);
        // Two contexts with one hash are both kept and both found (a chain of two).
        let (a, b) = (context("a", "1"), context("b", "2"));
        let mut chained = UsageSet::new();
        let hash = rustc_hash::FxBuildHasher.hash_one(&a);
        chained.contexts = vec![a.clone(), b.clone()];
        chained.context_index.insert(hash, 1);
        chained.context_next = vec![u32::MAX, 0];
        assert_eq!(chained.find_context(hash, &a), Some(0));
        assert_eq!(chained.find_context(hash, &b), Some(1));
        assert_eq!(chained.find_context(hash, &context("c", "3")), None);
        // A plan with a right-to-left override is stored escaped, once, like its escaped spelling.
        let reversed = set.intern_context(context("Plan \u{202e}X", "1"));
        assert_eq!(
            set.context(reversed).and_then(|c| c.rate_plan.as_deref()),
            Some("Plan \\u202EX")
        );
        assert_eq!(set.intern_context(context("Plan \\u202EX", "1")), reversed);
        assert_eq!(set.intern_context(context("Plan \u{202e}X", "1")), reversed);
        assert_eq!(set.escaped_strings().0, 2);
    }

    #[test]
    fn unsafe_display_chars_are_found_past_printable_ascii() {
        assert!(!has_unsafe_display_char("Plan 7, 12 GB\t"));
        assert!(!has_unsafe_display_char("Dänemark"));
        for bad in [
            "a\u{202e}b",
            "\u{0}",
            "x\ny",
            "\u{7f}",
            "é\u{200b}",
            "\u{feff}",
        ] {
            assert!(has_unsafe_display_char(bad), "{bad:?}");
        }
    }

    #[test]
    fn record_store_chunks_push_get_truncate() {
        let chunk = RecordStore::CHUNK;
        let mut store = RecordStore::default();
        let record = |i: usize| {
            Record::new(
                Carrier::Thingspace,
                Sym::NONE,
                i as i64,
                86_400,
                Granularity::Day,
                Service::Data,
                Direction::Total,
                i as u64,
            )
        };
        for i in 0..chunk * 2 + 5 {
            store.push(record(i));
        }
        assert_eq!(store.len(), chunk * 2 + 5);
        assert_eq!(store[chunk + 3].quantity, (chunk + 3) as u64);
        assert_eq!(
            store.get(chunk * 2 + 4).map(|r| r.start),
            Some((chunk * 2 + 4) as i64)
        );
        assert!(store.get(chunk * 2 + 5).is_none());
        assert_eq!(store.iter().count(), store.len());
        assert!(store
            .iter()
            .enumerate()
            .all(|(i, r)| r.quantity == i as u64));
        // Later chunks are allocated at their final size: no doubling beyond one chunk.
        assert!(store.allocated_bytes() <= (chunk * 3 + 64) * std::mem::size_of::<Record>());
        store.truncate(chunk * 2);
        assert_eq!(store.len(), chunk * 2);
        assert_eq!(store.iter().count(), chunk * 2);
        store.truncate(chunk - 1);
        assert_eq!(
            store.iter().last().map(|r| r.quantity),
            Some((chunk - 2) as u64)
        );
        store.push(record(7));
        assert_eq!(store[chunk - 1].quantity, 7);
        store.truncate(0);
        assert!(store.is_empty() && store.iter().next().is_none());
    }

    #[test]
    fn allowance_none_and_some() {
        let r = Record::new(
            Carrier::Telecomx,
            Sym::NONE,
            0,
            0,
            Granularity::Month,
            Service::Voice,
            Direction::Mo,
            5,
        );
        assert_eq!(r.allowance(), None);
        assert_eq!(r.with_allowance(Some(36000)).allowance(), Some(36000));
    }

    #[test]
    fn extend_from_reinterns_strings() {
        let mut a = UsageSet::new();
        let zone_a = a.intern("EU");
        let mut b = UsageSet::new();
        b.intern("padding");
        let zone_b = b.intern("World");
        let subject = b.intern_subject(&Subject::new(SubjectKind::Iccid, "8901"));
        b.push(
            Record::new(
                Carrier::ControlCenter,
                subject,
                0,
                10,
                Granularity::Cycle,
                Service::Data,
                Direction::Total,
                7,
            )
            .with_zone(zone_b),
        );
        a.extend_from(&b);
        assert_ne!(zone_a, a.records[0].zone);
        let json = a.record_json(&a.records[0]);
        assert_eq!(json.zone.as_deref(), Some("World"));
        assert_eq!(json.subject.unwrap().id, "8901");
        assert_eq!(json.end, "1970-01-01T00:00:10Z");
    }
}
