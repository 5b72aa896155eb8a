//! The context table: which series a sample belongs to.
//!
//! A context is (type class, normalised name, normalised sorted
//! de-duplicated tags with the host as `host:<h>`). Resolving one from a raw
//! sample is two-level:
//!
//! 1. **Raw cache** (hot path, no allocation): the hash of the raw
//!    (class, name bytes, tag bytes) → slot. A hit is confirmed by comparing
//!    the raw bytes kept in the entry and the slot's generation, so a hash
//!    collision or a removed context is only a miss.
//! 2. **Canonical map** (once per new raw form): normalise the name and
//!    tags, apply the host, and look the canonical key up; create the
//!    context if it is new and the table has room.
//!
//! Slots are reused after a context is removed; each carries a generation
//! that is bumped on removal, so stale raw-cache entries never resolve.
//! The raw cache holds at most `max(2 × max_contexts, RAW_CACHE_MIN)`
//! entries (it is cleared when full) and is swept of stale entries at each
//! flush when it has grown well past the live contexts.

use std::collections::HashMap;
use std::sync::Arc;

use super::DropReason;
use super::bucket::Bucket;
use crate::hash::{KeyHasher, U64Build};
use crate::normalize;
use crate::parse::MetricKind;

/// Raw-cache entries always allowed, whatever `max_contexts` is: small
/// enough to be negligible (a few hundred KB), large enough that a tiny
/// context cap does not make the cache thrash.
const RAW_CACHE_MIN: usize = 4096;

/// The aggregation class of a metric type: `h` and `ms` share one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Class {
    Gauge,
    Count,
    Set,
    Histogram,
    Distribution,
}

impl Class {
    #[inline]
    pub(crate) fn of(kind: MetricKind) -> Class {
        match kind {
            MetricKind::Gauge => Class::Gauge,
            MetricKind::Count => Class::Count,
            MetricKind::Set => Class::Set,
            MetricKind::Histogram | MetricKind::Timing => Class::Histogram,
            MetricKind::Distribution => Class::Distribution,
        }
    }
}

/// The identity of a context once normalised.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct ContextKey {
    pub(crate) class: Class,
    pub(crate) name: Box<str>,
    /// Sorted, de-duplicated, host included as `host:<h>`.
    pub(crate) tags: Box<[Box<str>]>,
}

impl ContextKey {
    pub(crate) fn tags_vec(&self) -> Vec<String> {
        self.tags.iter().map(|t| t.to_string()).collect()
    }
}

/// Zero-fill state of a counter context.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CounterState {
    /// Arrival time of the last (untimestamped) sample.
    pub(crate) last_sample_ms: i64,
    /// The first bucket not yet emitted (as data or as a zero).
    pub(crate) next_bucket_ms: i64,
}

/// One live context.
#[derive(Debug)]
pub(crate) struct Context {
    pub(crate) key: Arc<ContextKey>,
    /// Open buckets, sorted by start; almost always one or two.
    pub(crate) buckets: Vec<Bucket>,
    /// `Some` for a counter that has had a sample and has not expired.
    pub(crate) counter: Option<CounterState>,
}

#[derive(Debug)]
struct Slot {
    generation: u32,
    ctx: Option<Context>,
}

#[derive(Debug)]
struct RawEntry {
    /// Raw name bytes followed by raw tag bytes.
    bytes: Box<[u8]>,
    name_len: u32,
    class: Class,
    idx: u32,
    generation: u32,
}

/// Hash of a raw context: class, name bytes, tag bytes.
#[inline]
pub(crate) fn raw_hash(hasher: &KeyHasher, class: Class, name: &[u8], tags: &[u8]) -> u64 {
    let h = hasher.hash_from(class as u64 + 1, name);
    hasher.hash_from(h, tags)
}

/// Every live context, and the caches that find them.
#[derive(Debug, Default)]
pub(crate) struct ContextTable {
    slots: Vec<Slot>,
    free: Vec<u32>,
    live: usize,
    canonical: HashMap<Arc<ContextKey>, u32>,
    raw: HashMap<u64, RawEntry, U64Build>,
    scratch: Vec<String>,
}

impl ContextTable {
    /// Number of live contexts.
    pub(crate) fn live(&self) -> usize {
        self.live
    }

    /// Number of slots (live or free); slot indices are below it.
    pub(crate) fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// The live context in slot `idx`, if any.
    #[inline]
    pub(crate) fn get_mut(&mut self, idx: u32) -> Option<&mut Context> {
        self.slots.get_mut(idx as usize)?.ctx.as_mut()
    }

    /// Finds or creates the context of a raw sample. `default_host_tag` is
    /// the normalised `host:<h>` used when the tags carry no `host:` tag.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub(crate) fn resolve(
        &mut self,
        class: Class,
        name: &[u8],
        tags: &[u8],
        hash: u64,
        default_host_tag: Option<&str>,
        max_contexts: usize,
    ) -> Result<u32, DropReason> {
        if let Some(e) = self.raw.get(&hash) {
            let n = e.name_len as usize;
            if e.class == class
                && n == name.len()
                && e.bytes.len() == n + tags.len()
                && &e.bytes[..n] == name
                && &e.bytes[n..] == tags
            {
                let slot = &self.slots[e.idx as usize];
                if slot.generation == e.generation && slot.ctx.is_some() {
                    return Ok(e.idx);
                }
            }
        }
        self.resolve_slow(class, name, tags, hash, default_host_tag, max_contexts)
    }

    #[cold]
    fn resolve_slow(
        &mut self,
        class: Class,
        name: &[u8],
        tags: &[u8],
        hash: u64,
        default_host_tag: Option<&str>,
        max_contexts: usize,
    ) -> Result<u32, DropReason> {
        let key = self.canonical_key(class, name, tags, default_host_tag)?;
        let idx = match self.canonical.get(&key) {
            Some(&idx) => idx,
            None => {
                if self.live >= max_contexts {
                    return Err(DropReason::ContextLimit);
                }
                self.insert(key)
            }
        };
        if self.raw.len() >= (2 * max_contexts).max(RAW_CACHE_MIN) {
            self.raw.clear();
        }
        let mut bytes = Vec::with_capacity(name.len() + tags.len());
        bytes.extend_from_slice(name);
        bytes.extend_from_slice(tags);
        self.raw.insert(
            hash,
            RawEntry {
                bytes: bytes.into_boxed_slice(),
                name_len: name.len() as u32,
                class,
                idx,
                generation: self.slots[idx as usize].generation,
            },
        );
        Ok(idx)
    }

    /// Normalises a raw (name, tags) into a canonical key. A `host:` tag
    /// (the last one, in message order) overrides the default host; an
    /// empty `host:` means "no host".
    fn canonical_key(
        &mut self,
        class: Class,
        name: &[u8],
        raw_tags: &[u8],
        default_host_tag: Option<&str>,
    ) -> Result<ContextKey, DropReason> {
        let name = normalize::metric_name(name).ok_or(DropReason::InvalidName)?;
        let scratch = &mut self.scratch;
        scratch.clear();
        let mut host_override: Option<Option<String>> = None;
        if !raw_tags.is_empty() {
            for piece in raw_tags.split(|&b| b == b',') {
                let Some(tag) = normalize::tag(piece) else {
                    continue;
                };
                if let Some(host) = tag.strip_prefix("host:") {
                    host_override = Some((!host.is_empty()).then(|| tag.clone()));
                } else {
                    scratch.push(tag);
                }
            }
        }
        let host = match host_override {
            Some(h) => h,
            None => default_host_tag.map(str::to_owned),
        };
        scratch.extend(host);
        scratch.sort_unstable();
        scratch.dedup();
        Ok(ContextKey {
            class,
            name: name.into_boxed_str(),
            tags: scratch.drain(..).map(String::into_boxed_str).collect(),
        })
    }

    fn insert(&mut self, key: ContextKey) -> u32 {
        let key = Arc::new(key);
        let ctx = Context {
            key: Arc::clone(&key),
            buckets: Vec::new(),
            counter: None,
        };
        let idx = match self.free.pop() {
            Some(idx) => {
                self.slots[idx as usize].ctx = Some(ctx);
                idx
            }
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    ctx: Some(ctx),
                });
                (self.slots.len() - 1) as u32
            }
        };
        self.canonical.insert(key, idx);
        self.live += 1;
        idx
    }

    /// Removes the context in slot `idx` (which must be live).
    pub(crate) fn remove(&mut self, idx: u32) {
        let slot = &mut self.slots[idx as usize];
        if let Some(ctx) = slot.ctx.take() {
            slot.generation = slot.generation.wrapping_add(1);
            self.canonical.remove(&*ctx.key);
            self.free.push(idx);
            self.live -= 1;
        }
    }

    /// Drops raw-cache entries of removed contexts once they outnumber the
    /// live ones by half (called at each flush).
    pub(crate) fn sweep_raw_cache(&mut self) {
        if self.raw.len() <= self.live + self.live / 2 + RAW_CACHE_MIN {
            return;
        }
        let slots = &self.slots;
        self.raw.retain(|_, e| {
            let s = &slots[e.idx as usize];
            s.generation == e.generation && s.ctx.is_some()
        });
    }

    /// Number of raw-cache entries (for tests of the memory bound).
    pub(crate) fn raw_cache_len(&self) -> usize {
        self.raw.len()
    }
}
