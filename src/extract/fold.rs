//! Folding text for matching: case, accents, apostrophes, dashes and spacing.
//!
//! The catalogue folds its aliases and the matcher folds article text the same way, so
//! `Hoeryŏng`, `HOERYONG` and `Hoeryong` meet, and `Kim Jong-un` meets `Kim Jong Un`.

/// Text folded for matching, with a map back to the original.
#[derive(Debug, Clone, Default)]
pub struct Folded {
    /// The folded text: lowercase ASCII where a Latin letter allows, single spaces.
    pub text: String,
    /// Where the map from folded bytes to original offsets jumps: `(folded, original)` says
    /// that folded byte `folded` comes from the character at `original`, and each byte after
    /// it from the byte as far after that, up to the next entry. Folding mostly lowercases
    /// ASCII a byte for a byte, so most paragraphs need no entry at all, where a map of every
    /// byte cost eight bytes a byte of text (and a tenth of extraction's time) to fill.
    jumps: Vec<(usize, usize)>,
    /// The original text's length, where the end of the folded text maps to.
    original_len: usize,
}

impl Folded {
    /// The byte offset in the original where the character behind folded byte `at` starts;
    /// the original's length for `at` past the end.
    pub fn origin(&self, at: usize) -> usize {
        if at >= self.text.len() {
            return self.original_len;
        }
        // The last jump at or before `at`; none means the map starts as the identity.
        let after = self.jumps.partition_point(|&(folded, _)| folded <= at);
        match after.checked_sub(1).map(|i| self.jumps[i]) {
            Some((folded, original)) => original + (at - folded),
            None => at,
        }
    }

    /// The original byte range of the folded range `start..end`.
    pub fn original_range(&self, start: usize, end: usize, original: &str) -> (usize, usize) {
        let from = self.origin(start);
        // The end is the end of the original character behind the last folded byte.
        let last = self.origin(end - 1);
        let to = original[last..]
            .chars()
            .next()
            .map_or(original.len(), |c| last + c.len_utf8());
        (from, to)
    }
}

/// Folds `text` for matching (see the module docs).
pub fn fold(text: &str) -> Folded {
    let mut out = Mapped {
        bytes: Vec::with_capacity(text.len()),
        jumps: Vec::new(),
    };
    fold_into(text, &mut out);
    Folded {
        text: into_text(out.bytes),
        jumps: out.jumps,
        original_len: text.len(),
    }
}

/// Folds `text` like [`fold`], without the map back to the original (for search terms).
pub fn fold_text(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    fold_into(text, &mut out);
    into_text(out)
}

/// Folds `text` like [`fold_text`], appending to `out`: for a text folded in parts (an
/// article's title, paragraphs and names, for its search terms), without a string for each.
/// Turn the bytes into text with [`folded_text`].
pub fn fold_text_onto(text: &str, out: &mut Vec<u8>) {
    fold_into(text, out);
}

/// Bytes that [`fold_text_onto`] wrote (and ASCII between them) as text.
pub fn folded_text(bytes: Vec<u8>) -> String {
    into_text(bytes)
}

/// The folded bytes as text. Folding writes ASCII bytes and whole characters only, so they
/// are always UTF-8; were they not, the damage would show as replacement characters.
fn into_text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Where folded bytes go: a buffer, with or without the map back to the original. Bytes go
/// straight into a buffer, not a `String`, so that a word is lowercased in one pass over it.
trait FoldOut {
    /// The folded bytes so far.
    fn bytes(&mut self) -> &mut Vec<u8>;
    /// Notes that the next folded byte comes from the original's byte `at`, each byte after
    /// it from the next original byte, until noted otherwise.
    fn next_from(&mut self, at: usize);
}

/// Folded bytes with the jumps of their map back to the original (see [`Folded`]).
struct Mapped {
    bytes: Vec<u8>,
    jumps: Vec<(usize, usize)>,
}

impl FoldOut for Mapped {
    fn bytes(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }

    fn next_from(&mut self, at: usize) {
        // A jump only where the bytes so far do not lead to `at`.
        let folded = self.bytes.len();
        let follows = match self.jumps.last() {
            Some(&(from, original)) => original + (folded - from) == at,
            None => folded == at,
        };
        if !follows {
            self.jumps.push((folded, at));
        }
    }
}

impl FoldOut for Vec<u8> {
    fn bytes(&mut self) -> &mut Vec<u8> {
        self
    }

    fn next_from(&mut self, _: usize) {}
}

/// Appends folded character `c`, which comes from the original's byte `at`.
fn push(out: &mut impl FoldOut, c: char, at: usize) {
    let mut buffer = [0; 4];
    // Every byte of the folded character maps to the start of the original one.
    for &byte in c.encode_utf8(&mut buffer).as_bytes() {
        out.next_from(at);
        out.bytes().push(byte);
    }
}

/// Whether folding ASCII byte `b` only lowercases it: it is no space, dash, underscore or
/// backtick, and not outside ASCII. Words are runs of these, folded a run at a time.
const fn is_plain(b: u8) -> bool {
    b.is_ascii() && !b.is_ascii_whitespace() && !matches!(b, b'-' | b'_' | b'`')
}

/// [`is_plain`] of every byte, looked up once a byte.
const PLAIN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = is_plain(b as u8);
        b += 1;
    }
    table
};

/// Whether `chunk`, coming after a space if `last_space`, folds to itself lowercased: it holds
/// only plain bytes and single spaces, and does not start with a space after one. Returns
/// whether it ends with a space, or `None` when it does not fold so. Every byte is tested
/// without a branch, so the tests are vectorized.
fn lowercases_whole(chunk: &[u8; CHUNK], last_space: bool) -> Option<bool> {
    let plain_or_space = chunk.iter().fold(true, |all, &b| {
        all & (b < 0x80)
            & (b != b'\t')
            & (b != b'\n')
            & (b != 0x0C)
            & (b != b'\r')
            & (b != b'-')
            & (b != b'_')
            & (b != b'`')
    });
    let doubled = (chunk[..CHUNK - 1].iter().zip(&chunk[1..]))
        .fold(false, |any, (&a, &b)| any | ((a == b' ') & (b == b' ')));
    let first_space = chunk[0] == b' ';
    (plain_or_space && !doubled && !(first_space && last_space)).then_some(chunk[CHUNK - 1] == b' ')
}

/// The bytes [`fold_into`] tests at once for [`lowercases_whole`].
const CHUNK: usize = 16;

fn fold_into(text: &str, out: &mut impl FoldOut) {
    let mut last_space = true;
    let bytes = text.as_bytes();
    let mut at = 0;
    // Sixteen bytes at a time while they are plain words and single spaces (most text is),
    // lowercased in one step; else a run of plain ASCII at a time, then byte by byte while
    // the text is ASCII; a character is decoded only at a byte outside ASCII, which always
    // starts one.
    while let Some(&byte) = bytes.get(at) {
        if let Some(chunk) = bytes[at..].first_chunk::<CHUNK>()
            && let Some(ends_in_space) = lowercases_whole(chunk, last_space)
        {
            // Byte for byte: one jump at most, where the chunk starts.
            out.next_from(at);
            out.bytes().extend(chunk.iter().map(u8::to_ascii_lowercase));
            last_space = ends_in_space;
            at += CHUNK;
            continue;
        }
        if PLAIN[usize::from(byte)] {
            let run = bytes[at..]
                .iter()
                .take_while(|&&b| PLAIN[usize::from(b)])
                .count();
            // Byte for byte: one jump at most, where the run starts.
            out.next_from(at);
            let word = &bytes[at..at + run];
            out.bytes().extend(word.iter().map(u8::to_ascii_lowercase));
            last_space = false;
            at += run;
            continue;
        }
        if byte.is_ascii() {
            let folded = match byte {
                b'`' => b'\'',
                _ => b' ', // whitespace, '-' and '_': the bytes that are not plain
            };
            if folded != b' ' || !last_space {
                out.next_from(at);
                out.bytes().push(folded);
                last_space = folded == b' ';
            }
            at += 1;
            continue;
        }
        let Some(c) = text[at..].chars().next() else {
            break;
        };
        fold_char(c, at, &mut last_space, out);
        at += c.len_utf8();
    }
}

/// Folds `c`, a character outside ASCII at byte `at`, into `out`; `last_space` says whether
/// the last character out was a space (or none is yet).
fn fold_char(c: char, at: usize, last_space: &mut bool, out: &mut impl FoldOut) {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{02BC}' | '\u{2032}' | '\u{02BB}' => {
            push(out, '\'', at);
            *last_space = false;
        }
        '\u{2010}'..='\u{2015}' | '\u{2212}' => {
            if !*last_space {
                push(out, ' ', at);
                *last_space = true;
            }
        }
        c if c.is_whitespace() => {
            if !*last_space {
                push(out, ' ', at);
                *last_space = true;
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
            *last_space = false;
        }
    }
}

/// Folds an alias or name to the key the catalogue compares for clashes and the matcher searches.
pub fn fold_key(text: &str) -> String {
    fold(text).text.trim().to_string()
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

    /// The dense map a reference fold fills: each folded byte's original offset. The
    /// reference notes an offset before every byte it pushes (through [`push`]).
    #[derive(Default)]
    struct Dense {
        bytes: Vec<u8>,
        origin: Vec<usize>,
    }

    impl FoldOut for Dense {
        fn bytes(&mut self) -> &mut Vec<u8> {
            &mut self.bytes
        }

        fn next_from(&mut self, at: usize) {
            self.origin.push(at);
        }
    }

    /// Folding a character at a time, every character decoded, into a map of every byte:
    /// what the byte loop of `fold_into` and the jumps of [`Folded`] must agree with.
    fn fold_by_chars(text: &str) -> Dense {
        let mut out = Dense::default();
        let mut last_space = true;
        for (at, c) in text.char_indices() {
            if c.is_ascii() {
                let c = match c {
                    '`' => '\'',
                    '-' | '_' => ' ',
                    c if c.is_ascii_whitespace() => ' ',
                    c => c.to_ascii_lowercase(),
                };
                if c != ' ' || !last_space {
                    push(&mut out, c, at);
                }
                last_space = c == ' ';
            } else {
                fold_char(c, at, &mut last_space, &mut out);
            }
        }
        out.origin.push(text.len());
        out
    }

    /// Folding `text` gives the bytes and the map back that folding a character at a time
    /// gives.
    fn fold_agrees(text: &str) -> Result<(), proptest::test_runner::TestCaseError> {
        let folded = fold(text);
        let reference = fold_by_chars(text);
        proptest::prop_assert_eq!(folded.text.as_bytes(), &reference.bytes[..]);
        let origin: Vec<usize> = (0..=folded.text.len()).map(|i| folded.origin(i)).collect();
        proptest::prop_assert_eq!(&origin, &reference.origin);
        Ok(())
    }

    proptest::proptest! {
        #[test]
        fn the_byte_loop_and_its_jumps_fold_as_decoding_every_character_does(
            text in "[a-zA-Z0-9 \t\n`_\\-.,'ŏŭÜéŠ’‘—–\u{2212}\u{00a0}\u{3000}회령会宁İ\u{212a}]{0,40}"
        ) {
            fold_agrees(&text)?;
        }

        /// The same for text that is mostly words and spaces, which is folded sixteen bytes
        /// at a time, with doubled spaces, tabs, dashes and accents among them.
        #[test]
        fn whole_chunks_fold_as_decoding_every_character_does(
            text in "([a-zA-Z0-9]{1,9}[ ]{1,2}){0,14}[\t\n`_\\-ŏ’ ]?([a-zA-Z0-9]{1,9}[ ]{1,2}){0,14}"
        ) {
            fold_agrees(&text)?;
            proptest::prop_assert_eq!(fold_text(&text), fold(&text).text);
        }
    }

    #[test]
    fn keeps_other_scripts() {
        assert_eq!(fold("회령 会宁").text, "회령 会宁");
    }
}
