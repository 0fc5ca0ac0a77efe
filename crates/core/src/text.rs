//! Bytes of a file to text. Spreadsheets save CSV in the encoding of the machine: Excel on a
//! Danish or German Windows writes Windows-1252, "Unicode text" is UTF-16 LE with a BOM, "CSV
//! UTF-8" has a UTF-8 BOM. Files are read as bytes and decoded here the way Excel sniffs them:
//! by BOM (UTF-8, UTF-16 LE/BE), else UTF-8 when the bytes are valid UTF-8, else UTF-16 when
//! every other byte is zero, else Windows-1252, with a warning naming the encoding used.

use serde::Serialize;

use crate::error::{ParseError, ParseErrorKind};
use crate::model::Warning;

/// The largest file the app reads: files are read whole into the page's memory (wasm32 has 4 GiB
/// at most, and records take more room than their text).
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// "the file is 600.0 MB; the limit is 512 MB": what the app says of a file it will not read.
#[must_use]
pub fn too_large(what: &str, size: u64) -> String {
    let mb = |b: u64| b as f64 / (1024.0 * 1024.0);
    format!(
        "{what} is {:.1} MB; the limit is {:.0} MB, so it was not read (split it, or load fewer months)",
        mb(size),
        mb(MAX_FILE_BYTES)
    )
}

/// The encoding a body was decoded from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Encoding {
    /// UTF-8, with or without a BOM.
    #[serde(rename = "utf-8")]
    Utf8,
    /// UTF-16 little-endian (BOM `FF FE`, or guessed from where the zero bytes are).
    #[serde(rename = "utf-16le")]
    Utf16Le,
    /// UTF-16 big-endian (BOM `FE FF`, or guessed from where the zero bytes are).
    #[serde(rename = "utf-16be")]
    Utf16Be,
    /// Windows-1252, when nothing else fits.
    #[serde(rename = "windows-1252")]
    Windows1252,
}

impl Encoding {
    /// A name for people: `UTF-8`, `UTF-16 LE`, `UTF-16 BE`, `Windows-1252`.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf16Le => "UTF-16 LE",
            Encoding::Utf16Be => "UTF-16 BE",
            Encoding::Windows1252 => "Windows-1252",
        }
    }
}

/// A decoded body: its text (without BOM), the encoding, and a warning when the encoding was
/// guessed rather than declared by a BOM or implied by valid UTF-8.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    /// The decoded text, without BOM.
    pub text: String,
    /// The encoding it was decoded from.
    pub encoding: Encoding,
    /// Set when the encoding was guessed; names the encoding used.
    pub warning: Option<Warning>,
}

/// Decodes a file's bytes (see the module documentation). Errors name the byte offset of an
/// invalid sequence in a file that declared its encoding with a BOM.
pub fn decode(bytes: &[u8]) -> Result<Decoded, ParseError> {
    let plain = |text: String, encoding| Decoded {
        text,
        encoding,
        warning: None,
    };
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return match std::str::from_utf8(rest) {
            Ok(text) => Ok(plain(text.to_owned(), Encoding::Utf8)),
            Err(e) => Err(invalid(
                "UTF-8 (it starts with a UTF-8 byte order mark)",
                e.valid_up_to() + 3,
            )),
        };
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, Encoding::Utf16Le, 2).map(|t| plain(t, Encoding::Utf16Le));
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, Encoding::Utf16Be, 2).map(|t| plain(t, Encoding::Utf16Be));
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        if !looks_like_utf16(bytes) {
            return Ok(plain(text.to_owned(), Encoding::Utf8));
        }
    }
    if looks_like_utf16(bytes) {
        // ASCII text in UTF-16 has its zero bytes second (LE) or first (BE).
        let encoding = if bytes.first() == Some(&0) {
            Encoding::Utf16Be
        } else {
            Encoding::Utf16Le
        };
        let text = utf16(bytes, encoding, 0)?;
        return Ok(Decoded {
            text,
            encoding,
            warning: Some(Warning::new(format!(
                "the file has no byte order mark; read as {} because every other byte is zero",
                encoding.label()
            ))),
        });
    }
    let text: String = bytes.iter().map(|&b| windows_1252(b)).collect();
    Ok(Decoded {
        text,
        encoding: Encoding::Windows1252,
        warning: Some(Warning::new(
            "the file is not valid UTF-8; read as Windows-1252 (what Excel writes on Western \
             European Windows); check that letters such as æ, ø, å read right",
        )),
    })
}

fn invalid(what: &str, offset: usize) -> ParseError {
    ParseError::new(
        ParseErrorKind::Syntax,
        format!("the file is not valid {what}: invalid bytes at byte {offset}"),
    )
}

/// At least a third of the first 256 bytes are zero: no 8-bit text file looks like that.
fn looks_like_utf16(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(256)];
    head.len() >= 2 && head.iter().filter(|&&b| b == 0).count() * 3 >= head.len()
}

fn utf16(bytes: &[u8], encoding: Encoding, offset: usize) -> Result<String, ParseError> {
    let what = encoding.label();
    if !bytes.len().is_multiple_of(2) {
        return Err(ParseError::new(
            ParseErrorKind::Syntax,
            format!(
                "the file is not valid {what}: it has an odd number of bytes ({})",
                bytes.len() + offset
            ),
        ));
    }
    let units = bytes.chunks_exact(2).map(|pair| match encoding {
        Encoding::Utf16Be => u16::from_be_bytes([pair[0], pair[1]]),
        _ => u16::from_le_bytes([pair[0], pair[1]]),
    });
    let mut text = String::with_capacity(bytes.len() / 2);
    for (i, c) in char::decode_utf16(units).enumerate() {
        match c {
            Ok(c) => text.push(c),
            Err(_) => return Err(invalid(what, offset + i * 2)),
        }
    }
    Ok(text)
}

/// One Windows-1252 byte as a char (the WHATWG table: 0x80–0x9F are typographic characters,
/// the five it leaves undefined map to the C1 control of the same number).
fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boms_decide() {
        let d = decode(b"\xEF\xBB\xBFnumber;name").unwrap();
        assert_eq!(
            (d.text.as_str(), d.encoding),
            ("number;name", Encoding::Utf8)
        );
        assert!(d.warning.is_none());
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("Grønland\t1".encode_utf16().flat_map(|u| u.to_le_bytes()))
            .collect();
        let d = decode(&le).unwrap();
        assert_eq!(
            (d.text.as_str(), d.encoding),
            ("Grønland\t1", Encoding::Utf16Le)
        );
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("a,b".encode_utf16().flat_map(|u| u.to_be_bytes()))
            .collect();
        assert_eq!(decode(&be).unwrap().text, "a,b");
    }

    #[test]
    fn utf16_without_bom_is_recognised_and_warned() {
        let le: Vec<u8> = "year\tmonth"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let d = decode(&le).unwrap();
        assert_eq!(
            (d.text.as_str(), d.encoding),
            ("year\tmonth", Encoding::Utf16Le)
        );
        assert!(d.warning.unwrap().message.contains("UTF-16 LE"));
    }

    #[test]
    fn windows_1252_when_not_utf8() {
        let d = decode(b"Voice roaming F\xE6r\xF8erne secs;\x80 5").unwrap();
        assert_eq!(d.text, "Voice roaming Færøerne secs;€ 5");
        assert_eq!(d.encoding, Encoding::Windows1252);
        assert!(d.warning.unwrap().message.contains("Windows-1252"));
        let utf8 = decode("Færøerne".as_bytes()).unwrap();
        assert_eq!((utf8.encoding, utf8.warning), (Encoding::Utf8, None));
    }

    #[test]
    fn broken_declared_encodings_name_the_offset() {
        let err = decode(b"\xEF\xBB\xBFab\xFF").unwrap_err();
        assert!(err.message.contains("byte 5"), "{}", err.message);
        let err = decode(&[0xFF, 0xFE, 0x00, 0xD8, 0x41, 0x00]).unwrap_err();
        assert!(err.message.contains("UTF-16 LE"), "{}", err.message);
        let err = decode(&[0xFF, 0xFE, 0x41]).unwrap_err();
        assert!(err.message.contains("odd number"), "{}", err.message);
    }
}
