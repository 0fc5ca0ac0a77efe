//! The sandbox over real sockets: each carrier's happy path and auth error, ThingSpace paging,
//! faults, determinism, and no CORS headers.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

use carrier_sandbox::{start, Config};

fn server() -> SocketAddr {
    let config = Config {
        today: chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        hang: std::time::Duration::from_millis(200),
        ..Config::default()
    };
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

const TS_AUTH: [(&str, &str); 2] = [
    ("Authorization", "Bearer ts-sandbox-token"),
    ("VZ-M2M-Token", "ts-sandbox-session"),
];

#[test]
fn vodafone_token_usage_and_errors() {
    let addr = server();
    let bad = call(
        addr,
        "POST",
        "/vodafone/oauth2/token",
        &[("Authorization", "Basic eDp5")],
        "grant_type=client_credentials",
    );
    assert_eq!(bad.status, 401);
    let token = call(
        addr,
        "POST",
        "/vodafone/oauth2/token",
        &[("Authorization", "Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=")],
        "grant_type=client_credentials",
    );
    assert_eq!(token.status, 200);
    assert!(token.body.contains("\"expires_in\":3599"));
    let auth = [
        ("Authorization", "Bearer vf-sandbox-token"),
        ("X-Correlator", "abc"),
    ];
    let usage = call(
        addr,
        "GET",
        "/vodafone/tmf-api/usageManagement/v4/usage/262021234567890",
        &auth,
        "",
    );
    assert_eq!(usage.status, 200);
    assert!(usage.body.contains("usageCharacteristic") && usage.body.contains("downloaded_bytes"));
    assert!(usage.head.contains("X-Correlator: abc"));
    assert!(
        !usage.head.to_ascii_lowercase().contains("access-control"),
        "no CORS headers"
    );
    assert_eq!(
        call(
            addr,
            "GET",
            "/vodafone/tmf-api/usageManagement/v4/usage/2620212345",
            &auth,
            ""
        )
        .status,
        422
    );
    assert_eq!(
        call(
            addr,
            "GET",
            "/vodafone/tmf-api/usageManagement/v4/usage/310021234567890",
            &auth,
            ""
        )
        .status,
        403
    );
    assert_eq!(
        call(
            addr,
            "GET",
            "/vodafone/tmf-api/usageManagement/v4/usage/262021234567000",
            &auth,
            ""
        )
        .status,
        204
    );
    let again = call(
        addr,
        "GET",
        "/vodafone/tmf-api/usageManagement/v4/usage/262021234567890",
        &auth,
        "",
    );
    assert_eq!(again.body, usage.body, "deterministic");
}

#[test]
fn thingspace_login_paging_and_errors() {
    let addr = server();
    assert!(call(
        addr,
        "POST",
        "/thingspace/api/ts/v1/oauth2/token",
        &[("Authorization", "Basic eDp5")],
        ""
    )
    .body
    .contains("invalid_client"));
    let wrong = call(
        addr,
        "POST",
        "/thingspace/api/m2m/v1/devices/usage/actions/list",
        &[("Authorization", "Bearer nope")],
        "{}",
    );
    assert!(wrong.body.contains("900901"));
    let expired = call(
        addr,
        "POST",
        "/thingspace/api/m2m/v1/devices/usage/actions/list",
        &[
            ("Authorization", "Bearer ts-sandbox-token"),
            ("VZ-M2M-Token", "old"),
        ],
        "{}",
    );
    assert!(expired.body.contains("SessionToken.Expired"));
    let body = |earliest: &str| {
        format!(
            r#"{{"deviceId":{{"kind":"imei","id":"490154203237518"}},"earliest":"{earliest}","latest":"2026-11-20T23:59:59Z"}}"#
        )
    };
    let first = call(
        addr,
        "POST",
        "/thingspace/api/m2m/v1/devices/usage/actions/list",
        &TS_AUTH,
        &body("2025-11-21T00:00:00Z"),
    );
    assert_eq!(first.status, 202);
    let v: serde_json::Value = serde_json::from_str(&first.body).unwrap();
    assert_eq!(v["hasMoreData"], true);
    let rows = v["usageHistory"].as_array().unwrap();
    assert_eq!(rows.len(), 500);
    let last = rows.last().unwrap()["timestamp"].as_str().unwrap();
    let next = chrono::DateTime::parse_from_rfc3339(last)
        .unwrap()
        .timestamp()
        + 1;
    let next = chrono::DateTime::from_timestamp(next, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let second = call(
        addr,
        "POST",
        "/thingspace/api/m2m/v1/devices/usage/actions/list",
        &TS_AUTH,
        &body(&next),
    );
    assert_eq!(second.status, 200);
    let v2: serde_json::Value = serde_json::from_str(&second.body).unwrap();
    assert_eq!(v2["hasMoreData"], false);
    assert_eq!(
        rows.len() + v2["usageHistory"].as_array().unwrap().len(),
        365 * 2,
        "two half-day rows a day for a year, each once"
    );
    let stuck = call(
        addr,
        "POST",
        "/thingspace/api/m2m/v1/devices/usage/actions/list?fault=no-advance",
        &TS_AUTH,
        &body(&next),
    );
    assert_eq!(stuck.status, 202);
    let bad_device = call(
        addr,
        "POST",
        "/thingspace/api/m2m/v1/devices/usage/actions/list",
        &TS_AUTH,
        r#"{"deviceId":{"kind":"mdn","id":"12"},"earliest":"2026-01-01T00:00:00Z","latest":"2026-02-01T00:00:00Z"}"#,
    );
    assert_eq!(bad_device.status, 400);
}

#[test]
fn telecomx_and_control_center() {
    let addr = server();
    let basic = [("Authorization", "Basic ZGVtbzpkZW1v")];
    let ok = call(
        addr,
        "GET",
        "/telecomx/mvno/553ca0f477392ee4106e9526/usage?fromDate=2026-01-01&toDate=2026-03-01",
        &basic,
        "",
    );
    assert_eq!(ok.status, 200);
    let v: serde_json::Value = serde_json::from_str(&ok.body).unwrap();
    assert_eq!(v["voice"].as_array().unwrap().len(), 3);
    let csv = call(
        addr,
        "GET",
        "/telecomx/mvno/553ca0f477392ee4106e9526/usage?fromDate=2026-01-01&type=CSV",
        &basic,
        "",
    );
    assert!(csv.body.starts_with("number,name,ratePlan,year,month"));
    assert_eq!(
        call(addr, "GET", "/telecomx/mvno/553ca0f4/usage", &basic, "").status,
        400
    );
    assert_eq!(
        call(
            addr,
            "GET",
            "/telecomx/mvno/000ca0f477392ee4106e9526/usage",
            &basic,
            ""
        )
        .status,
        404
    );
    assert_eq!(
        call(
            addr,
            "GET",
            "/telecomx/mvno/553ca0f477392ee4106e9526/usage",
            &[],
            ""
        )
        .status,
        403
    );
    assert_eq!(
        call(
            addr,
            "GET",
            "/telecomx/mvno/553ca0f477392ee4106e9526/usage?fromDate=2026-03-01&toDate=2026-01-01",
            &basic,
            ""
        )
        .status,
        422
    );
    assert_eq!(
        call(
            addr,
            "GET",
            "/telecomx/mvno/553ca0f477392ee4106e9526/usage?fromDate=2025-01-01&toDate=2026-01-01",
            &basic,
            ""
        )
        .status,
        409
    );

    let cc = [("Authorization", "Basic ZGVtbzpkZW1vLWFwaS1rZXk=")];
    let path = "/control-center/rws/api/v1/devices/8901170425801873534/usageInZone";
    let usage = call(addr, "GET", path, &cc, "");
    assert_eq!(usage.status, 200, "{}", usage.body);
    assert!(usage.body.contains("deviceCycleUsageInZones"));
    for (query, code) in [
        ("?cycleStartDate=2026-13-10Z", "10000012"),
        ("?ratePlan=Nope", "10000013"),
        ("?foo=1", "10000028"),
        ("?zone=Mars", "10000031"),
        ("?cycleStartDate=2026-01-10Z", "10000032"),
    ] {
        let a = call(addr, "GET", &format!("{path}{query}"), &cc, "");
        assert!(a.body.contains(code), "{query}: {}", a.body);
    }
    assert!(call(addr, "GET", path, &[], "").body.contains("10000001"));
    assert!(call(
        addr,
        "GET",
        "/control-center/rws/api/v2/devices/8901170425801873534/usageInZone",
        &cc,
        ""
    )
    .body
    .contains("10000024"));
    assert!(call(
        addr,
        "GET",
        "/control-center/rws/api/v1/devices/8901170425801873532/usageInZone",
        &cc,
        ""
    )
    .body
    .contains("20000001"));
}

#[test]
fn faults_on_demand() {
    let addr = server();
    let cc = [
        ("Authorization", "Basic ZGVtbzpkZW1vLWFwaS1rZXk="),
        ("X-Sandbox-Fault", "429"),
    ];
    let limited = call(
        addr,
        "GET",
        "/control-center/rws/api/v1/devices/8901170425801873534/usageInZone",
        &cc,
        "",
    );
    assert_eq!(limited.status, 429);
    assert!(limited.head.contains("Retry-After: 1"));
    let failed = call(
        addr,
        "GET",
        "/control-center/rws/api/v1/devices/8901170425801873534/usageInZone?fault=500",
        &[],
        "",
    );
    assert!(failed.status == 500 && failed.body.contains("30000001"));
    let truncated = call(
        addr,
        "GET",
        "/telecomx/mvno/553ca0f477392ee4106e9526/usage?fault=truncate",
        &[("Authorization", "Basic ZGVtbzpkZW1v")],
        "",
    );
    assert!(serde_json::from_str::<serde_json::Value>(&truncated.body).is_err());
    let hung = call(addr, "GET", "/telecomx/mvno/x/usage?fault=timeout", &[], "");
    assert_eq!(hung.status, 0, "no answer at all");
}

/// Reads one answer with a Content-Length off a persistent connection: its head and body.
fn read_answer(reader: &mut impl std::io::BufRead) -> (String, String) {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "connection closed mid-head"
        );
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("Content-Length");
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (head, String::from_utf8(body).unwrap())
}

#[test]
fn persistent_connections() {
    let addr = server();
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let mut writer = &stream;
    let mut reader = std::io::BufReader::new(&stream);
    let request = |close: bool| {
        format!(
            "GET /control-center/rws/api/v1/devices/8901170425801873534/usageInZone HTTP/1.1\r\n\
             Host: x\r\nAuthorization: Basic ZGVtbzpkZW1vLWFwaS1rZXk=\r\n{}\r\n",
            if close { "Connection: close\r\n" } else { "" }
        )
    };
    // Two requests on one connection (as a proxy's upstream keepalive sends them), then one that
    // asks to close it.
    for _ in 0..2 {
        writer.write_all(request(false).as_bytes()).unwrap();
        let (head, body) = read_answer(&mut reader);
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(head.contains("Connection: keep-alive"), "{head}");
        assert!(body.contains("8901170425801873534"), "{body}");
    }
    writer.write_all(request(true).as_bytes()).unwrap();
    let (head, _) = read_answer(&mut reader);
    assert!(head.contains("Connection: close"), "{head}");
    let mut rest = Vec::new();
    assert_eq!(
        reader.read_to_end(&mut rest).unwrap(),
        0,
        "closed after the answer"
    );

    // The counts: this test's connections and requests so far (the count itself is not one).
    let counts = call(addr, "GET", "/_sandbox/connections", &[], "");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&counts.body).unwrap(),
        serde_json::json!({"connections": 2, "requests": 3})
    );

    // HTTP/1.0 clients get one answer per connection.
    let mut old = TcpStream::connect(addr).unwrap();
    old.write_all(b"GET /control-center/rws/api/v1/devices/8901170425801873534/usageInZone HTTP/1.0\r\nAuthorization: Basic ZGVtbzpkZW1vLWFwaS1rZXk=\r\n\r\n")
        .unwrap();
    let mut raw = String::new();
    old.read_to_string(&mut raw).unwrap();
    assert!(raw.contains("Connection: close") && raw.contains("8901170425801873534"));
}
