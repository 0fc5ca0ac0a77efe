//! TelecomX MVNO: monthly usage of one account, as JSON or CSV; voice as *remaining* seconds.
//!
//! - Auth: Basic (user and password) or a bearer token.
//! - Usage: `GET /mvno/{account}/usage?fromDate&toDate&type=JSON|CSV`, whole months, to >= from,
//!   at most 12 months; one page.
//! - The bodies: the usage JSON and the CSV (any spreadsheet dialect), read by [`reader`].
//! - Errors: the document's table (400, 401, 403, 404, 409, 422) in
//!   [`CarrierSpec::error_advice`].

pub mod reader;

use super::{
    basic, check_token, checked_id, month_of, not_ours, query_not_ours, require_filled,
    CarrierSpec, CredentialField, CredentialSlot, CredentialValues, Credentials, ErrorAdvice,
    PeriodInput, PlannedRequest, UsagePage, UsageQuery, UsageRequest,
};
use crate::fetch::{FetchConfig, FetchErrorKind as K};
use crate::model::{Carrier, SubjectKind};
use crate::readers::has_key;

/// The TelecomX spec.
pub struct Telecomx;

/// A TelecomX usage JSON body.
pub(crate) fn looks_like(body: &str) -> bool {
    has_key(body, "roamingRegions")
        || (has_key(body, "account")
            && (has_key(body, "voice") || has_key(body, "data") || has_key(body, "sms")))
}

impl CarrierSpec for Telecomx {
    fn carrier(&self) -> Carrier {
        Carrier::Telecomx
    }

    fn subject_kinds(&self) -> &'static [SubjectKind] {
        &[SubjectKind::Account]
    }

    fn period_input(&self) -> PeriodInput {
        PeriodInput::Months { csv: true }
    }

    fn list_names(&self) -> &'static [&'static str] {
        &["telecom-x"]
    }

    fn credential_fields(&self, token: bool) -> &'static [CredentialField] {
        if token {
            &[CredentialField {
                slot: CredentialSlot::Token,
                label: "Bearer token",
                secret: true,
            }]
        } else {
            &[
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
    }

    fn takes_token(&self) -> bool {
        true
    }

    fn credentials(&self, values: &CredentialValues) -> Credentials {
        if values.token.is_empty() {
            Credentials::TelecomxBasic {
                user: values.user.clone(),
                password: values.secret.clone(),
            }
        } else {
            Credentials::TelecomxBearer(values.token.clone())
        }
    }

    fn default_base(&self) -> &'static str {
        "https://api.telecomx.dk"
    }

    fn proxy_prefix(&self) -> &'static str {
        "telecomx"
    }

    fn query(&self, request: &UsageRequest) -> Result<UsageQuery, String> {
        let subject = request.subject.as_ref().ok_or("give the account id")?;
        let (first, last) = request.period.ok_or("choose the first month")?;
        Ok(UsageQuery::Telecomx {
            account: subject.id.clone(),
            from: month_of(first),
            to: month_of(last.max(first)),
            csv: request.csv,
        })
    }

    fn check_query(&self, query: UsageQuery, _config: &FetchConfig) -> Result<UsageQuery, String> {
        let UsageQuery::Telecomx {
            account,
            from,
            to,
            csv,
        } = query
        else {
            return Err(query_not_ours(self.carrier()));
        };
        let account = checked_id(SubjectKind::Account, &account)?;
        let months = |(y, m): (i32, u32)| i64::from(y) * 12 + i64::from(m);
        if !(1..=12).contains(&from.1) || !(1..=12).contains(&to.1) {
            return Err("months run from 1 to 12".to_owned());
        }
        if months(to) < months(from) {
            return Err("the last month is before the first month".to_owned());
        }
        if months(to) - months(from) >= 12 {
            return Err("TelecomX returns at most one year: choose 12 months or fewer".to_owned());
        }
        Ok(UsageQuery::Telecomx {
            account,
            from,
            to,
            csv,
        })
    }

    fn check_credentials(&self, credentials: &Credentials) -> Result<(), String> {
        match credentials {
            Credentials::TelecomxBasic { user, password } => require_filled(&[user, password]),
            Credentials::TelecomxBearer(token) => check_token(token),
            _ => Err(not_ours(self.carrier())),
        }
    }

    fn usage_request(&self, page: &UsagePage<'_>) -> PlannedRequest {
        let UsageQuery::Telecomx {
            account,
            from,
            to,
            csv,
        } = page.query
        else {
            return PlannedRequest::get(String::new());
        };
        let auth = match page.credentials {
            Credentials::TelecomxBasic { user, password } => basic(user, password),
            Credentials::TelecomxBearer(t) => format!("Bearer {}", t.trim()),
            _ => String::new(),
        };
        PlannedRequest::get(format!(
            "/mvno/{account}/usage?fromDate={:04}-{:02}-01&toDate={:04}-{:02}-01&type={}",
            from.0,
            from.1,
            to.0,
            to.1,
            if *csv { "CSV" } else { "JSON" }
        ))
        .header("Authorization", auth)
    }

    fn error_advice(&self, status: u16, _code: &str) -> Option<ErrorAdvice> {
        Some(match status {
            400 => (
                K::BadRequest,
                "MVNO account id not found in the request: it must be 24 hex characters".into(),
            ),
            404 => (K::NotFound, "no MVNO account with this id".into()),
            403 => (
                K::Forbidden,
                "insufficient access level for this account: check the user or token".into(),
            ),
            401 => (
                K::Auth,
                "credentials refused: check the user and password or token".into(),
            ),
            422 => (
                K::InvalidInput,
                "the to date is before the from date".into(),
            ),
            409 => (
                K::InvalidInput,
                "the date span is too large: at most one year".into(),
            ),
            _ => return None,
        })
    }
}
