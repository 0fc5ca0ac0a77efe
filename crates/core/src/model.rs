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
    VodafoneVrs,
    Telecomx,
    Thingspace,
    ControlCenter,
}

impl Carrier {
    pub const ALL: [Carrier; 4] = [
        Carrier::VodafoneVrs,
        Carrier::Telecomx,
        Carrier::Thingspace,
        Carrier::ControlCenter,
    ];

    /// The contract's name: `vodafone-vrs`, `telecomx`, `thingspace`, `control-center`.
    pub fn as_str(self) -> &'static str {
        match self {
            Carrier::VodafoneVrs => "vodafone-vrs",
            Carrier::Telecomx => "telecomx",
            Carrier::Thingspace => "thingspace",
            Carrier::ControlCenter => "control-center",
        }
    }

    /// A name for people: "Vodafone VRS", "TelecomX", ...
    pub fn label(self) -> &'static str {
        match self {
            Carrier::VodafoneVrs => "Vodafone VRS",
            Carrier::Telecomx => "TelecomX",
            Carrier::Thingspace => "Verizon ThingSpace",
            Carrier::ControlCenter => "Cisco Control Center",
        }
    }

    pub fn parse(name: &str) -> Option<Carrier> {
        Carrier::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl fmt::Display for Carrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    Event,
    Day,
    Month,
    Cycle,
}

impl Granularity {
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Event => "event",
            Granularity::Day => "day",
            Granularity::Month => "month",
            Granularity::Cycle => "cycle",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Data,
    Voice,
    Sms,
    Mms,
}

impl Service {
    pub const ALL: [Service; 4] = [Service::Data, Service::Voice, Service::Sms, Service::Mms];

    pub fn as_str(self) -> &'static str {
        match self {
            Service::Data => "data",
            Service::Voice => "voice",
            Service::Sms => "sms",
            Service::Mms => "mms",
        }
    }

    pub fn parse(name: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Each service has exactly one unit, so a record need not store it.
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
    Up,
    Down,
    Mo,
    Mt,
    Total,
}

impl Direction {
    pub const ALL: [Direction; 5] = [
        Direction::Up,
        Direction::Down,
        Direction::Mo,
        Direction::Mt,
        Direction::Total,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
            Direction::Mo => "mo",
            Direction::Mt => "mt",
            Direction::Total => "total",
        }
    }

    pub fn parse(name: &str) -> Option<Direction> {
        Direction::ALL.into_iter().find(|d| d.as_str() == name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Bytes,
    Seconds,
    Messages,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Bytes => "bytes",
            Unit::Seconds => "seconds",
            Unit::Messages => "messages",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectKind {
    Imsi,
    Iccid,
    Msisdn,
    Imei,
    Eid,
    Mdn,
    Meid,
    Esn,
    Account,
    Label,
}

impl SubjectKind {
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
    pub fn parse(name: &str) -> Option<SubjectKind> {
        SubjectKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(name))
    }
}

/// Who the usage belongs to, as the public contract writes it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Subject {
    pub kind: SubjectKind,
    pub id: String,
}

impl Subject {
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
    pub mcc: Option<String>,
    pub mnc: Option<String>,
    pub country: Option<String>,
    pub name: Option<String>,
}

impl Network {
    pub fn is_empty(&self) -> bool {
        self.mcc.is_none() && self.mnc.is_none() && self.country.is_none() && self.name.is_none()
    }
}

/// A handle to an interned string; `Sym::NONE` stands for "absent".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(u32);

impl Sym {
    pub const NONE: Sym = Sym(u32::MAX);

    pub fn is_none(self) -> bool {
        self == Sym::NONE
    }

    pub fn index(self) -> Option<usize> {
        (!self.is_none()).then_some(self.0 as usize)
    }
}

/// Where a record was used relative to its home network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Roaming {
    Unknown,
    Home,
    Roaming,
}

impl Roaming {
    pub fn from_option(value: Option<bool>) -> Roaming {
        match value {
            None => Roaming::Unknown,
            Some(false) => Roaming::Home,
            Some(true) => Roaming::Roaming,
        }
    }

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
    pub start: i64,
    pub quantity: u64,
    allowance: u64,
    pub duration: u32,
    pub subject: Sym,
    pub zone: Sym,
    /// Interned [`Context`]: networks, rate plan, source and attributes, shared by all the
    /// quantities read from one row of the body.
    pub context: Sym,
    pub carrier: Carrier,
    pub granularity: Granularity,
    pub service: Service,
    pub direction: Direction,
    pub roaming: Roaming,
}

impl Record {
    #[allow(clippy::too_many_arguments)]
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

    pub fn end(&self) -> i64 {
        self.start + i64::from(self.duration)
    }

    pub fn unit(&self) -> Unit {
        self.service.unit()
    }

    pub fn allowance(&self) -> Option<u64> {
        (self.allowance != u64::MAX).then_some(self.allowance)
    }

    pub fn with_allowance(mut self, allowance: Option<u64>) -> Record {
        // u64::MAX is the "none" marker; a real allowance that large is clamped just below it.
        self.allowance = allowance.map_or(u64::MAX, |a| a.min(u64::MAX - 1));
        self
    }

    pub fn with_zone(mut self, zone: Sym) -> Record {
        self.zone = zone;
        self
    }

    pub fn with_roaming(mut self, roaming: Option<bool>) -> Record {
        self.roaming = Roaming::from_option(roaming);
        self
    }

    pub fn with_context(mut self, context: Sym) -> Record {
        self.context = context;
        self
    }
}

/// What one row of a body says around its quantities. Interned, so the thousands of ThingSpace
/// days that share `source = "Raw Usage"` share one context.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Context {
    pub home_network: Option<Network>,
    pub visited_network: Option<Network>,
    pub rate_plan: Option<String>,
    pub rate_plan_version: Option<String>,
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
        carrier: Carrier,
        subject: Option<Subject>,
        /// RFC 3339 UTC.
        at: String,
        number: Option<String>,
        description: Option<String>,
        amount: u64,
        price: Option<f64>,
        /// True when the SMS is VAT exempt (the document's `vat`).
        vat_exempt: Option<bool>,
        wholesale: Option<f64>,
        cost: Option<f64>,
    },
    /// TelecomX `restOfWorldChangeLog[]` (also spelled `restOfWorldRoaming`).
    #[serde(rename_all = "camelCase")]
    RestOfWorld {
        carrier: Carrier,
        subject: Option<Subject>,
        /// `CHANGE`, `ACTIVATION`, `REVERSION` or `CHANGE_RATEPLAN`.
        change: String,
        /// RFC 3339 UTC; the document's `when`.
        at: String,
        expires_at: Option<String>,
        soc_id: Option<String>,
        soc_description: Option<String>,
        /// `AUTOSTART` or `PURCHASE`.
        soc_row_type: Option<String>,
        cost: Option<f64>,
        wholesale: Option<f64>,
        price: Option<f64>,
        is_included: Option<bool>,
    },
}

impl UsageEvent {
    /// The event's time (RFC 3339), for placing it on a time axis.
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
    pub message: String,
    /// A JSON path or CSV column the warning is about, e.g. `usageHistory[3].extendedAttributes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// 1-based line (CSV rows, or the JSON line) where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

impl Warning {
    pub fn new(message: impl Into<String>) -> Warning {
        Warning {
            message: crate::error::bounded(message.into(), crate::error::MAX_MESSAGE_CHARS),
            field: None,
            line: None,
        }
    }

    pub fn at_field(mut self, field: impl Into<String>) -> Warning {
        self.field = Some(crate::error::bounded(
            field.into(),
            crate::error::MAX_FIELD_CHARS,
        ));
        self
    }

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
    pub carrier: Carrier,
    pub subject: Option<Subject>,
    pub start: String,
    pub end: String,
    pub granularity: Granularity,
    pub service: Service,
    pub direction: Direction,
    pub quantity: u64,
    pub unit: Unit,
    pub zone: Option<String>,
    pub roaming: Option<bool>,
    pub home_network: Option<Network>,
    pub visited_network: Option<Network>,
    pub rate_plan: Option<String>,
    pub rate_plan_version: Option<String>,
    pub allowance: Option<u64>,
    pub source: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

/// Formats Unix seconds as the contract's RFC 3339 UTC string (`2020-12-01T00:00:00Z`).
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

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

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

    pub fn get(&self, index: usize) -> Option<&Record> {
        self.chunks
            .get(index / Self::CHUNK)
            .and_then(|c| c.get(index % Self::CHUNK))
    }

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
    pub records: RecordStore,
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
    pub fn new() -> UsageSet {
        UsageSet::default()
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

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

    pub fn intern_opt(&mut self, text: Option<&str>) -> Sym {
        text.map_or(Sym::NONE, |t| self.intern(t))
    }

    /// The string behind a handle; `None` for `Sym::NONE` or a handle from another set.
    pub fn resolve(&self, sym: Sym) -> Option<&str> {
        sym.index().and_then(|i| self.strings.get(i)).map(|s| &**s)
    }

    /// Looks a string up without adding it (for filters: an unknown zone matches nothing).
    pub fn lookup(&self, text: &str) -> Option<Sym> {
        self.string_index.get(text).map(|&i| Sym(i))
    }

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

    pub fn subject(&self, sym: Sym) -> Option<&Subject> {
        sym.index().and_then(|i| self.subjects.get(i))
    }

    /// The handle of the `index`-th subject of [`UsageSet::subjects`].
    pub fn subject_sym(&self, index: usize) -> Sym {
        if index < self.subjects.len() {
            Sym(index as u32)
        } else {
            Sym::NONE
        }
    }

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
    pub fn escaped_strings(&self) -> (u64, Option<&str>) {
        (self.escaped_strings, self.first_escaped.as_deref())
    }

    pub fn context(&self, sym: Sym) -> Option<&Context> {
        sym.index().and_then(|i| self.contexts.get(i))
    }

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
