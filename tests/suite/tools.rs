//! The editor's tools: `new`, `init`, exports, feeds.

use std::process::Command;

use crate::common::{build, fixture};

fn dossier(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dossier"))
        .args(args)
        .output()
        .expect("run dossier")
}

#[test]
fn init_makes_a_dossier_that_builds_and_new_adds_an_article_once() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("my dossier");
    let out = dossier(&["init", site.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(site.join("themes/default/templates/article.html").is_file());
    let report = build(&site);
    assert_eq!(report.articles, 1);
    let data = crate::common::read_json(&site.join("public/dossier.json"));
    assert_eq!(
        data["articles"][0]["places"],
        serde_json::json!(["Hoeryong", "North Hamgyong Province"])
    );

    let out = dossier(&[
        "new",
        "Arrests in Musan: a \"report\"",
        "--root",
        site.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created = String::from_utf8_lossy(&out.stdout)
        .trim()
        .trim_start_matches("created ")
        .to_string();
    assert!(
        created.ends_with("-arrests-in-musan-a-report.md"),
        "{created}"
    );
    assert_eq!(build(&site).articles, 2);
    let data = crate::common::read_json(&site.join("public/dossier.json"));
    assert!(
        data["articles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["title"] == "Arrests in Musan: a \"report\"")
    );

    let again = dossier(&[
        "new",
        "Arrests in Musan: a \"report\"",
        "--root",
        site.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    let refused = dossier(&["init", site.to_str().unwrap()]);
    assert_eq!(
        refused.status.code(),
        Some(1),
        "init refuses a folder with files"
    );
}

#[test]
fn exports_sit_beside_dossier_json() {
    let site = fixture("basic");
    build(site.path());
    let public = site.path().join("public");
    let articles = std::fs::read_to_string(public.join("articles.csv")).unwrap();
    assert!(articles.starts_with(
        "url,file,title,title_derived,date,source,places,agencies,people,laws,years\n"
    ));
    assert!(articles.contains("articles/arrests.html,content/articles/2024/arrests.md,Arrests in Hoeryong,false,2024-03-05"));
    let mentions = std::fs::read_to_string(public.join("mentions.csv")).unwrap();
    assert!(mentions.contains("articles/scraped.html,person,Pak,1,Pak,Agents of the Ministry of State Security detained a broker surnamed Pak in Hoeryong in May 2022."), "{mentions}");
    let entities = std::fs::read_to_string(public.join("entities.csv")).unwrap();
    assert!(entities.contains("places/hoeryong.html,place,Hoeryong,city,North Hamgyong Province,Hoeryong City,42.44,129.75"));
    let ftm = std::fs::read_to_string(public.join("entities.ftm.json")).unwrap();
    let lines: Vec<serde_json::Value> = ftm
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.iter().any(|l| l["schema"] == "PublicBody"
        && l["properties"]["name"][0] == "Ministry of State Security"));
    assert!(lines.iter().any(|l| l["schema"] == "Documentation"
        && l["properties"]["entity"][0] == "dossier-place-hoeryong"));
}

#[test]
fn feeds_need_a_base_url_and_then_use_it() {
    let site = fixture("basic");
    let out = dossier(&["build", "--root", site.path().to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("note: no base_url"));
    assert!(!site.path().join("public/feed.xml").exists());
    let pages_before = crate::common::snapshot(&site.path().join("public"));

    let config = std::fs::read_to_string(site.path().join("site.toml")).unwrap();
    std::fs::write(
        site.path().join("site.toml"),
        config.replace(
            "title = \"Basic fixture\"",
            "title = \"Basic fixture\"\nbase_url = \"https://example.org/dossier\"",
        ),
    )
    .unwrap();
    build(site.path());
    let feed = std::fs::read_to_string(site.path().join("public/feed.xml")).unwrap();
    assert!(
        feed.contains("<link href=\"https://example.org/dossier/articles/arrests.html\"/>"),
        "{feed}"
    );
    assert!(feed.contains("<updated>2024-03-05T00:00:00Z</updated>"));
    assert!(site.path().join("public/places/hoeryong.xml").is_file());
    let sitemap = std::fs::read_to_string(site.path().join("public/sitemap.xml")).unwrap();
    assert!(sitemap.contains("<loc>https://example.org/dossier/places/hoeryong.html</loc>"));
    let robots = std::fs::read_to_string(site.path().join("public/robots.txt")).unwrap();
    assert!(robots.contains("Sitemap: https://example.org/dossier/sitemap.xml"));
    // No page depends on base_url: every page is the same with and without it.
    let pages_after = crate::common::snapshot(&site.path().join("public"));
    for (path, bytes) in pages_before
        .iter()
        .filter(|(p, _)| p.extension().is_some_and(|x| x == "html"))
    {
        assert!(
            pages_after.get(path) == Some(bytes),
            "{} changed with base_url",
            path.display()
        );
    }
}
