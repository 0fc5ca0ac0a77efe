//! usagelens, the browser app: Leptos components over `usagelens-core`, plus the JS API
//! (`parseUsage`) that pages and embedding hosts call.

pub mod api;
#[cfg(feature = "bench")]
pub mod bench;
pub mod components;
pub mod embed;
pub mod fetch;
pub mod host;
pub mod portal;
pub mod remember;
pub mod state;
pub mod use_fleet_fetch;
pub mod viewer_config;

use wasm_bindgen::prelude::*;

/// Id of the element the stand-alone page mounts the dashboard into. The module mounts nothing
/// on pages without it (tests, embedding hosts), so loading the module has no side effects there.
pub const APP_ROOT_ID: &str = "usagelens-app";

#[wasm_bindgen(start)]
pub fn start() {
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(APP_ROOT_ID))
    else {
        return;
    };
    let Ok(root) = root.dyn_into::<web_sys::HtmlElement>() else {
        return;
    };
    // The handle is leaked on purpose: the stand-alone app lives as long as the page.
    leptos::mount::mount_to(root, components::app::App).forget();
}
