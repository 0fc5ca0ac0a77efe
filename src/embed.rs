//! Embedding: `mountUsageViewer(element, config)` mounts the dashboard inside a host page's
//! element and returns a handle (`update`, `loadResponses`, `unmount`). The viewer reads its
//! settings from a validated config, never touches the page's URL, and tells the host what
//! happens with `usagelens:*` events on `element`.

use std::any::Any;

use leptos::prelude::*;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::components::app::Dashboard;
use crate::components::portal_view::PortalView;
use usagelens_core::{Carrier, ParseOptions};

use crate::host::Host;
use crate::state::{AppState, SourceOrigin};
use crate::viewer_config::{parse_config, ViewerConfig, ViewerMode};

/// What the mount closure creates and the handle keeps.
type MountedParts = (
    AppState,
    RwSignal<ViewerConfig>,
    StoredValue<Option<js_sys::Function>, LocalStorage>,
);

/// The viewer's styles, placed inside its shadow root: nothing leaks into the host page, and
/// the host page's styles do not reach the viewer.
const CSS: &str = include_str!("../style/main.css");

/// Gives `shadow` the viewer's styles as a constructed style sheet it adopts: made through the
/// CSS object model, which a host page's Content-Security-Policy allows without
/// `'unsafe-inline'` (a `<style>` element would be blocked). Browsers without constructable
/// style sheets (Safari before 16.4) get a `<style>` element instead, returned to be removed.
fn adopt_styles(
    document: &web_sys::Document,
    shadow: &web_sys::ShadowRoot,
) -> Result<Option<web_sys::Element>, JsValue> {
    let constructor = js_sys::Reflect::get(&js_sys::global(), &"CSSStyleSheet".into())?;
    let adoptable = js_sys::Reflect::has(shadow, &"adoptedStyleSheets".into())?;
    if let (Some(constructor), true) = (constructor.dyn_ref::<js_sys::Function>(), adoptable) {
        let sheet = js_sys::Reflect::construct(constructor, &js_sys::Array::new())?;
        let replace_sync = js_sys::Reflect::get(&sheet, &"replaceSync".into())?;
        if let Some(replace_sync) = replace_sync.dyn_ref::<js_sys::Function>() {
            replace_sync.call1(&sheet, &CSS.into())?;
            shadow.set_adopted_style_sheets(&js_sys::Array::of1(&sheet));
            return Ok(None);
        }
    }
    let style = document.create_element("style")?;
    style.set_text_content(Some(CSS));
    shadow.append_child(&style)?;
    Ok(Some(style))
}

struct Mounted {
    /// Dropping the mount handle removes the viewer's DOM and disposes its reactive owner.
    mount: Box<dyn Any>,
    /// The container (and the style element, where styles could not be adopted) inside the
    /// element's shadow root.
    nodes: Vec<web_sys::Element>,
    shadow: web_sys::ShadowRoot,
    state: AppState,
    config: RwSignal<ViewerConfig>,
    callback: StoredValue<Option<js_sys::Function>, LocalStorage>,
}

/// A mounted viewer.
#[wasm_bindgen]
pub struct ViewerHandle {
    mounted: Option<Mounted>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LoadSummary {
    name: String,
    carrier: Option<Carrier>,
    records: usize,
    error: Option<String>,
}

#[wasm_bindgen]
impl ViewerHandle {
    fn mounted(&self) -> Result<&Mounted, JsError> {
        self.mounted
            .as_ref()
            .ok_or_else(|| JsError::new("this usagelens viewer is unmounted"))
    }

    /// Applies a new config (validated like the first one; keys left out keep their value).
    pub fn update(&self, config: JsValue) -> Result<(), JsError> {
        let m = self.mounted()?;
        let before = m.config.get_untracked();
        let (next, callback) =
            parse_config(&config, before.clone()).map_err(|e| JsError::new(&e))?;
        if next.mode != before.mode {
            return Err(JsError::new(
                "config.mode: the mode is set when the viewer is mounted; unmount and mount again to change it",
            ));
        }
        if callback.is_some() {
            m.callback.set_value(callback);
        }
        m.state.byte_base.set(next.units);
        m.state.utc.set(next.utc);
        m.config.set(next);
        Ok(())
    }

    /// Reads saved responses (strings); returns one `{name, carrier, records, error}` per text.
    #[wasm_bindgen(js_name = loadResponses)]
    pub fn load_responses(&self, texts: js_sys::Array) -> Result<JsValue, JsError> {
        let m = self.mounted()?;
        if m.config.with_untracked(|c| c.mode == ViewerMode::Portal) {
            return Err(JsError::new(
                "loadResponses: a portal fetches its SIMs itself; mount in mode 'dashboard' to load responses",
            ));
        }
        let mut summaries = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            let Some(text) = text.as_string() else {
                return Err(JsError::new(&format!(
                    "loadResponses: item {i} is not a string"
                )));
            };
            let name = format!("response {}", i + 1);
            let result =
                m.state
                    .ingest_text(&name, SourceOrigin::File, &text, &ParseOptions::default());
            summaries.push(match result {
                Ok(report) => LoadSummary {
                    name,
                    carrier: Some(report.carrier),
                    records: report.records.len(),
                    error: None,
                },
                Err(e) => LoadSummary {
                    name,
                    carrier: None,
                    records: 0,
                    error: Some(e.to_string()),
                },
            });
        }
        summaries
            .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// Removes the viewer: its DOM, listeners and reactive state. Calling it twice is harmless.
    pub fn unmount(&mut self) {
        if let Some(m) = self.mounted.take() {
            drop(m.mount);
            for node in m.nodes {
                node.remove();
            }
            m.shadow.set_adopted_style_sheets(&js_sys::Array::new());
        }
    }
}

/// `mountUsageViewer(element, config)`: mounts a dashboard inside `element`.
#[wasm_bindgen(js_name = mountUsageViewer)]
pub fn mount_usage_viewer(
    element: web_sys::HtmlElement,
    config: JsValue,
) -> Result<ViewerHandle, JsError> {
    let base = ViewerConfig {
        url_state: false,
        ..ViewerConfig::default()
    };
    let (config, callback) = parse_config(&config, base).map_err(|e| JsError::new(&e))?;
    let cell: std::rc::Rc<std::cell::RefCell<Option<MountedParts>>> = Default::default();
    let out = cell.clone();
    let host_element = element.clone();
    let js = |e: JsValue| JsError::new(&format!("mountUsageViewer: {e:?}"));
    let document = element
        .owner_document()
        .ok_or_else(|| JsError::new("mountUsageViewer: the element is not in a document"))?;
    // A shadow root isolates the viewer's styles and ids from the host (and lets two viewers
    // share a page); mounting again on the same element reuses it.
    let shadow = match element.shadow_root() {
        Some(root) => root,
        None => element
            .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
            .map_err(js)?,
    };
    let style = adopt_styles(&document, &shadow).map_err(js)?;
    let container: web_sys::HtmlElement = document
        .create_element("div")
        .map_err(js)?
        .dyn_into()
        .map_err(|_| JsError::new("mountUsageViewer: could not create the container"))?;
    shadow.append_child(&container).map_err(js)?;
    let nodes: Vec<web_sys::Element> = style
        .into_iter()
        .chain([container.clone().into()])
        .collect();
    let mount = leptos::mount::mount_to(container, move || {
        let config = RwSignal::new(config);
        let callback = StoredValue::new_local(callback);
        let state = AppState::new();
        *out.borrow_mut() = Some((state, config, callback));
        let host = Host {
            element: host_element,
        };
        if config.with_untracked(|c| c.mode == ViewerMode::Portal) {
            view! { <PortalView config=config host=host credentials=callback /> }.into_any()
        } else {
            view! { <Dashboard state=state config=config host=Some(host) credentials=callback /> }
                .into_any()
        }
    });
    let Some((state, config, callback)) = cell.borrow_mut().take() else {
        return Err(JsError::new("the viewer did not mount"));
    };
    Ok(ViewerHandle {
        mounted: Some(Mounted {
            mount: Box::new(mount),
            nodes,
            shadow,
            state,
            config,
            callback,
        }),
    })
}
