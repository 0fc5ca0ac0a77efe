//! The variant fixtures (crates/core/tests/fixtures/variants/) through `parseUsage` in the
//! browser, as a host calls it with a file's bytes: the same sums, periods, subject, paging,
//! attributes, warnings or error as the native read (crates/core/tests/variants.rs).
#![cfg(target_arch = "wasm32")]

use serde_json::{json, Value};
use usagelens::api::parse_usage_input;
use usagelens_core::RecordJson;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

#[path = "../crates/core/tests/common/variant_summary.rs"]
mod variant_summary;

wasm_bindgen_test_configure!(run_in_browser);

const EXPECTED: &str = include_str!("../crates/core/tests/fixtures/variants/expected.json");

const VARIANTS: &[(&str, &[u8])] = &[
    ("control-center/utc-minus-10-last-millisecond.json", include_bytes!("../crates/core/tests/fixtures/variants/control-center/utc-minus-10-last-millisecond.json")),
    ("control-center/utc-plus-8-instants.json", include_bytes!("../crates/core/tests/fixtures/variants/control-center/utc-plus-8-instants.json")),
    ("telecomx/excel-csv-utf8-bom.csv", include_bytes!("../crates/core/tests/fixtures/variants/telecomx/excel-csv-utf8-bom.csv")),
    ("telecomx/excel-da-semicolon-windows-1252.csv", include_bytes!("../crates/core/tests/fixtures/variants/telecomx/excel-da-semicolon-windows-1252.csv")),
    ("telecomx/excel-unicode-text-utf16le.csv", include_bytes!("../crates/core/tests/fixtures/variants/telecomx/excel-unicode-text-utf16le.csv")),
    ("telecomx/unterminated-quote.csv", include_bytes!("../crates/core/tests/fixtures/variants/telecomx/unterminated-quote.csv")),
    ("thingspace/duplicate-keys.json", include_bytes!("../crates/core/tests/fixtures/variants/thingspace/duplicate-keys.json")),
    ("thingspace/global-iot-usage-feed.json", include_bytes!("../crates/core/tests/fixtures/variants/thingspace/global-iot-usage-feed.json")),
    ("thingspace/promo-usage-doc.json", include_bytes!("../crates/core/tests/fixtures/variants/thingspace/promo-usage-doc.json")),
    ("thingspace/promo-usage-sdk-lowercase.json", include_bytes!("../crates/core/tests/fixtures/variants/thingspace/promo-usage-sdk-lowercase.json")),
    ("thingspace/sdk-spellings-paged.json", include_bytes!("../crates/core/tests/fixtures/variants/thingspace/sdk-spellings-paged.json")),
    ("thingspace/sdk-usage-list.json", include_bytes!("../crates/core/tests/fixtures/variants/thingspace/sdk-usage-list.json")),
    ("vodafone/cased-names-date-field.json", include_bytes!("../crates/core/tests/fixtures/variants/vodafone/cased-names-date-field.json")),
    ("vodafone/tmf635-v2-reference.json", include_bytes!("../crates/core/tests/fixtures/variants/vodafone/tmf635-v2-reference.json")),
];

fn summary_through_parse_usage(bytes: &[u8]) -> Value {
    let input: JsValue = js_sys::Uint8Array::from(bytes).into();
    let result = match parse_usage_input(input, JsValue::UNDEFINED) {
        Ok(r) => r,
        Err(e) => {
            let e: JsValue = e.into();
            let message = js_sys::Reflect::get(&e, &JsValue::from_str("message")).unwrap();
            return json!({ "error": message.as_string().unwrap() });
        }
    };
    let text: String = js_sys::JSON::stringify(&result).unwrap().into();
    let value: Value = serde_json::from_str(&text).unwrap();
    let records: Vec<RecordJson> = serde_json::from_value(value["records"].clone()).unwrap();
    let subject = value["subject"].as_object().map(|s| {
        format!(
            "{} {}",
            s["kind"].as_str().unwrap(),
            s["id"].as_str().unwrap()
        )
    });
    let warnings = value["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["message"].as_str().unwrap().to_owned())
        .collect();
    variant_summary::summary(
        value["carrier"].as_str().unwrap(),
        subject,
        value["hasMoreData"].as_bool(),
        &records,
        warnings,
    )
}

#[wasm_bindgen_test]
fn every_variant_reads_through_parse_usage_as_natively() {
    let expected: serde_json::Map<String, Value> = serde_json::from_str(EXPECTED).unwrap();
    assert_eq!(VARIANTS.len(), expected.len(), "a variant is missing here");
    for (name, bytes) in VARIANTS {
        let mut want = expected[*name].clone();
        // The encoding is not part of parseUsage's result (a guessed one is its first warning).
        if let Some(o) = want.as_object_mut() {
            o.remove("encoding");
        }
        assert_eq!(summary_through_parse_usage(bytes), want, "{name}");
    }
}
