//! dossier turns a collection of news articles into a linked dossier: a static site with a page
//! per article, place, agency, person, law and year, all cross-linked, built from metadata it
//! extracts from the article text.
//!
//! [`build`] runs the pipeline; each stage lives in its own module.

#![warn(missing_docs)]

pub mod cache;
pub mod catalog;
pub mod clean;
pub mod config;
pub mod data;
pub mod error;
pub mod export;
pub mod extract;
pub mod feeds;
pub mod graph;
pub mod render;
pub mod scaffold;
pub mod search;
pub mod serve;
pub mod source;
pub mod theme;
pub mod write;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Diagnostic, Diagnostics};

/// What a finished build did.
#[derive(Debug, Clone)]
pub struct Report {
    /// Articles published.
    pub articles: usize,
    /// Drafts read but not published.
    pub drafts: usize,
    /// Article files read; the others were unchanged since the last build (by their size,
    /// times and inode) and their results came from the cache unread.
    pub files_read: usize,
    /// Entities with a page.
    pub entities: usize,
    /// Files made (pages, data, static files).
    pub pages: usize,
    /// How the files reached the output: written anew or carried over unchanged from the
    /// previous output. `None` when nothing was written (a check).
    pub written: Option<write::WriteStats>,
    /// How long the build took.
    pub elapsed: Duration,
    /// The output folder, when the build wrote one.
    pub output: Option<PathBuf>,
    /// Warnings of the build.
    pub warnings: Vec<Diagnostic>,
    /// Things worth saying once that are not problems (no feeds without `base_url`).
    pub notes: Vec<String>,
    /// How the exports' article parts were made: all zero when the last build's exports
    /// were kept whole.
    pub export_parts: export::PartStats,
    /// How many articles the search index tokenized: those of the segments it made, less the
    /// newest segment's articles whose terms the cache kept.
    pub search_tokenized: usize,
}

/// Whether a build writes its output or only checks the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Everything, then write the site.
    Build,
    /// Everything but writing: for CI gates.
    Check,
}

/// A site read and analysed: everything but rendering and writing.
#[derive(Debug)]
pub struct Analysis {
    /// The configuration.
    pub config: config::Config,
    /// The entity catalogue.
    pub catalog: catalog::Catalog,
    /// The joined dossier.
    pub dossier: graph::Dossier,
    /// Drafts read but not published.
    pub drafts: usize,
    /// Article files read (see [`Report::files_read`]).
    pub files_read: usize,
    /// Warnings so far.
    pub warnings: Diagnostics,
    /// A hash of everything the dossier is made from: every article file (path and bytes), the
    /// settings, the catalogue and the dossier binary. Equal digests make equal dossiers, so
    /// files made from the whole dossier (the exports, every page when nothing changed) can be
    /// kept when it is unchanged.
    pub digest: u128,
    /// A hash of what every article's extraction depends on besides its own file: the
    /// settings, the catalogue and the dossier binary (see [`graph::Article::digest`]).
    pub context: u128,
}

/// The cache folder under the site root: what a build keeps to save work on the next one.
/// Safe to delete at any time; a missing, stale or corrupt cache only means a slower build.
pub const CACHE_FOLDER: &str = ".dossier-cache";

/// Prints how long each stage took when `DOSSIER_TIMINGS` is set (for profiling builds).
struct Stopwatch {
    enabled: bool,
    mark: Instant,
    /// The process's processor time at `mark`.
    cpu_mark: Option<std::time::Duration>,
}

/// The processor time the process has had, on all its threads, where the system tells it:
/// Linux's `/proc/self/stat`, in hundredths of a second, so a stage's figure is rough below a
/// tenth of a second. (The vDSO clock that would be exact crashed the binary under valgrind.)
fn processor_time() -> Option<std::time::Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name (which may hold spaces, in parentheses) start with
    // the third; user and system time are the fourteenth and fifteenth.
    let mut fields = stat
        .get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .skip(11);
    let mut ticks = || fields.next()?.parse::<u64>().ok();
    let (user, system) = (ticks()?, ticks()?);
    Some(std::time::Duration::from_millis((user + system) * 10))
}

impl Stopwatch {
    fn new() -> Self {
        let enabled = std::env::var_os("DOSSIER_TIMINGS").is_some();
        Stopwatch {
            enabled,
            mark: Instant::now(),
            cpu_mark: enabled.then(processor_time).flatten(),
        }
    }

    /// Reports the time since the previous lap as `stage`'s, with how many cores it kept busy
    /// on average (its processor time over its time).
    fn lap(&mut self, stage: &str) {
        let cpu = self.enabled.then(processor_time).flatten();
        if self.enabled {
            // Peak memory so far, where the system tells it (Linux).
            let peak = std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find(|l| l.starts_with("VmHWM:"))
                        .map(|l| l["VmHWM:".len()..].trim().to_string())
                })
                .unwrap_or_default();
            let took = self.mark.elapsed().as_secs_f64();
            let cores = match (cpu, self.cpu_mark) {
                (Some(now), Some(then)) if took > 0.0 => {
                    format!(
                        "  cores {:.2}",
                        now.saturating_sub(then).as_secs_f64() / took
                    )
                }
                _ => String::new(),
            };
            eprintln!("{stage:>9}: {took:.3} s  peak {peak}{cores}");
        }
        self.mark = Instant::now();
        self.cpu_mark = cpu;
    }

    /// Reports how long one of two stages run side by side took on its own.
    fn side(&self, stage: &str, took: std::time::Duration) {
        if self.enabled {
            eprintln!("{stage:>9}: {:.3} s  (side by side)", took.as_secs_f64());
        }
    }
}

fn fail(mut problems: Diagnostics, more: Diagnostics) -> Vec<Diagnostic> {
    problems.extend(more);
    problems.sorted()
}

/// Reads the site at `root`, cleans and extracts every article and joins the dossier.
/// `find_unknown` also collects the names the catalogue lacks.
pub fn analyze(root: &Path, find_unknown: bool) -> Result<Analysis, Vec<Diagnostic>> {
    analyze_with(root, find_unknown, false).map(|(analysis, _)| analysis)
}

/// [`analyze`], reusing the extraction cache when `use_cache` is set; then also returns what
/// the cache has to record, for the caller to record once it has started on the pages.
fn analyze_with(
    root: &Path,
    find_unknown: bool,
    use_cache: bool,
) -> Result<(Analysis, Option<cache::Pending>), Vec<Diagnostic>> {
    let mut stopwatch = Stopwatch::new();
    let mut warnings = Diagnostics::new();
    // The settings, the catalogue and the hash of the dossier binary (tens of megabytes, part
    // of the cache's context, recorded in the cache folder for the next build) need nothing
    // of each other: read side by side, they take the time of the slowest instead of the sum.
    let cache_folder = cache::folder(root);
    let binary_hash = || {
        if use_cache {
            cache::binary_hash_using(&cache_folder)
        } else {
            cache::binary_hash()
        }
    };
    let (loaded_config, (loaded_catalog, _)) = rayon::join(
        || config::load(root),
        || rayon::join(|| catalog::load(root), binary_hash),
    );
    // Problems in both are reported together.
    let (mut config, catalog) = match (loaded_config, loaded_catalog) {
        (Ok(config), Ok(catalog)) => (config, catalog),
        (config, catalog) => {
            return Err(fail(
                config.err().unwrap_or_default(),
                catalog.err().unwrap_or_default(),
            ));
        }
    };
    config.extract.find_unknown = find_unknown;
    // Compiled when the first article needs extracting, or before the files are read when
    // many are to be: a rebuild that takes every result from the cache never needs it (tens
    // of milliseconds with a few hundred entities).
    let matcher = std::sync::OnceLock::new();
    let context = cache::context(&config, &catalog);
    stopwatch.lap("settings");
    // The cache is decoded while the article files are listed and stamped: neither needs the
    // other. A file unchanged since the last build (by its stamp) is not read again: its
    // result comes from the cache.
    let ((mut cache, previous_graph), mut loaded) = rayon::join(
        || {
            if use_cache {
                (
                    cache::ExtractCache::load(&cache_folder, context),
                    cache::load_graph_memory(&cache_folder, context),
                )
            } else {
                (cache::ExtractCache::default(), None)
            }
        },
        || {
            let known = if use_cache {
                cache::load_known_files(&cache_folder)
            } else {
                source::KnownFiles::default()
            };
            source::load_known(root, known)
        },
    );
    stopwatch.lap("cache and list");
    // The other files are read, and each cleaned and extracted as soon as it is read, unless
    // the cache has its result after all (a file touched, not changed) or it is a draft.
    let needs_extraction = |source: &source::Source| !source.front.draft && !cache.has(source);
    // About this many articles are extracted (the files nothing is known of, and any whose
    // result the cache lacks): the matcher is built for that workload.
    let to_read = loaded.files_unread();
    // Many: the extraction's patterns are compiled beside it (see `compile_patterns`).
    if to_read >= extract::Matcher::MANY_TEXTS {
        let (built, ()) = rayon::join(
            || extract::Matcher::for_many_texts(&catalog),
            extract::compile_patterns,
        );
        let _ = matcher.set(built);
    }
    let made = loaded.read_each(needs_extraction, |source| {
        let made = needs_extraction(source).then(|| {
            let cleaned = clean::clean(source, &config.furniture);
            // A build of many articles has set it already, for many texts.
            let matcher = matcher.get_or_init(|| extract::Matcher::new(&catalog));
            extract::extract(source, cleaned, matcher, &config.extract)
        });
        // The paragraphs now hold the text; the raw body is not needed again.
        source.body = String::new();
        made
    });
    let files_read = loaded.files_read();
    let (sources, mut problems, known) = loaded.finish(made);
    let drafts = sources.iter().filter(|(s, _)| s.front.draft).count();
    // Every other article's result is in the cache: its file is unchanged, or was read and
    // found to be.
    let mut from_cache = Vec::with_capacity(sources.len());
    let mut extracted: Vec<(source::Source, cache::Extraction)> = Vec::with_capacity(sources.len());
    for (source, made) in sources {
        if source.front.draft {
            continue;
        }
        let cached = made.is_none();
        match made
            .map(cache::Extraction::from)
            .or_else(|| cache.take(&source))
        {
            Some(result) => {
                from_cache.push(cached);
                extracted.push((source, result));
            }
            None => problems.push(Diagnostic::error(
                &source.path,
                None,
                "its extraction result went missing; delete .dossier-cache and build again",
            )),
        }
    }
    stopwatch.lap("extract");
    // The results move into the dossier's articles, in this order; the cache records them
    // from there.
    let pending = use_cache.then(|| {
        let results = (extracted.iter().zip(&from_cache))
            .map(|((source, result), &cached)| (source.digest, result.warnings.clone(), !cached));
        cache::Pending::new(cache, cache_folder, context, results, known)
    });
    for (_, e) in &extracted {
        problems.extend(e.warnings.iter().cloned());
    }
    if problems.has_errors() {
        return Err(problems.sorted());
    }
    warnings.extend(problems);
    // What a strict check refuses: articles without a date or a headline.
    for (source, extracted) in &extracted {
        let metadata = &extracted.metadata;
        if metadata.date.is_none() {
            warnings.push(Diagnostic::warning(
                &source.path,
                None,
                "undated: no date in front matter and no publication line",
            ));
        }
        if metadata.title_derived {
            warnings.push(Diagnostic::warning(
                &source.path,
                None,
                "no headline: the title was made from the first sentence",
            ));
        }
        for phrase in &metadata.unknown {
            warnings.push(Diagnostic::warning(
                &source.path,
                None,
                format!("{phrase:?} looks like a name the catalogue lacks"),
            ));
        }
    }

    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(&context.to_le_bytes());
    // Debug output is complete and deterministic for these plain data types.
    hasher.update(format!("{config:?}").as_bytes());
    for (source, _) in &extracted {
        hasher.update(&source.digest.to_le_bytes());
    }
    let digest = hasher.digest128();
    let dossier = graph::build(extracted, &catalog, previous_graph.as_ref())
        .map_err(|p| fail(p, warnings.clone()))?;
    stopwatch.lap("graph");
    let analysis = Analysis {
        config,
        catalog,
        dossier,
        drafts,
        files_read,
        warnings,
        digest,
        context,
    };
    Ok((analysis, pending))
}

/// Reads the site at `root` and writes it to `out` (default `root/public`). On failure, every
/// problem found is returned together, errors and warnings, and the previous output is untouched.
pub fn build(root: &Path, out: Option<&Path>, mode: Mode) -> Result<Report, Vec<Diagnostic>> {
    build_with_progress(root, out, mode, &|_| {})
}

/// [`build`], telling `progress` the name of each stage as it starts (for a progress display).
///
/// Should an article body taken from the extraction cache fail to decode when it is read
/// (its file's checksum matched, so only a fault in dossier could cause it), nothing is
/// written: the cache folder is deleted and the build made again from the sources.
pub fn build_with_progress(
    root: &Path,
    out: Option<&Path>,
    mode: Mode,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Report, Vec<Diagnostic>> {
    let started = Instant::now();
    for _attempt in 0..2 {
        match build_once(root, out, mode, progress, started)? {
            Some(report) => return Ok(report),
            None => {
                let _ = std::fs::remove_dir_all(cache::folder(root));
            }
        }
    }
    Err(vec![Diagnostic::general(format!(
        "the extraction cache would not decode, even rebuilt; delete {} and build again",
        cache::folder(root).display()
    ))])
}

/// One attempt at [`build_with_progress`]: `None` when a body from the extraction cache did
/// not decode, and nothing was written.
fn build_once(
    root: &Path,
    out: Option<&Path>,
    mode: Mode,
    progress: &(dyn Fn(&str) + Sync),
    started: Instant,
) -> Result<Option<Report>, Vec<Diagnostic>> {
    progress("reading and extracting");
    let out = out.map_or_else(|| root.join("public"), Path::to_path_buf);
    if mode == Mode::Build {
        write::check_output(root, &out).map_err(|d| vec![d])?;
    }
    // The output is locked and its staging folder made (reading the last build's manifest of
    // it) while the site is read and analysed: neither needs the other, and the analysis leaves
    // a core idle while it extracts a few articles. The lock is held from then until the new
    // output is in place.
    let stage = || match mode {
        Mode::Build => {
            let lock = write::lock(&out)?;
            let sink = write::Sink::stage(&out, &root.join(CACHE_FOLDER))?;
            Ok((Some(lock), sink))
        }
        Mode::Check => Ok((None, write::Sink::discard())),
    };
    let (analysis, staged) = rayon::join(|| analyze_with(root, false, mode == Mode::Build), stage);
    let (
        Analysis {
            config,
            dossier,
            drafts,
            files_read,
            warnings,
            digest,
            context,
            ..
        },
        pending_cache,
    ) = analysis?;
    let mut stopwatch = Stopwatch::new();
    let with_warnings = |d: Diagnostic| {
        let mut problems = Diagnostics::new();
        problems.push(d);
        fail(problems, warnings.clone())
    };
    let (_lock, sink) = staged.map_err(with_warnings)?;
    progress("rendering pages, the search index and the exports");
    let theme = theme::Theme::new(&config);
    // Side by side: each is parallel inside, but the index and the exports have sequential
    // steps (joining postings, writing large files) that the others fill, and the three write
    // into different files.
    let timed = |work: &dyn Fn() -> Result<(), Diagnostics>| {
        let started = Instant::now();
        (work(), started.elapsed())
    };
    // The exports are made from the dossier alone: when it is unchanged and their files are
    // untouched, the previous build's files are kept. The search index keeps each segment
    // whose articles are unchanged.
    // The search index keeps its newest segment's terms in the cache folder too.
    let search_cache = (mode == Mode::Build).then(|| cache::folder(root));
    let tokenized = std::sync::atomic::AtomicUsize::new(0);
    let index = || -> Result<(), Diagnostics> {
        let count = search::write_index(
            &dossier,
            config.search,
            context,
            &sink,
            search_cache.as_deref(),
        )?;
        tokenized.store(count, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    };
    // A rebuild copies each unchanged article's part of an export from the last build's file;
    // the list of parts is kept in the cache folder (a check neither reads nor writes it).
    let parts_file = (mode == Mode::Build).then(|| cache::folder(root).join(export::PARTS_FILE));
    let export_parts = std::sync::Mutex::new(export::PartStats::default());
    let exports = || -> Result<(), Diagnostics> {
        if let Some(group) = sink.group("exports", digest)? {
            let stats = export::exports(&dossier, &group, context, parts_file.as_deref())?;
            *export_parts.lock().unwrap_or_else(|e| e.into_inner()) = stats;
        }
        Ok(())
    };
    // The extraction cache is recorded beside them too: it is a large file to write, and
    // needs nothing they make.
    let record_cache = || {
        let started = Instant::now();
        if let Some(pending) = pending_cache {
            pending.record(&dossier);
        }
        started.elapsed()
    };
    // Started in the order of how much of each is sequential: the cache (one large file
    // written in order), the exports (large files, each written in order), the search index
    // (its postings joined in order), then the pages, parallel throughout, which fill
    // whatever core the others leave idle. One core starts on the cache while the other
    // starts on the rest. Started last, as it was, the cache ended the stage alone on one
    // core: 1-2 s of a 100,000-article build, 0.1 s at 10,000.
    let (cache_took, ((exported, exports_took), ((indexed, search_took), (rendered, render_took)))) =
        rayon::join(record_cache, || {
            rayon::join(
                || timed(&exports),
                || {
                    rayon::join(
                        || timed(&index),
                        || {
                            timed(&|| {
                                render::render(&dossier, &config, &theme, digest, context, &sink)
                            })
                        },
                    )
                },
            )
        });
    stopwatch.side("render", render_took);
    stopwatch.side("search", search_took);
    stopwatch.side("exports", exports_took);
    let export_parts = export_parts.into_inner().unwrap_or_else(|e| e.into_inner());
    stopwatch.side("cache", cache_took);
    let mut problems = Diagnostics::new();
    for result in [rendered, indexed, exported] {
        problems.extend(result.err().unwrap_or_default());
    }
    // A body that did not decode read as empty: whatever was made from it is not written.
    let damaged = || dossier.articles.iter().any(|a| a.body.is_damaged());
    if damaged() {
        return Ok(None);
    }
    if problems.has_errors() {
        return Err(fail(problems, warnings.clone()));
    }
    stopwatch.lap("pages, search and exports");
    progress("feeds");
    let mut notes = Vec::new();
    match &config.base_url {
        Some(base_url) => {
            let html: Vec<PathBuf> = sink
                .paths()
                .into_iter()
                .filter(|p| p.extension().is_some_and(|x| x == "html"))
                .collect();
            sink.put_all(feeds::feeds(&dossier, &config.title, base_url, &html))
                .map_err(with_warnings)?;
        }
        None => notes.push(
            "no base_url in site.toml, so no Atom feeds, sitemap.xml or robots.txt (they need \
             absolute addresses)"
                .to_string(),
        ),
    }
    stopwatch.lap("feeds");
    if damaged() {
        return Ok(None);
    }
    let pages = sink.count();
    progress("writing");
    let written = sink.finish().map_err(with_warnings)?;
    stopwatch.lap("swap");
    let output = written.map(|_| out.clone());
    let (articles, entities) = (dossier.articles.len(), dossier.entities.len());
    // Freeing the dossier's millions of small allocations takes tens of milliseconds at 10,000
    // articles; nobody waits for it.
    // (Should no thread start, it is freed here, as the closure goes.)
    let _ = std::thread::Builder::new().spawn(move || drop(dossier));
    Ok(Some(Report {
        articles,
        drafts,
        files_read,
        entities,
        pages,
        written,
        elapsed: started.elapsed(),
        output,
        warnings: warnings.sorted(),
        notes,
        export_parts,
        search_tokenized: tokenized.into_inner(),
    }))
}
