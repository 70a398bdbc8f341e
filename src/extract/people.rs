//! People beyond the catalogue: names the text introduces ("one surnamed Choi", "identified by
//! her family name of Kang"), full Korean names, and names marked by a title or by "said".
//! Later bare-surname mentions resolve to the full name within the same article.

use std::sync::LazyLock;

use regex::Regex;
use rustc_hash::FxHashSet;

/// A person's name found in a paragraph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameHit {
    /// The name as the article writes it, with hyphens and spacing normalized.
    pub name: String,
    /// Byte offset where it starts.
    pub start: usize,
    /// Byte offset where it ends.
    pub end: usize,
    /// The word a later bare mention uses (the family name).
    pub surname: String,
}

/// Common Korean family names in their usual English spellings.
const KOREAN_SURNAMES: &[&str] = &[
    "Kim", "Lee", "Yi", "Ri", "Rhee", "Park", "Pak", "Bak", "Choi", "Choe", "Chae", "Jung",
    "Jeong", "Chung", "Chong", "Jong", "Kang", "Cho", "Jo", "Yoon", "Yun", "Jang", "Chang", "Lim",
    "Im", "Rim", "Han", "Oh", "Seo", "Suh", "Shin", "Sin", "Kwon", "Hwang", "Ahn", "An", "Song",
    "Yoo", "Yu", "Ryu", "Hong", "Jeon", "Jon", "Chon", "Ko", "Koh", "Moon", "Mun", "Yang", "Ryang",
    "Son", "Sohn", "Bae", "Pae", "Baek", "Paek", "Heo", "Hur", "Ho", "Nam", "Sim", "Shim", "Noh",
    "Roh", "Ro", "Ha", "Kwak", "Sung", "Cha", "Ju", "Joo", "Woo", "Koo", "Ku", "Min", "Na", "Ra",
    "Jin", "Ji", "Chi", "Um", "Eom", "Won", "Chun", "Cheon", "Bang", "Pang", "Kong", "Hyun",
    "Hyon", "Ham", "Byun", "Pyon", "Yeom", "Yom", "Yeo", "Chu", "Choo", "Seok", "Sok", "Seol",
    "Sol", "Gil", "Kil", "Yeon", "Yon", "Wi", "Pyo", "Myung", "Myong", "Ki", "Ban", "Wang", "Geum",
    "Kum", "Ok", "Yook", "Yuk", "Maeng", "Tak", "Kook", "Kuk", "Thae", "Tae",
];

/// Words that open a person's name as a title.
const TITLES: &str = r"Mr|Mrs|Ms|Miss|Dr|Prof|Professor|President|Premier|Chairman|Chairwoman|Minister|Secretary|Ambassador|Senator|Sen|Rep|Representative|General|Gen|Lt|Col|Colonel|Marshal|Director|Judge|Rapporteur|Pastor|Rev|Reverend|Father|Deputy|Commissioner|Envoy|Chancellor|Governor|Mayor";

/// Capitalized words that are not personal names, so "North Hamgyong said" is no person.
const NOT_NAMES: &[&str] = &[
    "The",
    "This",
    "That",
    "These",
    "Those",
    "North",
    "South",
    "East",
    "West",
    "Korea",
    "Korean",
    "Koreans",
    "China",
    "Chinese",
    "Ministry",
    "Department",
    "Bureau",
    "Agency",
    "Committee",
    "Party",
    "Army",
    "Province",
    "County",
    "City",
    "University",
    "Institute",
    "Center",
    "Centre",
    "News",
    "Service",
    "Group",
    "Office",
    "Council",
    "Court",
    "Association",
    "Union",
    "Foundation",
    "Network",
    "Times",
    "Post",
    "Daily",
    "Radio",
    "Security",
    "State",
    "People",
    "Peoples",
    "Republic",
    "Democratic",
    "United",
    "Nations",
    "Human",
    "Rights",
    "Watch",
    "Free",
    "Asia",
    "Source",
    "Sources",
    "Police",
    "Border",
    "Guard",
    "Government",
    "Authorities",
    "Officials",
    "Residents",
    "According",
    "However",
    "Meanwhile",
    "Yonhap",
    "Reuters",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "In",
    "On",
    "At",
    "As",
    "If",
    "But",
    "And",
    "He",
    "She",
    "They",
    "We",
    "It",
    "His",
    "Her",
    "Their",
    "Our",
    "Its",
    "One",
    "Two",
    "Both",
    "Many",
    "Some",
    "Most",
    "Several",
    "Kim",
    "Workers",
    "Communist",
    "Unification",
    "Foreign",
    "Affairs",
    "International",
    "National",
    "Intelligence",
    "Central",
    "General",
    "Supreme",
    "Leader",
    "Chairman",
    "President",
    "Minister",
    "Comrade",
    "Mr",
    "Ms",
    "Dr",
    "Mount",
    "River",
    // Words that open sentences and clauses.
    "For",
    "From",
    "With",
    "After",
    "Before",
    "When",
    "While",
    "Since",
    "Under",
    "Despite",
    "Although",
    "Because",
    "During",
    "Then",
    "Now",
    "Yet",
    "Also",
    "Even",
    "Still",
    "Only",
    "Among",
    "Like",
    "Unlike",
    "Without",
    "Within",
    "Through",
    "Across",
    "Against",
    "Between",
    "Beyond",
    "Until",
    "Once",
    "Where",
    "Why",
    "How",
    "What",
    "Who",
    "Whether",
    "Every",
    "Each",
    "Such",
    "Other",
    "Another",
    "Last",
    "Next",
    "Earlier",
    "Later",
    "To",
    "Of",
    "By",
];

/// [`KOREAN_SURNAMES`] as a set: every capitalized pair of words in a text is looked up.
static SURNAME_SET: LazyLock<FxHashSet<&str>> =
    LazyLock::new(|| KOREAN_SURNAMES.iter().copied().collect());

/// [`NOT_NAMES`] as a set.
static NOT_NAME_SET: LazyLock<FxHashSet<&str>> =
    LazyLock::new(|| NOT_NAMES.iter().copied().collect());

/// Compiles this module's patterns and sets now rather than when first used (see
/// [`crate::extract::compile_patterns`]).
pub(crate) fn compile() {
    for set in [&SURNAME_SET, &NOT_NAME_SET] {
        LazyLock::force(set);
    }
    // Those for other scripts wait for the first text that needs them.
    LazyLock::force(&LATIN_NAMES);
    LazyLock::force(&SYLLABLE);
}

fn is_surname(word: &str) -> bool {
    SURNAME_SET.contains(word)
}

fn is_not_name(word: &str) -> bool {
    NOT_NAME_SET.contains(word)
}

/// Where each Korean family name in `text` starts that stands as a whole word followed by
/// whitespace: where every full Korean name [`NamePatterns::korean_at`] accepts starts. Every family name
/// is ASCII, so a word is a run of ASCII letters that starts after a byte that is no ASCII
/// letter, digit or `_` (a word boundary as the pattern's `(?-u:\b)` sees it).
fn surname_word_starts(text: &str) -> impl Iterator<Item = usize> + '_ {
    let bytes = text.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < bytes.len() {
            let starts_word = bytes[at].is_ascii_uppercase()
                && (at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_'));
            if !starts_word {
                at += 1;
                continue;
            }
            let start = at;
            let end = start
                + bytes[start..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphabetic())
                    .count();
            at = end.max(start + 1);
            // Both ends fall on character boundaries: ASCII letters on one side.
            if text[end..].chars().next().is_some_and(char::is_whitespace)
                && is_surname(&text[start..end])
            {
                return Some(start);
            }
        }
        None
    })
}

/// The patterns that find names by rule. Their letter classes (`\p{Lu}`, `\p{Ll}`, `\p{L}`)
/// take letters of every script, and compiling such classes is most of what extracting one
/// article costs (about 13 ms of a one-article rebuild). Nearly every text writes only Latin
/// letters: for it, [`LATIN_NAMES`] holds the same patterns with their classes cut down to the
/// Latin letters, which match exactly as these do and compile in a fifth of the time.
struct NamePatterns {
    /// "one surnamed Choi", "identified by her family name of Han": the name comes after.
    introduced: Regex,
    /// "Kim, a woman who asked to be identified only by her surname": the name comes first.
    introduced_before: Regex,
    /// [`KOREAN_NAME`] at the start of the text: it is run from each family name that starts
    /// a word (see [`surname_word_starts`]), where `^` stands for the word boundary before it.
    korean_at: Regex,
    /// A name after a title: "Special Rapporteur Elizabeth Salmon".
    titled: Regex,
    /// A name next to a verb of saying or a description: "said Lina Yoon", "Lina Yoon, a researcher".
    said: Regex,
}

/// A full Korean name: a family name, then a given name of two syllables, hyphenated or not.
const KOREAN_NAME: &str = r"(?P<sur>\p{Lu}\p{Ll}{0,5})\s+(?P<given>\p{Lu}\p{Ll}{0,5}(?:-\p{L}\p{Ll}{0,5}|\s+\p{Lu}\p{Ll}{0,5}))(?-u:\b)";

/// The words before a name that [`NamePatterns::said`]'s first alternative takes: `said_name`
/// cuts them off.
const VERBS_BEFORE: [&str; 4] = ["said", "says", "told", "according to"];

impl NamePatterns {
    /// Compiles the patterns, each rewritten by `letters` first.
    fn new(letters: fn(&str) -> String) -> Self {
        let compile = |pattern: &str| Regex::new(&letters(pattern)).expect("valid pattern");
        let name =
            r"\p{Lu}[\p{Ll}'’]+(?:-\p{L}\p{Ll}+)?(?:\s+\p{Lu}[\p{Ll}'’]+(?:-\p{L}\p{Ll}+)?){1,2}";
        let verbs = VERBS_BEFORE.join("|");
        NamePatterns {
            introduced: compile(
                r"(?:(?-u:\b)surnamed|(?-u:\b)(?:family|last|sur) ?name(?: is| of|,)?|(?-u:\b)pseudonym(?: of)?|\(pseudonym\)|(?-u:\b)named)\s+(?P<name>\p{Lu}[\p{Ll}'’]+(?:-\p{L}\p{Ll}+| \p{Lu}\p{Ll}+)?)",
            ),
            introduced_before: compile(
                r"(?-u:\b)(?P<name>\p{Lu}\p{Ll}+),[^.;]{0,160}?(?-u:\b)(?:identified|named|known)\s+only\s+(?:by|as)\s+(?:her|his|their)\s+(?:sur|family |last )?name",
            ),
            korean_at: compile(&format!("^{KOREAN_NAME}")),
            titled: compile(&format!(
                r"(?-u:\b)(?:{TITLES})\.?\s+(?P<name>\p{{Lu}}[\p{{Ll}}'’]+(?:-\p{{L}}[\p{{Ll}}]+)?(?:\s+\p{{Lu}}[\p{{Ll}}'’]+(?:-\p{{L}}[\p{{Ll}}]+)?){{0,2}})"
            )),
            said: compile(&format!(
                r"(?:(?-u:\b)(?:{verbs})\s+(?P<a>{name}))|(?:(?P<b>{name}),?\s+(?:said|says|told|added|explained|noted|wrote)(?-u:\b))|(?:(?P<c>{name}),\s+(?:a|an|the|who|director|head|chief|professor|researcher|senior|former|deputy|executive|founder|president|spokesperson|spokesman|spokeswoman|lawyer|analyst|fellow|associate)(?-u:\b))"
            )),
        }
    }

    /// The patterns that find the names in `text`: [`LATIN_NAMES`] unless it has a letter
    /// beyond [`LATIN_END`].
    fn for_text(text: &str) -> &'static NamePatterns {
        let beyond_latin =
            !text.is_ascii() && text.chars().any(|c| c > LATIN_END && c.is_alphabetic());
        if beyond_latin { &NAMES } else { &LATIN_NAMES }
    }
}

/// The last letter [`LATIN_NAMES`] knows: the end of Latin Extended-B, which holds every letter
/// of the romanizations of Korean ("ŏ", "ŭ") and of the European languages.
const LATIN_END: char = '\u{24F}';

/// `pattern` with each of its letter classes cut down to the letters up to [`LATIN_END`]. On a
/// text whose letters are all among them, it matches exactly where `pattern` does: a class can
/// only differ from its cut-down form on a letter beyond them (`char::is_alphabetic` takes
/// every letter `\p{L}` does, and more).
fn latin_letters(pattern: &str) -> String {
    // `\p{L}` is no part of `\p{Lu}` or `\p{Ll}`, nor of what replaces them: the order is safe.
    pattern
        .replace(r"\p{Lu}", r"[\p{Lu}&&\x00-\u{24F}]")
        .replace(r"\p{Ll}", r"[\p{Ll}&&\x00-\u{24F}]")
        .replace(r"\p{L}", r"[\p{L}&&\x00-\u{24F}]")
}

/// The name patterns for text of Latin letters: nearly all text.
static LATIN_NAMES: LazyLock<NamePatterns> = LazyLock::new(|| NamePatterns::new(latin_letters));

/// The name patterns for text with letters of other scripts: compiled when the first such text
/// comes.
static NAMES: LazyLock<NamePatterns> = LazyLock::new(|| NamePatterns::new(str::to_string));

static SYLLABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:kk|gg|tt|dd|pp|bb|ss|jj|tch|ch|ph|th|kh|sh|g|k|n|d|t|r|l|m|b|p|s|j|h|y|w)?(?:yae|yeo|wae|weo|ae|ya|eo|ye|wa|oe|yo|wo|we|wi|yu|eu|ui|oo|ee|oi|a|e|i|o|u)(?:ng|k|g|n|t|d|l|r|m|p|b|s)?$")
        .expect("valid pattern")
});

/// Whether `word` reads as one romanized Korean syllable ("Jong", "un", "Sŏng").
fn is_syllable(word: &str) -> bool {
    let folded = crate::extract::fold::fold_key(word);
    SYLLABLE.is_match(&folded)
}

/// The family and given names of a match of [`NamePatterns::korean_at`]: the family name runs to the first
/// space, the given name from the end of those spaces to the end. (Working out the pattern's
/// groups instead costs a slower search.)
fn korean_parts(name: &str) -> Option<(&str, &str)> {
    let (sur, given) = name.split_once(char::is_whitespace)?;
    Some((sur, given.trim_start()))
}

fn normalize(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('’', "'")
}

/// The name in a match of [`NamePatterns::titled`], as a byte range of the text: what follows the title (a
/// word of ASCII letters), its optional full stop and the spaces after them.
fn titled_name(found: regex::Match<'_>) -> (usize, usize) {
    let matched = found.as_str();
    let rest = matched.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    let rest = rest.strip_prefix('.').unwrap_or(rest);
    let rest = rest.trim_start();
    (found.end() - rest.len(), found.end())
}

/// The name in a match of [`NamePatterns::said`], as a byte range of the text. A match that starts in
/// lowercase is the first alternative, a verb then the name; the others start with the name,
/// then an optional comma, spaces and one lowercase word.
fn said_name(found: regex::Match<'_>) -> (usize, usize) {
    let matched = found.as_str();
    if matched.starts_with(|c: char| c.is_lowercase()) {
        let rest = VERBS_BEFORE
            .iter()
            .find_map(|verb| matched.strip_prefix(verb))
            .unwrap_or(matched)
            .trim_start();
        (found.end() - rest.len(), found.end())
    } else {
        let rest = matched.trim_end_matches(|c: char| c.is_ascii_lowercase());
        let rest = rest.trim_end();
        let rest = rest.strip_suffix(',').unwrap_or(rest);
        (found.start(), found.start() + rest.len())
    }
}

/// Names of people in `text` found by rule (not by the catalogue). `taken` holds byte ranges
/// already claimed by catalogue entities, which no name may overlap.
pub fn find(text: &str, taken: &[(usize, usize)]) -> Vec<NameHit> {
    let mut hits = Vec::new();
    let free = |start: usize, end: usize| taken.iter().all(|&(s, e)| end <= s || start >= e);
    let push = |hits: &mut Vec<NameHit>, name: &str, start: usize, end: usize, surname: &str| {
        if free(start, end)
            && !hits
                .iter()
                .any(|h: &NameHit| start < h.end && h.start < end)
        {
            hits.push(NameHit {
                name: normalize(name),
                start,
                end,
                surname: surname.to_string(),
            });
        }
    };
    // Cheap checks first: most paragraphs have none of the words these patterns need.
    let lower_has = |words: &[&str]| words.iter().any(|w| text.contains(w));
    let introduces = lower_has(&["name", "pseudonym"]);
    // ", " first: nearly every paragraph has one, and the check stops at the first word found.
    let says = lower_has(&[
        ", ",
        "said",
        "says",
        "told",
        "added",
        "explained",
        "noted",
        "wrote",
        "according",
    ]);
    let patterns = NamePatterns::for_text(text);
    for caps in patterns
        .introduced
        .captures_iter(if introduces { text } else { "" })
    {
        let Some(m) = caps.name("name") else { continue };
        let name = m.as_str();
        let first = name.split([' ', '-']).next().unwrap_or(name);
        if is_not_name(first) && !is_surname(first) {
            continue;
        }
        push(&mut hits, name, m.start(), m.end(), first);
    }
    // "… identified only by her surname": the pattern holds "only" too.
    let introduces_before = introduces && text.contains("only");
    for caps in patterns
        .introduced_before
        .captures_iter(if introduces_before { text } else { "" })
    {
        let is_name = |w: &str| !is_not_name(w) || is_surname(w);
        if let Some(m) = caps.name("name").filter(|m| is_name(m.as_str())) {
            push(&mut hits, m.as_str(), m.start(), m.end(), m.as_str());
        }
    }
    // Full Korean names start with a family name: the pattern is tried from each one that
    // starts a word, and from the end of the last name it matched. (Searching the whole text
    // matched any two or three capitalized words, "North Hamgyong Province", and such a match
    // could swallow the family name of the name after it.)
    let mut from = 0;
    for start in surname_word_starts(text) {
        if start < from {
            continue;
        }
        let Some(found) = patterns.korean_at.find(&text[start..]) else {
            continue;
        };
        from = start + found.end();
        let Some((sur, given)) = korean_parts(found.as_str()) else {
            continue;
        };
        let syllables: Vec<&str> = given.split([' ', '-']).filter(|s| !s.is_empty()).collect();
        if syllables.len() != 2
            || !syllables.iter().all(|s| is_syllable(s))
            || syllables.iter().any(|s| is_not_name(s))
        {
            continue;
        }
        push(&mut hits, &format!("{sur} {given}"), start, from, sur);
    }
    let add_western = |hits: &mut Vec<NameHit>, (start, end): (usize, usize)| {
        let name = &text[start..end];
        let words: Vec<&str> = name.split_whitespace().collect();
        if words
            .iter()
            .any(|w| is_not_name(w.trim_end_matches(['\'', '’', 's'])))
        {
            return;
        }
        let is_korean = is_surname(words[0]) && words.len() >= 2;
        let surname = if is_korean {
            words[0]
        } else {
            words[words.len() - 1]
        };
        push(hits, name, start, end, surname);
    };
    // Matches only, not their groups: where the name stands in a match follows from the
    // pattern (`titled_name`, `said_name`), and working out groups was most of these
    // patterns' cost, as most matches are no name.
    for found in patterns.titled.find_iter(text) {
        add_western(&mut hits, titled_name(found));
    }
    for found in patterns.said.find_iter(if says { text } else { "" }) {
        add_western(&mut hits, said_name(found));
    }
    hits.sort_by_key(|h| h.start);
    hits
}

/// Every bare use of `surname` in `text` as a capitalized whole word, as byte ranges.
pub fn bare_mentions(text: &str, surname: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    if surname.is_empty() {
        return found;
    }
    // memmem's vectorized search; a match of whole UTF-8 text starts on a character boundary.
    for start in memchr::memmem::find_iter(text.as_bytes(), surname.as_bytes()) {
        let end = start + surname.len();
        let before = text[..start].chars().next_back();
        let after = text[end..].chars().next();
        if before.is_some_and(char::is_alphanumeric) || after.is_some_and(char::is_alphanumeric) {
            continue;
        }
        found.push((start, end));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        find(text, &[]).into_iter().map(|h| h.name).collect()
    }

    #[test]
    fn introduced_names() {
        assert_eq!(
            names("Two individuals, including one surnamed Choi in his 40s"),
            ["Choi"]
        );
        assert_eq!(
            names("a woman in her 20s—identified by her family name of Han—under arrest"),
            ["Han"]
        );
        assert_eq!(
            names("a woman identified by her family name of Kang was arrested"),
            ["Kang"]
        );
    }

    #[test]
    fn korean_full_names() {
        assert_eq!(
            names("defector Jang Se-yul told reporters"),
            ["Jang Se-yul"]
        );
        assert_eq!(names("Ri Sol Ju appeared"), ["Ri Sol Ju"]);
        assert!(
            names("Han River Park and Kim Il Sung Square")
                .iter()
                .all(|n| n != "Han River")
        );
    }

    proptest::proptest! {
        /// The places the full-name pattern is tried from include every place where it
        /// matches, after a word boundary, a full name that starts with a family name.
        #[test]
        fn full_names_are_tried_wherever_they_start(
            words in proptest::collection::vec(
                proptest::sample::select(vec![
                    "Kim", "Ko", "Koh", "Korea", "Im", "In", "Jong", "un", "Sŏng", "Ri", "Sol",
                    "Ju", "Ha", "Han", "River", "kim", "Ökim", "_Kim", "1Kim", "é",
                ]),
                0..8,
            ),
            separators in proptest::collection::vec(
                proptest::sample::select(vec![" ", "  ", "-", "\n", "\u{a0}", ", ", "", ".", "é"]),
                8,
            ),
        ) {
            let mut text = String::new();
            for (word, separator) in words.iter().zip(&separators) {
                text.push_str(word);
                text.push_str(separator);
            }
            let anywhere = Regex::new(&format!(r"(?-u:\b){KOREAN_NAME}")).unwrap();
            let tried: Vec<usize> = surname_word_starts(&text).collect();
            for (at, _) in text.char_indices() {
                let name = anywhere.captures_at(&text, at).filter(|c| c.get(0).is_some_and(|m| m.start() == at));
                if let Some(sur) = name.as_ref().and_then(|c| c.name("sur")).filter(|s| is_surname(s.as_str())) {
                    proptest::prop_assert!(tried.contains(&sur.start()), "{:?} at {}", text, at);
                }
                // The parts of a match are its groups.
                if let Some((whole, sur, given)) = name.as_ref().and_then(|c| Some((c.get(0)?, c.name("sur")?, c.name("given")?))) {
                    proptest::prop_assert_eq!(korean_parts(whole.as_str()), Some((sur.as_str(), given.as_str())));
                }
            }
        }
    }

    #[test]
    fn surname_words() {
        let starts = |text: &str| surname_word_starts(text).collect::<Vec<_>>();
        assert_eq!(starts("said Kim Jong Un"), [5, 9]);
        assert_eq!(starts("Ri\u{a0}Sol and Kim Ha"), [0, 4, 12]);
        // Inside a word, at the end of the text, or followed by a hyphen: no family name.
        assert!(starts("Korea and Koh-Samui; the Kim").is_empty());
        assert!(starts("_Kim and 1Kim go").is_empty());
    }

    #[test]
    fn a_full_name_after_capitalized_words_is_found() {
        // Searched for anywhere, "Police Kim Jong" took the family name of the name.
        assert_eq!(names("Border Police Kim Min-ho was fined"), ["Kim Min-ho"]);
        assert_eq!(names("the Hyesan Lee Yong-hee case"), ["Lee Yong-hee"]);
    }

    #[test]
    fn titled_and_said() {
        assert_eq!(names("said Lina Yoon, a researcher"), ["Lina Yoon"]);
        assert_eq!(
            names("Special Rapporteur Elizabeth Salmon said"),
            ["Elizabeth Salmon"]
        );
        assert!(names("North Hamgyong said on Monday").is_empty());
        assert!(names("according to Daily NK").is_empty());
    }

    /// The name group of each match, as the patterns' captures give it: what `titled_name`
    /// and `said_name` must agree with.
    fn names_by_groups(patterns: &NamePatterns, text: &str) -> Vec<(usize, usize)> {
        let mut names = Vec::new();
        for caps in patterns.titled.captures_iter(text) {
            let m = caps.name("name").expect("the name group always takes part");
            names.push((m.start(), m.end()));
        }
        for caps in patterns.said.captures_iter(text) {
            let m = (caps.name("a").or_else(|| caps.name("b")))
                .or_else(|| caps.name("c"))
                .expect("each alternative has a name group");
            names.push((m.start(), m.end()));
        }
        names
    }

    fn names_by_matches(patterns: &NamePatterns, text: &str) -> Vec<(usize, usize)> {
        (patterns.titled.find_iter(text).map(titled_name))
            .chain(patterns.said.find_iter(text).map(said_name))
            .collect()
    }

    /// Every match of every pattern of `patterns` in `text`, with its groups, as byte ranges.
    fn every_match(patterns: &NamePatterns, text: &str) -> Vec<Vec<Option<(usize, usize)>>> {
        let NamePatterns {
            introduced,
            introduced_before,
            korean_at,
            titled,
            said,
        } = patterns;
        let mut found = Vec::new();
        for pattern in [introduced, introduced_before, korean_at, titled, said] {
            for caps in pattern.captures_iter(text) {
                found.push(
                    caps.iter()
                        .map(|m| m.map(|m| (m.start(), m.end())))
                        .collect(),
                );
            }
        }
        found
    }

    #[test]
    fn names_found_from_matches_are_the_groups_on_the_articles() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let (sources, _) = crate::source::load(root);
        let mut names = 0;
        for line in sources.iter().flat_map(|s| s.body.lines()) {
            let by_groups = names_by_groups(&NAMES, line);
            names += by_groups.len();
            assert_eq!(names_by_matches(&NAMES, line), by_groups, "{line}");
            // The articles write in Latin letters, where the cut-down patterns match the same.
            assert!(std::ptr::eq(NamePatterns::for_text(line), &*LATIN_NAMES));
            assert_eq!(every_match(&LATIN_NAMES, line), every_match(&NAMES, line));
        }
        assert!(names > 0, "no names: the comparison proves nothing");
    }

    #[test]
    fn names_in_other_scripts_are_found() {
        // Cyrillic and Greek letters lie beyond the Latin patterns' classes.
        assert_eq!(names("said Иван Петров, a researcher"), ["Иван Петров"]);
        assert_eq!(names("Νίκος Παππάς said"), ["Νίκος Παππάς"]);
        // One letter beyond Latin takes the whole text to the patterns for every script.
        assert_eq!(
            names("said Lina Yoon (윤) and Ünal Şahin, a lawyer"),
            ["Lina Yoon", "Ünal Şahin"]
        );
        assert!(std::ptr::eq(
            NamePatterns::for_text("Ünal Şahin"),
            &*LATIN_NAMES
        ));
        assert!(std::ptr::eq(NamePatterns::for_text("Ünal 윤"), &*NAMES));
        // Beyond Latin, but no letter: the Latin patterns.
        assert!(std::ptr::eq(
            NamePatterns::for_text("“Kim” — 2024 €"),
            &*LATIN_NAMES
        ));
    }

    proptest::proptest! {
        /// On text of Latin letters, the patterns cut down to Latin letters match exactly
        /// where those for every script do.
        #[test]
        fn latin_patterns_match_as_those_for_every_script(
            words in proptest::collection::vec((
                proptest::sample::select(vec![
                    "said", "told", "according to", "surnamed", "named", "only by her surname",
                    "Kim", "Jong", "Un", "Sŏng", "Ŭn", "O'Brien", "Lee-Min", "Ünal", "Şahin",
                    "Ri’s", "Mr", "Dr.", "the", "a", "director", "Ǆemal", "ǅ", "ß", "Æsa",
                    "Moon Jae-in", "Park Sang-hak", "“", "—", "2024", "ɐ", "Ɓello", "ℌ",
                ]),
                proptest::sample::select(vec![" ", ", ", ",", "  ", "\u{a0}", ". ", "\n", "-", ""]),
            ), 0..16)
        ) {
            let text: String = words.iter().flat_map(|(word, space)| [*word, *space]).collect();
            // "ɐ" (just past Latin Extended-B) and "ℌ" are letters beyond Latin; without them,
            // the text takes the Latin patterns.
            let latin = std::ptr::eq(NamePatterns::for_text(&text), &*LATIN_NAMES);
            proptest::prop_assert_eq!(latin, !text.contains(['ɐ', 'ℌ']));
            if latin {
                proptest::prop_assert_eq!(every_match(&LATIN_NAMES, &text), every_match(&NAMES, &text));
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn names_found_from_matches_are_the_groups(
            words in proptest::collection::vec((
                proptest::sample::select(vec![
                    "said", "says", "told", "according to", "added", "wrote", "Kim", "Jong",
                    "Un", "O'Brien", "Lee-Min", "Ünal", "Ri’s", "Mr", "Mrs.", "Dr.", "General",
                    "the", "a", "who", "director", "spokesman", "North", "Korea", "Kang",
                    "Moon Jae-in", "Park Sang-hak",
                ]),
                proptest::sample::select(vec![" ", " ", ", ", ",", "  ", "\u{a0}", ". ", "\n", "-", ""]),
            ), 0..16)
        ) {
            let text: String = words.iter().flat_map(|(word, space)| [*word, *space]).collect();
            for patterns in [&*LATIN_NAMES, &*NAMES] {
                proptest::prop_assert_eq!(names_by_matches(patterns, &text), names_by_groups(patterns, &text));
            }
        }
    }
}
