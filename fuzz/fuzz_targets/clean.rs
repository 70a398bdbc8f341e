//! Arbitrary text through furniture cleaning with the repository's rules: never panics.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;

static CONFIG: LazyLock<dossier::config::Config> = LazyLock::new(|| {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    dossier::config::parse(root, include_str!("../../site.toml")).expect("site.toml")
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for format in [dossier::source::Format::Markdown, dossier::source::Format::Text] {
        let source = dossier::source::Source {
            path: "content/articles/fuzz.txt".into(),
            format,
            front: Default::default(),
            body: text.to_string(),
            body_line: 1,
            digest: 0,
        };
        let _ = dossier::clean::clean(&source, &CONFIG.furniture);
    }
});
