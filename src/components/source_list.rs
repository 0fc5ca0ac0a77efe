use leptos::prelude::*;

use crate::state::AppState;

/// Every loaded body: its carrier, format and subject, its warnings, or the reader's error.
#[component]
pub fn SourceList() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <Show when=move || state.sources.with(|s| !s.is_empty())>
            <section class="ul-card ul-sources" aria-labelledby="ul-sources-title">
                <div class="ul-card-head">
                    <h2 id="ul-sources-title">"Sources"</h2>
                    <button
                        class="ul-button ul-ghost"
                        type="button"
                        on:click=move |_| state.clear()
                    >
                        "Clear all"
                    </button>
                </div>
                <ul class="ul-source-list">
                    // Keyed by what the line shows, so a streamed fleet source's counts stay current.
                    <For
                        each=move || state.sources.get()
                        key=|s| (s.id, s.records, s.subjects, s.carrier, s.error.clone())
                        let:source
                    >
                        {
                            let id = source.id;
                            let failed = source.error.is_some();
                            let carrier = match source.carrier {
                                Some(c) => c.label(),
                                None if source.records > 0 => "several carriers",
                                None => "unknown carrier",
                            };
                            let format = source.format.map(|f| f.as_str()).unwrap_or("");
                            let subject = match (&source.subject, source.subjects) {
                                (Some(s), _) => s.to_string(),
                                (None, n) if n > 1 => format!("{n} subjects"),
                                (None, _) => "subject not in body".into(),
                            };
                            let warnings = source.warnings.clone();
                            // Records from more than one carrier (a mixed fleet).
                            view! {
                                <li class="ul-source" class:ul-failed=failed>
                                    <div class="ul-source-main">
                                        <span class="ul-source-name">{source.name.clone()}</span>
                                        <span class="ul-badge">{source.origin.label()}</span>
                                        {(!failed)
                                            .then(|| {
                                                let meta = [
                                                    carrier.to_owned(),
                                                    format.to_owned(),
                                                    subject.clone(),
                                                    format!("{} records", source.records),
                                                ]
                                                    .into_iter()
                                                    .filter(|p| !p.is_empty())
                                                    .collect::<Vec<_>>()
                                                    .join(" · ");
                                                view! { <span class="ul-source-meta">{meta}</span> }
                                            })}
                                        <button
                                            class="ul-icon-button"
                                            type="button"
                                            aria-label=format!("Remove {}", source.name)
                                            on:click=move |_| state.remove_source(id)
                                        >
                                            "×"
                                        </button>
                                    </div>
                                    {source
                                        .error
                                        .clone()
                                        .map(|e| {
                                            view! {
                                                <p class="ul-error" role="alert" data-testid="error">
                                                    {e}
                                                </p>
                                            }
                                        })}
                                    {(!warnings.is_empty())
                                        .then(|| {
                                            view! {
                                                <details class="ul-warnings">
                                                    <summary>
                                                        {format!("{} warning(s)", warnings.len())}
                                                    </summary>
                                                    <ul>
                                                        {warnings
                                                            .iter()
                                                            .map(|w| {
                                                                let place = match (&w.field, w.line) {
                                                                    (Some(f), Some(l)) => format!(" ({f}, line {l})"),
                                                                    (Some(f), None) => format!(" ({f})"),
                                                                    (None, Some(l)) => format!(" (line {l})"),
                                                                    (None, None) => String::new(),
                                                                };
                                                                view! { <li>{format!("{}{place}", w.message)}</li> }
                                                            })
                                                            .collect_view()}
                                                    </ul>
                                                </details>
                                            }
                                        })}
                                </li>
                            }
                        }
                    </For>
                </ul>
            </section>
        </Show>
    }
}
