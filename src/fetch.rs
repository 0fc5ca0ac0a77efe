//! The one executor: sends a core [`FetchJob`]'s request plans with gloo-net (through whatever
//! proxy the job was configured with), sleeps when it says wait, and feeds answers back; a
//! fleet's [`FleetController`] is driven the same way by [`run_fleet_worker`].

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use gloo_net::http::Request;
use usagelens_core::fetch::{
    FetchJob, FetchOutcome, HttpResponse, Method, Purpose, Step, TransportError,
};
use usagelens_core::fleet::{FleetController, FleetPoll};
use usagelens_core::limits::MAX_ANSWER_BYTES;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Shared flag the UI sets to stop a running job (atomic so reactive storage can hold it).
/// Requests in flight stop at once: the flag's `AbortController` lives in a thread-local
/// registry, because a JS value cannot sit in `Send` storage.
#[derive(Clone, Default)]
pub struct CancelFlag(Arc<CancelState>);

#[derive(Default)]
struct CancelState {
    cancelled: AtomicBool,
}

thread_local! {
    /// The controller of each flag that has handed out a signal, keyed by the flag's address.
    static CONTROLLERS: RefCell<HashMap<usize, web_sys::AbortController>> =
        RefCell::new(HashMap::new());
}

impl Drop for CancelState {
    fn drop(&mut self) {
        let key = self as *const CancelState as usize;
        let _ = CONTROLLERS.try_with(|c| c.borrow_mut().remove(&key));
    }
}

impl CancelFlag {
    pub fn cancel(&self) {
        self.0.cancelled.store(true, Ordering::Relaxed);
        if let Some(controller) = CONTROLLERS.with(|c| c.borrow_mut().remove(&self.key())) {
            controller.abort();
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::Relaxed)
    }

    fn key(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    /// A signal that aborts when the flag is cancelled (already aborted if it was).
    fn signal(&self) -> Option<web_sys::AbortSignal> {
        let key = self.key();
        if let Some(controller) = CONTROLLERS.with(|c| c.borrow().get(&key).cloned()) {
            return Some(controller.signal());
        }
        let controller = web_sys::AbortController::new().ok()?;
        if self.is_cancelled() {
            controller.abort();
        } else {
            CONTROLLERS.with(|c| c.borrow_mut().insert(key, controller.clone()));
        }
        Some(controller.signal())
    }
}

/// What the UI shows while a job runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    pub step: String,
    pub pages: u32,
}

pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

fn random_u64() -> u64 {
    let high = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    let low = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    (high << 32) | low
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: u64) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                &resolve,
                ms.min(i32::MAX as u64) as i32,
            );
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// How long one slice of a wait sleeps: a cancel ends any wait within this.
const WAIT_SLICE_MS: u64 = 100;

/// Sleeps until `until_ms` in short slices, returning early once `cancel` is set (a carrier's
/// `Retry-After` or a rate limiter's hold must not outlast the user's Cancel).
async fn sleep_until(until_ms: u64, cancel: &CancelFlag) {
    while !cancel.is_cancelled() {
        let left = until_ms.saturating_sub(now_ms());
        if left == 0 {
            break;
        }
        sleep(left.min(WAIT_SLICE_MS)).await;
    }
}

/// Runs `job` to the end and returns what it produced (partial results included when a later
/// step failed or the user cancelled).
pub async fn run_job(
    mut job: FetchJob,
    cancel: CancelFlag,
    on_progress: impl Fn(Progress),
) -> FetchOutcome {
    loop {
        if cancel.is_cancelled() {
            job.cancel();
        }
        let random = (u128::from(random_u64()) << 64) | u128::from(random_u64());
        match job.poll(now_ms(), random) {
            Step::Done => break,
            Step::Wait { until_ms } => {
                on_progress(Progress {
                    step: "waiting before retrying".into(),
                    pages: job.pages(),
                });
                sleep_until(until_ms, &cancel).await;
            }
            Step::Send(plan) => {
                on_progress(Progress {
                    step: match plan.purpose {
                        Purpose::Token => "getting an access token".into(),
                        Purpose::Login => "logging in".into(),
                        Purpose::Usage(n) if n > 1 => format!("reading page {n}"),
                        Purpose::Usage(_) => "reading usage".into(),
                    },
                    pages: job.pages(),
                });
                match send(&plan, &cancel).await {
                    Ok(response) => job.handle_response(&response, now_ms(), random_u64()),
                    Err(error) => job.handle_transport_error(&error, now_ms(), random_u64()),
                }
            }
        }
    }
    job.finish()
}

/// How long a fleet worker with nothing to send sleeps before asking again.
const FLEET_IDLE_MS: u64 = 100;

/// One worker of a fleet fetch: sends the requests the controller hands out, one at a time, and
/// hands their answers back, until the controller says the run is over. A fetch runs as many
/// workers as subjects it fetches at once; `after` runs whenever a subject's fetch ended (to
/// show progress and results). A wait (a backoff, a `Retry-After`, a rate limit) is slept in
/// short slices, so an answer, a Cancel or a changed limit is heard within one.
pub async fn run_fleet_worker(
    fleet: Rc<RefCell<FleetController>>,
    cancel: CancelFlag,
    after: impl Fn(),
) {
    loop {
        let ended = fleet.borrow().ended();
        let step = fleet.borrow_mut().poll(now_ms(), &mut random_u64);
        match step {
            FleetPoll::Send { ticket, plan } => {
                let answer = send(&plan, &cancel).await;
                let now = now_ms();
                let mut fleet = fleet.borrow_mut();
                match answer {
                    Ok(response) => fleet.handle_response(ticket, &response, now, random_u64()),
                    Err(error) => fleet.handle_transport_error(ticket, &error, now, random_u64()),
                }
            }
            FleetPoll::Wait { until_ms } => {
                sleep(until_ms.saturating_sub(now_ms()).clamp(1, WAIT_SLICE_MS)).await
            }
            FleetPoll::Idle => sleep(FLEET_IDLE_MS).await,
            FleetPoll::Finished => break,
        }
        if fleet.borrow().ended() != ended {
            after();
        }
    }
}

/// Runs an account's device listing to the end (or the cancel), telling `on_page` the pages read
/// and the devices listed so far after each page.
pub async fn run_device_list(
    mut job: usagelens_core::fetch::devices::DeviceListJob,
    cancel: CancelFlag,
    on_page: impl Fn(u32, usize),
) -> usagelens_core::fetch::devices::DeviceListOutcome {
    loop {
        if cancel.is_cancelled() {
            job.cancel();
        }
        match job.poll(now_ms()) {
            Step::Done => break,
            Step::Wait { until_ms } => {
                while now_ms() < until_ms && !cancel.is_cancelled() {
                    sleep((until_ms - now_ms()).min(250)).await;
                }
            }
            Step::Send(plan) => {
                match send(&plan, &cancel).await {
                    Ok(response) => job.handle_response(&response, now_ms(), random_u64()),
                    Err(error) => job.handle_transport_error(&error, now_ms(), random_u64()),
                }
                on_page(job.pages(), job.devices().len());
            }
        }
    }
    job.finish()
}

/// Whether this browser has `AbortSignal.any` and `AbortSignal.timeout` (Chromium 116, Firefox
/// 124, Safari 17.4); older ones get a watchdog task per request instead.
fn native_abort_signals() -> bool {
    thread_local! {
        static NATIVE: bool = {
            let class = js_sys::Reflect::get(&js_sys::global(), &"AbortSignal".into())
                .unwrap_or(wasm_bindgen::JsValue::UNDEFINED);
            let has = |name: &str| {
                js_sys::Reflect::get(&class, &name.into()).is_ok_and(|f| f.is_function())
            };
            !class.is_undefined() && has("any") && has("timeout")
        };
    }
    NATIVE.with(|n| *n)
}

/// How a request is stopped: by the user's cancel or by its own timeout.
struct Abort {
    signal: web_sys::AbortSignal,
    timeout: Timeout,
}

/// What tells that a request timed out.
enum Timeout {
    /// `AbortSignal.timeout`'s own signal.
    Native(web_sys::AbortSignal),
    /// The watchdog task's flag; `done` stops the watchdog once the request is over.
    Watchdog {
        timed_out: Rc<Cell<bool>>,
        done: Rc<Cell<bool>>,
    },
}

impl Abort {
    /// The browser's own timer and signal combinator where it has them: a watchdog task per
    /// request woke the page's thread every 200 ms per request in flight (1000 closures and
    /// timers per 1000 subjects of a fleet, on the thread that handles the answers).
    fn new(timeout_ms: u32, cancel: &CancelFlag) -> Result<Abort, TransportError> {
        if native_abort_signals() {
            if let Some(cancelled) = cancel.signal() {
                let timeout = web_sys::AbortSignal::timeout_with_u32(timeout_ms);
                let signal = web_sys::AbortSignal::any(&js_sys::Array::of2(&cancelled, &timeout));
                return Ok(Abort {
                    signal,
                    timeout: Timeout::Native(timeout),
                });
            }
        }
        let controller = web_sys::AbortController::new()
            .map_err(|_| TransportError::Network("no AbortController".into()))?;
        let timed_out = Rc::new(Cell::new(false));
        let done = Rc::new(Cell::new(false));
        // Abort on timeout, or soon after the user cancels; stops once the request is done.
        {
            let controller = controller.clone();
            let timed_out = timed_out.clone();
            let done = done.clone();
            let cancel = cancel.clone();
            let deadline = now_ms() + u64::from(timeout_ms);
            wasm_bindgen_futures::spawn_local(async move {
                while !done.get() {
                    if cancel.is_cancelled() {
                        controller.abort();
                        return;
                    }
                    if now_ms() >= deadline {
                        timed_out.set(true);
                        controller.abort();
                        return;
                    }
                    sleep(200).await;
                }
            });
        }
        Ok(Abort {
            signal: controller.signal(),
            timeout: Timeout::Watchdog { timed_out, done },
        })
    }

    fn timed_out(&self) -> bool {
        match &self.timeout {
            Timeout::Native(signal) => signal.aborted(),
            Timeout::Watchdog { timed_out, .. } => timed_out.get(),
        }
    }
}

impl Drop for Abort {
    /// The request is over, however `send` returned: the watchdog stops.
    fn drop(&mut self) {
        if let Timeout::Watchdog { done, .. } = &self.timeout {
            done.set(true);
        }
    }
}

/// One `Request` straight from the plan. gloo-net's builder makes two and a `Url` (to merge
/// query parameters a plan never has), 0.16 s of the page's thread per 1000 requests of a
/// fleet, and its header setter throws through the module on a value the browser refuses.
fn build_request(
    plan: &usagelens_core::fetch::RequestPlan,
    signal: &web_sys::AbortSignal,
) -> Result<Request, TransportError> {
    let refused = |e: wasm_bindgen::JsValue| {
        let text = e
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .unwrap_or_else(|| format!("{e:?}"));
        TransportError::Network(format!("the browser refused the request: {text}"))
    };
    let init = web_sys::RequestInit::new();
    // A redirect is not followed: it would resend the credentials (Authorization, VZ-M2M-Token,
    // the ThingSpace login body) to wherever it points. "manual" rather than "error": both
    // stop there, but only "manual" lets the page tell a redirect from a network failure.
    init.set_redirect(web_sys::RequestRedirect::Manual);
    // The page's own cookies never go to a carrier, even through a same-origin proxy.
    init.set_credentials(web_sys::RequestCredentials::Omit);
    init.set_method(match plan.method {
        Method::Get => "GET",
        Method::Post => "POST",
    });
    init.set_signal(Some(signal));
    let headers = web_sys::Headers::new().map_err(refused)?;
    for (name, value) in &plan.headers {
        headers.append(name, value).map_err(refused)?;
    }
    init.set_headers(&headers);
    if let Some(body) = &plan.body {
        init.set_body(&wasm_bindgen::JsValue::from_str(body));
    }
    web_sys::Request::new_with_str_and_init(&plan.url, &init)
        .map(Request::from)
        .map_err(refused)
}

async fn send(
    plan: &usagelens_core::fetch::RequestPlan,
    cancel: &CancelFlag,
) -> Result<HttpResponse, TransportError> {
    let abort = Abort::new(plan.timeout_ms, cancel)?;
    let request = build_request(plan, &abort.signal)?;
    let failed = |e: String| {
        if abort.timed_out() {
            TransportError::Timeout
        } else {
            TransportError::Network(e)
        }
    };
    let response = request.send().await.map_err(|e| failed(e.to_string()))?;
    if response.type_() == web_sys::ResponseType::Opaqueredirect {
        return Err(TransportError::Redirected);
    }
    let status = response.status();
    let received = response.headers();
    let headers = ["Retry-After", "X-Total-Count", "Content-Type"]
        .iter()
        .filter_map(|h| received.get(h).map(|v| ((*h).to_owned(), v)))
        .collect();
    let announced = received
        .get("Content-Length")
        .and_then(|v| v.trim().parse::<u64>().ok());
    let body = read_body(&response, announced)
        .await
        .map_err(|e| e.unwrap_or_else(&failed))?;
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// The body as text, read in chunks so that no more than [`MAX_ANSWER_BYTES`] is ever held: an
/// answer announcing more is refused before its body is read, and one that sends more than it
/// announced (or announced nothing, or compresses well) is cut off once past the limit. Errors:
/// `Ok(e)` a refusal, `Err(detail)` a failed read.
async fn read_body(
    response: &gloo_net::http::Response,
    announced: Option<u64>,
) -> Result<String, Result<TransportError, String>> {
    let stream = response.body();
    if let Some(bytes) = announced.filter(|&n| n > MAX_ANSWER_BYTES) {
        if let Some(stream) = stream {
            let _ = stream.cancel();
        }
        return Err(Ok(TransportError::TooLarge {
            bytes,
            announced: true,
        }));
    }
    let Some(stream) = stream else {
        // No body at all (e.g. HTTP 204).
        return Ok(String::new());
    };
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let js_error = |e: wasm_bindgen::JsValue| -> Result<TransportError, String> {
        Err(e
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .unwrap_or_else(|| format!("{e:?}")))
    };
    let mut bytes: Vec<u8> = Vec::with_capacity(announced.unwrap_or(0) as usize);
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(js_error)?;
        let done = js_sys::Reflect::get(&chunk, &"done".into()).map_err(js_error)?;
        if done.is_truthy() {
            break;
        }
        let value = js_sys::Reflect::get(&chunk, &"value".into()).map_err(js_error)?;
        let Some(value) = value.dyn_ref::<js_sys::Uint8Array>() else {
            return Err(Err("the answer's body is not bytes".to_owned()));
        };
        let total = bytes.len() as u64 + u64::from(value.length());
        if total > MAX_ANSWER_BYTES {
            let _ = reader.cancel();
            return Err(Ok(TransportError::TooLarge {
                bytes: total,
                announced: false,
            }));
        }
        let at = bytes.len();
        bytes.resize(at + value.length() as usize, 0);
        value.copy_to(&mut bytes[at..]);
    }
    // As `Response.text()` decodes: UTF-8, a byte order mark dropped, bad bytes replaced.
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    Ok(String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn a_cancel_aborts_every_signal_handed_out_and_later_ones() {
        let flag = CancelFlag::default();
        let first = flag.signal().expect("a signal");
        let second = flag.clone().signal().expect("a signal");
        assert!(!first.aborted() && !second.aborted());
        flag.cancel();
        assert!(first.aborted() && second.aborted());
        assert!(flag.signal().expect("a signal").aborted());
    }

    #[wasm_bindgen_test]
    fn a_dropped_flag_leaves_no_controller_behind() {
        let registered = || CONTROLLERS.with(|c| c.borrow().len());
        let before = registered();
        let flag = CancelFlag::default();
        let _ = flag.signal();
        let _ = flag.signal();
        assert_eq!(registered(), before + 1, "one controller per flag");
        drop(flag);
        assert_eq!(registered(), before);
    }
}
