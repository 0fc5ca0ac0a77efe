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
    pub to: Option<i64>,
    pub services: Vec<Service>,
    pub directions: Vec<Direction>,
    pub zones: Vec<String>,
    pub roaming: Option<bool>,
    pub subjects: Vec<Subject>,
    pub carriers: Vec<Carrier>,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    /// Resolves names to the set's handles; an unknown zone or subject matches nothing.
    /// Unknown values are dropped, so a list of only unknown values matches nothing.
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
    #[inline]
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
    pub data_bytes: u64,
    pub voice_seconds: u64,
    pub sms: u64,
    pub mms: u64,
    /// The part of each used while roaming (records with `roaming == true`).
    pub roaming_data_bytes: u64,
    pub roaming_voice_seconds: u64,
    pub records: usize,
    pub allowance: Vec<AllowanceUse>,
}

impl Totals {
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
    pub service: Service,
    pub zone: Option<String>,
    pub period_start: i64,
    pub period_end: i64,
    pub used: u64,
    pub allowance: u64,
    pub fraction_used: f64,
    /// Linear projection to the period's end when `now` lies inside the period.
    pub projected_at_end: Option<u64>,
}

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
        .map(|((service, zone, start, end, _), (used, allowance))| {
            let projected_at_end = (now > start && now < end).then(|| {
                let elapsed = (now - start) as f64;
                (used as f64 * (end - start) as f64 / elapsed).round() as u64
            });
            AllowanceUse {
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
        })
        .collect();
    sort_by_shared(&mut list, |a, b| {
        b.period_start
            .cmp(&a.period_start)
            .then(a.service.cmp(&b.service))
            .then(a.zone.cmp(&b.zone))
    });
    t.allowance = list;
    t
}

/// What the chart stacks by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GroupBy {
    Zone,
    Service,
    Direction,
    Carrier,
    Subject,
    RatePlan,
    Roaming,
}

impl GroupBy {
    pub const ALL: [GroupBy; 7] = [
        GroupBy::Zone,
        GroupBy::Direction,
        GroupBy::Service,
        GroupBy::Carrier,
        GroupBy::Subject,
        GroupBy::RatePlan,
        GroupBy::Roaming,
    ];

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

    pub fn parse(name: &str) -> Option<GroupBy> {
        GroupBy::ALL.into_iter().find(|g| g.as_str() == name)
    }

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

/// Bucket width of a time series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bucket {
    Day,
    Month,
    /// One bucket per distinct record period (Control Center billing cycles).
    Cycle,
    /// The data's own granularity.
    Auto,
}

impl Bucket {
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Day => "day",
            Bucket::Month => "month",
            Bucket::Cycle => "cycle",
            Bucket::Auto => "auto",
        }
    }

    pub fn parse(name: &str) -> Option<Bucket> {
        [Bucket::Day, Bucket::Month, Bucket::Cycle, Bucket::Auto]
            .into_iter()
            .find(|b| b.as_str() == name)
    }
}

/// Start of the bucket holding `t`.
pub fn bucket_start(t: i64, bucket: Bucket) -> i64 {
    match bucket {
        Bucket::Month => month_start(t),
        Bucket::Cycle => t,
        Bucket::Day | Bucket::Auto => t.div_euclid(86_400) * 86_400,
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
pub fn month_start(t: i64) -> i64 {
    civil_month(t).1 * 86_400
}

/// Unix seconds of the first instant of the month after the one holding `t` (UTC).
pub fn next_month_start(t: i64) -> i64 {
    // 31 days after the first is always inside the next month.
    month_start(month_start(t) + 31 * 86_400)
}

#[derive(Clone, Debug, PartialEq)]
pub struct SeriesData {
    pub key: String,
    /// One value per bucket.
    pub values: Vec<u64>,
    pub total: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TimeSeries {
    /// Bucket starts, ascending.
    pub buckets: Vec<i64>,
    pub bucket: Bucket,
    /// Sorted by total, largest first.
    pub series: Vec<SeriesData>,
}

impl TimeSeries {
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Highest stacked value of any bucket (for the axis).
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
    /// Days or months from the first matching record's: an index computed from the time.
    Dense {
        bucket: Bucket,
        first: i64,
        len: usize,
    },
    /// Billing cycles (one bucket per distinct period start), or a range too wide to lay out.
    Sparse(Vec<i64>),
}

/// Widest dense layout (about 2 870 years of days); wider ranges are laid out sparsely.
const MAX_DENSE_COLUMNS: usize = 1 << 20;

impl Columns {
    /// A dense layout over the matching records' starts `min_start ..= max_start`; `None` when
    /// it must be sparse (billing cycles, or a range wider than `MAX_DENSE_COLUMNS`).
    fn new(bucket: Bucket, min_start: i64, max_start: i64) -> Option<Columns> {
        let (first, last) = match bucket {
            Bucket::Month => (civil_month(min_start).0, civil_month(max_start).0),
            Bucket::Day | Bucket::Auto => {
                (min_start.div_euclid(86_400), max_start.div_euclid(86_400))
            }
            Bucket::Cycle => return None,
        };
        let len = usize::try_from(last - first + 1).ok()?;
        (len <= MAX_DENSE_COLUMNS).then_some(Columns::Dense { bucket, first, len })
    }

    fn len(&self) -> usize {
        match self {
            Columns::Dense { len, .. } => *len,
            Columns::Sparse(starts) => starts.len(),
        }
    }

    #[inline]
    fn column(&self, t: i64) -> usize {
        match self {
            Columns::Dense {
                bucket: Bucket::Month,
                first,
                ..
            } => (civil_month(t).0 - first) as usize,
            Columns::Dense { first, .. } => (t.div_euclid(86_400) - first) as usize,
            Columns::Sparse(starts) => starts.partition_point(|s| *s < t),
        }
    }

    /// The bucket start of column `i`.
    fn start(&self, i: usize) -> i64 {
        match self {
            Columns::Dense {
                bucket: Bucket::Month,
                first,
                ..
            } => {
                let month = first + i as i64;
                // Back from months since 0000-03 to a date: the 1st of that month.
                let (year, m) = (month.div_euclid(12), month.rem_euclid(12));
                let (year, m) = if m >= 10 {
                    (year + 1, m - 9)
                } else {
                    (year, m + 3)
                };
                chrono::NaiveDate::from_ymd_opt(year as i32, m as u32, 1)
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map_or(0, |d| d.and_utc().timestamp())
            }
            Columns::Dense { first, .. } => (first + i as i64) * 86_400,
            Columns::Sparse(starts) => starts[i],
        }
    }
}

/// Stacked series of one service's quantity per bucket. A record counts in the bucket holding
/// its start (exact, and simple to explain). Only buckets holding a matching record are listed.
///
/// Two passes, no hashing per record: the first finds the granularity and the time range, the
/// second adds each quantity into a dense group x bucket matrix.
pub fn time_series(
    set: &UsageSet,
    filter: &Filter,
    metric: Service,
    group_by: GroupBy,
    bucket: Bucket,
) -> TimeSeries {
    let mut f = filter.clone();
    f.services = vec![metric];
    let compiled = f.compile(set);
    // `Bucket::Auto` is the data's own granularity: the coarsest among the matching records.
    let (mut coarsest, mut min_start, mut max_start) = (Bucket::Day, i64::MAX, i64::MIN);
    for r in set.records.iter().filter(|r| compiled.matches(r)) {
        match r.granularity {
            Granularity::Cycle => coarsest = Bucket::Cycle,
            Granularity::Month if coarsest != Bucket::Cycle => coarsest = Bucket::Month,
            _ => {}
        }
        min_start = min_start.min(r.start);
        max_start = max_start.max(r.start);
    }
    let bucket = if bucket == Bucket::Auto {
        coarsest
    } else {
        bucket
    };
    if min_start > max_start {
        return TimeSeries {
            buckets: Vec::new(),
            bucket,
            series: Vec::new(),
        };
    }
    let columns = Columns::new(bucket, min_start, max_start).unwrap_or_else(|| {
        let mut starts: Vec<i64> = set
            .records
            .iter()
            .filter(|r| compiled.matches(r))
            .map(|r| bucket_start(r.start, bucket))
            .collect();
        starts.sort_unstable();
        starts.dedup();
        Columns::Sparse(starts)
    });
    let width = columns.len();
    let mut groups = GroupKeys::new(group_by);
    let mut cells: Vec<Vec<u64>> = Vec::new();
    let mut present = vec![false; width];
    for r in set.records.iter().filter(|r| compiled.matches(r)) {
        let c = columns.column(bucket_start(r.start, bucket));
        let g = groups.index(set, r);
        if g == cells.len() {
            cells.push(vec![0; width]);
        }
        let cell = &mut cells[g][c];
        *cell = cell.saturating_add(r.quantity);
        present[c] = true;
    }
    let kept: Vec<usize> = (0..width).filter(|c| present[*c]).collect();
    let buckets = kept.iter().map(|c| columns.start(*c)).collect();
    let mut series: Vec<SeriesData> = groups
        .keys
        .into_iter()
        .zip(cells)
        .map(|(key, row)| {
            let values: Vec<u64> = if kept.len() == width {
                row
            } else {
                kept.iter().map(|c| row[*c]).collect()
            };
            let total = values.iter().copied().fold(0u64, u64::saturating_add);
            SeriesData { key, values, total }
        })
        .collect();
    sort_by_shared(&mut series, |a, b| {
        b.total.cmp(&a.total).then(a.key.cmp(&b.key))
    });
    TimeSeries {
        buckets,
        bucket,
        series,
    }
}

/// Keeps the `max_series - 1` largest series and folds the rest into "Other".
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
pub fn downsample(ts: TimeSeries, max_points: usize) -> TimeSeries {
    if max_points == 0 || ts.buckets.len() <= max_points {
        return ts;
    }
    let factor = ts.buckets.len().div_ceil(max_points);
    let buckets = ts.buckets.iter().step_by(factor).copied().collect();
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
    TimeSeries {
        buckets,
        bucket: ts.bucket,
        series,
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct BreakdownRow {
    pub key: String,
    pub quantity: u64,
    pub share: f64,
    pub records: usize,
}

/// One service's quantity per group, largest first.
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
    pub zones: Vec<String>,
    pub subjects: Vec<Subject>,
    pub carriers: Vec<Carrier>,
    pub services: Vec<Service>,
    pub min_start: Option<i64>,
    pub max_end: Option<i64>,
}

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
    Start,
    Carrier,
    Subject,
    Service,
    Direction,
    Quantity,
    Zone,
}

/// Rows `start .. start + len` of `indices` sorted by `key`, without sorting all of them: a
/// selection (linear) puts the first `start + len` in front, and only those are sorted. A table
/// page of a 3.65 M-record fleet costs a few milliseconds instead of a full sort.
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
    use crate::model::{Granularity, Subject, SubjectKind};

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
