use crate::error::{ParseError, ParseErrorKind};
use crate::model::UsageSet;
use crate::readers::{ParseOptions, ReadOutcome};

pub fn is_csv_header(line: &str) -> bool {
    line.starts_with("number,name,ratePlan,year,month")
}

pub fn read_json(
    _text: &str,
    _options: &ParseOptions,
    _set: &mut UsageSet,
) -> Result<ReadOutcome, ParseError> {
    Err(ParseError::new(
        ParseErrorKind::UnknownFormat,
        "reader under construction",
    ))
}

pub fn read_csv(
    _text: &str,
    _options: &ParseOptions,
    _set: &mut UsageSet,
) -> Result<ReadOutcome, ParseError> {
    Err(ParseError::new(
        ParseErrorKind::UnknownFormat,
        "reader under construction",
    ))
}
