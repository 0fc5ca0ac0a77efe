use leptos::prelude::*;
use usagelens_core::aggregate::{distinct_values, Filter};
use usagelens_core::units::{format_day, parse_day};
use usagelens_core::{Carrier, Direction, Service};

use crate::state::AppState;

/// Date range, service, direction, zone, roaming, subject and carrier, plus display units.
#[component]
pub fn FiltersBar() -> impl IntoView {
    let state = expect_context::<AppState>();
    let facets = Memo::new(move |_| state.with_set(distinct_values));
    let set_filter = move |f: &dyn Fn(&mut Filter)| state.filter.update(|filter| f(filter));

    view! {
        <section class="ul-card ul-filters" aria-label="Filters">
            <div class="ul-field">
                <label for="ul-from">"From"</label>
                <input
                    id="ul-from"
                    type="date"
                    prop:value=move || {
                        state.filter.with(|f| f.from).map(format_day).unwrap_or_default()
                    }
                    on:change=move |ev| {
                        let v = parse_day(&event_target_value(&ev));
                        set_filter(&|f| f.from = v)
                    }
                />
            </div>
            <div class="ul-field">
                <label for="ul-to">"To (exclusive)"</label>
                <input
                    id="ul-to"
                    type="date"
                    prop:value=move || {
                        state.filter.with(|f| f.to).map(format_day).unwrap_or_default()
                    }
                    on:change=move |ev| {
                        let v = parse_day(&event_target_value(&ev));
                        set_filter(&|f| f.to = v)
                    }
                />
            </div>
            <div class="ul-field">
                <label for="ul-service">"Service"</label>
                <select
                    id="ul-service"
                    data-testid="filter-service"
                    on:change=move |ev| {
                        let v = Service::parse(&event_target_value(&ev));
                        set_filter(&|f| f.services = v.into_iter().collect())
                    }
                >
                    <option value="">"All services"</option>
                    {Service::ALL
                        .map(|s| {
                            view! {
                                <option
                                    value=s.as_str()
                                    selected=move || state.filter.with(|f| f.services == [s])
                                >
                                    {s.as_str()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="ul-field">
                <label for="ul-direction">"Direction"</label>
                <select
                    id="ul-direction"
                    prop:value=move || {
                        state
                            .filter
                            .with(|f| f.directions.first().map_or("", |d| d.as_str()).to_owned())
                    }
                    on:change=move |ev| {
                        let v = Direction::parse(&event_target_value(&ev));
                        set_filter(&|f| f.directions = v.into_iter().collect())
                    }
                >
                    <option value="">"All directions"</option>
                    {Direction::ALL
                        .map(|d| view! { <option value=d.as_str()>{d.as_str()}</option> })
                        .collect_view()}
                </select>
            </div>
            <div class="ul-field">
                <label for="ul-zone">"Zone"</label>
                <select
                    id="ul-zone"
                    data-testid="filter-zone"
                    prop:value=move || {
                        facets.track();
                        state.filter.with(|f| f.zones.first().cloned().unwrap_or_default())
                    }
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        set_filter(
                            &|f| f.zones = if v.is_empty() { vec![] } else { vec![v.clone()] },
                        )
                    }
                >
                    <option value="">"All zones"</option>
                    {move || {
                        facets
                            .with(|fc| {
                                fc.zones
                                    .iter()
                                    .map(|z| view! { <option value=z.clone()>{z.clone()}</option> })
                                    .collect_view()
                            })
                    }}
                </select>
            </div>
            <div class="ul-field">
                <label for="ul-roaming">"Roaming"</label>
                <select
                    id="ul-roaming"
                    data-testid="filter-roaming"
                    prop:value=move || {
                        state
                            .filter
                            .with(|f| match f.roaming {
                                Some(true) => "yes",
                                Some(false) => "no",
                                None => "",
                            })
                    }
                    on:change=move |ev| {
                        let v = match event_target_value(&ev).as_str() {
                            "yes" => Some(true),
                            "no" => Some(false),
                            _ => None,
                        };
                        set_filter(&|f| f.roaming = v)
                    }
                >
                    <option value="">"Home and roaming"</option>
                    <option value="no">"At home only"</option>
                    <option value="yes">"Roaming only"</option>
                </select>
            </div>
            <div class="ul-field">
                <label for="ul-subject">"Subject"</label>
                <select
                    id="ul-subject"
                    prop:value=move || {
                        facets.track();
                        state
                            .filter
                            .with(|f| f.subjects.first().map(|s| s.to_string()).unwrap_or_default())
                    }
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        let chosen = facets
                            .with_untracked(|fc| {
                                fc.subjects.iter().find(|s| s.to_string() == v).cloned()
                            });
                        set_filter(&|f| f.subjects = chosen.clone().into_iter().collect())
                    }
                >
                    <option value="">"All subjects"</option>
                    // Keyed, so a fleet's flush adds the new subjects' options instead of
                    // rewriting a thousand of them (profile: 63 ms of a fleet's last flush).
                    <For
                        each=move || {
                            facets
                                .with(|fc| {
                                    fc.subjects.iter().map(|s| s.to_string()).collect::<Vec<_>>()
                                })
                        }
                        key=|t| t.clone()
                        children=|t: String| {
                            let value = t.clone();
                            view! { <option value=value>{t}</option> }
                        }
                    />
                </select>
            </div>
            <div class="ul-field">
                <label for="ul-carrier">"Carrier"</label>
                <select
                    id="ul-carrier"
                    prop:value=move || {
                        facets.track();
                        state
                            .filter
                            .with(|f| f.carriers.first().map_or("", |c| c.as_str()).to_owned())
                    }
                    on:change=move |ev| {
                        let v = Carrier::parse(&event_target_value(&ev));
                        set_filter(&|f| f.carriers = v.into_iter().collect())
                    }
                >
                    <option value="">"All carriers"</option>
                    {move || {
                        facets
                            .with(|fc| {
                                fc.carriers
                                    .iter()
                                    .map(|c| {
                                        view! { <option value=c.as_str()>{c.label()}</option> }
                                    })
                                    .collect_view()
                            })
                    }}
                </select>
            </div>
            <div class="ul-field">
                <label for="ul-units">"Byte units"</label>
                <select
                    id="ul-units"
                    prop:value=move || {
                        if state.byte_base.get() == usagelens_core::units::ByteBase::Decimal {
                            "decimal"
                        } else {
                            "binary"
                        }
                    }
                    on:change=move |ev| {
                        state
                            .byte_base
                            .set(
                                if event_target_value(&ev) == "decimal" {
                                    usagelens_core::units::ByteBase::Decimal
                                } else {
                                    usagelens_core::units::ByteBase::Binary
                                },
                            )
                    }
                >
                    <option value="binary">"KiB, MiB (1024)"</option>
                    <option value="decimal">"kB, MB (1000)"</option>
                </select>
            </div>
            <div class="ul-field">
                <label for="ul-tz">"Time zone"</label>
                <select
                    id="ul-tz"
                    prop:value=move || if state.utc.get() { "utc" } else { "local" }
                    on:change=move |ev| state.utc.set(event_target_value(&ev) == "utc")
                >
                    <option value="utc">"UTC"</option>
                    <option value="local">"Local time"</option>
                </select>
            </div>
            <Show when=move || state.filter.with(|f| !f.is_empty())>
                <button
                    class="ul-button ul-ghost"
                    type="button"
                    on:click=move |_| state.filter.set(Filter::default())
                >
                    "Clear filters"
                </button>
            </Show>
        </section>
    }
}
