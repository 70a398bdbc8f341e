//! Extraction: the metadata nobody typed in. Title, publication date, byline, entity mentions
//! (catalogue matches and people found by rule) and years, each mention located by paragraph
//! and byte span.
//!
//! Pure: reads cleaned paragraphs and front matter, does no I/O. Front matter wins over what the
//! text says.

pub mod dates;
pub mod fold;
pub mod matcher;
mod mention_runs;
pub mod people;
pub mod relative;
pub mod text;
pub mod unknown;
pub mod years;

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use regex::Regex;

use crate::catalog::{EntityKey, Kind};
use crate::clean::{Cleaned, Paragraph, Role};
use crate::config::ExtractOptions;
use crate::error::Diagnostic;
use crate::source::{Format, Source};
pub use matcher::Matcher;

/// Where a mention stands: a body paragraph or the title.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Place {
    /// The title (a headline found in the text or the front matter title).
    Title,
    /// The body paragraph with this index (0-based; its anchor is `#p{index + 1}`).
    Paragraph(usize),
}

/// One entity named in an article.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Mention {
    /// The entity.
    pub entity: EntityKey,
    /// The paragraph it stands in.
    pub at: Place,
    /// Byte offset of the mention in that paragraph's text.
    pub start: usize,
    /// Byte offset where it ends.
    pub end: usize,
}

/// One year the text refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct YearMention {
    /// The year.
    pub year: i32,
    /// The paragraph it stands in.
    pub at: Place,
    /// Byte offset in that paragraph's text.
    pub start: usize,
    /// Byte offset where it ends.
    pub end: usize,
}

/// Everything extraction found in one article.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Metadata {
    /// The title.
    pub title: String,
    /// True when the title was made from the first sentence.
    pub title_derived: bool,
    /// The publication date, from front matter or a publication line.
    pub date: Option<NaiveDate>,
    /// The author, from front matter or a byline.
    pub author: Option<String>,
    /// Entity mentions, sorted as [`Mention`]'s fields are ordered: by entity, then place and
    /// offset. An entity's mentions are next to each other (see [`Metadata::mentions_of`]).
    #[serde(with = "mention_runs")]
    pub mentions: Vec<Mention>,
    /// Entities the front matter adds without a mention in the text.
    pub added: Vec<EntityKey>,
    /// Years the text refers to, sorted by place and offset.
    pub years: Vec<YearMention>,
    /// Names of entities found that the catalogue lacks (people found by rule, front-matter
    /// additions), by key.
    pub new_names: BTreeMap<EntityKey, String>,
    /// Capitalized phrases that look like places or organizations the catalogue lacks.
    pub unknown: Vec<String>,
    /// Relative time phrases ("last month"), resolved against the publication date if known.
    pub relative: Vec<RelativeMention>,
}

/// A relative time phrase in an article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelativeMention {
    /// The phrase and what it resolves to.
    pub hit: relative::RelativeHit,
    /// The paragraph it stands in.
    pub at: Place,
}

impl Metadata {
    /// The places in [`Metadata::mentions`] of `key`'s mentions, found by binary search. An
    /// entity page quotes each of its articles' mentions of it: reading every mention of every
    /// article listed, the list of quotes (`Renderer::quoted`) took 3.8% of the processor time
    /// of `dossier check` at 100,000 articles, and 2.9% with this (one profile each).
    pub fn mentions_of(&self, key: &EntityKey) -> std::ops::Range<usize> {
        let start = self.mentions.partition_point(|m| &m.entity < key);
        let count = self.mentions[start..].partition_point(|m| &m.entity == key);
        start..start + count
    }

    /// The publication year and every year the text refers to, sorted.
    pub fn all_years(&self) -> Vec<i32> {
        let mut years: Vec<i32> = (self.years.iter().map(|y| y.year))
            .chain(self.date.map(|date| date.year()))
            .collect();
        years.sort_unstable();
        years.dedup();
        years
    }

    /// The key of every mention, then of every entity added in front matter: the entities of
    /// [`Metadata::entities`], in no order and with repeats.
    pub fn entity_keys(&self) -> impl Iterator<Item = &EntityKey> {
        (self.mentions.iter().map(|m| &m.entity)).chain(&self.added)
    }

    /// Every entity of the article, mentioned or added, without repeats, in key order.
    pub fn entities(&self) -> Vec<&EntityKey> {
        let mut keys: Vec<&EntityKey> = self.entity_keys().collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }
}

/// An article's extraction result: its metadata, and its body without the lines that became
/// metadata (headline, publication line, byline).
#[derive(Debug, Clone)]
pub struct Extracted {
    /// What was found.
    pub metadata: Metadata,
    /// The text the metadata points into.
    pub body: Body,
    /// Warnings about the article (front-matter names the catalogue lacks).
    pub warnings: Vec<Diagnostic>,
}

/// An article's text as the pages, the search index and the exports read it: most of an
/// extraction result by size, and none of what joins the dossier (that is [`Metadata`]), so the
/// extraction cache can keep it apart and a rebuild decode only the bodies it shows.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Body {
    /// The body paragraphs; mention places index into these.
    pub paragraphs: Vec<Paragraph>,
    /// Removed page furniture.
    pub furniture: Vec<String>,
    /// The sentence that holds each mention, in the order of `metadata.mentions`: a byte range
    /// of the mention's title or paragraph. Found once, here, for every page and export that
    /// quotes it (scanning for it at each quote was 5% of a build), and kept in the extraction
    /// cache with the rest.
    pub mention_sentences: Vec<std::ops::Range<usize>>,
    /// The same for each year reference, in the order of `metadata.years`.
    pub year_sentences: Vec<std::ops::Range<usize>>,
}

impl Body {
    /// A body with nothing in it, for a place that must lend one.
    pub const EMPTY: Body = Body {
        paragraphs: Vec::new(),
        furniture: Vec::new(),
        mention_sentences: Vec::new(),
        year_sentences: Vec::new(),
    };
}

static BYLINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?i:by)\s+(?P<author>\S.{1,60})$").expect("valid pattern"));

/// Compiles every pattern extraction always uses, each otherwise compiled by the first article
/// that needs it: for a build about to extract many articles, which does it beside building
/// the catalogue's matcher instead of having its first articles compile them one after the
/// other while the other cores wait for them. (For a few articles it would cost more than it
/// saves: one article reaches only some of the patterns.)
pub fn compile_patterns() {
    LazyLock::force(&BYLINE);
    dates::compile();
    people::compile();
    relative::compile();
    years::compile();
}

/// Extracts the metadata of one article from its cleaned text. `matcher` holds the catalogue.
pub fn extract(
    source: &Source,
    cleaned: Cleaned,
    matcher: &Matcher,
    options: &ExtractOptions,
) -> Extracted {
    let Cleaned {
        mut paragraphs,
        furniture,
    } = cleaned;
    let front = &source.front;
    let mut warnings = Vec::new();

    // Metadata lines: the publication line and a byline leave the body. A lone date line of a
    // scraped page is always its publication line; in Markdown, written by hand, only where
    // front matter gives no date (beside one, a date paragraph is the author's text).
    let mut date = front.date;
    let mut author = front.author.clone();
    let takes_date_line = source.format == Format::Text || front.date.is_none();
    if let Some(i) = paragraphs.iter().position(|p| {
        takes_date_line && p.role == Role::Text && dates::publication_line(&p.text).is_some()
    }) {
        if date.is_none() {
            date = dates::publication_line(&paragraphs[i].text);
        }
        paragraphs.remove(i);
    }
    let count = paragraphs.len();
    if let Some(i) = paragraphs.iter().enumerate().position(|(i, p)| {
        (i < 3 || i + 3 >= count)
            && p.role == Role::Text
            && p.text.split_whitespace().count() <= 8
            && !clean_ends(&p.text)
            && BYLINE.is_match(p.text.trim())
    }) {
        if author.is_none() {
            author = BYLINE
                .captures(paragraphs[i].text.trim())
                .and_then(|c| c.name("author"))
                .map(|m| m.as_str().trim().to_string());
        }
        paragraphs.remove(i);
    }

    let choice = text::choose_title(
        &paragraphs,
        options.title_max_words,
        options.derived_title_chars,
    );
    if let Some(i) = choice.headline {
        paragraphs.remove(i);
    }
    let (title, title_derived) = match &front.title {
        Some(title) => (title.clone(), false),
        None => (choice.text.clone(), choice.derived),
    };

    let ignored: BTreeSet<EntityKey> = options
        .ignore
        .iter()
        .filter_map(|n| matcher.lookup(n))
        .map(|i| matcher.keys[i].clone())
        .collect();
    let excluded: BTreeSet<EntityKey> = front
        .exclude
        .iter()
        .flat_map(|n| resolve_any(matcher, n))
        .collect();

    let mut mentions = Vec::new();
    let mut years = Vec::new();
    let mut new_names = BTreeMap::new();
    let mut unknown = Vec::new();
    let mut relative_mentions = Vec::new();
    let mut surnames: BTreeMap<String, BTreeSet<EntityKey>> = BTreeMap::new();
    let title_text = if front.title.is_some() || choice.headline.is_some() {
        Some(title.as_str())
    } else {
        None
    };
    let texts: Vec<(Place, &str)> = title_text
        .map(|t| (Place::Title, t))
        .into_iter()
        .chain(
            paragraphs
                .iter()
                .enumerate()
                .map(|(i, p)| (Place::Paragraph(i), p.text.as_str())),
        )
        .collect();
    let mut taken_by_place: Vec<Vec<(usize, usize)>> = Vec::with_capacity(texts.len());
    for &(at, text) in &texts {
        // Folded once, for the catalogue's names and the relative phrases' words.
        let folded = fold::fold(text);
        let hits = matcher.find_folded(text, &folded);
        let mut taken = Vec::with_capacity(hits.len());
        for hit in hits {
            taken.push((hit.start, hit.end));
            let key = &matcher.keys[hit.entity];
            if ignored.contains(key) {
                continue;
            }
            if key.kind == Kind::Person
                && let Some(surname) = text[hit.start..hit.end].split_whitespace().next()
            {
                surnames
                    .entry(surname.to_string())
                    .or_default()
                    .insert(key.clone());
            }
            mentions.push(Mention {
                entity: key.clone(),
                at,
                start: hit.start,
                end: hit.end,
            });
        }
        for name in people::find(text, &taken) {
            let key = match matcher.lookup(&name.name) {
                Some(i) => matcher.keys[i].clone(),
                None => {
                    let key = EntityKey::new(Kind::Person, &name.name);
                    new_names
                        .entry(key.clone())
                        .or_insert_with(|| name.name.clone());
                    key
                }
            };
            taken.push((name.start, name.end));
            surnames
                .entry(name.surname.clone())
                .or_default()
                .insert(key.clone());
            mentions.push(Mention {
                entity: key,
                at,
                start: name.start,
                end: name.end,
            });
        }
        if options.find_unknown {
            unknown.extend(unknown::candidates(text, &taken));
        }
        relative_mentions.extend(
            relative::find(text, &folded.text, date)
                .into_iter()
                .map(|hit| RelativeMention { hit, at }),
        );
        for hit in years::find(text, options.min_year, options.max_year) {
            years.push(YearMention {
                year: hit.year,
                at,
                start: hit.start,
                end: hit.end,
            });
        }
        taken_by_place.push(taken);
    }
    // A bare family name refers to the one person of the article who has it.
    for (surname, keys) in &surnames {
        if keys.len() != 1 {
            continue;
        }
        let Some(key) = keys.iter().next() else {
            continue;
        };
        for (index, &(at, text)) in texts.iter().enumerate() {
            for (start, end) in people::bare_mentions(text, surname) {
                let taken = &taken_by_place[index];
                if taken.iter().any(|&(s, e)| start < e && s < end) {
                    continue;
                }
                mentions.push(Mention {
                    entity: key.clone(),
                    at,
                    start,
                    end,
                });
            }
        }
    }
    mentions.retain(|m| !excluded.contains(&m.entity));
    mentions.sort();
    mentions.dedup();
    years.sort();
    // Kept for the whole build, for every article: without the room they grew into.
    mentions.shrink_to_fit();
    years.shrink_to_fit();

    let mut added = Vec::new();
    for (kind, names) in [
        (Kind::Place, &front.places),
        (Kind::Agency, &front.agencies),
        (Kind::Person, &front.people),
        (Kind::Law, &front.laws),
    ] {
        for name in names {
            let key = match matcher
                .lookup(name)
                .map(|i| &matcher.keys[i])
                .filter(|k| k.kind == kind)
            {
                Some(key) => key.clone(),
                None => {
                    let key = EntityKey::new(kind, name);
                    if key.slug.is_empty() {
                        continue;
                    }
                    if kind != Kind::Person {
                        warnings.push(Diagnostic::warning(
                            &source.path,
                            Some(1),
                            format!(
                                "front matter names {kind} {name:?}, which the catalogue lacks"
                            ),
                        ));
                    }
                    new_names.entry(key.clone()).or_insert_with(|| name.clone());
                    key
                }
            };
            if !excluded.contains(&key) && !added.contains(&key) {
                added.push(key);
            }
        }
    }
    added.sort();
    new_names.retain(|key, _| mentions.iter().any(|m| &m.entity == key) || added.contains(key));

    let metadata = Metadata {
        title,
        title_derived,
        date,
        author,
        mentions,
        added,
        years,
        new_names,
        unknown,
        relative: relative_mentions,
    };
    let (mention_sentences, year_sentences) = find_sentences(&metadata, &paragraphs);
    Extracted {
        metadata,
        body: Body {
            paragraphs,
            furniture,
            mention_sentences,
            year_sentences,
        },
        warnings,
    }
}

/// The sentence around each mention and each year reference (see
/// [`Body::mention_sentences`]), splitting each title or paragraph that holds one into
/// sentences once.
fn find_sentences(
    metadata: &Metadata,
    paragraphs: &[Paragraph],
) -> (Vec<std::ops::Range<usize>>, Vec<std::ops::Range<usize>>) {
    let text_at = |at: Place| match at {
        Place::Title => metadata.title.as_str(),
        Place::Paragraph(p) => paragraphs.get(p).map_or("", |p| p.text.as_str()),
    };
    let mut split: HashMap<Place, Vec<std::ops::Range<usize>>> = HashMap::new();
    let mut holding = |at: Place, offset: usize| {
        let text = text_at(at);
        let ranges = split.entry(at).or_insert_with(|| text::sentences(text));
        text::sentence_holding(ranges, offset, text.len())
    };
    let mentions = (metadata.mentions.iter())
        .map(|m| holding(m.at, m.start))
        .collect();
    let years = (metadata.years.iter())
        .map(|y| holding(y.at, y.start))
        .collect();
    (mentions, years)
}

fn clean_ends(text: &str) -> bool {
    text.trim_end().ends_with('.')
}

/// The entities a front-matter name stands for: a catalogue match, or an uncatalogued person.
fn resolve_any(matcher: &Matcher, name: &str) -> Vec<EntityKey> {
    match matcher.lookup(name) {
        Some(i) => vec![matcher.keys[i].clone()],
        None => Kind::ALL
            .iter()
            .map(|&kind| EntityKey::new(kind, name))
            .collect(),
    }
}
