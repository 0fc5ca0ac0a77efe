//! The JS API: `parseUsage(text, options?)`.

use serde::{Deserialize, Serialize};
use usagelens_core::{
    parse, readers::default_subject_kind, Carrier, ParseError, ParseOptions, RecordJson, Subject,
    SubjectKind, UsageEvent, UsageSet, Warning,
};
use wasm_bindgen::prelude::*;

/// `options.subject`: a bare id, or `{kind, id}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum SubjectOption {
    Id(String),
    Full { kind: String, id: String },
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
struct JsParseOptions {
    carrier: Option<String>,
    subject: Option<SubjectOption>,
    /// Control Center cycle-to-date: the day of the month the billing cycle starts (1-31).
    billing_day: Option<u32>,
    /// When the body was fetched (RFC 3339); a cycle-to-date answer counts up to it. Default:
    /// now.
    fetched_at: Option<String>,
}

/// The result object handed to JS.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParseResultJson {
    pub carrier: Carrier,
    pub format: &'static str,
    pub subject: Option<Subject>,
    pub records: Vec<RecordJson>,
    pub events: Vec<UsageEvent>,
    pub warnings: Vec<Warning>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_more_data: Option<bool>,
}

/// Turns the JS-side options into core options, with messages that name the bad value.
pub fn parse_options(
    carrier: Option<&str>,
    subject: Option<(Option<&str>, &str)>,
) -> Result<ParseOptions, String> {
    let carrier = match carrier {
        None => None,
        Some(name) => Some(Carrier::parse(name).ok_or_else(|| {
            format!(
                "options.carrier: unknown carrier {name:?}; known: {}",
                Carrier::ALL.map(Carrier::as_str).join(", ")
            )
        })?),
    };
    let subject = match subject {
        None => None,
        Some((_, "")) => return Err("options.subject: the id is empty".to_owned()),
        Some((None, id)) => Some(Subject::new(default_subject_kind(carrier, id), id)),
        Some((Some(kind), id)) => {
            let kind = SubjectKind::parse(kind).ok_or_else(|| {
                format!(
                    "options.subject.kind: unknown kind {kind:?}; known: {}",
                    SubjectKind::ALL.map(SubjectKind::as_str).join(", ")
                )
            })?;
            Some(Subject::new(kind, id))
        }
    };
    Ok(ParseOptions {
        carrier,
        subject,
        ..ParseOptions::default()
    })
}

/// Reads one body natively; the wasm export wraps this.
pub fn parse_to_json(text: &str, options: &ParseOptions) -> Result<ParseResultJson, ParseError> {
    let mut set = UsageSet::new();
    let report = parse(text, options, &mut set)?;
    Ok(ParseResultJson {
        carrier: report.carrier,
        format: report.format.as_str(),
        subject: report.subject,
        records: set.records_json(),
        events: set.events,
        warnings: report.warnings,
        has_more_data: report.has_more_data,
    })
}

/// `parseUsage(text, options?)`: reads a carrier response body (format detected from its shape)
/// and returns `{carrier, format, subject, records, events, warnings, hasMoreData?}`.
/// Throws an `Error` whose message says what is wrong and where.
#[wasm_bindgen(js_name = parseUsage)]
pub fn parse_usage(text: &str, options: JsValue) -> Result<JsValue, JsError> {
    let options: JsParseOptions = if options.is_undefined() || options.is_null() {
        JsParseOptions::default()
    } else {
        serde_wasm_bindgen::from_value(options)
            .map_err(|e| JsError::new(&format!("parseUsage options: {e}")))?
    };
    let subject = options.subject.as_ref().map(|s| match s {
        SubjectOption::Id(id) => (None, id.as_str()),
        SubjectOption::Full { kind, id } => (Some(kind.as_str()), id.as_str()),
    });
    let mut core_options =
        parse_options(options.carrier.as_deref(), subject).map_err(|e| JsError::new(&e))?;
    core_options.billing_day = options.billing_day;
    core_options.fetched_at = Some(match &options.fetched_at {
        None => chrono::Utc::now().timestamp(),
        Some(t) => chrono::DateTime::parse_from_rfc3339(t)
            .map_err(|_| {
                JsError::new(&format!(
                    "options.fetchedAt: expected a date-time like 2026-12-01T10:30:00Z, found {t:?}"
                ))
            })?
            .timestamp(),
    });
    let options = core_options;
    let result = parse_to_json(text, &options).map_err(|e| JsError::new(&e.to_string()))?;
    // json_compatible: attributes become plain objects (not Map) and u64 become numbers.
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    result
        .serialize(&serializer)
        .map_err(|e| JsError::new(&format!("parseUsage result: {e}")))
}
