//! The fleet form's buttons: start, pause or resume, cancel, retry the failed.

use leptos::prelude::*;

use crate::use_fleet_fetch::UseFleetFetch;

/// Start (`on_start`), pause or resume, cancel, and retry the failed subjects (`on_retry`).
#[component]
pub fn FleetActions(
    fleet: UseFleetFetch,
    on_start: Callback<()>,
    on_retry: Callback<()>,
    retry_disabled: Signal<bool>,
) -> impl IntoView {
    let running: Signal<bool> = fleet.running.into();
    let toggle_pause = move |_| {
        if fleet.paused.get_untracked() {
            fleet.resume()
        } else {
            fleet.pause()
        }
    };
    view! {
        <div class="ul-actions">
            <button
                class="ul-button"
                type="button"
                data-testid="fleet-start"
                disabled=move || running.get()
                on:click=move |_| on_start.run(())
            >
                "Fetch fleet"
            </button>
            <button
                class="ul-button ul-ghost"
                type="button"
                disabled=move || !running.get()
                on:click=toggle_pause
            >
                {move || if fleet.paused.get() { "Resume" } else { "Pause" }}
            </button>
            <button
                class="ul-button ul-ghost"
                type="button"
                disabled=move || !running.get()
                on:click=move |_| fleet.cancel()
            >
                "Cancel"
            </button>
            <button
                class="ul-button ul-ghost"
                type="button"
                data-testid="fleet-retry"
                title="Fetches the failed and partial subjects again, with the credentials, limits and proxy the form has now"
                disabled=retry_disabled
                on:click=move |_| on_retry.run(())
            >
                "Retry failed"
            </button>
        </div>
    }
}
