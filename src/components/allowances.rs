use leptos::prelude::*;
use usagelens_core::aggregate::totals;
use usagelens_core::units::{format_bytes, format_count, format_duration};
use usagelens_core::Service;

use crate::state::AppState;

/// How much of each carrier allowance the current filters' periods used, with the projection
/// to the period's end.
#[component]
pub fn Allowances() -> impl IntoView {
    let state = expect_context::<AppState>();
    let now = (js_sys::Date::now() / 1000.0) as i64;
    let allowances = Memo::new(move |_| {
        let filter = state.filter.get();
        state.with_set(|set| totals(set, &filter, now).allowance)
    });
    view! {
        <Show when=move || allowances.with(|a| !a.is_empty())>
            <section class="ul-card ul-allowances" aria-labelledby="ul-allowance-title" data-testid="allowances">
                <h2 id="ul-allowance-title">"Allowances"</h2>
                <ul>
                    {move || allowances.with(|list| list.iter().take(8).map(|a| {
                        let fmt = |q: u64| match a.service {
                            Service::Data => format_bytes(q, state.byte_base.get_untracked()),
                            Service::Voice => format_duration(q),
                            _ => format_count(q),
                        };
                        let pct = (a.fraction_used * 100.0).round();
                        let label = format!(
                            "{} {} · {}: {} of {}",
                            a.service.as_str(),
                            a.zone.clone().unwrap_or_default(),
                            usagelens_core::units::format_date(a.period_start, usagelens_core::Granularity::Month, 0),
                            fmt(a.used),
                            fmt(a.allowance)
                        );
                        let over = a.fraction_used > 1.0;
                        let projection = a.projected_at_end.map(|p| format!(" · projected {} by period end", fmt(p)));
                        view! {
                            <li class="ul-allowance">
                                <span>{label}{projection}</span>
                                <progress max="100" value=pct.min(100.0) aria-label=format!("{pct}% used")></progress>
                                <span class="ul-allowance-pct" class:ul-over=over>{format!("{pct}%")}</span>
                            </li>
                        }
                    }).collect_view())}
                </ul>
            </section>
        </Show>
    }
}
