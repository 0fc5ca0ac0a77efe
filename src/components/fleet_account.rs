use leptos::prelude::*;
use leptos::task::spawn_local;
use usagelens_core::carriers::AccountFilter;
use usagelens_core::fetch::devices::{fleet_list_csv, DeviceListJob, ListedDevice};
use usagelens_core::fleet::FleetSetup;
use usagelens_core::sorting::sort_by_shared;
use usagelens_core::units::format_count;
use usagelens_core::Carrier;

use crate::fetch::{run_device_list, CancelFlag};

/// What an account listing found.
#[derive(Clone, Debug)]
struct FoundDevices {
    carrier: Carrier,
    devices: Vec<ListedDevice>,
    filtered_out: usize,
    invalid: usize,
    /// Why the listing stopped early, if it did (the devices so far are kept).
    stopped: Option<String>,
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// "Load devices from the account": lists a Control Center or ThingSpace account's devices page
/// by page with the fleet form's credentials (`setup`), says how many it found, and hands them to
/// the fleet as a subject list (`fetch`).
#[component]
pub fn FleetAccount(
    /// The carrier to list; its credentials fieldset shows while one is chosen.
    carrier: RwSignal<Option<Carrier>>,
    running: Signal<bool>,
    setup: Callback<(), Result<FleetSetup, String>>,
    fetch: Callback<String>,
) -> impl IntoView {
    let today = chrono::Utc::now().date_naive();
    let since = RwSignal::new((today - chrono::Duration::days(365)).to_string());
    let account_name = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    // Pages read and devices listed while a listing runs.
    let listing = RwSignal::new(None::<(u32, usize)>);
    let found = RwSignal::new(None::<FoundDevices>);
    let error = RwSignal::new(None::<String>);
    let cancel = StoredValue::new(CancelFlag::default());
    let fields = move || {
        carrier
            .get()
            .and_then(|c| c.spec().device_listing())
            .map(|l| l.fields())
    };
    let busy = move || running.get() || listing.get().is_some();

    let job = move || -> Result<DeviceListJob, String> {
        let setup = setup.run(())?;
        let carrier = carrier
            .get_untracked()
            .ok_or("choose the carrier whose account to list")?;
        let filter = AccountFilter {
            since: since.get_untracked(),
            account_name: account_name.get_untracked(),
            status: status.get_untracked(),
        };
        let query = carrier
            .spec()
            .device_listing()
            .ok_or_else(|| format!("{} cannot list an account's devices", carrier.label()))?
            .query(&filter)?;
        let credentials = setup
            .credentials
            .get(&carrier)
            .cloned()
            .ok_or_else(|| format!("no credentials for {}", carrier.label()))?;
        DeviceListJob::new(query, credentials, setup.config, None).map_err(|e| e.to_string())
    };
    let list_devices = move |_| {
        error.set(None);
        let job = match job() {
            Ok(job) => job,
            Err(e) => return error.set(Some(e)),
        };
        let carrier = job.carrier();
        let flag = CancelFlag::default();
        cancel.set_value(flag.clone());
        found.set(None);
        listing.set(Some((0, 0)));
        spawn_local(async move {
            let outcome =
                run_device_list(job, flag, move |pages, n| listing.set(Some((pages, n)))).await;
            listing.set(None);
            found.set(Some(FoundDevices {
                carrier,
                devices: outcome.devices,
                filtered_out: outcome.filtered_out,
                invalid: outcome.invalid,
                stopped: outcome.error.map(|e| e.to_string()),
            }));
        });
    };
    let fetch_found = move |_| {
        if let Some(csv) =
            found.with_untracked(|f| f.as_ref().map(|f| fleet_list_csv(f.carrier, &f.devices)))
        {
            fetch.run(csv);
        }
    };
    // The carriers whose accounts list their devices, by name.
    let mut listed: Vec<Carrier> = Carrier::ALL
        .into_iter()
        .filter(|c| c.spec().device_listing().is_some())
        .collect();
    sort_by_shared(&mut listed, |a, b| a.label().cmp(b.label()));

    view! {
        <details class="ul-fleet-account" data-testid="fleet-account">
            <summary>"Load devices from the account"</summary>
            <p class="ul-hint">
                "Lists the account's devices page by page (Control Center or ThingSpace, with the credentials below), then fetches their usage."
            </p>
            <div class="ul-fleet-grid">
                <label class="ul-field">
                    <span>"Account of"</span>
                    <select
                        data-testid="fleet-account-carrier"
                        disabled=busy
                        on:change=move |ev| {
                            status.set(String::new());
                            found.set(None);
                            carrier.set(Carrier::parse(&event_target_value(&ev)))
                        }
                    >
                        <option value="">"(choose)"</option>
                        {listed
                            .into_iter()
                            .map(|c| view! { <option value=c.as_str()>{c.label()}</option> })
                            .collect_view()}
                    </select>
                </label>
                <Show when=move || fields().is_some_and(|f| f.since)>
                    <label class="ul-field">
                        <span>"Changed since"</span>
                        <input
                            type="date"
                            data-testid="fleet-account-since"
                            disabled=busy
                            prop:value=move || since.get()
                            on:change=move |ev| since.set(event_target_value(&ev))
                        />
                    </label>
                </Show>
                <Show when=move || fields().is_some_and(|f| f.account_name)>
                    <label class="ul-field">
                        <span>"Account name"</span>
                        <input
                            autocomplete="off"
                            data-testid="fleet-account-name"
                            placeholder="0000123456-00001"
                            disabled=busy
                            prop:value=move || account_name.get()
                            on:input=move |ev| account_name.set(event_target_value(&ev))
                        />
                    </label>
                </Show>
                <label class="ul-field">
                    <span>"Status"</span>
                    <select
                        data-testid="fleet-account-status"
                        disabled=busy
                        prop:value=move || status.get()
                        on:change=move |ev| status.set(event_target_value(&ev))
                    >
                        <option value="">"(any)"</option>
                        {move || {
                            fields()
                                .map_or(&[][..], |f| f.statuses)
                                .iter()
                                .map(|s| view! { <option value=*s>{*s}</option> })
                                .collect_view()
                        }}
                    </select>
                </label>
            </div>
            <div class="ul-actions">
                <button
                    class="ul-button"
                    type="button"
                    data-testid="fleet-account-list"
                    disabled=busy
                    on:click=list_devices
                >
                    "List devices"
                </button>
                <Show when=move || listing.get().is_some()>
                    <button
                        class="ul-button ul-ghost"
                        type="button"
                        data-testid="fleet-account-cancel"
                        on:click=move |_| cancel.with_value(|c| c.cancel())
                    >
                        "Cancel"
                    </button>
                    <span class="ul-progress" role="status" data-testid="fleet-account-progress">
                        <span class="ul-spinner" aria-hidden="true"></span>
                        {move || {
                            listing
                                .get()
                                .map(|(pages, n)| {
                                    format!(
                                        "Listing devices: {} page{} read, {} devices so far",
                                        pages,
                                        plural(pages as usize),
                                        format_count(n as u64),
                                    )
                                })
                        }}
                    </span>
                </Show>
            </div>
            {move || {
                error
                    .get()
                    .map(|e| {
                        view! {
                            <p class="ul-error" role="alert">
                                {e}
                            </p>
                        }
                    })
            }}
            {move || {
                found
                    .with(|f| {
                        f.as_ref()
                            .map(|f| {
                                let n = f.devices.len();
                                let mut notes = Vec::new();
                                if f.filtered_out > 0 {
                                    notes
                                        .push(
                                            format!(
                                                "{} left out by the status filter",
                                                format_count(f.filtered_out as u64),
                                            ),
                                        );
                                }
                                if f.invalid > 0 {
                                    notes
                                        .push(
                                            format!(
                                                "{} without a valid identifier, not taken",
                                                f.invalid,
                                            ),
                                        );
                                }
                                let stopped = f.stopped.clone();
                                view! {
                                    <div
                                        class="ul-note"
                                        role="status"
                                        data-testid="fleet-account-found"
                                        data-count=n
                                    >
                                        <strong>
                                            {format!(
                                                "{} device{} found",
                                                format_count(n as u64),
                                                plural(n),
                                            )}
                                        </strong>
                                        {(!notes.is_empty())
                                            .then(|| format!(" ({})", notes.join("; ")))}
                                        {stopped
                                            .map(|s| {
                                                view! {
                                                    <p class="ul-warning">
                                                        {format!(
                                                            "The listing stopped early, the devices found so far are kept: {s}",
                                                        )}
                                                    </p>
                                                }
                                            })}
                                        {(n > 0)
                                            .then(|| {
                                                view! {
                                                    " — "
                                                    <button
                                                        class="ul-button ul-primary"
                                                        type="button"
                                                        data-testid="fleet-account-fetch"
                                                        disabled=move || running.get()
                                                        on:click=fetch_found
                                                    >
                                                        "Fetch usage for them"
                                                    </button>
                                                }
                                            })}
                                    </div>
                                }
                            })
                    })
            }}
        </details>
    }
}
