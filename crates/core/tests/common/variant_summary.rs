//! The summary of a read body that tests/variants.rs (natively) and tests/web_variants.rs
//! (through `parseUsage` in the browser) compare with fixtures/variants/expected.json.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use usagelens_core::RecordJson;

/// Sums per service/direction[@zone][ home|roaming], the distinct periods, subject, paging,
/// attribute values (with the rate plan and source), and the warnings' messages.
pub fn summary(
    carrier: &str,
    subject: Option<String>,
    has_more_data: Option<bool>,
    records: &[RecordJson],
    warnings: Vec<String>,
) -> Value {
    let mut sums: BTreeMap<String, u64> = BTreeMap::new();
    let mut periods: Vec<String> = Vec::new();
    let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in records {
        let mut key = format!("{}/{}", r.service.as_str(), r.direction.as_str());
        if let Some(zone) = &r.zone {
            key.push('@');
            key.push_str(zone);
        }
        if let Some(roaming) = r.roaming {
            key.push_str(if roaming { " roaming" } else { " home" });
        }
        *sums.entry(key).or_default() += r.quantity;
        let period = format!("{}/{}", r.start, r.end);
        if !periods.contains(&period) {
            periods.push(period);
        }
        let mut all = r.attributes.clone();
        if let Some(plan) = &r.rate_plan {
            all.insert("(ratePlan)".into(), plan.clone());
        }
        if let Some(source) = &r.source {
            all.insert("(source)".into(), source.clone());
        }
        for (k, v) in all {
            let values = attributes.entry(k).or_default();
            if !values.contains(&v) {
                values.push(v);
            }
        }
    }
    periods.sort();
    let mut out = Map::new();
    out.insert("carrier".into(), json!(carrier));
    out.insert("subject".into(), json!(subject));
    out.insert("hasMoreData".into(), json!(has_more_data));
    out.insert("records".into(), json!(records.len()));
    out.insert("sums".into(), json!(sums));
    out.insert("periods".into(), json!(periods));
    out.insert("attributes".into(), json!(attributes));
    out.insert("warnings".into(), json!(warnings));
    Value::Object(out)
}
