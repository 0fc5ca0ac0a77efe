//! Readers never panic: arbitrary text, and valid bodies mutated (cut, bytes changed, lines
//! dropped), always come back as records or as an error.

use proptest::prelude::*;
use usagelens_core::{parse, ParseOptions, UsageSet};

const FIXTURES: [&str; 6] = [
    include_str!("fixtures/vodafone-doc-example.json"),
    include_str!("fixtures/thingspace-doc-device.json"),
    include_str!("fixtures/thingspace-doc-label.json"),
    include_str!("fixtures/control-center-example.json"),
    include_str!("fixtures/telecomx-doc-example.json"),
    include_str!("fixtures/telecomx-two-months.csv"),
];

fn read(text: &str) {
    let mut set = UsageSet::new();
    let before = set.len();
    if parse(text, &ParseOptions::default(), &mut set).is_err() {
        assert_eq!(set.len(), before, "a failed body adds nothing");
    }
}

/// Replacement tokens that make a body wrong in interesting ways.
const TOKENS: [&str; 12] = [
    "-1",
    "1e400",
    "\"x\"",
    "null",
    "[]",
    "{}",
    "18446744073709551616",
    "true",
    "\"\"",
    "\"2020-13-45T99:00:00Z\"",
    ",,",
    "\"\u{1F600}\"",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        read(&text);
    }

    #[test]
    fn arbitrary_json_like_text_never_panics(text in "[{\\[\"a-zA-Z0-9:,.\\-\\]} ]{0,300}") {
        read(&text);
        read(&format!("{{\"usageHistory\":{text}"));
        read(&format!("{{\"deviceCycleUsageInZones\":{text}"));
    }

    #[test]
    fn truncated_bodies_never_panic(which in 0..FIXTURES.len(), cut in 0.0f64..1.0) {
        let body = FIXTURES[which];
        let mut at = (body.len() as f64 * cut) as usize;
        while !body.is_char_boundary(at) { at -= 1; }
        read(&body[..at]);
    }

    #[test]
    fn values_replaced_never_panic(which in 0..FIXTURES.len(), picks in proptest::collection::vec((0usize..4000, 0..TOKENS.len()), 1..6)) {
        let mut body = FIXTURES[which].to_owned();
        for (position, token) in picks {
            // Replace the number or word starting at a position with a hostile token.
            let mut at = position % body.len().max(1);
            while !body.is_char_boundary(at) { at -= 1; }
            let end = body[at..].find([',', '}', ']', '\n']).map_or(body.len(), |e| at + e);
            body.replace_range(at..end, TOKENS[token]);
        }
        read(&body);
    }

    #[test]
    fn lines_dropped_never_panic(which in 0..FIXTURES.len(), drop in proptest::collection::vec(0usize..200, 1..8)) {
        let lines: Vec<&str> = FIXTURES[which].lines().collect();
        let kept: Vec<&str> = lines.iter().enumerate().filter(|(i, _)| !drop.contains(&(i % lines.len().max(1)))).map(|(_, l)| *l).collect();
        read(&kept.join("\n"));
    }
}
