//! The columns `parseUsage` builds its results from (`src/records.js`: record objects, or typed
//! arrays) carry exactly the records of the public record form (`UsageSet::records_json`), on
//! every fixture and in both time forms.

use serde_json::{Map, Value};
use usagelens_core::record_output::{
    record_columns, RecordColumns, TimeForm, DICT_FIELDS, MAX_SAFE_INTEGER,
};
use usagelens_core::{
    parse, Carrier, Context, Direction, Granularity, Network, ParseOptions, Record, Service,
    Subject, SubjectKind, UsageSet,
};

fn fixtures() -> Vec<(String, UsageSet)> {
    let dir = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap())
        // variants/ is read by tests/variants.rs (some of its files fail on purpose).
        .filter(|e| !e.path().is_dir())
        .map(|e| e.file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert!(names.len() >= 6, "{names:?}");
    let mut sets: Vec<(String, UsageSet)> = names
        .into_iter()
        .map(|name| {
            let text = std::fs::read_to_string(format!("{dir}/{name}")).unwrap();
            let mut set = UsageSet::new();
            parse(&text, &ParseOptions::default(), &mut set)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!set.records.is_empty(), "{name}");
            (name, set)
        })
        .collect();
    sets.push(("strings to escape".to_owned(), odd_strings()));
    sets
}

/// One record whose strings need JSON escapes (quotes, backslashes, a control character stored
/// escaped), with a network, an allowance of 0, the largest exact quantity and year 1.
fn odd_strings() -> UsageSet {
    let mut set = UsageSet::new();
    let subject = set.intern_subject(&Subject::new(SubjectKind::Msisdn, "45\"1\\"));
    let context = set.intern_context(Context {
        rate_plan: Some("Plan \"7\"\u{1}".to_owned()),
        attributes: [("ø\\".to_owned(), "\t\u{202e}".to_owned())].into(),
        home_network: Some(Network {
            mcc: Some("238".into()),
            ..Network::default()
        }),
        ..Context::default()
    });
    let zone = set.intern("Zone \"A\"");
    set.push(
        Record::new(
            Carrier::Telecomx,
            subject,
            -62_135_596_800,
            86_400,
            Granularity::Day,
            Service::Voice,
            Direction::Mo,
            MAX_SAFE_INTEGER,
        )
        .with_context(context)
        .with_zone(zone)
        .with_allowance(Some(0))
        .with_roaming(Some(true)),
    );
    set
}

/// Re-assembles record objects from the columns, in the record form's field order, as
/// `src/records.js` does.
fn reassemble(c: &RecordColumns, times: TimeForm) -> Vec<Value> {
    let dicts: Vec<Vec<Value>> = c
        .dicts
        .iter()
        .map(|values| {
            values
                .iter()
                .map(|v| serde_json::from_str(v).unwrap())
                .collect()
        })
        .collect();
    let time = |ms: f64| {
        assert_eq!(ms % 1000.0, 0.0);
        Value::String(usagelens_core::format_timestamp((ms / 1000.0) as i64))
    };
    (0..c.len)
        .map(|i| {
            // Index column `column` into dictionary `d` (start's and end's read the times).
            let lookup = |column: usize, d: usize| dicts[d][c.index(column, i) as usize].clone();
            let dict = |name: &str| {
                let d = DICT_FIELDS.iter().position(|f| *f == name).unwrap();
                lookup(d, d)
            };
            let number = |column: usize| c.numbers[column * c.len + i];
            let (start, end, q) = match times {
                TimeForm::Text => (lookup(14, 14), lookup(15, 14), 0),
                TimeForm::Millis => (time(number(0)), time(number(1)), 2),
            };
            let mut o = Map::new();
            for f in ["carrier", "subject"] {
                o.insert(f.into(), dict(f));
            }
            o.insert("start".into(), start);
            o.insert("end".into(), end);
            for f in ["granularity", "service", "direction"] {
                o.insert(f.into(), dict(f));
            }
            o.insert("quantity".into(), Value::from(number(q) as u64));
            for f in [
                "unit",
                "zone",
                "roaming",
                "homeNetwork",
                "visitedNetwork",
                "ratePlan",
                "ratePlanVersion",
            ] {
                o.insert(f.into(), dict(f));
            }
            let a = number(q + 1);
            o.insert(
                "allowance".into(),
                if a.is_nan() {
                    Value::Null
                } else {
                    Value::from(a as u64)
                },
            );
            for f in ["source", "attributes"] {
                o.insert(f.into(), dict(f));
            }
            Value::Object(o)
        })
        .collect()
}

#[test]
fn columns_reassemble_to_the_record_form_in_both_time_forms() {
    for (name, set) in fixtures() {
        let reference: Value = serde_json::to_value(set.records_json()).unwrap();
        for times in [TimeForm::Millis, TimeForm::Text] {
            let c = record_columns(&set, times).unwrap();
            let rebuilt = Value::Array(reassemble(&c, times));
            // Field order is checked in the browser (tests/web_parse_usage.rs): serde_json's
            // maps here are sorted.
            assert_eq!(rebuilt, reference, "{name} {times:?}");
        }
    }
}

#[test]
fn dictionaries_hold_each_value_once() {
    for (name, set) in fixtures() {
        for (times, dicts, index_columns, number_columns) in
            [(TimeForm::Millis, 14, 14, 4), (TimeForm::Text, 15, 16, 2)]
        {
            let c = record_columns(&set, times).unwrap();
            assert_eq!(c.dicts.len(), dicts, "{name}");
            assert_eq!(c.indices.len(), index_columns * c.len, "{name}");
            assert_eq!(c.numbers.len(), number_columns * c.len, "{name}");
            for (d, values) in c.dicts.iter().enumerate() {
                let mut sorted = values.clone();
                sorted.sort();
                sorted.dedup();
                assert_eq!(sorted.len(), values.len(), "{name} {times:?} {d}");
            }
            for column in 0..index_columns {
                let d = column.min(14);
                assert!((0..c.len).all(|i| (c.index(column, i) as usize) < c.dicts[d].len()));
            }
            let all: Value = serde_json::from_str(&c.dicts_json()).unwrap();
            assert_eq!(all.as_array().map(Vec::len), Some(dicts), "{name}");
        }
    }
}

#[test]
fn a_quantity_beyond_a_js_number_is_an_error_naming_the_record() {
    let mut set = UsageSet::new();
    let subject = set.intern_subject(&Subject::new(SubjectKind::Iccid, "1"));
    for q in [5, MAX_SAFE_INTEGER + 1] {
        set.push(Record::new(
            Carrier::Thingspace,
            subject,
            0,
            86_400,
            Granularity::Day,
            Service::Data,
            Direction::Total,
            q,
        ));
    }
    for times in [TimeForm::Millis, TimeForm::Text] {
        let err = record_columns(&set, times).unwrap_err();
        assert_eq!((err.record, err.field), (1, "quantity"));
        assert!(err.to_string().contains("records[1].quantity"), "{err}");
    }
}
