//! The carrier sandbox: answers like Vodafone VRS, TelecomX, ThingSpace and Control Center, with
//! deterministic data for any valid identifier, the carriers' own error shapes, and faults on
//! demand. Like the real carriers it sends no CORS headers. See sandbox/README.md.

pub mod http;

use std::net::TcpListener;
use std::time::Duration;

use chrono::{Datelike, Duration as Days, NaiveDate};
use serde_json::{json, Value};

use http::{Request, Response};

/// Demo credentials (documented in sandbox/README.md and printed at start).
pub const VODAFONE_CLIENT: (&str, &str) = ("demo-client", "demo-secret");
pub const TELECOMX_BASIC: (&str, &str) = ("demo", "demo");
pub const TELECOMX_TOKEN: &str = "demo-token";
pub const THINGSPACE_KEY: (&str, &str) = ("demo-key", "demo-secret");
pub const THINGSPACE_LOGIN: (&str, &str) = ("demo", "demo");
pub const CONTROL_CENTER: (&str, &str) = ("demo", "demo-api-key");
/// Tokens the sandbox hands out; any other bearer is refused.
const VODAFONE_TOKEN: &str = "vf-sandbox-token";
const THINGSPACE_TOKEN: &str = "ts-sandbox-token";
const THINGSPACE_SESSION: &str = "ts-sandbox-session";
/// ThingSpace answers at most this many rows (document 002).
pub const PAGE_ROWS: usize = 500;

#[derive(Clone, Debug)]
pub struct Config {
    pub seed: u64,
    pub today: NaiveDate,
    pub latency: Duration,
    pub quiet: bool,
    /// How long the `timeout` fault holds a connection.
    pub hang: Duration,
    /// A fault applied to every request that names none itself (`--fault`).
    pub fault: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 1,
            today: chrono::Utc::now().date_naive(),
            latency: Duration::ZERO,
            quiet: true,
            hang: Duration::from_secs(30),
            fault: None,
        }
    }
}

/// Binds and serves in a background thread; returns the bound address.
pub fn start(listener: TcpListener, config: Config) -> std::io::Result<std::net::SocketAddr> {
    let addr = listener.local_addr()?;
    let latency = config.latency;
    let quiet = config.quiet;
    std::thread::spawn(move || http::serve(listener, latency, quiet, move |r| handle(&config, r)));
    Ok(addr)
}

/// splitmix64: small, fast, deterministic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64, key: &str) -> Rng {
        let mut h = seed ^ 0x9e37_79b9_7f4a_7c15;
        for b in key.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
        Rng(h)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
}

fn base64_decode(text: &str) -> Option<String> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.trim().bytes().filter(|b| *b != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    String::from_utf8(out).ok()
}

fn basic_is(request: &Request, expected: (&str, &str)) -> bool {
    request
        .header("Authorization")
        .and_then(|a| a.strip_prefix("Basic "))
        .and_then(base64_decode)
        .is_some_and(|d| d == format!("{}:{}", expected.0, expected.1))
}

fn bearer_is(request: &Request, token: &str) -> bool {
    request
        .header("Authorization")
        .and_then(|a| {
            a.strip_prefix("Bearer ")
                .or_else(|| a.strip_prefix("bearer "))
        })
        .is_some_and(|t| t.trim() == token)
}

fn fault(request: &Request) -> Option<String> {
    request
        .param("fault")
        .or_else(|| request.header("X-Sandbox-Fault"))
        .map(str::to_owned)
}

fn luhn_ok(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(c - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Routes one request.
pub fn handle(config: &Config, request: &Request) -> Response {
    let fault = fault(request).or_else(|| config.fault.clone());
    match fault.as_deref() {
        Some("timeout") => {
            let mut r = Response::empty(504);
            r.hang = Some(config.hang);
            return r;
        }
        Some("429") => {
            return Response::json(429, &json!({"code": "tooManyRequests", "reason": "API rate limit exceeded.", "errorCode": "tooManyRequests", "errorMessage": "API rate limit exceeded."}))
                .with_header("Retry-After", "1")
        }
        Some("500") => return server_error(&request.path),
        _ => {}
    }
    let path = request.path.as_str();
    let mut response = if let Some(rest) = path.strip_prefix("/vodafone") {
        vodafone(config, request, rest, fault.as_deref())
    } else if let Some(rest) = path.strip_prefix("/telecomx") {
        telecomx(config, request, rest)
    } else if let Some(rest) = path.strip_prefix("/thingspace") {
        thingspace(config, request, rest, fault.as_deref())
    } else if let Some(rest) = path.strip_prefix("/control-center") {
        control_center(config, request, rest)
    } else {
        Response::text(404, "text/plain", "unknown path: the sandbox serves /vodafone, /telecomx, /thingspace and /control-center\n".into())
    };
    if fault.as_deref() == Some("truncate") {
        response.truncate = true;
    }
    response
}

fn server_error(path: &str) -> Response {
    let body = if path.starts_with("/control-center") {
        json!({"errorCode": "30000001", "errorMessage": "Unknown server error."})
    } else if path.starts_with("/vodafone") {
        json!({"code": "internalError", "reason": "Internal server error occurred.", "status": "500"})
    } else {
        json!({"errorCode": "internalError", "errorMessage": "Internal server error occurred."})
    };
    Response::json(500, &body)
}

fn tmf_error(status: u16, code: &str, reason: &str) -> Response {
    Response::json(
        status,
        &json!({"code": code, "reason": reason, "message": reason, "status": status.to_string()}),
    )
}

fn vodafone(config: &Config, request: &Request, rest: &str, fault: Option<&str>) -> Response {
    if rest == "/oauth2/token" {
        if request.method != "POST" {
            return Response::empty(405);
        }
        if !basic_is(request, VODAFONE_CLIENT) {
            return Response::json(
                401,
                &json!({"error": "invalid_client", "error_description": "Client authentication failed"}),
            );
        }
        return Response::json(
            200,
            &json!({"access_token": VODAFONE_TOKEN, "token_type": "Bearer", "expires_in": 3599, "scope": "usage"}),
        );
    }
    let Some(imsi) = rest.strip_prefix("/tmf-api/usageManagement/v4/usage/") else {
        return tmf_error(
            404,
            "notFound",
            "Resource with specified ID does not exist.",
        );
    };
    if request.header("Authorization").is_none()
        || !bearer_is(request, VODAFONE_TOKEN)
        || fault == Some("expire-token")
    {
        return tmf_error(
            401,
            "missingToken",
            "Authentication token is missing or invalid.",
        );
    }
    if !(all_digits(imsi) && imsi.len() == 15) {
        return tmf_error(422, "invalidValue", "IMSI format is invalid.");
    }
    if !(imsi.starts_with("262") || imsi.starts_with("234")) {
        return tmf_error(403, "accessForbidden", "IMSI not in user's allowed range.");
    }
    if imsi.ends_with("000") {
        return Response::empty(204);
    }
    let mut rng = Rng::new(config.seed, imsi);
    let events = request
        .param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, 100);
    let list: Vec<Value> = (0..events)
        .map(|i| vodafone_usage(config, &mut rng, imsi, i))
        .collect();
    let mut response = if request.param("limit").is_some() {
        Response::json(200, &Value::Array(list)).with_header("X-Total-Count", &events.to_string())
    } else {
        Response::json(200, &list[0])
    };
    if let Some(c) = request.header("X-Correlator") {
        response = response.with_header("X-Correlator", c);
    }
    response
}

fn vodafone_usage(config: &Config, rng: &mut Rng, imsi: &str, index: usize) -> Value {
    let home = if imsi.starts_with("262") {
        ("Germany", "262", "002", "Vodafone GmbH")
    } else {
        ("United Kingdom", "234", "015", "Vodafone UK")
    };
    let visited = [
        (
            "Italy",
            "222",
            "010",
            "222/010 Italy Vodafone Italia S.p.A",
            "ITAOM",
        ),
        (
            "Spain",
            "214",
            "001",
            "214/001 Spain Vodafone Spain",
            "ESPAT",
        ),
    ];
    let roaming = rng.range(0, 3) > 0;
    let v = if roaming {
        visited[rng.range(0, 1) as usize]
    } else {
        (home.0, home.1, home.2, "home", "HOME")
    };
    let at = config
        .today
        .and_hms_opt(0, 0, 0)
        .map_or(0, |d| d.and_utc().timestamp())
        - (index as i64 + 1) * 3600 * 7
        - rng.range(0, 3000) as i64;
    let begin = chrono::DateTime::from_timestamp(at, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    let down = rng.range(10_000, 90_000_000);
    let up = down / rng.range(3, 12);
    let c = |name: &str, value: Value| json!({"name": name, "value": value});
    json!({
        "@type": "Usage", "@baseType": "Usage",
        "id": format!("{:x}-{index}", rng.next_u64() & 0xffff_ffff),
        "usageDate": begin, "usageType": "Network Usage Event", "status": "Accepted",
        "usageCharacteristic": [
            c("apnname", json!("web.vodafone.de.mnc002.mcc262.gprs")), c("celltype", json!("4G")),
            c("handset_manufacturer", json!("Apple")), c("handset_model", json!("Apple iphone 15(A3090)")), c("handset_os", json!("iOS")),
            c("begin_period", json!(begin)), c("download_active_ms_total", json!(rng.range(500, 9000).to_string())),
            c("downloaded_bytes", json!(down.to_string())), c("download_max_throughput_kbps", json!("12000")),
            c("download_throughput_mbps", json!("12")), c("upload_active_ms_total", json!(rng.range(500, 9000).to_string())),
            c("uploaded_bytes", json!(up.to_string())), c("upload_max_throughput_kbps", json!("2800")), c("upload_throughput_mbps", json!("2.8")),
            c("hcountry", json!(home.0)), c("hmcc", json!(home.1)), c("hmnc", json!(home.2)), c("hnet", json!(home.3)),
            c("msidsntac", json!("491755")), c("vcountry", json!(v.0)), c("vmcc", json!(v.1)), c("vmnc", json!(v.2)),
            c("vplmn_tag", json!(v.3)), c("vtadig", json!(v.4)), c("ratname", json!("EUTRAN")),
            c("imeitac", json!(35106958)), c("imsitac", json!(27291271282u64)), c("data_used", json!(rng.range(0, 200_000)))
        ]
    })
}

fn month_start(year: i32, month: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, 1)
}

fn parse_month(text: Option<&str>) -> Result<Option<NaiveDate>, ()> {
    match text {
        None | Some("") => Ok(None),
        Some(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map(|d| month_start(d.year(), d.month()))
            .map_err(|_| ()),
    }
}

fn telecomx(config: &Config, request: &Request, rest: &str) -> Response {
    let err = |status: u16, code: &str, message: &str| {
        Response::json(status, &json!({"error": code, "message": message}))
    };
    let Some((account, tail)) = rest.strip_prefix("/mvno/").and_then(|r| r.split_once('/')) else {
        return err(
            400,
            "bad_request",
            "MVNO account id not found in request URI",
        );
    };
    if tail != "usage" {
        return err(404, "not_found", "unknown resource");
    }
    if !(account.len() == 24 && account.bytes().all(|b| b.is_ascii_hexdigit())) {
        return err(
            400,
            "bad_request",
            "MVNO account id not found in request URI",
        );
    }
    if !(basic_is(request, TELECOMX_BASIC) || bearer_is(request, TELECOMX_TOKEN)) {
        return err(403, "access_denied", "Insufficient access level");
    }
    if account.starts_with("000") {
        return err(404, "sipAccount", "MVNO account not found");
    }
    let (Ok(from), Ok(to)) = (
        parse_month(request.param("fromDate")),
        parse_month(request.param("toDate")),
    ) else {
        return err(400, "bad_request", "dates are yyyy-mm-dd");
    };
    let from = from
        .or_else(|| month_start(config.today.year(), config.today.month()))
        .unwrap_or(config.today);
    let to = to.unwrap_or(from);
    if to < from {
        return err(422, "toDate", "To date is before from date");
    }
    let months = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32 + 1;
    if months > 12 {
        return err(409, "toDate", "The date span is too large, max 1 year");
    }
    let mut rng = Rng::new(config.seed, account);
    let regions = [
        ("5f0000000000000000000001", "Danmark", false, true),
        ("5f0000000000000000000002", "EU", true, false),
        ("5f0000000000000000000003", "USA, Canada", false, false),
    ];
    let mut data = Vec::new();
    let mut voice = Vec::new();
    let mut sms = Vec::new();
    let mut mms = Vec::new();
    let mut rows = Vec::new();
    for m in 0..months {
        let month = month_start(
            from.year() + (from.month0() as i32 + m) / 12,
            (from.month0() + m as u32) % 12 + 1,
        )
        .unwrap_or(from);
        let date = format!("{}T00:00:00.000Z", month.format("%Y-%m-%d"));
        let bytes: Vec<u64> = regions
            .iter()
            .enumerate()
            .map(|(i, _)| {
                if i == 0 {
                    rng.range(1, 9) << 30
                } else {
                    rng.range(0, 800) << 20
                }
            })
            .collect();
        data.push(json!({"date": date, "regions": regions.iter().zip(&bytes).map(|(r, b)| json!({"_id": r.0, "name": r.1, "roamLikeHome": r.2, "homeland": r.3, "bytes": b})).collect::<Vec<_>>()}));
        let homeland_remaining = 36_000 - rng.range(0, 40_000) as i64;
        let eu = -(rng.range(0, 900) as i64);
        let roaming_remaining = [
            6000 - rng.range(0, 6000) as i64,
            -(rng.range(0, 600) as i64),
        ];
        voice.push(json!({"date": date, "homeland": homeland_remaining, "euNordic": eu, "restOfEurope": 0, "world1": -(rng.range(0, 120) as i64), "world2": 0, "world3": 0,
            "subscriptionHomeland": 36000, "subscriptionEuNordic": 0, "subscriptionRestOfEurope": 0, "subscriptionWorld1": 0, "subscriptionWorld2": 0, "subscriptionWorld3": 0,
            "roamingRegions": [
                {"_id": regions[1].0, "name": regions[1].1, "roamLikeHome": true, "homeland": false, "subscriptionSeconds": 6000, "seconds": roaming_remaining[0]},
                {"_id": regions[2].0, "name": regions[2].1, "roamLikeHome": false, "homeland": false, "subscriptionSeconds": 0, "seconds": roaming_remaining[1]}]}));
        let s = [rng.range(50, 300), rng.range(0, 20), rng.range(0, 15)];
        let mm = [rng.range(0, 20), rng.range(0, 3), rng.range(0, 3)];
        sms.push(json!({"date": date, "homeland": s[0], "international": s[1], "roaming": s[2]}));
        mms.push(
            json!({"date": date, "homeland": mm[0], "international": mm[1], "roaming": mm[2]}),
        );
        rows.push((
            month,
            homeland_remaining,
            eu,
            roaming_remaining,
            bytes,
            s,
            mm,
        ));
    }
    let mid = |d: NaiveDate, day: u32| format!("{}-{:02}T10:00:00.000Z", d.format("%Y-%m"), day);
    if request
        .param("type")
        .is_some_and(|t| t.eq_ignore_ascii_case("csv"))
    {
        let mut out = String::from("number,name,ratePlan,year,month,Voice Homeland secs,Voice EU/Nordic secs,Voice rest of europe secs,voice World 1 secs,Voice World 2 secs,Voice World 3 secs,Voice roaming EU secs,\"Voice roaming USA, Canada secs\",Voice subscription roaming EU secs,\"Voice subscription roaming USA, Canada secs\",Voice subscription Homeland secs,Voice subscription EU/Nordic secs,Voice subscription rest of Europe secs,Voice subscription World 1 secs,Voice subscription World 2 secs,Voice subscription World 3 secs,Data Homeland bytes,Data EU/Nordic bytes,Data rest of Europe bytes,Data World 1 bytes,Data World 2 bytes,Data World 3 bytes,SMS Homeland,SMS international,SMS roaming,MMS Homeland,MMS international,MMS roaming\n");
        for (month, h, eu, r, b, s, mm) in rows {
            out.push_str(&format!("+4571919999,Sandbox User,\"Free speech, free text, 12Gb\",{},{},{h},{eu},0,0,0,0,{},{},6000,0,36000,0,0,0,0,0,{},{},0,{},0,0,{},{},{},{},{},{}\n",
                month.year(), month.month(), r[0], r[1], b[0], b[1], b[2], s[0], s[1], s[2], mm[0], mm[1], mm[2]));
        }
        return Response::text(200, "text/csv", out);
    }
    let body = json!({
        "account": {"_id": account, "number": "+4571919999", "name": "Sandbox User", "ratePlan": "5538b009d78aeb0e930035ff", "ratePlanName": "Free speech, free text, 12Gb", "data": 12288},
        "data": data, "voice": voice, "sms": sms, "mms": mms,
        "charges": [{"date": mid(from, 14), "number": "+451231", "description": "X-Factor stemme, udbydes af DR", "amount": 1, "price": 2.5, "vat": true, "wholesale": 2.5, "cost": 2.5}],
        "restOfWorldChangeLog": [{"type": "ACTIVATION", "soc": {"_id": "ROW1GB", "description": "Roaming Soc - 1 gb autostart", "rowType": "AUTOSTART"},
            "cost": 5, "wholesale": 10, "price": 15, "when": mid(from, 3), "expiresAt": mid(to, 28), "isIncluded": false}]
    });
    Response::json(200, &body)
}

fn m2m_error(status: u16, code: &str, message: &str) -> Response {
    Response::json(status, &json!({"errorCode": code, "errorMessage": message}))
}

fn thingspace(config: &Config, request: &Request, rest: &str, fault: Option<&str>) -> Response {
    match rest {
        "/api/ts/v1/oauth2/token" => {
            if !basic_is(request, THINGSPACE_KEY) {
                return Response::json(
                    401,
                    &json!({"error": "invalid_client", "error_description": "Client authentication failed"}),
                );
            }
            Response::json(
                200,
                &json!({"access_token": THINGSPACE_TOKEN, "token_type": "bearer", "expires_in": 3600, "scope": "ts.usage"}),
            )
        }
        "/api/m2m/v1/session/login" => {
            if !bearer_is(request, THINGSPACE_TOKEN) {
                return Response::json(
                    401,
                    &json!({"fault": {"code": "900901", "message": "Invalid Credentials"}}),
                );
            }
            let body: Value = serde_json::from_str(&request.body).unwrap_or(Value::Null);
            if body.get("username").and_then(Value::as_str) != Some(THINGSPACE_LOGIN.0)
                || body.get("password").and_then(Value::as_str) != Some(THINGSPACE_LOGIN.1)
            {
                return m2m_error(
                    400,
                    "UnifiedWebService.INPUT_INVALID.Credentials",
                    "Invalid user name or password",
                );
            }
            Response::json(200, &json!({"sessionToken": THINGSPACE_SESSION}))
        }
        "/api/m2m/v1/devices/usage/actions/list" => {
            if !bearer_is(request, THINGSPACE_TOKEN) {
                return Response::json(
                    401,
                    &json!({"fault": {"code": "900901", "message": "Invalid Credentials"}}),
                );
            }
            if request.header("VZ-M2M-Token") != Some(THINGSPACE_SESSION)
                || fault == Some("expire-token")
            {
                return m2m_error(
                    401,
                    "UnifiedWebService.REQUEST_FAILED.SessionToken.Expired",
                    "Session token is expired or invalid",
                );
            }
            usage_list(config, request, fault == Some("no-advance"))
        }
        _ => m2m_error(
            404,
            "UnifiedWebService.REQUEST_FAILED.NotFound",
            "unknown resource",
        ),
    }
}

fn device_ok(kind: &str, id: &str) -> bool {
    let digits = all_digits(id);
    match kind.to_ascii_lowercase().as_str() {
        "esn" => digits && id.len() == 11,
        "iccid" => digits && id.len() <= 20 && id.len() >= 18,
        "imei" => digits && (15..=16).contains(&id.len()),
        "mdn" => digits && id.len() == 10,
        "meid" => id.len() == 14 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "msisdn" => digits && id.len() == 11,
        "eid" => digits && id.len() == 32,
        _ => false,
    }
}

fn usage_list(config: &Config, request: &Request, no_advance: bool) -> Response {
    let body: Value = match serde_json::from_str(&request.body) {
        Ok(v) => v,
        Err(_) => {
            return m2m_error(
                400,
                "UnifiedWebService.INPUT_INVALID.Body",
                "The request body is not valid JSON",
            )
        }
    };
    let (key, device) = if let Some(d) = body.get("deviceId") {
        let kind = d.get("kind").and_then(Value::as_str).unwrap_or_default();
        let id = d.get("id").and_then(Value::as_str).unwrap_or_default();
        if !device_ok(kind, id) {
            return m2m_error(
                400,
                "UnifiedWebService.INPUT_INVALID.DeviceId",
                &format!("Invalid device identifier {kind}/{id}"),
            );
        }
        (
            format!("{}:{id}", kind.to_ascii_lowercase()),
            json!({"kind": kind.to_ascii_lowercase(), "id": id}),
        )
    } else if let Some(l) = body.get("label") {
        let name = l.get("name").and_then(Value::as_str).unwrap_or_default();
        let value = l.get("value").and_then(Value::as_str).unwrap_or_default();
        if name.is_empty() || name.len() > 20 || value.is_empty() || value.len() > 50 {
            return m2m_error(
                400,
                "UnifiedWebService.INPUT_INVALID.Label",
                "Invalid label",
            );
        }
        (
            format!("label:{name}={value}"),
            json!({"kind": "label", "id": format!("{name}={value}")}),
        )
    } else {
        return m2m_error(
            400,
            "UnifiedWebService.INPUT_INVALID.DeviceId",
            "deviceId or label is required",
        );
    };
    let parse = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|d| d.timestamp())
    };
    let (Some(earliest), Some(latest)) = (parse("earliest"), parse("latest")) else {
        return m2m_error(
            400,
            "UnifiedWebService.INPUT_INVALID.Date",
            "earliest and latest are required RFC 3339 date-times",
        );
    };
    // Fault `no-advance`: always the same page, whatever `earliest` says.
    let earliest = if no_advance {
        latest - 30 * 86_400
    } else {
        earliest
    };
    // Retention: 12 months back from today.
    let today = config
        .today
        .and_hms_opt(0, 0, 0)
        .map_or(0, |d| d.and_utc().timestamp());
    let retained_from = today - 365 * 86_400;
    let first_day = earliest.max(retained_from).div_euclid(86_400) * 86_400;
    let first_day = if first_day < earliest {
        first_day + 86_400
    } else {
        first_day
    };
    let last_day = latest.min(today);
    // Two rows per day, each the usage of half a day (00:00 and 12:00), so a year of history
    // needs more than one 500-row page without counting any usage twice.
    let mut rows = Vec::new();
    let mut day = first_day;
    while day <= last_day {
        for t in [day, day + 43_200] {
            if t >= earliest && t <= latest {
                rows.push(usage_row(config, &key, t));
            }
        }
        day += 86_400;
    }
    let page: Vec<Value> = rows.iter().take(PAGE_ROWS).cloned().collect();
    let more = rows.len() > PAGE_ROWS || (no_advance && !rows.is_empty());
    let body = json!({"hasMoreData": more, "deviceId": device, "usageHistory": page});
    Response::json(if more { 202 } else { 200 }, &body)
}

fn usage_row(config: &Config, key: &str, t: i64) -> Value {
    let mut rng = Rng::new(config.seed ^ t as u64, key);
    let weekday =
        chrono::DateTime::from_timestamp(t, 0).map_or(0, |d| d.weekday().num_days_from_monday());
    let scale = if weekday >= 5 { 4 } else { 10 };
    let domestic = rng.range(0, 60) * scale * 50_000;
    let roaming_day = rng.range(0, 9) == 0;
    let international = if roaming_day {
        rng.range(1, 80) * 1_000_000
    } else {
        0
    };
    let mo = rng.range(0, 4);
    let mt = rng.range(0, 3);
    json!({
        "bytesUsed": domestic + international,
        "extendedAttributes": [
            {"key": "MoSms", "value": mo.to_string()}, {"key": "MtSms", "value": mt.to_string()},
            {"key": "domesticUsage", "value": domestic.to_string()}, {"key": "internationalUsage", "value": international.to_string()}],
        "smsUsed": mo + mt,
        "source": "Raw Usage",
        "servicePlan": "ThingSpace M2M 5GB",
        "timestamp": chrono::DateTime::from_timestamp(t, 0).map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_default(),
    })
}

fn cc_error(status: u16, code: &str, message: &str) -> Response {
    Response::json(status, &json!({"errorCode": code, "errorMessage": message}))
}

fn control_center(config: &Config, request: &Request, rest: &str) -> Response {
    let Some(rest) = rest.strip_prefix("/rws/api/") else {
        return cc_error(404, "20000001", "Resource not found - Invalid ICCID.");
    };
    let Some((version, rest)) = rest.split_once('/') else {
        return cc_error(404, "20000001", "Resource not found - Invalid ICCID.");
    };
    if !basic_is(request, CONTROL_CENTER) {
        return cc_error(401, "10000001", "Invalid credentials.");
    }
    if version != "v1" {
        return cc_error(400, "10000024", "Invalid apiVersion.");
    }
    let Some(iccid) = rest
        .strip_prefix("devices/")
        .and_then(|r| r.strip_suffix("/usageInZone"))
    else {
        return cc_error(404, "20000001", "Resource not found - Invalid ICCID.");
    };
    if !(all_digits(iccid) && (18..=20).contains(&iccid.len()) && luhn_ok(iccid)) {
        return cc_error(404, "20000001", "Resource not found - Invalid ICCID.");
    }
    if let Some((k, _)) = request
        .query
        .iter()
        .find(|(k, _)| !["cycleStartDate", "ratePlan", "zone", "fault"].contains(&k.as_str()))
    {
        return cc_error(
            400,
            "10000028",
            &format!("Invalid request: unrecognized parameter {k}."),
        );
    }
    // Cycles start on the 10th; the last three (current and two before) are available.
    let current = if config.today.day() >= 10 {
        NaiveDate::from_ymd_opt(config.today.year(), config.today.month(), 10)
    } else {
        config
            .today
            .checked_sub_months(chrono::Months::new(1))
            .and_then(|d| NaiveDate::from_ymd_opt(d.year(), d.month(), 10))
    }
    .unwrap_or(config.today);
    let oldest = current
        .checked_sub_months(chrono::Months::new(2))
        .unwrap_or(current);
    let start = match request.param("cycleStartDate") {
        None => current,
        Some(t) => match NaiveDate::parse_from_str(t.trim_end_matches('Z'), "%Y-%m-%d") {
            Err(_) => return cc_error(400, "10000012", "Invalid date format."),
            Ok(d) if d < oldest || d > current || d.day() != 10 => {
                return cc_error(
                    400,
                    "10000032",
                    &format!(
                        "Cycle Start Date should be greater than or equal to {}.",
                        oldest.format("%Y-%m-%d")
                    ),
                )
            }
            Ok(d) => d,
        },
    };
    let end = start
        .checked_add_months(chrono::Months::new(1))
        .map_or(start, |d| d - Days::days(1));
    let plans = [
        ("IoT Flex Global", "2"),
        ("IoT Flex Global", "3"),
        ("EU Roaming Pool", "1"),
    ];
    let zones = ["Zone 1 - Home", "Zone 2 - Europe", "Zone 3 - World"];
    if let Some(p) = request.param("ratePlan") {
        if !plans.iter().any(|(name, _)| *name == p) {
            return cc_error(404, "10000013", "Invalid ratePlan.");
        }
    }
    if let Some(z) = request.param("zone") {
        if !zones.contains(&z) {
            return cc_error(400, "10000031", "Invalid Zone.");
        }
    }
    let mut rng = Rng::new(config.seed ^ start.num_days_from_ce() as u64, iccid);
    let mut usage = serde_json::Map::new();
    for (plan, version) in plans {
        if request.param("ratePlan").is_some_and(|p| p != plan) {
            continue;
        }
        let used: Vec<&str> = zones
            .iter()
            .filter(|z| request.param("zone").is_none_or(|want| want == **z))
            .copied()
            .filter(|_| rng.range(0, 4) > 0)
            .collect();
        let rows: Vec<Value> = used
            .into_iter()
            .map(|zone| json!({
                "ratePlan": plan, "ratePlanVersion": version, "zone": zone,
                "dataUsage": rng.range(0, 900) * 1_048_576 + rng.range(0, 1_048_575), "dataUsageUnit": "bytes",
                "voiceMTUsage": rng.range(0, 1800), "voiceMTUsageUnit": "seconds",
                "voiceMOUsage": rng.range(0, 2400), "voiceMOUsageUnit": "seconds",
                "SMSmtusage": rng.range(0, 40), "SMSmousage": rng.range(0, 60)
            }))
            .collect();
        if !rows.is_empty() {
            usage.insert(format!("{plan}, {version}"), Value::Array(rows));
        }
    }
    Response::json(
        200,
        &json!({
            "iccid": iccid,
            "timestamp": format!("{}T09:00:00.000Z", config.today.format("%Y-%m-%d")),
            "cycleStartDate": format!("{}T00:00:00.000Z", start.format("%Y-%m-%d")),
            "cycleEndDate": format!("{}T23:59:59.999Z", end.format("%Y-%m-%d")),
            "deviceCycleUsageInZones": usage
        }),
    )
}
