//! What the fleet knows of each carrier, in one place: each rule is one small function with one
//! match on the carrier, so the carrier registry can take them over one by one. Nothing else in
//! the fleet code (nor the fleet form) names a carrier.

use super::controller::FleetPeriod;
use super::list::FleetEntry;
use crate::fetch::devices::{DeviceListQuery, CONTROL_CENTER_MAX_PAGE_SIZE};
use crate::fetch::{Credentials, DeviceRef, UsageQuery};
use crate::model::{Carrier, SubjectKind};

/// Carrier names as people write them in a list.
pub fn parse_carrier_name(name: &str) -> Option<Carrier> {
    let n = name.trim().to_ascii_lowercase().replace(['_', ' '], "-");
    match n.as_str() {
        "vodafone-vrs" | "vodafone" | "vrs" => Some(Carrier::VodafoneVrs),
        "telecomx" => Some(Carrier::Telecomx),
        "thingspace" | "verizon" | "verizon-thingspace" => Some(Carrier::Thingspace),
        "control-center" | "controlcenter" | "cisco" | "jasper" | "cisco-control-center" => {
            Some(Carrier::ControlCenter)
        }
        _ => None,
    }
}

/// The identifier kinds each carrier's usage API takes.
pub fn kinds_of(carrier: Carrier) -> &'static [SubjectKind] {
    match carrier {
        Carrier::VodafoneVrs => &[SubjectKind::Imsi],
        Carrier::Telecomx => &[SubjectKind::Account],
        Carrier::ControlCenter => &[SubjectKind::Iccid],
        Carrier::Thingspace => &[
            SubjectKind::Iccid,
            SubjectKind::Imei,
            SubjectKind::Meid,
            SubjectKind::Mdn,
            SubjectKind::Msisdn,
            SubjectKind::Esn,
            SubjectKind::Eid,
        ],
    }
}

/// What one subject of the list asks of its carrier, over the fleet's period.
pub fn query_for(entry: &FleetEntry, period: &FleetPeriod) -> UsageQuery {
    let month = |t: i64| {
        use chrono::Datelike;
        let d = chrono::DateTime::from_timestamp(t, 0).unwrap_or_default();
        (d.year(), d.month())
    };
    let id = || entry.subject.id.clone();
    match entry.carrier {
        Carrier::VodafoneVrs => UsageQuery::Vodafone { imsi: id() },
        Carrier::Telecomx => UsageQuery::Telecomx {
            account: id(),
            from: month(period.earliest),
            to: month(period.latest),
            csv: false,
        },
        Carrier::Thingspace => UsageQuery::Thingspace {
            device: DeviceRef::Id(entry.subject.clone()),
            earliest: period.earliest,
            latest: period.latest,
        },
        Carrier::ControlCenter => match period.billing_day {
            Some(billing_day) => UsageQuery::ControlCenterCtd {
                iccid: id(),
                billing_day,
            },
            None => UsageQuery::ControlCenter {
                iccid: id(),
                cycle_start: None,
                rate_plan: None,
                zone: None,
            },
        },
    }
}

/// Which credentials a subject is fetched with, beyond its carrier: Vodafone issues tokens per
/// country (the IMSI's first three digits), the others one for the account.
pub fn credential_scope(entry: &FleetEntry) -> String {
    match entry.carrier {
        Carrier::VodafoneVrs => entry.subject.id.chars().take(3).collect(),
        Carrier::Telecomx | Carrier::Thingspace | Carrier::ControlCenter => String::new(),
    }
}

/// Whether the fleet's credentials for `carrier` buy an access token (and, for ThingSpace, a
/// session) that every later subject of the same scope reuses: then the first subject of a scope
/// goes alone, and the others wait for its token rather than each asking for one.
pub fn shares_token(carrier: Carrier) -> bool {
    match carrier {
        Carrier::VodafoneVrs | Carrier::Thingspace => true,
        Carrier::Telecomx | Carrier::ControlCenter => false,
    }
}

/// The credential fields of the fleet form, as typed: a user (or client id) and a secret
/// (password, client secret, API key), and ThingSpace's application key and its secret.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CredentialText {
    pub user: String,
    pub secret: String,
    pub key: String,
    pub key_secret: String,
}

/// The credentials the fleet form's fields make for `carrier`.
pub fn credentials_from_form(carrier: Carrier, text: CredentialText) -> Credentials {
    let CredentialText {
        user,
        secret,
        key,
        key_secret,
    } = text;
    match carrier {
        Carrier::VodafoneVrs => Credentials::VodafoneClient {
            client_id: user,
            client_secret: secret,
        },
        Carrier::Telecomx => Credentials::TelecomxBasic {
            user,
            password: secret,
        },
        Carrier::Thingspace => Credentials::Thingspace {
            key,
            secret: key_secret,
            username: user,
            password: secret,
        },
        Carrier::ControlCenter => Credentials::ControlCenter {
            username: user,
            api_key: secret,
        },
    }
}

/// What the account loader's form says: the day devices changed since (`yyyy-mm-dd`), the
/// account name, and a status to keep (empty: any).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountFilter {
    pub since: String,
    pub account_name: String,
    pub status: String,
}

/// The listing of an account's devices for `carrier`, or why there is none.
pub fn account_listing(carrier: Carrier, filter: AccountFilter) -> Result<DeviceListQuery, String> {
    let status = Some(filter.status).filter(|s| !s.trim().is_empty());
    match carrier {
        Carrier::ControlCenter => {
            let since =
                chrono::NaiveDate::parse_from_str(&filter.since, "%Y-%m-%d").map_err(|_| {
                    "choose the day to list devices changed since (Control Center requires one)"
                        .to_owned()
                })?;
            Ok(DeviceListQuery::ControlCenter {
                modified_since: since,
                page_size: CONTROL_CENTER_MAX_PAGE_SIZE,
                status,
            })
        }
        Carrier::Thingspace => Ok(DeviceListQuery::Thingspace {
            account_name: filter.account_name,
            status,
        }),
        Carrier::VodafoneVrs | Carrier::Telecomx => {
            Err("choose Control Center or ThingSpace to list an account's devices".into())
        }
    }
}

/// What the account loader's form asks for a carrier's listing: the day devices changed since,
/// the account name, and the statuses it can keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountFields {
    pub since: bool,
    pub account_name: bool,
    pub statuses: &'static [&'static str],
}

/// The account loader's fields for `carrier`; `None` when its account's devices cannot be listed.
pub fn account_fields(carrier: Carrier) -> Option<AccountFields> {
    match carrier {
        Carrier::ControlCenter => Some(AccountFields {
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
        }),
        Carrier::Thingspace => Some(AccountFields {
            since: false,
            account_name: true,
            statuses: &["active", "deactive", "suspend", "pending resume"],
        }),
        Carrier::VodafoneVrs | Carrier::Telecomx => None,
    }
}
