//! Export of records in the model's schema: CSV (one column per field, attributes as a JSON
//! object) and JSON (an array of `RecordJson`).

use crate::model::{Network, RecordJson, UsageSet};

/// The CSV export's columns: one per field of [`RecordJson`], with the subject and networks
/// spread over columns and the attributes as one JSON object.
pub const CSV_HEADER: [&str; 25] = [
    "carrier",
    "subjectKind",
    "subjectId",
    "start",
    "end",
    "granularity",
    "service",
    "direction",
    "quantity",
    "unit",
    "zone",
    "roaming",
    "homeMcc",
    "homeMnc",
    "homeCountry",
    "homeName",
    "visitedMcc",
    "visitedMnc",
    "visitedCountry",
    "visitedName",
    "ratePlan",
    "ratePlanVersion",
    "allowance",
    "source",
    "attributes",
];

/// A text cell as a spreadsheet will not run it: a cell starting with `=`, `+`, `-`, `@`, a tab
/// or a carriage return gets a leading `'` (the OWASP rule against CSV injection: a zone of
/// `=HYPERLINK(...)` would otherwise open as a live formula). A cell that is a plain number
/// (`-2.5`) stays as it is: a spreadsheet reads it as that number and runs nothing.
#[must_use]
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let starts_like_formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if starts_like_formula && !is_plain_number(cell) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// `[+-]digits[.digits][e[+-]digits]`, nothing else.
fn is_plain_number(cell: &str) -> bool {
    let rest = cell.strip_prefix(['+', '-']).unwrap_or(cell);
    let (mantissa, exponent) = match rest.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['+', '-']).unwrap_or(e))),
        None => (rest, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, fraction)) => digits(whole) && digits(fraction),
        None => digits(mantissa),
    };
    mantissa_ok && exponent.is_none_or(digits)
}

fn network_cells(n: &Option<Network>) -> [String; 4] {
    let n = n.clone().unwrap_or_default();
    [
        n.mcc.unwrap_or_default(),
        n.mnc.unwrap_or_default(),
        n.country.unwrap_or_default(),
        n.name.unwrap_or_default(),
    ]
}

fn csv_row(r: &RecordJson) -> Vec<String> {
    let mut row = vec![
        r.carrier.as_str().to_owned(),
        r.subject
            .as_ref()
            .map(|s| s.kind.as_str().to_owned())
            .unwrap_or_default(),
        r.subject.as_ref().map(|s| s.id.clone()).unwrap_or_default(),
        r.start.clone(),
        r.end.clone(),
        r.granularity.as_str().to_owned(),
        r.service.as_str().to_owned(),
        r.direction.as_str().to_owned(),
        r.quantity.to_string(),
        r.unit.as_str().to_owned(),
        r.zone.clone().unwrap_or_default(),
        r.roaming.map(|b| b.to_string()).unwrap_or_default(),
    ];
    row.extend(network_cells(&r.home_network));
    row.extend(network_cells(&r.visited_network));
    row.push(r.rate_plan.clone().unwrap_or_default());
    row.push(r.rate_plan_version.clone().unwrap_or_default());
    row.push(r.allowance.map(|a| a.to_string()).unwrap_or_default());
    row.push(r.source.clone().unwrap_or_default());
    row.push(serde_json::to_string(&r.attributes).unwrap_or_else(|_| "{}".to_owned()));
    // Every cell but the numbers written here (quantity, allowance) is text that can come
    // from a carrier's answer or a file name.
    for (i, cell) in row.iter_mut().enumerate() {
        if !NUMERIC_COLUMNS.contains(&i) {
            if let std::borrow::Cow::Owned(safe) = spreadsheet_safe(cell) {
                *cell = safe;
            }
        }
    }
    row
}

/// The columns of [`CSV_HEADER`] that hold numbers usagelens wrote: `quantity`, `allowance`.
const NUMERIC_COLUMNS: [usize; 2] = [8, 22];

/// The records at `indices` as CSV with [`CSV_HEADER`].
#[must_use]
pub fn records_csv(set: &UsageSet, indices: &[u32]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    // Writing to a Vec cannot fail; a failure would only drop the row.
    let _ = writer.write_record(CSV_HEADER);
    for &i in indices {
        if let Some(r) = set.records.get(i as usize) {
            let _ = writer.write_record(csv_row(&set.record_json(r)));
        }
    }
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The records at `indices` as a JSON array of the public record form.
#[must_use]
pub fn records_json(set: &UsageSet, indices: &[u32]) -> String {
    let records: Vec<RecordJson> = indices
        .iter()
        .filter_map(|&i| set.records.get(i as usize))
        .map(|r| set.record_json(r))
        .collect();
    serde_json::to_string_pretty(&records).unwrap_or_else(|_| "[]".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse, ParseOptions};

    #[test]
    fn csv_has_one_row_per_record_and_quotes_commas() {
        let mut set = UsageSet::new();
        let body = r#"{"cycleStartDate":"2024-01-01Z","cycleEndDate":"2024-01-31Z",
          "deviceCycleUsageInZones":{"Plan, 1":[{"zone":"USA, Canada","dataUsage":5}]}}"#;
        parse(body, &ParseOptions::default(), &mut set).unwrap();
        let csv = records_csv(&set, &[0]);
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        assert_eq!(reader.headers().unwrap().len(), CSV_HEADER.len());
        let rows: Vec<_> = reader.records().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(&rows[0][10], "USA, Canada");
        assert_eq!(&rows[0][8], "5");
        let json: Vec<RecordJson> = serde_json::from_str(&records_json(&set, &[0])).unwrap();
        assert_eq!(json[0].zone.as_deref(), Some("USA, Canada"));
    }

    /// The payloads of issue 18 row 2, each as a spreadsheet would run it.
    const FORMULAS: [&str; 6] = [
        "=HYPERLINK(\"http://evil.example/x\",\"click\")",
        "+cmd|' /C calc'!A0",
        "@SUM(A1)",
        "-2+3",
        "\t=1+1",
        "\r=1+1",
    ];

    fn cells_of(csv: &str) -> Vec<csv::StringRecord> {
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        reader.records().map(|r| r.unwrap()).collect()
    }

    #[test]
    fn formulas_in_a_body_come_out_as_text() {
        for formula in FORMULAS {
            let mut set = UsageSet::new();
            let body = serde_json::json!({
                "cycleStartDate": "2024-01-01Z",
                "cycleEndDate": "2024-01-31Z",
                "deviceCycleUsageInZones": {"Plan, 1": [{
                    "ratePlan": formula, "ratePlanVersion": formula,
                    "zone": formula, "dataUsage": 5
                }]}
            })
            .to_string();
            parse(&body, &ParseOptions::default(), &mut set).unwrap();
            let rows = cells_of(&records_csv(&set, &[0]));
            // Readers store a leading tab or CR escaped (`\u000D`), which is text already.
            let stored =
                crate::model::escape_unsafe_display(formula).unwrap_or_else(|| formula.to_owned());
            let safe = if stored.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{stored}")
            } else {
                stored
            };
            // zone, ratePlan, ratePlanVersion
            for column in [10, 20, 21] {
                assert_eq!(&rows[0][column], safe, "{}", CSV_HEADER[column]);
            }
            assert_eq!(&rows[0][8], "5", "the quantity stays a number");
        }
    }

    #[test]
    fn every_text_column_is_neutralised_and_numbers_are_kept() {
        for formula in FORMULAS {
            let text = Some(formula.to_owned());
            let network = Some(Network {
                mcc: text.clone(),
                mnc: text.clone(),
                country: text.clone(),
                name: text.clone(),
            });
            let record = RecordJson {
                carrier: crate::Carrier::ControlCenter,
                subject: Some(crate::Subject::new(crate::SubjectKind::Label, formula)),
                start: formula.to_owned(),
                end: formula.to_owned(),
                granularity: crate::Granularity::Cycle,
                service: crate::Service::Data,
                direction: crate::Direction::Total,
                quantity: 2,
                unit: crate::Unit::Bytes,
                zone: text.clone(),
                roaming: Some(true),
                home_network: network.clone(),
                visited_network: network,
                rate_plan: text.clone(),
                rate_plan_version: text.clone(),
                allowance: Some(7),
                source: text.clone(),
                attributes: [("note".to_owned(), formula.to_owned())].into(),
            };
            let row = csv_row(&record);
            let safe = format!("'{formula}");
            let text_columns = [
                "subjectId",
                "start",
                "end",
                "zone",
                "homeMcc",
                "homeMnc",
                "homeCountry",
                "homeName",
                "visitedMcc",
                "visitedMnc",
                "visitedCountry",
                "visitedName",
                "ratePlan",
                "ratePlanVersion",
                "source",
            ];
            for name in text_columns {
                let at = CSV_HEADER.iter().position(|h| *h == name).unwrap();
                assert_eq!(row[at], safe, "{name}");
            }
            // The attributes are a JSON object: its first character is always `{`.
            let attributes: std::collections::BTreeMap<String, String> =
                serde_json::from_str(&row[24]).unwrap();
            assert_eq!(attributes["note"], formula);
            assert_eq!((&*row[8], &*row[22]), ("2", "7"));
        }
    }

    #[test]
    fn plain_numbers_and_ordinary_text_are_left_alone() {
        for kept in [
            "-2.5",
            "+44",
            "-1e-3",
            "12",
            "North America",
            "",
            "a=b",
            "1-2",
        ] {
            assert_eq!(spreadsheet_safe(kept), kept);
        }
        for neutralised in ["-2+3", "-", "+", "=", "@", "-1e", "-.5", "--1", "- 1"] {
            assert_eq!(spreadsheet_safe(neutralised), format!("'{neutralised}"));
        }
    }
}
