//! The dashboard's state: loaded sources, their records, and what the user is looking at.
//!
//! Records live in a `StoredValue` (never cloned by the reactive system: a fleet holds millions),
//! and a `version` signal says when they changed. Everything derived (totals, series, table) is
//! computed from `version` plus the view signals.

use std::ops::Range;

use leptos::prelude::*;
use usagelens_core::aggregate::{Filter, GroupBy};
use usagelens_core::carriers::control_center::ctd::known_cycles;
use usagelens_core::units::ByteBase;
use usagelens_core::{
    detect, parse, shift_range, Carrier, Format, ParseError, ParseOptions, ParseReport, Service,
    Subject, UsageSet, Warning,
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
    /// Distinct subjects it holds (a fleet has many; `subject` is then `None`).
    pub subjects: usize,
    pub records: usize,
    pub warnings: Vec<Warning>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
struct SourceRanges {
    id: u32,
    records: Range<usize>,
    events: Range<usize>,
}

#[derive(Clone, Copy)]
pub struct AppState {
    /// Which record and event index ranges of `merged` each source added, so one source can be
    /// removed without keeping a second copy of every record (a fleet holds millions).
    owners: StoredValue<Vec<SourceRanges>>,
    merged: StoredValue<UsageSet>,
    pub version: RwSignal<u64>,
    pub sources: RwSignal<Vec<LoadedSource>>,
    next_id: StoredValue<u32>,
    pub filter: RwSignal<Filter>,
    /// `filter` as the panels below the chart (breakdown, fleet view, records) see it: it
    /// follows once the chart's redraw has been painted (see `components::app::defer_details`).
    pub details_filter: RwSignal<Filter>,
    pub metric: RwSignal<Service>,
    pub group_by: RwSignal<GroupBy>,
    pub byte_base: RwSignal<ByteBase>,
    /// Dates in UTC (true) or the browser's local time.
    pub utc: RwSignal<bool>,
    /// Loads under way (the progress indicator shows while > 0).
    pub busy: RwSignal<u32>,
    /// A fleet fetch is running (it has its own progress bar; the header only names it).
    pub fleet_running: RwSignal<bool>,
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
            owners: StoredValue::new(Vec::new()),
            merged: StoredValue::new(UsageSet::new()),
            version: RwSignal::new(0),
            sources: RwSignal::new(Vec::new()),
            next_id: StoredValue::new(1),
            filter: RwSignal::new(Filter::default()),
            details_filter: RwSignal::new(Filter::default()),
            metric: RwSignal::new(Service::Data),
            group_by: RwSignal::new(GroupBy::Zone),
            byte_base: RwSignal::new(ByteBase::Binary),
            utc: RwSignal::new(true),
            busy: RwSignal::new(0),
            fleet_running: RwSignal::new(false),
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
        // A cycle-to-date answer that does not say when it was fetched counts up to when it was
        // loaded, and starts where a usageInZone answer of the same device, loaded before,
        // says its cycle starts.
        let ctd_options;
        let options = if matches!(detect(text), Ok(Format::ControlCenterCtdJson)) {
            let mut o = options.clone();
            o.fetched_at.get_or_insert(chrono::Utc::now().timestamp());
            if o.known_cycles.is_empty() {
                o.known_cycles = self.merged.with_value(known_cycles);
            }
            ctd_options = o;
            &ctd_options
        } else {
            options
        };
        match parse(text, options, &mut set) {
            Ok(report) => {
                let source = LoadedSource {
                    id,
                    name: name.to_owned(),
                    origin,
                    carrier: Some(report.carrier),
                    format: Some(report.format),
                    subject: report.subject.clone(),
                    subjects: set.subjects().len(),
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
                        subjects: 0,
                        records: 0,
                        warnings: Vec::new(),
                        error: Some(err.to_string()),
                    })
                });
                Err(err)
            }
        }
    }

    /// Reads a file's bytes: decoded as `usagelens_core::text::decode` sniffs them (BOM, UTF-8,
    /// UTF-16, Windows-1252), then read like text; a guessed encoding is the source's first
    /// warning.
    pub fn ingest_bytes(
        &self,
        name: &str,
        origin: SourceOrigin,
        bytes: &[u8],
        options: &ParseOptions,
    ) -> Result<ParseReport, ParseError> {
        let decoded = match usagelens_core::text::decode(bytes) {
            Ok(d) => d,
            Err(err) => {
                self.add_failure(name, origin, err.to_string());
                return Err(err);
            }
        };
        let report = self.ingest_text(name, origin, &decoded.text, options)?;
        if let Some(warning) = decoded.warning {
            let id = self.sources.with_untracked(|s| s.last().map(|s| s.id));
            self.sources.update(|sources| {
                if let Some(source) = sources.iter_mut().find(|s| Some(s.id) == id) {
                    source.warnings.insert(0, warning);
                }
            });
        }
        Ok(report)
    }

    /// Lists a source that could not even be read (a file or demo that failed to load).
    pub fn add_failure(&self, name: &str, origin: SourceOrigin, message: String) {
        self.list_empty_source(name, origin, Some(message));
    }

    /// Lists a source with no records yet; returns its id.
    fn list_empty_source(&self, name: &str, origin: SourceOrigin, error: Option<String>) -> u32 {
        let id = self.take_id();
        self.sources.update(|s| {
            s.push(LoadedSource {
                id,
                name: name.to_owned(),
                origin,
                carrier: None,
                format: None,
                subject: None,
                subjects: 0,
                records: 0,
                warnings: Vec::new(),
                error,
            })
        });
        id
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
            // One carrier named only when every record has it (a benchmark fleet mixes them).
            carrier: carrier.or_else(|| only_carrier(&set)),
            format: None,
            subject: match set.subjects() {
                [one] => Some(one.clone()),
                _ => None,
            },
            subjects: set.subjects().len(),
            records: set.len(),
            warnings,
            error,
        };
        self.add(source, set);
    }

    fn add(&self, source: LoadedSource, set: UsageSet) {
        self.append(source.id, set);
        self.sources.update(|s| s.push(source));
    }

    /// Adds records to the merged set under source `id` and bumps the version. When the merged
    /// set is empty the set is taken as it is (a fleet of millions is not copied).
    fn append(&self, id: u32, set: UsageSet) {
        let (records_before, events_before) = self.merged.with_value(|m| (m.len(), m.events.len()));
        if records_before == 0 && events_before == 0 {
            self.merged.set_value(set);
        } else {
            self.merged.update_value(|m| m.extend_from(&set));
        }
        let (records_after, events_after) = self.merged.with_value(|m| (m.len(), m.events.len()));
        self.owners.update_value(|o| {
            o.push(SourceRanges {
                id,
                records: records_before..records_after,
                events: events_before..events_after,
            })
        });
        self.version.update(|v| *v += 1);
    }

    /// Starts a source that grows as results arrive (a fleet fetch); returns its id.
    pub fn start_streamed_source(&self, name: &str, origin: SourceOrigin) -> u32 {
        self.list_empty_source(name, origin, None)
    }

    /// Whether source `id` is still listed.
    pub fn has_source(&self, id: u32) -> bool {
        self.sources
            .with_untracked(|s| s.iter().any(|x| x.id == id))
    }

    /// Adds a batch of records to a streamed source; `error` summarises what failed so far.
    /// `replacing` names subjects fetched again: what the source held of them goes first.
    /// Returns false, adding nothing, when the source is no longer listed (the user removed it
    /// while it grew): its records would otherwise sit in the view with no source to remove.
    pub fn append_to_source(
        &self,
        id: u32,
        set: UsageSet,
        replacing: &[Subject],
        error: Option<String>,
    ) -> bool {
        if !self.has_source(id) {
            return false;
        }
        let (removed, replaced) = if replacing.is_empty() {
            (0, 0)
        } else {
            self.remove_subjects(id, replacing)
        };
        let added = set.len();
        let carrier = only_carrier(&set);
        let subjects = set.subjects().len();
        if added > 0 {
            self.append(id, set);
        }
        self.sources.update(|sources| {
            if let Some(s) = sources.iter_mut().find(|s| s.id == id) {
                if added > 0 {
                    s.carrier = if s.records == 0 || s.carrier == carrier {
                        carrier
                    } else {
                        None
                    };
                }
                s.records = s.records - removed + added;
                s.subjects = s.subjects - replaced + subjects;
                s.error = error;
            }
        });
        true
    }

    /// Source `id`'s record and event ranges in the merged set, in order.
    fn ranges_of(&self, id: u32) -> (Vec<Range<usize>>, Vec<Range<usize>>) {
        self.owners.with_value(|owners| {
            owners
                .iter()
                .filter(|o| o.id == id)
                .map(|o| (o.records.clone(), o.events.clone()))
                .unzip()
        })
    }

    /// Drops the records and events of `subjects` from source `id`; returns how many records
    /// went and how many of the subjects it held.
    fn remove_subjects(&self, id: u32, subjects: &[Subject]) -> (usize, usize) {
        let (records, events) = self.ranges_of(id);
        let (records, events, held) = self.merged.with_value(|m| {
            let (r, e) = m.subject_runs(&records, &events, subjects);
            let held = r
                .iter()
                .flat_map(|run| run.clone())
                .filter_map(|i| m.records.get(i).map(|r| r.subject))
                .collect::<std::collections::HashSet<_>>()
                .len();
            (r, e, held)
        });
        let removed = records.iter().map(|r| r.len()).sum();
        self.remove_runs(&records, &events, None);
        (removed, held)
    }

    pub fn remove_source(&self, id: u32) {
        let (records, events) = self.ranges_of(id);
        self.remove_runs(&records, &events, Some(id));
        self.selected.set(None);
        self.sources.update(|s| s.retain(|x| x.id != id));
    }

    /// Takes the given runs (sorted, disjoint) out of the merged set, moves every source's
    /// ranges to match and forgets source `forget`'s.
    fn remove_runs(&self, records: &[Range<usize>], events: &[Range<usize>], forget: Option<u32>) {
        if records.is_empty() && events.is_empty() && forget.is_none() {
            return;
        }
        self.owners.update_value(|owners| {
            owners.retain(|o| Some(o.id) != forget);
            for o in owners.iter_mut() {
                o.records = shift_range(&o.records, records);
                o.events = shift_range(&o.events, events);
            }
            owners.retain(|o| !(o.records.is_empty() && o.events.is_empty()));
        });
        self.merged
            .update_value(|m| m.remove_ranges(records, events));
        self.version.update(|v| *v += 1);
    }

    pub fn clear(&self) {
        self.owners.set_value(Vec::new());
        self.merged.set_value(UsageSet::new());
        self.selected.set(None);
        self.version.update(|v| *v += 1);
        self.sources.set(Vec::new());
        self.filter.set(Filter::default());
        self.details_filter.set(Filter::default());
    }
}

/// The carrier of every record in `set`, when they all share one (a mixed fleet names none).
fn only_carrier(set: &UsageSet) -> Option<Carrier> {
    let mut carriers = set.records.iter().map(|r| r.carrier);
    let first = carriers.next()?;
    carriers.all(|c| c == first).then_some(first)
}

/// The browser's current UTC offset in minutes (JS gives it with the opposite sign).
fn browser_offset_minutes() -> i32 {
    -(js_sys::Date::new_0().get_timezone_offset() as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CC: &str = include_str!("../crates/core/tests/fixtures/control-center-example.json");
    const TS: &str = include_str!("../crates/core/tests/fixtures/thingspace-doc-device.json");

    /// A state under its own reactive owner (kept alive by the caller), and the ThingSpace and
    /// Control Center fixtures read into sets.
    fn state_and_sets() -> (Owner, AppState, UsageSet, UsageSet) {
        let owner = Owner::new();
        owner.set();
        let state = AppState::new();
        let (mut ts, mut cc) = (UsageSet::new(), UsageSet::new());
        parse(TS, &ParseOptions::default(), &mut ts).unwrap();
        parse(CC, &ParseOptions::default(), &mut cc).unwrap();
        (owner, state, ts, cc)
    }

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
        // A streamed source growing in batches, interleaved with another source.
        let fleet = state.start_streamed_source("fleet", SourceOrigin::Live);
        let mut batch = UsageSet::new();
        parse(TS, &options, &mut batch).unwrap();
        state.append_to_source(fleet, batch.clone(), &[], None);
        state
            .ingest_text("cc3.json", SourceOrigin::Paste, CC, &options)
            .unwrap();
        state.append_to_source(fleet, batch.clone(), &[], Some("1 subject failed".into()));
        let streamed = state.sources.get_untracked();
        let fleet_source = streamed.iter().find(|s| s.id == fleet).unwrap();
        assert_eq!(fleet_source.records, 2 * batch.len());
        assert_eq!(fleet_source.carrier, Some(Carrier::Thingspace));
        assert_eq!(fleet_source.error.as_deref(), Some("1 subject failed"));
        assert_eq!(state.with_set(|s| s.len()), 45 + 2 * batch.len());

        state.remove_source(sources[0].id);
        assert_eq!(state.with_set(|s| s.len()), 30 + 2 * batch.len());
        state.remove_source(fleet);
        let left = state.with_set(|s| s.records.iter().map(|r| r.carrier).collect::<Vec<_>>());
        assert_eq!(left.len(), 30);
        assert!(left.iter().all(|c| *c == Carrier::ControlCenter));
        state.clear();
        assert_eq!(state.with_set(|s| s.len()), 0);
        assert!(state.sources.get_untracked().is_empty());
    }

    #[test]
    fn a_subject_fetched_again_replaces_its_records_in_a_streamed_source() {
        let (_owner, state, ts, cc) = state_and_sets();
        let options = ParseOptions::default();
        let ts_subject = ts.subjects()[0].clone();
        let cc_subject = cc.subjects()[0].clone();
        // A file source before and after, so the fleet's ranges sit in the middle and move.
        state
            .ingest_text("before.json", SourceOrigin::File, CC, &options)
            .unwrap();
        let fleet = state.start_streamed_source("fleet", SourceOrigin::Live);
        state.append_to_source(fleet, ts.clone(), &[], Some("1 partial".into()));
        state.append_to_source(fleet, cc.clone(), &[], Some("1 partial".into()));
        state
            .ingest_text("after.json", SourceOrigin::File, CC, &options)
            .unwrap();
        let fleet_row = |state: &AppState| {
            let s = state.sources.get_untracked();
            let f = s.iter().find(|s| s.id == fleet).unwrap();
            (f.records, f.subjects, f.error.clone())
        };
        assert_eq!(
            fleet_row(&state),
            (ts.len() + cc.len(), 2, Some("1 partial".into()))
        );
        // Both are fetched again, complete this time: their records are swapped. The SIM is
        // also in the file sources, and stays there.
        state.append_to_source(fleet, ts.clone(), &[ts_subject], None);
        state.append_to_source(fleet, cc.clone(), std::slice::from_ref(&cc_subject), None);
        assert_eq!(fleet_row(&state), (ts.len() + cc.len(), 2, None));
        let total = 2 * cc.len() + ts.len() + cc.len();
        assert_eq!(state.with_set(|s| s.len()), total, "nothing counted twice");
        // The other sources are untouched, and removing the fleet leaves exactly them.
        state.remove_source(fleet);
        let left = state.with_set(|s| {
            s.records
                .iter()
                .map(|r| s.subject(r.subject).cloned())
                .collect::<Vec<_>>()
        });
        assert_eq!(left.len(), 2 * cc.len());
        assert!(left.iter().all(|s| s.as_ref() == Some(&cc_subject)));
        // A fetch still running for the removed source adds nothing (and hears so).
        assert!(!state.append_to_source(fleet, ts.clone(), &[], None));
        assert_eq!(state.with_set(|s| s.len()), 2 * cc.len());
        state.clear();
        assert!(!state.append_to_source(fleet, ts, &[], None));
        assert_eq!(state.with_set(|s| s.len()), 0);
    }

    #[test]
    fn a_streamed_source_names_its_carrier_only_while_all_batches_share_it() {
        let (_owner, state, ts, cc) = state_and_sets();
        let fleet = state.start_streamed_source("fleet", SourceOrigin::Live);
        let carrier = |state: &AppState| {
            state
                .sources
                .get_untracked()
                .iter()
                .find(|s| s.id == fleet)
                .map(|s| (s.carrier, s.records))
                .unwrap()
        };
        state.append_to_source(fleet, ts.clone(), &[], None);
        state.append_to_source(fleet, ts, &[], None);
        assert_eq!(carrier(&state).0, Some(Carrier::Thingspace));
        state.append_to_source(fleet, cc.clone(), &[], None);
        assert_eq!(carrier(&state).0, None, "mixed carriers");
        state.append_to_source(fleet, cc, &[], None);
        assert_eq!(carrier(&state).0, None, "stays mixed");
    }
}
