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
    let domestic = set.intern("domestic");
    let international = set.intern("international");
    let mut last: Option<i64> = None;
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
        let record = |service, direction, quantity| {
            Record::new(
                Carrier::Thingspace,
                subject_sym,
                start,
                DAY,
                Granularity::Day,
                service,
                direction,
                quantity,
            )
            .with_context(context)
        };

        if let Some(bytes) = optional_count(row, "bytesUsed", path)? {
            match (extended.domestic, extended.international) {
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
        let sms = optional_count(row, "smsUsed", path)?;
        match (sms, extended.mo_sms, extended.mt_sms) {
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
    outcome.last_timestamp = last;
    if has_more && rows.is_empty() {
        outcome.warnings.push(
            Warning::new("hasMoreData is true but the page has no rows").at_field("usageHistory"),
        );
    }
    Ok(outcome)
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
