//! "Remember these settings": the fetch forms' non-secret settings (carrier, proxy, timeout,
//! concurrency, rate limits) kept in `localStorage` when the user ticks the box, forgotten when
//! they untick it. The types hold no credential field at all, so none can be written.

use serde::{Deserialize, Serialize};

/// The live-fetch form's settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveSettings {
    pub carrier: String,
    /// `carrier`, `prefix` or `template`.
    pub proxy_mode: String,
    pub proxy_url: String,
    pub timeout_s: String,
}

/// The fleet form's settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetSettings {
    pub default_carrier: String,
    pub proxy_url: String,
    pub concurrency: String,
    /// Requests per second per carrier name, as typed ("" = no limit).
    pub rate_limits: Vec<(String, String)>,
}

pub const LIVE_KEY: &str = "usagelens.live-settings";
pub const FLEET_KEY: &str = "usagelens.fleet-settings";

/// Reads settings stored under `key`; `None` when there are none or they do not read (an older
/// or hand-edited entry is ignored rather than half applied).
pub fn decode<T: for<'de> Deserialize<'de>>(text: &str) -> Option<T> {
    serde_json::from_str(text).ok()
}

pub fn encode<T: Serialize>(settings: &T) -> String {
    serde_json::to_string(settings).unwrap_or_default()
}

fn storage() -> Option<web_sys::Storage> {
    // Storage can be refused (privacy settings, sandboxed frames): then nothing is remembered.
    web_sys::window()?.local_storage().ok().flatten()
}

pub fn load<T: for<'de> Deserialize<'de>>(key: &str) -> Option<T> {
    decode(&storage()?.get_item(key).ok().flatten()?)
}

pub fn save<T: Serialize>(key: &str, settings: &T) {
    if let Some(s) = storage() {
        let _ = s.set_item(key, &encode(settings));
    }
}

pub fn forget(key: &str) {
    if let Some(s) = storage() {
        let _ = s.remove_item(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_bad_entries_are_ignored() {
        let live = LiveSettings {
            carrier: "thingspace".into(),
            proxy_mode: "prefix".into(),
            proxy_url: "https://proxy.example/".into(),
            timeout_s: "45".into(),
        };
        assert_eq!(decode::<LiveSettings>(&encode(&live)), Some(live));
        let fleet = FleetSettings {
            default_carrier: String::new(),
            proxy_url: "http://127.0.0.1:8080".into(),
            concurrency: "8".into(),
            rate_limits: vec![("telecomx".into(), "5".into())],
        };
        assert_eq!(decode::<FleetSettings>(&encode(&fleet)), Some(fleet));
        assert_eq!(decode::<LiveSettings>("{\"carrier\":1}"), None);
        assert_eq!(decode::<LiveSettings>("not json"), None);
    }

    #[test]
    fn what_is_written_names_no_secret_field() {
        let text = encode(&LiveSettings::default()) + &encode(&FleetSettings::default());
        for secret in ["user", "secret", "password", "token", "key"] {
            assert!(!text.contains(&format!("\"{secret}")), "{text}");
        }
    }
}
