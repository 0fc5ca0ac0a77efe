//! Human formatting of quantities and dates, shared by the KPI cards, chart axes and table.

use crate::model::{Granularity, Unit};

/// Binary (KiB, MiB: powers of 1024) or decimal (kB, MB: powers of 1000) byte units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ByteBase {
    /// Powers of 1024: KiB, MiB, GiB ... (the default).
    #[default]
    Binary,
    /// Powers of 1000: kB, MB, GB ...
    Decimal,
}

/// `1.50 MiB`, `12.3 GB`, `512 B`: three significant digits.
#[must_use]
pub fn format_bytes(bytes: u64, base: ByteBase) -> String {
    let (step, units): (f64, [&str; 7]) = match base {
        ByteBase::Binary => (1024.0, ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]),
        ByteBase::Decimal => (1000.0, ["B", "kB", "MB", "GB", "TB", "PB", "EB"]),
    };
    if (bytes as f64) < step {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= step && unit < units.len() - 1 {
        value /= step;
        unit += 1;
    }
    format!("{} {}", three_digits(value), units[unit])
}

fn three_digits(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// Voice time: `m:ss` under an hour, `h:mm:ss` from an hour on.
#[must_use]
pub fn format_duration(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, (seconds / 60) % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// `12,345`.
#[must_use]
pub fn format_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A quantity in its unit for people: bytes by [`format_bytes`], seconds by
/// [`format_duration`], messages by [`format_count`].
#[must_use]
pub fn format_quantity(quantity: u64, unit: Unit, base: ByteBase) -> String {
    match unit {
        Unit::Bytes => format_bytes(quantity, base),
        Unit::Seconds => format_duration(quantity),
        Unit::Messages => format_count(quantity),
    }
}

/// `2026-09-01` as Unix seconds at 00:00 UTC (date inputs, URL parameters).
#[must_use]
pub fn parse_day(text: &str) -> Option<i64> {
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()?
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc().timestamp())
}

/// Unix seconds as the UTC date `2026-09-01` (empty when out of range).
#[must_use]
pub fn format_day(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// A date as wide as its granularity, in UTC or at a fixed offset (the browser's local offset).
#[must_use]
pub fn format_date(unix: i64, granularity: Granularity, offset_minutes: i32) -> String {
    let Some(t) = chrono::DateTime::from_timestamp(unix + i64::from(offset_minutes) * 60, 0) else {
        return unix.to_string();
    };
    match granularity {
        Granularity::Month => t.format("%b %Y").to_string(),
        Granularity::Day | Granularity::Cycle => t.format("%Y-%m-%d").to_string(),
        Granularity::Event => t.format("%Y-%m-%d %H:%M:%S").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_in_both_bases() {
        assert_eq!(format_bytes(0, ByteBase::Binary), "0 B");
        assert_eq!(format_bytes(512, ByteBase::Binary), "512 B");
        assert_eq!(format_bytes(1536, ByteBase::Binary), "1.50 KiB");
        assert_eq!(format_bytes(12_300_000_000, ByteBase::Decimal), "12.3 GB");
        assert_eq!(format_bytes(u64::MAX, ByteBase::Binary), "16.0 EiB");
    }

    #[test]
    fn durations_and_counts() {
        assert_eq!(format_duration(7), "0:07");
        assert_eq!(format_duration(12433), "3:27:13");
        assert_eq!(format_count(1234567), "1,234,567");
        assert_eq!(format_count(12), "12");
    }

    #[test]
    fn days_round_trip() {
        assert_eq!(parse_day("2015-01-01"), Some(1420070400));
        assert_eq!(format_day(1420070400), "2015-01-01");
        assert_eq!(parse_day("2015-13-01"), None);
    }

    #[test]
    fn dates_by_granularity() {
        assert_eq!(format_date(1420070400, Granularity::Month, 0), "Jan 2015");
        assert_eq!(format_date(1420070400, Granularity::Day, -60), "2014-12-31");
    }
}
