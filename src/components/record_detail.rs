use leptos::prelude::*;

use crate::state::AppState;

/// Every field of the selected record, in the public JSON form, so each number traces back to
/// what the carrier said.
#[component]
pub fn RecordDetail() -> impl IntoView {
    let state = expect_context::<AppState>();
    let record = move || {
        let i = state.selected.get()?;
        state.with_set(|set| set.records.get(i as usize).map(|r| set.record_json(r)))
    };
    view! {
        {move || {
            record()
                .map(|r| {
                    let json = serde_json::to_value(&r).unwrap_or_default();
                    let fields: Vec<(String, String)> = json
                        .as_object()
                        .map(|o| {
                            o.iter()
                                .map(|(k, v)| {
                                    let shown = match v {
                                        serde_json::Value::String(s) => s.clone(),
                                        serde_json::Value::Null => "null".into(),
                                        other => other.to_string(),
                                    };
                                    (k.clone(), shown)
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    view! {
                        <section class="ul-card ul-detail" aria-labelledby="ul-detail-title">
                            <div class="ul-card-head">
                                <h2 id="ul-detail-title">"Record fields"</h2>
                                <button
                                    type="button"
                                    class="ul-button ul-ghost"
                                    on:click=move |_| state.selected.set(None)
                                >
                                    "Close"
                                </button>
                            </div>
                            <dl class="ul-fields">
                                {fields
                                    .into_iter()
                                    .map(|(k, v)| {
                                        view! {
                                            <dt>{k}</dt>
                                            <dd>{v}</dd>
                                        }
                                    })
                                    .collect_view()}
                            </dl>
                        </section>
                    }
                })
        }}
    }
}
