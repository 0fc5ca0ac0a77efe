//! Components through wasm in headless Chromium: a viewer mounted into a fresh element reads a
//! response, shows its totals, and leaves nothing behind when unmounted.
#![cfg(target_arch = "wasm32")]

use usagelens::embed::mount_usage_viewer;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const THINGSPACE: &str = include_str!("../crates/core/tests/fixtures/thingspace-doc-device.json");

async fn next_frame() {
    usagelens::fetch::sleep(50).await;
}

fn element() -> web_sys::HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let div: web_sys::HtmlElement = document.create_element("div").unwrap().dyn_into().unwrap();
    document.body().unwrap().append_child(&div).unwrap();
    div
}

#[wasm_bindgen_test]
async fn a_viewer_shows_the_totals_of_what_it_reads() {
    let host = element();
    let config = js_sys::JSON::parse(r#"{"readOnly": true, "theme": "dark"}"#).unwrap();
    let mut viewer = mount_usage_viewer(host.clone(), config).unwrap();
    let shadow = host.shadow_root().expect("a shadow root");
    assert!(shadow
        .query_selector("[data-testid=load-demo]")
        .unwrap()
        .is_some());
    assert!(
        shadow
            .query_selector("[data-testid=fetch-live]")
            .unwrap()
            .is_none(),
        "read-only"
    );
    let texts = js_sys::Array::of1(&JsValue::from_str(THINGSPACE));
    viewer.load_responses(texts).unwrap();
    next_frame().await;
    let kpi = shadow
        .query_selector("[data-testid=kpi-data]")
        .unwrap()
        .expect("KPI card");
    assert_eq!(kpi.get_attribute("data-value").as_deref(), Some("16384"));
    let rows = shadow
        .query_selector_all("[data-testid=records-table] tbody tr")
        .unwrap();
    assert_eq!(
        rows.length(),
        12,
        "3 days x (2 data zones + SMS mo + SMS mt)"
    );
    viewer.unmount();
    assert_eq!(shadow.child_element_count(), 0);
}

#[wasm_bindgen_test]
fn a_bad_config_names_the_key() {
    let config = js_sys::JSON::parse(r#"{"colour": "red"}"#).unwrap();
    let err = mount_usage_viewer(element(), config)
        .err()
        .expect("an error");
    let err: JsValue = err.into();
    let message: String = err.dyn_into::<js_sys::Error>().unwrap().message().into();
    assert!(message.contains("config.colour: unknown key"), "{message}");
}
