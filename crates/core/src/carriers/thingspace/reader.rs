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

use crate::error::ParseError;
use crate::model::{
    Carrier, Context, Direction, Granularity, Record, Service, Subject, SubjectKind, Sym, UsageSet,
    Warning,
};
use crate::readers::json_util::{
    count, echo, field, get_ci, parse_json, text, timestamp_value, type_name, unmapped_fields,
};
use crate::readers::{ParseOptions, ReadOutcome};

const DAY: u32 = 86_400;

/// Reads a usage history body into `set` by the module's rules, with what paging needs.
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

/// The general reader over `serde_json::Value`: every shape and spelling the module rules list,
/// exact errors.
#[doc(hidden)]
pub fn read_values(
    text_body: &str,
    options: &ParseOptions,
    set: &mut UsageSet,
) -> Result<ReadOutcome, ParseError> {
    let mut outcome = ReadOutcome::default();
    let body = parse_json(text_body, "ThingSpace usage history", &mut outcome.warnings)?;
    let Value::Object(root) = &body else {
        return Err(ParseError::invalid_field(
            "(root)",
            format!(
                "a ThingSpace usage response is an object, found {}",
                type_name(&body)
            ),
        ));
    };
    let has_more = match field(root, HAS_MORE) {
        None => false,
        Some((key, v)) => crate::readers::json_util::boolean(v, key)?,
    };
    outcome.has_more_data = Some(has_more);

    let subject = match field(root, DEVICE_ID) {
        Some((_, Value::Object(device))) => Some(device_subject(device, &mut outcome.warnings)?),
        None => options.subject.clone(),
        Some((key, other)) => {
            return Err(ParseError::invalid_field(
                key,
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

    let rows = match field(root, USAGE_HISTORY) {
        Some((_, Value::Array(rows))) => rows.as_slice(),
        None => &[],
        Some((key, other)) => {
            return Err(ParseError::invalid_field(
                key,
                format!(
                    "expected an array of daily rows, found {}",
                    type_name(other)
                ),
            ))
        }
    };
    // Fields of the page the reader does not map travel with every record, under their own name.
    let page_attributes: Vec<(String, String)> =
        unmapped_fields(root, &[HAS_MORE, DEVICE_ID, USAGE_HISTORY]).collect();
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
        let start = match field(row, TIMESTAMP) {
            Some((key, v)) => timestamp_value(v, &format!("{path}.{key}"))?,
            None => {
                return Err(ParseError::invalid_field(
                    format!("{path}.timestamp"),
                    format!(
                        "every usage row needs a date: none of {} is given",
                        TIMESTAMP.join(", ")
                    ),
                ))
            }
        };
        last = Some(last.map_or(start, |l| l.max(start)));

        let extended = extended_attributes(row, path)?;
        let mut context = Context {
            source: field(row, SOURCE).and_then(|(_, v)| text(v)),
            ..Context::default()
        };
        if let Some(plan) = field(row, SERVICE_PLAN).and_then(|(_, v)| text(v)) {
            context.attributes.insert("servicePlan".into(), plan);
        }
        for (key, value) in &page_attributes {
            context.attributes.insert(key.clone(), value.clone());
        }
        context.attributes.extend(unmapped_fields(row, &ROW_FIELDS));
        for (key, value) in &extended.others {
            context.attributes.insert(key.clone(), value.clone());
        }
        let context = set.intern_context(context);
        // Row-level splits (`moSMS`/`mtSMS`, as Verizon's SDK models spell them) read like the
        // extended-attribute ones; an extended attribute wins where both are given.
        let row_count = |names: &[&str]| -> Result<Option<u64>, ParseError> {
            field(row, names)
                .map(|(key, v)| count(v, &format!("{path}.{key}")))
                .transpose()
        };
        let quantities = Quantities {
            bytes: row_count(BYTES_USED)?,
            sms: row_count(SMS_USED)?,
            mo_sms: extended.mo_sms.or(row_count(MO_SMS)?),
            mt_sms: extended.mt_sms.or(row_count(MT_SMS)?),
            domestic: extended.domestic.or(row_count(DOMESTIC)?),
            international: extended.international.or(row_count(INTERNATIONAL)?),
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

// Every spelling each field is read under (matched ignoring ASCII case): the document's, the
// one Verizon's generated SDK models write (`hasmoredata`, `serviceplan`), and the names of the
// same `usageHistory` shape in the promotional and MDN-less usage answers (`eventDateTime`).
const HAS_MORE: &[&str] = &["hasMoreData", "has_more_data"];
const DEVICE_ID: &[&str] = &["deviceId", "device_id"];
const USAGE_HISTORY: &[&str] = &["usageHistory", "usage_history"];
const TIMESTAMP: &[&str] = &[
    "timestamp",
    "eventDateTime",
    "eventTimestamp",
    "usageDateTime",
    "dateTime",
    "usageDate",
    "date",
];
const BYTES_USED: &[&str] = &["bytesUsed", "bytes_used", "dataUsed", "totalBytes"];
const SMS_USED: &[&str] = &["smsUsed", "sms_used", "totalSms"];
const MO_SMS: &[&str] = &["moSms", "mo_sms"];
const MT_SMS: &[&str] = &["mtSms", "mt_sms"];
const DOMESTIC: &[&str] = &["domesticUsage", "domestic_usage"];
const INTERNATIONAL: &[&str] = &["internationalUsage", "international_usage"];
const SOURCE: &[&str] = &["source"];
const SERVICE_PLAN: &[&str] = &["servicePlan", "service_plan"];
const EXTENDED: &[&str] = &["extendedAttributes", "extended_attributes"];
/// Row fields with a meaning; any other field of a row is kept as an attribute.
const ROW_FIELDS: [&[&str]; 10] = [
    TIMESTAMP,
    BYTES_USED,
    SMS_USED,
    MO_SMS,
    MT_SMS,
    DOMESTIC,
    INTERNATIONAL,
    SOURCE,
    SERVICE_PLAN,
    EXTENDED,
];

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
                    Warning::new(split_mismatch(
                        ("domesticUsage", d),
                        ("internationalUsage", n),
                        ("bytesUsed", bytes),
                        "zone",
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
                Warning::new(split_mismatch(
                    ("MoSms", mo),
                    ("MtSms", mt),
                    ("smsUsed", total),
                    "direction",
                ))
                .at_field(format!("{path}.extendedAttributes")),
            );
            set.push(record(Service::Sms, Direction::Total, total));
        }
        (None, mo, mt) => {
            // No total to check against: each half given is its own record.
            if let Some(mo) = mo {
                set.push(record(Service::Sms, Direction::Mo, mo));
            }
            if let Some(mt) = mt {
                set.push(record(Service::Sms, Direction::Mt, mt));
            }
        }
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

/// The warning for a split that cannot replace its total: says which half is missing, or that
/// the two halves do not add up.
fn split_mismatch(
    (a_name, a): (&str, Option<u64>),
    (b_name, b): (&str, Option<u64>),
    (total_name, total): (&str, u64),
    what: &str,
) -> String {
    match (a, b) {
        (Some(a), None) => format!(
            "{a_name} ({a}) is given without {b_name}; kept {total_name} ({total}) without a {what}"
        ),
        (None, Some(b)) => format!(
            "{b_name} ({b}) is given without {a_name}; kept {total_name} ({total}) without a {what}"
        ),
        (a, b) => format!(
            "{a_name} ({}) + {b_name} ({}) does not equal {total_name} ({total}); kept the total without a {what}",
            a.unwrap_or(0),
            b.unwrap_or(0)
        ),
    }
}

fn device_subject(
    device: &Map<String, Value>,
    warnings: &mut Vec<Warning>,
) -> Result<Subject, ParseError> {
    let kind_text = get_ci(device, "kind")
        .and_then(text)
        .ok_or_else(|| ParseError::invalid_field("deviceId.kind", "the device id has no kind"))?;
    let id = get_ci(device, "id")
        .and_then(text)
        .ok_or_else(|| ParseError::invalid_field("deviceId.id", "the device id has no id"))?;
    // ThingSpace has more id kinds than the model (`min`, `imsi` in some answers): the id is
    // kept as a label, and the kind it had is said.
    let Some(kind) = SubjectKind::parse(&kind_text) else {
        warnings.push(
            Warning::new(format!(
                "device id kind {} is not one usagelens knows (esn, iccid, imei, imsi, mdn, meid, msisdn, eid); the id is kept as a label",
                echo(&kind_text)
            ))
            .at_field("deviceId.kind"),
        );
        return Ok(Subject::new(SubjectKind::Label, id));
    };
    Ok(Subject::new(kind, id))
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
    let list = match field(row, EXTENDED).map(|(_, v)| v) {
        None => return Ok(out),
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
        let slot = match key.to_ascii_lowercase().replace(['_', '-'], "").as_str() {
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

    // Unknown fields send the page to the general reader, which knows every spelling and keeps
    // what it does not map; this path reads the documented spelling only.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Page<'a> {
        #[serde(rename = "hasMoreData", default)]
        has_more: Option<bool>,
        #[serde(rename = "deviceId", default, borrow)]
        device: Option<Device<'a>>,
        #[serde(rename = "usageHistory", default, borrow)]
        rows: Option<Vec<Row<'a>>>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Device<'a> {
        #[serde(borrow)]
        kind: Cow<'a, str>,
        #[serde(borrow)]
        id: Cow<'a, str>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
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
    #[serde(deny_unknown_fields)]
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
            include_str!("../../../tests/fixtures/thingspace-doc-device.json"),
            include_str!("../../../tests/fixtures/thingspace-doc-label.json"),
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
