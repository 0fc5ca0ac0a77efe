//! Vodafone VRS Network Usage Event API, TMF635 `Usage` (document 000).
//!
//! Rules:
//! - The body is one `Usage` object or an array of them.
//! - `usageCharacteristic` is a name/value list whose values may be strings or numbers.
//!   `downloaded_bytes` -> data/down, `uploaded_bytes` -> data/up, granularity `event`, at
//!   `begin_period` (instantaneous: end == start); without it `usageDate` is used, with a warning.
//! - Home network from `hmcc`/`hmnc`/`hcountry`/`hnet`; visited from `vmcc`/`vmnc`/`vcountry`, named
//!   by `vplmn_tag`. Roaming = the visited PLMN (MCC+MNC) differs from home; null if either is unknown.
//! - Every other characteristic (`data_used` — the active session's count, never added to totals —
//!   throughputs, active ms, handset, APN, RAT, TACs, `vtadig`, unknown names) is kept in
//!   `attributes` under its own name. Usage-level fields become attributes `usageId`, `usageHref`,
//!   `usageType`, `usageStatus`, `usageDate`.
//! - Field and characteristic names are matched ignoring ASCII case; TMF635 v1/v2's `date` and
//!   `type` are read as `usageDate` and `usageType`.
//! - The IMSI is not in the body: the subject is the caller's (`ParseOptions::subject`).

use serde_json::{Map, Value};

use crate::error::ParseError;
use crate::model::{
    Carrier, Context, Direction, Granularity, Network, Record, Service, Sym, UsageSet, Warning,
};
use crate::readers::json_util::{
    count_str, field, get_ci, parse_json, same_name, text, timestamp, type_name,
};
use crate::readers::{ParseOptions, ReadOutcome};

/// Characteristics that become typed fields rather than attributes.
const TYPED: [&str; 11] = [
    "begin_period",
    "downloaded_bytes",
    "uploaded_bytes",
    "hmcc",
    "hmnc",
    "hcountry",
    "hnet",
    "vmcc",
    "vmnc",
    "vcountry",
    "vplmn_tag",
];

/// Reads a TMF635 `Usage` body into `set` by the module's rules; the IMSI comes from `options`.
pub fn read(
    text_body: &str,
    options: &ParseOptions,
    set: &mut UsageSet,
) -> Result<ReadOutcome, ParseError> {
    let mut outcome = ReadOutcome {
        subject: options.subject.clone(),
        ..ReadOutcome::default()
    };
    let body = parse_json(
        text_body,
        "Vodafone VRS TMF635 Usage",
        &mut outcome.warnings,
    )?;
    let subject = outcome
        .subject
        .as_ref()
        .map_or(Sym::NONE, |s| set.intern_subject(s));
    match &body {
        Value::Object(usage) => read_usage(usage, "", subject, set, &mut outcome.warnings)?,
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let prefix = format!("[{i}].");
                let Value::Object(usage) = item else {
                    return Err(ParseError::invalid_field(
                        format!("[{i}]"),
                        format!("expected a Usage object, found {}", type_name(item)),
                    ));
                };
                read_usage(usage, &prefix, subject, set, &mut outcome.warnings)?;
            }
        }
        other => {
            return Err(ParseError::invalid_field(
                "(root)",
                format!(
                    "expected a TMF635 Usage object or an array of them, found {}",
                    type_name(other)
                ),
            ))
        }
    }
    if outcome.subject.is_none() {
        outcome.warnings.push(Warning::new(
            "the TMF635 body does not carry the IMSI; give the subject to attribute this usage",
        ));
    }
    Ok(outcome)
}

fn read_usage(
    usage: &Map<String, Value>,
    prefix: &str,
    subject: Sym,
    set: &mut UsageSet,
    warnings: &mut Vec<Warning>,
) -> Result<(), ParseError> {
    let list_path = format!("{prefix}usageCharacteristic");
    let characteristics: &[Value] = match get_ci(usage, "usageCharacteristic") {
        Some(Value::Array(list)) => list,
        None => &[],
        Some(other) => {
            return Err(ParseError::invalid_field(
                list_path,
                format!(
                    "expected an array of {{name, value}}, found {}",
                    type_name(other)
                ),
            ))
        }
    };
    let mut values: Vec<(String, String)> = Vec::with_capacity(characteristics.len());
    for (i, c) in characteristics.iter().enumerate() {
        let path = format!("{list_path}[{i}]");
        let Value::Object(c) = c else {
            return Err(ParseError::invalid_field(
                path,
                format!("expected {{name, value}}, found {}", type_name(c)),
            ));
        };
        let Some(name) = get_ci(c, "name").and_then(|n| n.as_str()) else {
            return Err(ParseError::invalid_field(
                format!("{path}.name"),
                "a usage characteristic has no name",
            ));
        };
        match get_ci(c, "value") {
            None => {}
            Some(v) => match text(v) {
                Some(t) => values.push((name.to_owned(), t)),
                None => {
                    return Err(ParseError::invalid_field(
                        format!("{path}.value ({name})"),
                        format!("expected a string or number, found {}", type_name(v)),
                    ))
                }
            },
        }
    }
    let get = |name: &str| -> Option<&str> {
        values
            .iter()
            .find(|(n, _)| n == name)
            .or_else(|| values.iter().find(|(n, _)| same_name(n, name)))
            .map(|(_, v)| v.as_str())
    };
    let field_path = |name: &str| format!("{list_path}.{name}");

    let start = match (
        get("begin_period"),
        // TMF635 v1/v2 servers write `date` where v4 writes `usageDate`.
        field(usage, &["usageDate", "date"]).and_then(|(_, v)| v.as_str()),
    ) {
        (Some(t), _) => timestamp(t, &field_path("begin_period"))?,
        (None, Some(t)) => {
            warnings.push(
                Warning::new("no begin_period characteristic; the event is placed at usageDate")
                    .at_field(field_path("begin_period")),
            );
            timestamp(t, &format!("{prefix}usageDate"))?
        }
        (None, None) => {
            return Err(ParseError::invalid_field(
                field_path("begin_period"),
                "the usage has neither begin_period nor usageDate, so it cannot be placed in time",
            ))
        }
    };
    let down = get("downloaded_bytes")
        .map(|v| count_str(v, &field_path("downloaded_bytes")))
        .transpose()?;
    let up = get("uploaded_bytes")
        .map(|v| count_str(v, &field_path("uploaded_bytes")))
        .transpose()?;

    let network = |mcc: &str, mnc: &str, country: &str, name: &str| {
        let n = Network {
            mcc: get(mcc).map(str::to_owned),
            mnc: get(mnc).map(str::to_owned),
            country: get(country).map(str::to_owned),
            name: get(name).map(str::to_owned),
        };
        (!n.is_empty()).then_some(n)
    };
    let home = network("hmcc", "hmnc", "hcountry", "hnet");
    let visited = network("vmcc", "vmnc", "vcountry", "vplmn_tag");
    let plmn = |n: &Option<Network>| {
        n.as_ref()
            .and_then(|n| Some((n.mcc.clone()?, n.mnc.clone()?)))
            .map(|(mcc, mnc)| (mcc, normalize_mnc(&mnc)))
    };
    let roaming = match (plmn(&home), plmn(&visited)) {
        (Some(h), Some(v)) => Some(h != v),
        _ => None,
    };

    let mut context = Context {
        home_network: home,
        visited_network: visited,
        ..Context::default()
    };
    for (name, value) in &values {
        if !TYPED.iter().any(|t| same_name(t, name)) {
            context.attributes.insert(name.clone(), value.clone());
        }
    }
    for (names, attribute) in [
        (&["id"][..], "usageId"),
        (&["href"], "usageHref"),
        (&["usageType", "type"], "usageType"),
        (&["status"], "usageStatus"),
        (&["usageDate", "date"], "usageDate"),
        (&["description"], "description"),
    ] {
        if let Some(v) = field(usage, names).and_then(|(_, v)| text(v)) {
            context.attributes.insert(attribute.to_owned(), v);
        }
    }
    let context = set.intern_context(context);
    if down.is_none() && up.is_none() {
        warnings.push(
            Warning::new("this usage event has neither downloaded_bytes nor uploaded_bytes")
                .at_field(list_path),
        );
    }
    for (quantity, direction) in [(down, Direction::Down), (up, Direction::Up)] {
        if let Some(bytes) = quantity {
            set.push(
                Record::new(
                    Carrier::VodafoneVrs,
                    subject,
                    start,
                    0,
                    Granularity::Event,
                    Service::Data,
                    direction,
                    bytes,
                )
                .with_roaming(roaming)
                .with_context(context),
            );
        }
    }
    Ok(())
}

/// `"02"` and `"002"` name the same network: compare MNCs as numbers where they are digits.
fn normalize_mnc(mnc: &str) -> String {
    let trimmed = mnc.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    }
}
