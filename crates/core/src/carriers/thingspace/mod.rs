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

use serde_json::{Map, Value};

use super::{
    checked_id, client_credentials_request, not_ours, query_not_ours, require_filled,
    AccountFields, AccountFilter, CarrierSpec, CredentialField, CredentialSlot, CredentialValues,
    Credentials, DeviceListPage, DeviceListQuery, DeviceListing, DeviceRef, ErrorAdvice, Paging,
    PeriodInput, PlannedRequest, UsagePage, UsageQuery, UsageRequest,
};
use crate::fetch::devices::{field_text, flag, DevicePage, ListedDevice};
use crate::fetch::{FetchConfig, FetchErrorKind as K};
use crate::model::{format_timestamp, Carrier, Subject, SubjectKind};
use crate::readers::json_util::get_ci as field;
use crate::readers::{guess_subject_kind, has_key};

/// The Verizon ThingSpace spec.
pub struct Thingspace;

/// ThingSpace's device listing: `POST /api/m2m/v1/devices/actions/list` with
/// `{"accountName", "currentState"?, "largestDeviceIdSeen"?}`, the next page asked for with the
/// first id of the last device seen, until `hasMoreData` is false.
pub struct ThingspaceDevices;

impl DeviceListing for ThingspaceDevices {
    fn fields(&self) -> AccountFields {
        AccountFields {
            since: false,
            account_name: true,
            statuses: &["active", "deactive", "suspend", "pending resume"],
        }
    }

    fn query(&self, filter: &AccountFilter) -> Result<DeviceListQuery, String> {
        Ok(DeviceListQuery::Thingspace {
            account_name: filter.account_name.clone(),
            status: Some(filter.status.clone()).filter(|s| !s.trim().is_empty()),
        })
    }

    fn check(&self, query: &DeviceListQuery) -> Result<(), String> {
        let DeviceListQuery::Thingspace { account_name, .. } = query else {
            return Err(query_not_ours(Carrier::Thingspace));
        };
        if account_name.trim().is_empty() {
            return Err("the account name is required to list ThingSpace devices".into());
        }
        Ok(())
    }

    fn page_request(&self, page: &DeviceListPage<'_>) -> PlannedRequest {
        let account_name = match page.query {
            DeviceListQuery::Thingspace { account_name, .. } => account_name.trim(),
            _ => "",
        };
        let mut body = serde_json::json!({ "accountName": account_name });
        if let Some(s) = page.query.status() {
            body["currentState"] = Value::String(s.trim().to_owned());
        }
        if let Some(last) = page.last_seen {
            body["largestDeviceIdSeen"] = Value::String(last.to_owned());
        }
        PlannedRequest::post("/api/m2m/v1/devices/actions/list", body.to_string())
            .header(
                "Authorization",
                format!("Bearer {}", page.token.unwrap_or_default()),
            )
            .header("VZ-M2M-Token", page.session.unwrap_or_default().to_owned())
            .header("Content-Type", "application/json".into())
    }

    fn device(&self, device: &Map<String, Value>, page: &mut DevicePage) -> Option<ListedDevice> {
        let ids: Vec<(SubjectKind, String)> = match field(device, "deviceIds") {
            Some(Value::Array(ids)) => ids
                .iter()
                .filter_map(|id| {
                    let id = id.as_object()?;
                    let kind = SubjectKind::parse(&field_text(id, "kind")?)?;
                    Some((kind, field_text(id, "id")?))
                })
                .collect(),
            _ => Vec::new(),
        };
        if let Some((_, first)) = ids.first() {
            page.last_id = Some(first.clone());
        }
        let carrier_info = match field(device, "carrierInformations")
            .or_else(|| field(device, "carrierInformation"))
        {
            Some(Value::Array(infos)) => infos.first().and_then(Value::as_object),
            Some(Value::Object(info)) => Some(info),
            _ => None,
        };
        // The identifier kinds a fleet is fetched by, best first.
        Thingspace
            .subject_kinds()
            .iter()
            .find_map(|kind| {
                let (_, id) = ids.iter().find(|(k, _)| k == kind)?;
                checked_id(*kind, id).ok().map(|id| Subject::new(*kind, id))
            })
            .map(|subject| ListedDevice {
                subject,
                status: carrier_info.and_then(|c| field_text(c, "state")),
                rate_plan: carrier_info.and_then(|c| field_text(c, "servicePlan")),
                communication_plan: None,
            })
    }

    fn more(&self, root: &Map<String, Value>) -> bool {
        flag(root, "hasMoreData").unwrap_or(false)
    }

    fn cursor_paging(&self) -> bool {
        true
    }

    fn error_advice(&self, _status: u16, code: &str) -> Option<(K, &'static str)> {
        Some(match code {
            "900901" => (K::Auth, "ThingSpace refused the access token: check the key and secret"),
            "invalid_client" => (K::Auth, "ThingSpace refused the key and secret"),
            c if c.contains("SessionToken") => (K::Auth, "the ThingSpace session expired again after a new login: check the user name and password"),
            c if c.contains("Account") => (K::NotFound, "ThingSpace does not know this account name (it looks like 0000123456-00001)"),
            _ => return None,
        })
    }
}

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

    fn takes_labels(&self) -> bool {
        true
    }

    fn issues_tokens(&self) -> bool {
        true
    }

    fn default_subject_kind(&self, id: &str) -> SubjectKind {
        guess_subject_kind(id)
    }

    fn period_input(&self) -> PeriodInput {
        PeriodInput::Days
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

    fn device_listing(&self) -> Option<&'static dyn DeviceListing> {
        Some(&ThingspaceDevices)
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
