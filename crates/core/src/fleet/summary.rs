//! [`fleet_summary`]: the fleet questions in one pass over the records: per-subject totals
//! (top-N), how many subjects used how much (distribution), and who is over an allowance.

use std::collections::HashMap;

use crate::aggregate::{month_start, next_month_start, Filter};
use crate::model::{Carrier, Service, Subject, UsageSet};
use crate::sorting::sort_by_shared;

/// One subject's total for the service in view.
#[derive(Clone, Debug, PartialEq)]
pub struct SubjectTotal {
    /// The subject.
    pub subject: Subject,
    /// The carrier of its first record in view.
    pub carrier: Option<Carrier>,
    /// Total used, in the service's unit.
    pub quantity: u64,
    /// How many records make it up.
    pub records: usize,
}

/// A distribution bar: how many subjects used between `low` (inclusive) and `high` (exclusive).
#[derive(Clone, Debug, PartialEq)]
pub struct DistributionBin {
    /// Lower bound, in the service's unit, inclusive.
    pub low: u64,
    /// Upper bound, in the service's unit, exclusive.
    pub high: u64,
    /// How many subjects' totals fall in it.
    pub subjects: usize,
}

/// A subject over an allowance in one period.
#[derive(Clone, Debug, PartialEq)]
pub struct OverAllowance {
    /// The subject.
    pub subject: Subject,
    /// Unix seconds (UTC) of the period's start, inclusive.
    pub period_start: i64,
    /// Unix seconds (UTC) of the period's end, exclusive.
    pub period_end: i64,
    /// Used in the period, in the service's unit.
    pub used: u64,
    /// The allowance it went over, in the service's unit.
    pub allowance: u64,
    /// True when the allowance is the carrier's (TelecomX packages), false for the user's cap.
    pub from_carrier: bool,
}

/// The fleet views of one service under the current filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FleetSummary {
    /// Every subject with records in view, largest first.
    pub subjects: Vec<SubjectTotal>,
    /// Equal-width bars of subject totals, from 0 up.
    pub distribution: Vec<DistributionBin>,
    /// Largest overshoot first.
    pub over: Vec<OverAllowance>,
    /// Sum of every subject's total, in the service's unit.
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
    use crate::model::{Direction, Granularity, Record, SubjectKind};

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
}
