//! What the dashboard computes when a fleet is shown or a filter changes, on the records the
//! browser benchmark uses (`bench::synthetic_fleet`):
//! `cargo bench -p usagelens-core --features bench --bench aggregate`.
//! Each panel's pass is measured alone, so a regression points at its function.

use criterion::{criterion_group, criterion_main, Criterion};
use usagelens_core::aggregate::{
    breakdown, distinct_values, downsample, filtered_indices, limit_series, sorted_page,
    time_series, totals, Bucket, Filter, GroupBy, SortKey,
};
use usagelens_core::bench::synthetic_fleet;
use usagelens_core::fleet::fleet_summary;
use usagelens_core::Service;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("aggregate 10k subjects x 365 days");
    group.sample_size(10);
    let set = synthetic_fleet(10_000, 365);
    let all = Filter::default();
    group.bench_function("totals", |b| b.iter(|| totals(&set, &all, 0)));
    group.bench_function("time series by zone", |b| {
        b.iter(|| time_series(&set, &all, Service::Data, GroupBy::Zone, Bucket::Auto))
    });
    group.bench_function("time series by subject", |b| {
        b.iter(|| time_series(&set, &all, Service::Data, GroupBy::Subject, Bucket::Auto))
    });
    group.bench_function("breakdown by zone", |b| {
        b.iter(|| breakdown(&set, &all, Service::Data, GroupBy::Zone))
    });
    group.bench_function("fleet summary", |b| {
        b.iter(|| fleet_summary(&set, &all, Service::Data, Some(1 << 30), 12))
    });
    group.bench_function("distinct values", |b| b.iter(|| distinct_values(&set)));
    let indices = filtered_indices(&set, &all);
    group.bench_function("filtered indices", |b| {
        b.iter(|| filtered_indices(&set, &all))
    });
    group.bench_function("first table page by start", |b| {
        b.iter(|| sorted_page(&set, &indices, SortKey::Start, false, 0, 50))
    });
    group.finish();

    // A filter change at 365 days x 50 series: what the chart recomputes before it redraws.
    let mut group = c.benchmark_group("filter change 50 subjects x 365 days");
    let small = synthetic_fleet(50, 365);
    let from_march = Filter {
        from: Some(1_709_251_200), // 2024-03-01
        ..Filter::default()
    };
    group.bench_function("time series by subject, limited, downsampled", |b| {
        b.iter(|| {
            let ts = time_series(
                &small,
                &from_march,
                Service::Data,
                GroupBy::Subject,
                Bucket::Auto,
            );
            downsample(limit_series(ts, 50), 400)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
