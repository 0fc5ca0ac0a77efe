//! The subject list users paste or import: CSV, one identifier per row, with an optional carrier
//! and kind column, every identifier validated before anything is sent.

use std::collections::HashSet;

use crate::error::{ParseError, ParseErrorKind};
use crate::ident::validate;
use crate::model::{Carrier, Subject, SubjectKind};
use crate::readers::default_subject_kind;

/// One subject of a fleet list.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FleetEntry {
    /// The carrier to fetch it from.
    pub carrier: Carrier,
    /// The identifier, with its kind.
    pub subject: Subject,
    /// 1-based line in the list, for messages.
    pub line: u64,
}

/// A line of the list that was not taken, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListProblem {
    /// 1-based line in the list.
    pub line: u64,
    /// Why the line was not taken.
    pub message: String,
}

/// The readable part of a list plus what was wrong with the rest: one bad line does not cost
/// the other 9 999.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubjectList {
    /// The subjects taken, in list order.
    pub entries: Vec<FleetEntry>,
    /// The lines not taken.
    pub problems: Vec<ListProblem>,
}

/// Column roles: identifier, carrier, the kind the identifier header names, kind column.
type ColumnRoles = (usize, Option<usize>, Option<SubjectKind>, Option<usize>);

const IDENTIFIER_HEADERS: [&str; 4] = ["identifier", "id", "subject", "device"];

/// Reads a subject list: CSV with a header naming `identifier` (or `id`, or a kind such as
/// `iccid`), `carrier` and `kind` columns in any order; or no header, as `identifier[,carrier[,kind]]`.
/// Rows without a carrier use `default_carrier`. Blank lines and `#` comments are skipped,
/// duplicates dropped. Each bad row becomes a [`ListProblem`] naming its line; an error only when
/// no row is usable.
pub fn parse_subject_list(
    text: &str,
    default_carrier: Option<Carrier>,
) -> Result<SubjectList, ParseError> {
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    // The csv crate does not count comment lines; lines are counted from byte offsets instead.
    let (mut counted_to, mut counted_lines) = (0usize, 1u64);
    let mut line_at = |byte: usize| {
        let mut byte = byte.min(text.len());
        // A record's position can point at the comment or blank lines the reader skipped before it.
        while matches!(text.as_bytes().get(byte), Some(b'#' | b'\n' | b'\r')) {
            byte = text[byte..].find('\n').map_or(text.len(), |n| byte + n + 1);
        }
        if byte > counted_to {
            counted_lines += text.as_bytes()[counted_to..byte]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            counted_to = byte;
        }
        counted_lines
    };
    let mut list = SubjectList::default();
    let mut seen: HashSet<(Carrier, Subject)> = HashSet::new();
    let mut columns: Option<ColumnRoles> = None;
    let mut row = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut row) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| line_at(p.byte() as usize));
                return Err(ParseError::new(
                    ParseErrorKind::Syntax,
                    format!("the subject list is not readable CSV: {e}"),
                )
                .at_line(line));
            }
        }
        let line = row.position().map_or(0, |p| line_at(p.byte() as usize));
        if row.iter().all(str::is_empty) {
            continue;
        }
        let (id_at, carrier_at, header_kind, kind_at) = match columns {
            Some(c) => c,
            None => {
                let names: Vec<String> = row.iter().map(str::to_ascii_lowercase).collect();
                let id_at = names.iter().position(|n| {
                    IDENTIFIER_HEADERS.contains(&n.as_str()) || SubjectKind::parse(n).is_some()
                });
                let roles = match id_at {
                    Some(i) => {
                        let c = (
                            i,
                            names.iter().position(|n| n == "carrier"),
                            SubjectKind::parse(&names[i]),
                            names.iter().position(|n| n == "kind"),
                        );
                        columns = Some(c);
                        continue;
                    }
                    None if names.iter().any(|n| n == "carrier" || n == "kind") => {
                        return Err(ParseError::invalid_field(
                            "identifier",
                            "the header names no identifier column: call it identifier, id, or by its kind (iccid, imsi, ...)",
                        )
                        .at_line(line));
                    }
                    None => (0, Some(1), None, Some(2)),
                };
                columns = Some(roles);
                roles
            }
        };
        let problem = |message: String| ListProblem { line, message };
        let id = row.get(id_at).unwrap_or_default();
        let carrier_text = carrier_at.and_then(|i| row.get(i)).unwrap_or_default();
        let carrier = if carrier_text.is_empty() {
            default_carrier
        } else {
            match Carrier::from_list_name(carrier_text) {
                Some(c) => Some(c),
                None => {
                    list.problems.push(problem(format!(
                        "unknown carrier {carrier_text:?}; use vodafone-vrs, telecomx, thingspace or control-center"
                    )));
                    continue;
                }
            }
        };
        let Some(carrier) = carrier else {
            list.problems.push(problem(format!(
                "{id:?} has no carrier: add a carrier column or choose a default carrier"
            )));
            continue;
        };
        let kind_text = kind_at.and_then(|i| row.get(i)).unwrap_or_default();
        let kind = if kind_text.is_empty() {
            header_kind.unwrap_or_else(|| default_subject_kind(Some(carrier), id))
        } else {
            match SubjectKind::parse(kind_text) {
                Some(k) => k,
                None => {
                    list.problems
                        .push(problem(format!("unknown identifier kind {kind_text:?}")));
                    continue;
                }
            }
        };
        let kinds = carrier.spec().subject_kinds();
        if !kinds.contains(&kind) {
            let known: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            list.problems.push(problem(format!(
                "{} takes {} identifiers, not {}",
                carrier.label(),
                known.join(", "),
                kind.as_str()
            )));
            continue;
        }
        match validate(kind, id) {
            Ok(id) => {
                let subject = Subject::new(kind, id);
                if seen.insert((carrier, subject.clone())) {
                    list.entries.push(FleetEntry {
                        carrier,
                        subject,
                        line,
                    });
                } else {
                    list.problems.push(problem(format!(
                        "{} {} is listed twice; fetched once",
                        carrier.label(),
                        subject
                    )));
                }
            }
            Err(e) => list.problems.push(problem(e.message)),
        }
    }
    if list.entries.is_empty() {
        let first = list.problems.first().map_or(String::new(), |p| {
            format!(" (line {}: {})", p.line, p.message)
        });
        return Err(ParseError::new(
            ParseErrorKind::Empty,
            format!("the subject list has no usable identifier{first}"),
        ));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ICCID: &str = "89148000000000000019";

    #[test]
    fn lists_with_and_without_header() {
        let text = "carrier,identifier\nthingspace,89148000000000000019\n\ncontrol-center, 8988216716970004973\n# a comment\nvodafone,262021234567890\n";
        let list = parse_subject_list(text, None).unwrap();
        assert_eq!(list.problems, vec![]);
        let got: Vec<(Carrier, SubjectKind, &str)> = list
            .entries
            .iter()
            .map(|e| (e.carrier, e.subject.kind, e.subject.id.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (Carrier::Thingspace, SubjectKind::Iccid, ICCID),
                (
                    Carrier::ControlCenter,
                    SubjectKind::Iccid,
                    "8988216716970004973"
                ),
                (Carrier::VodafoneVrs, SubjectKind::Imsi, "262021234567890"),
            ]
        );
        assert_eq!(list.entries[2].line, 6);

        let bare = parse_subject_list(
            "553ca0f477392ee4106e9526\n553CA0F477392EE4106E9527",
            Some(Carrier::Telecomx),
        )
        .unwrap();
        assert_eq!(bare.entries.len(), 2);
        assert_eq!(bare.entries[0].subject.kind, SubjectKind::Account);

        let by_kind = parse_subject_list("mdn,carrier\n5551234567,verizon", None).unwrap();
        assert_eq!(by_kind.entries[0].subject.kind, SubjectKind::Mdn);
    }

    #[test]
    fn bad_rows_are_named_and_the_rest_kept() {
        let text = "identifier,carrier,kind\n89148000000000000012,thingspace,iccid\n89148000000000000019,thingspace,iccid\n89148000000000000019,thingspace,iccid\n262021234567890,telecomx,\nx,nowhere,\n123,thingspace,serial\n";
        let list = parse_subject_list(text, None).unwrap();
        assert_eq!(list.entries.len(), 1);
        let lines: Vec<(u64, &str)> = list
            .problems
            .iter()
            .map(|p| (p.line, p.message.as_str()))
            .collect();
        assert_eq!(lines.len(), 5, "{lines:?}");
        assert!(lines[0].1.contains("check digit"), "{lines:?}");
        assert_eq!(lines[0].0, 2);
        assert!(lines[1].1.contains("listed twice"));
        assert!(
            lines[2].1.contains("hexadecimal") || lines[2].1.contains("24"),
            "{lines:?}"
        );
        assert!(lines[3].1.contains("unknown carrier \"nowhere\""));
        assert!(lines[4].1.contains("unknown identifier kind \"serial\""));

        let none =
            parse_subject_list("identifier\n8914\n", Some(Carrier::ControlCenter)).unwrap_err();
        assert!(none.message.contains("line 2"), "{}", none.message);
        let no_carrier = parse_subject_list(ICCID, None).unwrap_err();
        assert!(
            no_carrier.message.contains("no carrier"),
            "{}",
            no_carrier.message
        );
        let wrong_kind = parse_subject_list(
            "identifier,carrier,kind\n262021234567890,control-center,imsi",
            None,
        )
        .unwrap_err();
        assert!(
            wrong_kind
                .message
                .contains("takes iccid identifiers, not imsi"),
            "{}",
            wrong_kind.message
        );
    }
}
