//! Issue 18's fetch hardening: short-lived tokens, `Retry-After` caps and date forms,
//! redirects and oversized answers end a job with a message that says what happened.

use usagelens_core::fetch::{
    retry_after_ms, Credentials, DeviceRef, FetchConfig, FetchErrorKind, FetchJob, HttpResponse,
    ProxyConfig, Purpose, Step, TransportError, UsageQuery,
};
use usagelens_core::limits::{MAX_ANSWER_BYTES, MAX_RETRY_AFTER_MS};
use usagelens_core::{Carrier, Subject, SubjectKind};

const VODAFONE: &str = include_str!("fixtures/vodafone-doc-example.json");
const CC: &str = include_str!("fixtures/control-center-example.json");

fn config() -> FetchConfig {
    FetchConfig {
        proxy: ProxyConfig::PerCarrierBase(vec![
            (
                Carrier::VodafoneVrs,
                "http://127.0.0.1:8081/vodafone".into(),
            ),
            (
                Carrier::Thingspace,
                "http://127.0.0.1:8081/thingspace".into(),
            ),
            (
                Carrier::ControlCenter,
                "http://127.0.0.1:8081/control-center".into(),
            ),
        ]),
        ..FetchConfig::default()
    }
}

fn vodafone() -> (UsageQuery, Credentials) {
    (
        UsageQuery::Vodafone {
            imsi: "262021234567890".into(),
        },
        Credentials::VodafoneClient {
            client_id: "demo-client".into(),
            client_secret: "demo-secret".into(),
        },
    )
}

fn control_center() -> (UsageQuery, Credentials) {
    (
        UsageQuery::ControlCenter {
            iccid: "89011704258018735310".into(),
            cycle_start: None,
            rate_plan: None,
            zone: None,
        },
        Credentials::ControlCenter {
            username: "demo".into(),
            api_key: "demo-api-key".into(),
        },
    )
}

fn short_token(expires_in: u64) -> HttpResponse {
    HttpResponse::new(
        200,
        format!(r#"{{"access_token":"tok","expires_in":{expires_in}}}"#),
    )
}

/// Drives `job` for at most `steps` polls, answering every token request with `token` and every
/// other request with `usage(n)` (n counts the non-token requests from 1). Returns the purposes
/// of the requests sent and how many polls it took to end (`None`: it did not end).
fn run(
    job: &mut FetchJob,
    steps: usize,
    token: impl Fn() -> HttpResponse,
    usage: impl Fn(u32) -> HttpResponse,
) -> (Vec<Purpose>, Option<usize>) {
    let mut now = 1_000_000u64;
    let mut sent = Vec::new();
    let mut usage_requests = 0;
    for step in 0..steps {
        match job.poll(now, 1) {
            Step::Done => return (sent, Some(step)),
            Step::Wait { until_ms } => now = until_ms,
            Step::Send(plan) => {
                sent.push(plan.purpose);
                let answer = if plan.purpose == Purpose::Token {
                    token()
                } else {
                    usage_requests += 1;
                    usage(usage_requests)
                };
                now += 5;
                job.handle_response(&answer, now, 1);
            }
        }
    }
    (sent, None)
}

/// Row 4: `expires_in` under the minute kept in hand made the job fetch tokens forever
/// (10,000 token requests, no usage request, never done).
#[test]
fn a_token_that_expires_within_a_minute_is_used_once_not_fetched_forever() {
    for expires_in in [0, 1, 30, 59] {
        let (query, credentials) = vodafone();
        let mut job = FetchJob::new(query, credentials, config(), None).unwrap();
        let (sent, ended) = run(
            &mut job,
            10_000,
            || short_token(expires_in),
            |_| HttpResponse::new(200, VODAFONE),
        );
        assert_eq!(
            (sent.as_slice(), ended),
            ([Purpose::Token, Purpose::Usage(1)].as_slice(), Some(2)),
            "expires_in {expires_in}"
        );
        let outcome = job.finish();
        assert!(outcome.error.is_none(), "{:?}", outcome.error);
        assert_eq!(outcome.set.len(), 2);
    }
}

/// Row 4: each request after the first needs a new token; the third is not asked for.
#[test]
fn a_third_token_in_one_job_is_refused_with_a_clear_error() {
    let (query, credentials) = vodafone();
    let mut job = FetchJob::new(query, credentials, config(), None).unwrap();
    let limited = HttpResponse::new(429, "").with_header("Retry-After", "1");
    let (sent, ended) = run(&mut job, 10_000, || short_token(30), |_| limited.clone());
    assert!(ended.is_some(), "the job ends");
    assert_eq!(
        sent,
        [
            Purpose::Token,
            Purpose::Usage(1),
            Purpose::Token,
            Purpose::Usage(1)
        ]
    );
    let error = job.finish().error.unwrap();
    assert_eq!(error.kind, FetchErrorKind::BadResponse);
    assert!(
        error
            .message
            .contains("tokens that expire within 30 s (expires_in)"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("asking for 2 access tokens"),
        "{}",
        error.message
    );

    // ThingSpace: token, login (which uses it), then a second token for the first page; a
    // second page would need a third.
    let mut job = FetchJob::new(
        UsageQuery::Thingspace {
            device: DeviceRef::Id(Subject::new(SubjectKind::Imei, "490154203237518")),
            earliest: 1_700_000_000,
            latest: 1_700_000_000 + 90 * 86_400,
        },
        Credentials::Thingspace {
            key: "k".into(),
            secret: "s".into(),
            username: "demo".into(),
            password: "demo".into(),
        },
        config(),
        None,
    )
    .unwrap();
    let page = |n: u32| {
        if n == 1 {
            return HttpResponse::new(200, r#"{"sessionToken":"s"}"#);
        }
        let t = usagelens_core::format_timestamp(1_700_006_400 + i64::from(n) * 86_400);
        HttpResponse::new(
            202,
            format!(
                r#"{{"hasMoreData":true,"deviceId":{{"kind":"imei","id":"490154203237518"}},"usageHistory":[{{"bytesUsed":100,"smsUsed":0,"source":"Raw Usage","timestamp":"{t}"}}]}}"#
            ),
        )
    };
    let (sent, ended) = run(&mut job, 10_000, || short_token(10), page);
    assert!(ended.is_some());
    assert_eq!(
        sent,
        [
            Purpose::Token,
            Purpose::Login,
            Purpose::Token,
            Purpose::Usage(1)
        ]
    );
    let outcome = job.finish();
    assert!(outcome
        .error
        .unwrap()
        .message
        .contains("expire within 10 s"));
    assert!(!outcome.set.is_empty(), "the page read is kept");
}

/// Row 11: the two older HTTP date forms were ignored; every form and every number is capped.
#[test]
fn retry_after_reads_all_three_date_forms_and_is_capped() {
    // Sun, 06 Nov 1994 08:49:37 GMT, 10 s before.
    let now = 784_111_777_000u64;
    for form in [
        "Sun, 06 Nov 1994 08:49:47 GMT",
        "Sunday, 06-Nov-94 08:49:47 GMT",
        "Sun Nov  6 08:49:47 1994",
    ] {
        assert_eq!(retry_after_ms(form, now), Some(10_000), "{form}");
    }
    assert_eq!(
        retry_after_ms("Sun Nov  6 08:49:37 1994", now),
        Some(0),
        "a date now or past: no wait"
    );
    assert_eq!(
        retry_after_ms("Sunday, 06-Nov-94 08:59:37 GMT", now),
        Some(MAX_RETRY_AFTER_MS)
    );
    assert_eq!(retry_after_ms("2", 0), Some(2_000));
    // Row 5: `Retry-After: 999999` is 11 days; more digits than a u64 holds are no better.
    assert_eq!(retry_after_ms("999999", 0), Some(MAX_RETRY_AFTER_MS));
    assert_eq!(
        retry_after_ms("99999999999999999999999999", 0),
        Some(MAX_RETRY_AFTER_MS)
    );
    assert_eq!(retry_after_ms("soon", 0), None);
    assert_eq!(retry_after_ms("", 0), None);
}

/// Row 5 for a single job: a huge `Retry-After` waits the cap, and late clocks do not overflow.
#[test]
fn a_single_job_waits_at_most_the_cap() {
    let (query, credentials) = control_center();
    let mut job = FetchJob::new(query, credentials, config(), None).unwrap();
    let now = u64::MAX - 1_000;
    assert!(matches!(job.poll(now, 1), Step::Send(_)));
    job.handle_response(
        &HttpResponse::new(429, "").with_header("Retry-After", "999999"),
        now,
        1,
    );
    assert_eq!(job.poll(now, 1), Step::Wait { until_ms: u64::MAX });

    let (query, credentials) = control_center();
    let mut job = FetchJob::new(query, credentials, config(), None).unwrap();
    assert!(matches!(job.poll(0, 1), Step::Send(_)));
    job.handle_response(
        &HttpResponse::new(429, "").with_header("Retry-After", "999999"),
        0,
        1,
    );
    assert_eq!(
        job.poll(0, 1),
        Step::Wait {
            until_ms: MAX_RETRY_AFTER_MS
        }
    );
    assert!(matches!(job.poll(MAX_RETRY_AFTER_MS, 1), Step::Send(_)));
    job.handle_response(&HttpResponse::new(200, CC), MAX_RETRY_AFTER_MS, 1);
    assert!(job.finish().error.is_none());
}

/// Row 9: a redirect ends the job at once, saying it was not followed.
#[test]
fn a_redirect_ends_the_job_saying_credentials_were_not_resent() {
    let (query, credentials) = control_center();
    let mut job = FetchJob::new(query, credentials, config(), None).unwrap();
    assert!(matches!(job.poll(0, 1), Step::Send(_)));
    job.handle_transport_error(&TransportError::Redirected, 0, 1);
    assert_eq!(job.poll(0, 1), Step::Done, "not retried");
    let error = job.finish().error.unwrap();
    assert_eq!(error.kind, FetchErrorKind::BadResponse);
    assert!(error.message.contains("redirect"), "{}", error.message);
    assert!(
        error.message.contains("credentials were not sent on"),
        "{}",
        error.message
    );
}

/// Row 7 (answers): an answer over the limit is refused with its size and the limit.
#[test]
fn an_answer_over_the_limit_is_refused_with_its_size() {
    let (query, credentials) = control_center();
    let mut job = FetchJob::new(query, credentials, config(), None).unwrap();
    assert!(matches!(job.poll(0, 1), Step::Send(_)));
    job.handle_transport_error(
        &TransportError::TooLarge {
            bytes: 70 * 1024 * 1024,
            announced: true,
        },
        0,
        1,
    );
    assert_eq!(job.poll(0, 1), Step::Done, "not retried");
    let message = job.finish().error.unwrap().message;
    assert!(
        message.contains("the answer is 70.0 MiB (73400320 bytes), over the limit of 64 MiB"),
        "{message}"
    );

    let (query, credentials) = control_center();
    let mut job = FetchJob::new(query, credentials, config(), None).unwrap();
    assert!(matches!(job.poll(0, 1), Step::Send(_)));
    job.handle_transport_error(
        &TransportError::TooLarge {
            bytes: MAX_ANSWER_BYTES + 1,
            announced: false,
        },
        0,
        1,
    );
    let message = job.finish().error.unwrap().message;
    assert!(
        message.contains("64.0 MiB (67108865 bytes) of the answer had arrived when reading stopped, over the limit of 64 MiB"),
        "{message}"
    );
}
