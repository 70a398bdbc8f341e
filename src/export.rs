//! Exports for other tools: `dossier.json`, `articles.csv`, `entities.csv`, `mentions.csv`, and
//! `entities.ftm.json`, FollowTheMoney entities as JSON lines (the format Aleph and other
//! investigation tools import). Each is made and written a block of articles at a time, so
//! that at 100,000 articles no export (half a gigabyte for some) is held in memory whole.

use rayon::prelude::*;
use serde::Serialize;

use crate::catalog::Kind;
use crate::error::Diagnostic;
use crate::extract::Place;
use crate::graph::Article;
use crate::graph::Dossier;
use crate::write::{Group, Streamed};

/// Articles made into export lines at once (in parallel) before they are written.
const BLOCK: usize = 1024;

/// Builds the export files of `dossier` into `sink`.
pub fn exports(dossier: &Dossier, sink: &Group) -> Result<(), Diagnostic> {
    type Maker = fn(&Dossier, &mut Streamed) -> Result<(), Diagnostic>;
    let makers: [(&str, Maker); 5] = [
        ("articles.csv", articles_csv),
        ("entities.csv", |d, out| out.write(&entities_csv(d))),
        ("mentions.csv", mentions_csv),
        ("entities.ftm.json", followthemoney),
        ("dossier.json", crate::data::dossier_json),
    ];
    for (path, make) in makers {
        let mut out = sink.stream(path.into())?;
        make(dossier, &mut out)?;
        out.finish()?;
    }
    Ok(())
}

/// Writes to `out` the bytes `part` makes of each article (given its index), in article order,
/// a block of articles at a time made in parallel.
pub fn by_article(
    dossier: &Dossier,
    out: &mut Streamed,
    part: impl Fn(usize, &Article) -> Vec<u8> + Sync,
) -> Result<(), Diagnostic> {
    for (block, articles) in dossier.articles.chunks(BLOCK).enumerate() {
        let parts: Vec<Vec<u8>> = articles
            .par_iter()
            .enumerate()
            .map(|(offset, article)| part(block * BLOCK + offset, article))
            .collect();
        for bytes in parts {
            out.write(&bytes)?;
        }
    }
    Ok(())
}

fn name_of<'a>(dossier: &'a Dossier, key: &'a crate::catalog::EntityKey) -> &'a str {
    dossier
        .entities
        .get(key)
        .map_or(key.slug.as_str(), |n| n.entity.name.as_str())
}

/// One CSV record without a header.
fn csv_row<S: AsRef<[u8]>>(fields: &[S]) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    // Writing into memory cannot fail.
    let _ = writer.write_record(fields);
    writer.into_inner().unwrap_or_default()
}

fn csv_bytes(header: &[&str], rows: Vec<Vec<String>>) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    // Writing into memory cannot fail; a failed row would only be missing from the export.
    let _ = writer.write_record(header);
    for row in rows {
        let _ = writer.write_record(&row);
    }
    writer.into_inner().unwrap_or_default()
}

fn articles_csv(dossier: &Dossier, out: &mut Streamed) -> Result<(), Diagnostic> {
    out.write(&csv_bytes(
        &[
            "url",
            "file",
            "title",
            "title_derived",
            "date",
            "source",
            "places",
            "agencies",
            "people",
            "laws",
            "years",
        ],
        Vec::new(),
    ))?;
    by_article(dossier, out, |index, a| {
        let m = &a.metadata;
        let entities: Vec<&crate::catalog::EntityKey> = dossier.entities_of(index).collect();
        let names = |kind: Kind| -> String {
            (entities.iter())
                .filter(|k| k.kind == kind)
                .map(|k| name_of(dossier, k))
                .collect::<Vec<_>>()
                .join("; ")
        };
        csv_row(&[
            a.url(),
            a.path.to_string_lossy().into_owned(),
            m.title.clone(),
            m.title_derived.to_string(),
            m.date.map(|d| d.to_string()).unwrap_or_default(),
            a.source_url.clone().unwrap_or_default(),
            names(Kind::Place),
            names(Kind::Agency),
            names(Kind::Person),
            names(Kind::Law),
            m.all_years()
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        ])
    })
}

fn entities_csv(dossier: &Dossier) -> Vec<u8> {
    let rows = dossier
        .entities
        .values()
        .map(|n| {
            let e = &n.entity;
            vec![
                e.key.url(),
                e.key.kind.as_str().to_string(),
                e.name.clone(),
                e.subkind.clone(),
                e.parent
                    .as_ref()
                    .map(|p| name_of(dossier, p).to_string())
                    .unwrap_or_default(),
                e.aliases.join("; "),
                e.coords.map(|c| c.0.to_string()).unwrap_or_default(),
                e.coords.map(|c| c.1.to_string()).unwrap_or_default(),
                n.articles.len().to_string(),
                n.mention_count.to_string(),
                e.defined_at.is_some().to_string(),
            ]
        })
        .collect();
    csv_bytes(
        &[
            "url",
            "kind",
            "name",
            "type",
            "parent",
            "aliases",
            "lat",
            "lon",
            "articles",
            "mentions",
            "catalogued",
        ],
        rows,
    )
}

fn mentions_csv(dossier: &Dossier, out: &mut Streamed) -> Result<(), Diagnostic> {
    out.write(&csv_bytes(
        &[
            "article",
            "kind",
            "entity",
            "paragraph",
            "as_written",
            "sentence",
        ],
        Vec::new(),
    ))?;
    by_article(dossier, out, |_, article| {
        let mut writer = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new());
        let url = article.url();
        for (i, m) in article.metadata.mentions.iter().enumerate() {
            let paragraph = match m.at {
                Place::Title => 0,
                Place::Paragraph(p) => p + 1,
            };
            let text = article.text_at(m.at);
            let _ = writer.write_record([
                url.as_str(),
                m.entity.kind.as_str(),
                name_of(dossier, &m.entity),
                paragraph.to_string().as_str(),
                &text[m.start..m.end],
                article.mention_sentence(i),
            ]);
        }
        writer.into_inner().unwrap_or_default()
    })
}

/// One FollowTheMoney entity, a line of `entities.ftm.json`. Fields, here and in the
/// properties, are in alphabetical order, as FollowTheMoney's own tools write them.
#[derive(Serialize)]
struct FtmLine<'a, P> {
    id: &'a str,
    properties: P,
    schema: &'static str,
}

/// One value of a FollowTheMoney property (properties are lists of values).
type One<T> = Option<[T; 1]>;

#[derive(Serialize)]
struct EntityProperties<'a> {
    alias: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    description: One<&'a str>,
    name: [&'a str; 1],
    #[serde(rename = "partOf", skip_serializing_if = "Option::is_none")]
    part_of: One<String>,
}

#[derive(Serialize)]
struct ArticleProperties<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    author: One<&'a str>,
    #[serde(rename = "fileName")]
    file_name: [std::borrow::Cow<'a, str>; 1],
    #[serde(rename = "publishedAt", skip_serializing_if = "Option::is_none")]
    published_at: One<String>,
    #[serde(rename = "sourceUrl", skip_serializing_if = "Option::is_none")]
    source_url: One<&'a str>,
    title: [&'a str; 1],
}

#[derive(Serialize)]
struct DocumentationProperties<'a> {
    document: [&'a str; 1],
    entity: [&'a str; 1],
    role: [&'static str; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: One<&'a str>,
}

/// FollowTheMoney: an `Article` per article; `Person`, `PublicBody` and `Territory` per person,
/// agency and place; a `Documentation` linking each article to each entity it names, with the
/// first sentence that names it. Laws have no FollowTheMoney schema and are left out.
fn followthemoney(dossier: &Dossier, out: &mut Streamed) -> Result<(), Diagnostic> {
    let entity_id =
        |key: &crate::catalog::EntityKey| format!("dossier-{}-{}", key.kind.as_str(), key.slug);
    let mut lines = Vec::new();
    for node in dossier.entities.values() {
        let e = &node.entity;
        let schema = match e.key.kind {
            Kind::Person => "Person",
            Kind::Agency => "PublicBody",
            Kind::Place => "Territory",
            Kind::Law => continue,
        };
        let part_of = match (e.key.kind, &e.parent) {
            (Kind::Place, Some(parent)) => Some([entity_id(parent)]),
            _ => None,
        };
        let properties = EntityProperties {
            alias: &e.aliases,
            description: (!e.description.is_empty()).then_some([e.description.as_str()]),
            name: [&e.name],
            part_of,
        };
        json_line(
            &mut lines,
            &FtmLine {
                id: &entity_id(&e.key),
                properties,
                schema,
            },
        );
    }
    out.write(&lines)?;
    by_article(dossier, out, |index, article| {
        let mut lines = Vec::new();
        let m = &article.metadata;
        let article_id = format!("dossier-article-{}", article.slug);
        let properties = ArticleProperties {
            author: m.author.as_deref().map(|a| [a]),
            file_name: [article.path.to_string_lossy()],
            published_at: m.date.map(|d| [d.to_string()]),
            source_url: article.source_url.as_deref().map(|u| [u]),
            title: [&m.title],
        };
        json_line(
            &mut lines,
            &FtmLine {
                id: &article_id,
                properties,
                schema: "Article",
            },
        );
        for key in dossier.entities_of(index) {
            if key.kind == Kind::Law {
                continue;
            }
            let first = m.mentions.iter().position(|x| &x.entity == key);
            let entity = entity_id(key);
            let properties = DocumentationProperties {
                document: [&article_id],
                entity: [&entity],
                role: ["mentioned"],
                summary: first.map(|i| [article.mention_sentence(i)]),
            };
            let id = format!("{article_id}-{entity}");
            json_line(
                &mut lines,
                &FtmLine {
                    id: &id,
                    properties,
                    schema: "Documentation",
                },
            );
        }
        lines
    })
}

/// Appends `value` to `out` as one line of JSON.
fn json_line(out: &mut Vec<u8>, value: &impl Serialize) {
    // Serializing these plain structs into memory cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
    out.push(b'\n');
}
