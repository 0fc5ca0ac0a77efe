//! [`FleetRun`], the sans-IO scheduler of one fleet fetch: which subject to start next under the
//! concurrency limit, pause, cancel, retry of the failed ones, what a retried subject's records
//! do to the earlier ones, progress and ETA, and the problems list.

use std::collections::{HashMap, VecDeque};

use super::list::FleetEntry;
use crate::export::spreadsheet_safe;
use crate::sorting::sort_by_shared;

/// Where one subject of a run is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryState {
    /// Waiting to be fetched.
    Pending,
    /// Being fetched now.
    Running,
    /// Fetched; `partial` holds the error that cut it short (the records read so far are kept).
    Done {
        /// Records read.
        records: usize,
        /// The error that cut the fetch short; `None` when it completed.
        partial: Option<String>,
    },
    /// Fetched nothing: the error that stopped it.
    Failed(String),
}

/// A subject whose last fetch failed or came back partial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Problem<'a> {
    /// The subject.
    pub entry: &'a FleetEntry,
    /// Records kept in the view when partial; `None` when it failed with nothing read.
    pub kept: Option<usize>,
    /// The error that stopped it.
    pub message: &'a str,
}

/// Problems that share a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProblemGroup<'a> {
    /// The error message the problems share.
    pub message: &'a str,
    /// How many problems have it.
    pub count: usize,
    /// The first few, in list order.
    pub first: Vec<Problem<'a>>,
}

/// What the executor does with the records of a fetch that just finished (see
/// [`FleetRun::finish`]): a retried partial subject must not be counted twice, and a retry that
/// brings back less must not lose what the earlier attempt read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fetched {
    /// Add them: the view holds nothing of this subject yet.
    Add,
    /// Drop what an earlier partial fetch of this subject left in the view, then add these.
    Replace,
    /// Drop these: an earlier partial fetch left more in the view, and that stays.
    Discard,
}

/// What the executor should do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FleetStep {
    /// Start fetching entry `index`.
    Start(usize),
    /// Nothing to start now (all slots busy, or paused): ask again when a fetch ends.
    Idle,
    /// Nothing is running and nothing will start: the run is over (or cancelled).
    Finished,
}

/// Counts for the progress bar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FleetProgress {
    /// Subjects in the run.
    pub total: usize,
    /// Subjects fetched, partial ones included.
    pub done: usize,
    /// Of `done`, those that came back partial.
    pub partial: usize,
    /// Subjects whose fetch failed with nothing read.
    pub failed: usize,
    /// Subjects being fetched now.
    pub running: usize,
    /// Subjects still waiting to start.
    pub remaining: usize,
    /// Records read by the fetched subjects (partial ones included).
    pub records: usize,
    /// Estimated milliseconds to go, from the pace so far; `None` until something finished.
    pub eta_ms: Option<u64>,
}

/// The scheduler of one fleet fetch.
#[derive(Clone, Debug)]
pub struct FleetRun {
    /// The subjects, in list order; an entry's index is its place here.
    pub entries: Vec<FleetEntry>,
    states: Vec<EntryState>,
    queue: VecDeque<usize>,
    /// Records an earlier partial fetch of each entry left in the view (0 when none).
    kept: Vec<usize>,
    concurrency: usize,
    running: usize,
    paused: bool,
    cancelled: bool,
    /// When the current stretch of work started, and how many entries finished in it (ETA).
    started_ms: Option<u64>,
    finished_in_stretch: usize,
}

impl FleetRun {
    /// A run over `entries`, all pending, fetching at most `concurrency` at once (at least 1).
    pub fn new(entries: Vec<FleetEntry>, concurrency: usize) -> FleetRun {
        let n = entries.len();
        FleetRun {
            entries,
            states: vec![EntryState::Pending; n],
            queue: (0..n).collect(),
            kept: vec![0; n],
            concurrency: concurrency.max(1),
            running: 0,
            paused: false,
            cancelled: false,
            started_ms: None,
            finished_in_stretch: 0,
        }
    }

    /// Where entry `index` is; `None` when out of range.
    pub fn state(&self, index: usize) -> Option<&EntryState> {
        self.states.get(index)
    }

    /// How many subjects may be fetched at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Sets how many subjects may be fetched at once (at least 1).
    pub fn set_concurrency(&mut self, concurrency: usize) {
        self.concurrency = concurrency.max(1);
    }

    /// Whether the run is paused.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Whether the run was cancelled (and not retried since).
    pub fn is_cancelled(&self) -> bool {
        self.cancelled
    }

    /// Stops starting new fetches until [`FleetRun::resume`]; running ones go on.
    pub fn pause(&mut self) {
        self.paused = true;
    }

    /// Lets a paused run start fetches again; the ETA counts from `now_ms`.
    pub fn resume(&mut self, now_ms: u64) {
        if self.paused {
            self.paused = false;
            self.started_ms = Some(now_ms);
            self.finished_in_stretch = 0;
        }
    }

    /// Stops starting new fetches; the running ones are cancelled by the executor and report
    /// their partial results through [`FleetRun::finish`]. Pending entries stay pending, so a
    /// later [`FleetRun::retry_failed`] or a new run can pick them up.
    pub fn cancel(&mut self) {
        self.cancelled = true;
    }

    /// The next thing to do.
    pub fn next(&mut self, now_ms: u64) -> FleetStep {
        self.next_where(now_ms, |_| true)
    }

    /// [`FleetRun::next`], starting the first waiting entry that `may_start` lets go (the
    /// others keep their place in the queue): the controller holds back the subjects whose
    /// credentials are still being tried by another.
    pub fn next_where(
        &mut self,
        now_ms: u64,
        mut may_start: impl FnMut(&FleetEntry) -> bool,
    ) -> FleetStep {
        if self.is_finished() {
            return FleetStep::Finished;
        }
        if self.cancelled || self.queue.is_empty() {
            return FleetStep::Idle;
        }
        if self.paused || self.running >= self.concurrency {
            return FleetStep::Idle;
        }
        let entries = &self.entries;
        let at = self
            .queue
            .iter()
            .position(|&i| entries.get(i).is_some_and(&mut may_start));
        match at.and_then(|at| self.queue.remove(at)) {
            Some(index) => {
                self.started_ms.get_or_insert(now_ms);
                self.running += 1;
                self.states[index] = EntryState::Running;
                FleetStep::Start(index)
            }
            None => FleetStep::Idle,
        }
    }

    /// Whether any entry is waiting to start.
    pub fn has_waiting(&self) -> bool {
        !self.queue.is_empty()
    }

    /// Whether nothing is running and nothing will start (what [`FleetRun::next`] says with
    /// [`FleetStep::Finished`]).
    pub fn is_finished(&self) -> bool {
        self.running == 0 && (self.cancelled || self.queue.is_empty())
    }

    /// Records how a started entry ended: `records` read, and the error that stopped it, if
    /// any. Returns what to do with those records, given what an earlier attempt left.
    pub fn finish(&mut self, index: usize, records: usize, error: Option<String>) -> Fetched {
        if self.states.get(index) == Some(&EntryState::Running) {
            self.running -= 1;
            self.finished_in_stretch += 1;
        }
        self.settle(index, records, error)
    }

    /// Ends every waiting entry that `shares` says uses credentials a carrier just refused,
    /// without sending anything: a list of thousands would otherwise send thousands of requests
    /// with credentials the carrier refuses (and some carriers lock an account for that). They
    /// fail with `message` (a retry queues them again); an entry retried after a partial fetch
    /// keeps its earlier records. Returns how many.
    pub fn fail_waiting(&mut self, shares: impl Fn(&FleetEntry) -> bool, message: &str) -> usize {
        let (stopped, waiting): (Vec<usize>, Vec<usize>) = self
            .queue
            .drain(..)
            .partition(|&i| self.entries.get(i).is_some_and(&shares));
        self.queue = waiting.into();
        for &i in &stopped {
            self.settle(i, 0, Some(message.to_owned()));
        }
        stopped.len()
    }

    /// Sets how entry `index` ended and says what to do with its records.
    fn settle(&mut self, index: usize, records: usize, error: Option<String>) -> Fetched {
        let Some(kept) = self.kept.get_mut(index) else {
            return Fetched::Discard;
        };
        let earlier = std::mem::take(kept);
        let replacing = if earlier > 0 {
            Fetched::Replace
        } else {
            Fetched::Add
        };
        let (state, fetched) = match error {
            // A complete answer always wins over an earlier partial one.
            None => (
                EntryState::Done {
                    records,
                    partial: None,
                },
                replacing,
            ),
            Some(message) if earlier > 0 && records < earlier => (
                EntryState::Done {
                    records: earlier,
                    partial: Some(message),
                },
                Fetched::Discard,
            ),
            Some(message) if records > 0 => (
                EntryState::Done {
                    records,
                    partial: Some(message),
                },
                replacing,
            ),
            Some(message) => (EntryState::Failed(message), Fetched::Add),
        };
        self.states[index] = state;
        fetched
    }

    /// The entries whose last fetch failed or came back partial, in list order, with why.
    pub fn problems(&self) -> impl Iterator<Item = Problem<'_>> {
        self.states
            .iter()
            .zip(&self.entries)
            .filter_map(|(state, entry)| {
                let (kept, message) = match state {
                    EntryState::Failed(message) => (None, message),
                    EntryState::Done {
                        records,
                        partial: Some(message),
                    } => (Some(*records), message),
                    _ => return None,
                };
                Some(Problem {
                    entry,
                    kept,
                    message,
                })
            })
    }

    /// [`FleetRun::problems`] grouped by message, the largest group first, each with its first
    /// `shown` problems: a thousand subjects refused for one reason read as one line.
    pub fn problem_groups(&self, shown: usize) -> Vec<ProblemGroup<'_>> {
        let mut at: HashMap<&str, usize> = HashMap::new();
        let mut groups: Vec<ProblemGroup<'_>> = Vec::new();
        for p in self.problems() {
            let i = *at.entry(p.message).or_insert_with(|| {
                groups.push(ProblemGroup {
                    message: p.message,
                    count: 0,
                    first: Vec::new(),
                });
                groups.len() - 1
            });
            let group = &mut groups[i];
            group.count += 1;
            if group.first.len() < shown {
                group.first.push(p);
            }
        }
        sort_by_shared(&mut groups, |a, b| b.count.cmp(&a.count));
        groups
    }

    /// [`FleetRun::problems`] as CSV that [`parse_subject_list`] reads back (its extra columns
    /// are ignored): a list to fetch again later, or to send to the carrier.
    pub fn problems_csv(&self) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        // Writing to a Vec cannot fail; a failure would only drop the row.
        let _ = writer.write_record([
            "identifier",
            "carrier",
            "kind",
            "outcome",
            "records",
            "error",
        ]);
        for p in self.problems() {
            let records = p.kept.map(|n| n.to_string()).unwrap_or_default();
            // The error can quote a carrier's answer: it must not open as a formula. (Valid
            // identifiers never start like one, `+49…` being a plain number, so the list
            // still reads back.)
            let _ = writer.write_record([
                &*spreadsheet_safe(&p.entry.subject.id),
                p.entry.carrier.as_str(),
                p.entry.subject.kind.as_str(),
                if p.kept.is_some() {
                    "partial"
                } else {
                    "failed"
                },
                &records,
                &*spreadsheet_safe(p.message),
            ]);
        }
        String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// Queues every failed (and partial) entry again; returns how many.
    pub fn retry_failed(&mut self, now_ms: u64) -> usize {
        let mut n = 0;
        for (i, s) in self.states.iter_mut().enumerate() {
            let again = match s {
                EntryState::Failed(_) => true,
                EntryState::Done {
                    records,
                    partial: Some(_),
                } => {
                    self.kept[i] = *records;
                    true
                }
                _ => false,
            };
            if again {
                *s = EntryState::Pending;
                self.queue.push_back(i);
                n += 1;
            }
        }
        // A retry after a cancel also resumes the pending entries the cancel left behind.
        if self.cancelled {
            for (i, s) in self.states.iter().enumerate() {
                if *s == EntryState::Pending && !self.queue.contains(&i) {
                    self.queue.push_back(i);
                }
            }
        }
        self.cancelled = false;
        self.paused = false;
        self.started_ms = Some(now_ms);
        self.finished_in_stretch = 0;
        n
    }

    /// Counts and ETA at `now_ms` (milliseconds, the executor's clock).
    pub fn progress(&self, now_ms: u64) -> FleetProgress {
        let mut p = FleetProgress {
            total: self.states.len(),
            ..FleetProgress::default()
        };
        for s in &self.states {
            match s {
                EntryState::Pending => p.remaining += 1,
                EntryState::Running => p.running += 1,
                EntryState::Done { records, partial } => {
                    p.done += 1;
                    p.records += records;
                    if partial.is_some() {
                        p.partial += 1;
                    }
                }
                EntryState::Failed(_) => p.failed += 1,
            }
        }
        let to_go = p.remaining + p.running;
        p.eta_ms = match (self.started_ms, self.finished_in_stretch) {
            (_, _) if to_go == 0 => Some(0),
            (Some(start), n) if n > 0 && !self.paused && !self.cancelled => {
                let elapsed = now_ms.saturating_sub(start) as f64;
                Some((elapsed / n as f64 * to_go as f64).round() as u64)
            }
            _ => None,
        };
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::parse_subject_list;
    use crate::model::{Carrier, Subject, SubjectKind};

    fn entries(n: usize) -> Vec<FleetEntry> {
        (0..n)
            .map(|i| FleetEntry {
                carrier: Carrier::Thingspace,
                subject: Subject::new(SubjectKind::Label, format!("s{i}")),
                line: i as u64 + 1,
            })
            .collect()
    }

    #[test]
    fn run_respects_concurrency_pause_cancel_and_retry() {
        let mut run = FleetRun::new(entries(5), 2);
        assert_eq!(run.next(0), FleetStep::Start(0));
        assert_eq!(run.next(0), FleetStep::Start(1));
        assert_eq!(run.next(0), FleetStep::Idle, "two slots only");
        run.finish(0, 10, None);
        run.pause();
        assert_eq!(run.next(100), FleetStep::Idle, "paused");
        run.resume(100);
        assert_eq!(run.next(100), FleetStep::Start(2));
        run.finish(1, 0, Some("HTTP 500".into()));
        run.finish(2, 4, Some("page 2: HTTP 500".into()));
        let p = run.progress(200);
        assert_eq!(
            (
                p.done,
                p.partial,
                p.failed,
                p.remaining,
                p.running,
                p.records
            ),
            (2, 1, 1, 2, 0, 14)
        );
        // Two finished in the 100 ms since resuming: two to go take about 100 ms more.
        assert_eq!(p.eta_ms, Some(100));
        assert_eq!(run.next(200), FleetStep::Start(3));
        run.cancel();
        assert_eq!(
            run.next(200),
            FleetStep::Idle,
            "a running fetch still has to report"
        );
        run.finish(3, 1, Some("page 2: HTTP 500".into()));
        assert_eq!(run.next(200), FleetStep::Finished);
        assert_eq!(
            run.retry_failed(300),
            3,
            "the failed and the two partial ones"
        );
        let mut started = Vec::new();
        while let FleetStep::Start(i) = run.next(300) {
            started.push(i);
            run.finish(i, 1, None);
        }
        started.sort();
        assert_eq!(
            started,
            vec![1, 2, 3, 4],
            "4 was left pending by the cancel"
        );
        assert_eq!(run.next(300), FleetStep::Finished);
        assert_eq!(run.progress(300).eta_ms, Some(0));
    }

    #[test]
    fn a_retried_partial_subject_replaces_or_keeps_its_earlier_records() {
        let partial = || Some("page 3: HTTP 503".to_string());
        // Real ICCIDs (Luhn check digit), so the problem list can be read back as a list.
        let iccid = |n: usize| {
            let body = format!("891480000000{n:07}");
            let check = crate::ident::luhn_check_digit(&body).unwrap();
            format!("{body}{check}")
        };
        let list: Vec<FleetEntry> = (0..5)
            .map(|i| FleetEntry {
                carrier: Carrier::ControlCenter,
                subject: Subject::new(SubjectKind::Iccid, iccid(i)),
                line: i as u64 + 1,
            })
            .collect();
        let mut run = FleetRun::new(list, 5);
        for i in 0..5 {
            assert_eq!(run.next(0), FleetStep::Start(i));
        }
        assert_eq!(run.finish(0, 0, Some("HTTP 500".into())), Fetched::Add);
        for i in 1..5 {
            assert_eq!(run.finish(i, 10, partial()), Fetched::Add, "first attempt");
        }
        assert_eq!(run.retry_failed(100), 5);
        let mut fetched = Vec::new();
        while let FleetStep::Start(i) = run.next(100) {
            fetched.push(match i {
                0 => run.finish(0, 7, None),
                1 => run.finish(1, 4, None),
                2 => run.finish(2, 12, partial()),
                3 => run.finish(3, 6, partial()),
                _ => run.finish(4, 0, Some("HTTP 500".into())),
            });
        }
        assert_eq!(
            fetched,
            vec![
                Fetched::Add,     // failed before: nothing in the view
                Fetched::Replace, // complete now, though shorter
                Fetched::Replace, // partial again, but further
                Fetched::Discard, // partial again with less: the 10 stay
                Fetched::Discard, // failed: the 10 stay
            ]
        );
        let states: Vec<_> = (0..5).map(|i| run.state(i).cloned().unwrap()).collect();
        let done = |records, partial: Option<&str>| EntryState::Done {
            records,
            partial: partial.map(str::to_owned),
        };
        assert_eq!(
            states,
            vec![
                done(7, None),
                done(4, None),
                done(12, Some("page 3: HTTP 503")),
                done(10, Some("page 3: HTTP 503")),
                done(10, Some("HTTP 500"))
            ]
        );
        assert_eq!(run.progress(200).records, 43, "nothing counted twice");
        let problems: Vec<_> = run
            .problems()
            .map(|p| (p.entry.line, p.kept, p.message))
            .collect();
        assert_eq!(
            problems,
            vec![
                (3, Some(12), "page 3: HTTP 503"),
                (4, Some(10), "page 3: HTTP 503"),
                (5, Some(10), "HTTP 500")
            ]
        );
        let groups: Vec<_> = run
            .problem_groups(1)
            .into_iter()
            .map(|g| (g.message, g.count, g.first[0].entry.line))
            .collect();
        assert_eq!(
            groups,
            vec![("page 3: HTTP 503", 2, 3), ("HTTP 500", 1, 5)],
            "largest first, each naming its first"
        );
        // The list of problems reads back as a subject list, in the same order.
        let csv = run.problems_csv();
        assert!(
            csv.starts_with("identifier,carrier,kind,outcome,records,error\n"),
            "{csv}"
        );
        assert!(csv.contains(",partial,10,HTTP 500\n"), "{csv}");
        let again = parse_subject_list(&csv, None).unwrap();
        let subjects = |entries: Vec<&FleetEntry>| {
            entries
                .iter()
                .map(|e| (e.carrier, e.subject.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            subjects(again.entries.iter().collect()),
            subjects(run.entries[2..].iter().collect())
        );
        // A second retry of the kept partial ones starts from what the view now holds.
        assert_eq!(run.retry_failed(300), 3);
        while let FleetStep::Start(i) = run.next(300) {
            assert_eq!(
                run.finish(i, 11, partial()),
                if i == 2 {
                    Fetched::Discard
                } else {
                    Fetched::Replace
                }
            );
        }
    }

    #[test]
    fn refused_credentials_stop_the_waiting_entries_that_share_them() {
        let mut list = entries(6);
        for e in &mut list[3..] {
            e.carrier = Carrier::ControlCenter;
        }
        let mut run = FleetRun::new(list, 1);
        assert_eq!(run.next(0), FleetStep::Start(0));
        run.finish(0, 0, Some("HTTP 401".into()));
        let message = "not sent: ThingSpace refused the credentials";
        let stopped = run.fail_waiting(|e| e.carrier == Carrier::Thingspace, message);
        assert_eq!(stopped, 2, "entries 1 and 2");
        // The other carrier's entries go on.
        let mut started = Vec::new();
        while let FleetStep::Start(i) = run.next(10) {
            started.push(i);
            run.finish(i, 1, None);
        }
        assert_eq!(started, vec![3, 4, 5]);
        let p = run.progress(20);
        assert_eq!((p.done, p.failed, p.remaining), (3, 3, 0));
        assert_eq!(run.state(1), Some(&EntryState::Failed(message.into())));
        // Mended credentials: a retry queues all three again.
        assert_eq!(run.retry_failed(30), 3);
    }

    #[test]
    fn problems_csv_neutralises_formulas_and_reads_back() {
        let list = parse_subject_list(
            "identifier,carrier,kind\n+491701234567,thingspace,msisdn\n89148000000000000019,control-center,iccid\n262021234567890,vodafone-vrs,imsi\n",
            None,
        )
        .unwrap();
        let ids: Vec<String> = list.entries.iter().map(|e| e.subject.id.clone()).collect();
        let mut run = FleetRun::new(list.entries, 3);
        for i in 0..3 {
            assert_eq!(run.next(0), FleetStep::Start(i));
        }
        run.finish(
            0,
            0,
            Some("=HYPERLINK(\"http://evil.example/x\",\"click\")".into()),
        );
        run.finish(1, 2, Some("-2+3".into()));
        run.finish(2, 0, Some("carrier says: =1+1".into()));
        let csv = run.problems_csv();
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        let cells =
            |column: usize| -> Vec<String> { rows.iter().map(|r| r[column].to_owned()).collect() };
        assert_eq!(
            cells(5),
            [
                "'=HYPERLINK(\"http://evil.example/x\",\"click\")",
                "'-2+3",
                "carrier says: =1+1"
            ]
        );
        assert_eq!(
            cells(0),
            ids,
            "identifiers, `+49…` a plain number, as they are"
        );
        assert_eq!(cells(4), ["", "2", ""], "the record counts stay numbers");
        let again = parse_subject_list(&csv, None).unwrap();
        let ids_again: Vec<String> = again.entries.iter().map(|e| e.subject.id.clone()).collect();
        assert_eq!(ids_again, ids, "read back as they were listed");
    }
}
