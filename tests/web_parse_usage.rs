//! `parseUsage` through wasm in headless Chromium: the JS contract (plain objects, numbers,
//! camelCase) and the thrown `Error` for bad input, after which the module still works.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Reflect};
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
