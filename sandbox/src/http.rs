//! A minimal HTTP/1.1 server: one thread per connection, persistent connections (a proxy in front
//! reuses them, as it would a carrier's), bodies by Content-Length. Enough for a local test double;
//! a full server crate would cost more compile time than the sandbox's whole logic.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A parsed request.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub method: String,
    /// Path without the query.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// HTTP/1.1 without `Connection: close`: the client may send another request on the connection.
    pub keep_alive: bool,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What to send back.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Send only the first half of the body, with a matching Content-Length (fault `truncate`).
    pub truncate: bool,
    /// Hold the connection this long before closing without an answer (fault `timeout`).
    pub hang: Option<Duration>,
}

impl Response {
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        Response::text(status, "application/json", value.to_string())
    }

    pub fn text(status: u16, content_type: &str, body: String) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into_bytes(),
            truncate: false,
            hang: None,
        }
    }

    pub fn empty(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            truncate: false,
            hang: None,
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads the next request of a connection; None at its end or on a request it cannot read.
fn read_request(reader: &mut impl BufRead) -> Option<Request> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let http_1_1 = parts.next() == Some("HTTP/1.1");
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            break;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
        .min(1 << 20);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    let close = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("connection") && v.eq_ignore_ascii_case("close"));
    Some(Request {
        method,
        path: percent_decode(path),
        query,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        keep_alive: http_1_1 && !close,
    })
}

/// Writes `response`; `keep_alive` leaves the connection open for the next request.
fn write_response(
    mut stream: &TcpStream,
    response: &Response,
    keep_alive: bool,
) -> std::io::Result<()> {
    if let Some(hang) = response.hang {
        std::thread::sleep(hang);
        return Ok(());
    }
    let body: &[u8] = if response.truncate {
        &response.body[..response.body.len() / 2]
    } else {
        &response.body
    };
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (k, v) in &response.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: {}\r\n\r\n",
        body.len(),
        if keep_alive { "keep-alive" } else { "close" }
    ));
    // One write: with the head and body written apart, Nagle's algorithm held the body back until
    // the proxy's delayed ACK of the head (40 ms per request on a kept-alive connection).
    let mut answer = head.into_bytes();
    answer.extend_from_slice(body);
    stream.write_all(&answer)?;
    stream.flush()
}

/// Connections accepted and requests read since the server started, answered at
/// `GET /_sandbox/connections` (without latency, and not counted): tests check with it that a
/// proxy reuses its connections.
#[derive(Default)]
struct Counts {
    connections: AtomicUsize,
    requests: AtomicUsize,
}

/// Serves `listener` forever, answering each request with `handle` after `latency`. A connection
/// stays open for further requests until the client closes it, asks to, or is idle for 10 s.
pub fn serve<F>(listener: TcpListener, latency: Duration, quiet: bool, handle: F)
where
    F: Fn(&Request) -> Response + Send + Sync + 'static,
{
    let handle = Arc::new(handle);
    let counts = Arc::new(Counts::default());
    for stream in listener.incoming().flatten() {
        let handle = handle.clone();
        let counts = counts.clone();
        counts.connections.fetch_add(1, Ordering::Relaxed);
        std::thread::spawn(move || {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = stream.set_nodelay(true);
            let mut reader = BufReader::new(&stream);
            while let Some(request) = read_request(&mut reader) {
                let started = Instant::now();
                let response = if request.path == "/_sandbox/connections" {
                    Response::json(
                        200,
                        &serde_json::json!({
                            "connections": counts.connections.load(Ordering::Relaxed),
                            "requests": counts.requests.load(Ordering::Relaxed),
                        }),
                    )
                } else {
                    counts.requests.fetch_add(1, Ordering::Relaxed);
                    if !latency.is_zero() {
                        std::thread::sleep(latency);
                    }
                    handle(&request)
                };
                // A hung answer (fault `timeout`) ends with the connection closed.
                let keep_alive = request.keep_alive && response.hang.is_none();
                let written = write_response(&stream, &response, keep_alive);
                if !quiet {
                    // Paths only: queries and headers may carry identifiers and credentials.
                    eprintln!(
                        "{} {} -> {} ({} ms)",
                        request.method,
                        request.path,
                        response.status,
                        started.elapsed().as_millis()
                    );
                }
                if written.is_err() || !keep_alive {
                    break;
                }
            }
        });
    }
}
