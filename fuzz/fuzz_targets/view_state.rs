//! The view-state URL parser (`ViewState::from_query`) on any query string.
//!
//! Besides not panicking: the view read from any query, written back with `to_query` and read
//! again, is the same view with no warnings (what the address bar shows reloads as it was).
//!
//! Input: the query, as UTF-8 with replacement characters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use usagelens_core::view_state::ViewState;

fuzz_target!(|data: &[u8]| {
    let query = String::from_utf8_lossy(data);
    let (view, _warnings) = ViewState::from_query(&query);
    let written = view.to_query();
    let (again, warnings) = ViewState::from_query(&written);
    assert!(
        warnings.is_empty(),
        "{written:?} reads with warnings: {warnings:?}"
    );
    assert_eq!(
        again, view,
        "{query:?} -> {written:?} reads as another view"
    );
    assert_eq!(again.to_query(), written, "writing is not stable");
});
