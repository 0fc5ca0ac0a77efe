//! Verizon ThingSpace `POST /devices/usage/actions/list` (document 002).
//!
//! Rules:
//! - One record per day per quantity, granularity `day`, period `timestamp .. timestamp + 1 day`.
//! - `bytesUsed` -> data/total. When `domesticUsage + internationalUsage == bytesUsed` the two are
//!   emitted instead, as zones `domestic` (roaming false) and `international` (roaming true);
//!   when they are present but do not add up, one total record with zone null and a warning.
//! - `smsUsed` -> sms/total; split into sms/mo and sms/mt when `MoSms + MtSms == smsUsed` (keys read
//!   case-insensitively: the document writes both `MtSMS` and `MtSms`), else total plus a warning.
//! - `source` is the record's source; `servicePlan` and unknown extended attributes become
//!   attributes. Zero days are kept: a day without usage is information.
//! - Subject: the body's `deviceId {kind, id}` (kind case-insensitive), else the caller's.
//! - `hasMoreData` and the last row's timestamp are returned for paging.

use serde_json::{Map, Value};

use super::json_util::{count, get_ci, parse_json, text, timestamp, type_name};
use crate::error::ParseError;
use crate::model::{
    Carrier, Context, Direction, Granularity, Record, Service, Subject, SubjectKind, Sym, UsageSet,
    Warning,
};
use crate::readers::{ParseOptions, ReadOutcome};

const DAY: u32 = 86_400;

pub fn read(
    text_body: &str,
    options: &ParseOptions,
    set: &mut UsageSet,
) -> Result<ReadOutcome, ParseError> {
    let records_before = set.records.len();
    if let Some(outcome) = fast::read(text_body, options, set) {
        return Ok(outcome);
    }
    // The typed path declined (a shape it does not take, or an error): the general reader decides,
    // and names the field if there is an error.
    set.records.truncate(records_before);
    read_values(text_body, options, set)
}

/// The general reader over `serde_json::Value`: every shape the document allows, exact errors.
#[doc(hidden)]
pub fn read_values(
    text_body: &str,
    options: &ParseOptions,
    set: &mut UsageSet,
) -> Result<ReadOutcome, ParseError> {
    let body = parse_json(text_body, "ThingSpace usage history")?;
    let Value::Object(root) = &body else {
        return Err(ParseError::invalid_field(
            "(root)",
            format!(
                "a ThingSpace usage response is an object, found {}",
                type_name(&body)
            ),
        ));
    };
    let mut outcome = ReadOutcome::default();
    let has_more = match root.get("hasMoreData") {
        None | Some(Value::Null) => false,
        Some(v) => super::json_util::boolean(v, "hasMoreData")?,
    };
    outcome.has_more_data = Some(has_more);

    let subject = match root.get("deviceId") {
        Some(Value::Object(device)) => Some(device_subject(device)?),
        Some(Value::Null) | None => options.subject.clone(),
        Some(other) => {
            return Err(ParseError::invalid_field(
                "deviceId",
                format!(
                    "expected an object {{kind, id}}, found {}",
                    type_name(other)
                ),
            ))
        }
    };
    let subject_sym = subject
        .as_ref()
        .map_or(Sym::NONE, |s| set.intern_subject(s));
    outcome.subject = subject;

    let rows = match root.get("usageHistory") {
        Some(Value::Array(rows)) => rows.as_slice(),
        Some(Value::Null) | None => &[],
        Some(other) => {
            return Err(ParseError::invalid_field(
                "usageHistory",
                format!(
                    "expected an array of daily rows, found {}",
                    type_name(other)
                ),
            ))
        }
    };
    let mut last: Option<i64> = None;
    let handles = PageHandles::new(set, subject_sym);
    for (i, row) in rows.iter().enumerate() {
        // Paths are only built when something is wrong: this loop runs once per day of history.
        let path = RowPath(i);
        let Value::Object(row) = row else {
            return Err(ParseError::invalid_field(
                path.to_string(),
                format!("expected an object, found {}", type_name(row)),
            ));
        };
        let start = match row.get("timestamp") {
            Some(Value::String(t)) => timestamp(t, &format!("{path}.timestamp"))?,
            Some(other) => {
                return Err(ParseError::invalid_field(
                    format!("{path}.timestamp"),
                    format!("expected a date-time string, found {}", type_name(other)),
                ))
            }
            None => {
                return Err(ParseError::invalid_field(
                    format!("{path}.timestamp"),
                    "every usage row needs a timestamp",
                ))
            }
        };
        last = Some(last.map_or(start, |l| l.max(start)));

        let extended = extended_attributes(row, path)?;
        let mut context = Context {
            source: row.get("source").and_then(text),
            ..Context::default()
        };
        if let Some(plan) = row.get("servicePlan").and_then(text) {
            context.attributes.insert("servicePlan".into(), plan);
        }
        for (key, value) in &extended.others {
            context.attributes.insert(key.clone(), value.clone());
        }
        let context = set.intern_context(context);
        let quantities = Quantities {
            bytes: optional_count(row, "bytesUsed", path)?,
            sms: optional_count(row, "smsUsed", path)?,
            mo_sms: extended.mo_sms,
            mt_sms: extended.mt_sms,
            domestic: extended.domestic,
            international: extended.international,
        };
        emit_row(set, &mut outcome, handles, start, context, quantities, path);
    }
    outcome.last_timestamp = last;
    if has_more && rows.is_empty() {
        outcome.warnings.push(
            Warning::new("hasMoreData is true but the page has no rows").at_field("usageHistory"),
        );
    }
    Ok(outcome)
}

/// The quantities of one usage row, whichever path read them.
#[derive(Clone, Copy, Default)]
struct Quantities {
    bytes: Option<u64>,
    sms: Option<u64>,
    mo_sms: Option<u64>,
    mt_sms: Option<u64>,
    domestic: Option<u64>,
    international: Option<u64>,
}

/// The page's subject and the zones of split data records, interned once per page rather than
/// per row.
#[derive(Clone, Copy)]
struct PageHandles {
    subject: Sym,
    domestic: Sym,
    international: Sym,
}

impl PageHandles {
    fn new(set: &mut UsageSet, subject: Sym) -> PageHandles {
        PageHandles {
            subject,
            domestic: set.intern("domestic"),
            international: set.intern("international"),
        }
    }
}

/// The records (and warnings) of one row: the splitting rules in the module documentation.
fn emit_row(
    set: &mut UsageSet,
    outcome: &mut ReadOutcome,
    handles: PageHandles,
    start: i64,
    context: Sym,
    q: Quantities,
    path: RowPath,
) {
    let PageHandles {
        subject,
        domestic,
        international,
    } = handles;
    let record = |service, direction, quantity| {
        Record::new(
            Carrier::Thingspace,
            subject,
            start,
            DAY,
            Granularity::Day,
            service,
            direction,
            quantity,
        )
        .with_context(context)
    };
    if let Some(bytes) = q.bytes {
        match (q.domestic, q.international) {
            (Some(d), Some(n)) if d.checked_add(n) == Some(bytes) => {
                set.push(
                    record(Service::Data, Direction::Total, d)
                        .with_zone(domestic)
                        .with_roaming(Some(false)),
                );
                set.push(
                    record(Service::Data, Direction::Total, n)
                        .with_zone(international)
                        .with_roaming(Some(true)),
                );
            }
            (None, None) => set.push(record(Service::Data, Direction::Total, bytes)),
            (d, n) => {
                outcome.warnings.push(
                    Warning::new(format!(
                        "domesticUsage ({}) + internationalUsage ({}) does not equal bytesUsed ({bytes}); kept the total without a zone",
                        show(d),
                        show(n)
                    ))
                    .at_field(format!("{path}.extendedAttributes")),
                );
                set.push(record(Service::Data, Direction::Total, bytes));
            }
        }
    }
    match (q.sms, q.mo_sms, q.mt_sms) {
        (Some(total), Some(mo), Some(mt)) if mo.checked_add(mt) == Some(total) => {
            set.push(record(Service::Sms, Direction::Mo, mo));
            set.push(record(Service::Sms, Direction::Mt, mt));
        }
        (Some(total), None, None) => set.push(record(Service::Sms, Direction::Total, total)),
        (Some(total), mo, mt) => {
            outcome.warnings.push(
                Warning::new(format!(
                    "MoSms ({}) + MtSms ({}) does not equal smsUsed ({total}); kept the total without a direction",
                    show(mo),
                    show(mt)
                ))
                .at_field(format!("{path}.extendedAttributes")),
            );
            set.push(record(Service::Sms, Direction::Total, total));
        }
        (None, Some(mo), Some(mt)) => {
            set.push(record(Service::Sms, Direction::Mo, mo));
            set.push(record(Service::Sms, Direction::Mt, mt));
        }
        (None, _, _) => {}
    }
}

/// `usageHistory[i]`, formatted only when an error or warning needs it.
#[derive(Clone, Copy)]
struct RowPath(usize);

impl std::fmt::Display for RowPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "usageHistory[{}]", self.0)
    }
}

fn show(v: Option<u64>) -> String {
    v.map_or_else(|| "missing".to_owned(), |v| v.to_string())
}

fn device_subject(device: &Map<String, Value>) -> Result<Subject, ParseError> {
    let kind_text = device
        .get("kind")
        .and_then(text)
        .ok_or_else(|| ParseError::invalid_field("deviceId.kind", "the device id has no kind"))?;
    let id = device
        .get("id")
        .and_then(text)
        .ok_or_else(|| ParseError::invalid_field("deviceId.id", "the device id has no id"))?;
    let kind = SubjectKind::parse(&kind_text).ok_or_else(|| {
        ParseError::invalid_field(
            "deviceId.kind",
            format!(
                "unknown device id kind {kind_text:?}; known: esn, iccid, imei, mdn, meid, msisdn, eid"
            ),
        )
    })?;
    Ok(Subject::new(kind, id))
}

fn optional_count(
    row: &Map<String, Value>,
    key: &str,
    path: RowPath,
) -> Result<Option<u64>, ParseError> {
    match row.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64()),
        Some(v) => count(v, &format!("{path}.{key}")).map(Some),
    }
}

#[derive(Default)]
struct Extended {
    mo_sms: Option<u64>,
    mt_sms: Option<u64>,
    domestic: Option<u64>,
    international: Option<u64>,
    others: Vec<(String, String)>,
}

fn extended_attributes(row: &Map<String, Value>, path: RowPath) -> Result<Extended, ParseError> {
    let mut out = Extended::default();
    let list = match row.get("extendedAttributes") {
        None | Some(Value::Null) => return Ok(out),
        Some(Value::Array(list)) => list,
        Some(other) => {
            return Err(ParseError::invalid_field(
                format!("{path}.extendedAttributes"),
                format!(
                    "expected an array of {{key, value}}, found {}",
                    type_name(other)
                ),
            ))
        }
    };
    for (j, item) in list.iter().enumerate() {
        let item_path = || format!("{path}.extendedAttributes[{j}]");
        let Value::Object(item) = item else {
            return Err(ParseError::invalid_field(
                item_path(),
                format!("expected {{key, value}}, found {}", type_name(item)),
            ));
        };
        let Some(key) = get_ci(item, "key").and_then(text) else {
            return Err(ParseError::invalid_field(
                format!("{}.key", item_path()),
                "an extended attribute has no key",
            ));
        };
        let value = get_ci(item, "value").unwrap_or(&Value::Null);
        let slot = match key.to_ascii_lowercase().as_str() {
            "mosms" => &mut out.mo_sms,
            "mtsms" => &mut out.mt_sms,
            "domesticusage" => &mut out.domestic,
            "internationalusage" => &mut out.international,
            _ => {
                if let Some(v) = text(value) {
                    out.others.push((key, v));
                }
                continue;
            }
        };
        if !value.is_null() {
            *slot = Some(match value.as_str().and_then(|t| t.parse::<u64>().ok()) {
                Some(n) => n,
                None => count(value, &format!("{}.value ({key})", item_path()))?,
            });
        }
    }
    Ok(out)
}

/// The typed path: the page deserialized straight into borrowed structs, no `serde_json::Value`.
/// Building and dropping the `Value` tree was ~60 % of the general reader's time (perf), and fleet
/// bodies run to tens of megabytes. It reads the shape real responses have (numbers as numbers,
/// attribute values as strings or numbers) and returns `None` for anything else, so the general
/// reader takes over: same records, and its exact error messages.
mod fast {
    use std::borrow::Cow;
    use std::fmt;

    use serde::de::{self, Deserializer, Visitor};
    use serde::Deserialize;

    use super::{emit_row, PageHandles, Quantities, RowPath};
    use crate::model::{Context, Subject, SubjectKind, Sym, UsageSet, Warning};
    use crate::readers::json_util::{plain_rfc3339, timestamp};
    use crate::readers::{ParseOptions, ReadOutcome};

    #[derive(Deserialize)]
    struct Page<'a> {
        #[serde(rename = "hasMoreData", default)]
        has_more: Option<bool>,
        #[serde(rename = "deviceId", default, borrow)]
        device: Option<Device<'a>>,
        #[serde(rename = "usageHistory", default, borrow)]
        rows: Option<Vec<Row<'a>>>,
    }

    #[derive(Deserialize)]
    struct Device<'a> {
        #[serde(borrow)]
        kind: Cow<'a, str>,
        #[serde(borrow)]
        id: Cow<'a, str>,
    }

    #[derive(Deserialize)]
    struct Row<'a> {
        #[serde(borrow)]
        timestamp: Cow<'a, str>,
        #[serde(rename = "bytesUsed", default)]
        bytes: Option<u64>,
        #[serde(rename = "smsUsed", default)]
        sms: Option<u64>,
        #[serde(default, borrow)]
        source: Option<Cow<'a, str>>,
        #[serde(rename = "servicePlan", default, borrow)]
        service_plan: Option<Cow<'a, str>>,
        #[serde(rename = "extendedAttributes", default, borrow)]
        extended: Extended<'a>,
    }

    #[derive(Deserialize)]
    struct Attribute<'a> {
        #[serde(borrow)]
        key: Cow<'a, str>,
        #[serde(default, borrow)]
        value: Scalar<'a>,
    }

    /// A row's `extendedAttributes`, read straight into the four quantities it may carry (no
    /// list per row: allocating and freeing one per day was a tenth of this path in wasm).
    #[derive(Default)]
    struct Extended<'a> {
        /// MoSms, MtSms, domesticUsage, internationalUsage: the last non-null value of each.
        known: [Scalar<'a>; 4],
        others: Vec<(Cow<'a, str>, Scalar<'a>)>,
        /// A quantity given twice: the general reader checks every value, so it decides.
        repeated: bool,
    }

    const KNOWN_KEYS: [&str; 4] = ["mosms", "mtsms", "domesticusage", "internationalusage"];

    impl<'de: 'a, 'a> Deserialize<'de> for Extended<'a> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct ExtendedVisitor;
            impl<'de> Visitor<'de> for ExtendedVisitor {
                type Value = Extended<'de>;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a list of {key, value}")
                }
                fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                    Ok(Extended::default())
                }
                fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                    Ok(Extended::default())
                }
                fn visit_seq<A: de::SeqAccess<'de>>(
                    self,
                    mut seq: A,
                ) -> Result<Self::Value, A::Error> {
                    let mut out = Extended::default();
                    while let Some(attribute) = seq.next_element::<Attribute<'de>>()? {
                        match KNOWN_KEYS
                            .iter()
                            .position(|k| attribute.key.eq_ignore_ascii_case(k))
                        {
                            Some(_) if matches!(attribute.value, Scalar::Null) => {}
                            Some(i) => {
                                out.repeated |= !matches!(out.known[i], Scalar::Null);
                                out.known[i] = attribute.value;
                            }
                            None => out.others.push((attribute.key, attribute.value)),
                        }
                    }
                    Ok(out)
                }
            }
            d.deserialize_any(ExtendedVisitor)
        }
    }

    /// An attribute value: the document writes strings, some sources numbers.
    #[derive(Default)]
    enum Scalar<'a> {
        #[default]
        Null,
        Text(Cow<'a, str>),
        Count(u64),
        /// Anything else (floats, negatives, booleans): left to the general reader.
        Other,
    }

    impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct ScalarVisitor;
            impl<'de> Visitor<'de> for ScalarVisitor {
                type Value = Scalar<'de>;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a string or a number")
                }
                fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                    Ok(Scalar::Text(Cow::Borrowed(v)))
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                    Ok(Scalar::Text(Cow::Owned(v.to_owned())))
                }
                fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                    Ok(Scalar::Count(v))
                }
                fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                    Ok(Scalar::Other)
                }
                fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                    Ok(Scalar::Other)
                }
                fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                    Ok(Scalar::Other)
                }
                fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                    Ok(Scalar::Null)
                }
                fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                    Ok(Scalar::Null)
                }
            }
            d.deserialize_any(ScalarVisitor)
        }
    }

    /// `None` hands the body to the general reader.
    pub(super) fn read(
        text_body: &str,
        options: &ParseOptions,
        set: &mut UsageSet,
    ) -> Option<ReadOutcome> {
        let page: Page = serde_json::from_str(text_body).ok()?;
        let subject = match &page.device {
            Some(device) => Some(Subject::new(
                SubjectKind::parse(&device.kind)?,
                device.id.as_ref(),
            )),
            None => options.subject.clone(),
        };
        let subject_sym = subject
            .as_ref()
            .map_or(Sym::NONE, |s| set.intern_subject(s));
        let has_more = page.has_more.unwrap_or(false);
        let mut outcome = ReadOutcome {
            subject,
            has_more_data: Some(has_more),
            ..ReadOutcome::default()
        };
        let rows = page.rows.unwrap_or_default();
        // Consecutive rows nearly always share source and plan: their context is interned once.
        let mut last_context: Option<(Option<&str>, Option<&str>, Sym)> = None;
        let mut last: Option<i64> = None;
        let handles = PageHandles::new(set, subject_sym);
        for (i, row) in rows.iter().enumerate() {
            let path = RowPath(i);
            let start = match plain_rfc3339(&row.timestamp) {
                Some(t) => t,
                None => timestamp(&row.timestamp, "").ok()?,
            };
            last = Some(last.map_or(start, |l| l.max(start)));
            let mut q = Quantities {
                bytes: row.bytes,
                sms: row.sms,
                ..Quantities::default()
            };
            if row.extended.repeated {
                return None;
            }
            let slots = [
                &mut q.mo_sms,
                &mut q.mt_sms,
                &mut q.domestic,
                &mut q.international,
            ];
            for (slot, value) in slots.into_iter().zip(&row.extended.known) {
                match value {
                    Scalar::Null => {}
                    Scalar::Count(n) => *slot = Some(*n),
                    Scalar::Text(t) => *slot = Some(t.parse().ok()?),
                    Scalar::Other => return None,
                }
            }
            let mut others: Vec<(String, String)> = Vec::new();
            for (key, value) in &row.extended.others {
                match value {
                    Scalar::Text(t) => others.push((key.to_string(), t.to_string())),
                    Scalar::Count(n) => others.push((key.to_string(), n.to_string())),
                    Scalar::Null => {}
                    Scalar::Other => return None,
                }
            }
            let (source, plan) = (row.source.as_deref(), row.service_plan.as_deref());
            let context = match last_context {
                Some((s, p, sym)) if others.is_empty() && s == source && p == plan => sym,
                _ => {
                    let mut context = Context {
                        source: source.map(str::to_owned),
                        ..Context::default()
                    };
                    if let Some(plan) = plan {
                        context
                            .attributes
                            .insert("servicePlan".into(), plan.to_owned());
                    }
                    let plain = others.is_empty();
                    for (key, value) in others {
                        context.attributes.insert(key, value);
                    }
                    let sym = set.intern_context(context);
                    last_context = plain.then_some((source, plan, sym));
                    sym
                }
            };
            emit_row(set, &mut outcome, handles, start, context, q, path);
        }
        outcome.last_timestamp = last;
        if has_more && rows.is_empty() {
            outcome.warnings.push(
                Warning::new("hasMoreData is true but the page has no rows")
                    .at_field("usageHistory"),
            );
        }
        Some(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documents' own examples take the typed path (else the speed-up would be silently lost).
    #[test]
    fn documented_pages_take_the_typed_path() {
        for body in [
            include_str!("../../tests/fixtures/thingspace-doc-device.json"),
            include_str!("../../tests/fixtures/thingspace-doc-label.json"),
        ] {
            let mut set = UsageSet::new();
            let outcome = fast::read(body, &ParseOptions::default(), &mut set);
            assert!(outcome.is_some(), "declined: {body}");
            assert!(!set.is_empty());
        }
        let mut set = UsageSet::new();
        let odd = r#"{"usageHistory":[{"bytesUsed":"5","timestamp":"2024-01-01T00:00:00Z"}]}"#;
        assert!(fast::read(odd, &ParseOptions::default(), &mut set).is_none());
    }
}
