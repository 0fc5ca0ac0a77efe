//! Where requests go: straight to the carrier, through a cors-anywhere style prefix, through a
//! URL template, or to a per-carrier base URL (a reverse proxy such as the nginx config in
//! `deploy/nginx/`). Credentials never go into URLs: they travel in headers and bodies only.

use crate::model::Carrier;

/// How requests reach the carriers (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProxyConfig {
    /// No proxy: only works where the carrier allows the page's origin (none of the four do).
    Direct,
    /// `https://proxy.example/` + the full target URL.
    Prefix(String),
    /// A template with `{url}`, replaced by the URL-encoded target.
    Template(String),
    /// One base URL per carrier replacing the carrier's own base, e.g.
    /// `http://127.0.0.1:8081/thingspace`. Carriers without an entry use their default base.
    PerCarrierBase(Vec<(Carrier, String)>),
}

/// The carrier's own API base, from its document (see [`crate::carriers::CarrierSpec`]).
#[must_use]
pub fn default_base(carrier: Carrier) -> &'static str {
    carrier.spec().default_base()
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
#[must_use]
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Reverses [`encode_component`] (and reads `+` as a space, as forms write it).
#[must_use]
pub fn decode_component(text: &str) -> String {
    let bytes = text.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl ProxyConfig {
    /// Every carrier behind one reverse proxy at `base`, each at `/<its proxy prefix>`
    /// (deploy/nginx's layout: `https://app.example/thingspace/...`).
    #[must_use]
    pub fn per_carrier(base: &str) -> ProxyConfig {
        let base = base.trim().trim_end_matches('/');
        ProxyConfig::PerCarrierBase(
            Carrier::ALL
                .iter()
                .map(|c| (*c, format!("{base}/{}", c.spec().proxy_prefix())))
                .collect(),
        )
    }

    /// The URL to request for `path` (starting with `/`) of `carrier`'s API.
    #[must_use]
    pub fn route(&self, carrier: Carrier, path: &str) -> String {
        let target = format!("{}{path}", default_base(carrier));
        match self {
            ProxyConfig::Direct => target,
            ProxyConfig::Prefix(prefix) => format!("{prefix}{target}"),
            ProxyConfig::Template(template) => {
                template.replace("{url}", &encode_component(&target))
            }
            ProxyConfig::PerCarrierBase(bases) => match bases.iter().find(|(c, _)| *c == carrier) {
                Some((_, base)) => format!("{}{path}", base.trim_end_matches('/')),
                None => target,
            },
        }
    }

    /// Checks a user-entered configuration: URLs must be http(s), a template must hold `{url}`.
    pub fn validate(&self) -> Result<(), String> {
        let url_ok = |u: &str| u.starts_with("https://") || u.starts_with("http://");
        match self {
            ProxyConfig::Direct => Ok(()),
            ProxyConfig::Prefix(p) if url_ok(p) => Ok(()),
            ProxyConfig::Prefix(p) => Err(format!(
                "proxy prefix {p:?} must start with http:// or https://"
            )),
            ProxyConfig::Template(t) if !t.contains("{url}") => {
                Err(format!("proxy template {t:?} must contain {{url}}"))
            }
            ProxyConfig::Template(t) if url_ok(t) => Ok(()),
            ProxyConfig::Template(t) => Err(format!(
                "proxy template {t:?} must start with http:// or https://"
            )),
            ProxyConfig::PerCarrierBase(bases) => {
                bases
                    .iter()
                    .find(|(_, b)| !url_ok(b))
                    .map_or(Ok(()), |(c, b)| {
                        Err(format!(
                            "{} base URL {b:?} must start with http:// or https://",
                            c.label()
                        ))
                    })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_each_mode() {
        let path = "/rws/api/v1/devices/89/usageInZone?zone=EU%20West";
        assert_eq!(
            ProxyConfig::Direct.route(Carrier::ControlCenter, path),
            "https://restapi1.jasper.com/rws/api/v1/devices/89/usageInZone?zone=EU%20West"
        );
        assert_eq!(
            ProxyConfig::Prefix("https://proxy.example/".into())
                .route(Carrier::Telecomx, "/mvno/x/usage"),
            "https://proxy.example/https://api.telecomx.dk/mvno/x/usage"
        );
        assert_eq!(
            ProxyConfig::Template("https://p.example/fetch?u={url}".into())
                .route(Carrier::Telecomx, "/a?b=c"),
            "https://p.example/fetch?u=https%3A%2F%2Fapi.telecomx.dk%2Fa%3Fb%3Dc"
        );
        let bases = ProxyConfig::PerCarrierBase(vec![(
            Carrier::Thingspace,
            "http://127.0.0.1:8081/thingspace/".into(),
        )]);
        assert_eq!(
            bases.route(Carrier::Thingspace, "/api/x"),
            "http://127.0.0.1:8081/thingspace/api/x"
        );
        assert!(bases
            .route(Carrier::Telecomx, "/y")
            .starts_with("https://api.telecomx.dk"));
    }

    #[test]
    fn validation_names_the_problem() {
        assert!(ProxyConfig::Template("https://p/{nope}".into())
            .validate()
            .unwrap_err()
            .contains("{url}"));
        assert!(ProxyConfig::Prefix("ftp://x/".into()).validate().is_err());
        assert!(
            ProxyConfig::PerCarrierBase(vec![(Carrier::VodafoneVrs, "localhost".into())])
                .validate()
                .unwrap_err()
                .contains("Vodafone")
        );
    }
}
