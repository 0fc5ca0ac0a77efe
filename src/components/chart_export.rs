use leptos::prelude::*;
use leptos::svg::Svg;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::export_buttons::{download, download_url};

/// The chart as a stand-alone SVG: theme colours (CSS variables) are resolved and written into
/// the copy, so the file looks the same outside the page.
fn standalone_svg(svg: &web_sys::SvgElement) -> Result<String, JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let copy: web_sys::Element = svg.clone_node_with_deep(true)?.dyn_into()?;
    let originals = svg.query_selector_all("rect, path, text, line, circle")?;
    let copies = copy.query_selector_all("rect, path, text, line, circle")?;
    for i in 0..originals.length() {
        let (Some(original), Some(target)) = (originals.item(i), copies.item(i)) else {
            continue;
        };
        let original: web_sys::Element = original.dyn_into()?;
        let target: web_sys::Element = target.dyn_into()?;
        if let Some(style) = window.get_computed_style(&original)? {
            for property in [
                "fill",
                "stroke",
                "stroke-dasharray",
                "font-size",
                "font-family",
            ] {
                let value = style.get_property_value(property)?;
                if !value.is_empty() && value != "none" {
                    target.set_attribute(property, &value)?;
                }
            }
        }
    }
    let rect = svg.get_bounding_client_rect();
    copy.set_attribute("width", &format!("{}", rect.width().round()))?;
    copy.set_attribute("height", &format!("{}", rect.height().round()))?;
    web_sys::XmlSerializer::new()?.serialize_to_string(&copy)
}

fn export_png(svg_text: String, width: f64, height: f64) -> Result<(), JsValue> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let image: web_sys::HtmlImageElement = document.create_element("img")?.dyn_into()?;
    let canvas: web_sys::HtmlCanvasElement = document.create_element("canvas")?.dyn_into()?;
    // Twice the on-screen size, for sharp text.
    canvas.set_width((width * 2.0) as u32);
    canvas.set_height((height * 2.0) as u32);
    let loaded_image = image.clone();
    let onload = Closure::once(move || -> Result<(), JsValue> {
        let context: web_sys::CanvasRenderingContext2d = canvas
            .get_context("2d")?
            .ok_or("no 2d context")?
            .dyn_into()?;
        context.set_fill_style_str("#ffffff");
        context.fill_rect(0.0, 0.0, width * 2.0, height * 2.0);
        context.draw_image_with_html_image_element_and_dw_and_dh(
            &loaded_image,
            0.0,
            0.0,
            width * 2.0,
            height * 2.0,
        )?;
        let url = canvas.to_data_url_with_type("image/png")?;
        download_url(
            &format!(
                "usagelens-chart-{}.png",
                chrono::Utc::now().format("%Y%m%d")
            ),
            &url,
        )
    });
    image.set_onload(Some(onload.as_ref().unchecked_ref()));
    onload.forget();
    let encoded: String = js_sys::encode_uri_component(&svg_text).into();
    image.set_src(&format!("data:image/svg+xml;charset=utf-8,{encoded}"));
    Ok(())
}

/// "SVG" and "PNG" download buttons for the chart whose `<svg>` is `svg`.
#[component]
pub fn ChartExport(svg: NodeRef<Svg>) -> impl IntoView {
    let date = move || chrono::Utc::now().format("%Y%m%d").to_string();
    let save = move |png: bool| {
        let Some(element) = svg.get_untracked() else {
            return;
        };
        let element: web_sys::SvgElement = element.unchecked_into();
        let result = standalone_svg(&element).and_then(|text| {
            if png {
                let rect = element.get_bounding_client_rect();
                export_png(text, rect.width(), rect.height())
            } else {
                download(
                    &format!("usagelens-chart-{}.svg", date()),
                    "image/svg+xml",
                    &text,
                )
            }
        });
        if let Err(e) = result {
            web_sys::console::error_1(&e);
        }
    };
    view! {
        <div class="ul-chart-export">
            <button
                type="button"
                class="ul-button ul-ghost"
                data-testid="export-svg"
                on:click=move |_| save(false)
            >
                "Chart as SVG"
            </button>
            <button
                type="button"
                class="ul-button ul-ghost"
                data-testid="export-png"
                on:click=move |_| save(true)
            >
                "Chart as PNG"
            </button>
        </div>
    }
}
