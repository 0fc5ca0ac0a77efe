//! `--fleet` and `--rate-limit`: the subject list, its validity and determinism, fleet subjects'
//! usage (served, and heavy-tailed), and per-carrier rate limiting over real sockets.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use carrier_sandbox::http::Request;
use carrier_sandbox::{handle, start, usage_scale, Carrier, Config, FleetIds};

fn config(seed: u64, fleet: usize) -> Config {
    Config {
        seed,
        fleet,
        today: chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        ..Config::default()
    }
}

fn server(config: Config) -> SocketAddr {
    start(TcpListener::bind("127.0.0.1:0").unwrap(), config).unwrap()
}

struct Answer {
    status: u16,
    head: String,
    body: String,
}

fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Answer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

fn get(config: &Config, path: &str, query: &[(&str, &str)], auth: &str) -> (u16, String) {
    let r = handle(
        config,
        &Request {
            method: "GET".into(),
            path: path.into(),
            query: query
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            headers: vec![("Authorization".into(), auth.into())],
            body: String::new(),
            keep_alive: false,
        },
    );
    (r.status, String::from_utf8(r.body).unwrap())
}

fn thingspace_usage(config: &Config, iccid: &str) -> (u16, serde_json::Value) {
    let r = handle(
        config,
        &Request {
            method: "POST".into(),
            path: "/thingspace/api/m2m/v1/devices/usage/actions/list".into(),
            query: Vec::new(),
            headers: vec![
                ("Authorization".into(), "Bearer ts-sandbox-token".into()),
                ("VZ-M2M-Token".into(), "ts-sandbox-session".into()),
            ],
            body: format!(
                r#"{{"deviceId":{{"kind":"iccid","id":"{iccid}"}},"earliest":"2025-11-21T00:00:00Z","latest":"2026-11-20T23:59:59Z"}}"#
            ),
            keep_alive: false,
        },
    );
    (r.status, serde_json::from_slice(&r.body).unwrap())
}

/// Independent of the sandbox's own check.
fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0') * if i % 2 == 1 { 2 } else { 1 };
            d / 10 + d % 10
        })
        .sum();
    sum.is_multiple_of(10)
}

const CARRIERS: [&str; 4] = ["vodafone-vrs", "telecomx", "thingspace", "control-center"];

#[test]
fn fleet_csv_lists_n_unique_valid_subjects_per_carrier() {
    let addr = server(config(7, 300));
    let list = call(addr, "GET", "/fleet.csv", &[], "");
    assert_eq!(list.status, 200);
    assert!(
        list.head.contains("Content-Type: text/csv"),
        "{}",
        list.head
    );
    let mut lines = list.body.lines();
    assert_eq!(lines.next(), Some("identifier,carrier,kind"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 4 * 300);
    for carrier in CARRIERS {
        let ids: Vec<&str> = rows
            .iter()
            .filter(|r| r[1] == carrier)
            .map(|r| r[0])
            .collect();
        assert_eq!(ids.len(), 300, "{carrier}");
        assert_eq!(
            ids.iter().collect::<HashSet<_>>().len(),
            300,
            "{carrier}: unique"
        );
    }
    for row in &rows {
        assert_eq!(row.len(), 3, "{row:?}");
        let (id, kind) = (row[0], row[2]);
        let digits = id.bytes().all(|b| b.is_ascii_digit());
        match row[1] {
            "vodafone-vrs" => {
                assert_eq!(kind, "imsi");
                assert!(digits && id.len() == 15, "{id}");
                assert!(id.starts_with("262") || id.starts_with("234"), "{id}");
                assert!(!id.ends_with("000"), "{id} would answer 204");
            }
            "telecomx" => {
                assert_eq!(kind, "account");
                assert!(
                    id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit()),
                    "{id}"
                );
                assert!(!id.starts_with("000"), "{id} would answer 404");
            }
            "thingspace" => {
                assert_eq!(kind, "iccid");
                assert!(digits && id.len() == 20 && id.starts_with("89"), "{id}");
                assert!(luhn(id), "{id} fails Luhn");
            }
            "control-center" => {
                assert_eq!(kind, "iccid");
                assert!(digits && (19..=20).contains(&id.len()) && id.starts_with("89"));
                assert!(luhn(id), "{id} fails Luhn");
            }
            other => panic!("unknown carrier {other}"),
        }
    }
    // The library's view matches the list, and finds each subject's index back.
    let ids = FleetIds::new(7, Carrier::Thingspace);
    let thingspace: Vec<&str> = rows
        .iter()
        .filter(|r| r[1] == "thingspace")
        .map(|r| r[0])
        .collect();
    for (i, id) in thingspace.iter().enumerate() {
        assert_eq!(ids.id(i), *id);
        assert_eq!(ids.index_of(id, 300), Some(i));
        assert_eq!(ids.index_of(id, i), None, "beyond the fleet");
    }
}

#[test]
fn fleet_csv_filters_counts_and_refuses() {
    let addr = server(config(7, 50));
    let all = call(addr, "GET", "/fleet.csv", &[], "").body;
    let some = call(
        addr,
        "GET",
        "/fleet.csv?carrier=thingspace&count=3",
        &[],
        "",
    );
    assert_eq!(some.status, 200);
    let first_three: Vec<&str> = all
        .lines()
        .filter(|l| l.ends_with(",thingspace,iccid"))
        .take(3)
        .collect();
    assert_eq!(
        some.body,
        format!("identifier,carrier,kind\n{}\n", first_three.join("\n"))
    );
    let capped = call(addr, "GET", "/fleet.csv?count=1000", &[], "");
    assert_eq!(
        capped.body.lines().count(),
        1 + 4 * 50,
        "count is capped at --fleet"
    );
    let none = call(addr, "GET", "/fleet.csv?count=0", &[], "");
    assert_eq!(none.body, "identifier,carrier,kind\n");
    let bad = call(addr, "GET", "/fleet.csv?carrier=verizon", &[], "");
    assert!(
        bad.status == 400 && bad.body.contains("thingspace"),
        "{}",
        bad.body
    );
    assert_eq!(call(addr, "GET", "/fleet.csv?count=x", &[], "").status, 400);
    // Faults are for carriers, not for the list.
    assert_eq!(
        call(addr, "GET", "/fleet.csv?fault=500", &[], "").status,
        200
    );

    let off = call(server(config(7, 0)), "GET", "/fleet.csv", &[], "");
    assert_eq!(off.status, 404);
    assert!(off.body.contains("--fleet N"), "{}", off.body);
}

#[test]
fn fleet_is_stable_per_seed() {
    let list = |seed| {
        let r = handle(
            &config(seed, 100),
            &Request {
                method: "GET".into(),
                path: "/fleet.csv".into(),
                ..Request::default()
            },
        );
        String::from_utf8(r.body).unwrap()
    };
    let (a, again, other) = (list(1), list(1), list(2));
    assert_eq!(a, again);
    assert_ne!(a, other);
    let ids =
        |text: &str| -> HashSet<String> { text.lines().skip(1).map(|l| l.to_owned()).collect() };
    assert!(
        ids(&a).is_disjoint(&ids(&other)),
        "another seed, other subjects"
    );
    // The first subjects do not depend on how big the fleet is.
    let small = handle(
        &config(1, 10),
        &Request {
            path: "/fleet.csv".into(),
            query: vec![("carrier".into(), "telecomx".into())],
            ..Request::default()
        },
    );
    let small = String::from_utf8(small.body).unwrap();
    for line in small.lines().skip(1) {
        assert!(a.contains(line), "{line}");
    }
}

#[test]
fn fleet_subjects_get_usage_from_every_carrier() {
    let config = config(3, 20);
    let addr = server(config.clone());
    let first = |carrier| FleetIds::new(3, carrier).id(0);
    let (status, v) = thingspace_usage(&config, &first(Carrier::Thingspace));
    assert_eq!(status, 202, "{v}");
    assert_eq!(v["usageHistory"].as_array().unwrap().len(), 500);
    assert_eq!(v["deviceId"]["kind"], "iccid");
    // The same over a socket, for the whole year in two pages.
    let body = format!(
        r#"{{"deviceId":{{"kind":"iccid","id":"{}"}},"earliest":"2026-06-01T00:00:00Z","latest":"2026-11-20T23:59:59Z"}}"#,
        first(Carrier::Thingspace)
    );
    let auth = [
        ("Authorization", "Bearer ts-sandbox-token"),
        ("VZ-M2M-Token", "ts-sandbox-session"),
    ];
    let page = call(
        addr,
        "POST",
        "/thingspace/api/m2m/v1/devices/usage/actions/list",
        &auth,
        &body,
    );
    assert_eq!(page.status, 200, "{}", page.body);

    let vf = call(
        addr,
        "GET",
        &format!(
            "/vodafone/tmf-api/usageManagement/v4/usage/{}",
            first(Carrier::VodafoneVrs)
        ),
        &[("Authorization", "Bearer vf-sandbox-token")],
        "",
    );
    assert_eq!(vf.status, 200, "{}", vf.body);
    let tx = call(
        addr,
        "GET",
        &format!("/telecomx/mvno/{}/usage", first(Carrier::Telecomx)),
        &[("Authorization", "Basic ZGVtbzpkZW1v")],
        "",
    );
    assert_eq!(tx.status, 200, "{}", tx.body);
    let cc = call(
        addr,
        "GET",
        &format!(
            "/control-center/rws/api/v1/devices/{}/usageInZone",
            first(Carrier::ControlCenter)
        ),
        &[("Authorization", "Basic ZGVtbzpkZW1vLWFwaS1rZXk=")],
        "",
    );
    assert_eq!(cc.status, 200, "{}", cc.body);
}

#[test]
fn fleet_usage_is_heavy_tailed() {
    let ids = FleetIds::new(1, Carrier::Thingspace);
    let scales: Vec<u64> = (0..1000).map(|i| usage_scale(1, &ids.id(i))).collect();
    let light = scales.iter().filter(|s| (100..1000).contains(*s)).count();
    let medium = scales.iter().filter(|s| (1000..=3000).contains(*s)).count();
    let heavy = scales
        .iter()
        .filter(|s| (5000..=20_000).contains(*s))
        .count();
    assert_eq!(light + medium + heavy, 1000, "no scale between the tiers");
    assert!((620..=780).contains(&light), "light {light}");
    assert!((180..=320).contains(&medium), "medium {medium}");
    assert!((20..=90).contains(&heavy), "heavy {heavy}");
    assert!(scales.iter().min().unwrap() < &200 && scales.iter().max().unwrap() > &15_000);

    // Served usage follows: TelecomX homeland data over a year, across 200 accounts.
    let config = config(1, 200);
    let accounts = FleetIds::new(1, Carrier::Telecomx);
    let mut totals = Vec::new();
    let mut over_allowance = 0;
    for i in 0..200 {
        let (status, body) = get(
            &config,
            &format!("/telecomx/mvno/{}/usage", accounts.id(i)),
            &[("fromDate", "2025-12-01"), ("toDate", "2026-11-01")],
            "Bearer demo-token",
        );
        assert_eq!(status, 200);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let allowance = v["account"]["data"].as_u64().unwrap() << 20;
        let months: Vec<u64> = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["regions"][0]["bytes"].as_u64().unwrap())
            .collect();
        if months.iter().any(|b| *b > allowance) {
            over_allowance += 1;
        }
        totals.push(months.iter().sum::<u64>());
    }
    totals.sort_unstable();
    let median = totals[100];
    assert!(
        totals[199] > 5 * median,
        "top {} vs median {median}",
        totals[199]
    );
    assert!(
        totals[0] * 3 < median,
        "bottom {} vs median {median}",
        totals[0]
    );
    assert!(
        (3..150).contains(&over_allowance),
        "{over_allowance} of 200 over the 12 GB allowance"
    );
}

#[test]
fn non_fleet_answers_do_not_change_with_a_fleet() {
    let (plain, fleet) = (config(1, 0), config(1, 1000));
    for (path, query, auth) in [
        (
            "/vodafone/tmf-api/usageManagement/v4/usage/262021234567890",
            vec![("limit", "5")],
            "Bearer vf-sandbox-token",
        ),
        (
            "/telecomx/mvno/553ca0f477392ee4106e9526/usage",
            vec![("fromDate", "2026-01-01"), ("toDate", "2026-06-01")],
            "Bearer demo-token",
        ),
        (
            "/control-center/rws/api/v1/devices/8901170425801873534/usageInZone",
            vec![],
            "Basic ZGVtbzpkZW1vLWFwaS1rZXk=",
        ),
    ] {
        assert_eq!(
            get(&plain, path, &query, auth),
            get(&fleet, path, &query, auth),
            "{path}"
        );
    }
    assert_eq!(
        thingspace_usage(&plain, "89148000000000000012"),
        thingspace_usage(&fleet, "89148000000000000012")
    );
    // A fleet subject is scaled only while it is in the fleet.
    let subject = FleetIds::new(1, Carrier::Thingspace).id(0);
    assert_ne!(
        thingspace_usage(&plain, &subject),
        thingspace_usage(&fleet, &subject)
    );
}

#[test]
fn thingspace_year_pages_are_full_pages() {
    let config = config(1, 1000);
    let ids = FleetIds::new(1, Carrier::Thingspace);
    let requests: Vec<Request> = (0..100)
        .map(|i| Request {
            method: "POST".into(),
            path: "/thingspace/api/m2m/v1/devices/usage/actions/list".into(),
            headers: vec![
                ("Authorization".into(), "Bearer ts-sandbox-token".into()),
                ("VZ-M2M-Token".into(), "ts-sandbox-session".into()),
            ],
            body: format!(
                r#"{{"deviceId":{{"kind":"iccid","id":"{}"}},"earliest":"2025-11-21T00:00:00Z","latest":"2026-11-20T23:59:59Z"}}"#,
                ids.id(i)
            ),
            ..Request::default()
        })
        .collect();
    // Speed is not asserted here (no timed tests): each page must be a full 500-row 202 page.
    for r in &requests {
        let page = handle(&config, r);
        assert_eq!(page.status, 202);
        assert_eq!(
            String::from_utf8_lossy(&page.body)
                .matches("\"timestamp\"")
                .count(),
            500
        );
    }
}

#[test]
fn rate_limit_is_per_carrier_and_answers_429() {
    let token = || {
        (
            "/vodafone/oauth2/token",
            [("Authorization", "Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=")],
        )
    };
    // Three requests must fall into one second; retry on a machine too busy for that.
    for attempt in 0.. {
        let addr = server(Config {
            rate_limit: Some(2),
            ..config(1, 5)
        });
        let (path, auth) = token();
        let started = Instant::now();
        let answers: Vec<Answer> = (0..3)
            .map(|_| call(addr, "POST", path, &auth, "grant_type=client_credentials"))
            .collect();
        let other = call(
            addr,
            "GET",
            "/telecomx/mvno/553ca0f477392ee4106e9526/usage",
            &[("Authorization", "Basic ZGVtbzpkZW1v")],
            "",
        );
        let list = call(addr, "GET", "/fleet.csv", &[], "");
        if started.elapsed() >= Duration::from_millis(900) {
            assert!(
                attempt < 5,
                "the machine is too slow for a one-second window"
            );
            continue;
        }
        assert_eq!(answers[0].status, 200);
        assert_eq!(answers[1].status, 200);
        assert_eq!(answers[2].status, 429, "{}", answers[2].body);
        assert!(
            answers[2].head.contains("Retry-After: 1"),
            "{}",
            answers[2].head
        );
        assert!(answers[2].body.contains("tooManyRequests"));
        assert_eq!(other.status, 200, "another carrier has its own budget");
        assert_eq!(list.status, 200, "/fleet.csv is not limited");
        // A second later the carrier answers again.
        std::thread::sleep(Duration::from_millis(1100));
        let again = call(addr, "POST", path, &auth, "grant_type=client_credentials");
        assert_eq!(again.status, 200);
        break;
    }
}

#[test]
fn rate_limit_holds_across_concurrent_connections() {
    for attempt in 0.. {
        let addr = server(Config {
            rate_limit: Some(3),
            ..config(1, 0)
        });
        let started = Instant::now();
        let threads: Vec<_> = (0..12)
            .map(|_| {
                std::thread::spawn(move || {
                    call(
                        addr,
                        "GET",
                        "/control-center/rws/api/v1/devices/8901170425801873534/usageInZone",
                        &[("Authorization", "Basic ZGVtbzpkZW1vLWFwaS1rZXk=")],
                        "",
                    )
                    .status
                })
            })
            .collect();
        let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        if started.elapsed() >= Duration::from_millis(900) {
            assert!(
                attempt < 5,
                "the machine is too slow for a one-second window"
            );
            continue;
        }
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            3,
            "{statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == 429).count(),
            9,
            "{statuses:?}"
        );
        break;
    }
}
