//! Identifier validation: every identifier is checked before a request is sent, with a message
//! that names the kind, the value and what is wrong.

use std::fmt;

use crate::model::SubjectKind;

/// What is wrong with an identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentErrorKind {
    /// Nothing was entered (or only white space).
    Empty,
    /// Characters the kind does not allow (letters in a decimal id, inner spaces...).
    BadCharacters,
    /// Too short or too long.
    BadLength,
    /// A Luhn check digit that does not match.
    BadCheckDigit,
}

/// Why [`validate`] refused an identifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentError {
    /// What is wrong.
    pub kind: IdentErrorKind,
    /// The kind the identifier was checked as.
    pub subject_kind: SubjectKind,
    /// For people: names the kind, the value and what is wrong.
    pub message: String,
}

impl fmt::Display for IdentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for IdentError {}

/// The Luhn check digit that makes `body` + digit valid.
#[must_use]
pub fn luhn_check_digit(body: &str) -> Option<u8> {
    let mut sum = 0u32;
    for (i, c) in body.bytes().rev().enumerate() {
        let d = u32::from(c.checked_sub(b'0').filter(|d| *d <= 9)?);
        sum += if i % 2 == 0 {
            let doubled = d * 2;
            if doubled > 9 {
                doubled - 9
            } else {
                doubled
            }
        } else {
            d
        };
    }
    Some(((10 - sum % 10) % 10) as u8)
}

fn fail(kind: IdentErrorKind, subject_kind: SubjectKind, message: String) -> IdentError {
    IdentError {
        kind,
        subject_kind,
        message,
    }
}

fn name(kind: SubjectKind) -> &'static str {
    match kind {
        SubjectKind::Imsi => "IMSI",
        SubjectKind::Iccid => "ICCID",
        SubjectKind::Msisdn => "MSISDN",
        SubjectKind::Imei => "IMEI",
        SubjectKind::Eid => "EID",
        SubjectKind::Mdn => "MDN",
        SubjectKind::Meid => "MEID",
        SubjectKind::Esn => "ESN",
        SubjectKind::Account => "TelecomX account id",
        SubjectKind::Label => "device label",
    }
}

fn digits(
    kind: SubjectKind,
    id: &str,
    lengths: std::ops::RangeInclusive<usize>,
) -> Result<(), IdentError> {
    let n = name(kind);
    if let Some(c) = id.chars().find(|c| !c.is_ascii_digit()) {
        return Err(fail(
            IdentErrorKind::BadCharacters,
            kind,
            format!("{n} {id:?} must be digits only, found {c:?}"),
        ));
    }
    if !lengths.contains(&id.len()) {
        let expected = if lengths.start() == lengths.end() {
            format!("{}", lengths.start())
        } else {
            format!("{} to {}", lengths.start(), lengths.end())
        };
        return Err(fail(
            IdentErrorKind::BadLength,
            kind,
            format!("{n} {id:?} has {} digits; expected {expected}", id.len()),
        ));
    }
    Ok(())
}

fn luhn(kind: SubjectKind, id: &str) -> Result<(), IdentError> {
    let (body, last) = id.split_at(id.len() - 1);
    let expected = luhn_check_digit(body).unwrap_or(0);
    if last.as_bytes()[0] - b'0' != expected {
        return Err(fail(
            IdentErrorKind::BadCheckDigit,
            kind,
            format!(
                "{} {id:?} fails its check digit: the last digit should be {expected} (a typo?)",
                name(kind)
            ),
        ));
    }
    Ok(())
}

/// An encrypted IMSI (Vodafone accepts one in place of the IMSI): 16 to 128 characters of
/// base64url or hex, not all digits (a digits-only value is a mistyped IMSI).
fn encrypted_imsi(id: &str) -> bool {
    (16..=128).contains(&id.len())
        && !id.bytes().all(|b| b.is_ascii_digit())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'=' | b'+' | b'/'))
}

/// Checks an identifier of `kind` and returns it trimmed.
///
/// Lengths follow the documents: IMSI 15 digits (or an encrypted IMSI); ICCID 18 to 20 digits with
/// a Luhn check digit; IMEI 15 digits with Luhn, or a 16-digit IMEISV; MEID 14 hex; ESN 11 digits;
/// MDN 10 digits; MSISDN 11 digits (ThingSpace) or E.164 `+` and up to 15 digits; EID 32 digits;
/// TelecomX account 24 hex characters; label `name=value`, name up to 20 and value up to 50.
pub fn validate(kind: SubjectKind, id: &str) -> Result<String, IdentError> {
    let id = id.trim();
    let n = name(kind);
    if id.is_empty() {
        return Err(fail(IdentErrorKind::Empty, kind, format!("enter the {n}")));
    }
    if kind != SubjectKind::Label && id.contains(char::is_whitespace) {
        return Err(fail(
            IdentErrorKind::BadCharacters,
            kind,
            format!("{n} {id:?} contains spaces; remove them"),
        ));
    }
    match kind {
        SubjectKind::Imsi => {
            if !encrypted_imsi(id) {
                digits(kind, id, 15..=15)?;
            }
        }
        SubjectKind::Iccid => {
            digits(kind, id, 18..=20)?;
            luhn(kind, id)?;
        }
        SubjectKind::Imei => {
            digits(kind, id, 15..=16)?;
            if id.len() == 15 {
                luhn(kind, id)?;
            }
        }
        SubjectKind::Esn => digits(kind, id, 11..=11)?,
        SubjectKind::Mdn => digits(kind, id, 10..=10)?,
        SubjectKind::Eid => digits(kind, id, 32..=32)?,
        SubjectKind::Msisdn => match id.strip_prefix('+') {
            Some(rest) => digits(kind, rest, 8..=15)?,
            None => digits(kind, id, 11..=11)?,
        },
        SubjectKind::Meid | SubjectKind::Account => {
            let want = if kind == SubjectKind::Meid { 14 } else { 24 };
            if let Some(c) = id.chars().find(|c| !c.is_ascii_hexdigit()) {
                return Err(fail(
                    IdentErrorKind::BadCharacters,
                    kind,
                    format!("{n} {id:?} must be hexadecimal (0-9, A-F), found {c:?}"),
                ));
            }
            if id.len() != want {
                return Err(fail(
                    IdentErrorKind::BadLength,
                    kind,
                    format!("{n} {id:?} has {} characters; expected {want}", id.len()),
                ));
            }
        }
        SubjectKind::Label => {
            let Some((label, value)) = id.split_once('=') else {
                return Err(fail(
                    IdentErrorKind::BadCharacters,
                    kind,
                    format!("{n} {id:?} must be written name=value, e.g. VIN=VINMwertty9"),
                ));
            };
            let (label, value) = (label.trim(), value.trim());
            if label.is_empty()
                || label.chars().count() > 20
                || value.is_empty()
                || value.chars().count() > 50
            {
                return Err(fail(
                    IdentErrorKind::BadLength,
                    kind,
                    format!("{n} {id:?}: the name takes 1 to 20 characters and the value 1 to 50"),
                ));
            }
            return Ok(format!("{label}={value}"));
        }
    }
    Ok(id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_digits() {
        assert_eq!(luhn_check_digit("7992739871"), Some(3));
        assert_eq!(luhn_check_digit("89011704258018735"), Some(5));
        assert_eq!(luhn_check_digit("12a"), None);
    }

    #[test]
    fn valid_identifiers_of_every_kind() {
        for (kind, id) in [
            (SubjectKind::Imsi, " 262021234567890 "),
            (SubjectKind::Imsi, "eyJhbGciOiJIUzI1NiJ9-abc_DEF"),
            (SubjectKind::Iccid, "8901170425801873534"),
            (SubjectKind::Imei, "490154203237518"),
            (SubjectKind::Imei, "4901542032375101"),
            (SubjectKind::Meid, "A0000012345678"),
            (SubjectKind::Esn, "12345678901"),
            (SubjectKind::Mdn, "5551234567"),
            (SubjectKind::Msisdn, "15551234567"),
            (SubjectKind::Msisdn, "+4571919999"),
            (SubjectKind::Eid, "50684915885088839315521399821675"),
            (SubjectKind::Account, "553ca0f477392ee4106e9526"),
            (SubjectKind::Label, "VIN=VINMwertty9"),
        ] {
            assert!(
                validate(kind, id).is_ok(),
                "{kind:?} {id}: {:?}",
                validate(kind, id)
            );
        }
        assert_eq!(
            validate(SubjectKind::Imsi, " 262021234567890 ").unwrap(),
            "262021234567890"
        );
    }

    #[test]
    fn invalid_identifiers_say_what_is_wrong() {
        let cases = [
            (
                SubjectKind::Imsi,
                "26202123456789",
                IdentErrorKind::BadLength,
                "expected 15",
            ),
            (
                SubjectKind::Imsi,
                "",
                IdentErrorKind::Empty,
                "enter the IMSI",
            ),
            (
                SubjectKind::Iccid,
                "8901170425801873532",
                IdentErrorKind::BadCheckDigit,
                "should be 4",
            ),
            (
                SubjectKind::Iccid,
                "8901 1704",
                IdentErrorKind::BadCharacters,
                "spaces",
            ),
            (
                SubjectKind::Imei,
                "490154203237519",
                IdentErrorKind::BadCheckDigit,
                "should be 8",
            ),
            (
                SubjectKind::Meid,
                "G0000012345678",
                IdentErrorKind::BadCharacters,
                "hexadecimal",
            ),
            (
                SubjectKind::Esn,
                "1234567890",
                IdentErrorKind::BadLength,
                "expected 11",
            ),
            (
                SubjectKind::Account,
                "553ca0f477392ee4106e952",
                IdentErrorKind::BadLength,
                "expected 24",
            ),
            (
                SubjectKind::Label,
                "VIN",
                IdentErrorKind::BadCharacters,
                "name=value",
            ),
            (
                SubjectKind::Label,
                "AVeryLongLabelNameOverTwenty=x",
                IdentErrorKind::BadLength,
                "1 to 20",
            ),
        ];
        for (kind, id, error, text) in cases {
            let e = validate(kind, id).unwrap_err();
            assert_eq!(e.kind, error, "{kind:?} {id}: {e}");
            assert!(e.message.contains(text), "{kind:?} {id}: {e}");
        }
    }
}
