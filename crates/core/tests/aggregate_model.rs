//! The fast aggregation (dense group x bucket matrix, integer calendar arithmetic) against a
//! plain model of what it must compute: a map from (bucket, group key) to the summed quantity,
//! with chrono for the calendar. Random record sets cover every grouping and granularity, dates
//! before 1970, duplicate keys from different handles (rate plans) and records without a zone.

use std::collections::BTreeMap;

use chrono::{Datelike, TimeZone};
use proptest::prelude::*;
use usagelens_core::aggregate::{
    breakdown, month_start, next_month_start, time_series, Bucket, Filter, GroupBy, NO_ZONE,
};
use usagelens_core::{
    Carrier, Context, Direction, Granularity, Record, Service, Subject, SubjectKind, UsageSet,
};

type Row = (u8, u8, i64, u8, u8, u8, u64, u8, u8, u8);

fn build(rows: &[Row]) -> UsageSet {
    let mut set = UsageSet::new();
    for &(
        carrier,
        subject,
        start,
        granularity,
        service,
        direction,
        quantity,
        zone,
        roaming,
        plan,
    ) in rows
    {
        let subject = set.intern_subject(&Subject::new(SubjectKind::Label, format!("s{subject}")));
        let zone = match zone % 4 {
            0 => usagelens_core::Sym::NONE,
            z => set.intern(&format!("zone {z}")),
        };
        // Two contexts share each rate plan: different handles, one group.
        let context = set.intern_context(Context {
            rate_plan: Some(format!("plan {}", plan % 3)),
            source: Some(format!("source {}", plan % 2)),
            ..Context::default()
        });
        set.push(
            Record::new(
                Carrier::ALL[carrier as usize % Carrier::ALL.len()],
                subject,
                start,
                86_400,
                [
                    Granularity::Day,
                    Granularity::Event,
                    Granularity::Month,
                    Granularity::Cycle,
                ][granularity as usize % 4],
                Service::ALL[service as usize % 4],
                Direction::ALL[direction as usize % Direction::ALL.len()],
                quantity,
            )
            .with_zone(zone)
            .with_roaming([None, Some(false), Some(true)][roaming as usize % 3])
            .with_context(context),
        );
    }
    set
}

fn key(set: &UsageSet, r: &Record, by: GroupBy) -> String {
    match by {
        GroupBy::Zone => set.resolve(r.zone).unwrap_or(NO_ZONE).to_owned(),
        GroupBy::Service => r.service.as_str().to_owned(),
        GroupBy::Direction => r.direction.as_str().to_owned(),
        GroupBy::Carrier => r.carrier.label().to_owned(),
        GroupBy::Subject => set.subject(r.subject).unwrap().to_string(),
        GroupBy::RatePlan => set.context(r.context).unwrap().rate_plan.clone().unwrap(),
        GroupBy::Roaming => match r.roaming.as_option() {
            Some(true) => "roaming".to_owned(),
            Some(false) => "home".to_owned(),
            None => "unknown".to_owned(),
        },
    }
}

fn chrono_month_start(t: i64) -> i64 {
    let d = chrono::Utc.timestamp_opt(t, 0).unwrap();
    chrono::Utc
        .with_ymd_and_hms(d.year(), d.month(), 1, 0, 0, 0)
        .unwrap()
        .timestamp()
}

fn row() -> impl Strategy<Value = Row> {
    (
        (0u8..4, 0u8..6),
        // 1960 .. 2040, so dates before 1970 are covered.
        -315_619_200i64..2_208_988_800,
        (0u8..4, 0u8..4, 0u8..5),
        0u64..1_000_000,
        (0u8..4, 0u8..3, 0u8..6),
    )
        .prop_map(|((c, s), start, (g, sv, d), q, (z, r, p))| (c, s, start, g, sv, d, q, z, r, p))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn months_agree_with_chrono(t in -4_000_000_000i64..8_000_000_000) {
        prop_assert_eq!(month_start(t), chrono_month_start(t));
        let next = next_month_start(t);
        prop_assert_eq!(next, chrono_month_start(next));
        prop_assert!(next > t && next - month_start(t) <= 31 * 86_400);
    }

    #[test]
    fn time_series_and_breakdown_match_the_model(
        rows in proptest::collection::vec(row(), 0..120),
        by in 0usize..7,
        bucket in 0usize..5,
        service in 0usize..4,
        narrow in any::<bool>(),
    ) {
        // Short ranges keep day layouts small; `narrow` = false spreads over decades.
        let rows: Vec<Row> = if narrow {
            rows.into_iter().map(|mut r| { r.2 = 1_700_000_000 + r.2.rem_euclid(90 * 86_400); r }).collect()
        } else {
            rows
        };
        let set = build(&rows);
        let by = GroupBy::ALL[by];
        let service = Service::ALL[service];
        let requested = [Bucket::Day, Bucket::Week, Bucket::Month, Bucket::Cycle, Bucket::Auto][bucket];
        let ts = time_series(&set, &Filter::default(), service, by, requested);

        let matching: Vec<&Record> = set.records.iter().filter(|r| r.service == service).collect();
        let finest = matching.iter().map(|r| r.granularity).min();
        let resolved = if requested != Bucket::Auto {
            requested
        } else {
            match finest {
                Some(Granularity::Cycle) => Bucket::Cycle,
                Some(Granularity::Month) => Bucket::Month,
                _ => Bucket::Day,
            }
        };
        prop_assert_eq!(ts.bucket, resolved);
        let day = |t: i64| t.div_euclid(86_400) * 86_400;
        let calendar = |t: i64| match resolved {
            Bucket::Month => chrono_month_start(t),
            // Mondays: 1970-01-05 was one.
            Bucket::Week => day(t) - (day(t) / 86_400 - 4).rem_euclid(7) * 86_400,
            _ => day(t),
        };
        let coarser = |r: &Record| match (resolved, r.granularity) {
            (Bucket::Day | Bucket::Week, Granularity::Month | Granularity::Cycle) => true,
            // Every generated record lasts one day: never a calendar month.
            (Bucket::Month, Granularity::Cycle) => true,
            _ => false,
        };
        let billing: Vec<(i64, i64)> = matching
            .iter()
            .filter(|r| matches!(r.granularity, Granularity::Month | Granularity::Cycle))
            .map(|r| (r.start, r.end()))
            .collect();
        // (bucket start, end) -> key -> sum, for the bars; (start, end, granularity) -> sum.
        let mut model: BTreeMap<String, BTreeMap<(i64, i64), u64>> = BTreeMap::new();
        let mut long: BTreeMap<(i64, i64, Granularity), u64> = BTreeMap::new();
        for r in &matching {
            if coarser(r) {
                *long.entry((r.start, r.end(), r.granularity)).or_default() += r.quantity;
                continue;
            }
            let b = if resolved == Bucket::Cycle {
                if matches!(r.granularity, Granularity::Month | Granularity::Cycle) {
                    (r.start, r.end())
                } else {
                    billing
                        .iter()
                        .filter(|p| p.0 <= r.start && r.start < p.1)
                        .max()
                        .copied()
                        .unwrap_or((chrono_month_start(r.start), next_month_start(r.start)))
                }
            } else {
                (calendar(r.start), 0)
            };
            *model.entry(key(&set, r, by)).or_default().entry(b).or_default() += r.quantity;
        }
        if resolved == Bucket::Cycle {
            let mut buckets: Vec<(i64, i64)> = model.values().flat_map(|m| m.keys().copied()).collect();
            buckets.sort_unstable();
            buckets.dedup();
            let got: Vec<(i64, i64)> = ts.buckets.iter().copied().zip(ts.ends.iter().copied()).collect();
            prop_assert_eq!(&got, &buckets);
        } else if !matching.is_empty() {
            // Every bucket from the first record's to the last day any record covers.
            let first = matching.iter().map(|r| calendar(r.start)).min().unwrap();
            let last = matching
                .iter()
                .map(|r| calendar(if coarser(r) { r.end() - 1 } else { r.start }))
                .max()
                .unwrap();
            prop_assert_eq!(ts.buckets.first().copied(), Some(first));
            prop_assert_eq!(ts.buckets.last().copied(), Some(last));
            prop_assert!(ts.buckets.windows(2).zip(&ts.ends).all(|(w, e)| w[1] == *e && w[0] < w[1]));
            prop_assert!(ts.buckets.iter().all(|b| calendar(*b) == *b));
        } else {
            prop_assert!(ts.buckets.is_empty());
        }
        prop_assert_eq!(ts.series.len(), model.len());
        for s in &ts.series {
            let want = &model[&s.key];
            for (i, v) in s.values.iter().enumerate() {
                let b = if resolved == Bucket::Cycle { (ts.buckets[i], ts.ends[i]) } else { (ts.buckets[i], 0) };
                prop_assert_eq!(*v, want.get(&b).copied().unwrap_or(0), "{} at {:?}", s.key, b);
            }
            prop_assert_eq!(s.total, want.values().sum::<u64>());
        }
        prop_assert!(ts.series.windows(2).all(|w| w[0].total >= w[1].total));
        let got_long: BTreeMap<(i64, i64, Granularity), u64> =
            ts.periods.iter().map(|p| ((p.start, p.end, p.granularity), p.total)).collect();
        prop_assert_eq!(got_long.len(), ts.periods.len());
        prop_assert_eq!(got_long, long);
        for p in &ts.periods {
            prop_assert_eq!(p.parts.iter().map(|x| x.1).sum::<u64>(), p.total);
            prop_assert!(ts.buckets[p.first_bucket] <= p.start.max(ts.buckets[0]));
            prop_assert!(ts.ends[p.last_bucket] >= p.end.min(*ts.ends.last().unwrap()));
        }

        let mut all_keys: BTreeMap<String, u64> = BTreeMap::new();
        for r in &matching {
            *all_keys.entry(key(&set, r, by)).or_default() += r.quantity;
        }
        let rows = breakdown(&set, &Filter::default(), service, by);
        prop_assert_eq!(rows.len(), all_keys.len());
        for row in rows {
            prop_assert_eq!(row.quantity, all_keys[&row.key]);
        }
    }
}
