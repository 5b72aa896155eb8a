//! The in-process cache in front of key verification.
//!
//! [`MetaStore::verify_key`](crate::MetaStore::verify_key) runs on every
//! HTTP request; without a cache each request would cost a database round
//! trip (an SQLite call on a blocking thread, or a PostgreSQL query on the
//! one shared connection). The cache maps (kind, SHA-256 of the secret) to
//! the answer:
//!
//! - **positive** entries (the key is active, for this org) live
//!   [`POSITIVE_TTL`];
//! - **negative** entries (no active key with that secret) live
//!   [`NEGATIVE_TTL`], so a client retrying a bad key in a loop costs one
//!   database lookup per TTL, not one per request. A flood of *distinct*
//!   bad keys still reaches the database: every backend serialises calls on
//!   one connection, which bounds the load, and rate limiting belongs to
//!   the HTTP layer. Invalid-looking secrets (empty, too long, not visible
//!   ASCII) never reach the cache or the database at all.
//!
//! Both maps are bounded ([`MAX_POSITIVE`], [`MAX_NEGATIVE`]): when one is
//! full even after dropping expired entries, new answers are simply not
//! cached.
//!
//! Invalidation: a revoke in this process clears the whole cache (revokes
//! are rare, and it is obviously correct); creating a key removes its hash
//! (a negative entry may exist if someone tried the secret before it was
//! registered). A revoke done by *another* process sharing PostgreSQL is
//! seen here when the positive entry expires: that is the bound
//! [`POSITIVE_TTL`] puts on how long a revoked key keeps working.
//!
//! A lookup that misses records the cache's generation before asking the
//! database and stores the answer only if no invalidation happened in
//! between; otherwise a verify racing with a revoke could re-insert the
//! revoked key for a whole TTL.
//!
//! Lock: one `parking_lot::Mutex` over [`Inner`], held only for map
//! operations, never across an `.await` or a database call.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::model::{KeyKind, OrgId};
use crate::secret::KeyHash;

/// How long a successful verification is reused without asking the
/// database. This is the longest a key revoked by another server sharing
/// the PostgreSQL database keeps working on this one. 10 s keeps that
/// window short enough for an operator revoking a leaked key, while a busy
/// key costs each server one database lookup per 10 s instead of one per
/// request (hundreds to thousands per second).
pub const POSITIVE_TTL: Duration = Duration::from_secs(10);

/// How long "no such active key" is reused. Shorter than [`POSITIVE_TTL`]
/// because a stale negative answer wrongly *rejects* a key that another
/// server has just created; 5 s still turns a client hammering a wrong key
/// into one lookup per 5 s.
pub const NEGATIVE_TTL: Duration = Duration::from_secs(5);

/// Cap on cached active keys. A deployment has a handful to a few thousand
/// keys; 100 000 entries (about 10 MB) is far above that and keeps a
/// pathological key count from growing memory without bound.
pub const MAX_POSITIVE: usize = 100_000;

/// Cap on cached bad keys. A flood of distinct random keys would otherwise
/// fill memory; 10 000 entries (about 1 MB) covers many misconfigured
/// clients repeating their own wrong key.
pub const MAX_NEGATIVE: usize = 10_000;

/// Expired entries are swept at most this often when a map is full, so a
/// flood of distinct bad keys does not scan the map on every request.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

type CacheKey = (KeyKind, KeyHash);

/// The cache. Cheap to share behind the store's `Arc`.
#[derive(Default)]
pub(crate) struct KeyCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Bumped by every invalidation; see the module doc.
    generation: u64,
    /// Active keys: org and expiry.
    positive: HashMap<CacheKey, (OrgId, Instant)>,
    /// Unknown or revoked keys: expiry.
    negative: HashMap<CacheKey, Instant>,
    /// Earliest time the next sweep of expired entries may run.
    next_sweep: Option<Instant>,
}

/// What [`KeyCache::lookup`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// A fresh answer: `Some(org)` for an active key, `None` for a bad one.
    Hit(Option<OrgId>),
    /// Nothing fresh; pass `generation` to [`KeyCache::store`] with the
    /// database's answer.
    Miss {
        /// The cache generation when the lookup missed.
        generation: u64,
    },
}

impl KeyCache {
    /// Looks up a fresh answer at time `now`.
    pub(crate) fn lookup(&self, kind: KeyKind, hash: KeyHash, now: Instant) -> Lookup {
        let key = (kind, hash);
        let mut inner = self.inner.lock();
        if let Some(&(org, expires)) = inner.positive.get(&key) {
            if now < expires {
                return Lookup::Hit(Some(org));
            }
            inner.positive.remove(&key);
        }
        if let Some(&expires) = inner.negative.get(&key) {
            if now < expires {
                return Lookup::Hit(None);
            }
            inner.negative.remove(&key);
        }
        Lookup::Miss {
            generation: inner.generation,
        }
    }

    /// Caches the database's `answer`, unless the cache was invalidated
    /// since the lookup that returned `generation`, or the map is full.
    pub(crate) fn store(
        &self,
        kind: KeyKind,
        hash: KeyHash,
        answer: Option<OrgId>,
        generation: u64,
        now: Instant,
    ) {
        let key = (kind, hash);
        let mut inner = self.inner.lock();
        if inner.generation != generation {
            return;
        }
        let full = match answer {
            Some(_) => inner.positive.len() >= MAX_POSITIVE,
            None => inner.negative.len() >= MAX_NEGATIVE,
        };
        if full {
            inner.sweep(now);
        }
        match answer {
            Some(org) if inner.positive.len() < MAX_POSITIVE => {
                inner.negative.remove(&key);
                inner.positive.insert(key, (org, now + POSITIVE_TTL));
            }
            None if inner.negative.len() < MAX_NEGATIVE => {
                inner.positive.remove(&key);
                inner.negative.insert(key, now + NEGATIVE_TTL);
            }
            _ => {}
        }
    }

    /// Forgets everything (after a revoke).
    pub(crate) fn invalidate_all(&self) {
        let mut inner = self.inner.lock();
        inner.generation += 1;
        inner.positive.clear();
        inner.negative.clear();
    }

    /// Forgets one secret's answer (after the key was created).
    pub(crate) fn forget(&self, kind: KeyKind, hash: KeyHash) {
        let mut inner = self.inner.lock();
        inner.generation += 1;
        inner.positive.remove(&(kind, hash));
        inner.negative.remove(&(kind, hash));
    }

    #[cfg(test)]
    fn len(&self) -> (usize, usize) {
        let inner = self.inner.lock();
        (inner.positive.len(), inner.negative.len())
    }
}

impl Inner {
    /// Drops expired entries, at most once per [`SWEEP_INTERVAL`].
    fn sweep(&mut self, now: Instant) {
        if self.next_sweep.is_some_and(|t| now < t) {
            return;
        }
        self.next_sweep = Some(now + SWEEP_INTERVAL);
        self.positive.retain(|_, &mut (_, expires)| now < expires);
        self.negative.retain(|_, &mut expires| now < expires);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> KeyHash {
        KeyHash::of(s)
    }

    #[test]
    fn hits_until_ttl_then_misses() {
        let c = KeyCache::default();
        let t0 = Instant::now();
        let Lookup::Miss { generation } = c.lookup(KeyKind::Api, h("a"), t0) else {
            panic!("empty cache hit")
        };
        c.store(KeyKind::Api, h("a"), Some(OrgId(3)), generation, t0);
        c.store(KeyKind::Api, h("bad"), None, generation, t0);
        assert_eq!(
            c.lookup(KeyKind::Api, h("a"), t0),
            Lookup::Hit(Some(OrgId(3)))
        );
        assert_eq!(c.lookup(KeyKind::Api, h("bad"), t0), Lookup::Hit(None));
        // The kind is part of the key.
        assert!(matches!(
            c.lookup(KeyKind::App, h("a"), t0),
            Lookup::Miss { .. }
        ));
        let later = t0 + NEGATIVE_TTL;
        assert_eq!(
            c.lookup(KeyKind::Api, h("a"), later),
            Lookup::Hit(Some(OrgId(3)))
        );
        assert!(matches!(
            c.lookup(KeyKind::Api, h("bad"), later),
            Lookup::Miss { .. }
        ));
        assert!(matches!(
            c.lookup(KeyKind::Api, h("a"), t0 + POSITIVE_TTL),
            Lookup::Miss { .. }
        ));
    }

    #[test]
    fn invalidation_wins_over_a_racing_lookup() {
        let c = KeyCache::default();
        let t0 = Instant::now();
        let Lookup::Miss { generation } = c.lookup(KeyKind::Api, h("a"), t0) else {
            panic!()
        };
        // A revoke lands between the database read and the store.
        c.invalidate_all();
        c.store(KeyKind::Api, h("a"), Some(OrgId(1)), generation, t0);
        assert!(matches!(
            c.lookup(KeyKind::Api, h("a"), t0),
            Lookup::Miss { .. }
        ));
    }

    #[test]
    fn forget_drops_a_negative_answer() {
        let c = KeyCache::default();
        let t0 = Instant::now();
        let Lookup::Miss { generation } = c.lookup(KeyKind::App, h("k"), t0) else {
            panic!()
        };
        c.store(KeyKind::App, h("k"), None, generation, t0);
        c.forget(KeyKind::App, h("k"));
        assert!(matches!(
            c.lookup(KeyKind::App, h("k"), t0),
            Lookup::Miss { .. }
        ));
    }

    #[test]
    fn negative_map_is_bounded() {
        let c = KeyCache::default();
        let t0 = Instant::now();
        for i in 0..MAX_NEGATIVE + 50 {
            c.store(KeyKind::Api, h(&format!("bad{i}")), None, 0, t0);
        }
        assert_eq!(c.len(), (0, MAX_NEGATIVE));
        // Once they expire, a sweep makes room again.
        let later = t0 + NEGATIVE_TTL;
        c.store(KeyKind::Api, h("fresh"), None, 0, later);
        assert_eq!(c.len(), (0, 1));
        assert_eq!(c.lookup(KeyKind::Api, h("fresh"), later), Lookup::Hit(None));
    }
}
