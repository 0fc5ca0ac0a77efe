//! The carrier sandbox: answers like Vodafone VRS, TelecomX, ThingSpace and Control Center, with
//! deterministic data for any valid identifier, the carriers' own error shapes, and faults on
//! demand. Like the real carriers it sends no CORS headers. See sandbox/README.md.

pub mod http;

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::net::TcpListener;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

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
/// The ThingSpace account whose devices `devices/actions/list` lists.
pub const THINGSPACE_ACCOUNT: &str = "0000123456-00001";
/// ThingSpace device list pages hold at most this many devices.
pub const DEVICE_PAGE: usize = 500;
/// Devices an account has without `--fleet`.
pub const DEFAULT_ACCOUNT_DEVICES: usize = 12;

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
    /// Subjects per carrier listed at `/fleet.csv` (`--fleet`); 0: no fleet.
    pub fleet: usize,
    /// At most this many requests a second per carrier, then 429 (`--rate-limit`); only the
    /// server [`start`] runs applies it.
    pub rate_limit: Option<u32>,
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
            fleet: 0,
            rate_limit: None,
        }
    }
}

/// Binds and serves in a background thread; returns the bound address.
pub fn start(listener: TcpListener, config: Config) -> std::io::Result<std::net::SocketAddr> {
    let addr = listener.local_addr()?;
    let latency = config.latency;
    let quiet = config.quiet;
    let limiter = config.rate_limit.map(RateLimiter::new);
    std::thread::spawn(move || {
        http::serve(listener, latency, quiet, move |r| {
            limiter
                .as_ref()
                .and_then(|l| l.check(r))
                .unwrap_or_else(|| handle(&config, r))
        })
    });
    Ok(addr)
}

/// The four carriers, in the names usagelens gives them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carrier {
    VodafoneVrs,
    Telecomx,
    Thingspace,
    ControlCenter,
}

impl Carrier {
    pub const ALL: [Carrier; 4] = [
        Carrier::VodafoneVrs,
        Carrier::Telecomx,
        Carrier::Thingspace,
        Carrier::ControlCenter,
    ];

    /// `vodafone-vrs`, `telecomx`, `thingspace`, `control-center`.
    pub fn name(self) -> &'static str {
        match self {
            Carrier::VodafoneVrs => "vodafone-vrs",
            Carrier::Telecomx => "telecomx",
            Carrier::Thingspace => "thingspace",
            Carrier::ControlCenter => "control-center",
        }
    }

    /// The kind of identifier its fleet subjects have: `imsi`, `account` or `iccid`.
    pub fn kind(self) -> &'static str {
        match self {
            Carrier::VodafoneVrs => "imsi",
            Carrier::Telecomx => "account",
            Carrier::Thingspace | Carrier::ControlCenter => "iccid",
        }
    }

    pub fn parse(name: &str) -> Option<Carrier> {
        Carrier::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The carrier whose prefix `path` is under.
    pub fn of_path(path: &str) -> Option<Carrier> {
        let prefix = |p: &str| {
            path.strip_prefix(p)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        Carrier::ALL.into_iter().find(|c| {
            prefix(match c {
                Carrier::VodafoneVrs => "/vodafone",
                Carrier::Telecomx => "/telecomx",
                Carrier::Thingspace => "/thingspace",
                Carrier::ControlCenter => "/control-center",
            })
        })
    }
}

/// `--rate-limit`: at most `limit` requests per carrier in any one second (a sliding log of the
/// admitted requests' times), shared by all connection threads.
pub struct RateLimiter {
    limit: u32,
    admitted: Mutex<[VecDeque<Instant>; 4]>,
}

impl RateLimiter {
    pub fn new(limit: u32) -> RateLimiter {
        RateLimiter {
            limit,
            admitted: Mutex::new(Default::default()),
        }
    }

    /// Whether one more request to `carrier` at `now` fits; an admitted one is counted, a refused
    /// one is not.
    pub fn admit(&self, carrier: Carrier, now: Instant) -> bool {
        let mut admitted = self.admitted.lock().unwrap_or_else(PoisonError::into_inner);
        let log = &mut admitted[carrier as usize];
        while log
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= Duration::from_secs(1))
        {
            log.pop_front();
        }
        if log.len() < self.limit as usize {
            log.push_back(now);
            true
        } else {
            false
        }
    }

    /// The 429 for a request to a carrier over its limit; `None` to answer it as usual (paths of
    /// no carrier, such as `/fleet.csv`, are never limited).
    pub fn check(&self, request: &Request) -> Option<Response> {
        let carrier = Carrier::of_path(&request.path)?;
        (!self.admit(carrier, Instant::now())).then(too_many_requests)
    }
}

/// A seeded bijection of `0..base^digits` (affine, digits reversed, affine again): fleet
/// identifiers are the images of their indexes, so whether an identifier is one costs an
/// inversion, not a list.
struct Shuffle {
    base: u128,
    digits: u32,
    modulus: u128,
    add: [u128; 2],
    mul: [u128; 2],
    inverse: [u128; 2],
}

fn gcd(a: u128, b: u128) -> u128 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// `x` with `x * unit ≡ 1 (mod modulus)`, for `unit` coprime to `modulus`.
fn mod_inverse(unit: u128, modulus: u128) -> u128 {
    let (mut r0, mut r1) = (modulus as i128, unit as i128);
    let (mut t0, mut t1) = (0i128, 1i128);
    while r1 != 0 {
        let q = r0 / r1;
        (r0, r1) = (r1, r0 - q * r1);
        (t0, t1) = (t1, t0 - q * t1);
    }
    t0.rem_euclid(modulus as i128) as u128
}

impl Shuffle {
    fn new(seed: u64, key: &str, base: u128, digits: u32) -> Shuffle {
        let mut rng = Rng::new(seed, key);
        let modulus = base.pow(digits);
        let mut next = || u128::from(rng.next_u64()) % modulus;
        let add = [next(), next()];
        let mut unit = || loop {
            let m = next();
            if gcd(m, modulus) == 1 {
                return m;
            }
        };
        let mul = [unit(), unit()];
        Shuffle {
            base,
            digits,
            modulus,
            add,
            mul,
            inverse: mul.map(|m| mod_inverse(m, modulus)),
        }
    }

    fn reverse(&self, mut x: u128) -> u128 {
        let mut r = 0;
        for _ in 0..self.digits {
            r = r * self.base + x % self.base;
            x /= self.base;
        }
        r
    }

    fn forward(&self, index: u128) -> u128 {
        let m = self.modulus;
        let x = (self.add[0] + self.mul[0] * (index % m) % m) % m;
        let x = self.reverse(x);
        (self.add[1] + self.mul[1] * x % m) % m
    }

    fn backward(&self, value: u128) -> u128 {
        let m = self.modulus;
        let x = (value % m + m - self.add[1]) % m * self.inverse[1] % m;
        let x = self.reverse(x);
        (x + m - self.add[0]) % m * self.inverse[0] % m
    }
}

/// The fleet identifiers of one carrier under one seed.
pub struct FleetIds {
    carrier: Carrier,
    shuffle: Shuffle,
}

/// Appends the Luhn check digit.
fn with_luhn(partial: String) -> String {
    (b'0'..=b'9')
        .map(|d| format!("{partial}{}", d as char))
        .find(|id| luhn_ok(id))
        .unwrap_or(partial)
}

impl FleetIds {
    pub fn new(seed: u64, carrier: Carrier) -> FleetIds {
        let (base, digits) = match carrier {
            Carrier::VodafoneVrs => (10, 9),
            Carrier::Telecomx => (16, 16),
            Carrier::Thingspace => (10, 13),
            Carrier::ControlCenter => (10, 11),
        };
        FleetIds {
            carrier,
            shuffle: Shuffle::new(seed, &format!("fleet:{}", carrier.name()), base, digits),
        }
    }

    /// Subject `index`: an IMSI of Vodafone Germany (26202) or UK (23415), never ending in 000;
    /// a 24-hex TelecomX account not starting with 000; a 20-digit Verizon ICCID (891480…) or a
    /// 19-digit Control Center ICCID (8901170…), Luhn-valid.
    pub fn id(&self, index: usize) -> String {
        let body = self.shuffle.forward(index as u128);
        match self.carrier {
            Carrier::VodafoneVrs => {
                let home = if body.is_multiple_of(3) {
                    "23415"
                } else {
                    "26202"
                };
                format!("{home}{body:09}{}", 1 + body / 3 % 9)
            }
            Carrier::Telecomx => {
                // An ObjectId's creation second (2017-2023), unrelated to the rest.
                let second = 0x5a00_0000 + Rng(body as u64).next_u64() % 0x0b00_0000;
                format!("{second:08x}{body:016x}")
            }
            Carrier::Thingspace => with_luhn(format!("891480{body:013}")),
            Carrier::ControlCenter => with_luhn(format!("8901170{body:011}")),
        }
    }

    /// The index of `id` if it is one of the first `count` subjects.
    pub fn index_of(&self, id: &str, count: usize) -> Option<usize> {
        let digits = match self.carrier {
            Carrier::VodafoneVrs => id.get(5..14),
            Carrier::Telecomx => id.get(8..24),
            Carrier::Thingspace => id.get(6..19),
            Carrier::ControlCenter => id.get(7..18),
        }?;
        let body = u128::from_str_radix(digits, self.shuffle.base as u32).ok()?;
        let index = usize::try_from(self.shuffle.backward(body)).ok()?;
        (index < count && self.id(index) == id).then_some(index)
    }
}

/// How much a fleet subject uses, in thousandths of the usual volume, from the seed and its
/// identifier: 70% light (0.1-0.999x), 25% medium (1-3x), 5% heavy (5-20x).
pub fn usage_scale(seed: u64, id: &str) -> u64 {
    let mut rng = Rng::new(seed, &format!("scale:{id}"));
    match rng.range(0, 999) {
        0..=699 => rng.range(100, 999),
        700..=949 => rng.range(1000, 3000),
        _ => rng.range(5000, 20_000),
    }
}

/// The scale of `id`'s usage: [`usage_scale`] for a fleet subject of `carrier`, 1000 (as usual)
/// for anything else, so answers for other identifiers stay what they were.
fn scale_of(config: &Config, carrier: Carrier, id: &str) -> u64 {
    if config.fleet > 0
        && FleetIds::new(config.seed, carrier)
            .index_of(id, config.fleet)
            .is_some()
    {
        usage_scale(config.seed, id)
    } else {
        1000
    }
}

/// `value` times `per_mille` thousandths, rounded.
fn scaled(value: u64, per_mille: u64) -> u64 {
    (value * per_mille + 500) / 1000
}

/// `GET /fleet.csv?carrier=…&count=K`: `identifier,carrier,kind`, the first K subjects of each
/// (or the one named) carrier.
fn fleet_list(config: &Config, request: &Request) -> Response {
    if config.fleet == 0 {
        return Response::text(
            404,
            "text/plain",
            "no fleet: start the sandbox with --fleet N to list N subjects per carrier here\n"
                .into(),
        );
    }
    let carriers = match request.param("carrier") {
        None => Carrier::ALL.to_vec(),
        Some(name) => match Carrier::parse(name) {
            Some(c) => vec![c],
            None => {
                return Response::text(
                    400,
                    "text/plain",
                    format!("unknown carrier {name:?}: use vodafone-vrs, telecomx, thingspace or control-center\n"),
                )
            }
        },
    };
    let count = match request.param("count").map(str::parse::<usize>) {
        None => config.fleet,
        Some(Ok(k)) => k.min(config.fleet),
        Some(Err(_)) => {
            return Response::text(
                400,
                "text/plain",
                "count takes a number of subjects per carrier\n".into(),
            )
        }
    };
    let mut out = String::with_capacity(40 * (count * carriers.len() + 1));
    out.push_str("identifier,carrier,kind\n");
    for carrier in carriers {
        let ids = FleetIds::new(config.seed, carrier);
        for index in 0..count {
            out.push_str(&ids.id(index));
            out.push(',');
            out.push_str(carrier.name());
            out.push(',');
            out.push_str(carrier.kind());
            out.push('\n');
        }
    }
    Response::text(200, "text/csv", out)
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
    // The sandbox's own list, not a carrier's: no faults.
    if request.path == "/fleet.csv" {
        return fleet_list(config, request);
    }
    let fault = fault(request).or_else(|| config.fault.clone());
    match fault.as_deref() {
        Some("timeout") => {
            let mut r = Response::empty(504);
            r.hang = Some(config.hang);
            return r;
        }
        Some("429") => return too_many_requests(),
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
        Response::text(404, "text/plain", "unknown path: the sandbox serves /vodafone, /telecomx, /thingspace, /control-center and /fleet.csv\n".into())
    };
    if fault.as_deref() == Some("truncate") {
        response.truncate = true;
    }
    response
}

/// The 429 of fault `429` and of `--rate-limit`: one body every carrier's reader understands.
fn too_many_requests() -> Response {
    Response::json(429, &json!({"code": "tooManyRequests", "reason": "API rate limit exceeded.", "errorCode": "tooManyRequests", "errorMessage": "API rate limit exceeded."}))
        .with_header("Retry-After", "1")
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
    let scale = scale_of(config, Carrier::VodafoneVrs, imsi);
    let mut rng = Rng::new(config.seed, imsi);
    let events = request
        .param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, 100);
    let list: Vec<Value> = (0..events)
        .map(|i| vodafone_usage(config, &mut rng, imsi, i, scale))
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

fn vodafone_usage(config: &Config, rng: &mut Rng, imsi: &str, index: usize, scale: u64) -> Value {
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
    let down = scaled(rng.range(10_000, 90_000_000), scale);
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
            c("imeitac", json!(35106958)), c("imsitac", json!(27291271282u64)), c("data_used", json!(scaled(rng.range(0, 200_000), scale)))
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
    let scale = scale_of(config, Carrier::Telecomx, account);
    let used = |value: u64| scaled(value, scale) as i64;
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
                scaled(
                    if i == 0 {
                        rng.range(1, 9) << 30
                    } else {
                        rng.range(0, 800) << 20
                    },
                    scale,
                )
            })
            .collect();
        data.push(json!({"date": date, "regions": regions.iter().zip(&bytes).map(|(r, b)| json!({"_id": r.0, "name": r.1, "roamLikeHome": r.2, "homeland": r.3, "bytes": b})).collect::<Vec<_>>()}));
        let homeland_remaining = 36_000 - used(rng.range(0, 40_000));
        let eu = -used(rng.range(0, 900));
        let roaming_remaining = [6000 - used(rng.range(0, 6000)), -used(rng.range(0, 600))];
        voice.push(json!({"date": date, "homeland": homeland_remaining, "euNordic": eu, "restOfEurope": 0, "world1": -used(rng.range(0, 120)), "world2": 0, "world3": 0,
            "subscriptionHomeland": 36000, "subscriptionEuNordic": 0, "subscriptionRestOfEurope": 0, "subscriptionWorld1": 0, "subscriptionWorld2": 0, "subscriptionWorld3": 0,
            "roamingRegions": [
                {"_id": regions[1].0, "name": regions[1].1, "roamLikeHome": true, "homeland": false, "subscriptionSeconds": 6000, "seconds": roaming_remaining[0]},
                {"_id": regions[2].0, "name": regions[2].1, "roamLikeHome": false, "homeland": false, "subscriptionSeconds": 0, "seconds": roaming_remaining[1]}]}));
        let s = [rng.range(50, 300), rng.range(0, 20), rng.range(0, 15)].map(|n| scaled(n, scale));
        let mm = [rng.range(0, 20), rng.range(0, 3), rng.range(0, 3)].map(|n| scaled(n, scale));
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

/// ThingSpace's answer to an M2M call without the token or session the sandbox issued (or
/// with the `expire-token` fault); `None` lets the call through.
fn thingspace_refusal(request: &Request, fault: Option<&str>) -> Option<Response> {
    if !bearer_is(request, THINGSPACE_TOKEN) {
        return Some(Response::json(
            401,
            &json!({"fault": {"code": "900901", "message": "Invalid Credentials"}}),
        ));
    }
    if request.header("VZ-M2M-Token") != Some(THINGSPACE_SESSION) || fault == Some("expire-token") {
        return Some(m2m_error(
            401,
            "UnifiedWebService.REQUEST_FAILED.SessionToken.Expired",
            "Session token is expired or invalid",
        ));
    }
    None
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
        "/api/m2m/v1/devices/actions/list" => {
            if let Some(refused) = thingspace_refusal(request, fault) {
                return refused;
            }
            thingspace_devices(config, request, fault == Some("no-advance"))
        }
        "/api/m2m/v1/devices/usage/actions/list" => {
            if let Some(refused) = thingspace_refusal(request, fault) {
                return refused;
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
    let mut scale = 1000;
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
        if kind.eq_ignore_ascii_case("iccid") {
            scale = scale_of(config, Carrier::Thingspace, id);
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
    let mut times = (0..)
        .map(|d| first_day + d * 86_400)
        .take_while(|day| *day <= last_day)
        .flat_map(|day| [day, day + 43_200])
        .filter(|t| *t >= earliest && *t <= latest);
    // A fleet asks for thousands of pages: only the page's rows are made, written straight into
    // the body, with the keys in the order serde_json writes them (sorted).
    let mut rows = String::with_capacity(PAGE_ROWS * 320);
    let mut count = 0;
    for t in times.by_ref().take(PAGE_ROWS) {
        rows.push(if count == 0 { '[' } else { ',' });
        write_usage_row(&mut rows, config, &key, t, scale);
        count += 1;
    }
    rows.push_str(if count == 0 { "[]" } else { "]" });
    let more = times.next().is_some() || (no_advance && count > 0);
    let body = format!(r#"{{"deviceId":{device},"hasMoreData":{more},"usageHistory":{rows}}}"#);
    Response::text(if more { 202 } else { 200 }, "application/json", body)
}

/// One half-day usage row as JSON, appended to `out`.
fn write_usage_row(out: &mut String, config: &Config, key: &str, t: i64, scale: u64) {
    let mut rng = Rng::new(config.seed ^ t as u64, key);
    let days = t.div_euclid(86_400);
    // 1970-01-01 was a Thursday (3 days from Monday).
    let weekday = (days + 3).rem_euclid(7);
    let day_factor = if weekday >= 5 { 4 } else { 10 };
    let domestic = scaled(rng.range(0, 60) * day_factor * 50_000, scale);
    let roaming_day = rng.range(0, 9) == 0;
    let international = if roaming_day {
        scaled(rng.range(1, 80) * 1_000_000, scale)
    } else {
        0
    };
    let mo = scaled(rng.range(0, 4), scale);
    let mt = scaled(rng.range(0, 3), scale);
    let date = NaiveDate::from_num_days_from_ce_opt(days as i32 + 719_163);
    let second = t.rem_euclid(86_400);
    let _ = write!(
        out,
        r#"{{"bytesUsed":{},"extendedAttributes":[{{"key":"MoSms","value":"{mo}"}},{{"key":"MtSms","value":"{mt}"}},{{"key":"domesticUsage","value":"{domestic}"}},{{"key":"internationalUsage","value":"{international}"}}],"servicePlan":"ThingSpace M2M 5GB","smsUsed":{},"source":"Raw Usage","timestamp":""#,
        domestic + international,
        mo + mt,
    );
    if let Some(d) = date {
        let _ = write!(
            out,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            d.year(),
            d.month(),
            d.day(),
            second / 3600,
            second / 60 % 60,
            second % 60
        );
    }
    out.push_str("\"}");
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
    if rest == "devices" {
        return control_center_devices(config, request);
    }
    let ctd = rest
        .strip_prefix("devices/")
        .and_then(|r| r.strip_suffix("/ctdUsages"));
    let Some(iccid) = ctd.or_else(|| {
        rest.strip_prefix("devices/")
            .and_then(|r| r.strip_suffix("/usageInZone"))
    }) else {
        return cc_error(404, "20000001", "Resource not found - Invalid ICCID.");
    };
    if !(all_digits(iccid) && (18..=20).contains(&iccid.len()) && luhn_ok(iccid)) {
        return cc_error(404, "20000001", "Resource not found - Invalid ICCID.");
    }
    if ctd.is_some() {
        return control_center_ctd(config, request, iccid);
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
    let scale = scale_of(config, Carrier::ControlCenter, iccid);
    let s = |value: u64| scaled(value, scale);
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
                "dataUsage": s(rng.range(0, 900) * 1_048_576 + rng.range(0, 1_048_575)), "dataUsageUnit": "bytes",
                "voiceMTUsage": s(rng.range(0, 1800)), "voiceMTUsageUnit": "seconds",
                "voiceMOUsage": s(rng.range(0, 2400)), "voiceMOUsageUnit": "seconds",
                "SMSmtusage": s(rng.range(0, 40)), "SMSmousage": s(rng.range(0, 60))
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

/// The devices of the sandbox account of `carrier`: the `--fleet` subjects, else a few.
fn account_devices(config: &Config) -> usize {
    if config.fleet > 0 {
        config.fleet
    } else {
        DEFAULT_ACCOUNT_DEVICES
    }
}

/// A device's state, drawn from its identifier: most are active.
fn device_state(config: &Config, id: &str, states: [&'static str; 3]) -> &'static str {
    match Rng::new(config.seed, &format!("state:{id}")).range(0, 99) {
        0..=91 => states[0],
        92..=96 => states[1],
        _ => states[2],
    }
}

/// The current Control Center billing cycle (cycles start on the 10th).
fn current_cycle_start(today: NaiveDate) -> NaiveDate {
    if today.day() >= 10 {
        NaiveDate::from_ymd_opt(today.year(), today.month(), 10)
    } else {
        today
            .checked_sub_months(chrono::Months::new(1))
            .and_then(|d| NaiveDate::from_ymd_opt(d.year(), d.month(), 10))
    }
    .unwrap_or(today)
}

/// `GET /rws/api/v1/devices?modifiedSince&pageSize&pageNumber[&status]`: the account's devices,
/// `pageSize` (at most 50) a page, `lastPage` on the last.
fn control_center_devices(config: &Config, request: &Request) -> Response {
    if let Some((k, _)) = request.query.iter().find(|(k, _)| {
        ![
            "modifiedSince",
            "modifiedTill",
            "pageSize",
            "pageNumber",
            "status",
            "accountId",
            "fault",
        ]
        .contains(&k.as_str())
    }) {
        return cc_error(
            400,
            "10000028",
            &format!("Invalid request: unrecognized parameter {k}."),
        );
    }
    let Some(since) = request.param("modifiedSince") else {
        return cc_error(400, "10000003", "modifiedSince is required.");
    };
    let Some(since) = chrono::DateTime::parse_from_rfc3339(since)
        .ok()
        .map(|d| d.date_naive())
        .or_else(|| NaiveDate::parse_from_str(since.trim_end_matches('Z'), "%Y-%m-%d").ok())
    else {
        return cc_error(400, "10000012", "Invalid date format.");
    };
    let number = |name: &str, default: usize| match request.param(name) {
        None => Some(default),
        Some(t) => t.parse::<usize>().ok(),
    };
    let (Some(size), Some(page)) = (number("pageSize", 50), number("pageNumber", 1)) else {
        return cc_error(400, "10000028", "pageSize and pageNumber take numbers.");
    };
    if !(1..=50).contains(&size) || page == 0 {
        return cc_error(
            400,
            "10000028",
            "pageSize takes 1 to 50 and pageNumber starts at 1.",
        );
    }
    let status = request.param("status");
    let ids = FleetIds::new(config.seed, Carrier::ControlCenter);
    let states = ["ACTIVATED", "DEACTIVATED", "TEST_READY"];
    // Every device changed within the last 300 days: a year back lists them all.
    let modified = |id: &str| {
        config.today
            - Days::days(Rng::new(config.seed, &format!("modified:{id}")).range(0, 300) as i64)
    };
    let matching = (0..account_devices(config))
        .map(|i| ids.id(i))
        .filter(|id| {
            modified(id) >= since
                && status.is_none_or(|s| device_state(config, id, states).eq_ignore_ascii_case(s))
        });
    let mut devices = Vec::with_capacity(size);
    let mut rest = matching.skip((page - 1) * size);
    for id in rest.by_ref().take(size) {
        devices.push(json!({
            "iccid": id,
            "status": device_state(config, &id, states),
            "ratePlan": "IoT Flex Global",
            "communicationPlan": "Data + SMS",
            "dateModified": format!("{}T08:00:00.000Z", modified(&id).format("%Y-%m-%d")),
        }));
    }
    let last = rest.next().is_none();
    Response::json(
        200,
        &json!({"pageNumber": page, "devices": devices, "lastPage": last}),
    )
}

/// `GET /rws/api/v1/devices/{iccid}/ctdUsages`: the current cycle's usage so far. Fleet subjects
/// are scaled like their other usage; heavy users (5x and more) have reached their overage limit.
fn control_center_ctd(config: &Config, request: &Request, iccid: &str) -> Response {
    if let Some((k, _)) = request.query.iter().find(|(k, _)| k != "fault") {
        return cc_error(
            400,
            "10000028",
            &format!("Invalid request: unrecognized parameter {k}."),
        );
    }
    let start = current_cycle_start(config.today);
    let elapsed_days = (config.today - start).num_days() as u64 + 1;
    let scale = scale_of(config, Carrier::ControlCenter, iccid);
    let s = |value: u64| scaled(value, scale);
    let mut rng = Rng::new(
        config.seed ^ start.num_days_from_ce() as u64,
        &format!("ctd:{iccid}"),
    );
    let states = ["ACTIVATED", "DEACTIVATED", "TEST_READY"];
    Response::json(
        200,
        &json!({
            "iccid": iccid,
            "imsi": format!("20404{}", &iccid[iccid.len() - 10..]),
            "msisdn": format!("88235{}", &iccid[iccid.len() - 10..]),
            "deviceID": format!("dev-{}", &iccid[iccid.len() - 6..]),
            "status": device_state(config, iccid, states),
            "ratePlan": "IoT Flex Global",
            "communicationPlan": "Data + SMS",
            "ctdDataUsage": s(elapsed_days * (rng.range(5, 60) * 1_048_576 + rng.range(0, 1_048_575))),
            "ctdSMSUsage": s(elapsed_days * rng.range(0, 6)),
            "ctdVoiceUsage": s(elapsed_days * rng.range(0, 240)),
            "ctdSessionCount": elapsed_days * rng.range(1, 12),
            "overageLimitReached": scale >= 5000,
            "overageLimitOverride": "DEFAULT",
        }),
    )
}

/// `POST /api/m2m/v1/devices/actions/list`: the account's devices, [`DEVICE_PAGE`] a page after
/// `largestDeviceIdSeen`, `hasMoreData` until the last; `currentState` keeps one state.
fn thingspace_devices(config: &Config, request: &Request, no_advance: bool) -> Response {
    let Ok(body) = serde_json::from_str::<Value>(&request.body) else {
        return m2m_error(
            400,
            "UnifiedWebService.INPUT_INVALID.Body",
            "The request body is not valid JSON",
        );
    };
    if body.get("accountName").and_then(Value::as_str) != Some(THINGSPACE_ACCOUNT) {
        return m2m_error(
            400,
            "UnifiedWebService.INPUT_INVALID.AccountName",
            &format!("Unknown account name; the sandbox account is {THINGSPACE_ACCOUNT}"),
        );
    }
    let ids = FleetIds::new(config.seed, Carrier::Thingspace);
    let count = account_devices(config);
    let first = match body.get("largestDeviceIdSeen").and_then(Value::as_str) {
        None => 0,
        Some(_) if no_advance => 0,
        Some(last) => match ids.index_of(last, count) {
            Some(i) => i + 1,
            None => {
                return m2m_error(
                    400,
                    "UnifiedWebService.INPUT_INVALID.LastSeenDeviceId",
                    "largestDeviceIdSeen is not a device of this account",
                )
            }
        },
    };
    let wanted = body.get("currentState").and_then(Value::as_str);
    let states = ["active", "deactive", "suspend"];
    let mut matching = (first..count).map(|i| ids.id(i)).filter(|id| {
        wanted.is_none_or(|w| device_state(config, id, states).eq_ignore_ascii_case(w))
    });
    let mut devices = Vec::with_capacity(DEVICE_PAGE);
    for iccid in matching.by_ref().take(DEVICE_PAGE) {
        let imei = with_luhn(format!("35{}", &iccid[iccid.len() - 12..]));
        let state = device_state(config, &iccid, states);
        devices.push(json!({
            "accountName": THINGSPACE_ACCOUNT,
            "billingCycleEndDate": format!("{}T00:00:00Z", config.today.format("%Y-%m-%d")),
            "carrierInformations": [{"carrierName": "Verizon Wireless", "servicePlan": "ThingSpace M2M 5GB", "state": state}],
            "connected": state == "active",
            "deviceIds": [{"id": iccid, "kind": "iccid"}, {"id": imei, "kind": "imei"}],
            "groupNames": ["Default: 0000123456-00001"],
            "ipAddress": "0.0.0.0",
        }));
    }
    let more = matching.next().is_some() || (no_advance && !devices.is_empty());
    Response::json(200, &json!({"hasMoreData": more, "devices": devices}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffles_invert() {
        for (base, digits) in [(10, 9), (16, 16), (10, 13), (10, 11), (10, 3)] {
            let s = Shuffle::new(5, "t", base, digits);
            let mut seen = std::collections::HashSet::new();
            for i in 0..1000u128 {
                let v = s.forward(i);
                assert!(v < s.modulus);
                assert_eq!(s.backward(v), i, "base {base}, {digits} digits");
                assert!(seen.insert(v), "a bijection");
            }
        }
    }

    #[test]
    fn only_fleet_subjects_are_scaled() {
        let config = Config {
            fleet: 10,
            ..Config::default()
        };
        for carrier in Carrier::ALL {
            let ids = FleetIds::new(1, carrier);
            assert_eq!(ids.index_of(&ids.id(9), 10), Some(9));
            assert_eq!(ids.index_of(&ids.id(10), 10), None);
            assert_eq!(scale_of(&config, carrier, &ids.id(10)), 1000);
            assert_eq!(
                scale_of(&config, carrier, &ids.id(3)),
                usage_scale(1, &ids.id(3))
            );
        }
        assert_eq!(
            scale_of(&config, Carrier::ControlCenter, "8901170425801873534"),
            1000
        );
        assert_eq!(scale_of(&config, Carrier::Telecomx, "short"), 1000);
        assert_eq!(scaled(123, 1000), 123);
        assert_eq!(scaled(10, 150), 2);
    }

    #[test]
    fn rate_limiter_window_slides_per_carrier() {
        let limiter = RateLimiter::new(2);
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        assert!(limiter.admit(Carrier::Telecomx, at(0)));
        assert!(limiter.admit(Carrier::Telecomx, at(400)));
        assert!(!limiter.admit(Carrier::Telecomx, at(500)));
        assert!(limiter.admit(Carrier::Thingspace, at(500)));
        assert!(!limiter.admit(Carrier::Telecomx, at(999)));
        assert!(limiter.admit(Carrier::Telecomx, at(1000)), "the first left");
        assert!(!limiter.admit(Carrier::Telecomx, at(1300)));
        assert!(limiter.admit(Carrier::Telecomx, at(1400)));
    }

    #[test]
    fn carriers_by_path() {
        assert_eq!(
            Carrier::of_path("/vodafone/oauth2/token"),
            Some(Carrier::VodafoneVrs)
        );
        assert_eq!(
            Carrier::of_path("/control-center"),
            Some(Carrier::ControlCenter)
        );
        assert_eq!(Carrier::of_path("/fleet.csv"), None);
        assert_eq!(Carrier::of_path("/telecomxy"), None);
        assert_eq!(Carrier::parse("thingspace"), Some(Carrier::Thingspace));
    }
}
