use leptos::prelude::*;
use usagelens_core::aggregate::{totals, AllowanceUse};
use usagelens_core::units::{format_bytes, format_count, format_date, format_duration};
use usagelens_core::{Granularity, Service, Subject};

use crate::state::AppState;

/// Allowances listed before "Show all": the card stays beside the chart on the first screen.
const SHOWN: usize = 5;

/// A subject as the card names it: the kind and, for a long id, its last eight characters
/// (the whole id is the row's tooltip).
fn short_subject(subject: &Subject) -> String {
    let chars: Vec<char> = subject.id.chars().collect();
    if chars.len() <= 12 {
        return subject.to_string();
    }
    let tail: String = chars[chars.len() - 8..].iter().collect();
    format!("{} …{tail}", subject.kind.as_str())
}

/// The latest period first, and in it the fullest allowance first: what needs attention leads.
fn by_urgency(list: &[AllowanceUse]) -> Vec<AllowanceUse> {
    let mut sorted = list.to_vec();
    sorted.sort_by(|a, b| {
        b.period_start
            .cmp(&a.period_start)
            .then(b.fraction_used.total_cmp(&a.fraction_used))
    });
    sorted
}

/// How much of each carrier allowance the current filters' periods used, with the projection
/// to the period's end: one compact row each (name and share, a bar, the figures), the first
/// few shown and the rest behind "Show all" (a fleet has one per SIM).
#[component]
pub fn Allowances() -> impl IntoView {
    let state = expect_context::<AppState>();
    let now = (js_sys::Date::now() / 1000.0) as i64;
    let allowances = Memo::new(move |_| {
        let filter = state.filter.get();
        state.with_set(|set| by_urgency(&totals(set, &filter, now).allowance))
    });
    let show_all = RwSignal::new(false);
    // Subjects are named only when there is more than one.
    let several_subjects =
        move || allowances.with(|list| list.iter().any(|a| a.subject != list[0].subject));
    let summary = move || {
        allowances.with(|list| {
            let over = list.iter().filter(|a| a.fraction_used > 1.0).count();
            let mut text = format!("{}", list.len());
            if over > 0 {
                text.push_str(&format!(" · {over} over"));
            }
            text
        })
    };
    let row = move |a: AllowanceUse, named: bool| {
        let fmt = |q: u64| match a.service {
            Service::Data => format_bytes(q, state.byte_base.get_untracked()),
            Service::Voice => format_duration(q),
            _ => format_count(q),
        };
        let pct = (a.fraction_used * 100.0).round();
        let over = a.fraction_used > 1.0;
        let name = match &a.zone {
            Some(zone) => format!("{} · {zone}", a.service.as_str()),
            None => a.service.as_str().to_owned(),
        };
        let mut detail = String::new();
        let mut whose = None;
        if named {
            if let Some(subject) = &a.subject {
                detail.push_str(&format!("{} · ", short_subject(subject)));
                whose = Some(subject.to_string());
            }
        }
        detail.push_str(&format!(
            "{}: {} of {}",
            format_date(a.period_start, Granularity::Month, 0),
            fmt(a.used),
            fmt(a.allowance)
        ));
        if let Some(p) = a.projected_at_end {
            detail.push_str(&format!(" · projected {} by period end", fmt(p)));
        }
        let title = name.clone();
        view! {
            <li class="ul-allowance" class:ul-allowance-over=over>
                <span class="ul-allowance-name" title=title>
                    {name}
                </span>
                <span class="ul-allowance-pct" class:ul-over=over>
                    {format!("{pct}%")}
                </span>
                <progress
                    max="100"
                    value=pct.min(100.0)
                    aria-label=format!("{pct}% used")
                ></progress>
                <span class="ul-allowance-detail" title=whose>
                    {detail}
                </span>
            </li>
        }
    };
    view! {
        <Show when=move || allowances.with(|a| !a.is_empty())>
            <section
                class="ul-card ul-allowances"
                aria-labelledby="ul-allowance-title"
                data-testid="allowances"
            >
                <div class="ul-allowances-head">
                    <h2 id="ul-allowance-title">"Allowances"</h2>
                    <span class="ul-allowances-summary" data-testid="allowances-summary">
                        {summary}
                    </span>
                </div>
                <ul id="ul-allowance-list">
                    {move || {
                        let named = several_subjects();
                        let all = show_all.get();
                        allowances
                            .with(|list| {
                                list.iter()
                                    .take(if all { usize::MAX } else { SHOWN })
                                    .map(|a| row(a.clone(), named))
                                    .collect_view()
                            })
                    }}
                </ul>
                <Show when=move || allowances.with(|a| a.len() > SHOWN)>
                    <button
                        class="ul-button ul-ghost ul-allowances-more"
                        type="button"
                        data-testid="allowances-all"
                        aria-expanded=move || show_all.get().to_string()
                        aria-controls="ul-allowance-list"
                        on:click=move |_| show_all.update(|s| *s = !*s)
                    >
                        {move || {
                            if show_all.get() {
                                "Show fewer".to_owned()
                            } else {
                                format!("Show all {}", allowances.with(Vec::len))
                            }
                        }}
                    </button>
                </Show>
            </section>
        </Show>
    }
}
