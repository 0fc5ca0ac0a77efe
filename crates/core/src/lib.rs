//! usagelens' platform-free core: the normalized usage model, the four carrier readers and
//! aggregation. Nothing here touches the browser, so all of
//! it runs under native `cargo test`.

#![warn(missing_docs)]

pub mod aggregate;
#[cfg(feature = "bench")]
pub mod bench;
pub mod carriers;
mod error;
pub mod export;
pub mod fetch;
pub mod fleet;
pub mod ident;
pub mod limits;
mod model;
pub mod portal;
mod readers;
pub mod record_output;
pub mod sorting;
pub mod text;
pub mod units;
pub mod view_state;

// The root API: the usage model, reading bodies, and the error a reader returns. The modules
// above are the areas a page or test uses beyond that (aggregation, fetching, fleets, ...).
pub use error::{ParseError, ParseErrorKind};
pub use model::{
    format_timestamp, shift_range, Carrier, Context, Direction, Granularity, Network, Record,
    RecordJson, RecordStore, Roaming, Service, Subject, SubjectKind, Sym, Unit, UsageEvent,
    UsageSet, Warning,
};
pub use readers::{
    default_subject_kind, detect, guess_subject_kind, parse, Format, ParseOptions, ParseReport,
    ReadOutcome,
};
