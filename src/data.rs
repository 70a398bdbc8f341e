//! `dossier.json`: the whole dossier as data, for other tools and for tests.

use serde::Serialize;

use crate::catalog::Kind;
use crate::error::Diagnostic;
use crate::graph::Dossier;
use crate::write::Streamed;

#[derive(Serialize)]
struct ArticleData<'a> {
    source: String,
    url: String,
    title: &'a str,
    title_derived: bool,
    date: Option<String>,
    author: Option<&'a str>,
    source_url: Option<&'a str>,
    places: Vec<&'a str>,
    agencies: Vec<&'a str>,
    people: Vec<&'a str>,
    laws: Vec<&'a str>,
    years: Vec<i32>,
    paragraphs: usize,
    mentions: Vec<MentionData<'a>>,
    relative_dates: Vec<RelativeData<'a>>,
    furniture: &'a [String],
    extra: &'a std::collections::BTreeMap<String, serde_json::Value>,
}

#[derive(Serialize)]
struct MentionData<'a> {
    entity: &'a str,
    kind: Kind,
    /// The paragraph number (1-based, the `#p` anchor), or 0 for the title.
    paragraph: usize,
    start: usize,
    end: usize,
}

#[derive(Serialize)]
struct RelativeData<'a> {
    phrase: &'a str,
    paragraph: usize,
    resolved: Option<&'a str>,
}

#[derive(Serialize)]
struct EntityData<'a> {
    kind: Kind,
    name: &'a str,
    #[serde(rename = "type")]
    subkind: &'a str,
    aliases: &'a [String],
    parent: Option<&'a str>,
    description: &'a str,
    coordinates: Option<[f64; 2]>,
    catalogued: bool,
    url: String,
    articles: Vec<&'a str>,
}

/// Writes the dossier to `out` as compact JSON (one line) with a stable order: each article is
/// serialized on its own, in parallel, and written in order.
pub fn dossier_json(
    dossier: &Dossier,
    out: &mut Streamed,
    parts: &mut crate::export::Parts,
) -> Result<(), Diagnostic> {
    out.write(b"{\"articles\":[")?;
    crate::export::by_article(dossier, out, parts, |index, a| {
        let m = &a.metadata;
        let entities: Vec<&crate::catalog::EntityKey> = dossier.entities_of(index).collect();
        let names = |kind: Kind| -> Vec<&str> {
            (entities.iter())
                .filter(|k| k.kind == kind)
                .map(|k| dossier.entity_name(k))
                .collect()
        };
        let data = ArticleData {
            source: a.path.to_string_lossy().replace('\\', "/"),
            url: a.url(),
            title: &m.title,
            title_derived: m.title_derived,
            date: m.date.map(|d| d.to_string()),
            author: m.author.as_deref(),
            source_url: a.source_url.as_deref(),
            places: names(Kind::Place),
            agencies: names(Kind::Agency),
            people: names(Kind::Person),
            laws: names(Kind::Law),
            years: m.all_years(),
            paragraphs: a.body().paragraphs.len(),
            mentions: m
                .mentions
                .iter()
                .map(|x| MentionData {
                    entity: dossier.entity_name(&x.entity),
                    kind: x.entity.kind,
                    paragraph: paragraph_number(x.at),
                    start: x.start,
                    end: x.end,
                })
                .collect(),
            relative_dates: m
                .relative
                .iter()
                .map(|r| RelativeData {
                    phrase: &r.hit.phrase,
                    paragraph: paragraph_number(r.at),
                    resolved: r.hit.resolved.as_deref(),
                })
                .collect(),
            furniture: &a.body().furniture,
            extra: &a.extra,
        };
        let mut part = Vec::new();
        if index > 0 {
            part.push(b',');
        }
        let _ = serde_json::to_writer(&mut part, &data);
        part
    })?;
    // Each article's address is made once: the entities list each article many times over
    // (18 on average in the 10,000-article benchmark).
    let urls: Vec<String> = dossier.articles.iter().map(|a| a.url()).collect();
    // Written an entity at a time through one buffer, each a part of the file: encoded whole,
    // the list was several megabytes at 10,000 articles, in a buffer grown by doubling, all of
    // it fresh memory in every build (the same bytes either way).
    let mut part = b"],\"entities\":[".to_vec();
    for (number, node) in dossier.entities.values().enumerate() {
        if number > 0 {
            part.push(b',');
        }
        let entity = EntityData {
            kind: node.entity.key.kind,
            name: &node.entity.name,
            subkind: &node.entity.subkind,
            aliases: &node.entity.aliases,
            parent: node.entity.parent.as_ref().map(|k| dossier.entity_name(k)),
            description: &node.entity.description,
            coordinates: node.entity.coords.map(|(a, b)| [a, b]),
            catalogued: node.entity.defined_at.is_some(),
            url: node.entity.key.url(),
            articles: node.articles.iter().map(|&i| urls[i].as_str()).collect(),
        };
        let _ = serde_json::to_writer(&mut part, &entity);
        out.write(&part)?;
        part.clear();
    }
    part.extend_from_slice(b"]}\n");
    out.write(&part)?;
    Ok(())
}

/// The 1-based paragraph number of a place (the `#p` anchor), or 0 for the title.
fn paragraph_number(at: crate::extract::Place) -> usize {
    match at {
        crate::extract::Place::Title => 0,
        crate::extract::Place::Paragraph(p) => p + 1,
    }
}
