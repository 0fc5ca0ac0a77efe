//! The one executor: sends a core [`FetchJob`]'s request plans with gloo-net (through whatever
//! proxy the job was configured with), sleeps when it says wait, and feeds answers back.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use gloo_net::http::{Method as HttpMethod, RequestBuilder};
use usagelens_core::fetch::{
    retry_after_ms, FetchJob, FetchOutcome, HttpResponse, Method, Purpose, Step, TransportError,
};
use usagelens_core::fleet::RateLimiter;
use wasm_bindgen_futures::JsFuture;

/// Shared flag the UI sets to stop a running job (atomic so reactive storage can hold it).
#[derive(Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
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

/// Runs `job` to the end and returns what it produced (partial results included when a later
/// step failed or the user cancelled).
pub async fn run_job(
    job: FetchJob,
    cancel: CancelFlag,
    on_progress: impl Fn(Progress),
) -> FetchOutcome {
    run_job_limited(job, cancel, on_progress, None).await
}

/// [`run_job`] with every request first taking a slot from a shared per-carrier rate limiter,
/// which hears every 429 (fleet fetches: many jobs, one limit per carrier, learned from 429s
/// where the user set none).
pub async fn run_job_limited(
    mut job: FetchJob,
    cancel: CancelFlag,
    on_progress: impl Fn(Progress),
    limiter: Option<Rc<RefCell<RateLimiter>>>,
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
                // Sleep in short slices so a cancel takes effect quickly.
                let until = until_ms;
                while now_ms() < until && !cancel.is_cancelled() {
                    sleep((until - now_ms()).min(250)).await;
                }
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
                if let Some(limiter) = &limiter {
                    loop {
                        let slot = limiter.borrow_mut().acquire(job.carrier(), now_ms());
                        match slot {
                            Ok(()) => break,
                            Err(until) => sleep(until.saturating_sub(now_ms()).max(1)).await,
                        }
                        if cancel.is_cancelled() {
                            break;
                        }
                    }
                }
                let sent_ms = now_ms();
                match send(&plan, &cancel).await {
                    Ok(response) => {
                        let now = now_ms();
                        if let (Some(limiter), 429) = (&limiter, response.status) {
                            let retry_after = response
                                .header("Retry-After")
                                .and_then(|v| retry_after_ms(v, now));
                            limiter
                                .borrow_mut()
                                .refused(job.carrier(), sent_ms, now, retry_after);
                        }
                        job.handle_response(&response, now, random_u64())
                    }
                    Err(error) => job.handle_transport_error(&error, now_ms(), random_u64()),
                }
            }
        }
    }
    job.finish()
}

async fn send(
    plan: &usagelens_core::fetch::RequestPlan,
    cancel: &CancelFlag,
) -> Result<HttpResponse, TransportError> {
    let controller = web_sys::AbortController::new()
        .map_err(|_| TransportError::Network("no AbortController".into()))?;
    let signal = controller.signal();
    let timed_out = Rc::new(Cell::new(false));
    let done = Rc::new(Cell::new(false));
    // Abort on timeout, or soon after the user cancels; stops once the request is done.
    {
        let controller = controller.clone();
        let timed_out = timed_out.clone();
        let done = done.clone();
        let cancel = cancel.clone();
        let deadline = now_ms() + u64::from(plan.timeout_ms);
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
    let method = match plan.method {
        Method::Get => HttpMethod::GET,
        Method::Post => HttpMethod::POST,
    };
    let mut builder = RequestBuilder::new(&plan.url)
        .method(method)
        .abort_signal(Some(&signal));
    for (name, value) in &plan.headers {
        builder = builder.header(name, value);
    }
    let request = match &plan.body {
        Some(body) => builder.body(body.clone()),
        None => builder.build(),
    }
    .map_err(|e| TransportError::Network(e.to_string()))?;
    let result = request.send().await;
    let outcome = match result {
        Ok(response) => {
            let status = response.status();
            let headers = ["Retry-After", "X-Total-Count", "Content-Type"]
                .iter()
                .filter_map(|h| response.headers().get(h).map(|v| ((*h).to_owned(), v)))
                .collect();
            match response.text().await {
                Ok(body) => Ok(HttpResponse {
                    status,
                    headers,
                    body,
                }),
                Err(_) if timed_out.get() => Err(TransportError::Timeout),
                Err(e) => Err(TransportError::Network(e.to_string())),
            }
        }
        Err(_) if timed_out.get() => Err(TransportError::Timeout),
        Err(e) => Err(TransportError::Network(e.to_string())),
    };
    done.set(true);
    outcome
}
