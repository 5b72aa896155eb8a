//! The series catalog: which series exist, their ids, keys and metric types.
//!
//! Persisted as an append-only file of framed records (`catalog.wcat`, the
//! same framing and series record as the WAL, `docs/format/wal.md`), loaded
//! into memory on open. Every series definition is also written to the WAL,
//! so a catalog record lost to a power failure comes back on WAL replay; the
//! catalog is synced before any WAL segment is deleted.
//!
//! In memory, names and tags are interned ([`Symbols`]): an entry is a few
//! words whatever the length of its tags.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

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
/// Format version of the catalog file.
pub const CATALOG_VERSION: u32 = 1;

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
/// registry lock.
pub struct Catalog {
    path: PathBuf,
    file: File,
    symbols: Symbols,
    /// `entries[id - 1]`; `None` for an id whose record was lost.
    entries: Vec<Option<(Entry, MetricType)>>,
    by_key: HashMap<Entry, SeriesId>,
}

impl Catalog {
    /// Opens (or creates) the catalog at `path`, repairing a torn tail.
    /// Returns the damage found, each an [`Error::Corruption`].
    pub fn open(path: &Path) -> Result<(Self, Vec<Error>)> {
        let mut damage = Vec::new();
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::io("read catalog", path, e)),
        };
        let mut cat = Catalog {
            path: path.to_path_buf(),
            file: open_append(path)?,
            symbols: Symbols::default(),
            entries: Vec::new(),
            by_key: HashMap::new(),
        };
        if data.len() < FILE_HEADER_BYTES {
            // New, or created and torn before its header was complete.
            cat.file
                .set_len(0)
                .map_err(|e| Error::io("reset catalog", path, e))?;
            cat.write(&file_header(CATALOG_MAGIC, CATALOG_VERSION))?;
            return Ok((cat, damage));
        }
        match check_file_header(&data, CATALOG_MAGIC) {
            Ok(CATALOG_VERSION) => {}
            Ok(v) => {
                return Err(Error::UnsupportedVersion {
                    file: path.into(),
                    found: v,
                    supported: CATALOG_VERSION,
                });
            }
            Err(reason) => return Err(Error::corrupt(path, 0, reason)),
        }
        let mut off = FILE_HEADER_BYTES;
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

    fn truncate(&mut self, len: u64) -> Result<()> {
        self.file
            .set_len(len)
            .and_then(|()| self.file.sync_all())
            .map_err(|e| Error::io("truncate torn catalog tail", &self.path, e))
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.file
            .write_all(bytes)
            .map_err(|e| Error::io("append to catalog", &self.path, e))
    }

    /// Makes everything appended so far durable.
    pub fn sync(&self) -> Result<()> {
        self.file
            .sync_data()
            .map_err(|e| Error::io("sync catalog", &self.path, e))
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
        let idx = (id.0 - 1) as usize;
        if self.entries.len() <= idx {
            self.entries.resize(idx + 1, None);
        }
        if let Some((old, _)) = &self.entries[idx] {
            self.by_key.remove(old);
        }
        self.by_key.insert(entry.clone(), id);
        self.entries[idx] = Some((entry, mtype));
    }

    /// The id of `key`, if the series exists.
    pub fn lookup(&self, key: &SeriesKey) -> Option<SeriesId> {
        let probe = Entry {
            org: key.org,
            kind: key.kind,
            metric: self.symbols.get(&key.metric)?,
            tags: key
                .tags
                .as_slice()
                .iter()
                .map(|t| self.symbols.get(t))
                .collect::<Option<Box<[Sym]>>>()?,
        };
        self.by_key.get(&probe).copied()
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
    pub fn iter(&self) -> impl Iterator<Item = (SeriesId, &Entry, MetricType)> {
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

fn open_append(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
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
}
