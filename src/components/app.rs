use leptos::prelude::*;

/// The dashboard's root.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <main class="app">
            <h1>"usagelens"</h1>
        </main>
    }
}
