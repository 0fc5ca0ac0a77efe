//! The sans-IO fetch jobs, driven by scripted answers: token reuse and expiry, pasted tokens,
//! paging, re-login, retries and their limits, cancellation, documented errors, and secrets
//! kept out of URLs and logs.

use usagelens_core::fetch::{
    header_value_problem, Credentials, DeviceRef, FetchConfig, FetchErrorKind, FetchJob,
    HttpResponse, Method, ProxyConfig, Purpose, RequestPlan, Step, Token, TransportError,
    UsageQuery,
};
use usagelens_core::{Carrier, Service, Subject, SubjectKind};

const VODAFONE: &str = include_str!("fixtures/vodafone-doc-example.json");
const CC: &str = include_str!("fixtures/control-center-example.json");
const TX: &str = include_str!("fixtures/telecomx-doc-example.json");

fn sandbox() -> FetchConfig {
    FetchConfig {
        proxy: ProxyConfig::PerCarrierBase(
            [
                (Carrier::VodafoneVrs, "http://127.0.0.1:8081/vodafone"),
                (Carrier::Telecomx, "http://127.0.0.1:8081/telecomx"),
                (Carrier::Thingspace, "http://127.0.0.1:8081/thingspace"),
                (
                    Carrier::ControlCenter,
                    "http://127.0.0.1:8081/control-center",
                ),
            ]
            .map(|(c, b)| (c, b.to_owned()))
            .to_vec(),
        ),
        ..FetchConfig::default()
    }
}

fn vodafone_client() -> Credentials {
    Credentials::VodafoneClient {
        client_id: "demo-client".into(),
        client_secret: "demo-secret".into(),
    }
}

fn thingspace_creds() -> Credentials {
    Credentials::Thingspace {
        key: "k".into(),
        secret: "s".into(),
        username: "demo".into(),
        password: "hunter2".into(),
    }
}

/// Runs a job against a script of answers, returning the plans it sent and the times it waited.
fn drive(
    job: &mut FetchJob,
    answers: &mut Vec<Result<HttpResponse, TransportError>>,
) -> (Vec<RequestPlan>, Vec<u64>) {
    let mut now = 1_000_000u64;
    let mut sent = Vec::new();
    let mut waits = Vec::new();
    for _ in 0..200 {
        match job.poll(now, 42) {
            Step::Done => break,
            Step::Wait { until_ms } => {
                waits.push(until_ms - now);
                now = until_ms;
            }
            Step::Send(plan) => {
                sent.push(plan);
                assert!(
                    !answers.is_empty(),
                    "the job sent more requests than scripted: {sent:?}"
                );
                match answers.remove(0) {
                    Ok(r) => job.handle_response(&r, now, 7),
                    Err(e) => job.handle_transport_error(&e, now, 7),
                }
            }
        }
    }
    (sent, waits)
}

fn token(body_expires: u64) -> HttpResponse {
    HttpResponse::new(
        200,
        format!(r#"{{"access_token":"tok-{body_expires}","expires_in":{body_expires}}}"#),
    )
}

#[test]
fn vodafone_token_then_usage_with_correlator_and_reuse() {
    let query = UsageQuery::Vodafone {
        imsi: "262021234567890".into(),
    };
    let mut job = FetchJob::new(query.clone(), vodafone_client(), sandbox(), None).unwrap();
    let (sent, _) = drive(
        &mut job,
        &mut vec![Ok(token(3599)), Ok(HttpResponse::new(200, VODAFONE))],
    );
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].purpose, Purpose::Token);
    assert_eq!(sent[0].url, "http://127.0.0.1:8081/vodafone/oauth2/token");
    assert_eq!(
        sent[0].body.as_deref(),
        Some("grant_type=client_credentials")
    );
    assert_eq!(
        sent[1].url,
        "http://127.0.0.1:8081/vodafone/tmf-api/usageManagement/v4/usage/262021234567890"
    );
    let correlator = sent[1]
        .headers
        .iter()
        .find(|(k, _)| k == "X-Correlator")
        .unwrap();
    assert_eq!(correlator.1.len(), 36);
    let outcome = job.finish();
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(outcome.set.len(), 2);
    assert_eq!(
        outcome
            .set
            .record_json(&outcome.set.records[0])
            .subject
            .unwrap()
            .id,
        "262021234567890"
    );
    // The token comes back for the next job, which then skips the token step.
    let cached = outcome.token.unwrap();
    let mut again = FetchJob::new(
        query.clone(),
        vodafone_client(),
        sandbox(),
        Some(cached.clone()),
    )
    .unwrap();
    let (sent, _) = drive(&mut again, &mut vec![Ok(HttpResponse::new(200, VODAFONE))]);
    assert_eq!(sent.len(), 1);
    // An expired token is not reused.
    let stale = Token {
        expires_at_ms: 1_000_000 + 30_000,
        ..cached
    };
    let mut third = FetchJob::new(query, vodafone_client(), sandbox(), Some(stale)).unwrap();
    let (sent, _) = drive(
        &mut third,
        &mut vec![Ok(token(3599)), Ok(HttpResponse::new(200, VODAFONE))],
    );
    assert_eq!(sent[0].purpose, Purpose::Token);
}

#[test]
fn header_values_the_browser_would_refuse_are_named() {
    assert_eq!(header_value_problem("Bearer abc-123_~+/="), None);
    assert_eq!(
        header_value_problem("Latin-1 \u{e9}\u{ff}"),
        None,
        "Latin-1 is sendable"
    );
    assert_eq!(
        header_value_problem("\r\n token \n"),
        None,
        "the browser trims line breaks at the ends"
    );
    let problem = |v: &str| header_value_problem(v).unwrap_or_default();
    assert!(
        problem("Bearer \u{201c}abc").starts_with("character 8 is \"\u{201c}\" (U+201C)"),
        "{}",
        problem("Bearer \u{201c}abc")
    );
    assert!(problem("abc\ndef").starts_with("character 4 is a line break"));
    assert!(problem("ab\0").starts_with("character 3 is a NUL character"));
    assert!(problem("\u{20ac}").contains("Latin-1 text on one line"));
}

#[test]
fn a_pasted_token_a_header_cannot_carry_is_refused_before_sending() {
    for (credentials, query) in [
        (
            Credentials::VodafoneBearer("abc\u{201d}".into()),
            UsageQuery::Vodafone {
                imsi: "262021234567890".into(),
            },
        ),
        (
            Credentials::TelecomxBearer("abc\ndef".into()),
            UsageQuery::Telecomx {
                account: "553ca0f477392ee4106e9526".into(),
                from: (2026, 6),
                to: (2026, 10),
                csv: false,
            },
        ),
    ] {
        let Err(error) = FetchJob::new(query, credentials, sandbox(), None) else {
            panic!("a token a header cannot carry was accepted");
        };
        assert_eq!(error.kind, FetchErrorKind::InvalidInput);
        assert!(
            error
                .message
                .starts_with("the access token: character 4 is"),
            "{error}"
        );
    }
}

#[test]
fn a_carrier_token_a_header_cannot_carry_ends_the_job_before_sending() {
    let mut job = FetchJob::new(
        UsageQuery::Vodafone {
            imsi: "262021234567890".into(),
        },
        vodafone_client(),
        sandbox(),
        None,
    )
    .unwrap();
    let issued = HttpResponse::new(200, r#"{"access_token":"tok\u2028en","expires_in":3599}"#);
    let (sent, _) = drive(&mut job, &mut vec![Ok(issued)]);
    assert_eq!(sent.len(), 1, "only the token request went out");
    let error = job.finish().error.expect("an error");
    assert_eq!(error.kind, FetchErrorKind::BadResponse);
    assert_eq!(
        error.message,
        "what Vodafone VRS issued cannot be sent back: the Authorization header: character 11 is \"\u{2028}\" (U+2028), which an HTTP header cannot carry (Latin-1 text on one line)"
    );
}

#[test]
fn vodafone_pasted_token_401_and_204() {
    let query = UsageQuery::Vodafone {
        imsi: "262021234567890".into(),
    };
    let mut job = FetchJob::new(
        query.clone(),
        Credentials::VodafoneBearer("alEw85x".into()),
        sandbox(),
        None,
    )
    .unwrap();
    let (sent, _) = drive(
        &mut job,
        &mut vec![Ok(HttpResponse::new(
            401,
            r#"{"code":"missingToken","reason":"expired"}"#,
        ))],
    );
    assert_eq!(sent.len(), 1, "a pasted token cannot be refreshed");
    let error = job.finish().error.unwrap();
    assert_eq!(error.kind, FetchErrorKind::Auth);
    assert!(error.message.contains("per country"), "{error}");
    // With client credentials a 401 gets one new token, then fails.
    let mut job = FetchJob::new(query.clone(), vodafone_client(), sandbox(), None).unwrap();
    let unauthorized = || Ok(HttpResponse::new(401, r#"{"code":"missingToken"}"#));
    let (sent, _) = drive(
        &mut job,
        &mut vec![
            Ok(token(3599)),
            unauthorized(),
            Ok(token(3599)),
            unauthorized(),
        ],
    );
    assert_eq!(sent.len(), 4);
    assert_eq!(job.finish().error.unwrap().kind, FetchErrorKind::Auth);
    let mut job = FetchJob::new(
        query,
        Credentials::VodafoneBearer("t".into()),
        sandbox(),
        None,
    )
    .unwrap();
    drive(&mut job, &mut vec![Ok(HttpResponse::new(204, ""))]);
    let outcome = job.finish();
    assert!(outcome.error.is_none());
    assert!(outcome.notices[0].contains("No usage data"));
}

#[test]
fn every_documented_error_has_its_message() {
    let cases: Vec<(UsageQuery, Credentials, u16, &str, FetchErrorKind, &str)> = vec![
        (
            vf(),
            bearer(),
            400,
            r#"{"code":"missingParameter"}"#,
            FetchErrorKind::BadRequest,
            "missing",
        ),
        (
            vf(),
            bearer(),
            400,
            r#"{"code":"invalidValue"}"#,
            FetchErrorKind::BadRequest,
            "must be a string",
        ),
        (
            vf(),
            bearer(),
            403,
            r#"{"code":"accessForbidden"}"#,
            FetchErrorKind::Forbidden,
            "allowed range",
        ),
        (
            vf(),
            bearer(),
            404,
            r#"{"code":"notFound"}"#,
            FetchErrorKind::NotFound,
            "no usage resource",
        ),
        (
            vf(),
            bearer(),
            422,
            r#"{"code":"invalidValue"}"#,
            FetchErrorKind::InvalidInput,
            "IMSI format",
        ),
        (
            vf(),
            bearer(),
            302,
            "",
            FetchErrorKind::BadResponse,
            "redirected",
        ),
        (
            tx(),
            tx_basic(),
            400,
            r#"{"error":"bad_request"}"#,
            FetchErrorKind::BadRequest,
            "24 hex",
        ),
        (
            tx(),
            tx_basic(),
            404,
            r#"{"error":"sipAccount"}"#,
            FetchErrorKind::NotFound,
            "no MVNO account",
        ),
        (
            tx(),
            tx_basic(),
            403,
            r#"{"error":"access_denied"}"#,
            FetchErrorKind::Forbidden,
            "access level",
        ),
        (
            tx(),
            tx_basic(),
            422,
            r#"{"error":"toDate"}"#,
            FetchErrorKind::InvalidInput,
            "before the from",
        ),
        (
            tx(),
            tx_basic(),
            409,
            r#"{"error":"toDate"}"#,
            FetchErrorKind::InvalidInput,
            "one year",
        ),
        (
            cc(),
            cc_creds(),
            401,
            r#"{"errorCode":"10000001","errorMessage":"Invalid credentials."}"#,
            FetchErrorKind::Auth,
            "IP address",
        ),
        (
            cc(),
            cc_creds(),
            400,
            r#"{"errorCode":"10000012"}"#,
            FetchErrorKind::BadRequest,
            "yyyy-MM-ddZ",
        ),
        (
            cc(),
            cc_creds(),
            404,
            r#"{"errorCode":"10000013"}"#,
            FetchErrorKind::NotFound,
            "rate plan",
        ),
        (
            cc(),
            cc_creds(),
            400,
            r#"{"errorCode":"10000024"}"#,
            FetchErrorKind::BadRequest,
            "API version",
        ),
        (
            cc(),
            cc_creds(),
            400,
            r#"{"errorCode":"10000028"}"#,
            FetchErrorKind::BadRequest,
            "parameter",
        ),
        (
            cc(),
            cc_creds(),
            400,
            r#"{"errorCode":"10000031"}"#,
            FetchErrorKind::BadRequest,
            "zone",
        ),
        (
            cc(),
            cc_creds(),
            400,
            r#"{"errorCode":"10000032"}"#,
            FetchErrorKind::BadRequest,
            "last three",
        ),
        (
            cc(),
            cc_creds(),
            404,
            r#"{"errorCode":"20000001"}"#,
            FetchErrorKind::NotFound,
            "ICCID",
        ),
        (
            ts(),
            thingspace_creds(),
            400,
            r#"{"errorCode":"REQUEST_FAILED","errorMessage":"bad kind"}"#,
            FetchErrorKind::BadRequest,
            "device id",
        ),
    ];
    for (query, credentials, status, body, kind, text) in cases {
        let mut job = FetchJob::new(
            query,
            credentials,
            sandbox(),
            Some(Token {
                value: "t".into(),
                expires_at_ms: u64::MAX - 1,
            }),
        )
        .unwrap();
        let mut answers = vec![
            Ok(HttpResponse::new(200, r#"{"sessionToken":"s"}"#)),
            Ok(HttpResponse::new(status, body)),
        ];
        if job.carrier() != Carrier::Thingspace {
            let _ = answers.remove(0);
        }
        drive(&mut job, &mut answers);
        let error = job
            .finish()
            .error
            .unwrap_or_else(|| panic!("{status} {body}: no error"));
        assert_eq!(error.kind, kind, "{status} {body}: {error}");
        assert!(error.message.contains(text), "{status} {body}: {error}");
        assert_eq!(error.http_status, Some(status));
    }
    // 30000001 is a 500: retried, then reported.
    let mut job = FetchJob::new(cc(), cc_creds(), sandbox(), None).unwrap();
    let server = || {
        Ok(HttpResponse::new(
            500,
            r#"{"errorCode":"30000001","errorMessage":"Unknown server error."}"#,
        ))
    };
    let (sent, waits) = drive(&mut job, &mut vec![server(), server(), server()]);
    assert_eq!(sent.len(), 3);
    assert_eq!(waits.len(), 2);
    let error = job.finish().error.unwrap();
    assert_eq!(error.carrier_code.as_deref(), Some("30000001"));
    assert!(error.message.contains("Unknown server error."), "{error}");
}

fn vf() -> UsageQuery {
    UsageQuery::Vodafone {
        imsi: "262021234567890".into(),
    }
}
fn bearer() -> Credentials {
    Credentials::VodafoneBearer("t".into())
}
fn tx() -> UsageQuery {
    UsageQuery::Telecomx {
        account: "553ca0f477392ee4106e9526".into(),
        from: (2015, 1),
        to: (2015, 1),
        csv: false,
    }
}
fn tx_basic() -> Credentials {
    Credentials::TelecomxBasic {
        user: "demo".into(),
        password: "demo".into(),
    }
}
fn cc() -> UsageQuery {
    UsageQuery::ControlCenter {
        iccid: "8901170425801873534".into(),
        cycle_start: None,
        rate_plan: Some("IoT Flex".into()),
        zone: Some("EU West".into()),
    }
}
fn cc_creds() -> Credentials {
    Credentials::ControlCenter {
        username: "demo".into(),
        api_key: "demo-api-key".into(),
    }
}
fn ts() -> UsageQuery {
    UsageQuery::Thingspace {
        device: DeviceRef::Id(Subject::new(SubjectKind::Imei, "490154203237518")),
        earliest: 1_700_000_000,
        latest: 1_700_000_000 + 90 * 86_400,
    }
}

fn ts_page(status: u16, more: bool, days: std::ops::Range<i64>) -> HttpResponse {
    let rows: Vec<String> = days
        .map(|d| {
            let t = usagelens_core::format_timestamp(1_700_006_400 + d * 86_400);
            format!(r#"{{"bytesUsed":100,"smsUsed":0,"source":"Raw Usage","timestamp":"{t}"}}"#)
        })
        .collect();
    HttpResponse::new(
        status,
        format!(
            r#"{{"hasMoreData":{more},"deviceId":{{"kind":"imei","id":"490154203237518"}},"usageHistory":[{}]}}"#,
            rows.join(",")
        ),
    )
}

#[test]
fn thingspace_token_login_and_three_pages() {
    let mut job = FetchJob::new(ts(), thingspace_creds(), sandbox(), None).unwrap();
    let (sent, _) = drive(
        &mut job,
        &mut vec![
            Ok(token(3600)),
            Ok(HttpResponse::new(200, r#"{"sessionToken":"sess-1"}"#)),
            Ok(ts_page(202, true, 0..30)),
            Ok(ts_page(202, true, 30..60)),
            Ok(ts_page(200, false, 60..90)),
        ],
    );
    assert_eq!(
        sent.iter().map(|p| p.purpose).collect::<Vec<_>>(),
        vec![
            Purpose::Token,
            Purpose::Login,
            Purpose::Usage(1),
            Purpose::Usage(2),
            Purpose::Usage(3)
        ]
    );
    assert_eq!(sent[1].method, Method::Post);
    assert!(sent[2]
        .headers
        .contains(&("VZ-M2M-Token".into(), "sess-1".into())));
    let second: serde_json::Value = serde_json::from_str(sent[3].body.as_deref().unwrap()).unwrap();
    assert_eq!(
        second["earliest"],
        usagelens_core::format_timestamp(1_700_006_400 + 29 * 86_400 + 1)
    );
    assert_eq!(second["deviceId"]["kind"], "imei");
    let outcome = job.finish();
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(outcome.pages, 3);
    assert_eq!(
        outcome
            .set
            .records
            .iter()
            .filter(|r| r.service == Service::Data)
            .count(),
        90
    );
}

#[test]
fn thingspace_relogin_once_then_fails_keeping_rows() {
    let expired = || {
        Ok(HttpResponse::new(
            401,
            r#"{"errorCode":"UnifiedWebService.REQUEST_FAILED.SessionToken.Expired","errorMessage":"expired"}"#,
        ))
    };
    let login = || Ok(HttpResponse::new(200, r#"{"sessionToken":"s"}"#));
    let mut job = FetchJob::new(ts(), thingspace_creds(), sandbox(), None).unwrap();
    let (sent, _) = drive(
        &mut job,
        &mut vec![
            Ok(token(3600)),
            login(),
            Ok(ts_page(202, true, 0..10)),
            expired(),
            login(),
            expired(),
        ],
    );
    assert_eq!(sent.len(), 6);
    let outcome = job.finish();
    assert_eq!(outcome.error.as_ref().unwrap().kind, FetchErrorKind::Auth);
    assert_eq!(outcome.set.len(), 20, "the first page is kept");
}

#[test]
fn thingspace_page_that_does_not_advance_stops() {
    let mut job = FetchJob::new(
        ts(),
        thingspace_creds(),
        sandbox(),
        Some(Token {
            value: "t".into(),
            expires_at_ms: u64::MAX - 1,
        }),
    )
    .unwrap();
    let (sent, _) = drive(
        &mut job,
        &mut vec![
            Ok(HttpResponse::new(200, r#"{"sessionToken":"s"}"#)),
            Ok(ts_page(202, true, 0..5)),
            Ok(ts_page(202, true, 0..5)),
        ],
    );
    assert_eq!(sent.len(), 3);
    let outcome = job.finish();
    assert_eq!(outcome.error.unwrap().kind, FetchErrorKind::PagingStalled);
    assert!(!outcome.set.is_empty());
}

#[test]
fn rate_limits_honour_retry_after_and_are_bounded() {
    let limited = |after: &str| Ok(HttpResponse::new(429, "").with_header("Retry-After", after));
    let mut job = FetchJob::new(cc(), cc_creds(), sandbox(), None).unwrap();
    let (sent, waits) = drive(
        &mut job,
        &mut vec![limited("2"), Ok(HttpResponse::new(200, CC))],
    );
    assert_eq!(sent.len(), 2);
    assert_eq!(waits, vec![2000]);
    assert!(job.finish().error.is_none());
    let mut job = FetchJob::new(cc(), cc_creds(), sandbox(), None).unwrap();
    let (sent, waits) = drive(
        &mut job,
        &mut vec![limited("1"), limited("1"), limited("1"), limited("1")],
    );
    assert_eq!((sent.len(), waits.len()), (4, 3));
    assert_eq!(
        job.finish().error.unwrap().kind,
        FetchErrorKind::RateLimited
    );
}

#[test]
fn timeouts_are_retried_then_reported_and_cancel_keeps_data() {
    let mut job = FetchJob::new(tx(), tx_basic(), sandbox(), None).unwrap();
    let (sent, waits) = drive(
        &mut job,
        &mut vec![Err(TransportError::Timeout), Ok(HttpResponse::new(200, TX))],
    );
    assert_eq!((sent.len(), waits.len()), (2, 1));
    assert!(
        waits[0] >= 250 && waits[0] <= 500,
        "jittered backoff: {waits:?}"
    );
    let outcome = job.finish();
    assert!(outcome.error.is_none());
    assert!(!outcome.set.is_empty());

    let mut job = FetchJob::new(ts(), thingspace_creds(), sandbox(), None).unwrap();
    drive(
        &mut job,
        &mut vec![
            Ok(token(3600)),
            Ok(HttpResponse::new(200, r#"{"sessionToken":"s"}"#)),
            Ok(ts_page(202, true, 0..3)),
        ]
        .into_iter()
        .chain([
            Err(TransportError::Network("Failed to fetch".into())),
            Err(TransportError::Network("Failed to fetch".into())),
        ])
        .collect(),
    );
    let outcome = job.finish();
    let error = outcome.error.unwrap();
    assert_eq!(error.kind, FetchErrorKind::Network);
    assert!(error.message.contains("CORS"));
    assert_eq!(outcome.set.len(), 6);

    // One dropped connection is tried again after a backoff, and the fetch completes.
    let mut job = FetchJob::new(cc(), cc_creds(), sandbox(), None).unwrap();
    let (sent, waits) = drive(
        &mut job,
        &mut vec![
            Err(TransportError::Network("Failed to fetch".into())),
            Ok(HttpResponse::new(200, CC)),
        ],
    );
    assert_eq!((sent.len(), waits.len()), (2, 1));
    assert_eq!(sent[0].url, sent[1].url);
    assert!(waits[0] >= 250 && waits[0] <= 500, "{waits:?}");
    let outcome = job.finish();
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert!(!outcome.set.is_empty());

    let mut job = FetchJob::new(cc(), cc_creds(), sandbox(), None).unwrap();
    assert!(matches!(job.poll(0, 1), Step::Send(_)));
    job.cancel();
    assert_eq!(job.poll(1, 1), Step::Done);
    assert_eq!(job.finish().error.unwrap().kind, FetchErrorKind::Cancelled);
}

#[test]
fn invalid_input_sends_nothing() {
    let bad = [
        (
            UsageQuery::Vodafone {
                imsi: "12345".into(),
            },
            bearer(),
            "expected 15",
        ),
        (
            UsageQuery::ControlCenter {
                iccid: "8901170425801873532".into(),
                cycle_start: None,
                rate_plan: None,
                zone: None,
            },
            cc_creds(),
            "check digit",
        ),
        (
            UsageQuery::Telecomx {
                account: "553ca0f477392ee4106e9526".into(),
                from: (2024, 6),
                to: (2024, 5),
                csv: false,
            },
            tx_basic(),
            "before the first",
        ),
        (
            UsageQuery::Telecomx {
                account: "553ca0f477392ee4106e9526".into(),
                from: (2024, 1),
                to: (2025, 1),
                csv: true,
            },
            tx_basic(),
            "at most one year",
        ),
        (
            UsageQuery::Thingspace {
                device: DeviceRef::Id(Subject::new(SubjectKind::Mdn, "555123")),
                earliest: 0,
                latest: 86_400,
            },
            thingspace_creds(),
            "expected 10",
        ),
        (
            UsageQuery::Thingspace {
                device: DeviceRef::Label {
                    name: "VIN".into(),
                    value: "x".into(),
                },
                earliest: 0,
                latest: 4000 * 86_400,
            },
            thingspace_creds(),
            "ten years",
        ),
        (tx(), cc_creds(), "not TelecomX"),
        (
            tx(),
            Credentials::TelecomxBasic {
                user: "demo".into(),
                password: String::new(),
            },
            "every credential",
        ),
    ];
    for (query, credentials, text) in bad {
        let e = FetchJob::new(query, credentials, sandbox(), None).unwrap_err();
        assert_eq!(e.kind, FetchErrorKind::InvalidInput);
        assert!(e.message.contains(text), "{e}");
    }
}

#[test]
fn secrets_stay_out_of_urls_and_descriptions() {
    let mut job = FetchJob::new(ts(), thingspace_creds(), sandbox(), None).unwrap();
    let (sent, _) = drive(
        &mut job,
        &mut vec![
            Ok(token(3600)),
            Ok(HttpResponse::new(200, r#"{"sessionToken":"sess-secret"}"#)),
            Ok(ts_page(200, false, 0..1)),
        ],
    );
    for plan in &sent {
        let shown = plan.describe();
        for secret in ["hunter2", "tok-3600", "sess-secret", "azpz"] {
            assert!(
                !plan.url.contains(secret) && !shown.contains(secret),
                "{shown}"
            );
        }
        assert!(!format!("{plan:?}").contains("hunter2"));
        assert!(
            !format!("{job:?}").contains("hunter2"),
            "a job's Debug output hides credentials"
        );
    }
    let cc_plan = {
        let mut job = FetchJob::new(cc(), cc_creds(), sandbox(), None).unwrap();
        match job.poll(0, 0) {
            Step::Send(p) => p,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(cc_plan.url, "http://127.0.0.1:8081/control-center/rws/api/v1/devices/8901170425801873534/usageInZone?ratePlan=IoT%20Flex&zone=EU%20West");
    assert!(!cc_plan.describe().contains("ZGVtbzpkZW1vLWFwaS1rZXk"));
}

#[test]
fn thingspace_ranges_over_a_year_go_in_windows_with_a_warning() {
    let query = UsageQuery::Thingspace {
        device: DeviceRef::Id(Subject::new(SubjectKind::Imei, "490154203237518")),
        earliest: 1_700_000_000,
        latest: 1_700_000_000 + 500 * 86_400,
    };
    let mut job = FetchJob::new(
        query,
        thingspace_creds(),
        sandbox(),
        Some(Token {
            value: "t".into(),
            expires_at_ms: u64::MAX - 1,
        }),
    )
    .unwrap();
    let (sent, _) = drive(
        &mut job,
        &mut vec![
            Ok(HttpResponse::new(200, r#"{"sessionToken":"s"}"#)),
            Ok(ts_page(200, false, 0..3)),
            Ok(ts_page(200, false, 400..403)),
        ],
    );
    assert_eq!(sent.len(), 3);
    let bodies: Vec<serde_json::Value> = sent[1..]
        .iter()
        .map(|p| serde_json::from_str(p.body.as_deref().unwrap()).unwrap())
        .collect();
    assert_eq!(
        bodies[0]["latest"],
        usagelens_core::format_timestamp(1_700_000_000 + 365 * 86_400)
    );
    assert_eq!(
        bodies[1]["earliest"],
        usagelens_core::format_timestamp(1_700_000_000 + 365 * 86_400 + 1)
    );
    assert_eq!(
        bodies[1]["latest"],
        usagelens_core::format_timestamp(1_700_000_000 + 500 * 86_400)
    );
    let outcome = job.finish();
    assert!(outcome.error.is_none());
    assert!(outcome.warnings[0].message.contains("12-month windows"));
}

#[test]
fn control_center_cycle_start_is_checked_against_today() {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    let config = FetchConfig {
        today: Some(today),
        ..sandbox()
    };
    let query = |d: (i32, u32, u32)| UsageQuery::ControlCenter {
        iccid: "8901170425801873534".into(),
        cycle_start: chrono::NaiveDate::from_ymd_opt(d.0, d.1, d.2),
        rate_plan: None,
        zone: None,
    };
    assert!(FetchJob::new(query((2026, 9, 10)), cc_creds(), config.clone(), None).is_ok());
    let old = FetchJob::new(query((2026, 5, 10)), cc_creds(), config.clone(), None).unwrap_err();
    assert!(old.message.contains("last three"), "{old}");
    let future = FetchJob::new(query((2026, 12, 10)), cc_creds(), config, None).unwrap_err();
    assert!(future.message.contains("future"), "{future}");
}
