//! The string formats apibuilder's primitives carry on the wire: `uuid`,
//! `date-iso8601`, `date-time-iso8601`, exactly as the OpenAPI export documents
//! them (JSON Schema's `uuid`, `date` and `date-time` formats).
//!
//! Hand-written because the parsers the decoded types use are more lenient:
//! `uuid` reads `urn:uuid:…`, braces and the 32-digit form, chrono reads spaces,
//! signs and one-digit months. Validation refuses those ([`read_leniently`] tells
//! the fast decoding pass when the walk must decide).

use chrono::{DateTime, FixedOffset, NaiveDate};
use uuid::Uuid;

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex digits of either case.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A calendar date `YYYY-MM-DD` (the day checked against the month, leap years included).
pub fn is_date(s: &str) -> bool {
    parse_date(s.as_bytes()).is_some()
}

/// An RFC 3339 timestamp: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, `t` and `z`
/// in either case. No leap second (`:60`) and no space for the `T`, as JSON Schema's
/// `date-time` checkers refuse them.
pub fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || parse_date(&b[..10]).is_none() || !matches!(b[10], b'T' | b't') {
        return false;
    }
    let Some(rest) = parse_time(&b[11..]) else {
        return false;
    };
    match rest {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            two_digits(*h1, *h2).is_some_and(|h| h <= 23)
                && two_digits(*m1, *m2).is_some_and(|m| m <= 59)
        }
        _ => false,
    }
}

/// `HH:MM:SS[.fraction]`; returns what follows.
fn parse_time(b: &[u8]) -> Option<&[u8]> {
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let hour = two_digits(b[0], b[1])?;
    let minute = two_digits(b[3], b[4])?;
    let second = two_digits(b[6], b[7])?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = &b[8..];
    if let [b'.', tail @ ..] = rest {
        let digits = tail.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        rest = &tail[digits..];
    }
    Some(rest)
}

/// Whether the decoded types' parsers read `s` as a uuid, date or date-time the
/// wire format refuses: then only the validation walk can tell whether `s` was
/// meant as one (see [`crate::strict`]).
pub fn read_leniently(s: &str) -> bool {
    if matches!(s.len(), 32 | 36 | 38 | 45) && !is_uuid(s) && Uuid::try_parse(s).is_ok() {
        return true;
    }
    // chrono reads dates and date-times that start with a digit, a sign or a space.
    let plausible = s
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-') || b.is_ascii_whitespace());
    plausible
        && ((!is_date(s) && s.parse::<NaiveDate>().is_ok())
            || (!is_date_time(s) && s.parse::<DateTime<FixedOffset>>().is_ok()))
}

fn parse_date(b: &[u8]) -> Option<()> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = b[..4].iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })?;
    let month = two_digits(b[5], b[6])?;
    let day = two_digits(b[8], b[9])?;
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days).contains(&day).then_some(())
}

fn two_digits(a: u8, b: u8) -> Option<u32> {
    (a.is_ascii_digit() && b.is_ascii_digit())
        .then(|| u32::from(a - b'0') * 10 + u32::from(b - b'0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids() {
        assert!(is_uuid("123e4567-e89b-12d3-a456-426614174000"));
        assert!(is_uuid("123E4567-E89B-12D3-A456-426614174000"));
        assert!(!is_uuid("123e4567e89b12d3a456426614174000"));
        assert!(!is_uuid("123e4567-e89b-12d3-a456-42661417400g"));
        assert!(!is_uuid(""));
    }

    #[test]
    fn dates() {
        for ok in ["2024-02-29", "2000-02-29", "1999-12-31", "0001-01-01"] {
            assert!(is_date(ok), "{ok}");
        }
        for bad in [
            "2023-02-29",
            "1900-02-29",
            "2024-13-01",
            "2024-04-31",
            "2024-1-01",
            "24-01-01",
            "2024-01-00",
        ] {
            assert!(!is_date(bad), "{bad}");
        }
    }

    #[test]
    fn date_times() {
        for ok in [
            "2024-01-15T10:30:00Z",
            "2024-01-15t10:30:00z",
            "2024-01-15T10:30:00.123456-05:30",
        ] {
            assert!(is_date_time(ok), "{ok}");
        }
        for bad in [
            "2024-01-15",
            "2024-01-15T10:30:00",
            "2024-01-15T24:00:00Z",
            "2024-01-15T10:30:00.Z",
            "2024-01-15T10:30:00+2:00",
            "2024-02-30T10:30:00Z",
            "2024-01-15T10:30Z",
            "2024-01-15 10:30:00+02:00",
            "2016-12-31T23:59:60Z",
        ] {
            assert!(!is_date_time(bad), "{bad}");
        }
    }

    #[test]
    fn lenient_readings_are_flagged() {
        for lenient in [
            "123e4567e89b12d3a456426614174000",
            "urn:uuid:123e4567-e89b-12d3-a456-426614174000",
            "{123e4567-e89b-12d3-a456-426614174000}",
            "2024-1-05",
            " 2024-01-05",
            "2024-01-15 10:30:00Z",
            "2016-12-31T23:59:60Z",
        ] {
            assert!(read_leniently(lenient), "{lenient}");
        }
        for plain in [
            "123e4567-e89b-12d3-a456-426614174000",
            "2024-01-05",
            "2024-01-15T10:30:00Z",
            "email",
            "",
            "12",
        ] {
            assert!(!read_leniently(plain), "{plain}");
        }
    }
}
