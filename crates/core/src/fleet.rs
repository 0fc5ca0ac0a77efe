//! Fleets: many subjects across carriers.
//!
//! - [`parse_subject_list`] reads the list users paste or import (CSV, one identifier per row, with
//!   an optional carrier and kind column), validating every identifier before anything is sent.
//! - [`FleetRun`] is the sans-IO scheduler: which subject to start next under the concurrency
//!   limit, pause, cancel, retry of the failed ones, progress and ETA.
//! - [`RateLimiter`] spaces requests per carrier (a sliding one-second window), at the user's
//!   limit or one learned from the carrier's 429s.
//! - [`fleet_summary`] answers the fleet questions in one pass: per-subject totals (top-N), how
//!   many subjects used how much (distribution), and who is over an allowance.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::aggregate::{month_start, next_month_start, Filter};
use crate::error::{ParseError, ParseErrorKind};
use crate::export::spreadsheet_safe;
use crate::ident::validate;
use crate::model::{Carrier, Service, Subject, SubjectKind, UsageSet};
use crate::readers::default_subject_kind;
use crate::sorting::sort_by_shared;

/// One subject of a fleet list.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FleetEntry {
    pub carrier: Carrier,
    pub subject: Subject,
    /// 1-based line in the list, for messages.
    pub line: u64,
}

/// A line of the list that was not taken, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListProblem {
    pub line: u64,
    pub message: String,
}

/// The readable part of a list plus what was wrong with the rest: one bad line does not cost
/// the other 9 999.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubjectList {
    pub entries: Vec<FleetEntry>,
    pub problems: Vec<ListProblem>,
}

/// Carrier names as people write them in a list.
pub fn parse_carrier_name(name: &str) -> Option<Carrier> {
    let n = name.trim().to_ascii_lowercase().replace(['_', ' '], "-");
    match n.as_str() {
        "vodafone-vrs" | "vodafone" | "vrs" => Some(Carrier::VodafoneVrs),
        "telecomx" => Some(Carrier::Telecomx),
        "thingspace" | "verizon" | "verizon-thingspace" => Some(Carrier::Thingspace),
        "control-center" | "controlcenter" | "cisco" | "jasper" | "cisco-control-center" => {
            Some(Carrier::ControlCenter)
        }
        _ => None,
    }
}

/// The identifier kinds each carrier's usage API takes.
pub fn kinds_of(carrier: Carrier) -> &'static [SubjectKind] {
    match carrier {
        Carrier::VodafoneVrs => &[SubjectKind::Imsi],
        Carrier::Telecomx => &[SubjectKind::Account],
        Carrier::ControlCenter => &[SubjectKind::Iccid],
        Carrier::Thingspace => &[
            SubjectKind::Iccid,
            SubjectKind::Imei,
            SubjectKind::Meid,
            SubjectKind::Mdn,
            SubjectKind::Msisdn,
            SubjectKind::Esn,
            SubjectKind::Eid,
        ],
    }
}

/// Column roles: identifier, carrier, the kind the identifier header names, kind column.
type ColumnRoles = (usize, Option<usize>, Option<SubjectKind>, Option<usize>);

const IDENTIFIER_HEADERS: [&str; 4] = ["identifier", "id", "subject", "device"];

/// Reads a subject list: CSV with a header naming `identifier` (or `id`, or a kind such as
/// `iccid`), `carrier` and `kind` columns in any order; or no header, as `identifier[,carrier[,kind]]`.
/// Rows without a carrier use `default_carrier`. Blank lines and `#` comments are skipped,
/// duplicates dropped. Each bad row becomes a [`ListProblem`] naming its line; an error only when
/// no row is usable.
pub fn parse_subject_list(
    text: &str,
    default_carrier: Option<Carrier>,
) -> Result<SubjectList, ParseError> {
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    // The csv crate does not count comment lines; lines are counted from byte offsets instead.
    let (mut counted_to, mut counted_lines) = (0usize, 1u64);
    let mut line_at = |byte: usize| {
        let mut byte = byte.min(text.len());
        // A record's position can point at the comment or blank lines the reader skipped before it.
        while matches!(text.as_bytes().get(byte), Some(b'#' | b'\n' | b'\r')) {
            byte = text[byte..].find('\n').map_or(text.len(), |n| byte + n + 1);
        }
        if byte > counted_to {
            counted_lines += text.as_bytes()[counted_to..byte]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            counted_to = byte;
        }
        counted_lines
    };
    let mut list = SubjectList::default();
    let mut seen: HashSet<(Carrier, Subject)> = HashSet::new();
    let mut columns: Option<ColumnRoles> = None;
    let mut row = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut row) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| line_at(p.byte() as usize));
                return Err(ParseError::new(
                    ParseErrorKind::Syntax,
                    format!("the subject list is not readable CSV: {e}"),
                )
                .at_line(line));
            }
        }
        let line = row.position().map_or(0, |p| line_at(p.byte() as usize));
        if row.iter().all(str::is_empty) {
            continue;
        }
        let (id_at, carrier_at, header_kind, kind_at) = match columns {
            Some(c) => c,
            None => {
                let names: Vec<String> = row.iter().map(str::to_ascii_lowercase).collect();
                let id_at = names.iter().position(|n| {
                    IDENTIFIER_HEADERS.contains(&n.as_str()) || SubjectKind::parse(n).is_some()
                });
                let roles = match id_at {
                    Some(i) => {
                        let c = (
                            i,
                            names.iter().position(|n| n == "carrier"),
                            SubjectKind::parse(&names[i]),
                            names.iter().position(|n| n == "kind"),
                        );
                        columns = Some(c);
                        continue;
                    }
                    None if names.iter().any(|n| n == "carrier" || n == "kind") => {
                        return Err(ParseError::invalid_field(
                            "identifier",
                            "the header names no identifier column: call it identifier, id, or by its kind (iccid, imsi, ...)",
                        )
                        .at_line(line));
                    }
                    None => (0, Some(1), None, Some(2)),
                };
                columns = Some(roles);
                roles
            }
        };
        let problem = |message: String| ListProblem { line, message };
        let id = row.get(id_at).unwrap_or_default();
        let carrier_text = carrier_at.and_then(|i| row.get(i)).unwrap_or_default();
        let carrier = if carrier_text.is_empty() {
            default_carrier
        } else {
            match parse_carrier_name(carrier_text) {
                Some(c) => Some(c),
                None => {
                    list.problems.push(problem(format!(
                        "unknown carrier {carrier_text:?}; use vodafone-vrs, telecomx, thingspace or control-center"
                    )));
                    continue;
                }
            }
        };
        let Some(carrier) = carrier else {
            list.problems.push(problem(format!(
                "{id:?} has no carrier: add a carrier column or choose a default carrier"
            )));
            continue;
        };
        let kind_text = kind_at.and_then(|i| row.get(i)).unwrap_or_default();
        let kind = if kind_text.is_empty() {
            header_kind.unwrap_or_else(|| default_subject_kind(Some(carrier), id))
        } else {
            match SubjectKind::parse(kind_text) {
                Some(k) => k,
                None => {
                    list.problems
                        .push(problem(format!("unknown identifier kind {kind_text:?}")));
                    continue;
                }
            }
        };
        if !kinds_of(carrier).contains(&kind) {
            let known: Vec<&str> = kinds_of(carrier).iter().map(|k| k.as_str()).collect();
            list.problems.push(problem(format!(
                "{} takes {} identifiers, not {}",
                carrier.label(),
                known.join(", "),
                kind.as_str()
            )));
            continue;
        }
        match validate(kind, id) {
            Ok(id) => {
                let subject = Subject::new(kind, id);
                if seen.insert((carrier, subject.clone())) {
                    list.entries.push(FleetEntry {
                        carrier,
                        subject,
                        line,
                    });
                } else {
                    list.problems.push(problem(format!(
                        "{} {} is listed twice; fetched once",
                        carrier.label(),
                        subject
                    )));
                }
            }
            Err(e) => list.problems.push(problem(e.message)),
        }
    }
    if list.entries.is_empty() {
        let first = list.problems.first().map_or(String::new(), |p| {
            format!(" (line {}: {})", p.line, p.message)
        });
        return Err(ParseError::new(
            ParseErrorKind::Empty,
            format!("the subject list has no usable identifier{first}"),
        ));
    }
    Ok(list)
}

/// Where one subject of a run is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryState {
    Pending,
    Running,
    /// Fetched; `partial` holds the error that cut it short (the records read so far are kept).
    Done {
        records: usize,
        partial: Option<String>,
    },
    Failed(String),
}

/// A subject whose last fetch failed or came back partial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Problem<'a> {
    pub entry: &'a FleetEntry,
    /// Records kept in the view when partial; `None` when it failed with nothing read.
    pub kept: Option<usize>,
    /// The error that stopped it.
    pub message: &'a str,
}

/// Problems that share a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProblemGroup<'a> {
    pub message: &'a str,
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
    pub total: usize,
    pub done: usize,
    pub partial: usize,
    pub failed: usize,
    pub running: usize,
    pub remaining: usize,
    pub records: usize,
    /// Estimated milliseconds to go, from the pace so far; `None` until something finished.
    pub eta_ms: Option<u64>,
}

/// The scheduler of one fleet fetch.
#[derive(Clone, Debug)]
pub struct FleetRun {
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

    pub fn state(&self, index: usize) -> Option<&EntryState> {
        self.states.get(index)
    }

    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    pub fn set_concurrency(&mut self, concurrency: usize) {
        self.concurrency = concurrency.max(1);
    }

    pub fn is_paused(&self) -> bool {
        self.paused
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled
    }

    pub fn pause(&mut self) {
        self.paused = true;
    }

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
        if self.cancelled || (self.queue.is_empty() && self.running == 0) {
            return if self.running == 0 {
                FleetStep::Finished
            } else {
                FleetStep::Idle
            };
        }
        if self.paused || self.running >= self.concurrency {
            return FleetStep::Idle;
        }
        match self.queue.pop_front() {
            Some(index) => {
                self.started_ms.get_or_insert(now_ms);
                self.running += 1;
                self.states[index] = EntryState::Running;
                FleetStep::Start(index)
            }
            None => FleetStep::Idle,
        }
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

/// At most `per_second` requests per carrier in any one-second window: the user's limit, or,
/// where none is set, one learned from the carrier's 429s.
///
/// Learning: at the first 429, the carrier's limit becomes the number of requests sent to it in
/// the second before the refused one and not refused themselves (answered or still in flight:
/// they reached the carrier first), less a twentieth for clock jitter, and nothing more goes to
/// it until its `Retry-After`. A later 429 steps the limit down a twentieth (or to what got
/// through in its second, if fewer) without stopping everything again. Answers to requests sent
/// before the last lesson say nothing new and are ignored, so the 429s already in flight do not
/// lower it again. (Without this, 8 workers against a carrier allowing 50 a second kept hitting
/// 429s and reached 70 % of the limit; see README "Performance".)
#[derive(Clone, Debug, Default)]
pub struct RateLimiter {
    limits: HashMap<Carrier, u32>,
    learned: HashMap<Carrier, Learned>,
    /// Send times within the last second, per carrier with a limit (the pacing window).
    sent: HashMap<Carrier, VecDeque<u64>>,
    /// Send times of every request, and of those answered 429, within [`HISTORY_MS`].
    history: HashMap<Carrier, (VecDeque<u64>, VecDeque<u64>)>,
}

/// How long send times are kept for learning: an answer can come this late (the longest
/// request timeout) and still be judged against the second before it was sent.
const HISTORY_MS: u64 = 61_000;

#[derive(Clone, Copy, Debug)]
struct Learned {
    per_second: u32,
    /// Requests sent before this taught nothing new.
    at_ms: u64,
    hold_until_ms: u64,
}

fn forget_before(times: &mut VecDeque<u64>, cutoff_ms: u64) {
    while times.front().is_some_and(|&t| t < cutoff_ms) {
        times.pop_front();
    }
}

/// How many of the sorted `times` fall in `from..=to`.
fn count_within(times: &VecDeque<u64>, from: u64, to: u64) -> usize {
    times.partition_point(|&t| t <= to) - times.partition_point(|&t| t < from)
}

impl RateLimiter {
    pub fn new() -> RateLimiter {
        RateLimiter::default()
    }

    /// `None` or 0 removes the carrier's limit.
    pub fn set_limit(&mut self, carrier: Carrier, per_second: Option<u32>) {
        match per_second.filter(|n| *n > 0) {
            Some(n) => self.limits.insert(carrier, n),
            None => self.limits.remove(&carrier),
        };
    }

    /// The limit in force: the user's, else the learned one.
    pub fn limit(&self, carrier: Carrier) -> Option<u32> {
        self.limits
            .get(&carrier)
            .copied()
            .or_else(|| self.learned_limit(carrier))
    }

    /// The limit learned from the carrier's 429s, if any.
    pub fn learned_limit(&self, carrier: Carrier) -> Option<u32> {
        self.learned.get(&carrier).map(|l| l.per_second)
    }

    /// Takes a slot for one request now (the caller sends it at `now_ms`), or says when the
    /// next slot frees up.
    pub fn acquire(&mut self, carrier: Carrier, now_ms: u64) -> Result<(), u64> {
        if let Some(hold) = self.learned.get(&carrier).map(|l| l.hold_until_ms) {
            if now_ms < hold {
                return Err(hold);
            }
        }
        if let Some(limit) = self.limit(carrier) {
            let sent = self.sent.entry(carrier).or_default();
            forget_before(sent, now_ms.saturating_add(1).saturating_sub(1000));
            // A slot frees when the limit-th latest send leaves the window: after a lowered
            // limit the window can hold more than `limit`, and its oldest leaving is not enough.
            if let Some(latest) = sent.len().checked_sub(limit as usize) {
                return Err(sent[latest].saturating_add(1000));
            }
            sent.push_back(now_ms);
        }
        let (all, _) = self.history.entry(carrier).or_default();
        forget_before(all, now_ms.saturating_sub(HISTORY_MS));
        all.push_back(now_ms);
        Ok(())
    }

    /// Feeds back a 429 to the request sent at `sent_ms` (the time it was acquired), with how
    /// long the carrier asked to wait (`retry_after_ms`, 1 s when it did not say, at most
    /// [`MAX_RETRY_AFTER_MS`](crate::limits::MAX_RETRY_AFTER_MS) as for a single fetch). Other
    /// answers teach nothing: the requests that got through are every send not refused.
    pub fn refused(
        &mut self,
        carrier: Carrier,
        sent_ms: u64,
        now_ms: u64,
        retry_after_ms: Option<u64>,
    ) {
        let (all, refused) = self.history.entry(carrier).or_default();
        forget_before(refused, now_ms.saturating_sub(HISTORY_MS));
        let at = refused.partition_point(|&t| t <= sent_ms);
        refused.insert(at, sent_ms);
        let stale = self
            .learned
            .get(&carrier)
            .is_some_and(|l| sent_ms < l.at_ms);
        // The user's limit is kept as set: at a carrier's exact limit a few 429s from clock
        // jitter cost less than learning below it (90-93 % of the limit against 80-81 %).
        if stale || self.limits.contains_key(&carrier) {
            return;
        }
        // This request is among both counts; the others in its second got through.
        let from = sent_ms.saturating_add(1).saturating_sub(1000);
        let got_through = count_within(all, from, sent_ms)
            .saturating_sub(count_within(refused, from, sent_ms)) as u32;
        // A twentieth below, at least one, for the jitter between our clock and the carrier's.
        let below = |n: u32| n.saturating_sub((n / 20).max(1)).max(1);
        let learned = match self.learned.get(&carrier) {
            // The first lesson: nothing goes until the carrier's window has cleared.
            None => Learned {
                per_second: below(got_through),
                at_ms: now_ms,
                hold_until_ms: now_ms.saturating_add(
                    retry_after_ms
                        .unwrap_or(1000)
                        .min(crate::limits::MAX_RETRY_AFTER_MS),
                ),
            },
            // Later ones step down without stopping everything again; a second that overlaps
            // the hold sent less than the carrier allows, so its count says nothing.
            Some(l) => Learned {
                per_second: if from < l.hold_until_ms {
                    below(l.per_second)
                } else {
                    got_through.min(below(l.per_second)).max(1)
                },
                at_ms: now_ms,
                hold_until_ms: l.hold_until_ms,
            },
        };
        self.learned.insert(carrier, learned);
    }
}

/// When a fleet fetch moves its fetched records into the view. Every move re-aggregates and
/// redraws the dashboard on the thread that also sends the requests and reads the answers, so
/// the pacer keeps that work to a share of the time: the next move comes no sooner than
/// `min_interval_ms` and no sooner than the last move's measured cost divided by the share.
/// (A fixed 500 ms left the thread 40 % busy on 200 subjects and cut the requests in flight
/// from 8 to 6.3; see README "Performance".)
#[derive(Clone, Debug)]
pub struct FlushPacer {
    min_interval_ms: u64,
    share: f64,
    next_ms: u64,
}

impl FlushPacer {
    /// `share` of the time (0 < share <= 1) the view may take; the first move is due
    /// `min_interval_ms` after `now_ms`.
    pub fn new(now_ms: u64, min_interval_ms: u64, share: f64) -> FlushPacer {
        FlushPacer {
            min_interval_ms,
            share: if share > 0.0 && share <= 1.0 {
                share
            } else {
                1.0
            },
            next_ms: now_ms.saturating_add(min_interval_ms),
        }
    }

    pub fn due(&self, now_ms: u64) -> bool {
        now_ms >= self.next_ms
    }

    /// A move started at `started_ms` and the view took `cost_ms` to follow it.
    pub fn moved(&mut self, started_ms: u64, cost_ms: u64) {
        let spaced = (cost_ms as f64 / self.share).ceil() as u64;
        self.next_ms = started_ms.saturating_add(spaced.max(self.min_interval_ms));
    }
}

/// A deterministic fleet for benchmarks: `subjects` x `days` daily data records with
/// heavy-tailed volumes (one subject in 20 uses 40x, five in 20 use 6x), alternating ThingSpace
/// and Control Center. The browser benchmark and the native aggregation benchmark share it, so
/// their figures are about the same records.
pub fn synthetic_fleet(subjects: u32, days: u32) -> UsageSet {
    use crate::model::{Direction, Granularity, Record};
    let mut set = UsageSet::new();
    let first_day = 1_704_067_200i64; // 2024-01-01
    let carriers = [Carrier::Thingspace, Carrier::ControlCenter];
    for s in 0..subjects {
        let id = format!("8914800000{s:09}0");
        let subject = set.intern_subject(&Subject::new(SubjectKind::Iccid, id));
        let scale = match s % 20 {
            0 => 40,
            1..=5 => 6,
            _ => 1,
        };
        for d in 0..days {
            let x = u64::from(s.wrapping_mul(2_654_435_761) ^ d.wrapping_mul(40_503));
            set.push(Record::new(
                carriers[(s % 2) as usize],
                subject,
                first_day + i64::from(d) * 86_400,
                86_400,
                Granularity::Day,
                Service::Data,
                Direction::Total,
                (x % 5_000_000 + 100_000) * scale,
            ));
        }
    }
    set
}

/// One subject's total for the service in view.
#[derive(Clone, Debug, PartialEq)]
pub struct SubjectTotal {
    pub subject: Subject,
    pub carrier: Option<Carrier>,
    pub quantity: u64,
    pub records: usize,
}

/// A distribution bar: how many subjects used between `low` (inclusive) and `high` (exclusive).
#[derive(Clone, Debug, PartialEq)]
pub struct DistributionBin {
    pub low: u64,
    pub high: u64,
    pub subjects: usize,
}

/// A subject over an allowance in one period.
#[derive(Clone, Debug, PartialEq)]
pub struct OverAllowance {
    pub subject: Subject,
    pub period_start: i64,
    pub period_end: i64,
    pub used: u64,
    pub allowance: u64,
    /// True when the allowance is the carrier's (TelecomX packages), false for the user's cap.
    pub from_carrier: bool,
}

/// The fleet views of one service under the current filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FleetSummary {
    /// Every subject with records in view, largest first.
    pub subjects: Vec<SubjectTotal>,
    pub distribution: Vec<DistributionBin>,
    /// Largest overshoot first.
    pub over: Vec<OverAllowance>,
    pub total: u64,
}

/// Per-subject totals, distribution and over-allowance list in one pass over the records.
///
/// `monthly_cap` is a per-subject, per-calendar-month allowance the user sets for carriers that
/// report none (ThingSpace, Control Center, Vodafone); carrier-reported allowances (TelecomX)
/// are always checked.
pub fn fleet_summary(
    set: &UsageSet,
    filter: &Filter,
    service: Service,
    monthly_cap: Option<u64>,
    bins: usize,
) -> FleetSummary {
    let mut f = filter.clone();
    f.services = vec![service];
    let compiled = f.compile(set);
    let n_subjects = set.subjects().len();
    // Dense per-subject sums: subject handles are indices, so no hashing in the hot loop.
    let mut sums = vec![(0u64, 0usize, None::<Carrier>); n_subjects];
    let mut carrier_allowance: HashMap<(u32, i64, i64, u32), (u64, u64)> = HashMap::new();
    let mut monthly: HashMap<(u32, i64), u64> = HashMap::new();
    // A subject's records are mostly consecutive and in time order, so sums run per
    // (subject, month) and meet the map only when that changes: one hash per run, not per record.
    let mut run: Option<((u32, i64), u64)> = None;
    let mut month_of = (i64::MIN, 0i64);
    for r in set.records.iter().filter(|r| compiled.matches(r)) {
        let Some(s) = r.subject.index() else { continue };
        let e = &mut sums[s];
        e.0 = e.0.saturating_add(r.quantity);
        e.1 += 1;
        e.2.get_or_insert(r.carrier);
        if let Some(a) = r.allowance() {
            let zone = r.zone.index().map_or(u32::MAX, |z| z as u32);
            let c = carrier_allowance
                .entry((s as u32, r.start, r.end(), zone))
                .or_insert((0, a));
            c.0 = c.0.saturating_add(r.quantity);
        } else if monthly_cap.is_some() {
            if month_of.0 != r.start {
                month_of = (r.start, month_start(r.start));
            }
            let key = (s as u32, month_of.1);
            match &mut run {
                Some((k, sum)) if *k == key => *sum = sum.saturating_add(r.quantity),
                _ => {
                    if let Some((k, sum)) = run.replace((key, r.quantity)) {
                        let m = monthly.entry(k).or_insert(0);
                        *m = m.saturating_add(sum);
                    }
                }
            }
        }
    }
    if let Some((k, sum)) = run {
        let m = monthly.entry(k).or_insert(0);
        *m = m.saturating_add(sum);
    }
    let mut summary = FleetSummary::default();
    for (i, (quantity, records, carrier)) in sums.into_iter().enumerate() {
        if records == 0 {
            continue;
        }
        summary.total = summary.total.saturating_add(quantity);
        summary.subjects.push(SubjectTotal {
            subject: set.subjects()[i].clone(),
            carrier,
            quantity,
            records,
        });
    }
    sort_by_shared(&mut summary.subjects, |a, b| {
        b.quantity.cmp(&a.quantity).then(a.subject.cmp(&b.subject))
    });
    summary.distribution = distribution(&summary.subjects, bins);
    for ((s, start, end, _), (used, allowance)) in carrier_allowance {
        if used > allowance {
            summary.over.push(OverAllowance {
                subject: set.subjects()[s as usize].clone(),
                period_start: start,
                period_end: end,
                used,
                allowance,
                from_carrier: true,
            });
        }
    }
    if let Some(cap) = monthly_cap {
        for ((s, month), used) in monthly {
            if used > cap {
                let end = next_month_start(month);
                summary.over.push(OverAllowance {
                    subject: set.subjects()[s as usize].clone(),
                    period_start: month,
                    period_end: end,
                    used,
                    allowance: cap,
                    from_carrier: false,
                });
            }
        }
    }
    sort_by_shared(&mut summary.over, |a, b| {
        let ratio = |o: &OverAllowance| o.used as f64 / o.allowance.max(1) as f64;
        ratio(b)
            .total_cmp(&ratio(a))
            .then(a.subject.cmp(&b.subject))
            .then(a.period_start.cmp(&b.period_start))
    });
    summary
}

/// Equal-width bins from 0 to the largest subject's total, on "nice" bounds (1, 2, 5 x 10^n).
fn distribution(subjects: &[SubjectTotal], bins: usize) -> Vec<DistributionBin> {
    let Some(max) = subjects.iter().map(|s| s.quantity).max() else {
        return Vec::new();
    };
    let bins = bins.max(1) as u64;
    let raw = (max / bins).max(1);
    let magnitude = 10u64.pow(raw.ilog10());
    let width = [1, 2, 5, 10]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|w| w.saturating_mul(bins) > max)
        .unwrap_or(magnitude * 10);
    let count = (max / width + 1) as usize;
    let mut out: Vec<DistributionBin> = (0..count as u64)
        .map(|i| DistributionBin {
            low: i * width,
            high: (i + 1) * width,
            subjects: 0,
        })
        .collect();
    for s in subjects {
        out[(s.quantity / width) as usize].subjects += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Direction, Granularity, Record};

    const ICCID: &str = "89148000000000000019";

    #[test]
    fn lists_with_and_without_header() {
        let text = "carrier,identifier\nthingspace,89148000000000000019\n\ncontrol-center, 8988216716970004973\n# a comment\nvodafone,262021234567890\n";
        let list = parse_subject_list(text, None).unwrap();
        assert_eq!(list.problems, vec![]);
        let got: Vec<(Carrier, SubjectKind, &str)> = list
            .entries
            .iter()
            .map(|e| (e.carrier, e.subject.kind, e.subject.id.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (Carrier::Thingspace, SubjectKind::Iccid, ICCID),
                (
                    Carrier::ControlCenter,
                    SubjectKind::Iccid,
                    "8988216716970004973"
                ),
                (Carrier::VodafoneVrs, SubjectKind::Imsi, "262021234567890"),
            ]
        );
        assert_eq!(list.entries[2].line, 6);

        let bare = parse_subject_list(
            "553ca0f477392ee4106e9526\n553CA0F477392EE4106E9527",
            Some(Carrier::Telecomx),
        )
        .unwrap();
        assert_eq!(bare.entries.len(), 2);
        assert_eq!(bare.entries[0].subject.kind, SubjectKind::Account);

        let by_kind = parse_subject_list("mdn,carrier\n5551234567,verizon", None).unwrap();
        assert_eq!(by_kind.entries[0].subject.kind, SubjectKind::Mdn);
    }

    #[test]
    fn bad_rows_are_named_and_the_rest_kept() {
        let text = "identifier,carrier,kind\n89148000000000000012,thingspace,iccid\n89148000000000000019,thingspace,iccid\n89148000000000000019,thingspace,iccid\n262021234567890,telecomx,\nx,nowhere,\n123,thingspace,serial\n";
        let list = parse_subject_list(text, None).unwrap();
        assert_eq!(list.entries.len(), 1);
        let lines: Vec<(u64, &str)> = list
            .problems
            .iter()
            .map(|p| (p.line, p.message.as_str()))
            .collect();
        assert_eq!(lines.len(), 5, "{lines:?}");
        assert!(lines[0].1.contains("check digit"), "{lines:?}");
        assert_eq!(lines[0].0, 2);
        assert!(lines[1].1.contains("listed twice"));
        assert!(
            lines[2].1.contains("hexadecimal") || lines[2].1.contains("24"),
            "{lines:?}"
        );
        assert!(lines[3].1.contains("unknown carrier \"nowhere\""));
        assert!(lines[4].1.contains("unknown identifier kind \"serial\""));

        let none =
            parse_subject_list("identifier\n8914\n", Some(Carrier::ControlCenter)).unwrap_err();
        assert!(none.message.contains("line 2"), "{}", none.message);
        let no_carrier = parse_subject_list(ICCID, None).unwrap_err();
        assert!(
            no_carrier.message.contains("no carrier"),
            "{}",
            no_carrier.message
        );
        let wrong_kind = parse_subject_list(
            "identifier,carrier,kind\n262021234567890,control-center,imsi",
            None,
        )
        .unwrap_err();
        assert!(
            wrong_kind
                .message
                .contains("takes iccid identifiers, not imsi"),
            "{}",
            wrong_kind.message
        );
    }

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
    fn rate_limiter_allows_n_per_second_per_carrier() {
        let mut limiter = RateLimiter::new();
        limiter.set_limit(Carrier::Thingspace, Some(2));
        assert_eq!(limiter.acquire(Carrier::Thingspace, 0), Ok(()));
        assert_eq!(limiter.acquire(Carrier::Thingspace, 300), Ok(()));
        assert_eq!(limiter.acquire(Carrier::Thingspace, 500), Err(1000));
        assert_eq!(
            limiter.acquire(Carrier::ControlCenter, 500),
            Ok(()),
            "no limit set"
        );
        assert_eq!(limiter.acquire(Carrier::Thingspace, 1000), Ok(()));
        assert_eq!(limiter.acquire(Carrier::Thingspace, 1200), Err(1300));
        limiter.set_limit(Carrier::Thingspace, Some(0));
        assert_eq!(limiter.acquire(Carrier::Thingspace, 1200), Ok(()));
        // Lowered from five to two: the next slot is when the second-latest send leaves the
        // second (at 1000 the sends at 1 to 4 are still in it).
        let mut lowered = RateLimiter::new();
        lowered.set_limit(Carrier::Telecomx, Some(5));
        for t in 0..5 {
            assert_eq!(lowered.acquire(Carrier::Telecomx, t), Ok(()));
        }
        lowered.set_limit(Carrier::Telecomx, Some(2));
        assert_eq!(lowered.acquire(Carrier::Telecomx, 10), Err(1003));
        assert_eq!(lowered.acquire(Carrier::Telecomx, 1002), Err(1003));
        assert_eq!(lowered.acquire(Carrier::Telecomx, 1003), Ok(()));
        assert_eq!(lowered.acquire(Carrier::Telecomx, 1003), Err(1004));
    }

    #[test]
    fn summary_ranks_bins_and_flags_overuse() {
        let mut set = UsageSet::new();
        let day = 86_400;
        for (i, per_day) in [100u64, 5, 40].into_iter().enumerate() {
            let subject = set.intern_subject(&Subject::new(SubjectKind::Label, format!("s{i}")));
            for d in 0..31 {
                set.push(Record::new(
                    Carrier::Thingspace,
                    subject,
                    d * day,
                    day as u32,
                    Granularity::Day,
                    Service::Data,
                    Direction::Total,
                    per_day,
                ));
            }
        }
        let account = set.intern_subject(&Subject::new(SubjectKind::Account, "a"));
        set.push(
            Record::new(
                Carrier::Telecomx,
                account,
                0,
                31 * day as u32,
                Granularity::Month,
                Service::Data,
                Direction::Total,
                700,
            )
            .with_allowance(Some(500)),
        );
        let s = fleet_summary(&set, &Filter::default(), Service::Data, Some(1000), 10);
        let order: Vec<(&str, u64)> = s
            .subjects
            .iter()
            .map(|t| (t.subject.id.as_str(), t.quantity))
            .collect();
        assert_eq!(
            order,
            vec![("s0", 3100), ("s2", 1240), ("a", 700), ("s1", 155)]
        );
        assert_eq!(s.total, 5195);
        // Max 3100 over 10 bins: width 500, bins [0,500) ... [3000,3500).
        assert_eq!(s.distribution.len(), 7);
        assert_eq!(
            s.distribution[0],
            DistributionBin {
                low: 0,
                high: 500,
                subjects: 1
            }
        );
        assert_eq!(s.distribution.iter().map(|b| b.subjects).sum::<usize>(), 4);
        assert_eq!(s.distribution[6].subjects, 1);
        // s0 (3100 in January over a 1000 cap) first, then s2 (1240), then the TelecomX package.
        let over: Vec<(&str, u64, u64, bool)> = s
            .over
            .iter()
            .map(|o| (o.subject.id.as_str(), o.used, o.allowance, o.from_carrier))
            .collect();
        assert_eq!(
            over,
            vec![
                ("s0", 3100, 1000, false),
                ("a", 700, 500, true),
                ("s2", 1240, 1000, false)
            ]
        );
        assert_eq!(s.over[0].period_end, 31 * day);
    }

    #[test]
    fn flush_pacer_keeps_the_view_to_its_share() {
        let mut pacer = FlushPacer::new(1_000, 500, 0.1);
        assert!(!pacer.due(1_499));
        assert!(pacer.due(1_500));
        // A cheap redraw: the minimum interval holds.
        pacer.moved(1_500, 20);
        assert!(!pacer.due(1_999));
        assert!(pacer.due(2_000));
        // A 140 ms redraw at a 10 % share: the next one 1.4 s after this one started.
        pacer.moved(2_000, 140);
        assert!(!pacer.due(3_399));
        assert!(pacer.due(3_400));
        // Cheap again: back to the minimum.
        pacer.moved(3_400, 10);
        assert!(pacer.due(3_900));
        // A share out of range means no spacing beyond the cost itself.
        let mut whole = FlushPacer::new(0, 0, 0.0);
        whole.moved(100, 30);
        assert!(!whole.due(129));
        assert!(whole.due(130));
    }

    #[test]
    fn rate_limiter_learns_a_carrier_limit_from_its_429s() {
        let cc = Carrier::ControlCenter;
        let mut limiter = RateLimiter::new();
        // No limit yet: every request goes, one each 20 ms, until the 46th, sent at 900 ms, is
        // answered 429 (some before it answered, some still in flight).
        for i in 0..46u64 {
            assert_eq!(limiter.acquire(cc, i * 20), Ok(()));
        }
        assert_eq!(limiter.limit(cc), None);
        // The 45 sent in the second before it got through (answered or in flight): the limit
        // is 45 less a twentieth, and nothing goes until 1950 ms.
        limiter.refused(cc, 900, 950, Some(1000));
        assert_eq!(limiter.learned_limit(cc), Some(43));
        assert_eq!(limiter.acquire(cc, 960), Err(1950));
        // A 429 for a request sent before the lesson (already in flight) teaches nothing.
        limiter.refused(cc, 880, 970, Some(1000));
        assert_eq!(limiter.learned_limit(cc), Some(43));
        assert_eq!(limiter.acquire(cc, 1949), Err(1950));
        // After the hold, requests are spaced at 43 a second.
        for i in 0..43u64 {
            assert_eq!(limiter.acquire(cc, 1950 + i), Ok(()));
        }
        assert_eq!(limiter.acquire(cc, 2000), Err(2950));
        // Other carriers are not held.
        assert_eq!(limiter.acquire(Carrier::Thingspace, 960), Ok(()));
        // A later 429 steps down a twentieth without a new hold (its second overlaps the hold,
        // so its count says nothing); the one sent before that lesson is ignored.
        limiter.refused(cc, 1960, 2010, None);
        limiter.refused(cc, 1970, 2020, None);
        assert_eq!(limiter.learned_limit(cc), Some(41));
        // 42 of the 43 sent from 1950 ms are still within the second: at 41 that is too many
        // until two have left it (at 2951 the 41 sent from 1952 ms are still in).
        assert_eq!(limiter.acquire(cc, 2950), Err(2952));
        assert_eq!(limiter.acquire(cc, 2951), Err(2952));
        assert_eq!(limiter.acquire(cc, 2952), Ok(()));
        // One send, refused: never below 1.
        let mut fresh = RateLimiter::new();
        assert_eq!(fresh.acquire(cc, 0), Ok(()));
        fresh.refused(cc, 0, 10, None);
        assert_eq!(fresh.learned_limit(cc), Some(1));
        // Past the hold, a second that got fewer through than the limit sets it.
        let mut paced = RateLimiter::new();
        for t in (0..=900).step_by(20) {
            assert_eq!(paced.acquire(cc, t), Ok(()));
        }
        paced.refused(cc, 900, 950, Some(100));
        assert_eq!(paced.learned_limit(cc), Some(43));
        for t in (1050..1480).step_by(10).chain((2050..2250).step_by(20)) {
            assert_eq!(paced.acquire(cc, t), Ok(()));
        }
        // Its second, 1231..=2230 ms, saw 24 + 10 sends, one of them refused.
        paced.refused(cc, 2230, 2260, None);
        assert_eq!(paced.learned_limit(cc), Some(33));
        // The user's limit is kept as set: its 429s teach nothing and hold nothing.
        let mut set = RateLimiter::new();
        set.set_limit(cc, Some(20));
        for t in (0..400).step_by(20) {
            assert_eq!(set.acquire(cc, t), Ok(()));
        }
        set.refused(cc, 380, 400, Some(500));
        assert_eq!((set.limit(cc), set.learned_limit(cc)), (Some(20), None));
        assert_eq!(set.acquire(cc, 1000), Ok(()));
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

    #[test]
    fn a_huge_retry_after_holds_the_carrier_no_longer_than_the_cap() {
        let cc = Carrier::ControlCenter;
        let cap = crate::limits::MAX_RETRY_AFTER_MS;
        // `Retry-After: 999999` (11 days), and a value at the end of the range.
        for retry_after in [999_999_000, u64::MAX] {
            let mut limiter = RateLimiter::new();
            assert_eq!(limiter.acquire(cc, 1_000), Ok(()));
            limiter.refused(cc, 1_000, 1_100, Some(retry_after));
            assert_eq!(limiter.acquire(cc, 1_200), Err(1_100 + cap));
            assert_eq!(limiter.acquire(cc, 1_100 + cap), Ok(()));
        }
        // Far in the future, nothing overflows either.
        let mut limiter = RateLimiter::new();
        assert_eq!(limiter.acquire(cc, u64::MAX - 10), Ok(()));
        limiter.refused(cc, u64::MAX - 10, u64::MAX - 5, Some(u64::MAX));
        assert_eq!(limiter.acquire(cc, u64::MAX - 4), Err(u64::MAX));
    }
}
