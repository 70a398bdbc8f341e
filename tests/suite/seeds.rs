//! The seed dossier against the hand-checked `expected.json`: titles, dates, furniture and the
//! entities and years each article names.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::common::{build, manifest_dir, read_json, repository_site};

fn built_seeds() -> (tempfile::TempDir, Value) {
    let site = repository_site();
    build(site.path());
    let data = read_json(&site.path().join("public/dossier.json"));
    (site, data)
}

fn expected() -> Value {
    read_json(&manifest_dir().join("tests/fixtures/seeds/expected.json"))
}

fn article<'a>(data: &'a Value, file: &str) -> &'a Value {
    data["articles"]
        .as_array()
        .expect("articles")
        .iter()
        .find(|a| a["source"].as_str().is_some_and(|s| s.ends_with(file)))
        .unwrap_or_else(|| panic!("{file} is not in dossier.json"))
}

#[test]
fn the_seed_articles_are_the_shared_seeds_byte_for_byte() {
    let expected = expected();
    for file in expected["articles"].as_object().expect("articles").keys() {
        let ours = manifest_dir().join("content/articles").join(file);
        assert!(ours.is_file(), "{file} is missing from content/articles");
    }
}

#[test]
fn titles_and_dates_match_expected() {
    let (_site, data) = built_seeds();
    let expected = expected();
    for (file, want) in expected["articles"].as_object().expect("articles") {
        let got = article(&data, file);
        match want["title"].as_str() {
            Some(title) => {
                assert_eq!(got["title"].as_str(), Some(title), "{file}: title");
                assert_eq!(
                    got["title_derived"],
                    Value::Bool(false),
                    "{file}: title_derived"
                );
            }
            None => assert_eq!(
                got["title_derived"],
                Value::Bool(true),
                "{file}: a title made from the text must be flagged"
            ),
        }
        assert_eq!(got["date"], want["date"], "{file}: date");
    }
}

#[test]
fn entities_and_years_match_expected() {
    let (_site, data) = built_seeds();
    let expected = expected();
    let mut canonical: BTreeMap<String, String> = BTreeMap::new();
    for (name, aliases) in expected["aliases"].as_object().expect("aliases") {
        for alias in aliases.as_array().expect("list") {
            canonical.insert(alias.as_str().expect("alias").to_string(), name.clone());
        }
    }
    let mut failures = Vec::new();
    for (file, want) in expected["articles"].as_object().expect("articles") {
        let got = article(&data, file);
        for kind in ["places", "agencies", "people", "laws", "years"] {
            let as_set = |v: &Value| -> BTreeSet<String> {
                v.as_array()
                    .map(|a| {
                        a.iter()
                            .map(|x| match x {
                                Value::String(s) => {
                                    canonical.get(s).cloned().unwrap_or_else(|| s.clone())
                                }
                                other => other.to_string(),
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let found = as_set(&got[kind]);
            let required = as_set(&want[kind]["required"]);
            let allowed = as_set(&want[kind]["allowed"]);
            for missing in required.difference(&found) {
                failures.push(format!("{file}: {kind}: missing {missing}"));
            }
            for extra in found
                .iter()
                .filter(|f| !required.contains(*f) && !allowed.contains(*f))
            {
                failures.push(format!("{file}: {kind}: not expected {extra}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn furniture_is_removed_and_kept_as_data_captions_stay() {
    let (site, data) = built_seeds();
    let furniture = |file: &str| -> Vec<String> {
        article(&data, file)["furniture"]
            .as_array()
            .expect("furniture")
            .iter()
            .map(|v| v.as_str().unwrap_or("").to_string())
            .collect()
    };
    let page = |file: &str| {
        let url = article(&data, file)["url"]
            .as_str()
            .expect("url")
            .to_string();
        std::fs::read_to_string(site.path().join("public").join(url)).expect("article page")
    };
    let header = furniture("001_fc82cc45bfe7d1f0.txt");
    for line in [
        "33.1 C",
        "Delhi",
        "Sunday, June 22, 2025",
        "Read in Korean",
        "Most Popular Articles",
    ] {
        assert!(
            header.iter().any(|f| f == line),
            "001: {line:?} should be furniture: {header:?}"
        );
    }
    let html = page("001_fc82cc45bfe7d1f0.txt");
    assert!(
        !html.contains("Delhi") && !html.contains("33.1 C") && !html.contains("Most Popular"),
        "001 page shows furniture"
    );

    let tags = furniture("003_e45ffaf13237903c.txt");
    assert!(
        tags.iter()
            .any(|f| f.starts_with("special patrols coronavirus")),
        "003: tag run: {tags:?}"
    );
    let html = page("003_e45ffaf13237903c.txt");
    assert!(
        html.contains("<p class=caption id=p1>"),
        "003: the photo caption is shown as a caption"
    );
    assert!(
        html.contains("This photo was taken in"),
        "003: the caption is content"
    );
    assert!(!html.contains("special patrols coronavirus"));

    let html = page("002_66e9b49dbe3d3721.txt");
    assert!(
        html.contains("Merchant cell phone")
            && html.contains("A North Korean merchant using a cell phone")
    );
    assert!(
        !html.contains("Image: Daily NK"),
        "002: the photo credit is furniture"
    );
    // Wrapped lines of 004 are joined into paragraphs, not dropped.
    let html = page("004_02f5e66cf518de1b.txt");
    assert!(
        html.contains("through with actual arrests"),
        "004: a wrapped line was lost"
    );
}

#[test]
fn every_required_entity_and_year_page_links_to_the_article_paragraph() {
    let (site, data) = built_seeds();
    let expected = expected();
    let public = site.path().join("public");
    for (file, want) in expected["articles"].as_object().expect("articles") {
        let got = article(&data, file);
        let url = got["url"].as_str().expect("url");
        let slug = url.trim_start_matches("articles/");
        let entities = data["entities"].as_array().expect("entities");
        for kind in ["places", "agencies", "people", "laws"] {
            for name in want[kind]["required"].as_array().into_iter().flatten() {
                let name = name.as_str().expect("name");
                let entity = entities
                    .iter()
                    .find(|e| e["name"] == name)
                    .unwrap_or_else(|| panic!("{name} has no entity"));
                let page =
                    std::fs::read_to_string(public.join(entity["url"].as_str().expect("url")))
                        .expect("entity page");
                assert!(
                    page.contains(&format!("../articles/{slug}#p")),
                    "{name}'s page does not link to a paragraph of {file}"
                );
            }
        }
        for year in want["years"]["required"].as_array().into_iter().flatten() {
            let page = std::fs::read_to_string(public.join(format!("years/{year}.html")))
                .expect("year page");
            assert!(
                page.contains(&format!("../articles/{slug}")),
                "year {year} does not link to {file}"
            );
        }
    }
}
