//! Aggregation over records: totals, time series and breakdowns for the current filters.
//!
//! Every function is one pass over the records with no per-record allocation: filters are
//! compiled to interned handles first, so the hot loop compares integers, not strings.

use std::collections::HashMap;

use crate::model::{Carrier, Direction, Granularity, Record, Service, Subject, Sym, UsageSet};
use crate::sorting::sort_by_shared;

/// What the user is looking at. Empty lists mean "all".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    /// Unix seconds, half-open; a record matches when its period overlaps `[from, to)`.
    pub from: Option<i64>,
    /// Unix seconds, the exclusive end of `[from, to)`; `None`: no upper bound.
    pub to: Option<i64>,
    /// Services to keep.
    pub services: Vec<Service>,
    /// Directions to keep.
    pub directions: Vec<Direction>,
    /// Zone names to keep; [`NO_ZONE`] keeps the records without a zone.
    pub zones: Vec<String>,
    /// `Some(true)`: only roaming records; `Some(false)`: only home ones (unknown matches neither).
    pub roaming: Option<bool>,
    /// Subjects to keep (records without a subject then match none).
    pub subjects: Vec<Subject>,
    /// Carriers to keep.
    pub carriers: Vec<Carrier>,
}

impl Filter {
    /// True when the filter keeps every record.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    /// Resolves names to the set's handles; an unknown zone or subject matches nothing.
    /// Unknown values are dropped, so a list of only unknown values matches nothing.
    #[must_use]
    pub fn compile(&self, set: &UsageSet) -> CompiledFilter {
        let zones = (!self.zones.is_empty()).then(|| {
            self.zones
                .iter()
                .filter_map(|z| {
                    if z == NO_ZONE {
                        Some(Sym::NONE)
                    } else {
                        set.lookup(z)
                    }
                })
                .collect()
        });
        let subjects = (!self.subjects.is_empty()).then(|| {
            self.subjects
                .iter()
                .filter_map(|s| {
                    set.subjects()
                        .iter()
                        .position(|known| known == s)
                        .map(|i| set.subject_sym(i))
                })
                .collect()
        });
        CompiledFilter {
            from: self.from,
            to: self.to,
            services: self.services.clone(),
            directions: self.directions.clone(),
            zones,
            roaming: self.roaming,
            subjects,
            carriers: self.carriers.clone(),
        }
    }
}

/// The label used for records without a zone.
pub const NO_ZONE: &str = "(no zone)";

/// A [`Filter`] resolved against one set.
#[derive(Clone, Debug)]
pub struct CompiledFilter {
    from: Option<i64>,
    to: Option<i64>,
    services: Vec<Service>,
    directions: Vec<Direction>,
    zones: Option<Vec<Sym>>,
    roaming: Option<bool>,
    subjects: Option<Vec<Sym>>,
    carriers: Vec<Carrier>,
}

impl CompiledFilter {
    /// Whether the record passes every part of the filter.
    #[inline]
    #[must_use]
    pub fn matches(&self, r: &Record) -> bool {
        if let Some(from) = self.from {
            if r.end().max(r.start + 1) <= from {
                return false;
            }
        }
        if let Some(to) = self.to {
            if r.start >= to {
                return false;
            }
        }
        (self.services.is_empty() || self.services.contains(&r.service))
            && (self.directions.is_empty() || self.directions.contains(&r.direction))
            && (self.carriers.is_empty() || self.carriers.contains(&r.carrier))
            && self
                .roaming
                .is_none_or(|want| r.roaming.as_option() == Some(want))
            && self.zones.as_ref().is_none_or(|z| z.contains(&r.zone))
            && self
                .subjects
                .as_ref()
                .is_none_or(|s| s.contains(&r.subject) && !r.subject.is_none())
    }
}

/// Sums per service for the KPI cards.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Totals {
    /// Data used, in bytes.
    pub data_bytes: u64,
    /// Voice used, in seconds.
    pub voice_seconds: u64,
    /// SMS, in messages.
    pub sms: u64,
    /// MMS, in messages.
    pub mms: u64,
    /// The part of each used while roaming (records with `roaming == true`).
    pub roaming_data_bytes: u64,
    /// The part of `voice_seconds` used while roaming.
    pub roaming_voice_seconds: u64,
    /// How many records matched.
    pub records: usize,
    /// One entry per allowance period (service, zone, period, subject), latest period first.
    pub allowance: Vec<AllowanceUse>,
}

impl Totals {
    /// The total of one service, in its unit.
    #[must_use]
    pub fn of(&self, service: Service) -> u64 {
        match service {
            Service::Data => self.data_bytes,
            Service::Voice => self.voice_seconds,
            Service::Sms => self.sms,
            Service::Mms => self.mms,
        }
    }
}

/// How much of an included allowance one period used, and where it is heading.
#[derive(Clone, Debug, PartialEq)]
pub struct AllowanceUse {
    /// The SIM or account the allowance belongs to (a fleet has one per subject).
    pub subject: Option<Subject>,
    /// The service the allowance is for.
    pub service: Service,
    /// The allowance's zone; `None` for records without one.
    pub zone: Option<String>,
    /// Unix seconds of the period's start.
    pub period_start: i64,
    /// Unix seconds of the period's end, exclusive.
    pub period_end: i64,
    /// Quantity used in the period, in the service's unit.
    pub used: u64,
    /// Included quantity for the period, in the service's unit.
    pub allowance: u64,
    /// `used / allowance` (1.0 is all of it; may exceed 1); 0 when the allowance is 0.
    pub fraction_used: f64,
    /// Linear projection to the period's end when `now` lies inside the period.
    pub projected_at_end: Option<u64>,
}

/// Sums the records `filter` keeps, per service and per allowance period; `now` (Unix
/// seconds) is where [`AllowanceUse::projected_at_end`] projects from.
#[must_use]
pub fn totals(set: &UsageSet, filter: &Filter, now: i64) -> Totals {
    let compiled = filter.compile(set);
    let mut t = Totals::default();
    // (service, zone, period start, period end, subject) -> (used, allowance)
    type PeriodKey = (Service, Sym, i64, i64, Sym);
    let mut allowances: HashMap<PeriodKey, (u64, u64)> = HashMap::new();
    for r in set.records.iter().filter(|r| compiled.matches(r)) {
        t.records += 1;
        let q = r.quantity;
        let roaming = r.roaming.as_option() == Some(true);
        match r.service {
            Service::Data => {
                t.data_bytes = t.data_bytes.saturating_add(q);
                if roaming {
                    t.roaming_data_bytes = t.roaming_data_bytes.saturating_add(q);
                }
            }
            Service::Voice => {
                t.voice_seconds = t.voice_seconds.saturating_add(q);
                if roaming {
                    t.roaming_voice_seconds = t.roaming_voice_seconds.saturating_add(q);
                }
            }
            Service::Sms => t.sms = t.sms.saturating_add(q),
            Service::Mms => t.mms = t.mms.saturating_add(q),
        }
        if let Some(a) = r.allowance() {
            let e = allowances
                .entry((r.service, r.zone, r.start, r.end(), r.subject))
                .or_insert((0, a));
            e.0 = e.0.saturating_add(q);
        }
    }
    let mut list: Vec<AllowanceUse> = allowances
        .into_iter()
        .map(
            |((service, zone, start, end, subject), (used, allowance))| {
                let projected_at_end = (now > start && now < end).then(|| {
                    let elapsed = (now - start) as f64;
                    (used as f64 * (end - start) as f64 / elapsed).round() as u64
                });
                AllowanceUse {
                    subject: set.subject(subject).cloned(),
                    service,
                    zone: set.resolve(zone).map(str::to_owned),
                    period_start: start,
                    period_end: end,
                    used,
                    allowance,
                    fraction_used: if allowance == 0 {
                        0.0
                    } else {
                        used as f64 / allowance as f64
                    },
                    projected_at_end,
                }
            },
        )
        .collect();
    sort_by_shared(&mut list, |a, b| {
        b.period_start
            .cmp(&a.period_start)
            .then(a.service.cmp(&b.service))
            .then(a.zone.cmp(&b.zone))
            .then(a.subject.cmp(&b.subject))
    });
    t.allowance = list;
    t
}

/// What the chart stacks by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GroupBy {
    /// By zone ([`NO_ZONE`] for none).
    Zone,
    /// By service.
    Service,
    /// By direction.
    Direction,
    /// By carrier (its label).
    Carrier,
    /// By subject.
    Subject,
    /// By rate plan.
    RatePlan,
    /// By roaming: home, roaming, unknown.
    Roaming,
}

impl GroupBy {
    /// Every grouping, in the order the controls list them.
    pub const ALL: [GroupBy; 7] = [
        GroupBy::Zone,
        GroupBy::Direction,
        GroupBy::Service,
        GroupBy::Carrier,
        GroupBy::Subject,
        GroupBy::RatePlan,
        GroupBy::Roaming,
    ];

    /// The stable name (URL state, control values): `zone`, `service`, ... `ratePlan`, `roaming`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Zone => "zone",
            GroupBy::Service => "service",
            GroupBy::Direction => "direction",
            GroupBy::Carrier => "carrier",
            GroupBy::Subject => "subject",
            GroupBy::RatePlan => "ratePlan",
            GroupBy::Roaming => "roaming",
        }
    }

    /// The grouping whose name ([`GroupBy::as_str`]) is exactly `name`.
    #[must_use]
    pub fn parse(name: &str) -> Option<GroupBy> {
        GroupBy::ALL.into_iter().find(|g| g.as_str() == name)
    }

    /// A name for people: "Zone", "Rate plan", ...
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            GroupBy::Zone => "Zone",
            GroupBy::Service => "Service",
            GroupBy::Direction => "Direction",
            GroupBy::Carrier => "Carrier",
            GroupBy::Subject => "Subject",
            GroupBy::RatePlan => "Rate plan",
            GroupBy::Roaming => "Roaming",
        }
    }
}

fn group_key(set: &UsageSet, r: &Record, by: GroupBy) -> String {
    match by {
        GroupBy::Zone => set.resolve(r.zone).unwrap_or(NO_ZONE).to_owned(),
        GroupBy::Service => r.service.as_str().to_owned(),
        GroupBy::Direction => r.direction.as_str().to_owned(),
        GroupBy::Carrier => r.carrier.label().to_owned(),
        GroupBy::Subject => set
            .subject(r.subject)
            .map_or_else(|| "(unknown subject)".to_owned(), |s| s.to_string()),
        GroupBy::RatePlan => set
            .context(r.context)
            .and_then(|c| c.rate_plan.clone())
            .unwrap_or_else(|| "(no rate plan)".to_owned()),
        GroupBy::Roaming => match r.roaming.as_option() {
            Some(true) => "roaming".to_owned(),
            Some(false) => "home".to_owned(),
            None => "unknown".to_owned(),
        },
    }
}

/// The group's key for each record, computed once per distinct handle rather than per record.
///
/// Handles are dense indices, so the per-record lookup is a `Vec` index, not a hash: grouping
/// 3.65 M records by subject took 5.5 s with a hashed cache and a linear search of the keys
/// (`cargo bench --bench aggregate`), and takes tens of milliseconds this way.
struct GroupKeys {
    by: GroupBy,
    /// Group index per handle (`u32::MAX`: not seen yet).
    slots: Vec<u32>,
    /// Group index of records without the handle (`Sym::NONE`).
    none_slot: u32,
    keys: Vec<String>,
    key_index: HashMap<String, u32>,
}

impl GroupKeys {
    fn new(by: GroupBy) -> GroupKeys {
        GroupKeys {
            by,
            slots: Vec::new(),
            none_slot: u32::MAX,
            keys: Vec::new(),
            key_index: HashMap::new(),
        }
    }

    /// The record's handle for this grouping; `None` for a missing zone, subject or context.
    #[inline]
    fn handle(&self, r: &Record) -> Option<usize> {
        match self.by {
            GroupBy::Zone => r.zone.index(),
            GroupBy::Service => Some(r.service as usize),
            GroupBy::Direction => Some(r.direction as usize),
            GroupBy::Carrier => Some(r.carrier as usize),
            GroupBy::Subject => r.subject.index(),
            GroupBy::RatePlan => r.context.index(),
            GroupBy::Roaming => Some(r.roaming as usize),
        }
    }

    #[inline]
    fn index(&mut self, set: &UsageSet, r: &Record) -> usize {
        let handle = self.handle(r);
        let known = match handle {
            Some(h) => self.slots.get(h).copied().unwrap_or(u32::MAX),
            None => self.none_slot,
        };
        if known != u32::MAX {
            return known as usize;
        }
        let key = group_key(set, r, self.by);
        // Different handles can share a key (two contexts with one rate plan).
        let slot = match self.key_index.get(&key) {
            Some(&slot) => slot,
            None => {
                let slot = self.keys.len() as u32;
                self.key_index.insert(key.clone(), slot);
                self.keys.push(key);
                slot
            }
        };
        match handle {
            Some(h) => {
                if self.slots.len() <= h {
                    self.slots.resize(h + 1, u32::MAX);
                }
                self.slots[h] = slot;
            }
            None => self.none_slot = slot,
        }
        slot as usize
    }
}

/// The interval a time series is laid out in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bucket {
    /// Days, from midnight in the view's clock.
    Day,
    /// Weeks from Monday.
    Week,
    /// Calendar months, in the view's clock.
    Month,
    /// Billing periods: the periods of the cycle and month records themselves (a TelecomX
    /// month is its bill's period); finer records fall into the period holding them, or their
    /// calendar month where no record gives one.
    Cycle,
    /// The data's finest granularity (events count as days).
    Auto,
}

impl Bucket {
    /// The intervals a user can pick.
    pub const CHOICES: [Bucket; 4] = [Bucket::Day, Bucket::Week, Bucket::Month, Bucket::Cycle];

    /// The stable name (control values): `day`, `week`, `month`, `cycle`, `auto`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Day => "day",
            Bucket::Week => "week",
            Bucket::Month => "month",
            Bucket::Cycle => "cycle",
            Bucket::Auto => "auto",
        }
    }

    /// A name for people: "Day", "Billing cycle", ...
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Bucket::Day => "Day",
            Bucket::Week => "Week",
            Bucket::Month => "Month",
            Bucket::Cycle => "Billing cycle",
            Bucket::Auto => "Automatic",
        }
    }

    /// The interval whose name ([`Bucket::as_str`]) is exactly `name`.
    #[must_use]
    pub fn parse(name: &str) -> Option<Bucket> {
        [
            Bucket::Day,
            Bucket::Week,
            Bucket::Month,
            Bucket::Cycle,
            Bucket::Auto,
        ]
        .into_iter()
        .find(|b| b.as_str() == name)
    }
}

/// Months since 0000-03 of the day `t` falls in (proleptic Gregorian, UTC), and that month's
/// first day as days since 1970-01-01. Integer arithmetic (Hinnant's `civil_from_days`): the
/// fleet summary and monthly charts ask once per record, where chrono's calendar conversion was
/// most of their time.
fn civil_month(t: i64) -> (i64, i64) {
    let days = t.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day_of_month = doy - (153 * mp + 2) / 5; // 0-based
    ((era * 400 + yoe) * 12 + mp, days - day_of_month)
}

/// Unix seconds of the first instant of the month holding `t` (UTC).
#[must_use]
pub fn month_start(t: i64) -> i64 {
    civil_month(t).1 * 86_400
}

/// Unix seconds of the first instant of the month after the one holding `t` (UTC).
#[must_use]
pub fn next_month_start(t: i64) -> i64 {
    // 31 days after the first is always inside the next month.
    month_start(month_start(t) + 31 * 86_400)
}

/// Days since 1970-01-01 of the first day of the month `key` (months since 0000-03, as
/// [`civil_month`] counts them).
fn month_key_first_day(key: i64) -> i64 {
    let (year, m) = (key.div_euclid(12), key.rem_euclid(12));
    let (year, month) = if m >= 10 {
        (year + 1, m - 9)
    } else {
        (year, m + 3)
    };
    // Hinnant's days_from_civil for the 1st of that month.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The calendar day (days since 1970-01-01) a record counts on.
///
/// Events are placed by the view's clock (`offset_seconds` east of UTC), so a week or a day
/// starts at local midnight as the user reads the dates. Day, month and cycle records are the
/// carrier's own calendar periods, dated at UTC midnight: shifting them by the offset would move
/// February's bill into January west of Greenwich, so they keep their date.
#[inline]
fn record_day(r: &Record, offset_seconds: i64) -> i64 {
    if r.granularity == Granularity::Event {
        (r.start + offset_seconds).div_euclid(86_400)
    } else {
        r.start.div_euclid(86_400)
    }
}

/// The key of the day, week or month bucket holding calendar day `day`.
#[inline]
fn calendar_key(day: i64, bucket: Bucket) -> i64 {
    match bucket {
        // 1970-01-01 was a Thursday: day -3 is the Monday that starts week 0.
        Bucket::Week => (day + 3).div_euclid(7),
        Bucket::Month => civil_month(day * 86_400).0,
        _ => day,
    }
}

/// The first calendar day of bucket `key`.
fn key_first_day(key: i64, bucket: Bucket) -> i64 {
    match bucket {
        Bucket::Week => key * 7 - 3,
        Bucket::Month => month_key_first_day(key),
        _ => key,
    }
}

/// Start of the day, week or month holding `t` in the view's clock (`offset_seconds` east of
/// UTC), as Unix seconds; a billing cycle starts where its record does.
#[must_use]
pub fn bucket_start(t: i64, bucket: Bucket, offset_seconds: i64) -> i64 {
    match bucket {
        Bucket::Cycle => t,
        Bucket::Auto => bucket_start(t, Bucket::Day, offset_seconds),
        b => {
            let day = (t + offset_seconds).div_euclid(86_400);
            key_first_day(calendar_key(day, b), b) * 86_400 - offset_seconds
        }
    }
}

/// Whether a cycle record covers exactly one calendar month (then it is that month's bar).
fn is_calendar_month(r: &Record) -> bool {
    r.start == month_start(r.start) && r.end() == next_month_start(r.start)
}

/// Whether the record's own period is longer than the interval, so that drawing it as one of
/// the interval's bars would pass off a month's or a cycle's total as one day's or week's use.
fn is_coarser(r: &Record, bucket: Bucket) -> bool {
    match (bucket, r.granularity) {
        (Bucket::Day | Bucket::Week, Granularity::Month | Granularity::Cycle) => true,
        (Bucket::Month, Granularity::Cycle) => !is_calendar_month(r),
        _ => false,
    }
}

/// One stacked series of a [`TimeSeries`]: one group's quantity per bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesData {
    /// The group's key: a zone, a service, a carrier's label, a subject ...
    pub key: String,
    /// One value per bucket.
    pub values: Vec<u64>,
    /// The sum of `values`.
    pub total: u64,
}

/// The total of records whose own period (a month, a billing cycle) is longer than the chart's
/// interval. Not a bar: its use within the period is unknown, so the chart draws it as a span
/// over the period in a band of its own.
#[derive(Clone, Debug, PartialEq)]
pub struct PeriodTotal {
    /// Unix seconds of the period's start.
    pub start: i64,
    /// Exclusive.
    pub end: i64,
    /// The granularity of the records summed (month or cycle).
    pub granularity: Granularity,
    /// First and last bucket (indices into [`TimeSeries::buckets`]) the period overlaps.
    pub first_bucket: usize,
    /// Last bucket the period overlaps (index into [`TimeSeries::buckets`]), `>= first_bucket`.
    pub last_bucket: usize,
    /// The sum of the period's records, in the service's unit.
    pub total: u64,
    /// Per group key, largest first.
    pub parts: Vec<(String, u64)>,
}

/// One service's quantity per bucket, stacked by group, as the chart draws it.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeSeries {
    /// Bucket starts, ascending (Unix seconds; local midnight in the view's clock).
    pub buckets: Vec<i64>,
    /// Bucket ends (exclusive), one per bucket.
    pub ends: Vec<i64>,
    /// The interval actually used ([`Bucket::Auto`] resolved).
    pub bucket: Bucket,
    /// Sorted by total, largest first.
    pub series: Vec<SeriesData>,
    /// Totals of periods longer than the interval, by start; never part of the bars.
    pub periods: Vec<PeriodTotal>,
}

impl TimeSeries {
    fn empty(bucket: Bucket) -> TimeSeries {
        TimeSeries {
            buckets: Vec::new(),
            ends: Vec::new(),
            bucket,
            series: Vec::new(),
            periods: Vec::new(),
        }
    }

    /// True when there are no buckets (as when no record matched).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Highest stacked value of any bucket (for the axis).
    #[must_use]
    pub fn max_stack(&self) -> u64 {
        (0..self.buckets.len())
            .map(|i| {
                self.series
                    .iter()
                    .map(|s| s.values[i])
                    .fold(0u64, u64::saturating_add)
            })
            .max()
            .unwrap_or(0)
    }
}

/// Where a record's bucket sits in the series' value vectors.
enum Columns {
    /// Every day, week or month from the first to the last: a time axis without holes.
    Dense {
        bucket: Bucket,
        first: i64,
        len: usize,
    },
    /// Day, week or month keys present in the data (a range too wide to lay out in full).
    SparseKeys { bucket: Bucket, keys: Vec<i64> },
    /// Billing periods `(start, end)` present, by start; and the periods month and cycle records
    /// give, which finer records fall into.
    Periods {
        present: Vec<(i64, i64)>,
        billing: Vec<(i64, i64)>,
    },
}

/// Widest dense layout (about 2 870 years of days); wider ranges are laid out sparsely.
const MAX_DENSE_COLUMNS: usize = 1 << 20;

impl Columns {
    fn len(&self) -> usize {
        match self {
            Columns::Dense { len, .. } => *len,
            Columns::SparseKeys { keys, .. } => keys.len(),
            Columns::Periods { present, .. } => present.len(),
        }
    }

    /// The column of a day, week or month key (dense and sparse key layouts).
    #[inline]
    fn key_column(&self, key: i64) -> usize {
        match self {
            // Clamped: a record that began before a date filter's start counts in the first.
            Columns::Dense { first, len, .. } => (key - first).clamp(0, *len as i64 - 1) as usize,
            Columns::SparseKeys { keys, .. } => keys
                .partition_point(|k| *k < key)
                .min(keys.len().saturating_sub(1)),
            Columns::Periods { .. } => 0,
        }
    }

    /// (start, end) of column `i` in Unix seconds.
    fn span(&self, i: usize, offset_seconds: i64) -> (i64, i64) {
        let key_span = |bucket: Bucket, key: i64| {
            let start = key_first_day(key, bucket) * 86_400 - offset_seconds;
            let end = key_first_day(key + 1, bucket) * 86_400 - offset_seconds;
            (start, end)
        };
        match self {
            Columns::Dense { bucket, first, .. } => key_span(*bucket, first + i as i64),
            Columns::SparseKeys { bucket, keys } => key_span(*bucket, keys[i]),
            Columns::Periods { present, .. } => present[i],
        }
    }
}

/// The billing period holding `t` among `periods` (sorted by start): the latest-starting one
/// that contains it.
fn period_holding(periods: &[(i64, i64)], t: i64) -> Option<usize> {
    let after = periods.partition_point(|p| p.0 <= t);
    (0..after).rev().find(|&i| t < periods[i].1)
}

/// The bucket start a record falls in at the billing-cycle interval: its own period for month
/// and cycle records, else the period holding it, else its calendar month.
fn cycle_period(r: &Record, periods: &[(i64, i64)], offset_seconds: i64) -> (i64, i64) {
    match r.granularity {
        Granularity::Month | Granularity::Cycle => (r.start, r.end().max(r.start + 1)),
        _ => match period_holding(periods, r.start) {
            Some(i) => periods[i],
            None => {
                let day = record_day(r, offset_seconds);
                let key = calendar_key(day, Bucket::Month);
                (
                    key_first_day(key, Bucket::Month) * 86_400,
                    key_first_day(key + 1, Bucket::Month) * 86_400,
                )
            }
        },
    }
}

/// Stacked series of one service's quantity per bucket, in UTC. See [`time_series_at`].
#[must_use]
pub fn time_series(
    set: &UsageSet,
    filter: &Filter,
    metric: Service,
    group_by: GroupBy,
    bucket: Bucket,
) -> TimeSeries {
    time_series_at(set, filter, metric, group_by, bucket, 0)
}

/// Stacked series of one service's quantity per bucket of the interval `bucket`, with days and
/// weeks starting at midnight `offset_seconds` east of UTC (the view's clock).
///
/// A record counts whole in the bucket holding its start when its own period fits in the
/// interval (events and days in a week, days and months in a month). A record whose period is
/// longer than the interval (a month or a billing cycle at day or week) is not spread over days:
/// carriers do not say how the month was used, and an even spread would draw a shape nobody
/// measured, while one bar on the first day would show a month as a day. It goes into
/// [`TimeSeries::periods`], drawn as the period's total beside the bars. Day, week and month
/// layouts list every bucket from the first to the last (a time axis without holes); billing
/// cycles list the periods present.
///
/// Two passes, no hashing per bar record: the first finds the granularity and the time range,
/// the second adds each quantity into a dense group x bucket matrix.
#[must_use]
pub fn time_series_at(
    set: &UsageSet,
    filter: &Filter,
    metric: Service,
    group_by: GroupBy,
    bucket: Bucket,
    offset_seconds: i64,
) -> TimeSeries {
    let mut f = filter.clone();
    f.services = vec![metric];
    let compiled = f.compile(set);
    let mut finest: Option<Granularity> = None;
    for r in set.records.iter().filter(|r| compiled.matches(r)) {
        finest = Some(finest.map_or(r.granularity, |g| g.min(r.granularity)));
        if finest == Some(Granularity::Event) {
            break;
        }
    }
    let bucket = match bucket {
        Bucket::Auto => match finest {
            Some(Granularity::Month) => Bucket::Month,
            Some(Granularity::Cycle) => Bucket::Cycle,
            _ => Bucket::Day,
        },
        b => b,
    };
    if finest.is_none() {
        return TimeSeries::empty(bucket);
    }
    let columns = if bucket == Bucket::Cycle {
        let mut periods: Vec<(i64, i64)> = set
            .records
            .iter()
            .filter(|r| {
                compiled.matches(r)
                    && matches!(r.granularity, Granularity::Month | Granularity::Cycle)
            })
            .map(|r| (r.start, r.end().max(r.start + 1)))
            .collect();
        periods.sort_unstable();
        periods.dedup();
        let mut present: Vec<(i64, i64)> = set
            .records
            .iter()
            .filter(|r| compiled.matches(r))
            .map(|r| cycle_period(r, &periods, offset_seconds))
            .collect();
        present.sort_unstable();
        present.dedup();
        Columns::Periods {
            present,
            billing: periods,
        }
    } else {
        // The range covers the bars and the long periods, so every period has buckets under it.
        let (mut min_day, mut max_day) = (i64::MAX, i64::MIN);
        for r in set.records.iter().filter(|r| compiled.matches(r)) {
            let day = record_day(r, offset_seconds);
            min_day = min_day.min(day);
            let last = if is_coarser(r, bucket) {
                (r.end().max(r.start + 1) - 1).div_euclid(86_400)
            } else {
                day
            };
            max_day = max_day.max(last);
        }
        // A date filter (a brush zoom) bounds the axis, though a month overlapping it reaches out.
        if let Some(from) = filter.from {
            min_day = min_day.max(from.div_euclid(86_400));
        }
        if let Some(to) = filter.to {
            max_day = max_day.min((to - 1).div_euclid(86_400));
        }
        max_day = max_day.max(min_day);
        let (first, last) = (calendar_key(min_day, bucket), calendar_key(max_day, bucket));
        match usize::try_from(last - first + 1) {
            Ok(len) if len <= MAX_DENSE_COLUMNS => Columns::Dense { bucket, first, len },
            _ => {
                let mut keys: Vec<i64> = set
                    .records
                    .iter()
                    .filter(|r| compiled.matches(r) && !is_coarser(r, bucket))
                    .map(|r| calendar_key(record_day(r, offset_seconds), bucket))
                    .collect();
                keys.sort_unstable();
                keys.dedup();
                Columns::SparseKeys { bucket, keys }
            }
        }
    };
    let width = columns.len();
    let mut groups = GroupKeys::new(group_by);
    let mut cells: Vec<Vec<u64>> = Vec::new();
    let mut has_bar: Vec<bool> = Vec::new();
    // (start, end, granularity) -> (total, per group)
    type PeriodKey = (i64, i64, Granularity);
    let mut long: HashMap<PeriodKey, (u64, Vec<u64>)> = HashMap::new();
    for r in set.records.iter().filter(|r| compiled.matches(r)) {
        let g = groups.index(set, r);
        if g == cells.len() {
            cells.push(vec![0; width]);
            has_bar.push(false);
        }
        let c = match &columns {
            Columns::Periods { present, billing } => {
                let period = cycle_period(r, billing, offset_seconds);
                present.partition_point(|x| *x < period)
            }
            _ if is_coarser(r, bucket) => {
                let e = long
                    .entry((r.start, r.end().max(r.start + 1), r.granularity))
                    .or_insert((0, Vec::new()));
                e.0 = e.0.saturating_add(r.quantity);
                if e.1.len() <= g {
                    e.1.resize(g + 1, 0);
                }
                e.1[g] = e.1[g].saturating_add(r.quantity);
                continue;
            }
            _ => columns.key_column(calendar_key(record_day(r, offset_seconds), bucket)),
        };
        let cell = &mut cells[g][c];
        *cell = cell.saturating_add(r.quantity);
        has_bar[g] = true;
    }
    let spans: Vec<(i64, i64)> = (0..width)
        .map(|i| columns.span(i, offset_seconds))
        .collect();
    let mut periods: Vec<PeriodTotal> = long
        .into_iter()
        .map(|((start, end, granularity), (total, per_group))| {
            let first_bucket = spans
                .partition_point(|s| s.1 <= start)
                .min(width.saturating_sub(1));
            let last_bucket = spans
                .partition_point(|s| s.0 < end)
                .saturating_sub(1)
                .max(first_bucket);
            let mut parts: Vec<(String, u64)> = per_group
                .iter()
                .enumerate()
                .filter(|(_, q)| **q > 0)
                .map(|(g, q)| (groups.keys[g].clone(), *q))
                .collect();
            sort_by_shared(&mut parts, |a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            PeriodTotal {
                start,
                end,
                granularity,
                first_bucket,
                last_bucket,
                total,
                parts,
            }
        })
        .collect();
    sort_by_shared(&mut periods, |a, b| {
        (a.start, a.end, a.granularity).cmp(&(b.start, b.end, b.granularity))
    });
    let mut series: Vec<SeriesData> = groups
        .keys
        .into_iter()
        .zip(cells)
        .zip(has_bar)
        .filter(|(_, bar)| *bar)
        .map(|((key, values), _)| {
            let total = values.iter().copied().fold(0u64, u64::saturating_add);
            SeriesData { key, values, total }
        })
        .collect();
    sort_by_shared(&mut series, |a, b| {
        b.total.cmp(&a.total).then(a.key.cmp(&b.key))
    });
    TimeSeries {
        buckets: spans.iter().map(|s| s.0).collect(),
        ends: spans.iter().map(|s| s.1).collect(),
        bucket,
        series,
        periods,
    }
}

/// Keeps the `max_series - 1` largest series and folds the rest into "Other".
#[must_use]
pub fn limit_series(mut ts: TimeSeries, max_series: usize) -> TimeSeries {
    if ts.series.len() <= max_series || max_series == 0 {
        return ts;
    }
    let rest = ts.series.split_off(max_series - 1);
    let mut other = SeriesData {
        key: "Other".to_owned(),
        values: vec![0; ts.buckets.len()],
        total: 0,
    };
    for s in rest {
        for (o, v) in other.values.iter_mut().zip(s.values) {
            *o = o.saturating_add(v);
        }
        other.total = other.total.saturating_add(s.total);
    }
    ts.series.push(other);
    ts
}

/// Sums neighbouring buckets so that at most `max_points` remain (never more bars than pixels).
#[must_use]
pub fn downsample(ts: TimeSeries, max_points: usize) -> TimeSeries {
    if max_points == 0 || ts.buckets.len() <= max_points {
        return ts;
    }
    let factor = ts.buckets.len().div_ceil(max_points);
    let buckets = ts.buckets.iter().step_by(factor).copied().collect();
    let ends = ts
        .ends
        .chunks(factor)
        .filter_map(|c| c.last().copied())
        .collect();
    let series = ts
        .series
        .into_iter()
        .map(|s| SeriesData {
            values: s
                .values
                .chunks(factor)
                .map(|c| c.iter().copied().fold(0u64, u64::saturating_add))
                .collect(),
            ..s
        })
        .collect();
    let periods = ts
        .periods
        .into_iter()
        .map(|p| PeriodTotal {
            first_bucket: p.first_bucket / factor,
            last_bucket: p.last_bucket / factor,
            ..p
        })
        .collect();
    TimeSeries {
        buckets,
        ends,
        bucket: ts.bucket,
        series,
        periods,
    }
}

/// One group's share of a service's quantity, for the breakdown table.
#[derive(Clone, Debug, PartialEq)]
pub struct BreakdownRow {
    /// The group's key: a zone, a service, a carrier's label, a subject ...
    pub key: String,
    /// The group's quantity, in the service's unit.
    pub quantity: u64,
    /// `quantity` over the total of all groups, 0 to 1 (0 when the total is 0).
    pub share: f64,
    /// How many records the group sums.
    pub records: usize,
}

/// One service's quantity per group, largest first.
#[must_use]
pub fn breakdown(
    set: &UsageSet,
    filter: &Filter,
    metric: Service,
    by: GroupBy,
) -> Vec<BreakdownRow> {
    let mut f = filter.clone();
    f.services = vec![metric];
    let compiled = f.compile(set);
    let mut groups = GroupKeys::new(by);
    let mut sums: Vec<(u64, usize)> = Vec::new();
    for r in set.records.iter().filter(|r| compiled.matches(r)) {
        let g = groups.index(set, r);
        if sums.len() <= g {
            sums.resize(g + 1, (0, 0));
        }
        sums[g].0 = sums[g].0.saturating_add(r.quantity);
        sums[g].1 += 1;
    }
    let total: u64 = sums.iter().map(|s| s.0).fold(0, u64::saturating_add);
    let mut rows: Vec<BreakdownRow> = groups
        .keys
        .into_iter()
        .zip(sums)
        .map(|(key, (quantity, records))| BreakdownRow {
            key,
            quantity,
            share: if total == 0 {
                0.0
            } else {
                quantity as f64 / total as f64
            },
            records,
        })
        .collect();
    sort_by_shared(&mut rows, |a, b| {
        b.quantity.cmp(&a.quantity).then(a.key.cmp(&b.key))
    });
    rows
}

/// Values present in the set, for the filter controls.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Facets {
    /// Zone names, sorted; [`NO_ZONE`] when some record has no zone.
    pub zones: Vec<String>,
    /// Every subject the set has interned, in the order first seen.
    pub subjects: Vec<Subject>,
    /// Carriers present, sorted.
    pub carriers: Vec<Carrier>,
    /// Services present, sorted.
    pub services: Vec<Service>,
    /// Earliest record start (Unix seconds); `None` for an empty set.
    pub min_start: Option<i64>,
    /// Latest record end (Unix seconds); `None` for an empty set.
    pub max_end: Option<i64>,
}

/// The values present in the set, for the filter controls.
#[must_use]
pub fn distinct_values(set: &UsageSet) -> Facets {
    let mut zones: Vec<Sym> = Vec::new();
    let mut f = Facets::default();
    for r in &set.records {
        if !zones.contains(&r.zone) {
            zones.push(r.zone);
        }
        if !f.carriers.contains(&r.carrier) {
            f.carriers.push(r.carrier);
        }
        if !f.services.contains(&r.service) {
            f.services.push(r.service);
        }
        f.min_start = Some(f.min_start.map_or(r.start, |m| m.min(r.start)));
        f.max_end = Some(f.max_end.map_or(r.end(), |m| m.max(r.end())));
    }
    f.zones = zones
        .into_iter()
        .map(|z| set.resolve(z).unwrap_or(NO_ZONE).to_owned())
        .collect();
    sort_by_shared(&mut f.zones, Ord::cmp);
    f.zones.dedup();
    f.subjects = set.subjects().to_vec();
    sort_by_shared(&mut f.carriers, Ord::cmp);
    sort_by_shared(&mut f.services, Ord::cmp);
    f
}

/// Indices of the matching records, in set order.
#[must_use]
pub fn filtered_indices(set: &UsageSet, filter: &Filter) -> Vec<u32> {
    let compiled = filter.compile(set);
    set.records
        .iter()
        .enumerate()
        .filter(|(_, r)| compiled.matches(r))
        .map(|(i, _)| i as u32)
        .collect()
}

/// Columns the records table sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    /// The period's start.
    Start,
    /// The carrier (declaration order).
    Carrier,
    /// The subject (kind, then id); records without one first.
    Subject,
    /// The service (declaration order).
    Service,
    /// The direction (declaration order).
    Direction,
    /// The quantity, in each record's own unit.
    Quantity,
    /// The zone's name; records without one first.
    Zone,
}

/// Rows `start .. start + len` of `indices` sorted by `key`, without sorting all of them: a
/// selection (linear) puts the first `start + len` in front, and only those are sorted. A table
/// page of a 3.65 M-record fleet costs a few milliseconds instead of a full sort.
#[must_use]
pub fn sorted_page(
    set: &UsageSet,
    indices: &[u32],
    key: SortKey,
    descending: bool,
    start: usize,
    len: usize,
) -> Vec<u32> {
    let end = (start + len).min(indices.len());
    if start >= end {
        return Vec::new();
    }
    let compare = |a: &u32, b: &u32| {
        let order = compare_by(set, *a, *b, key).then(a.cmp(b));
        if descending {
            order.reverse()
        } else {
            order
        }
    };
    let mut work = if end * 4 < indices.len() {
        smallest(indices, end, compare)
    } else {
        indices.to_vec()
    };
    if end < work.len() {
        work.select_nth_unstable_by(end - 1, compare);
        work.truncate(end);
    }
    work.sort_unstable_by(compare);
    work.split_off(start)
}

/// The `k` smallest of `items` (in no order), in one pass with about one comparison per item:
/// anything not below the current k-th smallest is skipped, the rest gather in a buffer that is
/// cut back to `k` when it doubles. A first table page of 3.65 M records no longer copies and
/// partitions all of them.
fn smallest(
    items: &[u32],
    k: usize,
    compare: impl Fn(&u32, &u32) -> std::cmp::Ordering,
) -> Vec<u32> {
    let mut best: Vec<u32> = Vec::with_capacity(2 * k);
    let mut bound: Option<u32> = None;
    for &item in items {
        if bound.is_some_and(|b| compare(&item, &b) != std::cmp::Ordering::Less) {
            continue;
        }
        best.push(item);
        if best.len() == 2 * k {
            // The k-th smallest lands at k - 1, the larger ones after it.
            best.select_nth_unstable_by(k - 1, &compare);
            best.truncate(k);
            bound = Some(best[k - 1]);
        }
    }
    best
}

fn compare_by(set: &UsageSet, a: u32, b: u32, key: SortKey) -> std::cmp::Ordering {
    let (a, b) = (&set.records[a as usize], &set.records[b as usize]);
    match key {
        SortKey::Start => a.start.cmp(&b.start),
        SortKey::Carrier => a.carrier.cmp(&b.carrier),
        SortKey::Service => a.service.cmp(&b.service),
        SortKey::Direction => a.direction.cmp(&b.direction),
        SortKey::Quantity => a.quantity.cmp(&b.quantity),
        SortKey::Zone => set.resolve(a.zone).cmp(&set.resolve(b.zone)),
        SortKey::Subject => set.subject(a.subject).cmp(&set.subject(b.subject)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Granularity, Subject, SubjectKind, Sym};

    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;
    /// 2024-01-01T00:00:00Z, a Monday.
    const JAN_1: i64 = 1_704_067_200;
    const FEB_1: i64 = JAN_1 + 31 * 86_400;
    const MAR_1: i64 = FEB_1 + 29 * 86_400;

    /// 60 ThingSpace days of 10 MiB (Jan 1 .. Feb 29 2024), TelecomX months of 3 GiB (January,
    /// February) and a Control Center cycle of 1 GiB (Jan 15 .. Feb 15).
    fn mixed_set() -> UsageSet {
        let mut set = UsageSet::new();
        let subject = set.intern_subject(&Subject::new(SubjectKind::Label, "x"));
        let record = |carrier, start, duration, granularity, quantity| {
            Record::new(
                carrier,
                subject,
                start,
                duration,
                granularity,
                Service::Data,
                Direction::Total,
                quantity,
            )
        };
        for d in 0..60 {
            set.push(record(
                Carrier::Thingspace,
                JAN_1 + d * 86_400,
                86_400,
                Granularity::Day,
                10 * MIB,
            ));
        }
        for (start, end) in [(JAN_1, FEB_1), (FEB_1, MAR_1)] {
            set.push(record(
                Carrier::Telecomx,
                start,
                (end - start) as u32,
                Granularity::Month,
                3 * GIB,
            ));
        }
        set.push(record(
            Carrier::ControlCenter,
            JAN_1 + 14 * 86_400,
            31 * 86_400,
            Granularity::Cycle,
            GIB,
        ));
        set
    }

    fn series_at(set: &UsageSet, bucket: Bucket, offset: i64) -> TimeSeries {
        time_series_at(
            set,
            &Filter::default(),
            Service::Data,
            GroupBy::Carrier,
            bucket,
            offset,
        )
    }

    fn bar_sum(ts: &TimeSeries) -> u64 {
        ts.series.iter().map(|s| s.total).sum()
    }

    #[test]
    fn months_and_cycles_are_never_day_or_week_bars() {
        let set = mixed_set();
        let all = 60 * 10 * MIB + 6 * GIB + GIB;
        for bucket in [Bucket::Day, Bucket::Auto] {
            let ts = series_at(&set, bucket, 0);
            assert_eq!(
                ts.bucket,
                Bucket::Day,
                "the finest granularity is the default"
            );
            assert_eq!(ts.buckets.len(), 60);
            assert_eq!(ts.buckets[0], JAN_1);
            assert_eq!(ts.max_stack(), 10 * MIB, "no bar holds more than one day");
            assert_eq!(ts.series.len(), 1, "only ThingSpace has bars");
            assert_eq!(ts.series[0].key, "Verizon ThingSpace");
            let periods: Vec<_> = ts
                .periods
                .iter()
                .map(|p| (p.granularity, p.first_bucket, p.last_bucket, p.total))
                .collect();
            assert_eq!(
                periods,
                vec![
                    (Granularity::Month, 0, 30, 3 * GIB),
                    (Granularity::Cycle, 14, 44, GIB),
                    (Granularity::Month, 31, 59, 3 * GIB),
                ]
            );
            assert_eq!(
                bar_sum(&ts) + ts.periods.iter().map(|p| p.total).sum::<u64>(),
                all
            );
            assert_eq!(ts.periods[0].parts, vec![("TelecomX".to_owned(), 3 * GIB)]);
        }
        let weeks = series_at(&set, Bucket::Week, 0);
        assert_eq!(weeks.buckets.len(), 9, "Jan 1 .. the week of Feb 26");
        assert!(weeks
            .buckets
            .iter()
            .all(|b| (b - JAN_1) % (7 * 86_400) == 0));
        assert_eq!(weeks.series[0].values[0], 70 * MIB);
        assert_eq!(weeks.series[0].values[8], 40 * MIB, "Feb 26 .. 29");
        assert_eq!(weeks.max_stack(), 70 * MIB);
        assert_eq!(weeks.periods.len(), 3);
        assert_eq!(
            (weeks.periods[1].first_bucket, weeks.periods[1].last_bucket),
            (2, 6)
        );
    }

    #[test]
    fn a_date_filter_bounds_the_axis() {
        let set = mixed_set();
        let filter = Filter {
            from: Some(JAN_1 + 9 * 86_400),
            to: Some(JAN_1 + 19 * 86_400),
            ..Filter::default()
        };
        let ts = time_series_at(
            &set,
            &filter,
            Service::Data,
            GroupBy::Carrier,
            Bucket::Day,
            0,
        );
        assert_eq!(
            ts.buckets.len(),
            10,
            "Jan 10 .. 19, though January reaches further"
        );
        assert_eq!(ts.buckets[0], JAN_1 + 9 * 86_400);
        let spans: Vec<_> = ts
            .periods
            .iter()
            .map(|p| (p.granularity, p.first_bucket, p.last_bucket))
            .collect();
        assert_eq!(
            spans,
            vec![(Granularity::Month, 0, 9), (Granularity::Cycle, 5, 9)]
        );
        // An event that began before the filter's start and lasts into it counts in the first
        // bucket rather than outside the axis.
        let mut set = UsageSet::new();
        set.push(Record::new(
            Carrier::VodafoneVrs,
            Sym::NONE,
            JAN_1 + 9 * 86_400 - 60,
            600,
            Granularity::Event,
            Service::Data,
            Direction::Total,
            7,
        ));
        let ts = time_series_at(
            &set,
            &filter,
            Service::Data,
            GroupBy::Carrier,
            Bucket::Day,
            0,
        );
        assert_eq!((ts.buckets.len(), ts.max_stack()), (1, 7));
    }

    #[test]
    fn months_hold_days_and_months_and_set_cycles_apart() {
        let set = mixed_set();
        let ts = series_at(&set, Bucket::Month, 0);
        assert_eq!(ts.buckets, vec![JAN_1, FEB_1]);
        assert_eq!(ts.ends, vec![FEB_1, MAR_1]);
        let by_key = |k: &str| {
            ts.series
                .iter()
                .find(|s| s.key == k)
                .unwrap()
                .values
                .clone()
        };
        assert_eq!(by_key("TelecomX"), vec![3 * GIB, 3 * GIB]);
        assert_eq!(
            by_key("Verizon ThingSpace"),
            vec![31 * 10 * MIB, 29 * 10 * MIB]
        );
        // Jan 15 .. Feb 15 is no calendar month: its total stays a period total.
        assert_eq!(ts.periods.len(), 1);
        assert_eq!(ts.periods[0].granularity, Granularity::Cycle);
        assert_eq!(
            (ts.periods[0].first_bucket, ts.periods[0].last_bucket),
            (0, 1)
        );

        // A cycle that is exactly a calendar month is that month's bar.
        let mut aligned = UsageSet::new();
        aligned.push(Record::new(
            Carrier::ControlCenter,
            Sym::NONE,
            FEB_1,
            (MAR_1 - FEB_1) as u32,
            Granularity::Cycle,
            Service::Data,
            Direction::Total,
            GIB,
        ));
        let ts = series_at(&aligned, Bucket::Month, 0);
        assert_eq!((ts.buckets.clone(), ts.periods.len()), (vec![FEB_1], 0));
        assert_eq!(ts.max_stack(), GIB);
    }

    #[test]
    fn billing_cycles_take_the_days_they_hold() {
        let set = mixed_set();
        let ts = series_at(&set, Bucket::Cycle, 0);
        let spans: Vec<(i64, i64)> = ts.buckets.iter().copied().zip(ts.ends.clone()).collect();
        let cycle = (JAN_1 + 14 * 86_400, JAN_1 + 45 * 86_400);
        assert_eq!(spans, vec![(JAN_1, FEB_1), cycle, (FEB_1, MAR_1)]);
        assert!(ts.periods.is_empty());
        let ts_values = |k: &str| {
            ts.series
                .iter()
                .find(|s| s.key == k)
                .unwrap()
                .values
                .clone()
        };
        // Days fall into the latest-starting period holding them: Jan 1-14 in January, Jan 15-31
        // in the cycle, February's days in February.
        assert_eq!(
            ts_values("Verizon ThingSpace"),
            vec![14 * 10 * MIB, 17 * 10 * MIB, 29 * 10 * MIB]
        );
        assert_eq!(ts_values("Cisco Control Center"), vec![0, GIB, 0]);
        assert_eq!(bar_sum(&ts), 60 * 10 * MIB + 7 * GIB);
        // Days with no period of their own fall into their calendar month.
        let mut days = UsageSet::new();
        days.push(Record::new(
            Carrier::Thingspace,
            Sym::NONE,
            FEB_1 + 3 * 86_400,
            86_400,
            Granularity::Day,
            Service::Data,
            Direction::Total,
            5,
        ));
        let ts = series_at(&days, Bucket::Cycle, 0);
        assert_eq!((ts.buckets, ts.ends), (vec![FEB_1], vec![MAR_1]));
    }

    #[test]
    fn weeks_start_on_monday_in_the_views_clock() {
        let event = |t: i64| {
            Record::new(
                Carrier::Thingspace,
                Sym::NONE,
                t,
                0,
                Granularity::Event,
                Service::Data,
                Direction::Total,
                1,
            )
        };
        let jan_8 = JAN_1 + 7 * 86_400;
        let mut set = UsageSet::new();
        // Sunday Jan 7 23:30 UTC: Monday 00:30 in Berlin (UTC+1), Sunday in New York (UTC-5).
        set.push(event(jan_8 - 1800));
        let utc = series_at(&set, Bucket::Week, 0);
        assert_eq!(utc.buckets, vec![JAN_1]);
        let berlin = series_at(&set, Bucket::Week, 3600);
        assert_eq!(
            berlin.buckets,
            vec![jan_8 - 3600],
            "Monday midnight in Berlin"
        );
        let new_york = series_at(&set, Bucket::Week, -5 * 3600);
        assert_eq!(new_york.buckets, vec![JAN_1 + 5 * 3600]);
        assert_eq!(bucket_start(jan_8 - 1800, Bucket::Week, 3600), jan_8 - 3600);
        assert_eq!(bucket_start(jan_8 - 1800, Bucket::Week, 0), JAN_1);
        assert_eq!(
            bucket_start(jan_8 + 3 * 3600, Bucket::Day, -5 * 3600),
            jan_8 - 19 * 3600
        );
        // Monday Jan 8 03:00 UTC is still Sunday in New York: the week before.
        let mut set = UsageSet::new();
        set.push(event(jan_8 + 3 * 3600));
        assert_eq!(
            series_at(&set, Bucket::Week, -5 * 3600).buckets,
            vec![JAN_1 + 5 * 3600]
        );
        assert_eq!(series_at(&set, Bucket::Week, 0).buckets, vec![jan_8]);
        // A carrier's day keeps its date whatever the view's clock: the Jan 8 record opens the
        // week of Jan 8 in New York too.
        let mut days = UsageSet::new();
        days.push(Record::new(
            Carrier::Thingspace,
            Sym::NONE,
            jan_8,
            86_400,
            Granularity::Day,
            Service::Data,
            Direction::Total,
            1,
        ));
        assert_eq!(
            series_at(&days, Bucket::Week, -5 * 3600).buckets,
            vec![jan_8 + 5 * 3600]
        );
        // Weeks across a year's end: Monday Dec 30 2024 holds Jan 1 2025.
        let jan_1_2025 = 1_735_689_600;
        assert_eq!(
            bucket_start(jan_1_2025, Bucket::Week, 0),
            jan_1_2025 - 2 * 86_400
        );
    }

    #[test]
    fn month_keys_round_trip() {
        for day in (-800_000i64..800_000).step_by(13) {
            let key = calendar_key(day, Bucket::Month);
            let first = month_key_first_day(key);
            assert_eq!(first * 86_400, month_start(day * 86_400), "{day}");
            assert!(first <= day && day < month_key_first_day(key + 1));
        }
    }

    #[test]
    fn sorted_page_equals_the_page_of_a_full_sort() {
        let mut set = UsageSet::new();
        let subject = set.intern_subject(&Subject::new(SubjectKind::Label, "x"));
        for i in 0..1000u64 {
            set.push(Record::new(
                Carrier::Thingspace,
                subject,
                ((i * 7919) % 1000) as i64 * 60,
                60,
                Granularity::Event,
                Service::Data,
                Direction::Total,
                i % 17,
            ));
        }
        let all: Vec<u32> = (0..1000).collect();
        for key in [SortKey::Start, SortKey::Quantity] {
            for descending in [false, true] {
                let mut full = all.clone();
                full.sort_by(|a, b| {
                    let o = compare_by(&set, *a, *b, key).then(a.cmp(b));
                    if descending {
                        o.reverse()
                    } else {
                        o
                    }
                });
                for start in [0, 50, 950, 990] {
                    let page = sorted_page(&set, &all, key, descending, start, 50);
                    let want: Vec<u32> = full.iter().skip(start).take(50).copied().collect();
                    assert_eq!(page, want, "{key:?} {descending} {start}");
                }
            }
        }
        assert!(sorted_page(&set, &all, SortKey::Start, false, 1000, 50).is_empty());
    }
}
