//! Real and realistic variants of each carrier's answers (fixtures/variants/<carrier>/): other
//! spellings and casings, date forms, operator time zones, spreadsheet CSV dialects and file
//! encodings. Each file is read as the app reads a dropped file (bytes decoded by
//! `text::decode`, then `parse`), and a summary of what was read is compared with
//! fixtures/variants/expected.json: sums per service/direction/zone, periods, subject, paging,
//! attributes, warnings, or the error. The same expectations are checked through `parseUsage`
//! in the browser tests (tests/web_parse_usage.rs). Where each file comes from:
//! fixtures/variants/SOURCES.md.

use serde_json::{json, Map, Value};
use usagelens_core::{parse, text, ParseOptions, UsageSet};

fn variants_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/variants")
}

#[path = "common/variant_summary.rs"]
mod variant_summary;

/// What a reader made of one body, read as the app reads a dropped file.
fn summary(bytes: &[u8]) -> Value {
    let decoded = match text::decode(bytes) {
        Ok(d) => d,
        Err(e) => return json!({ "error": e.to_string() }),
    };
    let mut set = UsageSet::new();
    let report = match parse(&decoded.text, &ParseOptions::default(), &mut set) {
        Ok(r) => r,
        Err(e) => return json!({ "error": e.to_string() }),
    };
    let warnings: Vec<String> = decoded
        .warning
        .iter()
        .chain(&report.warnings)
        .map(|w| w.message.clone())
        .collect();
    let mut out = variant_summary::summary(
        report.carrier.as_str(),
        report.subject.as_ref().map(|s| s.to_string()),
        report.has_more_data,
        &set.records_json(),
        warnings,
    );
    out.as_object_mut()
        .unwrap()
        .insert("encoding".into(), json!(decoded.encoding));
    out
}

#[test]
fn every_variant_reads_as_expected() {
    let expected: Map<String, Value> = serde_json::from_str(
        &std::fs::read_to_string(variants_dir().join("expected.json")).unwrap(),
    )
    .unwrap();
    let mut files = Vec::new();
    for carrier in std::fs::read_dir(variants_dir()).unwrap() {
        let carrier = carrier.unwrap().path();
        if carrier.is_dir() {
            for file in std::fs::read_dir(&carrier).unwrap() {
                files.push(file.unwrap().path());
            }
        }
    }
    files.sort();
    assert!(files.len() >= 14, "variants went missing: {files:?}");
    let mut failures = Vec::new();
    for path in &files {
        let name = path
            .strip_prefix(variants_dir())
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let actual = summary(&std::fs::read(path).unwrap());
        match expected.get(&name) {
            None => failures.push(format!(
                "{name}: no entry in expected.json; read as\n{}",
                serde_json::to_string_pretty(&actual).unwrap()
            )),
            Some(want) if *want != actual => failures.push(format!(
                "{name}: expected\n{}\nread\n{}",
                serde_json::to_string_pretty(want).unwrap(),
                serde_json::to_string_pretty(&actual).unwrap()
            )),
            Some(_) => {}
        }
    }
    for name in expected.keys() {
        if !files
            .iter()
            .any(|p| p.ends_with(std::path::Path::new(name)))
        {
            failures.push(format!("{name}: in expected.json but not on disk"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
