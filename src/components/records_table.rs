use leptos::prelude::*;
use usagelens_core::aggregate::{filtered_indices, sorted_page, SortKey};
use usagelens_core::units::{format_date, format_quantity};

use crate::state::AppState;

const PAGE: usize = 50;

/// The filtered records, sortable by column and paged (never thousands of rows in the DOM).
#[component]
pub fn RecordsTable() -> impl IntoView {
    let state = expect_context::<AppState>();
    let sort = RwSignal::new((SortKey::Start, false));
    let page = RwSignal::new(0usize);
    let indices = Memo::new(move |_| {
        let filter = state.details_filter.get();
        state.with_set(|set| filtered_indices(set, &filter))
    });
    Effect::new(move |_| {
        indices.track();
        sort.track();
        page.set(0);
    });
    // Only the page on screen is put in order (a selection, not a sort of every record).
    let page_rows = Memo::new(move |_| {
        let (key, desc) = sort.get();
        let start = page.get() * PAGE;
        indices.with(|idx| state.with_set(|set| sorted_page(set, idx, key, desc, start, PAGE)))
    });
    let pages = move || indices.with(|i| i.len().div_ceil(PAGE).max(1));
    let on_last_page = move || page.get() + 1 >= pages();
    let header = move |label: &'static str, key: SortKey, numeric: bool| {
        let aria = move || match sort.get() {
            (k, false) if k == key => "ascending",
            (k, true) if k == key => "descending",
            _ => "none",
        };
        view! {
            <th scope="col" aria-sort=aria class:ul-num=numeric>
                <button
                    type="button"
                    class="ul-sort"
                    on:click=move |_| {
                        sort.update(|s| *s = if s.0 == key { (key, !s.1) } else { (key, false) })
                    }
                >
                    {label}
                </button>
            </th>
        }
    };
    // The page's cell texts, computed once per change; the rows below stay in the DOM and only
    // their texts change (rebuilding 50 rows on every filter change was a third of its layout).
    let page_cells = Memo::new(move |_| {
        let offset = state.offset_minutes();
        let base = state.byte_base.get();
        page_rows.with(|idx| {
            state.with_set(|set| {
                idx.iter()
                    .filter_map(|&i| {
                        let r = set.records.get(i as usize)?;
                        let roaming = match r.roaming.as_option() {
                            Some(true) => "yes",
                            Some(false) => "no",
                            None => "",
                        };
                        Some((
                            i,
                            [
                                format_date(r.start, r.granularity, offset),
                                r.carrier.label().to_owned(),
                                set.subject(r.subject)
                                    .map(|s| s.to_string())
                                    .unwrap_or_default(),
                                r.service.as_str().to_owned(),
                                r.direction.as_str().to_owned(),
                                set.resolve(r.zone).unwrap_or("").to_owned(),
                                roaming.to_owned(),
                                format_quantity(r.quantity, r.unit(), base),
                            ],
                        ))
                    })
                    .collect::<Vec<_>>()
            })
        })
    });
    let row_count = Memo::new(move |_| page_cells.with(Vec::len));
    let rows = move || {
        view! {
            <For each=move || 0..row_count.get() key=|row| *row let:row>
                {
                    let row_cells = Memo::new(move |_| page_cells.with(|c| c.get(row).cloned()));
                    let record_at = move || row_cells.with(|r| r.as_ref().map(|(i, _)| *i));
                    let cell = move |column: usize| {
                        move || {
                            row_cells
                                .with(|r| {
                                    r.as_ref()
                                        .map(|(_, cells)| cells[column].clone())
                                        .unwrap_or_default()
                                })
                        }
                    };
                    // One memo per row, so `page_cells` has one subscriber per row rather than
                    // per cell: the reactive graph re-subscribes readers on every change at a
                    // cost that grows with the square of their number (profile of a redraw).
                    view! {
                        <tr
                            class:ul-selected=move || {
                                let at = record_at();
                                at.is_some() && state.selected.get() == at
                            }
                            tabindex="0"
                            on:click=move |_| state.selected.set(record_at())
                            on:keydown=move |ev: web_sys::KeyboardEvent| {
                                if ev.key() == "Enter" || ev.key() == " " {
                                    ev.prevent_default();
                                    state.selected.set(record_at())
                                }
                            }
                        >
                            <td>{cell(0)}</td>
                            <td>{cell(1)}</td>
                            <td class="ul-mono">{cell(2)}</td>
                            <td>{cell(3)}</td>
                            <td>{cell(4)}</td>
                            <td>{cell(5)}</td>
                            <td>{cell(6)}</td>
                            <td class="ul-num">{cell(7)}</td>
                        </tr>
                    }
                }
            </For>
        }
    };
    view! {
        <div class="ul-table-wrap">
            <table class="ul-table" data-testid="records-table">
                <caption class="ul-visually-hidden">
                    "Usage records for the current filters; select a row to see all its fields"
                </caption>
                <thead>
                    <tr>
                        {header("Period start", SortKey::Start, false)}
                        {header("Carrier", SortKey::Carrier, false)}
                        {header("Subject", SortKey::Subject, false)}
                        {header("Service", SortKey::Service, false)}
                        {header("Direction", SortKey::Direction, false)}
                        {header("Zone", SortKey::Zone, false)} <th scope="col">"Roaming"</th>
                        {header("Quantity", SortKey::Quantity, true)}
                    </tr>
                </thead>
                <tbody>
                    {rows} <Show when=move || indices.with(|i| i.is_empty())>
                        <tr class="ul-no-rows">
                            <td colspan="8">
                                "No records match the current filters. "
                                <button
                                    type="button"
                                    class="ul-button ul-ghost"
                                    on:click=move |_| state.filter.set(Default::default())
                                >
                                    "Clear filters"
                                </button>
                            </td>
                        </tr>
                    </Show>
                </tbody>
            </table>
        </div>
        <nav class="ul-pager" aria-label="Record pages">
            <button
                type="button"
                class="ul-button ul-ghost"
                disabled=move || page.get() == 0
                on:click=move |_| page.update(|p| *p = p.saturating_sub(1))
            >
                "Previous"
            </button>
            <span aria-live="polite">
                {move || {
                    format!(
                        "Page {} of {} · {} records",
                        page.get() + 1,
                        pages(),
                        indices.with(|i| i.len()),
                    )
                }}
            </span>
            <button
                type="button"
                class="ul-button ul-ghost"
                disabled=on_last_page
                on:click=move |_| page.update(|p| *p += 1)
            >
                "Next"
            </button>
        </nav>
    }
}
