//! TelecomX MVNO account usage, JSON and CSV (document 001).
//!
//! Rules:
//! - Whole calendar months (UTC): each record runs from the 1st of its month to the 1st of the
//!   next, granularity `month`. Only year and month of `date` are used.
//! - Subject: `account._id` as kind `account`, else the caller's. `account.number` -> attribute
//!   `msisdn`, `account.name` -> `accountName`, `account.ratePlan` -> `ratePlanId`,
//!   `account.ratePlanName` -> the record's rate plan.
//! - Data: one data/total record per month per roaming region; zone = the region's name, roaming =
//!   not the homeland region, attributes `regionId`, `roamLikeHome`. The homeland region's
//!   allowance is `account.data` megabytes (MiB: the example's 12288 is its "12Gb" plan).
//! - Voice values are *remaining* seconds. used = subscription - remaining when the subscription
//!   is > 0 (a negative remaining is use beyond the package), else -remaining (no package: the
//!   number is always negative). allowance = the subscription seconds when > 0. A positive
//!   remaining without a package is inconsistent: used 0 and a warning.
//!   Destination categories are zones `homeland, euNordic, restOfEurope, world1, world2, world3`,
//!   direction mo (calls made to those destinations), roaming false. Roaming regions use the
//!   region's name as zone, direction total (roaming minutes count calls made and received),
//!   roaming = not the homeland region.
//! - SMS and MMS: counts per zone `homeland`, `international` (roaming false) and `roaming`
//!   (roaming true), direction mo (messages sent).
//! - `charges[]` become overcharged-SMS events; `restOfWorldChangeLog[]` (also spelled
//!   `restOfWorldRoaming`) Rest-of-World events.
//! - CSV: the document's column headers, matched case-insensitively; `Voice roaming <region>
//!   secs` pairs with `Voice subscription roaming <region> secs`. CSV data columns are per
//!   destination category and map to the same zones as voice (roaming false for homeland, null for
//!   the others: the CSV does not say whether the bytes were used abroad).

use serde_json::{Map, Value};

use crate::error::{ParseError, ParseErrorKind};
use crate::model::{
    format_timestamp, Carrier, Context, Direction, Granularity, Record, Service, Subject,
    SubjectKind, Sym, UsageEvent, UsageSet, Warning,
};
use crate::readers::json_util::{
    boolean, count, count_str, decimal, echo, get_ci, parse_json, signed, text, timestamp,
    type_name,
};
use crate::readers::{ParseOptions, ReadOutcome};

/// Destination categories: (JSON field, subscription field, zone name, CSV label).
const CATEGORIES: [(&str, &str, &str, &str); 6] = [
    ("homeland", "subscriptionHomeland", "homeland", "homeland"),
    ("euNordic", "subscriptionEuNordic", "euNordic", "eu/nordic"),
    (
        "restOfEurope",
        "subscriptionRestOfEurope",
        "restOfEurope",
        "rest of europe",
    ),
    ("world1", "subscriptionWorld1", "world1", "world 1"),
    ("world2", "subscriptionWorld2", "world2", "world 2"),
    ("world3", "subscriptionWorld3", "world3", "world 3"),
];

const MIB: u64 = 1 << 20;

/// True when a first line is the TelecomX CSV header (any case, spacing or quoting; separated by
/// `,`, `;` or tab).
pub fn is_csv_header(line: &str) -> bool {
    let normalized: String = line
        .chars()
        .map(|c| if c == ';' || c == '\t' { ',' } else { c })
        .filter(|c| *c != '"' && !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    normalized.starts_with("number,name,rateplan,year,month")
        || normalized.contains("voicehomelandsecs")
}

/// Start of the month holding `unix` and the length of that month in seconds.
fn month_of(unix: i64) -> Option<(i64, u32)> {
    use chrono::{Datelike, NaiveDate};
    let date = chrono::DateTime::from_timestamp(unix, 0)?.date_naive();
    month_start(date.year(), date.month()).and_then(|start| {
        let next = if date.month() == 12 {
            NaiveDate::from_ymd_opt(date.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(date.year(), date.month() + 1, 1)
        }?;
        let end = next.and_hms_opt(0, 0, 0)?.and_utc().timestamp();
        Some((start, u32::try_from(end - start).ok()?))
    })
}

/// Start of `year`-`month` and its length in seconds (30 days for the last month chrono
/// holds), without going through a date-time per row as [`month_of`] does.
fn month_span(year: i32, month: u32) -> Option<(i64, u32)> {
    let start = month_start(year, month)?;
    let next = if month == 12 {
        year.checked_add(1).and_then(|y| month_start(y, 1))
    } else {
        month_start(year, month + 1)
    };
    let length = next.and_then(|end| u32::try_from(end - start).ok());
    Some((start, length.unwrap_or(30 * 86_400)))
}

/// A cell without the whitespace around it; a cell that starts and ends with printable ASCII
/// (nearly all) is returned as it is, without `str::trim`'s Unicode whitespace check.
fn trim_cell(cell: &str) -> &str {
    match (cell.as_bytes().first(), cell.as_bytes().last()) {
        (Some(a), Some(b)) if a.is_ascii_graphic() && b.is_ascii_graphic() => cell,
        _ => cell.trim(),
    }
}

fn month_start(year: i32, month: u32) -> Option<i64> {
    chrono::NaiveDate::from_ymd_opt(year, month, 1)?
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc().timestamp())
}

/// One TelecomX record: a whole month of one quantity (JSON and CSV build the same shape).
fn month_record(
    subject: Sym,
    context: Sym,
    start: i64,
    duration: u32,
    service: Service,
    direction: Direction,
    quantity: u64,
) -> Record {
    Record::new(
        Carrier::Telecomx,
        subject,
        start,
        duration,
        Granularity::Month,
        service,
        direction,
        quantity,
    )
    .with_context(context)
}

/// Seconds used from a remaining/subscription pair (see the module rules).
fn voice_used(remaining: i64, subscription: i64) -> Result<(u64, bool), String> {
    if subscription > 0 {
        let used = subscription
            .checked_sub(remaining)
            .ok_or("the remaining seconds are out of range")?;
        if used < 0 {
            return Err(format!(
                "{remaining} seconds remaining is more than the {subscription} included"
            ));
        }
        Ok((used as u64, true))
    } else if remaining <= 0 {
        Ok((remaining.unsigned_abs(), false))
    } else {
        Ok((0, false))
    }
}

struct Account {
    subject: Sym,
    context: Sym,
    data_allowance: Option<u64>,
}

fn account_context(
    root: &Map<String, Value>,
    options: &ParseOptions,
    set: &mut UsageSet,
    outcome: &mut ReadOutcome,
) -> Result<Account, ParseError> {
    let account = match root.get("account").or_else(|| get_ci(root, "account")) {
        Some(Value::Object(a)) => Some(a),
        None | Some(Value::Null) => None,
        Some(other) => {
            return Err(ParseError::invalid_field(
                "account",
                format!("expected an object, found {}", type_name(other)),
            ))
        }
    };
    let field = |k: &str| account.and_then(|a| get_ci(a, k)).and_then(text);
    let subject = field("_id")
        .map(|id| Subject::new(SubjectKind::Account, object_id(&id)))
        .or_else(|| options.subject.clone());
    let subject_sym = subject
        .as_ref()
        .map_or(Sym::NONE, |s| set.intern_subject(s));
    outcome.subject = subject;
    let mut context = Context {
        rate_plan: field("ratePlanName"),
        ..Context::default()
    };
    for (key, attribute) in [
        ("number", "msisdn"),
        ("name", "accountName"),
        ("ratePlan", "ratePlanId"),
    ] {
        if let Some(v) = field(key) {
            context.attributes.insert(attribute.to_owned(), v);
        }
    }
    let data_allowance = match account.and_then(|a| get_ci(a, "data")) {
        None | Some(Value::Null) => None,
        Some(v) => Some(count(v, "account.data")?.saturating_mul(MIB)),
    };
    Ok(Account {
        subject: subject_sym,
        context: set.intern_context(context),
        data_allowance,
    })
}

/// `ObjectID("…")` in the document's example is the id itself.
fn object_id(id: &str) -> String {
    id.strip_prefix("ObjectID(\"")
        .and_then(|s| s.strip_suffix("\")"))
        .unwrap_or(id)
        .to_owned()
}

fn array<'a>(root: &'a Map<String, Value>, key: &str) -> Result<&'a [Value], ParseError> {
    match get_ci(root, key) {
        None => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(other) => Err(ParseError::invalid_field(
            key,
            format!("expected an array, found {}", type_name(other)),
        )),
    }
}

fn object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, ParseError> {
    value.as_object().ok_or_else(|| {
        ParseError::invalid_field(
            path,
            format!("expected an object, found {}", type_name(value)),
        )
    })
}

fn month_field(entry: &Map<String, Value>, path: &str) -> Result<(i64, u32), ParseError> {
    let field = format!("{path}.date");
    let Some(date) = get_ci(entry, "date").and_then(|v| v.as_str()) else {
        return Err(ParseError::invalid_field(
            field,
            "each month's entry needs a date",
        ));
    };
    let t = timestamp(date, &field)?;
    month_of(t)
        .ok_or_else(|| ParseError::invalid_field(field, format!("{} is out of range", echo(date))))
}

/// A field by its documented name, matched ignoring ASCII case; null counts as absent.
fn optional<'a>(entry: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    get_ci(entry, key)
}

/// Reads a TelecomX usage JSON body into `set` by the module's rules.
pub fn read_json(
    text_body: &str,
    options: &ParseOptions,
    set: &mut UsageSet,
) -> Result<ReadOutcome, ParseError> {
    let mut warnings = Vec::new();
    let body =
        parse_json(text_body, "TelecomX usage JSON", &mut warnings).map_err(js_notation_hint)?;
    let Value::Object(root) = &body else {
        return Err(ParseError::invalid_field(
            "(root)",
            format!(
                "a TelecomX usage response is an object, found {}",
                type_name(&body)
            ),
        ));
    };
    let mut outcome = ReadOutcome {
        warnings,
        ..ReadOutcome::default()
    };
    let account = account_context(root, options, set, &mut outcome)?;
    let base = |start: i64, duration: u32, service, direction, quantity| {
        month_record(
            account.subject,
            account.context,
            start,
            duration,
            service,
            direction,
            quantity,
        )
    };

    for (i, entry) in array(root, "data")?.iter().enumerate() {
        let path = format!("data[{i}]");
        let entry = object(entry, &path)?;
        let (start, duration) = month_field(entry, &path)?;
        let regions = nested_array(entry, "regions", &path)?;
        for (j, region) in regions.iter().enumerate() {
            let rpath = format!("{path}.regions[{j}]");
            let region = object(region, &rpath)?;
            let info = region_info(region, &rpath)?;
            let Some(bytes) = optional(region, "bytes") else {
                continue;
            };
            let bytes = count(bytes, &format!("{rpath}.bytes"))?;
            let zone = set.intern_opt(info.name.as_deref());
            let context = region_context(set, account.context, &info);
            let allowance = if info.homeland == Some(true) {
                account.data_allowance
            } else {
                None
            };
            set.push(
                base(start, duration, Service::Data, Direction::Total, bytes)
                    .with_zone(zone)
                    .with_roaming(info.homeland.map(|h| !h))
                    .with_context(context)
                    .with_allowance(allowance),
            );
        }
    }

    for (i, entry) in array(root, "voice")?.iter().enumerate() {
        let path = format!("voice[{i}]");
        let entry = object(entry, &path)?;
        let (start, duration) = month_field(entry, &path)?;
        for (field, subscription_field, zone_name, _) in CATEGORIES {
            let Some((used, allowance)) = remaining_seconds(
                entry,
                field,
                subscription_field,
                &path,
                &mut outcome.warnings,
            )?
            else {
                continue;
            };
            let zone = set.intern(zone_name);
            set.push(
                base(start, duration, Service::Voice, Direction::Mo, used)
                    .with_zone(zone)
                    .with_roaming(Some(false))
                    .with_allowance(allowance),
            );
        }
        let regions = nested_array(entry, "roamingRegions", &path)?;
        for (j, region) in regions.iter().enumerate() {
            let rpath = format!("{path}.roamingRegions[{j}]");
            let region = object(region, &rpath)?;
            let info = region_info(region, &rpath)?;
            let Some((used, allowance)) = remaining_seconds(
                region,
                "seconds",
                "subscriptionSeconds",
                &rpath,
                &mut outcome.warnings,
            )?
            else {
                continue;
            };
            let zone = set.intern_opt(info.name.as_deref());
            let context = region_context(set, account.context, &info);
            set.push(
                base(start, duration, Service::Voice, Direction::Total, used)
                    .with_zone(zone)
                    .with_roaming(info.homeland.map(|h| !h))
                    .with_context(context)
                    .with_allowance(allowance),
            );
        }
    }

    for (key, service) in [("sms", Service::Sms), ("mms", Service::Mms)] {
        for (i, entry) in array(root, key)?.iter().enumerate() {
            let path = format!("{key}[{i}]");
            let entry = object(entry, &path)?;
            let (start, duration) = month_field(entry, &path)?;
            for (field, roaming) in [
                ("homeland", false),
                ("international", false),
                ("roaming", true),
            ] {
                let Some(v) = optional(entry, field) else {
                    continue;
                };
                let n = count(v, &format!("{path}.{field}"))?;
                let zone = set.intern(field);
                set.push(
                    base(start, duration, service, Direction::Mo, n)
                        .with_zone(zone)
                        .with_roaming(Some(roaming)),
                );
            }
        }
    }

    let subject = outcome.subject.clone();
    for (i, charge) in array(root, "charges")?.iter().enumerate() {
        let path = format!("charges[{i}]");
        let charge = object(charge, &path)?;
        set.events
            .push(overcharged_sms(charge, &path, subject.clone())?);
    }
    for key in ["restOfWorldChangeLog", "restOfWorldRoaming"] {
        for (i, change) in array(root, key)?.iter().enumerate() {
            let path = format!("{key}[{i}]");
            let change = object(change, &path)?;
            set.events.push(rest_of_world(
                change,
                &path,
                subject.clone(),
                &mut outcome.warnings,
            )?);
        }
    }
    Ok(outcome)
}

/// An array inside `entry` (empty when absent), with an error naming `path.key` otherwise.
fn nested_array<'a>(
    entry: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a [Value], ParseError> {
    match entry.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(other) => Err(ParseError::invalid_field(
            format!("{path}.{key}"),
            format!("expected an array, found {}", type_name(other)),
        )),
    }
}

/// Seconds used and the allowance from a remaining/subscription pair of fields (see the module
/// rules); `None` when the remaining field is absent.
fn remaining_seconds(
    entry: &Map<String, Value>,
    remaining_key: &str,
    subscription_key: &str,
    path: &str,
    warnings: &mut Vec<Warning>,
) -> Result<Option<(u64, Option<u64>)>, ParseError> {
    let Some(remaining) = optional(entry, remaining_key) else {
        return Ok(None);
    };
    let field = format!("{path}.{remaining_key}");
    let remaining = signed(remaining, &field)?;
    let subscription = match optional(entry, subscription_key) {
        Some(v) => signed(v, &format!("{path}.{subscription_key}"))?,
        None => 0,
    };
    let (used, has_package) = voice_used(remaining, subscription)
        .map_err(|m| ParseError::invalid_field(field.clone(), m))?;
    if !has_package && remaining > 0 {
        warnings.push(
            Warning::new(format!(
                "{remaining} seconds remaining but no package ({subscription_key} is 0); counted as 0 used"
            ))
            .at_field(field),
        );
    }
    Ok(Some((used, has_package.then_some(subscription as u64))))
}

/// The document's example is JavaScript notation; say so rather than only "key must be a string".
fn js_notation_hint(mut err: ParseError) -> ParseError {
    if err.kind == ParseErrorKind::Syntax && err.message.contains("key must be a string") {
        err.message.push_str(
            " (this looks like JavaScript object notation, as in TelecomX's documentation example; a real response is JSON: quote the keys with \", use \" for strings and write ObjectID(\"x\") as \"x\")",
        );
    }
    err
}

struct RegionInfo {
    id: Option<String>,
    name: Option<String>,
    homeland: Option<bool>,
    roam_like_home: Option<bool>,
}

fn region_info(region: &Map<String, Value>, path: &str) -> Result<RegionInfo, ParseError> {
    let flag = |k: &str| -> Result<Option<bool>, ParseError> {
        optional(region, k)
            .map(|v| boolean(v, &format!("{path}.{k}")))
            .transpose()
    };
    Ok(RegionInfo {
        id: optional(region, "_id")
            .and_then(text)
            .map(|s| object_id(&s)),
        name: optional(region, "name").and_then(text),
        homeland: flag("homeland")?,
        roam_like_home: flag("roamLikeHome")?,
    })
}

fn region_context(set: &mut UsageSet, account: Sym, info: &RegionInfo) -> Sym {
    let mut context = set.context(account).cloned().unwrap_or_default();
    if let Some(id) = &info.id {
        context.attributes.insert("regionId".into(), id.clone());
    }
    if let Some(r) = info.roam_like_home {
        context
            .attributes
            .insert("roamLikeHome".into(), r.to_string());
    }
    set.intern_context(context)
}

fn event_time(
    entry: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<String>, ParseError> {
    match optional(entry, key) {
        None => Ok(None),
        Some(Value::String(t)) => Ok(Some(format_timestamp(timestamp(
            t,
            &format!("{path}.{key}"),
        )?))),
        Some(other) => Err(ParseError::invalid_field(
            format!("{path}.{key}"),
            format!("expected a date string, found {}", type_name(other)),
        )),
    }
}

fn money(entry: &Map<String, Value>, key: &str, path: &str) -> Result<Option<f64>, ParseError> {
    optional(entry, key)
        .map(|v| decimal(v, &format!("{path}.{key}")))
        .transpose()
}

fn overcharged_sms(
    charge: &Map<String, Value>,
    path: &str,
    subject: Option<Subject>,
) -> Result<UsageEvent, ParseError> {
    let at = event_time(charge, "date", path)?.ok_or_else(|| {
        ParseError::invalid_field(format!("{path}.date"), "a charge needs its date")
    })?;
    Ok(UsageEvent::OverchargedSms {
        carrier: Carrier::Telecomx,
        subject,
        at,
        number: optional(charge, "number").and_then(text),
        description: optional(charge, "description").and_then(text),
        amount: match optional(charge, "amount") {
            Some(v) => count(v, &format!("{path}.amount"))?,
            None => 1,
        },
        price: money(charge, "price", path)?,
        vat_exempt: optional(charge, "vat")
            .map(|v| boolean(v, &format!("{path}.vat")))
            .transpose()?,
        wholesale: money(charge, "wholesale", path)?,
        cost: money(charge, "cost", path)?,
    })
}

fn rest_of_world(
    change: &Map<String, Value>,
    path: &str,
    subject: Option<Subject>,
    warnings: &mut Vec<Warning>,
) -> Result<UsageEvent, ParseError> {
    let kind = optional(change, "type").and_then(text).ok_or_else(|| {
        ParseError::invalid_field(
            format!("{path}.type"),
            "a Rest-of-World change needs its type",
        )
    })?;
    if !["CHANGE", "ACTIVATION", "REVERSION", "CHANGE_RATEPLAN"].contains(&kind.as_str()) {
        warnings.push(
            Warning::new(format!(
                "unknown Rest-of-World change type {kind:?}; known: CHANGE, ACTIVATION, REVERSION, CHANGE_RATEPLAN"
            ))
            .at_field(format!("{path}.type")),
        );
    }
    let at = event_time(change, "when", path)?.ok_or_else(|| {
        ParseError::invalid_field(
            format!("{path}.when"),
            "a Rest-of-World change needs its time",
        )
    })?;
    let soc = match optional(change, "soc") {
        None => None,
        Some(Value::Object(s)) => Some(s),
        Some(other) => {
            return Err(ParseError::invalid_field(
                format!("{path}.soc"),
                format!("expected an object or null, found {}", type_name(other)),
            ))
        }
    };
    let soc_field = |k: &str| soc.and_then(|s| optional(s, k)).and_then(text);
    Ok(UsageEvent::RestOfWorld {
        carrier: Carrier::Telecomx,
        subject,
        change: kind,
        at,
        expires_at: event_time(change, "expiresAt", path)?,
        soc_id: soc_field("_id"),
        soc_description: soc_field("description"),
        soc_row_type: soc_field("rowType"),
        cost: money(change, "cost", path)?,
        wholesale: money(change, "wholesale", path)?,
        price: money(change, "price", path)?,
        is_included: optional(change, "isIncluded")
            .map(|v| boolean(v, &format!("{path}.isIncluded")))
            .transpose()?,
    })
}

/// What one CSV column means.
#[derive(Clone, Debug, PartialEq)]
enum Column {
    Number,
    Name,
    RatePlan,
    Year,
    Month,
    /// Remaining seconds towards a destination category (index into CATEGORIES).
    VoiceCategory(usize),
    VoiceCategorySubscription(usize),
    VoiceRoaming(String),
    VoiceRoamingSubscription(String),
    DataCategory(usize),
    Messages(Service, &'static str),
    Unknown,
}

fn classify(header: &str) -> Column {
    let h = header.trim().to_ascii_lowercase();
    let h = h.split_whitespace().collect::<Vec<_>>().join(" ");
    let category = |label: &str| CATEGORIES.iter().position(|c| c.3 == label);
    match h.as_str() {
        "number" => return Column::Number,
        "name" => return Column::Name,
        "rateplan" => return Column::RatePlan,
        "year" => return Column::Year,
        "month" => return Column::Month,
        _ => {}
    }
    for (prefix, service) in [("sms ", Service::Sms), ("mms ", Service::Mms)] {
        if let Some(rest) = h.strip_prefix(prefix) {
            return match rest {
                "homeland" => Column::Messages(service, "homeland"),
                "international" => Column::Messages(service, "international"),
                "roaming" => Column::Messages(service, "roaming"),
                _ => Column::Unknown,
            };
        }
    }
    if let Some(rest) = h
        .strip_prefix("data ")
        .and_then(|r| r.strip_suffix(" bytes"))
    {
        return category(rest).map_or(Column::Unknown, Column::DataCategory);
    }
    let Some(rest) = h
        .strip_prefix("voice ")
        .and_then(|r| r.strip_suffix(" secs"))
    else {
        return Column::Unknown;
    };
    // Region names keep the header's own spelling, so they match between the two columns and
    // show as the user's carrier wrote them.
    let original = header.trim();
    let region_of = |prefix_len: usize| {
        original
            .get(prefix_len..original.len().saturating_sub(" secs".len()))
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    if rest.starts_with("subscription roaming ") {
        return Column::VoiceRoamingSubscription(region_of("voice subscription roaming ".len()));
    }
    if let Some(label) = rest.strip_prefix("subscription ") {
        return category(label).map_or(Column::Unknown, Column::VoiceCategorySubscription);
    }
    if rest.starts_with("roaming ") {
        return Column::VoiceRoaming(region_of("voice roaming ".len()));
    }
    category(rest).map_or(Column::Unknown, Column::VoiceCategory)
}

/// Reads a TelecomX usage CSV into `set` by the module's rules.
pub fn read_csv(
    text_body: &str,
    options: &ParseOptions,
    set: &mut UsageSet,
) -> Result<ReadOutcome, ParseError> {
    read_csv_with(text_body, options, set, true)
}

/// [`read_csv`] with the csv crate reading every row (tests compare the two paths).
#[doc(hidden)]
pub fn read_csv_general(
    text_body: &str,
    options: &ParseOptions,
    set: &mut UsageSet,
) -> Result<ReadOutcome, ParseError> {
    read_csv_with(text_body, options, set, false)
}

/// The separator of a CSV dialect, from its header line: `,` (the document's), `;` (Excel where
/// the comma is the decimal mark, e.g. Danish) or tab (Excel's "Unicode text"); the one that
/// occurs most outside quotes, `,` on a tie.
pub fn csv_delimiter(header_line: &str) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for b in header_line.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3)
        .max_by_key(|&i| (counts[i], std::cmp::Reverse(i)))
        .unwrap_or(0);
    [b',', b';', b'\t'][best]
}

/// A quantity as the dialect writes it: where `,` is not the separator it may be the decimal
/// mark (`1234,0`) and `.` may group thousands (`1.234.567`); both are read as the document's
/// plain digits. `None`: the text is taken as it is.
fn dialect_number(raw: &str, decimal_comma: bool) -> Option<String> {
    if !decimal_comma || !raw.bytes().any(|b| b == b',' || b == b'.') {
        return None;
    }
    let (whole, fraction) = match raw.rsplit_once(',') {
        Some((w, f)) => (w, Some(f)),
        None => (raw, None),
    };
    let digits = whole.strip_prefix('-').unwrap_or(whole);
    let groups: Vec<&str> = digits.split('.').collect();
    let grouped = groups.len() > 1
        && (1..=3).contains(&groups[0].len())
        && groups[1..].iter().all(|g| g.len() == 3)
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()));
    if groups.len() > 1 && !grouped {
        return None;
    }
    let mut out = whole.replace('.', "");
    if let Some(f) = fraction {
        out.push('.');
        out.push_str(f);
    }
    Some(out)
}

fn read_csv_with(
    text_body: &str,
    options: &ParseOptions,
    set: &mut UsageSet,
    fast: bool,
) -> Result<ReadOutcome, ParseError> {
    let header_line = text_body
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap_or_default();
    let delimiter = csv_delimiter(header_line);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .delimiter(delimiter)
        .from_reader(text_body.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| csv_error(&e, "TelecomX usage CSV header", text_body, delimiter))?
        .clone();
    let columns: Vec<Column> = headers.iter().map(classify).collect();
    let mut outcome = ReadOutcome::default();
    if delimiter != b',' {
        outcome.warnings.push(Warning::new(format!(
            "read as {}-separated CSV with decimal commas (a spreadsheet's regional dialect)",
            if delimiter == b';' {
                "semicolon"
            } else {
                "tab"
            }
        )));
    }
    // One warning for all unknown columns: a file with a million extra columns is one problem.
    let unknown: Vec<(usize, &str)> = columns
        .iter()
        .zip(headers.iter())
        .enumerate()
        .filter(|(_, (c, _))| **c == Column::Unknown)
        .map(|(i, (_, name))| (i + 1, name))
        .collect();
    if let Some(&(first_index, first_name)) = unknown.first() {
        let shown: Vec<String> = unknown
            .iter()
            .take(5)
            .map(|(i, name)| format!("{i} {}", echo(name)))
            .collect();
        let more = unknown.len().saturating_sub(5);
        let message = if unknown.len() == 1 {
            format!(
                "column {first_index} {} is not a TelecomX usage column; ignored",
                echo(first_name)
            )
        } else {
            format!(
                "{} columns are not TelecomX usage columns and were ignored: {}{}",
                unknown.len(),
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            )
        };
        outcome
            .warnings
            .push(Warning::new(message).at_field(first_name).at_line(1));
    }
    for required in [Column::Year, Column::Month] {
        if !columns.contains(&required) {
            return Err(ParseError::invalid_field(
                if required == Column::Year {
                    "year"
                } else {
                    "month"
                },
                "the TelecomX CSV header has no year or month column",
            )
            .at_line(1));
        }
    }
    let subject = options.subject.clone();
    let subject_sym = subject
        .as_ref()
        .map_or(Sym::NONE, |s| set.intern_subject(s));
    outcome.subject = subject;

    let position = |wanted: &Column| columns.iter().position(|c| c == wanted);
    // What each cell turns into, worked out once from the header: looking columns, companion
    // subscription columns and zones up per cell was most of this reader's time (criterion).
    let mut cells: Vec<CellPlan> = Vec::new();
    for (index, column) in columns.iter().enumerate() {
        let kind = match column {
            Column::VoiceCategory(k) => CellKind::Voice {
                subscription: position(&Column::VoiceCategorySubscription(*k)),
                direction: Direction::Mo,
                roaming: Some(false),
            },
            Column::VoiceRoaming(region) => CellKind::Voice {
                subscription: position(&Column::VoiceRoamingSubscription(region.clone())),
                direction: Direction::Total,
                roaming: None,
            },
            Column::DataCategory(k) => CellKind::Data {
                roaming: (*k == 0).then_some(false),
            },
            Column::Messages(service, zone) => CellKind::Messages {
                service: *service,
                roaming: *zone == "roaming",
            },
            _ => continue,
        };
        let zone = match column {
            Column::VoiceCategory(k) | Column::DataCategory(k) => set.intern(CATEGORIES[*k].2),
            Column::VoiceRoaming(region) => set.intern(region),
            Column::Messages(_, zone) => set.intern(zone),
            _ => Sym::NONE,
        };
        cells.push(CellPlan { index, zone, kind });
    }
    let (year_at, month_at) = (position(&Column::Year), position(&Column::Month));
    let (plan_at, number_at, name_at) = (
        position(&Column::RatePlan),
        position(&Column::Number),
        position(&Column::Name),
    );
    let rows = RowPlan {
        decimal_comma: delimiter != b',',
        headers: &headers,
        cells,
        year_at,
        month_at,
        plan_at,
        number_at,
        name_at,
        subject: subject_sym,
    };
    let mut contexts = ContextCache::default();
    let records_before = set.records.len();
    // Rows are split here when they are plain (see `split_row`); the csv crate reads a body the
    // fast path declined from the start again, so errors always come from one place.
    if fast && delimiter == b',' && read_plain_rows(text_body, &rows, set, &mut contexts).is_some()
    {
        return Ok(outcome);
    }
    set.records.truncate(records_before);
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(&e, "TelecomX usage CSV", text_body, delimiter)),
        }
        let line = record.position().map_or(0, |p| p.line());
        let fields: Vec<&str> = record.iter().collect();
        rows.read(&fields, line, set, &mut contexts)?;
    }
    Ok(outcome)
}

/// Reads every row with [`split_row`]: csv-core's state machine and the per-record UTF-8 check
/// were a third of this reader's instructions (callgrind), and a body that is already a `&str`
/// needs neither. Returns `None` (the caller then reads the body with the csv crate) for anything
/// it does not take: a first row that is not the header csv read, a row of another width, a row
/// with an error, or quoting `split_row` leaves alone.
fn read_plain_rows(
    body: &str,
    rows: &RowPlan,
    set: &mut UsageSet,
    contexts: &mut ContextCache,
) -> Option<()> {
    let mut at = body.strip_prefix('\u{feff}').map_or(0, |_| 3);
    let mut line = 1u64;
    let mut fields: Vec<&str> = Vec::with_capacity(rows.headers.len());
    if !split_row(body, &mut at, &mut line, &mut fields)?
        || !fields.iter().copied().eq(rows.headers.iter())
    {
        return None;
    }
    loop {
        let row_line = line;
        if !split_row(body, &mut at, &mut line, &mut fields)? {
            return Some(());
        }
        if fields.len() != rows.headers.len() {
            return None;
        }
        rows.read(&fields, row_line, set, contexts).ok()?;
    }
}

/// Splits the row at byte `at` of `body` into `fields` and moves `at` past it; blank lines before
/// it are skipped (as csv skips them) and `line` counts the lines passed. `Some(false)` at the
/// end of the body. Quoted fields are taken as they are (the quotes removed); `None` for what
/// only the csv crate reads right: an escaped quote, a quote inside an unquoted field, text after
/// a closing quote, an unterminated quote.
fn split_row<'a>(
    body: &'a str,
    at: &mut usize,
    line: &mut u64,
    fields: &mut Vec<&'a str>,
) -> Option<bool> {
    let bytes = body.as_bytes();
    let mut i = *at;
    while let Some(b'\r' | b'\n') = bytes.get(i) {
        if bytes[i] == b'\n' || bytes.get(i + 1) != Some(&b'\n') {
            *line += 1;
        }
        i += 1;
    }
    if i >= bytes.len() {
        *at = i;
        return Some(false);
    }
    fields.clear();
    loop {
        // Slices start and end next to ASCII delimiters, so they are always on char boundaries.
        if bytes.get(i) == Some(&b'"') {
            let start = i + 1;
            let mut end = start;
            while *bytes.get(end)? != b'"' {
                if bytes[end] == b'\n' {
                    *line += 1;
                }
                end += 1;
            }
            fields.push(body.get(start..end)?);
            i = end + 1;
            if !matches!(bytes.get(i), None | Some(b',' | b'\r' | b'\n')) {
                return None;
            }
        } else {
            let start = i;
            while let Some(&b) = bytes.get(i) {
                match b {
                    b',' | b'\r' | b'\n' => break,
                    b'"' => return None,
                    _ => i += 1,
                }
            }
            fields.push(body.get(start..i)?);
        }
        match bytes.get(i) {
            Some(b',') => i += 1,
            Some(b'\r') if bytes.get(i + 1) == Some(&b'\n') => {
                i += 2;
                break;
            }
            Some(_) => {
                i += 1;
                break;
            }
            None => break,
        }
    }
    *line += 1;
    *at = i;
    Some(true)
}

/// Rows of one account nearly always share plan, number and name, and fleet exports repeat a
/// few thousand accounts: each distinct (plan, number, name) becomes a context once. Found by
/// the triple's hash and checked against the context itself, so a new account allocates its
/// context and nothing else (a copy of the triple as the key was, with its growth, a tenth of
/// reading the browser benchmark's CSV of 7,000 accounts' contexts).
#[derive(Default)]
struct ContextCache {
    known: rustc_hash::FxHashMap<u64, Sym>,
}

impl ContextCache {
    fn get(&mut self, set: &mut UsageSet, plan: &str, msisdn: &str, name: &str) -> Sym {
        use std::hash::BuildHasher;
        let hash = rustc_hash::FxBuildHasher.hash_one((plan, msisdn, name));
        if let Some(&sym) = self.known.get(&hash) {
            if Self::made_from(set.context(sym), plan, msisdn, name) {
                return sym;
            }
        }
        let mut context = Context {
            rate_plan: (!plan.is_empty()).then(|| plan.to_owned()),
            ..Context::default()
        };
        if !msisdn.is_empty() {
            context
                .attributes
                .insert("msisdn".into(), msisdn.to_owned());
        }
        if !name.is_empty() {
            context
                .attributes
                .insert("accountName".into(), name.to_owned());
        }
        let sym = set.intern_context(context);
        self.known.insert(hash, sym);
        sym
    }

    /// Whether `context` is the one [`ContextCache::get`] makes of the triple (a context stored
    /// escaped, or another triple with the same hash, is not: it is made again, and interning
    /// finds it).
    fn made_from(context: Option<&Context>, plan: &str, msisdn: &str, name: &str) -> bool {
        // An empty field is left out of the context.
        let same = |stored: Option<&String>, text: &str| match stored {
            Some(s) => !text.is_empty() && s == text,
            None => text.is_empty(),
        };
        let Some(c) = context else {
            return plan.is_empty() && msisdn.is_empty() && name.is_empty();
        };
        same(c.rate_plan.as_ref(), plan)
            && same(c.attributes.get("msisdn"), msisdn)
            && same(c.attributes.get("accountName"), name)
            && c.attributes.len() == usize::from(!msisdn.is_empty()) + usize::from(!name.is_empty())
    }
}

/// What the header says about every row: where the month, account fields and usage cells are.
struct RowPlan<'h> {
    /// The dialect writes `1234,5` (see [`dialect_number`]).
    decimal_comma: bool,
    headers: &'h csv::StringRecord,
    cells: Vec<CellPlan>,
    year_at: Option<usize>,
    month_at: Option<usize>,
    plan_at: Option<usize>,
    number_at: Option<usize>,
    name_at: Option<usize>,
    subject: Sym,
}

impl RowPlan<'_> {
    /// Reads one row (`fields`, at `line` of the body) into records.
    fn read(
        &self,
        fields: &[&str],
        line: u64,
        set: &mut UsageSet,
        contexts: &mut ContextCache,
    ) -> Result<(), ParseError> {
        let header = |i: usize| self.headers.get(i).unwrap_or_default();
        let text_at =
            |at: Option<usize>| at.and_then(|i| fields.get(i).copied()).unwrap_or_default();
        let number = |at: Option<usize>| -> Result<Option<i64>, ParseError> {
            let Some(i) = at else { return Ok(None) };
            let v = trim_cell(fields.get(i).copied().unwrap_or_default());
            if v.is_empty() {
                return Ok(None);
            }
            let local = dialect_number(v, self.decimal_comma);
            let plain = local.as_deref().unwrap_or(v);
            plain
                .parse::<i64>()
                .ok()
                .or_else(|| {
                    plain
                        .parse::<f64>()
                        .ok()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                        .map(|f| f as i64)
                })
                .map(Some)
                .ok_or_else(|| {
                    ParseError::invalid_field(
                        header(i),
                        format!("expected a whole number, found {}", echo(v)),
                    )
                    .at_line(line)
                })
        };
        let year = number(self.year_at)?.unwrap_or(0);
        let month = number(self.month_at)?.unwrap_or(0);
        let (start, duration) = i32::try_from(year)
            .ok()
            .zip(u32::try_from(month).ok())
            .and_then(|(y, m)| month_span(y, m))
            .ok_or_else(|| {
                ParseError::invalid_field("year/month", format!("{year}-{month} is not a month"))
                    .at_line(line)
            })?;
        let context = contexts.get(
            set,
            text_at(self.plan_at),
            text_at(self.number_at),
            text_at(self.name_at),
        );
        let base = |service, direction, quantity| {
            month_record(
                self.subject,
                context,
                start,
                duration,
                service,
                direction,
                quantity,
            )
        };
        for cell in &self.cells {
            let raw = trim_cell(fields.get(cell.index).copied().unwrap_or_default());
            if raw.is_empty() {
                continue;
            }
            let record = match cell.kind {
                CellKind::Voice {
                    subscription,
                    direction,
                    roaming,
                } => {
                    let remaining = number(Some(cell.index))?.unwrap_or(0);
                    let subscription = number(subscription)?.unwrap_or(0);
                    let (used, has_package) = voice_used(remaining, subscription).map_err(|m| {
                        ParseError::invalid_field(header(cell.index), m).at_line(line)
                    })?;
                    base(Service::Voice, direction, used)
                        .with_roaming(roaming)
                        .with_allowance(has_package.then_some(subscription as u64))
                }
                CellKind::Data { roaming } => {
                    let local = dialect_number(raw, self.decimal_comma);
                    let bytes = count_str(local.as_deref().unwrap_or(raw), header(cell.index))
                        .map_err(|e| e.at_line(line))?;
                    base(Service::Data, Direction::Total, bytes).with_roaming(roaming)
                }
                CellKind::Messages { service, roaming } => {
                    let local = dialect_number(raw, self.decimal_comma);
                    let n = count_str(local.as_deref().unwrap_or(raw), header(cell.index))
                        .map_err(|e| e.at_line(line))?;
                    base(service, Direction::Mo, n).with_roaming(Some(roaming))
                }
            };
            set.push(record.with_zone(cell.zone));
        }
        Ok(())
    }
}

/// One usage cell of the CSV: its column, zone and what it holds.
struct CellPlan {
    index: usize,
    zone: Sym,
    kind: CellKind,
}

enum CellKind {
    /// Remaining seconds, read against the subscription column at `subscription`.
    Voice {
        subscription: Option<usize>,
        direction: Direction,
        roaming: Option<bool>,
    },
    Data {
        roaming: Option<bool>,
    },
    Messages {
        service: Service,
        roaming: bool,
    },
}

/// The line where a quote opens that is never closed, if the body has one: the csv crate reads
/// such a body to its end as one field and reports a row of the wrong width instead.
fn unterminated_quote(body: &str, delimiter: u8) -> Option<u64> {
    let mut line = 1u64;
    let mut opened_at: Option<u64> = None;
    let mut field_start = true;
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match (opened_at, b) {
            (Some(_), b'"') if bytes.get(i + 1) == Some(&b'"') => i += 1,
            (Some(_), b'"') => {
                opened_at = None;
                field_start = false;
            }
            (None, b'"') if field_start => opened_at = Some(line),
            (None, b) if b == delimiter => field_start = true,
            (None, b'\n') => field_start = true,
            (None, b'\r') => {}
            (None, _) => field_start = false,
            _ => {}
        }
        if b == b'\n' {
            line += 1;
        }
        i += 1;
    }
    opened_at
}

fn csv_error(err: &csv::Error, what: &str, body: &str, delimiter: u8) -> ParseError {
    if let Some(opened) = unterminated_quote(body, delimiter) {
        return ParseError::new(
            ParseErrorKind::Syntax,
            format!("{what}: a quote is opened and never closed"),
        )
        .at_line(opened);
    }
    let line = err.position().map(|p| p.line());
    let message = match err.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("{what}: a row has {len} fields where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => format!("{what}: the text is not valid UTF-8"),
        _ => format!("{what}: {err}"),
    };
    let e = ParseError::new(ParseErrorKind::Syntax, message);
    match line {
        Some(l) => e.at_line(l),
        None => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn the_context_cache_gives_each_triple_its_own_context_once() {
        let mut set = UsageSet::new();
        let mut cache = ContextCache::default();
        assert_eq!(cache.get(&mut set, "", "", ""), Sym::NONE);
        let a = cache.get(&mut set, "Plan 1", "+4511", "Ann");
        let b = cache.get(&mut set, "Plan 1", "+4512", "");
        assert_ne!(a, b);
        assert_eq!(cache.get(&mut set, "Plan 1", "+4511", "Ann"), a);
        assert_eq!(set.context(b).map(|c| c.attributes.len()), Some(1));
        // A triple whose hash finds another triple's context gets its own.
        let hash = rustc_hash::FxBuildHasher.hash_one(("Plan 2", "+4513", "Bo"));
        cache.known.insert(hash, a);
        let c = cache.get(&mut set, "Plan 2", "+4513", "Bo");
        assert_ne!(c, a);
        assert_eq!(
            set.context(c)
                .and_then(|c| c.attributes.get("accountName").cloned()),
            Some("Bo".to_owned())
        );
        // A name stored escaped is made again each time and interned to one context.
        let d = cache.get(&mut set, "", "+4514", "Eve\u{202e}");
        assert_eq!(cache.get(&mut set, "", "+4514", "Eve\u{202e}"), d);
    }

    #[test]
    fn month_span_is_month_of_its_start_and_trim_cell_is_trim() {
        let years = [
            -262_143, -1, 0, 1, 1900, 1970, 2000, 2024, 2100, 9999, 262_142, 262_143,
        ];
        for year in years {
            for month in 0..=13 {
                let expected = month_start(year, month)
                    .map(|start| month_of(start).unwrap_or((start, 30 * 86_400)));
                assert_eq!(month_span(year, month), expected, "{year}-{month}");
            }
        }
        for cell in [
            "",
            " ",
            "12",
            " 12",
            "12 ",
            "\u{a0}12\u{3000}",
            "a b",
            "\t7\r",
            "ø",
            "x",
        ] {
            assert_eq!(trim_cell(cell), cell.trim(), "{cell:?}");
        }
    }

    /// The splitter takes the documented CSV (quoted headers and plans) and plain exports; a
    /// body it silently declined would still read, only slower, so this is checked here.
    #[test]
    fn plain_and_documented_csv_take_the_fast_path() {
        for body in [
            include_str!("../../../tests/fixtures/telecomx-two-months.csv"),
            "number,name,ratePlan,year,month,Data Homeland bytes\r\n+4571,A,P,2024,1,5\r\n\r\n",
        ] {
            let mut reader = csv::ReaderBuilder::new().from_reader(body.as_bytes());
            let headers = reader.headers().unwrap().clone();
            let rows = RowPlan {
                decimal_comma: false,
                headers: &headers,
                cells: Vec::new(),
                year_at: headers.iter().position(|h| h == "year"),
                month_at: headers.iter().position(|h| h == "month"),
                plan_at: None,
                number_at: None,
                name_at: None,
                subject: Sym::NONE,
            };
            let mut set = UsageSet::new();
            assert!(
                read_plain_rows(body, &rows, &mut set, &mut ContextCache::default()).is_some(),
                "declined: {body}"
            );
        }
    }
}
