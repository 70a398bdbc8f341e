//! Reading articles: walks `content/articles/` in sorted order, decodes each file and splits off
//! its front matter.
//!
//! Owns every read of an article file. Parsing is split from reading ([`parse`] takes text), so
//! front matter can be tested without a disk. A rebuild does not read a file whose [`Stamp`]
//! (size, inode and times) is the one the last build saw ([`KnownFiles`]): what reading it gave
//! then is taken, and its extraction result comes from the cache.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::NaiveDate;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use walkdir::WalkDir;

use crate::error::{Diagnostic, Diagnostics, line_of};
use crate::extract::dates::parse_date;

/// The folder under the site root that holds the articles.
pub const ARTICLES_DIR: &str = "content/articles";

/// How an article's body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Format {
    /// Markdown (`.md`), rendered with pulldown-cmark.
    Markdown,
    /// Plain text as scraped (`.txt`), never parsed as Markdown.
    Text,
}

/// What an article's front matter states. Everything is optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FrontMatter {
    /// The title; wins over the headline found in the text.
    pub title: Option<String>,
    /// The publication date; wins over a publication line in the text.
    pub date: Option<NaiveDate>,
    /// The address the article was taken from.
    pub source: Option<String>,
    /// The author or byline.
    pub author: Option<String>,
    /// The page name of the article (`articles/<slug>.html`).
    pub slug: Option<String>,
    /// A draft is read and checked but not published.
    pub draft: bool,
    /// Places to add to what extraction finds (canonical names or aliases).
    pub places: Vec<String>,
    /// Agencies to add.
    pub agencies: Vec<String>,
    /// People to add.
    pub people: Vec<String>,
    /// Laws to add.
    pub laws: Vec<String>,
    /// Names (canonical or alias) of entities extraction must not report for this article.
    pub exclude: Vec<String>,
    /// Keys dossier does not know (`layout`, `tags`, ...), kept as data.
    #[serde(with = "json_text")]
    pub extra: BTreeMap<String, Value>,
}

/// Front-matter data kept as JSON text in the cache, whose binary encoding cannot hold a JSON
/// value of any shape.
mod json_text {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use serde_json::Value;

    pub fn serialize<S: Serializer>(
        map: &BTreeMap<String, Value>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(map).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<String, Value>, D::Error> {
        let text = <&str>::deserialize(deserializer)?;
        serde_json::from_str(text).map_err(D::Error::custom)
    }
}

/// One article file, read and split.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Source {
    /// The file, relative to the site root (`content/articles/x.txt`).
    pub path: PathBuf,
    /// Markdown or plain text.
    pub format: Format,
    /// Its front matter (default when it has none).
    pub front: FrontMatter,
    /// The text after the front matter, with line ends normalized to `\n`.
    pub body: String,
    /// The file line the body starts on (1-based), for messages about the body.
    pub body_line: usize,
    /// A hash of the file's path and bytes: what its cached extraction is filed under.
    pub digest: u128,
}

/// Files read at once when loading articles: reading waits on the disk more than on the
/// processor when the files are not cached, so more reads are kept in flight than there are
/// cores.
const READ_THREADS: usize = 8;

/// Files read before their window is handed on (see [`Loaded::read_each`]).
const READ_WINDOW: usize = 256;

/// How long after its last change a file's [`Stamp`] vouches for its bytes. A write within
/// the same tick of the file system's clock as the change before it leaves the stamp as it
/// was; 2 s covers the coarsest clocks in use (FAT keeps even seconds).
const SETTLED_AFTER: Duration = Duration::from_secs(2);

/// A file's version on disk, known without reading it: its device, inode, size, and the times
/// of its last modification and last status change (nanoseconds since 1970). Writing to a
/// file, replacing it or touching it gives it another stamp; the status-change time cannot be
/// set back by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    device: u64,
    inode: u64,
    size: u64,
    modified: i128,
    changed: i128,
}

impl Stamp {
    /// The stamp of a file with `metadata`; `None` where the system does not give one (then
    /// the file is always read).
    pub(crate) fn of(metadata: &std::fs::Metadata) -> Option<Stamp> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let nanos =
                |seconds: i64, nanos: i64| i128::from(seconds) * 1_000_000_000 + i128::from(nanos);
            Some(Stamp {
                device: metadata.dev(),
                inode: metadata.ino(),
                size: metadata.size(),
                modified: nanos(metadata.mtime(), metadata.mtime_nsec()),
                changed: nanos(metadata.ctime(), metadata.ctime_nsec()),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = metadata;
            None
        }
    }

    /// Whether the file last changed at least [`SETTLED_AFTER`] before `now`: any later write
    /// then gets a later time, so a file with this stamp still holds the bytes read.
    pub(crate) fn settled(&self, now: SystemTime) -> bool {
        let now = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        let latest = self.changed.max(self.modified);
        latest + (SETTLED_AFTER.as_nanos() as i128) < now
    }
}

/// What reading each article file gave an earlier build, by path, with the file's stamp then:
/// a file whose stamp is the same is not read again (see [`load_known`]). Kept in the cache
/// folder by [`crate::cache`].
#[derive(Debug, Default, Deserialize)]
pub struct KnownFiles {
    files: Vec<(PathBuf, KnownFile)>,
}

/// One file of [`KnownFiles`].
#[derive(Debug, Clone, Serialize, Deserialize)]
struct KnownFile {
    stamp: Stamp,
    /// The source read, without its body.
    source: Source,
    /// The warnings reading it gave.
    problems: Vec<Diagnostic>,
}

/// [`KnownFiles`] as the cache folder keeps it (postcard), encoded from the sources a build
/// holds rather than from copies of them (see [`Loaded::finish`]).
pub struct KnownFilesRecord(pub Vec<u8>);

/// [`KnownFiles`] borrowing its sources: encodes as it does.
#[derive(Serialize)]
struct KnownFilesRef<'s> {
    files: Vec<(&'s Path, KnownFileRef<'s>)>,
}

/// [`KnownFile`] borrowing its source: encodes as it does.
#[derive(Serialize)]
struct KnownFileRef<'s> {
    stamp: Stamp,
    source: &'s Source,
    problems: &'s [Diagnostic],
}

impl KnownFilesRecord {
    /// Encodes the `kept` sources of `sources` (by index, each with its stamp and the
    /// warnings reading it gave), without their bodies; `None` when one cannot be encoded (a
    /// path that is not UTF-8): the next build then reads every file.
    fn encode<T>(
        sources: &mut [(Source, Option<T>)],
        kept: &[(usize, Stamp, Vec<Diagnostic>)],
    ) -> Option<Self> {
        // Bodies are not part of the record: set aside while it is encoded.
        let bodies: Vec<String> = (kept.iter())
            .map(|&(index, ..)| std::mem::take(&mut sources[index].0.body))
            .collect();
        let files = (kept.iter())
            .map(|(index, stamp, problems)| {
                let source = &sources[*index].0;
                let file = KnownFileRef {
                    stamp: *stamp,
                    source,
                    problems,
                };
                (source.path.as_path(), file)
            })
            .collect();
        let encoded = postcard::to_stdvec(&KnownFilesRef { files }).ok();
        for (&(index, ..), body) in kept.iter().zip(bodies) {
            sources[index].0.body = body;
        }
        encoded.map(KnownFilesRecord)
    }
}

/// The article files of a site, each read or taken from [`KnownFiles`] without its body.
pub struct Loaded {
    root: PathBuf,
    files: Vec<LoadedFile>,
    /// Problems finding the files.
    problems: Diagnostics,
    /// When the files were looked at: which stamps are settled is judged from it.
    started: SystemTime,
    /// Whether the known files given differ from what this load knows.
    known_changed: bool,
}

struct LoadedFile {
    /// The file as found.
    path: PathBuf,
    stamp: Option<Stamp>,
    source: Option<Source>,
    problems: Diagnostics,
    state: FileState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileState {
    /// Not read yet, and nothing known of it.
    Unread,
    /// Taken from what an earlier build knew, unread.
    Taken,
    /// Read by this build.
    Read,
}

/// Finds, reads and parses every article under `root/content/articles/`, in path order.
/// Problems of all files are collected; warnings come back with the sources.
pub fn load(root: &Path) -> (Vec<Source>, Diagnostics) {
    let mut loaded = load_known(root, KnownFiles::default());
    let nothing = loaded.read_each(|_| false, |_| None::<()>);
    let (sources, problems, _) = loaded.finish(nothing);
    (
        sources.into_iter().map(|(source, _)| source).collect(),
        problems,
    )
}

/// Finds the article files under `root/content/articles/`, in path order, and takes each file
/// whose stamp `known` lists unchanged from there, without its body, instead of reading it.
/// The others are read by [`Loaded::read_each`].
pub fn load_known(root: &Path, known: KnownFiles) -> Loaded {
    let started = SystemTime::now();
    let mut problems = Diagnostics::new();
    let dir = root.join(ARTICLES_DIR);
    if !dir.is_dir() {
        problems.push(Diagnostic::error(
            ARTICLES_DIR,
            None,
            "there is no articles folder: put the articles in content/articles/",
        ));
        return Loaded {
            root: root.to_path_buf(),
            files: Vec::new(),
            problems,
            started,
            known_changed: !known.files.is_empty(),
        };
    }
    let mut paths = Vec::new();
    for entry in WalkDir::new(&dir).follow_links(true) {
        match entry {
            Ok(entry) if entry.file_type().is_file() => {
                let path = entry.into_path();
                if format_of(&path).is_some() {
                    paths.push(path);
                }
            }
            Ok(_) => {}
            Err(e) => {
                let shown = e
                    .path()
                    .map(|p| crate::error::relative(root, p))
                    .unwrap_or_else(|| ARTICLES_DIR.into());
                let message = if e.loop_ancestor().is_some() {
                    "a symbolic link loops back to a folder above it; skipped".to_string()
                } else {
                    format!("cannot read: {e}")
                };
                problems.push(Diagnostic::error(shown, None, message));
            }
        }
    }
    // In the order of a walk that visits each folder's entries by name: component by
    // component. Sorted here, at once, by the bytes of each path with its separators made
    // the lowest byte, which orders them so (no name holds a zero byte): sorting each folder's
    // entries as the walk read them, or comparing paths as paths, found the file names anew
    // at every comparison (1% and 3% of a one-article rebuild of 10,000 articles).
    paths.sort_by_cached_key(|path| walk_order_key(path));
    let known_count = known.files.len();
    let mut known: FxHashMap<PathBuf, KnownFile> = known.files.into_iter().collect();
    let work: Vec<(PathBuf, Option<KnownFile>)> = paths
        .into_iter()
        .map(|path| {
            let earlier = known.remove(&crate::error::relative(root, &path));
            (path, earlier)
        })
        .collect();
    let take = |(path, earlier): (PathBuf, Option<KnownFile>)| {
        if let Some(earlier) = earlier
            && let Ok(metadata) = std::fs::metadata(&path)
            && Stamp::of(&metadata) == Some(earlier.stamp)
        {
            let mut problems = Diagnostics::new();
            problems.extend(earlier.problems);
            return LoadedFile {
                path,
                stamp: Some(earlier.stamp),
                source: Some(earlier.source),
                problems,
                state: FileState::Taken,
            };
        }
        LoadedFile {
            path,
            stamp: None,
            source: None,
            problems: Diagnostics::new(),
            state: FileState::Unread,
        }
    };
    let files: Vec<LoadedFile> = work.into_par_iter().map(take).collect();
    let taken = files.iter().filter(|f| f.state == FileState::Taken).count();
    Loaded {
        root: root.to_path_buf(),
        files,
        problems,
        started,
        // Some file the earlier build knew was not taken: gone, or changed.
        known_changed: taken != known_count,
    }
}

/// The bytes of `path` with each separator made zero: paths sorted by it are in the order of
/// their components (see [`load_known`]).
fn walk_order_key(path: &Path) -> Vec<u8> {
    (path.as_os_str().as_encoded_bytes().iter())
        .map(|&byte| {
            if std::path::is_separator(byte.into()) {
                0
            } else {
                byte
            }
        })
        .collect()
}

/// Reads and parses one article file. Its stamp is taken from the open file before it is
/// read, so a write during the read gives the file a later stamp than the one kept.
fn read(root: &Path, path: PathBuf) -> LoadedFile {
    let shown = crate::error::relative(root, &path);
    let mut problems = Diagnostics::new();
    let mut stamp = None;
    let bytes = std::fs::File::open(&path).and_then(|mut file| {
        let metadata = file.metadata()?;
        stamp = Stamp::of(&metadata);
        let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
        file.read_to_end(&mut bytes)?;
        Ok(bytes)
    });
    let source = match bytes {
        Ok(bytes) => {
            let mut hasher = xxhash_rust::xxh3::Xxh3::new();
            hasher.update(shown.as_os_str().as_encoded_bytes());
            hasher.update(&[0]);
            hasher.update(&bytes);
            let digest = hasher.digest128();
            let text = decode(&shown, bytes, &mut problems);
            let format = format_of(&path).unwrap_or(Format::Text);
            parse(&shown, format, text, &mut problems).map(|s| Source { digest, ..s })
        }
        Err(e) => {
            problems.push(Diagnostic::error(&shown, None, format!("cannot read: {e}")));
            None
        }
    };
    LoadedFile {
        path,
        stamp,
        source,
        problems,
        state: FileState::Read,
    }
}

impl Loaded {
    /// Reads the files not taken from what an earlier build knew, and those taken whose
    /// source `wanted` says is needed with its body after all (the extraction cache lacks its
    /// result). `then` is handed each source read, and may take its body; what it returns
    /// comes back per file, in path order (`None` for files not read).
    ///
    /// Files are read `READ_WINDOW` (256) at a time, `READ_THREADS` (8) at once, and each window
    /// is handed to `then` on the global pool while the next is read. So the bodies are never
    /// all in memory at once (at 100,000 articles they are half a gigabyte), reads wait on
    /// the disk side by side, and `then` runs on as many threads as there are cores: when it
    /// ran on the reading threads, each of the eight built its own lazy automata for every
    /// pattern extraction uses, a seventh of a 1,000-article build's instructions.
    pub fn read_each<T: Send>(
        &mut self,
        wanted: impl Fn(&Source) -> bool + Sync,
        then: impl Fn(&mut Source) -> Option<T> + Sync,
    ) -> Vec<Option<T>> {
        let root = &self.root;
        // Reads `file` if it is to be read, and says whether it was.
        let read_one = |file: &mut LoadedFile| -> bool {
            let needed = match file.state {
                FileState::Unread => true,
                FileState::Taken => file.source.as_ref().is_some_and(&wanted),
                FileState::Read => false,
            };
            if needed {
                *file = read(root, std::mem::take(&mut file.path));
            }
            needed
        };
        let then_one = |(file, was_read): (&mut LoadedFile, bool)| {
            was_read.then(|| file.source.as_mut().and_then(&then))?
        };
        // The global pool reads if this pool cannot be made.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(READ_THREADS.max(rayon::current_num_threads()))
            .build()
            .ok();
        let read_window = |window: &mut [LoadedFile]| -> Vec<bool> {
            match &pool {
                Some(pool) => pool.install(|| window.par_iter_mut().map(read_one).collect()),
                None => window.par_iter_mut().map(read_one).collect(),
            }
        };
        let mut results = Vec::with_capacity(self.files.len());
        let mut windows = self.files.chunks_mut(READ_WINDOW);
        let mut ready: Option<(&mut [LoadedFile], Vec<bool>)> = None;
        loop {
            let next = windows.next();
            if next.is_none() && ready.is_none() {
                return results;
            }
            let done = ready.take();
            let (read, made) = rayon::join(
                || {
                    next.map(|window| {
                        let was_read = read_window(window);
                        (window, was_read)
                    })
                },
                || {
                    done.map(|(window, was_read)| {
                        (window.par_iter_mut().zip(was_read))
                            .map(then_one)
                            .collect::<Vec<_>>()
                    })
                },
            );
            results.extend(made.into_iter().flatten());
            ready = read;
        }
    }

    /// How many files [`Loaded::read_each`] will read at least: those nothing is known of.
    pub fn files_unread(&self) -> usize {
        (self.files.iter())
            .filter(|f| f.state == FileState::Unread)
            .count()
    }

    /// How many files were read (not taken from what an earlier build knew).
    pub fn files_read(&self) -> usize {
        (self.files.iter())
            .filter(|f| f.state == FileState::Read)
            .count()
    }

    /// The sources in path order, each with what [`Loaded::read_each`] returned for its file
    /// (`results`), the problems of all files, and what a later build may take from this one:
    /// `None` when that is what it was given.
    #[allow(clippy::type_complexity)]
    pub fn finish<T>(
        self,
        results: Vec<Option<T>>,
    ) -> (
        Vec<(Source, Option<T>)>,
        Diagnostics,
        Option<KnownFilesRecord>,
    ) {
        let Loaded {
            files,
            mut problems,
            started,
            known_changed,
            ..
        } = self;
        let changed = known_changed || files.iter().any(|f| f.state != FileState::Taken);
        // The sources a later build may take, by index, with their stamps and warnings: they
        // are encoded from `sources` at the end (copying 10,000 sources for the record took
        // 8 ms of a one-article rebuild).
        let mut kept = Vec::new();
        let mut sources = Vec::with_capacity(files.len());
        let results = results.into_iter().chain(std::iter::repeat_with(|| None));
        for (file, result) in files.into_iter().zip(results) {
            if changed
                && let (Some(stamp), Some(_)) = (file.stamp, &file.source)
                && (file.state == FileState::Taken || stamp.settled(started))
            {
                kept.push((
                    sources.len(),
                    stamp,
                    file.problems.iter().cloned().collect(),
                ));
            }
            problems.extend(file.problems);
            sources.extend(file.source.map(|source| (source, result)));
        }
        let known = changed
            .then(|| KnownFilesRecord::encode(&mut sources, &kept))
            .flatten();
        (sources, problems, known)
    }
}

fn format_of(path: &Path) -> Option<Format> {
    match path.extension()?.to_str()? {
        "md" | "markdown" => Some(Format::Markdown),
        "txt" => Some(Format::Text),
        _ => None,
    }
}

/// Decodes an article's bytes: UTF-8 (a byte order mark is dropped), or else Windows-1252 with a
/// warning naming the first byte that is not UTF-8. Text that is UTF-8 keeps the bytes' own
/// buffer: every article is read once, and a copy of each would be as many bytes again
/// allocated and freed (about 800 MB at 100,000 articles).
pub fn decode(shown: &Path, bytes: Vec<u8>, problems: &mut Diagnostics) -> String {
    let mut text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let line = bytes[..offset].iter().filter(|&&b| b == b'\n').count() + 1;
            problems.push(Diagnostic::warning(
                shown,
                Some(line),
                format!("not UTF-8 (byte offset {offset}); read as Windows-1252"),
            ));
            encoding_rs::WINDOWS_1252.decode(&bytes).0.into_owned()
        }
    };
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    if text.contains('\r') {
        text = text.replace("\r\n", "\n").replace('\r', "\n");
    }
    text
}

/// Splits front matter off `text` and reads it. Returns `None` when the front matter is broken
/// (the problem is in `problems`).
///
/// The body keeps `text`'s buffer, with the front matter cut off its start.
pub fn parse(
    shown: &Path,
    format: Format,
    text: String,
    problems: &mut Diagnostics,
) -> Option<Source> {
    let (front, body_start, body_line) = match split_front_matter(&text) {
        Split::None => (FrontMatter::default(), 0, 1),
        Split::Unclosed(fence) => {
            problems.push(Diagnostic::error(
                shown,
                Some(1),
                format!("front matter opened with {fence} is never closed by a {fence} line"),
            ));
            return None;
        }
        Split::Found {
            fence,
            matter,
            body,
            body_line,
        } => {
            let table = if fence == "+++" {
                parse_toml(shown, matter, problems)?
            } else {
                parse_yaml(shown, matter, problems)?
            };
            (
                read_front_matter(shown, matter, table, problems)?,
                // The body is the rest of the text.
                text.len() - body.len(),
                body_line,
            )
        }
    };
    let mut body = text;
    body.drain(..body_start);
    if body.trim().is_empty() {
        problems.push(Diagnostic::warning(
            shown,
            Some(body_line),
            "the article has no text",
        ));
    }
    Some(Source {
        path: shown.to_path_buf(),
        format,
        front,
        body,
        body_line,
        digest: 0,
    })
}

enum Split<'a> {
    None,
    Unclosed(&'static str),
    Found {
        fence: &'static str,
        matter: &'a str,
        body: &'a str,
        body_line: usize,
    },
}

fn split_front_matter(text: &str) -> Split<'_> {
    let fence = match text.lines().next().map(str::trim_end) {
        Some("+++") => "+++",
        Some("---") => "---",
        _ => return Split::None,
    };
    let start = text.find('\n').map_or(text.len(), |i| i + 1);
    let mut offset = start;
    for line in text[start..].split_inclusive('\n') {
        let bare = line.trim_end();
        if bare == fence || (fence == "---" && bare == "...") {
            let matter = &text[start..offset];
            let body_start = offset + line.len();
            return Split::Found {
                fence,
                matter,
                body: &text[body_start..],
                body_line: line_of(text, body_start),
            };
        }
        offset += line.len();
    }
    Split::Unclosed(fence)
}

// Front matter lines are counted from the file's first line: the fence is line 1.
const MATTER_FIRST_LINE: usize = 2;

fn parse_toml(
    shown: &Path,
    matter: &str,
    problems: &mut Diagnostics,
) -> Option<BTreeMap<String, Value>> {
    match matter.parse::<toml::Table>() {
        Ok(table) => Some(
            table
                .into_iter()
                .map(|(k, v)| (k, toml_to_json(v)))
                .collect(),
        ),
        Err(e) => {
            let line = e.span().map_or(MATTER_FIRST_LINE, |s| {
                line_of(matter, s.start) + MATTER_FIRST_LINE - 1
            });
            problems.push(Diagnostic::error(
                shown,
                Some(line),
                format!("invalid TOML front matter: {}", e.message().trim()),
            ));
            None
        }
    }
}

fn parse_yaml(
    shown: &Path,
    matter: &str,
    problems: &mut Diagnostics,
) -> Option<BTreeMap<String, Value>> {
    if matter.trim().is_empty() {
        return Some(BTreeMap::new());
    }
    match serde_norway::from_str::<serde_norway::Value>(matter) {
        Ok(serde_norway::Value::Mapping(map)) => {
            let mut out = BTreeMap::new();
            for (k, v) in map {
                let key = match k {
                    serde_norway::Value::String(s) => s,
                    other => serde_json::to_string(&other).unwrap_or_default(),
                };
                out.insert(key, serde_json::to_value(v).unwrap_or(Value::Null));
            }
            Some(out)
        }
        Ok(serde_norway::Value::Null) => Some(BTreeMap::new()),
        Ok(_) => {
            problems.push(Diagnostic::error(
                shown,
                Some(MATTER_FIRST_LINE),
                "YAML front matter must be a list of key: value lines",
            ));
            None
        }
        Err(e) => {
            let line = e
                .location()
                .map_or(MATTER_FIRST_LINE, |l| l.line() + MATTER_FIRST_LINE - 1);
            let message = e.to_string();
            // The location is already in the prefix; drop the parser's own "at line N" tail.
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_string();
            problems.push(Diagnostic::error(
                shown,
                Some(line),
                format!("invalid YAML front matter: {message}"),
            ));
            None
        }
    }
}

fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect())
        }
    }
}

fn read_front_matter(
    shown: &Path,
    matter: &str,
    table: BTreeMap<String, Value>,
    problems: &mut Diagnostics,
) -> Option<FrontMatter> {
    let mut front = FrontMatter::default();
    let mut ok = true;
    let line =
        |key: &str| crate::config::line_of_key(matter, key).map(|l| l + MATTER_FIRST_LINE - 1);
    for (key, value) in table {
        let mut bad = |expected: &str| {
            problems.push(Diagnostic::error(
                shown,
                line(&key),
                format!("front matter key {key:?} must be {expected}"),
            ));
            ok = false;
        };
        match key.as_str() {
            "title" | "source" | "author" | "slug" => match value {
                Value::String(s) => {
                    let s = s.trim().to_string();
                    match key.as_str() {
                        "title" => front.title = Some(s),
                        "source" => front.source = Some(s),
                        "author" => front.author = Some(s),
                        _ => front.slug = Some(s),
                    }
                }
                _ => bad("a string"),
            },
            "date" => match value {
                Value::String(s) => match parse_date(&s) {
                    Some(date) => front.date = Some(date),
                    None => {
                        problems.push(Diagnostic::error(
                            shown,
                            line(&key),
                            format!("unknown date {s:?} (use 2020-05-28, RFC 3339 or 2020-05-28 10:00:00 +0000)"),
                        ));
                        ok = false;
                    }
                },
                _ => bad("a date such as 2020-05-28"),
            },
            "draft" => match value {
                Value::Bool(b) => front.draft = b,
                _ => bad("true or false"),
            },
            "places" | "agencies" | "people" | "laws" | "exclude" => match string_list(value) {
                Some(list) => match key.as_str() {
                    "places" => front.places = list,
                    "agencies" => front.agencies = list,
                    "people" => front.people = list,
                    "laws" => front.laws = list,
                    _ => front.exclude = list,
                },
                None => bad("a list of names"),
            },
            _ => {
                problems.push(Diagnostic::warning(
                    shown,
                    line(&key),
                    format!("unknown front matter key {key:?} (kept as data)"),
                ));
                front.extra.insert(key, value);
            }
        }
    }
    ok.then_some(front)
}

fn string_list(value: Value) -> Option<Vec<String>> {
    match value {
        Value::String(s) => Some(vec![s]),
        Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Some(s.trim().to_string()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_sorted_by_their_walk_order_key_are_in_component_order() {
        let names = [
            "site/content/articles/a.md",
            "site/content/articles/a-c.md",
            "site/content/articles/a/b.md",
            "site/content/articles/a/a/z.md",
            "site/content/articles/a b/x.md",
            "site/content/articles/a.b/x.md",
            "site/content/articles/Z.md",
            "site/content/articles/é.md",
            "site/content/articles/a0.md",
        ];
        let mut by_key: Vec<&Path> = names.iter().map(Path::new).collect();
        by_key.sort_by_cached_key(|path| walk_order_key(path));
        let mut by_components = by_key.clone();
        by_components.sort_by(|a, b| a.components().cmp(b.components()));
        assert_eq!(by_key, by_components);
    }

    #[test]
    fn the_record_of_known_files_decodes_as_they_are_without_bodies() {
        let mut problems = Diagnostics::new();
        let text = "+++\ntitle = \"Raids\"\nplaces = [\"Hyesan\"]\n+++\nGuards seized phones.\n";
        let source = |name: &str, problems: &mut Diagnostics| {
            parse(
                Path::new(name),
                Format::Markdown,
                text.to_string(),
                problems,
            )
            .expect("parses")
        };
        let mut sources = vec![
            (source("content/articles/a.md", &mut problems), Some(1)),
            (source("content/articles/b.md", &mut problems), None),
            (source("content/articles/c.md", &mut problems), Some(3)),
        ];
        let before: Vec<(Source, Option<i32>)> = sources.clone();
        let stamp = |inode| Stamp {
            device: 1,
            inode,
            size: 70,
            modified: 5,
            changed: 6,
        };
        let warning = Diagnostic::warning(Path::new("content/articles/c.md"), Some(2), "odd");
        let kept = [
            (0, stamp(10), Vec::new()),
            (2, stamp(12), vec![warning.clone()]),
        ];
        let record = KnownFilesRecord::encode(&mut sources, &kept).expect("encodes");
        let known: KnownFiles = postcard::from_bytes(&record.0).expect("decodes");
        let files: Vec<(&Path, Stamp, String, &[Diagnostic])> = (known.files.iter())
            .map(|(path, file)| {
                assert_eq!(&file.source.path, path);
                assert_eq!(file.source.front.title.as_deref(), Some("Raids"));
                let body = file.source.body.clone();
                (path.as_path(), file.stamp, body, file.problems.as_slice())
            })
            .collect();
        assert_eq!(
            files,
            vec![
                (
                    Path::new("content/articles/a.md"),
                    stamp(10),
                    String::new(),
                    &[][..]
                ),
                (
                    Path::new("content/articles/c.md"),
                    stamp(12),
                    String::new(),
                    &[warning][..]
                ),
            ]
        );
        // The sources keep their bodies.
        assert_eq!(format!("{sources:?}"), format!("{before:?}"));
        assert!(sources[0].0.body.contains("Guards"));
    }

    fn run(text: &str) -> (Option<Source>, Vec<Diagnostic>) {
        let mut problems = Diagnostics::new();
        let source = parse(
            Path::new("content/articles/a.md"),
            Format::Markdown,
            text.to_string(),
            &mut problems,
        );
        (source, problems.sorted())
    }

    #[test]
    fn toml_front_matter() {
        let (source, problems) =
            run("+++\ntitle = \"T\"\ndate = 2020-05-28\nplaces = [\"Hoeryong\"]\n+++\nBody\n");
        let source = source.unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(source.front.title.as_deref(), Some("T"));
        assert_eq!(source.front.date, NaiveDate::from_ymd_opt(2020, 5, 28));
        assert_eq!(source.front.places, vec!["Hoeryong"]);
        assert_eq!(source.body, "Body\n");
        assert_eq!(source.body_line, 6);
    }

    #[test]
    fn yaml_front_matter_with_unknown_keys_warns() {
        let (source, problems) =
            run("---\ntitle: T\nlayout: post\ndate: 2020-05-28 10:00:00 +0000\n---\nBody");
        let source = source.unwrap();
        assert_eq!(source.front.date, NaiveDate::from_ymd_opt(2020, 5, 28));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, Some(3));
        assert!(!problems[0].is_error());
        assert!(source.front.extra.contains_key("layout"));
    }

    #[test]
    fn broken_toml_names_the_file_line() {
        let (source, problems) = run("+++\ntitle = \"T\"\ndate = \n+++\nBody");
        assert!(source.is_none());
        assert_eq!(problems[0].line, Some(3), "{:?}", problems[0]);
        assert!(
            problems[0]
                .to_string()
                .starts_with("content/articles/a.md:3: ")
        );
    }

    #[test]
    fn broken_yaml_names_the_file_line() {
        let (_, problems) = run("---\ntitle: T\nplaces: [a, b\n---\nBody");
        assert!(problems[0].is_error());
        assert!(
            problems[0].line.is_some_and(|l| (3..=4).contains(&l)),
            "{:?}",
            problems[0]
        );
    }

    #[test]
    fn bad_date_is_an_error_on_its_line() {
        let (_, problems) = run("+++\ntitle = \"T\"\ndate = \"32 May 2024\"\n+++\n");
        assert_eq!(problems[0].line, Some(3));
        assert!(problems[0].message.contains("32 May 2024"));
    }

    #[test]
    fn unclosed_front_matter() {
        let (source, problems) = run("+++\ntitle = \"T\"\n");
        assert!(source.is_none());
        assert_eq!(problems[0].line, Some(1));
    }

    #[test]
    fn bom_and_crlf() {
        let mut problems = Diagnostics::new();
        let text = decode(
            Path::new("x"),
            b"\xef\xbb\xbfa\r\nb".to_vec(),
            &mut problems,
        );
        assert_eq!(text, "a\nb");
        let text = decode(Path::new("x"), b"\xef\xbb\xbfab".to_vec(), &mut problems);
        assert_eq!(text, "ab");
        let text = decode(Path::new("x"), b"caf\xe9".to_vec(), &mut problems);
        assert_eq!(text, "café");
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn a_source_comes_back_from_the_cache_encoding_as_it_was() {
        let (source, problems) = run("+++\ntitle = \"T\"\ndate = 2024-05-01\nslug = \"t\"\n\
             places = [\"Hyesan\"]\nlayout = \"wide\"\n[meta]\nscore = 1.5\nlist = [1, \"a\", true]\n+++\nBody.\n");
        let source = source.expect("parses");
        // Warnings about the unknown keys, kept as data.
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(source.front.extra.len(), 2, "{:?}", source.front.extra);
        let encoded = postcard::to_stdvec(&source).unwrap();
        let decoded: Source = postcard::from_bytes(&encoded).unwrap();
        assert_eq!(format!("{decoded:?}"), format!("{source:?}"));
    }
}
