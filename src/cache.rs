//! The extraction cache: each article's cleaning and extraction result, kept in the cache folder
//! (`.dossier-cache/`) so a rebuild only extracts the articles that changed.
//!
//! Entries are filed under a hash of the article file's path and bytes ([`Source::digest`]).
//! Each keeps the article's metadata apart from its body ([`Body`]): a rebuild decodes every
//! article's metadata, to join the dossier, but only the bodies of the pages it makes again
//! ([`LazyBody`]). The bodies are in a file of their own, `bodies.bin`, read where an entry
//! says and only when needed: at 10,000 articles they are 49 of the 58 MB, and reading them
//! all was most of loading the cache, which every rebuild waits for.
//! The whole file belongs to one *context*: the dossier binary, the furniture and extraction
//! settings and the catalogue. Any change to those, a checksum that does not match, or a file
//! that does not decode, and the cache is ignored and rebuilt: it is never trusted over the
//! sources. Deleting the folder is always safe.
//!
//! A build that only adds results (new or edited articles) appends them to the files and
//! rewrites the checksum, instead of rewriting every result: at 100,000 articles the files are
//! 600 MB. Results no article uses any more stay in the files until they are a quarter of
//! them; then both are rewritten with this build's results alone.
//!
//! Beside it, `sources.bin` keeps what reading each article file gave the last build, with the
//! file's stamp ([`KnownFiles`]), so that a rebuild reads only the files that changed. It
//! belongs to the dossier binary that wrote it, and carries a checksum too. `graph.bin` keeps
//! what the graph found ([`GraphMemory`]), in the context of the extraction cache, with a
//! checksum.

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use xxhash_rust::xxh3::{Xxh3, xxh3_64, xxh3_128};

use crate::catalog::Catalog;
use crate::config::Config;
use crate::error::Diagnostic;
use crate::extract::{Body, Extracted, Metadata};
use crate::graph::{Dossier, GraphMemory};
use crate::source::{KnownFiles, KnownFilesRecord, Source};

const FILE_NAME: &str = "extract.bin";
/// The bodies of the entries of [`FILE_NAME`] (see [`BodyAt`]).
const BODIES_FILE: &str = "bodies.bin";
/// What the last build knew of each article file (see [`KnownFiles`]).
const SOURCES_FILE: &str = "sources.bin";
const SOURCES_MAGIC: &[u8] = b"dossier known sources 1\n";
/// The file that records the hash of the dossier binary with its stamp (see
/// [`binary_hash_using`]).
const BINARY_FILE: &str = "binary.bin";
const BINARY_MAGIC: &[u8] = b"dossier binary hash 1\n";
/// What the last build's graph found (see [`GraphMemory`]).
const GRAPH_FILE: &str = "graph.bin";
const GRAPH_MAGIC: &[u8] = b"dossier graph memory 1\n";
const MAGIC: &[u8] = b"dossier extraction cache 7\n";
/// Entries encoded at once while saving, so the whole cache is never held encoded in memory.
const SAVE_BATCH: usize = 512;
/// The file is rewritten rather than appended to once more than one entry in this many is a
/// result no article uses any more.
const STALE_SHARE: usize = 4;

/// Extraction results of the previous build that still apply, by source digest.
///
/// The file: a magic line, the context (16 bytes), then per article its digest (16 bytes), the
/// length of its result (8 bytes) and the result: its metadata and warnings, then where its
/// body is in the bodies file (offset, length and hash), each in postcard encoding; last, an
/// xxh3-128 of everything before it. Metadata are decoded in parallel, bodies when first read.
#[derive(Default)]
pub struct ExtractCache {
    entries: Results,
    /// Where the loaded file can be appended to; `None` when nothing sound was loaded.
    end: Option<FileEnd>,
}

/// The state of a sound cache file after its last entry: enough to append entries and write
/// a new checksum without reading the file again.
struct FileEnd {
    /// The checksum's hasher, fed everything up to the end of the last entry.
    hasher: Xxh3,
    /// Where the checksum starts.
    length: u64,
    /// How many entries the file holds.
    count: usize,
}

/// The results of a cache file, each taken out when an article uses it. They stay where they
/// were decoded, found through a small table of digests: filed in a map of results, each was
/// moved twice more (rayon's collecting into an `Option`, then the map), about 4 MB of fresh
/// memory at 10,000 articles (1,000 fewer page faults in a one-article rebuild, of 43,000).
#[derive(Default)]
struct Results {
    /// Where each digest's result is in `results`: its last in the file (an article's result
    /// is appended again when it is made again).
    places: FxHashMap<u128, usize>,
    results: Vec<Option<Extraction>>,
}

impl Results {
    /// Whether a result for `digest` is there, not yet taken.
    fn contains(&self, digest: u128) -> bool {
        self.places.contains_key(&digest)
    }

    /// The result for `digest`, not yet taken.
    #[cfg(test)]
    fn get(&self, digest: u128) -> Option<&Extraction> {
        self.results.get(*self.places.get(&digest)?)?.as_ref()
    }

    /// Every result not yet taken, with its digest, in no order.
    #[cfg(test)]
    fn iter(&self) -> impl Iterator<Item = (u128, &Extraction)> {
        (self.places.iter())
            .filter_map(|(&digest, &place)| Some((digest, self.results[place].as_ref()?)))
    }

    /// Takes the result for `digest` out.
    fn take(&mut self, digest: u128) -> Option<Extraction> {
        let place = self.places.remove(&digest)?;
        self.results.get_mut(place)?.take()
    }

    /// How many results are there, not taken.
    fn len(&self) -> usize {
        self.places.len()
    }
}

/// An extraction result as a build uses it, made now or taken from the cache.
#[derive(Debug, Clone)]
pub struct Extraction {
    /// What was found.
    pub metadata: Metadata,
    /// Warnings about the article.
    pub warnings: Vec<Diagnostic>,
    /// The text the metadata points into.
    pub body: LazyBody,
}

impl From<Extracted> for Extraction {
    fn from(extracted: Extracted) -> Self {
        Extraction {
            metadata: extracted.metadata,
            warnings: extracted.warnings,
            body: LazyBody::new(extracted.body),
        }
    }
}

/// An article's [`Body`]: held decoded, or as a place in the cache's bodies file, read and
/// decoded the first time it is needed. A rebuild shows few bodies (the pages, index segments
/// and export parts it makes again): decoding every one was half of loading the cache, and
/// reading every one most of the rest.
///
/// The bytes were written by this same binary, and their hash is checked when they are read:
/// they decode. Should they not be there, fail their hash or not decode, the body reads as
/// empty and [`LazyBody::is_damaged`] says so; the build then starts again without the cache
/// (see [`crate::build_with_progress`]).
#[derive(Clone)]
pub struct LazyBody {
    decoded: OnceLock<Option<Body>>,
    /// Where the encoded body is: the bodies file of the loaded cache, and the place in it.
    stored: Option<(Arc<BodyFile>, BodyAt)>,
}

/// Where an entry's body is in the bodies file, with a hash of its bytes: the checksum of the
/// entries' file does not cover the bodies, which are read one at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct BodyAt {
    offset: u64,
    length: u64,
    /// xxh3-64 of the body's bytes.
    hash: u64,
}

/// The bodies file of a loaded cache, open from the time it was loaded: a build that rewrites
/// it puts a new file in its place, and this one still reads as it was. Bodies are read at
/// their offsets, each in one call and side by side: through one cursor behind a lock, a
/// one-article rebuild at 10,000 articles read its 1,500 bodies in 14,000 calls, one thread at a
/// time.
struct BodyFile {
    file: std::fs::File,
    /// Its length when opened: no body is read past it.
    length: u64,
    /// Where the system has no reads at an offset, a read moves the file's one cursor.
    #[cfg(not(unix))]
    cursor: std::sync::Mutex<()>,
}

impl BodyFile {
    /// The bodies file `file`; `None` if its length cannot be known.
    fn new(file: std::fs::File) -> Option<Self> {
        let length = file.metadata().ok()?.len();
        Some(BodyFile {
            file,
            length,
            #[cfg(not(unix))]
            cursor: std::sync::Mutex::default(),
        })
    }

    /// The body's bytes at `at`, if they are there and their hash matches.
    fn read(&self, at: BodyAt) -> Option<Vec<u8>> {
        // A place past the end (a damaged entry) is refused before any memory is set aside.
        if at.offset.checked_add(at.length)? > self.length {
            return None;
        }
        let mut bytes = vec![0; usize::try_from(at.length).ok()?];
        #[cfg(not(unix))]
        let _cursor = self.cursor.lock().unwrap_or_else(|e| e.into_inner());
        crate::write::read_exact_at(&self.file, &mut bytes, at.offset).ok()?;
        (xxh3_64(&bytes) == at.hash).then_some(bytes)
    }
}

impl LazyBody {
    /// A body that is already decoded.
    pub fn new(body: Body) -> Self {
        LazyBody {
            decoded: OnceLock::from(Some(body)),
            stored: None,
        }
    }

    /// A body stored at `at` of `file`.
    fn stored(file: Arc<BodyFile>, at: BodyAt) -> Self {
        LazyBody {
            decoded: OnceLock::new(),
            stored: Some((file, at)),
        }
    }

    /// The body, decoded on first use; empty if its bytes cannot be read or do not decode.
    pub fn get(&self) -> &Body {
        static EMPTY: Body = Body::EMPTY;
        self.decoded
            .get_or_init(|| {
                let (file, at) = self.stored.as_ref()?;
                postcard::from_bytes(&file.read(*at)?).ok()
            })
            .as_ref()
            .unwrap_or(&EMPTY)
    }

    /// Whether the body was read and its bytes did not decode.
    pub fn is_damaged(&self) -> bool {
        matches!(self.decoded.get(), Some(None))
    }

    /// The body's encoding: made from the decoded body, or as the bodies file has it. `None`
    /// if it cannot be.
    fn encode(&self) -> Option<Vec<u8>> {
        match (self.decoded.get(), &self.stored) {
            (Some(Some(body)), _) => postcard::to_stdvec(body).ok(),
            (None, Some((file, at))) => file.read(*at),
            _ => None,
        }
    }
}

impl std::fmt::Debug for LazyBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

/// An extraction result as the cache file holds it, borrowed from the dossier's article that
/// now holds it.
#[derive(Clone, Copy)]
struct Entry<'a> {
    metadata: &'a Metadata,
    warnings: &'a [Diagnostic],
    body: &'a LazyBody,
}

impl Entry<'_> {
    /// The entry's metadata and warnings, as the entries' file holds them, and its body's
    /// encoding, for the bodies file.
    fn encode(&self) -> Option<(Vec<u8>, Vec<u8>)> {
        let head = postcard::to_stdvec(&(self.metadata, self.warnings)).ok()?;
        Some((head, self.body.encode()?))
    }
}

/// What the cache has to record once the dossier is built, when the results have moved into
/// its articles: recording then runs beside rendering instead of before it (at 100,000
/// articles, rewriting the file takes seconds).
pub struct Pending {
    cache: ExtractCache,
    folder: PathBuf,
    context: u128,
    /// Per article, in the order the dossier keeps them: its source digest, its warnings, and
    /// whether this build made its result (rather than taking it from the cache).
    articles: Vec<(u128, Vec<Diagnostic>, bool)>,
    /// What this build knew of the article files, when it differs from what it was given.
    known: Option<KnownFilesRecord>,
}

impl Pending {
    /// What to record for `results` (each result's source digest and whether this build made
    /// it), in the order of the articles the dossier will hold, with the `cache` they were
    /// taken from, for the file under `folder` in `context`.
    /// `known` is what this build knew of the article files, when it differs from what it
    /// was given.
    pub fn new(
        cache: ExtractCache,
        folder: PathBuf,
        context: u128,
        results: impl Iterator<Item = (u128, Vec<Diagnostic>, bool)>,
        known: Option<KnownFilesRecord>,
    ) -> Self {
        Pending {
            cache,
            folder,
            context,
            articles: results.collect(),
            known,
        }
    }

    /// Records the results now held by the articles of `dossier`: appended to the file while
    /// few of its entries go unused, the file rewritten otherwise; and what its graph found,
    /// unless that is the last build's.
    pub fn record(self, dossier: &Dossier) {
        if let Some(known) = &self.known {
            save_known_files(&self.folder, known);
        }
        if !dossier.remembered
            && let Some(memory) = dossier.memory()
        {
            save_graph_memory(&self.folder, self.context, &memory);
        }
        let articles = &dossier.articles;
        if articles.len() != self.articles.len() {
            // The dossier keeps every article in order when it is built at all; should that
            // ever change, the cache is left as it is rather than filed under wrong digests.
            return;
        }
        let all: Vec<(u128, Entry)> = articles
            .iter()
            .zip(&self.articles)
            .map(|(article, (digest, warnings, _))| {
                let entry = Entry {
                    metadata: &article.metadata,
                    warnings,
                    body: &article.body,
                };
                (*digest, entry)
            })
            .collect();
        let fresh: Vec<(u128, Entry)> = (all.iter().zip(&self.articles))
            .filter(|(_, (_, _, made))| *made)
            .map(|(&result, _)| result)
            .collect();
        self.cache.update(&self.folder, self.context, &all, &fresh);
    }
}

impl ExtractCache {
    /// Loads the cache under `folder` for `context`; empty when it is missing, written for
    /// another context, or damaged.
    pub fn load(folder: &Path, context: u128) -> Self {
        let bodies = std::fs::File::open(folder.join(BODIES_FILE));
        std::fs::read(folder.join(FILE_NAME))
            .ok()
            .zip(bodies.ok().and_then(BodyFile::new))
            .and_then(|(bytes, bodies)| decode(&bytes, Arc::new(bodies), context))
            .map(|(entries, end)| ExtractCache {
                entries,
                end: Some(end),
            })
            .unwrap_or_default()
    }

    /// Whether the cache holds a result for `source`.
    pub fn has(&self, source: &Source) -> bool {
        self.entries.contains(source.digest)
    }

    /// Takes the cached result of `source`, if there is one.
    pub fn take(&mut self, source: &Source) -> Option<Extraction> {
        self.entries.take(source.digest)
    }

    /// Records this build's results for the next build, when they differ from the file's:
    /// `fresh` are the results this build made (the others came from this cache), `all` every
    /// result. The fresh ones are appended to the loaded file while few of its entries go
    /// unused (those still in the cache, not taken); otherwise the file is rewritten with `all`.
    /// Failing to write only costs the next build time, so errors are ignored.
    fn update(self, folder: &Path, context: u128, all: &[(u128, Entry)], fresh: &[(u128, Entry)]) {
        let unused = self.entries.len();
        if fresh.is_empty() && unused == 0 {
            return;
        }
        if let Some(end) = self.end
            && unused * STALE_SHARE <= end.count + fresh.len()
        {
            let path = folder.join(FILE_NAME);
            let open = |name: &str| {
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(folder.join(name))
            };
            let appended = (open(FILE_NAME).and_then(|file| Ok((file, open(BODIES_FILE)?))))
                .and_then(|(file, bodies)| append(file, bodies, end, fresh));
            if appended.is_err() {
                // A half-appended file would fail its checksum anyway; it goes now.
                let _ = std::fs::remove_file(&path);
            }
            return;
        }
        Self::save(folder, context, all);
    }

    /// Writes the results of this build (and only these) for the next one, through temporary
    /// files and renames: the bodies first, so that the entries never point into an older
    /// bodies file (should the second rename not happen, the old entries' bodies fail their
    /// hashes, see [`LazyBody`]). Failing to write only costs the next build time, so errors
    /// are ignored.
    fn save(folder: &Path, context: u128, results: &[(u128, Entry)]) {
        let temporary = |name: &str| {
            folder
                .join(name)
                .with_extension(format!("tmp-{}", std::process::id()))
        };
        let (path, bodies_path) = (folder.join(FILE_NAME), folder.join(BODIES_FILE));
        let (entries_temporary, bodies_temporary) = (temporary(FILE_NAME), temporary(BODIES_FILE));
        let written = std::fs::create_dir_all(folder)
            .and_then(|()| std::fs::File::create(&entries_temporary))
            .and_then(|file| Ok((file, std::fs::File::create(&bodies_temporary)?)))
            .and_then(|(file, bodies)| {
                encode(
                    std::io::BufWriter::new(file),
                    std::io::BufWriter::new(bodies),
                    context,
                    results,
                )
            })
            .and_then(|()| std::fs::rename(&bodies_temporary, &bodies_path))
            .and_then(|()| std::fs::rename(&entries_temporary, &path));
        if written.is_err() {
            let _ = std::fs::remove_file(&entries_temporary);
            let _ = std::fs::remove_file(&bodies_temporary);
        }
    }
}

/// Loads what the last build knew of the article files, from `folder`: nothing when the file
/// is missing, was written by another dossier binary, or is damaged.
pub fn load_known_files(folder: &Path) -> KnownFiles {
    std::fs::read(folder.join(SOURCES_FILE))
        .ok()
        .and_then(|bytes| decode_known_files(&bytes))
        .unwrap_or_default()
}

fn decode_known_files(bytes: &[u8]) -> Option<KnownFiles> {
    let body = checked_body(bytes)?;
    let (binary, rest) = body.strip_prefix(SOURCES_MAGIC)?.split_at_checked(16)?;
    if binary != binary_hash().to_le_bytes() {
        return None;
    }
    postcard::from_bytes(rest).ok()
}

/// Writes what this build knew of the article files into `folder` for the next build.
/// Failing to write only costs the next build time, so errors are ignored.
fn save_known_files(folder: &Path, known: &KnownFilesRecord) {
    let encoded = &known.0;
    let mut body = Vec::with_capacity(SOURCES_MAGIC.len() + 32 + encoded.len());
    body.extend_from_slice(SOURCES_MAGIC);
    body.extend_from_slice(&binary_hash().to_le_bytes());
    body.extend_from_slice(encoded);
    let _ = write_checked(&folder.join(SOURCES_FILE), body);
}

/// Loads what the last build's graph found, from `folder`: nothing when the file is missing,
/// was written in another context (settings, catalogue or dossier binary), or is damaged.
pub fn load_graph_memory(folder: &Path, context: u128) -> Option<GraphMemory> {
    let bytes = std::fs::read(folder.join(GRAPH_FILE)).ok()?;
    let body = checked_body(&bytes)?;
    let (written_in, rest) = body.strip_prefix(GRAPH_MAGIC)?.split_at_checked(16)?;
    if written_in != context.to_le_bytes() {
        return None;
    }
    postcard::from_bytes(rest).ok()
}

/// Writes what the graph found (encoded, see [`Dossier::memory`]) into `folder`, for the next
/// build in `context`. Failing to write only costs the next build time, so errors are ignored.
fn save_graph_memory(folder: &Path, context: u128, memory: &[u8]) {
    let mut body = Vec::with_capacity(GRAPH_MAGIC.len() + 32 + memory.len());
    body.extend_from_slice(GRAPH_MAGIC);
    body.extend_from_slice(&context.to_le_bytes());
    body.extend_from_slice(memory);
    let _ = write_checked(&folder.join(GRAPH_FILE), body);
}

/// Writes `body` to `path` followed by its xxh3-128 checksum, through a temporary file and a
/// rename (making the folder if need be), so that a reader sees the old file or the new one,
/// whole. [`checked_body`] reads it back.
pub(crate) fn write_checked(path: &Path, mut body: Vec<u8>) -> std::io::Result<()> {
    let sum = xxh3_128(&body);
    body.extend_from_slice(&sum.to_le_bytes());
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)?;
    }
    let temporary = path.with_extension(format!("tmp-{}", std::process::id()));
    let written =
        std::fs::write(&temporary, &body).and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// The body of a file [`write_checked`] wrote, if its checksum matches.
pub(crate) fn checked_body(bytes: &[u8]) -> Option<&[u8]> {
    let (body, sum) = bytes.split_at(bytes.len().checked_sub(16)?);
    (sum == xxh3_128(body).to_le_bytes()).then_some(body)
}

/// Writes a cache file into `out` and its bodies into `bodies`, hashing as it goes.
fn encode(
    mut out: impl Write,
    mut bodies: impl Write,
    context: u128,
    results: &[(u128, Entry)],
) -> std::io::Result<()> {
    let mut hasher = Xxh3::new();
    for bytes in [MAGIC, &context.to_le_bytes()] {
        hasher.update(bytes);
        out.write_all(bytes)?;
    }
    encode_entries(&mut out, &mut hasher, &mut bodies, 0, results)?;
    let sum = hasher.digest128();
    out.write_all(&sum.to_le_bytes())?;
    bodies.flush()?;
    out.flush()
}

/// Appends `results` to the cache `file` whose end is `end`, over its old checksum, and writes
/// the new checksum; their bodies go at the end of `bodies`.
fn append(
    mut file: std::fs::File,
    mut bodies: std::fs::File,
    end: FileEnd,
    results: &[(u128, Entry)],
) -> std::io::Result<()> {
    let FileEnd {
        mut hasher, length, ..
    } = end;
    let bodies_end = bodies.seek(std::io::SeekFrom::End(0))?;
    file.set_len(length)?;
    file.seek(std::io::SeekFrom::Start(length))?;
    let mut out = std::io::BufWriter::new(file);
    let mut bodies = std::io::BufWriter::new(bodies);
    encode_entries(&mut out, &mut hasher, &mut bodies, bodies_end, results)?;
    // The bodies are whole before an entry that points to them is.
    bodies.flush()?;
    out.write_all(&hasher.digest128().to_le_bytes())?;
    out.flush()
}

/// Writes the entries of `results` into `out`, feeding `hasher`, and their bodies into
/// `bodies`, which holds `bodies_end` bytes before them.
fn encode_entries(
    out: &mut impl Write,
    hasher: &mut Xxh3,
    bodies: &mut impl Write,
    mut bodies_end: u64,
    results: &[(u128, Entry)],
) -> std::io::Result<()> {
    let mut put = |out: &mut dyn Write, bytes: &[u8]| {
        hasher.update(bytes);
        out.write_all(bytes)
    };
    for batch in results.chunks(SAVE_BATCH) {
        // Each entry with its body's hash, made in parallel.
        let encoded: Vec<_> = batch
            .par_iter()
            .filter_map(|(digest, entry)| {
                let (head, body) = entry.encode()?;
                Some((*digest, head, xxh3_64(&body), body))
            })
            .collect();
        for (digest, mut head, hash, body) in encoded {
            let at = BodyAt {
                offset: bodies_end,
                length: body.len() as u64,
                hash,
            };
            bodies.write_all(&body)?;
            bodies_end += at.length;
            head = postcard::to_extend(&at, head).map_err(std::io::Error::other)?;
            put(out, &digest.to_le_bytes())?;
            put(out, &(head.len() as u64).to_le_bytes())?;
            put(out, &head)?;
        }
    }
    Ok(())
}

/// Reads the cache file `bytes`, written for `context`, whose bodies are in `bodies`, with
/// where it ends; `None` if anything about it is wrong. Its metadata are decoded in parallel
/// once the checksum matches.
fn decode(bytes: &[u8], bodies: Arc<BodyFile>, context: u128) -> Option<(Results, FileEnd)> {
    let (body, sum) = bytes.split_at(bytes.len().checked_sub(16)?);
    let mut hasher = Xxh3::new();
    hasher.update(body);
    if sum != hasher.digest128().to_le_bytes() {
        return None;
    }
    let rest = body.strip_prefix(MAGIC)?;
    let (file_context, mut rest) = rest.split_at_checked(16)?;
    if file_context != context.to_le_bytes() {
        return None;
    }
    // Each entry's digest and bytes, in the order of the file.
    let mut spans: Vec<(u128, &[u8])> = Vec::new();
    while !rest.is_empty() {
        let (digest, after) = rest.split_at_checked(16)?;
        let (length, after) = after.split_at_checked(8)?;
        let length = usize::try_from(u64::from_le_bytes(length.try_into().ok()?)).ok()?;
        let (entry, after) = after.split_at_checked(length)?;
        spans.push((u128::from_le_bytes(digest.try_into().ok()?), entry));
        rest = after;
    }
    let count = spans.len();
    // Decoded in place: each result is written once, where it stays.
    let results: Vec<Option<Extraction>> = spans
        .par_iter()
        .map(|(_, entry)| {
            let ((metadata, warnings), rest) = postcard::take_from_bytes(entry).ok()?;
            let (at, rest) = postcard::take_from_bytes::<BodyAt>(rest).ok()?;
            if !rest.is_empty() {
                return None;
            }
            let body = LazyBody::stored(Arc::clone(&bodies), at);
            Some(Extraction {
                metadata,
                warnings,
                body,
            })
        })
        .collect();
    if results.iter().any(Option::is_none) {
        return None;
    }
    // A digest listed twice (appended again) takes its last result.
    let mut places = FxHashMap::with_capacity_and_hasher(count, Default::default());
    for (place, (digest, _)) in spans.iter().enumerate() {
        places.insert(*digest, place);
    }
    let entries = Results { places, results };
    let end = FileEnd {
        hasher,
        length: body.len() as u64,
        count,
    };
    Some((entries, end))
}

/// The context of extraction results: the running binary (so results of other dossier
/// versions, or other builds of the code, never mix in), the settings that shape cleaning and
/// extraction, and the catalogue.
pub fn context(config: &Config, catalog: &Catalog) -> u128 {
    let mut hasher = Xxh3::new();
    hasher.update(&binary_hash().to_le_bytes());
    // Debug output is complete and deterministic for these plain data types.
    hasher.update(format!("{:?}", config.furniture).as_bytes());
    hasher.update(format!("{:?}", config.extract).as_bytes());
    hasher.update(format!("{:?}", catalog.entities).as_bytes());
    hasher.digest128()
}

/// The hash of the running executable, once found (see [`binary_hash`]).
static BINARY_HASH: OnceLock<u128> = OnceLock::new();

/// A hash of the running executable, once per process; a fixed value if it cannot be read
/// (then the version string stands in).
pub fn binary_hash() -> u128 {
    *BINARY_HASH.get_or_init(|| executable_hash(None))
}

/// [`binary_hash`], taken from the cache `folder` when it records the hash of this very file
/// (by its stamp, as an unchanged article file is known: see [`crate::source::Stamp`]), and
/// recorded there otherwise. Reading and hashing the binary (tens of megabytes) was most of the
/// time every build spends reading its settings, and the one cost of that stage a rebuild of
/// one article could save.
pub fn binary_hash_using(folder: &Path) -> u128 {
    *BINARY_HASH.get_or_init(|| executable_hash(Some(folder)))
}

/// The hash of the running executable, through the record in `folder` if given.
fn executable_hash(folder: Option<&Path>) -> u128 {
    std::env::current_exe()
        .ok()
        .and_then(|exe| file_hash_using(&exe, folder, std::time::SystemTime::now()))
        .unwrap_or_else(|| xxh3_128(env!("CARGO_PKG_VERSION").as_bytes()))
}

/// The hash of the file at `path`: the one `folder` records for it, when the file's stamp is the
/// one recorded with it; otherwise read and hashed, and recorded in `folder` when the file has
/// not changed for a while before `now` (a change within the same tick of the file system's
/// clock could otherwise keep its stamp). `None` when the file cannot be read.
fn file_hash_using(path: &Path, folder: Option<&Path>, now: std::time::SystemTime) -> Option<u128> {
    // Taken before the file is read: should it change after, its stamp will not match.
    let stamp = std::fs::metadata(path)
        .ok()
        .and_then(|metadata| crate::source::Stamp::of(&metadata))
        .filter(|stamp| stamp.settled(now));
    let record = folder.map(|folder| folder.join(BINARY_FILE));
    if let (Some(record), Some(stamp)) = (&record, &stamp)
        && let Some(hash) = recorded_hash(record, stamp)
    {
        return Some(hash);
    }
    let hash = hash_file(path).ok()?;
    if let (Some(record), Some(stamp)) = (&record, &stamp) {
        record_hash(record, stamp, hash);
    }
    Some(hash)
}

/// Reads and hashes the file at `path` through one small buffer: the binary is tens of
/// megabytes, and fresh memory for all of it would cost more than the hashing.
fn hash_file(path: &Path) -> std::io::Result<u128> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Xxh3::new();
    let mut buffer = vec![0; 1 << 20];
    loop {
        match file.read(&mut buffer)? {
            0 => return Ok(hasher.digest128()),
            n => hasher.update(&buffer[..n]),
        }
    }
}

/// The hash the file `record` holds, if it was recorded with `stamp`.
fn recorded_hash(record: &Path, stamp: &crate::source::Stamp) -> Option<u128> {
    let bytes = std::fs::read(record).ok()?;
    let body = checked_body(&bytes)?.strip_prefix(BINARY_MAGIC)?;
    let (recorded, hash): (crate::source::Stamp, u128) = postcard::from_bytes(body).ok()?;
    (recorded == *stamp).then_some(hash)
}

/// Records `hash` with `stamp` in the file `record`. Failing to write it only costs the next
/// build the hashing, so errors are ignored.
fn record_hash(record: &Path, stamp: &crate::source::Stamp, hash: u128) {
    let Ok(encoded) = postcard::to_stdvec(&(stamp, hash)) else {
        return;
    };
    let _ = write_checked(record, [BINARY_MAGIC, &encoded].concat());
}

/// The cache folder of the site at `root`.
pub fn folder(root: &Path) -> PathBuf {
    root.join(crate::CACHE_FOLDER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_binary_hash_is_used_only_for_the_file_it_was_recorded_for() {
        let dir = tempfile::tempdir().unwrap();
        let (binary, folder) = (dir.path().join("dossier"), dir.path().join("cache"));
        std::fs::write(&binary, b"one build of dossier").unwrap();
        let real = xxh3_128(b"one build of dossier");
        let settled = std::time::SystemTime::now() + std::time::Duration::from_secs(10);
        // Just written: hashed, but not recorded (its stamp does not vouch for it yet).
        assert_eq!(
            file_hash_using(&binary, Some(&folder), std::time::SystemTime::now()),
            Some(real)
        );
        assert!(!folder.join(BINARY_FILE).exists());
        // Settled: hashed and recorded with its stamp.
        assert_eq!(file_hash_using(&binary, Some(&folder), settled), Some(real));
        assert!(folder.join(BINARY_FILE).exists());
        // The record is what a later build takes, not the file: one that records another
        // hash for this very file is believed.
        let stamp = crate::source::Stamp::of(&std::fs::metadata(&binary).unwrap()).unwrap();
        record_hash(&folder.join(BINARY_FILE), &stamp, 7);
        assert_eq!(file_hash_using(&binary, Some(&folder), settled), Some(7));
        // Another binary in its place, of the same size: hashed again.
        std::fs::write(&binary, b"two build of dossier").unwrap();
        let settled = std::time::SystemTime::now() + std::time::Duration::from_secs(10);
        let other = xxh3_128(b"two build of dossier");
        assert_eq!(
            file_hash_using(&binary, Some(&folder), settled),
            Some(other)
        );
        // A damaged record is not read: here its hash, 7 for the file as it now is, made 6.
        let record = folder.join(BINARY_FILE);
        let stamp = crate::source::Stamp::of(&std::fs::metadata(&binary).unwrap()).unwrap();
        record_hash(&record, &stamp, 7);
        let mut bytes = std::fs::read(&record).unwrap();
        let last = bytes.len() - 17;
        assert_eq!(
            bytes[last], 7,
            "postcard writes a small hash as one byte, last"
        );
        bytes[last] = 6;
        std::fs::write(&record, bytes).unwrap();
        assert_eq!(
            file_hash_using(&binary, Some(&folder), settled),
            Some(other)
        );
        // Without a folder, nothing is recorded or read.
        assert_eq!(file_hash_using(&binary, None, settled), Some(other));
        assert_eq!(
            file_hash_using(&dir.path().join("missing"), Some(&folder), settled),
            None
        );
    }

    /// Cleans and extracts one article of the repository's own site.
    fn extracted() -> Extracted {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let config = crate::config::load(root).expect("site.toml");
        let catalog = crate::catalog::load(root).expect("catalogue");
        let source = Source {
            path: "content/articles/x.md".into(),
            format: crate::source::Format::Markdown,
            front: Default::default(),
            body: "# Phones seized in Hyesan\n\nBy Kim Min-ji\n\nMay 3, 2024\n\nGuards in \
                   **Hyesan** seized phones, the Ministry of State Security said. A woman \
                   surnamed Pak was fined in 2023."
                .to_string(),
            body_line: 1,
            digest: 0,
        };
        let cleaned = crate::clean::clean(&source, &config.furniture);
        let matcher = crate::extract::Matcher::new(&catalog);
        crate::extract::extract(&source, cleaned, &matcher, &config.extract)
    }

    /// An entry as the file would hold `extraction` (the build makes its entries from the
    /// dossier's articles instead: see [`Pending::record`]).
    impl<'a> From<&'a Extraction> for Entry<'a> {
        fn from(extraction: &'a Extraction) -> Self {
            Entry {
                metadata: &extraction.metadata,
                warnings: &extraction.warnings,
                body: &extraction.body,
            }
        }
    }

    /// A cache file of `results`, each filed under its digest, and its bodies file.
    fn file_of(context: u128, results: &[(u128, &Extraction)]) -> (Vec<u8>, Arc<BodyFile>) {
        let entries: Vec<(u128, Entry)> = results.iter().map(|&(d, e)| (d, e.into())).collect();
        let (mut file, mut bodies) = (Vec::new(), Vec::new());
        encode(&mut file, &mut bodies, context, &entries).unwrap();
        (file, bodies_file(&bodies))
    }

    /// A bodies file holding `bytes`.
    fn bodies_file(bytes: &[u8]) -> Arc<BodyFile> {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(bytes).unwrap();
        Arc::new(BodyFile::new(file).unwrap())
    }

    #[test]
    fn a_result_comes_back_from_the_file_as_it_was_and_is_written_back_unchanged() {
        let result = Extraction::from(extracted());
        assert!(!result.metadata.mentions.is_empty(), "{result:?}");
        assert!(
            result
                .body
                .get()
                .paragraphs
                .iter()
                .any(|p| p.markup != crate::clean::Markup::Plain)
        );
        let (file, bodies) = file_of(7, &[(1, &result)]);
        let (entries, _) = decode(&file, bodies, 7).expect("it decodes");
        let decoded = entries.get(1).expect("a result");
        // Written back before its body is read, and after: the same bytes.
        let again = Entry::from(decoded).encode();
        assert_eq!(again, Entry::from(&result).encode());
        assert_eq!(format!("{decoded:?}"), format!("{result:?}"));
        assert_eq!(Entry::from(decoded).encode(), again);
        assert!(!decoded.body.is_damaged());
    }

    #[test]
    fn a_body_that_does_not_decode_or_was_changed_reads_empty_and_says_so() {
        let result = Extraction::from(extracted());
        let garbage = [0xff; 9];
        // Bytes that are no body, with their hash: a sound entry pointing to them.
        let mut damaged = result.clone();
        damaged.body = LazyBody::stored(
            bodies_file(&garbage),
            BodyAt {
                offset: 0,
                length: 9,
                hash: xxh3_64(&garbage),
            },
        );
        let (file, bodies) = file_of(7, &[(1, &result), (2, &damaged)]);
        let (entries, _) = decode(&file, Arc::clone(&bodies), 7).expect("it loads");
        let loaded = entries.get(2).expect("a result");
        assert_eq!(
            format!("{:?}", loaded.metadata),
            format!("{:?}", result.metadata)
        );
        assert!(!loaded.body.is_damaged(), "not read yet");
        assert!(loaded.body.get().paragraphs.is_empty());
        assert!(loaded.body.is_damaged());
        // A body changed in the bodies file (here: the first byte of all) fails its hash.
        let mut bytes = vec![0; bodies.length as usize];
        crate::write::read_exact_at(&bodies.file, &mut bytes, 0).unwrap();
        bytes[0] ^= 1;
        let (entries, _) = decode(&file, bodies_file(&bytes), 7).expect("it loads");
        assert!(
            entries
                .get(1)
                .expect("a result")
                .body
                .get()
                .paragraphs
                .is_empty()
        );
        assert!(entries.get(1).expect("a result").body.is_damaged());
        // A body said to be longer than any file: the same, without making room for it.
        let huge = LazyBody::stored(
            Arc::clone(&bodies),
            BodyAt {
                offset: 0,
                length: u64::MAX,
                hash: 0,
            },
        );
        assert!(huge.get().paragraphs.is_empty());
        assert!(huge.is_damaged());
        // A bodies file cut short: the same.
        let (entries, _) = decode(&file, bodies_file(&bytes[..bytes.len() - 1]), 7).unwrap();
        assert!(
            entries
                .get(2)
                .expect("a result")
                .body
                .get()
                .paragraphs
                .is_empty()
        );
        assert!(entries.get(2).expect("a result").body.is_damaged());
    }

    #[test]
    fn a_file_decodes_with_the_last_result_of_a_digest_and_not_when_damaged() {
        let result = extracted();
        let context = 7;
        // Digest 3 is listed twice: the later result wins.
        let mut later = result.clone();
        later.body.furniture.push("later".to_string());
        let (result, later) = (Extraction::from(result), Extraction::from(later));
        let results: Vec<(u128, &Extraction)> = (0..40)
            .map(|digest| (digest, &result))
            .chain([(3, &later)])
            .collect();
        let (file, bodies) = file_of(context, &results);
        let decoded = |bytes: &[u8]| {
            decode(bytes, Arc::clone(&bodies), context).map(|(entries, end)| {
                let mut entries: Vec<String> = entries
                    .iter()
                    .map(|(digest, e)| format!("{digest} {e:?}"))
                    .collect();
                entries.sort();
                (entries, end.count, end.length)
            })
        };
        let whole = decoded(&file).expect("the file decodes");
        assert_eq!(whole.0.len(), 40);
        assert_eq!(whole.1, 41);
        assert_eq!(whole.2, file.len() as u64 - 16);
        assert!(
            whole
                .0
                .iter()
                .any(|e| e.starts_with("3 ") && e.contains("later"))
        );
        // Any byte changed, the file cut short or another context: nothing.
        for at in (0..file.len()).step_by(7).chain([file.len() - 1]) {
            let mut damaged = file.clone();
            damaged[at] ^= 1;
            assert!(decoded(&damaged).is_none(), "byte {at} changed");
        }
        assert!(decoded(&file[..file.len() - 1]).is_none());
        assert!(decode(&file, Arc::clone(&bodies), context + 1).is_none());
    }

    #[test]
    fn appended_results_read_back_with_the_earlier_ones() {
        let first = Extraction::from(extracted());
        let mut second = extracted();
        second.body.furniture.push("second".to_string());
        let second = Extraction::from(second);
        let folder = tempfile::tempdir().unwrap();
        ExtractCache::save(folder.path(), 7, &[(1, Entry::from(&first))]);
        let mut loaded = ExtractCache::load(folder.path(), 7);
        let kept = loaded.entries.take(1).expect("the first result");
        let bodies = folder.path().join(BODIES_FILE);
        let size = |path: &Path| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let before = size(&bodies);
        let fresh = [(2, Entry::from(&second))];
        loaded.update(
            folder.path(),
            7,
            &[(1, Entry::from(&kept)), fresh[0]],
            &fresh,
        );
        assert!(size(&bodies) > before, "the new body is appended");
        let both = ExtractCache::load(folder.path(), 7);
        assert_eq!(both.entries.len(), 2);
        assert_eq!(
            format!("{:?}", both.entries.get(1).expect("a result")),
            format!("{first:?}")
        );
        assert_eq!(
            format!("{:?}", both.entries.get(2).expect("a result")),
            format!("{second:?}")
        );
        assert!(!both.entries.get(2).expect("a result").body.is_damaged());
    }
}
