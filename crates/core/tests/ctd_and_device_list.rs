//! Control Center cycle-to-date fetches and the account device listings (Control Center and
//! ThingSpace), driven by scripted answers.

use usagelens_core::fetch::devices::{
    fleet_list_csv, read_page, DeviceListJob, DeviceListQuery, CONTROL_CENTER_MAX_PAGE_SIZE,
};
use usagelens_core::fetch::{
    Credentials, FetchConfig, FetchErrorKind, FetchJob, HttpResponse, Method, ProxyConfig, Step,
    TransportError, UsageQuery,
};
use usagelens_core::fleet::parse_subject_list;
use usagelens_core::{Carrier, Granularity, Service, SubjectKind};

fn sandbox() -> FetchConfig {
    FetchConfig {
        proxy: ProxyConfig::PerCarrierBase(vec![
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

fn cc_creds() -> Credentials {
    Credentials::ControlCenter {
        username: "demo".into(),
        api_key: "demo-api-key".into(),
    }
}

fn ts_creds() -> Credentials {
    Credentials::Thingspace {
        key: "k".into(),
        secret: "s".into(),
        username: "demo".into(),
        password: "demo".into(),
    }
}

const NOW_MS: u64 = 1_796_121_000_000; // 2026-12-01T10:30:00Z

#[test]
fn a_cycle_to_date_fetch_reads_up_to_now_from_the_billing_day() {
    let query = UsageQuery::ControlCenterCtd {
        iccid: "8988216716970004973".into(),
        billing_day: 10,
    };
    let mut job = FetchJob::new(query, cc_creds(), sandbox(), None).unwrap();
    let Step::Send(plan) = job.poll(NOW_MS, 1) else {
        panic!("expected a request")
    };
    assert_eq!(plan.method, Method::Get);
    assert_eq!(
        plan.url,
        "http://127.0.0.1:8081/control-center/rws/api/v1/devices/8988216716970004973/ctdUsages"
    );
    assert!(plan
        .headers
        .iter()
        .any(|(k, v)| k == "Authorization" && v.starts_with("Basic ")));
    let body = r#"{"iccid":"8988216716970004973","status":"ACTIVATED","ratePlan":"Flex","communicationPlan":"CP","ctdDataUsage":"1048576","ctdSMSUsage":3,"ctdVoiceUsage":120,"ctdSessionCount":5,"overageLimitReached":true,"overageLimitOverride":"TEMPORARY_OVERRIDE"}"#;
    job.handle_response(&HttpResponse::new(200, body), NOW_MS, 1);
    assert_eq!(job.poll(NOW_MS, 1), Step::Done);
    let outcome = job.finish();
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    let records = outcome.set.records_json();
    assert_eq!(records.len(), 3);
    let data = records.iter().find(|r| r.service == Service::Data).unwrap();
    assert_eq!(data.quantity, 1_048_576);
    assert_eq!(data.granularity, Granularity::Cycle);
    assert_eq!(data.start, "2026-11-10T00:00:00Z");
    assert_eq!(data.end, "2026-12-01T10:30:00Z");
    assert_eq!(data.attributes["overageLimitReached"], "true");
    assert_eq!(data.attributes["billingDay"], "10");
    assert_eq!(data.attributes["periodBasis"], "cycle-to-date");
}

#[test]
fn a_cycle_to_date_query_is_checked_before_sending() {
    for (iccid, day, words) in [
        ("8988216716970004973", 0, "1 to 31"),
        ("8988216716970004973", 32, "1 to 31"),
        ("8988216716970004974", 1, "check digit"),
    ] {
        let query = UsageQuery::ControlCenterCtd {
            iccid: iccid.into(),
            billing_day: day,
        };
        let err = FetchJob::new(query, cc_creds(), sandbox(), None).unwrap_err();
        assert_eq!(err.kind, FetchErrorKind::InvalidInput);
        assert!(
            err.message.to_lowercase().contains(words),
            "{}",
            err.message
        );
    }
}

/// A Control Center iccid list page of `n` devices numbered from `first`.
fn cc_page(number: u32, iccids: &[&str], last: bool) -> String {
    let devices: Vec<String> = iccids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            format!(
                r#"{{"iccid":"{id}","status":"{}","ratePlan":"Flex","communicationPlan":"CP"}}"#,
                if i % 2 == 0 {
                    "ACTIVATED"
                } else {
                    "DEACTIVATED"
                }
            )
        })
        .collect();
    format!(
        r#"{{"pageNumber":{number},"devices":[{}],"lastPage":{last}}}"#,
        devices.join(",")
    )
}

const ICCIDS: [&str; 4] = [
    "8988216716970004973",
    "8988216716970004981",
    "8988216716970004999",
    "8988216716970005004",
];

#[test]
fn control_center_devices_are_listed_page_by_page_with_a_status_filter() {
    let query = DeviceListQuery::ControlCenter {
        modified_since: chrono::NaiveDate::from_ymd_opt(2025, 12, 1).unwrap(),
        page_size: 2,
        status: Some("activated".into()),
    };
    let mut job = DeviceListJob::new(query, cc_creds(), sandbox(), None).unwrap();
    let pages = [
        cc_page(1, &ICCIDS[..2], false),
        cc_page(2, &[ICCIDS[2], "123", ICCIDS[3]], true),
    ];
    let mut urls = Vec::new();
    for page in &pages {
        let Step::Send(plan) = job.poll(NOW_MS) else {
            panic!("expected a request")
        };
        urls.push(plan.url.clone());
        job.handle_response(&HttpResponse::new(200, page.as_str()), NOW_MS, 0);
    }
    assert_eq!(job.poll(NOW_MS), Step::Done);
    assert_eq!(
        urls[0],
        "http://127.0.0.1:8081/control-center/rws/api/v1/devices?modifiedSince=2025-12-01T00%3A00%3A00Z&pageSize=2&pageNumber=1&status=activated"
    );
    assert!(urls[1].contains("pageNumber=2"));
    let outcome = job.finish();
    assert!(outcome.error.is_none());
    assert_eq!(outcome.pages, 2);
    let ids: Vec<&str> = outcome
        .devices
        .iter()
        .map(|d| d.subject.id.as_str())
        .collect();
    // Every other entry of a page is DEACTIVATED (ICCIDS[1]), and "123" is no ICCID.
    assert_eq!(ids, vec![ICCIDS[0], ICCIDS[2], ICCIDS[3]]);
    assert_eq!(outcome.filtered_out, 1);
    assert_eq!(outcome.invalid, 1);
    assert_eq!(outcome.devices[0].rate_plan.as_deref(), Some("Flex"));
    // The list the fleet form reads back takes every device.
    let csv = fleet_list_csv(Carrier::ControlCenter, &outcome.devices);
    let list = parse_subject_list(&csv, None).unwrap();
    assert_eq!(list.entries.len(), 3);
    assert!(list.problems.is_empty());
}

#[test]
fn control_center_listing_retries_a_429_and_keeps_what_it_had_on_failure() {
    let query = DeviceListQuery::ControlCenter {
        modified_since: chrono::NaiveDate::from_ymd_opt(2025, 12, 1).unwrap(),
        page_size: 50,
        status: None,
    };
    let mut job = DeviceListJob::new(query, cc_creds(), sandbox(), None).unwrap();
    assert!(matches!(job.poll(NOW_MS), Step::Send(_)));
    job.handle_response(
        &HttpResponse::new(200, cc_page(1, &ICCIDS[..2], false)),
        NOW_MS,
        0,
    );
    assert!(matches!(job.poll(NOW_MS), Step::Send(_)));
    job.handle_response(
        &HttpResponse::new(429, "{}").with_header("Retry-After", "2"),
        NOW_MS,
        0,
    );
    assert_eq!(
        job.poll(NOW_MS),
        Step::Wait {
            until_ms: NOW_MS + 2000
        }
    );
    let Step::Send(plan) = job.poll(NOW_MS + 2000) else {
        panic!("expected the page again")
    };
    assert!(plan.url.contains("pageNumber=2"));
    job.handle_response(&HttpResponse::new(200, r#"{"devices": "#), NOW_MS + 2000, 0);
    let outcome = job.finish();
    let error = outcome.error.unwrap();
    assert_eq!(error.kind, FetchErrorKind::BadResponse);
    assert!(error.message.contains("page 2"), "{}", error.message);
    assert_eq!(outcome.devices.len(), 2);
}

#[test]
fn listing_checks_its_settings_and_can_be_cancelled() {
    let since = chrono::NaiveDate::from_ymd_opt(2025, 12, 1).unwrap();
    let too_big = DeviceListQuery::ControlCenter {
        modified_since: since,
        page_size: CONTROL_CENTER_MAX_PAGE_SIZE + 1,
        status: None,
    };
    let err = DeviceListJob::new(too_big, cc_creds(), sandbox(), None).unwrap_err();
    assert!(err.message.contains("page size"), "{}", err.message);
    let no_account = DeviceListQuery::Thingspace {
        account_name: " ".into(),
        status: None,
    };
    let err = DeviceListJob::new(no_account, ts_creds(), sandbox(), None).unwrap_err();
    assert!(err.message.contains("account name"), "{}", err.message);
    let wrong = DeviceListQuery::ControlCenter {
        modified_since: since,
        page_size: 50,
        status: None,
    };
    assert!(DeviceListJob::new(wrong.clone(), ts_creds(), sandbox(), None).is_err());
    let mut job = DeviceListJob::new(wrong, cc_creds(), sandbox(), None).unwrap();
    assert!(matches!(job.poll(NOW_MS), Step::Send(_)));
    job.cancel();
    assert_eq!(job.poll(NOW_MS), Step::Done);
    assert_eq!(
        job.finish().error.map(|e| e.kind),
        Some(FetchErrorKind::Cancelled)
    );
}

fn ts_page(ids: &[(&str, &str)], more: bool) -> String {
    let devices: Vec<String> = ids
        .iter()
        .map(|(iccid, state)| {
            format!(
                r#"{{"accountName":"0000123456-00001","deviceIds":[{{"id":"{iccid}","kind":"iccid"}},{{"id":"990000862471854","kind":"imei"}}],"carrierInformations":[{{"carrierName":"Verizon Wireless","servicePlan":"M2M 5GB","state":"{state}"}}],"connected":true}}"#
            )
        })
        .collect();
    format!(
        r#"{{"hasMoreData":{more},"devices":[{}]}}"#,
        devices.join(",")
    )
}

#[test]
fn thingspace_devices_are_listed_after_token_and_login_paging_by_last_seen_id() {
    let query = DeviceListQuery::Thingspace {
        account_name: "0000123456-00001".into(),
        status: Some("active".into()),
    };
    let mut job = DeviceListJob::new(query, ts_creds(), sandbox(), None).unwrap();
    let mut sent = Vec::new();
    let answers = [
        HttpResponse::new(200, r#"{"access_token":"tok","expires_in":3600}"#),
        HttpResponse::new(200, r#"{"sessionToken":"sess"}"#),
        HttpResponse::new(
            200,
            ts_page(&[(ICCIDS[0], "active"), (ICCIDS[1], "deactive")], true),
        ),
        // The session expires between pages: one new login, then the same page again.
        HttpResponse::new(
            401,
            r#"{"errorCode":"UnifiedWebService.REQUEST_FAILED.SessionToken.Expired","errorMessage":"expired"}"#,
        ),
        HttpResponse::new(200, r#"{"sessionToken":"sess2"}"#),
        HttpResponse::new(200, ts_page(&[(ICCIDS[2], "active")], false)),
    ];
    for answer in &answers {
        let Step::Send(plan) = job.poll(NOW_MS) else {
            panic!("expected a request")
        };
        sent.push(plan);
        job.handle_response(answer, NOW_MS, 0);
    }
    assert_eq!(job.poll(NOW_MS), Step::Done);
    assert!(sent[0].url.ends_with("/thingspace/api/ts/v1/oauth2/token"));
    assert!(sent[1].url.ends_with("/api/m2m/v1/session/login"));
    assert!(sent[2].url.ends_with("/api/m2m/v1/devices/actions/list"));
    let body = |i: usize| -> serde_json::Value {
        serde_json::from_str(sent[i].body.as_deref().unwrap()).unwrap()
    };
    assert_eq!(body(2)["accountName"], "0000123456-00001");
    assert_eq!(body(2)["currentState"], "active");
    assert!(body(2).get("largestDeviceIdSeen").is_none());
    assert_eq!(body(5)["largestDeviceIdSeen"], ICCIDS[1]);
    let session = |i: usize| {
        sent[i]
            .headers
            .iter()
            .find(|(k, _)| k == "VZ-M2M-Token")
            .map(|(_, v)| v.clone())
    };
    assert_eq!(session(5).as_deref(), Some("sess2"));
    let outcome = job.finish();
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    let ids: Vec<(&str, SubjectKind)> = outcome
        .devices
        .iter()
        .map(|d| (d.subject.id.as_str(), d.subject.kind))
        .collect();
    assert_eq!(
        ids,
        vec![
            (ICCIDS[0], SubjectKind::Iccid),
            (ICCIDS[2], SubjectKind::Iccid)
        ]
    );
    assert_eq!(outcome.filtered_out, 1);
    assert_eq!(outcome.devices[0].rate_plan.as_deref(), Some("M2M 5GB"));
    assert!(outcome.session.is_some() && outcome.token.is_some());
}

#[test]
fn thingspace_paging_that_does_not_move_stops() {
    let query = DeviceListQuery::Thingspace {
        account_name: "0000123456-00001".into(),
        status: None,
    };
    let mut job = DeviceListJob::new(query, ts_creds(), sandbox(), None).unwrap();
    let page = ts_page(&[(ICCIDS[0], "active")], true);
    let answers = [
        HttpResponse::new(200, r#"{"access_token":"tok"}"#.to_owned()),
        HttpResponse::new(200, r#"{"sessionToken":"sess"}"#.to_owned()),
        HttpResponse::new(200, page.clone()),
        HttpResponse::new(200, page),
    ];
    for answer in &answers {
        assert!(matches!(job.poll(NOW_MS), Step::Send(_)));
        job.handle_response(answer, NOW_MS, 0);
    }
    let outcome = job.finish();
    assert_eq!(
        outcome.error.map(|e| e.kind),
        Some(FetchErrorKind::PagingStalled)
    );
    assert_eq!(outcome.devices.len(), 2);
}

#[test]
fn a_dropped_connection_is_tried_once_more() {
    let query = DeviceListQuery::ControlCenter {
        modified_since: chrono::NaiveDate::from_ymd_opt(2025, 12, 1).unwrap(),
        page_size: 50,
        status: None,
    };
    let mut job = DeviceListJob::new(query, cc_creds(), sandbox(), None).unwrap();
    assert!(matches!(job.poll(NOW_MS), Step::Send(_)));
    job.handle_transport_error(&TransportError::Network("reset".into()), NOW_MS, 0);
    let Step::Wait { until_ms } = job.poll(NOW_MS) else {
        panic!("expected a wait")
    };
    assert!(matches!(job.poll(until_ms), Step::Send(_)));
    job.handle_transport_error(&TransportError::Network("reset".into()), until_ms, 0);
    let outcome = job.finish();
    assert_eq!(outcome.error.map(|e| e.kind), Some(FetchErrorKind::Network));
}

#[test]
fn pages_are_read_with_names_in_any_case() {
    let page = read_page(
        Carrier::ControlCenter,
        r#"{"PageNumber":1,"Devices":[{"ICCID":"8988216716970004973","Status":"ACTIVATED"}],"LastPage":"true"}"#,
    )
    .unwrap();
    assert_eq!(page.devices.len(), 1);
    assert_eq!(page.devices[0].status.as_deref(), Some("ACTIVATED"));
    assert!(!page.more);
    assert!(read_page(Carrier::ControlCenter, "[]")
        .unwrap_err()
        .contains("object"));
    assert!(read_page(Carrier::Thingspace, r#"{"devices":[1]}"#)
        .unwrap_err()
        .contains("devices[0]"));
}
