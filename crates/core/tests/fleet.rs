//! The fleet controller, driven by scripted carriers: one token (and one ThingSpace session) per
//! credentials scope, refused credentials failing the subjects waiting on them and no others,
//! partial results kept on cancel, retries merged without counting anything twice, and rate
//! limits (the user's, and one learned from a 429 and its `Retry-After`).

use std::collections::HashMap;

use serde_json::Value;
use usagelens_core::fetch::{
    Credentials, FetchConfig, HttpResponse, Method, ProxyConfig, Purpose, RequestPlan,
    TransportError,
};
use usagelens_core::fleet::{
    FleetController, FleetEntry, FleetPeriod, FleetPoll, FleetResults, FleetSetup,
};
use usagelens_core::ident::luhn_check_digit;
use usagelens_core::{format_timestamp, Carrier, Subject, SubjectKind};

const VODAFONE: &str = include_str!("fixtures/vodafone-doc-example.json");
const CC: &str = include_str!("fixtures/control-center-example.json");
const CC_ICCID: &str = "89011704258018735310";

const START: i64 = 1_700_000_000;
const PERIOD: FleetPeriod = FleetPeriod {
    earliest: START,
    latest: START + 30 * 86_400,
    billing_day: None,
};
/// ThingSpace rows a device has: two pages of ten.
const TS_ROWS: i64 = 20;

fn config() -> FetchConfig {
    FetchConfig {
        proxy: ProxyConfig::PerCarrierBase(
            Carrier::ALL
                .iter()
                .map(|c| (*c, format!("http://carrier.test/{}", c.as_str())))
                .collect(),
        ),
        ..FetchConfig::default()
    }
}

fn credentials() -> HashMap<Carrier, Credentials> {
    HashMap::from([
        (
            Carrier::VodafoneVrs,
            Credentials::VodafoneClient {
                client_id: "client".into(),
                client_secret: "secret".into(),
            },
        ),
        (
            Carrier::Thingspace,
            Credentials::Thingspace {
                key: "k".into(),
                secret: "s".into(),
                username: "demo".into(),
                password: "demo".into(),
            },
        ),
        (
            Carrier::ControlCenter,
            Credentials::ControlCenter {
                username: "demo".into(),
                api_key: "demo-api-key".into(),
            },
        ),
    ])
}

fn setup(concurrency: usize) -> FleetSetup {
    FleetSetup {
        concurrency,
        limits: Vec::new(),
        credentials: credentials(),
        config: config(),
    }
}

/// A valid ICCID ending in `n`.
fn iccid(n: usize) -> String {
    let body = format!("891480000000{n:07}");
    format!("{body}{}", luhn_check_digit(&body).unwrap())
}

fn entry(carrier: Carrier, kind: SubjectKind, id: &str) -> FleetEntry {
    FleetEntry {
        carrier,
        subject: Subject::new(kind, id),
        line: 0,
    }
}

fn thingspace(n: usize) -> FleetEntry {
    entry(Carrier::Thingspace, SubjectKind::Iccid, &iccid(n))
}

fn control_center(n: usize) -> FleetEntry {
    entry(Carrier::ControlCenter, SubjectKind::Iccid, &iccid(100 + n))
}

fn vodafone(imsi: &str) -> FleetEntry {
    entry(Carrier::VodafoneVrs, SubjectKind::Imsi, imsi)
}

fn header<'a>(plan: &'a RequestPlan, name: &str) -> Option<&'a str> {
    plan.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The four carriers' answers to a good request, numbering the tokens and sessions they issue.
#[derive(Default)]
struct Carriers {
    tokens: usize,
    sessions: usize,
}

impl Carriers {
    fn answer(&mut self, plan: &RequestPlan) -> HttpResponse {
        match plan.purpose {
            Purpose::Token => {
                self.tokens += 1;
                HttpResponse::new(
                    200,
                    format!(
                        r#"{{"access_token":"tok-{}","expires_in":3599}}"#,
                        self.tokens
                    ),
                )
            }
            Purpose::Login => {
                self.sessions += 1;
                HttpResponse::new(
                    200,
                    format!(r#"{{"sessionToken":"sess-{}"}}"#, self.sessions),
                )
            }
            Purpose::Usage(_) if plan.url.contains("/vodafone-vrs/") => {
                HttpResponse::new(200, VODAFONE)
            }
            Purpose::Usage(_) if plan.url.contains("/control-center/") => {
                let id = plan.url.split('/').rev().nth(1).unwrap();
                HttpResponse::new(200, CC.replace(CC_ICCID, id))
            }
            Purpose::Usage(_) => thingspace_page(plan, false),
        }
    }
}

/// A ThingSpace usage page for the device the request names: rows 0-9 for the first request of
/// the period, 10-19 (the last) for the next; `fail_second` answers the second with a 503.
fn thingspace_page(plan: &RequestPlan, fail_second: bool) -> HttpResponse {
    let body: Value = serde_json::from_str(plan.body.as_deref().unwrap()).unwrap();
    let first = body["earliest"] == format_timestamp(START);
    if !first && fail_second {
        return HttpResponse::new(
            503,
            r#"{"errorCode":"SERVICE_UNAVAILABLE","errorMessage":"Service temporarily unavailable"}"#,
        );
    }
    let days = if first { 0..10 } else { 10..TS_ROWS };
    let rows: Vec<String> = days
        .map(|d| {
            let t = format_timestamp(START + 3_600 + d * 86_400);
            format!(r#"{{"bytesUsed":100,"smsUsed":1,"source":"Raw Usage","timestamp":"{t}"}}"#)
        })
        .collect();
    HttpResponse::new(
        if first { 202 } else { 200 },
        format!(
            r#"{{"hasMoreData":{first},"deviceId":{},"usageHistory":[{}]}}"#,
            body["deviceId"],
            rows.join(",")
        ),
    )
}

/// What a driver saw: each wave of requests sent together, and the results handed to the view.
#[derive(Default)]
struct Seen {
    waves: Vec<Vec<RequestPlan>>,
    results: Vec<FleetResults>,
}

impl Seen {
    fn sent(&self) -> Vec<&RequestPlan> {
        self.waves.iter().flatten().collect()
    }

    fn count(&self, purpose: Purpose) -> usize {
        self.sent().iter().filter(|p| p.purpose == purpose).count()
    }
}

/// Drives `fleet` as the executor does with every request it may send in flight at once: asks
/// for requests until there is none to send now, answers them all (10 ms each, by `answer`),
/// and so on; waits by moving the clock. `answer` is told the time it answers at. Stops when the run is over, or when `stop` says so
/// after a wave was answered.
fn drive(
    fleet: &mut FleetController,
    now: &mut u64,
    mut answer: impl FnMut(&RequestPlan, u64) -> Result<HttpResponse, TransportError>,
    mut stop: impl FnMut(&FleetController) -> bool,
) -> Seen {
    let mut seen = Seen::default();
    let mut counter = 0u64;
    let mut random = move || {
        counter += 1;
        counter
    };
    for _ in 0..10_000 {
        let mut wave = Vec::new();
        loop {
            match fleet.poll(*now, &mut random) {
                FleetPoll::Send { ticket, plan } => wave.push((ticket, plan)),
                FleetPoll::Wait { until_ms } if wave.is_empty() => {
                    assert!(until_ms > *now, "a wait into the past");
                    *now = until_ms;
                }
                FleetPoll::Wait { .. } | FleetPoll::Idle => break,
                FleetPoll::Finished => {
                    assert!(wave.is_empty());
                    seen.results.push(fleet.take_results());
                    return seen;
                }
            }
        }
        assert!(!wave.is_empty(), "idle with nothing in flight");
        for (ticket, plan) in &wave {
            *now += 10;
            match answer(plan, *now) {
                Ok(response) => fleet.handle_response(*ticket, &response, *now, 7),
                Err(error) => fleet.handle_transport_error(*ticket, &error, *now, 7),
            }
        }
        seen.waves
            .push(wave.into_iter().map(|(_, plan)| plan).collect());
        seen.results.push(fleet.take_results());
        if stop(fleet) {
            return seen;
        }
    }
    panic!("the fleet did not finish");
}

fn never(_: &FleetController) -> bool {
    false
}

/// Records per subject id in the view after these results, applied as the dashboard does
/// (`AppState::append_to_source`): the subjects being replaced go first.
fn apply(view: &mut HashMap<String, usize>, results: &[FleetResults]) {
    for r in results {
        for s in &r.replacing {
            view.remove(&s.id);
        }
        for record in r.set.records.iter() {
            let subject = &r.set.subjects()[record.subject.index().unwrap()];
            *view.entry(subject.id.clone()).or_default() += 1;
        }
    }
}

#[test]
fn one_token_serves_every_subject_of_a_credentials_scope() {
    // Vodafone issues tokens per country: three German IMSIs share one, two British another.
    let list = vec![
        vodafone("262021234567890"),
        vodafone("262021234567891"),
        vodafone("234150000000001"),
        vodafone("262021234567892"),
        vodafone("234150000000002"),
    ];
    let mut fleet = FleetController::new(list, setup(8), PERIOD);
    let mut carriers = Carriers::default();
    let mut now = 1_000_000;
    let seen = drive(&mut fleet, &mut now, |p, _| Ok(carriers.answer(p)), never);
    // At eight at once, the first subject of each country goes alone: its token serves the rest.
    let first: Vec<(Purpose, &str)> = seen.waves[0]
        .iter()
        .map(|p| (p.purpose, p.url.as_str()))
        .collect();
    assert_eq!(
        first,
        vec![
            (
                Purpose::Token,
                "http://carrier.test/vodafone-vrs/oauth2/token"
            ),
            (
                Purpose::Token,
                "http://carrier.test/vodafone-vrs/oauth2/token"
            ),
        ]
    );
    assert_eq!(seen.count(Purpose::Token), 2, "one token per country");
    let bearer_of = |imsi: &str| {
        let plans = seen.sent();
        let usage = plans
            .iter()
            .find(|p| p.purpose == Purpose::Usage(1) && p.url.ends_with(imsi))
            .unwrap();
        header(usage, "Authorization").unwrap().to_owned()
    };
    let germany = bearer_of("262021234567890");
    assert_eq!(bearer_of("262021234567891"), germany);
    assert_eq!(bearer_of("262021234567892"), germany);
    let britain = bearer_of("234150000000001");
    assert_eq!(bearer_of("234150000000002"), britain);
    assert_ne!(germany, britain);
    let p = fleet.progress(now);
    assert_eq!((p.done, p.failed, p.records), (5, 0, 10));
}

#[test]
fn thingspace_logs_in_once_for_the_fleet() {
    let list: Vec<FleetEntry> = (0..6).map(thingspace).collect();
    let mut fleet = FleetController::new(list, setup(4), PERIOD);
    let mut carriers = Carriers::default();
    let mut now = 1_000_000;
    let seen = drive(&mut fleet, &mut now, |p, _| Ok(carriers.answer(p)), never);
    assert_eq!(seen.count(Purpose::Token), 1);
    assert_eq!(seen.count(Purpose::Login), 1);
    assert_eq!(seen.count(Purpose::Usage(1)), 6);
    assert_eq!(seen.count(Purpose::Usage(2)), 6);
    // Every page goes with the one session and token.
    for plan in seen
        .sent()
        .iter()
        .filter(|p| matches!(p.purpose, Purpose::Usage(_)))
    {
        assert_eq!(header(plan, "VZ-M2M-Token"), Some("sess-1"));
        assert_eq!(header(plan, "Authorization"), Some("Bearer tok-1"));
        assert_eq!(plan.method, Method::Post);
    }
    // Once the first device was fetched (token, login, two pages), the others went four at a time.
    assert_eq!(seen.waves[4].len(), 4, "{:?}", seen.waves[4]);
    let p = fleet.progress(now);
    assert_eq!((p.done, p.failed), (6, 0));
}

#[test]
fn refused_credentials_fail_the_subjects_waiting_on_them_and_no_others() {
    let list = vec![
        vodafone("262021234567890"),
        vodafone("262021234567891"),
        vodafone("262021234567892"),
        vodafone("234150000000001"),
        vodafone("234150000000002"),
        control_center(1),
    ];
    let mut fleet = FleetController::new(list, setup(8), PERIOD);
    let mut carriers = Carriers::default();
    let mut now = 1_000_000;
    // The German token request is refused; the British one and Control Center are fine.
    let seen = drive(
        &mut fleet,
        &mut now,
        |p, _| {
            let german = p.purpose == Purpose::Token && carriers.tokens == 0;
            Ok(if german {
                carriers.tokens += 1;
                HttpResponse::new(401, r#"{"error":"invalid_client"}"#)
            } else {
                carriers.answer(p)
            })
        },
        never,
    );
    assert_eq!(
        seen.count(Purpose::Token),
        2,
        "no second German token request"
    );
    assert!(
        !seen.sent().iter().any(|p| p.url.contains("/usage/262")),
        "nothing sent for the German IMSIs"
    );
    let p = fleet.progress(now);
    assert_eq!((p.done, p.failed), (3, 3));
    let problems: Vec<(String, String)> = fleet
        .run()
        .problems()
        .map(|p| (p.entry.subject.id.clone(), p.message.to_owned()))
        .collect();
    assert_eq!(problems.len(), 3);
    assert_eq!(problems[0].0, "262021234567890");
    assert!(
        problems[0].1.contains("access token is missing or invalid"),
        "{problems:?}"
    );
    for (id, message) in &problems[1..] {
        assert!(id.starts_with("262"), "{problems:?}");
        assert!(
            message.starts_with(
                "not sent: Vodafone VRS refused the credentials for imsi 262021234567890"
            ),
            "{message}"
        );
    }
    // A retry with mended credentials fetches the three again, with a new token.
    let queued = fleet.retry(setup(8), now);
    assert_eq!(queued, 3);
    let seen = drive(&mut fleet, &mut now, |p, _| Ok(carriers.answer(p)), never);
    assert_eq!(seen.count(Purpose::Token), 1);
    assert_eq!(fleet.progress(now).failed, 0);
}

#[test]
fn refused_control_center_credentials_stop_its_queue_but_not_thingspace() {
    // One at a time, as the end-to-end test does: the first 401 stops the other two.
    let list = vec![
        control_center(1),
        control_center(2),
        thingspace(1),
        control_center(3),
    ];
    let mut fleet = FleetController::new(list, setup(1), PERIOD);
    let mut carriers = Carriers::default();
    let mut now = 1_000_000;
    let seen = drive(
        &mut fleet,
        &mut now,
        |p, _| {
            Ok(if p.url.contains("/control-center/") {
                HttpResponse::new(
                    401,
                    r#"{"errorCode":"10000001","errorMessage":"Invalid apikey or username."}"#,
                )
            } else {
                carriers.answer(p)
            })
        },
        never,
    );
    let cc = seen
        .sent()
        .iter()
        .filter(|p| p.url.contains("/control-center/"))
        .count();
    assert_eq!(cc, 1);
    let p = fleet.progress(now);
    assert_eq!((p.done, p.failed), (1, 3));
}

#[test]
fn a_cancel_keeps_what_was_read_and_a_retry_goes_on() {
    let list: Vec<FleetEntry> = (0..4).map(thingspace).collect();
    let ids: Vec<String> = list.iter().map(|e| e.subject.id.clone()).collect();
    let mut fleet = FleetController::new(list, setup(2), PERIOD);
    let mut carriers = Carriers::default();
    let mut now = 1_000_000;
    // The first device alone (token, login, two pages), then the first pages of the next two.
    let mut waves = 0;
    let seen = drive(
        &mut fleet,
        &mut now,
        |p, _| Ok(carriers.answer(p)),
        |_| {
            waves += 1;
            waves == 5
        },
    );
    assert_eq!(seen.waves[4].len(), 2);
    let mut in_flight = Vec::new();
    while let FleetPoll::Send { ticket, plan } = fleet.poll(now, &mut || 1) {
        in_flight.push((ticket, plan.purpose));
    }
    assert_eq!(
        in_flight.iter().map(|(_, p)| *p).collect::<Vec<_>>(),
        [Purpose::Usage(2); 2]
    );
    // The user cancels with both second pages in flight; the executor aborts them.
    fleet.cancel();
    assert_eq!(
        fleet.active(),
        2,
        "the two in flight end when their answers come"
    );
    for (ticket, _) in &in_flight {
        now += 5;
        let aborted = TransportError::Network("aborted".into());
        fleet.handle_transport_error(*ticket, &aborted, now, 7);
    }
    assert_eq!(fleet.active(), 0);
    assert_eq!(fleet.poll(now, &mut || 1), FleetPoll::Finished);
    let p = fleet.progress(now);
    assert_eq!((p.done, p.partial, p.failed, p.remaining), (3, 2, 0, 1));
    // The first pages of the two cut short reach the view, beside the first device.
    let mut view = HashMap::new();
    let mut results = seen.results;
    results.push(fleet.take_results());
    apply(&mut view, &results);
    let (full, kept) = (view[&ids[0]], view[&ids[1]]);
    assert_eq!(view.len(), 3);
    assert!(0 < kept && kept < full && view[&ids[2]] == kept, "{view:?}");
    // A retry fetches the two partial ones again and the one never started; nothing twice.
    assert_eq!(fleet.retry(setup(2), now), 2);
    let seen = drive(&mut fleet, &mut now, |p, _| Ok(carriers.answer(p)), never);
    apply(&mut view, &seen.results);
    assert_eq!(view.len(), 4);
    assert!(view.values().all(|n| *n == full), "{view:?}");
    let p = fleet.progress(now);
    assert_eq!((p.done, p.partial, p.failed), (4, 0, 0));
}

#[test]
fn a_retried_partial_subject_replaces_its_records_without_duplicates() {
    let list: Vec<FleetEntry> = (0..3).map(thingspace).collect();
    let victim = list[1].subject.id.clone();
    let mut carriers = Carriers::default();
    let mut now = 1_000_000;
    // A clean run, for the figures.
    let mut clean = FleetController::new(list.clone(), setup(3), PERIOD);
    let mut clean_view = HashMap::new();
    let seen = drive(&mut clean, &mut now, |p, _| Ok(carriers.answer(p)), never);
    apply(&mut clean_view, &seen.results);
    // The victim's second page fails (503, past the retries) until the outage is over.
    let mut fleet = FleetController::new(list, setup(3), PERIOD);
    let mut view = HashMap::new();
    let outage = std::cell::Cell::new(true);
    let mut answer = |p: &RequestPlan, _: u64| {
        let victims = p.body.as_deref().is_some_and(|b| b.contains(&victim));
        Ok(if victims && matches!(p.purpose, Purpose::Usage(_)) {
            thingspace_page(p, outage.get())
        } else {
            carriers.answer(p)
        })
    };
    let seen = drive(&mut fleet, &mut now, &mut answer, never);
    apply(&mut view, &seen.results);
    let p = fleet.progress(now);
    assert_eq!((p.done, p.partial, p.failed), (3, 1, 0));
    assert!(view[&victim] > 0 && view[&victim] < clean_view[&victim]);
    // Retried after the outage: the victim's records replace the partial ones.
    outage.set(false);
    assert_eq!(fleet.retry(setup(3), now), 1);
    let seen = drive(&mut fleet, &mut now, &mut answer, never);
    let replacing: Vec<&str> = seen
        .results
        .iter()
        .flat_map(|r| r.replacing.iter().map(|s| s.id.as_str()))
        .collect();
    assert_eq!(replacing, vec![victim.as_str()]);
    apply(&mut view, &seen.results);
    assert_eq!(view, clean_view, "nothing counted twice");
    // Partial again, with less than before: what the view holds stays.
    outage.set(true);
    let _ = fleet.retry(setup(3), now);
    let seen = drive(&mut fleet, &mut now, &mut answer, never);
    assert!(seen.results.iter().all(FleetResults::is_empty));
    assert_eq!(fleet.progress(now).failed, 0);
}

#[test]
fn a_429_holds_its_carrier_for_the_retry_after_and_teaches_a_limit() {
    let list = vec![
        control_center(1),
        thingspace(1),
        control_center(2),
        control_center(3),
    ];
    let mut fleet = FleetController::new(list, setup(2), PERIOD);
    let mut carriers = Carriers::default();
    let mut now = 1_000_000;
    let mut refused_at = None;
    let mut sent = Vec::new();
    let seen = drive(
        &mut fleet,
        &mut now,
        |p, at| {
            let cc = p.url.contains("/control-center/");
            sent.push((cc, at));
            if cc && refused_at.is_none() {
                refused_at = Some(at);
                let body =
                    r#"{"errorCode":"tooManyRequests","errorMessage":"API rate limit exceeded."}"#;
                return Ok(HttpResponse::new(429, body).with_header("Retry-After", "3"));
            }
            Ok(carriers.answer(p))
        },
        never,
    );
    assert_eq!(
        seen.waves[0].len(),
        2,
        "the first Control Center subject and ThingSpace"
    );
    let refused_at = refused_at.unwrap();
    // The requests it got through in the second before (none but the refused one) make the limit.
    assert_eq!(fleet.learned_limits(), vec![(Carrier::ControlCenter, 1)]);
    let cc_times: Vec<u64> = sent.iter().filter(|(cc, _)| *cc).map(|(_, t)| *t).collect();
    let ts_times: Vec<u64> = sent
        .iter()
        .filter(|(cc, _)| !*cc)
        .map(|(_, t)| *t)
        .collect();
    assert_eq!(
        cc_times.len(),
        4,
        "the refused one again, and the other two"
    );
    // Nothing went to Control Center for three seconds, then one a second; ThingSpace went on.
    assert!(cc_times[1] >= refused_at + 3_000, "{cc_times:?}");
    assert!(
        cc_times[2] >= cc_times[1] + 1_000 && cc_times[3] >= cc_times[2] + 1_000,
        "{cc_times:?}"
    );
    assert_eq!(ts_times.len(), 4);
    assert!(ts_times[3] < refused_at + 3_000, "{ts_times:?}");
    let p = fleet.progress(now);
    assert_eq!((p.done, p.failed), (4, 0));
}

#[test]
fn the_users_rate_limit_spaces_requests_and_applies_while_running() {
    let list: Vec<FleetEntry> = (0..6).map(control_center).collect();
    let mut one_a_second = setup(6);
    one_a_second.limits = vec![(Carrier::ControlCenter, Some(1))];
    let mut fleet = FleetController::new(list, one_a_second, PERIOD);
    let mut carriers = Carriers::default();
    let mut now = 1_000_000;
    let start = now;
    let mut answered = 0;
    let seen = drive(
        &mut fleet,
        &mut now,
        |p, _| Ok(carriers.answer(p)),
        |_| {
            answered += 1;
            answered == 3
        },
    );
    assert!(seen.waves.iter().all(|w| w.len() == 1));
    assert!(now >= start + 2_000, "three requests take two seconds");
    // Raised to ten a second while it runs: the other three go at once.
    fleet.set_pace(6, &[(Carrier::ControlCenter, Some(10))]);
    let seen = drive(&mut fleet, &mut now, |p, _| Ok(carriers.answer(p)), never);
    assert_eq!(seen.waves[0].len(), 3);
    assert_eq!(fleet.progress(now).done, 6);
}

#[test]
fn subjects_without_credentials_fail_without_a_request() {
    let list = vec![
        entry(
            Carrier::Telecomx,
            SubjectKind::Account,
            "553ca0f477392ee4106e9526",
        ),
        control_center(1),
    ];
    let mut fleet = FleetController::new(list, setup(2), PERIOD);
    let mut carriers = Carriers::default();
    let mut now = 1_000_000;
    let seen = drive(&mut fleet, &mut now, |p, _| Ok(carriers.answer(p)), never);
    assert_eq!(seen.sent().len(), 1);
    let problems: Vec<&str> = fleet.run().problems().map(|p| p.message).collect();
    assert_eq!(problems, vec!["no credentials for TelecomX"]);
}
