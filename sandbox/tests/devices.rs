//! The account device lists (Control Center `GET /devices`, ThingSpace `devices/actions/list`)
//! with their paging and filters, and Control Center's cycle-to-date usage.

use std::collections::HashSet;

use carrier_sandbox::http::Request;
use carrier_sandbox::{handle, Carrier, Config, FleetIds, THINGSPACE_ACCOUNT};
use serde_json::Value;

const CC_AUTH: &str = "Basic ZGVtbzpkZW1vLWFwaS1rZXk="; // demo:demo-api-key

fn config(fleet: usize) -> Config {
    Config {
        seed: 3,
        fleet,
        today: chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        ..Config::default()
    }
}

fn request(method: &str, path: &str, query: &[(&str, &str)], body: &str) -> Request {
    let thingspace = path.starts_with("/thingspace");
    Request {
        method: method.into(),
        path: path.into(),
        query: query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        headers: if thingspace {
            vec![
                ("Authorization".into(), "Bearer ts-sandbox-token".into()),
                ("VZ-M2M-Token".into(), "ts-sandbox-session".into()),
            ]
        } else {
            vec![("Authorization".into(), CC_AUTH.into())]
        },
        body: body.into(),
        keep_alive: false,
    }
}

fn answer(config: &Config, request: &Request) -> (u16, Value) {
    let r = handle(config, request);
    (r.status, serde_json::from_slice(&r.body).unwrap())
}

fn cc_page(config: &Config, page: usize, extra: &[(&str, &str)]) -> (u16, Value) {
    let page = page.to_string();
    let mut query = vec![
        ("modifiedSince", "2025-11-20T00:00:00Z"),
        ("pageSize", "50"),
        ("pageNumber", page.as_str()),
    ];
    query.extend_from_slice(extra);
    answer(
        config,
        &request("GET", "/control-center/rws/api/v1/devices", &query, ""),
    )
}

#[test]
fn control_center_lists_the_fleet_in_pages_of_fifty() {
    let config = config(120);
    let mut seen = Vec::new();
    for page in 1..=3 {
        let (status, body) = cc_page(&config, page, &[]);
        assert_eq!(status, 200);
        assert_eq!(body["pageNumber"], page);
        assert_eq!(body["lastPage"], page == 3, "page {page}");
        for d in body["devices"].as_array().unwrap() {
            seen.push(d["iccid"].as_str().unwrap().to_owned());
            assert!(d["status"].is_string() && d["ratePlan"].is_string());
        }
    }
    let ids = FleetIds::new(3, Carrier::ControlCenter);
    assert_eq!(seen, (0..120).map(|i| ids.id(i)).collect::<Vec<_>>());
    // A status filter pages over the matching devices only.
    let (_, active) = cc_page(&config, 1, &[("status", "DEACTIVATED")]);
    let devices = active["devices"].as_array().unwrap();
    assert!(!devices.is_empty() && devices.len() < 50);
    assert!(devices.iter().all(|d| d["status"] == "DEACTIVATED"));
    assert_eq!(active["lastPage"], true);
}

#[test]
fn control_center_listing_refuses_what_the_api_refuses() {
    let config = config(10);
    let list = |query: &[(&str, &str)]| {
        answer(
            &config,
            &request("GET", "/control-center/rws/api/v1/devices", query, ""),
        )
    };
    let (status, body) = list(&[("pageSize", "50")]);
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("10000003"))
    );
    let (status, body) = list(&[("modifiedSince", "last year")]);
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("10000012"))
    );
    let (status, _) = list(&[
        ("modifiedSince", "2026-01-01T00:00:00Z"),
        ("pageSize", "51"),
    ]);
    assert_eq!(status, 400);
    // Faults apply as anywhere.
    let (status, _) = cc_page(&config, 1, &[("fault", "500")]);
    assert_eq!(status, 500);
    // Without --fleet the account has a few devices.
    let (_, body) = answer(
        &Config {
            fleet: 0,
            ..config.clone()
        },
        &request(
            "GET",
            "/control-center/rws/api/v1/devices",
            &[("modifiedSince", "2025-01-01")],
            "",
        ),
    );
    assert_eq!(body["devices"].as_array().unwrap().len(), 12);
}

#[test]
fn thingspace_lists_the_fleet_after_the_last_seen_device() {
    let config = config(1200);
    let mut last: Option<String> = None;
    let mut seen = HashSet::new();
    let mut pages = 0;
    loop {
        let body = match &last {
            None => format!(r#"{{"accountName":"{THINGSPACE_ACCOUNT}"}}"#),
            Some(l) => {
                format!(r#"{{"accountName":"{THINGSPACE_ACCOUNT}","largestDeviceIdSeen":"{l}"}}"#)
            }
        };
        let (status, page) = answer(
            &config,
            &request(
                "POST",
                "/thingspace/api/m2m/v1/devices/actions/list",
                &[],
                &body,
            ),
        );
        assert_eq!(status, 200);
        pages += 1;
        let devices = page["devices"].as_array().unwrap();
        for d in devices {
            assert_eq!(d["deviceIds"][0]["kind"], "iccid");
            assert_eq!(
                d["carrierInformations"][0]["carrierName"],
                "Verizon Wireless"
            );
            assert!(seen.insert(d["deviceIds"][0]["id"].as_str().unwrap().to_owned()));
        }
        last = devices
            .last()
            .map(|d| d["deviceIds"][0]["id"].as_str().unwrap().to_owned());
        if page["hasMoreData"] != true {
            break;
        }
    }
    assert_eq!((pages, seen.len()), (3, 1200));
    // Filtered, a wrong account, a stranger as last seen, and the stalled-paging fault.
    let (_, active) = answer(
        &config,
        &request(
            "POST",
            "/thingspace/api/m2m/v1/devices/actions/list",
            &[],
            &format!(r#"{{"accountName":"{THINGSPACE_ACCOUNT}","currentState":"suspend"}}"#),
        ),
    );
    let suspended = active["devices"].as_array().unwrap();
    assert!(!suspended.is_empty() && suspended.len() < 100);
    assert!(suspended
        .iter()
        .all(|d| d["carrierInformations"][0]["state"] == "suspend"));
    let (status, _) = answer(
        &config,
        &request(
            "POST",
            "/thingspace/api/m2m/v1/devices/actions/list",
            &[],
            r#"{"accountName":"someone-else"}"#,
        ),
    );
    assert_eq!(status, 400);
    let (status, _) = answer(
        &config,
        &request(
            "POST",
            "/thingspace/api/m2m/v1/devices/actions/list",
            &[],
            &format!(
                r#"{{"accountName":"{THINGSPACE_ACCOUNT}","largestDeviceIdSeen":"89148000000000000012"}}"#
            ),
        ),
    );
    assert_eq!(status, 400);
    let first_id = FleetIds::new(3, Carrier::Thingspace).id(0);
    let (_, stalled) = answer(
        &config,
        &request(
            "POST",
            "/thingspace/api/m2m/v1/devices/actions/list",
            &[("fault", "no-advance")],
            &format!(
                r#"{{"accountName":"{THINGSPACE_ACCOUNT}","largestDeviceIdSeen":"{first_id}"}}"#
            ),
        ),
    );
    assert_eq!(
        stalled["devices"][0]["deviceIds"][0]["id"],
        first_id.as_str()
    );
    let (status, body) = answer(
        &config,
        &request(
            "POST",
            "/thingspace/api/m2m/v1/devices/actions/list",
            &[("fault", "expire-token")],
            &format!(r#"{{"accountName":"{THINGSPACE_ACCOUNT}"}}"#),
        ),
    );
    assert_eq!(status, 401);
    assert!(body["errorCode"]
        .as_str()
        .unwrap()
        .contains("SessionToken.Expired"));
}

#[test]
fn cycle_to_date_usage_is_deterministic_and_flags_heavy_users() {
    let config = config(400);
    let ids = FleetIds::new(3, Carrier::ControlCenter);
    let ctd = |iccid: &str| {
        answer(
            &config,
            &request(
                "GET",
                &format!("/control-center/rws/api/v1/devices/{iccid}/ctdUsages"),
                &[],
                "",
            ),
        )
    };
    let first = ids.id(0);
    let (status, body) = ctd(&first);
    assert_eq!(status, 200);
    assert_eq!(body, ctd(&first).1, "the same answer twice");
    assert_eq!(body["iccid"], first.as_str());
    for key in [
        "ctdDataUsage",
        "ctdSMSUsage",
        "ctdVoiceUsage",
        "ctdSessionCount",
    ] {
        assert!(body[key].is_u64(), "{key}");
    }
    let flagged = (0..400)
        .filter(|i| ctd(&ids.id(*i)).1["overageLimitReached"] == true)
        .count();
    // 5 % of a fleet are heavy users.
    assert!((5..=40).contains(&flagged), "{flagged}");
    let (status, body) = ctd("8901170000000000001");
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (404, Some("20000001"))
    );
}
