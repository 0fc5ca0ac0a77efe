//! Readers never panic: arbitrary text, and valid bodies mutated (cut, bytes changed, lines
//! dropped), always come back as records or as an error.

use proptest::prelude::*;
use usagelens_core::ReadOutcome;
use usagelens_core::{parse, ParseError, ParseOptions, UsageSet};

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

/// A reader's signature, for comparing a fast path with the general path it falls back to.
type Reader = fn(&str, &ParseOptions, &mut UsageSet) -> Result<ReadOutcome, ParseError>;

/// A fast path and the general reader must agree exactly: same records, warnings, paging facts
/// and contexts, or the same error.
fn paths_agree(fast_path: Reader, general_path: Reader, body: &str) {
    let options = ParseOptions::default();
    let (mut fast, mut general) = (UsageSet::new(), UsageSet::new());
    let a = fast_path(body, &options, &mut fast);
    let b = general_path(body, &options, &mut general);
    match (a, b) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b, "outcome differs for {body:?}");
            assert_eq!(
                fast.records_json(),
                general.records_json(),
                "records differ for {body:?}"
            );
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (a, b) => panic!("paths disagree on {body:?}: {a:?} vs {b:?}"),
    }
}

/// The ThingSpace reader's typed fast path against its general `Value` reader.
fn thingspace_paths_agree(body: &str) {
    use usagelens_core::carriers::thingspace::reader as thingspace;
    paths_agree(thingspace::read, thingspace::read_values, body);
}

/// Row variants the typed path must read the same way as the general one, including shapes it
/// declines (strings for numbers, floats, odd key case, bad kinds).
const THINGSPACE_ROWS: [&str; 12] = [
    r#"{"bytesUsed":30,"timestamp":"2024-03-10T00:00:00Z","extendedAttributes":[{"key":"domesticUsage","value":1.5},{"key":"domesticUsage","value":"10"},{"key":"internationalUsage","value":"20"}]}"#,
    r#"{"bytesUsed":30,"timestamp":"2024-03-11T00:00:00Z","extendedAttributes":[{"key":"domesticUsage","value":"x"},{"key":"DomesticUsage","value":"10"},{"key":"internationalUsage","value":"20"}]}"#,
    r#"{"bytesUsed":30,"smsUsed":3,"source":"Raw Usage","timestamp":"2024-02-29T00:00:00Z","extendedAttributes":[{"key":"MoSms","value":"1"},{"key":"MtSMS","value":"2"},{"key":"domesticUsage","value":"10"},{"key":"internationalUsage","value":"20"}]}"#,
    r#"{"bytesUsed":30,"smsUsed":3,"timestamp":"2024-03-01T00:00:00-05:00","extendedAttributes":[{"key":"MoSms","value":2},{"key":"MtSms","value":2}]}"#,
    r#"{"bytesUsed":"30","timestamp":"2024-03-02T00:00:00Z","servicePlan":"Plan A"}"#,
    r#"{"bytesUsed":30.0,"smsUsed":null,"timestamp":"2024-03-03T00:00:00.000Z"}"#,
    r#"{"bytesUsed":5,"timestamp":"2024-03-04T00:00:00Z","extendedAttributes":[{"Key":"domesticUsage","Value":"5"},{"key":"internationalUsage","value":"0"}]}"#,
    r#"{"bytesUsed":5,"timestamp":"2024-03-05T00:00:00Z","extendedAttributes":[{"key":"note","value":7},{"key":"flag","value":true},{"key":"empty","value":null}]}"#,
    r#"{"bytesUsed":-5,"timestamp":"2024-03-06T00:00:00Z"}"#,
    r#"{"smsUsed":4,"timestamp":"2024-03-07","source":"Raw\nUsage"}"#,
    r#"{"bytesUsed":1,"timestamp":1700000000}"#,
    r#"{"bytesUsed":1,"timestamp":"2024-03-08T00:00:00Z","timestamp":"2024-03-09T00:00:00Z"}"#,
];

const THINGSPACE_HEADS: [&str; 5] = [
    r#""hasMoreData":true,"deviceId":{"kind":"iccid","id":"89148000000000000012"}"#,
    r#""hasMoreData":false,"deviceId":{"kind":"Meid","id":"A1000012345678"}"#,
    r#""hasMoreData":"true""#,
    r#""deviceId":{"kind":"serial","id":"x"}"#,
    r#""deviceId":null,"hasMoreData":null"#,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn thingspace_fast_path_matches_general_reader(
        head in 0..THINGSPACE_HEADS.len(),
        rows in proptest::collection::vec(0..THINGSPACE_ROWS.len(), 0..6),
    ) {
        let rows: Vec<&str> = rows.into_iter().map(|i| THINGSPACE_ROWS[i]).collect();
        let body = format!("{{{},\"usageHistory\":[{}]}}", THINGSPACE_HEADS[head], rows.join(","));
        thingspace_paths_agree(&body);
    }
}

#[test]
fn thingspace_fast_path_matches_general_reader_on_fixtures() {
    thingspace_paths_agree(include_str!("fixtures/thingspace-doc-device.json"));
    thingspace_paths_agree(include_str!("fixtures/thingspace-doc-label.json"));
}

/// The TelecomX CSV splitter against the csv crate (that the splitter takes plain bodies at all
/// is a unit test in `carriers::telecomx::reader`).
fn telecomx_csv_paths_agree(body: &str) {
    use usagelens_core::carriers::telecomx::reader as telecomx;
    paths_agree(telecomx::read_csv, telecomx::read_csv_general, body);
}

/// Cells that exercise quoting, blanks, signs and bad numbers.
const CSV_CELLS: [&str; 12] = [
    "0",
    "120",
    "-60",
    "36000",
    "",
    " 7 ",
    "x",
    "\"5\"",
    "\"Free speech, free text\"",
    "\"a \"\"quoted\"\" name\"",
    "\"two\nlines\"",
    "1e3",
];
const CSV_HEADER: &str = "number,name,ratePlan,year,month,Voice Homeland secs,Voice subscription Homeland secs,\"Voice roaming USA, Canada secs\",\"Voice subscription roaming USA, Canada secs\",Data Homeland bytes,SMS roaming";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn telecomx_csv_fast_path_matches_csv_crate(
        rows in proptest::collection::vec(
            (0u8..3, 0u8..13, proptest::collection::vec(0..CSV_CELLS.len(), 6), 0u8..10),
            0..6,
        ),
        crlf in any::<bool>(),
        trailing_newline in any::<bool>(),
    ) {
        let newline = if crlf { "\r\n" } else { "\n" };
        let mut body = String::from(CSV_HEADER);
        for (account, month, cells, shape) in rows {
            body.push_str(newline);
            let cells: Vec<&str> = cells.iter().map(|c| CSV_CELLS[*c]).collect();
            let mut row = format!("+457191999{account},Account {account},\"Plan, {account}\",2024,{month},{}", cells.join(","));
            match shape {
                0 => row.push_str(",9"),          // one field too many
                1 => body.push_str(newline),      // a blank line before the row
                2 => row = row.replacen(",", ",\"", 1) + "\"", // a quote the fast path leaves alone
                _ => {}
            }
            body.push_str(&row);
        }
        if trailing_newline {
            body.push_str(newline);
        }
        telecomx_csv_paths_agree(&body);
    }
}

#[test]
fn telecomx_csv_fast_path_matches_csv_crate_on_fixtures() {
    telecomx_csv_paths_agree(include_str!("fixtures/telecomx-two-months.csv"));
    telecomx_csv_paths_agree(
        "number,name,ratePlan,year,month,Data Homeland bytes\n+4571,A,P,2024,1,5\n\n+4571,A,P,2024,2,6\r\n",
    );
}
