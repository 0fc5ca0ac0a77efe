//! `use_fleet_fetch()`: a fleet fetch as the fleet panel sees it, in the leptos-use style: start,
//! pause, resume, cancel, retry and the live pace, plus progress signals. The rules live in the
//! core's [`FleetController`]; the requests go through the one executor ([`run_fleet_worker`]);
//! this hook only runs the workers and moves progress and results into the view.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use usagelens_core::fleet::{
    FleetController, FleetEntry, FleetPeriod, FleetProgress, FleetSetup, FlushPacer,
};
use usagelens_core::Carrier;

use crate::fetch::{now_ms, run_fleet_worker, sleep, CancelFlag};
use crate::state::{AppState, SourceOrigin};

/// Results reach the view at most this often, so thousands of arrivals cost a few re-draws.
const FLUSH_MS: u64 = 500;
/// Share of the main thread the view may take following a running fetch (see [`FlushPacer`]):
/// at 3 % a 50 ms redraw comes every 1.7 s. 10 % kept the thread busy a fifth of the time on
/// 1000 subjects; 3 % took a quarter of that off (docs/performance.md).
const FLUSH_SHARE: f64 = 0.03;
/// How often the progress line follows while subjects finish.
const PROGRESS_MS: u64 = 200;
/// Subjects named under each reason in the panel; the download has all of them.
const NAMES_PER_REASON: usize = 20;

/// Failed and partial subjects sharing a reason, as the panel shows them.
#[derive(Clone, Debug, PartialEq)]
pub struct FailureGroup {
    pub why: String,
    pub count: usize,
    pub who: Vec<String>,
}

/// One run: the controller and what the hook keeps beside it.
struct Driver {
    fleet: Rc<RefCell<FleetController>>,
    /// Aborts the requests in flight; a new one for each retry.
    cancel: RefCell<CancelFlag>,
    pacer: RefCell<FlushPacer>,
    last_progress: Cell<u64>,
    /// Worker tasks alive; the last one out ends the run.
    workers: Cell<usize>,
    /// The dashboard source the results stream into.
    source: u32,
}

/// A fleet fetch and its progress: see [`use_fleet_fetch`].
#[derive(Clone, Copy)]
pub struct UseFleetFetch {
    pub progress: ReadSignal<FleetProgress>,
    pub failures: ReadSignal<Vec<FailureGroup>>,
    /// Limits learned from 429s, per carrier without a limit set.
    pub learned_limits: ReadSignal<Vec<(Carrier, u32)>>,
    pub running: ReadSignal<bool>,
    pub paused: ReadSignal<bool>,
    signals: Signals,
    driver: StoredValue<Option<Rc<Driver>>, LocalStorage>,
    state: AppState,
}

#[derive(Clone, Copy)]
struct Signals {
    progress: RwSignal<FleetProgress>,
    failures: RwSignal<Vec<FailureGroup>>,
    learned: RwSignal<Vec<(Carrier, u32)>>,
    running: RwSignal<bool>,
    paused: RwSignal<bool>,
}

/// A fleet fetch streaming into the dashboard's [`AppState`] (from the context).
pub fn use_fleet_fetch() -> UseFleetFetch {
    let signals = Signals {
        progress: RwSignal::new(FleetProgress::default()),
        failures: RwSignal::new(Vec::new()),
        learned: RwSignal::new(Vec::new()),
        running: RwSignal::new(false),
        paused: RwSignal::new(false),
    };
    UseFleetFetch {
        progress: signals.progress.read_only(),
        failures: signals.failures.read_only(),
        learned_limits: signals.learned.read_only(),
        running: signals.running.read_only(),
        paused: signals.paused.read_only(),
        signals,
        driver: StoredValue::new_local(None),
        state: expect_context::<AppState>(),
    }
}

impl UseFleetFetch {
    /// Fetches `entries` into a new dashboard source.
    pub fn start(&self, entries: Vec<FleetEntry>, setup: FleetSetup, period: FleetPeriod) {
        let n = entries.len();
        let source = self.state.start_streamed_source(
            &format!("Fleet: {n} subject{}", if n == 1 { "" } else { "s" }),
            SourceOrigin::Live,
        );
        let s = self.signals;
        s.failures.set(Vec::new());
        s.learned.set(Vec::new());
        s.paused.set(false);
        let fleet = FleetController::new(entries, setup, period);
        s.progress.set(fleet.progress(now_ms()));
        let driver = Rc::new(Driver {
            fleet: Rc::new(RefCell::new(fleet)),
            cancel: RefCell::new(CancelFlag::default()),
            pacer: RefCell::new(FlushPacer::new(now_ms(), FLUSH_MS, FLUSH_SHARE)),
            last_progress: Cell::new(0),
            workers: Cell::new(0),
            source,
        });
        self.driver.set_value(Some(driver.clone()));
        self.spawn_workers(driver);
    }

    /// Concurrency and rate limits apply to a running fetch at once (to slow down for a carrier
    /// that complains, or to speed up).
    pub fn set_pace(&self, concurrency: usize, limits: &[(Carrier, Option<u32>)]) {
        if let Some(d) = self.running_driver() {
            d.fleet.borrow_mut().set_pace(concurrency, limits);
            self.spawn_workers(d);
        }
    }

    pub fn pause(&self) {
        self.with_fleet(|f| f.pause());
        self.signals.paused.set(true);
    }

    pub fn resume(&self) {
        self.with_fleet(|f| f.resume(now_ms()));
        self.signals.paused.set(false);
    }

    pub fn cancel(&self) {
        if let Some(d) = self.driver.get_value() {
            d.fleet.borrow_mut().cancel();
            d.cancel.borrow().cancel();
        }
    }

    /// Fetches the failed and partial subjects again (and those a cancel left), with `setup`.
    pub fn retry(&self, setup: FleetSetup) {
        let Some(d) = self.driver.get_value() else {
            return;
        };
        *d.cancel.borrow_mut() = CancelFlag::default();
        let again = d.fleet.borrow_mut().retry(setup, now_ms());
        self.signals.failures.set(Vec::new());
        if again > 0 || d.fleet.borrow().progress(now_ms()).remaining > 0 {
            self.signals.paused.set(false);
            self.spawn_workers(d);
        }
    }

    /// The failed and partial subjects as a list the fleet form reads back.
    pub fn problems_csv(&self) -> Option<String> {
        self.driver
            .get_value()
            .map(|d| d.fleet.borrow().run().problems_csv())
    }

    fn with_fleet(&self, f: impl FnOnce(&mut FleetController)) {
        if let Some(d) = self.driver.get_value() {
            f(&mut d.fleet.borrow_mut());
            self.signals
                .progress
                .set(d.fleet.borrow().progress(now_ms()));
        }
    }

    fn running_driver(&self) -> Option<Rc<Driver>> {
        self.driver
            .get_value()
            .filter(|_| self.signals.running.get_untracked())
    }

    /// Starts workers until there are as many as the run's concurrency (which can grow while it
    /// runs); the last one to stop moves the rest into the view and ends the run.
    fn spawn_workers(&self, d: Rc<Driver>) {
        let (hook, s, state) = (*self, self.signals, self.state);
        if d.workers.get() == 0 {
            s.running.set(true);
            state.fleet_running.set(true);
        }
        let want = d.fleet.borrow().run().concurrency();
        while d.workers.get() < want {
            d.workers.set(d.workers.get() + 1);
            let d = d.clone();
            let cancel = d.cancel.borrow().clone();
            spawn_local(async move {
                let after = || hook.after_fetch(&d);
                run_fleet_worker(d.fleet.clone(), cancel, after).await;
                d.workers.set(d.workers.get() - 1);
                if d.workers.get() == 0 {
                    hook.flush(&d, true);
                    if state.has_source(d.source) {
                        hook.show_progress(&d.fleet.borrow());
                    } else {
                        // Nothing of this run is left to show or retry.
                        hook.driver.set_value(None);
                        s.progress.set(FleetProgress::default());
                        s.failures.set(Vec::new());
                        s.learned.set(Vec::new());
                    }
                    s.running.set(false);
                    state.fleet_running.set(false);
                }
            });
        }
    }

    /// After a subject's fetch ended: the progress line a few times a second, not per subject
    /// (at 8 subjects in flight and 50 ms each that is 160 redraws a second otherwise, on the
    /// thread that also handles the answers), and the results as the [`FlushPacer`] allows.
    fn after_fetch(&self, d: &Rc<Driver>) {
        let now = now_ms();
        if now >= d.last_progress.get() + PROGRESS_MS {
            d.last_progress.set(now);
            self.show_progress(&d.fleet.borrow());
        }
        self.flush(d, false);
    }

    /// Brings the progress line, the failures list and the learned limits up to date.
    fn show_progress(&self, fleet: &FleetController) {
        let s = self.signals;
        let p = fleet.progress(now_ms());
        let counted = |groups: &Vec<FailureGroup>| groups.iter().map(|g| g.count).sum::<usize>();
        // Grouped again only when subjects failed since: a tick of a clean run costs nothing.
        if s.failures.with_untracked(counted) != p.failed + p.partial {
            s.failures.set(failure_groups(fleet));
        }
        let learned = fleet.learned_limits();
        if s.learned.with_untracked(|l| *l != learned) {
            s.learned.set(learned);
        }
        s.progress.set(p);
    }

    /// Moves the fetched records into the view (paced unless `force`).
    fn flush(&self, d: &Rc<Driver>, force: bool) {
        let now = now_ms();
        if !force && !d.pacer.borrow().due(now) {
            return;
        }
        d.pacer.borrow_mut().moved(now, 0);
        let results = d.fleet.borrow_mut().take_results();
        let p = d.fleet.borrow().progress(now);
        let error = (p.failed + p.partial > 0).then(|| {
            format!(
                "{} subject(s) failed and {} came back partial: see the fleet panel",
                p.failed, p.partial
            )
        });
        if !self
            .state
            .append_to_source(d.source, results.set, &results.replacing, error)
        {
            // The fleet's source was removed (or everything cleared): its fetch stops with it.
            d.fleet.borrow_mut().cancel();
            d.cancel.borrow().cancel();
            return;
        }
        // The view follows in microtasks; a zero timer runs once they are all done (and after any
        // task already queued), so it measures what this move cost the thread, or a little more.
        let d = d.clone();
        spawn_local(async move {
            sleep(0).await;
            d.pacer
                .borrow_mut()
                .moved(now, now_ms().saturating_sub(now));
        });
    }
}

/// The run's problems grouped by reason, the largest group first, each naming its first few.
fn failure_groups(fleet: &FleetController) -> Vec<FailureGroup> {
    fleet
        .run()
        .problem_groups(NAMES_PER_REASON)
        .into_iter()
        .map(|g| FailureGroup {
            why: g.message.to_owned(),
            count: g.count,
            who: g
                .first
                .iter()
                .map(|p| {
                    let who = format!("{} {}", p.entry.carrier.label(), p.entry.subject);
                    match p.kept {
                        Some(n) => format!(
                            "{who} (partial: {n} record{} kept)",
                            if n == 1 { "" } else { "s" }
                        ),
                        None => who,
                    }
                })
                .collect(),
        })
        .collect()
}
