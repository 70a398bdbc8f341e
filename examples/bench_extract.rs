//! Extraction throughput on one core: cleaning plus extraction of every article of a site,
//! repeated until about 64 MB of article text has gone through.
//!
//! `cargo run --release --example bench_extract [-- SITE_ROOT]` (default: this repository's dossier).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let root = std::env::args()
        .nth(1)
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    let config = dossier::config::load(&root).unwrap_or_else(|e| panic!("{:?}", e.sorted()));
    let started = Instant::now();
    let catalog = dossier::catalog::load(&root).unwrap_or_else(|e| panic!("{:?}", e.sorted()));
    let matcher = dossier::extract::Matcher::for_many_texts(&catalog);
    let compile = started.elapsed();
    let (sources, _) = dossier::source::load(&root);
    let bytes: usize = sources.iter().map(|s| s.body.len()).sum();
    let words: usize = sources
        .iter()
        .map(|s| s.body.split_whitespace().count())
        .sum();
    assert!(bytes > 0, "no articles under {}", root.display());
    // DOSSIER_BENCH_MB shortens the run, e.g. under a profiler.
    let megabytes: usize = std::env::var("DOSSIER_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let rounds = (megabytes << 20) / bytes + 1;

    let started = Instant::now();
    for _ in 0..rounds {
        for source in &sources {
            let cleaned = dossier::clean::clean(source, &config.furniture);
            black_box(dossier::extract::extract(
                source,
                cleaned,
                &matcher,
                &config.extract,
            ));
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let mb = (bytes * rounds) as f64 / 1e6;
    let words_per_second = (words * rounds) as f64 / seconds;
    println!(
        "catalogue: {} entities compiled in {:.1} ms",
        catalog.entities.len(),
        compile.as_secs_f64() * 1e3
    );
    println!(
        "articles: {} ({} bytes, {} words), {} rounds",
        sources.len(),
        bytes,
        words,
        rounds
    );
    println!(
        "extraction: {:.1} MB/s, {:.0} words/s on one core ({:.0} x spaCy en_core_web_sm at 3,500 words/s)",
        mb / seconds,
        words_per_second,
        words_per_second / 3500.0
    );
}
