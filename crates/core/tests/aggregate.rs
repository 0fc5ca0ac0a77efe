//! Aggregation over the demo responses the app ships: totals, filters, series and breakdowns.

use usagelens_core::aggregate::{
    breakdown, downsample, filtered_indices, limit_series, time_series, totals, Bucket, Filter,
    GroupBy,
};
use usagelens_core::{parse, Carrier, ParseOptions, Service, UsageSet};

fn demo_set() -> UsageSet {
    let mut set = UsageSet::new();
    let dir = format!("{}/../../public/demo", env!("CARGO_MANIFEST_DIR"));
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/index.json")).unwrap())
            .unwrap();
    for entry in index["files"].as_array().unwrap() {
        let file = entry["file"].as_str().unwrap();
        let text = std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
        let mut options = ParseOptions::default();
        if let Some(s) = entry.get("subject").filter(|s| !s.is_null()) {
            options.subject = Some(serde_json::from_value(s.clone()).unwrap());
        }
        parse(&text, &options, &mut set).unwrap_or_else(|e| panic!("demo {file}: {e}"));
    }
    set
}

#[test]
fn every_demo_file_reads_and_totals_equal_record_sums() {
    let set = demo_set();
    let t = totals(&set, &Filter::default(), 0);
    let sum = |s: Service| {
        set.records
            .iter()
            .filter(|r| r.service == s)
            .map(|r| r.quantity)
            .sum::<u64>()
    };
    assert_eq!(t.data_bytes, sum(Service::Data));
    assert_eq!(t.voice_seconds, sum(Service::Voice));
    assert_eq!(t.sms, sum(Service::Sms));
    assert_eq!(t.mms, sum(Service::Mms));
    assert_eq!(t.records, set.len());
    assert!(t.roaming_data_bytes > 0 && t.roaming_data_bytes < t.data_bytes);
    assert!(!t.allowance.is_empty(), "TelecomX carries allowances");
    // Each allowance names its SIM or account: the demo's two TelecomX accounts each have some.
    let owners: std::collections::BTreeSet<_> =
        t.allowance.iter().map(|a| a.subject.clone()).collect();
    assert!(owners.len() >= 2 && !owners.contains(&None), "{owners:?}");
    assert!(t
        .allowance
        .windows(2)
        .all(|w| w[0].period_start >= w[1].period_start));
    assert_eq!(set.subjects().len(), 5);
}

#[test]
fn filters_narrow_totals() {
    let set = demo_set();
    let only_thingspace = Filter {
        carriers: vec![Carrier::Thingspace],
        ..Filter::default()
    };
    let t = totals(&set, &only_thingspace, 0);
    assert_eq!(t.voice_seconds, 0);
    let roaming = Filter {
        roaming: Some(true),
        ..only_thingspace.clone()
    };
    let r = totals(&set, &roaming, 0);
    assert!(r.data_bytes > 0 && r.data_bytes < t.data_bytes);
    let unknown_zone = Filter {
        zones: vec!["Atlantis".into()],
        ..Filter::default()
    };
    assert_eq!(totals(&set, &unknown_zone, 0).records, 0);
    let from_oct = Filter {
        from: Some(1_790_812_800),
        ..only_thingspace
    }; // 2026-10-01
    assert!(
        filtered_indices(&set, &from_oct).len()
            < filtered_indices(
                &set,
                &Filter {
                    carriers: vec![Carrier::Thingspace],
                    ..Filter::default()
                }
            )
            .len()
    );
}

#[test]
fn series_stack_to_the_totals_and_limit_and_downsample_keep_sums() {
    let set = demo_set();
    let filter = Filter {
        carriers: vec![Carrier::Thingspace],
        ..Filter::default()
    };
    let ts = time_series(&set, &filter, Service::Data, GroupBy::Zone, Bucket::Auto);
    assert_eq!(ts.bucket, Bucket::Day);
    assert_eq!(ts.buckets.len(), 90);
    let total: u64 = ts.series.iter().map(|s| s.total).sum();
    assert_eq!(total, totals(&set, &filter, 0).data_bytes);
    assert_eq!(ts.series[0].key, "domestic");
    let small = downsample(ts.clone(), 30);
    assert_eq!(small.buckets.len(), 30);
    assert_eq!(
        small
            .series
            .iter()
            .map(|s| s.values.iter().sum::<u64>())
            .sum::<u64>(),
        total
    );
    let all = time_series(
        &set,
        &Filter::default(),
        Service::Data,
        GroupBy::Carrier,
        Bucket::Month,
    );
    let limited = limit_series(all.clone(), 2);
    assert_eq!(limited.series.len(), 2);
    assert_eq!(limited.series[1].key, "Other");
    assert_eq!(
        limited.series.iter().map(|s| s.total).sum::<u64>(),
        all.series.iter().map(|s| s.total).sum::<u64>()
    );
    let rows = breakdown(&set, &Filter::default(), Service::Voice, GroupBy::Zone);
    assert!((rows.iter().map(|r| r.share).sum::<f64>() - 1.0).abs() < 1e-9);
}
