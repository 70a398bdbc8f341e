//! Arbitrary text through cleaning and extraction with the repository's catalogue: never panics,
//! and every mention lies inside its paragraph on character boundaries.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;

struct Setup {
    config: dossier::config::Config,
    matcher: dossier::extract::Matcher,
}

static SETUP: LazyLock<Setup> = LazyLock::new(|| {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let config = dossier::config::parse(root, include_str!("../../site.toml")).expect("site.toml");
    let catalog = dossier::catalog::load(root).expect("catalogue");
    let matcher = dossier::extract::Matcher::new(&catalog);
    Setup { config, matcher }
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let setup = &*SETUP;
    for format in [dossier::source::Format::Markdown, dossier::source::Format::Text] {
        let source = dossier::source::Source {
            path: "content/articles/fuzz.txt".into(),
            format,
            front: Default::default(),
            body: text.to_string(),
            body_line: 1,
            digest: 0,
        };
        let cleaned = dossier::clean::clean(&source, &setup.config.furniture);
        let extracted = dossier::extract::extract(&source, cleaned, &setup.matcher, &setup.config.extract);
        let m = &extracted.metadata;
        for mention in &m.mentions {
            let paragraph = match mention.at {
                dossier::extract::Place::Title => m.title.as_str(),
                dossier::extract::Place::Paragraph(p) => extracted.paragraphs[p].text.as_str(),
            };
            assert!(mention.start < mention.end && mention.end <= paragraph.len());
            assert!(paragraph.is_char_boundary(mention.start) && paragraph.is_char_boundary(mention.end));
        }
    }
});
