//! Themes: the templates and static files pages are made with.
//!
//! `theme = "<name>"` picks `themes/<name>/`; any template or static file it lacks comes from
//! `themes/default/` of the site, and failing that from the default theme built into dossier,
//! so a site overrides one template without copying the rest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tera::Tera;
use xxhash_rust::xxh3::Xxh3;

use crate::config::Config;
use crate::error::{Diagnostic, Diagnostics};

/// The templates every theme provides, by name.
pub const TEMPLATES: [&str; 8] = [
    "base.html",
    "index.html",
    "article.html",
    "entity.html",
    "entity_index.html",
    "year.html",
    "year_index.html",
    "search.html",
];

/// The built-in default theme, the same files as `themes/default/` of this repository.
const BUILT_IN_TEMPLATES: [(&str, &str); 9] = [
    (
        "base.html",
        include_str!("../themes/default/templates/base.html"),
    ),
    (
        "index.html",
        include_str!("../themes/default/templates/index.html"),
    ),
    (
        "article.html",
        include_str!("../themes/default/templates/article.html"),
    ),
    (
        "entity.html",
        include_str!("../themes/default/templates/entity.html"),
    ),
    (
        "entity_index.html",
        include_str!("../themes/default/templates/entity_index.html"),
    ),
    (
        "year.html",
        include_str!("../themes/default/templates/year.html"),
    ),
    (
        "year_index.html",
        include_str!("../themes/default/templates/year_index.html"),
    ),
    (
        "search.html",
        include_str!("../themes/default/templates/search.html"),
    ),
    (
        "quoted.html",
        include_str!("../themes/default/templates/quoted.html"),
    ),
];

const BUILT_IN_STATIC: [(&str, &str); 3] = [
    (
        "style.css",
        include_str!("../themes/default/static/style.css"),
    ),
    (
        "search.js",
        include_str!("../themes/default/static/search.js"),
    ),
    (
        "focus.js",
        include_str!("../themes/default/static/focus.js"),
    ),
];

/// The built-in map outline (`themes/default/map/border-region.json`).
const BUILT_IN_MAP: &str = include_str!("../themes/default/map/border-region.json");

/// A theme's templates, parsed, and a digest of everything they render with.
pub struct Templates {
    /// The parsed templates.
    pub tera: Tera,
    /// A hash of the templates' sources and of the dossier binary: two pages rendered from the
    /// same template and data under the same digest are the same bytes.
    pub digest: u128,
}

/// A theme's folders, most specific first.
#[derive(Debug, Clone)]
pub struct Theme {
    root: PathBuf,
    folders: Vec<PathBuf>,
}

impl Theme {
    /// The theme `config` names.
    pub fn new(config: &Config) -> Theme {
        let mut folders = vec![Path::new("themes").join(&config.theme)];
        if config.theme != "default" {
            folders.push(Path::new("themes").join("default"));
        }
        Theme {
            root: config.root.clone(),
            folders,
        }
    }

    /// Loads and parses every template; errors name the template file and line.
    pub fn tera(&self) -> Result<Templates, Diagnostics> {
        let mut problems = Diagnostics::new();
        let mut sources = Vec::new();
        for (name, built_in) in BUILT_IN_TEMPLATES {
            let mut found = None;
            for folder in &self.folders {
                let shown = folder.join("templates").join(name);
                let path = self.root.join(&shown);
                if path.is_file() {
                    match std::fs::read_to_string(&path) {
                        Ok(text) => found = Some((shown, text)),
                        Err(e) => problems.push(Diagnostic::error(
                            &shown,
                            None,
                            format!("cannot read template: {e}"),
                        )),
                    }
                    break;
                }
            }
            let (shown, text) =
                found.unwrap_or_else(|| (Path::new("(built-in)").join(name), built_in.to_string()));
            sources.push((name, shown, text));
        }
        let mut tera = Tera::default();
        // Templates are parsed one by one (with the base layout) first, so a syntax error names
        // its own file.
        let base = sources
            .iter()
            .find(|(n, _, _)| *n == "base.html")
            .map_or("", |(_, _, t)| t.as_str());
        for (name, shown, text) in &sources {
            let mut alone = Tera::default();
            let mut pair = vec![(*name, text.as_str())];
            if *name != "base.html" {
                pair.push(("base.html", base));
            }
            if let Err(e) = alone.add_raw_templates(pair) {
                problems.push(Diagnostic::error(shown, error_line(&e), error_chain(&e)));
            }
        }
        if problems.has_errors() {
            return Err(problems);
        }
        // Minified once here rather than every page after rendering. Should minifying ever make a
        // template that no longer parses, the templates are used as written.
        let minified: Vec<(&str, String)> = sources
            .iter()
            .map(|(n, _, t)| (*n, minify_template(t)))
            .collect();
        if tera
            .add_raw_templates(minified.iter().map(|(n, t)| (*n, t.as_str())))
            .is_err()
        {
            tera = Tera::default();
            let all: Vec<(&str, &str)> = sources.iter().map(|(n, _, t)| (*n, t.as_str())).collect();
            if let Err(e) = tera.add_raw_templates(all) {
                problems.push(Diagnostic::general(format!(
                    "templates: {}",
                    error_chain(&e)
                )));
                return Err(problems);
            }
        }
        // Escapes `& < > " '`, enough for text and quoted attributes, leaving `/` as it is
        // (Tera's default writes it `&#x2F;`, which only makes links longer).
        tera.set_escape_fn(crate::render::escape);
        // What, besides its data, a rendered page depends on: the templates and the code that
        // renders them (filters, escaping), which the binary's hash stands for.
        let mut hasher = Xxh3::new();
        hasher.update(&crate::cache::binary_hash().to_le_bytes());
        for (name, _, text) in &sources {
            for part in [name.as_bytes(), text.as_bytes()] {
                hasher.update(&(part.len() as u64).to_le_bytes());
                hasher.update(part);
            }
        }
        Ok(Templates {
            tera,
            digest: hasher.digest128(),
        })
    }

    /// The map outline: `map/border-region.json` of the most specific theme that has one.
    pub fn map_outline(&self) -> Result<crate::render::svg::MapOutline, Diagnostic> {
        for folder in &self.folders {
            let shown = folder.join("map").join("border-region.json");
            let path = self.root.join(&shown);
            if path.is_file() {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| Diagnostic::error(&shown, None, format!("cannot read: {e}")))?;
                return serde_json::from_str(&text).map_err(|e| {
                    Diagnostic::error(&shown, Some(e.line()), format!("invalid map outline: {e}"))
                });
            }
        }
        serde_json::from_str(BUILT_IN_MAP)
            .map_err(|e| Diagnostic::general(format!("the built-in map outline is invalid: {e}")))
    }

    /// The theme's static files by relative path, the most specific theme winning.
    pub fn static_files(&self) -> Result<BTreeMap<PathBuf, Vec<u8>>, Diagnostic> {
        let mut files: BTreeMap<PathBuf, Vec<u8>> = BUILT_IN_STATIC
            .iter()
            .map(|(n, t)| (PathBuf::from(n), t.as_bytes().to_vec()))
            .collect();
        for folder in self.folders.iter().rev() {
            let dir = self.root.join(folder).join("static");
            if !dir.is_dir() {
                continue;
            }
            for entry in walkdir::WalkDir::new(&dir).sort_by_file_name() {
                let entry = entry.map_err(|e| {
                    Diagnostic::error(folder.join("static"), None, format!("cannot read: {e}"))
                })?;
                if !entry.file_type().is_file() {
                    continue;
                }
                let relative = entry
                    .path()
                    .strip_prefix(&dir)
                    .unwrap_or(entry.path())
                    .to_path_buf();
                let bytes = std::fs::read(entry.path()).map_err(|e| {
                    Diagnostic::error(
                        folder.join("static").join(&relative),
                        None,
                        format!("cannot read: {e}"),
                    )
                })?;
                files.insert(relative, bytes);
            }
        }
        Ok(files)
    }
}

/// A tera error with every cause behind it, on one line.
pub fn error_chain(error: &tera::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        source = inner.source();
    }
    message.replace('\n', " ")
}

/// Tera's parse errors point at ` --> line:column`; that line locates the message.
fn error_line(error: &tera::Error) -> Option<usize> {
    let text = error_chain(error);
    let at = text.find("--> ")? + 4;
    text[at..].split(':').next()?.trim().parse().ok()
}

/// The built-in default theme's templates, by name (for `dossier init`).
pub fn built_in_templates() -> &'static [(&'static str, &'static str)] {
    &BUILT_IN_TEMPLATES
}

/// The built-in default theme's static files, by name (for `dossier init`).
pub fn built_in_static() -> &'static [(&'static str, &'static str)] {
    &BUILT_IN_STATIC
}

/// The built-in map outline (for `dossier init`).
pub fn built_in_map() -> &'static str {
    BUILT_IN_MAP
}

/// Minifies a template's HTML and CSS once, when the theme loads, leaving Tera's `{{ }}`,
/// `{% %}` and `{# #}` as written: every page then comes out of the template minified, without
/// minifying each page (which took a quarter of a build's time). Values inserted into the
/// template are escaped text or markup dossier makes compact itself.
fn minify_template(template: &str) -> String {
    let mut cfg = minify_html::Cfg::new();
    cfg.minify_css = true;
    cfg.minify_js = false;
    cfg.keep_closing_tags = true;
    cfg.keep_html_and_head_opening_tags = true;
    cfg.allow_removing_spaces_between_attributes = false;
    cfg.allow_noncompliant_unquoted_attribute_values = false;
    cfg.preserve_brace_template_syntax = true;
    String::from_utf8_lossy(&minify_html::minify(template.as_bytes(), &cfg)).into_owned()
}
