//! Vodafone VRS: TMF635 Usage by IMSI.
//!
//! - Auth: OAuth2 client credentials (`POST /oauth2/token`, Basic auth with the client id and
//!   secret), the token valid 59:59 and for one country only (so tokens are cached by the IMSI's
//!   MCC, see [`CarrierSpec::token_scope`]); or an access token the user pastes.
//! - Usage: `GET /tmf-api/usageManagement/v4/usage/{imsi}` with a fresh `X-Correlator` UUID; one
//!   page; HTTP 204 when the IMSI has no usage.
//! - The body: TMF635 `Usage` (one object or an array), read by [`reader`].
//! - Errors: the document's table (400 `missingParameter`, 401, 403, 404, 422, 302) in
//!   [`CarrierSpec::error_advice`].

pub mod reader;

use super::{
    check_token, checked_id, client_credentials_request, not_ours, query_not_ours, require_filled,
    CarrierSpec, CredentialField, CredentialSlot, CredentialValues, Credentials, ErrorAdvice,
    PeriodInput, PlannedRequest, UsagePage, UsageQuery, UsageRequest,
};
use crate::fetch::proxy::encode_component;
use crate::fetch::{FetchConfig, FetchErrorKind as K};
use crate::model::{Carrier, Subject, SubjectKind};
use crate::readers::has_key;

/// The Vodafone VRS spec.
pub struct Vodafone;

const TMF_PATH: &str = "/tmf-api/usageManagement/v4/usage/";

/// A TMF635 Usage body.
pub(crate) fn looks_like(body: &str) -> bool {
    has_key(body, "usageCharacteristic") || has_key(body, "usageSpecification")
}

impl CarrierSpec for Vodafone {
    fn carrier(&self) -> Carrier {
        Carrier::VodafoneVrs
    }

    fn subject_kinds(&self) -> &'static [SubjectKind] {
        &[SubjectKind::Imsi]
    }

    fn period_input(&self) -> PeriodInput {
        PeriodInput::Latest
    }

    fn list_names(&self) -> &'static [&'static str] {
        &["vodafone", "vrs"]
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
                    label: "Client id",
                    secret: false,
                },
                CredentialField {
                    slot: CredentialSlot::Secret,
                    label: "Client secret",
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
            Credentials::VodafoneClient {
                client_id: values.user.clone(),
                client_secret: values.secret.clone(),
            }
        } else {
            Credentials::VodafoneBearer(values.token.clone())
        }
    }

    fn issues_tokens(&self) -> bool {
        true
    }

    fn token_scope(&self, subject: &Subject) -> String {
        // The MCC: Vodafone's tokens work for one country.
        subject.id.chars().take(3).collect()
    }

    fn default_base(&self) -> &'static str {
        "https://api-sandbox.vf-dmp.engineering.vodafone.com"
    }

    fn proxy_prefix(&self) -> &'static str {
        "vodafone"
    }

    fn query(&self, request: &UsageRequest) -> Result<UsageQuery, String> {
        let subject = request.subject.as_ref().ok_or("give the IMSI")?;
        Ok(UsageQuery::Vodafone {
            imsi: subject.id.clone(),
        })
    }

    fn check_query(&self, query: UsageQuery, _config: &FetchConfig) -> Result<UsageQuery, String> {
        match query {
            UsageQuery::Vodafone { imsi } => Ok(UsageQuery::Vodafone {
                imsi: checked_id(SubjectKind::Imsi, &imsi)?,
            }),
            _ => Err(query_not_ours(self.carrier())),
        }
    }

    fn check_credentials(&self, credentials: &Credentials) -> Result<(), String> {
        match credentials {
            Credentials::VodafoneClient {
                client_id,
                client_secret,
            } => require_filled(&[client_id, client_secret]),
            Credentials::VodafoneBearer(token) => check_token(token),
            _ => Err(not_ours(self.carrier())),
        }
    }

    fn pasted_token<'a>(&self, credentials: &'a Credentials) -> Option<&'a str> {
        match credentials {
            Credentials::VodafoneBearer(token) => Some(token.trim()),
            _ => None,
        }
    }

    fn token_request(&self, credentials: &Credentials) -> Option<PlannedRequest> {
        match credentials {
            Credentials::VodafoneClient {
                client_id,
                client_secret,
            } => Some(client_credentials_request(
                "/oauth2/token",
                client_id,
                client_secret,
            )),
            _ => None,
        }
    }

    fn usage_request(&self, page: &UsagePage<'_>) -> PlannedRequest {
        let imsi = match page.query {
            UsageQuery::Vodafone { imsi } => imsi.as_str(),
            _ => "",
        };
        PlannedRequest::get(format!("{TMF_PATH}{}", encode_component(imsi)))
            .header("Accept", "application/json;charset=utf-8".into())
            .header(
                "Authorization",
                format!("Bearer {}", page.token.unwrap_or_default()),
            )
            .header("X-Correlator", uuid_v4(page.random))
    }

    fn no_usage_notice(&self) -> &'static str {
        "No usage data available for this IMSI (HTTP 204)."
    }

    fn error_advice(&self, status: u16, code: &str) -> Option<ErrorAdvice> {
        Some(match (status, code) {
            (400, "missingParameter") => (K::BadRequest, "a required parameter is missing".into()),
            (400, _) => (K::BadRequest, "a parameter has the wrong type (the IMSI must be a string)".into()),
            (401, _) => (K::Auth, "the access token is missing or invalid: check the client id and secret, or paste a fresh token (tokens are per country)".into()),
            (403, _) => (K::Forbidden, "this IMSI is not in your allowed range".into()),
            (404, _) => (K::NotFound, "no usage resource with this id".into()),
            (422, _) => (K::InvalidInput, "Vodafone says the IMSI format is invalid".into()),
            (302, _) => (K::BadResponse, "Vodafone redirected the request; point the proxy at the new location".into()),
            _ => return None,
        })
    }
}

/// A version-4 UUID from 128 random bits (the caller supplies them: no RNG in the core).
#[must_use]
pub fn uuid_v4(random: u128) -> String {
    let mut b = random.to_be_bytes();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
