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
        bucket in 0usize..4,
        service in 0usize..4,
        narrow in any::<bool>(),
    ) {
        // Short ranges keep day layouts dense; `narrow` = false spreads over decades.
        let rows: Vec<Row> = if narrow {
            rows.into_iter().map(|mut r| { r.2 = 1_700_000_000 + r.2.rem_euclid(90 * 86_400); r }).collect()
        } else {
            rows
        };
        let set = build(&rows);
        let by = GroupBy::ALL[by];
        let service = Service::ALL[service];
        let requested = [Bucket::Day, Bucket::Month, Bucket::Cycle, Bucket::Auto][bucket];
        let ts = time_series(&set, &Filter::default(), service, by, requested);

        let matching: Vec<&Record> = set.records.iter().filter(|r| r.service == service).collect();
        let resolved = if requested != Bucket::Auto {
            requested
        } else if matching.iter().any(|r| r.granularity == Granularity::Cycle) {
            Bucket::Cycle
        } else if matching.iter().any(|r| r.granularity == Granularity::Month) {
            Bucket::Month
        } else {
            Bucket::Day
        };
        prop_assert_eq!(ts.bucket, resolved);
        let mut model: BTreeMap<String, BTreeMap<i64, u64>> = BTreeMap::new();
        for r in &matching {
            let b = match resolved {
                Bucket::Month => chrono_month_start(r.start),
                Bucket::Cycle => r.start,
                _ => r.start.div_euclid(86_400) * 86_400,
            };
            *model.entry(key(&set, r, by)).or_default().entry(b).or_default() += r.quantity;
        }
        let mut buckets: Vec<i64> = model.values().flat_map(|m| m.keys().copied()).collect();
        buckets.sort_unstable();
        buckets.dedup();
        prop_assert_eq!(&ts.buckets, &buckets);
        prop_assert_eq!(ts.series.len(), model.len());
        for s in &ts.series {
            let want = &model[&s.key];
            for (b, v) in ts.buckets.iter().zip(&s.values) {
                prop_assert_eq!(*v, want.get(b).copied().unwrap_or(0), "{} at {}", s.key, b);
            }
            prop_assert_eq!(s.total, want.values().sum::<u64>());
        }
        prop_assert!(ts.series.windows(2).all(|w| w[0].total >= w[1].total));

        let rows = breakdown(&set, &Filter::default(), service, by);
        prop_assert_eq!(rows.len(), model.len());
        for row in rows {
            prop_assert_eq!(row.quantity, model[&row.key].values().sum::<u64>());
        }
    }
}
