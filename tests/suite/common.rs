//! Helpers: copy a fixture site into a temporary folder and build it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies `tests/fixtures/<name>` into a fresh temporary folder.
pub fn fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_tree(
        &manifest_dir().join("tests/fixtures").join(name),
        dir.path(),
    );
    dir
}

/// Copies the repository's own dossier (site.toml, content/, themes/) into a temporary folder.
pub fn repository_site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = manifest_dir();
    std::fs::copy(root.join("site.toml"), dir.path().join("site.toml")).expect("copy site.toml");
    copy_tree(&root.join("content"), &dir.path().join("content"));
    copy_tree(&root.join("themes"), &dir.path().join("themes"));
    dir
}

pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk fixture");
        let target = to.join(entry.path().strip_prefix(from).expect("inside"));
        if entry.file_type().is_symlink() {
            let link = std::fs::read_link(entry.path()).expect("read link");
            std::os::unix::fs::symlink(link, &target).expect("copy link");
        } else if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Checks the site at `root`, which must fail; returns every problem as printed.
pub fn check_problems(root: &Path) -> Vec<String> {
    let problems = dossier::build(root, None, dossier::Mode::Check).unwrap_err();
    problems.iter().map(ToString::to_string).collect()
}

/// Appends `text` to the `site.toml` of the site at `root`.
pub fn append_to_site_toml(root: &Path, text: &str) {
    let path = root.join("site.toml");
    let config = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{config}{text}")).unwrap();
}

/// Builds the site at `root` into `root/public`, panicking with every problem on failure.
pub fn build(root: &Path) -> dossier::Report {
    match dossier::build(root, None, dossier::Mode::Build) {
        Ok(report) => report,
        Err(problems) => {
            let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
            panic!("build failed:\n{}", list.join("\n"))
        }
    }
}

/// Every file under `dir` with its bytes, by relative path.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(dir).expect("inside").to_path_buf(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect()
}

pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("read json")).expect("valid json")
}

/// Runs the `dossier` binary with `args`.
pub fn dossier(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_dossier"))
        .args(args)
        .output()
        .expect("run dossier")
}
