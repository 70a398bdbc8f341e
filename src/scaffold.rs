//! `dossier new` and `dossier init`: a new article with its front matter, and a new dossier
//! that builds at once. They refuse to overwrite anything.

use std::path::{Path, PathBuf};

use crate::error::Diagnostic;

/// Creates `content/articles/<date>-<slug>.md` under `root` with `title` and today's date, and
/// returns its path. An existing file is never overwritten.
pub fn new_article(
    root: &Path,
    title: &str,
    today: chrono::NaiveDate,
) -> Result<PathBuf, Diagnostic> {
    let slug = crate::catalog::slugify(title);
    if slug.is_empty() {
        return Err(Diagnostic::general("the title needs letters or digits"));
    }
    let dir = root.join(crate::source::ARTICLES_DIR);
    if !root.join(crate::config::CONFIG_FILE).is_file() {
        return Err(Diagnostic::general(format!(
            "{} has no site.toml; run dossier init first",
            root.display()
        )));
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| Diagnostic::general(format!("cannot create {}: {e}", dir.display())))?;
    let path = dir.join(format!("{today}-{slug}.md"));
    let title = toml::Value::String(title.to_string()).to_string();
    let text = format!(
        "+++\ntitle = {title}\ndate = {today}\n# source = \"https://...\"     # where the article was published\n# places = [\"...\"]             # entities to add to what dossier finds\n# exclude = [\"...\"]            # false matches to drop\n+++\n\nWrite or paste the article here.\n"
    );
    write_new(&path, &text)?;
    Ok(path)
}

/// The files of a new dossier, relative to its folder.
fn starter_files() -> Vec<(PathBuf, String)> {
    let mut files = vec![
        (PathBuf::from("site.toml"), STARTER_SITE.to_string()),
        // The build output and the cache are made from the sources; neither belongs in git.
        (
            PathBuf::from(".gitignore"),
            format!("/public\n/{}\n", crate::CACHE_FOLDER),
        ),
        (
            PathBuf::from("content/entities/places.toml"),
            STARTER_PLACES.to_string(),
        ),
        (
            PathBuf::from("content/entities/agencies.toml"),
            STARTER_AGENCIES.to_string(),
        ),
        (
            PathBuf::from("content/articles/example.md"),
            STARTER_ARTICLE.to_string(),
        ),
    ];
    for (name, text) in crate::theme::built_in_templates() {
        files.push((
            Path::new("themes/default/templates").join(name),
            text.to_string(),
        ));
    }
    for (name, text) in crate::theme::built_in_static() {
        files.push((
            Path::new("themes/default/static").join(name),
            text.to_string(),
        ));
    }
    files.push((
        PathBuf::from("themes/default/map/border-region.json"),
        crate::theme::built_in_map().to_string(),
    ));
    files
}

/// Creates a new dossier in `dir` (which must be missing or empty): `site.toml`, the default
/// theme, an example catalogue and one example article.
pub fn init(dir: &Path) -> Result<Vec<PathBuf>, Diagnostic> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty {
            return Err(Diagnostic::general(format!(
                "{} exists and is not empty; dossier init only fills a new folder",
                dir.display()
            )));
        }
    }
    let mut made = Vec::new();
    for (relative, text) in starter_files() {
        let path = dir.join(&relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                Diagnostic::general(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        write_new(&path, &text)?;
        made.push(relative);
    }
    Ok(made)
}

fn write_new(path: &Path, text: &str) -> Result<(), Diagnostic> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Diagnostic::general(format!(
                    "{} exists already; nothing was overwritten",
                    path.display()
                ))
            } else {
                Diagnostic::general(format!("cannot create {}: {e}", path.display()))
            }
        })?;
    file.write_all(text.as_bytes())
        .map_err(|e| Diagnostic::general(format!("cannot write {}: {e}", path.display())))
}

const STARTER_SITE: &str = r#"# dossier site configuration; every key is described in dossier's README.
title = "My dossier"
description = "News reports on one subject, linked by place, agency, person and year."
language = "en"
theme = "default"
# base_url = "https://example.org/dossier/"   # only for feeds and sitemaps

[furniture]
# Regular expressions for lines of scraped page furniture to remove.
drop_lines = ['(?i)^read (?:this article )?in (?:korean|chinese|japanese)$', '(?i)^(?:share|tweet|print|email)$']
drop_after = ['(?i)^most (?:popular|read) (?:articles|stories)$']
strip = ['\s*/\s*(?:Image|Photo)\s*:.*']
tag_run_min_words = 6

[extract]
ignore = ["North Korea"]
"#;

const STARTER_PLACES: &str = r#"[[place]]
name = "North Korea"
type = "country"
aliases = ["DPRK"]

[[place]]
name = "North Hamgyong Province"
type = "province"
aliases = ["North Hamgyong", "Hamgyongbuk-do"]
parent = "North Korea"
description = "North Korea's northeasternmost province, on the Tumen River border with China and Russia."

[[place]]
name = "Hoeryong"
type = "city"
aliases = ["Hoeryong City", "Hoeryŏng"]
parent = "North Hamgyong Province"
description = "A city on the Tumen River, across from China's Jilin Province."
lat = 42.44
lon = 129.75
"#;

const STARTER_AGENCIES: &str = r#"[[agency]]
name = "Ministry of State Security"
type = "ministry"
aliases = ["State Security Department", "MSS", "SSD", "Bowibu"]
description = "North Korea's secret police."
"#;

const STARTER_ARTICLE: &str = r#"+++
title = "An example article"
date = 2024-06-03
+++
Agents of the Ministry of State Security arrested two people in Hoeryong in January 2020 for
using Chinese mobile phones, a source in North Hamgyong Province said.

Replace this file with real articles: plain text (`.txt`) as scraped, or Markdown (`.md`).
"#;
