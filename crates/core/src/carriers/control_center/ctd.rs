//! Cisco IoT Control Center `GET /devices/{iccid}/ctdUsages`: a device's usage in the current
//! billing cycle so far ("cycle to date").
//!
//! Rules (see docs/usage-model.md, "Control Center cycle-to-date"):
//! - Detected by any of the keys `ctdDataUsage`, `ctdSMSUsage`, `ctdVoiceUsage`,
//!   `ctdSessionCount` (any case). Every field name is matched without regard to case; numbers
//!   may be JSON numbers or strings of digits.
//! - One record per quantity: `ctdDataUsage` data/total (bytes), `ctdVoiceUsage` voice/total
//!   (seconds), `ctdSMSUsage` sms/total (messages). Zero quantities are kept; a missing one makes
//!   no record. `ctdSessionCount` is not usage: it becomes the attribute `sessionCount`.
//! - The period is the current billing cycle up to when the answer was fetched, granularity
//!   `cycle`. Its end: the body's `timestamp` (any case, as usageInZone writes it), else the
//!   caller's `fetched_at`; neither is an error. Its start, in this order: the cycle of a
//!   usageInZone answer of the same ICCID that holds the end (`known_cycles`), else the latest
//!   midnight (UTC) before the end on the billing day (`billing_day`, default 1; a day the month
//!   does not have is its last day).
//! - Attributes: `periodBasis` = `cycle-to-date`, `billingDay`, `cycleStartFrom`
//!   (`usageInZone`, `billing day` or `default billing day`), `retrievedAt`,
//!   `overageLimitReached`, `overageLimitOverride`, `communicationPlan`, `status`, `imsi`,
//!   `msisdn`, `deviceID`, `sessionCount`; any other scalar field under its own name. The rate
//!   plan goes to `ratePlan`.
//! - Subject: the body's `iccid`, else the caller's. The body may be one object or an array of
//!   them (one per device).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::ParseError;
use crate::model::{
    format_timestamp, Carrier, Context, Direction, Granularity, Record, Service, Subject,
    SubjectKind, Sym, UsageSet, Warning,
};
use crate::readers::json_util::get_ci as field;
use crate::readers::json_util::{count, parse_json, text, timestamp, type_name};
use crate::readers::{ParseOptions, ReadOutcome};

/// The keys that make a body a cycle-to-date answer.
const SHAPE_KEYS: [&str; 4] = [
    "ctdDataUsage",
    "ctdSMSUsage",
    "ctdVoiceUsage",
    "ctdSessionCount",
];

/// Fields read into something other than a plain attribute.
const MAPPED: [&str; 9] = [
    "iccid",
    "ctdDataUsage",
    "ctdSMSUsage",
    "ctdVoiceUsage",
    "ctdSessionCount",
    "ratePlan",
    "timestamp",
    "overageLimitReached",
    "overageLimitOverride",
];

/// A billing cycle known for a device, from a usageInZone answer loaded beside: it fixes where a
/// cycle-to-date period starts better than a billing day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownCycle {
    /// The device's ICCID.
    pub iccid: String,
    /// Unix seconds, half-open.
    pub start: i64,
    /// Unix seconds, exclusive.
    pub end: i64,
}

/// The usageInZone cycles in `set`: Control Center cycle records that are not cycle-to-date.
#[must_use]
pub fn known_cycles(set: &UsageSet) -> Vec<KnownCycle> {
    let mut cycles: Vec<KnownCycle> = Vec::new();
    for record in set.records.iter() {
        if record.carrier != Carrier::ControlCenter || record.granularity != Granularity::Cycle {
            continue;
        }
        let cycle_to_date = set
            .context(record.context)
            .is_some_and(|c| c.attributes.contains_key("periodBasis"));
        let Some(subject) = set.subject(record.subject) else {
            continue;
        };
        if cycle_to_date || subject.kind != SubjectKind::Iccid {
            continue;
        }
        let known = KnownCycle {
            iccid: subject.id.clone(),
            start: record.start,
            end: record.end(),
        };
        if !cycles.contains(&known) {
            cycles.push(known);
        }
    }
    cycles
}

/// A device that has reached its overage limit, as its latest cycle-to-date answer says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverageFlag {
    /// The device.
    pub subject: Subject,
    /// Its rate plan, from the answer.
    pub rate_plan: Option<String>,
    /// `overageLimitOverride` as the answer gave it (`DEFAULT`, `TEMPORARY_OVERRIDE`, ...).
    pub override_setting: Option<String>,
    /// RFC 3339: when the answer was fetched.
    pub retrieved_at: Option<String>,
}

/// The devices whose latest cycle-to-date answer in `set` says `overageLimitReached`, in the
/// order of their identifiers. A later answer saying `false` clears an earlier flag.
#[must_use]
pub fn overage_flags(set: &UsageSet) -> Vec<OverageFlag> {
    // Per subject: the latest answer's end and its context.
    let mut latest: std::collections::HashMap<Sym, (i64, Sym)> = std::collections::HashMap::new();
    for record in set.records.iter() {
        if record.carrier != Carrier::ControlCenter || record.granularity != Granularity::Cycle {
            continue;
        }
        let is_ctd = set
            .context(record.context)
            .is_some_and(|c| c.attributes.contains_key("overageLimitReached"));
        if !is_ctd {
            continue;
        }
        let entry = latest
            .entry(record.subject)
            .or_insert((i64::MIN, Sym::NONE));
        if record.end() >= entry.0 {
            *entry = (record.end(), record.context);
        }
    }
    let mut flags: Vec<OverageFlag> = latest
        .into_iter()
        .filter_map(|(subject, (_, context))| {
            let context = set.context(context)?;
            if context
                .attributes
                .get("overageLimitReached")
                .map(String::as_str)
                != Some("true")
            {
                return None;
            }
            Some(OverageFlag {
                subject: set.subject(subject)?.clone(),
                rate_plan: context.rate_plan.clone(),
                override_setting: context.attributes.get("overageLimitOverride").cloned(),
                retrieved_at: context.attributes.get("retrievedAt").cloned(),
            })
        })
        .collect();
    flags.sort_by(|a, b| a.subject.cmp(&b.subject));
    flags
}

/// Whether `body` has the shape of a cycle-to-date answer (a scan of key names, any case).
#[must_use]
pub fn looks_like(body: &str) -> bool {
    SHAPE_KEYS
        .iter()
        .any(|key| contains_ignore_case(body.as_bytes(), format!("\"{key}\"").as_bytes()))
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.len() >= needle.len()
        && haystack
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Reads a ctdUsages body into `set` by the module's rules; `options` gives the billing day,
/// the fetch time and the known cycles that date the period.
pub fn read(
    text_body: &str,
    options: &ParseOptions,
    set: &mut UsageSet,
) -> Result<ReadOutcome, ParseError> {
    let mut outcome = ReadOutcome::default();
    let body = parse_json(text_body, "Control Center ctdUsages", &mut outcome.warnings)?;
    let devices: Vec<(String, &Map<String, Value>)> = match &body {
        Value::Object(o) => vec![(String::new(), o)],
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Object(o) => Ok((format!("[{i}]."), o)),
                other => Err(ParseError::invalid_field(
                    format!("[{i}]"),
                    format!(
                        "expected a device's ctdUsages object, found {}",
                        type_name(other)
                    ),
                )),
            })
            .collect::<Result<_, _>>()?,
        other => {
            return Err(ParseError::invalid_field(
                "(root)",
                format!(
                "a Control Center ctdUsages response is an object (or an array of them), found {}",
                if matches!(other, Value::Array(_)) {
                    "an empty array"
                } else {
                    type_name(other)
                }
            ),
            ))
        }
    };
    let mut subjects: Vec<Option<Subject>> = Vec::new();
    for (path, device) in devices {
        let subject = read_device(device, &path, options, set, &mut outcome.warnings)?;
        if !subjects.contains(&subject) {
            subjects.push(subject);
        }
    }
    // The report names a subject only when the body is about one.
    outcome.subject = match subjects.as_slice() {
        [one] => one.clone(),
        _ => None,
    };
    Ok(outcome)
}

fn read_device(
    device: &Map<String, Value>,
    path: &str,
    options: &ParseOptions,
    set: &mut UsageSet,
    warnings: &mut Vec<Warning>,
) -> Result<Option<Subject>, ParseError> {
    let at = |key: &str| format!("{path}{key}");
    let subject = match field(device, "iccid").and_then(text) {
        Some(iccid) if !iccid.trim().is_empty() => {
            Some(Subject::new(SubjectKind::Iccid, iccid.trim()))
        }
        _ => options.subject.clone(),
    };
    let end = match field(device, "timestamp") {
        Some(Value::String(t)) => timestamp(t, &at("timestamp"))?,
        Some(other) => {
            return Err(ParseError::invalid_field(
                at("timestamp"),
                format!("expected a date string, found {}", type_name(other)),
            ))
        }
        None => options.fetched_at.ok_or_else(|| {
            ParseError::invalid_field(
                at("timestamp"),
                "a ctdUsages answer counts up to when it was fetched, and neither the body (timestamp) nor the caller (fetchedAt) says when that was",
            )
        })?,
    };
    let billing_day = options.billing_day.unwrap_or(1);
    if !(1..=31).contains(&billing_day) {
        return Err(ParseError::new(
            crate::error::ParseErrorKind::InvalidOption,
            format!("the billing day must be 1 to 31, found {billing_day}"),
        ));
    }
    let known = subject.as_ref().and_then(|s| {
        options
            .known_cycles
            .iter()
            .find(|c| c.iccid == s.id && c.start < end && end <= c.end)
    });
    let (start, cycle_start_from) = match known {
        Some(c) => (c.start, "usageInZone"),
        None => (
            cycle_start_before(end, billing_day),
            if options.billing_day.is_some() {
                "billing day"
            } else {
                "default billing day"
            },
        ),
    };
    let duration = u32::try_from(end - start).map_err(|_| {
        ParseError::invalid_field(at("timestamp"), "the cycle-to-date period is implausible")
    })?;

    let mut attributes = BTreeMap::new();
    attributes.insert("periodBasis".to_owned(), "cycle-to-date".to_owned());
    attributes.insert("cycleStartFrom".to_owned(), cycle_start_from.to_owned());
    if known.is_none() {
        attributes.insert("billingDay".to_owned(), billing_day.to_string());
    }
    attributes.insert("retrievedAt".to_owned(), format_timestamp(end));
    if let Some(v) = field(device, "overageLimitReached") {
        let reached = match v {
            Value::Bool(b) => *b,
            Value::String(s) if s.trim().eq_ignore_ascii_case("true") => true,
            Value::String(s) if s.trim().eq_ignore_ascii_case("false") => false,
            other => {
                return Err(ParseError::invalid_field(
                    at("overageLimitReached"),
                    format!("expected true or false, found {other}"),
                ))
            }
        };
        attributes.insert("overageLimitReached".to_owned(), reached.to_string());
    }
    if let Some(v) = field(device, "overageLimitOverride").and_then(text) {
        attributes.insert("overageLimitOverride".to_owned(), v);
    }
    if let Some(v) = field(device, "ctdSessionCount") {
        let n = count(v, &at("ctdSessionCount"))?;
        attributes.insert("sessionCount".to_owned(), n.to_string());
    }
    // Everything else the body says is kept under its own name (status, communicationPlan,
    // imsi, msisdn, deviceID, ...): nothing is dropped without a word.
    for (key, value) in device {
        if MAPPED.iter().any(|m| m.eq_ignore_ascii_case(key)) {
            continue;
        }
        match text(value) {
            Some(v) => {
                attributes.insert(key.clone(), v);
            }
            None if value.is_null() => {}
            None => warnings.push(
                Warning::new(format!(
                    "{key} is {}, not a single value: not kept",
                    type_name(value)
                ))
                .at_field(at(key)),
            ),
        }
    }
    let context = set.intern_context(Context {
        rate_plan: field(device, "ratePlan").and_then(text),
        attributes,
        ..Context::default()
    });
    let subject_sym = subject
        .as_ref()
        .map_or(Sym::NONE, |s| set.intern_subject(s));
    let mut quantities = 0;
    for (key, service) in [
        ("ctdDataUsage", Service::Data),
        ("ctdVoiceUsage", Service::Voice),
        ("ctdSMSUsage", Service::Sms),
    ] {
        let Some(value) = field(device, key) else {
            continue;
        };
        let quantity = count(value, &at(key))?;
        quantities += 1;
        set.push(
            Record::new(
                Carrier::ControlCenter,
                subject_sym,
                start,
                duration,
                Granularity::Cycle,
                service,
                Direction::Total,
                quantity,
            )
            .with_context(context),
        );
    }
    if quantities == 0 {
        warnings.push(
            Warning::new("no ctdDataUsage, ctdVoiceUsage or ctdSMSUsage: no usage to show")
                .at_field(format!("{path}(object)")),
        );
    }
    Ok(subject)
}

/// The latest cycle start strictly before `end`: midnight UTC of `billing_day` (or the month's
/// last day when it is shorter) of `end`'s month or the month before.
#[must_use]
pub fn cycle_start_before(end: i64, billing_day: u32) -> i64 {
    use chrono::{Datelike, NaiveDate};
    let Some(at) = chrono::DateTime::from_timestamp(end, 0) else {
        return end;
    };
    let start_in = |year: i32, month: u32| -> i64 {
        let last = (28..=31)
            .rev()
            .find(|d| NaiveDate::from_ymd_opt(year, month, *d).is_some())
            .unwrap_or(28);
        NaiveDate::from_ymd_opt(year, month, billing_day.min(last))
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(end, |d| d.and_utc().timestamp())
    };
    let this_month = start_in(at.year(), at.month());
    if this_month < end {
        return this_month;
    }
    let (year, month) = if at.month() == 1 {
        (at.year() - 1, 12)
    } else {
        (at.year(), at.month() - 1)
    };
    start_in(year, month)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readers::{parse, Format};

    const EXAMPLE: &str = r#"{"iccid":"8988216716970004973","imsi":"204043255123456","msisdn":"882351234567890","deviceID":"dev-17","status":"ACTIVATED","ratePlan":"IoT Flex Global","communicationPlan":"Data + SMS","ctdDataUsage":123456,"ctdSMSUsage":3,"ctdVoiceUsage":120,"ctdSessionCount":5,"overageLimitReached":false,"overageLimitOverride":"DEFAULT"}"#;

    fn t(text: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp()
    }

    fn options_at(fetched: &str) -> ParseOptions {
        ParseOptions {
            fetched_at: Some(t(fetched)),
            ..ParseOptions::default()
        }
    }

    #[test]
    fn the_documented_answer_reads_as_cycle_to_date() {
        let mut set = UsageSet::new();
        let report = parse(EXAMPLE, &options_at("2026-12-01T10:30:00Z"), &mut set).unwrap();
        assert_eq!(report.format, Format::ControlCenterCtdJson);
        assert_eq!(report.carrier, Carrier::ControlCenter);
        assert_eq!(
            report.subject,
            Some(Subject::new(SubjectKind::Iccid, "8988216716970004973"))
        );
        let records = set.records_json();
        let by_service = |s: Service| records.iter().find(|r| r.service == s).unwrap();
        assert_eq!(by_service(Service::Data).quantity, 123_456);
        assert_eq!(by_service(Service::Voice).quantity, 120);
        assert_eq!(by_service(Service::Sms).quantity, 3);
        assert_eq!(records.len(), 3);
        let data = by_service(Service::Data);
        assert_eq!(data.direction, Direction::Total);
        assert_eq!(data.granularity, Granularity::Cycle);
        assert_eq!(data.start, "2026-12-01T00:00:00Z");
        assert_eq!(data.end, "2026-12-01T10:30:00Z");
        assert_eq!(data.rate_plan.as_deref(), Some("IoT Flex Global"));
        let a = &data.attributes;
        assert_eq!(a["periodBasis"], "cycle-to-date");
        assert_eq!(a["billingDay"], "1");
        assert_eq!(a["cycleStartFrom"], "default billing day");
        assert_eq!(a["overageLimitReached"], "false");
        assert_eq!(a["overageLimitOverride"], "DEFAULT");
        assert_eq!(a["communicationPlan"], "Data + SMS");
        assert_eq!(a["status"], "ACTIVATED");
        assert_eq!(a["imsi"], "204043255123456");
        assert_eq!(a["msisdn"], "882351234567890");
        assert_eq!(a["deviceID"], "dev-17");
        assert_eq!(a["sessionCount"], "5");
        assert_eq!(a["retrievedAt"], "2026-12-01T10:30:00Z");
    }

    #[test]
    fn names_in_any_case_and_numbers_as_strings() {
        let body = r#"{"ICCID":"8988216716970004973","CTDDATAUSAGE":"2048","ctdsmsusage":"7","CtdVoiceUsage":"60","ctdsessioncount":"2","OverageLimitReached":"TRUE","Status":"ACTIVATED"}"#;
        let mut set = UsageSet::new();
        let report = parse(body, &options_at("2026-11-15T00:00:00Z"), &mut set).unwrap();
        assert_eq!(report.format, Format::ControlCenterCtdJson);
        let records = set.records_json();
        let total: Vec<u64> = records.iter().map(|r| r.quantity).collect();
        assert_eq!(total, vec![2048, 60, 7]);
        let a = &records[0].attributes;
        assert_eq!(a["overageLimitReached"], "true");
        assert_eq!(a["sessionCount"], "2");
        assert_eq!(a["Status"], "ACTIVATED");
        assert_eq!(
            records[0].subject.as_ref().unwrap().id,
            "8988216716970004973"
        );
    }

    #[test]
    fn the_cycle_starts_on_the_billing_day() {
        let mut options = options_at("2026-12-01T10:30:00Z");
        options.billing_day = Some(10);
        let mut set = UsageSet::new();
        parse(EXAMPLE, &options, &mut set).unwrap();
        let r = &set.records_json()[0];
        assert_eq!(r.start, "2026-11-10T00:00:00Z");
        assert_eq!(r.attributes["billingDay"], "10");
        assert_eq!(r.attributes["cycleStartFrom"], "billing day");
        // A day the month lacks is its last day; January wraps to December.
        assert_eq!(
            cycle_start_before(t("2026-02-28T12:00:00Z"), 31),
            t("2026-02-28T00:00:00Z")
        );
        assert_eq!(
            cycle_start_before(t("2026-02-27T12:00:00Z"), 31),
            t("2026-01-31T00:00:00Z")
        );
        assert_eq!(
            cycle_start_before(t("2026-01-05T00:00:00Z"), 10),
            t("2025-12-10T00:00:00Z")
        );
        // Fetched at the very second a cycle starts: the cycle before is the one to date.
        assert_eq!(
            cycle_start_before(t("2026-03-10T00:00:00Z"), 10),
            t("2026-02-10T00:00:00Z")
        );
        options.billing_day = Some(32);
        let err = parse(EXAMPLE, &options, &mut UsageSet::new()).unwrap_err();
        assert!(err.message.contains("1 to 31"), "{}", err.message);
    }

    #[test]
    fn a_usage_in_zone_cycle_of_the_same_device_sets_the_start() {
        let cycle = KnownCycle {
            iccid: "8988216716970004973".into(),
            start: t("2026-11-09T23:00:00Z"),
            end: t("2026-12-09T23:00:00Z"),
        };
        let other = KnownCycle {
            iccid: "8988216716970004981".into(),
            start: t("2026-11-20T00:00:00Z"),
            end: t("2026-12-20T00:00:00Z"),
        };
        let mut options = options_at("2026-12-01T10:30:00Z");
        options.known_cycles = vec![other, cycle];
        let mut set = UsageSet::new();
        parse(EXAMPLE, &options, &mut set).unwrap();
        let r = &set.records_json()[0];
        assert_eq!(r.start, "2026-11-09T23:00:00Z");
        assert_eq!(r.attributes["cycleStartFrom"], "usageInZone");
        assert!(!r.attributes.contains_key("billingDay"));
    }

    #[test]
    fn known_cycles_come_from_usage_in_zone_records_only() {
        let usage_in_zone = r#"{"iccid":"8988216716970004973","timestamp":"2026-11-20T09:00:00Z","cycleStartDate":"2026-11-10T00:00:00Z","cycleEndDate":"2026-12-09T23:59:59Z","deviceCycleUsageInZones":{"Plan, 1":[{"zone":"Z1","dataUsage":5}]}}"#;
        let mut set = UsageSet::new();
        parse(usage_in_zone, &ParseOptions::default(), &mut set).unwrap();
        parse(EXAMPLE, &options_at("2026-12-01T10:30:00Z"), &mut set).unwrap();
        assert_eq!(
            known_cycles(&set),
            vec![KnownCycle {
                iccid: "8988216716970004973".into(),
                start: t("2026-11-10T00:00:00Z"),
                end: t("2026-12-10T00:00:00Z"),
            }]
        );
    }

    #[test]
    fn the_body_timestamp_wins_and_one_is_needed() {
        let body = EXAMPLE.replace('}', r#","timestamp":"2026-10-20T08:00:00Z"}"#);
        let mut set = UsageSet::new();
        parse(&body, &options_at("2026-12-01T00:00:00Z"), &mut set).unwrap();
        let r = &set.records_json()[0];
        assert_eq!(
            (r.start.as_str(), r.end.as_str()),
            ("2026-10-01T00:00:00Z", "2026-10-20T08:00:00Z")
        );
        let err = parse(EXAMPLE, &ParseOptions::default(), &mut UsageSet::new()).unwrap_err();
        assert!(err.message.contains("fetchedAt"), "{}", err.message);
        assert_eq!(err.field.as_deref(), Some("timestamp"));
    }

    #[test]
    fn bad_values_name_their_field() {
        for (body, field, words) in [
            (
                r#"{"iccid":"8988216716970004973","ctdDataUsage":-5}"#,
                "ctdDataUsage",
                "zero or more",
            ),
            (
                r#"{"iccid":"8988216716970004973","ctdSMSUsage":"many"}"#,
                "ctdSMSUsage",
                "whole number",
            ),
            (
                r#"{"iccid":"8988216716970004973","ctdDataUsage":1,"overageLimitReached":"maybe"}"#,
                "overageLimitReached",
                "true or false",
            ),
            (
                r#"[{"iccid":"8988216716970004973","ctdDataUsage":1},{"iccid":"8988216716970004981","ctdVoiceUsage":1.5}]"#,
                "[1].ctdVoiceUsage",
                "whole number",
            ),
            (r#"[{"ctdDataUsage":1}, 3]"#, "[1]", "a number"),
        ] {
            let err = parse(
                body,
                &options_at("2026-12-01T00:00:00Z"),
                &mut UsageSet::new(),
            )
            .map(|_| ())
            .unwrap_err();
            assert_eq!(err.field.as_deref(), Some(field), "{body}");
            assert!(err.message.contains(words), "{body}: {}", err.message);
        }
        // Not detected as cycle-to-date at all, but the reader itself says why.
        let err = read(
            "[]",
            &options_at("2026-12-01T00:00:00Z"),
            &mut UsageSet::new(),
        )
        .unwrap_err();
        assert_eq!(err.field.as_deref(), Some("(root)"));
        assert!(err.message.contains("an empty array"), "{}", err.message);
    }

    #[test]
    fn several_devices_and_missing_quantities() {
        let body = r#"[{"iccid":"8988216716970004973","ctdDataUsage":10,"tags":["a"]},{"iccid":"8988216716970004981","ctdSessionCount":0}]"#;
        let mut set = UsageSet::new();
        let report = parse(body, &options_at("2026-12-01T00:00:01Z"), &mut set).unwrap();
        assert_eq!(report.subject, None);
        assert_eq!(set.len(), 1);
        let messages: Vec<&str> = report.warnings.iter().map(|w| w.message.as_str()).collect();
        assert!(messages.iter().any(|m| m.contains("tags is an array")));
        assert!(messages.iter().any(|m| m.contains("no usage to show")));
    }

    #[test]
    fn overage_flags_follow_the_latest_answer_per_device() {
        let reached = EXAMPLE.replace(
            r#""overageLimitReached":false"#,
            r#""overageLimitReached":true"#,
        );
        let other = reached.replace("8988216716970004973", "8988216716970004981");
        let mut set = UsageSet::new();
        parse(&reached, &options_at("2026-11-20T00:00:00Z"), &mut set).unwrap();
        parse(&other, &options_at("2026-11-20T00:00:00Z"), &mut set).unwrap();
        // A later answer for the first device: no longer over.
        parse(EXAMPLE, &options_at("2026-11-21T00:00:00Z"), &mut set).unwrap();
        let flags = overage_flags(&set);
        assert_eq!(flags.len(), 1);
        assert_eq!(flags[0].subject.id, "8988216716970004981");
        assert_eq!(flags[0].rate_plan.as_deref(), Some("IoT Flex Global"));
        assert_eq!(flags[0].override_setting.as_deref(), Some("DEFAULT"));
        assert_eq!(
            flags[0].retrieved_at.as_deref(),
            Some("2026-11-20T00:00:00Z")
        );
    }

    #[test]
    fn detection_looks_at_key_names_in_any_case() {
        assert!(looks_like(r#"{"ctdDataUsage":1}"#));
        assert!(looks_like(r#"{"CTDSMSUSAGE":1}"#));
        assert!(!looks_like(r#"{"dataUsage":1}"#));
        assert_eq!(
            crate::readers::detect(r#"{"iccid":"1","ctdVoiceUsage":"3"}"#).unwrap(),
            Format::ControlCenterCtdJson
        );
    }
}
