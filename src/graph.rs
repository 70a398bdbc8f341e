//! The dossier graph: articles, entities and years joined both ways, with hierarchy,
//! co-occurrence and related articles. Everything keyed by stable keys in sorted maps.
//!
//! Pure: takes extracted articles and the catalogue, does no I/O. Call after `extract`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::Datelike;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::cache::{Extraction, LazyBody};
use crate::catalog::{Catalog, Entity, EntityKey};
use crate::error::{Diagnostic, Diagnostics};
use crate::extract::{Body, Metadata};
use crate::source::{Format, Source};

/// One published article.
#[derive(Debug, Clone)]
pub struct Article {
    /// Its page name (`articles/<slug>.html`).
    pub slug: String,
    /// The file it was read from, relative to the site root.
    pub path: PathBuf,
    /// A hash of that file's path and bytes. With the extraction context (the settings, the
    /// catalogue and the dossier binary), it covers everything the article's own data
    /// (metadata, paragraphs, sentences) is made from.
    pub digest: u128,
    /// Markdown or plain text.
    pub format: Format,
    /// The address it was taken from, from front matter.
    pub source_url: Option<String>,
    /// Front-matter keys dossier does not know, kept as data.
    pub extra: BTreeMap<String, serde_json::Value>,
    /// What extraction found.
    pub metadata: Metadata,
    /// Its text, decoded from the extraction cache when first read: read it with
    /// [`Article::body`].
    pub body: LazyBody,
}

impl Article {
    /// The page of the article relative to the output root.
    pub fn url(&self) -> String {
        format!("articles/{}.html", self.slug)
    }

    /// Its paragraphs, furniture and the sentences of its mentions.
    pub fn body(&self) -> &Body {
        self.body.get()
    }

    /// The text a mention's offsets refer to: the title or a body paragraph.
    pub fn text_at(&self, at: crate::extract::Place) -> &str {
        match at {
            crate::extract::Place::Title => &self.metadata.title,
            crate::extract::Place::Paragraph(p) => {
                self.body().paragraphs.get(p).map_or("", |p| &p.text)
            }
        }
    }

    /// The sentence that holds mention `index` (of `metadata.mentions`), trimmed.
    pub fn mention_sentence(&self, index: usize) -> &str {
        let text = self.text_at(self.metadata.mentions[index].at);
        self.body()
            .mention_sentences
            .get(index)
            .and_then(|range| text.get(range.clone()))
            .unwrap_or(text)
            .trim()
    }
}

/// An entity with everything that points at it.
#[derive(Debug, Clone)]
pub struct EntityNode {
    /// The entity itself (from the catalogue, or made for a name found in articles).
    pub entity: Entity,
    /// Indexes of the articles that name it, newest first, undated last.
    pub articles: Vec<usize>,
    /// How many mentions it has in all.
    pub mention_count: usize,
    /// Entities whose parent it is, by key.
    pub children: Vec<EntityKey>,
    /// Entities named in the same articles, as places in [`Dossier::entity_keys`], with the
    /// number of shared articles, most first (then in key order).
    pub cooccurring: Vec<(usize, usize)>,
    /// Years of the articles that name it, with article counts.
    pub years: Vec<(i32, usize)>,
}

/// One year of the dossier.
#[derive(Debug, Clone, Default)]
pub struct YearNode {
    /// Articles published that year, newest first.
    pub published: Vec<usize>,
    /// Articles that refer to the year in their text, with the mention's index in
    /// `metadata.years`.
    pub references: Vec<(usize, usize)>,
    /// Entities of the year's articles (published or referring), as places in
    /// [`Dossier::entity_keys`], with article counts, most first (then in key order).
    pub entities: Vec<(usize, usize)>,
}

/// The whole dossier, ready to render.
#[derive(Debug, Clone, Default)]
pub struct Dossier {
    /// Articles in path order.
    pub articles: Vec<Article>,
    /// Article indexes newest first, undated last (in path order).
    pub by_date: Vec<usize>,
    /// Each article's position in `by_date`, by article index.
    pub rank: Vec<usize>,
    /// Every entity with at least one article, and their ancestors.
    pub entities: BTreeMap<EntityKey, EntityNode>,
    /// Every year with an article or a reference.
    pub years: BTreeMap<i32, YearNode>,
    /// For each article, related articles with their scores, best first.
    pub related: Vec<Vec<usize>>,
    /// Every entity's key, in the order of `entities`: what `article_entities` numbers.
    pub entity_keys: Vec<EntityKey>,
    /// Each article's entities, mentioned or added in front matter, as places in
    /// `entity_keys`, in key order; see [`Dossier::entities_of`].
    pub article_entities: Vec<Vec<usize>>,
    /// How many times the article names each of `article_entities` (0 for an entity only
    /// added in front matter), in the same order.
    pub article_mentions: Vec<Vec<usize>>,
    /// Each article's years ([`Metadata::all_years`]), worked out once for the graph and the
    /// search index.
    pub article_years: Vec<Vec<i32>>,
    /// Each entity's name, for [`Dossier::entity_name`]: asked for every mention by the pages
    /// and the exports, a hash lookup where searching `entities` compared a dozen keys.
    names_by_key: FxHashMap<EntityKey, String>,
}

impl Dossier {
    /// The name `key` is shown by: the catalogue's, or for an entity the catalogue lacks, as
    /// the first article that names it wrote it; its slug if it has no node.
    pub fn entity_name<'k>(&'k self, key: &'k EntityKey) -> &'k str {
        self.names_by_key
            .get(key)
            .map_or(key.slug.as_str(), String::as_str)
    }

    /// The entities of article `index`, each once, in key order: [`Metadata::entities`],
    /// worked out once for every stage that lists them. Sorting the keys again in each stage
    /// was a seventh of the search index's time in a one-article rebuild.
    ///
    /// [`Metadata::entities`]: crate::extract::Metadata::entities
    pub fn entities_of(&self, index: usize) -> impl Iterator<Item = &EntityKey> {
        self.article_entities[index]
            .iter()
            .map(|&id| &self.entity_keys[id])
    }
}

/// How many related articles an article lists.
const RELATED_COUNT: usize = 5;
/// Entities named by more articles than this are too common to tell articles apart: they count
/// only for an article that has too few related articles without them, and then only between
/// it and the [`RELATED_WINDOW`] articles that name them nearest to it in date. Either way an
/// article adds up at most this many articles per entity, which keeps related-article scoring
/// linear in the size of the dossier.
const RELATED_MAX_DF: usize = 500;
/// How many of a common entity's articles, those nearest in date, an article that needs them
/// scores (see [`RELATED_MAX_DF`]).
const RELATED_WINDOW: usize = 64;
/// An article whose entities' postings reach at least one article in this many reads every
/// score in order rather than keeping the list of the articles it touched (see
/// `related_articles`).
const DENSE_SHARE: usize = 4;
/// Scores an article that reads every score tests at once for one that could join its best.
const SCAN_BLOCK: usize = 16;

/// Joins extracted articles and the catalogue. Duplicate and unsafe slugs are errors.
pub fn build(items: Vec<(Source, Extraction)>, catalog: &Catalog) -> Result<Dossier, Diagnostics> {
    let mut problems = Diagnostics::new();
    // Slugs are worked out in parallel and checked in order: the first article to take a slug
    // keeps it, and each later one is an error naming it.
    let slugs: Vec<String> = (items.par_iter())
        .map(|(source, _)| match &source.front.slug {
            Some(slug) => slug.clone(),
            None => default_slug(&source.path),
        })
        .collect();
    let mut taken: FxHashMap<&str, usize> = FxHashMap::default();
    for (index, slug) in slugs.iter().enumerate() {
        let path = &items[index].0.path;
        if let Err(why) = check_slug(slug) {
            problems.push(Diagnostic::error(path, None, why));
            continue;
        }
        match taken.entry(slug) {
            std::collections::hash_map::Entry::Occupied(first) => problems.push(Diagnostic::error(
                path,
                None,
                format!(
                    "slug {slug:?} is taken by {} too; set a different `slug` in front matter",
                    items[*first.get()].0.path.display()
                ),
            )),
            std::collections::hash_map::Entry::Vacant(free) => {
                free.insert(index);
            }
        }
    }
    if problems.has_errors() {
        return Err(problems);
    }
    let articles: Vec<Article> = (items.into_iter().zip(slugs))
        .map(|((source, extracted), slug)| Article {
            slug,
            path: source.path,
            digest: source.digest,
            format: source.format,
            source_url: source.front.source,
            extra: source.front.extra,
            metadata: extracted.metadata,
            body: extracted.body,
        })
        .collect();

    let mut by_date: Vec<usize> = (0..articles.len()).collect();
    // The order is total (ties go by index): an unstable sort gives the one order there is.
    by_date.par_sort_unstable_by(|&a, &b| {
        let (da, db) = (articles[a].metadata.date, articles[b].metadata.date);
        match (da, db) {
            (Some(x), Some(y)) => y.cmp(&x).then(a.cmp(&b)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.cmp(&b),
        }
    });
    let rank: Vec<usize> = {
        let mut rank = vec![0; articles.len()];
        for (position, &index) in by_date.iter().enumerate() {
            rank[index] = position;
        }
        rank
    };

    // Entities and their articles. Each key is numbered once (see `EntityNumbers`), and
    // everything after works on the numbers: comparing and hashing the keys of every mention,
    // article after article, had been a quarter of the graph's time.
    let numbers = EntityNumbers::new(&articles, catalog);
    // Each entity's articles newest first, and how many times they name it: gathered walking
    // the articles newest first, so no list needs sorting (the articles' numbers are one
    // array, which that order reads out of sequence at little cost).
    let mut entity_articles: Vec<Vec<usize>> = vec![Vec::new(); numbers.len()];
    let mut mention_counts: Vec<usize> = vec![0; numbers.len()];
    for &index in &by_date {
        for &(number, count) in numbers.of(index) {
            entity_articles[number as usize].push(index);
            mention_counts[number as usize] += count as usize;
        }
    }
    let mut entities: BTreeMap<EntityKey, EntityNode> = BTreeMap::new();
    for (number, (articles_of, mention_count)) in
        entity_articles.into_iter().zip(mention_counts).enumerate()
    {
        if articles_of.is_empty() {
            continue;
        }
        let (key, entity) = numbers.entity(number, &articles);
        let node = EntityNode {
            entity,
            articles: articles_of,
            mention_count,
            children: Vec::new(),
            cooccurring: Vec::new(),
            years: Vec::new(),
        };
        entities.insert(key.clone(), node);
    }
    // Ancestors of every named entity get a node too, so breadcrumbs always link.
    let named: Vec<EntityKey> = entities.keys().cloned().collect();
    for key in named {
        let mut parent = entities.get(&key).and_then(|n| n.entity.parent.clone());
        while let Some(p) = parent {
            if entities.contains_key(&p) {
                break;
            }
            let Some(entity) = catalog.entities.get(&p) else {
                break;
            };
            parent = entity.parent.clone();
            entities.insert(
                p,
                EntityNode {
                    entity: entity.clone(),
                    articles: Vec::new(),
                    mention_count: 0,
                    children: Vec::new(),
                    cooccurring: Vec::new(),
                    years: Vec::new(),
                },
            );
        }
    }
    let pairs: Vec<(EntityKey, EntityKey)> = entities
        .iter()
        .filter_map(|(key, node)| node.entity.parent.clone().map(|p| (p, key.clone())))
        .collect();
    for (parent, child) in pairs {
        if let Some(node) = entities.get_mut(&parent) {
            node.children.push(child);
        }
    }

    // Each article's entities as indexes into the entity list, and its years, computed once.
    let keys: Vec<EntityKey> = entities.keys().cloned().collect();
    let mut position = vec![0_u32; numbers.len()];
    for (index, key) in keys.iter().enumerate() {
        if let Some(number) = numbers.number(key) {
            // Entity numbers index a list of entities built in memory: far below 2^32.
            position[number as usize] = index as u32;
        }
    }
    // Each article's entities in key order, as their indexes are, each once.
    let (article_entities, article_mentions): (Vec<Vec<usize>>, Vec<Vec<usize>>) = (0..articles
        .len())
        .into_par_iter()
        .map(|index| {
            let mut found: Vec<(usize, usize)> = (numbers.of(index).iter())
                .map(|&(number, count)| (position[number as usize] as usize, count as usize))
                .collect();
            found.sort_unstable();
            found.into_iter().unzip()
        })
        .unzip();
    let article_years: Vec<Vec<i32>> = articles
        .par_iter()
        .map(|article| article.metadata.all_years())
        .collect();

    // Co-occurrence and years per entity, counted over its articles into a dense array.
    let flat = FlatLists::new(&article_entities);
    type Counts = (Vec<(usize, usize)>, Vec<(i32, usize)>);
    let nodes: Vec<&EntityNode> = entities.values().collect();
    let counts: Vec<Counts> = nodes
        .par_iter()
        .enumerate()
        .map_init(
            || Tally::new(keys.len()),
            |tally, (id, node)| {
                let mut all_years: Vec<i32> = Vec::new();
                for &a in &node.articles {
                    tally.add_all(flat.of(a).filter(|&other| other != id));
                    all_years.extend(&article_years[a]);
                }
                // Counted by sorting: quicker than a map for a few thousand numbers.
                all_years.sort_unstable();
                let by_year = all_years
                    .chunk_by(|a, b| a == b)
                    .map(|run| (run[0], run.len()))
                    .collect();
                (tally.ranked(), by_year)
            },
        )
        .collect();
    for ((_, node), (list, years)) in entities.iter_mut().zip(counts) {
        node.cooccurring = list;
        node.years = years;
    }

    // Years.
    // Gathered over the articles newest first, in parallel as the entities' lists are.
    let mut years: BTreeMap<i32, YearNode> = (by_date.par_iter())
        .fold(
            BTreeMap::new,
            |mut years: BTreeMap<i32, YearNode>, &index| {
                let metadata = &articles[index].metadata;
                if let Some(date) = metadata.date {
                    years.entry(date.year()).or_default().published.push(index);
                }
                for (i, mention) in metadata.years.iter().enumerate() {
                    years
                        .entry(mention.year)
                        .or_default()
                        .references
                        .push((index, i));
                }
                years
            },
        )
        .reduce(BTreeMap::new, |mut earlier, later| {
            for (year, node) in later {
                let joined = earlier.entry(year).or_default();
                joined.published.extend(node.published);
                joined.references.extend(node.references);
            }
            earlier
        });
    years.par_iter_mut().for_each_init(
        || Tally::new(keys.len()),
        |tally, (_, node)| {
            let mut seen_articles: Vec<usize> = node.published.clone();
            seen_articles.extend(node.references.iter().map(|&(a, _)| a));
            seen_articles.sort_unstable();
            seen_articles.dedup();
            for &a in &seen_articles {
                tally.add_all(flat.of(a));
            }
            node.entities = tally.ranked();
        },
    );

    let entity_articles: Vec<&[usize]> = (entities.values())
        .map(|node| node.articles.as_slice())
        .collect();
    let related = related_articles(&article_entities, &entity_articles, &rank, &by_date);
    let names_by_key = (entities.values())
        .map(|node| (node.entity.key.clone(), node.entity.name.clone()))
        .collect();
    Ok(Dossier {
        articles,
        by_date,
        rank,
        entities,
        years,
        related,
        entity_keys: keys,
        article_entities,
        article_mentions,
        article_years,
        names_by_key,
    })
}

/// An article's entities by number, each with how many times its text names it.
type Pairs = Vec<(u32, u32)>;

/// Every entity the articles name, numbered: the catalogue's entities by their place in it (key
/// order), then those it lacks, in key order. Each article's
/// entities are kept by number, each once with how many times the text names it, in one array.
struct EntityNumbers<'a> {
    /// The catalogue's entities by number.
    catalogue: Vec<(&'a EntityKey, &'a Entity)>,
    /// The numbers of the catalogue's keys.
    catalogued: FxHashMap<&'a EntityKey, u32>,
    /// The keys the catalogue lacks, numbered after the catalogue's, each with the first
    /// article (by index) to name it, which gives its name.
    uncatalogued: Vec<(&'a EntityKey, usize)>,
    uncatalogued_numbers: FxHashMap<&'a EntityKey, u32>,
    /// Each article's (number, mentions) pairs, in number order, article after article.
    found: Vec<(u32, u32)>,
    /// Where each article's pairs start in `found`, and, last, their end.
    starts: Vec<usize>,
}

impl<'a> EntityNumbers<'a> {
    /// Numbers the entities of `articles`: those mentioned, and those added in front matter
    /// (which count no mention).
    fn new(articles: &'a [Article], catalog: &'a Catalog) -> Self {
        // The catalogue's numbers are entities, a few hundred: far below 2^32.
        let catalogue: Vec<(&EntityKey, &Entity)> = catalog.entities.iter().collect();
        let catalogued: FxHashMap<&EntityKey, u32> = (catalogue.iter().enumerate())
            .map(|(number, &(key, _))| (key, number as u32))
            .collect();
        // In parallel: each article's catalogued entities by number, the others by key.
        let split: Vec<(Pairs, Vec<(&EntityKey, u32)>)> = articles
            .par_iter()
            .map(|article| {
                let metadata = &article.metadata;
                let mut known = Vec::with_capacity(metadata.mentions.len());
                let mut unknown = Vec::new();
                let keys = (metadata.added.iter().map(|key| (key, 0)))
                    .chain(metadata.mentions.iter().map(|m| (&m.entity, 1)));
                for (key, count) in keys {
                    match catalogued.get(key) {
                        Some(&number) => known.push((number, count)),
                        None => unknown.push((key, count)),
                    }
                }
                (known, unknown)
            })
            .collect();
        // The keys the catalogue lacks, each with the first article to name it, numbered in
        // key order. (Numbered as the articles first name them, one article after another,
        // they were most of the numbering's time: the generated dossier names 68,000 of them.)
        let firsts = (split.par_iter().enumerate())
            .fold(FxHashMap::default, |mut firsts, (index, (_, unknown))| {
                for &(key, _) in unknown {
                    // Each fold takes articles in increasing order: the first stays.
                    firsts.entry(key).or_insert(index);
                }
                firsts
            })
            .reduce(FxHashMap::default, |mut earlier, later| {
                for (key, index) in later {
                    let first = earlier.entry(key).or_insert(index);
                    *first = (*first).min(index);
                }
                earlier
            });
        let mut uncatalogued: Vec<(&EntityKey, usize)> = firsts.into_iter().collect();
        uncatalogued.sort_unstable();
        let uncatalogued_numbers: FxHashMap<&EntityKey, u32> = (uncatalogued.iter().enumerate())
            .map(|(offset, &(key, _))| (key, (catalogue.len() + offset) as u32))
            .collect();
        let lists: Vec<Pairs> = split
            .into_par_iter()
            .map(|(mut known, unknown)| {
                // Every key the catalogue lacks was numbered above.
                known.extend(
                    (unknown.into_iter()).map(|(key, count)| (uncatalogued_numbers[key], count)),
                );
                // Counted by sorting: quicker than a map for a few dozen numbers.
                known.sort_unstable();
                known.dedup_by(|later, earlier| {
                    let same = later.0 == earlier.0;
                    if same {
                        earlier.1 += later.1;
                    }
                    same
                });
                known
            })
            .collect();
        // One array: the entities' lists are gathered reading the articles out of order.
        let mut found = Vec::with_capacity(lists.iter().map(Vec::len).sum());
        let mut starts = Vec::with_capacity(lists.len() + 1);
        for list in lists {
            starts.push(found.len());
            found.extend(list);
        }
        starts.push(found.len());
        EntityNumbers {
            catalogue,
            catalogued,
            uncatalogued,
            uncatalogued_numbers,
            found,
            starts,
        }
    }

    /// How many numbers there are.
    fn len(&self) -> usize {
        self.catalogue.len() + self.uncatalogued.len()
    }

    /// The (number, mentions) pairs of article `index`, in number order.
    fn of(&self, index: usize) -> &[(u32, u32)] {
        &self.found[self.starts[index]..self.starts[index + 1]]
    }

    /// The number of `key`, if an article names it or the catalogue has it.
    fn number(&self, key: &EntityKey) -> Option<u32> {
        (self.catalogued.get(key))
            .or_else(|| self.uncatalogued_numbers.get(key))
            .copied()
    }

    /// The key and entity of `number`: the catalogue's entry, or one made from the first
    /// article to name it.
    fn entity(&self, number: usize, articles: &[Article]) -> (&'a EntityKey, Entity) {
        match self.catalogue.get(number) {
            Some(&(key, entity)) => (key, entity.clone()),
            None => {
                let (key, first) = self.uncatalogued[number - self.catalogue.len()];
                (key, uncatalogued(key, &articles[first]))
            }
        }
    }
}

/// Each article's entity numbers in one array, article after article, in 32 bits: what the
/// co-occurrence and year counts read for every article of every entity and year. As one list
/// per article (8 bytes a number, each list an allocation of its own), at 100,000 articles
/// they no longer fitted the processor's caches, and those counts took 21 times as long as at
/// 10,000 articles.
struct FlatLists {
    numbers: Vec<u32>,
    /// Where each article's numbers start in `numbers`, and, last, their end.
    starts: Vec<usize>,
}

impl FlatLists {
    fn new(lists: &[Vec<usize>]) -> Self {
        let mut numbers = Vec::with_capacity(lists.iter().map(Vec::len).sum());
        let mut starts = Vec::with_capacity(lists.len() + 1);
        for list in lists {
            starts.push(numbers.len());
            // Entity numbers index a list of entities built in memory: far below 2^32.
            numbers.extend(list.iter().map(|&id| id as u32));
        }
        starts.push(numbers.len());
        FlatLists { numbers, starts }
    }

    /// The entity numbers of article `index`.
    fn of(&self, index: usize) -> impl Iterator<Item = usize> + '_ {
        self.numbers[self.starts[index]..self.starts[index + 1]]
            .iter()
            .map(|&id| id as usize)
    }
}

/// Counts of entity indexes in a dense array, reset as it is read.
struct Tally {
    counts: Vec<usize>,
    touched: Vec<usize>,
}

impl Tally {
    fn new(size: usize) -> Self {
        Tally {
            counts: vec![0; size],
            touched: Vec::new(),
        }
    }

    fn add_all(&mut self, ids: impl Iterator<Item = usize>) {
        for id in ids {
            if self.counts[id] == 0 {
                self.touched.push(id);
            }
            self.counts[id] += 1;
        }
    }

    /// The counted entities with their counts, most first then by key, leaving the tally
    /// empty. Entities stay numbers: an entity shares articles with thousands of others, and
    /// a copy of each key was most of the graph's time after related articles.
    fn ranked(&mut self) -> Vec<(usize, usize)> {
        let mut list: Vec<(usize, usize)> = self
            .touched
            .drain(..)
            .map(|id| (id, std::mem::take(&mut self.counts[id])))
            .collect();
        // Indexes follow key order, so comparing them compares keys.
        list.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        list
    }
}

/// Related articles from the inverted index entity -> articles: two articles score the sum of
/// the weights ([`entity_weight`]) of the entities they share, so rare shared entities count
/// most.
///
/// Each article walks the postings of its own entities into a dense score array, without
/// hashing, then picks the best five from it: by reading the whole array when the postings
/// reach a good share of the dossier (as in the 10,000-article benchmark), or through the list
/// of the entries it touched when they are few, so that the cost stays that of the postings.
///
/// Entities named by more than [`RELATED_MAX_DF`] articles count only for an article that finds
/// fewer than five related articles through the others: in a large archive of one subject,
/// every article may name only the same few places and agencies, and would otherwise list none.
/// Such an article scores again with them, each between it and the [`RELATED_WINDOW`] articles
/// that name it nearest in date.
///
/// `entity_articles` holds each entity's articles in rank order, by entity number (as in
/// `article_entities`).
fn related_articles(
    article_entities: &[Vec<usize>],
    entity_articles: &[&[usize]],
    rank: &[usize],
    by_date: &[usize],
) -> Vec<Vec<usize>> {
    // Each entity's weight and articles, for entities named by two articles or more.
    let postings: Vec<Option<Posting<'_>>> = (entity_articles.iter())
        .map(|&articles| {
            (articles.len() >= 2).then(|| Posting {
                idf: entity_weight(articles.len()),
                articles,
            })
        })
        .collect();
    let scoring = Scoring {
        dense_share: DENSE_SHARE,
        max_df: RELATED_MAX_DF,
        window: RELATED_WINDOW,
    };
    score_related(article_entities, &postings, rank, by_date, scoring)
}

/// How much sharing an entity named by `df` articles makes two articles related: its inverse
/// document frequency as if in a dossier of [`RELATED_MAX_DF`] articles, smoothed to stay
/// above 1 however many articles name it. It falls from 6.5 for an entity of two articles to
/// 1.7 for one of 512 (common, see [`RELATED_MAX_DF`]), and towards 1 beyond.
///
/// It depends on the entity's own count, not on the dossier's size, and the count is rounded
/// up to a power of two (entities named by 65 to 128 articles weigh the same): a new article
/// then changes the weight of one of its entities only when that entity's count passes a
/// power of two, and leaves alone the related lists it does not join. (With the inverse
/// document frequency in the dossier itself, every weight moved with each new article: one
/// new article at 10,000 generated articles reordered the lists of 260 articles it did not
/// join.)
fn entity_weight(df: usize) -> f64 {
    (RELATED_MAX_DF as f64 / df.max(1).next_power_of_two() as f64).ln_1p() + 1.0
}

/// One entity's part in the scoring of related articles.
#[derive(Debug, Clone, Copy)]
struct Posting<'a> {
    /// Its weight ([`entity_weight`]).
    idf: f64,
    /// Its articles, in rank order (newest first).
    articles: &'a [usize],
}

/// How [`score_related`] reads the scores (tests try other values than the build's).
#[derive(Debug, Clone, Copy)]
struct Scoring {
    /// An article whose postings reach at least one article in this many reads every score in
    /// order (see [`DENSE_SHARE`]).
    dense_share: usize,
    /// An entity with more articles than this is common: it counts only where an article
    /// needs it, and then only between articles near in date (see [`RELATED_MAX_DF`]).
    max_df: usize,
    /// How many of a common entity's articles an article scores (see [`RELATED_WINDOW`]).
    window: usize,
}

/// Best first: a higher score, then the newer article (the lower place). The order is total
/// (no two articles share a place), so the order candidates are offered in is not.
fn ranks_before(a: (usize, f32), b: (usize, f32)) -> bool {
    b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)).is_lt()
}

/// For an article at place `own` that counts common entities: a higher score first, then the
/// article nearer to it in date, then the newer. Its common entities' articles around it all
/// score the same when it shares only those with them: the nearest come first.
fn ranks_before_near(own: usize) -> impl Fn((usize, f32), (usize, f32)) -> bool {
    move |a, b| {
        (b.1.total_cmp(&a.1))
            .then_with(|| a.0.abs_diff(own).cmp(&b.0.abs_diff(own)))
            .then_with(|| a.0.cmp(&b.0))
            .is_lt()
    }
}

/// Offers a candidate (place, score) to `best`, the few best so far in the order `before`;
/// returns the lowest score that could still join (that of the last kept once there are
/// enough), or 0 while there is room.
fn offer(
    best: &mut Vec<(usize, f32)>,
    candidate: (usize, f32),
    before: impl Fn((usize, f32), (usize, f32)) -> bool,
) -> f32 {
    if best.len() < RELATED_COUNT || best.last().is_some_and(|&last| before(candidate, last)) {
        let at = best.partition_point(|&kept| before(kept, candidate));
        best.insert(at, candidate);
        best.truncate(RELATED_COUNT);
    }
    match best.last() {
        Some(&(_, lowest)) if best.len() == RELATED_COUNT => lowest,
        _ => 0.0,
    }
}

/// Adds up `lists` (weights and places) into `scores`, leaving out the place `own`, and
/// notes each place touched in `touched`; returns how many were.
///
/// Places touched so far are `touched[..count]`. Each posting is written at `count`, which
/// moves on only when the place is new (every idf is at least 1, so 0 means untouched): no
/// branch in the loop that runs tens of millions of times.
fn add_touched<'l>(
    lists: impl Iterator<Item = (f32, &'l [u32])>,
    own: usize,
    scores: &mut [f32],
    touched: &mut [u32],
) -> usize {
    let mut count = 0;
    for (idf, list) in lists {
        for &other in list {
            if other as usize != own {
                let score = &mut scores[other as usize];
                touched[count] = other;
                count += usize::from(*score == 0.0);
                *score += idf;
            }
        }
    }
    count
}

/// Offers each place of `touched` with its score to `best` in the order `before`, clearing
/// the score. As when every score is read, only a score at least the fifth best so far can
/// join, so most cost one comparison.
fn offer_touched(
    best: &mut Vec<(usize, f32)>,
    scores: &mut [f32],
    touched: &[u32],
    before: impl Fn((usize, f32), (usize, f32)) -> bool,
) {
    let mut floor = 0.0;
    for &other in touched {
        let other = other as usize;
        let candidate = (other, std::mem::take(&mut scores[other]));
        if candidate.1 >= floor {
            floor = offer(best, candidate, &before);
        }
    }
}

/// The `window` places of `list` (places in increasing order out of `n`, among them `own`)
/// nearest to `own` in it: as many on each side as the list holds, up to half each.
fn nearest(list: &[u32], own: usize, n: usize, window: usize) -> &[u32] {
    let width = window.min(list.len());
    // A common entity's articles spread over the whole dossier: `own` is about as far into
    // the list as into all places. (A plain binary search over lists of thousands, a dozen
    // reads far apart in memory for each article and entity, doubled the graph's time at
    // 100,000 articles.)
    let guess = own.saturating_mul(list.len()) / n.max(1);
    let at = partition_near(list, own, guess);
    let start = at.saturating_sub(width / 2).min(list.len() - width);
    &list[start..start + width]
}

/// The number of places in `list` (in increasing order) below `own`, as `partition_point`
/// finds it, searched from `guess` outwards in steps that double, then by halves between the
/// last two: a few reads near `guess` when it is close.
fn partition_near(list: &[u32], own: usize, guess: usize) -> usize {
    let below = |i: usize| (list[i] as usize) < own;
    let Some(last) = list.len().checked_sub(1) else {
        return 0;
    };
    let guess = guess.min(last);
    // The answer is at `start` or later, and at `end` or earlier.
    let (start, end) = if below(guess) {
        let (mut known, mut step) = (guess, 1);
        loop {
            let probe = known + step;
            if probe > last {
                break (known + 1, list.len());
            }
            if !below(probe) {
                break (known + 1, probe);
            }
            (known, step) = (probe, step * 2);
        }
    } else {
        let (mut known, mut step) = (guess, 1);
        loop {
            let Some(probe) = known.checked_sub(step) else {
                break (0, known);
            };
            if below(probe) {
                break (probe + 1, known);
            }
            (known, step) = (probe, step * 2);
        }
    };
    start + list[start..end].partition_point(|&place| (place as usize) < own)
}

/// The scoring of [`related_articles`], given each entity's [`Posting`] (`None` for an entity
/// that does not count). An article whose postings reach one article in `dense_share` or more
/// reads every score in order; the others keep a list of the articles they touch.
///
/// Scores are kept by rank (newest first), not by article number: the postings are in rank
/// order, so each list is added up walking forward through the scores, and the rank that
/// breaks a tie is the place itself. `by_date` is the article at each place (the inverse of
/// `rank`, as in [`Dossier::by_date`]).
fn score_related(
    article_entities: &[Vec<usize>],
    postings: &[Option<Posting<'_>>],
    rank: &[usize],
    by_date: &[usize],
    scoring: Scoring,
) -> Vec<Vec<usize>> {
    let n = article_entities.len();
    // Each entity's articles as places in rank order, in the order the list gives them. Scores
    // and places are kept in 32 bits: the scores of 10,000 articles then fit a core's fastest
    // cache, and every article reads them all (see below) or adds up thousands of them.
    let ranked: Vec<Option<(f32, Vec<u32>, bool)>> = postings
        .iter()
        .map(|entry| {
            entry.map(|posting| {
                let places = (posting.articles.iter()).map(|&a| rank[a] as u32).collect();
                let common = posting.articles.len() > scoring.max_df;
                (posting.idf as f32, places, common)
            })
        })
        .collect();
    article_entities
        .par_iter()
        .enumerate()
        .map_init(
            || (vec![0.0_f32; n], vec![0_u32; n]),
            |(scores, touched), (index, ids)| {
                let own = rank[index];
                // This article's entities with their weights and articles, in key order, so
                // the sums add up in the same order every build.
                let entries = || {
                    (ids.iter()).filter_map(|&id| match ranked.get(id) {
                        Some(Some((idf, list, common))) => Some((*idf, list.as_slice(), *common)),
                        _ => None,
                    })
                };
                let lists: Vec<(f32, &[u32])> = entries()
                    .filter(|&(_, _, common)| !common)
                    .map(|(idf, list, _)| (idf, list))
                    .collect();
                let work: usize = lists.iter().map(|(_, list)| list.len()).sum();
                // The few best are kept in order as the scores are read and reset, in one
                // pass, rather than collected and partly sorted (thousands of entries per
                // article).
                let mut best: Vec<(usize, f32)> = Vec::with_capacity(RELATED_COUNT + 1);
                if work.saturating_mul(scoring.dense_share) >= scores.len() {
                    // The postings reach a good share of all articles: every score is added
                    // up, the article's own dropped, and then all are read in order, which
                    // costs less than keeping the list of those touched.
                    for &(idf, list) in &lists {
                        for &other in list {
                            scores[other as usize] += idf;
                        }
                    }
                    if let Some(score) = scores.get_mut(own) {
                        *score = 0.0;
                    }
                    // Only a score above the fifth best so far can join the best: places come
                    // in increasing order, and on equal scores the lower place wins. After the
                    // first few, few do (even where weights tie often), so the test is then
                    // predictable. Each block is cleared once read, while it is at hand.
                    let mut floor = 0.0;
                    // Blocks of a size known when compiling: each is tested and cleared in a
                    // few vector instructions (a slice of any length was cleared by a call to
                    // memset per block, 3% of a one-article rebuild).
                    let (blocks, rest) = scores.as_chunks_mut::<SCAN_BLOCK>();
                    for (block, chunk) in blocks.iter_mut().enumerate() {
                        // Most blocks hold no score that could join: one test of the whole
                        // block, without a branch per score (so it is vectorized), skips them.
                        if chunk
                            .iter()
                            .fold(false, |any, &score| any | (score > floor))
                        {
                            for (offset, &score) in chunk.iter().enumerate() {
                                if score > floor {
                                    floor = offer(
                                        &mut best,
                                        (block * SCAN_BLOCK + offset, score),
                                        ranks_before,
                                    );
                                }
                            }
                        }
                        *chunk = [0.0; SCAN_BLOCK];
                    }
                    let rest_start = blocks.len() * SCAN_BLOCK;
                    for (offset, score) in rest.iter_mut().enumerate() {
                        if *score > floor {
                            floor = offer(&mut best, (rest_start + offset, *score), ranks_before);
                        }
                        *score = 0.0;
                    }
                } else {
                    let count = add_touched(lists.iter().copied(), own, scores, touched);
                    offer_touched(&mut best, scores, &touched[..count], ranks_before);
                }
                // Too few through the entities that tell articles apart: the common ones
                // count too, between this article and their articles nearest it in date,
                // added up with the others in key order; on equal scores, the nearer wins.
                // Few articles need it (all of them only in a large archive that names few
                // entities), each with a bounded number of postings: the list of places
                // touched serves.
                if best.len() < RELATED_COUNT && entries().any(|(_, _, common)| common) {
                    best.clear();
                    let near = entries().map(|(idf, list, common)| {
                        let list = if common {
                            nearest(list, own, n, scoring.window)
                        } else {
                            list
                        };
                        (idf, list)
                    });
                    let count = add_touched(near, own, scores, touched);
                    offer_touched(&mut best, scores, &touched[..count], ranks_before_near(own));
                }
                best.iter().map(|&(place, _)| by_date[place]).collect()
            },
        )
        .collect()
}

fn uncatalogued(key: &EntityKey, article: &Article) -> Entity {
    let name = article
        .metadata
        .new_names
        .get(key)
        .cloned()
        .unwrap_or_else(|| key.slug.clone());
    Entity {
        key: key.clone(),
        name,
        subkind: String::new(),
        aliases: Vec::new(),
        parent: None,
        description: String::new(),
        coords: None,
        defined_at: None,
    }
}

/// The slug of an article without a front-matter slug: its file name without the extension,
/// kept as written when it is already safe, else made safe.
fn default_slug(path: &std::path::Path) -> String {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("article");
    if !stem.is_empty()
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        stem.to_string()
    } else {
        let slug = crate::catalog::slugify(stem);
        if slug.is_empty() {
            "article".to_string()
        } else {
            slug
        }
    }
}

/// A slug becomes a file name: letters, digits, `-` and `_` only.
fn check_slug(slug: &str) -> Result<(), String> {
    if slug.is_empty() {
        return Err("the slug is empty".to_string());
    }
    if slug.contains('/') || slug.contains('\\') || slug.contains("..") {
        return Err(format!("slug {slug:?} must not contain '/', '\\' or '..'"));
    }
    if !slug
        .chars()
        .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        return Err(format!(
            "slug {slug:?} may hold only letters, digits, '-', '_' and '.'"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain-text articles extracted with the site's own settings and catalogue, in the order
    /// given, each a path and a body.
    fn extracted(files: &[(&str, &str)]) -> (Vec<(Source, Extraction)>, Catalog) {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let config = crate::config::load(root).expect("site.toml");
        let catalog = crate::catalog::load(root).expect("catalogue");
        let matcher = crate::extract::Matcher::new(&catalog);
        let items = (files.iter())
            .map(|&(path, body)| {
                let source = Source {
                    path: path.into(),
                    format: Format::Text,
                    front: Default::default(),
                    body: body.to_string(),
                    body_line: 1,
                    digest: 0,
                };
                let cleaned = crate::clean::clean(&source, &config.furniture);
                let made = crate::extract::extract(&source, cleaned, &matcher, &config.extract);
                (source, Extraction::from(made))
            })
            .collect();
        (items, catalog)
    }

    #[test]
    fn entity_and_year_lists_run_newest_first_and_the_first_article_names_a_new_entity() {
        // Many articles, so that the lists are gathered in pieces, in an order of their own:
        // the article at index i is dated 2012 + (i * 7) % 13, some undated.
        let bodies: Vec<(String, String)> = (0..240)
            .map(|i| {
                let dated = if i % 11 == 5 {
                    String::new()
                } else {
                    format!("May 3, {}\n\n", 2012 + (i * 7) % 13)
                };
                let body = format!(
                    "Phones seized {i}\n\n{dated}Guards in Hyesan seized phones. A woman \
                     surnamed Pak was fined."
                );
                (format!("content/articles/{i:03}.txt"), body)
            })
            .collect();
        let files: Vec<(&str, &str)> = (bodies.iter())
            .map(|(path, body)| (path.as_str(), body.as_str()))
            .collect();
        let (mut items, catalog) = extracted(&files);
        // Each article spells the new person its own way: the first by index gives the name.
        let pak = EntityKey::new(crate::catalog::Kind::Person, "Pak");
        for (i, (_, extraction)) in items.iter_mut().enumerate().rev() {
            let names = &mut extraction.metadata.new_names;
            assert!(names.contains_key(&pak), "{names:?}");
            names.insert(pak.clone(), format!("Pak, as article {i} has it"));
        }
        let dossier = build(items, &catalog).expect("builds");

        let hyesan = EntityKey::new(crate::catalog::Kind::Place, "Hyesan");
        for key in [&hyesan, &pak] {
            let node = &dossier.entities[key];
            assert_eq!(node.articles, dossier.by_date, "{key:?}");
            assert_eq!(node.mention_count, 240, "{key:?}");
        }
        assert_eq!(
            dossier.entities[&pak].entity.name,
            "Pak, as article 0 has it"
        );
        // Newest first, undated last, ties in index order.
        let dates: Vec<_> = (dossier.by_date.iter())
            .map(|&i| (dossier.articles[i].metadata.date, i))
            .collect();
        let mut expected = dates.clone();
        expected.sort_by_key(|&(date, i)| (date.is_none(), std::cmp::Reverse(date), i));
        assert_eq!(dates, expected);
        let undated = dates.iter().filter(|d| d.0.is_none()).count();
        assert_eq!(undated, (0..240).filter(|i| i % 11 == 5).count());
        for (year, node) in &dossier.years {
            let published: Vec<usize> = (dossier.by_date.iter().copied())
                .filter(|&i| dossier.articles[i].metadata.date.map(|d| d.year()) == Some(*year))
                .collect();
            assert_eq!(node.published, published, "{year}");
        }
    }

    #[test]
    fn each_article_lists_its_entities_once_in_key_order_with_their_mentions() {
        // People the catalogue lacks, found by rule, sort among the catalogue's entities.
        let files = [
            (
                "content/articles/a.txt",
                "Phones seized\n\nA woman surnamed Pak was fined in Hyesan. Pak paid the \
                 fine. Guards in Hyesan and Musan watched the border.",
            ),
            (
                "content/articles/b.txt",
                "Raids\n\nA man surnamed Choe was caught in Musan. Choe fled to Hyesan.",
            ),
        ];
        let (mut items, catalog) = extracted(&files);
        // Entities added in front matter count no mention. The first is in the catalogue; the
        // second is not, and its key sorts before every place the articles name.
        let added = EntityKey::new(crate::catalog::Kind::Place, "Hoeryong");
        items[1].1.metadata.added.push(added.clone());
        let village = EntityKey::new(crate::catalog::Kind::Place, "Abai");
        assert!(!catalog.entities.contains_key(&village));
        items[0].1.metadata.added.push(village.clone());
        let dossier = build(items, &catalog).expect("builds");
        let mut uncatalogued = 0;
        for (index, article) in dossier.articles.iter().enumerate() {
            let metadata = &article.metadata;
            let expected: Vec<(EntityKey, usize)> = (metadata.entities().into_iter())
                .map(|key| {
                    let mentions = metadata.mentions.iter().filter(|m| &m.entity == key);
                    (key.clone(), mentions.count())
                })
                .collect();
            let listed: Vec<(EntityKey, usize)> = (dossier.article_entities[index].iter())
                .zip(&dossier.article_mentions[index])
                .map(|(&position, &count)| (dossier.entity_keys[position].clone(), count))
                .collect();
            assert_eq!(listed, expected, "{}", article.path.display());
            uncatalogued += (listed.iter())
                .filter(|(key, _)| !catalog.entities.contains_key(key))
                .count();
        }
        assert!(uncatalogued >= 3, "both people are found by rule");
        assert_eq!(dossier.entity_keys[dossier.article_entities[0][0]], village);
        let b = &dossier.article_entities[1];
        assert!(b.iter().any(|&p| dossier.entity_keys[p] == added));
        assert_eq!(dossier.entities[&added].mention_count, 0);
        assert_eq!(dossier.entities[&added].articles, vec![1]);
    }

    #[test]
    fn a_slug_taken_twice_is_an_error_on_the_later_file_naming_the_first() {
        let (items, catalog) = extracted(&[
            ("content/articles/a/x.txt", "One\n\nGuards in Hyesan."),
            ("content/articles/b/x.txt", "Two\n\nGuards in Hyesan."),
            ("content/articles/y.txt", "Three\n\nGuards in Hyesan."),
            ("content/articles/c/x.txt", "Four\n\nGuards in Hyesan."),
        ]);
        let problems = build(items, &catalog).expect_err("two slugs are taken twice");
        let messages: Vec<String> = problems.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            messages,
            [
                "content/articles/b/x.txt: slug \"x\" is taken by content/articles/a/x.txt too; \
                 set a different `slug` in front matter",
                "content/articles/c/x.txt: slug \"x\" is taken by content/articles/a/x.txt too; \
                 set a different `slug` in front matter",
            ]
        );
    }

    /// Related articles by brute force: every pair scored on its own, in the same order of
    /// additions, sorted best first. Common entities count only for an article with fewer
    /// than five related articles without them, each between it and the `window` articles of
    /// its list (in rank order) nearest it; equal scores then go to the nearer article.
    fn related_by_pairs(
        article_entities: &[Vec<usize>],
        postings: &[Option<Posting<'_>>],
        rank: &[usize],
        scoring: Scoring,
    ) -> Vec<Vec<usize>> {
        let common = |posting: &Posting<'_>| posting.articles.len() > scoring.max_df;
        // Whether `b` counts for `a` through `posting`, with or without common entities.
        let counts = |a: usize, b: usize, posting: &Posting<'_>, with_common: bool| {
            let Some(at) = posting.articles.iter().position(|&x| x == b) else {
                return false;
            };
            if !common(posting) {
                return true;
            }
            if !with_common {
                return false;
            }
            let own = (posting.articles.iter().position(|&x| x == a)).expect("its own entity");
            let width = scoring.window.min(posting.articles.len());
            let start = own
                .saturating_sub(width / 2)
                .min(posting.articles.len() - width);
            (start..start + width).contains(&at)
        };
        (0..article_entities.len())
            .map(|a| {
                let best = |with_common: bool| {
                    let mut scored: Vec<(usize, f32)> = (0..article_entities.len())
                        .filter(|&b| b != a)
                        .map(|b| {
                            // In 32 bits, as the scoring keeps them.
                            let mut score = 0.0_f32;
                            for &id in &article_entities[a] {
                                if let Some(posting) = &postings[id]
                                    && counts(a, b, posting, with_common)
                                {
                                    score += posting.idf as f32;
                                }
                            }
                            (b, score)
                        })
                        .filter(|&(_, score)| score > 0.0)
                        .collect();
                    // On equal scores, with common entities the nearer in rank first; then
                    // the newer.
                    let distance = |b: usize| {
                        if with_common {
                            rank[b].abs_diff(rank[a])
                        } else {
                            0
                        }
                    };
                    scored.sort_by(|x, y| {
                        (y.1.total_cmp(&x.1))
                            .then(distance(x.0).cmp(&distance(y.0)))
                            .then(rank[x.0].cmp(&rank[y.0]))
                    });
                    scored.truncate(RELATED_COUNT);
                    scored.into_iter().map(|(b, _)| b).collect::<Vec<usize>>()
                };
                let without = best(false);
                let has_common = (article_entities[a].iter())
                    .any(|&id| postings[id].as_ref().is_some_and(common));
                if without.len() < RELATED_COUNT && has_common {
                    best(true)
                } else {
                    without
                }
            })
            .collect()
    }

    /// Each article's rank (its place in `by_date`), and each of `entity_count` entities'
    /// articles in rank order, as the graph keeps them.
    fn ranked_lists(
        article_entities: &[Vec<usize>],
        by_date: &[usize],
        entity_count: usize,
    ) -> (Vec<usize>, Vec<Vec<usize>>) {
        let mut rank = vec![0; article_entities.len()];
        for (place, &article) in by_date.iter().enumerate() {
            rank[article] = place;
        }
        let lists = (0..entity_count)
            .map(|id| {
                let mut list: Vec<usize> = (0..article_entities.len())
                    .filter(|&a| article_entities[a].contains(&id))
                    .collect();
                list.sort_by_key(|&a| rank[a]);
                list
            })
            .collect();
        (rank, lists)
    }

    proptest::proptest! {
        /// Searching from a guess finds what a binary search finds, however far off the guess.
        #[test]
        fn a_search_from_a_guess_finds_the_partition_point(
            places in proptest::collection::btree_set(0..200_u32, 0..60),
            own in 0..210_usize,
            guess in 0..80_usize,
        ) {
            let list: Vec<u32> = places.into_iter().collect();
            let expected = list.partition_point(|&place| (place as usize) < own);
            proptest::prop_assert_eq!(partition_near(&list, own, guess), expected);
        }

        /// Both ways of reading the scores give the related articles that scoring every pair
        /// gives, with common entities or without.
        #[test]
        fn related_articles_agree_with_scoring_every_pair(
            memberships in proptest::collection::vec(
                proptest::collection::btree_set(0..10_usize, 0..6),
                1..40,
            ),
            order in proptest::collection::vec(0..1000_u32, 40),
            common_above in 2..12_usize,
            window in 1..8_usize,
        ) {
            let entity_count = 10;
            let article_entities: Vec<Vec<usize>> =
                memberships.iter().map(|set| set.iter().copied().collect()).collect();
            // A rank for each article: a permutation, ties in `order` broken by number.
            let mut by_order: Vec<usize> = (0..article_entities.len()).collect();
            by_order.sort_by_key(|&a| (order[a], a));
            let (rank, lists) = ranked_lists(&article_entities, &by_order, entity_count);
            // The build's weights, under which equal scores are common.
            let postings: Vec<Option<Posting<'_>>> = lists
                .iter()
                .map(|list| {
                    (list.len() >= 2).then(|| Posting {
                        idf: entity_weight(list.len()),
                        articles: list.as_slice(),
                    })
                })
                .collect();
            let scoring = |dense_share| Scoring { dense_share, max_df: common_above, window };
            let expected = related_by_pairs(&article_entities, &postings, &rank, scoring(0));
            let dense = scoring(usize::MAX);
            let dense = score_related(&article_entities, &postings, &rank, &by_order, dense);
            let sparse = scoring(0);
            let sparse = score_related(&article_entities, &postings, &rank, &by_order, sparse);
            proptest::prop_assert_eq!(&dense, &expected);
            proptest::prop_assert_eq!(&sparse, &expected);
        }
    }

    /// The entities (of 60) of `count` articles, picked by a simple generator: three to six
    /// each, the lower numbers more often, so that entities are named by 2 to 100 articles.
    fn generated_entities(count: usize) -> Vec<Vec<usize>> {
        let mut state: u64 = 7;
        let mut next = |below: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 33) as usize % below
        };
        (0..count)
            .map(|_| {
                let wanted = 3 + next(4);
                let mut ids: Vec<usize> = (0..wanted)
                    .map(|_| {
                        let below = 1 + next(60);
                        next(below)
                    })
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                ids
            })
            .collect()
    }

    /// The related lists of articles whose entities are given, the first `older` by date
    /// from the newest, and those after them newer still, the last the newest.
    fn related_of(article_entities: &[Vec<usize>], older: usize) -> Vec<Vec<usize>> {
        let by_date: Vec<usize> = ((older..article_entities.len()).rev())
            .chain(0..older)
            .collect();
        let (rank, lists) = ranked_lists(article_entities, &by_date, 60);
        let lists: Vec<&[usize]> = lists.iter().map(Vec::as_slice).collect();
        related_articles(article_entities, &lists, &rank, &by_date)
    }

    #[test]
    fn an_entity_weighs_less_the_more_articles_name_it_and_always_more_than_one() {
        let weights: Vec<f64> = [2, 3, 4, 64, 65, 128, 512, 513, 100_000]
            .map(entity_weight)
            .to_vec();
        let rounded: Vec<f64> = weights
            .iter()
            .map(|w| (w * 100.0).round() / 100.0)
            .collect();
        assert_eq!(
            rounded,
            [6.53, 5.84, 5.84, 3.18, 2.59, 2.59, 1.68, 1.4, 1.0]
        );
        assert!(weights.windows(2).all(|pair| pair[0] >= pair[1]));
        assert!(weights.iter().all(|&w| w > 1.0));
    }

    #[test]
    fn a_new_article_changes_only_the_related_lists_it_joins() {
        let mut articles = generated_entities(400);
        let before = related_of(&articles, 400);
        let counts: Vec<usize> = (0..60)
            .map(|id| articles.iter().filter(|ids| ids.contains(&id)).count())
            .collect();
        // The new article shares entities with many articles, none of them named by a power
        // of two of articles (one more would change its weight).
        let shared: Vec<usize> = (0..60)
            .filter(|&id| counts[id] >= 2 && !counts[id].is_power_of_two())
            .take(5)
            .collect();
        assert_eq!(shared.len(), 5, "{counts:?}");
        articles.push(shared);
        let after = related_of(&articles, 400);
        let mut joined = 0;
        for (article, (old, new)) in before.iter().zip(&after).enumerate() {
            match new.iter().position(|&other| other == 400) {
                // Everything else as it was, one place down.
                Some(at) => {
                    joined += 1;
                    let mut expected = old.clone();
                    expected.insert(at, 400);
                    expected.truncate(RELATED_COUNT);
                    assert_eq!(new, &expected, "article {article}");
                }
                None => assert_eq!(new, old, "article {article}"),
            }
        }
        assert!(joined > 0, "the new article joins no list");
        assert_eq!(after[400].len(), RELATED_COUNT);
    }
}
