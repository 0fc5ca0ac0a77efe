//! A `FetchJob` for each carrier, driven by arbitrary answers: any status, headers (Retry-After
//! among them) and body, transport errors, clock jumps and cancellation. The job must never panic,
//! must end within `MAX_STEPS` polls, and must never put a secret into a URL or a log line.
//!
//! Input: bytes read by `arbitrary::Unstructured`: first the job (carrier, credentials, cached
//! token, range), then one answer per request. Answers are mostly built from templates (token,
//! login, carrier error, a fixture body, a ThingSpace page), so the fuzzer reaches paging and
//! re-authentication instead of only unreadable bodies; an answer can be marked "repeat forever"
//! (a carrier that always says the same thing). When the input runs out, every further request
//! gets a network error, which must end the job too.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use usagelens_core::fetch::{
    header_value_problem, Credentials, DeviceRef, FetchConfig, FetchJob, HttpResponse, Purpose,
    RetryPolicy, Step, Token, TransportError, UsageQuery,
};
use usagelens_core::{format_timestamp, Carrier, Subject, SubjectKind};

/// Polls a job may take. Legitimate work is far below it: at most 100 ThingSpace pages (the
/// default `max_pages`) plus a bounded number of retries, token fetches and logins, each a send
/// and at most a wait.
const MAX_STEPS: usize = 1000;

/// Secrets in the credentials. Each holds a space, which a URL carries only percent-encoded, so
/// one seen literally in a URL or a request's description is a leak, not an arbitrary zone or
/// rate plan that happens to spell it.
const SECRET: &str = "s3cret Pa55";
const PASSWORD: &str = "pa55 w0rd";
const PASTED_TOKEN: &str = "pasted t0ken";

const START_MS: u64 = 1_700_000_000_000;
const TS_EARLIEST: i64 = 1_700_000_000;

const FIXTURES: [(Carrier, &str); 8] = [
    (
        Carrier::VodafoneVrs,
        include_str!("../../crates/core/tests/fixtures/vodafone-doc-example.json"),
    ),
    (
        Carrier::Telecomx,
        include_str!("../../crates/core/tests/fixtures/telecomx-doc-example.json"),
    ),
    (
        Carrier::Telecomx,
        include_str!("../../crates/core/tests/fixtures/telecomx-two-months.csv"),
    ),
    (
        Carrier::Thingspace,
        include_str!("../../crates/core/tests/fixtures/thingspace-doc-device.json"),
    ),
    (
        Carrier::Thingspace,
        include_str!("../../crates/core/tests/fixtures/thingspace-doc-label.json"),
    ),
    (
        Carrier::ControlCenter,
        include_str!("../../crates/core/tests/fixtures/control-center-example.json"),
    ),
    (
        Carrier::ControlCenter,
        include_str!("../../public/demo/control-center.json"),
    ),
    (
        Carrier::VodafoneVrs,
        include_str!("../../public/demo/vodafone-vrs.json"),
    ),
];

const STATUSES: [u16; 16] = [
    200, 200, 200, 202, 204, 302, 400, 401, 403, 404, 409, 422, 429, 500, 503, 307,
];

const ERROR_CODES: [&str; 12] = [
    "900901",
    "missingToken",
    "InvalidToken",
    "SessionToken.Expired",
    "invalid_client",
    "10000001",
    "10000013",
    "20000001",
    "30000001",
    "missingParameter",
    "",
    "UnAuthorized.SessionToken",
];

const RETRY_AFTER: [&str; 8] = [
    "0",
    "1",
    "120",
    "18446744073709551615",
    "Wed, 21 Oct 2015 07:28:00 GMT",
    "Tue, 14 Nov 2023 22:13:20 GMT",
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "-5",
];

fn text<'a>(u: &mut Unstructured<'a>, choices: &[&'a str]) -> Result<String> {
    Ok(if u.ratio(1, 4)? {
        u.arbitrary::<&str>()?.to_owned()
    } else {
        u.choose(choices)?.to_string()
    })
}

fn job(u: &mut Unstructured) -> Result<FetchJob> {
    let thingspace = || Credentials::Thingspace {
        key: "key".into(),
        secret: SECRET.into(),
        username: "user".into(),
        password: PASSWORD.into(),
    };
    let cached = |u: &mut Unstructured| -> Result<Option<Token>> {
        Ok(if u.arbitrary()? {
            Some(Token {
                value: "cached".into(),
                expires_at_ms: START_MS + u.int_in_range(0..=7_200_000u64)?,
            })
        } else {
            None
        })
    };
    let ts_range = |u: &mut Unstructured| -> Result<i64> {
        Ok(if u.arbitrary()? {
            90 * 86_400
        } else {
            u.int_in_range(1..=10 * 365 * 86_400i64)?
        })
    };
    let (query, credentials, token) = match u.int_in_range(0..=7u8)? {
        0 | 1 => (
            UsageQuery::Vodafone {
                imsi: "262021234567890".into(),
            },
            Credentials::VodafoneClient {
                client_id: "client".into(),
                client_secret: SECRET.into(),
            },
            cached(u)?,
        ),
        2 => (
            UsageQuery::Vodafone {
                imsi: "262021234567890".into(),
            },
            Credentials::VodafoneBearer(PASTED_TOKEN.into()),
            None,
        ),
        3 | 4 => (
            UsageQuery::Telecomx {
                account: "553ca0f477392ee4106e9526".into(),
                from: (2015, 1),
                to: (2015, u.int_in_range(1..=12)?),
                csv: u.arbitrary()?,
            },
            if u.arbitrary()? {
                Credentials::TelecomxBasic {
                    user: "user".into(),
                    password: PASSWORD.into(),
                }
            } else {
                Credentials::TelecomxBearer(PASTED_TOKEN.into())
            },
            None,
        ),
        5 => (
            UsageQuery::Thingspace {
                device: DeviceRef::Id(Subject::new(SubjectKind::Imei, "490154203237518")),
                earliest: TS_EARLIEST,
                latest: TS_EARLIEST + ts_range(u)?,
            },
            thingspace(),
            cached(u)?,
        ),
        6 => (
            UsageQuery::Thingspace {
                device: DeviceRef::Label {
                    name: "fleet".into(),
                    value: "truck 7".into(),
                },
                earliest: TS_EARLIEST,
                latest: TS_EARLIEST + ts_range(u)?,
            },
            thingspace(),
            cached(u)?,
        ),
        _ => (
            UsageQuery::ControlCenter {
                iccid: "8901170425801873534".into(),
                cycle_start: None,
                rate_plan: u.arbitrary::<Option<&str>>()?.map(str::to_owned),
                zone: u.arbitrary::<Option<&str>>()?.map(str::to_owned),
            },
            Credentials::ControlCenter {
                username: "user".into(),
                api_key: SECRET.into(),
            },
            None,
        ),
    };
    let config = FetchConfig {
        max_pages: u.int_in_range(1..=100)?,
        retry: RetryPolicy::default(),
        ..FetchConfig::default()
    };
    let session = if u.ratio(1, 4)? {
        Some(Token {
            value: "session".into(),
            expires_at_ms: START_MS + u.int_in_range(0..=2_400_000u64)?,
        })
    } else {
        None
    };
    // The query and credentials above are valid: `new` must accept them.
    let job = FetchJob::new(query, credentials, config, token).expect("a valid job is refused");
    Ok(job.with_session(session, START_MS))
}

/// A ThingSpace page: rows at arbitrary times (days from the range's start), more data or not.
fn thingspace_page(u: &mut Unstructured) -> Result<String> {
    let rows: Vec<String> = (0..u.int_in_range(0..=4u8)?)
        .map(|_| {
            let at = TS_EARLIEST + i64::from(u.int_in_range(-30..=4000i32)?) * 86_400 / 4;
            Ok(format!(
                r#"{{"bytesUsed":{},"smsUsed":0,"source":"Raw Usage","timestamp":"{}"}}"#,
                u.int_in_range(0..=1u64 << 40)?,
                format_timestamp(at)
            ))
        })
        .collect::<Result<_>>()?;
    Ok(format!(
        r#"{{"hasMoreData":{},"deviceId":{{"kind":"imei","id":"490154203237518"}},"usageHistory":[{}]}}"#,
        u.arbitrary::<bool>()?,
        rows.join(",")
    ))
}

fn body(u: &mut Unstructured, carrier: Carrier) -> Result<String> {
    Ok(match u.int_in_range(0..=6u8)? {
        0 => u.arbitrary::<&str>()?.to_owned(),
        1 => {
            let expires = match u.int_in_range(0..=4u8)? {
                0 => String::new(),
                1 => format!(r#","expires_in":{}"#, u.arbitrary::<u64>()?),
                2 => format!(r#","expires_in":"{}""#, u.int_in_range(0..=7200u32)?),
                3 => format!(r#","expires_in":{}"#, u.int_in_range(0..=120u32)?),
                _ => format!(r#","expires_in":{}"#, u.arbitrary::<i64>()?),
            };
            let token = serde_escape(&text(u, &["tok", "tök\u{e9}", "t\u{100}k", "t\nk"])?);
            format!(r#"{{"access_token":"{token}"{expires}}}"#)
        }
        2 => format!(
            r#"{{"sessionToken":"{}"}}"#,
            serde_escape(&text(u, &["sess", "s\u{2028}", "s\u{0}"])?)
        ),
        3 => {
            let code = serde_escape(&text(u, &ERROR_CODES)?);
            let message = serde_escape(&text(u, &["refused", ""])?);
            match u.int_in_range(0..=2u8)? {
                0 => format!(r#"{{"errorCode":"{code}","errorMessage":"{message}"}}"#),
                1 => format!(r#"{{"fault":{{"code":"{code}","message":"{message}"}}}}"#),
                _ => format!(r#"{{"error":"{code}","error_description":"{message}"}}"#),
            }
        }
        4 => {
            let own: Vec<&str> = FIXTURES
                .iter()
                .filter(|(c, _)| *c == carrier)
                .map(|(_, b)| *b)
                .collect();
            let fixture: &str = if u.ratio(1, 8)? {
                u.choose(&FIXTURES)?.1
            } else {
                u.choose(&own)?
            };
            // Sometimes cut, as a dropped connection leaves it.
            if u.ratio(1, 4)? {
                let cut = u.int_in_range(0..=fixture.len())?;
                fixture.get(..cut).unwrap_or(fixture).to_owned()
            } else {
                fixture.to_owned()
            }
        }
        5 => thingspace_page(u)?,
        _ => String::new(),
    })
}

/// Escapes what would end a JSON string early, so templates stay well-formed JSON.
fn serde_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            c if u32::from(c) < 0x20 => format!("\\u{:04x}", u32::from(c)).chars().collect(),
            c => vec![c],
        })
        .collect()
}

enum Answer {
    Response(HttpResponse),
    Transport(TransportError),
    Cancel,
}

fn answer(u: &mut Unstructured, carrier: Carrier) -> Result<Answer> {
    Ok(match u.int_in_range(0..=15u8)? {
        0 => Answer::Transport(TransportError::Timeout),
        1 => Answer::Transport(TransportError::Network(u.arbitrary::<&str>()?.to_owned())),
        2 if u.ratio(1, 8)? => Answer::Cancel,
        _ => {
            let status = if u.ratio(1, 8)? {
                u.arbitrary()?
            } else {
                *u.choose(&STATUSES)?
            };
            let mut response = HttpResponse::new(status, body(u, carrier)?);
            for _ in 0..u.int_in_range(0..=2u8)? {
                let name = text(u, &["Retry-After", "retry-after", "Content-Type"])?;
                let value = text(u, &RETRY_AFTER)?;
                response = response.with_header(&name, &value);
            }
            Answer::Response(response)
        }
    })
}

fn check_plan(plan: &usagelens_core::fetch::RequestPlan) {
    let description = plan.describe();
    for secret in [SECRET, PASSWORD, PASTED_TOKEN] {
        assert!(
            !plan.url.contains(secret),
            "a secret in the URL: {}",
            plan.url
        );
        assert!(
            !description.contains(secret),
            "a secret in the description: {description}"
        );
    }
    if plan.purpose == Purpose::Login {
        assert!(plan.body.as_deref().is_some_and(|b| b.contains(PASSWORD)));
    }
    for (name, value) in &plan.headers {
        assert!(
            header_value_problem(value).is_none(),
            "an unsendable {name} header was sent: {value:?}"
        );
    }
}

fn run(data: &[u8]) -> Result<()> {
    let mut u = Unstructured::new(data);
    let mut job = job(&mut u)?;
    let carrier = job.carrier();
    let mut now = START_MS;
    let mut repeat: Option<HttpResponse> = None;
    for step in 0..MAX_STEPS {
        let random = u128::from(step as u64) << 64 | u128::from(u.arbitrary::<u64>().unwrap_or(0));
        match job.poll(now, random) {
            Step::Done => {
                assert!(job.is_done());
                assert_eq!(
                    job.poll(now, random),
                    Step::Done,
                    "a finished job asked for more"
                );
                let outcome = job.finish();
                if let Some(error) = &outcome.error {
                    assert!(!error.message.is_empty());
                    let _ = error.to_string();
                }
                assert!(outcome.pages as usize <= step);
                return Ok(());
            }
            Step::Wait { until_ms } => {
                assert!(
                    until_ms > now,
                    "a wait that ends before now: {until_ms} <= {now}"
                );
                now = until_ms;
            }
            Step::Send(plan) => {
                check_plan(&plan);
                // Time passes while the request is out.
                now += if u.is_empty() {
                    100
                } else {
                    u.int_in_range(0..=120_000u64)?
                };
                let next = match &repeat {
                    Some(r) => Answer::Response(r.clone()),
                    None if u.is_empty() => {
                        Answer::Transport(TransportError::Network("connection reset".into()))
                    }
                    None => answer(&mut u, carrier)?,
                };
                let handle_random = u.arbitrary::<u64>().unwrap_or(0);
                match next {
                    Answer::Response(response) => {
                        if repeat.is_none() && !u.is_empty() && u.ratio(1, 16)? {
                            repeat = Some(response.clone());
                        }
                        job.handle_response(&response, now, handle_random);
                    }
                    Answer::Transport(error) => {
                        job.handle_transport_error(&error, now, handle_random)
                    }
                    Answer::Cancel => {
                        job.cancel();
                        assert!(job.is_done(), "cancel did not end the job");
                    }
                }
            }
        }
    }
    panic!("the job did not end within {MAX_STEPS} steps (repeating answer: {repeat:?})");
}

fuzz_target!(|data: &[u8]| {
    // The `Unstructured` calls used here return defaults on short input instead of failing, so
    // every input drives its job to the end; an `Err` would be a harness bug.
    run(data).expect("the harness could not read its input");
});
