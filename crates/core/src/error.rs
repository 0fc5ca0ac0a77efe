//! Errors from reading a carrier body. Like rust-csv: one error type with a kind enum, and a
//! message that says what is wrong and where, because the dashboard shows it to people verbatim.

use std::fmt;

/// The longest message an error or warning carries: values are echoed cut to about 80 characters
/// (`json_util::echo`), and this bounds whatever else a body could blow up (a 200 MB key).
pub const MAX_MESSAGE_CHARS: usize = 600;
/// The longest field path an error or warning names.
pub const MAX_FIELD_CHARS: usize = 200;

/// `text` cut to `max` characters, ending in "…" when cut.
#[must_use]
pub fn bounded(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text,
        Some((at, _)) => {
            let mut cut = text;
            cut.truncate(at);
            cut.push('…');
            cut
        }
    }
}

/// What kind of failure a [`ParseError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// The body is empty or only white space.
    Empty,
    /// The body's shape matches none of the known formats (the message lists them).
    UnknownFormat,
    /// Not well-formed JSON or CSV (position given).
    Syntax,
    /// Well-formed, but a field is missing, has the wrong type, or an impossible value.
    InvalidField,
    /// The caller forced a carrier whose format does not match the body.
    CarrierMismatch,
    /// The options passed by the caller are wrong (unknown carrier name, bad subject).
    InvalidOption,
}

/// Why a body could not be read: a kind, a message for people, and where in the body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// What kind of failure this is.
    pub kind: ParseErrorKind,
    /// What is wrong, for people (cut to [`MAX_MESSAGE_CHARS`] characters).
    pub message: String,
    /// 1-based line and column in the body, where known.
    pub line: Option<u64>,
    /// 1-based column in the body, where known (with `line`).
    pub column: Option<u64>,
    /// The JSON path or CSV column, e.g. `usageHistory[2].bytesUsed`.
    pub field: Option<String>,
}

impl ParseError {
    /// An error of `kind` saying `message` (cut to [`MAX_MESSAGE_CHARS`]), without position or
    /// field.
    #[must_use]
    pub fn new(kind: ParseErrorKind, message: impl Into<String>) -> ParseError {
        ParseError {
            kind,
            message: bounded(message.into(), MAX_MESSAGE_CHARS),
            line: None,
            column: None,
            field: None,
        }
    }

    /// Sets the 1-based line and column.
    #[must_use]
    pub fn at(mut self, line: u64, column: u64) -> ParseError {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    /// Sets the 1-based line.
    #[must_use]
    pub fn at_line(mut self, line: u64) -> ParseError {
        self.line = Some(line);
        self
    }

    /// Names the JSON path or CSV column (cut to [`MAX_FIELD_CHARS`]).
    #[must_use]
    pub fn field(mut self, field: impl Into<String>) -> ParseError {
        self.field = Some(bounded(field.into(), MAX_FIELD_CHARS));
        self
    }

    /// An invalid or missing field, named by its path.
    #[must_use]
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> ParseError {
        ParseError::new(ParseErrorKind::InvalidField, message).field(field)
    }

    /// A serde_json error, with its line and column.
    #[must_use]
    pub fn from_json(err: &serde_json::Error, what: &str) -> ParseError {
        let kind = match err.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                ParseErrorKind::Syntax
            }
            _ => ParseErrorKind::InvalidField,
        };
        // serde_json's own message ends in "at line L column C"; keep only the reason.
        let text = err.to_string();
        let reason = text
            .rsplit_once(" at line ")
            .map_or(text.as_str(), |(reason, _)| reason);
        ParseError::new(kind, format!("{what}: {reason}"))
            .at(err.line() as u64, err.column() as u64)
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(field) = &self.field {
            write!(f, " (field `{field}`)")?;
        }
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, " at line {l}, column {c}"),
            (Some(l), None) => write!(f, " at line {l}"),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for ParseError {}
