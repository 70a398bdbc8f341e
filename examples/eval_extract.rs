//! Precision, recall and F1 of extraction against a hand-annotated set, per kind.
//!
//! `cargo run --release --example eval_extract [-- SET_DIR]` (default `tests/fixtures/eval`:
//! articles in `articles/`, annotations in `gold.json`). The catalogue and `site.toml` are this
//! repository's. Prints every miss and false find, so the catalogue can grow from them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let set = std::env::args()
        .nth(1)
        .map_or_else(|| root.join("tests/fixtures/eval"), PathBuf::from);
    let config = dossier::config::load(&root).unwrap_or_else(|e| panic!("{:?}", e.sorted()));
    let catalog = dossier::catalog::load(&root).unwrap_or_else(|e| panic!("{:?}", e.sorted()));
    let matcher = dossier::extract::Matcher::new(&catalog);
    let gold: serde_json::Value =
        serde_json::from_slice(&std::fs::read(set.join("gold.json")).expect("gold.json"))
            .expect("valid gold.json");

    let kinds = ["places", "agencies", "people", "laws", "years"];
    let mut totals: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for (file, want) in gold["articles"].as_object().expect("articles") {
        let path = set.join("articles").join(file);
        let mut problems = dossier::error::Diagnostics::new();
        let bytes = std::fs::read(&path).expect("article");
        let text = dossier::source::decode(&path, bytes, &mut problems);
        let format = if file.ends_with(".md") {
            dossier::source::Format::Markdown
        } else {
            dossier::source::Format::Text
        };
        let source =
            dossier::source::parse(&path, format, text, &mut problems).expect("article parses");
        let cleaned = dossier::clean::clean(&source, &config.furniture);
        let extracted = dossier::extract::extract(&source, cleaned, &matcher, &config.extract);
        let metadata = &extracted.metadata;
        let name_of = |key: &dossier::catalog::EntityKey| {
            catalog
                .entities
                .get(key)
                .map(|e| e.name.clone())
                .or_else(|| metadata.new_names.get(key).cloned())
                .unwrap_or_else(|| key.slug.to_string())
        };
        for kind in kinds {
            let found: BTreeSet<String> = if kind == "years" {
                metadata.all_years().iter().map(i32::to_string).collect()
            } else {
                metadata
                    .entities()
                    .into_iter()
                    .filter(|k| k.kind.folder() == kind)
                    .map(name_of)
                    .collect()
            };
            let expected: BTreeSet<String> = want[kind]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), String::from))
                        .collect()
                })
                .unwrap_or_default();
            let entry = totals.entry(kind).or_default();
            entry.0 += found.intersection(&expected).count();
            for extra in found.difference(&expected) {
                entry.1 += 1;
                println!("{file}: {kind}: false find {extra:?}");
            }
            for missing in expected.difference(&found) {
                entry.2 += 1;
                println!("{file}: {kind}: missed {missing:?}");
            }
        }
    }
    println!();
    println!(
        "{:<10} {:>5} {:>5} {:>5} {:>9} {:>9} {:>6}",
        "kind", "tp", "fp", "fn", "precision", "recall", "F1"
    );
    for kind in kinds {
        let (tp, fp, fn_) = totals[kind];
        let precision = tp as f64 / (tp + fp).max(1) as f64;
        let recall = tp as f64 / (tp + fn_).max(1) as f64;
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        println!("{kind:<10} {tp:>5} {fp:>5} {fn_:>5} {precision:>9.2} {recall:>9.2} {f1:>6.2}");
    }
}
