//! Seeded hashing of short byte strings: raw context keys and set values.
//!
//! The aggregator keys its raw-context cache and its sets by these 64-bit
//! hashes, so the hash must be fast on 20–200 byte inputs (one per metric
//! line) and not predictable by a sender: every aggregator draws a random
//! seed, and the maps keyed by these hashes use them as they are
//! ([`U64Build`]). Equal hashes never merge two different contexts: the
//! raw-context cache keeps the raw bytes and compares them on every hit
//! (a collision costs a cache miss, nothing else). Sets count distinct
//! hashes, so two values colliding in 64 bits would count once; with `n`
//! values in a bucket the chance is about `n² / 2⁶⁵`.

use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};

/// Odd 64-bit constants (from wyhash) mixed into the seeds and the length.
const P0: u64 = 0xa076_1d64_78bd_642f;
const P1: u64 = 0xe703_7ed1_a0b4_28db;
const P2: u64 = 0x8ebc_6af0_9c88_c6e3;

/// The 64×64→128-bit multiply folded to 64 bits: the mixing step.
#[inline]
fn fold_mul(a: u64, b: u64) -> u64 {
    let r = (a as u128).wrapping_mul(b as u128);
    (r as u64) ^ ((r >> 64) as u64)
}

#[inline]
fn read_u64(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_le_bytes(w)
}

#[inline]
fn read_u32(b: &[u8]) -> u64 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[..4]);
    u32::from_le_bytes(w) as u64
}

/// A seeded hash function over byte strings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyHasher {
    s0: u64,
    s1: u64,
}

impl KeyHasher {
    /// A hasher with a random seed (from the standard library's per-process
    /// random keys).
    pub(crate) fn random() -> Self {
        let state = RandomState::new();
        Self::with_seed(state.hash_one(0x5eed_u64))
    }

    /// A hasher with a fixed seed (tests, reproducible fuzzing).
    pub(crate) fn with_seed(seed: u64) -> Self {
        KeyHasher {
            s0: fold_mul(seed ^ P0, P1),
            s1: fold_mul(seed ^ P1, P2) | 1,
        }
    }

    /// Hashes `bytes`, continuing from `h` (pass `0` to start).
    #[inline]
    pub(crate) fn hash_from(&self, h: u64, bytes: &[u8]) -> u64 {
        let len = bytes.len() as u64;
        let mut h = h ^ self.s0 ^ len.wrapping_mul(P0);
        let mut chunks = bytes.chunks_exact(16);
        for c in &mut chunks {
            h = fold_mul(read_u64(c) ^ self.s1, read_u64(&c[8..]) ^ h);
        }
        let t = chunks.remainder();
        let (a, b) = match t.len() {
            0 => (0, 0),
            1..=3 => {
                let n = t.len();
                (
                    ((t[0] as u64) << 16) | ((t[n / 2] as u64) << 8) | t[n - 1] as u64,
                    0,
                )
            }
            4..=8 => (read_u32(t), read_u32(&t[t.len() - 4..])),
            _ => (read_u64(t), read_u64(&t[t.len() - 8..])),
        };
        h = fold_mul(a ^ self.s1 ^ len, b ^ h ^ P2);
        fold_mul(h ^ self.s0, P1 ^ len)
    }

    /// Hashes one byte string.
    #[inline]
    pub(crate) fn hash(&self, bytes: &[u8]) -> u64 {
        self.hash_from(0, bytes)
    }
}

/// A [`Hasher`] for keys that already are well-mixed 64-bit hashes: passes
/// them through.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct U64Hasher(u64);

impl Hasher for U64Hasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used by the maps keyed by hashes; anything else
        // still hashes correctly, just more slowly.
        for &b in bytes {
            self.0 = fold_mul(self.0 ^ b as u64, P0);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// Builds [`U64Hasher`]s.
pub(crate) type U64Build = BuildHasherDefault<U64Hasher>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn different_inputs_hash_differently() {
        let h = KeyHasher::with_seed(7);
        let mut seen = std::collections::HashSet::new();
        for len in 0..64 {
            let bytes: Vec<u8> = (0..len).map(|i| i as u8).collect();
            assert!(seen.insert(h.hash(&bytes)), "collision at length {len}");
        }
        assert_ne!(h.hash(b"a"), h.hash(b"b"));
        assert_ne!(h.hash(b"ab"), h.hash(b"ba"));
        assert_ne!(
            KeyHasher::with_seed(1).hash(b"x"),
            KeyHasher::with_seed(2).hash(b"x")
        );
    }
}
