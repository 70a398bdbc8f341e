//! The search index: built here at build time, shipped as classic scripts that the search page
//! loads with injected `<script src>` tags (no fetch, modules or WASM, which `file://` blocks).
//!
//! Articles are numbered oldest first, newest last, and the index is cut into segments of
//! consecutive articles (see `segment_ranges`; their size is `[search] segment_articles` in
//! `site.toml`), each made from its own articles alone: a new article, usually the newest,
//! changes only the last segment, and a rebuild keeps the others' files without tokenizing
//! their articles again.
//!
//! Layout under `search/`:
//! - `manifest.js`: the article count, the average article length, each segment's first
//!   article and shard keys, and the facet values with their aliases;
//! - `t/<segment>/<hex prefix>.js`: a segment's term shards, by folded prefix. Each term has
//!   its document frequency in the segment and, per article, its weight, the article's length
//!   and the paragraph to link to; the reader's browser computes BM25 with the whole dossier's
//!   statistics, so scores are as if the index were one;
//! - `d/<page>.js`: one fragment per article (title, date, paragraphs, facet values), named as
//!   its page is (`d/arrests.js` for `articles/arrests.html`);
//! - `n/<k>.js`: the page names of articles `k × 64` to `k × 64 + 63`, by number, which lead
//!   from a result to its fragment;
//! - `f/<kind>/<slug>.js`: the articles of one facet value (`f/place/hyesan.js`,
//!   `f/year/2019.js`).
//!
//! Files are named by what stays put when articles come and go. An article's fragment is
//! named by its page, not its number: an older article coming in moves every later number,
//! and only the small lists of names follow. Facet values are named by kind and slug, never
//! by their place in the manifest's list: an article that names an entity no other article
//! names adds a value to that list, and every other article's fragment and every other
//! value's set must stay as they were.

use std::path::Path;

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use xxhash_rust::xxh3::Xxh3;

use crate::config::SearchOptions;
use crate::error::Diagnostic;
use crate::extract::fold::{fold, fold_text, fold_text_onto, folded_text};
use crate::graph::Dossier;
use crate::render::Page;
use crate::write::{Noted, Sink};

/// A term found in more than this share of a segment's articles (one in eight), or in more than
/// [`MAX_POSTINGS`] of them, keeps only the articles where it weighs most: its other articles
/// would rank low anyway, and a reader should not download them all.
const MAX_POSTINGS_SHARE: usize = 8;
/// See [`MAX_POSTINGS_SHARE`].
const MAX_POSTINGS: usize = 2048;
/// A term keeps at least this many articles of a segment: a small segment (or a dossier of
/// up to this many articles) keeps them all.
const MIN_POSTINGS: usize = 1024;
/// Changes whenever the files' format does, so that no build keeps a segment of another format.
/// The manifest names it, and the search page's code (`search.js`, which a site may hold a copy
/// of from an older dossier) reads only an index of the format it names too.
const INDEX_FORMAT: &str = "dossier search index, segments 4";
/// A term shard of a segment of `segment_articles` or more is split into longer prefixes above
/// this many bytes; a small segment's shards, a fraction as large as its articles are (see
/// [`shard_limit`]).
const SHARD_LIMIT: usize = 24 * 1024;
/// The smallest shard limit.
const MIN_SHARD_LIMIT: usize = 4 * 1024;
/// Term weights: title words count thrice, words of entity names twice.
const TITLE_WEIGHT: f64 = 3.0;
const ENTITY_WEIGHT: f64 = 2.0;
/// Article page names a file of `n/` lists (see the module's documentation).
const NAMES_PER_FILE: usize = 64;
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
    let bytes = folded.as_bytes();
    let mut word_start = None;
    let mut at = 0;
    // A run of ASCII letters and digits at a time (most of any text), a character decoded
    // only at a byte outside ASCII, which always starts one.
    while let Some(&byte) = bytes.get(at) {
        if byte.is_ascii_alphanumeric() {
            word_start.get_or_insert(at);
            at += (bytes[at..].iter())
                .take_while(|b| b.is_ascii_alphanumeric())
                .count();
            continue;
        }
        // Any other ASCII byte (a space, most often) ends a word, and is no word itself.
        if byte.is_ascii() {
            if let Some(start) = word_start.take() {
                push_word(&folded[start..at], out);
            }
            at += 1;
            continue;
        }
        let Some(c) = folded[at..].chars().next() else {
            break;
        };
        if c.is_alphanumeric() && !is_cjk(c) {
            word_start.get_or_insert(at);
        } else {
            if let Some(start) = word_start.take() {
                push_word(&folded[start..at], out);
            }
            if is_cjk(c) {
                // Each Chinese, Japanese or Korean character is a token, however short.
                out.push(&folded[at..at + c.len_utf8()]);
            }
        }
        at += c.len_utf8();
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

/// The stopwords packed into numbers (see [`pack_short`]), in the same order: asked of every
/// word of every article, a search among numbers, where comparing strings, even by binary
/// search, was 1-4% of a build.
const PACKED_STOPWORDS: [u64; STOPWORDS.len()] = {
    let mut packed = [0; STOPWORDS.len()];
    let mut i = 0;
    while i < STOPWORDS.len() {
        packed[i] = pack_short(STOPWORDS[i].as_bytes());
        i += 1;
    }
    packed
};

/// A word of at most 8 bytes as a number, its bytes big-endian and zero-padded: words without
/// zero bytes compare as their numbers do.
const fn pack_short(word: &[u8]) -> u64 {
    let mut packed = 0;
    let mut i = 0;
    while i < 8 {
        packed <<= 8;
        if i < word.len() {
            packed |= word[i] as u64;
        }
        i += 1;
    }
    packed
}

/// Whether `word` is a stopword. Longer words are ruled out by their length alone.
fn is_stopword(word: &str) -> bool {
    word.len() <= STOPWORD_MAX_LEN
        && PACKED_STOPWORDS
            .binary_search(&pack_short(word.as_bytes()))
            .is_ok()
}

#[derive(Default)]
struct Posting {
    weight: f64,
    best_paragraph: usize,
}

/// A posting in a segment's joined index, kept small (12 bytes): at 100,000 articles there are
/// tens of millions. Weights are sums of the whole-number weights above, exact in an `f32`.
#[derive(Serialize, Deserialize)]
struct Joined {
    doc: u32,
    paragraph: u32,
    weight: f32,
}

/// The terms of one article with their postings, and the article's length for BM25. Words are
/// byte ranges of `folded`, the article's folded text, so that tokenizing allocates nothing
/// per word; a pair is its two words' places in `words`.
struct DocTerms {
    folded: String,
    words: Vec<(Span, Posting)>,
    pairs: Vec<((u32, u32), Posting)>,
    length: u64,
}

/// Where a word is in [`DocTerms::folded`].
type Span = (u32, u32);

impl DocTerms {
    /// The text of the word at `span`.
    fn word(&self, (start, end): Span) -> &str {
        &self.folded[start as usize..end as usize]
    }
}

/// A segment's terms before they are encoded: every posting of every term, by term, in article
/// order, and each article's length; with what each article's terms were made from.
#[derive(Default, Serialize, Deserialize)]
struct SegmentTerms {
    /// Each article's input (see [`Plan::doc_input`]), in order.
    inputs: Vec<u128>,
    /// Each article's length, in order.
    lengths: Vec<u64>,
    /// Each term, a word or two words and a space between, with its postings; in no order.
    joined: Vec<(String, Vec<Joined>)>,
}

/// Where each term of a [`SegmentTerms`] is in its `joined`, while articles join it: a word by
/// its text, a pair by its two words' places. A pair's postings are found by two numbers,
/// without writing out its text, which only a pair new to the segment needs.
#[derive(Default)]
struct TermPlaces {
    words: FxHashMap<String, u32>,
    pairs: FxHashMap<(u32, u32), u32>,
}

impl TermPlaces {
    /// The places of the terms of `joined`; `None` if a pair's word is not among them (which
    /// joining never makes).
    fn of(joined: &[(String, Vec<Joined>)]) -> Option<TermPlaces> {
        let mut places = TermPlaces::default();
        let place = |i: usize| u32::try_from(i).ok();
        for (i, (term, _)) in joined.iter().enumerate() {
            if !term.contains(' ') {
                places.words.insert(term.clone(), place(i)?);
            }
        }
        for (i, (term, _)) in joined.iter().enumerate() {
            if let Some((first, second)) = term.split_once(' ') {
                let key = (*places.words.get(first)?, *places.words.get(second)?);
                places.pairs.insert(key, place(i)?);
            }
        }
        Some(places)
    }

    /// The place of `word` in `joined`, added to it if new.
    fn word(&mut self, word: &str, joined: &mut Vec<(String, Vec<Joined>)>) -> u32 {
        if let Some(&place) = self.words.get(word) {
            return place;
        }
        let place = joined.len() as u32;
        joined.push((word.to_string(), Vec::new()));
        self.words.insert(word.to_string(), place);
        place
    }

    /// The place of the pair of the words at places `first` and `second` in `joined`, added to
    /// it if new.
    fn pair(
        &mut self,
        (first, second): (u32, u32),
        joined: &mut Vec<(String, Vec<Joined>)>,
    ) -> u32 {
        *self.pairs.entry((first, second)).or_insert_with(|| {
            let text = [
                joined[first as usize].0.as_str(),
                joined[second as usize].0.as_str(),
            ]
            .join(" ");
            joined.push((text, Vec::new()));
            (joined.len() - 1) as u32
        })
    }
}

impl SegmentTerms {
    /// What these terms, kept from an earlier build, hold of a segment whose articles have
    /// `inputs`: the terms of the articles they start with that were made from the same inputs
    /// (those of an edited article and of every article after it dropped). Nothing, unless
    /// they are sound: every posting's article among them, each term's in order, as encoding
    /// them needs.
    fn common_start(mut self, inputs: &[u128]) -> Self {
        let count = self.inputs.len();
        let sound = self.lengths.len() == count
            && self.joined.iter().all(|(_, postings)| {
                postings
                    .last()
                    .is_none_or(|last| (last.doc as usize) < count)
                    && postings.windows(2).all(|pair| pair[0].doc < pair[1].doc)
            });
        if !sound {
            return SegmentTerms::default();
        }
        let same = (self.inputs.iter().zip(inputs))
            .take_while(|(kept, now)| kept == now)
            .count();
        if same < count {
            self.inputs.truncate(same);
            self.lengths.truncate(same);
            self.joined.retain_mut(|(_, postings)| {
                postings.truncate(postings.partition_point(|p| (p.doc as usize) < same));
                !postings.is_empty()
            });
        }
        self
    }
}

/// The terms of the newest segment, kept in the cache folder as [`TAIL_FILE`]: a newest
/// article, which joins that segment, is then the only one to tokenize. At 10,000 articles
/// the segment holds 784, whose tokenizing was 7% of the CPU time of such a rebuild.
#[derive(Serialize, Deserialize)]
struct TailTerms {
    /// The segment's first article number.
    start: usize,
    terms: SegmentTerms,
}

/// The file of [`TailTerms`] in the cache folder.
const TAIL_FILE: &str = "search-tail.bin";

/// The newest segment's terms as the last build that made it kept them, if the file is sound.
fn load_tail(folder: &Path) -> Option<TailTerms> {
    let bytes = std::fs::read(folder.join(TAIL_FILE)).ok()?;
    postcard::from_bytes(crate::cache::checked_body(&bytes)?).ok()
}

/// Keeps `tail` for the next build. Failing to write only costs that build time.
fn save_tail(folder: &Path, tail: &TailTerms) {
    if let Ok(body) = postcard::to_stdvec(tail) {
        let _ = crate::cache::write_checked(&folder.join(TAIL_FILE), body);
    }
}

/// Tokenizes one article: title, paragraphs, adjacent word pairs and entity names.
fn doc_terms(dossier: &Dossier, index: usize) -> DocTerms {
    let article = &dossier.articles[index];
    // Everything the article is indexed under, folded into one text first: the title, the
    // paragraphs, then the names of its entities; with the weight and paragraph of each part.
    let mut folded = Vec::new();
    let mut parts: Vec<(std::ops::Range<usize>, usize, f64)> = Vec::new();
    let texts = std::iter::once(article.metadata.title.as_str())
        .chain(article.body().paragraphs.iter().map(|p| p.text.as_str()));
    for (paragraph, text) in texts.enumerate() {
        let weight = if paragraph == 0 { TITLE_WEIGHT } else { 1.0 };
        let start = folded.len();
        fold_text_onto(text, &mut folded);
        parts.push((start..folded.len(), paragraph, weight));
        folded.push(b'\n');
    }
    let names = parts.len();
    for key in dossier.entities_of(index) {
        let start = folded.len();
        fold_text_onto(dossier.entity_name(key), &mut folded);
        parts.push((start..folded.len(), 0, ENTITY_WEIGHT));
        folded.push(b'\n');
    }
    let folded = folded_text(folded);

    // Words are numbered as first seen, and word pairs looked up by their words' numbers:
    // a pair's lookup then hashes and compares two numbers, not two strings.
    let mut numbers: FxHashMap<&str, u32> = FxHashMap::default();
    let mut words: Vec<(&str, Posting)> = Vec::new();
    let mut pairs: FxHashMap<(u32, u32), Posting> = FxHashMap::default();
    let mut length = 0.0;
    let add = |posting: &mut Posting, paragraph: usize, weight: f64| {
        posting.weight += weight;
        // Results link to the first paragraph that uses the term.
        if posting.best_paragraph == 0 {
            posting.best_paragraph = paragraph;
        }
    };
    let mut tokens = Vec::new();
    let mut numbered = Vec::new();
    for (number, (range, paragraph, weight)) in parts.into_iter().enumerate() {
        tokens.clear();
        numbered.clear();
        folded_tokens(&folded[range], &mut tokens);
        for &word in &tokens {
            let id = *numbers.entry(word).or_insert_with(|| {
                words.push((word, Posting::default()));
                (words.len() - 1) as u32
            });
            length += weight;
            add(&mut words[id as usize].1, paragraph, weight);
            numbered.push(id);
        }
        // Adjacent word pairs of the title and paragraphs answer quoted phrases; they add
        // nothing to the article's length.
        if number < names {
            for two in numbered.windows(2) {
                add(pairs.entry((two[0], two[1])).or_default(), paragraph, 0.0);
            }
        }
    }
    let span = |word: &str| -> Span {
        let start = word.as_ptr() as usize - folded.as_ptr() as usize;
        (start as u32, (start + word.len()) as u32)
    };
    let words: Vec<(Span, Posting)> = (words.into_iter())
        .map(|(word, posting)| (span(word), posting))
        .collect();
    DocTerms {
        folded,
        words,
        pairs: pairs.into_iter().collect(),
        // A sum of whole numbers.
        length: (length as u64).max(1),
    }
}

/// What a segment's files imply and the rest of the index needs: its shard keys for the
/// manifest, and the total length of its articles for BM25's average. A build that keeps the
/// segment's files reads it back from the note it recorded with them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SegmentKeys {
    shards: Vec<String>,
    splits: Vec<String>,
    length: u64,
}

/// Everything about the index that is not a segment's own: which article has which number,
/// and the facet values (entities with articles, then years) with their members.
struct Plan<'a> {
    dossier: &'a Dossier,
    /// Article indexes by article number: oldest first.
    docs: Vec<usize>,
    /// The article numbers of each segment, in order (see [`segment_ranges`]).
    segments: Vec<std::ops::Range<usize>>,
    /// `[search] segment_articles`.
    segment_articles: usize,
    /// Each facet value as the manifest lists it.
    facets: Vec<Value>,
    /// Each facet value's name in files: `<kind>/<slug>` (see the module's documentation).
    facet_names: Vec<String>,
    /// The article numbers of each facet value, in order.
    members: Vec<Vec<usize>>,
    /// The facet values of each article, by article number.
    doc_facets: Vec<Vec<usize>>,
    /// Each entity's name (see [`Dossier::entity_name`]), by entity number.
    entity_names: Vec<&'a str>,
    /// How many articles were tokenized.
    tokenized: std::sync::atomic::AtomicUsize,
}

impl<'a> Plan<'a> {
    fn new(dossier: &'a Dossier, segment_articles: usize) -> Self {
        // Articles are numbered oldest first: a new article, usually the newest, takes the next
        // number, and the files of every other article (fragments, segments, facet sets) stay
        // as they were.
        let docs: Vec<usize> = dossier.by_date.iter().rev().copied().collect();
        // Facet ids by entity number (its place in `entity_keys`, the order of `entities`)
        // and by year: entities first, in key order, then years in order, so an article's
        // ids come out sorted from its sorted entity numbers and years.
        let mut entity_facet: Vec<Option<usize>> = vec![None; dossier.entity_keys.len()];
        let mut facets: Vec<Value> = Vec::new();
        let mut facet_names: Vec<String> = Vec::new();
        for (id, node) in dossier.entities.values().enumerate() {
            if node.articles.is_empty() {
                continue;
            }
            entity_facet[id] = Some(facets.len());
            let key = &node.entity.key;
            facet_names.push(format!("{}/{}", key.kind.as_str(), key.slug));
            let mut aliases: Vec<String> =
                node.entity.aliases.iter().map(|a| fold(a).text).collect();
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
        }
        let mut year_facet: FxHashMap<i32, usize> = FxHashMap::default();
        for (&year, node) in &dossier.years {
            year_facet.insert(year, facets.len());
            facet_names.push(format!("year/{year}"));
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
        }
        let doc_facets: Vec<Vec<usize>> = docs
            .par_iter()
            .map(|&article_index| {
                // Both lists are sorted and without repeats, and every entity id is below
                // every year id.
                let entities = dossier.article_entities[article_index]
                    .iter()
                    .filter_map(|&id| entity_facet.get(id).copied().flatten());
                let years = (dossier.article_years[article_index].iter())
                    .filter_map(|year| year_facet.get(year).copied());
                entities.chain(years).collect()
            })
            .collect();
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); facets.len()];
        for (doc, ids) in doc_facets.iter().enumerate() {
            for &id in ids {
                members[id].push(doc);
            }
        }
        let segments = segment_ranges(docs.len(), segment_articles);
        let entity_names = (dossier.entities.values())
            .map(|node| node.entity.name.as_str())
            .collect();
        Plan {
            dossier,
            docs,
            segment_articles,
            segments,
            facets,
            facet_names,
            members,
            doc_facets,
            entity_names,
            tokenized: Default::default(),
        }
    }

    fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// The article numbers of segment `segment`.
    fn segment_docs(&self, segment: usize) -> std::ops::Range<usize> {
        self.segments[segment].clone()
    }

    /// A hash of everything article `article_index`'s terms ([`doc_terms`]) are made from: its
    /// own data (see [`Plan::segment_input`]) and the names of its entities.
    fn doc_input(&self, article_index: usize, context: u128) -> u128 {
        let mut hasher = self.article_hasher(article_index, context);
        for &id in &self.dossier.article_entities[article_index] {
            hash_text(&mut hasher, self.entity_names[id]);
        }
        hasher.digest128()
    }

    /// A hasher that has taken in what every file of article `article_index`'s own is made
    /// from: the index format, the extraction `context` and the article's file digest.
    fn article_hasher(&self, article_index: usize, context: u128) -> Xxh3 {
        let mut hasher = Xxh3::new();
        hash_text(&mut hasher, INDEX_FORMAT);
        hasher.update(&context.to_le_bytes());
        hasher.update(&self.dossier.articles[article_index].digest.to_le_bytes());
        hasher
    }

    /// The terms of segment `segment`'s articles. `resume`, terms kept from an earlier build,
    /// is used when it holds the first articles of the segment, made from the same inputs:
    /// only the articles after them are tokenized.
    fn segment_terms(
        &self,
        segment: usize,
        context: u128,
        resume: Option<SegmentTerms>,
    ) -> SegmentTerms {
        let docs = &self.docs[self.segment_docs(segment)];
        let inputs: Vec<u128> = docs
            .par_iter()
            .map(|&article_index| self.doc_input(article_index, context))
            .collect();
        let mut terms = resume
            .map(|kept| kept.common_start(&inputs))
            .unwrap_or_default();
        let mut places = TermPlaces::of(&terms.joined).unwrap_or_else(|| {
            terms = SegmentTerms::default();
            TermPlaces::default()
        });
        let done = terms.inputs.len();
        terms.inputs = inputs;
        // Articles tokenize in parallel, a batch at a time; each batch's terms then join in
        // article order (batches keep the memory of per-article term maps small).
        let mut word_places = Vec::new();
        for batch in docs[done..].chunks(TOKENIZE_BATCH) {
            let per_doc: Vec<DocTerms> = batch
                .par_iter()
                .map(|&article_index| doc_terms(self.dossier, article_index))
                .collect();
            for doc_terms in &per_doc {
                let doc = terms.lengths.len() as u32;
                terms.lengths.push(doc_terms.length);
                let entry = |posting: &Posting| Joined {
                    doc,
                    paragraph: posting.best_paragraph as u32,
                    weight: posting.weight as f32,
                };
                word_places.clear();
                for &(span, ref posting) in &doc_terms.words {
                    let place = places.word(doc_terms.word(span), &mut terms.joined);
                    terms.joined[place as usize].1.push(entry(posting));
                    word_places.push(place);
                }
                for &((first, second), ref posting) in &doc_terms.pairs {
                    let key = (word_places[first as usize], word_places[second as usize]);
                    let place = places.pair(key, &mut terms.joined);
                    terms.joined[place as usize].1.push(entry(posting));
                }
            }
        }
        self.tokenized
            .fetch_add(docs.len() - done, std::sync::atomic::Ordering::Relaxed);
        terms
    }

    /// A hash of everything segment `segment`'s files are made from: its articles' numbers,
    /// own data (each article's file digest, with the extraction `context`: see
    /// [`crate::graph::Article::digest`]) and entity names.
    fn segment_input(&self, segment: usize, context: u128) -> u128 {
        // Numbers go in as fixed-width bytes and strings with their length first, so that
        // different inputs cannot hash the same bytes; nothing is formatted (this runs over
        // every article in every build).
        let mut hasher = Xxh3::new();
        hash_text(&mut hasher, INDEX_FORMAT);
        hasher.update(&context.to_le_bytes());
        let range = self.segment_docs(segment);
        hasher.update(&(range.start as u64).to_le_bytes());
        hasher.update(&(range.end as u64).to_le_bytes());
        for doc in range {
            let article_index = self.docs[doc];
            let article = &self.dossier.articles[article_index];
            hasher.update(&article.digest.to_le_bytes());
            // An entity's name is the catalogue's, or for one the catalogue lacks, as the
            // first article that names it wrote it: not always this article's own data.
            for &id in &self.dossier.article_entities[article_index] {
                hash_text(&mut hasher, self.entity_names[id]);
            }
        }
        hasher.digest128()
    }

    /// The files of segment `segment`, its term shards (`t/<segment>/<hex prefix>.js`), with
    /// what the manifest needs of them.
    fn segment(&self, segment: usize, terms: SegmentTerms) -> (Vec<Page>, SegmentKeys) {
        let docs = &self.docs[self.segment_docs(segment)];
        let SegmentTerms {
            lengths, joined, ..
        } = terms;
        let total_length: u64 = lengths.iter().sum();
        let average = total_length as f64 / docs.len().max(1) as f64;
        // Both limits follow the size of the segment's tier, not the articles it holds so far:
        // the newest segment, or a small dossier's only one, keeps every posting it would keep
        // full.
        let size = tier_size(docs.len(), self.segment_articles);
        let max_postings = size
            .div_ceil(MAX_POSTINGS_SHARE)
            .clamp(MIN_POSTINGS, MAX_POSTINGS);

        // Postings: [document frequency, then gap, tf, article length, paragraph per article].
        // The reader's browser weighs them with BM25 from the whole dossier's article count and
        // average length, so this segment's files depend on its own articles only. A common
        // term keeps the articles where it weighs most (see MAX_POSTINGS_SHARE).
        let mut encoded: Vec<(String, String)> = joined
            .into_par_iter()
            .map(|(term, postings)| {
                let mut kept: Vec<(u32, u64, u32)> = postings
                    .iter()
                    .map(|p| (p.doc, (p.weight as u64).max(1), p.paragraph))
                    .collect();
                if kept.len() > max_postings {
                    // Within one term, BM25 orders articles by tf and length alone. On equal
                    // weight the newer article (the higher number) stays. An article has one
                    // posting per term, so this order is total and the articles kept do not
                    // depend on the selection's algorithm. Each weight is worked out once, and
                    // the best are selected, not sorted: a common term in a large segment
                    // has tens of thousands of postings.
                    let norm = |&(doc, tf, _): &(u32, u64, u32)| {
                        let tf = tf as f64;
                        let length = lengths[doc as usize] as f64;
                        tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * length / average))
                    };
                    let mut weighed: Vec<(f64, (u32, u64, u32))> =
                        kept.iter().map(|p| (norm(p), *p)).collect();
                    weighed.select_nth_unstable_by(max_postings - 1, |a, b| {
                        b.0.total_cmp(&a.0).then(b.1.0.cmp(&a.1.0))
                    });
                    kept = weighed[..max_postings].iter().map(|&(_, p)| p).collect();
                    kept.sort_unstable_by_key(|p| p.0);
                }
                let mut numbers = Vec::with_capacity(kept.len() * 4 + 1);
                numbers.push(postings.len() as u64);
                let mut previous = 0;
                for (doc, tf, paragraph) in kept {
                    numbers.extend([
                        u64::from(doc - previous),
                        tf,
                        lengths[doc as usize],
                        u64::from(paragraph),
                    ]);
                    previous = doc;
                }
                (term, varints(&numbers))
            })
            .collect();
        encoded.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));

        let limit = shard_limit(size, self.segment_articles);
        let (shards, splits) = shard(&encoded, limit);
        let pages: Vec<Page> = shards
            .par_iter()
            .map(|(key, range)| {
                let terms = &encoded[range.clone()];
                let size = (terms.iter())
                    .map(|(term, postings)| term.len() + postings.len() + 6)
                    .sum::<usize>();
                script_from(&format!("t/{segment}/{}", hex(key)), size + 2, |out| {
                    push_terms(out, terms);
                })
            })
            .collect();
        let keys = SegmentKeys {
            shards: shards.into_iter().map(|(key, _)| key).collect(),
            splits,
            length: total_length,
        };
        (pages, keys)
    }

    /// What article number `doc`'s fragment is made from: the index format, the extraction
    /// `context` and the article's file digest (which stand for its title, date and
    /// paragraphs), its page name and its facet values.
    fn fragment_input(&self, doc: usize, context: u128) -> u128 {
        let article_index = self.docs[doc];
        let mut hasher = self.article_hasher(article_index, context);
        hash_text(&mut hasher, &self.dossier.articles[article_index].slug);
        for &id in &self.doc_facets[doc] {
            hash_text(&mut hasher, &self.facet_names[id]);
        }
        hasher.digest128()
    }

    /// The script name of article number `doc`'s fragment: `d/<page>`.
    fn fragment_name(&self, doc: usize) -> String {
        format!("d/{}", self.dossier.articles[self.docs[doc]].slug)
    }

    /// Article number `doc`'s fragment (see [`Plan::fragment_name`]).
    fn fragment(&self, doc: usize) -> Vec<u8> {
        let article = &self.dossier.articles[self.docs[doc]];
        let fragment = DocFragment {
            t: &article.metadata.title,
            u: article.url(),
            d: article.metadata.date.map(crate::render::format_date),
            e: (self.doc_facets[doc].iter())
                .map(|&id| self.facet_names[id].as_str())
                .collect(),
            p: (article.body().paragraphs.iter())
                .map(|p| p.text.as_str())
                .collect(),
        };
        script_from(&self.fragment_name(doc), fragment.size(), |out| {
            fragment.write(out)
        })
        .bytes
    }

    /// Every article's fragment, each made only when what it is made from has changed since
    /// the last build (an article's fragment depends on no other article).
    fn write_fragments(&self, sink: &Sink, context: u128) -> Result<(), Diagnostic> {
        let inputs: Vec<u128> = (0..self.docs.len())
            .into_par_iter()
            .map(|doc| self.fragment_input(doc, context))
            .collect();
        let mut all = Xxh3::new();
        for input in &inputs {
            all.update(&input.to_le_bytes());
        }
        let Some(group) = sink.group("search fragments", all.digest128())? else {
            return Ok(());
        };
        inputs
            .into_par_iter()
            .enumerate()
            .try_for_each(|(doc, input)| {
                let path = script_path(&self.fragment_name(doc));
                group.put_made(path, input, || Ok(self.fragment(doc)))
            })
    }

    /// The files made from the whole dossier: the facet sets, the lists of page names and the
    /// manifest.
    fn shared(&self, segments: &[SegmentKeys]) -> Vec<Page> {
        let mut pages: Vec<Page> = self
            .members
            .par_iter()
            .enumerate()
            .map(|(id, docs_of)| {
                let name = &self.facet_names[id];
                script(&format!("f/{name}"), &encode_set(docs_of))
            })
            .collect();
        pages.par_extend(
            self.docs
                .par_chunks(NAMES_PER_FILE)
                .enumerate()
                .map(|(k, docs)| {
                    let names: Vec<&str> = (docs.iter())
                        .map(|&index| self.dossier.articles[index].slug.as_str())
                        .collect();
                    script(&format!("n/{k}"), &names)
                }),
        );
        let total: u64 = segments.iter().map(|s| s.length).sum();
        let manifest = json!({
            // The search page's code reads only the format it was written for.
            "format": INDEX_FORMAT,
            "docs": self.docs.len(),
            // How many page names an `n/` file lists.
            "names": NAMES_PER_FILE,
            // The average article length, for BM25.
            "length": total as f64 / self.docs.len().max(1) as f64,
            "segments": segments
                .iter()
                .zip(&self.segments)
                .map(|(s, range)| json!({"start": range.start, "shards": s.shards, "splits": s.splits}))
                .collect::<Vec<_>>(),
            "facets": self.facets,
        });
        pages.push(script("manifest", &manifest));
        pages
    }
}

/// Adds `text` to `hasher`, its length first, so that different inputs cannot hash the same
/// bytes.
fn hash_text(hasher: &mut Xxh3, text: &str) {
    hasher.update(&(text.len() as u64).to_le_bytes());
    hasher.update(text.as_bytes());
}

/// Segments come in three sizes, each this many times the next: `segment_articles` times
/// this, `segment_articles`, and `segment_articles` divided by this.
const TIER: usize = 8;

/// The article numbers of each segment of an index of `count` articles, oldest first: as many
/// large segments (`segment_articles` × 8) as fit, then as many of `segment_articles`, then
/// the rest in small segments (`segment_articles` / 8). A new article (numbered last) changes
/// only the last small segment, whose articles are few to tokenize again; when eight small
/// segments fill up they become one of the middle size, and eight of those one large. A query
/// loads a shard from every segment, so the tiers keep their number low (at most 14 besides
/// the large ones).
fn segment_ranges(count: usize, segment_articles: usize) -> Vec<std::ops::Range<usize>> {
    let sizes = tier_sizes(segment_articles);
    let mut ranges = Vec::new();
    let mut start = 0;
    for (tier, size) in sizes.into_iter().enumerate() {
        let last = tier == sizes.len() - 1;
        while start < count && (count - start >= size || last) {
            let end = (start + size).min(count);
            ranges.push(start..end);
            start = end;
        }
    }
    ranges
}

/// Splits a segment's encoded terms, sorted, into shards by folded prefix, each small enough to
/// load for one query: a prefix is split into longer ones while its terms are too many (up to
/// six characters). Returns each shard's prefix with the range of terms it holds, sorted by
/// prefix, and the prefixes that were split. A term equal to a split prefix has the shard of
/// that prefix to itself. Terms sharing a prefix are neighbours in sorted order, so every
/// shard is one range.
fn shard(
    terms: &[(String, String)],
    limit: usize,
) -> (Vec<(String, std::ops::Range<usize>)>, Vec<String>) {
    let mut shards = Vec::new();
    let mut splits = Vec::new();
    // (prefix, its length in characters, the terms under it) still to place
    let mut pending = vec![(String::new(), 0, 0..terms.len())];
    while let Some((prefix, depth, range)) = pending.pop() {
        let size: usize = terms[range.clone()]
            .iter()
            .map(|(t, l)| t.len() + l.len() + 6)
            .sum();
        if (size <= limit || depth >= 6) && depth > 0 {
            shards.push((prefix, range));
            continue;
        }
        if depth > 0 {
            splits.push(prefix);
        }
        let mut at = range.start;
        while at < range.end {
            let key = char_prefix(&terms[at].0, depth + 1);
            let end = at
                + 1
                + terms[at + 1..range.end]
                    .iter()
                    .take_while(|(t, _)| char_prefix(t, depth + 1) == key)
                    .count();
            if key.chars().count() <= depth {
                // The term is the prefix itself.
                shards.push((key.to_string(), at..end));
            } else {
                pending.push((key.to_string(), depth + 1, at..end));
            }
            at = end;
        }
    }
    shards.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    splits.sort_unstable();
    (shards, splits)
}

/// The size of the tier of [`segment_ranges`] that a segment of `articles` belongs to: its own
/// size when full, the small size when not.
fn tier_size(articles: usize, segment_articles: usize) -> usize {
    let [large, middle, small] = tier_sizes(segment_articles);
    if articles == middle || articles == large {
        articles
    } else {
        small
    }
}

/// The three segment sizes of [`segment_ranges`], largest first.
fn tier_sizes(segment_articles: usize) -> [usize; 3] {
    let middle = segment_articles.max(1);
    [middle.saturating_mul(TIER), middle, (middle / TIER).max(1)]
}

/// The shard limit of a segment of `articles`: [`SHARD_LIMIT`] for a segment of
/// `segment_articles`, in proportion for a smaller one, down to [`MIN_SHARD_LIMIT`]. A query
/// loads one shard per segment, most of it other terms with the same prefix; small segments,
/// whose terms have few postings, would otherwise send as many other terms.
fn shard_limit(articles: usize, segment_articles: usize) -> usize {
    (SHARD_LIMIT.saturating_mul(articles) / segment_articles.max(1))
        .clamp(MIN_SHARD_LIMIT, SHARD_LIMIT)
}

/// The first `count` characters of `text` (all of it when shorter).
fn char_prefix(text: &str, count: usize) -> &str {
    text.char_indices()
        .nth(count)
        .map_or(text, |(at, _)| &text[..at])
}

/// Terms with their postings, sorted, serialized as one JSON object.
/// Writes a shard's terms, sorted, with their encoded postings: a JSON object.
fn push_terms(out: &mut Vec<u8>, terms: &[(String, String)]) {
    out.push(b'{');
    for (i, (term, postings)) in terms.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_js_string(out, term);
        out.push(b':');
        push_js_string(out, postings);
    }
    out.push(b'}');
}

/// Every file of the search index, made at once (for `dossier check` and benchmarks).
pub fn index(dossier: &Dossier, options: SearchOptions) -> Vec<Page> {
    let plan = Plan::new(dossier, options.segment_articles);
    let mut pages = Vec::new();
    let mut segments = Vec::new();
    for segment in 0..plan.segment_count() {
        let terms = plan.segment_terms(segment, 0, None);
        let (files, keys) = plan.segment(segment, terms);
        pages.extend(files);
        segments.push(keys);
    }
    pages.extend(plan.shared(&segments));
    pages
}

/// Adds the search index to a build's `sink`. Each segment is a group of its own: when its
/// articles are unchanged since the last build and its files untouched, they are kept and not
/// made again, so a new article costs the tokenizing of its segment, not of the dossier.
/// `context` is [`crate::Analysis::context`].
pub fn write_index(
    dossier: &Dossier,
    options: SearchOptions,
    context: u128,
    sink: &Sink,
    cache: Option<&Path>,
) -> Result<usize, Diagnostic> {
    let plan = Plan::new(dossier, options.segment_articles);
    let inputs: Vec<u128> = (0..plan.segment_count())
        .into_par_iter()
        .map(|segment| plan.segment_input(segment, context))
        .collect();
    let newest = inputs.len().checked_sub(1);
    let mut segments = Vec::with_capacity(inputs.len());
    for (segment, input) in inputs.into_iter().enumerate() {
        match sink.noted_group(&format!("search segment {segment}"), input)? {
            Noted::Kept(keys) => segments.push(keys),
            Noted::Make(group) => {
                let start = plan.segment_docs(segment).start;
                let tail = (Some(segment) == newest).then_some(cache).flatten();
                let resume = (tail.and_then(load_tail))
                    .filter(|kept| kept.start == start)
                    .map(|kept| kept.terms);
                let terms = plan.segment_terms(segment, context, resume);
                let terms = match tail {
                    Some(folder) => {
                        let tail = TailTerms { start, terms };
                        save_tail(folder, &tail);
                        tail.terms
                    }
                    None => terms,
                };
                let (files, keys) = plan.segment(segment, terms);
                group.note(&keys);
                group.put_all(files)?;
                segments.push(keys);
            }
        }
    }
    plan.write_fragments(sink, context)?;
    sink.put_all(plan.shared(&segments))?;
    Ok(plan.tokenized.into_inner())
}

/// An article's fragment: its title, page, date, facet values (by name, see
/// [`Plan::facet_names`]) and paragraphs.
struct DocFragment<'a> {
    t: &'a str,
    u: String,
    d: Option<String>,
    e: Vec<&'a str>,
    p: Vec<&'a str>,
}

impl DocFragment<'_> {
    /// About how many bytes [`DocFragment::write`] writes: exactly, unless strings need
    /// escaping.
    fn size(&self) -> usize {
        let strings = self.t.len() + self.u.len() + self.d.as_ref().map_or(4, String::len);
        let facets: usize = self.e.iter().map(|e| e.len() + 3).sum();
        let paragraphs: usize = self.p.iter().map(|p| p.len() + 3).sum();
        strings + facets + paragraphs + 40
    }

    /// Writes the fragment as a JSON object, its fields in order, a missing date as `null`.
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"t\":");
        push_js_string(out, self.t);
        out.extend_from_slice(b",\"u\":");
        push_js_string(out, &self.u);
        out.extend_from_slice(b",\"d\":");
        match &self.d {
            Some(date) => push_js_string(out, date),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"e\":");
        push_js_strings(out, &self.e);
        out.extend_from_slice(b",\"p\":");
        push_js_strings(out, &self.p);
        out.push(b'}');
    }
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
    script_from(name, json.len(), |out| push_script_safe(out, &json))
}

/// [`script`] with the JSON written by `write` (strings through [`push_js_string`]): for the
/// two kinds of file that hold most of the index's bytes, the term shards and the article
/// fragments, which are simple enough to write directly. serde_json and a second pass over
/// its output took about twelve instructions a byte, [`push_js_string`] a few.
///
/// `size` is about how many bytes `write` writes: the file is made that large at once, as
/// the search files of a segment are all held until they are written, and a buffer grown by
/// doubling could be twice their size.
fn script_from(name: &str, size: usize, write: impl FnOnce(&mut Vec<u8>)) -> Page {
    let mut bytes = Vec::with_capacity(name.len() + 24 + size);
    bytes.extend_from_slice(format!("dossierSearch.add({name:?},").as_bytes());
    write(&mut bytes);
    bytes.extend_from_slice(b");\n");
    Page {
        path: script_path(name),
        bytes,
    }
}

/// Where the script named `name` is in the output.
fn script_path(name: &str) -> std::path::PathBuf {
    format!("search/{name}.js").into()
}

/// Copies JSON into a script, escaping what would end the script or a line there.
fn push_script_safe(out: &mut Vec<u8>, json: &[u8]) {
    out.reserve(json.len());
    // Copies runs of plain bytes whole; U+2028 and U+2029 are the bytes E2 80 A8 and E2 80 A9.
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
        out.extend_from_slice(&json[copied..at]);
        out.extend_from_slice(escape);
        at += width;
        copied = at;
    }
    out.extend_from_slice(&json[copied..]);
}

/// How [`push_js_string`] treats each byte: 0 copies it; `b'u'` writes `\u00XX`; `b'e'` looks at
/// the character it starts (U+2028 and U+2029 are escaped); any other writes a backslash and
/// that letter. The same escapes as serde_json's, then [`push_script_safe`]'s.
const JS_ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0A] = b'n';
    table[0x0C] = b'f';
    table[0x0D] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table[b'<' as usize] = b'u';
    table[b'>' as usize] = b'u';
    table[b'&' as usize] = b'u';
    table[0xE2] = b'e';
    table
};

/// Whether [`JS_ESCAPE`] has anything but 0 for `byte`, as comparisons that vectorize.
fn js_special(byte: u8) -> bool {
    (byte < 0x20)
        | (byte == b'"')
        | (byte == b'\\')
        | (byte == b'<')
        | (byte == b'>')
        | (byte == b'&')
        | (byte == 0xE2)
}

/// Writes `text` as a JSON string that is safe inside a script: the bytes
/// `push_script_safe(serde_json::to_vec(text))` would give, in one pass that copies runs of
/// plain bytes whole.
fn push_js_string(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        // Sixteen bytes at a time while none needs a look: tested without a branch per byte,
        // so the test is vectorized (most of the index's text is plain).
        if let Some(chunk) = bytes[at..].first_chunk::<16>()
            && !chunk.iter().fold(false, |any, &b| any | js_special(b))
        {
            at += 16;
            continue;
        }
        let byte = bytes[at];
        let escape = JS_ESCAPE[usize::from(byte)];
        if escape == 0 {
            at += 1;
            continue;
        }
        if escape == b'e' {
            match bytes.get(at + 1..at + 3) {
                Some([0x80, last @ (0xA8 | 0xA9)]) => {
                    out.extend_from_slice(&bytes[copied..at]);
                    out.extend_from_slice(if *last == 0xA8 {
                        b"\\u2028"
                    } else {
                        b"\\u2029"
                    });
                    at += 3;
                    copied = at;
                }
                _ => at += 1,
            }
            continue;
        }
        out.extend_from_slice(&bytes[copied..at]);
        if escape == b'u' {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(byte >> 4)]);
            out.push(HEX[usize::from(byte & 0xF)]);
        } else {
            out.extend_from_slice(&[b'\\', escape]);
        }
        at += 1;
        copied = at;
    }
    out.extend_from_slice(&bytes[copied..]);
    out.push(b'"');
}

/// Writes `strings` as a JSON array.
fn push_js_strings(out: &mut Vec<u8>, strings: &[&str]) {
    out.push(b'[');
    for (i, string) in strings.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_js_string(out, string);
    }
    out.push(b']');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_terms_give_back_each_term_place() {
        let joined: Vec<(String, Vec<Joined>)> = ["kim", "kim jong", "jong"]
            .into_iter()
            .map(|term| (term.to_string(), Vec::new()))
            .collect();
        let mut places = TermPlaces::of(&joined).expect("every pair's words are terms");
        assert_eq!((places.words["kim"], places.words["jong"]), (0, 2));
        assert_eq!(places.pairs[&(0, 2)], 1);
        // Joining onto them finds the same places, and adds only what is new.
        let mut joined = joined;
        assert_eq!(places.pair((0, 2), &mut joined), 1);
        assert_eq!(places.pair((2, 0), &mut joined), 3);
        assert_eq!(joined[3].0, "jong kim");
        assert_eq!(joined.len(), 4);
        // A pair without one of its words cannot be joined onto.
        assert!(TermPlaces::of(&joined[..2]).is_none());
    }

    /// The tokens of folded text a character at a time: what `folded_tokens` must agree with.
    fn folded_tokens_by_chars(folded: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut word_start = None;
        for (at, c) in folded.char_indices() {
            if c.is_alphanumeric() && !is_cjk(c) {
                word_start.get_or_insert(at);
                continue;
            }
            if let Some(start) = word_start.take() {
                push_word(&folded[start..at], &mut out);
            }
            if is_cjk(c) {
                out.push(&folded[at..at + c.len_utf8()]);
            }
        }
        if let Some(start) = word_start {
            push_word(&folded[start..], &mut out);
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn runs_of_ascii_split_as_characters_do(
            text in "[a-z0-9 .,'\n\u{e9}\u{fc}\u{2019}\u{bd}\u{b2}\u{660}\u{1d7d8}회령会宁ーア]{0,40}"
        ) {
            let mut fast = Vec::new();
            folded_tokens(&text, &mut fast);
            proptest::prop_assert_eq!(fast, folded_tokens_by_chars(&text));
        }
    }

    /// A copy of the `basic` test fixture with `articles` more articles, a day apart from
    /// 2025-01-01, so that it fills several segments.
    fn site_with(articles: usize) -> tempfile::TempDir {
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/basic");
        let site = tempfile::tempdir().expect("temporary folder");
        for entry in walkdir::WalkDir::new(&fixture) {
            let entry = entry.expect("walk the fixture");
            let target = site
                .path()
                .join(entry.path().strip_prefix(&fixture).expect("inside"));
            if entry.file_type().is_dir() {
                std::fs::create_dir_all(&target).expect("make a folder");
            } else {
                std::fs::copy(entry.path(), &target).expect("copy a file");
            }
        }
        for day in 1..=articles {
            std::fs::write(
                site.path()
                    .join(format!("content/articles/2024/more-{day}.md")),
                format!(
                    "+++\ntitle = \"Report {day}\"\ndate = 2025-01-{day:02}\n+++\nGuards in Hyesan \
                     took {day} phones.\n"
                ),
            )
            .expect("write an article");
        }
        site
    }

    fn segment_inputs(site: &std::path::Path, segment_articles: usize) -> Vec<u128> {
        let analysis = crate::analyze(site, false).expect("the site builds");
        let plan = Plan::new(&analysis.dossier, segment_articles);
        (0..plan.segment_count())
            .map(|segment| plan.segment_input(segment, analysis.context))
            .collect()
    }

    #[test]
    fn a_newest_article_changes_only_the_last_segments_input() {
        // Seven articles (three of the fixture's) in segments of two: 2, 2, 2 and 1.
        let before = segment_inputs(site_with(4).path(), 2);
        assert_eq!(before.len(), 4);
        let after = segment_inputs(site_with(5).path(), 2);
        assert_eq!(after.len(), 4);
        assert_eq!(before[..3], after[..3], "the full segments are kept");
        assert_ne!(before[3], after[3], "the last segment is made again");
        // An article dated before the others renumbers every article after it.
        let site = site_with(4);
        std::fs::write(
            site.path().join("content/articles/2024/oldest.md"),
            "+++\ntitle = \"Oldest\"\ndate = 2001-01-01\n+++\nGuards took phones.\n",
        )
        .expect("write an article");
        let backdated = segment_inputs(site.path(), 2);
        assert!(before.iter().zip(&backdated).all(|(a, b)| a != b));
    }

    #[test]
    fn every_term_is_in_the_shard_the_search_page_looks_in() {
        // Terms whose postings fill several shards, with prefixes of every depth, some equal
        // to a split prefix, and accents (multi-byte characters).
        let mut terms: Vec<(String, String)> = Vec::new();
        for a in [
            "a", "ab", "abc", "ho", "hoe", "hoer", "hoery", "hoeryo", "hoeryon", "ŏr",
        ] {
            for n in 0..40 {
                terms.push((format!("{a}{n}"), "x".repeat(400 + n)));
            }
            terms.push((a.to_string(), "y".repeat(300)));
        }
        terms.sort();
        terms.dedup_by(|a, b| a.0 == b.0);
        let (shards, splits) = shard(&terms, SHARD_LIMIT);
        assert!(splits.len() > 3, "{splits:?}");
        // The search page's rule (shardKey in search.js): lengthen the prefix while it was split.
        let key_of = |term: &str| {
            let mut k = 1;
            while splits.iter().any(|s| s == char_prefix(term, k)) && term.chars().count() > k {
                k += 1;
            }
            char_prefix(term, k).to_string()
        };
        let mut covered = 0;
        for (key, range) in &shards {
            covered += range.len();
            for (term, _) in &terms[range.clone()] {
                assert_eq!(&key_of(term), key, "{term}");
            }
            let size: usize = terms[range.clone()]
                .iter()
                .map(|(t, l)| t.len() + l.len() + 6)
                .sum();
            assert!(size <= SHARD_LIMIT || key.chars().count() >= 6 || range.len() == 1);
        }
        assert_eq!(covered, terms.len(), "every term in one shard");
    }

    #[test]
    fn limits_follow_the_tier_not_the_articles_so_far() {
        assert_eq!(tier_size(5, 8192), 1024);
        assert_eq!(tier_size(1024, 8192), 1024);
        assert_eq!(tier_size(8192, 8192), 8192);
        assert_eq!(tier_size(65536, 8192), 65536);
        assert_eq!(shard_limit(1024, 8192), MIN_SHARD_LIMIT);
        assert_eq!(shard_limit(65536, 8192), SHARD_LIMIT);
    }

    #[test]
    fn segments_come_in_three_sizes_oldest_first() {
        assert!(segment_ranges(0, 16).is_empty());
        assert_eq!(segment_ranges(5, 16), [0..2, 2..4, 4..5]);
        assert_eq!(segment_ranges(16, 16), vec![0..16_usize]);
        assert_eq!(
            segment_ranges(37, 16),
            [0..16, 16..32, 32..34, 34..36, 36..37]
        );
        // Eight of the middle size make a large one.
        assert_eq!(
            segment_ranges(128 + 16 + 3, 16),
            [0..128, 128..144, 144..146, 146..147]
        );
        assert_eq!(segment_ranges(3, 2), [0..2, 2..3]);
    }

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
        assert!(PACKED_STOPWORDS.windows(2).all(|w| w[0] < w[1]));
        for word in STOPWORDS {
            assert!(is_stopword(word), "{word}");
            assert!(!is_stopword(&format!("{word}s")) || STOPWORDS.contains(&&*format!("{word}s")));
        }
        for word in ["", "x", "ab", "theirs", "thei", "wit", "withs", "\0the"] {
            assert!(!is_stopword(word), "{word}");
        }
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
    fn the_quick_test_finds_every_byte_the_escape_table_treats() {
        for byte in 0..=255_u8 {
            assert_eq!(
                js_special(byte),
                JS_ESCAPE[usize::from(byte)] != 0,
                "{byte}"
            );
        }
    }

    /// `text` written directly is what serde_json and the script pass make of it.
    fn js_string_agrees(text: &str) -> Result<(), proptest::test_runner::TestCaseError> {
        let mut direct = Vec::new();
        push_js_string(&mut direct, text);
        let mut reference = Vec::new();
        push_script_safe(&mut reference, &serde_json::to_vec(text).unwrap());
        proptest::prop_assert_eq!(
            String::from_utf8(direct).unwrap(),
            String::from_utf8(reference).unwrap()
        );
        Ok(())
    }

    proptest::proptest! {
        /// A string written directly is what serde_json and the script pass make of it.
        #[test]
        fn js_strings_are_what_serde_json_and_the_script_pass_write(
            text in "[a-z <>&\"\\\\\u{0}-\u{1f}\u{7f}\u{e9}\u{2019}\u{2028}\u{2029}\u{20ac}\u{1d7d8}]{0,80}"
        ) {
            js_string_agrees(&text)?;
        }

        /// The same for long plain runs around a byte to escape, which are tested sixteen
        /// bytes at a time.
        #[test]
        fn js_strings_with_long_plain_runs_are_what_serde_json_writes(
            text in "[a-z \u{e9}]{0,70}[<\"\\\\\n\u{1}\u{2028}\u{2019}]?[a-z \u{e9}]{0,70}"
        ) {
            js_string_agrees(&text)?;
        }

        /// An article fragment and a shard written directly are the JSON serde_json writes
        /// of the same data, made safe for a script.
        #[test]
        fn fragments_and_shards_are_what_serde_json_writes(
            texts in proptest::collection::vec("[a-z <&\"\u{1}\u{2028}\u{e9}]{0,8}", 1..6),
            facets in proptest::collection::vec("[a-z0-9/<\"\u{e9}-]{1,12}", 0..5),
            dated: bool,
        ) {
            let fragment = DocFragment {
                t: &texts[0],
                u: texts[texts.len() - 1].clone(),
                d: dated.then(|| texts[0].clone()),
                e: facets.iter().map(String::as_str).collect(),
                p: texts.iter().map(String::as_str).collect(),
            };
            // Serialized as the fragment was before it was written directly: its fields in order.
            #[derive(Serialize)]
            struct Reference<'a> {
                t: &'a str,
                u: &'a str,
                d: &'a Option<String>,
                e: &'a [&'a str],
                p: &'a [&'a str],
            }
            let reference = Reference {
                t: fragment.t,
                u: &fragment.u,
                d: &fragment.d,
                e: &fragment.e,
                p: &fragment.p,
            };
            let direct = script_from("d/1", fragment.size(), |out| fragment.write(out));
            proptest::prop_assert_eq!(&direct.bytes, &script("d/1", &reference).bytes);

            let terms: Vec<(String, String)> =
                texts.iter().map(|t| (t.clone(), format!("{t}{}", t.len()))).collect();
            let reference: serde_json::Map<String, Value> =
                terms.iter().map(|(t, p)| (t.clone(), Value::from(p.as_str()))).collect();
            // The index's terms are sorted and each is there once, as a map's keys are.
            let mut sorted = terms.clone();
            sorted.sort();
            sorted.dedup_by(|a, b| a.0 == b.0);
            let direct = script_from("t/0/61", 0, |out| push_terms(out, &sorted));
            proptest::prop_assert_eq!(&direct.bytes, &script("t/0/61", &reference).bytes);
        }
    }

    #[test]
    fn the_search_page_reads_the_format_the_index_is_written_in() {
        let (_, code) = (crate::theme::built_in_static().iter())
            .find(|(name, _)| *name == "search.js")
            .expect("the built-in theme has search.js");
        assert!(code.contains(&format!("var FORMAT = {INDEX_FORMAT:?};")));
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
