//! Exports for other tools: `dossier.json`, `articles.csv`, `entities.csv`, `mentions.csv`, and
//! `entities.ftm.json`, FollowTheMoney entities as JSON lines (the format Aleph and other
//! investigation tools import). Each is made in memory and handed to the write sink.

use rayon::prelude::*;
use serde_json::json;

use crate::catalog::Kind;
use crate::error::Diagnostic;
use crate::extract::Place;
use crate::graph::Dossier;
use crate::write::Group;

/// Builds the export files of `dossier` into `sink`.
pub fn exports(dossier: &Dossier, sink: &Group) -> Result<(), Diagnostic> {
    type Maker = fn(&Dossier) -> Vec<Vec<u8>>;
    let makers: [(&str, Maker); 5] = [
        ("articles.csv", |d| vec![articles_csv(d)]),
        ("entities.csv", |d| vec![entities_csv(d)]),
        ("mentions.csv", mentions_csv),
        ("entities.ftm.json", followthemoney),
        ("dossier.json", crate::data::dossier_json),
    ];
    // One after another (each is parallel inside), so one export at a time is in memory, in
    // parts that are written without being joined.
    for (path, make) in makers {
        sink.put_parts(path.into(), &make(dossier))?;
    }
    Ok(())
}

fn name_of<'a>(dossier: &'a Dossier, key: &'a crate::catalog::EntityKey) -> &'a str {
    dossier
        .entities
        .get(key)
        .map_or(key.slug.as_str(), |n| n.entity.name.as_str())
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

fn articles_csv(dossier: &Dossier) -> Vec<u8> {
    let rows = dossier
        .articles
        .iter()
        .map(|a| {
            let m = &a.metadata;
            let names = |kind: Kind| -> String {
                m.entities()
                    .into_iter()
                    .filter(|k| k.kind == kind)
                    .map(|k| name_of(dossier, k))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            vec![
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
            ]
        })
        .collect();
    csv_bytes(
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
        rows,
    )
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

fn mentions_csv(dossier: &Dossier) -> Vec<Vec<u8>> {
    let header = csv_bytes(
        &[
            "article",
            "kind",
            "entity",
            "paragraph",
            "as_written",
            "sentence",
        ],
        Vec::new(),
    );
    // Each article's rows are written in parallel, then joined in article order.
    let per_article: Vec<Vec<u8>> = dossier
        .articles
        .par_iter()
        .map(|article| {
            let mut writer = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(Vec::new());
            let url = article.url();
            for m in &article.metadata.mentions {
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
                    article.sentence_at(m.at, m.start),
                ]);
            }
            writer.into_inner().unwrap_or_default()
        })
        .collect();
    let mut parts = vec![header];
    parts.extend(per_article);
    parts
}

/// FollowTheMoney: an `Article` per article; `Person`, `PublicBody` and `Territory` per person,
/// agency and place; a `Documentation` linking each article to each entity it names, with the
/// first sentence that names it. Laws have no FollowTheMoney schema and are left out.
fn followthemoney(dossier: &Dossier) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    let entity_id =
        |key: &crate::catalog::EntityKey| format!("dossier-{}-{}", key.kind.as_str(), key.slug);
    for node in dossier.entities.values() {
        let e = &node.entity;
        let schema = match e.key.kind {
            Kind::Person => "Person",
            Kind::Agency => "PublicBody",
            Kind::Place => "Territory",
            Kind::Law => continue,
        };
        let mut properties = json!({ "name": [e.name], "alias": e.aliases });
        if !e.description.is_empty() {
            properties["description"] = json!([e.description]);
        }
        if let (Kind::Place, Some(parent)) = (e.key.kind, &e.parent) {
            properties["partOf"] = json!([entity_id(parent)]);
        }
        lines.push(json!({ "id": entity_id(&e.key), "schema": schema, "properties": properties }));
    }
    let per_article: Vec<Vec<u8>> = dossier.articles.par_iter().map(|article| {
        let mut lines = Vec::new();
        let m = &article.metadata;
        let article_id = format!("dossier-article-{}", article.slug);
        let mut properties =
            json!({ "title": [m.title], "fileName": [article.path.to_string_lossy()] });
        if let Some(date) = m.date {
            properties["publishedAt"] = json!([date.to_string()]);
        }
        if let Some(url) = &article.source_url {
            properties["sourceUrl"] = json!([url]);
        }
        if let Some(author) = &m.author {
            properties["author"] = json!([author]);
        }
        lines.push(json!({ "id": article_id, "schema": "Article", "properties": properties }));
        for key in m.entities() {
            if key.kind == Kind::Law {
                continue;
            }
            let first = m.mentions.iter().find(|x| &x.entity == key);
            let summary = first.map(|x| article.sentence_at(x.at, x.start).to_string());
            let mut properties = json!({ "document": [article_id], "entity": [entity_id(key)], "role": ["mentioned"] });
            if let Some(summary) = summary {
                properties["summary"] = json!([summary]);
            }
            lines.push(json!({ "id": format!("{article_id}-{}", entity_id(key)), "schema": "Documentation", "properties": properties }));
        }
        json_lines(lines)
    }).collect();
    let mut parts = vec![json_lines(lines)];
    parts.extend(per_article);
    parts
}

/// JSON values one to a line.
fn json_lines(values: Vec<serde_json::Value>) -> Vec<u8> {
    let mut out = Vec::new();
    for value in values {
        out.extend(serde_json::to_vec(&value).unwrap_or_default());
        out.push(b'\n');
    }
    out
}
