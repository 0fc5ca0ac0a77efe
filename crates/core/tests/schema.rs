//! The JSON Schema in schema/ describes what the readers really emit: every record from every
//! fixture has exactly the schema's keys, and every enum value is one the schema lists.

use serde_json::Value;
use usagelens_core::{parse, ParseOptions, Subject, SubjectKind, UsageSet};

fn schema() -> Value {
    let path = format!(
        "{}/../../schema/usage-record.schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_fixture_record_matches_the_schema() {
    let schema = schema();
    let properties = schema["properties"].as_object().unwrap();
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(required.len(), properties.len());
    let dir = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            // variants/: read by tests/variants.rs, some on purpose unreadable.
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        let mut set = UsageSet::new();
        let options =
            ParseOptions::default().subject(Subject::new(SubjectKind::Imsi, "262021234567890"));
        parse(&text, &options, &mut set).unwrap();
        for record in set.records_json() {
            let value = serde_json::to_value(&record).unwrap();
            let object = value.as_object().unwrap();
            let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
            keys.sort_unstable();
            let mut expected = required.clone();
            expected.sort_unstable();
            assert_eq!(keys, expected);
            for (key, v) in object {
                if let Some(allowed) = properties[key].get("enum").and_then(Value::as_array) {
                    assert!(
                        allowed.contains(v),
                        "{key} = {v} is not in the schema's enum"
                    );
                }
                let types = &properties[key]["type"];
                if types.is_string() || types.is_array() {
                    let name = match v {
                        Value::Null => "null",
                        Value::Bool(_) => "boolean",
                        Value::Number(_) => "integer",
                        Value::String(_) => "string",
                        Value::Object(_) => "object",
                        Value::Array(_) => "array",
                    };
                    let ok = types.as_str() == Some(name)
                        || types
                            .as_array()
                            .is_some_and(|t| t.iter().any(|t| t == name));
                    assert!(ok, "{key} = {v} is not of type {types}");
                }
            }
            if let Some(kind) = object["subject"].get("kind") {
                let kinds = &properties["subject"]["oneOf"][1]["properties"]["kind"]["enum"];
                assert!(kinds.as_array().unwrap().contains(kind));
            }
            checked += 1;
        }
    }
    assert!(checked > 50, "{checked}");
}
