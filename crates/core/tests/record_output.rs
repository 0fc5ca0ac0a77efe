//! The bulk output forms of `parseUsage` (one JSON text, and columns) carry exactly the records
//! of the public record form (`UsageSet::records_json`), on every fixture.

use serde_json::{Map, Value};
use usagelens_core::record_output::{record_columns, write_records_json, MAX_SAFE_INTEGER};
use usagelens_core::{
    parse, Carrier, Direction, Granularity, ParseOptions, Record, Service, Subject, SubjectKind,
    UsageSet,
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
    names
        .into_iter()
        .map(|name| {
            let text = std::fs::read_to_string(format!("{dir}/{name}")).unwrap();
            let mut set = UsageSet::new();
            parse(&text, &ParseOptions::default(), &mut set)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!set.records.is_empty(), "{name}");
            (name, set)
        })
        .collect()
}

#[test]
fn json_text_is_what_serde_writes_for_the_record_form() {
    for (name, set) in fixtures() {
        let mut fast = String::new();
        write_records_json(&set, &mut fast).unwrap();
        let reference = serde_json::to_string(&set.records_json()).unwrap();
        assert_eq!(fast, reference, "{name}");
    }
}

/// Re-assembles record objects from the columns, in the record form's field order.
fn reassemble(set: &UsageSet) -> Vec<Value> {
    let c = record_columns(set).unwrap();
    let dicts: Vec<(&str, Vec<Value>, &Vec<u32>)> = c
        .dicts
        .iter()
        .map(|(name, d)| {
            let values: Vec<Value> = serde_json::from_str(&d.values_json()).unwrap();
            (*name, values, &d.index)
        })
        .collect();
    let dict = |name: &str, i: usize| -> Value {
        let (_, values, index) = dicts.iter().find(|d| d.0 == name).unwrap();
        values[index[i] as usize].clone()
    };
    let time = |ms: f64| {
        let t = (ms / 1000.0) as i64;
        Value::String(usagelens_core::format_timestamp(t))
    };
    (0..c.len)
        .map(|i| {
            let mut o = Map::new();
            for f in ["carrier", "subject"] {
                o.insert(f.into(), dict(f, i));
            }
            o.insert("start".into(), time(c.start_ms[i]));
            o.insert("end".into(), time(c.end_ms[i]));
            for f in ["granularity", "service", "direction"] {
                o.insert(f.into(), dict(f, i));
            }
            o.insert("quantity".into(), Value::from(c.quantity[i] as u64));
            for f in [
                "unit",
                "zone",
                "roaming",
                "homeNetwork",
                "visitedNetwork",
                "ratePlan",
                "ratePlanVersion",
            ] {
                o.insert(f.into(), dict(f, i));
            }
            let a = c.allowance[i];
            o.insert(
                "allowance".into(),
                if a.is_nan() {
                    Value::Null
                } else {
                    Value::from(a as u64)
                },
            );
            for f in ["source", "attributes"] {
                o.insert(f.into(), dict(f, i));
            }
            Value::Object(o)
        })
        .collect()
}

#[test]
fn columns_reassemble_to_the_record_form() {
    for (name, set) in fixtures() {
        let reference: Value = serde_json::to_value(set.records_json()).unwrap();
        let rebuilt = Value::Array(reassemble(&set));
        // Field order is checked in the browser (tests/web_parse_usage.rs): serde_json's maps
        // here are sorted.
        assert_eq!(rebuilt, reference, "{name}");
    }
}

#[test]
fn dictionaries_hold_each_value_once() {
    for (name, set) in fixtures() {
        let c = record_columns(&set).unwrap();
        assert_eq!(c.dicts.len(), 14, "{name}");
        for (field, d) in &c.dicts {
            let mut values = d.values.clone();
            values.sort();
            values.dedup();
            assert_eq!(values.len(), d.values.len(), "{name} {field}");
            assert_eq!(d.index.len(), c.len, "{name} {field}");
            assert!(d.index.iter().all(|&i| (i as usize) < d.values.len()));
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
    let err = write_records_json(&set, &mut String::new()).unwrap_err();
    assert_eq!((err.record, err.field), (1, "quantity"));
    assert!(err.to_string().contains("records[1].quantity"), "{err}");
    assert_eq!(record_columns(&set).unwrap_err(), err);
}
