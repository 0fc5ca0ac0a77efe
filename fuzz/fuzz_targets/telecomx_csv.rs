//! The TelecomX CSV reader called directly (no detection in front, so bodies whose header
//! detection would turn away are read too), on both of its paths: the fast row splitter and the
//! csv crate. Both must agree on every body: the same error or the same records.
//!
//! Input: the body, as UTF-8 with replacement characters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use usagelens_core::carriers::telecomx::reader::{read_csv, read_csv_general};
use usagelens_core::{ParseOptions, UsageSet};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let options = ParseOptions::default();
    let (mut fast_set, mut general_set) = (UsageSet::new(), UsageSet::new());
    let fast = read_csv(&text, &options, &mut fast_set);
    let general = read_csv_general(&text, &options, &mut general_set);
    match (&fast, &general) {
        (Ok(fast), Ok(general)) => {
            assert_eq!(fast, general, "the two paths report differently");
            assert_eq!(
                fast_set.records.len(),
                general_set.records.len(),
                "the two paths read a different number of records"
            );
            for (index, (a, b)) in fast_set
                .records
                .iter()
                .zip(general_set.records.iter())
                .enumerate()
            {
                assert_eq!(
                    fast_set.record_json(a),
                    general_set.record_json(b),
                    "record {index} differs between the two paths"
                );
            }
        }
        (Err(fast), Err(general)) => {
            // The fast path never reports an error itself (it hands the body to the csv crate).
            assert_eq!(fast, general, "the two paths fail differently");
            assert!(!fast.message.is_empty());
            let _ = fast.to_string();
        }
        _ => panic!(
            "one path read the body and the other did not: fast {fast:?}, general {general:?}"
        ),
    }
});
