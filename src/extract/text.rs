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
    let mut bounds = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        if matches!(c, '.' | '?' | '!' | '…') {
            // Closing quotes and brackets belong to the sentence they close.
            let mut j = i + 1;
            while j < chars.len() && matches!(chars[j].1, '"' | '\'' | '”' | '’' | ')' | ']') {
                j += 1;
            }
            let followed_by_space = j < chars.len() && chars[j].1.is_whitespace();
            let mut k = j;
            while k < chars.len() && chars[k].1.is_whitespace() {
                k += 1;
            }
            let next_starts = k < chars.len() && {
                let n = chars[k].1;
                n.is_uppercase()
                    || n.is_ascii_digit()
                    || matches!(n, '"' | '“' | '‘' | '\'' | '(' | '[')
            };
            if followed_by_space && next_starts && !(c == '.' && is_abbreviation(&text[start..at]))
            {
                let end = chars.get(j).map_or(text.len(), |&(p, _)| p);
                bounds.push(start..end);
                start = chars[k].0;
                i = k;
                continue;
            }
            let _ = at;
        }
        i += 1;
    }
    if start < text.len() {
        bounds.push(start..text.len());
    }
    bounds
}

/// True when `before` (the text before a period) ends with an abbreviation or an initial.
fn is_abbreviation(before: &str) -> bool {
    let word: String = before
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || *c == '.')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let bare = word.trim_matches('.');
    if bare.is_empty() {
        return false;
    }
    // "N." and "U.S." are initials.
    let initials = bare
        .split('.')
        .all(|part| part.chars().count() == 1 && part.chars().all(char::is_uppercase));
    initials || ABBREVIATIONS.contains(&bare.to_lowercase().as_str())
}

/// The sentence of `text` that holds byte `offset`.
pub fn sentence_at(text: &str, offset: usize) -> Range<usize> {
    sentences(text)
        .into_iter()
        .find(|r| r.start <= offset && offset < r.end.max(r.start + 1))
        .unwrap_or(0..text.len())
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
            events: Vec::new(),
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
