//! Arbitrary bytes as an article file: decoding and front matter must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::path::Path::new("content/articles/fuzz.md");
    let mut problems = dossier::error::Diagnostics::new();
    let text = dossier::source::decode(path, data.to_vec(), &mut problems);
    for format in [dossier::source::Format::Markdown, dossier::source::Format::Text] {
        let _ = dossier::source::parse(path, format, &text, &mut problems);
    }
});
