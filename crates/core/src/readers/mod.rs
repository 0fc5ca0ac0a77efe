//! The four carrier readers and format detection.
//!
//! Each reader turns one response body into normalized [`Record`](crate::model::Record)s
//! appended to a [`UsageSet`], plus typed events and warnings. Readers never panic: bad input is
//! a [`ParseError`] that names the field, line or value.

pub(crate) mod json_util;

use serde::Serialize;

use crate::carriers::control_center::ctd as control_center_ctd;
pub use crate::carriers::Format;

use crate::error::{ParseError, ParseErrorKind};
use crate::model::{Carrier, Subject, SubjectKind, UsageSet, Warning};

/// What the caller tells a reader.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// Skip detection and read the body as this carrier's format (an error if it does not fit).
    pub carrier: Option<Carrier>,
    /// The subject the body is about, where the body does not say (Vodafone never does).
    pub subject: Option<Subject>,
    /// Control Center cycle-to-date: the day of the month the account's billing cycle starts
    /// (1-31; 1 when not given).
    pub billing_day: Option<u32>,
    /// When the body was fetched (Unix seconds): where a cycle-to-date period ends when the
    /// body does not say.
    pub fetched_at: Option<i64>,
    /// Billing cycles known from usageInZone answers loaded beside (see
    /// [`control_center_ctd::known_cycles`]): they fix where a cycle-to-date period starts.
    pub known_cycles: Vec<control_center_ctd::KnownCycle>,
}

impl ParseOptions {
    /// Reads the body as `carrier`'s (sets [`ParseOptions::carrier`]).
    #[must_use]
    pub fn carrier(mut self, carrier: Carrier) -> ParseOptions {
        self.carrier = Some(carrier);
        self
    }

    /// The subject the body is about (sets [`ParseOptions::subject`]).
    #[must_use]
    pub fn subject(mut self, subject: Subject) -> ParseOptions {
        self.subject = Some(subject);
        self
    }
}

/// The default identifier kind of each carrier, for a subject given as a bare string.
#[must_use]
pub fn default_subject_kind(carrier: Option<Carrier>, id: &str) -> SubjectKind {
    match carrier {
        Some(carrier) => carrier.spec().default_subject_kind(id),
        None => guess_subject_kind(id),
    }
}

/// Guesses an identifier's kind from its shape (used when the caller gives a bare string and the
/// carrier does not fix the kind). Ambiguous shapes fall back to `label`.
#[must_use]
pub fn guess_subject_kind(id: &str) -> SubjectKind {
    let digits = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
    let hex = !id.is_empty() && id.bytes().all(|b| b.is_ascii_hexdigit());
    match id.len() {
        24 if hex && !digits => SubjectKind::Account,
        32 if digits => SubjectKind::Eid,
        18..=20 if digits && id.starts_with("89") => SubjectKind::Iccid,
        15 if digits => SubjectKind::Imsi,
        14 if hex && !digits => SubjectKind::Meid,
        10 if digits => SubjectKind::Mdn,
        _ => SubjectKind::Label,
    }
}

/// What a reader produced from one body, besides the records it appended to the set.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParseReport {
    /// The carrier whose reader read the body.
    pub carrier: Carrier,
    /// The format the body was read as.
    pub format: Format,
    /// The subject the records belong to (from the body, else from the options).
    pub subject: Option<Subject>,
    /// Index range of the records this body added to `UsageSet::records`.
    #[serde(skip)]
    pub records: std::ops::Range<usize>,
    /// Index range of the events this body added to `UsageSet::events`.
    #[serde(skip)]
    pub events: std::ops::Range<usize>,
    /// What the reader noticed, at most [`MAX_WARNINGS`] and one that counts the rest.
    pub warnings: Vec<Warning>,
    /// ThingSpace: true when the carrier has more rows (HTTP 202); `None` for other carriers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_more_data: Option<bool>,
    /// ThingSpace: the last row's timestamp (Unix seconds), where the next page starts.
    #[serde(skip)]
    pub last_timestamp: Option<i64>,
}

/// What each reader returns; `parse` wraps it into a [`ParseReport`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReadOutcome {
    /// The subject the records belong to.
    pub subject: Option<Subject>,
    /// What the reader noticed (not yet capped).
    pub warnings: Vec<Warning>,
    /// ThingSpace: true when the carrier has more rows; `None` for other carriers.
    pub has_more_data: Option<bool>,
    /// ThingSpace: the last row's timestamp (Unix seconds), where the next page starts.
    pub last_timestamp: Option<i64>,
}

/// Recognizes a body's format from its shape: CSV header or the JSON fields it carries.
///
/// Only field names are looked at (a scan, not a parse), so detection costs little next to reading.
pub fn detect(text: &str) -> Result<Format, ParseError> {
    let body = text.trim_start_matches('\u{feff}').trim_start();
    if body.is_empty() {
        return Err(ParseError::new(
            ParseErrorKind::Empty,
            format!(
                "the body is empty; expected one of: {}",
                Format::describe_all()
            ),
        ));
    }
    if let Some(err) = utf16_text(body) {
        return Err(err);
    }
    if body.starts_with('{') || body.starts_with('[') {
        return detect_json(body);
    }
    if body.starts_with('<') {
        return Err(xml_error_body(body));
    }
    let first_line = body.lines().next().unwrap_or_default();
    if let Some(format) = Format::detect_csv(first_line) {
        return Ok(format);
    }
    Err(ParseError::new(
        ParseErrorKind::UnknownFormat,
        format!(
            "the body is neither JSON nor a known CSV header (first line starts with {:?}); expected one of: {}",
            first_line.chars().take(60).collect::<String>(),
            Format::describe_all()
        ),
    )
    .at_line(1))
}

pub(crate) fn has_key(body: &str, key: &str) -> bool {
    // Keys are looked for with their quotes; TelecomX's documented example also writes keys bare
    // (JavaScript notation), so `key:` is accepted too. The exact spelling is tried first (a
    // plain substring search); then any casing, as carriers' SDKs spell keys (`hasmoredata`).
    body.contains(&format!("\"{key}\""))
        || body.contains(&format!("{key}:"))
        || contains_key_ignoring_case(body.as_bytes(), key.as_bytes())
}

/// `"key"` or `key:` anywhere in `body`, ASCII case ignored.
fn contains_key_ignoring_case(body: &[u8], key: &[u8]) -> bool {
    let Some(&first) = key.first() else {
        return false;
    };
    let (lower, upper) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    let mut at = 0;
    while let Some(offset) = body[at..].iter().position(|&b| b == lower || b == upper) {
        let i = at + offset;
        let end = i + key.len();
        if end <= body.len() && body[i..end].eq_ignore_ascii_case(key) {
            let quoted = i > 0 && body[i - 1] == b'"' && body.get(end) == Some(&b'"');
            let bare = body.get(end) == Some(&b':');
            if quoted || bare {
                return true;
            }
        }
        at = i + 1;
    }
    false
}

fn detect_json(body: &str) -> Result<Format, ParseError> {
    if let Some(format) = Format::detect_json(body) {
        return Ok(format);
    }
    if let Some(err) = carrier_error_body(body) {
        return Err(err);
    }
    if has_key(body, "requestId") && body.len() < 400 {
        return Err(ParseError::new(
            ParseErrorKind::UnknownFormat,
            "this is an asynchronous ThingSpace answer: it holds only a requestId, and the usage is \
             sent later to the account's callback URL; load the callback's body, or use the \
             synchronous devices/usage/actions/list",
        ));
    }
    if has_key(body, "devices") && (has_key(body, "deviceIds") || has_key(body, "iccid")) {
        return Err(ParseError::new(
            ParseErrorKind::UnknownFormat,
            "this is a device list, not usage: use it in the fleet form (\"Load devices from the \
             account\") to fetch each device's usage",
        ));
    }
    Err(ParseError::new(
        ParseErrorKind::UnknownFormat,
        format!(
            "the JSON has none of the fields of a known usage response; expected one of: {}",
            Format::describe_all()
        ),
    ))
}

/// The code and message of a carrier error body, in any of the shapes the carriers use:
/// ThingSpace gateway `{"fault":{"code","message"}}`, M2M and Control Center
/// `{"errorCode","errorMessage"}`, OAuth `{"error","error_description"}`, TMF630
/// `{"code","reason"}`, and `{"error","message"}`. `None` when the body is none of them.
/// Used by detection (a saved error response) and by the fetch layer (a live one).
#[must_use]
pub fn carrier_error_fields(body: &str) -> Option<(Option<String>, Option<String>)> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let text = |v: Option<&serde_json::Value>| match v {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    if let Some(fault) = value.get("fault") {
        return Some((text(fault.get("code")), text(fault.get("message"))));
    }
    // TelecomX: `{"error": {"message", "code", "status"}}`, or a list of such errors.
    let nested = match value.get("error") {
        Some(serde_json::Value::Array(errors)) => errors.first(),
        other => other,
    };
    if let Some(error @ serde_json::Value::Object(_)) = nested {
        return Some((text(error.get("code")), text(error.get("message"))));
    }
    for (code, message) in [
        ("errorCode", "errorMessage"),
        ("error", "error_description"),
        ("code", "reason"),
        ("error", "message"),
    ] {
        if value.get(code).is_some() {
            let message = text(value.get(message)).or_else(|| text(value.get("message")));
            return Some((text(value.get(code)), message));
        }
    }
    None
}

/// Text that is UTF-16 read as if it were 8-bit (every other character NUL): named as such, since
/// "not JSON" would not say what to do. Files go through [`crate::text::decode`], which reads it.
fn utf16_text(body: &str) -> Option<ParseError> {
    let head = body.as_bytes().iter().take(64);
    let nuls = head.clone().filter(|&&b| b == 0).count();
    (nuls * 3 >= head.count()).then(|| {
        ParseError::new(
            ParseErrorKind::UnknownFormat,
            "the text is UTF-16 (every other byte is zero) but was read as 8-bit text; load the file \
             itself (usagelens decodes UTF-16 files) or save it as UTF-8",
        )
    })
}

/// An XML body (ThingSpace's gateway answers some faults in XML): the code and message when it
/// has them.
fn xml_error_body(body: &str) -> ParseError {
    let element = |name: &str| {
        let open = body.find(&format!("{name}>"))? + name.len() + 1;
        let close = body[open..].find('<')? + open;
        Some(json_util::echo(body[open..close].trim()))
    };
    let code = element("code").or_else(|| element("am:code"));
    let message = element("message").or_else(|| element("am:message"));
    let what = match (code, message) {
        (None, None) => String::new(),
        (code, message) => format!(
            ": code {}, message {}",
            code.as_deref().unwrap_or("(none)"),
            message.as_deref().unwrap_or("(none)")
        ),
    };
    ParseError::new(
        ParseErrorKind::UnknownFormat,
        format!("this is an XML answer, not usage (a carrier gateway error){what}"),
    )
    .at_line(1)
}

/// A saved carrier *error* response is not usage: say whose error it is and what it said.
fn carrier_error_body(body: &str) -> Option<ParseError> {
    let (code, message) = carrier_error_fields(body)?;
    Some(ParseError::new(
        ParseErrorKind::UnknownFormat,
        format!(
            "this is a carrier error response, not usage: code {}, message {}",
            code.as_deref().unwrap_or("(none)"),
            message.as_deref().unwrap_or("(none)")
        ),
    ))
}

/// Reads one body into `set`: detects (or checks) its format, runs the carrier's reader, and
/// reports what was added. On error nothing is added to `set`.
pub fn parse(
    text: &str,
    options: &ParseOptions,
    set: &mut UsageSet,
) -> Result<ParseReport, ParseError> {
    let format = match (detect(text), options.carrier) {
        (Ok(format), Some(forced)) if format.carrier() != forced => {
            return Err(ParseError::new(
                ParseErrorKind::CarrierMismatch,
                format!(
                    "the body looks like {} ({}), not {} as requested",
                    format.carrier().label(),
                    format.as_str(),
                    forced.label()
                ),
            ))
        }
        (Ok(format), _) => format,
        (Err(err), _) => return Err(err),
    };
    let records_before = set.records.len();
    let events_before = set.events.len();
    let (escaped_before, _) = set.escaped_strings();
    let body = text.trim_start_matches('\u{feff}');
    let outcome = format.read(body, options, set);
    match outcome {
        Ok(mut outcome) => {
            let (escaped_after, example) = set.escaped_strings();
            if escaped_after > escaped_before {
                outcome.warnings.push(Warning::new(format!(
                    "{} text value(s) held control or bidirectional-override characters, which \
                     would change how they display; they are shown escaped, e.g. {}",
                    escaped_after - escaped_before,
                    json_util::echo(example.unwrap_or_default())
                )));
            }
            Ok(ParseReport {
                carrier: format.carrier(),
                format,
                subject: outcome.subject,
                records: records_before..set.records.len(),
                events: events_before..set.events.len(),
                warnings: cap_warnings(outcome.warnings),
                has_more_data: outcome.has_more_data,
                last_timestamp: outcome.last_timestamp,
            })
        }
        Err(err) => {
            // Nothing is half-added: a failed body leaves the set as it was (interned strings
            // aside, which are harmless).
            set.records.truncate(records_before);
            set.events.truncate(events_before);
            Err(err)
        }
    }
}

pub use crate::limits::MAX_WARNINGS;

/// The first [`MAX_WARNINGS`] warnings, then one that counts the rest by kind (a warning's kind
/// is its message up to the first number or quoted value).
#[must_use]
pub fn cap_warnings(mut warnings: Vec<Warning>) -> Vec<Warning> {
    if warnings.len() <= MAX_WARNINGS {
        return warnings;
    }
    let rest = warnings.split_off(MAX_WARNINGS);
    let mut kinds: Vec<(String, usize)> = Vec::new();
    for w in &rest {
        let kind: String = w
            .message
            .chars()
            .take_while(|c| !c.is_ascii_digit() && *c != '"' && *c != '(')
            .collect::<String>()
            .trim()
            .to_owned();
        match kinds.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => kinds.push((kind, 1)),
        }
    }
    kinds.sort_by_key(|k| std::cmp::Reverse(k.1));
    let listed: Vec<String> = kinds
        .iter()
        .take(3)
        .map(|(k, n)| format!("{n} × {k}…"))
        .collect();
    warnings.push(Warning::new(format!(
        "and {} more of the same kinds: {}{}",
        rest.len(),
        listed.join("; "),
        if kinds.len() > 3 { "; …" } else { "" }
    )));
    warnings
}
