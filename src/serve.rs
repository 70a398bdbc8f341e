//! `dossier serve`: builds the dossier into a temporary folder, serves it on 127.0.0.1 only,
//! rebuilds when anything under `content/`, `themes/` or `site.toml` changes, and reloads open
//! pages. A failed rebuild keeps serving the last good site and shows the error in the page and
//! the terminal. The reload script is added to pages only while serving; built sites never
//! carry it.

use std::path::{Component, Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::{RecursiveMode, Watcher};

use crate::error::Diagnostic;

/// What open pages poll for.
#[derive(Debug, Default)]
struct Status {
    version: u64,
    error: Option<String>,
}

const RELOAD_SCRIPT: &str = r#"(function () {
  "use strict";
  var seen = null;
  function banner(text) {
    var box = document.getElementById("dossier-serve-error");
    if (!text) { if (box) box.remove(); return; }
    if (!box) {
      box = document.createElement("pre");
      box.id = "dossier-serve-error";
      box.style.cssText = "position:fixed;left:0;right:0;bottom:0;margin:0;padding:1em;max-height:40vh;overflow:auto;background:#7a0c0c;color:#fff;font:13px monospace;z-index:9999;white-space:pre-wrap";
      document.body.appendChild(box);
    }
    box.textContent = "dossier: the last rebuild failed; showing the last good build.\n\n" + text;
  }
  function poll() {
    fetch("/__dossier/status", { cache: "no-store" }).then(function (r) { return r.json(); }).then(function (s) {
      if (seen !== null && s.version !== seen) { location.reload(); return; }
      seen = s.version;
      banner(s.error);
    }).catch(function () {}).then(function () { setTimeout(poll, 700); });
  }
  poll();
})();
"#;

/// Serves the dossier at `root` on 127.0.0.1:`port` (0 picks a free port) until the process is
/// stopped. `ready` receives the address once the first build is served.
pub fn serve(
    root: &Path,
    port: u16,
    ready: impl FnOnce(std::net::SocketAddr),
) -> Result<(), Diagnostic> {
    // One preview folder per site, the same on every run: a restarted server starts from its
    // last preview (files carry over), and stopped servers leave one folder, not one each.
    let site = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let out = std::env::temp_dir()
        .join(format!(
            "dossier-serve-{:016x}",
            xxhash_rust::xxh3::xxh3_64(site.as_os_str().as_encoded_bytes())
        ))
        .join("public");
    let status = Arc::new(Mutex::new(Status::default()));
    rebuild(root, &out, &status);

    let server = tiny_http::Server::http(("127.0.0.1", port))
        .map_err(|e| Diagnostic::general(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
    let address = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| Diagnostic::general("the server has no IP address"))?;

    let (events, changes) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(events)
        .map_err(|e| Diagnostic::general(format!("cannot watch files: {e}")))?;
    for (path, mode) in [
        ("content", RecursiveMode::Recursive),
        ("themes", RecursiveMode::Recursive),
        ("site.toml", RecursiveMode::NonRecursive),
    ] {
        let path = root.join(path);
        if path.exists() {
            watcher.watch(&path, mode).map_err(|e| {
                Diagnostic::general(format!("cannot watch {}: {e}", path.display()))
            })?;
        }
    }
    {
        let (root, out, status) = (root.to_path_buf(), out.clone(), Arc::clone(&status));
        std::thread::Builder::new()
            .name("dossier-rebuild".into())
            .spawn(move || {
                // Editors save in bursts; rebuild once the burst is over.
                while changes.recv().is_ok() {
                    while changes.recv_timeout(Duration::from_millis(150)).is_ok() {}
                    rebuild(&root, &out, &status);
                }
            })
            .map_err(|e| Diagnostic::general(format!("cannot start rebuilding on changes: {e}")))?;
    }
    ready(address);
    for request in server.incoming_requests() {
        let response = respond(&out, request.url(), &status);
        let _ = request.respond(response);
    }
    drop(watcher);
    Ok(())
}

fn rebuild(root: &Path, out: &Path, status: &Mutex<Status>) {
    let result = crate::build(root, Some(out), crate::Mode::Build);
    let mut status = status
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match result {
        Ok(report) => {
            eprintln!(
                "rebuilt: {} articles in {:.2} s",
                report.articles,
                report.elapsed.as_secs_f64()
            );
            status.version += 1;
            status.error = None;
        }
        Err(problems) => {
            let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
            eprintln!(
                "{}\nerror: the rebuild failed; still serving the last good build",
                text.join("\n")
            );
            status.error = Some(text.join("\n"));
        }
    }
}

type Response = tiny_http::Response<std::io::Cursor<Vec<u8>>>;

fn respond(out: &Path, url: &str, status: &Mutex<Status>) -> Response {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    match path {
        "/__dossier/status" => {
            let status = status
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let body =
                serde_json::json!({ "version": status.version, "error": status.error }).to_string();
            return with_type(
                tiny_http::Response::from_data(body.into_bytes()),
                "application/json",
            );
        }
        "/__dossier/reload.js" => {
            return with_type(
                tiny_http::Response::from_data(RELOAD_SCRIPT.as_bytes().to_vec()),
                "text/javascript",
            );
        }
        _ => {}
    }
    let Some(file) = local_path(out, path) else {
        return tiny_http::Response::from_data(b"not found".to_vec()).with_status_code(404);
    };
    match std::fs::read(&file) {
        Ok(mut bytes) => {
            let kind = content_type(&file);
            if kind.starts_with("text/html") {
                bytes = inject_reload(bytes);
            }
            with_type(tiny_http::Response::from_data(bytes), kind)
        }
        Err(_) => tiny_http::Response::from_data(b"not found".to_vec()).with_status_code(404),
    }
}

/// The file a URL path names inside `out`; `None` for anything that would leave it.
fn local_path(out: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(url_path)?;
    let mut path = out.to_path_buf();
    for part in Path::new(decoded.trim_start_matches('/')).components() {
        match part {
            Component::Normal(name) => path.push(name),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if path.is_dir() {
        path.push("index.html");
    }
    Some(path)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn inject_reload(bytes: Vec<u8>) -> Vec<u8> {
    let html = String::from_utf8_lossy(&bytes);
    let tag = "<script src=/__dossier/reload.js></script>";
    match html.rfind("</body>") {
        Some(at) => format!("{}{tag}{}", &html[..at], &html[at..]).into_bytes(),
        None => format!("{html}{tag}").into_bytes(),
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|x| x.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css",
        Some("js") => "text/javascript",
        Some("json") => "application/json",
        Some("xml") => "application/xml",
        Some("csv") => "text/csv; charset=utf-8",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

fn with_type(response: Response, kind: &str) -> Response {
    match tiny_http::Header::from_bytes(&b"Content-Type"[..], kind.as_bytes()) {
        Ok(header) => response.with_header(header),
        Err(()) => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_output() {
        let out = Path::new("/srv/public");
        assert_eq!(
            local_path(out, "/places/hoeryong.html"),
            Some(PathBuf::from("/srv/public/places/hoeryong.html"))
        );
        assert_eq!(
            local_path(out, "/a%20b.html"),
            Some(PathBuf::from("/srv/public/a b.html"))
        );
        assert_eq!(local_path(out, "/../etc/passwd"), None);
        assert_eq!(local_path(out, "/%2e%2e/etc/passwd"), None);
    }
}
