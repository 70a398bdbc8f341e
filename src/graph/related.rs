//! Related articles: each article's best few, by the weights of the entities it shares with
//! the others, scored from the inverted index entity -> articles.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::Gained;

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
/// `article_entities`); `digests` each article's [`Article::digest`].
///
/// With `previous`, what the last build's scoring found and how the dossier has only gained
/// articles since, only the articles that new ones can change are scored again (see
/// [`rescore`]). Returns each article's related articles, best first, and what the next build
/// starts from.
///
/// [`Article::digest`]: super::Article::digest
pub(super) fn related_articles(
    article_entities: &[Vec<usize>],
    entity_articles: &[&[usize]],
    rank: &[usize],
    by_date: &[usize],
    digests: &[u128],
    previous: Option<(&RelatedMemory, &Gained)>,
) -> (Vec<Vec<usize>>, RelatedMemory) {
    let postings = postings_of(entity_articles.iter().copied());
    let scoring = Scoring {
        dense_share: DENSE_SHARE,
        max_df: RELATED_MAX_DF,
        window: RELATED_WINDOW,
    };
    let scorer = Scorer::new(&postings, rank, by_date, scoring);
    let best = previous
        .and_then(|(previous, gained)| {
            rescore(&scorer, article_entities, entity_articles, previous, gained)
        })
        .unwrap_or_else(|| scorer.all(article_entities));
    let lists = (best.iter())
        .map(|best| best.kept.iter().map(|&(place, _)| by_date[place]).collect())
        .collect();
    (lists, RelatedMemory::new(best, by_date, digests))
}

/// One article's related articles as scoring found them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Best {
    /// The places (ranks) of its related articles with their scores, best first.
    kept: Vec<(usize, f32)>,
    /// Whether common entities counted: it had too few related articles without them.
    near: bool,
}

/// What related-article scoring found for each article, kept between builds in the cache
/// folder: a build that adds a few articles to the last one starts from it, and scores again
/// only the articles whose lists the new ones can change. Its places are the last build's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RelatedMemory {
    /// Each article's digest, by place (newest first).
    digests: Vec<u128>,
    /// Each article's best, by place.
    best: Vec<Best>,
}

impl RelatedMemory {
    /// Each article's digest, by place (newest first).
    pub(super) fn digests(&self) -> &[u128] {
        &self.digests
    }

    /// The memory of `best` (by article number), with each article's digest.
    fn new(best: Vec<Best>, by_date: &[usize], digests: &[u128]) -> Self {
        let mut best = best;
        RelatedMemory {
            digests: by_date.iter().map(|&article| digests[article]).collect(),
            best: (by_date.iter())
                .map(|&article| std::mem::take(&mut best[article]))
                .collect(),
        }
    }
}

/// What the last build's scoring found, brought up to date for a dossier that has only
/// `gained` articles since, scoring again only those whose lists the new ones can change;
/// `None` if `previous` does not hold a list for each of the last build's articles.
///
/// An article's scores with the others change only through the entities they share. Those
/// the new articles name change weight only when their count passes a power of two, and
/// become common past [`RELATED_MAX_DF`]: the articles that name such an entity are scored
/// again. So are the new articles, and the few whose lists came through common entities (each
/// scores the common entity's articles nearest in date, which the new ones move). Every other
/// article keeps its list with the scores (its places as they are now), and each new article
/// that shares an entity with it is offered to it, scored as the whole scoring would: the
/// shared weights added up in key order. The result is the one scoring every article gives
/// (the tests compare the two).
fn rescore(
    scorer: &Scorer<'_>,
    article_entities: &[Vec<usize>],
    entity_articles: &[&[usize]],
    previous: &RelatedMemory,
    gained: &Gained,
) -> Option<Vec<Best>> {
    let n = article_entities.len();
    let (now, fresh) = (&gained.now, &gained.fresh);
    if previous.best.len() != now.len() {
        return None;
    }
    let mut scored_again = vec![false; n];
    for &article in fresh {
        scored_again[article] = true;
    }
    if !fresh.is_empty() {
        // How many new articles name each entity: its count in the last build is the rest.
        let mut named_by_fresh = vec![0; entity_articles.len()];
        for &article in fresh {
            for &id in &article_entities[article] {
                named_by_fresh[id] += 1;
            }
        }
        for (id, &added) in named_by_fresh.iter().enumerate() {
            let count = entity_articles[id].len();
            if added > 0 && scorer.part(count - added) != scorer.part(count) {
                for &article in entity_articles[id] {
                    scored_again[article] = true;
                }
            }
        }
        for (place, best) in previous.best.iter().enumerate() {
            if best.near {
                scored_again[now[place]] = true;
            }
        }
    }
    let mut best: Vec<Best> = vec![Best::default(); n];
    for (place, last) in previous.best.iter().enumerate() {
        let article = now[place];
        if scored_again[article] {
            continue;
        }
        let kept = (last.kept.iter())
            .map(|&(place, score)| Some((scorer.rank[*now.get(place)?], score)))
            .collect::<Option<_>>()?;
        best[article] = Best {
            kept,
            near: last.near,
        };
    }
    // Each new article offered to the articles it shares an entity with that keep their lists.
    let (mut scores, mut touched) = scorer.buffers();
    for &article in fresh {
        let own = scorer.rank[article];
        let count = add_touched(
            scorer.uncommon(&article_entities[article]),
            own,
            &mut scores,
            &mut touched,
        );
        for &other in &touched[..count] {
            let score = std::mem::take(&mut scores[other as usize]);
            let other = scorer.by_date[other as usize];
            if !scored_again[other] {
                offer(&mut best[other].kept, (own, score), ranks_before);
            }
        }
    }
    let again: Vec<(usize, Best)> = (scored_again.par_iter().enumerate())
        .filter(|&(_, &again)| again)
        .map_init(
            || scorer.buffers(),
            |buffers, (article, _)| {
                (
                    article,
                    scorer.best_of(article, &article_entities[article], buffers),
                )
            },
        )
        .collect();
    for (article, scored) in again {
        best[article] = scored;
    }
    Some(best)
}

/// Each entity's [`Posting`], given its articles: its weight and articles for an entity named
/// by two articles or more, `None` for the others.
fn postings_of<'a>(entity_articles: impl Iterator<Item = &'a [usize]>) -> Vec<Option<Posting<'a>>> {
    entity_articles
        .map(|articles| {
            (articles.len() >= 2).then(|| Posting {
                idf: entity_weight(articles.len()),
                articles,
            })
        })
        .collect()
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

/// How a [`Scorer`] reads the scores (tests try other values than the build's).
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
///
/// [`Dossier::by_date`]: super::Dossier::by_date
struct Scorer<'a> {
    /// Each entity's weight, its articles as places in rank order, and whether it is common.
    /// Scores and places are kept in 32 bits: the scores of 10,000 articles then fit a core's
    /// fastest cache, and every article reads them all (see below) or adds up thousands.
    ranked: Vec<Option<(f32, Vec<u32>, bool)>>,
    rank: &'a [usize],
    by_date: &'a [usize],
    scoring: Scoring,
}

impl<'a> Scorer<'a> {
    fn new(
        postings: &[Option<Posting<'_>>],
        rank: &'a [usize],
        by_date: &'a [usize],
        scoring: Scoring,
    ) -> Self {
        let ranked = postings
            .iter()
            .map(|entry| {
                entry.map(|posting| {
                    let places = (posting.articles.iter()).map(|&a| rank[a] as u32).collect();
                    let common = posting.articles.len() > scoring.max_df;
                    (posting.idf as f32, places, common)
                })
            })
            .collect();
        Scorer {
            ranked,
            rank,
            by_date,
            scoring,
        }
    }

    /// Every article's best, by article number.
    fn all(&self, article_entities: &[Vec<usize>]) -> Vec<Best> {
        article_entities
            .par_iter()
            .enumerate()
            .map_init(
                || self.buffers(),
                |buffers, (index, ids)| self.best_of(index, ids, buffers),
            )
            .collect()
    }

    /// A score and a place for each article, as [`Scorer::best_of`] uses them.
    fn buffers(&self) -> (Vec<f32>, Vec<u32>) {
        (vec![0.0; self.rank.len()], vec![0; self.rank.len()])
    }

    /// What an entity named by `count` articles weighs in the scores of articles on their
    /// own, as its bits: nothing, its weight, or (common, see [`RELATED_MAX_DF`]) nothing
    /// unless the article needs common entities.
    fn part(&self, count: usize) -> Option<u32> {
        match count {
            0 | 1 => None,
            common if common > self.scoring.max_df => Some(0),
            _ => Some((entity_weight(count) as f32).to_bits()),
        }
    }

    /// The weights and places of those of `ids` that count without the common ones, in key
    /// order.
    fn uncommon<'s>(&'s self, ids: &'s [usize]) -> impl Iterator<Item = (f32, &'s [u32])> + 's {
        (ids.iter()).filter_map(|&id| match self.ranked.get(id) {
            Some(Some((idf, list, false))) => Some((*idf, list.as_slice())),
            _ => None,
        })
    }

    /// The best of article `index`, whose entities are `ids`, scored against every other.
    fn best_of(
        &self,
        index: usize,
        ids: &[usize],
        (scores, touched): &mut (Vec<f32>, Vec<u32>),
    ) -> Best {
        let (ranked, rank, scoring) = (&self.ranked, self.rank, self.scoring);
        let n = rank.len();
        let own = rank[index];
        // This article's entities with their weights and articles, in key order, so
        // the sums add up in the same order every build.
        let entries = || {
            (ids.iter()).filter_map(|&id| match ranked.get(id) {
                Some(Some((idf, list, common))) => Some((*idf, list.as_slice(), *common)),
                _ => None,
            })
        };
        let lists: Vec<(f32, &[u32])> = self.uncommon(ids).collect();
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
        let near = best.len() < RELATED_COUNT && entries().any(|(_, _, common)| common);
        if near {
            best.clear();
            let nearby = entries().map(|(idf, list, common)| {
                let list = if common {
                    nearest(list, own, n, scoring.window)
                } else {
                    list
                };
                (idf, list)
            });
            let count = add_touched(nearby, own, scores, touched);
            offer_touched(&mut best, scores, &touched[..count], ranks_before_near(own));
        }
        Best { kept: best, near }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            let postings = postings_of(lists.iter().map(Vec::as_slice));
            let scoring = |dense_share| Scoring {
                dense_share,
                max_df: common_above,
                window,
            };
            let expected = related_by_pairs(&article_entities, &postings, &rank, scoring(0));
            let lists = |dense_share| {
                let scorer = Scorer::new(&postings, &rank, &by_order, scoring(dense_share));
                (scorer.all(&article_entities).iter())
                    .map(|best| best.kept.iter().map(|&(place, _)| by_order[place]).collect())
                    .collect::<Vec<Vec<usize>>>()
            };
            proptest::prop_assert_eq!(&lists(usize::MAX), &expected);
            proptest::prop_assert_eq!(&lists(0), &expected);
        }

        /// The last build's scoring brought up to date for articles added anywhere in date
        /// gives what scoring every article gives, scores and all, with common entities or
        /// without, whatever weights the new articles change.
        #[test]
        fn rescoring_after_new_articles_agrees_with_scoring_every_article(
            memberships in proptest::collection::vec(
                proptest::collection::btree_set(0..10_usize, 0..6),
                1..40,
            ),
            order in proptest::collection::vec(0..1000_u32, 40),
            earlier in proptest::collection::vec(proptest::bool::weighted(0.8), 40),
            common_above in 2..12_usize,
            window in 1..8_usize,
            dense in proptest::bool::ANY,
        ) {
            let scoring = Scoring {
                dense_share: if dense { usize::MAX } else { 0 },
                max_df: common_above,
                window,
            };
            let all: Vec<Vec<usize>> =
                memberships.iter().map(|set| set.iter().copied().collect()).collect();
            let digests: Vec<u128> = (0..all.len()).map(|a| 7 * a as u128 + 1).collect();
            let last: Vec<usize> = (0..all.len()).filter(|&a| earlier[a]).collect();
            let (_, _, memory) = score_and_rescore(
                &last.iter().map(|&a| all[a].clone()).collect::<Vec<_>>(),
                &last.iter().map(|&a| order[a]).collect::<Vec<_>>(),
                &last.iter().map(|&a| digests[a]).collect::<Vec<_>>(),
                scoring,
                None,
            );
            let (expected, again, _) =
                score_and_rescore(&all, &order, &digests, scoring, Some(&memory));
            proptest::prop_assert_eq!(again, Some(expected));
        }
    }

    /// For articles with these entities (of 10), ranked by `order` (ties by number) and known
    /// by `digests`: every article's best, scored in full; the same brought up to date from
    /// `previous`, if it can be; and the memory of the first.
    fn score_and_rescore(
        article_entities: &[Vec<usize>],
        order: &[u32],
        digests: &[u128],
        scoring: Scoring,
        previous: Option<&RelatedMemory>,
    ) -> (Vec<Best>, Option<Vec<Best>>, RelatedMemory) {
        let mut by_order: Vec<usize> = (0..article_entities.len()).collect();
        by_order.sort_by_key(|&a| (order[a], a));
        let (rank, lists) = ranked_lists(article_entities, &by_order, 10);
        let postings = postings_of(lists.iter().map(Vec::as_slice));
        let entity_articles: Vec<&[usize]> = lists.iter().map(Vec::as_slice).collect();
        let scorer = Scorer::new(&postings, &rank, &by_order, scoring);
        let all = scorer.all(article_entities);
        let again = previous.and_then(|previous| {
            let gained = Gained::new(previous.digests(), digests, &rank)?;
            rescore(
                &scorer,
                article_entities,
                &entity_articles,
                previous,
                &gained,
            )
        });
        let memory = RelatedMemory::new(all.clone(), &by_order, digests);
        (all, again, memory)
    }

    #[test]
    fn the_last_build_is_scored_anew_once_an_article_is_gone_or_changed() {
        let articles: Vec<Vec<usize>> = (generated_entities(100).into_iter())
            .map(|ids| {
                ids.into_iter()
                    .map(|id| id % 10)
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect()
            })
            .collect();
        let order: Vec<u32> = (0..100).map(|a| (a * 37 % 100) as u32).collect();
        let digests: Vec<u128> = (0..100).collect();
        let scoring = Scoring {
            dense_share: DENSE_SHARE,
            max_df: RELATED_MAX_DF,
            window: RELATED_WINDOW,
        };
        let (all, _, memory) = score_and_rescore(&articles, &order, &digests, scoring, None);
        let (_, again, _) = score_and_rescore(&articles, &order, &digests, scoring, Some(&memory));
        assert_eq!(again, Some(all), "nothing changed");
        // One gone.
        let (_, again, _) = score_and_rescore(
            &articles[1..],
            &order[1..],
            &digests[1..],
            scoring,
            Some(&memory),
        );
        assert_eq!(again, None, "an article is gone");
        // One changed: its digest is new, the old one gone.
        let mut changed = digests.clone();
        changed[50] = 1000;
        let (_, again, _) = score_and_rescore(&articles, &order, &changed, scoring, Some(&memory));
        assert_eq!(again, None, "an article changed");
        // Five new of a hundred: brought up to date.
        let (all, _, _) = score_and_rescore(&articles, &order, &digests, scoring, None);
        let (_, _, ninety_five) =
            score_and_rescore(&articles[5..], &order[5..], &digests[5..], scoring, None);
        let (_, again, _) =
            score_and_rescore(&articles, &order, &digests, scoring, Some(&ninety_five));
        assert_eq!(again, Some(all), "five new articles");
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
        let digests: Vec<u128> = (0..article_entities.len()).map(|a| a as u128).collect();
        related_articles(article_entities, &lists, &rank, &by_date, &digests, None).0
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
