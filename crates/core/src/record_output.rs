//! A set's records in bulk, for the JS API (`parseUsage`): one JSON text the browser parses in a
//! single `JSON.parse`, or columns (numbers in flat vectors, strings dictionary-encoded).
//!
//! Building every record as a JS object field by field from wasm took 1.3 s for 113k records;
//! writing the same JSON text here and letting the browser's own parser build the objects costs
//! little more than that parse. Everything a record shares with others (subject, zone, context)
//! is rendered once per handle and copied per record, and timestamps are formatted without
//! chrono, so the writer runs at memory speed.

use std::collections::HashMap;

use crate::model::{format_timestamp, Record, Sym, UsageSet};

/// Largest integer a JS number holds exactly (2^53 - 1).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A quantity or allowance a JS number cannot hold exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsafeNumber {
    pub record: usize,
    pub field: &'static str,
    pub value: u64,
}

impl std::fmt::Display for UnsafeNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "records[{}].{}: {} can't be represented as a JavaScript number",
            self.record, self.field, self.value
        )
    }
}

/// JSON of a serializable value; the model's types always serialize.
fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// Renders a per-handle fragment once and remembers where it sits in one shared buffer.
struct FragmentCache {
    text: String,
    /// (start, end) in `text` per handle index; `u32::MAX` start = not rendered yet.
    spans: Vec<(u32, u32)>,
    none: Option<(u32, u32)>,
}

impl FragmentCache {
    fn new() -> FragmentCache {
        FragmentCache {
            text: String::new(),
            spans: Vec::new(),
            none: None,
        }
    }

    #[inline]
    fn get(&mut self, sym: Sym, render: impl FnOnce(&mut String)) -> &str {
        let known = match sym.index() {
            Some(i) => self.spans.get(i).copied().filter(|s| s.0 != u32::MAX),
            None => self.none,
        };
        let (a, b) = match known {
            Some(span) => span,
            None => {
                let a = self.text.len() as u32;
                render(&mut self.text);
                let span = (a, self.text.len() as u32);
                match sym.index() {
                    Some(i) => {
                        if self.spans.len() <= i {
                            self.spans.resize(i + 1, (u32::MAX, 0));
                        }
                        self.spans[i] = span;
                    }
                    None => self.none = Some(span),
                }
                span
            }
        };
        &self.text[a as usize..b as usize]
    }
}

/// Appends `n` in decimal.
#[inline]
fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // ASCII digits only.
    out.push_str(std::str::from_utf8(&digits[i..]).unwrap_or("0"));
}

/// Year, month, day of a day count since 1970-01-01 (Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = era * 400 + yoe + i64::from(month <= 2);
    (year, month, day)
}

/// Appends `"YYYY-MM-DDTHH:MM:SSZ"` (quoted), exactly as [`format_timestamp`] writes it.
#[inline]
fn push_timestamp(out: &mut String, t: i64) {
    let (year, month, day) = civil_from_days(t.div_euclid(86_400));
    if !(0..=9999).contains(&year) {
        // Outside four-digit years chrono decides the form; rare enough to ask it.
        out.push('"');
        out.push_str(&format_timestamp(t));
        out.push('"');
        return;
    }
    let secs = t.rem_euclid(86_400) as u32;
    let two = |n: u32| [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
    let y = year as u32;
    let mut b = [0u8; 22];
    b[0] = b'"';
    b[1..5].copy_from_slice(&[
        b'0' + (y / 1000) as u8,
        b'0' + (y / 100 % 10) as u8,
        b'0' + (y / 10 % 10) as u8,
        b'0' + (y % 10) as u8,
    ]);
    b[5] = b'-';
    b[6..8].copy_from_slice(&two(month));
    b[8] = b'-';
    b[9..11].copy_from_slice(&two(day));
    b[11] = b'T';
    b[12..14].copy_from_slice(&two(secs / 3600));
    b[14] = b':';
    b[15..17].copy_from_slice(&two(secs / 60 % 60));
    b[17] = b':';
    b[18..20].copy_from_slice(&two(secs % 60));
    b[20] = b'Z';
    b[21] = b'"';
    out.push_str(std::str::from_utf8(&b).unwrap_or("null"));
}

/// Appends the records as a JSON array, byte for byte what `serde_json` writes for
/// [`UsageSet::records_json`] (the public record form).
pub fn write_records_json(set: &UsageSet, out: &mut String) -> Result<(), UnsafeNumber> {
    let mut subjects = FragmentCache::new();
    let mut zones = FragmentCache::new();
    // Per context: everything between "homeNetwork" and "ratePlanVersion", and "source" with
    // "attributes" (the allowance, per record, sits between them).
    let mut context_head = FragmentCache::new();
    let mut context_tail = FragmentCache::new();
    out.reserve(set.records.len() * 400);
    out.push('[');
    for (i, r) in set.records.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_record(
            set,
            r,
            i,
            out,
            &mut subjects,
            &mut zones,
            &mut context_head,
            &mut context_tail,
        )?;
    }
    out.push(']');
    Ok(())
}

#[allow(clippy::too_many_arguments)]
#[inline]
fn write_record(
    set: &UsageSet,
    r: &Record,
    index: usize,
    out: &mut String,
    subjects: &mut FragmentCache,
    zones: &mut FragmentCache,
    context_head: &mut FragmentCache,
    context_tail: &mut FragmentCache,
) -> Result<(), UnsafeNumber> {
    if r.quantity > MAX_SAFE_INTEGER {
        return Err(UnsafeNumber {
            record: index,
            field: "quantity",
            value: r.quantity,
        });
    }
    out.push_str("{\"carrier\":\"");
    out.push_str(r.carrier.as_str());
    out.push_str("\",\"subject\":");
    out.push_str(subjects.get(r.subject, |s| {
        s.push_str(&json(&set.subject(r.subject)));
    }));
    out.push_str(",\"start\":");
    push_timestamp(out, r.start);
    out.push_str(",\"end\":");
    push_timestamp(out, r.end());
    out.push_str(",\"granularity\":\"");
    out.push_str(r.granularity.as_str());
    out.push_str("\",\"service\":\"");
    out.push_str(r.service.as_str());
    out.push_str("\",\"direction\":\"");
    out.push_str(r.direction.as_str());
    out.push_str("\",\"quantity\":");
    push_u64(out, r.quantity);
    out.push_str(",\"unit\":\"");
    out.push_str(r.unit().as_str());
    out.push_str("\",\"zone\":");
    out.push_str(zones.get(r.zone, |s| s.push_str(&json(&set.resolve(r.zone)))));
    out.push_str(",\"roaming\":");
    out.push_str(match r.roaming.as_option() {
        None => "null",
        Some(true) => "true",
        Some(false) => "false",
    });
    out.push_str(context_head.get(r.context, |s| {
        let c = set.context(r.context);
        s.push_str(",\"homeNetwork\":");
        s.push_str(&json(&c.and_then(|c| c.home_network.as_ref())));
        s.push_str(",\"visitedNetwork\":");
        s.push_str(&json(&c.and_then(|c| c.visited_network.as_ref())));
        s.push_str(",\"ratePlan\":");
        s.push_str(&json(&c.and_then(|c| c.rate_plan.as_ref())));
        s.push_str(",\"ratePlanVersion\":");
        s.push_str(&json(&c.and_then(|c| c.rate_plan_version.as_ref())));
    }));
    out.push_str(",\"allowance\":");
    match r.allowance() {
        None => out.push_str("null"),
        Some(a) if a > MAX_SAFE_INTEGER => {
            return Err(UnsafeNumber {
                record: index,
                field: "allowance",
                value: a,
            })
        }
        Some(a) => push_u64(out, a),
    }
    out.push_str(context_tail.get(r.context, |s| {
        let c = set.context(r.context);
        s.push_str(",\"source\":");
        s.push_str(&json(&c.and_then(|c| c.source.as_ref())));
        s.push_str(",\"attributes\":");
        match c {
            Some(c) => s.push_str(&json(&c.attributes)),
            None => s.push_str("{}"),
        }
    }));
    out.push('}');
    Ok(())
}

/// One dictionary-encoded column: the distinct values (as JSON texts) and each record's index
/// into them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DictColumn {
    /// Each distinct value as JSON (`"text"`, `null`, `true`, `{...}`), first-seen order.
    pub values: Vec<String>,
    pub index: Vec<u32>,
}

impl DictColumn {
    /// The values as one JSON array.
    pub fn values_json(&self) -> String {
        let mut s =
            String::with_capacity(self.values.iter().map(|v| v.len() + 1).sum::<usize>() + 2);
        s.push('[');
        for (i, v) in self.values.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(v);
        }
        s.push(']');
        s
    }
}

/// Assigns dictionary indices per distinct JSON text, and remembers the index per handle so
/// each handle is rendered and hashed once, not once per record.
struct DictBuilder {
    column: DictColumn,
    seen: HashMap<String, u32>,
    by_handle: Vec<u32>,
    none: u32,
}

impl DictBuilder {
    fn new(len: usize) -> DictBuilder {
        DictBuilder {
            column: DictColumn {
                values: Vec::new(),
                index: Vec::with_capacity(len),
            },
            seen: HashMap::new(),
            by_handle: Vec::new(),
            none: u32::MAX,
        }
    }

    fn intern(&mut self, value: String) -> u32 {
        if let Some(&i) = self.seen.get(&value) {
            return i;
        }
        let i = self.column.values.len() as u32;
        self.column.values.push(value.clone());
        self.seen.insert(value, i);
        i
    }

    /// Pushes the index for a small fixed value (an enum's name).
    #[inline]
    fn push_small(&mut self, key: usize, render: impl FnOnce() -> String) {
        let known = self.by_handle.get(key).copied().unwrap_or(u32::MAX);
        let i = if known != u32::MAX {
            known
        } else {
            let i = self.intern(render());
            if self.by_handle.len() <= key {
                self.by_handle.resize(key + 1, u32::MAX);
            }
            self.by_handle[key] = i;
            i
        };
        self.column.index.push(i);
    }

    /// Pushes the index for an interned handle.
    #[inline]
    fn push_sym(&mut self, sym: Sym, render: impl FnOnce() -> String) {
        match sym.index() {
            Some(key) => self.push_small(key, render),
            None => {
                if self.none == u32::MAX {
                    self.none = self.intern(render());
                }
                self.column.index.push(self.none);
            }
        }
    }
}

/// The records as columns: `start`/`end` in milliseconds since the epoch, quantities and
/// allowances (`NaN` = none) as floats, every other field dictionary-encoded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecordColumns {
    pub len: usize,
    pub start_ms: Vec<f64>,
    pub end_ms: Vec<f64>,
    pub quantity: Vec<f64>,
    pub allowance: Vec<f64>,
    /// (field name in the public record form, column), in the record form's field order.
    pub dicts: Vec<(&'static str, DictColumn)>,
}

/// The dictionary-encoded fields, in the public record form's order.
pub const DICT_FIELDS: [&str; 13] = [
    "carrier",
    "subject",
    "granularity",
    "service",
    "direction",
    "unit",
    "zone",
    "roaming",
    "homeNetwork",
    "visitedNetwork",
    "ratePlan",
    "ratePlanVersion",
    "source",
];

pub fn record_columns(set: &UsageSet) -> Result<RecordColumns, UnsafeNumber> {
    let len = set.records.len();
    let mut c = RecordColumns {
        len,
        start_ms: Vec::with_capacity(len),
        end_ms: Vec::with_capacity(len),
        quantity: Vec::with_capacity(len),
        allowance: Vec::with_capacity(len),
        dicts: Vec::new(),
    };
    let mut d: Vec<DictBuilder> = (0..DICT_FIELDS.len() + 1)
        .map(|_| DictBuilder::new(len))
        .collect();
    for (i, r) in set.records.iter().enumerate() {
        if r.quantity > MAX_SAFE_INTEGER {
            return Err(UnsafeNumber {
                record: i,
                field: "quantity",
                value: r.quantity,
            });
        }
        c.start_ms.push(r.start as f64 * 1000.0);
        c.end_ms.push(r.end() as f64 * 1000.0);
        c.quantity.push(r.quantity as f64);
        c.allowance.push(match r.allowance() {
            None => f64::NAN,
            Some(a) if a > MAX_SAFE_INTEGER => {
                return Err(UnsafeNumber {
                    record: i,
                    field: "allowance",
                    value: a,
                })
            }
            Some(a) => a as f64,
        });
        let quoted = |s: &str| json(s);
        d[0].push_small(r.carrier as usize, || quoted(r.carrier.as_str()));
        d[1].push_sym(r.subject, || json(&set.subject(r.subject)));
        d[2].push_small(r.granularity as usize, || quoted(r.granularity.as_str()));
        d[3].push_small(r.service as usize, || quoted(r.service.as_str()));
        d[4].push_small(r.direction as usize, || quoted(r.direction.as_str()));
        d[5].push_small(r.unit() as usize, || quoted(r.unit().as_str()));
        d[6].push_sym(r.zone, || json(&set.resolve(r.zone)));
        d[7].push_small(r.roaming as usize, || json(&r.roaming.as_option()));
        let context = set.context(r.context);
        d[8].push_sym(r.context, || {
            json(&context.and_then(|c| c.home_network.as_ref()))
        });
        d[9].push_sym(r.context, || {
            json(&context.and_then(|c| c.visited_network.as_ref()))
        });
        d[10].push_sym(r.context, || {
            json(&context.and_then(|c| c.rate_plan.as_ref()))
        });
        d[11].push_sym(r.context, || {
            json(&context.and_then(|c| c.rate_plan_version.as_ref()))
        });
        d[12].push_sym(r.context, || json(&context.and_then(|c| c.source.as_ref())));
        d[13].push_sym(r.context, || match context {
            Some(c) => json(&c.attributes),
            None => "{}".to_owned(),
        });
    }
    c.dicts = DICT_FIELDS
        .iter()
        .copied()
        .chain(["attributes"])
        .zip(d)
        .map(|(name, b)| (name, b.column))
        .collect();
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_match_format_timestamp() {
        for t in [
            0i64,
            1,
            86_399,
            86_400,
            951_782_400, // 2000-02-29
            1_606_780_800,
            4_102_444_799,
            -1,
            -62_135_596_800, // 0001-01-01
            -62_167_219_200, // 0000-01-01
            -62_167_219_201,
            253_402_300_799, // 9999-12-31T23:59:59
            253_402_300_800,
        ] {
            let mut s = String::new();
            push_timestamp(&mut s, t);
            assert_eq!(s, format!("\"{}\"", format_timestamp(t)), "{t}");
        }
        for day in (-800_000i64..3_000_000).step_by(997) {
            let t = day * 86_400 + (day.rem_euclid(86_400));
            let mut s = String::new();
            push_timestamp(&mut s, t);
            assert_eq!(s, format!("\"{}\"", format_timestamp(t)), "{t}");
        }
    }

    #[test]
    fn push_u64_writes_decimal() {
        for n in [0u64, 9, 10, 1234567890, u64::MAX] {
            let mut s = String::new();
            push_u64(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }
}
