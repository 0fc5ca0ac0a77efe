//! What real carriers send beside the documents' examples (issue 17's "Why" list), and bodies
//! built to be hostile (issue 18's reading rows): each case fails on a reader that reads the
//! documents' spelling only.

use usagelens_core::{
    limits::MAX_WARNINGS, parse, Direction, ParseErrorKind, ParseOptions, RecordJson, Service,
    UsageSet,
};

fn read(body: &str) -> (Vec<RecordJson>, usagelens_core::ParseReport) {
    let mut set = UsageSet::new();
    let report = parse(body, &ParseOptions::default(), &mut set).unwrap_or_else(|e| panic!("{e}"));
    (set.records_json(), report)
}

fn total(records: &[RecordJson], service: Service, direction: Direction) -> u64 {
    records
        .iter()
        .filter(|r| r.service == service && r.direction == direction)
        .map(|r| r.quantity)
        .sum()
}

#[test]
fn thingspace_rows_dated_event_date_time() {
    let (records, _) = read(
        r#"{"hasMoreData":false,"usageHistory":[{"bytesUsed":3072,"smsUsed":0,"eventDateTime":"2021-08-15T00:00:00Z"}]}"#,
    );
    assert_eq!(records[0].start, "2021-08-15T00:00:00Z");
    assert_eq!(records[0].end, "2021-08-16T00:00:00Z");
}

#[test]
fn thingspace_sdk_spellings_keep_paging_and_plan() {
    let (records, report) = read(
        r#"{"hasmoredata":true,"usageHistory":[{"bytesUsed":1,"serviceplan":"M2M 5GB","timestamp":"2024-01-01T00:00:00Z"}]}"#,
    );
    assert_eq!(report.has_more_data, Some(true));
    assert_eq!(report.last_timestamp, Some(1_704_067_200));
    assert_eq!(records[0].attributes["servicePlan"], "M2M 5GB");
}

#[test]
fn thingspace_row_level_sms_split() {
    let (records, report) = read(
        r#"{"usageHistory":[{"bytesUsed":0,"smsUsed":5,"moSMS":2,"mtSMS":3,"timestamp":"2024-01-01T00:00:00Z"}]}"#,
    );
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(total(&records, Service::Sms, Direction::Mo), 2);
    assert_eq!(total(&records, Service::Sms, Direction::Mt), 3);
    assert_eq!(total(&records, Service::Sms, Direction::Total), 0);
}

#[test]
fn thingspace_half_split_says_what_is_missing() {
    let (records, report) = read(
        r#"{"usageHistory":[{"smsUsed":0,"timestamp":"2024-01-01T00:00:00Z","extendedAttributes":[{"key":"MoSms","value":"0"}]}]}"#,
    );
    assert_eq!(
        report.warnings[0].message,
        "MoSms (0) is given without MtSms; kept smsUsed (0) without a direction"
    );
    assert_eq!(records.len(), 1);
}

#[test]
fn thingspace_unmapped_row_fields_are_attributes() {
    let (records, _) = read(
        r#"{"usageHistory":[{"bytesUsed":1,"timestamp":"2024-01-01T00:00:00Z","mdn":"5555550100","ratingGroup":7}]}"#,
    );
    assert_eq!(records[0].attributes["mdn"], "5555550100");
    assert_eq!(records[0].attributes["ratingGroup"], "7");
}

fn cycle(start: &str, end: &str) -> (String, String) {
    let body = format!(
        r#"{{"iccid":"89011703278100000001","timeStamp":"2024-02-01T00:00:00Z","cycleStartDate":"{start}","cycleEndDate":"{end}",
        "deviceCycleUsageInZones":{{"P, 1":[{{"zone":"Z","dataUsage":1}}]}}}}"#
    );
    let (records, _) = read(&body);
    (records[0].start.clone(), records[0].end.clone())
}

/// Every whole-hour offset from UTC−10 to UTC+14, written in the operator's offset and in UTC,
/// to the last second and to the last millisecond: the cycle ends at the local midnight.
#[test]
fn control_center_cycles_end_at_local_midnight_in_every_offset() {
    use chrono::{FixedOffset, NaiveDate, TimeZone};
    for hours in -10..=14 {
        let zone = FixedOffset::east_opt(hours * 3600).unwrap();
        let local = |y, m, d, h, min, s, ms| {
            zone.from_local_datetime(
                &NaiveDate::from_ymd_opt(y, m, d)
                    .unwrap()
                    .and_hms_milli_opt(h, min, s, ms)
                    .unwrap(),
            )
            .unwrap()
        };
        let start = local(2024, 1, 1, 0, 0, 0, 0);
        let want_end = local(2024, 2, 1, 0, 0, 0, 0)
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let want_start = start
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        for ms in [0, 999] {
            let end = local(2024, 1, 31, 23, 59, 59, ms);
            // In the operator's own offset.
            let (s, e) = cycle(
                &start.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string(),
                &end.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string(),
            );
            assert_eq!(
                (s.as_str(), e.as_str()),
                (want_start.as_str(), want_end.as_str()),
                "UTC{hours:+}, own offset, .{ms}"
            );
            // Converted to UTC, as some deployments write both boundaries.
            let utc = |t: chrono::DateTime<FixedOffset>| {
                t.with_timezone(&chrono::Utc)
                    .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                    .to_string()
            };
            let (s, e) = cycle(&utc(start), &utc(end));
            assert_eq!(
                (s.as_str(), e.as_str()),
                (want_start.as_str(), want_end.as_str()),
                "UTC{hours:+}, in UTC, .{ms}"
            );
        }
    }
    // An end that is not the last second of a local day is taken as written.
    let (_, e) = cycle("2024-01-01T00:00:00Z", "2024-01-31T12:00:00Z");
    assert_eq!(e, "2024-01-31T12:00:00Z");
    // Half-hour zones (India, UTC+5:30) and Nepal's UTC+5:45 written in their own offset.
    let (_, e) = cycle("2024-01-01T00:00:00+05:30", "2024-01-31T23:59:59+05:30");
    assert_eq!(e, "2024-01-31T18:30:00Z");
    let (_, e) = cycle("2024-01-01T00:00:00+05:45", "2024-01-31T23:59:59+05:45");
    assert_eq!(e, "2024-01-31T18:15:00Z");
}

#[test]
fn control_center_time_stamp_is_retrieved_at() {
    let (records, _) = read(
        r#"{"iccid":"89011703278100000001","timeStamp":"2018-09-26T03:02:18.393Z","cycleStartDate":"2018-08-26T16:00:00.000Z","cycleEndDate":"2018-09-26T15:59:59.000Z",
        "deviceCycleUsageInZones":{"P, 1":[{"zone":"Z","dataUsage":61489152,"dataUsageUnit":"bytes","voiceMOUsage":null,"smsmousage":null}]}}"#,
    );
    assert_eq!(records.len(), 1, "nulls are no usage, not errors");
    assert_eq!(
        records[0].attributes["retrievedAt"],
        "2018-09-26T03:02:18.393Z"
    );
    assert_eq!(records[0].end, "2018-09-26T16:00:00Z");
}

#[test]
fn dates_in_every_form_carriers_write() {
    for (written, want) in [
        ("2024-03-01T00:00:00Z", "2024-03-01T00:00:00Z"),
        ("2024-03-01T00:00:00.123456Z", "2024-03-01T00:00:00Z"),
        ("2024-03-01T09:00:00+09:00", "2024-03-01T00:00:00Z"),
        ("2024-03-01T09:00:00+0900", "2024-03-01T00:00:00Z"),
        ("2024-02-29T19:00:00-05", "2024-03-01T00:00:00Z"),
        ("2024-03-01 00:00:00.000+0000", "2024-03-01T00:00:00Z"),
        ("2024-03-01", "2024-03-01T00:00:00Z"),
        ("2024-03-01Z", "2024-03-01T00:00:00Z"),
        ("1709251200000", "2024-03-01T00:00:00Z"),
        ("03/01/2024 00:00:00", "2024-03-01T00:00:00Z"),
    ] {
        let body = format!(r#"{{"usageHistory":[{{"bytesUsed":1,"timestamp":"{written}"}}]}}"#);
        let (records, _) = read(&body);
        assert_eq!(records[0].start, want, "{written}");
    }
    let (records, _) = read(r#"{"usageHistory":[{"bytesUsed":1,"timestamp":1709251200000}]}"#);
    assert_eq!(records[0].start, "2024-03-01T00:00:00Z");
}

#[test]
fn duplicate_keys_are_warned_with_their_path() {
    let (_, report) = read(
        r#"{"hasMoreData":false,"hasMoreData":true,"usageHistory":[{"timestamp":"2024-01-01T00:00:00Z","bytesUsed":1,"bytesUsed":2}]}"#,
    );
    assert_eq!(report.has_more_data, Some(true));
    let fields: Vec<_> = report.warnings.iter().map(|w| w.field.clone()).collect();
    assert_eq!(
        fields,
        [
            Some("(root)".to_owned()),
            Some("usageHistory[0]".to_owned())
        ]
    );
    assert!(report.warnings[0].message.contains("\"hasMoreData\""));
}

#[test]
fn utf16_text_and_unterminated_quotes_are_named() {
    let utf16: String = "{\"usageHistory\":[]}"
        .chars()
        .flat_map(|c| [c, '\0'])
        .collect();
    let err = parse(&utf16, &ParseOptions::default(), &mut UsageSet::new()).unwrap_err();
    assert!(err.message.contains("UTF-16"), "{err}");
    let csv = "number,name,ratePlan,year,month,SMS homeland\n1,\"A,P,2024,1,3\n2,B,P,2024,1,4\n";
    let err = parse(csv, &ParseOptions::default(), &mut UsageSet::new()).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::Syntax);
    assert_eq!(err.line, Some(2));
    assert!(err.message.contains("never closed"), "{err}");
}

#[test]
fn bidi_overrides_and_controls_are_escaped_and_warned() {
    let (records, report) = read(
        "{\"iccid\":\"89011703278100000001\",\"cycleStartDate\":\"2024-01-01Z\",\"cycleEndDate\":\"2024-01-31Z\",\
         \"deviceCycleUsageInZones\":{\"P, 1\":[{\"zone\":\"abc\u{202e}fed\\u0007\",\"dataUsage\":1}]}}",
    );
    assert_eq!(records[0].zone.as_deref(), Some("abc\\u202Efed\\u0007"));
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.message.contains("bidirectional")),
        "{:?}",
        report.warnings
    );
}

#[test]
fn echoed_values_are_cut() {
    let huge = "x".repeat(1 << 20);
    let body = format!(r#"{{"usageHistory":[{{"bytesUsed":1,"timestamp":"{huge}"}}]}}"#);
    let err = parse(&body, &ParseOptions::default(), &mut UsageSet::new()).unwrap_err();
    assert!(
        err.to_string().len() < 700,
        "{} bytes",
        err.to_string().len()
    );
    assert!(err.message.contains('…'));
}

#[test]
fn extra_columns_are_one_warning_and_warnings_are_capped() {
    let mut header = "number,name,ratePlan,year,month,SMS homeland".to_owned();
    let mut row = "1,A,P,2024,1,3".to_owned();
    for i in 0..100_000 {
        header.push_str(&format!(",extra{i}"));
        row.push_str(",0");
    }
    let (_, report) = read(&format!("{header}\n{row}\n"));
    assert_eq!(report.warnings.len(), 1);
    assert!(report.warnings[0].message.starts_with("100000 columns"));

    // 300 rows, each with a split that does not add up: 100 warnings and one that counts the rest.
    let rows: Vec<String> = (0..300)
        .map(|d| {
            format!(
                r#"{{"timestamp":"2024-01-01T00:00:00Z","smsUsed":{d},"moSMS":1,"mtSMS":{}}}"#,
                d + 7
            )
        })
        .collect();
    let (_, report) = read(&format!(r#"{{"usageHistory":[{}]}}"#, rows.join(",")));
    assert_eq!(report.warnings.len(), MAX_WARNINGS + 1);
    assert!(
        report.warnings[MAX_WARNINGS]
            .message
            .starts_with("and 200 more of the same kinds"),
        "{}",
        report.warnings[MAX_WARNINGS].message
    );
}
