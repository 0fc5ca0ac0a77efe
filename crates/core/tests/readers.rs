//! Each reader on the documents' own examples (tests/fixtures), with exact expected quantities,
//! plus edge cases: numbers as strings, missing optional fields, negative remaining seconds,
//! CSV region columns, 202 pages, unit conversion and errors that name their field.

use usagelens_core::{
    detect, parse, Carrier, Direction, Format, ParseErrorKind, ParseOptions, RecordJson, Service,
    Subject, SubjectKind, UsageEvent, UsageSet,
};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read(text: &str, options: &ParseOptions) -> (UsageSet, usagelens_core::ParseReport) {
    let mut set = UsageSet::new();
    let report = parse(text, options, &mut set).unwrap_or_else(|e| panic!("{e}"));
    (set, report)
}

/// Sum of quantities of the records matching service, direction and zone (None = any zone).
fn sum(records: &[RecordJson], service: Service, direction: Direction, zone: Option<&str>) -> u64 {
    records
        .iter()
        .filter(|r| r.service == service && r.direction == direction)
        .filter(|r| zone.is_none_or(|z| r.zone.as_deref() == Some(z)))
        .map(|r| r.quantity)
        .sum()
}

fn one<'a>(records: &'a [RecordJson], service: Service, zone: &str) -> &'a RecordJson {
    let found: Vec<_> = records
        .iter()
        .filter(|r| r.service == service && r.zone.as_deref() == Some(zone))
        .collect();
    assert_eq!(found.len(), 1, "{service:?} {zone}: {found:?}");
    found[0]
}

#[test]
fn vodafone_document_example() {
    let imsi = Subject::new(SubjectKind::Imsi, "104047497196379");
    let (set, report) = read(
        &fixture("vodafone-doc-example.json"),
        &ParseOptions::default().subject(imsi.clone()),
    );
    assert_eq!(report.carrier, Carrier::VodafoneVrs);
    assert_eq!(report.format, Format::Tmf635Json);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let records = set.records_json();
    assert_eq!(records.len(), 2);
    let down = records
        .iter()
        .find(|r| r.direction == Direction::Down)
        .unwrap();
    let up = records
        .iter()
        .find(|r| r.direction == Direction::Up)
        .unwrap();
    assert_eq!(down.quantity, 19301);
    assert_eq!(up.quantity, 7792);
    assert_eq!(down.start, "2025-09-10T14:12:30Z");
    assert_eq!(down.end, down.start, "an event is instantaneous");
    assert_eq!(down.subject.as_ref(), Some(&imsi));
    assert_eq!(down.roaming, Some(true));
    let home = down.home_network.as_ref().unwrap();
    assert_eq!(
        (
            home.mcc.as_deref(),
            home.mnc.as_deref(),
            home.country.as_deref(),
            home.name.as_deref()
        ),
        (
            Some("262"),
            Some("002"),
            Some("Germany"),
            Some("Vodafone GmbH")
        )
    );
    let visited = down.visited_network.as_ref().unwrap();
    assert_eq!(visited.mcc.as_deref(), Some("222"));
    assert_eq!(
        visited.name.as_deref(),
        Some("222/010 Italy Vodafone Italia S.p.A")
    );
    let a = &down.attributes;
    assert_eq!(
        a["data_used"], "107126",
        "kept as an attribute, not added to bytes"
    );
    assert_eq!(a["imsitac"], "27291271282");
    assert_eq!(a["handset_model"], "Apple iphone 15(A3090)");
    assert_eq!(a["vtadig"], "ITAOM");
    assert_eq!(a["ratname"], "EUTRAN");
    assert_eq!(a["upload_throughput_mbps"], "2.8");
    assert_eq!(a["usageId"], "932c-8823e4866e");
    assert_eq!(a["usageStatus"], "Accepted");
    assert_eq!(sum(&records, Service::Data, Direction::Down, None), 19301);
}

#[test]
fn vodafone_array_numbers_and_missing_subject() {
    let body = r#"[
      {"usageDate":"2025-01-01T00:00:00Z","usageCharacteristic":[
        {"name":"downloaded_bytes","value":100},{"name":"uploaded_bytes","value":"5"},
        {"name":"hmcc","value":"262"},{"name":"hmnc","value":"02"},
        {"name":"vmcc","value":"262"},{"name":"vmnc","value":"002"}]},
      {"usageCharacteristic":[{"name":"begin_period","value":"2025-01-02T10:00:00Z"},
        {"name":"downloaded_bytes","value":"7"}]}
    ]"#;
    let (set, report) = read(body, &ParseOptions::default());
    let records = set.records_json();
    assert_eq!(records.len(), 3);
    assert_eq!(sum(&records, Service::Data, Direction::Down, None), 107);
    assert_eq!(
        records[0].roaming,
        Some(false),
        "MNC 02 and 002 are the same network"
    );
    assert_eq!(records[2].roaming, None);
    assert!(records[0].subject.is_none());
    assert!(report
        .warnings
        .iter()
        .any(|w| w.message.contains("begin_period")));
    assert!(report.warnings.iter().any(|w| w.message.contains("IMSI")));
}

#[test]
fn vodafone_bad_bytes_names_the_characteristic() {
    let body = r#"{"usageCharacteristic":[{"name":"begin_period","value":"2025-01-02T10:00:00Z"},
        {"name":"downloaded_bytes","value":"-3"}]}"#;
    let err = parse(body, &ParseOptions::default(), &mut UsageSet::new()).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::InvalidField);
    assert_eq!(
        err.field.as_deref(),
        Some("usageCharacteristic.downloaded_bytes")
    );
    assert!(err.to_string().contains("-3"), "{err}");
}

#[test]
fn thingspace_document_example_splits_domestic_and_international() {
    let (set, report) = read(
        &fixture("thingspace-doc-device.json"),
        &ParseOptions::default(),
    );
    assert_eq!(report.carrier, Carrier::Thingspace);
    assert_eq!(report.has_more_data, Some(false));
    assert_eq!(report.last_timestamp, Some(1607472000)); // 2020-12-09
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(
        report.subject,
        Some(Subject::new(
            SubjectKind::Eid,
            "50684915885088839315521399821675"
        ))
    );
    let records = set.records_json();
    assert_eq!(
        sum(&records, Service::Data, Direction::Total, Some("domestic")),
        8192
    );
    assert_eq!(
        sum(
            &records,
            Service::Data,
            Direction::Total,
            Some("international")
        ),
        8192
    );
    assert_eq!(sum(&records, Service::Data, Direction::Total, None), 16384);
    assert_eq!(
        records.iter().filter(|r| r.service == Service::Sms).count(),
        6
    );
    let first = &records[0];
    assert_eq!(
        (first.start.as_str(), first.end.as_str()),
        ("2020-12-01T00:00:00Z", "2020-12-02T00:00:00Z")
    );
    assert_eq!(first.source.as_deref(), Some("Raw Usage"));
    assert_eq!(first.roaming, Some(false));
}

#[test]
fn thingspace_label_example_keeps_totals() {
    let (set, report) = read(
        &fixture("thingspace-doc-label.json"),
        &ParseOptions::default(),
    );
    assert_eq!(
        report.subject.as_ref().map(|s| s.kind),
        Some(SubjectKind::Eid),
        "kind \"Eid\" read case-insensitively"
    );
    let records = set.records_json();
    assert_eq!(sum(&records, Service::Data, Direction::Total, None), 16384);
    assert!(records
        .iter()
        .filter(|r| r.service == Service::Data)
        .all(|r| r.zone.is_none()));
    assert_eq!(sum(&records, Service::Sms, Direction::Mo, None), 0);
}

#[test]
fn thingspace_page_with_more_data_strings_and_mismatch() {
    let body = r#"{"hasMoreData":true,"deviceId":{"kind":"imei","id":"990000862471854"},
      "usageHistory":[
        {"bytesUsed":"300","smsUsed":"3","servicePlan":"4G M2M 1GB","source":"Raw Usage",
         "extendedAttributes":[{"key":"MoSms","value":"1"},{"key":"MtSMS","value":"2"},
           {"key":"domesticUsage","value":"100"},{"key":"internationalUsage","value":"100"}],
         "timestamp":"2024-03-01T00:00:00Z"},
        {"bytesUsed":0,"smsUsed":0,"timestamp":"2024-03-02T00:00:00.000Z"}]}"#;
    let (set, report) = read(body, &ParseOptions::default());
    assert_eq!(report.has_more_data, Some(true));
    assert_eq!(report.last_timestamp, Some(1709337600));
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert_eq!(
        report.warnings[0].field.as_deref(),
        Some("usageHistory[0].extendedAttributes")
    );
    let records = set.records_json();
    assert_eq!(sum(&records, Service::Data, Direction::Total, None), 300);
    assert_eq!(sum(&records, Service::Sms, Direction::Mo, None), 1);
    assert_eq!(sum(&records, Service::Sms, Direction::Mt, None), 2);
    assert_eq!(records[0].attributes["servicePlan"], "4G M2M 1GB");
    assert_eq!(records.len(), 5, "zero days are kept: {records:?}");
}

#[test]
fn thingspace_wrong_type_names_the_row() {
    let body = r#"{"usageHistory":[{"bytesUsed":1,"timestamp":"2024-03-01T00:00:00Z"},
        {"bytesUsed":[1],"timestamp":"2024-03-02T00:00:00Z"}]}"#;
    let err = parse(body, &ParseOptions::default(), &mut UsageSet::new()).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("usageHistory[1].bytesUsed"));
    assert!(err.to_string().contains("an array"), "{err}");
}

#[test]
fn control_center_example_by_rate_plan_and_zone() {
    let (set, report) = read(
        &fixture("control-center-example.json"),
        &ParseOptions::default(),
    );
    assert_eq!(report.format, Format::ControlCenterJson);
    assert_eq!(
        report.subject,
        Some(Subject::new(SubjectKind::Iccid, "89011704258018735310"))
    );
    let records = set.records_json();
    assert_eq!(records.len(), 15);
    assert_eq!(
        sum(&records, Service::Data, Direction::Total, None),
        1048576 + 524288 + 2 * 1048576
    );
    assert_eq!(sum(&records, Service::Voice, Direction::Mo, None), 405);
    assert_eq!(sum(&records, Service::Voice, Direction::Mt, None), 150);
    assert_eq!(
        sum(&records, Service::Sms, Direction::Mo, None),
        12,
        "SMS keys in any casing"
    );
    assert_eq!(sum(&records, Service::Sms, Direction::Mt, None), 5);
    let r = &records[0];
    assert_eq!(
        (r.start.as_str(), r.end.as_str()),
        ("2016-11-10T00:00:00Z", "2016-12-10T00:00:00Z")
    );
    let v4: Vec<_> = records
        .iter()
        .filter(|r| r.rate_plan_version.as_deref() == Some("4"))
        .collect();
    assert_eq!(v4.len(), 5);
    assert!(v4
        .iter()
        .all(|r| r.rate_plan.as_deref() == Some("Global IoT Plan")));
    assert_eq!(r.attributes["retrievedAt"], "2016-11-29T17:24:57.155Z");
}

#[test]
fn control_center_units_and_key_fallback() {
    let body = r#"{"cycleStartDate":"2024-01-01Z","cycleEndDate":"2024-01-31T23:59:59.000Z",
      "deviceCycleUsageInZones":{"IoT Flex, 2":[{"zone":"EU","dataUsage":"1.5","dataUsageUnit":"kb"}],
        "Plain":[{"zone":"US","dataUsage":0.001,"dataUsageUnit":"MB"}]}}"#;
    let iccid = Subject::new(SubjectKind::Iccid, "8944500102198304826");
    let (set, report) = read(body, &ParseOptions::default().subject(iccid.clone()));
    let records = set.records_json();
    assert_eq!(one(&records, Service::Data, "EU").quantity, 1536);
    assert_eq!(
        one(&records, Service::Data, "EU")
            .rate_plan_version
            .as_deref(),
        Some("2")
    );
    assert_eq!(one(&records, Service::Data, "US").quantity, 1049);
    assert_eq!(records[0].end, "2024-02-01T00:00:00Z");
    assert_eq!(records[0].subject.as_ref(), Some(&iccid));
    assert_eq!(
        report.warnings.len(),
        1,
        "1048.576 bytes is rounded: {:?}",
        report.warnings
    );
    let bad = body.replace("\"kb\"", "\"furlongs\"");
    let err = parse(&bad, &ParseOptions::default(), &mut UsageSet::new()).unwrap_err();
    assert!(err.to_string().contains("furlongs"), "{err}");
}

#[test]
fn telecomx_document_example() {
    let (set, report) = read(
        &fixture("telecomx-doc-example.json"),
        &ParseOptions::default(),
    );
    assert_eq!(report.format, Format::TelecomxJson);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(
        report.subject,
        Some(Subject::new(
            SubjectKind::Account,
            "553ca0f477392ee4106e9526"
        ))
    );
    let records = set.records_json();
    let data = one(&records, Service::Data, "Danmark");
    assert_eq!(data.quantity, 1024);
    assert_eq!(data.allowance, Some(12288 * 1024 * 1024));
    assert_eq!(data.roaming, Some(false));
    assert_eq!(
        (data.start.as_str(), data.end.as_str()),
        ("2015-01-01T00:00:00Z", "2015-02-01T00:00:00Z")
    );
    assert_eq!(
        data.rate_plan.as_deref(),
        Some("Free speech, free text, 12Gb")
    );
    assert_eq!(data.attributes["msisdn"], "+4571919999");
    assert_eq!(data.attributes["regionId"], "1234567890ABCD1234567890");
    let homeland = one(&records, Service::Voice, "homeland");
    assert_eq!(
        (homeland.quantity, homeland.allowance),
        (12433, Some(36000))
    );
    let eu = one(&records, Service::Voice, "euNordic");
    assert_eq!((eu.quantity, eu.allowance), (435, None));
    let roaming = one(&records, Service::Voice, "Danmark");
    assert_eq!(
        (roaming.quantity, roaming.allowance, roaming.direction),
        (1488, Some(6000), Direction::Total)
    );
    assert_eq!(one(&records, Service::Voice, "world3").quantity, 0);
    assert_eq!(one(&records, Service::Sms, "homeland").quantity, 243);
    assert_eq!(one(&records, Service::Sms, "international").quantity, 12);
    assert_eq!(one(&records, Service::Sms, "roaming").roaming, Some(true));
    assert_eq!(one(&records, Service::Mms, "homeland").quantity, 14);
    assert_eq!(set.events.len(), 2);
    match &set.events[1] {
        UsageEvent::RestOfWorld {
            change,
            soc_row_type,
            price,
            ..
        } => {
            assert_eq!(change, "ACTIVATION");
            assert_eq!(soc_row_type.as_deref(), Some("AUTOSTART"));
            assert_eq!(*price, Some(15.0));
        }
        other => panic!("{other:?}"),
    }
    match &set.events[0] {
        UsageEvent::OverchargedSms {
            amount,
            vat_exempt,
            at,
            ..
        } => {
            assert_eq!(
                (*amount, *vat_exempt, at.as_str()),
                (1, Some(true), "2015-01-01T00:00:00Z")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn telecomx_csv_regions_quotes_and_negative_remaining() {
    let (set, report) = read(
        &fixture("telecomx-two-months.csv"),
        &ParseOptions::default(),
    );
    assert_eq!(report.format, Format::TelecomxCsv);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let records = set.records_json();
    let jan: Vec<_> = records
        .iter()
        .filter(|r| r.start.starts_with("2015-01"))
        .cloned()
        .collect();
    let feb: Vec<_> = records
        .iter()
        .filter(|r| r.start.starts_with("2015-02"))
        .cloned()
        .collect();
    assert_eq!(one(&jan, Service::Voice, "homeland").quantity, 12433);
    assert_eq!(one(&jan, Service::Voice, "euNordic").quantity, 435);
    assert_eq!(one(&jan, Service::Voice, "Danmark").allowance, Some(6000));
    assert_eq!(one(&jan, Service::Voice, "Danmark").quantity, 1488);
    assert_eq!(one(&jan, Service::Voice, "USA, Canada").quantity, 90);
    assert_eq!(
        one(&feb, Service::Voice, "homeland").quantity,
        37200,
        "beyond the package"
    );
    assert_eq!(one(&feb, Service::Voice, "world3").quantity, 60);
    assert_eq!(one(&feb, Service::Data, "euNordic").quantity, 512);
    assert_eq!(one(&jan, Service::Sms, "homeland").quantity, 243);
    assert_eq!(
        jan[0].rate_plan.as_deref(),
        Some("Free speech, free text, 12Gb")
    );
    assert_eq!(feb[0].end, "2015-03-01T00:00:00Z");
}

#[test]
fn telecomx_json_and_csv_agree_on_the_example_month() {
    let (json_set, _) = read(
        &fixture("telecomx-doc-example.json"),
        &ParseOptions::default(),
    );
    let (csv_set, _) = read(
        &fixture("telecomx-two-months.csv"),
        &ParseOptions::default(),
    );
    let json = json_set.records_json();
    let csv: Vec<_> = csv_set
        .records_json()
        .into_iter()
        .filter(|r| r.start.starts_with("2015-01"))
        .collect();
    for zone in ["homeland", "euNordic", "Danmark"] {
        assert_eq!(
            one(&json, Service::Voice, zone).quantity,
            one(&csv, Service::Voice, zone).quantity,
            "{zone}"
        );
    }
    for service in [Service::Sms, Service::Mms] {
        assert_eq!(
            sum(&json, service, Direction::Mo, None),
            sum(&csv, service, Direction::Mo, None)
        );
    }
}

#[test]
fn telecomx_csv_bad_number_names_line_and_column() {
    let text = fixture("telecomx-two-months.csv").replacen(",243,", ",lots,", 1);
    let err = parse(&text, &ParseOptions::default(), &mut UsageSet::new()).unwrap_err();
    assert_eq!(err.line, Some(2));
    assert_eq!(err.field.as_deref(), Some("SMS Homeland"));
}

#[test]
fn telecomx_negative_remaining_without_package_and_both_changelog_names() {
    let body = r#"{"account":{"_id":"0123456789abcdef01234567"},
      "voice":[{"date":"2024-06-01","homeland":"-600","subscriptionHomeland":"0","world1":30}],
      "restOfWorldChangeLog":[{"type":"REVERSION","soc":null,"when":"2024-06-20T00:00:00Z"}],
      "restOfWorldRoaming":[{"type":"TELEPORT","when":"2024-06-21T00:00:00Z"}]}"#;
    let (set, report) = read(body, &ParseOptions::default());
    let records = set.records_json();
    assert_eq!(one(&records, Service::Voice, "homeland").quantity, 600);
    assert_eq!(one(&records, Service::Voice, "world1").quantity, 0);
    assert_eq!(set.events.len(), 2);
    assert_eq!(report.warnings.len(), 2, "{:?}", report.warnings);
}

#[test]
fn telecomx_javascript_notation_is_explained() {
    let err = parse(
        "{ account: { _id: 'x' }, voice: [] }",
        &ParseOptions::default(),
        &mut UsageSet::new(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("JavaScript object notation"),
        "{err}"
    );
    assert_eq!(err.line, Some(1));
}

#[test]
fn detection_of_every_fixture_and_of_error_bodies() {
    for (name, format) in [
        ("vodafone-doc-example.json", Format::Tmf635Json),
        ("thingspace-doc-device.json", Format::ThingspaceJson),
        ("thingspace-doc-label.json", Format::ThingspaceJson),
        ("control-center-example.json", Format::ControlCenterJson),
        ("telecomx-doc-example.json", Format::TelecomxJson),
        ("telecomx-two-months.csv", Format::TelecomxCsv),
    ] {
        assert_eq!(detect(&fixture(name)).unwrap(), format, "{name}");
    }
    let err = detect(r#"{"errorCode":"UnifiedWebService.REQUEST_FAILED.SessionToken.Expired","errorMessage":"Session expired"}"#).unwrap_err();
    assert!(err.message.contains("Session expired"), "{err}");
    let err = detect(r#"{"fault":{"code":900901,"message":"Invalid Credentials"}}"#).unwrap_err();
    assert!(err.message.contains("900901"), "{err}");
    let err = detect(r#"{"hello":"world"}"#).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::UnknownFormat);
    assert!(
        err.message.contains("ThingSpace usage history JSON"),
        "lists the formats: {err}"
    );
    assert_eq!(detect("   ").unwrap_err().kind, ParseErrorKind::Empty);
    assert_eq!(detect("a,b,c\n1,2,3").unwrap_err().line, Some(1));
}

#[test]
fn forced_carrier_must_match() {
    let options = ParseOptions::default().carrier(Carrier::Thingspace);
    let err = parse(
        &fixture("control-center-example.json"),
        &options,
        &mut UsageSet::new(),
    )
    .unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::CarrierMismatch);
}

#[test]
fn syntax_errors_give_line_and_column_and_add_nothing() {
    let mut set = UsageSet::new();
    parse(
        &fixture("thingspace-doc-device.json"),
        &ParseOptions::default(),
        &mut set,
    )
    .unwrap();
    let before = set.len();
    let broken = "{\"usageHistory\": [\n  {\"bytesUsed\": 1,,}\n]}";
    let err = parse(broken, &ParseOptions::default(), &mut set).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::Syntax);
    assert_eq!(err.line, Some(2));
    assert!(err.column.is_some());
    assert_eq!(set.len(), before);
}
