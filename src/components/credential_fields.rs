//! A carrier's credential fields, rendered from its spec: the single live form and the fleet
//! form show the same fields with the same labels.

use leptos::prelude::*;
use usagelens_core::carriers::{CredentialSlot, CredentialValues};
use usagelens_core::Carrier;

/// The inputs of one carrier's credentials, one signal per slot.
#[derive(Clone, Copy)]
pub struct CredentialInputs {
    pub user: RwSignal<String>,
    pub secret: RwSignal<String>,
    pub key: RwSignal<String>,
    pub key_secret: RwSignal<String>,
    pub token: RwSignal<String>,
    /// The user chose the pasted-token alternative (carriers that take one).
    pub use_token: RwSignal<bool>,
}

impl CredentialInputs {
    pub fn new() -> CredentialInputs {
        CredentialInputs {
            user: RwSignal::new(String::new()),
            secret: RwSignal::new(String::new()),
            key: RwSignal::new(String::new()),
            key_secret: RwSignal::new(String::new()),
            token: RwSignal::new(String::new()),
            use_token: RwSignal::new(false),
        }
    }

    fn signal(&self, slot: CredentialSlot) -> RwSignal<String> {
        match slot {
            CredentialSlot::User => self.user,
            CredentialSlot::Secret => self.secret,
            CredentialSlot::Key => self.key,
            CredentialSlot::KeySecret => self.key_secret,
            CredentialSlot::Token => self.token,
        }
    }

    /// The values as typed; the token only when its alternative is chosen.
    pub fn values(&self) -> CredentialValues {
        CredentialValues {
            user: self.user.get_untracked(),
            secret: self.secret.get_untracked(),
            key: self.key.get_untracked(),
            key_secret: self.key_secret.get_untracked(),
            token: if self.use_token.get_untracked() {
                self.token.get_untracked()
            } else {
                String::new()
            },
        }
    }

    /// Fills the inputs (from a host's preset or `getCredentials` answer).
    pub fn fill(&self, values: CredentialValues) {
        self.use_token.set(!values.token.is_empty());
        self.user.set(values.user);
        self.secret.set(values.secret);
        self.key.set(values.key);
        self.key_secret.set(values.key_secret);
        self.token.set(values.token);
    }
}

impl Default for CredentialInputs {
    fn default() -> Self {
        CredentialInputs::new()
    }
}

/// The credential fields of `carrier`. Element ids are `<id_prefix><slot>`; each input has
/// `data-field="<slot>"` and, when `testid_prefix` is given, `data-testid="<prefix><slot>"`.
#[component]
pub fn CredentialFields(
    #[prop(into)] carrier: Signal<Carrier>,
    inputs: CredentialInputs,
    #[prop(into)] id_prefix: String,
    #[prop(optional)] testid_prefix: Option<&'static str>,
    #[prop(into, optional)] disabled: Signal<bool>,
) -> impl IntoView {
    let id_prefix = StoredValue::new(id_prefix);
    let field = move |slot: CredentialSlot, label: &'static str, secret: bool| {
        let id = format!("{}{}", id_prefix.get_value(), slot.id_name());
        let testid = testid_prefix.map(|p| format!("{p}{}", slot.id_name()));
        let value = inputs.signal(slot);
        view! {
            <div class="ul-field">
                <label for=id.clone()>{label}</label>
                <input
                    id=id
                    type=if secret { "password" } else { "text" }
                    autocomplete="off"
                    spellcheck="false"
                    data-field=slot.id_name()
                    data-testid=testid
                    disabled=move || disabled.get()
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))
                />
            </div>
        }
    };
    move || {
        let spec = carrier.get().spec();
        let use_token = inputs.use_token;
        let token_choice = spec.takes_token().then(|| {
            let id = format!("{}use-token", id_prefix.get_value());
            let testid = testid_prefix.map(|p| format!("{p}use-token"));
            view! {
                <div class="ul-field ul-check">
                    <label for=id.clone()>
                        <input
                            id=id.clone()
                            type="checkbox"
                            data-testid=testid
                            disabled=move || disabled.get()
                            prop:checked=move || use_token.get()
                            on:change=move |ev| use_token.set(event_target_checked(&ev))
                        />
                        " Use a bearer token"
                    </label>
                </div>
            }
        });
        let fields = move || {
            spec.credential_fields(spec.takes_token() && use_token.get())
                .iter()
                .map(|f| field(f.slot, f.label, f.secret))
                .collect_view()
        };
        view! {
            {token_choice}
            {fields}
        }
    }
}
