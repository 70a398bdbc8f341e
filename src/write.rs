//! Writing: the only stage that touches the output folder.
//!
//! Pages are minified and written into a temporary folder beside the output; only when all of
//! them are written is it swapped in (an atomic exchange on Linux), so a failed or killed build
//! leaves the previous output as it was. A lock file keeps two builds from writing at once.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::Diagnostic;
use crate::render::Page;

/// Checks that `out` is a safe output folder for the site at `root`: not the root itself, not
/// `content/` or `themes/`, and not a folder that holds any of them.
pub fn check_output(root: &Path, out: &Path) -> Result<(), Diagnostic> {
    let root = absolute(root);
    let out = absolute(out);
    let guarded = [
        root.clone(),
        root.join("content"),
        root.join("themes"),
        root.join("site.toml"),
    ];
    for path in &guarded {
        if path.starts_with(&out) {
            return Err(Diagnostic::general(format!(
                "refusing to write into {}: it holds {}, which a build would replace",
                out.display(),
                path.display()
            )));
        }
    }
    if out.starts_with(root.join("content")) || out.starts_with(root.join("themes")) {
        return Err(Diagnostic::general(format!(
            "refusing to write into {}: it is inside the site's sources",
            out.display()
        )));
    }
    Ok(())
}

/// An absolute, normalized form of `path` (symbolic links resolved where the path exists).
fn absolute(path: &Path) -> PathBuf {
    if let Ok(real) = fs::canonicalize(path) {
        return real;
    }
    let base = std::env::current_dir().unwrap_or_default();
    let joined = base.join(path);
    // Resolve the nearest existing ancestor, keep the rest as written.
    let mut existing = joined.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => break,
        }
    }
    let mut out = fs::canonicalize(existing).unwrap_or_else(|_| existing.to_path_buf());
    for name in rest.into_iter().rev() {
        if name == ".." {
            out.pop();
        } else if name != "." {
            out.push(name);
        }
    }
    out
}

/// Holds the output folder's lock while a build writes; released when dropped.
pub struct OutputLock {
    _file: File,
}

/// Takes the lock of `out` (a file `.<name>.lock` beside it), or fails at once if another build
/// holds it.
pub fn lock(out: &Path) -> Result<OutputLock, Diagnostic> {
    let (parent, name) = split(out)?;
    fs::create_dir_all(&parent)
        .map_err(|e| Diagnostic::general(format!("cannot create {}: {e}", parent.display())))?;
    let path = parent.join(format!(".{name}.lock"));
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| {
            Diagnostic::general(format!("cannot open the lock {}: {e}", path.display()))
        })?;
    match file.try_lock() {
        Ok(()) => Ok(OutputLock { _file: file }),
        Err(fs::TryLockError::WouldBlock) => Err(Diagnostic::general(format!(
            "another dossier build is writing {} right now; try again when it has finished",
            out.display()
        ))),
        Err(fs::TryLockError::Error(e)) => Err(Diagnostic::general(format!(
            "cannot lock {}: {e}",
            path.display()
        ))),
    }
}

fn split(out: &Path) -> Result<(PathBuf, String), Diagnostic> {
    let out = absolute(out);
    match (out.parent(), out.file_name().and_then(|n| n.to_str())) {
        (Some(parent), Some(name)) => Ok((parent.to_path_buf(), name.to_string())),
        _ => Err(Diagnostic::general(format!(
            "{} cannot be an output folder",
            out.display()
        ))),
    }
}

/// Writes `pages` into `out`, replacing what was there only when every page is written.
/// Call while holding [`lock`].
pub fn write(pages: &[Page], out: &Path) -> Result<(), Diagnostic> {
    let (parent, name) = split(out)?;
    let out = parent.join(&name);
    // Leftovers of builds that were killed before they could clean up.
    if let Ok(entries) = fs::read_dir(&parent) {
        let prefix = format!(".{name}.tmp-");
        for entry in entries.flatten() {
            if entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(&prefix))
            {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
    let staging = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    fs::create_dir_all(&staging)
        .map_err(|e| Diagnostic::general(format!("cannot create {}: {e}", staging.display())))?;
    let result = write_all(pages, &staging).and_then(|()| swap(&staging, &out));
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    result
}

fn write_all(pages: &[Page], dir: &Path) -> Result<(), Diagnostic> {
    let mut folders: Vec<PathBuf> = pages
        .iter()
        .filter_map(|p| p.path.parent().map(|d| dir.join(d)))
        .collect();
    folders.sort();
    folders.dedup();
    for folder in folders {
        fs::create_dir_all(&folder)
            .map_err(|e| Diagnostic::general(format!("cannot create {}: {e}", folder.display())))?;
    }
    pages.par_iter().try_for_each(|page| {
        let path = dir.join(&page.path);
        let bytes = if page.path.extension().is_some_and(|x| x == "html") {
            minify(&page.bytes)
        } else {
            page.bytes.clone()
        };
        fs::write(&path, bytes)
            .map_err(|e| Diagnostic::general(format!("cannot write {}: {e}", path.display())))
    })
}

/// Minifies a page's HTML and CSS; inline JavaScript is left as written.
pub fn minify(html: &[u8]) -> Vec<u8> {
    let mut cfg = minify_html::Cfg::new();
    cfg.minify_css = true;
    cfg.minify_js = false;
    cfg.keep_closing_tags = true;
    cfg.keep_html_and_head_opening_tags = true;
    cfg.allow_removing_spaces_between_attributes = false;
    cfg.allow_noncompliant_unquoted_attribute_values = false;
    minify_html::minify(html, &cfg)
}

/// Puts the finished `staging` folder in the place of `out` and removes the old output.
fn swap(staging: &Path, out: &Path) -> Result<(), Diagnostic> {
    if !out.exists() {
        return fs::rename(staging, out).map_err(|e| {
            Diagnostic::general(format!("cannot move the build into {}: {e}", out.display()))
        });
    }
    exchange(staging, out).map_err(|e| {
        Diagnostic::general(format!(
            "cannot swap the new build into {}: {e}",
            out.display()
        ))
    })?;
    // `staging` now holds the previous output.
    let _ = fs::remove_dir_all(staging);
    Ok(())
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

/// Without an atomic exchange, the old output is moved aside first; a crash between the two
/// renames leaves it beside the output, not lost.
#[cfg(not(target_os = "linux"))]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    let aside = a.with_extension("old");
    fs::rename(b, &aside)?;
    fs::rename(a, b)?;
    fs::rename(&aside, a)
}
