//! Where the dashboard reports to its host page: `usagelens:<name>` events on the element it
//! is mounted in.

use serde::Serialize;

/// Where the dashboard reports to its host.
#[derive(Clone)]
pub struct Host {
    pub element: web_sys::HtmlElement,
}

impl Host {
    /// Dispatches `usagelens:<name>` on the host element with `detail`.
    pub fn emit(&self, name: &str, detail: &impl Serialize) {
        let init = web_sys::CustomEventInit::new();
        init.set_bubbles(true);
        let serializer = serde_wasm_bindgen::Serializer::json_compatible();
        if let Ok(detail) = detail.serialize(&serializer) {
            init.set_detail(&detail);
        }
        if let Ok(event) =
            web_sys::CustomEvent::new_with_event_init_dict(&format!("usagelens:{name}"), &init)
        {
            let _ = self.element.dispatch_event(&event);
        }
    }
}
