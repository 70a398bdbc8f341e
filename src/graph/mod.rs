//! The dossier graph: articles, entities and years joined both ways, with hierarchy,
//! co-occurrence and related articles. Everything keyed by stable keys in sorted maps.
//!
//! Pure: takes extracted articles and the catalogue, does no I/O. Call after `extract`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::Datelike;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::cache::{Extraction, LazyBody};
use crate::catalog::{Catalog, Entity, EntityKey};
use crate::error::{Diagnostic, Diagnostics};
use crate::extract::{Body, Metadata};
use crate::source::{Format, Source};

mod related;
use related::{RelatedMemory, related_articles};

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
    /// What related-article scoring found, for the next build to start from (see
    /// [`Dossier::memory`]).
    related_memory: RelatedMemory,
    /// Whether the graph was the last build's, from its [`GraphMemory`]: nothing to record.
    pub remembered: bool,
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

/// A dossier that gained more than one article in this many since the last build works out
/// its related articles and counts anew rather than updating the last build's (see
/// [`GraphMemory`]).
const UPDATE_SHARE: usize = 16;

/// Joins extracted articles and the catalogue. Duplicate and unsafe slugs are errors.
/// `previous` is what the last build's graph found, if known: when the dossier has only gained
/// a few articles since, related articles and counts are updated from it for the new articles
/// instead of worked out over every article.
pub fn build(
    items: Vec<(Source, Extraction)>,
    catalog: &Catalog,
    previous: Option<&GraphMemory>,
) -> Result<Dossier, Diagnostics> {
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

    let digests: Vec<u128> = articles.iter().map(|article| article.digest).collect();
    let gained = previous.and_then(|memory| {
        let gained = Gained::new(memory.related.digests(), &digests, &rank)?;
        (gained.fresh.len().saturating_mul(UPDATE_SHARE) <= articles.len())
            .then_some((memory, gained))
    });

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

    // Co-occurrence and years per entity, and each year's entities: from the last build's, with
    // the new articles' added, or counted over every article.
    let mut updated = gained.as_ref().and_then(|(memory, gained)| {
        memory
            .counts
            .updated(&keys, gained, &article_entities, &article_years, &articles)
    });
    // Made only if something is counted over every article.
    let flat_lists = std::cell::OnceCell::new();
    let flat = || flat_lists.get_or_init(|| FlatLists::new(&article_entities));
    if let Some(updated) = &mut updated {
        let counts = std::mem::take(&mut updated.cooccurring)
            .into_iter()
            .zip(std::mem::take(&mut updated.years));
        for ((_, node), (list, years)) in entities.iter_mut().zip(counts) {
            node.cooccurring = list;
            node.years = years;
        }
    } else {
        count_cooccurrence(&mut entities, flat(), &article_years, keys.len());
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
    match updated.map(|updated| updated.year_entities) {
        // The same years as the last build's and the new articles'.
        Some(mut remembered) if remembered.keys().eq(years.keys()) => {
            for (year, node) in years.iter_mut() {
                node.entities = remembered.remove(year).unwrap_or_default();
            }
        }
        _ => count_year_entities(&mut years, flat(), keys.len()),
    }

    let entity_articles: Vec<&[usize]> = (entities.values())
        .map(|node| node.articles.as_slice())
        .collect();
    let (related, related_memory) = related_articles(
        &article_entities,
        &entity_articles,
        &rank,
        &by_date,
        &digests,
        gained
            .as_ref()
            .map(|(memory, gained)| (&memory.related, gained)),
    );
    let remembered = gained.is_some_and(|(_, gained)| gained.fresh.is_empty());
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
        related_memory,
        remembered,
        entity_keys: keys,
        article_entities,
        article_mentions,
        article_years,
        names_by_key,
    })
}

/// Counts each entity's co-occurring entities and years over its articles, into a dense array.
fn count_cooccurrence(
    entities: &mut BTreeMap<EntityKey, EntityNode>,
    flat: &FlatLists,
    article_years: &[Vec<i32>],
    entity_count: usize,
) {
    type Counts = (Vec<(usize, usize)>, Vec<(i32, usize)>);
    let nodes: Vec<&EntityNode> = entities.values().collect();
    let counts: Vec<Counts> = nodes
        .par_iter()
        .enumerate()
        .map_init(
            || Tally::new(entity_count),
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
}

/// Counts each year's entities over its articles (published in it or naming it), each article
/// once.
fn count_year_entities(years: &mut BTreeMap<i32, YearNode>, flat: &FlatLists, entity_count: usize) {
    years.par_iter_mut().for_each_init(
        || Tally::new(entity_count),
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
}

/// The years article `article` counts for on year pages: its publication year and the years it
/// names, each once, in order.
fn counted_years(article: &Article) -> Vec<i32> {
    let metadata = &article.metadata;
    let mut years: Vec<i32> = (metadata.date.map(|date| date.year()).into_iter())
        .chain(metadata.years.iter().map(|mention| mention.year))
        .collect();
    years.sort_unstable();
    years.dedup();
    years
}

/// Entity numbers with counts, most first, then in number (key) order.
fn ranked(counts: FxHashMap<usize, usize>) -> Vec<(usize, usize)> {
    let mut list: Vec<(usize, usize)> = counts.into_iter().collect();
    list.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    list
}

/// How the dossier differs from the last build's when it has only gained articles: each of the
/// last build's articles is still here, from the same file, and in the same order.
pub(crate) struct Gained {
    /// The article (by number) now at each of the last build's places.
    now: Vec<usize>,
    /// The articles the last build did not have, by number.
    fresh: Vec<usize>,
}

impl Gained {
    /// How articles with `digests` (by number), ranked `rank`, differ from the last build's,
    /// whose digests were `previous` (by place); `None` unless they only gained articles.
    fn new(previous: &[u128], digests: &[u128], rank: &[usize]) -> Option<Self> {
        let number: FxHashMap<u128, usize> = (digests.iter().enumerate())
            .map(|(article, &digest)| (digest, article))
            .collect();
        if number.len() != digests.len() {
            return None;
        }
        let now: Vec<usize> = (previous.iter())
            .map(|digest| number.get(digest).copied())
            .collect::<Option<_>>()?;
        // The same files, the same dates: the same order, or what was found does not apply.
        if now.windows(2).any(|pair| rank[pair[0]] >= rank[pair[1]]) {
            return None;
        }
        let mut fresh = vec![true; digests.len()];
        for &article in &now {
            fresh[article] = false;
        }
        let fresh = (0..digests.len())
            .filter(|&article| fresh[article])
            .collect();
        Some(Gained { now, fresh })
    }
}

/// What the graph found that a later build can start from, kept in the cache folder: each
/// article's related articles with their scores, and the co-occurrence and year counts. When
/// the dossier has only gained a few articles since (at most one in sixteen), a build updates
/// them for the new articles instead of going over every article; the result is the same.
#[derive(Debug, Default, Deserialize)]
pub struct GraphMemory {
    related: RelatedMemory,
    counts: Counts,
}

/// [`GraphMemory`] as a build encodes it, borrowed from its dossier.
#[derive(Serialize)]
struct GraphMemoryRef<'a> {
    related: &'a RelatedMemory,
    counts: CountsRef<'a>,
}

/// The counts of [`GraphMemory`], entities by number.
#[derive(Debug, Default, Deserialize)]
struct Counts {
    /// Every entity's key, in key order: what the numbers stand for.
    keys: Vec<EntityKey>,
    /// Each entity's [`EntityNode::cooccurring`], by number.
    cooccurring: Vec<Vec<(usize, usize)>>,
    /// Each entity's [`EntityNode::years`], by number.
    years: Vec<Vec<(i32, usize)>>,
    /// Each year's [`YearNode::entities`].
    year_entities: Vec<(i32, Vec<(usize, usize)>)>,
}

/// [`Counts`] as a build encodes them.
#[derive(Serialize)]
struct CountsRef<'a> {
    keys: &'a [EntityKey],
    cooccurring: Vec<&'a [(usize, usize)]>,
    years: Vec<&'a [(i32, usize)]>,
    year_entities: Vec<(i32, &'a [(usize, usize)])>,
}

/// [`Counts`] brought up to date, as the graph takes them.
struct UpdatedCounts {
    cooccurring: Vec<Vec<(usize, usize)>>,
    years: Vec<Vec<(i32, usize)>>,
    year_entities: BTreeMap<i32, Vec<(usize, usize)>>,
}

impl Counts {
    /// These counts, the last build's, with the `gained` articles' added, for entities now
    /// numbered as `keys`; `None` if an entity they count is gone, or they are damaged.
    /// Counts only grow when articles are added: each entity the new articles name counts
    /// their other entities and years once more, and each year they count for their entities.
    fn updated(
        &self,
        keys: &[EntityKey],
        gained: &Gained,
        article_entities: &[Vec<usize>],
        article_years: &[Vec<i32>],
        articles: &[Article],
    ) -> Option<UpdatedCounts> {
        let count = self.keys.len();
        if self.cooccurring.len() != count || self.years.len() != count {
            return None;
        }
        let number: FxHashMap<&EntityKey, usize> =
            keys.iter().enumerate().map(|(n, key)| (key, n)).collect();
        let renumbered: Vec<usize> = (self.keys.iter())
            .map(|key| number.get(key).copied())
            .collect::<Option<_>>()?;
        // Old numbers keep their order (both follow key order), so each list stays ranked.
        let renumber = |list: &[(usize, usize)]| -> Option<Vec<(usize, usize)>> {
            (list.iter())
                .map(|&(id, n)| Some((*renumbered.get(id)?, n)))
                .collect()
        };
        let mut cooccurring = vec![Vec::new(); keys.len()];
        let mut years = vec![Vec::new(); keys.len()];
        for (old, &new) in renumbered.iter().enumerate() {
            cooccurring[new] = renumber(&self.cooccurring[old])?;
            years[new].clone_from(&self.years[old]);
        }
        let mut year_entities: BTreeMap<i32, Vec<(usize, usize)>> = BTreeMap::new();
        for (year, list) in &self.year_entities {
            year_entities.insert(*year, renumber(list)?);
        }
        // The new articles' part, entity by entity and year by year.
        let mut named: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        let mut counted: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
        for &article in &gained.fresh {
            for &id in &article_entities[article] {
                named.entry(id).or_default().push(article);
            }
            for year in counted_years(&articles[article]) {
                counted.entry(year).or_default().push(article);
            }
        }
        for (id, fresh) in named {
            let mut others: FxHashMap<usize, usize> = cooccurring[id].iter().copied().collect();
            let mut by_year: BTreeMap<i32, usize> = years[id].iter().copied().collect();
            for article in fresh {
                for &other in article_entities[article]
                    .iter()
                    .filter(|&&other| other != id)
                {
                    *others.entry(other).or_default() += 1;
                }
                for &year in &article_years[article] {
                    *by_year.entry(year).or_default() += 1;
                }
            }
            cooccurring[id] = ranked(others);
            years[id] = by_year.into_iter().collect();
        }
        for (year, fresh) in counted {
            let list = year_entities.entry(year).or_default();
            let mut counts: FxHashMap<usize, usize> = list.iter().copied().collect();
            for article in fresh {
                for &id in &article_entities[article] {
                    *counts.entry(id).or_default() += 1;
                }
            }
            *list = ranked(counts);
        }
        Some(UpdatedCounts {
            cooccurring,
            years,
            year_entities,
        })
    }
}

impl Dossier {
    /// What this dossier's graph found, for a later build to start from ([`GraphMemory`]),
    /// encoded (postcard).
    pub fn memory(&self) -> Option<Vec<u8>> {
        let counts = CountsRef {
            keys: &self.entity_keys,
            cooccurring: (self.entities.values())
                .map(|node| node.cooccurring.as_slice())
                .collect(),
            years: (self.entities.values())
                .map(|node| node.years.as_slice())
                .collect(),
            year_entities: (self.years.iter())
                .map(|(&year, node)| (year, node.entities.as_slice()))
                .collect(),
        };
        let memory = GraphMemoryRef {
            related: &self.related_memory,
            counts,
        };
        postcard::to_allocvec(&memory).ok()
    }
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

fn uncatalogued(key: &EntityKey, article: &Article) -> Entity {
    let name = article
        .metadata
        .new_names
        .get(key)
        .cloned()
        .unwrap_or_else(|| key.slug.to_string());
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
        let dossier = build(items, &catalog, None).expect("builds");

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

    /// Articles naming places, people and years in combinations that vary with their number,
    /// dated over four years, each with a digest of its own; the last names a person no other
    /// article names.
    fn varied(count: usize) -> (Vec<(Source, Extraction)>, Catalog) {
        let bodies: Vec<(String, String)> = (0..count)
            .map(|n| {
                let mut text = format!("Report {n}\n\n");
                for (every, sentence) in [
                    (1, "Guards in Hyesan seized phones. "),
                    (2, "Traders in Musan were fined in 2019. "),
                    (3, "A woman surnamed Pak was caught in Hoeryong. "),
                    (5, "A man surnamed Choe fled in 2021. "),
                ] {
                    if n % (every + 1) == 0 || n % 7 == every {
                        text.push_str(sentence);
                    }
                }
                if n == 23 {
                    text.push_str("A broker surnamed Ryom was fined in Hyesan.");
                }
                (format!("content/articles/{n:02}.txt"), text)
            })
            .collect();
        let files: Vec<(&str, &str)> = (bodies.iter())
            .map(|(path, body)| (path.as_str(), body.as_str()))
            .collect();
        let (mut items, catalog) = extracted(&files);
        for (n, (source, extraction)) in items.iter_mut().enumerate() {
            source.digest = n as u128 + 1;
            extraction.metadata.date =
                chrono::NaiveDate::from_ymd_opt(2018 + (n % 4) as i32, 1 + (n % 12) as u32, 1);
        }
        (items, catalog)
    }

    #[test]
    fn a_graph_updated_from_the_last_builds_memory_is_the_graph_built_anew() {
        let (last, catalog) = varied(23);
        let encoded = build(last, &catalog, None).unwrap().memory().unwrap();
        let memory: GraphMemory = postcard::from_bytes(&encoded).unwrap();
        // The same articles again: the graph is the last build's.
        let again = build(varied(23).0, &catalog, Some(&memory)).unwrap();
        assert!(again.remembered);
        // One more, naming a new person and the others' places and years.
        let updated = build(varied(24).0, &catalog, Some(&memory)).unwrap();
        let anew = build(varied(24).0, &catalog, None).unwrap();
        assert!(!updated.remembered);
        assert_eq!(updated.entity_keys, anew.entity_keys);
        assert!(anew.entity_keys.iter().any(|key| key.slug.contains("ryom")));
        for (key, node) in &anew.entities {
            let other = &updated.entities[key];
            assert_eq!(other.cooccurring, node.cooccurring, "{key:?}");
            assert_eq!(other.years, node.years, "{key:?}");
        }
        for (year, node) in &anew.years {
            assert_eq!(updated.years[year].entities, node.entities, "{year}");
        }
        assert_eq!(updated.related, anew.related);
        assert_eq!(updated.memory(), anew.memory());
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
        let dossier = build(items, &catalog, None).expect("builds");
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
        let problems = build(items, &catalog, None).expect_err("two slugs are taken twice");
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
}
