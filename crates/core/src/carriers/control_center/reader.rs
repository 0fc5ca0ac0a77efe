//! Cisco IoT Control Center `GET /devices/{iccid}/usageInZone` (document 003).
//!
//! Rules:
//! - One billing cycle: every record has granularity `cycle`, period `cycleStartDate ..
//!   cycleEndDate`. An end given as a bare date, or as the cycle's last second (23:59:59), is the
//!   last day *included*, so the half-open end is the following midnight. The end's own offset is
//!   the operator's time zone: `2024-01-31T23:59:59-10:00` ends the cycle at local midnight,
//!   `2024-02-01T10:00:00Z`; a last millisecond (`23:59:59.999`) counts the same.
//! - `deviceCycleUsageInZones` is an object keyed `"<rate plan>, <version>"`, each an array of
//!   zone rows; one record per quantity per row: data/total (bytes), voice/mo and voice/mt
//!   (seconds), sms/mo and sms/mt (messages). Zero quantities are kept.
//! - `dataUsageUnit` is honoured: bytes, KB, MB, GB (case-insensitive, 1024 multiples, as Control
//!   Center's own portal counts); a fractional result is rounded to the nearest byte with a
//!   warning. Voice units: seconds (or minutes, times 60).
//! - SMS keys are read case-insensitively (`SMSMOUsage`, `SMSmousage`, `smsmousage`...).
//! - Rate plan and version come from the row, else from the object key split at its last ", ".
//! - Subject: the body's `iccid`, else the caller's. `timestamp` (or `timeStamp`) becomes
//!   attribute `retrievedAt`. Fields the reader does not map are kept as attributes.
//! - Field names are matched ignoring ASCII case; the spellings read are listed by the constants
//!   below and in docs/usage-model.md.
//! - The body may be the object itself or a one-element array holding it.

use serde_json::{Map, Value};

use crate::error::ParseError;
use crate::model::{
    Carrier, Context, Direction, Granularity, Record, Service, Subject, SubjectKind, Sym, UsageSet,
    Warning,
};
use crate::readers::json_util::{
    count, field, get_ci, parse_json, parse_time, text, timestamp_value, type_name, unmapped_fields,
};
use crate::readers::{ParseOptions, ReadOutcome};

/// Reads a usageInZone body into `set` by the module's rules.
pub fn read(
    text_body: &str,
    options: &ParseOptions,
    set: &mut UsageSet,
) -> Result<ReadOutcome, ParseError> {
    let mut outcome = ReadOutcome::default();
    let body = parse_json(
        text_body,
        "Control Center usageInZone",
        &mut outcome.warnings,
    )?;
    let root = match &body {
        Value::Object(o) => o,
        Value::Array(items) if items.len() == 1 => match &items[0] {
            Value::Object(o) => o,
            other => {
                return Err(ParseError::invalid_field(
                    "[0]",
                    format!(
                        "expected the usageInZone object, found {}",
                        type_name(other)
                    ),
                ))
            }
        },
        other => {
            return Err(ParseError::invalid_field(
                "(root)",
                format!(
                    "a Control Center usageInZone response is one object, found {}",
                    type_name(other)
                ),
            ))
        }
    };
    let subject = match get_ci(root, "iccid").and_then(text) {
        Some(iccid) => Some(Subject::new(SubjectKind::Iccid, iccid)),
        None => options.subject.clone(),
    };
    let subject_sym = subject
        .as_ref()
        .map_or(Sym::NONE, |s| set.intern_subject(s));
    outcome.subject = subject;

    let start = required_time(root, CYCLE_START)?;
    let end = match field(root, CYCLE_END) {
        Some((key, v)) => cycle_end(v, key, start)?,
        None => {
            outcome.warnings.push(
                Warning::new("no cycleEndDate: the cycle is taken as one month long")
                    .at_field("cycleEndDate"),
            );
            add_month(start)
        }
    };
    if end <= start {
        return Err(ParseError::invalid_field(
            "cycleEndDate",
            "the cycle ends before it starts",
        ));
    }
    let duration = u32::try_from(end - start)
        .map_err(|_| ParseError::invalid_field("cycleEndDate", "the cycle is implausibly long"))?;
    // `timestamp` in the document, `timeStamp` in other Control Center deployments.
    let retrieved_at = field(root, RETRIEVED_AT).and_then(|(_, v)| text(v));
    // Fields of the answer the reader does not map travel with every record, under their own name.
    let answer_attributes: Vec<(String, String)> = unmapped_fields(root, &ROOT_FIELDS).collect();

    let zones = match field(root, ZONES).map(|(_, v)| v) {
        Some(Value::Object(z)) => z,
        None => {
            outcome.warnings.push(
                Warning::new("the response has no usage in any zone")
                    .at_field("deviceCycleUsageInZones"),
            );
            return Ok(outcome);
        }
        Some(other) => {
            return Err(ParseError::invalid_field(
                "deviceCycleUsageInZones",
                format!(
                    "expected an object keyed \"<rate plan>, <version>\", found {}",
                    type_name(other)
                ),
            ))
        }
    };
    for (key, rows) in zones {
        let key_path = format!("deviceCycleUsageInZones[{key:?}]");
        let Value::Array(rows) = rows else {
            return Err(ParseError::invalid_field(
                key_path,
                format!("expected an array of zone rows, found {}", type_name(rows)),
            ));
        };
        let (key_plan, key_version) = match key.rsplit_once(", ") {
            Some((plan, version)) => (plan.to_owned(), Some(version.to_owned())),
            None => (key.clone(), None),
        };
        for (i, row) in rows.iter().enumerate() {
            let path = format!("{key_path}[{i}]");
            let Value::Object(row) = row else {
                return Err(ParseError::invalid_field(
                    path,
                    format!("expected a zone row object, found {}", type_name(row)),
                ));
            };
            let mut context = Context {
                rate_plan: get_ci(row, "ratePlan")
                    .and_then(text)
                    .or(Some(key_plan.clone())),
                rate_plan_version: get_ci(row, "ratePlanVersion")
                    .and_then(text)
                    .or_else(|| key_version.clone()),
                ..Context::default()
            };
            if let Some(at) = &retrieved_at {
                context.attributes.insert("retrievedAt".into(), at.clone());
            }
            for (key, value) in &answer_attributes {
                context.attributes.insert(key.clone(), value.clone());
            }
            context.attributes.extend(unmapped_fields(row, &ROW_FIELDS));
            let context = set.intern_context(context);
            let zone = set.intern_opt(get_ci(row, "zone").and_then(text).as_deref());
            let record = |service, direction, quantity| {
                Record::new(
                    Carrier::ControlCenter,
                    subject_sym,
                    start,
                    duration,
                    Granularity::Cycle,
                    service,
                    direction,
                    quantity,
                )
                .with_zone(zone)
                .with_context(context)
            };
            if let Some(bytes) = data_bytes(row, &path, &mut outcome.warnings)? {
                set.push(record(Service::Data, Direction::Total, bytes));
            }
            for (key, direction) in [
                ("voiceMOUsage", Direction::Mo),
                ("voiceMTUsage", Direction::Mt),
            ] {
                if let Some(seconds) = voice_seconds(row, key, &path)? {
                    set.push(record(Service::Voice, direction, seconds));
                }
            }
            for (key, direction) in [("SMSMOUsage", Direction::Mo), ("SMSMTUsage", Direction::Mt)] {
                if let Some(v) = get_ci(row, key) {
                    let n = count(v, &format!("{path}.{key}"))?;
                    set.push(record(Service::Sms, direction, n));
                }
            }
        }
    }
    Ok(outcome)
}

// Every spelling each field is read under (matched ignoring ASCII case).
const ICCID: &[&str] = &["iccid"];
const CYCLE_START: &[&str] = &["cycleStartDate", "cycleStart", "billingCycleStartDate"];
const CYCLE_END: &[&str] = &["cycleEndDate", "cycleEnd", "billingCycleEndDate"];
const RETRIEVED_AT: &[&str] = &["timestamp", "timeStamp"];
const ZONES: &[&str] = &["deviceCycleUsageInZones"];
const ROOT_FIELDS: [&[&str]; 5] = [ICCID, CYCLE_START, CYCLE_END, RETRIEVED_AT, ZONES];
const ROW_FIELDS: [&[&str]; 11] = [
    &["ratePlan"],
    &["ratePlanVersion"],
    &["zone"],
    &["dataUsage"],
    &["dataUsageUnit"],
    &["voiceMOUsage"],
    &["voiceMOUsageUnit"],
    &["voiceMTUsage"],
    &["voiceMTUsageUnit"],
    &["SMSMOUsage"],
    &["SMSMTUsage"],
];

fn required_time(root: &Map<String, Value>, names: &[&str]) -> Result<i64, ParseError> {
    match field(root, names) {
        Some((key, v)) => timestamp_value(v, key),
        None => Err(ParseError::invalid_field(
            names[0],
            "a usageInZone response must say when its billing cycle starts",
        )),
    }
}

/// The half-open end of a cycle from `cycleEndDate` (see the module rules). Operators bill in
/// their own time zone, and write the inclusive end as the last second (or millisecond) of a
/// local day: either in that zone's offset (`2024-01-31T23:59:59-10:00`) or converted to UTC
/// (`2018-09-26T15:59:59.000Z` for UTC+8, whose cycle starts `2018-08-26T16:00:00.000Z`). Both
/// end the cycle at the following local midnight.
fn cycle_end(value: &Value, key: &str, start: i64) -> Result<i64, ParseError> {
    let unix = timestamp_value(value, key)?;
    let written = match value {
        Value::String(t) => parse_time(t),
        _ => None,
    };
    let Some(written) = written else {
        return Ok(unix);
    };
    if written.date_only {
        return Ok(written.unix + 86_400);
    }
    if written.millis != 0 && written.millis != 999 {
        return Ok(written.unix);
    }
    let last_second_of_its_day = written.local_second_of_day() == 86_399;
    // Written in another offset than the operator's: the next second is a local midnight when it
    // is whole (half-)hours from the cycle's start, itself a local midnight. Half hours, not days,
    // so a daylight-saving change inside the cycle and half-hour zones are still recognised.
    let midnight_after_start =
        written.unix.rem_euclid(60) == 59 && (written.unix + 1 - start).rem_euclid(1800) == 0;
    if last_second_of_its_day || midnight_after_start {
        Ok(written.unix + 1)
    } else {
        Ok(written.unix)
    }
}

fn add_month(start: i64) -> i64 {
    use chrono::{DateTime, Months};
    DateTime::from_timestamp(start, 0)
        .and_then(|d| d.checked_add_months(Months::new(1)))
        .map_or(start + 30 * 86_400, |d| d.timestamp())
}

fn data_bytes(
    row: &Map<String, Value>,
    path: &str,
    warnings: &mut Vec<Warning>,
) -> Result<Option<u64>, ParseError> {
    let Some(value) = get_ci(row, "dataUsage") else {
        return Ok(None);
    };
    let unit_text = get_ci(row, "dataUsageUnit")
        .and_then(text)
        .unwrap_or_else(|| "bytes".to_owned());
    let multiplier: u64 = match unit_text.trim().to_ascii_lowercase().as_str() {
        "" | "b" | "byte" | "bytes" => 1,
        "kb" | "kib" | "kbytes" | "kilobytes" => 1 << 10,
        "mb" | "mib" | "mbytes" | "megabytes" => 1 << 20,
        "gb" | "gib" | "gbytes" | "gigabytes" => 1 << 30,
        _ => {
            return Err(ParseError::invalid_field(
                format!("{path}.dataUsageUnit"),
                format!("unknown data unit {unit_text:?}; known: bytes, KB, MB, GB"),
            ))
        }
    };
    let field = format!("{path}.dataUsage");
    if multiplier == 1 {
        return count(value, &field).map(Some);
    }
    // Scaled units may carry decimals (1.5 MB): convert exactly where possible.
    let amount = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite() && *f >= 0.0)
    .ok_or_else(|| {
        ParseError::invalid_field(
            field.clone(),
            format!("expected a non-negative amount of {unit_text}, found {value}"),
        )
    })?;
    let bytes = amount * multiplier as f64;
    if bytes > 9.0e15 {
        return Err(ParseError::invalid_field(
            field,
            format!("{amount} {unit_text} is too large to be exact"),
        ));
    }
    let rounded = bytes.round();
    if rounded != bytes {
        warnings.push(
            Warning::new(format!(
                "{amount} {unit_text} is not a whole number of bytes; rounded to {rounded}"
            ))
            .at_field(field),
        );
    }
    Ok(Some(rounded as u64))
}

fn voice_seconds(
    row: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<u64>, ParseError> {
    let Some(value) = get_ci(row, key) else {
        return Ok(None);
    };
    let field = format!("{path}.{key}");
    let amount = count(value, &field)?;
    let unit_key = format!("{key}Unit");
    let unit = get_ci(row, &unit_key).and_then(text);
    match unit.as_deref().map(|u| u.trim().to_ascii_lowercase()) {
        None => Ok(Some(amount)),
        Some(u) if u.is_empty() || u.starts_with("sec") || u == "s" => Ok(Some(amount)),
        Some(u) if u.starts_with("min") => amount
            .checked_mul(60)
            .map(Some)
            .ok_or_else(|| ParseError::invalid_field(field, "too many minutes to be exact")),
        Some(_) => Err(ParseError::invalid_field(
            format!("{path}.{unit_key}"),
            format!(
                "unknown voice unit {:?}; known: seconds, minutes",
                unit.unwrap_or_default()
            ),
        )),
    }
}
