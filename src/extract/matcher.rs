//! Finding catalogue entities in text: every alias compiled into one Aho-Corasick automaton over
//! folded text, whole words only, the leftmost-longest match winning.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::catalog::{Catalog, EntityKey, alias_forms};
use crate::extract::fold::{Folded, fold, fold_key};

/// How the case of the text must agree with an alias.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum CaseRule {
    /// Any case (names of several words, lowercase class phrases such as "border guard").
    Any,
    /// A single capitalized word must be capitalized in the text too ("Orang", not "orang").
    Capitalized,
    /// Acronyms match only as written ("MSS", not "mss" or "Mss").
    Exact(String),
}

#[derive(Debug, Clone)]
struct Pattern {
    entity: usize,
    rule: CaseRule,
}

/// One entity found in a text, as original byte offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Index of the entity in [`Matcher::keys`].
    pub entity: usize,
    /// Byte offset where the match starts in the original text.
    pub start: usize,
    /// Byte offset where it ends.
    pub end: usize,
}

/// The compiled aliases of a catalogue.
#[derive(Debug, Clone)]
pub struct Matcher {
    automaton: AhoCorasick,
    patterns: Vec<Pattern>,
    /// The entities the automaton finds, by index.
    pub keys: Vec<EntityKey>,
    by_form: HashMap<String, usize>,
}

impl Matcher {
    /// Compiles every name and alias of `catalog`, quick to build: for a few texts.
    pub fn new(catalog: &Catalog) -> Matcher {
        Matcher::build(catalog, AhoCorasickKind::ContiguousNFA)
    }

    /// Compiles every name and alias of `catalog` into a machine about a tenth quicker to
    /// search with and twice as slow to build (a DFA: 15 ms more for a catalogue of 400
    /// entities), which pays from about [`Matcher::MANY_TEXTS`] articles on. A catalogue
    /// whose aliases pass [`Matcher::DFA_ALIAS_BYTES`] gets the machine of [`Matcher::new`].
    pub fn for_many_texts(catalog: &Catalog) -> Matcher {
        Matcher::build(catalog, AhoCorasickKind::DFA)
    }

    /// How many articles to extract make [`Matcher::for_many_texts`] worth its build time.
    pub const MANY_TEXTS: usize = 1000;

    /// Bytes of folded aliases up to which [`Matcher::for_many_texts`] builds a DFA. A DFA
    /// takes about 140 bytes of memory for each byte of alias (4.8 MB for the 35 KB of this
    /// repository's catalogue) and its build time grows with it, where the NFA takes about 8:
    /// a catalogue imported from a gazetteer, with millions of names, would need gigabytes,
    /// and past two billion table entries the DFA cannot be built at all.
    pub const DFA_ALIAS_BYTES: usize = 256 * 1024;

    fn build(catalog: &Catalog, mut kind: AhoCorasickKind) -> Matcher {
        let mut keys = Vec::new();
        let mut forms: HashMap<String, Pattern> = HashMap::new();
        for (index, entity) in catalog.entities.values().enumerate() {
            keys.push(entity.key.clone());
            for alias in std::iter::once(&entity.name).chain(&entity.aliases) {
                let rule = case_rule(alias);
                for form in alias_forms(alias) {
                    if form.is_empty() {
                        continue;
                    }
                    let pattern = Pattern {
                        entity: index,
                        rule: rule.clone(),
                    };
                    forms
                        .entry(form)
                        .and_modify(|p| {
                            // The same spelling written twice: the more permissive rule wins.
                            if p.entity == index && pattern.rule < p.rule {
                                p.rule = pattern.rule.clone();
                            }
                        })
                        .or_insert(pattern);
                }
            }
        }
        let mut sorted: Vec<(String, Pattern)> = forms.into_iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let by_form = sorted
            .iter()
            .map(|(form, p)| (form.clone(), p.entity))
            .collect();
        let alias_bytes: usize = sorted.iter().map(|(form, _)| form.len()).sum();
        if kind == AhoCorasickKind::DFA && alias_bytes > Matcher::DFA_ALIAS_BYTES {
            kind = AhoCorasickKind::ContiguousNFA;
        }
        let forms = || sorted.iter().map(|(form, _)| form.as_str());
        let mut builder = AhoCorasick::builder();
        builder.match_kind(MatchKind::Standard);
        // A machine of the kind asked for can be too large to number its states; the builder's
        // own choice then falls back to the noncontiguous NFA, whose limit (two billion
        // states) no catalogue reaches before the memory it would take runs out.
        let automaton = (builder.kind(Some(kind)).build(forms()))
            .or_else(|_| builder.kind(None).build(forms()))
            .expect("a noncontiguous NFA numbers the states of any catalogue that fits in memory");
        Matcher {
            automaton,
            patterns: sorted.into_iter().map(|(_, p)| p).collect(),
            keys,
            by_form,
        }
    }

    /// The entity a name or alias stands for, if the catalogue knows it.
    pub fn lookup(&self, name: &str) -> Option<usize> {
        alias_forms(name)
            .iter()
            .find_map(|form| self.by_form.get(form).copied())
    }

    /// Every entity in `text`, whole words only, leftmost-longest, not overlapping.
    pub fn find(&self, text: &str) -> Vec<Hit> {
        self.find_folded(text, &fold(text))
    }

    /// [`Matcher::find`] with `text` already folded for matching (`folded`).
    pub fn find_folded(&self, text: &str, folded: &Folded) -> Vec<Hit> {
        let haystack = folded.text.as_str();
        let mut candidates: Vec<(usize, usize, usize)> = Vec::new();
        for m in self.automaton.find_overlapping_iter(haystack) {
            if !is_boundary(haystack, m.start(), m.end()) {
                continue;
            }
            let pattern = &self.patterns[m.pattern().as_usize()];
            let (start, end) = folded.original_range(m.start(), m.end(), text);
            let original = &text[start..end];
            let agrees = match &pattern.rule {
                CaseRule::Any => true,
                CaseRule::Capitalized => original.chars().next().is_some_and(char::is_uppercase),
                CaseRule::Exact(alias) => original == alias,
            };
            if agrees {
                candidates.push((start, end, pattern.entity));
            }
        }
        candidates.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        let mut hits: Vec<Hit> = Vec::new();
        for (start, end, entity) in candidates {
            if hits.last().is_some_and(|h| start < h.end) {
                continue;
            }
            hits.push(Hit { entity, start, end });
        }
        hits
    }
}

fn case_rule(alias: &str) -> CaseRule {
    let letters = alias.chars().filter(|c| c.is_alphabetic()).count();
    let is_acronym = (2..=6).contains(&letters)
        && !alias.chars().any(char::is_lowercase)
        && !alias.contains(' ');
    if is_acronym {
        CaseRule::Exact(alias.to_string())
    } else if !fold_key(alias).contains(' ') && alias.chars().next().is_some_and(char::is_uppercase)
    {
        CaseRule::Capitalized
    } else {
        CaseRule::Any
    }
}

/// A match must not start or end inside a word.
fn is_boundary(haystack: &str, start: usize, end: usize) -> bool {
    let before = haystack[..start].chars().next_back();
    let after = haystack[end..].chars().next();
    let outside = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    outside(before) && outside(after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Diagnostics;

    fn catalog(text: &str) -> Catalog {
        let mut problems = Diagnostics::new();
        let files = vec![(std::path::PathBuf::from("t.toml"), text.to_string())];
        let catalog = crate::catalog::parse_files(&files, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        catalog
    }

    fn names(matcher: &Matcher, text: &str) -> Vec<(String, String)> {
        matcher
            .find(text)
            .into_iter()
            .map(|h| {
                (
                    matcher.keys[h.entity].slug.to_string(),
                    text[h.start..h.end].to_string(),
                )
            })
            .collect()
    }

    const CATALOG: &str = r#"
[[place]]
name = "Chagang Province"
aliases = ["Chagang", "Jagang"]
[[place]]
name = "Hoeryong"
aliases = ["Hoeryong City"]
[[place]]
name = "Manpo"
aliases = ["Manp'o"]
[[place]]
name = "Orang County"
aliases = ["Orang"]
[[agency]]
name = "Ministry of State Security"
aliases = ["MSS", "Bowibu", "State Security Department"]
[[agency]]
name = "Provincial State Security Bureau"
"#;

    #[test]
    fn folds_and_finds_whole_words() {
        let m = Matcher::new(&catalog(CATALOG));
        assert_eq!(
            names(
                &m,
                "In Hoeryŏng City and Hoeryong’s market, Hyesan-based MSS agents"
            ),
            [
                ("hoeryong".into(), "Hoeryŏng City".into()),
                ("hoeryong".into(), "Hoeryong".into()),
                ("ministry-of-state-security".into(), "MSS".into())
            ]
        );
        assert!(names(&m, "Hoeryongs and amss").is_empty());
    }

    #[test]
    fn acronyms_are_case_sensitive_and_single_words_capitalized() {
        let m = Matcher::new(&catalog(CATALOG));
        assert!(names(&m, "the mss and Mss; an orang").is_empty());
        assert_eq!(names(&m, "Orang").len(), 1);
        assert_eq!(names(&m, "Manpo and Manp’o").len(), 2);
    }

    #[test]
    fn compound_yields_place_and_agency() {
        let m = Matcher::new(&catalog(CATALOG));
        let found = names(&m, "the Chagang Provincial State Security Bureau said");
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].0, "chagang-province");
        assert_eq!(found[1].0, "provincial-state-security-bureau");
    }

    #[test]
    fn a_catalogue_past_the_dfa_limit_gets_the_nfa_and_finds_the_same() {
        // Place names of 41 bytes each: their folded forms pass the limit.
        let mut text = String::new();
        let name = |i: usize| format!("Place {i:06} of a long name for the limit");
        let count = Matcher::DFA_ALIAS_BYTES / 40 + 1;
        for i in 0..count {
            text.push_str(&format!("[[place]]\nname = \"{}\"\n", name(i)));
        }
        let catalog = catalog(&text);
        let many = Matcher::for_many_texts(&catalog);
        assert_eq!(many.automaton.kind(), AhoCorasickKind::ContiguousNFA);
        let few = Matcher::new(&catalog);
        let found = format!("In {} and {}.", name(7), name(count - 1));
        assert_eq!(many.find(&found), few.find(&found));
        assert_eq!(many.find(&found).len(), 2);
        // This repository's catalogue is well under the limit.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let ours = crate::catalog::load(root).expect("the repository's catalogue loads");
        let ours = Matcher::for_many_texts(&ours);
        assert_eq!(ours.automaton.kind(), AhoCorasickKind::DFA);
    }

    #[test]
    fn both_machines_find_the_same_entities() {
        // This repository's catalogue and articles, each line a text, and the texts above.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let catalog = crate::catalog::load(root).expect("the repository's catalogue loads");
        let (sources, _) = crate::source::load(root);
        assert!(!sources.is_empty());
        let lines = sources.iter().flat_map(|s| s.body.lines());
        let texts: Vec<&str> = lines
            .chain([
                "In Hoeryŏng City and Hoeryong’s market, Hyesan-based MSS agents",
                "the mss and Mss; an orang, Manpo and Manp’o",
                "the Chagang Provincial State Security Bureau said",
            ])
            .collect();
        let few = Matcher::new(&catalog);
        let many = Matcher::for_many_texts(&catalog);
        let mut found = 0;
        for text in texts {
            let hits = few.find(text);
            found += hits.len();
            assert_eq!(hits, many.find(text), "{text}");
        }
        assert!(
            found > 100,
            "only {found} hits: the comparison proves little"
        );
    }
}
