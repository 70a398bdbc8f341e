//! The entity catalogue: places, agencies, people and laws from `content/entities/*.toml`.
//!
//! Owns loading and checking the catalogue (clashing aliases, missing parents, parent cycles).
//! The catalogue is data: editors grow it without recompiling dossier.

use compact_str::CompactString;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::{Diagnostic, Diagnostics, Lines, line_of};
use crate::extract::fold::fold_key;

/// The folder under the site root that holds the catalogue files.
pub const ENTITIES_DIR: &str = "content/entities";

/// The kinds of entity a dossier links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Provinces, cities, counties, rivers, countries.
    Place,
    /// Ministries, bureaus, units, party bodies, courts, foreign agencies.
    Agency,
    /// People named in the articles.
    Person,
    /// Laws, decrees and codes.
    Law,
}

impl Kind {
    /// Every kind, in the order pages list them.
    pub const ALL: [Kind; 4] = [Kind::Place, Kind::Agency, Kind::Person, Kind::Law];

    /// The singular word for the kind (`place`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Place => "place",
            Kind::Agency => "agency",
            Kind::Person => "person",
            Kind::Law => "law",
        }
    }

    /// The output folder of the kind's pages (`places`).
    pub fn folder(self) -> &'static str {
        match self {
            Kind::Place => "places",
            Kind::Agency => "agencies",
            Kind::Person => "people",
            Kind::Law => "laws",
        }
    }

    /// The plural, capitalized, for headings (`Places`).
    pub fn plural_title(self) -> &'static str {
        match self {
            Kind::Place => "Places",
            Kind::Agency => "Agencies",
            Kind::Person => "People",
            Kind::Law => "Laws",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stable key of an entity: its kind and slug. Entities refer to each other by key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EntityKey {
    /// The entity's kind.
    pub kind: Kind,
    /// The entity's slug, unique within its kind; also its page's file name. Most fit in
    /// the string itself, with nothing allocated: every mention of every article holds its
    /// entity's key, and the cache decodes them all in every build.
    pub slug: CompactString,
}

impl EntityKey {
    /// The key of the entity of `kind` named `name`.
    pub fn new(kind: Kind, name: &str) -> Self {
        EntityKey {
            kind,
            slug: slugify(name).into(),
        }
    }

    /// The page of the entity relative to the output root (`places/hoeryong.html`).
    pub fn url(&self) -> String {
        format!("{}/{}.html", self.kind.folder(), self.slug)
    }
}

/// One entity of the catalogue, or one found in articles only (an uncatalogued person).
#[derive(Debug, Clone)]
pub struct Entity {
    /// Its key.
    pub key: EntityKey,
    /// Its canonical name.
    pub name: String,
    /// The sub-kind (`province`, `county`, `ministry`, ...); empty when unknown.
    pub subkind: String,
    /// Other spellings the matcher finds it by.
    pub aliases: Vec<String>,
    /// The entity it belongs to (a county's province, a bureau's ministry).
    pub parent: Option<EntityKey>,
    /// One or two sentences of public fact.
    pub description: String,
    /// Latitude and longitude in decimal degrees.
    pub coords: Option<(f64, f64)>,
    /// Where the catalogue defines it (`content/entities/places.toml:12`); `None` when found
    /// in articles only.
    pub defined_at: Option<(PathBuf, usize)>,
}

/// Every catalogued entity, by key.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// The entities, in key order.
    pub entities: BTreeMap<EntityKey, Entity>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    place: Vec<RawEntity>,
    #[serde(default)]
    agency: Vec<RawEntity>,
    #[serde(default)]
    person: Vec<RawEntity>,
    #[serde(default)]
    law: Vec<RawEntity>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntity {
    name: Spanned<String>,
    #[serde(rename = "type", default)]
    subkind: String,
    #[serde(default)]
    aliases: Vec<Spanned<String>>,
    parent: Option<Spanned<String>>,
    #[serde(default)]
    description: String,
    lat: Option<f64>,
    lon: Option<f64>,
}

/// Loads and checks every `*.toml` file in `root/content/entities/` (a missing folder is an
/// empty catalogue).
pub fn load(root: &Path) -> Result<Catalog, Diagnostics> {
    let dir = root.join(ENTITIES_DIR);
    let mut files = Vec::new();
    let mut problems = Diagnostics::new();
    if dir.is_dir() {
        let entries = std::fs::read_dir(&dir).map_err(|e| {
            let mut d = Diagnostics::new();
            d.push(Diagnostic::error(
                ENTITIES_DIR,
                None,
                format!("cannot list the catalogue: {e}"),
            ));
            d
        })?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            let shown = Path::new(ENTITIES_DIR).join(path.file_name().unwrap_or_default());
            match std::fs::read_to_string(&path) {
                Ok(text) => files.push((shown, text)),
                Err(e) => {
                    problems.push(Diagnostic::error(shown, None, format!("cannot read: {e}")))
                }
            }
        }
    }
    let catalog = parse_files(&files, &mut problems);
    if problems.has_errors() {
        Err(problems)
    } else {
        Ok(catalog)
    }
}

/// Parses and checks catalogue files given as (shown path, text) pairs. Problems go to
/// `problems`; the entities that parsed are returned either way.
pub fn parse_files(files: &[(PathBuf, String)], problems: &mut Diagnostics) -> Catalog {
    // (entity, file index, parent name with its line)
    let mut parsed: Vec<(Entity, Option<(String, usize)>)> = Vec::new();
    for (path, text) in files {
        let raw: RawFile = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                let line = e.span().map(|s| line_of(text, s.start));
                problems.push(Diagnostic::error(
                    path,
                    line,
                    e.message().trim().to_string(),
                ));
                continue;
            }
        };
        let lines = Lines::new(text);
        let groups = [
            (Kind::Place, raw.place),
            (Kind::Agency, raw.agency),
            (Kind::Person, raw.person),
            (Kind::Law, raw.law),
        ];
        for (kind, entries) in groups {
            for raw in entries {
                let line = lines.of(raw.name.span().start);
                let name = raw.name.get_ref().trim().to_string();
                if name.is_empty() || slugify(&name).is_empty() {
                    problems.push(Diagnostic::error(
                        path,
                        Some(line),
                        "an entity needs a name with letters or digits",
                    ));
                    continue;
                }
                let coords = match (raw.lat, raw.lon) {
                    (Some(lat), Some(lon))
                        if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) =>
                    {
                        Some((lat, lon))
                    }
                    (None, None) => None,
                    _ => {
                        problems.push(Diagnostic::error(
                            path,
                            Some(line),
                            format!(
                                "{name}: lat and lon go together, within -90..90 and -180..180"
                            ),
                        ));
                        None
                    }
                };
                let parent = raw
                    .parent
                    .map(|p| (p.get_ref().trim().to_string(), lines.of(p.span().start)));
                parsed.push((
                    Entity {
                        key: EntityKey::new(kind, &name),
                        name,
                        subkind: raw.subkind,
                        aliases: raw
                            .aliases
                            .into_iter()
                            .map(|a| a.into_inner().trim().to_string())
                            .collect(),
                        parent: None,
                        description: raw.description.trim().to_string(),
                        coords,
                        defined_at: Some((path.clone(), line)),
                    },
                    parent,
                ));
            }
        }
    }

    let mut catalog = Catalog::default();
    let mut names: HashMap<(Kind, String), EntityKey> = HashMap::new();
    for (entity, _) in &parsed {
        names.insert((entity.key.kind, entity.name.clone()), entity.key.clone());
    }
    for (mut entity, parent) in parsed {
        let (path, line) = entity.defined_at.clone().unwrap_or_default();
        if let Some((parent_name, parent_line)) = parent {
            match names.get(&(entity.key.kind, parent_name.clone())) {
                Some(key) => entity.parent = Some(key.clone()),
                None => problems.push(Diagnostic::error(
                    &path,
                    Some(parent_line),
                    format!(
                        "{}: parent {parent_name:?} is not {} {} in the catalogue",
                        entity.name,
                        if entity.key.kind == Kind::Agency {
                            "an"
                        } else {
                            "a"
                        },
                        entity.key.kind
                    ),
                )),
            }
        }
        if let Some(existing) = catalog.entities.get(&entity.key) {
            let (other, other_line) = existing.defined_at.clone().unwrap_or_default();
            problems.push(Diagnostic::error(
                &path,
                Some(line),
                format!(
                    "{} {:?} clashes with {:?} at {}:{other_line} (same page name {:?})",
                    entity.key.kind,
                    entity.name,
                    existing.name,
                    other.display(),
                    entity.key.slug
                ),
            ));
            continue;
        }
        catalog.entities.insert(entity.key.clone(), entity);
    }
    check_cycles(&catalog, problems);
    check_aliases(&catalog, problems);
    catalog
}

fn check_cycles(catalog: &Catalog, problems: &mut Diagnostics) {
    for entity in catalog.entities.values() {
        let mut seen = vec![&entity.key];
        let mut next = entity.parent.as_ref();
        while let Some(key) = next {
            if key == &entity.key {
                let (path, line) = entity.defined_at.clone().unwrap_or_default();
                problems.push(Diagnostic::error(
                    path,
                    Some(line),
                    format!("{}: its parents form a cycle", entity.name),
                ));
                break;
            }
            if seen.contains(&key) {
                break; // a cycle above this entity; reported on the entities inside it
            }
            seen.push(key);
            next = catalog.entities.get(key).and_then(|e| e.parent.as_ref());
        }
    }
}

/// Every folded form an alias is matched by: as written, and without apostrophes.
pub fn alias_forms(alias: &str) -> Vec<String> {
    let folded = fold_key(alias);
    let bare = folded.replace('\'', "");
    if bare == folded {
        vec![folded]
    } else {
        vec![folded, bare]
    }
}

fn check_aliases(catalog: &Catalog, problems: &mut Diagnostics) {
    let mut owners: HashMap<String, &Entity> = HashMap::new();
    // In file order, so the clash is reported on the entity written second.
    let mut in_file_order: Vec<&Entity> = catalog.entities.values().collect();
    in_file_order.sort_by(|a, b| a.defined_at.cmp(&b.defined_at));
    for entity in in_file_order {
        let mut own: Vec<String> = std::iter::once(&entity.name)
            .chain(&entity.aliases)
            .flat_map(|a| alias_forms(a))
            .collect();
        own.sort();
        own.dedup();
        for form in own {
            if form.is_empty() {
                continue;
            }
            if let Some(other) = owners.get(&form) {
                let (path, line) = entity.defined_at.clone().unwrap_or_default();
                let (other_path, other_line) = other.defined_at.clone().unwrap_or_default();
                problems.push(Diagnostic::error(
                    path,
                    Some(line),
                    format!(
                        "{}: the spelling {form:?} is claimed by {} {:?} too ({}:{other_line})",
                        entity.name,
                        other.key.kind,
                        other.name,
                        other_path.display()
                    ),
                ));
            } else {
                owners.insert(form, entity);
            }
        }
    }
}

/// The page name for `name`: lowercase ASCII letters and digits joined by `-`.
pub fn slugify(name: &str) -> String {
    let ascii = deunicode::deunicode(name).to_ascii_lowercase();
    let mut slug = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if c == '\'' {
            continue;
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Catalog, Vec<Diagnostic>) {
        let mut problems = Diagnostics::new();
        let files = vec![(PathBuf::from("content/entities/t.toml"), text.to_string())];
        let catalog = parse_files(&files, &mut problems);
        (catalog, problems.sorted())
    }

    #[test]
    fn slugs_are_ascii() {
        assert_eq!(slugify("Hoeryŏng"), "hoeryong");
        assert_eq!(slugify("Workers' Party of Korea"), "workers-party-of-korea");
        assert_eq!(slugify("Ji'an"), "jian");
    }

    #[test]
    fn clashing_alias_names_both_places() {
        let (_, problems) = parse(
            "[[place]]\nname = \"Musan County\"\naliases = [\"Musan\"]\n\n[[place]]\nname = \"Musan\"\n",
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].line, Some(6));
        assert!(
            problems[0].to_string().contains("t.toml:2"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn missing_parent_and_cycle_are_errors() {
        let (_, problems) = parse("[[place]]\nname = \"A\"\nparent = \"Nowhere\"\n");
        assert_eq!(problems[0].line, Some(3));
        let (_, problems) = parse(
            "[[place]]\nname = \"A\"\nparent = \"B\"\n[[place]]\nname = \"B\"\nparent = \"A\"\n",
        );
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].message.contains("cycle"));
    }

    #[test]
    fn unknown_field_is_an_error_with_line() {
        let (_, problems) = parse("[[place]]\nname = \"A\"\ncolor = 1\n");
        assert_eq!(problems[0].line, Some(3), "{problems:?}");
    }
}
