//! Years the text uses as a time ("in January 2020", "since February of 2018", "2018-2020"),
//! never amounts ("RMB 60,000"), ids, phone numbers or decades ("the 1990s").

use std::sync::LazyLock;

use regex::Regex;

use crate::extract::dates::month_number;

/// A year found in a text, with its byte offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YearHit {
    /// The year.
    pub year: i32,
    /// Byte offset where it starts.
    pub start: usize,
    /// Byte offset where it ends.
    pub end: usize,
}

/// A number as written: digits with thousands separators or decimals ("60,000", "33.1").
static NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\d+(?:[.,]\d+)*").expect("valid number pattern"));

/// Compiles this module's pattern now rather than when first used (see
/// [`crate::extract::compile_patterns`]).
pub(crate) fn compile() {
    LazyLock::force(&NUMBER);
}

/// Words right before a year that make it a time.
const TIME_WORDS: &[&str] = &[
    "in",
    "since",
    "of",
    "from",
    "until",
    "till",
    "through",
    "to",
    "by",
    "during",
    "before",
    "after",
    "between",
    "and",
    "early",
    "late",
    "mid",
    "around",
    "year",
    "summer",
    "winter",
    "spring",
    "autumn",
    "fall",
    "circa",
    "as",
    "or",
    "the",
    "end",
    "beginning",
    "start",
    "fiscal",
];

/// Words right before a number that make it an amount or an identifier.
const AMOUNT_BEFORE: &[&str] = &[
    "rmb",
    "usd",
    "krw",
    "kpw",
    "cny",
    "eur",
    "jpy",
    "yuan",
    "won",
    "us$",
    "$",
    "no",
    "number",
    "nos",
    "page",
    "pages",
    "room",
    "id",
    "code",
    "model",
    "flight",
    "article",
    "articles",
    "item",
    "unit",
    "units",
    "route",
    "highway",
    "exactly",
    "about",
    "some",
    "over",
    "nearly",
    "almost",
    "approximately",
    "roughly",
    "than",
    "least",
];

/// Words right after a number that make it an amount.
const AMOUNT_AFTER: &[&str] = &[
    "yuan",
    "won",
    "dollars",
    "usd",
    "rmb",
    "euros",
    "yen",
    "rubles",
    "people",
    "persons",
    "person",
    "km",
    "kilometers",
    "kilometres",
    "meters",
    "metres",
    "m",
    "kg",
    "kilograms",
    "tons",
    "tonnes",
    "units",
    "households",
    "percent",
    "hours",
    "minutes",
    "seconds",
    "times",
    "pieces",
    "feet",
    "miles",
    "soldiers",
    "troops",
    "defectors",
    "members",
    "residents",
    "workers",
    "cases",
    "calls",
    "phones",
    "families",
    "days",
    "weeks",
    "months",
    "years",
    "won's",
    "ri",
    "li",
    "mhz",
    "ghz",
    "khz",
    "hz",
    "mb",
    "gb",
    "kb",
];

/// Whether `text` has four ASCII digits in a row.
fn has_four_digits(text: &str) -> bool {
    // Digits are rare in prose: a block without one is passed over with one test that has no
    // branch per byte (so it is vectorized), and only blocks with digits are walked.
    const BLOCK: usize = 32;
    let mut run = 0;
    for block in text.as_bytes().chunks(BLOCK) {
        if !block.iter().fold(false, |any, b| any | b.is_ascii_digit()) {
            run = 0;
            continue;
        }
        for byte in block {
            run = if byte.is_ascii_digit() { run + 1 } else { 0 };
            if run == 4 {
                return true;
            }
        }
    }
    false
}

/// Every year in `text` between `min` and `max` used as a time.
pub fn find(text: &str, min: i32, max: i32) -> Vec<YearHit> {
    // A year is four ASCII digits in a row: most paragraphs have none, and need no numbers.
    if !has_four_digits(text) {
        return Vec::new();
    }
    let numbers: Vec<(usize, usize)> = NUMBER
        .find_iter(text)
        .map(|m| (m.start(), m.end()))
        .collect();
    let as_year = |(start, end): (usize, usize)| -> Option<i32> {
        let digits = &text[start..end];
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok().filter(|y| (min..=max).contains(y))
    };
    let mut hits = Vec::new();
    for (i, &(start, end)) in numbers.iter().enumerate() {
        let Some(year) = as_year((start, end)) else {
            continue;
        };
        let before = &text[..start];
        let after = &text[end..];
        // Part of a longer token: "A2019", "2019x", "#2019", "2019/20", "10:2019".
        let prev_char = before.chars().next_back();
        let next_char = after.chars().next();
        if prev_char.is_some_and(|c| c.is_alphanumeric() || "$€£¥₩#/:+@.".contains(c)) {
            continue;
        }
        if next_char.is_some_and(|c| c.is_alphanumeric() || "/%@".contains(c)) {
            // "1990s" is a decade, "2019x" an id.
            continue;
        }
        if after.starts_with("'s") || after.starts_with("’s") {
            continue; // "the 1990's"
        }
        // Numbers joined by dashes: a range of years, or a phone number or id.
        let dash_before = before.ends_with(['-', '–', '—']);
        let dash_after = after.starts_with(['-', '–', '—'])
            && after[after.char_indices().nth(1).map_or(after.len(), |(i, _)| i)..]
                .starts_with(|c: char| c.is_ascii_digit());
        if dash_before {
            // The end of a range of amounts: "1880-1920 MHz".
            if first_word(after).is_some_and(|w| AMOUNT_AFTER.contains(&w.as_str())) {
                continue;
            }
            let joined = i > 0 && text[numbers[i - 1].1..start].chars().count() == 1;
            let joined_to_year = joined && as_year(numbers[i - 1]).is_some();
            if joined && !joined_to_year {
                continue;
            }
        }
        if dash_after {
            let next = numbers.get(i + 1).copied();
            let next_is_year = next.is_some_and(|n| as_year(n).is_some() || n.1 - n.0 == 2);
            // "2010-2025 MHz" is a range of amounts.
            let unit_after = next
                .and_then(|n| first_word(&text[n.1..]))
                .is_some_and(|w| AMOUNT_AFTER.contains(&w.as_str()));
            if !next_is_year || unit_after {
                continue;
            }
        }
        // Digit groups around it: a phone number ("+86 138 2024 9917"), unless a month makes it a date.
        let group_before = before
            .strip_suffix(' ')
            .is_some_and(|b| b.ends_with(|c: char| c.is_ascii_digit()));
        let group_after = after
            .strip_prefix(' ')
            .is_some_and(|a| a.starts_with(|c: char| c.is_ascii_digit()));
        if (group_before || group_after) && !month_before(before) {
            continue;
        }
        // A label and a number in brackets is an identifier: "(Interview 2031)".
        let label = before
            .trim_end()
            .rsplit(|c: char| !c.is_alphanumeric())
            .next()
            .unwrap_or("");
        let bracketed = before
            .trim_end()
            .strip_suffix(label)
            .is_some_and(|b| b.trim_end().ends_with('('))
            && after.starts_with(')');
        if bracketed
            && label.chars().next().is_some_and(char::is_uppercase)
            && month_number(label).is_none()
        {
            continue;
        }
        let previous_word = last_word(before);
        let next_word = first_word(after);
        let is_time = previous_word
            .as_deref()
            .is_some_and(|w| TIME_WORDS.contains(&w) || month_number(w).is_some())
            || month_before(before)
            || dash_before
            || dash_after;
        if !is_time {
            if previous_word
                .as_deref()
                .is_some_and(|w| AMOUNT_BEFORE.contains(&w))
            {
                continue;
            }
            if let Some(word) = next_word.as_deref() {
                let plural_noun = word.len() > 3
                    && word.ends_with('s')
                    && word.chars().all(|c| c.is_ascii_lowercase());
                if AMOUNT_AFTER.contains(&word) || plural_noun {
                    continue;
                }
            }
        } else if previous_word
            .as_deref()
            .is_some_and(|w| AMOUNT_BEFORE.contains(&w) && !TIME_WORDS.contains(&w))
        {
            continue;
        }
        hits.push(YearHit { year, start, end });
    }
    hits
}

/// "June 3, 2024" and "3 June 2024": a month name within the two words before.
fn month_before(before: &str) -> bool {
    before
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .rev()
        .take(3)
        .any(|w| month_number(w).is_some() && w.chars().next().is_some_and(char::is_uppercase))
}

fn last_word(text: &str) -> Option<String> {
    let trimmed = text.trim_end();
    if trimmed.len() == text.len() && !text.is_empty() {
        // The number is glued to what stands before it, e.g. a currency sign.
        let c = text.chars().next_back()?;
        if !c.is_whitespace() && !"(\"“‘'".contains(c) {
            return Some(c.to_string().to_lowercase());
        }
    }
    let word: String = trimmed
        .trim_end_matches('.')
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || *c == '$' || *c == '-')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let word = word.trim_end_matches('-').to_lowercase();
    (!word.is_empty()).then_some(word)
}

fn first_word(text: &str) -> Option<String> {
    let word: String = text
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '\'')
        .collect();
    (!word.is_empty()).then(|| word.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn years(text: &str) -> Vec<i32> {
        find(text, 1900, 2099).into_iter().map(|h| h.year).collect()
    }

    #[test]
    fn four_digits_in_a_row() {
        assert!(has_four_digits("in 2019"));
        assert!(has_four_digits("id A20190"));
        assert!(!has_four_digits("201 9 and 20-19"));
        // Other scripts' digits are no year.
        assert!(!has_four_digits("\u{661}\u{662}\u{663}\u{664}"));
        assert!(find("in 201 and 20 19", 1900, 2100).is_empty());
    }

    proptest::proptest! {
        /// Read a block at a time, the text gives the answer a walk over every byte gives,
        /// runs of digits across blocks included.
        #[test]
        fn four_digits_as_a_walk_over_every_byte_finds_them(text in "[1a ]{0,100}") {
            let walk = text.as_bytes().windows(4).any(|w| w.iter().all(u8::is_ascii_digit));
            proptest::prop_assert_eq!(has_four_digits(&text), walk);
        }
    }

    #[test]
    fn times() {
        assert_eq!(
            years("closed the border in January 2020 at the start"),
            [2020]
        );
        assert_eq!(
            years("transferred money since February of 2018 and"),
            [2018]
        );
        assert_eq!(years("from 2018-2020 it grew"), [2018, 2020]);
        assert_eq!(years("on May 28th 2020, and 28 May 2021."), [2020, 2021]);
        assert_eq!(years("The 2019 crackdown"), [2019]);
        assert_eq!(years("2018–20 saw"), [2018]);
        assert_eq!(
            years("This photo was taken in February 2019. (Daily NK)"),
            [2019]
        );
    }

    #[test]
    fn not_times() {
        assert!(years("found RMB 60,000 and USD 27,000").is_empty());
        assert!(years("charged 2,000 yuan").is_empty());
        assert!(years("paid 2000 yuan and USD 2019").is_empty());
        assert!(years("in the 1990s and the 1980's").is_empty());
        assert!(years("call 010-2019-1234 or 02-2020-3344").is_empty());
        assert!(years("COVID-19 and 24-hour shifts, 33.1 C").is_empty());
        assert!(years("some 2000 soldiers crossed").is_empty());
        assert!(years("No. 2019 and ID A2019").is_empty());
        assert!(years("in 1850 and 2150").is_empty());
        assert!(years("bands of 1880-1920 MHz and 2010-2025 MHz").is_empty());
        assert!(years("call +86 138 2024 9917 now").is_empty());
        assert!(years("as one trader said (Interview 2031).").is_empty());
        assert_eq!(years("on June 3 2024 and (May 2019)"), [2024, 2019]);
    }
}
