//! Folding text for matching: case, accents, apostrophes, dashes and spacing.
//!
//! The catalogue folds its aliases and the matcher folds article text the same way, so
//! `Hoeryŏng`, `HOERYONG` and `Hoeryong` meet, and `Kim Jong-un` meets `Kim Jong Un`.

/// Text folded for matching, with a map back to the original.
#[derive(Debug, Clone, Default)]
pub struct Folded {
    /// The folded text: lowercase ASCII where a Latin letter allows, single spaces.
    pub text: String,
    /// For each byte of `text`, the byte offset in the original where its character starts.
    /// One extra entry at the end holds the original's length.
    pub origin: Vec<usize>,
}

impl Folded {
    /// The original byte range of the folded range `start..end`.
    pub fn original_range(&self, start: usize, end: usize, original: &str) -> (usize, usize) {
        let from = self.origin[start];
        // The end is the end of the original character behind the last folded byte.
        let last = self.origin[end - 1];
        let to = original[last..]
            .chars()
            .next()
            .map_or(original.len(), |c| last + c.len_utf8());
        (from, to)
    }
}

/// Folds `text` for matching (see the module docs).
pub fn fold(text: &str) -> Folded {
    let mut out = Folded {
        text: String::with_capacity(text.len()),
        origin: Vec::with_capacity(text.len() + 1),
    };
    fold_into(text, &mut out);
    out.origin.push(text.len());
    out
}

/// Folds `text` like [`fold`], without the map back to the original (for search terms).
pub fn fold_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    fold_into(text, &mut out);
    out
}

/// Where folded characters go: with their original offsets, or only the text.
trait FoldOut {
    fn push(&mut self, c: char, at: usize);
}

impl FoldOut for Folded {
    fn push(&mut self, c: char, at: usize) {
        let before = self.text.len();
        self.text.push(c);
        for _ in before..self.text.len() {
            self.origin.push(at);
        }
    }
}

impl FoldOut for String {
    fn push(&mut self, c: char, _: usize) {
        String::push(self, c);
    }
}

fn fold_into(text: &str, out: &mut impl FoldOut) {
    let mut last_space = true;
    for (at, c) in text.char_indices() {
        if c.is_ascii() {
            let c = match c {
                '`' => '\'',
                '-' | '_' => ' ',
                c if c.is_ascii_whitespace() => ' ',
                c => c.to_ascii_lowercase(),
            };
            if c == ' ' {
                if !last_space {
                    push(out, ' ', at);
                    last_space = true;
                }
            } else {
                push(out, c, at);
                last_space = false;
            }
            continue;
        }
        match c {
            '\u{2018}' | '\u{2019}' | '\u{02BC}' | '\u{2032}' | '\u{02BB}' => {
                push(out, '\'', at);
                last_space = false;
            }
            '\u{2010}'..='\u{2015}' | '\u{2212}' => {
                if !last_space {
                    push(out, ' ', at);
                    last_space = true;
                }
            }
            c if c.is_whitespace() => {
                if !last_space {
                    push(out, ' ', at);
                    last_space = true;
                }
            }
            c => {
                match latin_base(c) {
                    Some(ascii) => {
                        for b in ascii.chars() {
                            push(out, b.to_ascii_lowercase(), at);
                        }
                    }
                    None => {
                        for lower in c.to_lowercase() {
                            push(out, lower, at);
                        }
                    }
                }
                last_space = false;
            }
        }
    }
}

/// Folds an alias or name to the key the catalogue compares for clashes and the matcher searches.
pub fn fold_key(text: &str) -> String {
    fold(text).text.trim().to_string()
}

fn push(out: &mut impl FoldOut, c: char, at: usize) {
    out.push(c, at);
}

/// The ASCII letters a Latin letter with diacritics stands for (`ŏ` -> `o`), or `None` for
/// anything else, which is kept as it is so Korean and Chinese script stays searchable.
fn latin_base(c: char) -> Option<&'static str> {
    if !c.is_alphabetic() || !matches!(c as u32, 0x00C0..=0x024F | 0x1E00..=0x1EFF) {
        return None;
    }
    let ascii = deunicode::deunicode_char(c)?;
    (!ascii.is_empty() && ascii.chars().all(|a| a.is_ascii_alphabetic())).then_some(ascii)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_case_and_dashes() {
        assert_eq!(fold("Hoeryŏng").text, "hoeryong");
        assert_eq!(fold("Kim Jong-un").text, "kim jong un");
        assert_eq!(fold("Sinŭiju  City").text, "sinuiju city");
        assert_eq!(fold("Manp’o").text, "manp'o");
        assert_eq!(fold("Ü").text, "u");
    }

    #[test]
    fn maps_back_to_the_original() {
        let original = "In Hoeryŏng’s market";
        let folded = fold(original);
        let start = folded.text.find("hoeryong").unwrap();
        let (from, to) = folded.original_range(start, start + "hoeryong".len(), original);
        assert_eq!(&original[from..to], "Hoeryŏng");
    }

    #[test]
    fn keeps_other_scripts() {
        assert_eq!(fold("회령 会宁").text, "회령 会宁");
    }
}
