//! Rendering: turns the dossier into pages with tera templates. Templates receive small view
//! structs built here, never the whole dossier.
//!
//! Does no file I/O beyond loading the theme's templates; pages go to the `write` stage's sink.
//! Each page's data is hashed with the templates before it is rendered, so the sink can keep a
//! page the previous build made from the same input without rendering it again. The data is
//! serialized straight into the hasher; tera's context is built only for pages that are made.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use serde::Serialize;
use tera::{Context, Tera};
use xxhash_rust::xxh3::{Xxh3, xxh3_128};

use crate::catalog::{EntityKey, Kind};
use crate::config::Config;
use crate::error::{Diagnostic, Diagnostics};
use crate::extract::Place;
use crate::graph::{Dossier, EntityNode};
use crate::theme::Theme;
use crate::write::{Group as FileGroup, Sink};

mod markup;
pub mod svg;

use markup::escape_into;
use markup::{Span, is_web_url, linked_text, paragraph_html, push_entity_link_open};
pub use markup::{escape, is_safe_url};

/// One output file, relative to the output root.
#[derive(Debug, Clone)]
pub struct Page {
    /// Where it goes (`articles/x.html`).
    pub path: PathBuf,
    /// What it holds.
    pub bytes: Vec<u8>,
}

/// One page of a list of articles shown a page at a time (entity and year pages); see
/// [`list_pages`].
struct ListPage {
    /// Its file name.
    file: String,
    /// Its articles, as a range of the newest-first list.
    articles: std::ops::Range<usize>,
    /// Its place in the list, for the template.
    pager: Pager,
}

/// Where a page stands in its list, as the template sees it.
#[derive(Serialize, Debug, PartialEq)]
struct Pager {
    /// True on the list's first page, which also carries the overview and the counts.
    first: bool,
    /// The first page's file, for a link back to the overview.
    first_page: String,
    /// The page of the next newer articles, if any.
    newer_page: Option<String>,
    /// The page of the next older articles, if any.
    older_page: Option<String>,
    /// On the other pages, the positions of their articles counted from the oldest (from 1).
    from: usize,
    to: usize,
}

/// The data of a page whose template needs none of its own (the search page).
#[derive(Serialize)]
struct NoData {}

/// Feeds what is written to it to a hasher: page data is serialized straight into the hash.
struct HashWriter<'h>(&'h mut Xxh3);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Feeds `value`, as postcard encodes it, to `hasher`. postcard writes each field on its own,
/// and the hasher's cost per call outweighed the few bytes of each (1-2% of a one-article
/// rebuild): the fields gather in a buffer first. The hash is the same either way.
fn feed(hasher: &mut Xxh3, value: &impl Serialize) -> postcard::Result<()> {
    let buffered = std::io::BufWriter::with_capacity(HASH_BUFFER, HashWriter(hasher));
    // Writing into a hasher cannot fail.
    let _ = std::io::Write::flush(&mut postcard::to_io(value, buffered)?);
    Ok(())
}

/// See [`feed`]: a page's input is rarely longer.
const HASH_BUFFER: usize = 4096;

/// The buffer a page is rendered into (see `Renderer::finish`): an article page is 10-20 KB.
const PAGE_CAPACITY: usize = 32 * 1024;

/// A hash of `value` as postcard encodes it (every string and list prefixed with its length,
/// so different values cannot hash the same bytes).
fn digest_of(value: &impl Serialize) -> u128 {
    let mut hasher = Xxh3::new();
    // Encoding these plain structs cannot fail.
    let _ = feed(&mut hasher, value);
    hasher.digest128()
}

/// A hash of a list of digests, each fed to the hasher as its sixteen bytes. In a page's input,
/// postcard would write each as a variable-length integer, seven bits at a time: a hundred
/// digests on each list page, 3% of a one-article rebuild of 10,000 articles.
fn digest_of_digests(digests: impl IntoIterator<Item = u128>) -> u128 {
    // Sixteen bytes at a time: collected from `flat_map`, the bytes were pushed one by one.
    let mut bytes = Vec::new();
    for digest in digests {
        bytes.extend_from_slice(&digest.to_le_bytes());
    }
    xxh3_128(&bytes)
}

/// Articles listed, with their quoted passages, on one page of an entity or a year.
pub const ARTICLES_PER_PAGE: usize = 50;

#[derive(Serialize)]
struct SiteView<'a> {
    title: &'a str,
    description: &'a str,
    language: &'a str,
}

#[derive(Serialize, Clone)]
struct Link {
    name: String,
    url: String,
    count: usize,
    kind: &'static str,
}

#[derive(Serialize)]
struct Group {
    folder: &'static str,
    label: &'static str,
    links: Vec<Link>,
}

/// Links of one kind on an article page, as HTML list items.
#[derive(Serialize)]
struct LinkGroup {
    label: &'static str,
    links: String,
}

#[derive(Serialize, Clone)]
struct ArticleLink {
    title: String,
    url: String,
    date: Option<String>,
    date_iso: Option<String>,
}

#[derive(Serialize)]
struct TreeNode {
    link: Link,
    subkind: String,
    children: Vec<TreeNode>,
}

/// Renders every page of `dossier` and the theme's static files into `sink`, in parallel.
/// Returns every template and write problem.
///
/// `digest` is the dossier's [`crate::Analysis::digest`]: when it, the templates, the map outline
/// and the static files are all as the previous build had them, and its files are untouched, no
/// page is made again. `context` is [`crate::Analysis::context`]: with an article's
/// [`crate::graph::Article::digest`], it stands for the article's own data in the hash of a
/// page that shows it, so that data is turned into HTML only for pages that are made.
pub fn render(
    dossier: &Dossier,
    config: &Config,
    theme: &Theme,
    digest: u128,
    context: u128,
    sink: &Sink,
) -> Result<(), Diagnostics> {
    let templates = theme.tera()?;
    let outline = theme.map_outline()?;
    let static_files = theme.static_files()?;
    let mut key = Xxh3::new();
    key.update(&digest.to_le_bytes());
    key.update(&templates.digest.to_le_bytes());
    // Debug output is complete and deterministic for this plain data type.
    key.update(format!("{outline:?}").as_bytes());
    for (path, bytes) in &static_files {
        key.update(path.as_os_str().as_encoded_bytes());
        key.update(&(bytes.len() as u64).to_le_bytes());
        key.update(bytes);
    }
    let Some(group) = sink.group("pages", key.digest128())? else {
        return Ok(());
    };
    let site = SiteView {
        title: &config.title,
        description: &config.description,
        language: &config.language,
    };
    let links: Vec<ArticleLink> = (0..dossier.articles.len())
        .into_par_iter()
        .map(|index| article_link(dossier, index, "../"))
        .collect();
    let link_digests = links.par_iter().map(digest_of).collect();
    // Each entity's key and name, as they stand in the input of the pages that link to it
    // (hashing the strings of every article's entities was a tenth of a one-article rebuild).
    let entity_digests = (dossier.entity_keys.par_iter())
        .map(|key| digest_of(&(key, dossier.entity_name(key))))
        .collect();
    let renderer = Renderer {
        dossier,
        group: &group,
        list_heads: (0..links.len())
            .map(|_| std::sync::OnceLock::new())
            .collect(),
        links,
        link_digests,
        entity_digests,
        tera: &templates.tera,
        templates_digest: templates.digest,
        context,
        site,
        outline,
        raw_html: config.raw_html,
    };
    let mut results = vec![renderer.home()];
    for kind in Kind::ALL {
        results.push(renderer.entity_index(kind));
    }
    results.push(renderer.year_index());
    results.push(renderer.page("search.html", "search.html", "Search", &NoData {}, None));
    results.par_extend(
        (0..dossier.articles.len())
            .into_par_iter()
            .map(|index| renderer.article(index)),
    );
    let nodes: Vec<&EntityNode> = dossier.entities.values().collect();
    results.par_extend(nodes.par_iter().flat_map_iter(|node| renderer.entity(node)));
    let years: Vec<i32> = dossier.years.keys().copied().collect();
    results.par_extend(years.par_iter().flat_map_iter(|&year| renderer.year(year)));
    for (path, bytes) in static_files {
        results.push(group.put(Page {
            path: Path::new("static").join(path),
            bytes,
        }));
    }
    let mut problems = Diagnostics::new();
    for result in results {
        if let Err(d) = result {
            problems.push(d);
        }
    }
    if problems.has_errors() {
        return Err(problems);
    }
    Ok(())
}

struct Renderer<'a> {
    dossier: &'a Dossier,
    /// Where the pages go.
    group: &'a FileGroup<'a>,
    /// Each article's link from a page one folder down, made once for every page that lists it.
    links: Vec<ArticleLink>,
    /// A hash of each of `links`: what stands for a link in the input hash of a page.
    link_digests: Vec<u128>,
    /// Each article's [`Renderer::list_head`], once made.
    list_heads: Vec<std::sync::OnceLock<String>>,
    /// A hash of each entity's key and name, by entity number (its place in
    /// [`Dossier::entity_keys`]): what stands for a link to it in an article page's input.
    entity_digests: Vec<u128>,
    tera: &'a Tera,
    /// What every page depends on besides its data: see [`crate::theme::Templates::digest`].
    templates_digest: u128,
    /// What every article's own data depends on besides its file: see [`render`].
    context: u128,
    site: SiteView<'a>,
    outline: svg::MapOutline,
    raw_html: crate::config::RawHtml,
}

impl Renderer<'_> {
    /// The map of the places among `nodes` that have coordinates, for a page under `root`.
    fn map<'n>(
        &self,
        title: &str,
        nodes: impl Iterator<Item = &'n EntityNode>,
        root: &str,
    ) -> String {
        let points: Vec<svg::MapPoint> = nodes
            .filter(|n| n.entity.key.kind == Kind::Place)
            .filter_map(|n| {
                Some(svg::MapPoint {
                    name: n.entity.name.clone(),
                    url: format!("{root}{}", n.entity.key.url()),
                    coords: n.entity.coords?,
                    articles: n.articles.len(),
                })
            })
            .collect();
        svg::map(&self.outline, title, &points)
    }

    /// The entity under `key` and every entity below it.
    fn descendants(&self, key: &EntityKey) -> Vec<&EntityNode> {
        let mut out = Vec::new();
        let mut queue = vec![key.clone()];
        while let Some(next) = queue.pop() {
            if let Some(node) = self.dossier.entities.get(&next) {
                if out.len() > self.dossier.entities.len() {
                    break; // parents are acyclic; this only guards against surprises
                }
                out.push(node);
                queue.extend(node.children.iter().cloned());
            }
        }
        out
    }

    /// Makes the page at `path` from `template` and `view`, with the site, the way back to the
    /// output root, the page title and, on a list shown a page at a time, its `pager`.
    fn page<V: Serialize>(
        &self,
        template: &'static str,
        path: impl Into<PathBuf>,
        title: &str,
        view: &V,
        pager: Option<&Pager>,
    ) -> Result<(), Diagnostic> {
        self.page_from(template, path, title, view, || view, pager)
    }

    /// [`Renderer::page`] with a view built only when the page is made: `input`, which must
    /// cover everything the view is made from, is hashed in its place.
    ///
    /// The input is hashed with the templates and the rest of the page first, serialized
    /// straight into the hasher; when the previous build made the page from the same input,
    /// the page is kept as it is, and neither the view, nor tera's context (a JSON tree), is
    /// built, nor the template rendered.
    fn page_from<I: Serialize, V: Serialize>(
        &self,
        template: &'static str,
        path: impl Into<PathBuf>,
        title: &str,
        input: &I,
        view: impl FnOnce() -> V,
        pager: Option<&Pager>,
    ) -> Result<(), Diagnostic> {
        let path = path.into();
        let depth = path.components().count().saturating_sub(1);
        let root = "../".repeat(depth);
        let mut hasher = Xxh3::new();
        hasher.update(&self.templates_digest.to_le_bytes());
        // postcard's encoding prefixes every string and list with its length, so different
        // data cannot hash the same bytes.
        feed(
            &mut hasher,
            &(template, &self.site, &root, title, input, pager),
        )
        .map_err(|e| {
            Diagnostic::general(format!("{template}: the page data cannot be hashed: {e}"))
        })?;
        let input = hasher.digest128();
        self.group.put_made(path, input, || {
            let tera_error = |e: tera::Error| template_error(template, &e);
            let mut context = Context::from_serialize(view()).map_err(tera_error)?;
            if let Some(pager) = pager {
                context.extend(Context::from_serialize(pager).map_err(tera_error)?);
            }
            context.insert("site", &self.site);
            context.insert("root", &root);
            context.insert("page_title", title);
            self.finish(template, &context)
        })
    }

    /// What stands for the passages that `articles` show on a list page, in its input hash:
    /// each article's link, and the article's own data (see [`render`]), which the passages
    /// are cut from.
    fn list_input(&self, articles: &[usize]) -> (u128, u128) {
        let digests = articles.iter().flat_map(|&index| {
            [
                self.dossier.articles[index].digest,
                self.link_digests[index],
            ]
        });
        (self.context, digest_of_digests(digests))
    }

    /// Renders a page's template.
    ///
    /// Into a buffer the size of most pages: tera's own starts at 2 KB and grows, copying the
    /// page each time, then checks the whole page is UTF-8 to make a `String` of it, which
    /// the page, written from tera's strings, always is.
    fn finish(&self, template: &str, context: &Context) -> Result<Vec<u8>, Diagnostic> {
        let mut page = Vec::with_capacity(PAGE_CAPACITY);
        self.tera
            .render_to(template, context, &mut page)
            .map_err(|e| template_error(template, &e))?;
        Ok(page)
    }

    fn article_link(&self, index: usize, root: &str) -> ArticleLink {
        if root == "../" {
            return self.links[index].clone();
        }
        article_link(self.dossier, index, root)
    }

    fn entity_link(&self, key: &EntityKey, root: &str, count: usize) -> Link {
        let name = self.dossier.entity_name(key).to_string();
        Link {
            name,
            url: format!("{root}{}", key.url()),
            count,
            kind: key.kind.as_str(),
        }
    }

    fn home(&self) -> Result<(), Diagnostic> {
        let d = self.dossier;
        let latest: Vec<ArticleLink> = d
            .by_date
            .iter()
            .filter(|&&i| d.articles[i].metadata.date.is_some())
            .take(20)
            .map(|&i| self.article_link(i, ""))
            .collect();
        let undated: Vec<ArticleLink> = d
            .by_date
            .iter()
            .filter(|&&i| d.articles[i].metadata.date.is_none())
            .map(|&i| self.article_link(i, ""))
            .collect();
        let mut top = Vec::new();
        for kind in [Kind::Place, Kind::Agency, Kind::Person] {
            let mut nodes: Vec<&EntityNode> = d
                .entities
                .values()
                .filter(|n| n.entity.key.kind == kind && !n.articles.is_empty())
                .collect();
            nodes.sort_by(|a, b| {
                b.articles
                    .len()
                    .cmp(&a.articles.len())
                    .then(a.entity.key.cmp(&b.entity.key))
            });
            let links: Vec<Link> = nodes
                .iter()
                .take(10)
                .map(|n| self.entity_link(&n.entity.key, "", n.articles.len()))
                .collect();
            top.push(Group {
                folder: kind.folder(),
                label: kind.plural_title(),
                links,
            });
        }
        let years: Vec<Link> = d
            .years
            .iter()
            .map(|(year, node)| Link {
                name: year.to_string(),
                url: format!("years/{year}.html"),
                count: year_article_count(node),
                kind: "year",
            })
            .collect();
        let counts: BTreeMap<&str, usize> = Kind::ALL
            .iter()
            .map(|k| {
                (
                    k.folder(),
                    d.entities
                        .values()
                        .filter(|n| n.entity.key.kind == *k && !n.articles.is_empty())
                        .count(),
                )
            })
            .chain([("articles", d.articles.len()), ("years", d.years.len())])
            .collect();
        #[derive(Serialize)]
        struct HomeView<'v> {
            latest: Vec<ArticleLink>,
            undated: Vec<ArticleLink>,
            top: Vec<Group>,
            years: Vec<Link>,
            counts: BTreeMap<&'v str, usize>,
            timeline: String,
            map: String,
        }
        let view = HomeView {
            latest,
            undated,
            top,
            years,
            counts,
            timeline: svg::timeline(d, ""),
            map: self.map(
                "Map of the places named in the dossier",
                d.entities.values(),
                "",
            ),
        };
        self.page("index.html", "index.html", self.site.title, &view, None)
    }

    fn article(&self, index: usize) -> Result<(), Diagnostic> {
        let d = self.dossier;
        let article = &d.articles[index];
        let root = "../";
        let meta = &article.metadata;
        // The years of the text that link to their page.
        let linked_years: Vec<i32> = (meta.years.iter())
            .map(|y| y.year)
            .filter(|y| d.years.contains_key(y))
            .collect();
        // The title and the paragraphs as HTML, with their mentions linked: made from the
        // article's own data, and only when the page is made.
        let text_html = || {
            let mut by_paragraph: BTreeMap<Place, Vec<Span>> = BTreeMap::new();
            for mention in &meta.mentions {
                by_paragraph
                    .entry(mention.at)
                    .or_default()
                    .push(Span::entity(mention, root));
            }
            for year in &meta.years {
                if d.years.contains_key(&year.year) {
                    by_paragraph.entry(year.at).or_default().push(Span {
                        start: year.start,
                        end: year.end,
                        open: [
                            "<a class=\"m m-year\" href=\"",
                            root,
                            "years/",
                            itoa::Buffer::new().format(year.year),
                            ".html\">",
                        ]
                        .concat(),
                    });
                }
            }
            let title_html = linked_text(
                &meta.title,
                by_paragraph
                    .get(&Place::Title)
                    .map_or(&[][..], Vec::as_slice),
            );
            // Each paragraph's citation: "“title”, date, source, paragraph n (url#pn)",
            // escaped. What all paragraphs share is made and escaped once (escaping text a
            // piece at a time gives what escaping it whole does).
            let date = meta.date.map_or_else(|| "undated".to_string(), format_date);
            let source = match &article.source_url {
                Some(url) => url.clone(),
                None => article.path.display().to_string(),
            };
            let cited = escape(&format!("“{}”, {date}, {source}, paragraph ", meta.title));
            let url = escape(&article.url());
            let body: Vec<String> = (article.body().paragraphs.iter())
                .enumerate()
                .map(|(i, p)| {
                    let spans = by_paragraph
                        .get(&Place::Paragraph(i))
                        .map_or(&[][..], Vec::as_slice);
                    let mut html = paragraph_html(p, i, spans, self.raw_html);
                    let mut number = itoa::Buffer::new();
                    let n = number.format(i + 1);
                    for piece in [
                        "<p class=\"cite\">Cite: ",
                        &cited,
                        n,
                        " (",
                        &url,
                        "#p",
                        n,
                        ")</p>",
                    ] {
                        html.push_str(piece);
                    }
                    html
                })
                .collect();
            (title_html, body)
        };
        let position = d.rank[index];
        let neighbour = |offset: isize| -> Option<usize> {
            let p = position as isize + offset;
            let &i = d.by_date.get(usize::try_from(p).ok()?)?;
            (d.articles[i].metadata.date.is_some() && meta.date.is_some()).then_some(i)
        };
        let (newer, older) = (neighbour(-1), neighbour(1));
        /// Everything on the page but the article's text.
        #[derive(Serialize)]
        struct ArticleRest<'v> {
            title_derived: bool,
            date: Option<String>,
            date_iso: Option<String>,
            author: Option<&'v str>,
            source_url: Option<&'v str>,
            source_path: std::borrow::Cow<'v, str>,
            entities: Vec<LinkGroup>,
            /// The year links, as HTML list items.
            years: String,
            /// The related articles' links and dates, as HTML list items.
            related: String,
            newer: Option<ArticleLink>,
            older: Option<ArticleLink>,
        }
        #[derive(Serialize)]
        struct ArticleView<'v> {
            title_html: String,
            paragraphs: Vec<String>,
            #[serde(flatten)]
            rest: ArticleRest<'v>,
        }
        let rest = || {
            // The entity, year and related-article links as HTML list items, made here rather
            // than by the template: looking up each link's kind, address and name in tera's
            // JSON tree cost more than the rest of the page's template together (each dotted
            // lookup allocates twice). A related article's item is its entry in quoted lists,
            // without passages: article pages are one folder down too.
            let mut groups: Vec<LinkGroup> = Vec::new();
            for key in d.entities_of(index) {
                let name = d.entity_name(key);
                let label = key.kind.plural_title();
                if groups.last().is_none_or(|group| group.label != label) {
                    groups.push(LinkGroup {
                        label,
                        links: String::new(),
                    });
                }
                if let Some(group) = groups.last_mut() {
                    let out = &mut group.links;
                    out.push_str("<li>");
                    push_entity_link_open(out, key, root);
                    escape_into(out, name);
                    out.push_str("</a></li>");
                }
            }
            let mut years = String::new();
            for y in meta.all_years() {
                let _ = write!(years, "<li><a href=\"{root}years/{y}.html\">{y}</a></li>");
            }
            ArticleRest {
                title_derived: meta.title_derived,
                date: meta.date.map(format_date),
                date_iso: meta.date.map(|d| d.to_string()),
                author: meta.author.as_deref(),
                source_url: article.source_url.as_deref().filter(|u| is_web_url(u)),
                source_path: article.path.to_string_lossy(),
                entities: groups,
                years,
                related: self.quoted(&d.related[index], &|_, _| {}),
                newer: newer.map(|i| self.article_link(i, root)),
                older: older.map(|i| self.article_link(i, root)),
            }
        };
        // What the page is made from, compact: the article's own data stands for its text and
        // metadata (see `render`); a digest of each of its entities' key and name, with how
        // often it is named, for the links to them; a digest of each related and neighbouring
        // article's link, for those links.
        let sanitized = self.raw_html == crate::config::RawHtml::Sanitize;
        let link_digest = |i: usize| self.link_digests[i];
        let entities = (d.article_entities[index].iter())
            .zip(&d.article_mentions[index])
            .flat_map(|(&id, &count)| [self.entity_digests[id], count as u128]);
        let input = (
            article.digest,
            self.context,
            sanitized,
            &linked_years,
            digest_of_digests(entities),
            digest_of_digests(d.related[index].iter().map(|&i| link_digest(i))),
            newer.map(link_digest),
            older.map(link_digest),
        );
        self.page_from(
            "article.html",
            article.url(),
            &meta.title,
            &input,
            || {
                let (title_html, paragraphs) = text_html();
                ArticleView {
                    title_html,
                    paragraphs,
                    rest: rest(),
                }
            },
            None,
        )
    }

    fn entity_index(&self, kind: Kind) -> Result<(), Diagnostic> {
        let root = "../";
        let d = self.dossier;
        let nodes: Vec<&EntityNode> = d
            .entities
            .values()
            .filter(|n| n.entity.key.kind == kind)
            .collect();
        // Roots: entities whose parent has no node.
        let mut roots: Vec<&EntityNode> = nodes
            .iter()
            .copied()
            .filter(|n| {
                n.entity
                    .parent
                    .as_ref()
                    .is_none_or(|p| !d.entities.contains_key(p))
            })
            .collect();
        // Each name lowercased once, not at every comparison (stable, as `sort_by`).
        roots.sort_by_cached_key(|n| n.entity.name.to_lowercase());
        let tree: Vec<TreeNode> = roots.into_iter().map(|n| self.tree(n, root, 0)).collect();
        let map = if kind == Kind::Place {
            self.map("Map of the places", d.entities.values(), root)
        } else {
            String::new()
        };
        #[derive(Serialize)]
        struct EntityIndexView {
            kind: &'static str,
            heading: &'static str,
            tree: Vec<TreeNode>,
            map: String,
        }
        let view = EntityIndexView {
            kind: kind.as_str(),
            heading: kind.plural_title(),
            tree,
            map,
        };
        self.page(
            "entity_index.html",
            format!("{}/index.html", kind.folder()),
            kind.plural_title(),
            &view,
            None,
        )
    }

    fn tree(&self, node: &EntityNode, root: &str, depth: usize) -> TreeNode {
        let mut children: Vec<&EntityNode> = node
            .children
            .iter()
            .filter_map(|k| self.dossier.entities.get(k))
            .collect();
        children.sort_by_cached_key(|n| n.entity.name.to_lowercase());
        TreeNode {
            link: self.entity_link(&node.entity.key, root, node.articles.len()),
            subkind: node.entity.subkind.clone(),
            // Depth is bounded by the catalogue's acyclic parents; the cap guards against surprises.
            children: if depth < 16 {
                children
                    .into_iter()
                    .map(|c| self.tree(c, root, depth + 1))
                    .collect()
            } else {
                Vec::new()
            },
        }
    }

    fn entity(&self, node: &EntityNode) -> Vec<Result<(), Diagnostic>> {
        let root = "../";
        let d = self.dossier;
        let key = &node.entity.key;
        let mut breadcrumb = Vec::new();
        let mut parent = node.entity.parent.as_ref();
        while let Some(p) = parent {
            if breadcrumb.len() > 16 || !d.entities.contains_key(p) {
                break;
            }
            breadcrumb.push(self.entity_link(p, root, 0));
            parent = d.entities.get(p).and_then(|n| n.entity.parent.as_ref());
        }
        breadcrumb.reverse();
        let mut children: Vec<Link> = node
            .children
            .iter()
            .map(|c| self.entity_link(c, root, d.entities.get(c).map_or(0, |n| n.articles.len())))
            .collect();
        children.sort_by_cached_key(|a| a.name.to_lowercase());
        let cooccurring: Vec<Link> = node
            .cooccurring
            .iter()
            .take(30)
            .map(|&(id, n)| self.entity_link(&d.entity_keys[id], root, n))
            .collect();
        let years: Vec<Link> = node
            .years
            .iter()
            .map(|(y, n)| Link {
                name: y.to_string(),
                url: format!("{root}years/{y}.html"),
                count: *n,
                kind: "year",
            })
            .collect();
        let map = if key.kind == Kind::Place && !node.children.is_empty() {
            self.map(
                &format!("Map of {}", node.entity.name),
                self.descendants(key).into_iter(),
                root,
            )
        } else {
            String::new()
        };
        // Pages after the first carry only their articles and passages; the overview (co-occurring
        // entities, years, sub-places, map) is on the first, not repeated.
        let empty: &[Link] = &[];
        let quotes = |index: usize, out: &mut String| {
            let article = &self.dossier.articles[index];
            let sentences = &article.body().mention_sentences;
            for place in article.metadata.mentions_of(key) {
                let m = &article.metadata.mentions[place];
                // A body that did not decode has no sentences, and nothing made is written.
                if let Some(sentence) = sentences.get(place) {
                    self.quote(out, index, m.at, m.start..m.end, sentence.clone());
                }
            }
        };
        /// Everything on an entity page but the passages of its articles.
        #[derive(Serialize)]
        struct EntityHead<'v> {
            name: &'v str,
            map: &'v str,
            kind: &'static str,
            kind_heading: &'static str,
            kind_index: &'static str,
            subkind: &'v str,
            aliases: &'v [String],
            description: &'v str,
            catalogued: bool,
            coords: Option<(f64, f64)>,
            breadcrumb: &'v [Link],
            children: &'v [Link],
            cooccurring: &'v [Link],
            years: &'v [Link],
            /// On the first page only: the other pages stay as they are while articles arrive.
            article_count: Option<usize>,
            mention_count: Option<usize>,
        }
        #[derive(Serialize)]
        struct EntityView<'v> {
            #[serde(flatten)]
            head: &'v EntityHead<'v>,
            /// The list items of the page's articles and passages, as HTML.
            quoted: String,
        }
        self.paged(&key.slug, &node.articles, |list_page, articles| {
            let first = list_page.pager.first;
            let head = EntityHead {
                name: &node.entity.name,
                map: if first { map.as_str() } else { "" },
                kind: key.kind.as_str(),
                kind_heading: key.kind.plural_title(),
                kind_index: "index.html",
                subkind: &node.entity.subkind,
                aliases: &node.entity.aliases,
                description: &node.entity.description,
                catalogued: node.entity.defined_at.is_some(),
                coords: node.entity.coords,
                breadcrumb: &breadcrumb,
                children: if first { children.as_slice() } else { empty },
                cooccurring: if first { cooccurring.as_slice() } else { empty },
                years: if first { years.as_slice() } else { empty },
                article_count: first.then_some(node.articles.len()),
                mention_count: first.then_some(node.mention_count),
            };
            self.page_from(
                "entity.html",
                Path::new(key.kind.folder()).join(&list_page.file),
                &node.entity.name,
                &(key, &head, self.list_input(articles)),
                || EntityView {
                    head: &head,
                    quoted: self.quoted(articles, &quotes),
                },
                Some(&list_page.pager),
            )
        })
    }

    /// Renders the newest-first list `articles` a page at a time ([`list_pages`], files named
    /// after `stem`), in parallel; `page` makes a page from its place in the list and its
    /// articles.
    fn paged(
        &self,
        stem: &str,
        articles: &[usize],
        page: impl Fn(&ListPage, &[usize]) -> Result<(), Diagnostic> + Sync,
    ) -> Vec<Result<(), Diagnostic>> {
        list_pages(stem, articles.len())
            .into_par_iter()
            .map(|list_page| page(&list_page, &articles[list_page.articles.clone()]))
            .collect()
    }

    /// The list items of `articles` on an entity or year page, as HTML: each article's link
    /// and date, then the passages `quotes` appends for it.
    ///
    /// Made here rather than by the template, which styles the list (`quoted.html`): tera looks
    /// up a variable by walking a JSON tree, and the dozen lookups an item took, for 50 items a
    /// page on thousands of pages, were a sixth of a full build's instructions.
    fn quoted(&self, articles: &[usize], quotes: &impl Fn(usize, &mut String)) -> String {
        let mut out = String::with_capacity(articles.len() * 1024);
        for &index in articles {
            out.push_str(self.list_head(index));
            quotes(index, &mut out);
            out.push_str("</li>");
        }
        out
    }

    /// The start of article `index`'s entry in a list of quoted articles: its linked title and
    /// its date. Made once, when first needed: an article is listed on the page of each entity
    /// it names and each year it refers to.
    fn list_head(&self, index: usize) -> &str {
        self.list_heads[index].get_or_init(|| {
            let link = &self.links[index];
            let mut out = String::with_capacity(256);
            out.push_str("<li><a href=\"");
            escape_into(&mut out, &link.url);
            out.push_str("\">");
            escape_into(&mut out, &link.title);
            out.push_str("</a> ");
            match (&link.date, &link.date_iso) {
                (Some(date), Some(iso)) => {
                    out.push_str("<time datetime=\"");
                    escape_into(&mut out, iso);
                    out.push_str("\">");
                    escape_into(&mut out, date);
                    out.push_str("</time>");
                }
                _ => out.push_str("<span class=undated>undated</span>"),
            }
            out
        })
    }

    /// Appends to `out` the passage `hit` of `at` in article `index`, in its `sentence`, with a
    /// link to its paragraph, for a page one folder down (entity and year pages).
    fn quote(
        &self,
        out: &mut String,
        index: usize,
        at: Place,
        hit: std::ops::Range<usize>,
        sentence: std::ops::Range<usize>,
    ) {
        let article = &self.dossier.articles[index];
        let text = article.text_at(at);
        let std::ops::Range { start, end } = hit;
        let (from, to) = (sentence.start.min(start), sentence.end.max(end));
        // Extraction made the offsets from this text; only a body that did not decode from
        // the cache (see `LazyBody`) lacks them, and then nothing made is written.
        let (Some(before), Some(passage), Some(after)) = (
            text.get(from..start),
            text.get(start..end),
            text.get(end..to),
        ) else {
            return;
        };
        out.push_str("<blockquote>");
        escape_into(out, before);
        out.push_str("<mark>");
        escape_into(out, passage);
        out.push_str("</mark>");
        escape_into(out, after);
        out.push_str(" <a href=\"../articles/");
        escape_into(out, &article.slug);
        out.push_str(".html");
        match at {
            Place::Title => out.push_str("\" class=para>title</a>"),
            Place::Paragraph(p) => {
                let n = p + 1;
                let _ = write!(out, "#p{n}\" class=para>¶ {n}</a>");
            }
        }
        out.push_str("</blockquote>");
    }

    fn year_index(&self) -> Result<(), Diagnostic> {
        let years: Vec<Link> = self
            .dossier
            .years
            .iter()
            .map(|(y, node)| Link {
                name: y.to_string(),
                url: format!("{y}.html"),
                count: year_article_count(node),
                kind: "year",
            })
            .collect();
        #[derive(Serialize)]
        struct YearIndexView {
            years: Vec<Link>,
            timeline: String,
        }
        let view = YearIndexView {
            years,
            timeline: svg::timeline(self.dossier, "../"),
        };
        self.page("year_index.html", "years/index.html", "Years", &view, None)
    }

    fn year(&self, year: i32) -> Vec<Result<(), Diagnostic>> {
        let root = "../";
        let d = self.dossier;
        let node = &d.years[&year];
        // The articles published that year or referring to it, newest first, each with the
        // passages that refer to the year.
        let mut articles: Vec<usize> = node.published.clone();
        articles.extend(node.references.iter().map(|&(a, _)| a));
        articles.sort_unstable_by_key(|&a| self.dossier.rank[a]);
        articles.dedup();
        let mut references: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for &(article, i) in &node.references {
            references.entry(article).or_default().push(i);
        }
        let entities: Vec<Link> = node
            .entities
            .iter()
            .take(20)
            .map(|&(id, n)| self.entity_link(&self.dossier.entity_keys[id], root, n))
            .collect();
        let previous = d
            .years
            .range(..year)
            .next_back()
            .map(|(y, _)| y.to_string());
        let next = d.years.range(year + 1..).next().map(|(y, _)| y.to_string());
        let stem = year.to_string();
        let empty: &[Link] = &[];
        let quotes = |index: usize, out: &mut String| {
            let article = &d.articles[index];
            for &i in references.get(&index).map_or(&[][..], Vec::as_slice) {
                let m = article.metadata.years[i];
                let sentence = article.body().year_sentences.get(i).cloned();
                self.quote(
                    out,
                    index,
                    m.at,
                    m.start..m.end,
                    sentence.unwrap_or(m.start..m.end),
                );
            }
        };
        /// Everything on a year page but the passages of its articles.
        #[derive(Serialize)]
        struct YearHead<'v> {
            year: i32,
            /// On the first page only: the other pages stay as they are while articles arrive.
            published_count: Option<usize>,
            referring_count: Option<usize>,
            entities: &'v [Link],
            previous_year: &'v Option<String>,
            next_year: &'v Option<String>,
        }
        #[derive(Serialize)]
        struct YearView<'v> {
            #[serde(flatten)]
            head: &'v YearHead<'v>,
            /// The list items of the page's articles and passages, as HTML.
            quoted: String,
        }
        self.paged(&stem, &articles, |list_page, page_articles| {
            let first = list_page.pager.first;
            let head = YearHead {
                year,
                published_count: first.then_some(node.published.len()),
                referring_count: first.then_some(references.len()),
                entities: if first { entities.as_slice() } else { empty },
                previous_year: &previous,
                next_year: &next,
            };
            // Which of its year references each article shows is in its own data too.
            self.page_from(
                "year.html",
                Path::new("years").join(&list_page.file),
                &stem,
                &(&head, self.list_input(page_articles)),
                || YearView {
                    head: &head,
                    quoted: self.quoted(page_articles, &quotes),
                },
                Some(&list_page.pager),
            )
        })
    }
}

/// The pages of a newest-first list of `count` articles, named after `stem`.
///
/// Counted from the oldest article, every [`ARTICLES_PER_PAGE`] articles make a page of their
/// own, `<stem>.<n>.html` (`n` = 1 for the oldest): a page whose articles stay the same while
/// newer ones arrive, so that adding an article rewrites the list's first page rather than
/// every page after it, and a link to an older page keeps showing what it showed. The first
/// page, `<stem>.html`, shows the newest articles that fill no such page yet together with the
/// newest full page, so it shows at least a full page whenever the list has one.
fn list_pages(stem: &str, count: usize) -> Vec<ListPage> {
    let per = ARTICLES_PER_PAGE;
    let full = count / per;
    let first_page = format!("{stem}.html");
    let numbered = |n: usize| format!("{stem}.{n}.html");
    // The numbered page `n` holds the articles at positions (n - 1) * per + 1 ..= n * per,
    // counted from the oldest: in the newest-first list, count - n * per .. count - (n - 1) * per.
    let first_shows = if full == 0 { count } else { count % per + per };
    let mut pages = vec![ListPage {
        file: first_page.clone(),
        articles: 0..first_shows,
        pager: Pager {
            first: true,
            first_page: first_page.clone(),
            newer_page: None,
            older_page: (full >= 2).then(|| numbered(full - 1)),
            from: 0,
            to: 0,
        },
    }];
    for n in 1..=full {
        pages.push(ListPage {
            file: numbered(n),
            articles: count - n * per..count - (n - 1) * per,
            pager: Pager {
                first: false,
                first_page: first_page.clone(),
                // The newest numbered page's newer articles are on the first page.
                newer_page: Some(if n == full {
                    first_page.clone()
                } else {
                    numbered(n + 1)
                }),
                older_page: (n > 1).then(|| numbered(n - 1)),
                from: (n - 1) * per + 1,
                to: n * per,
            },
        });
    }
    pages
}

/// The link to article `index` from a page under `root`.
fn article_link(dossier: &Dossier, index: usize, root: &str) -> ArticleLink {
    let article = &dossier.articles[index];
    ArticleLink {
        title: article.metadata.title.clone(),
        url: format!("{root}{}", article.url()),
        date: article.metadata.date.map(format_date),
        date_iso: article.metadata.date.map(|d| d.to_string()),
    }
}

fn year_article_count(node: &crate::graph::YearNode) -> usize {
    let mut all: Vec<usize> = node.published.clone();
    all.extend(node.references.iter().map(|&(a, _)| a));
    all.sort_unstable();
    all.dedup();
    all.len()
}

/// A date as readers write it: `3 June 2024`.
pub fn format_date(date: NaiveDate) -> String {
    // The month's name from chrono's `Month`, not its `%B` through `format!`: every page and
    // search fragment names dates, and the formatting machinery was most of the cost.
    let (mut day, mut year) = (itoa::Buffer::new(), itoa::Buffer::new());
    let month = u8::try_from(date.month())
        .ok()
        .and_then(|m| chrono::Month::try_from(m).ok())
        .map_or("", |m| m.name());
    [
        day.format(date.day()),
        " ",
        month,
        " ",
        year.format(date.year()),
    ]
    .concat()
}

fn template_error(template: &str, error: &tera::Error) -> Diagnostic {
    Diagnostic::general(format!(
        "template {template}: {}",
        crate::theme::error_chain(error)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fed_values_hash_as_their_whole_encoding() {
        // Short and longer than the buffer: each hashes as its encoding in one piece.
        let long: Vec<String> = (0..2000).map(|i| format!("entry {i}")).collect();
        for value in [vec!["a".to_string()], long] {
            let mut hasher = Xxh3::new();
            feed(&mut hasher, &value).unwrap();
            let encoded = postcard::to_stdvec(&value).unwrap();
            assert!(encoded.len() < 64 || encoded.len() > HASH_BUFFER);
            assert_eq!(hasher.digest128(), xxh3_128(&encoded));
        }
    }

    #[test]
    fn dates_read_as_chrono_writes_them() {
        let mut date = NaiveDate::from_ymd_opt(1899, 12, 25).expect("a date");
        while date.year() < 2101 {
            let expected = format!("{} {} {}", date.day(), date.format("%B"), date.year());
            assert_eq!(format_date(date), expected);
            date = date.succ_opt().expect("a next day");
        }
    }

    #[test]
    fn later_pages_cannot_take_another_entitys_file() {
        let pages = list_pages("unit", 8 * ARTICLES_PER_PAGE);
        assert_eq!(pages[0].file, "unit.html");
        assert_eq!(pages[8].file, "unit.8.html");
        // "Unit 8" has the slug unit-8; a page of "Unit" must not be its file.
        let other = format!("{}.html", crate::catalog::slugify("Unit 8"));
        assert!(pages.iter().all(|p| p.file != other));
    }

    #[test]
    fn lists_split_into_pages_that_stay_put() {
        let shape = |count: usize| -> Vec<(String, std::ops::Range<usize>)> {
            list_pages("x", count)
                .into_iter()
                .map(|p| (p.file, p.articles))
                .collect()
        };
        let page = |file: &str, range: std::ops::Range<usize>| (file.to_string(), range);
        assert_eq!(shape(0), [page("x.html", 0..0)]);
        assert_eq!(shape(49), [page("x.html", 0..49)]);
        assert_eq!(shape(50), [page("x.html", 0..50), page("x.1.html", 0..50)]);
        // 101 articles: the oldest 100 make two numbered pages; the first page shows the newest
        // one with the newest full page.
        assert_eq!(
            shape(101),
            [
                page("x.html", 0..51),
                page("x.1.html", 51..101),
                page("x.2.html", 1..51)
            ]
        );
        // One more article: the numbered pages keep their articles (shifted by one in the
        // newest-first list, which now starts with the new one).
        assert_eq!(
            shape(102)[1..],
            [page("x.1.html", 52..102), page("x.2.html", 2..52)]
        );
        let pages = list_pages("x", 101);
        assert_eq!(pages[0].pager.older_page.as_deref(), Some("x.1.html"));
        assert_eq!(pages[2].pager.newer_page.as_deref(), Some("x.html"));
        assert_eq!(pages[2].pager.older_page.as_deref(), Some("x.1.html"));
        assert_eq!(pages[1].pager.newer_page.as_deref(), Some("x.2.html"));
        assert_eq!(pages[1].pager.older_page, None);
        assert_eq!((pages[2].pager.from, pages[2].pager.to), (51, 100));
    }
}
