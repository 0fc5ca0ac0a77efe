//! `carrier-sandbox [--host H] [--port P] [--seed N] [--latency-ms N] [--today YYYY-MM-DD]
//! [--fault KIND] [--hang-ms N] [--fleet N] [--rate-limit N] [--quiet]`

use std::net::TcpListener;
use std::time::Duration;

use carrier_sandbox::{
    start, Config, CONTROL_CENTER, TELECOMX_BASIC, TELECOMX_TOKEN, THINGSPACE_KEY,
    THINGSPACE_LOGIN, VODAFONE_CLIENT,
};

const USAGE: &str = "usage: carrier-sandbox [--host 127.0.0.1] [--port 8787] [--seed 1] [--latency-ms 0] [--today YYYY-MM-DD] [--fault 429|500|timeout|truncate|expire-token|no-advance] [--hang-ms 30000] [--fleet N] [--rate-limit N] [--quiet]";

/// `--fleet` above this would make `/fleet.csv` hundreds of megabytes.
const MAX_FLEET: usize = 1_000_000;

fn main() {
    let mut config = Config {
        quiet: false,
        ..Config::default()
    };
    let mut host = "127.0.0.1".to_owned();
    let mut port = 8787u16;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next().unwrap_or_else(|| {
                eprintln!("{name} needs a value\n{USAGE}");
                std::process::exit(2)
            })
        };
        let bad = |name: &str, v: &str| -> ! {
            eprintln!("{name}: {v:?} is not valid\n{USAGE}");
            std::process::exit(2)
        };
        let bad_because = |name: &str, v: &str, why: &str| -> ! {
            eprintln!("{name}: {v:?} is not valid: {why}\n{USAGE}");
            std::process::exit(2)
        };
        match arg.as_str() {
            "--host" => host = value("--host"),
            "--port" => {
                let v = value("--port");
                port = v.parse().unwrap_or_else(|_| bad("--port", &v));
            }
            "--seed" => {
                let v = value("--seed");
                config.seed = v.parse().unwrap_or_else(|_| bad("--seed", &v));
            }
            "--latency-ms" => {
                let v = value("--latency-ms");
                config.latency =
                    Duration::from_millis(v.parse().unwrap_or_else(|_| bad("--latency-ms", &v)));
            }
            "--today" => {
                let v = value("--today");
                config.today = chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                    .unwrap_or_else(|_| bad("--today", &v));
            }
            "--fault" => config.fault = Some(value("--fault")),
            "--hang-ms" => {
                let v = value("--hang-ms");
                config.hang =
                    Duration::from_millis(v.parse().unwrap_or_else(|_| bad("--hang-ms", &v)));
            }
            "--fleet" => {
                let v = value("--fleet");
                config.fleet = v
                    .parse()
                    .ok()
                    .filter(|n| *n <= MAX_FLEET)
                    .unwrap_or_else(|| {
                        bad_because(
                            "--fleet",
                            &v,
                            &format!("subjects per carrier, 0 (no fleet) to {MAX_FLEET}"),
                        )
                    });
            }
            "--rate-limit" => {
                let v = value("--rate-limit");
                config.rate_limit = Some(v.parse().ok().filter(|n| *n > 0).unwrap_or_else(|| {
                    bad_because(
                        "--rate-limit",
                        &v,
                        "requests per second per carrier, at least 1",
                    )
                }));
            }
            "--quiet" => config.quiet = true,
            "--help" | "-h" => {
                println!("{USAGE}");
                return;
            }
            other => bad("argument", other),
        }
    }
    let listener = match TcpListener::bind((host.as_str(), port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on {host}:{port}: {e}");
            std::process::exit(1);
        }
    };
    let quiet = config.quiet;
    let (fleet, rate_limit) = (config.fleet, config.rate_limit);
    let addr = match start(listener, config) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("cannot start: {e}");
            std::process::exit(1);
        }
    };
    if !quiet {
        eprintln!("carrier sandbox on http://{addr}/ (/vodafone, /telecomx, /thingspace, /control-center)");
        eprintln!(
            "  Vodafone client {} / {}",
            VODAFONE_CLIENT.0, VODAFONE_CLIENT.1
        );
        eprintln!(
            "  TelecomX user {} / {} or bearer {TELECOMX_TOKEN}",
            TELECOMX_BASIC.0, TELECOMX_BASIC.1
        );
        eprintln!(
            "  ThingSpace key {} / {}, user {} / {}",
            THINGSPACE_KEY.0, THINGSPACE_KEY.1, THINGSPACE_LOGIN.0, THINGSPACE_LOGIN.1
        );
        eprintln!(
            "  Control Center user {} / API key {}",
            CONTROL_CENTER.0, CONTROL_CENTER.1
        );
        if fleet > 0 {
            eprintln!(
                "  fleet: {fleet} subjects per carrier at http://{addr}/fleet.csv (?carrier=vodafone-vrs|telecomx|thingspace|control-center&count=K)"
            );
        }
        if let Some(n) = rate_limit {
            eprintln!(
                "  rate limit: {n} requests a second per carrier, then 429 with Retry-After: 1"
            );
        }
    }
    loop {
        std::thread::park();
    }
}
