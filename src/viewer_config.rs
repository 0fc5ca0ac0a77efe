//! The embedded viewer's configuration (`mountUsageViewer(element, config)`): its types and
//! the validation of a host's config object. Read by the mount code in `embed.rs` and by the
//! components, so it sits apart from both.

use usagelens_core::carriers::{CredentialSlot, CredentialValues};
use usagelens_core::portal::{PlanAllowances, MAX_BILLING_DAY};
use usagelens_core::units::ByteBase;
use usagelens_core::{Carrier, Subject, SubjectKind};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    Auto,
    Light,
    Dark,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Auto => "auto",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

/// How live requests reach the carriers; see `ProxyConfig` in the core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxySetting {
    /// `carrier` (base URL + /carrier), `prefix` or `template`.
    pub mode: String,
    pub url: String,
}

/// Reads `{user, secret, key, keySecret, token}` as `getCredentials` answers it (fields that
/// are missing or not strings are empty).
pub fn credential_values_from_js(value: &JsValue) -> CredentialValues {
    let mut values = CredentialValues::default();
    for slot in [
        CredentialSlot::User,
        CredentialSlot::Secret,
        CredentialSlot::Key,
        CredentialSlot::KeySecret,
        CredentialSlot::Token,
    ] {
        values.set(
            slot,
            get(value, slot.as_str()).as_string().unwrap_or_default(),
        );
    }
    values
}

/// What the viewer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewerMode {
    /// The analyst's dashboard: import, fetch forms, filters, fleet, records.
    Dashboard,
    /// A customer's own SIMs over their billing period, fetched on mount (`subjects`).
    Portal,
}

/// One SIM a portal shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortalSubject {
    pub carrier: Carrier,
    pub subject: Subject,
    /// The host's name for it ("Tracker in van 3").
    pub label: Option<String>,
    /// The customer's plan, for carriers that do not report allowances.
    pub plan: PlanAllowances,
}

/// The viewer's settings. The stand-alone app uses the defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewerConfig {
    pub theme: Theme,
    pub units: ByteBase,
    pub utc: bool,
    /// Import only: no live fetch form.
    pub read_only: bool,
    /// Offer the built-in demo.
    pub demo: bool,
    /// Carriers offered in the live form.
    pub carriers: Vec<Carrier>,
    pub proxy: Option<ProxySetting>,
    /// Identifier pre-filled in the live form.
    pub subject: Option<String>,
    pub credentials: Vec<(Carrier, CredentialValues)>,
    /// A `getCredentials(carrier)` callback exists: the form asks it instead of showing fields.
    pub credentials_callback: bool,
    /// Keep the view in the page URL (stand-alone app only).
    pub url_state: bool,
    pub mode: ViewerMode,
    /// Portal mode: the SIMs shown.
    pub subjects: Vec<PortalSubject>,
    /// Portal mode: the day of the month billing periods start on (1 to 28).
    pub billing_day: u32,
}

impl Default for ViewerConfig {
    fn default() -> Self {
        ViewerConfig {
            theme: Theme::Auto,
            units: ByteBase::Binary,
            utc: true,
            read_only: false,
            demo: true,
            carriers: Carrier::ALL.to_vec(),
            proxy: None,
            subject: None,
            credentials: Vec::new(),
            credentials_callback: false,
            url_state: true,
            mode: ViewerMode::Dashboard,
            subjects: Vec::new(),
            billing_day: 1,
        }
    }
}

const KNOWN_KEYS: [&str; 14] = [
    "theme",
    "units",
    "timeZone",
    "readOnly",
    "demo",
    "carriers",
    "proxy",
    "subject",
    "credentials",
    "getCredentials",
    "locale",
    "mode",
    "subjects",
    "billingDay",
];

fn get(object: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn string(object: &JsValue, key: &str, path: &str) -> Result<Option<String>, String> {
    let v = get(object, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_string()
        .map(Some)
        .ok_or_else(|| format!("{path}{key}: expected a string"))
}

fn choice(object: &JsValue, key: &str, allowed: &[&str]) -> Result<Option<String>, String> {
    match string(object, key, "config.")? {
        None => Ok(None),
        Some(v) if allowed.contains(&v.as_str()) => Ok(Some(v)),
        Some(v) => Err(format!(
            "config.{key}: {v:?} is not one of {}",
            allowed
                .iter()
                .map(|a| format!("{a:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn boolean(object: &JsValue, key: &str) -> Result<Option<bool>, String> {
    let v = get(object, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_bool()
        .map(Some)
        .ok_or_else(|| format!("config.{key}: expected true or false"))
}

/// Reads a host's config over `base`: every key checked, unknown keys refused with the list of
/// known ones. Returns the config and the `getCredentials` callback, if any.
pub fn parse_config(
    value: &JsValue,
    mut config: ViewerConfig,
) -> Result<(ViewerConfig, Option<js_sys::Function>), String> {
    if value.is_undefined() || value.is_null() {
        return Ok((config, None));
    }
    if !value.is_object() || js_sys::Array::is_array(value) {
        return Err("config: expected an object".to_owned());
    }
    for key in js_sys::Object::keys(value.unchecked_ref::<js_sys::Object>()).iter() {
        let key = key.as_string().unwrap_or_default();
        if !KNOWN_KEYS.contains(&key.as_str()) {
            return Err(format!(
                "config.{key}: unknown key; known: {}",
                KNOWN_KEYS.join(", ")
            ));
        }
    }
    if let Some(t) = choice(value, "theme", &["auto", "light", "dark"])? {
        config.theme = match t.as_str() {
            "light" => Theme::Light,
            "dark" => Theme::Dark,
            _ => Theme::Auto,
        };
    }
    if let Some(u) = choice(value, "units", &["binary", "decimal"])? {
        config.units = if u == "decimal" {
            ByteBase::Decimal
        } else {
            ByteBase::Binary
        };
    }
    if let Some(z) = choice(value, "timeZone", &["utc", "local"])? {
        config.utc = z == "utc";
    }
    // Only English is available; say so rather than ignore the key.
    if let Some(l) = string(value, "locale", "config.")? {
        if !l.to_ascii_lowercase().starts_with("en") {
            return Err(format!(
                "config.locale: {l:?} is not available; usagelens speaks English (\"en\")"
            ));
        }
    }
    if let Some(r) = boolean(value, "readOnly")? {
        config.read_only = r;
    }
    if let Some(d) = boolean(value, "demo")? {
        config.demo = d;
    }
    let carriers = get(value, "carriers");
    if !carriers.is_undefined() {
        let array: js_sys::Array = carriers
            .dyn_into()
            .map_err(|_| "config.carriers: expected an array of carrier names".to_owned())?;
        let mut list = Vec::new();
        for item in array.iter() {
            let name = item.as_string().unwrap_or_default();
            list.push(Carrier::parse(&name).ok_or_else(|| {
                format!(
                    "config.carriers: unknown carrier {name:?}; known: {}",
                    Carrier::ALL.map(Carrier::as_str).join(", ")
                )
            })?);
        }
        if list.is_empty() {
            return Err("config.carriers: name at least one carrier".to_owned());
        }
        config.carriers = list;
    }
    let proxy = get(value, "proxy");
    if !proxy.is_undefined() && !proxy.is_null() {
        let mode = choice(&proxy, "mode", &["carrier", "prefix", "template"])
            .map_err(|e| e.replace("config.mode", "config.proxy.mode"))?
            .unwrap_or_else(|| "carrier".to_owned());
        let url = string(&proxy, "url", "config.proxy.")?
            .ok_or("config.proxy.url: the proxy needs a url")?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "config.proxy.url: {url:?} must start with http:// or https://"
            ));
        }
        if mode == "template" && !url.contains("{url}") {
            return Err("config.proxy.url: a template must contain {url}".to_owned());
        }
        config.proxy = Some(ProxySetting { mode, url });
    }
    if let Some(s) = string(value, "subject", "config.")? {
        config.subject = Some(s);
    }
    let credentials = get(value, "credentials");
    if !credentials.is_undefined() && !credentials.is_null() {
        let mut list = Vec::new();
        for key in js_sys::Object::keys(credentials.unchecked_ref::<js_sys::Object>()).iter() {
            let name = key.as_string().unwrap_or_default();
            let carrier = Carrier::parse(&name)
                .ok_or_else(|| format!("config.credentials.{name}: unknown carrier"))?;
            let c = get(&credentials, &name);
            let path = format!("config.credentials.{name}.");
            list.push((
                carrier,
                CredentialValues {
                    user: string(&c, "user", &path)?.unwrap_or_default(),
                    secret: string(&c, "secret", &path)?.unwrap_or_default(),
                    key: string(&c, "key", &path)?.unwrap_or_default(),
                    key_secret: string(&c, "keySecret", &path)?.unwrap_or_default(),
                    token: string(&c, "token", &path)?.unwrap_or_default(),
                },
            ));
        }
        config.credentials = list;
    }
    let callback = get(value, "getCredentials");
    let callback = if callback.is_undefined() || callback.is_null() {
        None
    } else {
        Some(
            callback
                .dyn_into::<js_sys::Function>()
                .map_err(|_| "config.getCredentials: expected a function".to_owned())?,
        )
    };
    config.credentials_callback = callback.is_some() || config.credentials_callback;
    if let Some(m) = choice(value, "mode", &["dashboard", "portal"])? {
        config.mode = if m == "portal" {
            ViewerMode::Portal
        } else {
            ViewerMode::Dashboard
        };
    }
    let day = get(value, "billingDay");
    if !day.is_undefined() && !day.is_null() {
        config.billing_day = day
            .as_f64()
            .filter(|d| d.fract() == 0.0 && (1.0..=f64::from(MAX_BILLING_DAY)).contains(d))
            .map(|d| d as u32)
            .ok_or_else(|| {
                format!(
                    "config.billingDay: expected a day of the month from 1 to {MAX_BILLING_DAY}"
                )
            })?;
    }
    let subjects = get(value, "subjects");
    if !subjects.is_undefined() && !subjects.is_null() {
        config.subjects = parse_subjects(&subjects)?;
    }
    if config.mode == ViewerMode::Portal {
        if config.subjects.is_empty() {
            return Err(
                "config.subjects: portal mode needs at least one subject ({carrier, id})"
                    .to_owned(),
            );
        }
        if !config.credentials_callback {
            if let Some(s) = config
                .subjects
                .iter()
                .find(|s| !config.credentials.iter().any(|(c, _)| *c == s.carrier))
            {
                return Err(format!(
                    "config.getCredentials: portal mode needs getCredentials, or credentials for {}",
                    s.carrier.as_str()
                ));
            }
        }
    }
    Ok((config, callback))
}

/// A non-negative whole number at `key`, if there is one.
fn count(object: &JsValue, key: &str, path: &str) -> Result<Option<u64>, String> {
    let v = get(object, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_f64()
        .filter(|n| *n >= 0.0 && n.fract() == 0.0 && *n <= 9e15)
        .map(|n| Some(n as u64))
        .ok_or_else(|| format!("{path}{key}: expected a whole number of at least 0"))
}

/// `subjects`: `[{carrier, id, kind?, label?, allowances?: {data, voice, sms, mms}}]`, every
/// identifier checked as the live form checks it.
fn parse_subjects(value: &JsValue) -> Result<Vec<PortalSubject>, String> {
    let array: &js_sys::Array = value
        .dyn_ref()
        .ok_or("config.subjects: expected an array of {carrier, id}")?;
    let mut list = Vec::new();
    for (i, item) in array.iter().enumerate() {
        let path = format!("config.subjects[{i}].");
        if !item.is_object() {
            return Err(format!(
                "config.subjects[{i}]: expected an object {{carrier, id}}"
            ));
        }
        for key in js_sys::Object::keys(item.unchecked_ref::<js_sys::Object>()).iter() {
            let key = key.as_string().unwrap_or_default();
            if !["carrier", "id", "kind", "label", "allowances"].contains(&key.as_str()) {
                return Err(format!(
                    "{path}{key}: unknown key; known: carrier, id, kind, label, allowances"
                ));
            }
        }
        let name = string(&item, "carrier", &path)?
            .ok_or_else(|| format!("{path}carrier: name the SIM's carrier"))?;
        let carrier = Carrier::parse(&name).ok_or_else(|| {
            format!(
                "{path}carrier: unknown carrier {name:?}; known: {}",
                Carrier::ALL.map(Carrier::as_str).join(", ")
            )
        })?;
        let kinds = carrier.spec().subject_kinds();
        let kind = match string(&item, "kind", &path)? {
            None => kinds[0],
            Some(k) => SubjectKind::parse(&k)
                .filter(|k| kinds.contains(k))
                .ok_or_else(|| {
                    format!(
                        "{path}kind: {k:?} is not one {} takes; known: {}",
                        carrier.label(),
                        kinds
                            .iter()
                            .map(|k| k.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?,
        };
        let id = string(&item, "id", &path)?
            .ok_or_else(|| format!("{path}id: give the SIM's identifier"))?;
        let id = usagelens_core::ident::validate(kind, &id)
            .map_err(|e| format!("{path}id: {}", e.message))?;
        let allowances = get(&item, "allowances");
        let plan = if allowances.is_undefined() || allowances.is_null() {
            PlanAllowances::default()
        } else {
            let path = format!("{path}allowances.");
            for key in js_sys::Object::keys(allowances.unchecked_ref::<js_sys::Object>()).iter() {
                let key = key.as_string().unwrap_or_default();
                if !["data", "voice", "sms", "mms"].contains(&key.as_str()) {
                    return Err(format!(
                        "{path}{key}: unknown key; known: data (bytes), voice (seconds), sms, mms"
                    ));
                }
            }
            PlanAllowances {
                data: count(&allowances, "data", &path)?,
                voice: count(&allowances, "voice", &path)?,
                sms: count(&allowances, "sms", &path)?,
                mms: count(&allowances, "mms", &path)?,
            }
        };
        list.push(PortalSubject {
            carrier,
            subject: Subject::new(kind, id),
            label: string(&item, "label", &path)?,
            plan,
        });
    }
    Ok(list)
}
