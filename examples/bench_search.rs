//! Search index build time and size on a site, without rendering or writing the pages: reads and
//! extracts the articles, then builds the index and adds up its files.
//!
//! `cargo run --release --example bench_search -- SITE_ROOT [OUT]` (e.g. a corpus from
//! gen_corpus). With OUT, the index files are written there too, so a search page can be measured
//! in a browser beside them (copy `search.html` and `static/` from any build).

use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let root = std::env::args()
        .nth(1)
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    let started = Instant::now();
    let analysis = dossier::analyze(&root, false).unwrap_or_else(|problems| {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        panic!("{}", list.join("\n"))
    });
    let analyzed = started.elapsed();
    let started = Instant::now();
    let files = dossier::search::index(&analysis.dossier, analysis.config.search);
    let built = started.elapsed();
    let bytes: usize = files.iter().map(|f| f.bytes.len()).sum();
    if let Some(out) = std::env::args().nth(2).map(PathBuf::from) {
        for file in &files {
            let path = out.join(&file.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("create a folder");
            }
            std::fs::write(&path, &file.bytes).expect("write a file");
        }
    }
    let shards = files
        .iter()
        .filter(|f| f.path.starts_with("search/t"))
        .count();
    println!(
        "{} articles: read and extracted in {:.2} s; search index built in {:.2} s: {} files ({} term shards), {:.0} MB",
        analysis.dossier.articles.len(),
        analyzed.as_secs_f64(),
        built.as_secs_f64(),
        files.len(),
        shards,
        bytes as f64 / 1e6
    );
}
