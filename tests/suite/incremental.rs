//! Rebuilds: files whose bytes are unchanged are carried over from the previous output, and the
//! result is the same as a full build; a cache that no longer describes the output is not trusted.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::common::{build, copy_tree, fixture, snapshot};

const NEW_ARTICLE: &str = "+++
title = \"Phones seized in Musan\"
date = 2024-06-02
+++
Border guards seized Chinese phones in Musan in May 2024, a source in North Hamgyong said.
";

/// Adds the article `content/articles/2024/<name>.md` to `site`, with front matter.
fn add_article(site: &Path, name: &str, title: &str, date: &str, body: &str) {
    std::fs::write(
        site.join(format!("content/articles/2024/{name}.md")),
        format!("+++\ntitle = \"{title}\"\ndate = {date}\n+++\n{body}\n"),
    )
    .unwrap();
}

/// Renames the `basic` fixture at `site` to "Renamed dossier" in its `site.toml`: every page
/// shows the title, so every page is made again.
fn rename_basic_site(site: &Path) {
    let config = site.join("site.toml");
    let settings = std::fs::read_to_string(&config).unwrap();
    let renamed = settings.replacen("Basic fixture", "Renamed dossier", 1);
    assert_ne!(renamed, settings);
    std::fs::write(&config, renamed).unwrap();
}

/// Cuts the search index of `site` into segments of two articles, so that a few articles make
/// several segments.
fn cut_search_index_in_twos(site: &Path) {
    let config = site.join("site.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[search]\nsegment_articles = 2\n");
    std::fs::write(&config, text).unwrap();
}

fn inode(path: &Path) -> u64 {
    std::fs::metadata(path).expect("metadata").ino()
}

/// A full build of `site` from nothing: no cache, no previous output, written to `out`.
fn full_build(site: &Path, out: &Path) {
    let cache = site.join(dossier::CACHE_FOLDER);
    let _ = std::fs::remove_dir_all(&cache);
    dossier::build(site, Some(out), dossier::Mode::Build).expect("full build");
}

/// Asserts that the output of `site` is byte for byte that of a full build of it.
fn assert_output_equals_a_full_build(site: &Path) {
    let fresh = tempfile::tempdir().unwrap();
    let fresh_out = fresh.path().join("public");
    full_build(site, &fresh_out);
    assert!(
        snapshot(&site.join("public")) == snapshot(&fresh_out),
        "a rebuild must equal a full build byte for byte"
    );
}

#[test]
fn adding_an_article_rewrites_only_changed_files_and_matches_a_full_build() {
    let site = fixture("basic");
    let first = build(site.path());
    let written = first.written.expect("a build writes");
    assert_eq!(written.carried, 0, "nothing to carry over on a first build");
    let public = site.path().join("public");
    let style = public.join("static/style.css");
    let style_inode = inode(&style);
    let article = public.join("articles/arrests.html");
    let article_before = std::fs::read(&article).unwrap();

    // The same content again: every file is carried over, none written.
    let again = build(site.path()).written.unwrap();
    assert_eq!(
        again.written, 0,
        "an unchanged site writes nothing: {again:?}"
    );
    assert_eq!(again.carried, first.pages);

    std::fs::write(
        site.path().join("content/articles/2024/musan.md"),
        NEW_ARTICLE,
    )
    .unwrap();
    let after = build(site.path());
    let stats = after.written.unwrap();
    assert!(public.join("articles/musan.html").is_file());
    assert!(stats.written > 0 && stats.carried > 0, "{stats:?}");
    assert_eq!(stats.written + stats.carried, after.pages);
    // Unchanged bytes keep their file: the stylesheet is the very same inode.
    assert_eq!(
        inode(&style),
        style_inode,
        "unchanged files are not rewritten"
    );
    // A page whose bytes changed (its newer/older links now include the new article) is new.
    assert_ne!(std::fs::read(&article).unwrap(), article_before);
    // The replaced files, set aside while the new ones were moved in, are gone, and so is the
    // staging folder: only the output and the cache are left beside the content.
    let mut beside: Vec<String> = std::fs::read_dir(site.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".public"))
        .collect();
    beside.sort();
    assert_eq!(beside, [".public.lock"], "left beside the output");

    let fresh = tempfile::tempdir().unwrap();
    let fresh_out = fresh.path().join("public");
    full_build(site.path(), &fresh_out);
    assert!(
        snapshot(&public) == snapshot(&fresh_out),
        "an incremental rebuild must equal a full build byte for byte"
    );
}

#[test]
fn an_output_file_changed_by_hand_is_rewritten() {
    let site = fixture("basic");
    build(site.path());
    let public = site.path().join("public");
    let page = public.join("index.html");
    let original = std::fs::read(&page).unwrap();
    // Same length, different bytes: only the file's time and inode can tell.
    let mut tampered = original.clone();
    tampered[0] = if tampered[0] == b'x' { b'y' } else { b'x' };
    std::fs::remove_file(&page).unwrap();
    std::fs::write(&page, &tampered).unwrap();
    build(site.path());
    assert_eq!(std::fs::read(&page).unwrap(), original);
}

/// The basic fixture built once: the site, its output folder, and the output's files.
fn built_basic_site() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    std::collections::BTreeMap<std::path::PathBuf, Vec<u8>>,
) {
    let site = fixture("basic");
    build(site.path());
    let public = site.path().join("public");
    let expected = snapshot(&public);
    (site, public, expected)
}

#[test]
fn a_damaged_extraction_cache_is_ignored_and_rewritten() {
    let (site, public, expected) = built_basic_site();
    let file = site.path().join(dossier::CACHE_FOLDER).join("extract.bin");
    let good = std::fs::read(&file).expect("the build keeps an extraction cache");
    // A flipped byte anywhere, or a cut, fails the checksum; the build extracts again and
    // writes the same site, and a sound cache again.
    for damaged in [
        {
            let mut b = good.clone();
            let middle = b.len() / 2;
            b[middle] ^= 0x20;
            b
        },
        good[..good.len() / 3].to_vec(),
        Vec::new(),
    ] {
        std::fs::write(&file, &damaged).unwrap();
        build(site.path());
        assert!(snapshot(&public) == expected);
        assert_eq!(std::fs::read(&file).unwrap(), good);
    }
}

#[test]
fn a_missing_bodies_file_means_no_cache() {
    let (site, public, expected) = built_basic_site();
    let cache = site.path().join(dossier::CACHE_FOLDER);
    let bodies = std::fs::read(cache.join("bodies.bin")).expect("the build keeps the bodies");
    std::fs::remove_file(cache.join("bodies.bin")).unwrap();
    // Every article is read and extracted again, the same site made, and both files written.
    let report = build(site.path());
    assert_eq!(report.files_read, report.articles + report.drafts);
    assert!(snapshot(&public) == expected);
    assert_eq!(std::fs::read(cache.join("bodies.bin")).unwrap(), bodies);
}

/// Changes every byte of the extraction cache's bodies file, keeping its length: a file no
/// check at load can tell from a sound one (each body's hash is checked when it is read).
fn damage_every_body(file: &Path) {
    let bytes = std::fs::read(file).expect("the build keeps the bodies of its results");
    assert!(!bytes.is_empty());
    let damaged: Vec<u8> = bytes.iter().map(|b| b ^ 0x5a).collect();
    std::fs::write(file, damaged).unwrap();
}

#[test]
fn a_cached_body_that_was_changed_is_caught_and_the_build_made_again_without_the_cache() {
    let site = fixture("basic");
    build(site.path());
    let file = site.path().join(dossier::CACHE_FOLDER).join("bodies.bin");
    damage_every_body(&file);
    let damaged = std::fs::read(&file).unwrap();
    // A new site title: every page is made again, so every body is read.
    rename_basic_site(site.path());
    let report = build(site.path());
    assert_eq!(
        report.files_read,
        report.articles + report.drafts,
        "the build was made again from the article files"
    );
    let public = site.path().join("public");
    let article = std::fs::read_to_string(public.join("articles/arrests.html")).unwrap();
    assert!(article.contains("Renamed dossier"));
    assert!(
        article.contains("id=p1"),
        "the article's paragraphs are shown"
    );
    assert_ne!(
        std::fs::read(&file).unwrap(),
        damaged,
        "the cache is made again"
    );
    let fresh = tempfile::tempdir().unwrap();
    let fresh_out = fresh.path().join("public");
    full_build(site.path(), &fresh_out);
    assert!(snapshot(&public) == snapshot(&fresh_out));
}

#[test]
fn new_results_are_appended_to_the_extraction_cache_until_many_go_unused() {
    let site = fixture("basic");
    build(site.path());
    let file = site.path().join(dossier::CACHE_FOLDER).join("extract.bin");
    let bodies = site.path().join(dossier::CACHE_FOLDER).join("bodies.bin");
    let before = std::fs::read(&file).unwrap();
    let bodies_before = std::fs::read(&bodies).unwrap();
    let file_inode = inode(&file);
    let bodies_inode = inode(&bodies);
    std::fs::write(
        site.path().join("content/articles/2024/musan.md"),
        NEW_ARTICLE,
    )
    .unwrap();
    build(site.path());
    // The one new result is appended: the same file, its entries kept byte for byte (all but
    // the old checksum, the last 16 bytes).
    let after = std::fs::read(&file).unwrap();
    assert_eq!(inode(&file), file_inode, "appended in place, not rewritten");
    assert!(after.len() > before.len());
    assert_eq!(after[..before.len() - 16], before[..before.len() - 16]);
    // Its body is appended to the bodies file, the others kept byte for byte.
    let bodies_after = std::fs::read(&bodies).unwrap();
    assert_eq!(
        inode(&bodies),
        bodies_inode,
        "appended in place, not rewritten"
    );
    assert!(bodies_after.len() > bodies_before.len());
    assert_eq!(bodies_after[..bodies_before.len()], bodies_before[..]);
    // The appended file is sound: a build trusts it and makes the same site as from nothing.
    let public = site.path().join("public");
    build(site.path());
    assert_eq!(
        std::fs::read(&file).unwrap(),
        after,
        "a sound cache is neither added to nor rewritten"
    );
    let fresh = tempfile::tempdir().unwrap();
    full_build(site.path(), &fresh.path().join("public"));
    let from_nothing = snapshot(&fresh.path().join("public"));
    assert!(snapshot(&public) == from_nothing);

    // Most articles removed: their results would be most of the file, which is rewritten with
    // the remaining results alone. The full build above remade the cache folder, so the file
    // is compared with itself as it is now: the inode it had at first is free, and the
    // rewritten file may be given it again.
    let before_removal = inode(&file);
    let articles = site.path().join("content/articles");
    let mut files: Vec<_> = walkdir::WalkDir::new(&articles)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    assert!(files.len() >= 3, "the fixture has articles to remove");
    for path in &files[1..] {
        std::fs::remove_file(path).unwrap();
    }
    build(site.path());
    assert_ne!(inode(&file), before_removal, "rewritten once mostly unused");
    assert!(std::fs::read(&file).unwrap().len() < before.len());
}

#[test]
fn a_catalogue_change_is_not_served_from_the_cache() {
    let site = fixture("basic");
    build(site.path());
    // A new alias changes what extraction finds; cached results of the old catalogue must not
    // be used.
    let catalog = site.path().join("content/entities/catalog.toml");
    let text = std::fs::read_to_string(&catalog).unwrap();
    std::fs::write(
        &catalog,
        format!("{text}\n[[agency]]\nname = \"Border Guard Bureau\"\naliases = [\"source in North Hamgyong\"]\n"),
    )
    .unwrap();
    build(site.path());
    let public = site.path().join("public");
    let fresh = tempfile::tempdir().unwrap();
    let fresh_out = fresh.path().join("public");
    full_build(site.path(), &fresh_out);
    assert!(snapshot(&public) == snapshot(&fresh_out));
    assert!(public.join("agencies/border-guard-bureau.html").is_file());
}

#[test]
fn an_edited_article_is_shown_again_on_its_page_and_where_it_is_quoted() {
    let site = fixture("basic");
    build(site.path());
    // The same title, date, entities and years: only the article's text differs.
    let article = site.path().join("content/articles/2024/arrests.md");
    let text = std::fs::read_to_string(&article).unwrap();
    assert!(text.contains("arrested five people"));
    std::fs::write(
        &article,
        text.replace("arrested five people", "arrested seven people"),
    )
    .unwrap();
    build(site.path());
    let public = site.path().join("public");
    for page in [
        "articles/arrests.html",
        "places/hoeryong.html",
        "years/2024.html",
    ] {
        let html = std::fs::read_to_string(public.join(page)).unwrap();
        assert!(html.contains("seven people"), "{page} shows the new text");
        assert!(!html.contains("five people"), "{page} drops the old text");
    }
    let fresh = tempfile::tempdir().unwrap();
    let fresh_out = fresh.path().join("public");
    full_build(site.path(), &fresh_out);
    assert!(snapshot(&public) == snapshot(&fresh_out));
}

#[test]
fn a_corrupt_or_stale_cache_is_detected_and_rebuilt() {
    let site = fixture("basic");
    build(site.path());
    let cache = site.path().join(dossier::CACHE_FOLDER);
    let manifests: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("output-"))
        })
        .collect();
    assert_eq!(manifests.len(), 1, "one output manifest: {manifests:?}");
    let public = site.path().join("public");
    let expected = snapshot(&public);

    // Corrupt: a flipped byte fails the checksum, so every file is written again.
    let mut bytes = std::fs::read(&manifests[0]).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&manifests[0], &bytes).unwrap();
    let report = build(site.path());
    assert_eq!(
        report.written.unwrap().carried,
        0,
        "a corrupt manifest is not trusted"
    );
    assert!(snapshot(&public) == expected);

    // Truncated, and then deleted: the same.
    std::fs::write(&manifests[0], b"{").unwrap();
    assert_eq!(build(site.path()).written.unwrap().carried, 0);
    std::fs::remove_dir_all(&cache).unwrap();
    assert_eq!(build(site.path()).written.unwrap().carried, 0);
    assert!(snapshot(&public) == expected);

    // Stale: the output was replaced by a copy (new inodes and times) in which another tool
    // rewrote the home page. The copied files are trusted only where their bytes, read and
    // hashed, are those recorded: the home page is made again.
    let replaced = tempfile::tempdir().unwrap();
    crate::common::copy_tree(&public, replaced.path());
    std::fs::write(replaced.path().join("index.html"), b"not the dossier").unwrap();
    std::fs::remove_dir_all(&public).unwrap();
    crate::common::copy_tree(replaced.path(), &public);
    let stats = build(site.path()).written.unwrap();
    assert!(stats.written >= 1 && stats.carried > 0, "{stats:?}");
    assert!(snapshot(&public) == expected);
}

#[test]
fn a_template_change_renders_the_pages_again() {
    let site = fixture("basic");
    build(site.path());
    let public = site.path().join("public");
    let article = public.join("articles/arrests.html");
    assert!(!String::from_utf8_lossy(&std::fs::read(&article).unwrap()).contains("Edited theme"));
    // The same data under another article template: a page kept because its data did not change
    // would still show the old template.
    let (_, built_in) = dossier::theme::built_in_templates()
        .iter()
        .find(|(name, _)| *name == "article.html")
        .expect("a built-in article template");
    let templates = site.path().join("themes/default/templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("article.html"),
        built_in.replacen(
            "{% block content %}",
            "{% block content %}<p>Edited theme</p>",
            1,
        ),
    )
    .unwrap();
    build(site.path());
    assert!(String::from_utf8_lossy(&std::fs::read(&article).unwrap()).contains("Edited theme"));
    let fresh = tempfile::tempdir().unwrap();
    let fresh_out = fresh.path().join("public");
    full_build(site.path(), &fresh_out);
    assert!(snapshot(&public) == snapshot(&fresh_out));
}

#[test]
fn a_site_title_change_renders_every_page_again_and_keeps_unchanged_exports() {
    let site = fixture("basic");
    build(site.path());
    let public = site.path().join("public");
    let article = public.join("articles/arrests.html");
    rename_basic_site(site.path());
    let export = public.join("articles.csv");
    let export_inode = inode(&export);
    // The article's own data is unchanged, but every page shows the site's title: a page kept
    // because its data alone did not change would still show the old one.
    build(site.path());
    assert!(String::from_utf8_lossy(&std::fs::read(&article).unwrap()).contains("Renamed dossier"));
    // The exports are made again (the settings changed) but come out the same: the file in
    // place is kept, not rewritten.
    assert_eq!(inode(&export), export_inode, "an unchanged export is kept");
    let fresh = tempfile::tempdir().unwrap();
    let fresh_out = fresh.path().join("public");
    full_build(site.path(), &fresh_out);
    assert!(snapshot(&public) == snapshot(&fresh_out));
}

#[test]
fn a_rebuild_in_place_removes_what_the_build_no_longer_makes() {
    let site = fixture("basic");
    build(site.path());
    let public = site.path().join("public");
    let style_inode = inode(&public.join("static/style.css"));
    // Files the build never made, and the source of a page that it did.
    std::fs::write(public.join("notes.txt"), b"left by hand").unwrap();
    std::fs::create_dir_all(public.join("extra/deeper")).unwrap();
    std::fs::write(public.join("extra/deeper/page.html"), b"<p>old</p>").unwrap();
    let article = public.join("articles/arrests.html");
    assert!(article.is_file());
    let source = walkdir::WalkDir::new(site.path().join("content/articles"))
        .into_iter()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with("arrests"))
        .expect("the source of articles/arrests.html")
        .into_path();
    std::fs::remove_file(&source).unwrap();

    let stats = build(site.path()).written.unwrap();
    assert!(
        stats.carried > 0,
        "an update keeps unchanged files: {stats:?}"
    );
    assert!(!article.exists(), "the removed article's page is gone");
    assert!(!public.join("notes.txt").exists());
    assert!(
        !public.join("extra").exists(),
        "folders left empty are removed"
    );
    assert_eq!(inode(&public.join("static/style.css")), style_inode);
    let fresh = tempfile::tempdir().unwrap();
    let fresh_out = fresh.path().join("public");
    full_build(site.path(), &fresh_out);
    assert!(snapshot(&public) == snapshot(&fresh_out));
}

#[test]
fn a_newest_or_an_oldest_article_leaves_the_other_search_fragments_as_they_were() {
    let site = fixture("basic");
    build(site.path());
    let fragments = site.path().join("public/search/d");
    let inodes = |files: &std::collections::BTreeMap<std::path::PathBuf, Vec<u8>>| -> Vec<u64> {
        files
            .keys()
            .map(|path| inode(&fragments.join(path)))
            .collect()
    };
    let before = snapshot(&fragments);
    assert!(!before.is_empty());
    let inodes_before = inodes(&before);
    // A newest article takes the next number; an oldest one moves every other article's.
    for (name, date) in [("newest", "2026-01-05"), ("oldest", "2001-01-05")] {
        add_article(
            site.path(),
            name,
            "A report",
            date,
            "Guards in Hyesan took phones.",
        );
        build(site.path());
        let after = snapshot(&fragments);
        assert!(after.contains_key(Path::new(&format!("{name}.js"))));
        for (path, bytes) in &before {
            assert!(after.get(path) == Some(bytes), "{} changed", path.display());
        }
        assert_eq!(
            inodes(&before),
            inodes_before,
            "fragments are not rewritten"
        );
    }
    assert_output_equals_a_full_build(site.path());
}

#[test]
fn a_newest_article_leaves_the_full_search_segments_as_they_were() {
    let site = fixture("basic");
    cut_search_index_in_twos(site.path());
    // Three articles of the fixture and two more: segments of 2, 2 and 1.
    for day in 1..=2 {
        add_article(
            site.path(),
            &format!("report-{day}"),
            &format!("Report {day}"),
            &format!("2026-01-0{day}"),
            "Guards in Hyesan took phones.",
        );
    }
    build(site.path());
    let search = site.path().join("public/search");
    let segment = |n: usize| snapshot(&search.join(format!("t/{n}")));
    let full: Vec<_> = (0..2).map(segment).collect();
    let last = segment(2);
    assert!(full.iter().all(|files| !files.is_empty()));
    // The inode of every file of the full segments.
    let inodes = || -> Vec<u64> {
        let mut all = Vec::new();
        for (n, files) in full.iter().enumerate() {
            for path in files.keys() {
                all.push(inode(&search.join(format!("t/{n}")).join(path)));
            }
        }
        all
    };
    let inodes_before = inodes();
    add_article(
        site.path(),
        "newest",
        "Newest report",
        "2026-02-01",
        "Guards in Musan took phones from brokers.",
    );
    build(site.path());
    assert_eq!((0..2).map(segment).collect::<Vec<_>>(), full);
    assert_eq!(
        inodes(),
        inodes_before,
        "the full segments' files are not rewritten"
    );
    assert_ne!(segment(2), last, "the last segment takes the new article");
    assert_output_equals_a_full_build(site.path());
}

#[test]
fn an_article_naming_a_new_entity_leaves_the_other_articles_search_files_and_lines_as_they_were() {
    let site = fixture("basic");
    cut_search_index_in_twos(site.path());
    build(site.path());
    let ftm = site.path().join("public/entities.ftm.json");
    let ftm_before = std::fs::read_to_string(&ftm).unwrap();
    let search = site.path().join("public/search");
    let fragments = snapshot(&search.join("d"));
    let sets = snapshot(&search.join("f"));
    let full_segment = snapshot(&search.join("t/0"));
    assert!(!fragments.is_empty() && !sets.is_empty() && !full_segment.is_empty());
    // A person the catalogue lacks, found by rule, whose name sorts before every other entity
    // of their kind, in an article of a year no other article is of: both are new filter
    // values among the old ones. Its file comes last, as do its lines in the exports.
    std::fs::write(
        site.path().join("content/articles/zz-newest.md"),
        "+++\ntitle = \"Smuggler questioned\"\ndate = 2027-01-05\n+++\n\
         Guards questioned a smuggler surnamed Aeng about a phone.\n",
    )
    .unwrap();
    build(site.path());
    let people = site.path().join("public/people");
    assert!(
        people.join("aeng.html").is_file(),
        "the new person has a page"
    );
    let fragments_after = snapshot(&search.join("d"));
    let sets_after = snapshot(&search.join("f"));
    assert_eq!(fragments_after.len(), fragments.len() + 1);
    for (path, bytes) in &fragments {
        assert!(
            fragments_after.get(path) == Some(bytes),
            "fragment {} changed",
            path.display()
        );
    }
    assert_eq!(
        sets_after.len(),
        sets.len() + 2,
        "new sets: the person, 2027"
    );
    for (path, bytes) in &sets {
        assert!(
            sets_after.get(path) == Some(bytes),
            "set {} changed",
            path.display()
        );
    }
    assert_eq!(snapshot(&search.join("t/0")), full_segment);
    // The other articles' lines of the FollowTheMoney export stay where they were: the
    // entities' lines, one more now, come after them.
    let article_lines: String = (ftm_before.split_inclusive('\n'))
        .take_while(|line| {
            line.contains("\"schema\":\"Article\"") || line.contains("\"Documentation\"")
        })
        .collect();
    assert!(article_lines.contains("dossier-article-scraped"));
    let ftm_after = std::fs::read_to_string(&ftm).unwrap();
    assert!(ftm_after.starts_with(&article_lines), "{ftm_after}");
    assert!(ftm_after.contains("\"id\":\"dossier-person-aeng\""));
    assert_output_equals_a_full_build(site.path());
}

#[test]
fn an_output_restored_with_new_inodes_is_carried_over_where_its_bytes_are_the_same() {
    let site = fixture("basic");
    // Enough files that the restored ones are read on threads of their own.
    for n in 0..40 {
        add_article(
            site.path(),
            &format!("report-{n}"),
            &format!("Report {n}"),
            "2024-02-01",
            "Guards in Hyesan took phones.",
        );
    }
    let first = build(site.path());
    assert!(first.pages > 2 * 64, "{} files", first.pages);
    // A CI cache restores public/ and the cache folder as copies: the same bytes in new files.
    let restore = |name: &str| {
        let folder = site.path().join(name);
        let saved = site.path().join(format!("{name}.saved"));
        std::fs::rename(&folder, &saved).unwrap();
        copy_tree(&saved, &folder);
        std::fs::remove_dir_all(&saved).unwrap();
    };
    restore("public");
    restore(dossier::CACHE_FOLDER);
    // One page of the copy is changed, its size kept: it alone is made and written again.
    let public = site.path().join("public");
    let edited = public.join("articles/arrests.html");
    let original = std::fs::read(&edited).unwrap();
    let mut changed = original.clone();
    let at = changed.len() / 2;
    changed[at] = if changed[at] == b'x' { b'y' } else { b'x' };
    std::fs::write(&edited, &changed).unwrap();
    // So is one byte of an article's lines in an export: that article's lines alone are made
    // again, the others copied from the restored file, each once its bytes hash as listed.
    let mentions = public.join("mentions.csv");
    let mut lines = std::fs::read(&mentions).unwrap();
    let at = lines.len() * 2 / 3;
    lines[at] = if lines[at] == b'x' { b'y' } else { b'x' };
    std::fs::write(&mentions, &lines).unwrap();
    let inodes: Vec<(std::path::PathBuf, u64)> = snapshot(&public)
        .into_keys()
        .map(|path| {
            let number = inode(&public.join(&path));
            (path, number)
        })
        .collect();

    let again = build(site.path());
    let stats = again.written.unwrap();
    assert_eq!(again.pages, first.pages);
    assert_eq!(std::fs::read(&edited).unwrap(), original);
    assert_eq!(again.export_parts.made, 1, "{:?}", again.export_parts);
    assert!(again.export_parts.reused > 0, "{:?}", again.export_parts);
    // Written: the changed page, and the exports, which are written in parts and hashed by
    // their parts, so that reading them whole cannot vouch for them.
    let exports = [
        "dossier.json",
        "articles.csv",
        "entities.csv",
        "mentions.csv",
        "entities.ftm.json",
    ];
    assert!(stats.written <= 1 + exports.len(), "{stats:?}");
    for (path, number) in &inodes {
        let exported = exports.iter().any(|name| path == Path::new(name));
        if path.as_path() != Path::new("articles/arrests.html") && !exported {
            assert_eq!(
                inode(&public.join(path)),
                *number,
                "{} was rewritten",
                path.display()
            );
        }
    }
    // The next build finds every file under its new stamp.
    let settled = build(site.path()).written.unwrap();
    assert_eq!(settled.written, 0, "{settled:?}");
    assert_output_equals_a_full_build(site.path());
}

#[test]
fn new_articles_leave_the_filter_sets_without_them_as_they_were() {
    let site = fixture("basic");
    // A dozen articles naming Hyesan make its set dense enough to be sent as a bitmap.
    for day in 1..=12 {
        add_article(
            site.path(),
            &format!("hyesan-{day}"),
            &format!("Hyesan {day}"),
            &format!("2026-01-{day:02}"),
            "Guards in Hyesan took phones.",
        );
    }
    build(site.path());
    let sets = site.path().join("public/search/f");
    let before = snapshot(&sets);
    assert!(
        before
            .values()
            .any(|bytes| String::from_utf8_lossy(bytes).contains("\"bits\"")),
        "a set is a bitmap"
    );
    // Eight newer articles naming nothing in the catalogue: a bitmap spanning every article
    // would grow by a byte and change.
    for day in 1..=8 {
        add_article(
            site.path(),
            &format!("newer-{day}"),
            &format!("Report {day}"),
            &format!("2027-01-0{day}"),
            "Phones were taken.",
        );
    }
    build(site.path());
    let after = snapshot(&sets);
    assert_eq!(after.len(), before.len() + 1, "one new set, for 2027");
    for (path, bytes) in &before {
        assert!(after.get(path) == Some(bytes), "{} changed", path.display());
    }
}

#[test]
fn a_newest_article_leaves_the_older_pages_of_its_lists_as_they_were() {
    let site = fixture("basic");
    // 120 articles naming Hyesan: its page lists them 50 to a page.
    for n in 0..120 {
        let (month, day) = (1 + n / 28, 1 + n % 28);
        add_article(
            site.path(),
            &format!("hyesan-{n}"),
            &format!("Hyesan report {n}"),
            &format!("2023-{month:02}-{day:02}"),
            "Guards in Hyesan took phones.",
        );
    }
    build(site.path());
    let places = site.path().join("public/places");
    let pages = |folder: &Path| -> std::collections::BTreeMap<_, _> {
        snapshot(folder)
            .into_iter()
            .filter(|(path, _)| path.to_string_lossy().contains("hyesan."))
            .collect()
    };
    let before = pages(&places);
    assert!(
        before.len() >= 3,
        "a first page and numbered ones: {:?}",
        before.keys()
    );
    add_article(
        site.path(),
        "hyesan-newest",
        "Newest from Hyesan",
        "2024-12-30",
        "Guards in Hyesan took phones.",
    );
    build(site.path());
    let after = pages(&places);
    assert_eq!(after.len(), before.len());
    for (path, bytes) in &before {
        let is_first = path.file_name().is_some_and(|n| n == "hyesan.html");
        assert_eq!(
            after.get(path) != Some(bytes),
            is_first,
            "{}: only the first page changes",
            path.display()
        );
    }
}

#[test]
fn a_search_or_export_file_changed_by_hand_is_made_again() {
    let (site, public, expected) = built_basic_site();
    // The search index and the exports are kept whole when the dossier is unchanged, so one
    // edited file must make the whole group again.
    for file in ["search/manifest.js", "dossier.json"] {
        let path = public.join(file);
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, b"edited").unwrap();
        let stats = build(site.path()).written.unwrap();
        assert!(stats.written >= 1, "{file}: {stats:?}");
        assert!(snapshot(&public) == expected, "{file} was not restored");
    }
}

#[test]
fn a_theme_stylesheet_change_is_not_kept_from_the_previous_build() {
    let site = fixture("basic");
    build(site.path());
    let public = site.path().join("public");
    // The pages are kept whole while nothing they are made from changes; the theme's static
    // files are among those things.
    let (_, built_in) = dossier::theme::built_in_static()
        .iter()
        .find(|(name, _)| *name == "style.css")
        .expect("a built-in stylesheet");
    let folder = site.path().join("themes/default/static");
    std::fs::create_dir_all(&folder).unwrap();
    // Same length, other bytes: only the bytes can tell.
    assert!(built_in.contains("body"));
    std::fs::write(
        folder.join("style.css"),
        built_in.replacen("body", "BODY", 1),
    )
    .unwrap();
    build(site.path());
    let css = std::fs::read_to_string(public.join("static/style.css")).unwrap();
    assert!(css.contains("BODY"), "the new stylesheet is in the output");
    let fresh = tempfile::tempdir().unwrap();
    let fresh_out = fresh.path().join("public");
    full_build(site.path(), &fresh_out);
    assert!(snapshot(&public) == snapshot(&fresh_out));
}

/// The export files of the output at `out`, by name.
fn exports_of(out: &Path) -> Vec<(String, Vec<u8>)> {
    [
        "articles.csv",
        "entities.csv",
        "mentions.csv",
        "entities.ftm.json",
        "dossier.json",
    ]
    .iter()
    .map(|name| (name.to_string(), std::fs::read(out.join(name)).unwrap()))
    .collect()
}

/// The exports of a full build of `site` (no cache, no previous output), made in a copy of
/// it so that the site's own cache stays as it is.
fn fresh_exports(site: &Path) -> Vec<(String, Vec<u8>)> {
    let fresh = tempfile::tempdir().unwrap();
    crate::common::copy_tree(&site.join("content"), &fresh.path().join("content"));
    std::fs::copy(site.join("site.toml"), fresh.path().join("site.toml")).unwrap();
    let fresh_out = fresh.path().join("public");
    full_build(fresh.path(), &fresh_out);
    exports_of(&fresh_out)
}

#[test]
fn a_rebuild_copies_the_unchanged_articles_export_parts_from_the_last_build() {
    use dossier::export::PartStats;
    let site = fixture("basic");
    // Three articles, each with a part in four exports (entities.csv has no article parts).
    let first = build(site.path());
    assert_eq!(
        first.export_parts,
        PartStats {
            made: 12,
            reused: 0,
            in_place: 0
        }
    );
    // Unchanged: the exports are kept whole, no part is made or copied.
    assert_eq!(build(site.path()).export_parts, PartStats::default());
    std::fs::write(
        site.path().join("content/articles/2024/musan.md"),
        NEW_ARTICLE,
    )
    .unwrap();
    let after = build(site.path());
    assert_eq!(
        after.export_parts,
        PartStats {
            made: 4,
            reused: 12,
            in_place: 0
        },
        "only the new article's parts are made"
    );
    let public = site.path().join("public");
    assert!(exports_of(&public) == fresh_exports(site.path()));
    // Again on the list that rebuild wrote, where most parts were copied, not made.
    add_article(
        site.path(),
        "onsong",
        "Phones seized in Hoeryong",
        "2024-06-05",
        "Guards in Hoeryong seized phones.",
    );
    // Its exports are written over the first build's, kept as spares, where the two articles
    // before the new ones (in path order) already are, at the same places: 2 parts in each
    // of the four exports are left in place.
    let again = build(site.path());
    assert_eq!(
        again.export_parts,
        PartStats {
            made: 4,
            reused: 16,
            in_place: 8
        }
    );
    assert!(exports_of(&public) == fresh_exports(site.path()));
}

#[test]
fn export_parts_listed_for_other_files_or_damaged_are_not_copied() {
    let site = fixture("basic");
    build(site.path());
    let public = site.path().join("public");
    let parts = site.path().join(dossier::CACHE_FOLDER).join("exports.bin");
    assert!(parts.is_file(), "a build lists its export parts");
    // A build into another folder lists the parts of its own files: with an article that
    // comes first, every other part there lies elsewhere than in `public/`.
    add_article(
        site.path(),
        "aaa",
        "Phones seized in Hoeryong",
        "2024-06-03",
        "Guards in Hoeryong seized phones.",
    );
    let other = tempfile::tempdir().unwrap();
    dossier::build(
        site.path(),
        Some(&other.path().join("public")),
        dossier::Mode::Build,
    )
    .expect("build into another folder");
    std::fs::remove_file(site.path().join("content/articles/2024/aaa.md")).unwrap();
    add_article(
        site.path(),
        "musan",
        "Phones seized in Musan",
        "2024-06-02",
        "Guards in Musan.",
    );
    let after = build(site.path());
    assert_eq!(after.export_parts.reused, 0, "{:?}", after.export_parts);
    assert!(exports_of(&public) == fresh_exports(site.path()));

    // A damaged list, cut or with one byte changed, is not read at all; the next build has a
    // sound list again and uses it.
    for (round, name) in ["hyesan", "musan2"].into_iter().enumerate() {
        let good = std::fs::read(&parts).unwrap();
        let damaged = if round == 0 {
            good[..good.len() / 2].to_vec()
        } else {
            let mut flipped = good.clone();
            let middle = flipped.len() / 2;
            flipped[middle] ^= 0x01;
            flipped
        };
        add_article(
            site.path(),
            name,
            "Phones seized in Hyesan",
            "2024-06-04",
            "Guards in Hyesan.",
        );
        std::fs::write(&parts, &damaged).unwrap();
        let after = build(site.path());
        assert_eq!(
            after.export_parts.reused, 0,
            "{name}: {:?}",
            after.export_parts
        );
        assert!(exports_of(&public) == fresh_exports(site.path()));
        std::fs::remove_file(site.path().join(format!("content/articles/2024/{name}.md"))).unwrap();
        assert!(build(site.path()).export_parts.reused > 0);
        assert!(exports_of(&public) == fresh_exports(site.path()));
    }
}

#[test]
fn article_files_unchanged_since_the_last_build_are_not_read_again() {
    let site = fixture("basic");
    // Four article files, one a draft (read, not published).
    let files = 4;
    // A file's stamp vouches for its bytes only once it has not changed for 2 s.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let first = build(site.path());
    assert_eq!(first.files_read, files);
    let public = site.path().join("public");
    let before = snapshot(&public);
    let again = build(site.path());
    assert_eq!(
        again.files_read, 0,
        "every file is as the last build read it"
    );
    assert!(snapshot(&public) == before);

    // An edit that keeps the size, with the modification time set back as it was: the
    // status-change time still tells.
    let article = site.path().join("content/articles/2024/arrests.md");
    let modified = std::fs::metadata(&article).unwrap().modified().unwrap();
    let text = std::fs::read_to_string(&article).unwrap();
    assert!(text.contains("Hyesan"));
    std::fs::write(&article, text.replace("Hyesan", "Hyesam")).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&article)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    let edited = build(site.path());
    assert_eq!(edited.files_read, 1);
    let fresh = tempfile::tempdir().unwrap();
    let fresh_out = fresh.path().join("public");
    full_build(site.path(), &fresh_out);
    let expected = snapshot(&fresh_out);
    assert!(snapshot(&public) == expected, "the edit is in the output");
    // Changed in the last 2 s, the file is read again by the next build too.
    let next = build(site.path());
    assert_eq!(next.files_read, 1);
    assert!(snapshot(&public) == expected);

    // Files whose results the extraction cache lacks are read after all; a damaged list of
    // what the last build read is not used.
    let cache = site.path().join(dossier::CACHE_FOLDER);
    std::fs::remove_file(cache.join("extract.bin")).unwrap();
    // All but the draft, which is not extracted.
    assert_eq!(build(site.path()).files_read, files - 1);
    assert!(snapshot(&public) == expected);
    let list = cache.join("sources.bin");
    let mut damaged = std::fs::read(&list).expect("the build keeps the list");
    let middle = damaged.len() / 2;
    damaged[middle] ^= 1;
    std::fs::write(&list, &damaged).unwrap();
    assert_eq!(build(site.path()).files_read, files);
    assert!(snapshot(&public) == expected);
}

/// The subfolders of `site`'s cache folder whose names start with `prefix`, and the files in
/// them, sorted.
fn cache_subfolder_files(
    site: &Path,
    prefix: &str,
) -> (Vec<std::path::PathBuf>, Vec<std::path::PathBuf>) {
    let cache = site.join(dossier::CACHE_FOLDER);
    let folders: Vec<std::path::PathBuf> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    let mut files: Vec<std::path::PathBuf> = folders
        .iter()
        .flat_map(|folder| {
            std::fs::read_dir(folder)
                .unwrap()
                .map(|e| e.unwrap().path())
        })
        .collect();
    files.sort();
    (folders, files)
}

/// The spare files of the exports that the cache folder holds for `public/`.
fn spares_of(site: &Path) -> Vec<std::path::PathBuf> {
    cache_subfolder_files(site, "spares-").1
}

#[test]
fn replaced_exports_are_kept_as_spares_and_written_over_by_the_next_rebuild() {
    let site = fixture("basic");
    build(site.path());
    assert!(
        spares_of(site.path()).is_empty(),
        "a first build replaces nothing"
    );
    let public = site.path().join("public");
    let mentions = public.join("mentions.csv");
    let first_mentions = inode(&mentions);

    std::fs::write(
        site.path().join("content/articles/2024/musan.md"),
        NEW_ARTICLE,
    )
    .unwrap();
    build(site.path());
    // The replaced export is kept, the very same file, as a spare.
    let spare_inodes: Vec<u64> = spares_of(site.path()).iter().map(|p| inode(p)).collect();
    assert!(spare_inodes.contains(&first_mentions), "{spare_inodes:?}");
    let second_mentions = inode(&mentions);
    assert_ne!(second_mentions, first_mentions);

    // The next rebuild writes its export over that spare, and the output is still exactly a
    // full build's.
    add_article(
        site.path(),
        "onsong",
        "Phones seized in Hoeryong",
        "2024-06-05",
        "Guards in Hoeryong seized phones.",
    );
    build(site.path());
    assert_eq!(
        inode(&mentions),
        first_mentions,
        "the spare was written over"
    );
    let spare_inodes: Vec<u64> = spares_of(site.path()).iter().map(|p| inode(p)).collect();
    assert!(spare_inodes.contains(&second_mentions), "{spare_inodes:?}");
    assert!(exports_of(&public) == fresh_exports(site.path()));

    // A spare that is another name of a file in the output (as a build killed between keeping
    // the old file and moving the new one in leaves it) is never written over: here the spare
    // of mentions.csv is made a link to the output's mentions.csv.
    let spare = spares_of(site.path())
        .into_iter()
        .find(|p| inode(p) == second_mentions)
        .expect("the spare of mentions.csv");
    std::fs::remove_file(&spare).unwrap();
    std::fs::hard_link(&mentions, &spare).unwrap();
    let before = std::fs::read(&mentions).unwrap();
    let linked = inode(&mentions);
    add_article(
        site.path(),
        "hyesan",
        "Phones seized in Hyesan",
        "2024-06-07",
        "Guards in Hyesan seized phones.",
    );
    build(site.path());
    assert_ne!(std::fs::read(&mentions).unwrap(), before);
    assert_ne!(
        inode(&mentions),
        linked,
        "a linked spare is not written over"
    );
    assert!(exports_of(&public) == fresh_exports(site.path()));
}

/// The `basic` fixture built, then built again with `NEW_ARTICLE` added: the spares of its
/// exports are the first build's files.
fn basic_site_with_export_spares() -> tempfile::TempDir {
    let site = fixture("basic");
    build(site.path());
    std::fs::write(
        site.path().join("content/articles/2024/musan.md"),
        NEW_ARTICLE,
    )
    .unwrap();
    build(site.path());
    site
}

/// Adds an article dated after the others ("onsong") to `site` and builds it again.
fn add_onsong_and_build(site: &Path) -> dossier::Report {
    add_article(
        site,
        "onsong",
        "Phones seized in Hoeryong",
        "2024-06-05",
        "Guards in Hoeryong seized phones.",
    );
    build(site)
}

#[test]
fn a_spare_changed_since_its_build_has_nothing_left_in_place() {
    let site = basic_site_with_export_spares();
    // The spare of mentions.csv is the first build's file: one byte of its first article's
    // part changes, the size staying the same.
    let spare = spares_of(site.path())
        .into_iter()
        .find(|p| {
            std::fs::read(p)
                .unwrap()
                .starts_with(b"article,kind,entity,")
        })
        .expect("the spare of mentions.csv");
    let mut bytes = std::fs::read(&spare).unwrap();
    let first_part = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    bytes[first_part + 3] ^= 0x20;
    std::fs::write(&spare, &bytes).unwrap();

    let after = add_onsong_and_build(site.path());
    // The other three exports leave their first two articles' parts in place, as in
    // `a_rebuild_copies_the_unchanged_articles_export_parts_from_the_last_build`; mentions.csv,
    // whose spare is not the file its build recorded, is written whole.
    assert_eq!(after.export_parts.in_place, 6, "{:?}", after.export_parts);
    let public = site.path().join("public");
    assert!(exports_of(&public) == fresh_exports(site.path()));
}

#[test]
fn an_unchanged_rebuild_keeps_the_spares_for_the_next_one() {
    let site = basic_site_with_export_spares();
    let spares: Vec<u64> = spares_of(site.path()).iter().map(|p| inode(p)).collect();
    assert_eq!(spares.len(), 5, "one spare for each export");
    // Nothing changed: the exports are kept, and so are their spares.
    assert_eq!(build(site.path()).export_parts, Default::default());
    let kept: Vec<u64> = spares_of(site.path()).iter().map(|p| inode(p)).collect();
    assert_eq!(kept, spares);
    // The next rebuild that makes the exports writes them over those spares, leaving the
    // parts they hold in place (as in
    // `a_rebuild_copies_the_unchanged_articles_export_parts_from_the_last_build`).
    let after = add_onsong_and_build(site.path());
    assert_eq!(after.export_parts.in_place, 8, "{:?}", after.export_parts);
    let public = site.path().join("public");
    assert!(exports_of(&public) == fresh_exports(site.path()));
}

/// The spare files (other than the exports') that the cache folder holds for `public/`, and
/// the folder that holds them.
fn spare_files_of(site: &Path) -> (std::path::PathBuf, Vec<std::path::PathBuf>) {
    let (folders, files) = cache_subfolder_files(site, "spare-files-");
    let folder = (folders.into_iter().next())
        .unwrap_or_else(|| site.join(dossier::CACHE_FOLDER).join("none"));
    (folder, files)
}

/// The inodes of every file under `folder`.
fn inodes_under(folder: &Path) -> std::collections::HashSet<u64> {
    walkdir::WalkDir::new(folder)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.metadata().unwrap().ino())
        .collect()
}

/// The output of a full build of a copy of `site`'s settings and content, which leaves
/// `site`'s own output and cache alone.
fn full_build_of_a_copy(site: &Path) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(site.join("site.toml"), copy.path().join("site.toml")).unwrap();
    copy_tree(&site.join("content"), &copy.path().join("content"));
    build(copy.path());
    snapshot(&copy.path().join("public"))
}

#[test]
fn replaced_pages_are_kept_as_spares_and_written_over_by_the_next_rebuild() {
    let site = fixture("basic");
    build(site.path());
    assert!(
        spare_files_of(site.path()).1.is_empty(),
        "a first build replaces nothing"
    );
    let public = site.path().join("public");
    let home = public.join("index.html");
    let first_home = inode(&home);

    std::fs::write(
        site.path().join("content/articles/2024/musan.md"),
        NEW_ARTICLE,
    )
    .unwrap();
    build(site.path());
    // The replaced home page is kept, the very same file, as a spare.
    let (folder, spares) = spare_files_of(site.path());
    let spare_inodes: Vec<u64> = spares.iter().map(|p| inode(p)).collect();
    assert!(spare_inodes.contains(&first_home), "{spare_inodes:?}");
    assert_ne!(inode(&home), first_home);

    // The next rebuild writes its new and changed files over spares, here one far longer than
    // any page, and the output is still exactly a full build's.
    for spare in spares {
        std::fs::remove_file(spare).unwrap();
    }
    let long = folder.join("long");
    std::fs::write(&long, "x".repeat(1 << 20)).unwrap();
    let long_inode = inode(&long);
    add_article(
        site.path(),
        "onsong",
        "Phones seized in Hoeryong",
        "2024-06-05",
        "Guards in Hoeryong seized phones.",
    );
    build(site.path());
    assert!(
        inodes_under(&public).contains(&long_inode),
        "the spare was written over"
    );
    assert!(
        snapshot(&public) == full_build_of_a_copy(site.path()),
        "files written over spares must equal a full build's"
    );

    // A spare that is another name of a file anywhere (as a build killed between keeping the
    // old file and moving the new one in leaves it) is never written over.
    for spare in spare_files_of(site.path()).1 {
        std::fs::remove_file(spare).unwrap();
    }
    let elsewhere = site.path().join("kept-elsewhere.txt");
    std::fs::write(&elsewhere, "not a page").unwrap();
    std::fs::hard_link(&elsewhere, folder.join("linked")).unwrap();
    add_article(
        site.path(),
        "hyesan",
        "Phones seized in Hyesan",
        "2024-06-07",
        "Guards in Hyesan seized phones.",
    );
    build(site.path());
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "not a page");
    assert!(!inodes_under(&public).contains(&inode(&elsewhere)));
    assert!(snapshot(&public) == full_build_of_a_copy(site.path()));
}

#[test]
fn a_newest_article_is_the_only_one_the_search_index_tokenizes() {
    let site = fixture("basic");
    let first = build(site.path());
    assert_eq!(first.search_tokenized, first.articles);
    let public = site.path().join("public");
    let newest = |name: &str, date: &str| {
        add_article(
            site.path(),
            name,
            "Newest report",
            date,
            "Guards in Hyesan took phones from traders.",
        );
    };

    // The newest segment's terms were kept in the cache: only the new article is tokenized,
    // and the index is exactly a full build's.
    newest("newest", "2026-01-05");
    let second = build(site.path());
    assert_eq!(second.search_tokenized, 1);
    assert!(snapshot(&public) == full_build_of_a_copy(site.path()));

    // Kept terms that do not decode, or that were made from other articles, are not used.
    let tail = site
        .path()
        .join(dossier::CACHE_FOLDER)
        .join("search-tail.bin");
    let kept = std::fs::read(&tail).expect("the newest segment's terms are kept");
    let mut damaged = kept.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 1;
    std::fs::write(&tail, damaged).unwrap();
    newest("newer", "2026-01-06");
    let third = build(site.path());
    assert_eq!(third.search_tokenized, third.articles);
    assert!(snapshot(&public) == full_build_of_a_copy(site.path()));

    // An edited newest article: its old terms are dropped from those kept, and it alone is
    // tokenized again.
    std::fs::write(
        site.path().join("content/articles/2024/newer.md"),
        "+++\ntitle = \"Newest report\"\ndate = 2026-01-06\n+++\nGuards in Musan took phones.\n",
    )
    .unwrap();
    let fourth = build(site.path());
    assert_eq!(fourth.search_tokenized, 1, "the edited newest article only");
    assert!(snapshot(&public) == full_build_of_a_copy(site.path()));

    // Terms kept by an older build, from before the last two articles were added (one of them
    // now): those two are tokenized.
    std::fs::write(&tail, &kept).unwrap();
    newest("newest-again", "2026-01-07");
    let fifth = build(site.path());
    assert_eq!(fifth.search_tokenized, 2);
    assert!(snapshot(&public) == full_build_of_a_copy(site.path()));
}

/// The body of generated article `n`: the fixture's places, agency and two people in
/// combinations that vary with `n`, so that related lists tie and overlap.
fn varied_body(n: usize) -> String {
    let mut sentences = Vec::new();
    if n & 1 == 1 {
        sentences.push("Guards in Hyesan seized phones.");
    }
    if n & 2 == 2 {
        sentences.push("Traders in Hoeryong were fined.");
    }
    if n & 4 == 4 {
        sentences.push("The Ministry of State Security questioned brokers.");
    }
    if n & 8 == 8 {
        sentences.push("Officials in North Hamgyong ordered checks.");
    }
    if n.is_multiple_of(3) {
        sentences.push("Park Min-ho said the crackdown widened.");
    }
    if n.is_multiple_of(5) {
        sentences.push("Choi Young-mi said calls were traced.");
    }
    sentences.push("Chinese phones near the border were the target.");
    sentences.join(" ")
}

#[test]
fn articles_added_to_a_larger_dossier_relate_as_in_a_full_build() {
    // Enough articles that one more is a small share of them: the rebuild updates the last
    // build's related lists instead of scoring every article again.
    let site = fixture("basic");
    for n in 0..30 {
        let date = format!("2024-{:02}-{:02}", 1 + n % 9, 1 + n % 27);
        let title = format!("Report {n}");
        add_article(
            site.path(),
            &format!("report-{n}"),
            &title,
            &date,
            &varied_body(n),
        );
    }
    build(site.path());
    let memory = site.path().join(dossier::CACHE_FOLDER).join("graph.bin");
    let before = std::fs::read(&memory).expect("the graph is remembered");
    // The newest article, then one dated mid-dossier: each joins lists and moves others.
    let added = [("newest", "2026-02-01", 7), ("backdated", "2024-05-03", 13)];
    for (name, date, like) in added {
        add_article(site.path(), name, name, date, &varied_body(like));
        build(site.path());
        assert_output_equals_a_full_build(site.path());
    }
    assert_ne!(std::fs::read(&memory).unwrap(), before);
}
