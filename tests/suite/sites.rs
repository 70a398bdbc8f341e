//! Fixture sites: front matter, Markdown, overrides, drafts, determinism, themes.

use regex::Regex;

use crate::common::{append_to_site_toml, build, fixture, read_json, snapshot};

fn article<'a>(data: &'a serde_json::Value, suffix: &str) -> &'a serde_json::Value {
    data["articles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["source"].as_str().unwrap().ends_with(suffix))
        .unwrap()
}

#[test]
fn front_matter_wins_and_overrides_apply() {
    let site = fixture("basic");
    let report = build(site.path());
    assert_eq!(report.articles, 3);
    assert_eq!(report.drafts, 1);
    let data = read_json(&site.path().join("public/dossier.json"));

    let arrests = article(&data, "arrests.md");
    assert_eq!(arrests["title"], "Arrests in Hoeryong");
    assert_eq!(arrests["date"], "2024-03-05");
    assert_eq!(
        arrests["places"],
        serde_json::json!(["Hoeryong", "Hyesan", "North Hamgyong Province"])
    );
    assert_eq!(
        arrests["agencies"],
        serde_json::json!(["Ministry of State Security"])
    );
    assert_eq!(arrests["years"], serde_json::json!([2024]));

    let exported = article(&data, "exported.md");
    assert_eq!(exported["date"], "2023-11-02");
    assert_eq!(
        exported["places"],
        serde_json::json!([]),
        "exclude drops Hyesan"
    );
    assert_eq!(
        exported["agencies"],
        serde_json::json!(["Ministry of State Security"]),
        "Bowibu is an alias"
    );
    assert_eq!(exported["extra"]["layout"], "post");

    let scraped = article(&data, "scraped.txt");
    assert_eq!(scraped["title"], "Crackdown widens in the border region");
    assert_eq!(scraped["date"], serde_json::Value::Null);
    assert_eq!(scraped["people"], serde_json::json!(["Pak"]));
    assert_eq!(scraped["years"], serde_json::json!([2022]));
    assert!(!site.path().join("public/articles/draft.html").exists());
}

#[test]
fn markdown_is_rendered_and_raw_html_is_not() {
    let site = fixture("basic");
    build(site.path());
    let html = std::fs::read_to_string(site.path().join("public/articles/arrests.html")).unwrap();
    assert!(html.contains("<strong>"), "Markdown emphasis is rendered");
    assert!(
        !html.contains("<script>alert"),
        "raw HTML must not pass through"
    );
    assert!(
        html.contains("&lt;script>") || html.contains("&lt;script&gt;"),
        "raw HTML is shown as text"
    );
    assert!(
        html.contains("<p id=p1>") && html.contains("<p id=p2>"),
        "paragraph ids"
    );
    assert!(
        Regex::new(r#"href="?\.\./places/hoeryong\.html"?>Hoeryong</a>"#)
            .unwrap()
            .is_match(&html),
        "mentions link to their entity"
    );
}

#[test]
fn builds_are_byte_identical() {
    let one = fixture("basic");
    let two = fixture("basic");
    build(one.path());
    build(two.path());
    let (a, b) = (
        snapshot(&one.path().join("public")),
        snapshot(&two.path().join("public")),
    );
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (path, bytes) in &a {
        assert!(
            bytes == &b[path],
            "{} differs between two builds",
            path.display()
        );
    }
    // Rebuilding in place gives the same bytes too.
    build(one.path());
    assert_eq!(snapshot(&one.path().join("public")), a);
}

#[test]
fn a_theme_overrides_one_template_and_inherits_the_rest() {
    let site = fixture("basic");
    let config = std::fs::read_to_string(site.path().join("site.toml")).unwrap();
    std::fs::write(
        site.path().join("site.toml"),
        config.replace(
            "title = \"Basic fixture\"",
            "title = \"Basic fixture\"\ntheme = \"plain\"",
        ),
    )
    .unwrap();
    let templates = site.path().join("themes/plain/templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("year_index.html"),
        "{% extends \"base.html\" %}{% block content %}<p>Custom years</p>{% endblock content %}",
    )
    .unwrap();
    build(site.path());
    let years = std::fs::read_to_string(site.path().join("public/years/index.html")).unwrap();
    assert!(years.contains("Custom years"));
    assert!(site.path().join("public/places/hoeryong.html").is_file());

    std::fs::write(templates.join("year.html"), "{% extends \"base.html\" %}\n{% block content %}\n{{ year | no_such_filter }}\n{% endblock content %}").unwrap();
    let problems = dossier::build(site.path(), None, dossier::Mode::Check).unwrap_err();
    assert!(
        problems[0]
            .to_string()
            .contains("themes/plain/templates/year.html")
            || problems[0].to_string().contains("year.html"),
        "{}",
        problems[0]
    );
}

#[test]
fn entities_command_lists_counts_and_unknown_names() {
    let site = fixture("basic");
    let root = site.path().to_str().unwrap();
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_dossier"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let listed = run(&["entities", "--root", root]);
    assert!(listed.contains("place\tHoeryong\t2\t"), "{listed}");
    assert!(listed.contains("person\tPak\t1\t2\tno"), "{listed}");
    let unknown = run(&["entities", "--unknown", "--root", root]);
    assert!(
        unknown.contains("person\tPak\tcontent/articles/scraped.txt"),
        "{unknown}"
    );
    assert!(
        unknown.contains("name\tOnsong County\tcontent/articles/scraped.txt"),
        "{unknown}"
    );
}

#[test]
fn home_and_province_pages_carry_the_timeline_and_the_map() {
    let site = fixture("basic");
    build(site.path());
    let home = std::fs::read_to_string(site.path().join("public/index.html")).unwrap();
    assert!(home.contains("Articles published per year"), "timeline");
    assert!(
        Regex::new(r#"<a href="?years/2024\.html"?><rect"#)
            .unwrap()
            .is_match(&home),
        "timeline bars link to years"
    );
    assert!(
        home.contains("class=land") || home.contains("class=\"land\""),
        "map outline"
    );
    assert!(
        Regex::new(r#"<a href="?places/hoeryong\.html"?><circle"#)
            .unwrap()
            .is_match(&home),
        "Hoeryong has coordinates in the fixture"
    );
    let province = std::fs::read_to_string(
        site.path()
            .join("public/places/north-hamgyong-province.html"),
    )
    .unwrap();
    assert!(
        Regex::new(r#"<a href="?\.\./places/hoeryong\.html"?><circle"#)
            .unwrap()
            .is_match(&province),
        "province map shows its cities"
    );
    let hyesan = std::fs::read_to_string(site.path().join("public/places/hyesan.html")).unwrap();
    assert!(!hyesan.contains("<circle"), "no coordinates, no map");
}

#[test]
fn sanitized_raw_html_keeps_safe_markup_and_drops_the_rest() {
    let site = fixture("hostile");
    append_to_site_toml(site.path(), "\n[markdown]\nraw_html = \"sanitize\"\n");
    std::fs::write(
        site.path().join("content/articles/safe.md"),
        "Some <b>bold</b> and <em>emphasis</em> in Hoeryong.\n",
    )
    .unwrap();
    build(site.path());
    let safe = std::fs::read_to_string(site.path().join("public/articles/safe.html")).unwrap();
    assert!(
        safe.contains("<b>bold</b>") && safe.contains("<em>emphasis</em>"),
        "safe tags render"
    );
    assert!(
        Regex::new(r#"href="?\.\./places/hoeryong\.html"#)
            .unwrap()
            .is_match(&safe),
        "mention links survive sanitizing"
    );
    let page = std::fs::read_to_string(site.path().join("public/articles/markdown.html")).unwrap();
    // Planted text may still be shown as text; what must not survive is markup that runs.
    let body = &page[page.find("<body").unwrap()..];
    assert_eq!(
        body.matches("<script").count(),
        1,
        "only the page's own focus.js script"
    );
    let handler = regex::Regex::new(r"<[a-zA-Z][^>]*\son[a-z]+=").unwrap();
    assert!(
        !handler.is_match(body),
        "an event handler survived: {:?}",
        handler.find(body)
    );
    assert!(
        !body.contains("href=javascript") && !body.contains("href=\"javascript"),
        "a script link survived"
    );
    assert!(
        !body.contains("<iframe") && !body.contains("<svg onload"),
        "a frame or SVG handler survived"
    );
    let bad_value = dossier::config::parse(
        site.path(),
        "title = \"x\"\n[markdown]\nraw_html = \"trust\"\n",
    )
    .unwrap_err();
    assert_eq!(bad_value.sorted()[0].line, Some(3));
}

#[test]
fn each_articles_entities_are_listed_once_as_extraction_found_them() {
    // The basic site adds an entity in front matter; the project's own is the seed dossier.
    let basic = fixture("basic");
    for root in [basic.path().to_path_buf(), crate::common::manifest_dir()] {
        let analysis = dossier::analyze(&root, false).expect("the site builds");
        let dossier = &analysis.dossier;
        assert!(!dossier.articles.is_empty());
        for (index, article) in dossier.articles.iter().enumerate() {
            let listed: Vec<_> = dossier.entities_of(index).collect();
            assert_eq!(
                listed,
                article.metadata.entities(),
                "{}",
                article.path.display()
            );
        }
    }
    let analysis = dossier::analyze(basic.path(), false).expect("the basic site builds");
    assert!(
        analysis
            .dossier
            .articles
            .iter()
            .any(|a| !a.metadata.added.is_empty())
    );
}

/// In an archive whose articles all name the same place, more of them than the limit above
/// which an entity no longer tells articles apart, every article still lists related articles:
/// those that name it nearest in date.
#[test]
fn articles_that_share_only_a_common_entity_list_their_nearest_in_date() {
    let site = tempfile::tempdir().unwrap();
    let root = site.path();
    let basic = fixture("basic");
    std::fs::copy(basic.path().join("site.toml"), root.join("site.toml")).unwrap();
    crate::common::copy_tree(
        &basic.path().join("content/entities"),
        &root.join("content/entities"),
    );
    let articles = root.join("content/articles");
    std::fs::create_dir_all(&articles).unwrap();
    let first = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    let count = 520;
    for i in 0..count {
        let date = first + chrono::Days::new(i);
        std::fs::write(
            articles.join(format!("a{i:03}.md")),
            format!("+++\ntitle = \"Report {i}\"\ndate = {date}\n+++\nPolice in Hyesan checked phones.\n"),
        )
        .unwrap();
    }
    build(root);
    let links = Regex::new(r#"<li><a href="\.\./articles/(a\d{3})\.html""#).unwrap();
    let related = |i: u64| -> Vec<String> {
        let page =
            std::fs::read_to_string(root.join(format!("public/articles/a{i:03}.html"))).unwrap();
        let (_, list) = page
            .split_once("Related articles")
            .unwrap_or_else(|| panic!("a{i:03} lists no related articles"));
        (links.captures_iter(list))
            .map(|c| c[1].to_string())
            .take(5)
            .collect()
    };
    // The two days before and after, then the third after (the newer of the two third ones).
    assert_eq!(related(260), ["a261", "a259", "a262", "a258", "a263"]);
    // The newest: the five days before it.
    assert_eq!(related(count - 1), ["a518", "a517", "a516", "a515", "a514"]);
}

#[test]
fn a_markdown_publication_line_dates_an_article_whose_front_matter_does_not() {
    let site = fixture("basic");
    let articles = site.path().join("content/articles");
    std::fs::write(
        articles.join("dated-by-line.md"),
        "# Phones seized in Hyesan\n\nJune 03, 2024 at 08:00AM\n\nGuards in Hyesan seized \
         phones.\n",
    )
    .unwrap();
    std::fs::write(
        articles.join("timeline.md"),
        "+++\ndate = 2023-01-02\n+++\n# A timeline\n\nMay 3, 2019\n\nGuards in Hyesan seized \
         phones.\n",
    )
    .unwrap();
    build(site.path());
    let data = read_json(&site.path().join("public/dossier.json"));

    // The line is the date, and leaves the body as a plain-text article's does.
    assert_eq!(article(&data, "dated-by-line.md")["date"], "2024-06-03");
    let page =
        std::fs::read_to_string(site.path().join("public/articles/dated-by-line.html")).unwrap();
    assert!(!page.contains("08:00AM"), "{page}");
    // With a date in front matter, a date paragraph of a Markdown article is the author's text.
    assert_eq!(article(&data, "timeline.md")["date"], "2023-01-02");
    let page = std::fs::read_to_string(site.path().join("public/articles/timeline.html")).unwrap();
    assert!(page.contains("<p id=p1>May 3, "), "{page}");
}

#[test]
fn articles_reached_through_links_are_read_as_the_others() {
    let site = fixture("basic");
    let articles = site.path().join("content/articles");
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::create_dir(elsewhere.path().join("folder")).unwrap();
    std::fs::write(
        elsewhere.path().join("folder/linked-folder.md"),
        "# Phones seized in Hyesan\n\nGuards in Hyesan seized phones.\n",
    )
    .unwrap();
    std::fs::write(
        elsewhere.path().join("linked-file.md"),
        "# Arrests in Hoeryong\n\nGuards in Hoeryong arrested phone users.\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(elsewhere.path().join("folder"), articles.join("folder")).unwrap();
    std::os::unix::fs::symlink(
        elsewhere.path().join("linked-file.md"),
        articles.join("linked-file.md"),
    )
    .unwrap();
    let report = build(site.path());
    assert_eq!(report.articles, 5, "the fixture's three and the two linked");
    let data = read_json(&site.path().join("public/dossier.json"));
    assert_eq!(
        article(&data, "linked-folder.md")["places"],
        serde_json::json!(["Hyesan"])
    );
    assert_eq!(
        article(&data, "linked-file.md")["places"],
        serde_json::json!(["Hoeryong"])
    );
}
