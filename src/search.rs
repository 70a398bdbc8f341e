//! The search index: built here at build time, shipped as classic scripts that the search page
//! loads with injected `<script src>` tags (no fetch, modules or WASM, which `file://` blocks).
//!
//! Layout under `search/`: `manifest.js` (document count, shard keys, facet values with their
//! aliases), `t/<hex prefix>.js` term shards by folded prefix, `d/<doc>.js` one fragment per
//! article (title, date, paragraphs, facet ids), `f/<facet>.js` the articles of one facet value.
//! Articles are numbered oldest first, newest last. Postings carry precomputed BM25 impacts, so
//! the reader's browser only adds numbers.
//! Pure: returns pages for `write`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;
use serde_json::{Value, json};

use crate::catalog::EntityKey;
use crate::extract::fold::{fold, fold_text};
use crate::graph::Dossier;
use crate::render::Page;

/// A term found in more articles than this keeps only the articles where it weighs most: its
/// other articles would rank low anyway, and a reader should not download them all.
const MAX_POSTINGS: usize = 2000;
/// A term shard is split into longer prefixes above this many bytes.
const SHARD_LIMIT: usize = 24 * 1024;
/// Term weights: title words count thrice, words of entity names twice.
const TITLE_WEIGHT: f64 = 3.0;
const ENTITY_WEIGHT: f64 = 2.0;
/// Articles tokenized at once before their terms join the index.
const TOKENIZE_BATCH: usize = 512;
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// The tokens of `text` for search: folded (case, accents), split on anything but letters and
/// digits, stopwords dropped; Chinese, Japanese and Korean characters each stand alone.
pub fn tokens(text: &str) -> Vec<String> {
    let folded = fold_text(text);
    let mut out = Vec::new();
    folded_tokens(&folded, &mut out);
    out.into_iter().map(str::to_string).collect()
}

/// [`tokens`] of text already folded, as slices of it: the index tokenizes every paragraph of
/// every article, and a string per word was most of its allocations.
fn folded_tokens<'t>(folded: &'t str, out: &mut Vec<&'t str>) {
    let mut word_start = None;
    for (at, c) in folded.char_indices() {
        if c.is_alphanumeric() && !is_cjk(c) {
            word_start.get_or_insert(at);
            continue;
        }
        if let Some(start) = word_start.take() {
            push_word(&folded[start..at], out);
        }
        if is_cjk(c) {
            // Each Chinese, Japanese or Korean character is a token, however short.
            out.push(&folded[at..at + c.len_utf8()]);
        }
    }
    if let Some(start) = word_start {
        push_word(&folded[start..], out);
    }
}

/// Adds `word` to `out` unless it is a stopword or a single letter (a single digit stays).
fn push_word<'t>(word: &'t str, out: &mut Vec<&'t str>) {
    if !is_stopword(word)
        && (word.chars().nth(1).is_some() || word.bytes().all(|b| b.is_ascii_digit()))
    {
        out.push(word);
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF)
}

/// Words too common to index or to search for, sorted for [`is_stopword`]. The search page
/// drops the same words from queries (`STOP` in the theme's `search.js`; a test compares them).
const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "for", "from", "had", "has",
    "have", "he", "her", "his", "in", "is", "it", "its", "of", "on", "or", "she", "that", "the",
    "their", "them", "they", "this", "to", "was", "were", "which", "who", "will", "with",
];

/// The length in bytes of the longest stopword.
const STOPWORD_MAX_LEN: usize = 5;

/// Whether `word` is a stopword. Asked of every word of every article: longer words are ruled
/// out by their length alone, the rest by a binary search (comparing strings was 4% of a
/// build when every word went through it).
fn is_stopword(word: &str) -> bool {
    word.len() <= STOPWORD_MAX_LEN && STOPWORDS.binary_search(&word).is_ok()
}

#[derive(Default)]
struct Posting {
    weight: f64,
    best_paragraph: usize,
}

/// A posting in the joined index, kept small (12 bytes): at 100,000 articles there are tens of
/// millions. Weights are sums of the whole-number weights above, exact in an `f32`.
struct Joined {
    doc: u32,
    paragraph: u32,
    weight: f32,
}

/// The terms of one article with their postings, and the article's length for BM25.
struct DocTerms {
    terms: Vec<(String, Posting)>,
    length: f64,
}

/// Tokenizes one article: title, paragraphs, adjacent word pairs and entity names.
fn doc_terms(dossier: &Dossier, article: &crate::graph::Article) -> DocTerms {
    let mut terms: FxHashMap<String, Posting> = FxHashMap::default();
    let mut length = 0.0;
    // Looks the term up by reference, so a term seen before costs no allocation.
    let mut add = |term: &str, paragraph: usize, weight: f64| {
        length += weight;
        let posting = match terms.get_mut(term) {
            Some(posting) => posting,
            None => terms.entry(term.to_string()).or_default(),
        };
        posting.weight += weight;
        // Results link to the first paragraph that uses the term.
        if posting.best_paragraph == 0 {
            posting.best_paragraph = paragraph;
        }
    };
    let mut pair = String::new();
    let texts = std::iter::once(article.metadata.title.as_str())
        .chain(article.paragraphs.iter().map(|p| p.text.as_str()));
    for (paragraph, text) in texts.enumerate() {
        let weight = if paragraph == 0 { TITLE_WEIGHT } else { 1.0 };
        let folded = fold_text(text);
        let mut words = Vec::new();
        folded_tokens(&folded, &mut words);
        for word in &words {
            add(word, paragraph, weight);
        }
        // Adjacent word pairs answer quoted phrases.
        for two in words.windows(2) {
            pair.clear();
            pair.push_str(two[0]);
            pair.push(' ');
            pair.push_str(two[1]);
            add(&pair, paragraph, 0.0);
        }
    }
    for key in article.metadata.entities() {
        let name = dossier
            .entities
            .get(key)
            .map_or(key.slug.as_str(), |n| n.entity.name.as_str());
        for word in tokens(name) {
            add(&word, 0, ENTITY_WEIGHT);
        }
    }
    DocTerms {
        terms: terms.into_iter().collect(),
        length: length.max(1.0),
    }
}

/// Builds every file of the search index.
pub fn index(dossier: &Dossier) -> Vec<Page> {
    // Articles are numbered oldest first: a new article, usually the newest, takes the next
    // number, and the files of every other article (fragments, facet sets) stay as they were.
    let docs: Vec<usize> = dossier.by_date.iter().rev().copied().collect();
    // Articles tokenize in parallel, a batch at a time; each batch's terms then join in
    // document order (batches keep the memory of per-article term maps small).
    let mut lengths: Vec<f64> = Vec::with_capacity(docs.len());
    let mut joined: FxHashMap<String, Vec<Joined>> = FxHashMap::default();
    for (batch_number, batch) in docs.chunks(TOKENIZE_BATCH).enumerate() {
        let per_doc: Vec<DocTerms> = batch
            .par_iter()
            .map(|&article_index| doc_terms(dossier, &dossier.articles[article_index]))
            .collect();
        for (offset, doc_terms) in per_doc.into_iter().enumerate() {
            let doc = batch_number * TOKENIZE_BATCH + offset;
            lengths.push(doc_terms.length);
            for (term, posting) in doc_terms.terms {
                let entry = Joined {
                    doc: doc as u32,
                    paragraph: posting.best_paragraph as u32,
                    weight: posting.weight as f32,
                };
                match joined.get_mut(&term) {
                    Some(list) => list.push(entry),
                    None => {
                        joined.insert(term, vec![entry]);
                    }
                }
            }
        }
    }
    let mut terms: Vec<(String, Vec<Joined>)> = joined.into_iter().collect();
    terms.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let count = docs.len().max(1) as f64;
    let average = lengths.iter().sum::<f64>() / count;

    // Impacts: BM25 per term and article, as whole numbers. Pairs share their words' idf scale.
    // A very common term keeps only its strongest articles (see MAX_POSTINGS).
    // Each term's postings are encoded and dropped as it goes.
    let encoded: BTreeMap<String, String> = terms
        .into_par_iter()
        .map(|(term, postings)| {
            let df = postings.len() as f64;
            let idf = ((count - df + 0.5) / (df + 0.5) + 1.0).ln();
            let mut scored: Vec<(usize, u64, usize)> = postings
                .iter()
                .map(|posting| {
                    let doc = posting.doc as usize;
                    let tf = if posting.weight > 0.0 {
                        f64::from(posting.weight)
                    } else {
                        1.0
                    };
                    let norm = tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * lengths[doc] / average));
                    let impact = (idf * norm * 100.0).round().max(1.0) as u64;
                    (doc, impact, posting.paragraph as usize)
                })
                .collect();
            if scored.len() > MAX_POSTINGS {
                // On equal impact the newer article (the higher number) stays.
                scored.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
                scored.truncate(MAX_POSTINGS);
                scored.sort_by_key(|p| p.0);
            }
            let mut numbers = Vec::with_capacity(scored.len() * 3);
            let mut previous = 0usize;
            for (doc, impact, paragraph) in scored {
                numbers.extend([(doc - previous) as u64, impact, paragraph as u64]);
                previous = doc;
            }
            (term, varints(&numbers))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .collect();

    // Shards by folded prefix, split until each is small.
    let mut pages = Vec::new();
    let mut splits: BTreeSet<String> = BTreeSet::new();
    let mut shards: BTreeMap<String, BTreeMap<&str, &String>> = BTreeMap::new();
    // (prefix, the terms under it) still to place in shards
    type Group<'a> = Vec<(&'a str, &'a String)>;
    let mut pending: Vec<(String, Group)> = vec![(
        String::new(),
        encoded.iter().map(|(t, l)| (t.as_str(), l)).collect(),
    )];
    while let Some((prefix, items)) = pending.pop() {
        let size: usize = items.iter().map(|(t, l)| t.len() + l.len() + 6).sum();
        let depth = prefix.chars().count();
        if (size <= SHARD_LIMIT || depth >= 6) && !prefix.is_empty() {
            shards.entry(prefix).or_default().extend(items);
            continue;
        }
        if !prefix.is_empty() {
            splits.insert(prefix.clone());
        }
        let mut groups: BTreeMap<String, Group> = BTreeMap::new();
        for (term, list) in items {
            let key: String = term.chars().take(depth + 1).collect();
            groups.entry(key).or_default().push((term, list));
        }
        for (key, group) in groups {
            if key.chars().count() <= depth {
                // Terms no longer than the prefix stay in a shard of their own.
                shards.entry(key).or_default().extend(group);
            } else {
                pending.push((key, group));
            }
        }
    }
    for (key, entries) in &shards {
        let data: BTreeMap<&str, &String> = entries.clone();
        pages.push(script(&format!("t/{}", hex(key)), &data));
    }

    // Facet values: entities with articles, then years.
    let mut facet_ids: HashMap<FacetKey, usize> = HashMap::new();
    let mut facets: Vec<Value> = Vec::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for node in dossier.entities.values().filter(|n| !n.articles.is_empty()) {
        facet_ids.insert(FacetKey::Entity(node.entity.key.clone()), facets.len());
        let mut aliases: Vec<String> = node.entity.aliases.iter().map(|a| fold(a).text).collect();
        aliases.sort();
        aliases.dedup();
        facets.push(json!([
            node.entity.key.kind.as_str(),
            node.entity.key.slug,
            node.entity.name,
            node.entity.key.url(),
            node.articles.len(),
            aliases
        ]));
        members.push(Vec::new());
    }
    for (&year, node) in &dossier.years {
        facet_ids.insert(FacetKey::Year(year), facets.len());
        let mut articles: Vec<usize> = node.published.clone();
        articles.extend(node.references.iter().map(|&(a, _)| a));
        articles.sort_unstable();
        articles.dedup();
        facets.push(json!([
            "year",
            year.to_string(),
            year.to_string(),
            format!("years/{year}.html"),
            articles.len(),
            []
        ]));
        members.push(Vec::new());
    }
    let doc_facets: Vec<Vec<usize>> = docs
        .par_iter()
        .map(|&article_index| {
            let article = &dossier.articles[article_index];
            let mut ids: BTreeSet<usize> = BTreeSet::new();
            for key in article.metadata.entities() {
                if let Some(&id) = facet_ids.get(&FacetKey::Entity(key.clone())) {
                    ids.insert(id);
                }
            }
            for year in article.metadata.all_years() {
                if let Some(&id) = facet_ids.get(&FacetKey::Year(year)) {
                    ids.insert(id);
                }
            }
            ids.into_iter().collect()
        })
        .collect();
    for (doc, ids) in doc_facets.iter().enumerate() {
        for &id in ids {
            members[id].push(doc);
        }
    }
    let fragments: Vec<Page> = docs
        .par_iter()
        .zip(doc_facets)
        .enumerate()
        .map(|(doc, (&article_index, ids))| {
            let article = &dossier.articles[article_index];
            let fragment = DocFragment {
                t: &article.metadata.title,
                u: article.url(),
                d: article.metadata.date.map(crate::render::format_date),
                e: ids,
                p: article.paragraphs.iter().map(|p| p.text.as_str()).collect(),
            };
            script(&format!("d/{doc}"), &fragment)
        })
        .collect();
    pages.extend(fragments);
    for (id, docs_of) in members.iter().enumerate() {
        pages.push(script(&format!("f/{id}"), &encode_set(docs_of)));
    }
    let shard_keys: Vec<&String> = shards.keys().collect();
    let manifest = json!({
        "docs": docs.len(),
        "shards": shard_keys,
        "splits": splits,
        "facets": facets,
    });
    pages.push(script("manifest", &manifest));
    pages
}

#[derive(Hash, PartialEq, Eq)]
enum FacetKey {
    Entity(EntityKey),
    Year(i32),
}

#[derive(Serialize)]
struct DocFragment<'a> {
    t: &'a str,
    u: String,
    d: Option<String>,
    e: Vec<usize>,
    p: Vec<&'a str>,
}

/// A set of article numbers, in order: a list of gaps when sparse, a base64 bitmap when dense,
/// whichever is smaller. The bitmap ends at the set's last article, not at the last article of
/// the dossier, so adding an article leaves the files of the sets without it as they were.
fn encode_set(docs: &[usize]) -> Value {
    let end = docs.last().map_or(0, |&last| last + 1);
    let mut bits = vec![0u8; end.div_ceil(8)];
    for &d in docs {
        bits[d / 8] |= 1 << (d % 8);
    }
    let bitmap = base64(&bits);
    let mut gaps = Vec::with_capacity(docs.len());
    let mut previous = 0;
    for &d in docs {
        gaps.push((d - previous) as u64);
        previous = d;
    }
    let list = varints(&gaps);
    if bitmap.len() < list.len() {
        json!({ "bits": bitmap })
    } else {
        json!({ "gaps": list })
    }
}

/// Numbers as text, five bits a character with a continuation bit: small numbers (gaps between
/// article numbers, paragraph numbers) take one character instead of JSON's two or more.
pub fn varints(numbers: &[u64]) -> String {
    const DIGITS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(numbers.len() * 2);
    for &n in numbers {
        let mut n = n;
        while n >= 32 {
            out.push(DIGITS[((n & 31) | 32) as usize] as char);
            n >>= 5;
        }
        out.push(DIGITS[n as usize] as char);
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A shard's file name part: the prefix's UTF-8 bytes in hex, safe on every file system.
pub fn hex(key: &str) -> String {
    key.bytes().map(|b| format!("{b:02x}")).collect()
}

/// `search/<name>.js`: a classic script handing its data to the page's loader. The JSON is
/// made safe to sit inside a script: `<`, `>` and `&` are escaped, so no `</script>` in the
/// data can end it.
fn script(name: &str, data: &impl Serialize) -> Page {
    let json = serde_json::to_vec(data).unwrap_or_else(|_| b"null".to_vec());
    let mut bytes = Vec::with_capacity(json.len() + name.len() + 32);
    bytes.extend_from_slice(format!("dossierSearch.add({name:?},").as_bytes());
    // Copies runs of plain bytes whole (the index is tens of megabytes of article text);
    // U+2028 and U+2029 are the bytes E2 80 A8 and E2 80 A9.
    let mut copied = 0;
    let mut at = 0;
    while at < json.len() {
        let (escape, width): (&[u8], usize) = match json[at] {
            b'<' => (b"\\u003c", 1),
            b'>' => (b"\\u003e", 1),
            b'&' => (b"\\u0026", 1),
            0xE2 if json[at + 1..].starts_with(&[0x80, 0xA8]) => (b"\\u2028", 3),
            0xE2 if json[at + 1..].starts_with(&[0x80, 0xA9]) => (b"\\u2029", 3),
            _ => {
                at += 1;
                continue;
            }
        };
        bytes.extend_from_slice(&json[copied..at]);
        bytes.extend_from_slice(escape);
        at += width;
        copied = at;
    }
    bytes.extend_from_slice(&json[copied..]);
    bytes.extend_from_slice(b");\n");
    Page {
        path: format!("search/{name}.js").into(),
        bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_fold_and_drop_stopwords() {
        assert_eq!(
            tokens("The Hoeryŏng-based MSS’s agents in 2020"),
            ["hoeryong", "based", "mss", "agents", "2020"]
        );
        assert_eq!(tokens("회령 市"), ["회", "령", "市"]);
    }

    #[test]
    fn stopwords_are_sorted_and_match_the_search_page() {
        assert!(STOPWORDS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(
            STOPWORDS.iter().map(|w| w.len()).max(),
            Some(STOPWORD_MAX_LEN)
        );
        let script = include_str!("../themes/default/static/search.js");
        let line = script
            .lines()
            .find(|l| l.contains("var STOP = "))
            .expect("search.js declares STOP");
        let quoted = line.split('"').nth(1).expect("STOP is a quoted list");
        assert_eq!(quoted.split(' ').collect::<Vec<_>>(), STOPWORDS);
    }

    #[test]
    fn sets_pick_the_smaller_encoding() {
        assert_eq!(encode_set(&[1, 5]), json!({"gaps": "BE"}));
        assert_eq!(varints(&[0, 31, 32, 1000]), "AfgBof");
        let dense: Vec<usize> = (0..100).collect();
        assert!(encode_set(&dense).get("bits").is_some());
        // The bitmap covers the set, whatever the dossier's size.
        let bits = encode_set(&dense);
        assert_eq!(
            bits["bits"].as_str().unwrap().len(),
            100_usize.div_ceil(8).div_ceil(3) * 4
        );
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
    }

    #[test]
    fn scripts_cannot_be_closed_by_data() {
        let page = script("x", &json!({"t": "</script><script>alert(1)</script>"}));
        let text = String::from_utf8(page.bytes).unwrap();
        assert!(!text.contains("</script"), "{text}");
        // Line and paragraph separators end a line in older JavaScript; `&` is escaped too.
        let page = script("x", &json!({"t": "a\u{2028}b\u{2029}c&d é…"}));
        let text = String::from_utf8(page.bytes).unwrap();
        assert_eq!(
            text,
            "dossierSearch.add(\"x\",{\"t\":\"a\\u2028b\\u2029c\\u0026d é…\"});\n"
        );
    }
}
