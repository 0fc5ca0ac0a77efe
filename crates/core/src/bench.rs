//! Benchmark data, built only with the `bench` feature (the aggregate benchmark and the browser
//! benchmark's hooks): nothing here is on the production path.

use crate::model::{Carrier, Service, Subject, SubjectKind, UsageSet};

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
