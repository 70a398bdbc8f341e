//! Link integrity: every internal link and fragment resolves inside the output, and nothing is
//! loaded from another host or from the root of a server.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use regex::Regex;

use crate::common::{build, fixture, repository_site};

fn check_links(public: &Path) {
    // Minified pages leave some attribute values unquoted.
    let value = r#"(?:"(?<double>[^"]*)"|'(?<single>[^']*)'|(?<bare>[^\s"'=<>`]+))"#;
    let tag = Regex::new(r"<(\w+)\s[^>]*>").unwrap();
    let attribute = Regex::new(&format!(r"\s(href|src)={value}")).unwrap();
    let id = Regex::new(&format!(r"\sid={value}")).unwrap();
    let value_of = |c: &regex::Captures<'_>| {
        c.name("double")
            .or(c.name("single"))
            .or(c.name("bare"))
            .map_or(String::new(), |m| m.as_str().to_string())
    };
    let mut ids: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    let mut pages = Vec::new();
    for entry in walkdir::WalkDir::new(public)
        .into_iter()
        .filter_map(Result::ok)
    {
        if entry.path().extension().is_some_and(|x| x == "html") {
            let html = std::fs::read_to_string(entry.path()).unwrap();
            let rel = entry.path().strip_prefix(public).unwrap().to_path_buf();
            ids.insert(
                rel.clone(),
                id.captures_iter(&html).map(|c| value_of(&c)).collect(),
            );
            pages.push((rel, html));
        }
    }
    assert!(pages.len() > 10, "too few pages to check");
    let mut failures = Vec::new();
    let mut checked = 0;
    for (page, html) in &pages {
        for element in tag.captures_iter(html) {
            for caps in attribute.captures_iter(&element[0]) {
                let (tag, attr, url) =
                    (&element[1], &caps[1], value_of(&caps).replace("&amp;", "&"));
                checked += 1;
                if url.starts_with("http://")
                    || url.starts_with("https://")
                    || url.starts_with("mailto:")
                {
                    if !(tag == "a" && attr == "href") {
                        failures.push(format!(
                            "{}: {tag} loads {url} from another host",
                            page.display()
                        ));
                    }
                    continue;
                }
                if url.starts_with('/') {
                    failures.push(format!("{}: root-absolute link {url}", page.display()));
                    continue;
                }
                let (file, fragment) = url
                    .split_once('#')
                    .map_or((url.as_str(), None), |(f, h)| (f, Some(h)));
                let target = if file.is_empty() {
                    page.clone()
                } else {
                    normalize(&page.parent().unwrap_or(Path::new("")).join(file))
                };
                if !file.is_empty()
                    && !file
                        .rsplit('/')
                        .next()
                        .is_some_and(|name| name.contains('.'))
                {
                    failures.push(format!(
                        "{}: link {url} does not end in a file name",
                        page.display()
                    ));
                }
                if !public.join(&target).is_file() {
                    failures.push(format!(
                        "{}: {url} -> {} is missing",
                        page.display(),
                        target.display()
                    ));
                    continue;
                }
                if let Some(fragment) = fragment.filter(|f| !f.is_empty())
                    && !ids.get(&target).is_some_and(|set| set.contains(fragment))
                {
                    failures.push(format!(
                        "{}: {url}: no id {fragment:?} in {}",
                        page.display(),
                        target.display()
                    ));
                }
            }
        }
    }
    assert!(
        checked > pages.len() * 5,
        "only {checked} links found in {} pages: is the attribute pattern right?",
        pages.len()
    );
    assert!(
        failures.is_empty(),
        "{} broken links:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                assert!(out.pop(), "{} climbs out of the output", path.display());
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[test]
fn seed_dossier_links_resolve() {
    let site = repository_site();
    build(site.path());
    check_links(&site.path().join("public"));
}

#[test]
fn fixture_links_resolve() {
    let site = fixture("basic");
    build(site.path());
    check_links(&site.path().join("public"));
}
