//! The usagelens proxy's own 502 and 504 answers (nginx's error_page in
//! deploy/nginx/carriers.conf.template) are told apart from a carrier's: the message says the
//! carrier was not reached or its TLS certificate was refused, not that the carrier failed.

use usagelens_core::fetch::{
    Credentials, DeviceRef, FetchConfig, FetchErrorKind, FetchJob, HttpResponse, ProxyConfig, Step,
    UsageQuery,
};
use usagelens_core::{Carrier, Subject, SubjectKind};

/// Answers every request with `answer` until the job ends; returns how many were sent.
fn run(job: &mut FetchJob, answer: &HttpResponse) -> usize {
    let mut now = 1_000_000u64;
    let mut sent = 0;
    for _ in 0..100 {
        match job.poll(now, 42) {
            Step::Done => return sent,
            Step::Wait { until_ms } => now = until_ms,
            Step::Send(_) => {
                sent += 1;
                job.handle_response(answer, now, 7);
            }
        }
    }
    panic!("the job did not end");
}

fn thingspace() -> FetchJob {
    let query = UsageQuery::Thingspace {
        device: DeviceRef::Id(Subject::new(SubjectKind::Imei, "490154203237518")),
        earliest: 1_700_000_000,
        latest: 1_700_000_000 + 30 * 86_400,
    };
    let credentials = Credentials::Thingspace {
        key: "k".into(),
        secret: "s".into(),
        username: "demo".into(),
        password: "demo".into(),
    };
    let config = FetchConfig {
        proxy: ProxyConfig::PerCarrierBase(vec![(
            Carrier::Thingspace,
            "http://127.0.0.1:8081/thingspace".into(),
        )]),
        ..FetchConfig::default()
    };
    FetchJob::new(query, credentials, config, None).unwrap()
}

const BAD_GATEWAY: &str = r#"{"error":"usagelens-proxy-bad-gateway","message":"the proxy could not connect to the carrier, or could not verify its TLS certificate; the proxy error log says which"}"#;

#[test]
fn the_proxys_bad_gateway_says_the_carrier_was_not_reached_or_its_certificate_refused() {
    let mut job = thingspace();
    let sent = run(&mut job, &HttpResponse::new(502, BAD_GATEWAY));
    assert_eq!(sent, 3, "retried like any 5xx");
    let error = job.finish().error.expect("an error");
    assert_eq!(error.kind, FetchErrorKind::Network);
    assert_eq!(error.http_status, Some(502));
    assert_eq!(
        error.to_string(),
        "Verizon ThingSpace: the proxy could not connect to the carrier, or could not verify its \
         TLS certificate (3 tries; the proxy's error log says which) (HTTP 502, \
         usagelens-proxy-bad-gateway)"
    );
    assert!(!error.message.contains("carrier says"), "{error}");
}

#[test]
fn the_proxys_gateway_timeout_is_a_timeout() {
    let mut job = thingspace();
    let body = r#"{"error":"usagelens-proxy-gateway-timeout","message":"the carrier did not answer the proxy in time"}"#;
    run(&mut job, &HttpResponse::new(504, body));
    let error = job.finish().error.expect("an error");
    assert_eq!(error.kind, FetchErrorKind::Timeout);
    assert!(
        error
            .message
            .starts_with("the carrier did not answer the proxy in time (3 tries)"),
        "{error}"
    );
}

#[test]
fn a_carriers_own_502_is_still_the_carriers_failure() {
    let mut job = thingspace();
    let body = r#"{"error":"bad_gateway","message":"upstream down"}"#;
    run(&mut job, &HttpResponse::new(502, body));
    let error = job.finish().error.expect("an error");
    assert_eq!(error.kind, FetchErrorKind::Server);
    assert!(
        error.message.contains("the carrier failed 3 times")
            && error.message.contains("carrier says: upstream down"),
        "{error}"
    );
}
