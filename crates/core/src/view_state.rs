//! The dashboard's view as a URL query, so a view can be shared or bookmarked:
//! `?source=demo&service=data&roaming=yes&zone=EU&from=2026-09-01&group=zone&metric=voice`.
//! Defaults are left out; unknown or bad parameters are reported, never fatal.

use crate::aggregate::{Filter, GroupBy};
use crate::fetch::proxy::{decode_component as decode, encode_component};
use crate::model::{Carrier, Direction, Service, Subject, SubjectKind};
use crate::units::{format_day, parse_day, ByteBase};

/// The dashboard's view as the URL keeps it; [`ViewState::default`] is the view a bare URL gives.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewState {
    /// The record filter: `from`, `to`, `service`, `direction`, `zone`, `roaming`, `subject`,
    /// `carrier`.
    pub filter: Filter,
    /// The service the chart and breakdown measure (`metric`; data by default).
    pub metric: Service,
    /// What the chart stacks by (`group`; zone by default).
    pub group_by: GroupBy,
    /// Byte units (`units=decimal`; binary by default).
    pub byte_base: ByteBase,
    /// True to show times in UTC (the default), false for the browser's local time (`tz=local`).
    pub utc: bool,
    /// Data sources to load again, e.g. `demo`.
    pub sources: Vec<String>,
}

impl Default for ViewState {
    fn default() -> Self {
        ViewState {
            filter: Filter::default(),
            metric: Service::Data,
            group_by: GroupBy::Zone,
            byte_base: ByteBase::Binary,
            utc: true,
            sources: Vec::new(),
        }
    }
}

impl ViewState {
    /// The query string without `?`; empty for the default view.
    #[must_use]
    pub fn to_query(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for s in &self.sources {
            pairs.push(("source", s.clone()));
        }
        let f = &self.filter;
        if let Some(from) = f.from {
            pairs.push(("from", format_day(from)));
        }
        if let Some(to) = f.to {
            pairs.push(("to", format_day(to)));
        }
        pairs.extend(
            f.services
                .iter()
                .map(|s| ("service", s.as_str().to_owned())),
        );
        pairs.extend(
            f.directions
                .iter()
                .map(|d| ("direction", d.as_str().to_owned())),
        );
        pairs.extend(f.zones.iter().map(|z| ("zone", z.clone())));
        if let Some(r) = f.roaming {
            pairs.push(("roaming", if r { "yes" } else { "no" }.to_owned()));
        }
        pairs.extend(
            f.subjects
                .iter()
                .map(|s| ("subject", format!("{}:{}", s.kind.as_str(), s.id))),
        );
        pairs.extend(
            f.carriers
                .iter()
                .map(|c| ("carrier", c.as_str().to_owned())),
        );
        if self.metric != Service::Data {
            pairs.push(("metric", self.metric.as_str().to_owned()));
        }
        if self.group_by != GroupBy::Zone {
            pairs.push(("group", self.group_by.as_str().to_owned()));
        }
        if self.byte_base == ByteBase::Decimal {
            pairs.push(("units", "decimal".to_owned()));
        }
        if !self.utc {
            pairs.push(("tz", "local".to_owned()));
        }
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={}", encode_component(&v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Reads a query (with or without `?`); returns the view and a warning per ignored parameter.
    #[must_use]
    pub fn from_query(query: &str) -> (ViewState, Vec<String>) {
        let mut view = ViewState::default();
        let mut warnings = Vec::new();
        for pair in query
            .trim_start_matches('?')
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (k, v) = (decode(k), decode(v));
            let ok = match k.as_str() {
                "source" if !v.is_empty() => {
                    view.sources.push(v.clone());
                    true
                }
                "from" => parse_day(&v).map(|t| view.filter.from = Some(t)).is_some(),
                "to" => parse_day(&v).map(|t| view.filter.to = Some(t)).is_some(),
                "service" => Service::parse(&v)
                    .map(|s| view.filter.services.push(s))
                    .is_some(),
                "direction" => Direction::parse(&v)
                    .map(|d| view.filter.directions.push(d))
                    .is_some(),
                "zone" if !v.is_empty() => {
                    view.filter.zones.push(v.clone());
                    true
                }
                "roaming" => match v.as_str() {
                    "yes" => {
                        view.filter.roaming = Some(true);
                        true
                    }
                    "no" => {
                        view.filter.roaming = Some(false);
                        true
                    }
                    _ => false,
                },
                "subject" => v
                    .split_once(':')
                    .and_then(|(kind, id)| Some(Subject::new(SubjectKind::parse(kind)?, id)))
                    .map(|s| view.filter.subjects.push(s))
                    .is_some(),
                "carrier" => Carrier::parse(&v)
                    .map(|c| view.filter.carriers.push(c))
                    .is_some(),
                "metric" => Service::parse(&v).map(|s| view.metric = s).is_some(),
                "group" => GroupBy::parse(&v).map(|g| view.group_by = g).is_some(),
                "units" => match v.as_str() {
                    "decimal" => {
                        view.byte_base = ByteBase::Decimal;
                        true
                    }
                    "binary" => true,
                    _ => false,
                },
                "tz" => match v.as_str() {
                    "local" => {
                        view.utc = false;
                        true
                    }
                    "utc" => true,
                    _ => false,
                },
                _ => false,
            };
            if !ok {
                warnings.push(format!("ignored the URL parameter {k}={v:?}"));
            }
        }
        (view, warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_view_is_an_empty_query() {
        assert_eq!(ViewState::default().to_query(), "");
        assert_eq!(ViewState::from_query(""), (ViewState::default(), vec![]));
    }

    #[test]
    fn round_trip_of_every_field() {
        let view = ViewState {
            filter: Filter {
                from: Some(1_788_220_800),
                to: Some(1_790_812_800),
                services: vec![Service::Voice],
                directions: vec![Direction::Mo],
                zones: vec!["USA, Canada".into()],
                roaming: Some(true),
                subjects: vec![Subject::new(SubjectKind::Imsi, "262021234567890")],
                carriers: vec![Carrier::Telecomx],
            },
            metric: Service::Sms,
            group_by: GroupBy::RatePlan,
            byte_base: ByteBase::Decimal,
            utc: false,
            sources: vec!["demo".into()],
        };
        let query = view.to_query();
        assert!(query.contains("zone=USA%2C%20Canada"), "{query}");
        assert_eq!(ViewState::from_query(&format!("?{query}")), (view, vec![]));
    }

    #[test]
    fn bad_parameters_are_reported_not_fatal() {
        let (view, warnings) = ViewState::from_query("service=fax&roaming=maybe&source=demo&x=1");
        assert_eq!(view.sources, vec!["demo".to_owned()]);
        assert!(view.filter.services.is_empty());
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(warnings[0].contains("service"));
    }
}
