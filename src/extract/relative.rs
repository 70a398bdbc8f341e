//! Relative time phrases ("last month", "on Monday", "this year"), resolved against the
//! publication date when it is known. They are kept as mentions, never used as the date.

use std::sync::LazyLock;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use memchr::memmem;
use regex::Regex;

/// A relative phrase found in a text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RelativeHit {
    /// The phrase as written.
    pub phrase: String,
    /// Byte offset where it starts.
    pub start: usize,
    /// Byte offset where it ends.
    pub end: usize,
    /// What it points at, as `2024-06`, `2024-06-02` or `2024`, when the publication date is known.
    pub resolved: Option<String>,
}

static RELATIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)(?:(?P<rel>last|this|next)\s+(?P<unit>week|month|year)|(?P<day>yesterday|today)|on\s+(?P<weekday>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday))(?-u:\b)")
        .expect("valid pattern")
});

/// Words one of which every relative phrase holds, in any case: "day" (yesterday, today and
/// the weekdays), "week", "month" and "year". Their letters' only case variant outside ASCII
/// is the Kelvin sign, which folds to "k", so text folded for matching (in lowercase) holds
/// one of them wherever the case-insensitive pattern can match.
///
/// Each is looked for on its own with a vectorized substring search: in English text, any
/// search for all four at once stops at nearly every byte that might start one.
static NEEDED: LazyLock<[memmem::Finder<'static>; 4]> =
    LazyLock::new(|| ["day", "week", "month", "year"].map(memmem::Finder::new));

/// Compiles this module's pattern and searchers now rather than when first used (see
/// [`crate::extract::compile_patterns`]).
pub(crate) fn compile() {
    LazyLock::force(&RELATIVE);
    LazyLock::force(&NEEDED);
}

/// Every relative phrase in `text`, resolved against `published` when given. `folded` is
/// `text` folded for matching ([`crate::extract::fold`]), which extraction has at hand.
pub fn find(text: &str, folded: &str, published: Option<NaiveDate>) -> Vec<RelativeHit> {
    // A vectorized search for the words first, in lowercase: most paragraphs have none, and
    // the pattern's own search stops at every "on" and "this". (In the original text, in any
    // case, the words were too many variants to search for other than a byte at a time.)
    if !NEEDED
        .iter()
        .any(|word| word.find(folded.as_bytes()).is_some())
    {
        return Vec::new();
    }
    RELATIVE
        .captures_iter(text)
        .filter_map(|caps| {
            let whole = caps.get(0)?;
            let resolved = published.and_then(|date| resolve(&caps, date));
            Some(RelativeHit {
                phrase: whole.as_str().to_string(),
                start: whole.start(),
                end: whole.end(),
                resolved,
            })
        })
        .collect()
}

fn resolve(caps: &regex::Captures<'_>, date: NaiveDate) -> Option<String> {
    if let (Some(rel), Some(unit)) = (caps.name("rel"), caps.name("unit")) {
        let step: i32 = match rel.as_str().to_lowercase().as_str() {
            "last" => -1,
            "next" => 1,
            _ => 0,
        };
        return match unit.as_str().to_lowercase().as_str() {
            "year" => Some((date.year() + step).to_string()),
            "month" => {
                let months = date.year() * 12 + date.month0() as i32 + step;
                Some(format!(
                    "{}-{:02}",
                    months.div_euclid(12),
                    months.rem_euclid(12) + 1
                ))
            }
            _ => {
                let day = date + Duration::weeks(i64::from(step));
                let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
                Some(format!(
                    "{}-W{:02}",
                    monday.iso_week().year(),
                    monday.iso_week().week()
                ))
            }
        };
    }
    if let Some(day) = caps.name("day") {
        let offset = if day.as_str().eq_ignore_ascii_case("yesterday") {
            -1
        } else {
            0
        };
        return Some((date + Duration::days(offset)).to_string());
    }
    let weekday: Weekday = caps.name("weekday")?.as_str().parse().ok()?;
    // "on Monday" in a report means the latest Monday up to the day it was published.
    let back = (7 + date.weekday().num_days_from_monday() - weekday.num_days_from_monday()) % 7;
    Some((date - Duration::days(i64::from(back))).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::fold::fold_text;

    #[test]
    fn resolves_against_the_publication_date() {
        let date = NaiveDate::from_ymd_opt(2024, 6, 3); // a Monday
        let text = "arrested last month, told Daily NK on Friday; this year and last year";
        let found = find(text, &fold_text(text), date);
        let resolved: Vec<_> = found
            .iter()
            .map(|h| h.resolved.as_deref().unwrap_or(""))
            .collect();
        assert_eq!(resolved, ["2024-05", "2024-05-31", "2024", "2023"]);
        let undated = find("last month", "last month", None);
        assert_eq!(undated[0].resolved, None);
        let january = find(
            "last month",
            "last month",
            NaiveDate::from_ymd_opt(2024, 1, 15),
        );
        assert_eq!(january[0].resolved.as_deref(), Some("2023-12"));
    }

    /// The phrases the pattern alone finds, without the search for needed words first.
    fn by_pattern_alone(text: &str) -> Vec<(usize, usize)> {
        RELATIVE
            .find_iter(text)
            .map(|m| (m.start(), m.end()))
            .collect()
    }

    #[test]
    fn the_search_for_needed_words_hides_no_phrase() {
        for text in [
            "LAST WEEK",
            "Last Month",
            "this YEAR",
            "On Tuesday",
            "YESTERDAY",
            "next wee\u{212a}s", // "week" with the Kelvin sign, which folds to "k"
            "on \u{17f}unday",   // a long s folds to "s", but "day" is still there
        ] {
            assert!(!by_pattern_alone(text).is_empty(), "{text:?}");
            let found: Vec<_> = find(text, &fold_text(text), None)
                .iter()
                .map(|h| (h.start, h.end))
                .collect();
            assert_eq!(found, by_pattern_alone(text), "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn finds_what_the_pattern_alone_finds(
            words in proptest::collection::vec(
                proptest::sample::select(&[
                    "last", "This", "NEXT", "week", "Month", "YEAR", "yesterday", "Today",
                    "on", "Monday", "friday", "SUNDAY", "wee\u{212a}", "phone", "ones", "the",
                ][..]),
                0..12,
            ),
            separators in proptest::collection::vec(
                proptest::sample::select(&[" ", "  ", ", ", "\n", "-", ""][..]),
                12,
            ),
        ) {
            let mut text = String::new();
            for (word, separator) in words.iter().zip(&separators) {
                text.push_str(word);
                text.push_str(separator);
            }
            let found: Vec<_> = find(&text, &fold_text(&text), None).iter().map(|h| (h.start, h.end)).collect();
            proptest::prop_assert_eq!(found, by_pattern_alone(&text));
        }
    }
}
