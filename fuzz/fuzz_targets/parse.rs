//! `usagelens_core::parse` on any body, with detection and with each carrier forced.
//!
//! Input: one selector byte, then the body (read as UTF-8 with replacement characters, as the
//! browser's `file.text()` and `response.text()` do). Selector % 5: 0 detects the format, 1-4
//! force Vodafone VRS, TelecomX, ThingSpace, Control Center. Bit 3 adds a subject to the options
//! (Vodafone bodies never name theirs). Bit 4 parses into a set that already holds the records of a
//! demo body, so "an error adds nothing" is checked against a non-empty set.
#![no_main]

use libfuzzer_sys::fuzz_target;
use usagelens_core::{parse, Carrier, ParseOptions, Subject, SubjectKind, UsageSet};

const PRELOAD: &str = include_str!("../../crates/core/tests/fixtures/telecomx-two-months.csv");

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(body);
    let carrier = match selector % 5 {
        0 => None,
        1 => Some(Carrier::VodafoneVrs),
        2 => Some(Carrier::Telecomx),
        3 => Some(Carrier::Thingspace),
        _ => Some(Carrier::ControlCenter),
    };
    let subject =
        (selector & 0x08 != 0).then(|| Subject::new(SubjectKind::Imsi, "262021234567890"));
    let options = ParseOptions {
        carrier,
        subject,
        ..ParseOptions::default()
    };
    let mut set = UsageSet::new();
    if selector & 0x10 != 0 {
        parse(PRELOAD, &ParseOptions::default(), &mut set).expect("the fixture reads");
    }
    let (records_before, events_before) = (set.records.len(), set.events.len());

    match parse(&text, &options, &mut set) {
        Ok(report) => {
            if let Some(forced) = carrier {
                assert_eq!(report.carrier, forced, "a forced carrier was not kept");
            }
            assert_eq!(report.carrier, report.format.carrier());
            assert_eq!(report.records, records_before..set.records.len());
            assert_eq!(report.events, events_before..set.events.len());
            for index in report.records.clone() {
                let record = set
                    .records
                    .get(index)
                    .expect("a reported record is in the set");
                // Aggregation and charts compute every record's end: it must not overflow.
                assert!(
                    record
                        .start
                        .checked_add(i64::from(record.duration))
                        .is_some(),
                    "record {index} ends past the end of time"
                );
            }
        }
        Err(error) => {
            // Nothing is half-added: a failed body leaves the set's records and events as they were.
            assert_eq!(
                set.records.len(),
                records_before,
                "records left by a failed parse"
            );
            assert_eq!(
                set.events.len(),
                events_before,
                "events left by a failed parse"
            );
            assert!(!error.message.is_empty(), "an error without a message");
            let _ = error.to_string();
        }
    }
});
