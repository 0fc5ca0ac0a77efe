//! A set's records in bulk for the JS API (`parseUsage`): numbers in flat vectors, every other
//! field dictionary-encoded (each distinct value rendered once, as JSON), for the page to build
//! its typed arrays or its record objects from (`src/records.js`) in one pass, without a call
//! into wasm per record or per field.
//!
//! Building every record as a JS object field by field from wasm took 1.3 s for 113k records;
//! writing the records as one JSON text here for `JSON.parse` still cost, in the browser, the
//! write, the text's UTF-8 decode and the parse (about 2x the parse alone on a TelecomX CSV).
//! Records built in JS from dictionaries share their strings and take a fraction of that.

use std::collections::BTreeMap;
use std::hash::Hash;

use rustc_hash::FxHashMap;

use crate::model::{format_timestamp, Context, Network, UsageSet};

/// Largest integer a JS number holds exactly (2^53 - 1).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A quantity or allowance a JS number cannot hold exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsafeNumber {
    /// Index of the record in the set.
    pub record: usize,
    /// The field: `quantity` or `allowance`.
    pub field: &'static str,
    /// The value.
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

/// The dictionary-encoded fields, in the record form's order (`start` and `end`, when they are
/// text, come after them: see [`TimeForm`]).
pub const DICT_FIELDS: [&str; 14] = [
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
    "attributes",
];

/// How [`record_columns`] gives `start` and `end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeForm {
    /// Milliseconds since the epoch, the first two number columns (the columnar result).
    Millis,
    /// The record form's RFC 3339 text, dictionary-encoded: two index columns after
    /// [`DICT_FIELDS`]' into one more dictionary, of times (the record objects).
    Text,
}

/// The records as columns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecordColumns {
    /// How many records.
    pub len: usize,
    /// `len` numbers a column, one column after the other: with [`TimeForm::Millis`] `start`,
    /// `end`, `quantity`, `allowance`; with [`TimeForm::Text`] `quantity`, `allowance`. `NaN` is
    /// "no allowance".
    pub numbers: Vec<f64>,
    /// `len` indices a column, one column after the other: [`DICT_FIELDS`], then with
    /// [`TimeForm::Text`] `start` and `end`.
    pub indices: Vec<u32>,
    /// Each dictionary's distinct values as JSON texts, first seen first: [`DICT_FIELDS`], then
    /// with [`TimeForm::Text`] the times.
    pub dicts: Vec<Vec<String>>,
}

impl RecordColumns {
    /// Dictionary `d`'s values as one JSON array.
    pub fn dict_json(&self, d: usize) -> String {
        let values = &self.dicts[d];
        let mut s = String::with_capacity(values.iter().map(|v| v.len() + 1).sum::<usize>() + 2);
        s.push('[');
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(v);
        }
        s.push(']');
        s
    }

    /// Every dictionary's values as one JSON array of arrays.
    pub fn dicts_json(&self) -> String {
        let parts: Vec<String> = (0..self.dicts.len()).map(|d| self.dict_json(d)).collect();
        format!("[{}]", parts.join(","))
    }

    /// Record `i`'s index into dictionary `d`.
    pub fn index(&self, d: usize, i: usize) -> u32 {
        self.indices[d * self.len + i]
    }
}

/// One dictionary being built: each distinct JSON text once, and the index per key (an enum's
/// discriminant or a handle's index) so each key is rendered and looked up once, not once per
/// record. Values are rendered into one reused buffer and looked up by reference: only a value
/// not seen before is allocated.
#[derive(Default)]
struct DictBuilder {
    values: Vec<String>,
    seen: FxHashMap<Box<str>, u32>,
    /// Per key + 1 (0: none), the index, or `u32::MAX` before the key is seen.
    by_key: Vec<u32>,
}

impl DictBuilder {
    fn intern(&mut self, value: &str) -> u32 {
        if let Some(&i) = self.seen.get(value) {
            return i;
        }
        let i = self.values.len() as u32;
        self.values.push(value.to_owned());
        self.seen.insert(value.into(), i);
        i
    }

    /// The index for the value behind `key` (`None`: the absent value), rendering it into
    /// `buffer` the first time.
    #[inline(always)]
    fn index(
        &mut self,
        key: Option<usize>,
        buffer: &mut String,
        render: impl FnOnce(&mut String),
    ) -> u32 {
        let slot = key.map_or(0, |k| k + 1);
        match self.by_key.get(slot) {
            Some(&i) if i != u32::MAX => i,
            _ => self.first_index(slot, buffer, render),
        }
    }

    #[inline(never)]
    fn first_index(
        &mut self,
        slot: usize,
        buffer: &mut String,
        render: impl FnOnce(&mut String),
    ) -> u32 {
        buffer.clear();
        render(buffer);
        let i = self.intern(buffer);
        if self.by_key.len() <= slot {
            self.by_key.resize(slot + 1, u32::MAX);
        }
        self.by_key[slot] = i;
        i
    }
}

/// Appends the JSON of a serializable value; the model's types always serialize.
fn push_json<T: serde::Serialize + ?Sized>(out: &mut String, value: &T) {
    match serde_json::to_string(value) {
        Ok(text) => out.push_str(&text),
        Err(_) => out.push_str("null"),
    }
}

/// Appends `text` as a JSON string (what serde_json writes for it).
fn push_json_str(out: &mut String, text: &str) {
    if text.bytes().all(|b| b >= b' ' && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else {
        push_json(out, text);
    }
}

/// Appends an optional string as JSON (`null` for none).
fn push_json_opt(out: &mut String, text: Option<&str>) {
    match text {
        Some(t) => push_json_str(out, t),
        None => out.push_str("null"),
    }
}

/// A dictionary keyed by the value itself, borrowed from the set: a value many contexts share (a
/// rate plan, an account's attributes) is rendered once, and looking it up renders nothing.
/// Distinct values render to distinct JSON texts, so the values stay distinct.
struct ValueDict<K> {
    values: Vec<String>,
    by_value: FxHashMap<K, u32>,
    null: Option<u32>,
}

impl<K> Default for ValueDict<K> {
    fn default() -> Self {
        ValueDict {
            values: Vec::new(),
            by_value: FxHashMap::default(),
            null: None,
        }
    }
}

impl<K: Hash + Eq + Copy> ValueDict<K> {
    /// The index of `value` (`None`: `null`), rendered by `render` the first time.
    fn index(
        &mut self,
        value: Option<K>,
        buffer: &mut String,
        render: impl FnOnce(&mut String, K),
    ) -> u32 {
        let Some(v) = value else {
            if let Some(i) = self.null {
                return i;
            }
            let i = self.values.len() as u32;
            self.values.push("null".to_owned());
            self.null = Some(i);
            return i;
        };
        if let Some(&i) = self.by_value.get(&v) {
            return i;
        }
        buffer.clear();
        render(buffer, v);
        let i = self.values.len() as u32;
        self.values.push(buffer.clone());
        self.by_value.insert(v, i);
        i
    }
}

/// The attributes of a record without a context.
static NO_ATTRIBUTES: BTreeMap<String, String> = BTreeMap::new();

/// The six dictionaries a record takes from its context: home and visited network, rate plan
/// and its version, source, attributes.
#[derive(Default)]
struct ContextDicts<'a> {
    networks: [ValueDict<&'a Network>; 2],
    texts: [ValueDict<&'a str>; 3],
    attributes: ValueDict<&'a BTreeMap<String, String>>,
}

impl<'a> ContextDicts<'a> {
    /// A context's six indices, in the order above.
    fn indices(&mut self, context: Option<&'a Context>, b: &mut String) -> [u32; 6] {
        let [home, visited] = &mut self.networks;
        let [plan, version, source] = &mut self.texts;
        [
            home.index(context.and_then(|c| c.home_network.as_ref()), b, push_json),
            visited.index(
                context.and_then(|c| c.visited_network.as_ref()),
                b,
                push_json,
            ),
            plan.index(
                context.and_then(|c| c.rate_plan.as_deref()),
                b,
                push_json_str,
            ),
            version.index(
                context.and_then(|c| c.rate_plan_version.as_deref()),
                b,
                push_json_str,
            ),
            source.index(context.and_then(|c| c.source.as_deref()), b, push_json_str),
            self.attributes.index(
                Some(context.map_or(&NO_ATTRIBUTES, |c| &c.attributes)),
                b,
                |o, attributes| {
                    o.push('{');
                    for (i, (k, v)) in attributes.iter().enumerate() {
                        if i > 0 {
                            o.push(',');
                        }
                        push_json_str(o, k);
                        o.push(':');
                        push_json_str(o, v);
                    }
                    o.push('}');
                },
            ),
        ]
    }

    /// The six dictionaries' values, in the order above.
    fn into_values(self) -> impl Iterator<Item = Vec<String>> {
        let [home, visited] = self.networks;
        let [plan, version, source] = self.texts;
        [home.values, visited.values]
            .into_iter()
            .chain([plan.values, version.values, source.values])
            .chain([self.attributes.values])
    }
}

/// The times dictionary: each distinct second once, as the record form's quoted text.
#[derive(Default)]
struct TimeDict {
    values: Vec<String>,
    seen: FxHashMap<i64, u32>,
    /// The last start and the last end looked up, with their indices: a row's records share
    /// their times.
    recent: [Option<(i64, u32)>; 2],
}

impl TimeDict {
    /// The index of second `t`; `which` is 0 for a start, 1 for an end.
    #[inline]
    fn index(&mut self, t: i64, which: usize, buffer: &mut String) -> u32 {
        if let Some((last, i)) = self.recent[which] {
            if last == t {
                return i;
            }
        }
        let next = self.values.len() as u32;
        let i = *self.seen.entry(t).or_insert(next);
        if i == next {
            buffer.clear();
            push_timestamp(buffer, t);
            self.values.push(buffer.clone());
        }
        self.recent[which] = Some((t, i));
        i
    }
}

/// The set's records as columns (see [`RecordColumns`]); an error names the first quantity or
/// allowance a JS number cannot hold exactly.
pub fn record_columns(set: &UsageSet, times: TimeForm) -> Result<RecordColumns, UnsafeNumber> {
    let len = set.records.len();
    let text_times = times == TimeForm::Text;
    let (number_columns, index_columns) = if text_times {
        (2, DICT_FIELDS.len() + 2)
    } else {
        (4, DICT_FIELDS.len())
    };
    let mut numbers = vec![0f64; number_columns * len];
    let mut indices = vec![0u32; index_columns * len];
    // One slice per index column: DICT_FIELDS', then (text times) start's and end's.
    let mut columns: Vec<&mut [u32]> = indices.chunks_mut(len.max(1)).collect();
    let split = DICT_FIELDS.len().min(columns.len());
    let (columns, time_columns) = columns.split_at_mut(split);
    // The record's own fields (carrier to roaming), then those it takes from its context.
    let mut d: Vec<DictBuilder> = (0..8).map(|_| DictBuilder::default()).collect();
    let mut context_dicts = ContextDicts::default();
    let mut time_dict = TimeDict::default();
    let mut buffer = String::new();
    // Per context handle + 1 (0: no context), its six dictionary indices.
    let mut context_indices: Vec<Option<[u32; 6]>> = Vec::new();
    let q = number_columns - 2;
    for (i, r) in set.records.iter().enumerate() {
        let unsafe_number = |field, value| UnsafeNumber {
            record: i,
            field,
            value,
        };
        if r.quantity > MAX_SAFE_INTEGER {
            return Err(unsafe_number("quantity", r.quantity));
        }
        numbers[q * len + i] = r.quantity as f64;
        numbers[(q + 1) * len + i] = match r.allowance() {
            None => f64::NAN,
            Some(a) if a > MAX_SAFE_INTEGER => return Err(unsafe_number("allowance", a)),
            Some(a) => a as f64,
        };
        let b = &mut buffer;
        if text_times {
            time_columns[0][i] = time_dict.index(r.start, 0, b);
            time_columns[1][i] = time_dict.index(r.end(), 1, b);
        } else {
            numbers[i] = r.start as f64 * 1000.0;
            numbers[len + i] = r.end() as f64 * 1000.0;
        }
        let small = [
            d[0].index(Some(r.carrier as usize), b, |o| {
                push_json_str(o, r.carrier.as_str())
            }),
            d[1].index(r.subject.index(), b, |o| {
                push_json(o, &set.subject(r.subject))
            }),
            d[2].index(Some(r.granularity as usize), b, |o| {
                push_json_str(o, r.granularity.as_str())
            }),
            d[3].index(Some(r.service as usize), b, |o| {
                push_json_str(o, r.service.as_str())
            }),
            d[4].index(Some(r.direction as usize), b, |o| {
                push_json_str(o, r.direction.as_str())
            }),
            d[5].index(Some(r.unit() as usize), b, |o| {
                push_json_str(o, r.unit().as_str())
            }),
            d[6].index(r.zone.index(), b, |o| push_json_opt(o, set.resolve(r.zone))),
            d[7].index(Some(r.roaming as usize), b, |o| {
                o.push_str(match r.roaming.as_option() {
                    None => "null",
                    Some(true) => "true",
                    Some(false) => "false",
                })
            }),
        ];
        // The six fields a record takes from its context, looked up once per context.
        let key = r.context.index().map_or(0, |k| k + 1);
        if context_indices.len() <= key {
            context_indices.resize(key + 1, None);
        }
        let from_context = match context_indices[key] {
            Some(indices) => indices,
            None => {
                let found = context_dicts.indices(set.context(r.context), b);
                context_indices[key] = Some(found);
                found
            }
        };
        for (column, index) in columns
            .iter_mut()
            .zip(small.into_iter().chain(from_context))
        {
            column[i] = index;
        }
    }
    let mut dicts: Vec<Vec<String>> = d
        .into_iter()
        .map(|b| b.values)
        .chain(context_dicts.into_values())
        .collect();
    if text_times {
        dicts.push(time_dict.values);
    }
    Ok(RecordColumns {
        len,
        numbers,
        indices,
        dicts,
    })
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
}
