//! The series catalog: which series exist, their ids, keys and metric types.
//!
//! What it owns: `catalog.wcat`, the definition of every series ever
//! created (id, org, value kind, metric name, tags, metric type), and its
//! copy in memory, where keys are looked up and ids handed out.
//!
//! # On disk
//! A version 2 file (`docs/format/catalog.md`) is a header, a *snapshot* of
//! every entry at the last compaction (each distinct string once in a
//! symbol table, entries as symbol indexes, the whole compressed with zstd,
//! [`snapshot`]), then a *log* of framed series records (the WAL's framing
//! and series record, `docs/format/wal.md`), one per series created or type
//! changed since. The log is what makes a new series durable cheaply, one
//! append; a compaction folds it into a new snapshot. A version 1 file (log
//! only) is read as it is, and appended to as version 1 until its first
//! compaction rewrites it as version 2.
//!
//! # Invariants
//! - Every definition appended to the log is also written to the WAL, so a
//!   record lost to a power failure comes back on WAL replay; the catalog is
//!   synced ([`Catalog::sync`]) before any WAL segment is deleted.
//! - `len` is the length of the file: a failed append is cut back to it, or
//!   the catalog stops (below), so no garbage can sit between records.
//! - The file is never rewritten in place. A compaction writes a whole new
//!   file under a temporary name (`catalog.wcat.tmp`), fsyncs it, renames it
//!   over the old one and fsyncs the directory: a crash leaves the old file
//!   or the new one, each complete. A leftover temporary file is deleted on
//!   open.
//! - Records appended while the new snapshot was being written are copied
//!   behind it before the rename ([`Catalog::install`], under `&mut self`,
//!   so nothing is appended meanwhile). They are not synced before the
//!   rename: like any log record they are in the WAL until the next
//!   [`Catalog::sync`], which covers them and the directory entry.
//! - After a failed fsync (of the file, or of the directory after a rename)
//!   or a failed repair of a failed append, every later write and sync fails
//!   with [`Error::WritesStopped`]: the WAL, which still holds the
//!   definitions, is then never deleted, and a restart recovers from it.
//! - A torn log tail is cut off on open and reported. A damaged snapshot is
//!   not a torn write (it was synced before it was renamed into place):
//!   opening fails with [`Error::Corruption`] naming the file and offset
//!   rather than drop every series.
//!
//! In memory, names and tags are interned ([`Symbols`]): an entry is a few
//! words whatever the length of its tags.

pub mod snapshot;

use std::hash::{BuildHasher, Hash, Hasher};

use hashbrown::{DefaultHashBuilder, HashTable};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};
use crate::ids::{OrgId, SeriesId};
use crate::series::{
    MAX_METRIC_BYTES, MAX_TAG_BYTES, MAX_TAGS, MetricType, SeriesKey, TagSet, ValueKind,
};
use crate::symbols::{Sym, Symbols};
use crate::wal::frame::{
    FILE_HEADER_BYTES, Next, check_file_header, file_header, next_record, put_record,
};
use crate::wal::record::{self, Record, SeriesDef};

/// Magic number of the catalog file.
pub const CATALOG_MAGIC: &[u8; 8] = b"WHIPCAT\0";
/// Format version of the catalog files this build writes: a snapshot, then
/// a log. It also reads version 1 (a log only).
pub const CATALOG_VERSION: u32 = 2;
/// The first format version: a header and a log of series records.
pub const CATALOG_VERSION_LOG_ONLY: u32 = 1;

/// The log must hold at least this many bytes before
/// [`Catalog::wants_compaction`] says yes: about 10 000 definitions of
/// fleet series. Below that the log is smaller than one part of a small
/// fleet, and rewriting the catalog on every flush for a few new series
/// would cost more fsyncs than it saves bytes. ([`Catalog::compact`] does
/// not ask: `whippet storage compact` always ends with a snapshot.)
pub const COMPACT_MIN_LOG_BYTES: u64 = 1 << 20;

/// A series as the catalog holds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Entry {
    /// Owner.
    pub org: OrgId,
    /// Float or sketch.
    pub kind: ValueKind,
    /// Metric name.
    pub metric: Sym,
    /// Tags, in the sorted order of their strings.
    pub tags: Box<[Sym]>,
}

/// The catalog. Not thread-safe by itself: the engine keeps it behind its
/// registry lock; methods that append take `&mut self`.
pub struct Catalog {
    path: PathBuf,
    /// Opened for appending. Replaced by the new file's handle when a
    /// compaction renames it into place.
    file: File,
    /// Format version of the file on disk: [`CATALOG_VERSION_LOG_ONLY`]
    /// until its first compaction, then [`CATALOG_VERSION`].
    version: u32,
    /// Bytes before the log: the header and (version 2) the snapshot.
    /// Invariant: `log_start <= len`.
    log_start: u64,
    /// Length of the file: where the next append lands.
    len: u64,
    /// Compactions installed since open; a [`Snapshot`] taken before the
    /// last one is stale.
    generation: u64,
    /// True from a compaction's rename until a directory fsync has made it
    /// durable ([`Catalog::sync`] does it).
    dir_unsynced: AtomicBool,
    /// Why writes stopped (see the module doc); set once, never cleared.
    failed: OnceLock<String>,
    symbols: Symbols,
    /// `entries[id - 1]`; `None` for an id whose record was lost.
    entries: Vec<Option<(Entry, MetricType)>>,
    /// The id of every entry, found by the hash of its key
    /// ([`key_hash`]); the key itself is read from `entries`, so the
    /// table holds 8 bytes per series and a lookup allocates nothing.
    /// Invariant: exactly the ids of the `Some` entries, each once.
    by_key: HashTable<SeriesId>,
    /// Seeds `by_key`'s hashes (random per process: foldhash, fast on the
    /// short keys of series and resistant enough to crafted collisions).
    hasher: DefaultHashBuilder,
}

/// The hash of a series key given as symbols.
fn key_hash(
    hasher: &DefaultHashBuilder,
    org: OrgId,
    kind: ValueKind,
    metric: Sym,
    tags: &[Sym],
) -> u64 {
    let mut h = hasher.build_hasher();
    org.hash(&mut h);
    kind.hash(&mut h);
    metric.hash(&mut h);
    tags.hash(&mut h);
    h.finish()
}

/// Tags a key may hold before [`Catalog::lookup`] resolves them into a
/// heap buffer instead of a stack array: fleets send 5 to 15.
const LOOKUP_STACK_TAGS: usize = 32;

impl Catalog {
    /// Opens (or creates) the catalog at `path`, repairing a torn log tail
    /// and deleting a temporary file that an interrupted compaction left.
    /// Returns the damage found, each an [`Error::Corruption`]. A damaged
    /// snapshot is an error, not damage (see the module doc).
    pub fn open(path: &Path) -> Result<(Self, Vec<Error>)> {
        let mut damage = Vec::new();
        let tmp = temp_path(path);
        match std::fs::remove_file(&tmp) {
            Ok(()) => {
                tracing::info!(file = %tmp.display(), "removed the temporary file of an interrupted catalog compaction");
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("remove temporary catalog", &tmp, e)),
        }
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::io("read catalog", path, e)),
        };
        if data.len() < FILE_HEADER_BYTES {
            // New, or a version 1 file torn before its header was complete
            // (version 2 files are created whole, by a rename).
            return Ok((Self::create_file(path)?, damage));
        }
        let version = match check_file_header(&data, CATALOG_MAGIC) {
            Ok(v @ (CATALOG_VERSION_LOG_ONLY | CATALOG_VERSION)) => v,
            Ok(v) => {
                return Err(Error::UnsupportedVersion {
                    file: path.into(),
                    found: v,
                    supported: CATALOG_VERSION,
                });
            }
            Err(reason) => return Err(Error::corrupt(path, 0, reason)),
        };
        let mut cat = Catalog::empty(
            path,
            open_append(path)?,
            version,
            FILE_HEADER_BYTES as u64,
            data.len() as u64,
        );
        if version == CATALOG_VERSION {
            let (raw, end) = snapshot::read_section(&data, FILE_HEADER_BYTES)
                .map_err(|(at, why)| Error::corrupt(path, at as u64, why))?;
            let payload_at = FILE_HEADER_BYTES + snapshot::SECTION_HEADER_BYTES;
            snapshot::decode(&raw, &mut Loader(&mut cat)).map_err(|e| {
                Error::corrupt(path, payload_at as u64, format!("snapshot payload: {e}"))
            })?;
            cat.log_start = end as u64;
        }
        let mut off = cat.log_start as usize;
        loop {
            match next_record(&data, off) {
                Next::End => break,
                Next::Record(body, next) => match record::decode(body) {
                    Ok(Record::Series(def)) => {
                        cat.insert(def.id, &def.key, def.mtype);
                        off = next;
                    }
                    Ok(_) | Err(_) => {
                        damage.push(Error::corrupt(path, off as u64, "not a series record"));
                        cat.truncate(off as u64)?;
                        break;
                    }
                },
                Next::Bad(reason) => {
                    tracing::warn!(file = %path.display(), offset = off, reason, "repaired a torn catalog tail");
                    damage.push(Error::corrupt(
                        path,
                        off as u64,
                        format!("{reason}; tail cut off"),
                    ));
                    cat.truncate(off as u64)?;
                    break;
                }
            }
        }
        Ok((cat, damage))
    }

    /// Creates a version 2 catalog with an empty snapshot at `path`,
    /// replacing whatever is there, by the same rename as a compaction.
    fn create_file(path: &Path) -> Result<Self> {
        let raw = snapshot::encode(
            &Symbols::default(),
            std::iter::empty::<(SeriesId, &Entry, MetricType)>(),
        );
        let written = Snapshot {
            path: path.to_path_buf(),
            raw,
            log_len: 0,
            generation: 0,
        }
        .write()?;
        let WrittenSnapshot {
            file,
            temp,
            snapshot_bytes,
            ..
        } = written;
        temp.rename_to(path)?;
        sync_parent_dir(path).map_err(|e| Error::io("sync directory", parent_dir(path), e))?;
        Ok(Catalog::empty(
            path,
            file,
            CATALOG_VERSION,
            snapshot_bytes,
            snapshot_bytes,
        ))
    }

    /// A catalog with no entries yet over `file` (`len` bytes, the log from
    /// `log_start`).
    fn empty(path: &Path, file: File, version: u32, log_start: u64, len: u64) -> Self {
        Catalog {
            path: path.to_path_buf(),
            file,
            version,
            log_start,
            len,
            generation: 0,
            dir_unsynced: AtomicBool::new(false),
            failed: OnceLock::new(),
            symbols: Symbols::default(),
            entries: Vec::new(),
            by_key: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
        }
    }

    fn truncate(&mut self, len: u64) -> Result<()> {
        self.file
            .set_len(len)
            .and_then(|()| self.file.sync_all())
            .map_err(|e| Error::io("truncate torn catalog tail", &self.path, e))?;
        self.len = len;
        Ok(())
    }

    /// Stops writes for good (see the module doc) and says so.
    fn fail(&self, reason: String) -> Error {
        tracing::error!(file = %self.path.display(), reason, "catalog writes are stopped");
        let reason = self.failed.get_or_init(|| reason);
        Error::WritesStopped {
            path: self.path.clone(),
            reason: reason.clone(),
        }
    }

    fn check_failed(&self) -> Result<()> {
        match self.failed.get() {
            Some(reason) => Err(Error::WritesStopped {
                path: self.path.clone(),
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.check_failed()?;
        if let Err(e) = self.file.write_all(bytes) {
            // A partial record would end the readable log on the next open,
            // hiding every record appended after it: cut it off.
            if let Err(e2) = self.file.set_len(self.len) {
                return Err(self.fail(format!(
                    "append failed ({e}) and cutting it off failed too ({e2})"
                )));
            }
            return Err(Error::io("append to catalog", &self.path, e));
        }
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Makes everything appended so far durable, and the last compaction's
    /// rename. After a failure every later call fails too
    /// ([`Error::WritesStopped`]).
    pub fn sync(&self) -> Result<()> {
        self.check_failed()?;
        if let Err(e) = self.file.sync_data() {
            return Err(self.fail(format!("fsync failed: {e}")));
        }
        if self.dir_unsynced.load(Ordering::Acquire) {
            if let Err(e) = sync_parent_dir(&self.path) {
                return Err(self.fail(format!(
                    "fsync of the directory after a compaction failed: {e}"
                )));
            }
            self.dir_unsynced.store(false, Ordering::Release);
        }
        Ok(())
    }

    fn intern_key(&mut self, key: &SeriesKey) -> Entry {
        Entry {
            org: key.org,
            kind: key.kind,
            metric: self.symbols.intern(&key.metric),
            tags: key
                .tags
                .as_slice()
                .iter()
                .map(|t| self.symbols.intern(t))
                .collect(),
        }
    }

    fn insert(&mut self, id: SeriesId, key: &SeriesKey, mtype: MetricType) {
        let entry = self.intern_key(key);
        self.insert_entry(id, entry, mtype);
    }

    fn insert_entry(&mut self, id: SeriesId, entry: Entry, mtype: MetricType) {
        let idx = (id.0 - 1) as usize;
        if self.entries.len() <= idx {
            self.entries.resize(idx + 1, None);
        }
        let Catalog {
            entries,
            by_key,
            hasher,
            ..
        } = self;
        let hash_of = |e: &Entry| key_hash(hasher, e.org, e.kind, e.metric, &e.tags);
        if let Some((old, _)) = &entries[idx]
            && let Ok(slot) = by_key.find_entry(hash_of(old), |&i| i == id)
        {
            slot.remove();
        }
        let h = hash_of(&entry);
        // The key maps to its latest id, as a map insert would: an older id
        // of the same key (only possible in a damaged store) is forgotten.
        if let Ok(slot) = by_key.find_entry(h, |&i| {
            entries[(i.0 - 1) as usize]
                .as_ref()
                .is_some_and(|(e, _)| *e == entry)
        }) {
            slot.remove();
        }
        entries[idx] = Some((entry, mtype));
        by_key.insert_unique(h, id, |&i| {
            let (e, _) = entries[(i.0 - 1) as usize]
                .as_ref()
                .expect("by_key holds the ids of existing entries");
            hash_of(e)
        });
    }

    /// The id of `key`, if the series exists. Allocates nothing for keys
    /// of up to [`LOOKUP_STACK_TAGS`] tags: this runs for every series of
    /// every intake request.
    pub fn lookup(&self, key: &SeriesKey) -> Option<SeriesId> {
        let metric = self.symbols.get(&key.metric)?;
        let tags = key.tags.as_slice();
        let mut stack = [Sym(0); LOOKUP_STACK_TAGS];
        let mut heap = Vec::new();
        let syms: &mut [Sym] = if tags.len() <= LOOKUP_STACK_TAGS {
            &mut stack[..tags.len()]
        } else {
            heap.resize(tags.len(), Sym(0));
            &mut heap
        };
        for (s, t) in syms.iter_mut().zip(tags) {
            *s = self.symbols.get(t)?;
        }
        let syms = &*syms;
        let h = key_hash(&self.hasher, key.org, key.kind, metric, syms);
        self.by_key
            .find(h, |&id| {
                self.entries[(id.0 - 1) as usize]
                    .as_ref()
                    .is_some_and(|(e, _)| {
                        e.org == key.org
                            && e.kind == key.kind
                            && e.metric == metric
                            && *e.tags == *syms
                    })
            })
            .copied()
    }

    /// Creates a series, appending its definition to the catalog file and to
    /// `wal_out` as a framed WAL record. The caller checks limits first.
    pub fn create(
        &mut self,
        key: &SeriesKey,
        mtype: MetricType,
        wal_out: &mut Vec<u8>,
    ) -> Result<SeriesId> {
        validate_key(key)?;
        let id = SeriesId(self.entries.len() as u64 + 1);
        let mut buf = Vec::new();
        put_record(&mut buf, |b| record::put_series(b, id, key, mtype));
        self.write(&buf)?;
        wal_out.extend_from_slice(&buf);
        self.insert(id, key, mtype);
        Ok(id)
    }

    /// Records a new metric type for `id`; returns false when it was already
    /// that type. Appends to the catalog and to `wal_out`.
    pub fn set_type(
        &mut self,
        id: SeriesId,
        mtype: MetricType,
        wal_out: &mut Vec<u8>,
    ) -> Result<bool> {
        let Some(Some((_, cur))) = self.entries.get((id.0 - 1) as usize) else {
            return Err(Error::UnknownSeries(id));
        };
        if *cur == mtype {
            return Ok(false);
        }
        let key = self.key(id).expect("entry exists");
        let mut buf = Vec::new();
        put_record(&mut buf, |b| record::put_series(b, id, &key, mtype));
        self.write(&buf)?;
        wal_out.extend_from_slice(&buf);
        self.entries[(id.0 - 1) as usize]
            .as_mut()
            .expect("entry exists")
            .1 = mtype;
        Ok(true)
    }

    /// Applies a definition found in the WAL: adds the series if the catalog
    /// lost it, or updates its type. Returns true when the catalog changed.
    pub fn apply_wal_def(&mut self, def: &SeriesDef) -> Result<bool> {
        if def.id.0 == 0 {
            return Err(Error::InvalidSeries("series id 0 in WAL".into()));
        }
        let same = matches!(self.get(def.id), Some((e, t)) if t == def.mtype && self.key_of_entry(e) == def.key);
        if same {
            return Ok(false);
        }
        let mut buf = Vec::new();
        put_record(&mut buf, |b| {
            record::put_series(b, def.id, &def.key, def.mtype)
        });
        self.write(&buf)?;
        self.insert(def.id, &def.key, def.mtype);
        Ok(true)
    }

    /// The entry and type of `id`.
    pub fn get(&self, id: SeriesId) -> Option<(&Entry, MetricType)> {
        if id.0 == 0 {
            return None;
        }
        match self.entries.get((id.0 - 1) as usize) {
            Some(Some((e, t))) => Some((e, *t)),
            _ => None,
        }
    }

    /// The org of `id`.
    pub fn org_of(&self, id: SeriesId) -> Option<OrgId> {
        self.get(id).map(|(e, _)| e.org)
    }

    /// The full key of `id`, with its strings.
    pub fn key(&self, id: SeriesId) -> Option<SeriesKey> {
        self.get(id).map(|(e, _)| self.key_of_entry(e))
    }

    fn key_of_entry(&self, e: &Entry) -> SeriesKey {
        SeriesKey {
            org: e.org,
            metric: self.symbols.resolve(e.metric).to_owned(),
            tags: TagSet::new(e.tags.iter().map(|s| self.symbols.resolve(*s))),
            kind: e.kind,
        }
    }

    /// The string table.
    pub fn symbols(&self) -> &Symbols {
        &self.symbols
    }

    /// Interns a string (the index interns tag keys through this).
    pub fn intern(&mut self, s: &str) -> Sym {
        self.symbols.intern(s)
    }

    /// Every series, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (SeriesId, &Entry, MetricType)> + Clone {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_ref().map(|(e, t)| (SeriesId(i as u64 + 1), e, *t)))
    }

    /// Number of ids handed out.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no series exists.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Fills a catalog from a snapshot payload.
struct Loader<'a>(&'a mut Catalog);

impl snapshot::Sink for Loader<'_> {
    fn symbol(&mut self, s: &str) -> Sym {
        self.0.symbols.intern(s)
    }

    fn reserve(&mut self, entries: usize) {
        let Catalog {
            entries: all,
            by_key,
            hasher,
            ..
        } = &mut *self.0;
        all.reserve(entries);
        by_key.reserve(entries, |&i| {
            let (e, _) = all[(i.0 - 1) as usize]
                .as_ref()
                .expect("by_key holds the ids of existing entries");
            key_hash(hasher, e.org, e.kind, e.metric, &e.tags)
        });
    }

    fn entry(&mut self, id: SeriesId, entry: Entry, mtype: MetricType) {
        self.0.insert_entry(id, entry, mtype);
    }
}

/// Compaction, in three phases so that the engine holds its registry lock
/// only where it must: [`Catalog::snapshot`] encodes the entries (`&self`,
/// under a read lock: nothing may be appended while it reads),
/// [`Snapshot::write`] compresses and writes the new file (no lock), and
/// [`Catalog::install`] renames it into place (`&mut self`, briefly).
impl Catalog {
    /// True when the log has grown enough to fold into a new snapshot: at
    /// least [`COMPACT_MIN_LOG_BYTES`], and at least as large as the
    /// snapshot. The second condition makes compaction cheap in the long
    /// run: each one rewrites a snapshot no larger than the log it folds,
    /// so compactions write no more bytes than the log appends did, and the
    /// file stays under twice its snapshot (plus the minimum).
    pub fn wants_compaction(&self) -> bool {
        let log = self.len - self.log_start;
        log >= COMPACT_MIN_LOG_BYTES && log >= self.log_start
    }

    /// True when the file is not a bare snapshot: its log holds records, or
    /// it is still a version 1 file.
    pub fn has_log(&self) -> bool {
        self.len > self.log_start || self.version != CATALOG_VERSION
    }

    /// Bytes of the catalog file.
    pub fn file_bytes(&self) -> u64 {
        self.len
    }

    /// Bytes of the log part of the file.
    pub fn log_bytes(&self) -> u64 {
        self.len - self.log_start
    }

    /// Phase 1 of a compaction: encodes every entry.
    pub fn snapshot(&self) -> Result<Snapshot> {
        self.check_failed()?;
        Ok(Snapshot {
            path: self.path.clone(),
            raw: snapshot::encode(&self.symbols, self.iter()),
            log_len: self.len,
            generation: self.generation,
        })
    }

    /// Phase 3 of a compaction: copies the records appended since `written`
    /// was taken behind its snapshot, renames the new file over the catalog
    /// and appends to it from now on. The rename is made durable by the
    /// next [`Catalog::sync`]. On error the old file stays in use and the
    /// temporary file is deleted.
    pub fn install(&mut self, written: WrittenSnapshot) -> Result<()> {
        self.check_failed()?;
        if written.generation != self.generation || written.log_len > self.len {
            return Err(Error::Internal(format!(
                "catalog snapshot of {} is stale: another compaction was installed since",
                self.path.display()
            )));
        }
        let WrittenSnapshot {
            mut file,
            temp,
            snapshot_bytes,
            log_len,
            ..
        } = written;
        let tail_len = self.len - log_len;
        if tail_len > 0 {
            let mut tail = vec![0u8; tail_len as usize];
            File::open(&self.path)
                .and_then(|mut f| {
                    f.seek(SeekFrom::Start(log_len))?;
                    f.read_exact(&mut tail)
                })
                .map_err(|e| Error::io("read catalog log", &self.path, e))?;
            file.write_all(&tail)
                .map_err(|e| Error::io("append to new catalog", &temp.path, e))?;
        }
        temp.rename_to(&self.path)?;
        // From here on the new file is the catalog: switch to it even if
        // something fails later, or appends would go to the unlinked file.
        self.file = file;
        self.version = CATALOG_VERSION;
        self.log_start = snapshot_bytes;
        self.len = snapshot_bytes + tail_len;
        self.generation += 1;
        self.dir_unsynced.store(true, Ordering::Release);
        Ok(())
    }

    /// Folds the log into a new snapshot now, all three phases, and syncs.
    pub fn compact(&mut self) -> Result<()> {
        let written = self.snapshot()?.write()?;
        self.install(written)?;
        self.sync()
    }
}

/// Phase 1's output: every entry, encoded, not yet compressed.
pub struct Snapshot {
    path: PathBuf,
    raw: Vec<u8>,
    /// Length of the catalog file when the snapshot was taken: the records
    /// after it are not in the snapshot.
    log_len: u64,
    generation: u64,
}

impl Snapshot {
    /// Phase 2 of a compaction: compresses the snapshot and writes it as a
    /// whole new catalog file under the temporary name, synced. Touches
    /// nothing the catalog uses, so it needs no lock.
    pub fn write(self) -> Result<WrittenSnapshot> {
        let temp = TempFile {
            path: temp_path(&self.path),
            renamed: false,
        };
        let mut buf = Vec::new();
        buf.extend_from_slice(&file_header(CATALOG_MAGIC, CATALOG_VERSION));
        snapshot::put_section(&mut buf, &self.raw)
            .map_err(|e| Error::io("compress catalog snapshot", &temp.path, e))?;
        // A leftover of a compaction that failed without cleaning up.
        let _ = std::fs::remove_file(&temp.path);
        let mut file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&temp.path)
            .map_err(|e| Error::io("create temporary catalog", &temp.path, e))?;
        file.write_all(&buf)
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::io("write temporary catalog", &temp.path, e))?;
        Ok(WrittenSnapshot {
            file,
            temp,
            snapshot_bytes: buf.len() as u64,
            log_len: self.log_len,
            generation: self.generation,
        })
    }
}

/// Phase 2's output: the new file, synced, under its temporary name
/// (deleted if this is dropped before [`Catalog::install`]).
pub struct WrittenSnapshot {
    file: File,
    temp: TempFile,
    /// Bytes of the header and snapshot: where the new file's log starts.
    snapshot_bytes: u64,
    log_len: u64,
    generation: u64,
}

/// A file that is deleted when dropped, unless renamed.
struct TempFile {
    path: PathBuf,
    /// Set once renamed: the path no longer names this file.
    renamed: bool,
}

impl TempFile {
    fn rename_to(mut self, to: &Path) -> Result<()> {
        std::fs::rename(&self.path, to)
            .map_err(|e| Error::io("rename temporary catalog into place", &self.path, e))?;
        self.renamed = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.renamed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// `<path>.tmp`: where a compaction writes the new file.
fn temp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".tmp");
    PathBuf::from(s)
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn sync_parent_dir(path: &Path) -> std::io::Result<()> {
    File::open(parent_dir(path))?.sync_all()
}

fn open_append(path: &Path) -> Result<File> {
    OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| Error::io("open catalog", path, e))
}

/// Checks the limits the engine puts on a key.
pub fn validate_key(key: &SeriesKey) -> Result<()> {
    if key.metric.is_empty() {
        return Err(Error::InvalidSeries("empty metric name".into()));
    }
    if key.metric.len() > MAX_METRIC_BYTES {
        return Err(Error::InvalidSeries(format!(
            "metric name is {} bytes, more than the {MAX_METRIC_BYTES} allowed",
            key.metric.len()
        )));
    }
    if key.tags.len() > MAX_TAGS {
        return Err(Error::InvalidSeries(format!(
            "{} tags, more than the {MAX_TAGS} allowed",
            key.tags.len()
        )));
    }
    if let Some(t) = key.tags.as_slice().iter().find(|t| t.len() > MAX_TAG_BYTES) {
        return Err(Error::InvalidSeries(format!(
            "tag of {} bytes, more than the {MAX_TAG_BYTES} allowed",
            t.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(host: &str) -> SeriesKey {
        SeriesKey::float(
            OrgId(1),
            "cpu",
            TagSet::new([format!("host:{host}"), "env:prod".into()]),
        )
    }

    #[test]
    fn catalog_persists_and_repairs_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.wcat");
        let mut wal = Vec::new();
        {
            let (mut c, damage) = Catalog::open(&path).unwrap();
            assert!(damage.is_empty());
            assert_eq!(
                c.create(&key("a"), MetricType::Gauge, &mut wal).unwrap(),
                SeriesId(1)
            );
            assert_eq!(
                c.create(&key("b"), MetricType::Gauge, &mut wal).unwrap(),
                SeriesId(2)
            );
            assert!(
                c.set_type(
                    SeriesId(2),
                    MetricType::Count { interval_secs: 10 },
                    &mut wal
                )
                .unwrap()
            );
            assert!(
                !c.set_type(
                    SeriesId(2),
                    MetricType::Count { interval_secs: 10 },
                    &mut wal
                )
                .unwrap()
            );
        }
        let full = std::fs::read(&path).unwrap();
        let (c, damage) = Catalog::open(&path).unwrap();
        assert!(damage.is_empty());
        assert_eq!(c.lookup(&key("b")), Some(SeriesId(2)));
        assert_eq!(
            c.get(SeriesId(2)).unwrap().1,
            MetricType::Count { interval_secs: 10 }
        );
        assert_eq!(c.key(SeriesId(1)), Some(key("a")));
        drop(c);
        // Tear the last record: the type change is lost, the series are not.
        std::fs::write(&path, &full[..full.len() - 3]).unwrap();
        let (c, damage) = Catalog::open(&path).unwrap();
        assert_eq!(damage.len(), 1);
        assert!(damage[0].is_corruption());
        assert_eq!(c.get(SeriesId(2)).unwrap().1, MetricType::Gauge);
        assert_eq!(c.lookup(&key("a")), Some(SeriesId(1)));
    }

    #[test]
    fn wal_definitions_restore_lost_series() {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, _) = Catalog::open(&dir.path().join("c.wcat")).unwrap();
        let def = SeriesDef {
            id: SeriesId(3),
            key: key("z"),
            mtype: MetricType::Gauge,
        };
        assert!(c.apply_wal_def(&def).unwrap());
        assert!(!c.apply_wal_def(&def).unwrap());
        assert_eq!(c.lookup(&key("z")), Some(SeriesId(3)));
        assert_eq!(c.get(SeriesId(1)), None);
        let mut wal = Vec::new();
        assert_eq!(
            c.create(&key("y"), MetricType::Gauge, &mut wal).unwrap(),
            SeriesId(4)
        );
    }

    #[test]
    fn oversized_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, _) = Catalog::open(&dir.path().join("c.wcat")).unwrap();
        let long = SeriesKey::float(
            OrgId(1),
            "m".repeat(MAX_METRIC_BYTES + 1),
            TagSet::default(),
        );
        assert!(matches!(
            c.create(&long, MetricType::Gauge, &mut Vec::new()),
            Err(Error::InvalidSeries(_))
        ));
        let empty = SeriesKey::float(OrgId(1), "", TagSet::default());
        assert!(
            c.create(&empty, MetricType::Gauge, &mut Vec::new())
                .is_err()
        );
    }

    #[test]
    fn lookup_matches_whole_keys_with_few_or_many_tags() {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, _) = Catalog::open(&dir.path().join("c.wcat")).unwrap();
        let many = |last: &str| {
            let mut tags: Vec<String> = (0..LOOKUP_STACK_TAGS + 8)
                .map(|i| format!("t{i}:v"))
                .collect();
            tags.push(format!("last:{last}"));
            SeriesKey::float(OrgId(1), "cpu", TagSet::new(tags))
        };
        let a = c
            .create(&key("a"), MetricType::Gauge, &mut Vec::new())
            .unwrap();
        let big = c
            .create(&many("x"), MetricType::Gauge, &mut Vec::new())
            .unwrap();
        assert_eq!(c.lookup(&key("a")), Some(a));
        assert_eq!(
            c.lookup(&many("x")),
            Some(big),
            "a key past the stack buffer"
        );
        assert_eq!(c.lookup(&key("b")), None, "an unknown tag");
        assert_eq!(c.lookup(&many("y")), None);
        // Same symbols, other org, kind or metric: other series.
        let mut other_org = key("a");
        other_org.org = OrgId(2);
        assert_eq!(c.lookup(&other_org), None);
        let sketch = SeriesKey::sketch(OrgId(1), "cpu", key("a").tags);
        assert_eq!(c.lookup(&sketch), None);
        let fewer = SeriesKey::float(OrgId(1), "cpu", TagSet::new(["env:prod"]));
        assert_eq!(c.lookup(&fewer), None, "a prefix of the tags");
        // Survives a reopen (the table is rebuilt from the file).
        drop(c);
        let (c, _) = Catalog::open(&dir.path().join("c.wcat")).unwrap();
        assert_eq!(c.lookup(&key("a")), Some(a));
        assert_eq!(c.lookup(&many("x")), Some(big));
    }
}
