//! The bad-input suite: every folder of `tests/fixtures/invalid/` is a site whose `expected.txt`
//! says whether `dossier check` succeeds ("builds") or fails ("fails"), then lists lines that
//! must appear in its output. No input may make dossier panic.

use std::process::Command;

use crate::common::{check_problems, copy_tree, manifest_dir};

#[test]
fn every_bad_input_gives_its_message() {
    let cases = manifest_dir().join("tests/fixtures/invalid");
    let mut names: Vec<_> = std::fs::read_dir(&cases)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert!(names.len() >= 15, "{} cases", names.len());
    let mut failures = Vec::new();
    for name in names {
        let fixture = cases.join(&name);
        let site = tempfile::tempdir().unwrap();
        copy_tree(&fixture, site.path());
        let expected = std::fs::read_to_string(fixture.join("expected.txt")).unwrap();
        let mut lines = expected.lines();
        let should_build = lines.next() == Some("builds");
        let output = Command::new(env!("CARGO_BIN_EXE_dossier"))
            .args(["check", "--root", site.path().to_str().unwrap()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let case = name.to_string_lossy();
        if stderr.contains("panicked") {
            failures.push(format!("{case}: panicked: {stderr}"));
        }
        let code = output.status.code();
        if should_build && code != Some(0) || !should_build && code != Some(1) {
            failures.push(format!(
                "{case}: exit {code:?}, expected {}: {stderr}",
                if should_build { 0 } else { 1 }
            ));
        }
        for line in lines.filter(|l| !l.is_empty()) {
            if !stderr.contains(line) {
                failures.push(format!("{case}: missing {line:?} in:\n{stderr}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_twenty_megabyte_article_builds() {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("site.toml"), "title = \"Big\"\n").unwrap();
    std::fs::create_dir_all(site.path().join("content/articles")).unwrap();
    let paragraph = "Agents of the security ministry arrested phone users in Hoeryong in January 2020, a source said.\n";
    let text = paragraph.repeat(20 * 1024 * 1024 / paragraph.len());
    std::fs::write(site.path().join("content/articles/big.txt"), text).unwrap();
    let report = dossier::build(site.path(), None, dossier::Mode::Check).unwrap();
    assert_eq!(report.articles, 1);
}

#[test]
fn an_unreadable_file_is_an_error_naming_it() {
    // A link to nothing cannot be read, whoever runs the test (root reads files of any mode).
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("site.toml"), "title = \"x\"\n").unwrap();
    std::fs::create_dir_all(site.path().join("content/articles")).unwrap();
    std::fs::write(site.path().join("content/articles/fine.txt"), "Text.\n").unwrap();
    std::os::unix::fs::symlink(
        "/nonexistent/gone.txt",
        site.path().join("content/articles/gone.txt"),
    )
    .unwrap();
    let text = check_problems(site.path());
    assert!(
        text.iter()
            .any(|t| t.starts_with("content/articles/gone.txt: cannot read")),
        "{text:?}"
    );
}
