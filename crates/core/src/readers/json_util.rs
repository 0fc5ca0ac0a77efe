//! Small helpers shared by the JSON readers: numbers that arrive as strings, RFC 3339 times, and
//! field paths for error messages.

use std::cell::RefCell;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::ParseError;
use crate::model::Warning;

/// A JSON value's type, for "expected X, found Y" messages.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads a non-negative integer that may be a JSON number or a string of digits; integral floats
/// (`19301.0`) are accepted, fractions and negatives are errors naming `path`.
pub fn count(value: &Value, path: &str) -> Result<u64, ParseError> {
    match value {
        Value::Number(n) => {
            if let Some(v) = n.as_u64() {
                Ok(v)
            } else if let Some(v) = n.as_i64() {
                Err(ParseError::invalid_field(
                    path,
                    format!("expected a count of zero or more, found {v}"),
                ))
            } else {
                float_count(n.as_f64().unwrap_or(f64::NAN), &n.to_string(), path)
            }
        }
        Value::String(s) => count_str(s, path),
        other => Err(ParseError::invalid_field(
            path,
            format!("expected a number, found {}", type_name(other)),
        )),
    }
}

/// [`count`] for a value already known to be text.
pub fn count_str(text: &str, path: &str) -> Result<u64, ParseError> {
    let t = text.trim();
    if let Ok(v) = t.parse::<u64>() {
        return Ok(v);
    }
    match t.parse::<f64>() {
        Ok(f) if f.is_finite() => float_count(f, t, path),
        _ => Err(ParseError::invalid_field(
            path,
            format!("expected a whole number, found {text:?}"),
        )),
    }
}

fn float_count(f: f64, shown: &str, path: &str) -> Result<u64, ParseError> {
    // 2^53: beyond it an f64 no longer holds every integer, so the value cannot be exact.
    const EXACT_LIMIT: f64 = 9_007_199_254_740_992.0;
    if f < 0.0 {
        return Err(ParseError::invalid_field(
            path,
            format!("expected a count of zero or more, found {shown}"),
        ));
    }
    if f.fract() != 0.0 {
        return Err(ParseError::invalid_field(
            path,
            format!("expected a whole number, found {shown}"),
        ));
    }
    if f > EXACT_LIMIT {
        return Err(ParseError::invalid_field(
            path,
            format!("the number {shown} is too large to be exact"),
        ));
    }
    Ok(f as u64)
}

/// Reads a signed integer (TelecomX remaining seconds can be negative), number or string.
pub fn signed(value: &Value, path: &str) -> Result<i64, ParseError> {
    let bad = |shown: String| {
        ParseError::invalid_field(path, format!("expected a whole number, found {shown}"))
    };
    match value {
        Value::Number(n) => {
            if let Some(v) = n.as_i64() {
                Ok(v)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 {
                    Ok(f as i64)
                } else {
                    Err(bad(n.to_string()))
                }
            }
        }
        Value::String(s) => {
            let t = s.trim();
            t.parse::<i64>().map_err(|_| bad(format!("{s:?}")))
        }
        other => Err(ParseError::invalid_field(
            path,
            format!("expected a number, found {}", type_name(other)),
        )),
    }
}

/// A decimal number (prices), number or string.
pub fn decimal(value: &Value, path: &str) -> Result<f64, ParseError> {
    match value {
        Value::Number(n) => n.as_f64().ok_or_else(|| {
            ParseError::invalid_field(path, format!("expected a number, found {n}"))
        }),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .ok_or_else(|| {
                ParseError::invalid_field(path, format!("expected a number, found {s:?}"))
            }),
        other => Err(ParseError::invalid_field(
            path,
            format!("expected a number, found {}", type_name(other)),
        )),
    }
}

/// A string or number rendered as text (attributes keep what the body said).
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A boolean that may be written as `true`/`"true"`.
pub fn boolean(value: &Value, path: &str) -> Result<bool, ParseError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        other => Err(ParseError::invalid_field(
            path,
            format!("expected true or false, found {}", type_name(other)),
        )),
    }
}

/// Parses a date or date-time as the carriers write them, to Unix seconds (UTC):
/// RFC 3339 with any offset and any fraction (`2020-12-01T00:00:00Z`, `…T23:59:59.999+14:00`),
/// offsets without a colon (`+0000`, `-1000`), a space instead of `T` (Control Center's
/// `2016-07-06 20:18:37.123+0000`), a bare date (`2016-11-10`), a date with a zone suffix
/// (`2016-11-10Z`, `2016-11-10-07:00`), a date-time without zone (UTC), and epoch milliseconds
/// (or seconds) written as digits.
pub fn timestamp(text: &str, path: &str) -> Result<i64, ParseError> {
    if let Some(t) = plain_rfc3339(text) {
        return Ok(t);
    }
    parse_time(text).map(|t| t.unix).ok_or_else(|| {
        ParseError::invalid_field(
            path,
            format!(
                "expected a date like 2020-12-01T00:00:00Z, 2016-11-10 or epoch milliseconds, found {}",
                echo(text)
            ),
        )
    })
}

/// A date-time as written: its instant, and what the text said about its zone and precision
/// (Control Center cycle ends are read in the operator's own time zone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WrittenTime {
    /// Unix seconds (UTC), the fraction dropped.
    pub unix: i64,
    /// Milliseconds past `unix`.
    pub millis: u32,
    /// The offset the text gave, in seconds east of UTC (`None`: no zone, read as UTC).
    pub offset: Option<i32>,
    /// A bare date (with or without a zone suffix): midnight of that day.
    pub date_only: bool,
}

impl WrittenTime {
    /// Seconds since the local midnight of the day it falls on, in its own offset.
    pub fn local_second_of_day(&self) -> i64 {
        (self.unix + i64::from(self.offset.unwrap_or(0))).rem_euclid(86_400)
    }
}

/// Parses every form [`timestamp`] takes, keeping the offset and fraction.
pub fn parse_time(text: &str) -> Option<WrittenTime> {
    let t = text.trim();
    if !t.is_empty() && t.len() <= 14 && t.bytes().all(|b| b.is_ascii_digit()) && t.len() >= 9 {
        let n: i64 = t.parse().ok()?;
        return Some(WrittenTime {
            unix: epoch(n),
            millis: if n >= 100_000_000_000 {
                (n % 1000) as u32
            } else {
                0
            },
            offset: Some(0),
            date_only: false,
        });
    }
    let with_zone = |dt: chrono::DateTime<chrono::FixedOffset>| WrittenTime {
        unix: dt.timestamp(),
        millis: dt.timestamp_subsec_millis(),
        offset: Some(dt.offset().local_minus_utc()),
        date_only: false,
    };
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
        return Some(with_zone(dt));
    }
    // `Z` after a space-separated time, or a space before the offset: made RFC 3339-like.
    let normalized: String = {
        let mut n = t.replacen(' ', "T", 1);
        if let Some(stripped) = n.strip_suffix(" UTC").or_else(|| n.strip_suffix(" GMT")) {
            n = format!("{stripped}Z");
        }
        n.replace(" +", "+").replace(" -", "-")
    };
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(&normalized) {
        return Some(with_zone(dt));
    }
    // An offset of whole hours written `±hh` (legal in ThingSpace's "data types" page).
    let normalized = match normalized
        .len()
        .checked_sub(3)
        .filter(|&i| normalized.is_char_boundary(i))
        .map(|i| normalized.split_at(i))
    {
        Some((head, tail))
            if head.len() >= 19
                && tail.starts_with(['+', '-'])
                && tail[1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            format!("{head}{tail}:00")
        }
        _ => normalized,
    };
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z"] {
        if let Ok(dt) = chrono::DateTime::parse_from_str(&normalized, format) {
            return Some(with_zone(dt));
        }
    }
    // `%m/%d/%Y %H:%M:%S`: the US form Verizon's OpenAPI file prints for `eventDateTime`.
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%m/%d/%YT%H:%M:%S%.f",
    ] {
        if let Ok(dt) = chrono::NaiveDateTime::parse_from_str(&normalized, format) {
            let dt = dt.and_utc();
            return Some(WrittenTime {
                unix: dt.timestamp(),
                millis: dt.timestamp_subsec_millis(),
                offset: None,
                date_only: false,
            });
        }
    }
    if t.len() >= 10 && t.is_char_boundary(10) {
        let (date, zone) = t.split_at(10);
        if let Ok(d) = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d") {
            let midnight = d.and_hms_opt(0, 0, 0)?.and_utc().timestamp();
            let offset = match zone.trim() {
                "" => None,
                "Z" | "z" => Some(0),
                z => Some(parse_offset(z)?),
            };
            return Some(WrittenTime {
                unix: midnight - i64::from(offset.unwrap_or(0)),
                millis: 0,
                offset,
                date_only: true,
            });
        }
    }
    None
}

/// The shape every carrier uses for row times, `YYYY-MM-DDTHH:MM:SS`, optionally a fraction of up
/// to nine digits (dropped, as the full parser drops it), then `Z` or `±HH:MM`, read without
/// chrono's general parser: measured at ~5x faster, and ThingSpace fleets have millions of rows.
/// Anything else (leap seconds, odd spacing) returns `None` for the full parser.
pub fn plain_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        b[from..to].iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month) || day < 1 || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if day > month_days[(month - 1) as usize] {
        return None;
    }
    // The zone starts after the seconds, or after their fraction (JavaScript's toISOString
    // writes milliseconds: without this, such rows took chrono's path, 8 % of parseUsage on a
    // ThingSpace body in the browser).
    let mut z = 19;
    if b[19] == b'.' {
        z = 20;
        while b.get(z).is_some_and(u8::is_ascii_digit) {
            z += 1;
        }
        if !(21..=29).contains(&z) {
            return None;
        }
    }
    let offset = match &b[z..] {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (num(z + 1, z + 3)?, num(z + 4, z + 6)?);
            if h > 23 || m > 59 {
                return None;
            }
            (h * 3600 + m * 60) * if *sign == b'+' { 1 } else { -1 }
        }
        _ => return None,
    };
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn parse_offset(zone: &str) -> Option<i32> {
    let (sign, rest) = match zone.as_bytes().first()? {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        _ => return None,
    };
    let (h, m) = match rest.split_once(':') {
        Some(parts) => parts,
        None if rest.len() == 4 && rest.is_char_boundary(2) => rest.split_at(2),
        None => (rest, "0"),
    };
    let h: i32 = h.parse().ok()?;
    let m: i32 = m.parse().ok()?;
    (h <= 23 && m <= 59).then_some(sign * (h * 3600 + m * 60))
}

/// Reads a whole body as JSON with a message that names the format being read. A key given
/// twice in one object is read as JSON says (the last one wins) and warned with its path, since
/// the two values may disagree (`"hasMoreData":false,"hasMoreData":true`).
pub fn parse_json(
    text: &str,
    what: &str,
    warnings: &mut Vec<Warning>,
) -> Result<Value, ParseError> {
    let duplicates = RefCell::new(Vec::new());
    let mut de = serde_json::Deserializer::from_str(text);
    let root = PathNode {
        parent: None,
        segment: Segment::Root,
    };
    let value = ValueSeed {
        at: &root,
        duplicates: &duplicates,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v))
    .map_err(|e| ParseError::from_json(&e, what))?;
    for (path, key) in duplicates.into_inner() {
        warnings.push(
            Warning::new(format!(
                "the key {} appears more than once in one object; the last value was used",
                echo(&key)
            ))
            .at_field(path),
        );
    }
    Ok(value)
}

/// Where a value sits in the body, as a list on the call stack (no allocation unless a
/// duplicate key needs its path written out).
struct PathNode<'p> {
    parent: Option<&'p PathNode<'p>>,
    segment: Segment<'p>,
}

enum Segment<'p> {
    Root,
    Key(&'p str),
    Index(usize),
}

impl PathNode<'_> {
    fn render(&self) -> String {
        let mut parts = Vec::new();
        let mut node = Some(self);
        while let Some(n) = node {
            parts.push(n);
            node = n.parent;
        }
        let mut out = String::new();
        for n in parts.iter().rev() {
            match n.segment {
                Segment::Root => {}
                Segment::Key(k) if out.is_empty() => out.push_str(k),
                Segment::Key(k) => {
                    out.push('.');
                    out.push_str(k);
                }
                Segment::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        if out.is_empty() {
            "(root)".to_owned()
        } else {
            out
        }
    }
}

/// At most this many duplicate keys are reported per body (each is one warning).
const MAX_DUPLICATES: usize = 20;

struct ValueSeed<'p, 'd> {
    at: &'p PathNode<'p>,
    duplicates: &'d RefCell<Vec<(String, String)>>,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, '_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_, '_> {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        loop {
            let node = PathNode {
                parent: Some(self.at),
                segment: Segment::Index(items.len()),
            };
            let seed = ValueSeed {
                at: &node,
                duplicates: self.duplicates,
            };
            match seq.next_element_seed(seed)? {
                Some(v) => items.push(v),
                None => return Ok(Value::Array(items)),
            }
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let node = PathNode {
                parent: Some(self.at),
                segment: Segment::Key(&key),
            };
            let value = map.next_value_seed(ValueSeed {
                at: &node,
                duplicates: self.duplicates,
            })?;
            if out.contains_key(&key) {
                let mut dups = self.duplicates.borrow_mut();
                if dups.len() < MAX_DUPLICATES {
                    dups.push((self.at.render(), key.clone()));
                }
            }
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// Looks a key up ignoring ASCII case (SMS field casing differs between sources).
pub fn get_ci<'a>(object: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a Value> {
    field(object, &[key]).map(|(_, v)| v)
}

/// The first of `names` the object has, exactly spelled first, then ignoring ASCII case and word
/// separators (see [`is_one_of`]); with
/// the key as the body spelled it (for error paths). Null values count as absent. Readers list
/// every spelling real carriers use for a field (their documents, generated SDKs, deployments).
pub fn field<'a>(object: &'a Map<String, Value>, names: &[&str]) -> Option<(&'a str, &'a Value)> {
    for name in names {
        if let Some((k, v)) = object.get_key_value(*name) {
            return (!v.is_null()).then_some((k.as_str(), v));
        }
    }
    object
        .iter()
        .find(|(k, _)| is_one_of(k, names))
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.as_str(), v))
}

/// The fields of `object` a reader does not map (none of the spellings in `known`), as
/// attributes under their own names: scalars as written, objects and arrays as compact JSON,
/// nulls left out. Nothing a carrier sends is dropped silently.
pub fn unmapped_fields<'a>(
    object: &'a Map<String, Value>,
    known: &'a [&'a [&'a str]],
) -> impl Iterator<Item = (String, String)> + 'a {
    object
        .iter()
        .filter(|(k, _)| !known.iter().any(|names| is_one_of(k, names)))
        .filter_map(|(k, v)| {
            let shown = match v {
                Value::Null => None,
                Value::Object(_) | Value::Array(_) => Some(v.to_string()),
                other => text(other),
            };
            shown.map(|t| (k.clone(), t))
        })
}

/// True when `key` is one of `names`, ignoring ASCII case and `_`/`-` between words
/// (`hasMoreData`, `hasmoredata`, `has_more_data`, `downloaded_bytes`, `downloadedBytes`).
pub fn is_one_of(key: &str, names: &[&str]) -> bool {
    names.iter().any(|n| same_name(key, n))
}

/// Names equal but for ASCII case and word separators.
pub fn same_name(a: &str, b: &str) -> bool {
    let letters = |s: &str| {
        s.bytes()
            .filter(|b| *b != b'_' && *b != b'-')
            .map(|b| b.to_ascii_lowercase())
            .collect::<Vec<u8>>()
    };
    a.eq_ignore_ascii_case(b) || letters(a) == letters(b)
}

/// How many characters of a value an error or warning repeats: a 200 MB field is not echoed.
pub const ECHO_CHARS: usize = 80;

/// A value as messages show it: quoted, cut to [`ECHO_CHARS`] characters with "…", control and
/// bidirectional-override characters escaped (`\u{202e}`) so the message reads as written.
pub fn echo(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(ECHO_CHARS * 2) + 2);
    out.push('"');
    for (i, c) in text.chars().enumerate() {
        if i == ECHO_CHARS {
            out.push('…');
            break;
        }
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if crate::model::is_unsafe_display_char(c) => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A date or date-time that may come as text or, where a carrier uses them, as epoch
/// milliseconds (or seconds) in a number or a string of digits.
pub fn timestamp_value(value: &Value, path: &str) -> Result<i64, ParseError> {
    match value {
        Value::String(s) => timestamp(s, path),
        Value::Number(n) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite() && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            })
            .map(epoch)
            .ok_or_else(|| {
                ParseError::invalid_field(path, format!("expected epoch milliseconds, found {n}"))
            }),
        other => Err(ParseError::invalid_field(
            path,
            format!("expected a date-time, found {}", type_name(other)),
        )),
    }
}

/// Epoch seconds or milliseconds to seconds: values past 10^11 (the year 5138 in seconds) are
/// milliseconds, as every carrier that sends epoch times sends them.
fn epoch(n: i64) -> i64 {
    if n.unsigned_abs() >= 100_000_000_000 {
        n.div_euclid(1000)
    } else {
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The fast path agrees with chrono on every shape it accepts, and declines what it cannot read.
    #[test]
    fn plain_rfc3339_agrees_with_chrono() {
        let mut t = -2_208_988_800i64; // 1900-01-01
        while t < 4_102_444_800 {
            // 2100-01-01, stepping an odd number of seconds to visit every month and leap day.
            let dt = chrono::DateTime::from_timestamp(t, 0).unwrap();
            for offset in ["Z", "+05:30", "-07:00"] {
                for fraction in ["", ".5", ".285", ".999999999", ".000"] {
                    let text = format!("{}{fraction}{offset}", dt.format("%Y-%m-%dT%H:%M:%S"));
                    let chrono = chrono::DateTime::parse_from_rfc3339(&text)
                        .unwrap()
                        .timestamp();
                    assert_eq!(plain_rfc3339(&text), Some(chrono), "{text}");
                    assert_eq!(parse_time(&text).map(|w| w.unix), Some(chrono), "{text}");
                }
            }
            t += 86_400 * 3 + 3_607;
        }
        for declined in [
            "2020-12-01T00:00:00.Z",
            "2020-12-01T00:00:00.1234567890Z",
            "2020-12-01T00:00:00.5",
            "2020-12-01T00:00:00,5Z",
            "2020-12-01T00:00:60Z",
            "2020-13-01T00:00:00Z",
            "2020-12-01 00:00:00Z",
            "2020-12-01T00:00:00",
            "2020-12-01T00:00:00+0100",
            "2020-12-32T00:00:00Z",
        ] {
            assert_eq!(plain_rfc3339(declined), None, "{declined}");
        }
    }

    /// Found by the `parse` fuzz target: a date whose last characters are multi-byte made the
    /// `±hh` check slice inside a character. No text may panic any date path.
    #[test]
    fn dates_with_multibyte_characters_anywhere_are_errors_not_panics() {
        let base = "2024-01-01T00:00:00+0100";
        for at in 0..=base.len() {
            for c in ["\u{fffd}", "é", "€", "😀"] {
                let mut text = base.to_owned();
                text.insert_str(at, c);
                let _ = timestamp(&text, "t");
                let _ = parse_time(&text);
                let mut cut = base[..at].to_owned();
                cut.push_str(c);
                let _ = timestamp(&cut, "t");
                cut.push('0');
                let _ = timestamp(&cut, "t");
            }
        }
        assert!(timestamp("2024-01-01T00:00:0\u{fffd}", "t").is_err());
        // The fuzzer's case: a 3-byte character straddling the last three bytes.
        assert!(timestamp("2024-01-01T00:00:00\u{fffd}0", "t").is_err());
        assert!(parse_time("2024-01-01T00:00:00+1é1").is_none());
    }

    #[test]
    fn counts_from_numbers_and_strings() {
        assert_eq!(count(&json!(5), "x").unwrap(), 5);
        assert_eq!(count(&json!("19301"), "x").unwrap(), 19301);
        assert_eq!(count(&json!(19301.0), "x").unwrap(), 19301);
        assert!(count(&json!(-1), "x")
            .unwrap_err()
            .message
            .contains("zero or more"));
        assert!(count(&json!("2.5"), "x")
            .unwrap_err()
            .message
            .contains("whole"));
        assert!(count(&json!(true), "x")
            .unwrap_err()
            .message
            .contains("boolean"));
        assert!(count(&json!(1e300), "x").is_err());
    }

    #[test]
    fn timestamps_in_every_carrier_shape() {
        assert_eq!(timestamp("1970-01-02T00:00:00Z", "t").unwrap(), 86400);
        assert_eq!(timestamp("1970-01-02T00:00:00.000Z", "t").unwrap(), 86400);
        assert_eq!(timestamp("1970-01-02Z", "t").unwrap(), 86400);
        assert_eq!(timestamp("1970-01-02", "t").unwrap(), 86400);
        assert_eq!(timestamp("1970-01-02-01:00", "t").unwrap(), 86400 + 3600);
        assert_eq!(
            timestamp("1970-01-02T00:00:00.000-0100", "t").unwrap(),
            90000
        );
        assert!(timestamp("yesterday", "t").is_err());
        assert_eq!(
            timestamp("2024-02-29T23:59:59+01:00", "t").unwrap(),
            1_709_247_599
        );
        assert!(timestamp("2023-02-29T00:00:00Z", "t").is_err());
        assert!(timestamp("1970-01-0é", "t").is_err());
    }
}
