//! Writing: the only stage that touches the output folder.
//!
//! Pages arrive one by one as they are rendered (nothing holds the whole site in memory) and are
//! written into a temporary folder beside the output. Nothing in the output changes until every
//! page is made, so a build that fails, or is killed before then, leaves the previous output as
//! it was. A lock file keeps two builds from writing at once.
//!
//! A manifest in the cache folder (`.dossier-cache/`) records each file of the last build: its
//! hash, size, inode and time; for a page, a hash of what it was made from ([`Group::put_made`]);
//! and the group it was made in ([`Sink::group`]: the pages, each segment of the search index,
//! the exports), which is kept whole while the group's input is unchanged, with the group's note
//! ([`Group::note`]). A file is reused only while all of the facts on disk still match.
//! - **Update**, when the output is the one the manifest describes: only new and changed files
//!   are staged. Once all are made, stale files are removed and the staged files renamed into
//!   place, each an atomic replacement; unchanged files are not touched at all. A build killed
//!   during this last step leaves whole files of both builds, which the next build sorts out.
//!   The exports an update replaces are kept in the cache folder as spares, which the next
//!   update writes its exports over rather than making new files (see `Staging::spare_for`);
//!   so are up to `SPARE_FILES` of the other files it replaces, which the next update's new
//!   and changed files are written over (see `Staging::new_file`).
//! - **Replace**, otherwise (a first build, or no manifest to trust): every file is staged,
//!   unchanged ones as hard links to the previous output, and the staging folder is swapped in
//!   whole (an atomic exchange on Linux).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::{Xxh3, xxh3_64, xxh3_128};

use crate::error::Diagnostic;
use crate::render::Page;

/// Checks that `out` is a safe output folder for the site at `root`: not the root itself, not
/// `content/` or `themes/`, and not a folder that holds any of them.
pub fn check_output(root: &Path, out: &Path) -> Result<(), Diagnostic> {
    let root = absolute(root);
    let out = absolute(out);
    let guarded = [
        root.clone(),
        root.join("content"),
        root.join("themes"),
        root.join("site.toml"),
    ];
    for path in &guarded {
        if path.starts_with(&out) {
            return Err(Diagnostic::general(format!(
                "refusing to write into {}: it holds {}, which a build would replace",
                out.display(),
                path.display()
            )));
        }
    }
    if out.starts_with(root.join("content")) || out.starts_with(root.join("themes")) {
        return Err(Diagnostic::general(format!(
            "refusing to write into {}: it is inside the site's sources",
            out.display()
        )));
    }
    Ok(())
}

/// An absolute, normalized form of `path` (symbolic links resolved where the path exists).
fn absolute(path: &Path) -> PathBuf {
    if let Ok(real) = fs::canonicalize(path) {
        return real;
    }
    let base = std::env::current_dir().unwrap_or_default();
    let joined = base.join(path);
    // Resolve the nearest existing ancestor, keep the rest as written.
    let mut existing = joined.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => break,
        }
    }
    let mut out = fs::canonicalize(existing).unwrap_or_else(|_| existing.to_path_buf());
    for name in rest.into_iter().rev() {
        if name == ".." {
            out.pop();
        } else if name != "." {
            out.push(name);
        }
    }
    out
}

/// Holds the output folder's lock while a build writes; released when dropped.
pub struct OutputLock {
    _file: File,
}

/// Takes the lock of `out` (a file `.<name>.lock` beside it), or fails at once if another build
/// holds it.
pub fn lock(out: &Path) -> Result<OutputLock, Diagnostic> {
    let (parent, name) = split(out)?;
    fs::create_dir_all(&parent)
        .map_err(|e| Diagnostic::general(format!("cannot create {}: {e}", parent.display())))?;
    let path = parent.join(format!(".{name}.lock"));
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| {
            Diagnostic::general(format!("cannot open the lock {}: {e}", path.display()))
        })?;
    match file.try_lock() {
        Ok(()) => Ok(OutputLock { _file: file }),
        Err(fs::TryLockError::WouldBlock) => Err(Diagnostic::general(format!(
            "another dossier build is writing {} right now; try again when it has finished",
            out.display()
        ))),
        Err(fs::TryLockError::Error(e)) => Err(Diagnostic::general(format!(
            "cannot lock {}: {e}",
            path.display()
        ))),
    }
}

fn split(out: &Path) -> Result<(PathBuf, String), Diagnostic> {
    let out = absolute(out);
    match (out.parent(), out.file_name().and_then(|n| n.to_str())) {
        (Some(parent), Some(name)) => Ok((parent.to_path_buf(), name.to_string())),
        _ => Err(Diagnostic::general(format!(
            "{} cannot be an output folder",
            out.display()
        ))),
    }
}

/// What a build knows about one file it put in the output: what it holds, and the facts on
/// disk that tell whether the file there is still the one it wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct FileRecord {
    /// xxh3-128 of the bytes; for a file written a part at a time, of its parts' hashes (see
    /// [`Streamed`]).
    hash: u128,
    /// Its size, inode and modification time when the build finished it. (Nested, the stamp
    /// encodes as the three fields it replaced: the manifest's bytes are the same.)
    stamp: FileStamp,
    /// A hash of what the file was made from (a page's template and data), when the build knew
    /// it; a later build with the same input reuses the file without making it again.
    input: Option<u128>,
    /// The key of the group the file was made in (see [`Sink::group`]), if any.
    group: Option<u128>,
    /// True for a file written a part at a time ([`Streamed`]), whose `hash` is not of its
    /// bytes, so that reading the file cannot tell whether it holds them.
    streamed: bool,
}

impl FileRecord {
    /// True when `metadata` describes the very file this record was made for: same size,
    /// inode and modification time.
    fn matches(&self, metadata: &fs::Metadata) -> bool {
        metadata.is_file() && FileStamp::of(metadata) == self.stamp
    }
}

/// The facts on disk that tell a file from any other, or from itself changed: size, inode and
/// modification time, as the output manifest records them. Renaming or linking a file keeps
/// them; writing to it changes the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp {
    len: u64,
    inode: u64,
    modified_ns: i128,
}

impl FileStamp {
    /// The stamp of the file `metadata` describes.
    #[cfg(unix)]
    fn of(metadata: &fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        FileStamp {
            len: metadata.len(),
            inode: metadata.ino(),
            modified_ns: i128::from(metadata.mtime()) * 1_000_000_000
                + i128::from(metadata.mtime_nsec()),
        }
    }

    /// The stamp of the file `stat` describes (see [`FolderHandles::file_matches`]); `None`
    /// for a size no file can have.
    // The inode's type is narrower than 64 bits on some targets.
    #[cfg(target_os = "linux")]
    #[allow(clippy::useless_conversion)]
    fn of_stat(stat: &rustix::fs::Stat) -> Option<Self> {
        Some(FileStamp {
            len: u64::try_from(stat.st_size).ok()?,
            inode: u64::from(stat.st_ino),
            modified_ns: i128::from(stat.st_mtime) * 1_000_000_000 + i128::from(stat.st_mtime_nsec),
        })
    }

    /// Without inode numbers, the time and size alone tell an untouched file.
    #[cfg(not(unix))]
    fn of(metadata: &fs::Metadata) -> Self {
        let modified_ns = metadata
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i128);
        FileStamp {
            len: metadata.len(),
            inode: 0,
            modified_ns,
        }
    }
}

/// The output manifest: every file of the last build swapped into `output`.
#[derive(Debug, Deserialize)]
struct Manifest {
    /// The dossier version that wrote it; another version starts afresh.
    version: String,
    /// The output folder it describes.
    output: PathBuf,
    /// Every file, in the byte order of their paths (see [`Sink::finish`]).
    files: Vec<(PathBuf, FileRecord)>,
    /// Notes of groups (see [`Group::note`]), by group key.
    notes: BTreeMap<u128, String>,
}

/// Everything in an output folder, as [`list_output`] finds it: each path below the folder,
/// and whether it is a folder.
type Listing = Vec<(PathBuf, bool)>;

/// What a build knows of the previous one, from its manifest.
#[derive(Default)]
struct Previous {
    /// The previous build's files, each marked untouched or not (see [`check_untouched`]),
    /// once the thread `checking` has sent them: see [`Previous::files`].
    files: std::sync::OnceLock<FxHashMap<PathKey, PreviousFile>>,
    /// Where that thread sends them.
    checked: Mutex<Option<std::sync::mpsc::Receiver<FxHashMap<PathKey, PreviousFile>>>>,
    /// Everything in the output, when asked for (see [`list_output`]), once the thread has
    /// listed it: see [`Previous::listing`].
    listing: std::sync::OnceLock<Option<Listing>>,
    /// The thread that looks at the output (see [`Previous::new`]); it returns the listing.
    checking: Mutex<Option<std::thread::JoinHandle<Option<Listing>>>>,
    /// Notes of groups (see [`Group::note`]), by group key.
    notes: BTreeMap<u128, String>,
}

impl Previous {
    /// The previous build's `files`, with the output folder `out` they were written to. Which
    /// of them are still in the output untouched is found on a thread of its own, started now,
    /// while the site is read (see [`check_untouched`]); with `list`, the same thread then
    /// lists everything in the output (see [`list_output`]) for an update to remove what the
    /// new build does not make.
    fn new(
        out: &Path,
        files: Vec<(PathBuf, FileRecord)>,
        notes: BTreeMap<u128, String>,
        list: bool,
    ) -> Self {
        let previous = Previous {
            notes,
            ..Previous::default()
        };
        let folder = out.to_path_buf();
        let (sender, checked) = std::sync::mpsc::sync_channel(1);
        let spawned = std::thread::Builder::new()
            .name("dossier-check-output".into())
            .spawn(move || {
                yield_to_the_build();
                // The files are sent as soon as they are known: the pages need them as they
                // start, the listing is needed only once every page is made. When the site
                // was read quickly, the pages waited for the listing too.
                let _ = sender.send(check_untouched(&folder, files));
                list.then(|| list_output(&folder))
            });
        // A thread that cannot be started leaves no file known, as one that fails does.
        if let Ok(handle) = spawned {
            *lock_ignoring_poison(&previous.checked) = Some(checked);
            *lock_ignoring_poison(&previous.checking) = Some(handle);
        }
        previous
    }

    /// The previous build's files, once every one has been looked at. Should the thread have
    /// failed, no file is known: every one is made again.
    fn files(&self) -> &FxHashMap<PathKey, PreviousFile> {
        self.files.get_or_init(|| {
            let checked = lock_ignoring_poison(&self.checked).take();
            checked
                .and_then(|receiver| receiver.recv().ok())
                .unwrap_or_default()
        })
    }

    /// Everything in the output, once listed; `None` when it was not asked for or the thread
    /// failed (an update then lists the output itself).
    fn listing(&self) -> Option<&[(PathBuf, bool)]> {
        let listing = self.listing.get_or_init(|| {
            let checking = lock_ignoring_poison(&self.checking).take();
            checking.and_then(|handle| handle.join().ok()).flatten()
        });
        listing.as_deref()
    }
}

/// A path that hashes and compares as its bytes (see [`bytes_of`]), and is looked up by them:
/// every file a build makes looks up the previous build's record of it, and comparing paths
/// as paths, component by component, was most of that (5 ms of processor time in a
/// one-article rebuild of 10,000 articles).
#[derive(Debug)]
struct PathKey(PathBuf);

impl PartialEq for PathKey {
    fn eq(&self, other: &Self) -> bool {
        bytes_of(&self.0) == bytes_of(&other.0)
    }
}

impl Eq for PathKey {}

impl std::hash::Hash for PathKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // As the bytes hash, so that a lookup by bytes finds it (see `Borrow`).
        bytes_of(&self.0).hash(state);
    }
}

impl std::borrow::Borrow<[u8]> for PathKey {
    fn borrow(&self) -> &[u8] {
        bytes_of(&self.0)
    }
}

/// One file of the previous build, and whether it was found untouched in the output.
struct PreviousFile {
    record: FileRecord,
    /// True when the output's file at its path was, when this build started, the very file
    /// `record` describes (see [`FileRecord::matches`]); only such a file is carried over.
    untouched: bool,
}

/// Bytes gathered before each write of a file made of many parts.
const WRITE_BUFFER: usize = 1 << 20;

/// Bytes of a streamed file written between two calls of [`release_written`].
const RELEASE_WINDOW: u64 = 16 << 20;

const MANIFEST_VERSION: &str = concat!("dossier ", env!("CARGO_PKG_VERSION"), " manifest 8");

/// Where a build puts its files. In a build, each file is minified (HTML), hashed and written into
/// a staging folder beside the output, or hard-linked from the previous output when the last build
/// wrote the same bytes there and the file is untouched since; [`Sink::finish`] swaps the staging
/// folder in. In a check, files are only counted.
pub struct Sink {
    staging: Option<Staging>,
    /// Every file added, with what the build recorded of it when it was staged.
    files: Mutex<Vec<(PathBuf, Option<FileRecord>)>>,
    /// The notes of this build's groups, by group key.
    notes: Mutex<BTreeMap<u128, String>>,
}

struct Staging {
    dir: PathBuf,
    out: PathBuf,
    manifest_path: PathBuf,
    previous: Previous,
    /// True to update the previous output in place (see the module documentation), false to
    /// replace it with the staging folder.
    update: bool,
    folders: Mutex<FxHashSet<PathBuf>>,
    carried: AtomicUsize,
    finished: bool,
    /// Where the files an update replaces of those written a part at a time (the exports) are
    /// kept, to be written over by the next build (see [`Staging::spare_for`]).
    spares: PathBuf,
    /// The paths of the files written a part at a time, this build.
    streamed: Mutex<FxHashSet<PathBuf>>,
    /// Where other files an update replaces are kept, up to [`SPARE_FILES`], to be written over
    /// by the next update's new and changed files (see [`Staging::new_file`]).
    spare_files: PathBuf,
    /// The spare files not used yet, as found when the build started (none in a replacement).
    unused_spares: Mutex<SparePool>,
}

/// Spare files (see [`Staging::new_file`]) by their size in blocks of [`SPARE_BLOCK`] bytes.
///
/// A file written over a spare is cut to its length, and a spare larger by a block or more
/// then frees blocks. On a disk mounted with online discard, as the benchmark's is, ext4
/// without a journal waits for the device to discard them: 104 of the 120 files a one-article
/// rebuild at 10,000 articles wrote over spares taken in any order waited about 90 µs each. A
/// file takes a spare of its own size in blocks if there is one, else the largest smaller one
/// (which grows, freeing nothing), else the smallest larger one.
#[derive(Debug, Default)]
struct SparePool {
    by_blocks: BTreeMap<u64, Vec<PathBuf>>,
}

/// The block size [`SparePool`] counts in: that of ext4 and most file systems.
const SPARE_BLOCK: u64 = 4096;

impl SparePool {
    /// The spares found in `folder` (none when it cannot be read).
    fn read(folder: &Path) -> SparePool {
        let mut pool = SparePool::default();
        for entry in fs::read_dir(folder).into_iter().flatten().flatten() {
            // A spare whose size cannot be read is given to whoever takes it as empty;
            // `Staging::new_file` looks at it again before writing over it.
            let size = entry.metadata().map_or(0, |metadata| metadata.len());
            pool.add(size, entry.path());
        }
        pool
    }

    fn add(&mut self, size: u64, path: PathBuf) {
        let blocks = size.div_ceil(SPARE_BLOCK);
        self.by_blocks.entry(blocks).or_default().push(path);
    }

    /// The spare to write `len` bytes over (see [`SparePool`]), taken out of the pool.
    fn take(&mut self, len: u64) -> Option<PathBuf> {
        let blocks = len.div_ceil(SPARE_BLOCK);
        let key = (self.by_blocks.range(..=blocks).next_back())
            .or_else(|| self.by_blocks.range(blocks..).next())
            .map(|(&key, _)| key)?;
        let list = self.by_blocks.get_mut(&key)?;
        let spare = list.pop();
        if list.is_empty() {
            self.by_blocks.remove(&key);
        }
        spare
    }

    fn len(&self) -> usize {
        self.by_blocks.values().map(Vec::len).sum()
    }

    fn clear(&mut self) {
        *self = SparePool::default();
    }
}

/// How many replaced files an update keeps as spares for the next one (see
/// [`Staging::new_file`]); adding an article to a dossier of 10,000 changes about 530 files.
const SPARE_FILES: usize = 2048;

/// Files of a build made together from one input; see [`Sink::group`]. Each file added is
/// recorded with the group's key.
pub struct Group<'a> {
    sink: &'a Sink,
    key: u128,
}

impl Group<'_> {
    /// Adds one file of the group.
    pub fn put(&self, page: Page) -> Result<(), Diagnostic> {
        self.sink.put_in(page, Some(self.key))
    }

    /// Starts a file of the group that is written a part at a time: exports too large to hold
    /// in memory whole. [`Streamed::finish`] adds it.
    pub fn stream(&self, path: PathBuf) -> Result<Streamed<'_>, Diagnostic> {
        let (file, over) = match &self.sink.staging {
            Some(staging) => {
                let target = staging.target(&path)?;
                if !lock_ignoring_poison(&staging.streamed).insert(path.clone()) {
                    return Err(made_twice(&path));
                }
                let (file, over) = match staging.spare_for(&path, &target) {
                    Some(file) => {
                        let over = file
                            .metadata()
                            .ok()
                            .map(|metadata| FileStamp::of(&metadata));
                        (file, over)
                    }
                    None => (create_new(&staging.out, &path, &target)?, None),
                };
                // Its last size, as a guess at this one's: `Streamed::finish` trims the rest.
                if let Some(previous) = staging.replaces(&path) {
                    reserve(&file, previous.stamp.len);
                }
                let writer =
                    std::io::BufWriter::with_capacity(WRITE_BUFFER, ReleasingFile::new(file));
                (Some((target, writer)), over)
            }
            None => (None, None),
        };
        Ok(Streamed {
            sink: self.sink,
            group: self.key,
            path,
            hasher: Xxh3::new(),
            len: 0,
            file,
            over,
            held: FxHashMap::default(),
            in_place: 0,
        })
    }

    /// Adds one file of the group made by `make` from an input whose hash is `input`; the
    /// previous build's file is kept, without calling `make`, when it was made from the same
    /// input and is untouched since.
    pub fn put_made(
        &self,
        path: PathBuf,
        input: u128,
        make: impl FnOnce() -> Result<Vec<u8>, Diagnostic>,
    ) -> Result<(), Diagnostic> {
        self.sink.made(path, input, Some(self.key), make)
    }

    /// Adds files of the group in parallel.
    pub fn put_all(&self, pages: Vec<Page>) -> Result<(), Diagnostic> {
        pages.into_par_iter().try_for_each(|page| self.put(page))
    }

    /// The previous build's file at `path` in the output, opened for reading, with the hash
    /// that build recorded for it and whether it is still that very file (same size, inode
    /// and time, checked on the open file). A file of the recorded size whose inode or time
    /// differ (a copy, as a CI cache restores one) comes with `false`: its bytes are not
    /// vouched for, and a caller must check each one it takes. `None` in a check, when the
    /// last build made no such file, or when the file there is of another size.
    pub fn previous_file(&self, path: &Path) -> Option<(File, u128, bool)> {
        let staging = self.sink.staging.as_ref()?;
        let record = &staging.previous.files().get(bytes_of(path))?.record;
        let file = File::open(staging.out.join(path)).ok()?;
        let metadata = file.metadata().ok()?;
        if !metadata.is_file() || metadata.len() != record.stamp.len {
            return None;
        }
        Some((file, record.hash, record.matches(&metadata)))
    }

    /// Records a short text that the group's files imply (such as a list of their names), so
    /// that a later build that keeps the group learns it without making the files again; see
    /// [`Sink::noted_group`].
    pub fn note(&self, note: &impl Serialize) {
        // A note that cannot be written is left out: the next build makes the group again.
        if let Ok(text) = serde_json::to_string(note) {
            lock_ignoring_poison(&self.sink.notes).insert(self.key, text);
        }
    }
}

/// What [`Sink::noted_group`] found.
pub enum Noted<'a, T> {
    /// The group must be made: add its files and its note.
    Make(Group<'a>),
    /// The previous build's files of the group are kept; this is the note it recorded.
    Kept(T),
}

/// A file of a [`Group`] being written a part at a time, hashed as it goes; see
/// [`Group::stream`].
///
/// Its hash is made of its parts': the length and xxh3-128 hash of each part, in order. A part
/// copied from an earlier build's file then needs only the hash that build recorded for it,
/// and its bytes can go from file to file without passing through this process (see
/// [`Streamed::copy`]). The same parts make the same hash every build.
///
/// The file may be a spare written over (the module documentation says when): an export of an
/// earlier build, whose parts the caller can name with [`Streamed::holds`]. A part that this
/// build puts at the very place where the spare already has it is then left there, not
/// written again: adding an article at the end of an export writes the new part alone.
pub struct Streamed<'a> {
    sink: &'a Sink,
    group: u128,
    path: PathBuf,
    hasher: Xxh3,
    len: u64,
    /// The staged file and its buffer; `None` in a check, which writes nothing.
    file: Option<(PathBuf, std::io::BufWriter<ReleasingFile>)>,
    /// The stamp of the spare being written over, as it was found; `None` for a new file.
    over: Option<FileStamp>,
    /// Parts the spare holds: length and hash by where each starts.
    held: FxHashMap<u64, (u64, u128)>,
    /// Parts left in place in the spare, not written.
    in_place: usize,
}

/// A finished [`Streamed`] file.
#[derive(Debug, Clone, Copy)]
pub struct Finished {
    /// The file's hash (see [`Streamed`]).
    pub hash: u128,
    /// The stamp of the staged file, once complete; `None` in a check. A later build finds the
    /// file with this stamp as the output's file or as a spare, and tells by it whether the
    /// parts this build wrote are still there (see [`Streamed::holds`]).
    pub stamp: Option<FileStamp>,
    /// How many parts the spare written over held already, left in place.
    pub in_place: usize,
}

impl Streamed<'_> {
    /// Appends `part` to the file; returns its hash (xxh3-128), what [`Streamed::copy`] needs
    /// to copy it into a later build's file.
    pub fn write(&mut self, part: &[u8]) -> Result<u128, Diagnostic> {
        let hash = xxh3_128(part);
        let len = part.len() as u64;
        let held = self.held_at(self.len, len, hash);
        self.in_place += usize::from(held);
        self.add_part(len, hash);
        let out = self.sink.out();
        if let Some((target, writer)) = &mut self.file {
            if held {
                skip(writer, len).map_err(|e| cannot_write(out, target, &e))?;
            } else {
                writer
                    .write_all(part)
                    .map_err(|e| cannot_write(out, target, &e))?;
            }
        }
        Ok(hash)
    }

    /// The stamp of the spare this file is written over, as found before any writing; `None`
    /// for a new file (or in a check).
    pub fn writing_over(&self) -> Option<FileStamp> {
        self.over
    }

    /// Tells that the spare being written over holds these parts (where each starts, its
    /// length and hash, as [`Streamed::write`] returned it), as the build that wrote the
    /// spare recorded them. The caller vouches for that by the spare's stamp
    /// ([`Streamed::writing_over`]), which must be the one that build's [`Finished`] gave.
    /// Parts that do not lie within the spare are ignored.
    pub fn holds(&mut self, parts: impl IntoIterator<Item = (u64, u64, u128)>) {
        let Some(over) = self.over else {
            return;
        };
        self.held = (parts.into_iter())
            .filter(|&(start, len, _)| start.checked_add(len).is_some_and(|end| end <= over.len))
            .map(|(start, len, hash)| (start, (len, hash)))
            .collect();
    }

    /// True when the spare already holds the part of `len` bytes and `hash` at `start`.
    fn held_at(&self, start: u64, len: u64, hash: u128) -> bool {
        len > 0 && self.held.get(&start) == Some(&(len, hash))
    }

    /// Appends the bytes `range` of `from`, which are the parts `parts` (each part's length and
    /// hash, as [`Streamed::write`] returned it when an earlier build wrote it), in order.
    /// Where the system can, the kernel copies them from file to file.
    pub fn copy(
        &mut self,
        from: &File,
        range: std::ops::Range<u64>,
        parts: &[(u64, u128)],
    ) -> Result<(), Diagnostic> {
        let total = parts
            .iter()
            .try_fold(0_u64, |sum, &(len, _)| sum.checked_add(len));
        if range.start > range.end || total != Some(range.end - range.start) {
            return Err(Diagnostic::general(format!(
                "{}: the parts to copy from the last build do not add up",
                self.path.display()
            )));
        }
        // The run in stretches the spare holds (true) or not, in order.
        let mut stretches: Vec<(bool, std::ops::Range<u64>)> = Vec::new();
        let (mut from_at, mut to_at) = (range.start, self.len);
        for &(len, hash) in parts {
            let held = self.held_at(to_at, len, hash);
            self.in_place += usize::from(held);
            match stretches.last_mut() {
                Some((was_held, stretch)) if *was_held == held => stretch.end += len,
                _ => stretches.push((held, from_at..from_at + len)),
            }
            from_at += len;
            to_at += len;
        }
        let out = self.sink.out();
        if let Some((target, writer)) = &mut self.file {
            writer.flush().map_err(|e| cannot_write(out, target, &e))?;
            for (held, stretch) in stretches {
                let done = if held {
                    skip(writer, stretch.end - stretch.start)
                } else {
                    writer.get_mut().copy_from(from, stretch)
                };
                done.map_err(|e| {
                    out_of_space(out, &e).unwrap_or_else(|| {
                        Diagnostic::general(format!(
                            "copying {} from the last build failed ({e}); if it changed \
                             meanwhile, build again",
                            self.path.display()
                        ))
                    })
                })?;
            }
        }
        for &(len, hash) in parts {
            self.add_part(len, hash);
        }
        Ok(())
    }

    fn add_part(&mut self, len: u64, hash: u128) {
        self.hasher.update(&len.to_le_bytes());
        self.hasher.update(&hash.to_le_bytes());
        self.len += len;
    }

    /// The bytes written so far.
    pub fn written(&self) -> u64 {
        self.len
    }

    /// Completes the file and adds it to the build; returns its hash (see [`Streamed`]).
    /// When the previous build wrote the same parts to the output and that file is untouched,
    /// the output's file stays and the staged copy is dropped, as for any other unchanged file.
    pub fn finish(self) -> Result<Finished, Diagnostic> {
        let hash = self.hasher.digest128();
        let mut stamp = None;
        let record = match (self.file, &self.sink.staging) {
            (Some((target, writer)), Some(staging)) => {
                let file = writer
                    .into_inner()
                    .map_err(|e| cannot_write(&staging.out, &target, e.error()))?
                    .into_inner();
                // Space reserved beyond what was written goes (see `reserve`).
                file.set_len(self.len)
                    .map_err(|e| cannot_write(&staging.out, &target, &e))?;
                let metadata = file
                    .metadata()
                    .map_err(|e| cannot_write(&staging.out, &target, &e))?;
                stamp = Some(FileStamp::of(&metadata));
                let record = staging.settle_streamed(&self.path, &target, hash, self.len)?;
                Some(FileRecord {
                    input: None,
                    group: Some(self.group),
                    streamed: true,
                    ..record.unwrap_or_else(|| record_of(&metadata, hash))
                })
            }
            _ => None,
        };
        lock_ignoring_poison(&self.sink.files).push((self.path, record));
        Ok(Finished {
            hash,
            stamp,
            in_place: self.in_place,
        })
    }
}

/// What names the spare of the streamed file `path` (see [`Staging::spare_for`]), in hex.
fn spare_key(path: &Path) -> u64 {
    spare_key_of(bytes_of(path))
}

/// [`spare_key`] of a path given as its bytes.
fn spare_key_of(path: &[u8]) -> u64 {
    xxh3_64(path)
}

/// The bytes of `path`, which compare and hash far quicker than the path does (component by
/// component). Paths compare alike either way here: the build makes its own, and lists the
/// output's, with single separators and no `.` components.
fn bytes_of(path: &Path) -> &[u8] {
    path.as_os_str().as_encoded_bytes()
}

/// Moves the writing of `writer` on by `len` bytes, leaving what the file holds there.
fn skip(writer: &mut std::io::BufWriter<ReleasingFile>, len: u64) -> std::io::Result<()> {
    writer.flush()?;
    writer.get_mut().skip(len)
}

/// A file written from start to end, large, that this build does not read again: what is
/// written is dropped from the page cache as the writing goes on, 16 MB at a time and a window
/// behind, so that each part is on disk by then. Pages this build will not read again would
/// otherwise pile up in memory; at 100,000 articles the exports alone are 1.5 GB.
pub struct ReleasingFile {
    file: File,
    written: u64,
    /// The part of the file last handed to [`release_written`]: what the next call drops from
    /// memory, now that it has been written out.
    released: std::ops::Range<u64>,
}

impl ReleasingFile {
    /// Wraps `file`, to be written from its start.
    pub fn new(file: File) -> Self {
        ReleasingFile {
            file,
            written: 0,
            released: 0..0,
        }
    }

    /// The file, once written.
    pub fn into_inner(self) -> File {
        self.file
    }

    /// Moves on by `len` bytes without writing: the file already holds them.
    fn skip(&mut self, len: u64) -> std::io::Result<()> {
        use std::io::{Seek, SeekFrom};
        let by = i64::try_from(len)
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
        self.file.seek(SeekFrom::Current(by))?;
        self.written += len;
        Ok(())
    }

    /// Appends the bytes `range` of `from`: copied by the kernel (`copy_file_range`) where the
    /// system can, read and written here otherwise.
    fn copy_from(&mut self, from: &File, range: std::ops::Range<u64>) -> std::io::Result<()> {
        let mut offset = range.start;
        while offset < range.end {
            let left = usize::try_from(range.end - offset).unwrap_or(usize::MAX);
            match kernel_copy(from, &mut offset, &self.file, left.min(1 << 30)) {
                Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => self.wrote(n),
                // Not between these files, or not on this system: copied here instead.
                Err(_) => break,
            }
        }
        self.copy_here(from, offset..range.end)
    }

    /// Appends the bytes `range` of `from`, read and written by this process.
    fn copy_here(&mut self, from: &File, range: std::ops::Range<u64>) -> std::io::Result<()> {
        let left = usize::try_from(range.end.saturating_sub(range.start)).unwrap_or(usize::MAX);
        let mut buffer = vec![0; COPY_BUFFER.min(left)];
        let mut offset = range.start;
        while offset < range.end {
            let take = (range.end - offset).min(buffer.len() as u64) as usize;
            read_exact_at(from, &mut buffer[..take], offset)?;
            self.write_all(&buffer[..take])?;
            offset += take as u64;
        }
        Ok(())
    }

    /// Counts `n` more bytes written, and drops what is written out from memory a window
    /// behind.
    fn wrote(&mut self, n: usize) {
        self.written += n as u64;
        if self.written >= self.released.end + RELEASE_WINDOW {
            release_written(&self.file, self.released.start..self.written);
            self.released = self.released.end..self.written;
        }
    }
}

/// Bytes copied at a time where the kernel does not copy them (see [`ReleasingFile::copy_from`]).
const COPY_BUFFER: usize = 1 << 20;

/// Copies up to `len` bytes of `from` at `offset` (moved on) to the end of what is written to
/// `to`, in the kernel; returns how many.
#[cfg(target_os = "linux")]
fn kernel_copy(from: &File, offset: &mut u64, to: &File, len: usize) -> std::io::Result<usize> {
    rustix::fs::copy_file_range(from, Some(offset), to, None, len).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn kernel_copy(_: &File, _: &mut u64, _: &File, _: usize) -> std::io::Result<usize> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// Reads `buffer.len()` bytes of `file` at `offset`.
#[cfg(unix)]
pub fn read_exact_at(file: &File, buffer: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buffer, offset)
}

/// Reads `buffer.len()` bytes of `file` at `offset`.
#[cfg(not(unix))]
pub fn read_exact_at(file: &File, buffer: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = file;
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(buffer)
}

impl Write for ReleasingFile {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(bytes)?;
        self.wrote(n);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// How a finished build's files reached the output.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteStats {
    /// Files written because their bytes are new.
    pub written: usize,
    /// Files carried over from the previous output unchanged.
    pub carried: usize,
}

impl Sink {
    /// A sink that only counts files (for `dossier check`).
    pub fn discard() -> Self {
        Sink {
            staging: None,
            files: Mutex::new(Vec::new()),
            notes: Mutex::default(),
        }
    }

    /// A sink that stages files for `out`, reusing files of the previous build recorded in
    /// `cache` (the cache folder). Call while holding [`lock`].
    pub fn stage(out: &Path, cache: &Path) -> Result<Self, Diagnostic> {
        let (parent, name) = split(out)?;
        let out = parent.join(&name);
        // Leftovers of builds that were killed before they could clean up.
        if let Ok(entries) = fs::read_dir(&parent) {
            let prefix = format!(".{name}.tmp-");
            for entry in entries.flatten() {
                if entry
                    .file_name()
                    .to_str()
                    .is_some_and(|n| n.starts_with(&prefix))
                {
                    let _ = fs::remove_dir_all(entry.path());
                }
            }
        }
        let dir = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        fs::create_dir_all(&dir)
            .map_err(|e| Diagnostic::general(format!("cannot create {}: {e}", dir.display())))?;
        let manifest_path = cache.join(format!(
            "output-{:016x}.bin",
            xxh3_64(out.as_os_str().as_encoded_bytes())
        ));
        let manifest = read_manifest(&manifest_path)
            .filter(|m| m.version == MANIFEST_VERSION && m.output == out);
        let update = manifest.as_ref().is_some_and(|m| !m.files.is_empty())
            && fs::symlink_metadata(&out).is_ok_and(|m| m.is_dir());
        let previous = manifest
            .map(|m| Previous::new(&out, m.files, m.notes, update))
            .unwrap_or_default();
        let out_key = xxh3_64(out.as_os_str().as_encoded_bytes());
        let spares = cache.join(format!("spares-{out_key:016x}"));
        let spare_files = cache.join(format!("spare-files-{out_key:016x}"));
        let unused_spares = if update {
            SparePool::read(&spare_files)
        } else {
            SparePool::default()
        };
        Ok(Sink {
            staging: Some(Staging {
                dir,
                out,
                manifest_path,
                previous,
                update,
                folders: Mutex::new(FxHashSet::default()),
                carried: AtomicUsize::new(0),
                finished: false,
                spares,
                streamed: Mutex::new(FxHashSet::default()),
                spare_files,
                unused_spares: Mutex::new(unused_spares),
            }),
            files: Mutex::new(Vec::new()),
            notes: Mutex::default(),
        })
    }

    /// Adds one file to the build.
    pub fn put(&self, page: Page) -> Result<(), Diagnostic> {
        self.put_in(page, None)
    }

    /// The output folder (empty in a check, which writes nothing).
    fn out(&self) -> &Path {
        self.staging
            .as_ref()
            .map_or(Path::new(""), |staging| staging.out.as_path())
    }

    /// Adds one file, recording the `group` it belongs to.
    fn put_in(&self, page: Page, group: Option<u128>) -> Result<(), Diagnostic> {
        let record = match &self.staging {
            Some(staging) => Some(FileRecord {
                input: None,
                group,
                ..staging.put(&page.path, &page.bytes)?
            }),
            None => None,
        };
        lock_ignoring_poison(&self.files).push((page.path, record));
        Ok(())
    }

    /// Adds the file at `path` that `make` makes from an input whose hash is `input`, recording
    /// the `group` it belongs to. When the previous build made this file from the same input and
    /// it is untouched since, it is carried over and `make` is not called; `input` must
    /// therefore cover everything the bytes depend on. In a check, `make` always runs, so its
    /// problems are found.
    fn made(
        &self,
        path: PathBuf,
        input: u128,
        group: Option<u128>,
        make: impl FnOnce() -> Result<Vec<u8>, Diagnostic>,
    ) -> Result<(), Diagnostic> {
        let record = match &self.staging {
            Some(staging) => {
                let record = match staging.carry_over_made(&path, input)? {
                    Some(record) => record,
                    None => staging.put(&path, &make()?)?,
                };
                FileRecord {
                    input: Some(input),
                    group,
                    ..record
                }
            }
            None => {
                make()?;
                lock_ignoring_poison(&self.files).push((path, None));
                return Ok(());
            }
        };
        lock_ignoring_poison(&self.files).push((path, Some(record)));
        Ok(())
    }

    /// Adds files in parallel, returning every problem.
    pub fn put_all(&self, pages: Vec<Page>) -> Result<(), Diagnostic> {
        pages.into_par_iter().try_for_each(|page| self.put(page))
    }

    /// The group `name` of files that are all made from one input whose hash is `input` (such
    /// as the exports, from the whole dossier, or a segment of the search index, from its
    /// articles). Returns `None` when the previous build made the group from the same input and
    /// every one of its files is untouched: they are kept, and nothing needs making. Otherwise
    /// returns the group, to add its files to. In a check, the group is always made.
    pub fn group(&self, name: &str, input: u128) -> Result<Option<Group<'_>>, Diagnostic> {
        self.keep_group(self.group_of(name, input))
    }

    /// [`Sink::group`] for a group that records a note ([`Group::note`]): it is kept only
    /// when the previous build recorded its note too, and the note reads as a `T`, which is
    /// then returned.
    pub fn noted_group<T: DeserializeOwned>(
        &self,
        name: &str,
        input: u128,
    ) -> Result<Noted<'_, T>, Diagnostic> {
        let group = self.group_of(name, input);
        let Some(staging) = &self.staging else {
            return Ok(Noted::Make(group));
        };
        let key = group.key;
        let Some((text, note)) = staging
            .previous
            .notes
            .get(&key)
            .and_then(|text| Some((text, serde_json::from_str::<T>(text).ok()?)))
        else {
            return Ok(Noted::Make(group));
        };
        Ok(match self.keep_group(group)? {
            Some(group) => Noted::Make(group),
            None => {
                lock_ignoring_poison(&self.notes).insert(key, text.clone());
                Noted::Kept(note)
            }
        })
    }

    fn group_of(&self, name: &str, input: u128) -> Group<'_> {
        let mut hasher = Xxh3::new();
        hasher.update(name.as_bytes());
        hasher.update(&input.to_le_bytes());
        Group {
            sink: self,
            key: hasher.digest128(),
        }
    }

    /// Keeps the previous build's files of `group` when there are some and every one is
    /// untouched, returning `None`; otherwise returns the group, to make.
    fn keep_group<'s>(&'s self, group: Group<'s>) -> Result<Option<Group<'s>>, Diagnostic> {
        let Some(staging) = &self.staging else {
            return Ok(Some(group));
        };
        let members: Vec<(&PathBuf, &PreviousFile)> = (staging.previous.files().iter())
            .filter(|(_, previous)| previous.record.group == Some(group.key))
            .map(|(PathKey(path), previous)| (path, previous))
            .collect();
        if members.is_empty() || !members.iter().all(|(_, previous)| previous.untouched) {
            return Ok(Some(group));
        }
        // In parallel: a search segment has thousands of files.
        let kept = members
            .par_iter()
            .map(
                |&(path, previous)| match staging.carry(path, &previous.record)? {
                    Some(record) => Ok((path.clone(), Some(record))),
                    None => Err(Diagnostic::general(format!(
                        "{} changed while the build was keeping it",
                        staging.out.join(path).display()
                    ))),
                },
            )
            .collect::<Result<Vec<_>, _>>()?;
        lock_ignoring_poison(&self.files).extend(kept);
        Ok(None)
    }

    /// The paths of the files added so far, sorted.
    pub fn paths(&self) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = lock_ignoring_poison(&self.files)
            .iter()
            .map(|(path, _)| path.clone())
            .collect();
        paths.sort();
        paths
    }

    /// How many files were added so far.
    pub fn count(&self) -> usize {
        lock_ignoring_poison(&self.files).len()
    }

    /// Puts the staged files in place as the new output and records them for the next build.
    /// Returns how many files were written and carried over; `None` for a check.
    pub fn finish(mut self) -> Result<Option<WriteStats>, Diagnostic> {
        let mut files = std::mem::take(&mut *lock_ignoring_poison(&self.files));
        // By bytes, which is quicker than by path components: all that counts here is that
        // a path made twice ends up beside itself.
        files.par_sort_unstable_by(|a, b| bytes_of(&a.0).cmp(bytes_of(&b.0)));
        if let Some(pair) =
            (files.windows(2)).find(|pair| bytes_of(&pair[0].0) == bytes_of(&pair[1].0))
        {
            return Err(made_twice(&pair[0].0));
        }
        let Some(staging) = self.staging.as_mut() else {
            return Ok(None);
        };
        let notes = std::mem::take(&mut *lock_ignoring_poison(&self.notes));
        let output = staging.out.clone();
        // The manifest is encoded while the output is updated: it records the files as they
        // were staged, which putting them in place does not change. It is written after, so
        // that it never describes an output that is not there yet.
        let (placed, manifest) = rayon::join(
            || {
                if staging.update {
                    staging.update_output(&files)
                } else {
                    swap(&staging.dir, &staging.out)?;
                    staging.finished = true;
                    Ok(None)
                }
            },
            || {
                encode_manifest(&ManifestView {
                    version: MANIFEST_VERSION,
                    output: &output,
                    files: (files.iter())
                        .filter_map(|(path, record)| Some((path.as_path(), record.as_ref()?)))
                        .collect(),
                    notes: &notes,
                })
            },
        );
        let replaced = placed?;
        let carried = staging.carried.load(Ordering::Relaxed);
        let stats = WriteStats {
            written: files.len() - carried,
            carried,
        };
        // The manifest only saves work: a build that cannot record it is still complete.
        let _ = rayon::join(
            || replaced.as_deref().map(remove_replaced),
            || manifest.and_then(|bytes| write_manifest(&staging.manifest_path, bytes)),
        );
        // What is left of an update's staging folder (its emptied folders) goes now; freeing
        // the records of tens of thousands of files, milliseconds at 10,000 articles, is left
        // to a thread nobody waits for.
        if !staging.finished {
            let _ = fs::remove_dir_all(&staging.dir);
            staging.finished = true;
        }
        // Should no thread start, they are freed here, as the closure goes.
        let _ = std::thread::Builder::new().spawn(move || drop((self, files, notes)));
        Ok(Some(stats))
    }
}

impl Staging {
    /// Stages one file, carried over or written; returns what to record of it.
    fn put(&self, path: &Path, bytes: &[u8]) -> Result<FileRecord, Diagnostic> {
        let hash = xxh3_128(bytes);
        if let Some(record) = self.carry_over(path, hash, bytes.len() as u64)? {
            return Ok(record);
        }
        let target = self.target(path)?;
        let (mut file, spare) = self.new_file(path, &target, bytes.len() as u64)?;
        if self.replaces(path).is_some() {
            reserve(&file, bytes.len() as u64);
        }
        file.write_all(bytes)
            .map_err(|e| cannot_write(&self.out, &target, &e))?;
        if spare {
            // What is left of the spare's own bytes goes.
            file.set_len(bytes.len() as u64)
                .map_err(|e| cannot_write(&self.out, &target, &e))?;
        }
        let metadata = file
            .metadata()
            .map_err(|e| cannot_write(&self.out, &target, &e))?;
        Ok(record_of(&metadata, hash))
    }

    /// The staged file `target` for `path`, to be written from its start: a spare file moved
    /// there when there is one (and then `true`), otherwise a new file.
    ///
    /// A spare is a file an earlier update replaced. On this kind of disk (ext4), making a file
    /// looks for a free inode and steps over each one freed in the last minute, so that a build
    /// that replaces hundreds of files makes the next one's files slow to create: making the
    /// 530 files of one new article at 10,000 articles was 8.5% of that rebuild's CPU time.
    /// Writing over a spare instead makes no inode, and the replaced file is not freed either.
    /// A spare with another name (a build killed between linking it and moving the new file
    /// into place leaves it a link to the output's file) is never written over.
    /// The file is to hold `len` bytes: a spare of about that size is taken (see
    /// [`SparePool`]).
    fn new_file(&self, path: &Path, target: &Path, len: u64) -> Result<(File, bool), Diagnostic> {
        loop {
            let Some(spare) = lock_ignoring_poison(&self.unused_spares).take(len) else {
                return Ok((create_new(&self.out, path, target)?, false));
            };
            let Ok(metadata) = fs::symlink_metadata(&spare) else {
                continue;
            };
            if !metadata.is_file() || link_count(&metadata) != 1 {
                let _ = fs::remove_file(&spare);
                continue;
            }
            match rename_new(&spare, target) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Err(made_twice(path));
                }
                // A file system without such renames: no spare will do.
                Err(_) => {
                    lock_ignoring_poison(&self.unused_spares).clear();
                    return Ok((create_new(&self.out, path, target)?, false));
                }
            }
            match File::options().write(true).open(target) {
                Ok(file) => return Ok((file, true)),
                Err(e) => {
                    let _ = fs::remove_file(target);
                    return Err(cannot_write(&self.out, target, &e));
                }
            }
        }
    }

    /// Removes the spares (see [`Staging::spare_for`]) of every file but those of `made`.
    fn remove_spares_except(&self, made: &FxHashSet<&[u8]>) {
        let Ok(entries) = fs::read_dir(&self.spares) else {
            return;
        };
        let spares: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
        if spares.is_empty() {
            return;
        }
        let wanted: FxHashSet<u64> = made.iter().map(|path| spare_key_of(path)).collect();
        for spare in spares {
            let key = (spare.file_name().and_then(|name| name.to_str()))
                .and_then(|name| u64::from_str_radix(name, 16).ok());
            if !key.is_some_and(|key| wanted.contains(&key)) {
                let _ = fs::remove_file(&spare);
            }
        }
    }

    /// Where the spare for the streamed file `path` is kept.
    fn spare_path(&self, path: &Path) -> PathBuf {
        self.spares.join(format!("{:016x}", spare_key(path)))
    }

    /// The spare for the streamed file `path`, moved to `target` and opened to be written over
    /// from its start; `None` when there is none (or it cannot be used), and a new file is
    /// made.
    ///
    /// A spare is the file an earlier update replaced at `path` (an export of the build before
    /// last). Writing over its blocks costs the kernel much less than the two things it saves:
    /// making a file of tens of megabytes anew, and freeing the old one when the new one
    /// replaces it (0.13-0.2 s for the 150 MB of exports at 10,000 articles). A spare linked
    /// anywhere else (a build killed between linking it and moving the new file into place
    /// leaves it a link to the output's file) is never written over.
    fn spare_for(&self, path: &Path, target: &Path) -> Option<File> {
        if !self.update {
            return None;
        }
        let spare = self.spare_path(path);
        let metadata = fs::symlink_metadata(&spare).ok()?;
        if !metadata.is_file() || link_count(&metadata) != 1 {
            let _ = fs::remove_file(&spare);
            return None;
        }
        fs::rename(&spare, target).ok()?;
        match File::options().write(true).open(target) {
            Ok(file) => Some(file),
            Err(_) => {
                let _ = fs::remove_file(target);
                None
            }
        }
    }

    /// The record of the output's file that the staged file for `path` will be renamed over,
    /// if any (an update, and the last build made that file).
    fn replaces(&self, path: &Path) -> Option<&FileRecord> {
        (self.previous.files().get(bytes_of(path)))
            .filter(|_| self.update)
            .map(|previous| &previous.record)
    }

    /// For a file streamed to `target` with `hash` and `len`: when an update finds the very
    /// same bytes already in the output, untouched, that file is carried over and the staged
    /// copy removed. Otherwise `None`: the staged file stands.
    fn settle_streamed(
        &self,
        path: &Path,
        target: &Path,
        hash: u128,
        len: u64,
    ) -> Result<Option<FileRecord>, Diagnostic> {
        // A replacement keeps the staged copy: carrying over would hard-link onto it.
        if !self.update {
            return Ok(None);
        }
        let Some(record) = self.carry_over(path, hash, len)? else {
            return Ok(None);
        };
        // The staged copy is not needed; it stays as the spare for the next build's file.
        let kept = fs::create_dir_all(&self.spares)
            .and_then(|()| fs::rename(target, self.spare_path(path)));
        if kept.is_err() {
            fs::remove_file(target).map_err(|e| {
                Diagnostic::general(format!("cannot remove {}: {e}", target.display()))
            })?;
        }
        Ok(Some(record))
    }

    /// Where `path` goes in the staging folder, its folder made.
    fn target(&self, path: &Path) -> Result<PathBuf, Diagnostic> {
        let target = self.dir.join(path);
        if let Some(folder) = target.parent() {
            let mut folders = lock_ignoring_poison(&self.folders);
            if !folders.contains(folder) {
                fs::create_dir_all(folder).map_err(|e| cannot_create(&self.out, folder, &e))?;
                folders.insert(folder.to_path_buf());
            }
        }
        Ok(target)
    }

    /// Carries over the previous output's file at `path` when the last build wrote these very
    /// bytes there and the file is untouched since (same size, inode and time).
    fn carry_over(
        &self,
        path: &Path,
        hash: u128,
        len: u64,
    ) -> Result<Option<FileRecord>, Diagnostic> {
        let Some(previous) = self.previous.files().get(bytes_of(path)) else {
            return Ok(None);
        };
        if previous.record.hash != hash || previous.record.stamp.len != len {
            return Ok(None);
        }
        // What it was made from is recorded by the caller.
        self.keep(path, previous)
    }

    /// Carries over the previous output's file at `path` when the last build made it from
    /// `input` and it is untouched since.
    fn carry_over_made(&self, path: &Path, input: u128) -> Result<Option<FileRecord>, Diagnostic> {
        match self.previous.files().get(bytes_of(path)) {
            Some(previous) if previous.record.input == Some(input) => self.keep(path, previous),
            _ => Ok(None),
        }
    }

    /// Keeps the previous output's file at `path` if it was found to be the file `previous`
    /// records (see [`check_untouched`]): in an update it stays where it is; in a replacement
    /// it is hard-linked into the staging folder.
    fn keep(&self, path: &Path, previous: &PreviousFile) -> Result<Option<FileRecord>, Diagnostic> {
        if !previous.untouched {
            return Ok(None);
        }
        self.carry(path, &previous.record)
    }

    /// Carries over the previous output's file at `path`, found to be the file `previous`
    /// records: in an update it stays where it is; in a replacement it is hard-linked into the
    /// staging folder (`None` if that fails).
    fn carry(&self, path: &Path, previous: &FileRecord) -> Result<Option<FileRecord>, Diagnostic> {
        if !self.update && fs::hard_link(self.out.join(path), self.target(path)?).is_err() {
            return Ok(None);
        }
        self.carried.fetch_add(1, Ordering::Relaxed);
        Ok(Some(*previous))
    }

    /// Makes the previous output into this build's: removes every file this build did not
    /// make (and folders left empty), then renames the staged files into place. Unchanged
    /// files stay as they are. Should this fail halfway, every file is still whole, and the
    /// manifest is not updated, so the next build checks and rewrites what differs. Returns
    /// the folder holding the files it replaced, for [`remove_replaced`].
    fn update_output(
        &mut self,
        files: &[(PathBuf, Option<FileRecord>)],
    ) -> Result<Option<PathBuf>, Diagnostic> {
        // Files can only be renamed within one file system: an output that is a mount point of
        // its own is refused here, before anything in it changes.
        if !same_file_system(&self.dir, &self.out) {
            return Err(Diagnostic::general(format!(
                "{} is on another file system than the folder it is in; dossier writes beside \
                 the output and renames files into it, so the two must be on one file system",
                self.out.display()
            )));
        }
        // By their bytes (see `bytes_of`): hashing each path component by component was most
        // of this step at 100,000 articles.
        let made: FxHashSet<&[u8]> = files.iter().map(|(path, _)| bytes_of(path)).collect();
        // Listed as the build started, beside the reading of the site, unless that failed.
        let listed_now;
        let listing = match self.previous.listing() {
            Some(listing) => listing,
            None => {
                listed_now = list_output(&self.out);
                listed_now.as_slice()
            }
        };
        // Removed first, so that a file may take the place of a folder that is now stale.
        for (relative, is_folder) in listing {
            if *is_folder {
                // Only succeeds on an empty folder, which is what is wanted.
                let _ = fs::remove_dir(self.out.join(relative));
            } else if !made.contains(bytes_of(relative)) {
                let path = self.out.join(relative);
                match fs::remove_file(&path) {
                    // Gone since it was listed: as wanted.
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(Diagnostic::general(format!(
                            "cannot remove {}: {e}",
                            path.display()
                        )));
                    }
                    _ => {}
                }
            }
        }
        // The staging folder holds exactly the files that are new or changed.
        let staged: Vec<PathBuf> = walkdir::WalkDir::new(&self.dir)
            .min_depth(1)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|entry| !entry.file_type().is_dir())
            .map(walkdir::DirEntry::into_path)
            .collect();
        let moves: Vec<(PathBuf, PathBuf)> = staged
            .into_iter()
            .filter_map(|path| {
                let target = self.out.join(path.strip_prefix(&self.dir).ok()?);
                Some((path, target))
            })
            .collect();
        let folders: BTreeSet<&Path> = moves.iter().filter_map(|(_, t)| t.parent()).collect();
        for folder in folders {
            fs::create_dir_all(folder).map_err(|e| cannot_create(&self.out, folder, &e))?;
        }
        // Renaming a new file over an old one frees the old one's blocks and cached pages
        // inside the rename: tens of milliseconds for a large export, during which the other
        // renames wait. So each old file is first linked into a folder beside the staging
        // folder, every rename is then quick, and the old files are removed after, in
        // parallel while the manifest is written (see [`remove_replaced`]). A build killed
        // before then leaves that folder behind; the next build removes it with the other
        // leftovers.
        let mut replaced = self.dir.clone().into_os_string();
        replaced.push("-replaced");
        let replaced = PathBuf::from(replaced);
        let set_aside = fs::create_dir(&replaced).is_ok();
        // A replaced file that was written a part at a time (an export) is kept instead, as
        // the spare the next build writes its file over (see `spare_for`).
        let streamed = std::mem::take(&mut *lock_ignoring_poison(&self.streamed));
        if streamed.is_empty() {
            // Nothing was written a part at a time: the exports were kept as they were (the
            // dossier is unchanged), or are no longer made. Their spares stay for the next
            // build that makes them again; those of files this build did not make go.
            self.remove_spares_except(&made);
        }
        let spares_ready = !streamed.is_empty() && fs::create_dir_all(&self.spares).is_ok();
        // Other replaced files are kept as spare files, as many as there is room for; the
        // spares this build did not use stay too. Their names only need to differ from those
        // of the spares left: the staging folder's name is this build's own.
        let unused = lock_ignoring_poison(&self.unused_spares).len();
        let room = AtomicUsize::new(SPARE_FILES.saturating_sub(unused));
        let spare_files_ready = fs::create_dir_all(&self.spare_files).is_ok();
        let build_name = self
            .dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let moved = moves
            .par_iter()
            .enumerate()
            .try_for_each(|(i, (path, target))| {
                let relative = path.strip_prefix(&self.dir).unwrap_or(path);
                let spared = spares_ready && streamed.contains(relative) && {
                    let spare = self.spare_path(relative);
                    let _ = fs::remove_file(&spare);
                    fs::hard_link(target, spare).is_ok()
                };
                // Linking fails for a new file, which replaces nothing: it gives its room back.
                let kept = !spared
                    && spare_files_ready
                    && room
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                        .is_ok()
                    && {
                        let spare = self.spare_files.join(format!("{build_name}-{i}"));
                        let linked = fs::hard_link(target, spare).is_ok();
                        if !linked {
                            room.fetch_add(1, Ordering::Relaxed);
                        }
                        linked
                    };
                if set_aside && !spared && !kept {
                    let _ = fs::hard_link(target, replaced.join(i.to_string()));
                }
                fs::rename(path, target).map_err(|e| {
                    Diagnostic::general(format!("cannot move {} into place: {e}", target.display()))
                })
            });
        match moved {
            Ok(()) => Ok(set_aside.then_some(replaced)),
            Err(e) => {
                if set_aside {
                    let _ = fs::remove_dir_all(&replaced);
                }
                Err(e)
            }
        }
    }
}

/// `path` relative to `folder`, for a path that a walk of `folder` found (`folder` joined with
/// more). Cut from its bytes: comparing the two component by component took a fiftieth of a
/// one-article rebuild, for the tens of thousands of files of an output.
#[cfg(unix)]
fn below<'p>(path: &'p Path, folder: &Path) -> Option<&'p Path> {
    use std::os::unix::ffi::OsStrExt;
    let rest = (path.as_os_str().as_bytes())
        .strip_prefix(folder.as_os_str().as_bytes())?
        .strip_prefix(b"/")?;
    Some(Path::new(std::ffi::OsStr::from_bytes(rest)))
}

#[cfg(not(unix))]
fn below<'p>(path: &'p Path, folder: &Path) -> Option<&'p Path> {
    path.strip_prefix(folder).ok()
}

/// Removes the folder of replaced files that [`Staging::update_output`] set aside, its files
/// in parallel (each large one takes tens of milliseconds to free).
fn remove_replaced(folder: &Path) {
    if let Ok(entries) = fs::read_dir(folder) {
        let files: Vec<PathBuf> = entries.flatten().map(|entry| entry.path()).collect();
        files.par_iter().for_each(|file| {
            let _ = fs::remove_file(file);
        });
    }
    let _ = fs::remove_dir_all(folder);
}

/// True when `a` and `b` are on one file system (or when that cannot be told).
#[cfg(unix)]
fn same_file_system(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev(),
        _ => true,
    }
}

/// Without device numbers, a rename across file systems fails with its own error.
#[cfg(not(unix))]
fn same_file_system(_: &Path, _: &Path) -> bool {
    true
}

/// Creates the staged file `target` for `path`. Never opens an existing file: a staged file
/// may be a hard link to the previous output, which must stay as it is until the swap (and no
/// path is written twice).
fn create_new(out: &Path, path: &Path, target: &Path) -> Result<File, Diagnostic> {
    File::options()
        .write(true)
        .create_new(true)
        .open(target)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                made_twice(path)
            } else {
                cannot_write(out, target, &e)
            }
        })
}

/// Renames `from` to `to`, failing with `AlreadyExists` rather than replacing a file at `to`.
#[cfg(target_os = "linux")]
fn rename_new(from: &Path, to: &Path) -> std::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE).map_err(std::io::Error::from)
}

/// Without a rename that refuses to replace, spare files are not used.
#[cfg(not(target_os = "linux"))]
fn rename_new(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// Reserves `len` bytes of disk for a staged file that will be renamed over a file of the
/// output. On ext4, renaming a file over another first starts writing out the new file's
/// delayed-allocation data (`auto_da_alloc`, a guard against empty files after a crash); with
/// its blocks reserved up front there is nothing to start, and the rename is quick. Measured
/// here, writing and renaming over their old copies 400 files of 20 KB: 138 ms, 89 ms with
/// space reserved; one of 50 MB: 39 ms, 19 ms.
#[cfg(target_os = "linux")]
fn reserve(file: &File, len: u64) {
    // Only saves time: where space cannot be reserved, the file is written as usual.
    let _ = rustix::fs::fallocate(file, rustix::fs::FallocateFlags::empty(), 0, len);
}

#[cfg(not(target_os = "linux"))]
fn reserve(_: &File, _: u64) {}

/// Asks the kernel to write out the `range` of a streamed file and to drop from memory what of
/// it is written out already. A build writes gigabytes of exports at 100,000 articles that
/// nothing reads again; kept in the page cache, they took memory the kernel had to find anew
/// for each later file. Called a window behind the writing, so the older part is on disk by
/// then.
#[cfg(target_os = "linux")]
fn release_written(file: &File, range: std::ops::Range<u64>) {
    if let Some(len) = std::num::NonZeroU64::new(range.end - range.start) {
        // Only saves memory: if the kernel declines, the pages stay cached as usual.
        let _ = rustix::fs::fadvise(file, range.start, Some(len), rustix::fs::Advice::DontNeed);
    }
}

#[cfg(not(target_os = "linux"))]
fn release_written(_: &File, _: std::ops::Range<u64>) {}

/// The error for a file of the output `out` that cannot be written at `target`.
fn cannot_write(out: &Path, target: &Path, error: &std::io::Error) -> Diagnostic {
    out_of_space(out, error).unwrap_or_else(|| {
        Diagnostic::general(format!("cannot write {}: {error}", target.display()))
    })
}

/// The error for a folder of the output `out` that cannot be made at `folder`.
fn cannot_create(out: &Path, folder: &Path, error: &std::io::Error) -> Diagnostic {
    out_of_space(out, error).unwrap_or_else(|| {
        Diagnostic::general(format!("cannot create {}: {error}", folder.display()))
    })
}

/// The error for a disk that is full, or a quota used up, while the output `out` is written:
/// one that names the output rather than the file. Every later file then fails the same way,
/// and a build's report lists each distinct problem once, so a full disk is said once, not
/// once for each of the hundreds of thousands of files a large dossier writes.
fn out_of_space(out: &Path, error: &std::io::Error) -> Option<Diagnostic> {
    use std::io::ErrorKind::{QuotaExceeded, StorageFull};
    matches!(error.kind(), StorageFull | QuotaExceeded).then(|| {
        Diagnostic::general(format!(
            "cannot write the site into {}: {error}",
            out.display()
        ))
    })
}

/// The error for a path two pages of one build would share.
fn made_twice(path: &Path) -> Diagnostic {
    Diagnostic::general(format!(
        "{} would be made twice: two pages have the same name",
        path.display()
    ))
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.finished {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

fn lock_ignoring_poison<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How many names the file of `metadata` has.
#[cfg(unix)]
fn link_count(metadata: &fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    metadata.nlink()
}

/// Where links cannot be counted, a spare is never trusted to be the only name of its file.
#[cfg(not(unix))]
fn link_count(_: &fs::Metadata) -> u64 {
    u64::MAX
}

/// Everything in the output folder `out`, each path relative to it and whether it is a folder,
/// each folder after what it holds (the order in which to remove them).
fn list_output(out: &Path) -> Listing {
    walkdir::WalkDir::new(out)
        .min_depth(1)
        .contents_first(true)
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let relative = below(entry.path(), out)?.to_path_buf();
            Some((relative, entry.file_type().is_dir()))
        })
        .collect()
}

/// Gives the calling thread the smallest share of a busy processor, so that it runs mostly on
/// a core the build leaves idle: the look at the output's files (see [`Previous::new`]) is
/// needed only once the pages are made, and taking a core from the reading of the site for it
/// cost that stage as much as it saved the pages.
#[cfg(target_os = "linux")]
fn yield_to_the_build() {
    // Only a matter of speed: should the system refuse, the thread runs as the others do.
    let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 19);
}

#[cfg(not(target_os = "linux"))]
fn yield_to_the_build() {}

/// The previous build's `files`, each marked untouched when the output `out` holds, at its
/// path, the very file its record describes (same size, inode and time).
///
/// Every file is looked at once, as the build starts, on a thread beside the reading of the
/// site (see [`Previous::new`]), which leaves a core idle for part of its time: otherwise the
/// pages, the search index and the exports would each look at theirs in turn, on the cores
/// that make them. Nothing in the output changes until the new build is put in place, and
/// the build holds the output's lock.
///
/// A file whose stamp differs but whose size is the one recorded is read and hashed: an
/// output copied or restored elsewhere (as a CI cache restores `public/`, with new inodes)
/// holds the very bytes the last build wrote, and its files are then carried over under their
/// new stamps rather than all made and written again.
fn check_untouched(
    out: &Path,
    files: Vec<(PathBuf, FileRecord)>,
) -> FxHashMap<PathKey, PreviousFile> {
    let folders = FolderHandles::open(out, &files);
    let mut looked: Vec<(PathBuf, PreviousFile)> = (files.into_iter())
        .map(|(path, record)| {
            let untouched = folders.file_matches(out, &path, &record);
            (path, PreviousFile { record, untouched })
        })
        .collect();
    let read = |buffer: &mut Vec<u8>, (path, file): &mut (PathBuf, PreviousFile)| {
        if let Some(stamp) = same_bytes(out, path, &file.record, buffer) {
            file.record.stamp = stamp;
            file.untouched = true;
        }
    };
    let unmatched = looked.iter().filter(|(_, file)| !file.untouched).count();
    // Reading is far slower than a stat: a restored output has hundreds of megabytes to read,
    // which the pages wait for. So many files are read on threads of their own, at this
    // thread's low priority: not on the build's pool, whose threads may be the ones waiting
    // for this look to end.
    let pool = (unmatched > READ_ALONE).then(|| rayon::ThreadPoolBuilder::new().build().ok());
    match pool.flatten() {
        Some(pool) => pool.install(|| {
            (looked.par_iter_mut())
                .filter(|(_, file)| !file.untouched)
                .for_each_init(Vec::new, read);
        }),
        None => {
            let mut buffer = Vec::new();
            (looked.iter_mut())
                .filter(|(_, file)| !file.untouched)
                .for_each(|entry| read(&mut buffer, entry));
        }
    }
    (looked.into_iter())
        .map(|(path, file)| (PathKey(path), file))
        .collect()
}

/// Up to this many files that [`check_untouched`] must read are read on its own thread.
const READ_ALONE: usize = 64;

/// The stamp of the file at `path` in `out` when it is a plain file (not a link) holding the
/// bytes `record` describes: of the size recorded, whose bytes hash as recorded, unchanged
/// while they were read (`buffer` holds them). `None` otherwise, and for a streamed file.
fn same_bytes(
    out: &Path,
    path: &Path,
    record: &FileRecord,
    buffer: &mut Vec<u8>,
) -> Option<FileStamp> {
    use std::io::Read;
    if record.streamed {
        return None;
    }
    let full = out.join(path);
    let found = fs::symlink_metadata(&full).ok()?;
    if !found.is_file() || found.len() != record.stamp.len {
        return None;
    }
    let mut file = File::open(&full).ok()?;
    let before = FileStamp::of(&file.metadata().ok()?);
    // The file opened is the one looked at, not another put there since.
    if before != FileStamp::of(&found) {
        return None;
    }
    buffer.clear();
    file.read_to_end(buffer).ok()?;
    let after = FileStamp::of(&file.metadata().ok()?);
    (after == before && xxh3_128(buffer) == record.hash).then_some(after)
}

/// The folders of an output, opened once, so that each file in them is looked at by its name
/// alone: looking a file up by its full path walks every folder above it again, a third of
/// the cost of each look.
#[cfg(target_os = "linux")]
struct FolderHandles(FxHashMap<PathBuf, rustix::fd::OwnedFd>);

#[cfg(target_os = "linux")]
impl FolderHandles {
    /// Opens the folders of `files` in `out` (those that cannot be opened are left out).
    fn open(out: &Path, files: &[(PathBuf, FileRecord)]) -> Self {
        use rustix::fs::{Mode, OFlags};
        let mut folders = FxHashMap::default();
        for (path, _) in files {
            let folder = path.parent().unwrap_or(Path::new(""));
            if !folders.contains_key(folder) {
                let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
                if let Ok(handle) = rustix::fs::open(out.join(folder), flags, Mode::empty()) {
                    folders.insert(folder.to_path_buf(), handle);
                }
            }
        }
        FolderHandles(folders)
    }

    /// True when the file at `path` in `out` is the one `record` describes.
    fn file_matches(&self, out: &Path, path: &Path, record: &FileRecord) -> bool {
        use rustix::fs::{AtFlags, FileType};
        let folder = path.parent().unwrap_or(Path::new(""));
        let (Some(handle), Some(name)) = (self.0.get(folder), path.file_name()) else {
            // A folder that could not be opened: the file is looked up by its full path.
            return fs::symlink_metadata(out.join(path)).is_ok_and(|m| record.matches(&m));
        };
        rustix::fs::statat(handle, name, AtFlags::SYMLINK_NOFOLLOW).is_ok_and(|stat| {
            FileType::from_raw_mode(stat.st_mode) == FileType::RegularFile
                && FileStamp::of_stat(&stat) == Some(record.stamp)
        })
    }
}

/// Elsewhere each file is looked up by its full path.
#[cfg(not(target_os = "linux"))]
struct FolderHandles;

#[cfg(not(target_os = "linux"))]
impl FolderHandles {
    fn open(_: &Path, _: &[(PathBuf, FileRecord)]) -> Self {
        FolderHandles
    }

    fn file_matches(&self, out: &Path, path: &Path, record: &FileRecord) -> bool {
        fs::symlink_metadata(out.join(path)).is_ok_and(|m| record.matches(&m))
    }
}

/// The record of a file with `metadata` and `hash`, made from no known input, in no group.
fn record_of(metadata: &fs::Metadata, hash: u128) -> FileRecord {
    FileRecord {
        hash,
        stamp: FileStamp::of(metadata),
        input: None,
        group: None,
        streamed: false,
    }
}

/// Reads a manifest; `None` when it is missing, unreadable, or fails its checksum (a corrupt
/// manifest is never trusted: the build then writes every file).
fn read_manifest(path: &Path) -> Option<Manifest> {
    let text = fs::read(path).ok()?;
    let (body, sum) = text.split_at(text.len().checked_sub(33)?);
    if sum[0] != b'\n' || format!("{:032x}", xxh3_128(body)).as_bytes() != &sum[1..] {
        return None;
    }
    postcard::from_bytes(body).ok()
}

/// A manifest as [`Sink::finish`] has it: borrowed from the build's own records. It encodes
/// exactly as the [`Manifest`] that [`read_manifest`] decodes.
#[derive(Serialize)]
struct ManifestView<'a> {
    version: &'a str,
    output: &'a Path,
    files: Vec<(&'a Path, &'a FileRecord)>,
    notes: &'a BTreeMap<u128, String>,
}

/// Encodes a manifest, followed by its checksum. It is postcard, not JSON: tens of thousands
/// of records are read and written by every build, and JSON took several times as long.
fn encode_manifest(manifest: &ManifestView) -> std::io::Result<Vec<u8>> {
    let mut bytes = postcard::to_allocvec(manifest).map_err(std::io::Error::other)?;
    let sum = format!("\n{:032x}", xxh3_128(&bytes));
    bytes.extend_from_slice(sum.as_bytes());
    Ok(bytes)
}

/// Writes an encoded manifest through a temporary file and a rename.
fn write_manifest(path: &Path, bytes: Vec<u8>) -> std::io::Result<()> {
    if let Some(folder) = path.parent() {
        fs::create_dir_all(folder)?;
    }
    let temporary = path.with_extension(format!("tmp-{}", std::process::id()));
    fs::write(&temporary, &bytes)?;
    fs::rename(&temporary, path)
}

/// Puts the finished `staging` folder in the place of `out` and removes the old output.
fn swap(staging: &Path, out: &Path) -> Result<(), Diagnostic> {
    if !out.exists() {
        return fs::rename(staging, out).map_err(|e| {
            Diagnostic::general(format!("cannot move the build into {}: {e}", out.display()))
        });
    }
    exchange(staging, out).map_err(|e| {
        Diagnostic::general(format!(
            "cannot swap the new build into {}: {e}",
            out.display()
        ))
    })?;
    // `staging` now holds the previous output.
    let _ = fs::remove_dir_all(staging);
    Ok(())
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

/// Without an atomic exchange, the old output is moved aside first; a crash between the two
/// renames leaves it beside the output, not lost.
#[cfg(not(target_os = "linux"))]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    let aside = a.with_extension("old");
    fs::rename(b, &aside)?;
    fs::rename(a, b)?;
    fs::rename(&aside, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_one_problem_however_many_files_fail() {
        use std::io::{Error, ErrorKind};
        let out = Path::new("site/public");
        let mut problems = crate::error::Diagnostics::new();
        for kind in [ErrorKind::StorageFull, ErrorKind::QuotaExceeded] {
            for page in ["articles/a.html", "places/b.html", "search/t/c.js"] {
                problems.push(cannot_write(out, Path::new(page), &Error::from(kind)));
            }
            problems.push(cannot_create(out, Path::new("years"), &Error::from(kind)));
        }
        let reported: Vec<String> = problems.sorted().iter().map(ToString::to_string).collect();
        assert_eq!(reported.len(), 2, "{reported:?}");
        assert!(
            reported
                .iter()
                .all(|p| p.starts_with("cannot write the site into site/public: ")),
            "{reported:?}"
        );
        // Any other failure is the file's own, and each is reported.
        let denied = Error::from(ErrorKind::PermissionDenied);
        let mut problems = crate::error::Diagnostics::new();
        problems.push(cannot_write(out, Path::new("articles/a.html"), &denied));
        problems.push(cannot_write(out, Path::new("places/b.html"), &denied));
        problems.push(cannot_create(out, Path::new("years"), &denied));
        let reported: Vec<String> = problems.sorted().iter().map(ToString::to_string).collect();
        assert_eq!(reported.len(), 3, "{reported:?}");
        assert!(
            reported[0].starts_with("cannot create years: "),
            "{reported:?}"
        );
        assert!(
            reported[1].starts_with("cannot write articles/a.html: "),
            "{reported:?}"
        );
    }

    #[test]
    fn a_manifest_encoded_from_the_builds_records_reads_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let record = |n: u8| FileRecord {
            hash: u128::from(n) << 64 | 7,
            stamp: FileStamp {
                len: u64::from(n) * 1000,
                inode: u64::from(n) + 40,
                modified_ns: -i128::from(n),
            },
            input: n.is_multiple_of(2).then_some(u128::from(n)),
            group: Some(99),
            streamed: n == 3,
        };
        let records = [record(1), record(2), record(3)];
        let paths = [
            PathBuf::from("articles/a.html"),
            PathBuf::from("index.html"),
            PathBuf::from("search/t/0/1.js"),
        ];
        let notes = BTreeMap::from([(5u128, "segment 0".to_string())]);
        let out = dir.path().join("public");
        let bytes = encode_manifest(&ManifestView {
            version: MANIFEST_VERSION,
            output: &out,
            files: paths.iter().map(PathBuf::as_path).zip(&records).collect(),
            notes: &notes,
        })
        .unwrap();
        let path = dir.path().join("manifest.bin");
        write_manifest(&path, bytes).unwrap();
        let read = read_manifest(&path).expect("the manifest reads back");
        assert_eq!(read.version, MANIFEST_VERSION);
        assert_eq!(read.output, out);
        assert_eq!(
            read.files,
            paths.into_iter().zip(records).collect::<Vec<_>>()
        );
        assert_eq!(read.notes, notes);
        // A damaged byte fails the checksum: the manifest is not trusted.
        let mut damaged = fs::read(&path).unwrap();
        damaged[3] ^= 1;
        fs::write(&path, damaged).unwrap();
        assert!(read_manifest(&path).is_none());
    }

    #[test]
    fn a_file_takes_a_spare_of_its_size_in_blocks_else_a_smaller_else_a_larger() {
        let dir = tempfile::tempdir().unwrap();
        for (name, size) in [
            ("one", 100),
            ("two", 5000),
            ("three", 9000),
            ("five", 20000),
        ] {
            fs::write(dir.path().join(name), vec![b'x'; size]).unwrap();
        }
        let mut pool = SparePool::read(dir.path());
        assert_eq!(pool.len(), 4);
        let mut take = |len: u64| {
            let spare = pool.take(len).expect("a spare is left");
            spare.file_name().unwrap().to_string_lossy().into_owned()
        };
        // Two blocks: the spare of two blocks, then the largest smaller one, then the
        // smallest larger one, then the last.
        assert_eq!(take(6000), "two");
        assert_eq!(take(6000), "one");
        assert_eq!(take(6000), "three");
        assert_eq!(take(6000), "five");
        assert!(pool.take(6000).is_none());
        assert_eq!(pool.len(), 0);
    }

    #[test]
    fn a_range_copied_by_the_kernel_or_here_follows_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let source: Vec<u8> = (0..3_000_000_u32).map(|i| (i % 251) as u8).collect();
        fs::write(dir.path().join("from"), &source).unwrap();
        let from = File::open(dir.path().join("from")).unwrap();
        let mut to = ReleasingFile::new(File::create(dir.path().join("to")).unwrap());
        to.write_all(b"head").unwrap();
        to.copy_from(&from, 10..2_500_000).unwrap();
        to.copy_here(&from, 7..1_200_003).unwrap();
        to.write_all(b"tail").unwrap();
        assert_eq!(to.written, 4 + (2_500_000 - 10) + (1_200_003 - 7) + 4);
        drop(to);
        let mut expected = b"head".to_vec();
        expected.extend_from_slice(&source[10..2_500_000]);
        expected.extend_from_slice(&source[7..1_200_003]);
        expected.extend_from_slice(b"tail");
        assert!(fs::read(dir.path().join("to")).unwrap() == expected);
        // A range beyond the end of the file is an error, not a short copy.
        let mut short = ReleasingFile::new(File::create(dir.path().join("short")).unwrap());
        assert!(short.copy_from(&from, 2_999_990..3_000_010).is_err());
        assert!(short.copy_here(&from, 2_999_990..3_000_010).is_err());
    }

    #[test]
    fn only_files_still_as_recorded_are_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        fs::create_dir_all(out.join("articles")).unwrap();
        let names = ["index.html", "articles/kept.html", "articles/grown.html"];
        let names = names.into_iter().chain([
            "articles/retimed.html",
            "articles/replaced.html",
            "articles/gone.html",
            "articles/now-a-folder.html",
        ]);
        let mut files = Vec::new();
        for name in names {
            fs::write(out.join(name), name).unwrap();
            let metadata = fs::symlink_metadata(out.join(name)).unwrap();
            files.push((PathBuf::from(name), record_of(&metadata, 0)));
        }
        // Recorded in a folder that is no longer there.
        files.push((PathBuf::from("old/index.html"), files[0].1));
        // Each of these differs from its record in one fact only: size, time or inode.
        let set_time = |name: &str, time: std::time::SystemTime| {
            let file = File::options().write(true).open(out.join(name)).unwrap();
            file.set_modified(time).unwrap();
        };
        let time_of = |name: &str| fs::metadata(out.join(name)).unwrap().modified().unwrap();
        let grown_time = time_of("articles/grown.html");
        fs::write(out.join("articles/grown.html"), "articles/grown.html!").unwrap();
        set_time("articles/grown.html", grown_time);
        let earlier = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1);
        set_time("articles/retimed.html", earlier);
        let replaced_time = time_of("articles/replaced.html");
        // Made while the old one still exists, so that it cannot get the old one's inode.
        fs::write(out.join("articles/new.html"), "articles/replaced.html").unwrap();
        fs::rename(
            out.join("articles/new.html"),
            out.join("articles/replaced.html"),
        )
        .unwrap();
        set_time("articles/replaced.html", replaced_time);
        fs::remove_file(out.join("articles/gone.html")).unwrap();
        fs::remove_file(out.join("articles/now-a-folder.html")).unwrap();
        fs::create_dir(out.join("articles/now-a-folder.html")).unwrap();
        let checked = check_untouched(out, files);
        let mut untouched: Vec<&Path> = (checked.iter())
            .filter(|(_, previous)| previous.untouched)
            .map(|(path, _)| path.0.as_path())
            .collect();
        untouched.sort();
        assert_eq!(
            untouched,
            [Path::new("articles/kept.html"), Path::new("index.html")]
        );
        assert_eq!(checked.len(), 8);
    }

    #[test]
    fn a_path_made_twice_is_an_error_in_a_check_too() {
        // A check stages nothing, so only the list of files can tell.
        let sink = Sink::discard();
        let page = |path: &str| Page {
            path: path.into(),
            bytes: b"page".to_vec(),
        };
        for path in [
            "places/a.html",
            "places/a-b.html",
            "places/a/b.html",
            "places.html",
        ] {
            sink.put(page(path)).unwrap();
        }
        sink.put(page("places/a-b.html")).unwrap();
        let error = sink.finish().expect_err("a path made twice");
        assert!(error.to_string().contains("places/a-b.html"), "{error}");
    }

    #[test]
    fn a_path_below_a_folder_is_the_rest_of_its_components() {
        let folder = Path::new("/site/public");
        for (path, rest) in [
            ("/site/public/index.html", Some("index.html")),
            ("/site/public/places/a b.html", Some("places/a b.html")),
            ("/site/public-old/index.html", None),
            ("/site/publicindex.html", None),
            ("/other/index.html", None),
        ] {
            assert_eq!(
                below(Path::new(path), folder),
                rest.map(Path::new),
                "{path}"
            );
        }
    }

    #[test]
    fn a_streamed_file_longer_than_the_release_window_is_written_whole() {
        let site = tempfile::tempdir().unwrap();
        let out = site.path().join("public");
        let _lock = lock(&out).unwrap();
        let sink = Sink::stage(&out, &site.path().join("cache")).unwrap();
        let group = sink
            .group("exports", 1)
            .unwrap()
            .expect("a first build makes the group");
        // Parts of 1 MB, each a different byte, past three release windows.
        let parts = (3 * RELEASE_WINDOW / (1 << 20) + 5) as u8;
        let mut stream = group.stream("big.bin".into()).unwrap();
        for part in 0..parts {
            stream.write(&vec![part; 1 << 20]).unwrap();
        }
        stream.finish().unwrap();
        sink.finish().unwrap();
        let bytes = fs::read(out.join("big.bin")).unwrap();
        assert_eq!(bytes.len(), usize::from(parts) << 20);
        for (part, chunk) in bytes.chunks(1 << 20).enumerate() {
            assert!(chunk.iter().all(|&b| usize::from(b) == part), "part {part}");
        }
    }
}
