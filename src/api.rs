//! The JS API: `parseUsage(text, options?)`.

use js_sys::Reflect;
use serde::{Deserialize, Serialize};
use usagelens_core::record_output::{record_columns, TimeForm, DICT_FIELDS};
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

#[wasm_bindgen(module = "/src/records.js")]
extern "C" {
    #[wasm_bindgen(js_name = buildRecords)]
    fn build_records(
        len: u32,
        numbers: &js_sys::Float64Array,
        indices: &js_sys::Uint32Array,
        dicts: &JsValue,
    ) -> JsValue;

    #[wasm_bindgen(js_name = completeColumns)]
    fn complete_columns(
        columns: &JsValue,
        len: u32,
        numbers: &js_sys::Float64Array,
        indices: &js_sys::Uint32Array,
        names: &js_sys::Array,
    );
}

fn result_error(e: impl std::fmt::Display) -> JsError {
    JsError::new(&format!("parseUsage result: {e}"))
}

fn set_field(target: &JsValue, key: &str, value: &JsValue) -> Result<(), JsError> {
    Reflect::set(target, &JsValue::from_str(key), value)
        .map(|_| ())
        .map_err(|_| result_error(format_args!("cannot set {key}")))
}

fn get_field(target: &JsValue, key: &str) -> Result<JsValue, JsError> {
    Reflect::get(target, &JsValue::from_str(key))
        .map_err(|_| result_error(format_args!("no {key}")))
}

fn parse_json(text: &str) -> Result<JsValue, JsError> {
    js_sys::JSON::parse(text).map_err(|e| {
        result_error(format_args!(
            "the browser refused the result JSON: {}",
            e.as_string().unwrap_or_default()
        ))
    })
}

/// The result `{carrier, format, subject, <records or columns>, events, warnings, hasMoreData?}`:
/// the body read, its records as columns (`record_output`), and the JS object built by one
/// `JSON.parse` of everything but the records' own columns, which `src/records.js` turns into
/// record objects or typed arrays in one call.
fn parse_to_js(
    text: &str,
    options: &ParseOptions,
    decoded: Option<Warning>,
    format: ResultFormat,
) -> Result<JsValue, JsError> {
    let mut set = UsageSet::new();
    let mut report = parse(text, options, &mut set).map_err(|e| JsError::new(&e.to_string()))?;
    if let Some(w) = decoded {
        report.warnings.insert(0, w);
    }
    let times = match format {
        ResultFormat::Records => TimeForm::Text,
        ResultFormat::Columns => TimeForm::Millis,
    };
    let columns = record_columns(&set, times).map_err(result_error)?;
    let head = serde_json::to_string(&ResultHead {
        carrier: report.carrier,
        format: report.format.as_str(),
        subject: &report.subject,
    })
    .map_err(result_error)?;
    let tail = serde_json::to_string(&ResultTail {
        events: &set.events,
        warnings: &report.warnings,
        has_more_data: report.has_more_data,
    })
    .map_err(result_error)?;
    drop(set);
    // head is `{...}`, tail is `{...}`: the records' key goes between them, holding for now the
    // dictionaries (objects) or `{<field>: {values}}` (columns).
    let mut json = String::with_capacity(head.len() + tail.len() + 64);
    json.push_str(&head[..head.len() - 1]);
    match format {
        ResultFormat::Records => {
            json.push_str(",\"records\":");
            json.push_str(&columns.dicts_json());
        }
        ResultFormat::Columns => {
            json.push_str(",\"columns\":{");
            for (d, name) in DICT_FIELDS.iter().enumerate() {
                if d > 0 {
                    json.push(',');
                }
                json.push('"');
                json.push_str(name);
                json.push_str("\":{\"values\":");
                json.push_str(&columns.dict_json(d));
                json.push('}');
            }
            json.push('}');
        }
    }
    json.push(',');
    json.push_str(&tail[1..]);
    let result = parse_json(&json)?;
    drop(json);
    let len = columns.len as u32;
    // SAFETY (both views): they are made last and read by the JS call right after, which does
    // not call into wasm, so wasm memory cannot grow (and detach them) while they are in use;
    // `columns` outlives the call.
    match format {
        ResultFormat::Records => {
            let dicts = get_field(&result, "records")?;
            let records = unsafe {
                build_records(
                    len,
                    &js_sys::Float64Array::view(&columns.numbers),
                    &js_sys::Uint32Array::view(&columns.indices),
                    &dicts,
                )
            };
            set_field(&result, "records", &records)?;
        }
        ResultFormat::Columns => {
            let names: js_sys::Array = DICT_FIELDS.iter().map(|n| JsValue::from_str(n)).collect();
            let target = get_field(&result, "columns")?;
            unsafe {
                complete_columns(
                    &target,
                    len,
                    &js_sys::Float64Array::view(&columns.numbers),
                    &js_sys::Uint32Array::view(&columns.indices),
                    &names,
                )
            };
        }
    }
    Ok(result)
}

#[wasm_bindgen]
extern "C" {
    /// The browser's `TextEncoder`, for its `encodeInto`.
    type TextEncoder;
    #[wasm_bindgen(constructor)]
    fn new() -> TextEncoder;
    #[wasm_bindgen(method, js_name = encodeInto)]
    fn encode_into(
        this: &TextEncoder,
        source: &js_sys::JsString,
        destination: &js_sys::Uint8Array,
    ) -> EncodeIntoResult;

    type EncodeIntoResult;
    #[wasm_bindgen(method, getter)]
    fn read(this: &EncodeIntoResult) -> u32;
    #[wasm_bindgen(method, getter)]
    fn written(this: &EncodeIntoResult) -> u32;
}

/// A JS string as UTF-8 in wasm memory, written there by the browser's `TextEncoder.encodeInto`
/// in one call: wasm-bindgen's own conversion (`as_string`) copies ASCII one character at a time
/// in JS, which took a quarter of `parseUsage(body, {format: 'columns'})` on a 6 MB body, about
/// four times what `encodeInto` takes (docs/performance.md). Lone surrogates become U+FFFD, as
/// with `as_string`.
pub fn js_string_to_rust(text: &js_sys::JsString) -> String {
    let units = text.length() as usize;
    // ASCII needs one byte a UTF-16 unit; anything else gets room as it comes.
    let mut bytes: Vec<u8> = Vec::with_capacity(units);
    let encoder = TextEncoder::new();
    let mut rest = text.clone();
    let mut rest_units = units;
    loop {
        let spare = bytes.spare_capacity_mut();
        // SAFETY: the view covers the vector's spare capacity and is used only by the
        // `encodeInto` call below, during which nothing allocates in wasm (so memory cannot grow
        // and detach it); `set_len` then counts only the bytes `encodeInto` wrote there.
        let read = unsafe {
            let view = js_sys::Uint8Array::view_mut_raw(spare.as_mut_ptr().cast(), spare.len());
            let done = encoder.encode_into(&rest, &view);
            bytes.set_len(bytes.len() + done.written() as usize);
            done.read() as usize
        };
        if read >= rest_units {
            break;
        }
        // encodeInto stops before a character that does not fit: at most 3 bytes a unit left.
        rest = rest.slice(read as u32, rest_units as u32);
        rest_units -= read;
        bytes.reserve(rest_units * 3);
    }
    // encodeInto writes whole characters of well-formed UTF-8 only.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// `parseUsage(text, options?)`: reads a carrier response body (format detected from its shape)
/// and returns `{carrier, format, subject, records, events, warnings, hasMoreData?}`, or with
/// `options.format = 'columns'` the records as `columns` (see `embed/usagelens.d.ts`).
/// Throws an `Error` whose message says what is wrong and where.
///
/// The records leave wasm as columns (numbers, and dictionary indices into each field's distinct
/// values) and are built in one JS call (`src/records.js`): building them field by field through
/// wasm-bindgen took 1.3 s for 113k records, and writing them as one JSON text for `JSON.parse`
/// about twice the parse alone; this takes less than the parse (docs/performance.md).
#[wasm_bindgen(js_name = parseUsage)]
pub fn parse_usage_input(input: JsValue, options: JsValue) -> Result<JsValue, JsError> {
    let (options, format) = js_options(options)?;
    // Text is read as it is; bytes (a file's, as a host reads them) are decoded as the app
    // decodes a dropped file: BOM, UTF-8, UTF-16 or Windows-1252 (usagelens_core::text).
    let (text, decoded) = match input.dyn_ref::<js_sys::JsString>() {
        Some(text) => (js_string_to_rust(text), None),
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
    parse_to_js(&text, &options, decoded, format)
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
