//! Dates: front-matter date values and publication lines in article text.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use regex::Regex;

/// Month names and their common abbreviations, lowercase, with the month number.
const MONTHS: [(&str, u32); 24] = [
    ("january", 1),
    ("february", 2),
    ("march", 3),
    ("april", 4),
    ("may", 5),
    ("june", 6),
    ("july", 7),
    ("august", 8),
    ("september", 9),
    ("october", 10),
    ("november", 11),
    ("december", 12),
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("sept", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
];

/// The regex alternation of every month name, longest first.
pub const MONTH_PATTERN: &str = "January|February|March|April|May|June|July|August|September|October|November|December|Sept|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec";

/// The month number of a month name or abbreviation (any case, a final `.` allowed).
pub fn month_number(word: &str) -> Option<u32> {
    let word = word.trim_end_matches('.').to_ascii_lowercase();
    MONTHS
        .iter()
        .find(|(name, _)| *name == word)
        .map(|&(_, n)| n)
}

/// Parses a front-matter date: `2020-05-28`, RFC 3339, `2020-05-28 10:00:00 +0000`, and the
/// local date-times TOML writes. The date is taken as written, in its own offset.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(date);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.date_naive());
    }
    for format in [
        "%Y-%m-%d %H:%M:%S %z",
        "%Y-%m-%d %H:%M %z",
        "%Y-%m-%dT%H:%M:%S%z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(text, format) {
            return Some(dt.date_naive());
        }
    }
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S%.f",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(text, format) {
            return Some(dt.date());
        }
    }
    None
}

/// Compiles this module's pattern now rather than when first used (see
/// [`crate::extract::compile_patterns`]).
pub(crate) fn compile() {
    LazyLock::force(&PUBLICATION_LINE);
}

static PUBLICATION_LINE: LazyLock<Regex> = LazyLock::new(|| {
    let month = MONTH_PATTERN;
    let pattern = format!(
        r"(?ix)^
        (?:(?:published|posted|updated|date|first\ published)(?:\ on)?\s*:?\s*)?
        (?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?
        (?:
            (?P<m1>{month})\.?\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y1>\d{{4}})
          | (?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m2>{month})\.?,?\s+(?P<y2>\d{{4}})
          | (?P<y3>\d{{4}})[-./](?P<n3>\d{{1,2}})[-./](?P<d3>\d{{1,2}})\.?
        )
        (?:,?\s*(?:at\s+)?\d{{1,2}}[:.]\d{{2}}(?::\d{{2}})?\s*(?:[ap]\.?m\.?)?
           (?:\s*\(?(?:[A-Z]{{2,5}}|UTC[+-]?\d{{0,2}}|GMT[+-]?\d{{0,2}})\)?|\s*[+-]\d{{2}}:?\d{{2}})?)?
        \s*$"
    );
    Regex::new(&pattern).expect("the publication line pattern is valid")
});

/// Reads a paragraph that is a publication line, such as `June 03, 2024 at 08:00AM`,
/// `Published: 3 June 2024` or `2024.06.03 10:00`. Anything longer than a date line is not one.
pub fn publication_line(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    if text.len() > 80 {
        return None;
    }
    let caps = PUBLICATION_LINE.captures(text)?;
    let number = |name: &str| caps.name(name).and_then(|m| m.as_str().parse::<u32>().ok());
    let (year, month, day) = if let Some(m) = caps.name("m1") {
        (number("y1")?, month_number(m.as_str())?, number("d1")?)
    } else if let Some(m) = caps.name("m2") {
        (number("y2")?, month_number(m.as_str())?, number("d2")?)
    } else {
        (number("y3")?, number("n3")?, number("d3")?)
    };
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn front_matter_forms() {
        assert_eq!(parse_date("2020-05-28"), ymd(2020, 5, 28));
        assert_eq!(parse_date("2020-05-28T23:30:00+09:00"), ymd(2020, 5, 28));
        assert_eq!(parse_date("2020-05-28 10:00:00 +0000"), ymd(2020, 5, 28));
        assert_eq!(parse_date("2020-05-28T10:00:00"), ymd(2020, 5, 28));
        assert_eq!(parse_date("32 May 2024"), None);
        assert_eq!(parse_date("2024-02-30"), None);
    }

    #[test]
    fn publication_lines() {
        assert_eq!(
            publication_line("June 03, 2024 at 08:00AM"),
            ymd(2024, 6, 3)
        );
        assert_eq!(publication_line("Published: 3 June 2024"), ymd(2024, 6, 3));
        assert_eq!(publication_line("2024.06.03 10:00 KST"), ymd(2024, 6, 3));
        assert_eq!(publication_line("Sept. 9, 2021"), ymd(2021, 9, 9));
        assert_eq!(
            publication_line("Posted on May 28th 2020"),
            ymd(2020, 5, 28)
        );
        assert_eq!(publication_line("October 11."), None, "no year, no date");
        assert_eq!(
            publication_line("He said on June 3, 2024 that he left."),
            None
        );
        assert_eq!(publication_line("February 30, 2024"), None);
    }
}
