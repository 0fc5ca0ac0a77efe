use leptos::prelude::*;
use leptos::task::spawn_local;
use usagelens_core::fleet::SubjectList;
use usagelens_core::Carrier;

/// The fleet form's Subject fieldset: the list (pasted or imported as CSV) and the carrier for
/// rows without one; then the lines not taken, and how many subjects are ready.
#[component]
pub fn FleetSubjects(
    list: RwSignal<String>,
    default_carrier: RwSignal<String>,
    /// The list as read (`Err("")` while it is empty).
    parsed: Memo<Result<SubjectList, String>>,
    running: Signal<bool>,
    /// Where an unreadable file is reported.
    form_error: RwSignal<Option<String>>,
) -> impl IntoView {
    let file_input = NodeRef::<leptos::html::Input>::new();
    let on_file = move |_| {
        let Some(input) = file_input.get_untracked() else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        spawn_local(async move {
            match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                Ok(text) => list.set(text.as_string().unwrap_or_default()),
                Err(_) => form_error.set(Some(format!("{} could not be read", file.name()))),
            }
        });
    };
    let problems = move || {
        parsed.with(|p| match p {
            Ok(l) => l
                .problems
                .iter()
                .map(|p| format!("line {}: {}", p.line, p.message))
                .collect(),
            Err(e) if !e.is_empty() => vec![e.clone()],
            Err(_) => Vec::new(),
        })
    };
    view! {
        <fieldset class="ul-fieldset" data-testid="fieldset-subject">
            <legend>"Subject"</legend>
            <label class="ul-field ul-wide">
                <span>"Subjects"</span>
                <textarea
                    rows="6"
                    spellcheck="false"
                    data-testid="fleet-list"
                    disabled=move || running.get()
                    placeholder="identifier,carrier\n89148000000000000019,thingspace\n8988216716970004973,control-center"
                    prop:value=move || list.get()
                    on:input=move |ev| list.set(event_target_value(&ev))
                ></textarea>
            </label>
            <label class="ul-field">
                <span>"Import a CSV list"</span>
                <input
                    type="file"
                    accept=".csv,.txt,text/csv,text/plain"
                    disabled=move || running.get()
                    node_ref=file_input
                    on:change=on_file
                />
            </label>
            <label class="ul-field">
                <span>"Carrier for rows without one"</span>
                <select
                    disabled=move || running.get()
                    prop:value=move || default_carrier.get()
                    on:change=move |ev| default_carrier.set(event_target_value(&ev))
                >
                    <option value="">"(none: the list says)"</option>
                    {Carrier::ALL
                        .map(|c| view! { <option value=c.as_str()>{c.label()}</option> })
                        .collect_view()}
                </select>
            </label>
        </fieldset>
        {move || {
            let p: Vec<String> = problems();
            let n = p.len();
            (n > 0)
                .then(|| {
                    view! {
                        <details
                            class="ul-note ul-warning"
                            open=n <= 5
                            data-testid="fleet-problems"
                        >
                            <summary>{format!("{n} line(s) not taken")}</summary>
                            <ul>
                                {p
                                    .into_iter()
                                    .take(50)
                                    .map(|m| view! { <li>{m}</li> })
                                    .collect_view()}
                            </ul>
                        </details>
                    }
                })
        }}
        {move || {
            let count = parsed.with(|p| p.as_ref().map_or(0, |l| l.entries.len()));
            (count > 0)
                .then(|| {
                    view! {
                        <p class="ul-hint" data-testid="fleet-count">
                            {format!("{count} subjects ready")}
                        </p>
                    }
                })
        }}
    }
}
