//! Bad input: messages name the file and line, all problems come together, the exit code is 1,
//! and the previous output is left as it was.

use std::process::Command;

use crate::common::{append_to_site_toml, build, check_problems, dossier, fixture, snapshot};

#[test]
fn broken_front_matter_fails_with_file_line_and_keeps_the_previous_output() {
    let site = fixture("basic");
    build(site.path());
    let before = snapshot(&site.path().join("public"));
    assert!(!before.is_empty());

    std::fs::write(
        site.path().join("content/articles/bad.md"),
        "+++\ntitle = \"Bad\"\ndate = \n+++\nText\n",
    )
    .unwrap();
    std::fs::write(
        site.path().join("content/articles/worse.md"),
        "---\ntitle: [unclosed\n---\nText\n",
    )
    .unwrap();
    let root = site.path().to_str().unwrap();
    let output = dossier(&["build", "--root", root]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("content/articles/bad.md:3: "), "{stderr}");
    assert!(
        stderr.contains("content/articles/worse.md:3: "),
        "both problems are listed: {stderr}"
    );
    assert_eq!(
        snapshot(&site.path().join("public")),
        before,
        "the previous public/ changed"
    );
}

#[test]
fn unknown_site_key_names_its_line() {
    let site = fixture("basic");
    append_to_site_toml(site.path(), "\n[furniture]\nunknown_rule = 1\n");
    let output = dossier(&["check", "--root", site.path().to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr.contains("site.toml:8: unknown field `unknown_rule`"),
        "{stderr}"
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(dossier(&["build", "--no-such-flag"]).status.code(), Some(2));
    assert_eq!(dossier(&[]).status.code(), Some(2));
    assert!(dossier(&["build", "--help"]).status.success());
}

#[test]
fn check_writes_nothing_and_strict_fails_on_warnings() {
    let site = fixture("basic");
    let root = site.path().to_str().unwrap();
    let output = dossier(&["check", "--root", root]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!site.path().join("public").exists());
    // The exported article carries unknown keys (layout, tags): warnings.
    let output = dossier(&["check", "--strict", "--root", root]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("exported.md:4: warning: unknown front matter key \"layout\"")
    );
    // Undated articles, derived titles and names the catalogue lacks are warnings too.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("content/articles/scraped.txt: warning: undated"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 names look like entities the catalogue lacks"),
        "{stderr}"
    );
}

#[test]
fn refuses_to_write_over_the_sources() {
    let site = fixture("basic");
    for out in [".", "content", "content/articles"] {
        let problems = dossier::build(
            site.path(),
            Some(&site.path().join(out)),
            dossier::Mode::Build,
        )
        .unwrap_err();
        assert!(
            problems[0].message.contains("refusing"),
            "{out}: {:?}",
            problems[0]
        );
    }
    assert!(site.path().join("content/articles/scraped.txt").is_file());
}

#[test]
fn duplicate_slugs_name_both_files() {
    let site = fixture("basic");
    std::fs::write(
        site.path().join("content/articles/2024/scraped.txt"),
        "Another article.\n",
    )
    .unwrap();
    let text = check_problems(site.path());
    assert!(
        text.iter()
            .any(|t| t.contains("scraped.txt") && t.contains("content/articles/2024/scraped.txt")),
        "{text:?}"
    );
}

#[test]
fn catalogue_errors_name_file_and_line() {
    let site = fixture("basic");
    std::fs::write(site.path().join("content/entities/extra.toml"), "[[place]]\nname = \"Elsewhere\"\nparent = \"Atlantis\"\n\n[[place]]\nname = \"Again\"\naliases = [\"Hoeryong City\"]\n").unwrap();
    let text = check_problems(site.path());
    assert!(
        text.iter()
            .any(|t| t.starts_with("content/entities/extra.toml:3: ") && t.contains("Atlantis")),
        "{text:?}"
    );
    assert!(
        text.iter().any(
            |t| t.starts_with("content/entities/extra.toml:6: ") && t.contains("hoeryong city")
        ),
        "{text:?}"
    );
}

#[test]
fn settings_and_catalogue_errors_are_reported_together() {
    let site = fixture("basic");
    append_to_site_toml(site.path(), "\n[furniture]\nunknown_rule = 1\n");
    std::fs::write(
        site.path().join("content/entities/extra.toml"),
        "[[place]]\nname = \"Elsewhere\"\nparent = \"Atlantis\"\n",
    )
    .unwrap();
    let text = check_problems(site.path());
    assert!(
        text.iter()
            .any(|t| t.starts_with("site.toml:") && t.contains("unknown_rule")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|t| t.starts_with("content/entities/extra.toml:3: ") && t.contains("Atlantis")),
        "{text:?}"
    );
}

#[test]
fn a_killed_build_leaves_the_previous_output_whole() {
    let site = crate::common::repository_site();
    build(site.path());
    let public = site.path().join("public");
    let before = snapshot(&public);
    // Enough articles that the next build is still running when it is killed.
    let articles = site.path().join("content/articles");
    let seeds: Vec<_> = std::fs::read_dir(&articles)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    for i in 0..300 {
        for seed in &seeds {
            let name = format!(
                "copy-{i:03}-{}",
                seed.file_name().unwrap().to_str().unwrap()
            );
            std::fs::copy(seed, articles.join(name)).unwrap();
        }
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_dossier"))
        .args(["build", "--root", site.path().to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(250));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let after = snapshot(&public);
    if after != before {
        // The build won the race (its last few milliseconds, moving the new files into place,
        // were not interrupted): then the new site must be complete, never a mix.
        let data: serde_json::Value =
            serde_json::from_slice(&after[std::path::Path::new("dossier.json")]).unwrap();
        assert_eq!(
            data["articles"].as_array().unwrap().len(),
            5 + 300 * seeds.len()
        );
    }
    // The next build cleans up what the killed one left beside the output.
    build(site.path());
    let leftovers: Vec<_> = std::fs::read_dir(site.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_second_build_into_a_locked_folder_fails_clearly() {
    let site = fixture("basic");
    let out = site.path().join("public");
    let _held = dossier::write::lock(&out).unwrap();
    let problems = dossier::build(site.path(), None, dossier::Mode::Build).unwrap_err();
    assert!(
        problems[0].message.contains("another dossier build"),
        "{:?}",
        problems[0]
    );
}

#[test]
fn two_pages_with_one_name_fail_the_build_instead_of_overwriting() {
    let site = fixture("basic");
    build(site.path());
    let before = snapshot(&site.path().join("public"));
    // A place called "Index" would take the place index page's file.
    let catalog = site.path().join("content/entities/catalog.toml");
    let text = std::fs::read_to_string(&catalog).unwrap();
    std::fs::write(&catalog, format!("{text}\n[[place]]\nname = \"Index\"\n")).unwrap();
    std::fs::write(
        site.path().join("content/articles/index-town.md"),
        "+++\ntitle = \"Phones in Index\"\ndate = 2024-01-02\n+++\nPhones were seized in Index.\n",
    )
    .unwrap();
    let problems = dossier::build(site.path(), None, dossier::Mode::Build)
        .expect_err("two pages named places/index.html");
    let all: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(
        all.iter()
            .any(|p| p.contains("places/index.html would be made twice")),
        "{all:?}"
    );
    assert!(snapshot(&site.path().join("public")) == before);
}
