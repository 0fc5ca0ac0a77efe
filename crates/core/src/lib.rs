//! usagelens' platform-free core: the normalized usage model, the four carrier readers and
//! aggregation. Nothing here touches the browser, so all of
//! it runs under native `cargo test`.

pub mod aggregate;
#[cfg(feature = "bench")]
pub mod bench;
pub mod error;
pub mod export;
pub mod fetch;
pub mod fleet;
pub mod ident;
pub mod limits;
pub mod model;
pub mod portal;
pub mod readers;
pub mod record_output;
pub mod sorting;
pub mod text;
pub mod units;
pub mod view_state;

pub use error::{ParseError, ParseErrorKind};
pub use model::*;
pub use readers::{detect, parse, Format, ParseOptions, ParseReport};
