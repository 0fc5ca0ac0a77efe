//! The fleet form's Proxy fieldset: the proxy base URL and how many subjects go at once.

use leptos::prelude::*;

/// The proxy base URL (fixed while a fleet runs) and the parallel fetches, which apply at once
/// (`on_concurrency`).
#[component]
pub fn FleetProxyFields(
    proxy: RwSignal<String>,
    concurrency: RwSignal<String>,
    running: Signal<bool>,
    on_concurrency: Callback<()>,
) -> impl IntoView {
    view! {
        <fieldset class="ul-fieldset" data-testid="fieldset-proxy">
            <legend>"Proxy"</legend>
            <label class="ul-field ul-wide">
                <span>"Proxy base URL"</span>
                <input
                    type="url"
                    data-testid="fleet-proxy"
                    disabled=move || running.get()
                    prop:value=move || proxy.get()
                    on:input=move |ev| proxy.set(event_target_value(&ev))
                />
            </label>
            <label class="ul-field">
                <span>"Parallel fetches"</span>
                <input
                    type="number"
                    min="1"
                    max="64"
                    data-testid="fleet-concurrency"
                    prop:value=move || concurrency.get()
                    on:input=move |ev| {
                        concurrency.set(event_target_value(&ev));
                        on_concurrency.run(())
                    }
                />
            </label>
        </fieldset>
    }
}
