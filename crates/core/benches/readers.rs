//! Reader throughput (MB/s) on generated bodies of realistic shape, one per carrier format:
//! `cargo bench -p usagelens-core --bench readers`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use usagelens_core::{parse, ParseOptions, Subject, SubjectKind, UsageSet};

/// A ThingSpace history of `rows` days, like the document's example rows.
fn thingspace(rows: usize) -> String {
    let mut out = String::from(
        r#"{"hasMoreData":false,"deviceId":{"id":"990000862471854","kind":"imei"},"usageHistory":["#,
    );
    for i in 0..rows {
        let t = chrono::DateTime::from_timestamp(1_600_000_000 + i as i64 * 86_400, 0).unwrap();
        let (d, n) = (1000 + i * 7 % 5000, i * 3 % 700);
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            r#"{{"bytesUsed":{},"extendedAttributes":[{{"key":"MoSms","value":"{}"}},{{"key":"MtSms","value":"{}"}},{{"key":"domesticUsage","value":"{d}"}},{{"key":"internationalUsage","value":"{n}"}}],"smsUsed":{},"source":"Raw Usage","timestamp":"{}"}}"#,
            d + n, i % 3, i % 2, i % 3 + i % 2, t.format("%Y-%m-%dT%H:%M:%SZ")
        ));
    }
    out.push_str("]}");
    out
}

/// A TelecomX CSV with `rows` months and two roaming regions.
fn telecomx_csv(rows: usize) -> String {
    let fixture = include_str!("../tests/fixtures/telecomx-two-months.csv");
    let mut lines = fixture.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    let row = lines.next().unwrap();
    for i in 0..rows {
        let month = i % 12 + 1;
        out.push_str(&row.replace(",2015,1,", &format!(",{},{month},", 2000 + i / 12)));
        out.push('\n');
    }
    out
}

fn vodafone(events: usize) -> String {
    let one = include_str!("../tests/fixtures/vodafone-doc-example.json");
    format!("[{}]", vec![one; events].join(","))
}

fn bench(c: &mut Criterion) {
    let imsi = ParseOptions::default().subject(Subject::new(SubjectKind::Imsi, "262021234567890"));
    let account = ParseOptions::default().subject(Subject::new(
        SubjectKind::Account,
        "553ca0f477392ee4106e9526",
    ));
    let bodies = [
        (
            "thingspace 20k rows",
            thingspace(20_000),
            ParseOptions::default(),
        ),
        ("telecomx csv 20k rows", telecomx_csv(20_000), account),
        ("vodafone 2k events", vodafone(2_000), imsi),
        (
            "control center example",
            include_str!("../tests/fixtures/control-center-example.json").repeat(1),
            ParseOptions::default(),
        ),
    ];
    let mut group = c.benchmark_group("readers");
    group.sample_size(10);
    for (name, body, options) in &bodies {
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(*name, |b| {
            b.iter(|| {
                let mut set = UsageSet::new();
                parse(body, options, &mut set).unwrap();
                set.len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
