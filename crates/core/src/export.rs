//! Export of records in the model's schema: CSV (one column per field, attributes as a JSON
//! object) and JSON (an array of `RecordJson`).

use crate::model::{Network, RecordJson, UsageSet};

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
    row
}

/// The records at `indices` as CSV with [`CSV_HEADER`].
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
}
