//! The JS API: `parseUsage(text, options?)`.

use js_sys::Reflect;
use serde::{Deserialize, Serialize};
use usagelens_core::record_output::{record_columns, write_records_json};
use usagelens_core::{
    default_subject_kind, parse, Carrier, ParseError, ParseOptions, RecordJson, Subject,
    SubjectKind, UsageEvent, UsageSet, Warning,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// `options.subject`: a bare id, or `{kind, id}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum SubjectOption {
    Id(String),
    Full { kind: String, id: String },
}

/// `options.format`: records as objects (default), or as columns.
#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum ResultFormat {
    #[default]
    Records,
    Columns,
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
    #[serde(default)]
    format: ResultFormat,
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

/// The result's fields other than the records, serialised around them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultHead<'a> {
    carrier: Carrier,
    format: &'static str,
    subject: &'a Option<Subject>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultTail<'a> {
    events: &'a [UsageEvent],
    warnings: &'a [Warning],
    #[serde(skip_serializing_if = "Option::is_none")]
    has_more_data: Option<bool>,
}

/// Reads the JS options object.
fn js_options(options: JsValue) -> Result<(ParseOptions, ResultFormat), JsError> {
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
    Ok((core_options, options.format))
}

/// The whole result as the JSON text of `{carrier, format, subject, records, events, warnings,
/// hasMoreData?}`: the records written by the core's fast writer, the rest by serde.
pub fn parse_to_json_text(text: &str, options: &ParseOptions) -> Result<String, String> {
    parse_to_json_text_with(text, options, None)
}

/// [`parse_to_json_text`] with the decoder's warning (a guessed file encoding) first.
fn parse_to_json_text_with(
    text: &str,
    options: &ParseOptions,
    decoded: Option<Warning>,
) -> Result<String, String> {
    let mut set = UsageSet::new();
    let mut report = parse(text, options, &mut set).map_err(|e| e.to_string())?;
    if let Some(w) = decoded {
        report.warnings.insert(0, w);
    }
    let head = serde_json::to_string(&ResultHead {
        carrier: report.carrier,
        format: report.format.as_str(),
        subject: &report.subject,
    })
    .map_err(|e| format!("parseUsage result: {e}"))?;
    let tail = serde_json::to_string(&ResultTail {
        events: &set.events,
        warnings: &report.warnings,
        has_more_data: report.has_more_data,
    })
    .map_err(|e| format!("parseUsage result: {e}"))?;
    // head is `{...}`, tail is `{...}`: splice the records between them.
    let mut out = String::with_capacity(head.len() + tail.len() + set.records.len() * 400);
    out.push_str(&head[..head.len() - 1]);
    out.push_str(",\"records\":");
    write_records_json(&set, &mut out).map_err(|e| format!("parseUsage result: {e}"))?;
    out.push(',');
    out.push_str(&tail[1..]);
    Ok(out)
}

fn set_field(target: &JsValue, key: &str, value: &JsValue) -> Result<(), JsError> {
    Reflect::set(target, &JsValue::from_str(key), value)
        .map(|_| ())
        .map_err(|_| JsError::new(&format!("parseUsage result: cannot set {key}")))
}

fn parse_json(text: &str) -> Result<JsValue, JsError> {
    js_sys::JSON::parse(text).map_err(|e| {
        JsError::new(&format!(
            "parseUsage result: the browser refused the result JSON: {}",
            e.as_string().unwrap_or_default()
        ))
    })
}

/// The columnar result: `{carrier, format, subject, columns, events, warnings, hasMoreData?}`.
/// Numbers go over as typed arrays (one copy each); the dictionaries' distinct values, few and
/// small, go over as one JSON text.
fn parse_to_columns(
    text: &str,
    options: &ParseOptions,
    decoded: Option<Warning>,
) -> Result<JsValue, JsError> {
    let mut set = UsageSet::new();
    let mut report = parse(text, options, &mut set).map_err(|e| JsError::new(&e.to_string()))?;
    if let Some(w) = decoded {
        report.warnings.insert(0, w);
    }
    let columns =
        record_columns(&set).map_err(|e| JsError::new(&format!("parseUsage result: {e}")))?;
    let head = serde_json::to_string(&ResultHead {
        carrier: report.carrier,
        format: report.format.as_str(),
        subject: &report.subject,
    })
    .map_err(|e| JsError::new(&format!("parseUsage result: {e}")))?;
    let tail = serde_json::to_string(&ResultTail {
        events: &set.events,
        warnings: &report.warnings,
        has_more_data: report.has_more_data,
    })
    .map_err(|e| JsError::new(&format!("parseUsage result: {e}")))?;
    let mut json = String::new();
    json.push_str(&head[..head.len() - 1]);
    json.push_str(",\"columns\":{");
    for (i, (name, dict)) in columns.dicts.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        json.push('"');
        json.push_str(name);
        json.push_str("\":{\"values\":");
        json.push_str(&dict.values_json());
        json.push('}');
    }
    json.push_str("},");
    json.push_str(&tail[1..]);
    let result = parse_json(&json)?;
    let cols = Reflect::get(&result, &JsValue::from_str("columns"))
        .map_err(|_| JsError::new("parseUsage result: no columns"))?;
    set_field(&cols, "length", &JsValue::from_f64(columns.len as f64))?;
    for (name, values) in [
        ("start", &columns.start_ms),
        ("end", &columns.end_ms),
        ("quantity", &columns.quantity),
        ("allowance", &columns.allowance),
    ] {
        set_field(&cols, name, &js_sys::Float64Array::from(values.as_slice()))?;
    }
    for (name, dict) in &columns.dicts {
        let column = Reflect::get(&cols, &JsValue::from_str(name))
            .map_err(|_| JsError::new(&format!("parseUsage result: no column {name}")))?;
        set_field(
            &column,
            "index",
            &js_sys::Uint32Array::from(dict.index.as_slice()),
        )?;
    }
    Ok(result)
}

/// `parseUsage(text, options?)`: reads a carrier response body (format detected from its shape)
/// and returns `{carrier, format, subject, records, events, warnings, hasMoreData?}`, or with
/// `options.format = 'columns'` the records as `columns` (see `embed/usagelens.d.ts`).
/// Throws an `Error` whose message says what is wrong and where.
///
/// The records are written as one JSON text in wasm and built by the browser's `JSON.parse`:
/// building them field by field through wasm-bindgen took 1.3 s for 113k records, this takes
/// little more than the parse (docs/performance.md).
#[wasm_bindgen(js_name = parseUsage)]
pub fn parse_usage_input(input: JsValue, options: JsValue) -> Result<JsValue, JsError> {
    let (options, format) = js_options(options)?;
    // Text is read as it is; bytes (a file's, as a host reads them) are decoded as the app
    // decodes a dropped file: BOM, UTF-8, UTF-16 or Windows-1252 (usagelens_core::text).
    let (text, decoded) = match input.as_string() {
        Some(text) => (text, None),
        None => {
            let bytes = if let Some(array) = input.dyn_ref::<js_sys::Uint8Array>() {
                array.to_vec()
            } else if input.is_instance_of::<js_sys::ArrayBuffer>() {
                js_sys::Uint8Array::new(&input).to_vec()
            } else {
                return Err(JsError::new(
                    "parseUsage: the body must be a string, a Uint8Array or an ArrayBuffer",
                ));
            };
            if bytes.len() as u64 > usagelens_core::text::MAX_FILE_BYTES {
                return Err(JsError::new(&usagelens_core::text::too_large(
                    "the body",
                    bytes.len() as u64,
                )));
            }
            let decoded =
                usagelens_core::text::decode(&bytes).map_err(|e| JsError::new(&e.to_string()))?;
            (decoded.text, decoded.warning)
        }
    };
    match format {
        ResultFormat::Records => {
            let json =
                parse_to_json_text_with(&text, &options, decoded).map_err(|e| JsError::new(&e))?;
            parse_json(&json)
        }
        ResultFormat::Columns => parse_to_columns(&text, &options, decoded),
    }
}

/// `parseUsage` with a body already in Rust (tests, the benchmark page).
pub fn parse_usage(text: &str, options: JsValue) -> Result<JsValue, JsError> {
    parse_usage_input(JsValue::from_str(text), options)
}

/// The previous `parseUsage` path (every record built as a JS object through
/// serde-wasm-bindgen), kept so tests can check the fast paths give the same records.
#[doc(hidden)]
pub fn parse_usage_field_by_field(text: &str, options: JsValue) -> Result<JsValue, JsError> {
    let (options, _) = js_options(options)?;
    let result = parse_to_json(text, &options).map_err(|e| JsError::new(&e.to_string()))?;
    // json_compatible: attributes become plain objects (not Map) and u64 become numbers.
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    result
        .serialize(&serializer)
        .map_err(|e| JsError::new(&format!("parseUsage result: {e}")))
}
