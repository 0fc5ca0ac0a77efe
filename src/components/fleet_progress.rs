use leptos::prelude::*;
use usagelens_core::fleet::FleetProgress;

use crate::use_fleet_fetch::UseFleetFetch;

fn progress_text(p: &FleetProgress) -> String {
    let eta = match p.eta_ms {
        Some(0) | None => String::new(),
        Some(ms) if ms < 60_000 => format!(", about {} s left", ms.div_ceil(1000)),
        Some(ms) => format!(", about {} min left", ms.div_ceil(60_000)),
    };
    format!(
        "{} of {} done ({} partial), {} failed, {} running, {} waiting; {} records{eta}",
        p.done, p.total, p.partial, p.failed, p.running, p.remaining, p.records
    )
}

/// A fleet fetch's progress line (once one started), and which carriers answered 429 without a
/// limit set and the pace they now get.
#[component]
pub fn FleetProgressLine(fleet: UseFleetFetch) -> impl IntoView {
    let progress = fleet.progress;
    // A memo, so the line is built once per run and only its attributes follow each tick
    // (reading `progress` here built it again five times a second).
    let started = Memo::new(move |_| progress.with(|p| p.total > 0));
    let percent = move || {
        let p = progress.get();
        if p.total == 0 {
            0.0
        } else {
            (p.done + p.failed) as f64 / p.total as f64 * 100.0
        }
    };
    let learned = move || {
        fleet
            .learned_limits
            .get()
            .into_iter()
            .map(|(c, n)| {
                format!(
                    "{} answered 429 (too many requests): now at most {n} request{} a second to it.",
                    c.label(),
                    if n == 1 { "" } else { "s" }
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    view! {
        {move || {
            started
                .get()
                .then(|| {
                    view! {
                        <div
                            class="ul-fleet-progress"
                            role="status"
                            data-testid="fleet-progress"
                            data-done=move || progress.get().done
                            data-failed=move || progress.get().failed
                            data-total=move || progress.get().total
                            data-running=move || fleet.running.get().to_string()
                        >
                            <progress
                                max="100"
                                value=move || format!("{:.1}", percent())
                            ></progress>
                            <span>{move || progress_text(&progress.get())}</span>
                        </div>
                    }
                })
        }}
        {move || {
            let text = learned();
            (!text.is_empty())
                .then(|| {
                    view! {
                        <p class="ul-hint" data-testid="fleet-learned-limits">
                            {text}
                        </p>
                    }
                })
        }}
    }
}
