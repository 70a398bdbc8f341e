//! Properties over generated input (proptest), and the fuzz corpus replayed as regression tests:
//! extraction never panics, every mention lies inside its paragraph, builds are deterministic.

use std::sync::LazyLock;

use proptest::prelude::*;

use crate::common::manifest_dir;

struct Setup {
    config: dossier::config::Config,
    matcher: dossier::extract::Matcher,
}

static SETUP: LazyLock<Setup> = LazyLock::new(|| {
    let root = manifest_dir();
    let config = dossier::config::load(&root).expect("site.toml");
    let catalog = dossier::catalog::load(&root).expect("catalogue");
    Setup {
        config,
        matcher: dossier::extract::Matcher::new(&catalog),
    }
});

/// Cleans and extracts `text` as both formats and checks every mention's span.
fn check_text(text: &str) -> Result<(), TestCaseError> {
    for format in [
        dossier::source::Format::Markdown,
        dossier::source::Format::Text,
    ] {
        let source = dossier::source::Source {
            path: "content/articles/p.txt".into(),
            format,
            front: Default::default(),
            body: text.to_string(),
            body_line: 1,
            digest: 0,
        };
        let cleaned = dossier::clean::clean(&source, &SETUP.config.furniture);
        let extracted =
            dossier::extract::extract(&source, cleaned, &SETUP.matcher, &SETUP.config.extract);
        let m = &extracted.metadata;
        // Sorted by entity first, so that `mentions_of` finds each entity's by binary search.
        prop_assert!(m.mentions.is_sorted(), "{:?}", m.mentions);
        for mention in &m.mentions {
            let of: Vec<usize> = m.mentions_of(&mention.entity).collect();
            let filtered: Vec<usize> = (0..m.mentions.len())
                .filter(|&i| m.mentions[i].entity == mention.entity)
                .collect();
            prop_assert_eq!(of, filtered);
        }
        for mention in &m.mentions {
            let paragraph = match mention.at {
                dossier::extract::Place::Title => m.title.as_str(),
                dossier::extract::Place::Paragraph(p) => extracted.body.paragraphs[p].text.as_str(),
            };
            prop_assert!(
                mention.start < mention.end && mention.end <= paragraph.len(),
                "{mention:?} outside {paragraph:?}"
            );
            prop_assert!(
                paragraph.is_char_boundary(mention.start)
                    && paragraph.is_char_boundary(mention.end)
            );
        }
        for year in &m.years {
            prop_assert!(
                (SETUP.config.extract.min_year..=SETUP.config.extract.max_year)
                    .contains(&year.year)
            );
        }
    }
    Ok(())
}

/// Text that looks like news: names from the catalogue, years, amounts, punctuation, accents,
/// hard wraps, Markdown and HTML, mixed at random.
fn newsy() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("Hoeryŏng".to_string()),
        Just("the Ministry of State Security".to_string()),
        Just("Chagang Provincial State Security Bureau".to_string()),
        Just("MSS".to_string()),
        Just("a woman surnamed Kang".to_string()),
        Just("Kim Jong-un".to_string()),
        Just("in January 2020".to_string()),
        Just("RMB 60,000".to_string()),
        Just("2018-2020".to_string()),
        Just("\n\n".to_string()),
        Just("\n".to_string()),
        Just("’s".to_string()),
        Just("<script>x</script>".to_string()),
        Just("+++".to_string()),
        Just("# ".to_string()),
        "[a-zA-Z ,.\\-']{0,20}",
        "\\PC{0,8}",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|parts| parts.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn extraction_never_panics_and_mentions_stay_inside_paragraphs(text in newsy()) {
        check_text(&text)?;
    }

    #[test]
    fn any_text_is_safe_too(text in "\\PC{0,400}") {
        check_text(&text)?;
    }

    #[test]
    fn any_bytes_decode_and_parse_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let path = std::path::Path::new("content/articles/p.md");
        let mut problems = dossier::error::Diagnostics::new();
        let text = dossier::source::decode(path, bytes, &mut problems);
        for format in [dossier::source::Format::Markdown, dossier::source::Format::Text] {
            let _ = dossier::source::parse(path, format, text.clone(), &mut problems);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn builds_are_deterministic_for_any_articles(texts in prop::collection::vec(newsy(), 1..4)) {
        let site = |dir: &std::path::Path| {
            std::fs::write(dir.join("site.toml"), "title = \"p\"\n").unwrap();
            std::fs::create_dir_all(dir.join("content/articles")).unwrap();
            for (i, text) in texts.iter().enumerate() {
                std::fs::write(dir.join(format!("content/articles/{i}.txt")), text).unwrap();
            }
        };
        let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        site(one.path());
        site(two.path());
        let a = dossier::build(one.path(), None, dossier::Mode::Build);
        let b = dossier::build(two.path(), None, dossier::Mode::Build);
        prop_assert_eq!(a.is_ok(), b.is_ok());
        if a.is_ok() {
            prop_assert!(crate::common::snapshot(&one.path().join("public")) == crate::common::snapshot(&two.path().join("public")));
        }
    }
}

/// Inputs kept from fuzzing (`fuzz/corpus/<target>/` minimized into `tests/fixtures/fuzz/`),
/// replayed on every test run.
#[test]
fn the_fuzz_corpus_replays_cleanly() {
    let dir = manifest_dir().join("tests/fixtures/fuzz");
    let mut count = 0;
    for entry in walkdir::WalkDir::new(&dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
    {
        let bytes = std::fs::read(entry.path()).unwrap();
        let path = std::path::Path::new("content/articles/f.md");
        let mut problems = dossier::error::Diagnostics::new();
        let text = dossier::source::decode(path, bytes, &mut problems);
        let _ = dossier::source::parse(
            path,
            dossier::source::Format::Markdown,
            text.clone(),
            &mut problems,
        );
        check_text(&text).unwrap_or_else(|e| panic!("{}: {e}", entry.path().display()));
        count += 1;
    }
    assert!(count > 0, "no fuzz corpus in {}", dir.display());
}
