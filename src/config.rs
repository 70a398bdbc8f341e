//! `site.toml`: the dossier's title, theme, furniture rules and extraction options.
//!
//! Owns reading and checking the configuration; every regular expression is compiled here once,
//! so a bad pattern is reported with its line before any article is read.

use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

use crate::error::{Diagnostic, Diagnostics, line_of};

/// The name of the configuration file at the site root.
pub const CONFIG_FILE: &str = "site.toml";

/// The checked configuration of one dossier.
#[derive(Debug, Clone)]
pub struct Config {
    /// The site root: the folder holding `site.toml`, `content/` and `themes/`.
    pub root: PathBuf,
    /// The dossier's title, shown on every page.
    pub title: String,
    /// One or two sentences about the dossier, shown on the home page.
    pub description: String,
    /// The language of the articles, as a BCP 47 tag (`en`), for `<html lang>`.
    pub language: String,
    /// The theme folder under `themes/` whose templates win over the default theme.
    pub theme: String,
    /// The address the dossier is published at; only feeds and sitemaps may use it.
    pub base_url: Option<String>,
    /// Rules that remove scraped page furniture.
    pub furniture: FurnitureRules,
    /// Options of the metadata extractor.
    pub extract: ExtractOptions,
    /// What happens to raw HTML in Markdown articles.
    pub raw_html: RawHtml,
    /// Options of the search index.
    pub search: SearchOptions,
}

/// Options of the search index (the `[search]` table of `site.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchOptions {
    /// Articles per segment of the index (older articles are in segments eight times as large,
    /// the newest in segments an eighth as large). A rebuild makes again only the segments whose articles changed (a new article
    /// usually changes the last one), and a query loads a shard from every segment: smaller
    /// segments make rebuilds cheaper and queries load more files.
    pub segment_articles: usize,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            segment_articles: 8192,
        }
    }
}

/// What happens to raw HTML in Markdown articles (`[markdown] raw_html` in `site.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RawHtml {
    /// Shown as text, never rendered: the safe default.
    #[default]
    Escape,
    /// Rendered after ammonia removes scripts, event handlers, frames and unsafe URLs.
    Sanitize,
}

/// Compiled furniture rules (see the `[furniture]` table of `site.toml`).
#[derive(Debug, Clone, Default)]
pub struct FurnitureRules {
    /// A line matching one of these is removed wherever it stands.
    pub drop_lines: Vec<Regex>,
    /// A line matching one of these within the first `header_lines` lines is removed with every
    /// line above it (weather and clock headers of scraped pages).
    pub drop_before: Vec<Regex>,
    /// How many lines from the top `drop_before` markers are looked for in.
    pub header_lines: usize,
    /// A line matching one of these is removed with every line below it ("Most Popular Articles").
    pub drop_after: Vec<Regex>,
    /// Parts of a line removed from it (photo credits); a line that loses one is a photo caption.
    pub strip: Vec<Regex>,
    /// A short line right above a caption, of at most this many words, is the photo's label.
    pub caption_label_max_words: usize,
    /// A line of at least this many lowercase words, with no punctuation and no function words,
    /// is a run of scraped tags; 0 turns the rule off.
    pub tag_run_min_words: usize,
}

/// Options of the extractor (the `[extract]` table of `site.toml`).
#[derive(Debug, Clone)]
pub struct ExtractOptions {
    /// Catalogue entities never reported as mentions: the dossier's own subject, which every
    /// article names (a dossier about North Korea ignores "North Korea").
    pub ignore: Vec<String>,
    /// The earliest number read as a year.
    pub min_year: i32,
    /// The latest number read as a year.
    pub max_year: i32,
    /// The most words an opening line may have to count as the headline.
    pub title_max_words: usize,
    /// The length a title made from the first sentence is shortened to.
    pub derived_title_chars: usize,
    /// Also collect names the catalogue lacks (for `dossier entities --unknown`); not a
    /// `site.toml` key.
    pub find_unknown: bool,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        ExtractOptions {
            ignore: Vec::new(),
            min_year: 1900,
            max_year: 2099,
            title_max_words: 25,
            derived_title_chars: 90,
            find_unknown: false,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default = "default_language")]
    language: String,
    #[serde(default = "default_theme")]
    theme: String,
    base_url: Option<String>,
    #[serde(default)]
    furniture: RawFurniture,
    #[serde(default)]
    extract: RawExtract,
    #[serde(default)]
    markdown: RawMarkdown,
    #[serde(default)]
    search: RawSearch,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSearch {
    segment_articles: Option<Spanned<usize>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMarkdown {
    raw_html: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFurniture {
    #[serde(default)]
    drop_lines: Vec<Spanned<String>>,
    #[serde(default)]
    drop_before: Vec<Spanned<String>>,
    header_lines: Option<usize>,
    #[serde(default)]
    drop_after: Vec<Spanned<String>>,
    #[serde(default)]
    strip: Vec<Spanned<String>>,
    caption_label_max_words: Option<usize>,
    tag_run_min_words: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawExtract {
    #[serde(default)]
    ignore: Vec<String>,
    min_year: Option<i32>,
    max_year: Option<i32>,
    title_max_words: Option<usize>,
    derived_title_chars: Option<usize>,
}

fn default_language() -> String {
    "en".to_string()
}

fn default_theme() -> String {
    "default".to_string()
}

/// Reads and checks `root/site.toml`.
pub fn load(root: &Path) -> Result<Config, Diagnostics> {
    let path = root.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        let mut d = Diagnostics::new();
        d.push(Diagnostic::error(
            CONFIG_FILE,
            None,
            format!("cannot read the site configuration: {e}"),
        ));
        d
    })?;
    parse(root, &text)
}

/// Parses the text of a `site.toml` for the site at `root`.
pub fn parse(root: &Path, text: &str) -> Result<Config, Diagnostics> {
    let mut problems = Diagnostics::new();
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        let mut d = Diagnostics::new();
        d.push(Diagnostic::error(
            CONFIG_FILE,
            line,
            e.message().trim().to_string(),
        ));
        d
    })?;

    let mut compile = |patterns: &[Spanned<String>]| -> Vec<Regex> {
        let mut out = Vec::new();
        for pattern in patterns {
            match Regex::new(pattern.get_ref()) {
                Ok(re) => out.push(re),
                Err(e) => problems.push(Diagnostic::error(
                    CONFIG_FILE,
                    Some(line_of(text, pattern.span().start)),
                    format!("invalid pattern: {e}"),
                )),
            }
        }
        out
    };
    let furniture = FurnitureRules {
        drop_lines: compile(&raw.furniture.drop_lines),
        drop_before: compile(&raw.furniture.drop_before),
        header_lines: raw.furniture.header_lines.unwrap_or(8),
        drop_after: compile(&raw.furniture.drop_after),
        strip: compile(&raw.furniture.strip),
        caption_label_max_words: raw.furniture.caption_label_max_words.unwrap_or(5),
        tag_run_min_words: raw.furniture.tag_run_min_words.unwrap_or(0),
    };
    let defaults = ExtractOptions::default();
    let extract = ExtractOptions {
        ignore: raw.extract.ignore,
        min_year: raw.extract.min_year.unwrap_or(defaults.min_year),
        max_year: raw.extract.max_year.unwrap_or(defaults.max_year),
        title_max_words: raw
            .extract
            .title_max_words
            .unwrap_or(defaults.title_max_words),
        derived_title_chars: raw
            .extract
            .derived_title_chars
            .unwrap_or(defaults.derived_title_chars),
        find_unknown: false,
    };
    let raw_html = match raw
        .markdown
        .raw_html
        .as_ref()
        .map(|v| (v.get_ref().as_str(), v.span()))
    {
        None | Some(("escape", _)) => RawHtml::Escape,
        Some(("sanitize", _)) => RawHtml::Sanitize,
        Some((other, span)) => {
            problems.push(Diagnostic::error(
                CONFIG_FILE,
                Some(line_of(text, span.start)),
                format!("markdown.raw_html is \"escape\" or \"sanitize\", not {other:?}"),
            ));
            RawHtml::Escape
        }
    };
    let mut search = SearchOptions::default();
    if let Some(articles) = &raw.search.segment_articles {
        if *articles.get_ref() == 0 {
            problems.push(Diagnostic::error(
                CONFIG_FILE,
                Some(line_of(text, articles.span().start)),
                "search.segment_articles must be at least 1",
            ));
        } else {
            search.segment_articles = *articles.get_ref();
        }
    }
    if extract.min_year > extract.max_year {
        problems.push(Diagnostic::error(
            CONFIG_FILE,
            None,
            "extract.min_year is later than extract.max_year",
        ));
    }
    let valid_theme = !raw.theme.is_empty()
        && raw
            .theme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid_theme {
        problems.push(Diagnostic::error(
            CONFIG_FILE,
            line_of_key(text, "theme"),
            format!(
                "theme {:?} is not a folder name (letters, digits, - and _)",
                raw.theme
            ),
        ));
    } else if raw.theme != "default" && !root.join("themes").join(&raw.theme).is_dir() {
        problems.push(Diagnostic::error(
            CONFIG_FILE,
            line_of_key(text, "theme"),
            format!(
                "unknown theme {:?}: there is no folder themes/{}/",
                raw.theme, raw.theme
            ),
        ));
    }
    if problems.has_errors() {
        return Err(problems);
    }
    Ok(Config {
        root: root.to_path_buf(),
        title: raw.title,
        description: raw.description,
        language: raw.language,
        theme: raw.theme,
        base_url: raw.base_url,
        furniture,
        extract,
        raw_html,
        search,
    })
}

/// The line of a top-level `key = ...` in TOML or `key: ...` in YAML text, for messages about
/// values that parsed but do not make sense.
pub fn line_of_key(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            line.strip_prefix(key)
                .is_some_and(|rest| matches!(rest.trim_start().chars().next(), Some('=' | ':')))
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_names_its_line() {
        let err = parse(Path::new("."), "title = \"x\"\n\ncolour = \"red\"\n").unwrap_err();
        let first = err.sorted().remove(0);
        assert_eq!(first.line, Some(3), "{first}");
        assert!(first.message.contains("colour"), "{first}");
    }

    #[test]
    fn bad_pattern_names_its_line() {
        let text = "title = \"x\"\n[furniture]\ndrop_lines = [\n  'ok',\n  '(unclosed',\n]\n";
        let first = parse(Path::new("."), text).unwrap_err().sorted().remove(0);
        assert_eq!(first.line, Some(5), "{first}");
    }

    #[test]
    fn defaults_apply() {
        let config = parse(Path::new("."), "title = \"x\"").unwrap();
        assert_eq!(config.theme, "default");
        assert_eq!(config.language, "en");
        assert_eq!(config.extract.min_year, 1900);
        assert_eq!(config.search.segment_articles, 8192);
    }

    #[test]
    fn an_empty_search_segment_names_its_line() {
        let text = "title = \"x\"\n[search]\nsegment_articles = 0\n";
        let first = parse(Path::new("."), text).unwrap_err().sorted().remove(0);
        assert_eq!(first.line, Some(3), "{first}");
        assert!(first.message.contains("segment_articles"), "{first}");
    }
}
