//! Sentences and titles: where sentences of a paragraph start and end, and the article title.

use std::ops::Range;

use crate::clean::{Paragraph, Role, ends_sentence};

/// Words that end with a period without ending a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "st", "no", "gen", "lt", "col", "prof", "rep", "sen", "vs", "etc",
    "inc", "co", "jr", "sr", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
    "nov", "dec", "approx", "fig", "vol",
];

/// The byte ranges of the sentences of `text`, covering it from start to end.
pub fn sentences(text: &str) -> Vec<Range<usize>> {
    Sentences {
        text,
        start: 0,
        position: 0,
        next_e2: None,
    }
    .collect()
}

/// The sentences of a text, one byte range at a time, so a caller looking for one sentence
/// stops scanning once it has it.
struct Sentences<'a> {
    text: &'a str,
    /// Where the current sentence starts.
    start: usize,
    /// Where scanning goes on.
    position: usize,
    /// Where the next byte 0xE2 (which starts `…`) is at or after `position`, once looked
    /// for: `Some(len)` for none.
    next_e2: Option<usize>,
}

impl Sentences<'_> {
    /// The next byte at or after `position` that may end a sentence: `.`, `?`, `!`, or 0xE2,
    /// the first byte of `…` (which no continuation byte equals). Vectorized searches for
    /// the ASCII marks and, separately and only again once passed, for 0xE2, which most
    /// texts lack.
    fn next_mark(&mut self) -> Option<usize> {
        let bytes = self.text.as_bytes();
        let e2 = match self.next_e2 {
            Some(at) if at >= self.position => at,
            _ => {
                let at = memchr::memchr(0xE2, &bytes[self.position..])
                    .map_or(bytes.len(), |found| self.position + found);
                self.next_e2 = Some(at);
                at
            }
        };
        let ascii = memchr::memchr3(b'.', b'?', b'!', &bytes[self.position..e2]);
        match ascii {
            Some(found) => Some(self.position + found),
            None => (e2 < bytes.len()).then_some(e2),
        }
    }
}

impl Iterator for Sentences<'_> {
    type Item = Range<usize>;

    fn next(&mut self) -> Option<Range<usize>> {
        let text = self.text;
        let bytes = text.as_bytes();
        // Scans bytes, not chars: the marks are found without decoding the text in between.
        while let Some(at) = self.next_mark() {
            let c = match bytes[at] {
                0xE2 if text[at..].starts_with('…') => '…',
                0xE2 => {
                    // Another three-byte character; skip it whole to stay on a boundary.
                    self.position = at + 3;
                    continue;
                }
                mark => char::from(mark),
            };
            self.position = at + c.len_utf8();
            // Closing quotes and brackets belong to the sentence they close.
            let rest = &text[self.position..];
            let end = self.position
                + rest
                    .find(|x: char| !matches!(x, '"' | '\'' | '”' | '’' | ')' | ']'))
                    .unwrap_or(rest.len());
            let after = &text[end..];
            let spaces = after
                .find(|x: char| !x.is_whitespace())
                .unwrap_or(after.len());
            let next = end + spaces;
            let next_starts = text[next..].chars().next().is_some_and(|n| {
                n.is_uppercase()
                    || n.is_ascii_digit()
                    || matches!(n, '"' | '“' | '‘' | '\'' | '(' | '[')
            });
            if spaces > 0 && next_starts && !(c == '.' && is_abbreviation(&text[self.start..at])) {
                let sentence = self.start..end;
                self.start = next;
                self.position = next;
                return Some(sentence);
            }
        }
        if self.start < text.len() {
            let sentence = self.start..text.len();
            self.start = text.len();
            return Some(sentence);
        }
        None
    }
}

/// True when `before` (the text before a period) ends with an abbreviation or an initial.
fn is_abbreviation(before: &str) -> bool {
    // The word before the period, borrowed: its trailing letters, digits and periods.
    let start = before
        .char_indices()
        .rev()
        .take_while(|&(_, c)| c.is_alphanumeric() || c == '.')
        .last()
        .map_or(before.len(), |(at, _)| at);
    let bare = before[start..].trim_matches('.');
    if bare.is_empty() {
        return false;
    }
    // "N." and "U.S." are initials.
    let initials = bare
        .split('.')
        .all(|part| part.chars().count() == 1 && part.chars().all(char::is_uppercase));
    initials
        || if bare.is_ascii() {
            ABBREVIATIONS.iter().any(|a| bare.eq_ignore_ascii_case(a))
        } else {
            ABBREVIATIONS.contains(&bare.to_lowercase().as_str())
        }
}

/// Of the sentences `ranges` of a text `len` bytes long (see [`sentences`]), the one that holds
/// byte `offset`; the whole text when none does.
pub fn sentence_holding(ranges: &[Range<usize>], offset: usize, len: usize) -> Range<usize> {
    ranges
        .iter()
        .find(|r| r.start <= offset && offset < r.end.max(r.start + 1))
        .cloned()
        .unwrap_or(0..len)
}

/// The title an article's text gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleChoice {
    /// The title.
    pub text: String,
    /// True when made from the first sentence because the text has no headline.
    pub derived: bool,
    /// The paragraph that is the headline, if one is.
    pub headline: Option<usize>,
}

/// The headline if the text opens with one (short, no final period), else a title made from
/// the first sentence, shortened at a word boundary to about `max_chars`.
pub fn choose_title(paragraphs: &[Paragraph], max_words: usize, max_chars: usize) -> TitleChoice {
    let Some((index, first)) = paragraphs
        .iter()
        .enumerate()
        .find(|(_, p)| !matches!(p.role, Role::Caption | Role::CaptionLabel))
    else {
        return TitleChoice {
            text: "Untitled".to_string(),
            derived: true,
            headline: None,
        };
    };
    let words = first.text.split_whitespace().count();
    let is_headline = index == 0
        && paragraphs.len() > 1
        && matches!(first.role, Role::Text | Role::Heading(_))
        && words > 0
        && words <= max_words
        && !first.text.trim_end().ends_with(['.', ',', ';', ':'])
        && first.text.chars().any(char::is_uppercase);
    if is_headline {
        return TitleChoice {
            text: first.text.trim().to_string(),
            derived: false,
            headline: Some(index),
        };
    }
    let text = first.text.trim();
    let sentence = sentences(text)
        .into_iter()
        .next()
        .map_or(text, |r| &text[r]);
    let sentence = sentence.trim_end_matches(['.', ' ']);
    TitleChoice {
        text: shorten(sentence, max_chars),
        derived: true,
        headline: None,
    }
}

/// `text` cut at the last word boundary before `max_chars` characters, with an ellipsis.
pub fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let cut = text
        .char_indices()
        .nth(max_chars)
        .map_or(text.len(), |(i, _)| i);
    let head = &text[..cut];
    let head = head.rfind(char::is_whitespace).map_or(head, |i| &head[..i]);
    format!("{}…", head.trim_end_matches([',', ';', ':', ' ', '—', '–']))
}

/// True when a paragraph reads as a finished sentence (used to tell labels from text).
pub fn is_sentence(text: &str) -> bool {
    ends_sentence(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn para(text: &str) -> Paragraph {
        Paragraph {
            text: text.to_string(),
            role: Role::Text,
            line: 1,
            markup: crate::clean::Markup::Plain,
        }
    }

    #[test]
    fn finds_the_sentence_holding_an_offset() {
        let text = "Guards came at night. Phones were seized in Hyesan.";
        let ranges = sentences(text);
        let at = text.find("Hyesan").unwrap();
        let held = sentence_holding(&ranges, at, text.len());
        assert_eq!(text[held].trim(), "Phones were seized in Hyesan.");
        assert_eq!(sentence_holding(&ranges, 0, text.len()).start, 0);
        assert_eq!(sentence_holding(&[], 3, text.len()), 0..text.len());
    }

    proptest::proptest! {
        #[test]
        fn marks_are_found_where_a_byte_scan_finds_them(
            text in "[a-zA-Z .?!…“”’—é]{0,60}",
            steps in proptest::collection::vec(0usize..9, 0..24),
        ) {
            let mut scan = Sentences { text: &text, start: 0, position: 0, next_e2: None };
            for step in steps {
                let rest = &text.as_bytes()[scan.position..];
                let by_bytes = (rest.iter())
                    .position(|b| matches!(b, b'.' | b'?' | b'!' | 0xE2))
                    .map(|found| scan.position + found);
                proptest::prop_assert_eq!(scan.next_mark(), by_bytes);
                scan.position = (scan.position + step).min(text.len());
            }
        }
    }

    #[test]
    fn splits_sentences_but_not_abbreviations() {
        let text =
            "N. Korean agents met Mr. Kim in the U.S. capital. He left. “Then what?” she asked.";
        let parts: Vec<_> = sentences(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(
            parts,
            [
                "N. Korean agents met Mr. Kim in the U.S. capital.",
                "He left.",
                "“Then what?” she asked."
            ]
        );
    }

    #[test]
    fn abbreviations_in_any_case_and_initials() {
        for before in ["met Mr", "MRS", "on Sept", "Gen", "the U.S", "(N", "approx"] {
            assert!(is_abbreviation(before), "{before:?}");
        }
        for before in [
            "in Hyesan",
            "Kyŏnghŭng",
            "",
            "...",
            "U.Sa",
            "the no-",
            "Dr ",
        ] {
            assert!(!is_abbreviation(before), "{before:?}");
        }
    }

    #[test]
    fn headline_or_derived_title() {
        let t = choose_title(
            &[para("NK cracks down on phone users"), para("Body text.")],
            25,
            90,
        );
        assert_eq!(
            t,
            TitleChoice {
                text: "NK cracks down on phone users".into(),
                derived: false,
                headline: Some(0)
            }
        );
        let t = choose_title(
            &[para(
                "There are indications that officials from the Ministry of State Security carrying out a large-scale operation have released detainees. More.",
            )],
            25,
            60,
        );
        assert!(t.derived);
        assert!(
            t.text.ends_with('…') && t.text.chars().count() <= 61,
            "{}",
            t.text
        );
        assert!(t.text.starts_with("There are indications"));
    }
}
