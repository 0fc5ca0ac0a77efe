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
        let filter = state.filter.get();
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
                <button type="button" class="ul-sort" on:click=move |_| sort.update(|s| *s = if s.0 == key { (key, !s.1) } else { (key, false) })>
                    {label}
                </button>
            </th>
        }
    };
    let rows = move || {
        let offset = state.offset_minutes();
        let base = state.byte_base.get();
        let selected = state.selected.get();
        page_rows.with(|idx| {
            state.with_set(|set| {
                idx.iter().filter_map(|&i| {
                    let r = set.records.get(i as usize)?;
                    let subject = set.subject(r.subject).map(|s| s.to_string()).unwrap_or_default();
                    let zone = set.resolve(r.zone).unwrap_or("").to_owned();
                    let roaming = match r.roaming.as_option() { Some(true) => "yes", Some(false) => "no", None => "" };
                    Some(view! {
                        <tr class:ul-selected=selected == Some(i) tabindex="0"
                            on:click=move |_| state.selected.set(Some(i))
                            on:keydown=move |ev: web_sys::KeyboardEvent| if ev.key() == "Enter" || ev.key() == " " { ev.prevent_default(); state.selected.set(Some(i)) }>
                            <td>{format_date(r.start, r.granularity, offset)}</td>
                            <td>{r.carrier.label()}</td>
                            <td class="ul-mono">{subject}</td>
                            <td>{r.service.as_str()}</td>
                            <td>{r.direction.as_str()}</td>
                            <td>{zone}</td>
                            <td>{roaming}</td>
                            <td class="ul-num">{format_quantity(r.quantity, r.unit(), base)}</td>
                        </tr>
                    })
                }).collect_view()
            })
        })
    };
    view! {
        <div class="ul-table-wrap">
            <table class="ul-table" data-testid="records-table">
                <caption class="ul-visually-hidden">"Usage records for the current filters; select a row to see all its fields"</caption>
                <thead>
                    <tr>
                        {header("Period start", SortKey::Start, false)}
                        {header("Carrier", SortKey::Carrier, false)}
                        {header("Subject", SortKey::Subject, false)}
                        {header("Service", SortKey::Service, false)}
                        {header("Direction", SortKey::Direction, false)}
                        {header("Zone", SortKey::Zone, false)}
                        <th scope="col">"Roaming"</th>
                        {header("Quantity", SortKey::Quantity, true)}
                    </tr>
                </thead>
                <tbody>
                    {rows}
                    <Show when=move || indices.with(|i| i.is_empty())>
                        <tr class="ul-no-rows">
                            <td colspan="8">
                                "No records match the current filters. "
                                <button type="button" class="ul-button ul-ghost" on:click=move |_| state.filter.set(Default::default())>"Clear filters"</button>
                            </td>
                        </tr>
                    </Show>
                </tbody>
            </table>
        </div>
        <nav class="ul-pager" aria-label="Record pages">
            <button type="button" class="ul-button ul-ghost" disabled=move || page.get() == 0 on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>"Previous"</button>
            <span aria-live="polite">{move || format!("Page {} of {} · {} records", page.get() + 1, pages(), indices.with(|i| i.len()))}</span>
            <button type="button" class="ul-button ul-ghost" disabled=on_last_page on:click=move |_| page.update(|p| *p += 1)>"Next"</button>
        </nav>
    }
}
