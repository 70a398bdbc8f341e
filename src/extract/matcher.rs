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
    /// entities), which pays from about [`Matcher::MANY_TEXTS`] articles on.
    pub fn for_many_texts(catalog: &Catalog) -> Matcher {
        Matcher::build(catalog, AhoCorasickKind::DFA)
    }

    /// How many articles to extract make [`Matcher::for_many_texts`] worth its build time.
    pub const MANY_TEXTS: usize = 1000;

    fn build(catalog: &Catalog, kind: AhoCorasickKind) -> Matcher {
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
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(kind))
            .build(sorted.iter().map(|(form, _)| form.as_str()))
            .expect("folded aliases always build an automaton");
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
