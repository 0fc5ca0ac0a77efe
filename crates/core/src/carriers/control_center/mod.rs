//! Cisco IoT Control Center: usage per zone of one device's billing cycle, or the cycle so far.
//!
//! - Auth: Basic with the user name and API key.
//! - Usage: `GET /rws/api/v1/devices/{iccid}/usageInZone` with optional `cycleStartDate`
//!   (`yyyy-MM-ddZ`, one of the last three cycles), `ratePlan`, `zone`; read by [`reader`].
//!   Or the cycle to date, `GET /rws/api/v1/devices/{iccid}/ctdUsages`, read by [`ctd`] with the
//!   account's billing day. One page each.
//! - Errors: the document's error codes (`10000001` ... `30000001`) in
//!   [`CarrierSpec::error_advice`].

pub mod ctd;
pub mod reader;

use serde_json::{Map, Value};

use super::{
    basic, checked_id, not_ours, query_not_ours, require_filled, AccountFields, AccountFilter,
    CarrierSpec, CredentialField, CredentialSlot, CredentialValues, Credentials, DeviceListPage,
    DeviceListQuery, DeviceListing, ErrorAdvice, PeriodInput, PlannedRequest, UsagePage,
    UsageQuery, UsageRequest,
};
use crate::fetch::devices::{field_text, flag, DevicePage, ListedDevice};
use crate::fetch::proxy::encode_component;
use crate::fetch::{FetchConfig, FetchErrorKind as K};
use crate::model::{Carrier, Subject, SubjectKind};
use crate::readers::has_key;

/// The Cisco Control Center spec.
pub struct ControlCenter;

/// Control Center allows at most 50 devices a page.
pub const CONTROL_CENTER_MAX_PAGE_SIZE: u32 = 50;

/// Control Center's device listing: `GET /rws/api/v1/devices?modifiedSince&pageSize&pageNumber`
/// (Basic auth; `modifiedSince` is required), pages from 1 until `lastPage` is true; an
/// optional `status` is sent as a parameter and checked again by the job.
pub struct ControlCenterDevices;

impl DeviceListing for ControlCenterDevices {
    fn fields(&self) -> AccountFields {
        AccountFields {
            since: true,
            account_name: false,
            statuses: &[
                "ACTIVATED",
                "ACTIVATION_READY",
                "DEACTIVATED",
                "INVENTORY",
                "RETIRED",
                "TEST_READY",
            ],
        }
    }

    fn query(&self, filter: &AccountFilter) -> Result<DeviceListQuery, String> {
        let since = chrono::NaiveDate::parse_from_str(&filter.since, "%Y-%m-%d").map_err(|_| {
            "choose the day to list devices changed since (Control Center requires one)".to_owned()
        })?;
        Ok(DeviceListQuery::ControlCenter {
            modified_since: since,
            page_size: CONTROL_CENTER_MAX_PAGE_SIZE,
            status: Some(filter.status.clone()).filter(|s| !s.trim().is_empty()),
        })
    }

    fn check(&self, query: &DeviceListQuery) -> Result<(), String> {
        let DeviceListQuery::ControlCenter { page_size, .. } = query else {
            return Err(query_not_ours(Carrier::ControlCenter));
        };
        if !(1..=CONTROL_CENTER_MAX_PAGE_SIZE).contains(page_size) {
            return Err(format!(
                "the page size takes 1 to {CONTROL_CENTER_MAX_PAGE_SIZE} devices, not {page_size}"
            ));
        }
        Ok(())
    }

    fn page_request(&self, page: &DeviceListPage<'_>) -> PlannedRequest {
        let DeviceListQuery::ControlCenter {
            modified_since,
            page_size,
            status,
        } = page.query
        else {
            return PlannedRequest::get(String::new());
        };
        let mut path = format!(
            "/rws/api/v1/devices?modifiedSince={}&pageSize={page_size}&pageNumber={}",
            encode_component(&format!("{}T00:00:00Z", modified_since.format("%Y-%m-%d"))),
            page.number
        );
        if let Some(s) = status {
            path.push_str(&format!("&status={}", encode_component(s.trim())));
        }
        let mut plan = PlannedRequest::get(path);
        if let Credentials::ControlCenter { username, api_key } = page.credentials {
            plan = plan.header("Authorization", basic(username, api_key));
        }
        plan.header("Accept", "application/json".into())
    }

    fn device(&self, device: &Map<String, Value>, _page: &mut DevicePage) -> Option<ListedDevice> {
        field_text(device, "iccid")
            .and_then(|id| checked_id(SubjectKind::Iccid, &id).ok())
            .map(|id| ListedDevice {
                subject: Subject::new(SubjectKind::Iccid, id),
                status: field_text(device, "status"),
                rate_plan: field_text(device, "ratePlan"),
                communication_plan: field_text(device, "communicationPlan"),
            })
    }

    fn more(&self, root: &Map<String, Value>) -> bool {
        !flag(root, "lastPage").unwrap_or(true)
    }

    fn error_advice(&self, _status: u16, code: &str) -> Option<(K, &'static str)> {
        Some(match code {
            "10000001" => (K::Auth, "invalid credentials, or this IP address is not in the allowed range: check the user name and API key"),
            "10000003" => (K::BadRequest, "modifiedSince is required and must be a date-time; choose the day to list devices changed since"),
            "10000012" => (K::BadRequest, "invalid date format for modifiedSince"),
            "10000024" => (K::BadRequest, "invalid API version: the proxy or base URL must end at /rws/api/v1"),
            _ => return None,
        })
    }
}

/// A usageInZone body.
pub(crate) fn looks_like(body: &str) -> bool {
    has_key(body, "deviceCycleUsageInZones")
}

impl CarrierSpec for ControlCenter {
    fn carrier(&self) -> Carrier {
        Carrier::ControlCenter
    }

    fn subject_kinds(&self) -> &'static [SubjectKind] {
        &[SubjectKind::Iccid]
    }

    fn period_input(&self) -> PeriodInput {
        PeriodInput::Cycle
    }

    fn list_names(&self) -> &'static [&'static str] {
        &["controlcenter", "cisco", "jasper", "cisco-control-center"]
    }

    fn credential_fields(&self, _token: bool) -> &'static [CredentialField] {
        &[
            CredentialField {
                slot: CredentialSlot::User,
                label: "User name",
                secret: false,
            },
            CredentialField {
                slot: CredentialSlot::Secret,
                label: "API key",
                secret: true,
            },
        ]
    }

    fn credentials(&self, values: &CredentialValues) -> Credentials {
        Credentials::ControlCenter {
            username: values.user.clone(),
            api_key: values.secret.clone(),
        }
    }

    fn default_base(&self) -> &'static str {
        "https://restapi1.jasper.com"
    }

    fn proxy_prefix(&self) -> &'static str {
        "control-center"
    }

    fn query(&self, request: &UsageRequest) -> Result<UsageQuery, String> {
        let subject = request.subject.as_ref().ok_or("give the ICCID")?;
        if let Some(billing_day) = request.cycle_to_date {
            return Ok(UsageQuery::ControlCenterCtd {
                iccid: subject.id.clone(),
                billing_day,
            });
        }
        Ok(UsageQuery::ControlCenter {
            iccid: subject.id.clone(),
            cycle_start: request
                .period
                .filter(|_| !request.current)
                .and_then(|(start, _)| chrono::DateTime::from_timestamp(start, 0))
                .map(|d| d.date_naive()),
            rate_plan: request.rate_plan.clone(),
            zone: request.zone.clone(),
        })
    }

    fn check_query(&self, query: UsageQuery, config: &FetchConfig) -> Result<UsageQuery, String> {
        match query {
            UsageQuery::ControlCenter {
                iccid,
                cycle_start,
                rate_plan,
                zone,
            } => Ok(UsageQuery::ControlCenter {
                iccid: checked_id(SubjectKind::Iccid, &iccid)?,
                cycle_start: match (cycle_start, config.today) {
                    (Some(start), Some(today)) if start > today => {
                        return Err("the cycle start date is in the future".to_owned())
                    }
                    (Some(start), Some(today))
                        if today
                            .checked_sub_months(chrono::Months::new(3))
                            .is_some_and(|oldest| start < oldest) =>
                    {
                        return Err("Control Center keeps the current billing cycle and the two before it: choose a cycle start within the last three months".to_owned())
                    }
                    (start, _) => start,
                },
                rate_plan: rate_plan.filter(|r| !r.trim().is_empty()),
                zone: zone.filter(|z| !z.trim().is_empty()),
            }),
            UsageQuery::ControlCenterCtd { iccid, billing_day } => {
                if !(1..=31).contains(&billing_day) {
                    return Err(format!(
                        "the billing day is a day of the month, 1 to 31, not {billing_day}"
                    ));
                }
                Ok(UsageQuery::ControlCenterCtd {
                    iccid: checked_id(SubjectKind::Iccid, &iccid)?,
                    billing_day,
                })
            }
            _ => Err(query_not_ours(self.carrier())),
        }
    }

    fn check_credentials(&self, credentials: &Credentials) -> Result<(), String> {
        match credentials {
            Credentials::ControlCenter { username, api_key } => {
                require_filled(&[username, api_key])
            }
            _ => Err(not_ours(self.carrier())),
        }
    }

    fn usage_request(&self, page: &UsagePage<'_>) -> PlannedRequest {
        let path = match page.query {
            UsageQuery::ControlCenter {
                iccid,
                cycle_start,
                rate_plan,
                zone,
            } => {
                let mut query = Vec::new();
                if let Some(d) = cycle_start {
                    query.push(format!(
                        "cycleStartDate={}",
                        encode_component(&format!("{}Z", d.format("%Y-%m-%d")))
                    ));
                }
                if let Some(r) = rate_plan {
                    query.push(format!("ratePlan={}", encode_component(r)));
                }
                if let Some(z) = zone {
                    query.push(format!("zone={}", encode_component(z)));
                }
                let q = if query.is_empty() {
                    String::new()
                } else {
                    format!("?{}", query.join("&"))
                };
                format!("/rws/api/v1/devices/{iccid}/usageInZone{q}")
            }
            UsageQuery::ControlCenterCtd { iccid, .. } => {
                format!("/rws/api/v1/devices/{iccid}/ctdUsages")
            }
            _ => String::new(),
        };
        let mut plan = PlannedRequest::get(path);
        if let Credentials::ControlCenter { username, api_key } = page.credentials {
            plan = plan.header("Authorization", basic(username, api_key));
        }
        plan.header("Accept", "application/json".into())
    }

    fn billing_day(&self, query: &UsageQuery) -> Option<u32> {
        match query {
            UsageQuery::ControlCenterCtd { billing_day, .. } => Some(*billing_day),
            _ => None,
        }
    }

    fn device_listing(&self) -> Option<&'static dyn DeviceListing> {
        Some(&ControlCenterDevices)
    }

    fn error_advice(&self, _status: u16, code: &str) -> Option<ErrorAdvice> {
        Some(match code {
            "10000001" => (K::Auth, "invalid credentials, or this IP address is not in the allowed range: check the user name and API key".into()),
            "10000012" => (K::BadRequest, "invalid date format: the cycle start date must be yyyy-MM-ddZ".into()),
            "10000013" => (K::NotFound, "unknown rate plan: check its exact name or leave it empty".into()),
            "10000024" => (K::BadRequest, "invalid API version: the proxy or base URL must end at /rws/api/v1".into()),
            "10000028" => (K::BadRequest, "the request had a parameter Control Center does not know".into()),
            "10000031" => (K::BadRequest, "unknown zone: check its exact name or leave it empty".into()),
            "10000032" => (K::BadRequest, "the cycle start date must be one of the last three billing cycles".into()),
            "20000001" => (K::NotFound, "no device with this ICCID".into()),
            "30000001" => (K::Server, "unknown server error at Control Center; try again later".into()),
            _ => return None,
        })
    }
}
