//! Verizon ThingSpace: daily usage rows of one device.
//!
//! - Auth: an OAuth token (`POST /api/ts/v1/oauth2/token`, Basic auth with the application's key
//!   and secret), then a session login (`POST /api/m2m/v1/session/login` with the account's user
//!   name and password) whose `sessionToken` goes in `VZ-M2M-Token`; the session lasts 20
//!   minutes of inactivity and is renewed once when it expires.
//! - Usage: `POST /api/m2m/v1/devices/usage/actions/list` pages (HTTP 202 / `hasMoreData`),
//!   `earliest` moved past the last row; ranges over 12 months are fetched in 12-month windows,
//!   with a warning that ThingSpace keeps only the last 12 months.
//! - The device: a typed id (ICCID, IMEI, MEID, MDN, MSISDN, ESN, EID) or a `name=value` label.
//! - The body: the usage history, read by [`reader`].
//! - Errors: gateway faults (`900901`, `invalid_client`), session errors (`*SessionToken*`),
//!   401 and 400, in [`CarrierSpec::error_advice`].

pub mod reader;

use super::{
    checked_id, client_credentials_request, not_ours, query_not_ours, require_filled, CarrierSpec,
    CredentialField, CredentialSlot, CredentialValues, Credentials, DeviceRef, ErrorAdvice, Paging,
    PlannedRequest, UsagePage, UsageQuery, UsageRequest,
};
use crate::fetch::{FetchConfig, FetchErrorKind as K};
use crate::model::{format_timestamp, Carrier, Subject, SubjectKind};
use crate::readers::{guess_subject_kind, has_key};

/// The Verizon ThingSpace spec.
pub struct Thingspace;

/// ThingSpace requests cover at most this much (its 12 months of retention).
const WINDOW: i64 = 365 * 86_400;

/// A ThingSpace usage history body.
pub(crate) fn looks_like(body: &str) -> bool {
    has_key(body, "usageHistory")
}

impl CarrierSpec for Thingspace {
    fn carrier(&self) -> Carrier {
        Carrier::Thingspace
    }

    fn subject_kinds(&self) -> &'static [SubjectKind] {
        &[
            SubjectKind::Iccid,
            SubjectKind::Imei,
            SubjectKind::Meid,
            SubjectKind::Mdn,
            SubjectKind::Msisdn,
            SubjectKind::Esn,
            SubjectKind::Eid,
        ]
    }

    fn default_subject_kind(&self, id: &str) -> SubjectKind {
        guess_subject_kind(id)
    }

    fn list_names(&self) -> &'static [&'static str] {
        &["verizon", "verizon-thingspace"]
    }

    fn credential_fields(&self, _token: bool) -> &'static [CredentialField] {
        &[
            CredentialField {
                slot: CredentialSlot::Key,
                label: "Application key",
                secret: false,
            },
            CredentialField {
                slot: CredentialSlot::KeySecret,
                label: "Application secret",
                secret: true,
            },
            CredentialField {
                slot: CredentialSlot::User,
                label: "User name",
                secret: false,
            },
            CredentialField {
                slot: CredentialSlot::Secret,
                label: "Password",
                secret: true,
            },
        ]
    }

    fn credentials(&self, values: &CredentialValues) -> Credentials {
        Credentials::Thingspace {
            key: values.key.clone(),
            secret: values.key_secret.clone(),
            username: values.user.clone(),
            password: values.secret.clone(),
        }
    }

    fn default_base(&self) -> &'static str {
        "https://thingspace.verizon.com"
    }

    fn proxy_prefix(&self) -> &'static str {
        "thingspace"
    }

    fn query(&self, request: &UsageRequest) -> Result<UsageQuery, String> {
        let subject = request.subject.as_ref().ok_or("give the device id")?;
        let (earliest, latest) = request.period.ok_or("choose the first and last day")?;
        Ok(UsageQuery::Thingspace {
            device: device_ref(subject),
            earliest,
            latest,
        })
    }

    fn check_query(&self, query: UsageQuery, _config: &FetchConfig) -> Result<UsageQuery, String> {
        let UsageQuery::Thingspace {
            device,
            earliest,
            latest,
        } = query
        else {
            return Err(query_not_ours(self.carrier()));
        };
        let device = match device {
            DeviceRef::Id(s) => DeviceRef::Id(Subject::new(s.kind, checked_id(s.kind, &s.id)?)),
            DeviceRef::Label { name, value } => {
                checked_id(SubjectKind::Label, &format!("{name}={value}"))?;
                DeviceRef::Label { name, value }
            }
        };
        if latest <= earliest {
            return Err("the end of the range is not after its start".to_owned());
        }
        if latest - earliest > 10 * WINDOW {
            return Err("choose a range of at most ten years".to_owned());
        }
        Ok(UsageQuery::Thingspace {
            device,
            earliest,
            latest,
        })
    }

    fn check_credentials(&self, credentials: &Credentials) -> Result<(), String> {
        match credentials {
            Credentials::Thingspace {
                key,
                secret,
                username,
                password,
            } => require_filled(&[key, secret, username, password]),
            _ => Err(not_ours(self.carrier())),
        }
    }

    fn token_request(&self, credentials: &Credentials) -> Option<PlannedRequest> {
        match credentials {
            Credentials::Thingspace { key, secret, .. } => Some(client_credentials_request(
                "/api/ts/v1/oauth2/token",
                key,
                secret,
            )),
            _ => None,
        }
    }

    fn login_request(&self, credentials: &Credentials, token: &str) -> Option<PlannedRequest> {
        let Credentials::Thingspace {
            username, password, ..
        } = credentials
        else {
            return None;
        };
        Some(
            PlannedRequest::post(
                "/api/m2m/v1/session/login",
                serde_json::json!({"username": username, "password": password}).to_string(),
            )
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", "application/json".into()),
        )
    }

    fn usage_request(&self, page: &UsagePage<'_>) -> PlannedRequest {
        let mut body = serde_json::json!({
            "earliest": format_timestamp(page.window.0),
            "latest": format_timestamp(page.window.1),
        });
        if let UsageQuery::Thingspace { device, .. } = page.query {
            match device {
                DeviceRef::Id(s) => {
                    body["deviceId"] = serde_json::json!({"kind": s.kind.as_str(), "id": s.id})
                }
                DeviceRef::Label { name, value } => {
                    body["label"] = serde_json::json!({"name": name, "value": value})
                }
            }
        }
        PlannedRequest::post("/api/m2m/v1/devices/usage/actions/list", body.to_string())
            .header(
                "Authorization",
                format!("Bearer {}", page.token.unwrap_or_default()),
            )
            .header("VZ-M2M-Token", page.session.unwrap_or_default().to_owned())
            .header("Content-Type", "application/json".into())
    }

    fn paging(&self, query: &UsageQuery) -> Option<Paging> {
        let UsageQuery::Thingspace {
            earliest, latest, ..
        } = query
        else {
            return None;
        };
        Some(Paging {
            earliest: *earliest,
            latest: *latest,
            window: WINDOW,
            max_range: 10 * WINDOW,
            long_range_warning: "the range is longer than 12 months: it is fetched in 12-month windows, and ThingSpace keeps only the last 12 months, so older windows may be empty",
        })
    }

    fn error_advice(&self, status: u16, code: &str) -> Option<ErrorAdvice> {
        Some(match (status, code) {
            (_, "900901") => (K::Auth, "ThingSpace refused the access token: check the key and secret".into()),
            (_, c) if c.contains("SessionToken") => (K::Auth, "the ThingSpace session expired again after a new login: check the user name and password".into()),
            (_, "invalid_client") => (K::Auth, "ThingSpace refused the key and secret".into()),
            (401, _) => (K::Auth, "ThingSpace refused the credentials: check key, secret, user name and password".into()),
            (400, _) => (K::BadRequest, "ThingSpace rejected the request: check the device id kind and value, and the dates".into()),
            _ => return None,
        })
    }
}

/// The device a subject names: a label `name=value`, or a typed id.
fn device_ref(subject: &Subject) -> DeviceRef {
    if subject.kind == SubjectKind::Label {
        let (name, value) = subject.id.split_once('=').unwrap_or((&subject.id, ""));
        DeviceRef::Label {
            name: name.to_owned(),
            value: value.to_owned(),
        }
    } else {
        DeviceRef::Id(subject.clone())
    }
}
