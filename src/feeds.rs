//! Feeds and crawler files, made only when `base_url` is set (they need absolute addresses):
//! `feed.xml` (Atom, the latest articles), one Atom feed per entity beside its page
//! (`places/hoeryong.xml`), `sitemap.xml` and `robots.txt`. Pure: returns pages for `write`.

use std::path::PathBuf;

use crate::graph::Dossier;
use crate::render::{Page, escape};

/// How many articles a feed lists.
const FEED_LENGTH: usize = 50;

/// The feed and crawler files for a dossier published at `base_url`; `html` lists the site's
/// pages for the sitemap.
pub fn feeds(dossier: &Dossier, title: &str, base_url: &str, html: &[PathBuf]) -> Vec<Page> {
    let base = if base_url.ends_with('/') {
        base_url.to_string()
    } else {
        format!("{base_url}/")
    };
    let mut pages = Vec::new();
    let latest: Vec<usize> = dossier
        .by_date
        .iter()
        .copied()
        .filter(|&i| dossier.articles[i].metadata.date.is_some())
        .take(FEED_LENGTH)
        .collect();
    pages.push(Page {
        path: "feed.xml".into(),
        bytes: atom(dossier, title, &base, "feed.xml", "index.html", &latest),
    });
    for node in dossier.entities.values().filter(|n| !n.articles.is_empty()) {
        let key = &node.entity.key;
        let items: Vec<usize> = node
            .articles
            .iter()
            .copied()
            .filter(|&i| dossier.articles[i].metadata.date.is_some())
            .take(FEED_LENGTH)
            .collect();
        let path = format!("{}/{}.xml", key.kind.folder(), key.slug);
        let feed_title = format!("{title}: {}", node.entity.name);
        pages.push(Page {
            bytes: atom(dossier, &feed_title, &base, &path, &key.url(), &items),
            path: path.into(),
        });
    }
    let mut sitemap = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    let mut sorted: Vec<String> = html
        .iter()
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .collect();
    sorted.sort();
    for path in sorted {
        sitemap.push_str(&format!(
            "<url><loc>{}</loc></url>\n",
            escape(&format!("{base}{path}"))
        ));
    }
    sitemap.push_str("</urlset>\n");
    pages.push(Page {
        path: "sitemap.xml".into(),
        bytes: sitemap.into_bytes(),
    });
    pages.push(Page {
        path: "robots.txt".into(),
        bytes: format!("User-agent: *\nAllow: /\nSitemap: {base}sitemap.xml\n").into_bytes(),
    });
    pages
}

fn atom(
    dossier: &Dossier,
    title: &str,
    base: &str,
    self_path: &str,
    page: &str,
    items: &[usize],
) -> Vec<u8> {
    // The newest article's date, so the same content always gives the same feed.
    let updated = items
        .first()
        .and_then(|&i| dossier.articles[i].metadata.date)
        .map_or_else(|| "1970-01-01".to_string(), |d| d.to_string());
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>{}</title>\n<id>{}</id>\n<link href=\"{}\"/>\n<link rel=\"self\" href=\"{}\"/>\n<updated>{updated}T00:00:00Z</updated>\n",
        escape(title),
        escape(&format!("{base}{self_path}")),
        escape(&format!("{base}{page}")),
        escape(&format!("{base}{self_path}")),
    );
    for &i in items {
        let article = &dossier.articles[i];
        let m = &article.metadata;
        let date = m.date.map_or_else(String::new, |d| d.to_string());
        let summary = article
            .body()
            .paragraphs
            .first()
            .map_or(String::new(), |p| {
                crate::extract::text::shorten(&p.text, 300)
            });
        let url = format!("{base}{}", article.url());
        xml.push_str(&format!(
            "<entry>\n<title>{}</title>\n<id>{}</id>\n<link href=\"{}\"/>\n<updated>{date}T00:00:00Z</updated>\n<summary>{}</summary>\n</entry>\n",
            escape(&m.title),
            escape(&url),
            escape(&url),
            escape(&summary)
        ));
    }
    xml.push_str("</feed>\n");
    xml.into_bytes()
}
