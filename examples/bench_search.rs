//! Search index build time and size on a site, without rendering or writing the pages: reads and
//! extracts the articles, then builds the index and adds up its files.
//!
//! `cargo run --release --example bench_search -- SITE_ROOT` (e.g. a corpus from gen_corpus).

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
    let files = dossier::search::index(&analysis.dossier);
    let built = started.elapsed();
    let bytes: usize = files.iter().map(|f| f.bytes.len()).sum();
    let shards = files
        .iter()
        .filter(|f| f.path.starts_with("search/t"))
        .count();
    println!(
        "{} articles: read and extracted in {:.1} s; search index built in {:.1} s: {} files ({} term shards), {:.0} MB",
        analysis.dossier.articles.len(),
        analyzed.as_secs_f64(),
        built.as_secs_f64(),
        files.len(),
        shards,
        bytes as f64 / 1e6
    );
}
