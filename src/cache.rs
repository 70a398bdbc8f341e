//! The extraction cache: each article's cleaning and extraction result, kept in the cache folder
//! (`.dossier-cache/`) so a rebuild only extracts the articles that changed.
//!
//! Entries are filed under a hash of the article file's path and bytes ([`Source::digest`]).
//! Each keeps the article's metadata apart from its body ([`Body`]): a rebuild decodes every
//! article's metadata, to join the dossier, but only the bodies of the pages it makes again
//! ([`LazyBody`]). At 10,000 articles, that took a third off loading the cache, and 60 MB.
//! The whole file belongs to one *context*: the dossier binary, the furniture and extraction
//! settings and the catalogue. Any change to those, a checksum that does not match, or a file
//! that does not decode, and the cache is ignored and rebuilt: it is never trusted over the
//! sources. Deleting the folder is always safe.
//!
//! A build that only adds results (new or edited articles) appends them to the file and
//! rewrites its checksum, instead of rewriting every result: at 100,000 articles the file is
//! 800 MB. Results no article uses any more stay in the file until they are a quarter of it;
//! then it is rewritten with this build's results alone.
//!
//! Beside it, `sources.bin` keeps what reading each article file gave the last build, with the
//! file's stamp ([`KnownFiles`]), so that a rebuild reads only the files that changed. It
//! belongs to the dossier binary that wrote it, and carries a checksum too.

use std::collections::HashMap;
use std::io::{Read, Seek, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;

use xxhash_rust::xxh3::{Xxh3, xxh3_128};

use crate::catalog::Catalog;
use crate::config::Config;
use crate::error::Diagnostic;
use crate::extract::{Body, Extracted, Metadata};
use crate::graph::Article;
use crate::source::{KnownFiles, Source};

const FILE_NAME: &str = "extract.bin";
/// What the last build knew of each article file (see [`KnownFiles`]).
const SOURCES_FILE: &str = "sources.bin";
const SOURCES_MAGIC: &[u8] = b"dossier known sources 1\n";
const MAGIC: &[u8] = b"dossier extraction cache 5\n";
/// Entries encoded at once while saving, so the whole cache is never held encoded in memory.
const SAVE_BATCH: usize = 512;
/// The file is rewritten rather than appended to once more than one entry in this many is a
/// result no article uses any more.
const STALE_SHARE: usize = 4;

/// Extraction results of the previous build that still apply, by source digest.
///
/// The file: a magic line, the context (16 bytes), then per article its digest (16 bytes), the
/// length of its result (8 bytes) and the result: its metadata and warnings, then its body,
/// each in postcard encoding; last, an xxh3-128 of everything before it. Metadata are decoded
/// in parallel, bodies when first read.
#[derive(Default)]
pub struct ExtractCache {
    entries: HashMap<u128, Extraction>,
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

/// An article's [`Body`]: held decoded, or as the cache file's bytes and decoded the first time
/// it is read. A rebuild shows few bodies (the pages, index segments and export parts it makes
/// again), and decoding every one was half of loading the cache.
///
/// The bytes were in a file whose checksum matched, written by this same binary: they decode.
/// Should they not, the body reads as empty and [`LazyBody::is_damaged`] says so; the build
/// then starts again without the cache (see [`crate::build_with_progress`]).
#[derive(Clone)]
pub struct LazyBody {
    decoded: OnceLock<Option<Body>>,
    /// The encoded body: a batch of the cache file, and where in it the body lies.
    encoded: Option<(Arc<Vec<u8>>, Range<usize>)>,
}

impl LazyBody {
    /// A body that is already decoded.
    pub fn new(body: Body) -> Self {
        LazyBody {
            decoded: OnceLock::from(Some(body)),
            encoded: None,
        }
    }

    /// A body encoded at `span` of `bytes`.
    fn encoded(bytes: Arc<Vec<u8>>, span: Range<usize>) -> Self {
        LazyBody {
            decoded: OnceLock::new(),
            encoded: Some((bytes, span)),
        }
    }

    /// The body, decoded on first use; empty if its bytes do not decode.
    pub fn get(&self) -> &Body {
        static EMPTY: Body = Body::EMPTY;
        self.decoded
            .get_or_init(|| {
                let (bytes, span) = self.encoded.as_ref()?;
                postcard::from_bytes(bytes.get(span.clone())?).ok()
            })
            .as_ref()
            .unwrap_or(&EMPTY)
    }

    /// Whether the body was read and its bytes did not decode.
    pub fn is_damaged(&self) -> bool {
        matches!(self.decoded.get(), Some(None))
    }

    /// Appends the body's encoding to `out`: its bytes as the cache file had them when it was
    /// taken from there (decoded or not), encoded otherwise. `None` if it cannot be.
    fn encode_into(&self, out: &mut Vec<u8>) -> Option<()> {
        match (&self.encoded, self.decoded.get()) {
            (Some((bytes, span)), _) => out.extend_from_slice(bytes.get(span.clone())?),
            (None, Some(Some(body))) => out.extend(postcard::to_stdvec(body).ok()?),
            (None, _) => return None,
        }
        Some(())
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
    /// The entry as the file holds it: metadata and warnings, then the body.
    fn encode(&self) -> Option<Vec<u8>> {
        let mut bytes = postcard::to_stdvec(&(self.metadata, self.warnings)).ok()?;
        self.body.encode_into(&mut bytes)?;
        Some(bytes)
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
    known: Option<KnownFiles>,
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
        known: Option<KnownFiles>,
    ) -> Self {
        Pending {
            cache,
            folder,
            context,
            articles: results.collect(),
            known,
        }
    }

    /// Records the results now held by `articles`: appended to the file while few of its
    /// entries go unused, the file rewritten otherwise.
    pub fn record(self, articles: &[Article]) {
        if let Some(known) = &self.known {
            save_known_files(&self.folder, known);
        }
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
        std::fs::File::open(folder.join(FILE_NAME))
            .ok()
            .and_then(|file| {
                let length = file.metadata().ok()?.len();
                decode(file, length, context, LOAD_BATCH)
            })
            .map(|(entries, end)| ExtractCache {
                entries,
                end: Some(end),
            })
            .unwrap_or_default()
    }

    /// Whether the cache holds a result for `source`.
    pub fn has(&self, source: &Source) -> bool {
        self.entries.contains_key(&source.digest)
    }

    /// Takes the cached result of `source`, if there is one.
    pub fn take(&mut self, source: &Source) -> Option<Extraction> {
        self.entries.remove(&source.digest)
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
            let appended = std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|file| append(file, end, fresh));
            if appended.is_err() {
                // A half-appended file would fail its checksum anyway; it goes now.
                let _ = std::fs::remove_file(&path);
            }
            return;
        }
        Self::save(folder, context, all);
    }

    /// Writes the results of this build (and only these) for the next one, through a temporary
    /// file and a rename. Failing to write only costs the next build time, so errors are ignored.
    fn save(folder: &Path, context: u128, results: &[(u128, Entry)]) {
        let path = folder.join(FILE_NAME);
        let temporary = path.with_extension(format!("tmp-{}", std::process::id()));
        let written = std::fs::create_dir_all(folder)
            .and_then(|()| std::fs::File::create(&temporary))
            .and_then(|file| encode(std::io::BufWriter::new(file), context, results))
            .and_then(|()| std::fs::rename(&temporary, &path));
        if written.is_err() {
            let _ = std::fs::remove_file(&temporary);
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
fn save_known_files(folder: &Path, known: &KnownFiles) {
    let Ok(encoded) = postcard::to_stdvec(known) else {
        return;
    };
    let mut body = Vec::with_capacity(SOURCES_MAGIC.len() + 32 + encoded.len());
    body.extend_from_slice(SOURCES_MAGIC);
    body.extend_from_slice(&binary_hash().to_le_bytes());
    body.extend_from_slice(&encoded);
    let _ = write_checked(&folder.join(SOURCES_FILE), body);
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

/// Writes a cache file into `out`, hashing as it goes.
fn encode(mut out: impl Write, context: u128, results: &[(u128, Entry)]) -> std::io::Result<()> {
    let mut hasher = Xxh3::new();
    for bytes in [MAGIC, &context.to_le_bytes()] {
        hasher.update(bytes);
        out.write_all(bytes)?;
    }
    encode_entries(&mut out, &mut hasher, results)?;
    let sum = hasher.digest128();
    out.write_all(&sum.to_le_bytes())?;
    out.flush()
}

/// Appends `results` to the cache `file` whose end is `end`, over its old checksum, and writes
/// the new checksum.
fn append(mut file: std::fs::File, end: FileEnd, results: &[(u128, Entry)]) -> std::io::Result<()> {
    let FileEnd {
        mut hasher, length, ..
    } = end;
    file.set_len(length)?;
    file.seek(std::io::SeekFrom::Start(length))?;
    let mut out = std::io::BufWriter::new(file);
    encode_entries(&mut out, &mut hasher, results)?;
    out.write_all(&hasher.digest128().to_le_bytes())?;
    out.flush()
}

/// Writes the entries of `results` into `out`, feeding `hasher`.
fn encode_entries(
    out: &mut impl Write,
    hasher: &mut Xxh3,
    results: &[(u128, Entry)],
) -> std::io::Result<()> {
    let mut put = |out: &mut dyn Write, bytes: &[u8]| {
        hasher.update(bytes);
        out.write_all(bytes)
    };
    for batch in results.chunks(SAVE_BATCH) {
        let encoded: Vec<(u128, Vec<u8>)> = batch
            .par_iter()
            .filter_map(|(digest, entry)| entry.encode().map(|b| (*digest, b)))
            .collect();
        for (digest, bytes) in encoded {
            put(out, &digest.to_le_bytes())?;
            put(out, &(bytes.len() as u64).to_le_bytes())?;
            put(out, &bytes)?;
        }
    }
    Ok(())
}

/// Reads a cache file of `length` bytes written for `context`, with where it ends; `None` if
/// anything about it is wrong.
///
/// The file is read a batch of entries (about `batch_bytes`) at a time, each batch's metadata
/// decoded in parallel while the next is read (reading and decoding by turns left the cores
/// idle while it was read). So entries are decoded before the checksum is known to match;
/// nothing decoded is returned unless it does (postcard returns an error, never panics, on
/// bytes it cannot decode). The bodies stay in the batches' bytes until they are read.
fn decode(
    file: impl Read + Send,
    length: u64,
    context: u128,
    batch_bytes: usize,
) -> Option<(HashMap<u128, Extraction>, FileEnd)> {
    let body_length = length.checked_sub(16)?;
    let mut body = HashedReader {
        inner: std::io::BufReader::with_capacity(READ_BUFFER, file),
        left: body_length,
        hasher: Xxh3::new(),
    };
    let mut header = Vec::with_capacity(MAGIC.len());
    body.append(&mut header, MAGIC.len())?;
    if header != MAGIC {
        return None;
    }
    header.clear();
    body.append(&mut header, 16)?;
    if u128::from_le_bytes(header.as_slice().try_into().ok()?) != context {
        return None;
    }
    let mut entries: HashMap<u128, Extraction> = HashMap::new();
    let mut count = 0;
    let mut current = Batch::read(&mut body, batch_bytes)?;
    while !current.spans.is_empty() {
        count += current.spans.len();
        let (decoded, next) = rayon::join(
            move || current.decode(),
            || Batch::read(&mut body, batch_bytes),
        );
        // A digest listed twice (appended again) takes its last result: batches join in
        // the order of the file.
        entries.extend(decoded?);
        current = next?;
    }
    let HashedReader {
        mut inner, hasher, ..
    } = body;
    let mut sum = [0; 16];
    inner.read_exact(&mut sum).ok()?;
    if sum != hasher.digest128().to_le_bytes() {
        return None;
    }
    let end = FileEnd {
        hasher,
        length: body_length,
        count,
    };
    Some((entries, end))
}

/// Encoded results read from a cache file, to decode together.
struct Batch {
    bytes: Vec<u8>,
    /// Each entry's digest, and where its encoded result lies in `bytes`.
    spans: Vec<(u128, Range<usize>)>,
}

impl Batch {
    /// Reads the next entries of `body`, until the batch holds at least `batch_bytes` or the
    /// body ends (then it is empty). `None` if the body ends inside an entry or reading fails.
    fn read<R: Read>(body: &mut HashedReader<R>, batch_bytes: usize) -> Option<Batch> {
        let mut batch = Batch {
            bytes: Vec::with_capacity(batch_bytes.min(usize::try_from(body.left).ok()?)),
            spans: Vec::new(),
        };
        let bytes = &mut batch.bytes;
        while body.left > 0 && bytes.len() < batch_bytes {
            let start = bytes.len();
            body.append(bytes, 24)?;
            let digest = u128::from_le_bytes(bytes[start..start + 16].try_into().ok()?);
            let len =
                usize::try_from(u64::from_le_bytes(bytes[start + 16..].try_into().ok()?)).ok()?;
            bytes.truncate(start);
            body.append(bytes, len)?;
            batch.spans.push((digest, start..bytes.len()));
        }
        Some(batch)
    }

    /// The batch's results, their metadata decoded in parallel, their bodies left in the
    /// batch's bytes; `None` if one cannot be.
    fn decode(self) -> Option<Vec<(u128, Extraction)>> {
        let bytes = Arc::new(self.bytes);
        (self.spans.into_par_iter())
            .map(|(digest, span)| {
                let ((metadata, warnings), body) =
                    postcard::take_from_bytes(&bytes[span.clone()]).ok()?;
                let body: &[u8] = body;
                let body = LazyBody::encoded(Arc::clone(&bytes), span.end - body.len()..span.end);
                let extraction = Extraction {
                    metadata,
                    warnings,
                    body,
                };
                Some((digest, extraction))
            })
            .collect()
    }
}

/// Bytes of encoded results read before they are decoded, in parallel.
const LOAD_BATCH: usize = 4 << 20;
/// The read buffer under a cache file.
const READ_BUFFER: usize = 256 << 10;

/// Reads a cache file's body (everything before the checksum), feeding the checksum's hasher.
struct HashedReader<R> {
    inner: R,
    /// Bytes of the body not read yet.
    left: u64,
    hasher: Xxh3,
}

impl<R: Read> HashedReader<R> {
    /// Appends the body's next `n` bytes to `out`; `None` if the body has fewer or reading fails.
    fn append(&mut self, out: &mut Vec<u8>, n: usize) -> Option<()> {
        if n as u64 > self.left {
            return None;
        }
        let start = out.len();
        // Read into spare capacity: filling it with zeros first cost a fifth of the reading.
        out.reserve(n);
        let read = (&mut self.inner).take(n as u64).read_to_end(out).ok()?;
        if read != n {
            return None;
        }
        self.hasher.update(&out[start..]);
        self.left -= n as u64;
        Some(())
    }
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

/// A hash of the running executable, once per process; a fixed value if it cannot be read
/// (then the version string stands in).
pub fn binary_hash() -> u128 {
    static HASH: OnceLock<u128> = OnceLock::new();
    *HASH.get_or_init(|| {
        // Hashed as it is read through one small buffer: the binary is tens of megabytes,
        // and fresh memory for all of it would cost more than the hashing.
        let hash_file = |path: PathBuf| -> std::io::Result<u128> {
            let mut file = std::fs::File::open(path)?;
            let mut hasher = Xxh3::new();
            let mut buffer = vec![0; 1 << 20];
            loop {
                match file.read(&mut buffer)? {
                    0 => return Ok(hasher.digest128()),
                    n => hasher.update(&buffer[..n]),
                }
            }
        };
        std::env::current_exe()
            .and_then(hash_file)
            .unwrap_or_else(|_| xxh3_128(env!("CARGO_PKG_VERSION").as_bytes()))
    })
}

/// The cache folder of the site at `root`.
pub fn folder(root: &Path) -> PathBuf {
    root.join(crate::CACHE_FOLDER)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// A cache file of `results`, each filed under its digest.
    fn file_of(context: u128, results: &[(u128, &Extraction)]) -> Vec<u8> {
        let entries: Vec<(u128, Entry)> = results.iter().map(|&(d, e)| (d, e.into())).collect();
        let mut file = Vec::new();
        encode(&mut file, context, &entries).unwrap();
        file
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
                .any(|p| !p.events.is_empty())
        );
        let file = file_of(7, &[(1, &result)]);
        let (entries, _) = decode(&file[..], file.len() as u64, 7, 1000).expect("it decodes");
        let decoded = &entries[&1];
        // Written back before its body is read, and after: the same bytes.
        let again = Entry::from(decoded).encode();
        assert_eq!(again, Entry::from(&result).encode());
        assert_eq!(format!("{decoded:?}"), format!("{result:?}"));
        assert_eq!(Entry::from(decoded).encode(), again);
        assert!(!decoded.body.is_damaged());
    }

    #[test]
    fn a_body_that_does_not_decode_reads_empty_and_says_so() {
        let result = Extraction::from(extracted());
        let mut damaged = result.clone();
        let garbage = Arc::new(vec![0xff; 9]);
        damaged.body = LazyBody::encoded(garbage, 0..9);
        // A sound file (its checksum matches) holding bytes that are no body.
        let file = file_of(7, &[(1, &damaged)]);
        let (entries, _) = decode(&file[..], file.len() as u64, 7, 1000).expect("it loads");
        let loaded = &entries[&1];
        assert_eq!(
            format!("{:?}", loaded.metadata),
            format!("{:?}", result.metadata)
        );
        assert!(!loaded.body.is_damaged(), "not read yet");
        assert!(loaded.body.get().paragraphs.is_empty());
        assert!(loaded.body.is_damaged());
    }

    #[test]
    fn a_file_decodes_the_same_in_batches_of_any_size_and_not_when_damaged() {
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
        let file = file_of(context, &results);
        let decoded = |bytes: &[u8], batch_bytes: usize| {
            decode(bytes, bytes.len() as u64, context, batch_bytes).map(|(entries, end)| {
                let mut entries: Vec<String> = entries
                    .iter()
                    .map(|(digest, e)| format!("{digest} {e:?}"))
                    .collect();
                entries.sort();
                (entries, end.count, end.length)
            })
        };
        let whole = decoded(&file, file.len()).expect("the file decodes");
        assert_eq!(whole.0.len(), 40);
        assert_eq!(whole.1, 41);
        assert_eq!(whole.2, file.len() as u64 - 16);
        assert!(
            whole
                .0
                .iter()
                .any(|e| e.starts_with("3 ") && e.contains("later"))
        );
        // One entry per batch, a few per batch: the same entries.
        for batch_bytes in [1, 1000, 5000] {
            assert_eq!(
                decoded(&file, batch_bytes).as_ref(),
                Some(&whole),
                "{batch_bytes}"
            );
        }
        // Any byte changed (decoded before the checksum is compared: never a panic), the file
        // cut short or another context: nothing.
        for at in (0..file.len()).step_by(7).chain([file.len() - 1]) {
            let mut damaged = file.clone();
            damaged[at] ^= 1;
            assert!(decoded(&damaged, 1000).is_none(), "byte {at} changed");
        }
        assert!(decoded(&file[..file.len() - 1], 1000).is_none());
        assert!(decode(&file[..], file.len() as u64, context + 1, 1000).is_none());
    }
}
