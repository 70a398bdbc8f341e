//! Candidate names the catalogue lacks: capitalized phrases that end like the name of a place or
//! an organization ("... County", "... Bureau", "Ministry of ..."), for `dossier entities --unknown`.

use std::sync::LazyLock;

use regex::Regex;

static CANDIDATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?-u:\b)(?:(?:[A-Z][\w'’-]*|of|and|for|the)\s+){0,6}?(?:Province|County|City|District|Prefecture|Bureau|Ministry|Department|Agency|Command|Office|Committee|Commission|Group|Court|Act|Law|Unit|Brigade|Corps|Division|Council|Center|Centre|Institute)(?-u:\b)|(?-u:\b)Ministry\s+of\s+(?:(?:[A-Z][\w'’-]*|and|the)\s*)+",
    )
    .expect("valid pattern")
});

/// Capitalized phrases in `text` that look like names of places or organizations and that no
/// catalogue match (`taken`, byte ranges) covers.
pub fn candidates(text: &str, taken: &[(usize, usize)]) -> Vec<String> {
    let mut found = Vec::new();
    for m in CANDIDATE.find_iter(text) {
        let phrase = m.as_str().trim();
        // Trim leading lowercase joiners ("of the Ministry" -> "Ministry").
        let start_word = phrase
            .split_whitespace()
            .position(|w| w.chars().next().is_some_and(char::is_uppercase));
        let Some(skip) = start_word else { continue };
        let words: Vec<&str> = phrase.split_whitespace().skip(skip).collect();
        if words.len() < 2 {
            continue; // "County" alone is no name
        }
        let phrase = words.join(" ");
        let head_end = m.end();
        let head_start = head_end - words.last().map_or(0, |w| w.len());
        if taken.iter().any(|&(s, e)| s < head_end && head_start < e) {
            continue; // the head word is part of a catalogue match
        }
        found.push(phrase.trim_end_matches(['’', '\'']).to_string());
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_unknown_names_only() {
        assert_eq!(
            candidates(
                "agents of the Chemical Processing Bureau and Onsong County met",
                &[]
            ),
            ["Chemical Processing Bureau", "Onsong County"]
        );
        let text = "the Ministry of State Security said";
        assert!(candidates(text, &[(4, 30)]).is_empty());
        assert!(candidates("the county and the bureau", &[]).is_empty());
    }
}
