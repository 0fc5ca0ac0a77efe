//! The dashboard's state: loaded sources, their records, and what the user is looking at.
//!
//! Records live in a `StoredValue` (never cloned by the reactive system: a fleet holds millions),
//! and a `version` signal says when they changed. Everything derived (totals, series, table) is
//! computed from `version` plus the view signals.

use leptos::prelude::*;
use usagelens_core::aggregate::{Filter, GroupBy};
use usagelens_core::units::ByteBase;
use usagelens_core::{
    parse, Carrier, Format, ParseError, ParseOptions, ParseReport, Service, Subject, UsageSet,
    Warning,
};

/// How a source came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceOrigin {
    Demo,
    File,
    Paste,
    Live,
}

impl SourceOrigin {
    pub fn label(self) -> &'static str {
        match self {
            SourceOrigin::Demo => "demo",
            SourceOrigin::File => "file",
            SourceOrigin::Paste => "pasted",
            SourceOrigin::Live => "live",
        }
    }
}

/// One body the user loaded, whether it read or not.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadedSource {
    pub id: u32,
    pub name: String,
    pub origin: SourceOrigin,
    pub carrier: Option<Carrier>,
    pub format: Option<Format>,
    pub subject: Option<Subject>,
    pub records: usize,
    pub warnings: Vec<Warning>,
    pub error: Option<String>,
}

#[derive(Clone, Copy)]
pub struct AppState {
    /// Each source's own records, so one can be removed without re-reading the others.
    per_source: StoredValue<Vec<(u32, UsageSet)>>,
    merged: StoredValue<UsageSet>,
    pub version: RwSignal<u64>,
    pub sources: RwSignal<Vec<LoadedSource>>,
    next_id: StoredValue<u32>,
    pub filter: RwSignal<Filter>,
    pub metric: RwSignal<Service>,
    pub group_by: RwSignal<GroupBy>,
    pub byte_base: RwSignal<ByteBase>,
    /// Dates in UTC (true) or the browser's local time.
    pub utc: RwSignal<bool>,
    /// Loads under way (the progress indicator shows while > 0).
    pub busy: RwSignal<u32>,
    /// Index into `UsageSet::records` of the record whose fields are shown.
    pub selected: RwSignal<Option<u32>>,
}

impl Default for AppState {
    fn default() -> Self {
        Self::new()
    }
}

impl AppState {
    pub fn new() -> AppState {
        AppState {
            per_source: StoredValue::new(Vec::new()),
            merged: StoredValue::new(UsageSet::new()),
            version: RwSignal::new(0),
            sources: RwSignal::new(Vec::new()),
            next_id: StoredValue::new(1),
            filter: RwSignal::new(Filter::default()),
            metric: RwSignal::new(Service::Data),
            group_by: RwSignal::new(GroupBy::Zone),
            byte_base: RwSignal::new(ByteBase::Binary),
            utc: RwSignal::new(true),
            busy: RwSignal::new(0),
            selected: RwSignal::new(None),
        }
    }

    /// Reads the merged records; tracks `version`, so callers re-run when records change.
    pub fn with_set<T>(&self, f: impl FnOnce(&UsageSet) -> T) -> T {
        self.version.track();
        self.merged.with_value(f)
    }

    /// Minutes to add to UTC for displayed dates: 0 in UTC mode, the browser's offset otherwise.
    pub fn offset_minutes(&self) -> i32 {
        if self.utc.get() {
            0
        } else {
            browser_offset_minutes()
        }
    }

    pub fn offset_minutes_untracked(&self) -> i32 {
        if self.utc.get_untracked() {
            0
        } else {
            browser_offset_minutes()
        }
    }

    /// Reads the merged records without tracking (event handlers).
    pub fn merged_with<T>(&self, f: impl FnOnce(&UsageSet) -> T) -> T {
        self.merged.with_value(f)
    }

    fn take_id(&self) -> u32 {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        id
    }

    /// Reads one body into the store. The source is listed either way: with its error if it
    /// did not read, so the user sees which file failed and why while the others still load.
    pub fn ingest_text(
        &self,
        name: &str,
        origin: SourceOrigin,
        text: &str,
        options: &ParseOptions,
    ) -> Result<ParseReport, ParseError> {
        let mut set = UsageSet::new();
        let id = self.take_id();
        match parse(text, options, &mut set) {
            Ok(report) => {
                let source = LoadedSource {
                    id,
                    name: name.to_owned(),
                    origin,
                    carrier: Some(report.carrier),
                    format: Some(report.format),
                    subject: report.subject.clone(),
                    records: set.len(),
                    warnings: report.warnings.clone(),
                    error: None,
                };
                self.add(source, set);
                Ok(report)
            }
            Err(err) => {
                self.sources.update(|s| {
                    s.push(LoadedSource {
                        id,
                        name: name.to_owned(),
                        origin,
                        carrier: options.carrier,
                        format: None,
                        subject: options.subject.clone(),
                        records: 0,
                        warnings: Vec::new(),
                        error: Some(err.to_string()),
                    })
                });
                Err(err)
            }
        }
    }

    /// Lists a source that could not even be read (a file or demo that failed to load).
    pub fn add_failure(&self, name: &str, origin: SourceOrigin, message: String) {
        let id = self.take_id();
        self.sources.update(|s| {
            s.push(LoadedSource {
                id,
                name: name.to_owned(),
                origin,
                carrier: None,
                format: None,
                subject: None,
                records: 0,
                warnings: Vec::new(),
                error: Some(message),
            })
        });
    }

    /// Adds records fetched live (possibly partial, with the error that stopped the fetch).
    pub fn add_set(
        &self,
        name: &str,
        origin: SourceOrigin,
        set: UsageSet,
        carrier: Option<Carrier>,
        warnings: Vec<Warning>,
        error: Option<String>,
    ) {
        let source = LoadedSource {
            id: self.take_id(),
            name: name.to_owned(),
            origin,
            carrier,
            format: None,
            subject: set.subjects().first().cloned(),
            records: set.len(),
            warnings,
            error,
        };
        self.add(source, set);
    }

    fn add(&self, source: LoadedSource, set: UsageSet) {
        self.merged.update_value(|m| m.extend_from(&set));
        self.per_source.update_value(|p| p.push((source.id, set)));
        self.sources.update(|s| s.push(source));
        self.version.update(|v| *v += 1);
    }

    pub fn remove_source(&self, id: u32) {
        self.per_source
            .update_value(|p| p.retain(|(i, _)| *i != id));
        self.rebuild();
        self.sources.update(|s| s.retain(|x| x.id != id));
    }

    pub fn clear(&self) {
        self.per_source.set_value(Vec::new());
        self.rebuild();
        self.sources.set(Vec::new());
        self.filter.set(Filter::default());
    }

    fn rebuild(&self) {
        let mut merged = UsageSet::new();
        self.per_source.with_value(|p| {
            for (_, set) in p {
                merged.extend_from(set);
            }
        });
        self.merged.set_value(merged);
        self.selected.set(None);
        self.version.update(|v| *v += 1);
    }
}

/// The browser's current UTC offset in minutes (JS gives it with the opposite sign).
fn browser_offset_minutes() -> i32 {
    -(js_sys::Date::new_0().get_timezone_offset() as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CC: &str = include_str!("../crates/core/tests/fixtures/control-center-example.json");

    #[test]
    fn ingest_lists_good_and_bad_sources_and_remove_rebuilds() {
        let owner = Owner::new();
        owner.set();
        let state = AppState::new();
        let options = ParseOptions::default();
        state
            .ingest_text("cc.json", SourceOrigin::File, CC, &options)
            .unwrap();
        assert!(state
            .ingest_text(
                "bad.json",
                SourceOrigin::File,
                "{\"usageHistory\": [",
                &options
            )
            .is_err());
        let sources = state.sources.get_untracked();
        assert_eq!(sources.len(), 2);
        assert_eq!(sources[0].records, 15);
        assert!(sources[1].error.as_deref().unwrap().contains("line 1"));
        assert_eq!(state.with_set(|s| s.len()), 15);
        state
            .ingest_text("cc2.json", SourceOrigin::Paste, CC, &options)
            .unwrap();
        assert_eq!(state.with_set(|s| s.len()), 30);
        state.remove_source(sources[0].id);
        assert_eq!(state.with_set(|s| s.len()), 15);
        state.clear();
        assert_eq!(state.with_set(|s| s.len()), 0);
        assert!(state.sources.get_untracked().is_empty());
    }
}
