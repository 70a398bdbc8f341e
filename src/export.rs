//! Exports for other tools: `dossier.json`, `articles.csv`, `entities.csv`, `mentions.csv`, and
//! `entities.ftm.json`, FollowTheMoney entities as JSON lines (the format Aleph and other
//! investigation tools import). Each is made and written a block of articles at a time, so
//! that at 100,000 articles no export (half a gigabyte for some) is held in memory whole.
//!
//! Four of them are mostly one part per article. A rebuild copies the parts of unchanged
//! articles from the last build's files and makes only the others (see `PartsIndex`): with
//! one new article among 10,000, that is 150 MB copied instead of made.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::ops::Range;
use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

use crate::catalog::Kind;
use crate::error::Diagnostic;
use crate::extract::Place;
use crate::graph::Article;
use crate::graph::Dossier;
use crate::write::{FileStamp, Finished, Group, Streamed};

/// Articles made into export lines at once (in parallel) before they are written.
const BLOCK: usize = 1024;

/// The file in the cache folder that lists each export's article parts (see `PartsIndex`).
pub const PARTS_FILE: &str = "exports.bin";

/// Changes whenever [`PartsIndex`] does, so that no build reads another's.
const PARTS_FORMAT: &str = "dossier export parts 5";

/// Where each article's bytes are in the export files of the last build, so that a rebuild
/// copies the parts of unchanged articles from those files instead of making them again.
///
/// A part is used only when both hold: its key (see [`part_keys`]), a hash of everything the
/// part is made from, is this build's for an article; and the file it is in is the very file
/// the list describes: the output manifest vouches for the file on disk (size, inode, time),
/// and its hash there is the one recorded here. A file that fails the second check has all
/// its parts made again; an unreadable list or one of another format is not read at all.
///
/// The list also says where the parts are in the file the build before made, which is often
/// the spare a rebuild writes its file over (see [`crate::write::Streamed::holds`]): a part
/// already at its place there is not written again.
#[derive(Debug, Default, Serialize, Deserialize)]
struct PartsIndex {
    format: String,
    files: BTreeMap<String, FileParts>,
    /// The build before's parts of the files this build made anew.
    earlier: BTreeMap<String, FileParts>,
}

/// One article's part of an export file: the article's key, where the part starts in the
/// file, how long it is, and its hash.
type PartRecord = (u128, u64, u64, u128);

/// One export file's article parts.
#[derive(Debug, Serialize, Deserialize)]
struct FileParts {
    /// The hash of the whole file (see [`Streamed`]).
    hash: u128,
    /// Each article's key, where its part starts in the file, how long it is, and its hash.
    #[serde(with = "part_bytes")]
    parts: Vec<PartRecord>,
    /// The stamp of the file this build made, wherever it is now: the output, or the spares.
    stamp: Option<FileStamp>,
}

/// A file's parts as one run of bytes, each part's four numbers in 48 bytes, little-endian:
/// read and written by every build (tens of thousands of parts at 10,000 articles), they went
/// number by number as variable-length integers, one byte in seven bits.
mod part_bytes {
    use serde::de::{Deserializer, Error, Visitor};
    use serde::ser::Serializer;

    /// The bytes of one part.
    pub(super) const SIZE: usize = 48;

    pub fn serialize<S: Serializer>(
        parts: &[super::PartRecord],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut bytes = Vec::with_capacity(parts.len() * SIZE);
        for &(key, start, len, hash) in parts {
            bytes.extend_from_slice(&key.to_le_bytes());
            bytes.extend_from_slice(&start.to_le_bytes());
            bytes.extend_from_slice(&len.to_le_bytes());
            bytes.extend_from_slice(&hash.to_le_bytes());
        }
        serializer.serialize_bytes(&bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<super::PartRecord>, D::Error> {
        struct Parts;
        impl Visitor<'_> for Parts {
            type Value = Vec<super::PartRecord>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "export parts of {SIZE} bytes each")
            }

            fn visit_bytes<E: Error>(self, bytes: &[u8]) -> Result<Self::Value, E> {
                if !bytes.len().is_multiple_of(SIZE) {
                    return Err(E::invalid_length(bytes.len(), &self));
                }
                // Sized up front: collected through `Option`, the list grew by doubling.
                let mut parts = Vec::with_capacity(bytes.len() / SIZE);
                for bytes in bytes.chunks_exact(SIZE) {
                    parts.push(part(bytes).ok_or_else(|| E::invalid_length(SIZE, &self))?);
                }
                Ok(parts)
            }
        }
        deserializer.deserialize_bytes(Parts)
    }

    /// One part's numbers from its bytes; `None` unless there are [`SIZE`].
    fn part(bytes: &[u8]) -> Option<super::PartRecord> {
        let (key, rest) = bytes.split_first_chunk::<16>()?;
        let (start, rest) = rest.split_first_chunk::<8>()?;
        let (len, rest) = rest.split_first_chunk::<8>()?;
        let hash: [u8; 16] = rest.try_into().ok()?;
        Some((
            u128::from_le_bytes(*key),
            u64::from_le_bytes(*start),
            u64::from_le_bytes(*len),
            u128::from_le_bytes(hash),
        ))
    }
}

impl FileParts {
    /// True when these are the parts of the file stamped `stamp`.
    fn describe(&self, stamp: FileStamp) -> bool {
        self.stamp == Some(stamp)
    }
}

/// How many article parts of the exports were made, and how many copied from the previous
/// build's files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PartStats {
    /// Parts made from the dossier.
    pub made: usize,
    /// Parts copied from the last build's exports.
    pub reused: usize,
    /// Parts, made or copied, that the file written over (a spare, see
    /// [`crate::write::Streamed::holds`]) held already at their place: not written at all.
    pub in_place: usize,
}

/// Builds the export files of `dossier` into `sink`. `context` is
/// [`crate::Analysis::context`]; `parts_file`, where the list of article parts is kept between
/// builds (`None`: neither read nor written).
pub fn exports(
    dossier: &Dossier,
    sink: &Group,
    context: u128,
    parts_file: Option<&Path>,
) -> Result<PartStats, Diagnostic> {
    type Maker = fn(&Dossier, &mut Streamed, &mut Parts) -> Result<(), Diagnostic>;
    let makers: [(&str, Maker); 5] = [
        ("articles.csv", articles_csv),
        ("entities.csv", |d, out, _| {
            out.write(&entities_csv(d)).map(|_| ())
        }),
        ("mentions.csv", mentions_csv),
        ("entities.ftm.json", followthemoney),
        ("dossier.json", crate::data::dossier_json),
    ];
    let keys = part_keys(dossier, context);
    let mut previous = parts_file.map(read_parts).unwrap_or_default();
    let listed: Vec<Option<FileParts>> = (makers.iter())
        .map(|(path, _)| previous.files.remove(*path))
        .collect();
    // The files are made side by side: each is mostly one thread's sequential copying and
    // writing (150 MB in all at 10,000 articles), which would otherwise be the last lane of
    // the build to finish.
    let earlier: Vec<Option<FileParts>> = (makers.iter())
        .map(|(path, _)| previous.earlier.remove(*path))
        .collect();
    let made: Vec<(&str, Finished, Parts, Option<FileParts>)> = (makers.into_par_iter())
        .zip(listed)
        .zip(earlier)
        .map(|(((path, make), listed), earlier)| {
            let mut out = sink.stream(path.into())?;
            // The spare written over is the file of the last build or of the one before.
            if let Some(over) = out.writing_over()
                && let Some(spare) = [&listed, &earlier]
                    .into_iter()
                    .flatten()
                    .find(|parts| parts.describe(over))
            {
                out.holds(
                    spare
                        .parts
                        .iter()
                        .map(|&(_, start, len, hash)| (start, len, hash)),
                );
            }
            let mut parts = Parts::new(&keys, listed.as_ref(), sink, path);
            make(dossier, &mut out, &mut parts)?;
            let finished = out.finish()?;
            // Kept for the next build, whose spare this build's output file may become.
            Ok((path, finished, parts, listed))
        })
        .collect::<Result<_, Diagnostic>>()?;
    let mut index = PartsIndex {
        format: PARTS_FORMAT.to_string(),
        ..PartsIndex::default()
    };
    let mut stats = PartStats::default();
    for (path, finished, parts, last) in made {
        stats.made += parts.made;
        stats.reused += parts.reused;
        stats.in_place += finished.in_place;
        if let Some(last) = last.filter(|last| last.stamp.is_some() && last.stamp != finished.stamp)
        {
            index.earlier.insert(path.to_string(), last);
        }
        if !parts.written.is_empty() {
            index.files.insert(
                path.to_string(),
                FileParts {
                    hash: finished.hash,
                    parts: parts.written,
                    stamp: finished.stamp,
                },
            );
        }
    }
    if let Some(parts_file) = parts_file {
        write_parts(parts_file, &index);
    }
    Ok(stats)
}

/// Each article's part key: a hash of everything its part of any export is made from. That
/// is its own data (its file and the extraction context, as in the extraction cache), its
/// page name, the names of the entities it names (an uncatalogued entity's name can come from
/// another article), and whether it comes first (the JSON list puts a comma before the others).
fn part_keys(dossier: &Dossier, context: u128) -> Vec<u128> {
    // Looked up once per entity rather than once per article that names it.
    let names: Vec<&str> = (dossier.entity_keys.iter())
        .map(|key| dossier.entity_name(key))
        .collect();
    (0..dossier.articles.len())
        .into_par_iter()
        .map(|index| {
            let article = &dossier.articles[index];
            let mut hasher = Xxh3::new();
            hasher.update(&context.to_le_bytes());
            hasher.update(&article.digest.to_le_bytes());
            hasher.update(&[u8::from(index == 0)]);
            let mut text = |bytes: &[u8]| {
                // Each string with its length first, so that no two lists hash the same bytes.
                hasher.update(&(bytes.len() as u64).to_le_bytes());
                hasher.update(bytes);
            };
            text(article.slug.as_bytes());
            for &id in &dossier.article_entities[index] {
                text(names[id].as_bytes());
            }
            hasher.digest128()
        })
        .collect()
}

/// The last build's list of export parts, or an empty one when it is missing, unreadable or
/// of another format.
fn read_parts(path: &Path) -> PartsIndex {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| {
            // The list ends with a hash of the rest: a flipped byte in an offset would
            // otherwise copy the wrong lines.
            postcard::from_bytes::<PartsIndex>(crate::cache::checked_body(&bytes)?).ok()
        })
        .filter(|index| index.format == PARTS_FORMAT)
        .unwrap_or_default()
}

/// Records the list of export parts, with its hash, replacing the file whole. A list that
/// cannot be written only costs the next build the copying: the old one is removed so that it
/// is not read.
fn write_parts(path: &Path, index: &PartsIndex) {
    // Sized up front (the parts, then a little for each file, the format and the checksum):
    // grown by doubling, the buffer took twice its size in fresh memory.
    let parts: usize = (index.files.values().chain(index.earlier.values()))
        .map(|file| file.parts.len() * part_bytes::SIZE + 128)
        .sum();
    let written = postcard::to_extend(index, Vec::with_capacity(parts + 128))
        .ok()
        .is_some_and(|bytes| crate::cache::write_checked(path, bytes).is_ok());
    if !written {
        let _ = std::fs::remove_file(path);
    }
}

/// Where a part of the last build's export file is, and its hash.
type PartAt = (Range<u64>, u128);

/// Parts that lie one after another in the last build's file, to copy at once: their range,
/// and each part's length and hash.
struct Run {
    range: Range<u64>,
    parts: Vec<(u64, u128)>,
}

/// The article parts of one export file as it is written: which parts the last build's file
/// holds that this build can copy, and where this build's parts go.
pub struct Parts<'k> {
    keys: &'k [u128],
    /// The last build's file, and where each of its parts is, with its hash, by key.
    previous: Option<(File, HashMap<u128, PartAt>)>,
    /// This build's parts: key, start, length, hash.
    written: Vec<PartRecord>,
    made: usize,
    reused: usize,
}

impl<'k> Parts<'k> {
    fn new(keys: &'k [u128], listed: Option<&FileParts>, sink: &Group, path: &str) -> Self {
        let previous = listed.and_then(|listed| {
            let (file, hash, vouched) = sink.previous_file(Path::new(path))?;
            if hash != listed.hash {
                return None;
            }
            // Every part must lie within the file; a list that says otherwise is not used.
            let len = file.metadata().ok()?.len();
            let mut ranges = (listed.parts.iter())
                .map(|&(key, start, part, hash)| {
                    let end = start.checked_add(part).filter(|&end| end <= len)?;
                    Some((key, (start..end, hash)))
                })
                .collect::<Option<HashMap<u128, PartAt>>>()?;
            if !vouched {
                let mut bytes = Vec::new();
                ranges
                    .retain(|_, (range, hash)| part_holds(&file, range.clone(), *hash, &mut bytes));
            }
            Some((file, ranges))
        });
        Parts {
            keys,
            previous,
            written: Vec::new(),
            made: 0,
            reused: 0,
        }
    }
}

/// True when `file` holds, at `range`, bytes whose hash is `hash` (read into `bytes`): a part
/// of a copy of the last build's file (see [`crate::write::Group::previous_file`]) is copied
/// only then.
fn part_holds(file: &File, range: Range<u64>, hash: u128, bytes: &mut Vec<u8>) -> bool {
    let Ok(len) = usize::try_from(range.end - range.start) else {
        return false;
    };
    bytes.resize(len, 0);
    crate::write::read_exact_at(file, bytes, range.start).is_ok()
        && xxhash_rust::xxh3::xxh3_128(bytes) == hash
}

/// Writes to `out` the bytes `part` makes of each article (given its index), in article order,
/// a block of articles at a time made in parallel. An article whose part the previous build's
/// file holds (see `PartsIndex`) has it copied from there instead.
pub fn by_article(
    dossier: &Dossier,
    out: &mut Streamed,
    parts: &mut Parts,
    part: impl Fn(usize, &Article) -> Vec<u8> + Sync,
) -> Result<(), Diagnostic> {
    /// A part made now, or a range of the previous file to copy, with its hash.
    enum Piece {
        Made(Vec<u8>),
        Copied(Range<u64>, u128),
    }
    // Consecutive parts that lie one after another in the previous file are copied at once.
    let mut run: Option<Run> = None;
    for (block, articles) in dossier.articles.chunks(BLOCK).enumerate() {
        let previous = parts.previous.as_ref().map(|(_, ranges)| ranges);
        let keys = parts.keys;
        let pieces: Vec<Piece> = articles
            .par_iter()
            .enumerate()
            .map(|(offset, article)| {
                let index = block * BLOCK + offset;
                match previous.and_then(|ranges| ranges.get(&keys[index])) {
                    Some((range, hash)) => Piece::Copied(range.clone(), *hash),
                    None => Piece::Made(part(index, article)),
                }
            })
            .collect();
        for (offset, piece) in pieces.into_iter().enumerate() {
            let key = keys[block * BLOCK + offset];
            let continues = matches!((&run, &piece),
                (Some(r), Piece::Copied(c, _)) if r.range.end == c.start);
            if !continues && let Some(done) = run.take() {
                copy_previous(parts, done, out)?;
            }
            // Where the part starts in this build's file: after what is written and what the
            // pending run will add.
            let start = out.written() + run.as_ref().map_or(0, |r| r.range.end - r.range.start);
            match piece {
                Piece::Copied(range, hash) => {
                    let len = range.end - range.start;
                    parts.reused += 1;
                    parts.written.push((key, start, len, hash));
                    let pending = run.get_or_insert_with(|| Run {
                        range: range.start..range.start,
                        parts: Vec::new(),
                    });
                    pending.range.end = range.end;
                    pending.parts.push((len, hash));
                }
                Piece::Made(bytes) => {
                    parts.made += 1;
                    let hash = out.write(&bytes)?;
                    parts.written.push((key, start, bytes.len() as u64, hash));
                }
            }
        }
    }
    if let Some(done) = run.take() {
        copy_previous(parts, done, out)?;
    }
    Ok(())
}

/// Copies the parts `run` of the previous build's file to `out`.
fn copy_previous(parts: &Parts, run: Run, out: &mut Streamed) -> Result<(), Diagnostic> {
    let Some((file, _)) = &parts.previous else {
        return Ok(());
    };
    out.copy(file, run.range, &run.parts)
}

/// One CSV record without a header.
fn csv_row<S: AsRef<[u8]>>(fields: &[S]) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    // Writing into memory cannot fail.
    let _ = writer.write_record(fields);
    writer.into_inner().unwrap_or_default()
}

fn csv_bytes(header: &[&str], rows: Vec<Vec<String>>) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    // Writing into memory cannot fail; a failed row would only be missing from the export.
    let _ = writer.write_record(header);
    for row in rows {
        let _ = writer.write_record(&row);
    }
    writer.into_inner().unwrap_or_default()
}

fn articles_csv(
    dossier: &Dossier,
    out: &mut Streamed,
    parts: &mut Parts,
) -> Result<(), Diagnostic> {
    out.write(&csv_bytes(
        &[
            "url",
            "file",
            "title",
            "title_derived",
            "date",
            "source",
            "places",
            "agencies",
            "people",
            "laws",
            "years",
        ],
        Vec::new(),
    ))?;
    by_article(dossier, out, parts, |index, a| {
        let m = &a.metadata;
        let entities: Vec<&crate::catalog::EntityKey> = dossier.entities_of(index).collect();
        let names = |kind: Kind| -> String {
            (entities.iter())
                .filter(|k| k.kind == kind)
                .map(|k| dossier.entity_name(k))
                .collect::<Vec<_>>()
                .join("; ")
        };
        csv_row(&[
            a.url(),
            a.path.to_string_lossy().into_owned(),
            m.title.clone(),
            m.title_derived.to_string(),
            m.date.map(|d| d.to_string()).unwrap_or_default(),
            a.source_url.clone().unwrap_or_default(),
            names(Kind::Place),
            names(Kind::Agency),
            names(Kind::Person),
            names(Kind::Law),
            m.all_years()
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        ])
    })
}

fn entities_csv(dossier: &Dossier) -> Vec<u8> {
    let rows = dossier
        .entities
        .values()
        .map(|n| {
            let e = &n.entity;
            vec![
                e.key.url(),
                e.key.kind.as_str().to_string(),
                e.name.clone(),
                e.subkind.clone(),
                e.parent
                    .as_ref()
                    .map(|p| dossier.entity_name(p).to_string())
                    .unwrap_or_default(),
                e.aliases.join("; "),
                e.coords.map(|c| c.0.to_string()).unwrap_or_default(),
                e.coords.map(|c| c.1.to_string()).unwrap_or_default(),
                n.articles.len().to_string(),
                n.mention_count.to_string(),
                e.defined_at.is_some().to_string(),
            ]
        })
        .collect();
    csv_bytes(
        &[
            "url",
            "kind",
            "name",
            "type",
            "parent",
            "aliases",
            "lat",
            "lon",
            "articles",
            "mentions",
            "catalogued",
        ],
        rows,
    )
}

fn mentions_csv(
    dossier: &Dossier,
    out: &mut Streamed,
    parts: &mut Parts,
) -> Result<(), Diagnostic> {
    out.write(&csv_bytes(
        &[
            "article",
            "kind",
            "entity",
            "paragraph",
            "as_written",
            "sentence",
        ],
        Vec::new(),
    ))?;
    by_article(dossier, out, parts, |_, article| {
        let mut writer = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new());
        let url = article.url();
        let mut number = itoa::Buffer::new();
        for (i, m) in article.metadata.mentions.iter().enumerate() {
            let paragraph = match m.at {
                Place::Title => 0,
                Place::Paragraph(p) => p + 1,
            };
            let text = article.text_at(m.at);
            let _ = writer.write_record([
                url.as_str(),
                m.entity.kind.as_str(),
                dossier.entity_name(&m.entity),
                number.format(paragraph),
                text.get(m.start..m.end).unwrap_or_default(),
                article.mention_sentence(i),
            ]);
        }
        writer.into_inner().unwrap_or_default()
    })
}

/// One FollowTheMoney entity, a line of `entities.ftm.json`. Fields, here and in the
/// properties, are in alphabetical order, as FollowTheMoney's own tools write them.
#[derive(Serialize)]
struct FtmLine<'a, P> {
    id: &'a str,
    properties: P,
    schema: &'static str,
}

/// One value of a FollowTheMoney property (properties are lists of values).
type One<T> = Option<[T; 1]>;

#[derive(Serialize)]
struct EntityProperties<'a> {
    alias: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    description: One<&'a str>,
    name: [&'a str; 1],
    #[serde(rename = "partOf", skip_serializing_if = "Option::is_none")]
    part_of: One<String>,
}

#[derive(Serialize)]
struct ArticleProperties<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    author: One<&'a str>,
    #[serde(rename = "fileName")]
    file_name: [std::borrow::Cow<'a, str>; 1],
    #[serde(rename = "publishedAt", skip_serializing_if = "Option::is_none")]
    published_at: One<String>,
    #[serde(rename = "sourceUrl", skip_serializing_if = "Option::is_none")]
    source_url: One<&'a str>,
    title: [&'a str; 1],
}

#[derive(Serialize)]
struct DocumentationProperties<'a> {
    document: [&'a str; 1],
    entity: [&'a str; 1],
    role: [&'static str; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: One<&'a str>,
}

/// FollowTheMoney: an `Article` per article; `Person`, `PublicBody` and `Territory` per person,
/// agency and place; a `Documentation` linking each article to each entity it names, with the
/// first sentence that names it. Laws have no FollowTheMoney schema and are left out.
///
/// The articles' lines come first and the entities' last: an article that names an entity no
/// other article names adds a line without moving any article's lines, which a rebuild then
/// finds where the last build left them.
fn followthemoney(
    dossier: &Dossier,
    out: &mut Streamed,
    parts: &mut Parts,
) -> Result<(), Diagnostic> {
    let entity_id =
        |key: &crate::catalog::EntityKey| format!("dossier-{}-{}", key.kind.as_str(), key.slug);
    // Each entity's id by entity number, made once for the tens of thousands of lines that
    // name it.
    let entity_ids: Vec<String> = dossier.entity_keys.iter().map(entity_id).collect();
    let mut entity_lines = Vec::new();
    for node in dossier.entities.values() {
        let e = &node.entity;
        let schema = match e.key.kind {
            Kind::Person => "Person",
            Kind::Agency => "PublicBody",
            Kind::Place => "Territory",
            Kind::Law => continue,
        };
        let part_of = match (e.key.kind, &e.parent) {
            (Kind::Place, Some(parent)) => Some([entity_id(parent)]),
            _ => None,
        };
        let properties = EntityProperties {
            alias: &e.aliases,
            description: (!e.description.is_empty()).then_some([e.description.as_str()]),
            name: [&e.name],
            part_of,
        };
        json_line(
            &mut entity_lines,
            &FtmLine {
                id: &entity_id(&e.key),
                properties,
                schema,
            },
        );
    }
    by_article(dossier, out, parts, |index, article| {
        let mut lines = Vec::new();
        let m = &article.metadata;
        let article_id = format!("dossier-article-{}", article.slug);
        let properties = ArticleProperties {
            author: m.author.as_deref().map(|a| [a]),
            file_name: [article.path.to_string_lossy()],
            published_at: m.date.map(|d| [d.to_string()]),
            source_url: article.source_url.as_deref().map(|u| [u]),
            title: [&m.title],
        };
        json_line(
            &mut lines,
            &FtmLine {
                id: &article_id,
                properties,
                schema: "Article",
            },
        );
        // The first mention of each of the article's entities (in key order, as their
        // numbers are), found in one pass over the mentions.
        let ids = &dossier.article_entities[index];
        let mut first: Vec<Option<usize>> = vec![None; ids.len()];
        for (i, mention) in m.mentions.iter().enumerate() {
            let found = ids.binary_search_by(|&id| dossier.entity_keys[id].cmp(&mention.entity));
            if let Ok(slot) = found {
                first[slot].get_or_insert(i);
            }
        }
        for (&id, first) in ids.iter().zip(first) {
            if dossier.entity_keys[id].kind == Kind::Law {
                continue;
            }
            let entity = &entity_ids[id];
            let properties = DocumentationProperties {
                document: [&article_id],
                entity: [entity],
                role: ["mentioned"],
                summary: first.map(|i| [article.mention_sentence(i)]),
            };
            let id = [article_id.as_str(), "-", entity].concat();
            json_line(
                &mut lines,
                &FtmLine {
                    id: &id,
                    properties,
                    schema: "Documentation",
                },
            );
        }
        lines
    })?;
    out.write(&entity_lines)?;
    Ok(())
}

/// Appends `value` to `out` as one line of JSON.
fn json_line(out: &mut Vec<u8>, value: &impl Serialize) {
    // Serializing these plain structs into memory cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index_of(parts: Vec<PartRecord>) -> PartsIndex {
        let mut index = PartsIndex {
            format: PARTS_FORMAT.to_string(),
            ..PartsIndex::default()
        };
        let file = FileParts {
            hash: 9,
            parts,
            stamp: None,
        };
        index.files.insert("articles.csv".to_string(), file);
        index
    }

    #[test]
    fn the_parts_list_reads_back_as_written() {
        let parts = vec![
            (u128::MAX, 0, 17, 1 << 100),
            (3, u64::MAX - 1, 0, u128::MAX - 5),
        ];
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join(PARTS_FILE);
        write_parts(&path, &index_of(parts.clone()));
        let read = read_parts(&path);
        assert_eq!(read.files["articles.csv"].parts, parts);
        assert_eq!(read.files["articles.csv"].hash, 9);
    }

    #[test]
    fn parts_of_the_wrong_length_do_not_decode() {
        let file = FileParts {
            hash: 9,
            parts: vec![(1, 2, 3, 4)],
            stamp: None,
        };
        let bytes = postcard::to_stdvec(&file).unwrap();
        // The hash (one byte), the parts' length, the parts, no stamp.
        assert_eq!((bytes[1], bytes.len()), (48, 2 + 48 + 1));
        let mut short = bytes.clone();
        short[1] = 47;
        short.remove(2);
        assert!(postcard::from_bytes::<FileParts>(&short).is_err());
        assert!(postcard::from_bytes::<FileParts>(&bytes).is_ok());
    }
}
