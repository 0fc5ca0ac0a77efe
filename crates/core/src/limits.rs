//! Size and time limits on what comes in from outside, in one place. Each is refused with a
//! message that says the size met and the limit ([`size_text`]), before the input is read whole.

/// Most bytes read from one carrier answer. The largest documented page (ThingSpace, 500 rows of
/// usage) is under 1 MiB, so this leaves room for carriers that answer whole years at once while
/// keeping a broken or hostile upstream from filling the page's memory. Checked against the
/// announced `Content-Length` before the body is read, and again while the body streams in.
pub const MAX_ANSWER_BYTES: u64 = 64 * 1024 * 1024;

/// Most bytes of pasted text read. A paste of this size already makes the text box itself slow;
/// larger inputs belong in a file.
pub const MAX_PASTED_TEXT_BYTES: u64 = 16 * 1024 * 1024;

/// Longest wait a carrier's `Retry-After` can impose, for a single fetch and for the fleet's
/// rate limiter alike: long enough for a per-minute quota's window to move on, short enough
/// that a wrong or hostile value (`Retry-After: 999999` is 11 days) cannot hold the carrier.
pub const MAX_RETRY_AFTER_MS: u64 = 30_000;

/// A token that lives less than this is used for one request only (see `Token::is_fresh`).
pub const TOKEN_EXPIRY_MARGIN_MS: u64 = 60_000;

/// Most access tokens one fetch job asks for (the first, and one renewal after expiry or
/// refusal); a carrier issuing tokens that expire at once would otherwise be asked forever.
pub const MAX_TOKEN_FETCHES_PER_JOB: u32 = 2;

/// `bytes` for a message: "70.0 MiB (73400320 bytes)", or "812 bytes" below a KiB.
#[must_use]
pub fn size_text(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if bytes < 1024 {
        format!("{bytes} bytes")
    } else if b < KIB * KIB {
        format!("{:.1} KiB ({bytes} bytes)", b / KIB)
    } else if b < KIB * KIB * KIB {
        format!("{:.1} MiB ({bytes} bytes)", b / (KIB * KIB))
    } else {
        format!("{:.1} GiB ({bytes} bytes)", b / (KIB * KIB * KIB))
    }
}

/// A limit for a message: "64 MiB".
#[must_use]
pub fn limit_text(bytes: u64) -> String {
    if bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        size_text(bytes)
    }
}

/// Why pasted text of `bytes` is refused, if it is.
#[must_use]
pub fn pasted_text_problem(bytes: u64) -> Option<String> {
    (bytes > MAX_PASTED_TEXT_BYTES).then(|| {
        format!(
            "the pasted text is {}, over the limit of {} for pasted text: save it to a file and open the file instead",
            size_text(bytes),
            limit_text(MAX_PASTED_TEXT_BYTES)
        )
    })
}

/// At most this many warnings are kept per body, so a body with a million odd rows neither fills
/// the page with list items nor the host's events; the rest are counted by kind.
pub const MAX_WARNINGS: usize = 100;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_limits_read_as_text() {
        assert_eq!(size_text(812), "812 bytes");
        assert_eq!(size_text(2048), "2.0 KiB (2048 bytes)");
        assert_eq!(size_text(73_400_320), "70.0 MiB (73400320 bytes)");
        assert_eq!(limit_text(MAX_ANSWER_BYTES), "64 MiB");
    }

    #[test]
    fn pasted_text_over_the_limit_is_refused_with_its_size() {
        assert_eq!(pasted_text_problem(MAX_PASTED_TEXT_BYTES), None);
        let message = pasted_text_problem(MAX_PASTED_TEXT_BYTES + 1).unwrap();
        assert!(message.contains("16.0 MiB (16777217 bytes)"), "{message}");
        assert!(message.contains("limit of 16 MiB"), "{message}");
    }
}
