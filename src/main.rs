//! The `dossier` command line: parses arguments, runs a build, prints problems.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

// Builds allocate many small strings on every core at once; mimalloc serves them faster than
// the system allocator (a quarter of a build's time went to malloc and free). It asks for
// transparent huge pages where the system gives them on request (`madvise`): a one-article
// rebuild at 10,000 articles touches about 200 MB of fresh memory, which in 4 KiB pages took
// 47,000 page faults, a fifth of its processor time; with 2 MiB pages it takes 3,000, and the
// rebuild 0.21 s instead of 0.23 s (medians of 14 alternating rounds). A full build takes as
// long either way, with 25-30 MB more memory at its peak.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's number for its purge delay option: `mi_option_purge_delay` in mimalloc 3's
/// `mimalloc.h`, which libmimalloc-sys does not name. A test checks it by its default.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Has a build keep the memory it frees for its own later allocations. By default mimalloc hands
/// memory freed a second earlier back to the system, and a build that runs for several seconds
/// then takes it back as fresh pages the system must zero again. At 100,000 articles that was
/// 47,000-79,000 page faults against 4,300-22,000 without purging, and full builds took
/// 26.3-32.4 s against 24.4-30.5 s (3 alternating rounds, each won by the build that kept its
/// memory, by 1.7-1.9 s); at 10,000 articles it made no difference (medians 2.25 s and 2.15 s
/// of 6 rounds). The process ends with the build, and its memory with it. Not for `serve`,
/// which runs on between rebuilds; nor when `MIMALLOC_PURGE_DELAY` says otherwise.
fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one of mimalloc's options, which it reads each time it purges; any
        // value is valid, and -1 means never.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
}

/// Exit code of a build that found content or configuration errors.
const EXIT_CONTENT: u8 = 1;

/// Builds a linked dossier from news articles.
///
/// Exit codes: 0 success; 1 content or configuration errors (every problem is listed as
/// `path:line: message`); 2 usage errors.
#[derive(Parser)]
#[command(name = "dossier", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Builds the site into DIR/public (or --out) and prints the page to open.
    Build {
        /// The site folder, holding site.toml and content/.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Where to write the site (default: ROOT/public).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Reads, extracts and renders everything without writing: for CI gates.
    Check {
        /// The site folder, holding site.toml and content/.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Treat warnings as errors.
        #[arg(long)]
        strict: bool,
    },
    /// Serves the dossier on 127.0.0.1, rebuilding and reloading open pages when content,
    /// themes or site.toml change.
    Serve {
        /// The site folder, holding site.toml and content/.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// The port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 1111)]
        port: u16,
    },
    /// Creates content/articles/<date>-<slug>.md with its front matter; never overwrites.
    New {
        /// The article's title.
        title: String,
        /// The site folder, holding site.toml and content/.
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
    /// Creates a new dossier in DIR: site.toml, the default theme, an example catalogue and an
    /// example article, ready to build.
    Init {
        /// The folder to create (missing or empty).
        dir: PathBuf,
    },
    /// Lists the entities found in the articles, with article and mention counts.
    Entities {
        /// The site folder, holding site.toml and content/.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// List instead the names the catalogue lacks: people found by rule and capitalized
        /// phrases that look like places or organizations, with the files they occur in.
        #[arg(long)]
        unknown: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (root, out, mode, strict) = match cli.command {
        Command::Build { root, out } => (root, out, dossier::Mode::Build, false),
        Command::Check { root, strict } => (root, None, dossier::Mode::Check, strict),
        Command::Entities { root, unknown } => return entities(&root, unknown),
        Command::New { title, root } => {
            let today = chrono::Local::now().date_naive();
            return match dossier::scaffold::new_article(&root, &title, today) {
                Ok(path) => {
                    println!("created {}", path.display());
                    ExitCode::SUCCESS
                }
                Err(problem) => refuse(&problem),
            };
        }
        Command::Serve { root, port } => {
            let served = dossier::serve::serve(&root, port, |address| {
                println!("serving http://{address}/index.html (press Ctrl-C to stop)");
            });
            return match served {
                Ok(()) => ExitCode::SUCCESS,
                Err(problem) => refuse(&problem),
            };
        }
        Command::Init { dir } => {
            return match dossier::scaffold::init(&dir) {
                Ok(files) => {
                    println!(
                        "created a dossier in {} ({} files); build it with: dossier build --root {}",
                        dir.display(),
                        files.len(),
                        dir.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(problem) => refuse(&problem),
            };
        }
    };
    keep_freed_memory();
    // On a terminal, builds that take over a second show a spinner with the current stage; in CI
    // (no terminal) the summary line below is all.
    let bar = indicatif::ProgressBar::hidden();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let started = std::time::Instant::now();
    let progress = |stage: &str| {
        if terminal && bar.is_hidden() && started.elapsed() > std::time::Duration::from_secs(1) {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
        }
        bar.set_message(stage.to_string());
    };
    let result = dossier::build_with_progress(&root, out.as_deref(), mode, &progress);
    bar.finish_and_clear();
    let code = match result {
        Ok(report) => {
            for warning in &report.warnings {
                eprintln!("{warning}");
            }
            for note in &report.notes {
                eprintln!("note: {note}");
            }
            let pages = report.pages;
            let seconds = report.elapsed.as_secs_f64();
            let rewritten = report.written.map_or(String::new(), |w| {
                format!(" ({} written, {} unchanged)", w.written, w.carried)
            });
            println!(
                "{} articles ({} drafts skipped), {} entities, {} files{rewritten} in {:.2} s",
                report.articles, report.drafts, report.entities, pages, seconds
            );
            if let Some(out) = &report.output {
                let index = std::fs::canonicalize(out)
                    .unwrap_or_else(|_| out.clone())
                    .join("index.html");
                println!("open {}", index.display());
            }
            if strict {
                // A strict check also refuses names the catalogue lacks, which only it looks for.
                let unknown = match dossier::analyze(&root, true) {
                    Ok(analysis) => analysis
                        .warnings
                        .len()
                        .saturating_sub(report.warnings.len()),
                    Err(problems) => {
                        print_problems(&problems);
                        end_now(EXIT_CONTENT)
                    }
                };
                let total = report.warnings.len() + unknown;
                if total > 0 {
                    if unknown > 0 {
                        eprintln!(
                            "{unknown} names look like entities the catalogue lacks (dossier entities --unknown lists them)"
                        );
                    }
                    eprintln!("error: {total} warnings, and --strict treats them as errors");
                    end_now(EXIT_CONTENT)
                }
            }
            0
        }
        Err(problems) => {
            print_problems(&problems);
            EXIT_CONTENT
        }
    };
    end_now(code)
}

/// Ends the process with `code` at once, without what runs at exit: the allocator's clean-up,
/// which hands every freed page back to the system (about 10 ms of a 0.2 s rebuild of 10,000
/// articles, for a process about to end anyway), and the freeing of the dossier, still going
/// on a thread of its own. Every file of the build is written by now; the standard streams are
/// flushed first.
fn end_now(code: u8) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: `_exit` ends the process; nothing after this point needs to run, and no Rust code
    // does.
    unsafe { libc::_exit(i32::from(code)) }
}

/// `new` and `init` refuse rather than fail a build.
fn refuse(problem: &dossier::error::Diagnostic) -> ExitCode {
    eprintln!("error: {problem}");
    ExitCode::from(EXIT_CONTENT)
}

/// Prints a failed build's problems, then how many are errors.
fn print_problems(problems: &[dossier::error::Diagnostic]) {
    for problem in problems {
        eprintln!("{problem}");
    }
    let errors = problems.iter().filter(|p| p.is_error()).count();
    let plural = if errors == 1 { "" } else { "s" };
    eprintln!(
        "error: the build failed with {errors} error{plural}; the previous output is unchanged"
    );
}

/// `dossier entities`: what extraction found, or with `--unknown` what the catalogue lacks.
fn entities(root: &std::path::Path, unknown: bool) -> ExitCode {
    let analysis = match dossier::analyze(root, unknown) {
        Ok(analysis) => analysis,
        Err(problems) => {
            print_problems(&problems);
            return ExitCode::from(EXIT_CONTENT);
        }
    };
    let dossier = &analysis.dossier;
    if unknown {
        let mut names: std::collections::BTreeMap<
            (String, String),
            std::collections::BTreeSet<String>,
        > = Default::default();
        for article in &dossier.articles {
            let file = article.path.display().to_string();
            for name in article.metadata.new_names.values() {
                names
                    .entry(("person".to_string(), name.clone()))
                    .or_default()
                    .insert(file.clone());
            }
            for phrase in &article.metadata.unknown {
                names
                    .entry(("name".to_string(), phrase.clone()))
                    .or_default()
                    .insert(file.clone());
            }
        }
        println!("kind\tname\tfiles");
        for ((kind, name), files) in names {
            let files: Vec<String> = files.into_iter().collect();
            println!("{kind}\t{name}\t{}", files.join(" "));
        }
    } else {
        println!("kind\tname\tarticles\tmentions\tcatalogued");
        for node in dossier.entities.values().filter(|n| !n.articles.is_empty()) {
            println!(
                "{}\t{}\t{}\t{}\t{}",
                node.entity.key.kind,
                node.entity.name,
                node.articles.len(),
                node.mention_count,
                if node.entity.defined_at.is_some() {
                    "yes"
                } else {
                    "no"
                }
            );
        }
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option set by number is the purge delay: of mimalloc's options, only it defaults to
    /// 1,000 (milliseconds). Should a mimalloc upgrade renumber its options, this fails.
    #[test]
    fn the_option_kept_freed_memory_sets_is_mimallocs_purge_delay() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // SAFETY: reads one of mimalloc's options.
        let value = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(value, 1000);
    }
}
