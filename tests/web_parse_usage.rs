//! `parseUsage` through wasm in headless Chromium: the JS contract (plain objects, numbers,
//! camelCase) and the thrown `Error` for bad input, after which the module still works.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Object, Reflect};
use usagelens::api::parse_usage;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const THINGSPACE: &str = include_str!("../crates/core/tests/fixtures/thingspace-doc-device.json");

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(key)).unwrap()
}

#[wasm_bindgen_test]
fn parses_the_thingspace_example() {
    let result = parse_usage(THINGSPACE, JsValue::UNDEFINED).unwrap();
    assert_eq!(
        get(&result, "carrier").as_string().as_deref(),
        Some("thingspace")
    );
    assert_eq!(
        get(&result, "format").as_string().as_deref(),
        Some("thingspace-json")
    );
    assert_eq!(get(&result, "hasMoreData").as_bool(), Some(false));
    let records: Array = get(&result, "records").dyn_into().unwrap();
    let mut data = 0.0;
    for record in records.iter() {
        if get(&record, "service").as_string().as_deref() == Some("data") {
            data += get(&record, "quantity").as_f64().unwrap();
            assert_eq!(get(&record, "unit").as_string().as_deref(), Some("bytes"));
        }
    }
    assert_eq!(data, 16384.0);
    let first = records.get(0);
    assert_eq!(
        get(&first, "start").as_string().as_deref(),
        Some("2020-12-01T00:00:00Z")
    );
    let attributes = get(&first, "attributes");
    assert!(
        attributes.is_object() && !attributes.is_instance_of::<js_sys::Map>(),
        "a plain object"
    );
}

#[wasm_bindgen_test]
fn options_carry_the_subject() {
    let options =
        js_sys::JSON::parse(r#"{"carrier":"vodafone-vrs","subject":"262021234567890"}"#).unwrap();
    let body = include_str!("../crates/core/tests/fixtures/vodafone-doc-example.json");
    let result = parse_usage(body, options).unwrap();
    let records: Array = get(&result, "records").dyn_into().unwrap();
    let subject = get(&records.get(0), "subject");
    assert_eq!(get(&subject, "kind").as_string().as_deref(), Some("imsi"));
    assert_eq!(
        get(&subject, "id").as_string().as_deref(),
        Some("262021234567890")
    );
}

#[wasm_bindgen_test]
fn bad_input_throws_an_error_that_says_where_and_the_module_survives() {
    let err = parse_usage(
        "{\"usageHistory\": [\n {\"bytesUsed\": 1,,}]}",
        JsValue::UNDEFINED,
    )
    .unwrap_err();
    let err: JsValue = err.into();
    let err: js_sys::Error = err.dyn_into().expect("a JS Error");
    let message: String = err.message().into();
    assert!(message.contains("line 2"), "{message}");
    assert!(message.contains("column"), "{message}");
    let err: JsValue = parse_usage("{}", JsValue::UNDEFINED).unwrap_err().into();
    let message: String = err.dyn_into::<js_sys::Error>().unwrap().message().into();
    assert!(
        message.contains("Control Center usageInZone JSON"),
        "lists the formats: {message}"
    );
    let bad_option = js_sys::JSON::parse(r#"{"carrier":"acme"}"#).unwrap();
    let err: JsValue = parse_usage(THINGSPACE, bad_option).unwrap_err().into();
    let message: String = err.dyn_into::<js_sys::Error>().unwrap().message().into();
    assert!(message.contains("acme"), "{message}");
    assert!(
        parse_usage(THINGSPACE, JsValue::NULL).is_ok(),
        "still usable after errors"
    );
}

const FIXTURES: [(&str, &str); 6] = [
    (
        "control-center-example.json",
        include_str!("../crates/core/tests/fixtures/control-center-example.json"),
    ),
    (
        "telecomx-doc-example.json",
        include_str!("../crates/core/tests/fixtures/telecomx-doc-example.json"),
    ),
    (
        "telecomx-two-months.csv",
        include_str!("../crates/core/tests/fixtures/telecomx-two-months.csv"),
    ),
    (
        "thingspace-doc-device.json",
        include_str!("../crates/core/tests/fixtures/thingspace-doc-device.json"),
    ),
    (
        "thingspace-doc-label.json",
        include_str!("../crates/core/tests/fixtures/thingspace-doc-label.json"),
    ),
    (
        "vodafone-doc-example.json",
        include_str!("../crates/core/tests/fixtures/vodafone-doc-example.json"),
    ),
];

fn stringify(value: &JsValue) -> String {
    if value.is_undefined() {
        return "undefined".to_owned();
    }
    js_sys::JSON::stringify(value).unwrap().as_string().unwrap()
}

/// `2020-12-01T00:00:00Z` from milliseconds, as the record form writes times.
fn iso(ms: f64) -> JsValue {
    let text: String = js_sys::Date::new(&JsValue::from_f64(ms))
        .to_iso_string()
        .into();
    JsValue::from_str(&text.replace(".000Z", "Z"))
}

/// Record objects rebuilt from the columnar result, fields in the record form's order.
fn reassemble(columns: &JsValue) -> Array {
    let len = get(columns, "length").as_f64().unwrap() as u32;
    let dict = |name: &str, i: u32| -> JsValue {
        let column = get(columns, name);
        let values: Array = get(&column, "values").dyn_into().unwrap();
        let index = get(&column, "index");
        // The narrowest array that holds every index.
        let narrowest = match values.length() {
            0..=256 => index.is_instance_of::<js_sys::Uint8Array>(),
            257..=65_536 => index.is_instance_of::<js_sys::Uint16Array>(),
            _ => index.is_instance_of::<js_sys::Uint32Array>(),
        };
        assert!(narrowest, "{name}: {} values", values.length());
        let index = js_sys::Uint32Array::new(&index);
        values.get(index.get_index(i))
    };
    let floats = |name: &str| -> js_sys::Float64Array {
        get(columns, name).dyn_into().expect("Float64Array")
    };
    let (start, end, quantity, allowance) = (
        floats("start"),
        floats("end"),
        floats("quantity"),
        floats("allowance"),
    );
    let records = Array::new();
    for i in 0..len {
        let o = js_sys::Object::new();
        let put = |k: &str, v: JsValue| {
            Reflect::set(&o, &JsValue::from_str(k), &v).unwrap();
        };
        put("carrier", dict("carrier", i));
        put("subject", dict("subject", i));
        put("start", iso(start.get_index(i)));
        put("end", iso(end.get_index(i)));
        for f in ["granularity", "service", "direction"] {
            put(f, dict(f, i));
        }
        put("quantity", JsValue::from_f64(quantity.get_index(i)));
        for f in [
            "unit",
            "zone",
            "roaming",
            "homeNetwork",
            "visitedNetwork",
            "ratePlan",
            "ratePlanVersion",
        ] {
            put(f, dict(f, i));
        }
        let a = allowance.get_index(i);
        put(
            "allowance",
            if a.is_nan() {
                JsValue::NULL
            } else {
                JsValue::from_f64(a)
            },
        );
        put("source", dict("source", i));
        put("attributes", dict("attributes", i));
        records.push(&o);
    }
    records
}

#[wasm_bindgen_test]
fn object_form_columns_and_the_previous_path_give_the_same_records_on_every_fixture() {
    let columns_option = js_sys::JSON::parse(r#"{"format":"columns"}"#).unwrap();
    let non_ascii = non_ascii_csv();
    // 300 accounts: the attributes' index needs 16 bits.
    let mut accounts = String::from("number,name,ratePlan,year,month,Data Homeland bytes\n");
    for i in 0..300 {
        accounts.push_str(&format!(
            "+45{i:08},Account {i},Plan,2024,{},{}\n",
            i % 12 + 1,
            i
        ));
    }
    let bodies = FIXTURES.iter().copied().chain([
        ("non-ASCII CSV", non_ascii.as_str()),
        ("300 accounts CSV", accounts.as_str()),
    ]);
    for (name, body) in bodies {
        let previous = usagelens::api::parse_usage_field_by_field(body, JsValue::UNDEFINED)
            .unwrap_or_else(|_| panic!("{name}"));
        let fast = parse_usage(body, JsValue::UNDEFINED).unwrap_or_else(|_| panic!("{name}"));
        assert_eq!(stringify(&fast), stringify(&previous), "{name}");
        let records: Array = get(&fast, "records").dyn_into().unwrap();
        assert!(records.length() > 0, "{name}");
        let columnar = parse_usage(body, columns_option.clone()).unwrap();
        for key in [
            "carrier",
            "format",
            "subject",
            "events",
            "warnings",
            "hasMoreData",
        ] {
            assert_eq!(
                stringify(&get(&columnar, key)),
                stringify(&get(&previous, key)),
                "{name} {key}"
            );
        }
        assert!(get(&columnar, "records").is_undefined(), "{name}");
        let rebuilt = reassemble(&get(&columnar, "columns"));
        assert_eq!(
            stringify(&rebuilt),
            stringify(&get(&previous, "records")),
            "{name}"
        );
    }
}

#[wasm_bindgen_test]
fn an_unknown_format_option_is_named() {
    let option = js_sys::JSON::parse(r#"{"format":"rows"}"#).unwrap();
    let err: JsValue = parse_usage(THINGSPACE, option).unwrap_err().into();
    let message: String = err.dyn_into::<js_sys::Error>().unwrap().message().into();
    assert!(message.contains("rows"), "{message}");
}

/// A TelecomX CSV whose account names are not ASCII (two- and three-byte characters and one
/// outside the BMP): the string goes into wasm through `TextEncoder.encodeInto`, which stops
/// where its first buffer (one byte a UTF-16 unit) fills.
fn non_ascii_csv() -> String {
    let mut csv =
        String::from("number,name,ratePlan,year,month,Data Homeland bytes,SMS Homeland\n");
    for i in 0..40 {
        csv.push_str(&format!(
            "+45{i:08},Ærøskøbing Ålund €{i} 😀,Plan ø {},2024,{},{},{}\n",
            i % 3,
            i % 12 + 1,
            1000 + i,
            i % 5
        ));
    }
    csv
}

#[wasm_bindgen_test]
fn non_ascii_text_reads_as_its_utf8_bytes_do() {
    let csv = non_ascii_csv();
    let from_text = parse_usage(&csv, JsValue::UNDEFINED).unwrap();
    let bytes = js_sys::Uint8Array::from(csv.as_bytes());
    let from_bytes = usagelens::api::parse_usage_input(bytes.into(), JsValue::UNDEFINED).unwrap();
    assert_eq!(stringify(&from_text), stringify(&from_bytes));
    let previous = usagelens::api::parse_usage_field_by_field(&csv, JsValue::UNDEFINED).unwrap();
    assert_eq!(stringify(&from_text), stringify(&previous));
    let records: Array = get(&from_text, "records").dyn_into().unwrap();
    let name = get(&get(&records.get(0), "attributes"), "accountName");
    assert_eq!(name.as_string().as_deref(), Some("Ærøskøbing Ålund €0 😀"));
    // A JS string holding a lone surrogate is read as U+FFFD, as wasm-bindgen's own conversion
    // reads it.
    let lone = js_sys::JSON::parse(&format!(
        "\"{}\"",
        csv.replacen("Ærø", "\\ud800", 1).replace('\n', "\\n")
    ))
    .unwrap();
    let result = usagelens::api::parse_usage_input(lone, JsValue::UNDEFINED).unwrap();
    let records: Array = get(&result, "records").dyn_into().unwrap();
    let name = get(&get(&records.get(0), "attributes"), "accountName");
    assert_eq!(
        name.as_string().as_deref(),
        Some("\u{fffd}skøbing Ålund €0 😀")
    );
}

#[wasm_bindgen_test]
fn every_record_owns_its_subject_networks_and_attributes() {
    let options = js_sys::JSON::parse(r#"{"subject":"+4500000001"}"#).unwrap();
    let result = parse_usage(&non_ascii_csv(), options).unwrap();
    let records: Array = get(&result, "records").dyn_into().unwrap();
    let (first, second) = (records.get(0), records.get(1));
    for key in ["subject", "attributes"] {
        let (a, b) = (get(&first, key), get(&second, key));
        assert_eq!(stringify(&a), stringify(&b), "{key}: one row, equal values");
        assert!(!Object::is(&a, &b), "{key}: not one shared object");
    }
    Reflect::set(
        &get(&first, "attributes"),
        &"msisdn".into(),
        &"changed".into(),
    )
    .unwrap();
    assert_eq!(
        get(&get(&second, "attributes"), "msisdn")
            .as_string()
            .as_deref(),
        Some("+4500000000")
    );
}
