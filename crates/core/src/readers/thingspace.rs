use crate::error::{ParseError, ParseErrorKind};
use crate::model::UsageSet;
use crate::readers::{ParseOptions, ReadOutcome};

pub fn read(
    _text: &str,
    _options: &ParseOptions,
    _set: &mut UsageSet,
) -> Result<ReadOutcome, ParseError> {
    Err(ParseError::new(
        ParseErrorKind::UnknownFormat,
        "reader under construction",
    ))
}
