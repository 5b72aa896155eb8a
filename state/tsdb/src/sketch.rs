//! Distribution sketches: the value type of every distribution series.
//!
//! # What this module owns
//!
//! * [`Sketch`], a DDSketch-style mergeable quantile sketch: exact count,
//!   sum, min and max, plus a sparse list of `(key, count)` bins.
//! * The key mapping ([`Sketch::key_for`] / [`Sketch::value_for`]), which is
//!   *the Datadog Agent's* (`pkg/quantile` in
//!   `DataDog/datadog-agent`, default `Config`): the keys (`k`, sint32) and
//!   counts (`n`, uint32) the Agent posts to `/api/beta/sketches` are used as
//!   they are ([`Sketch::from_agent`]) and merge losslessly with sketches we
//!   build from raw values, and [`Sketch::to_agent`] gives back that form.
//! * The compact binary encoding ([`Sketch::encode`] / [`Sketch::decode`])
//!   the storage engine keeps on disk and in the WAL.
//!
//! # What it must never do
//!
//! No I/O, no logging, no global state, and no allocation whose size comes
//! from untrusted input: [`Sketch::decode`] is fed bytes from disk (and from
//! a fuzzer) and must return an error, never panic, on anything malformed,
//! and it never reserves more bins than the remaining bytes could hold (nor
//! more than [`BIN_LIMIT`]).
//!
//! # Why not the `sketches-ddsketch` crate
//!
//! That crate is a different DDSketch: its gamma is `1 + 2α/(1-α)` with
//! α = 0.01 by default, it maps a value to `ceil(log_γ v) + offset` with an
//! offset from a *truncated* log of the minimum, keeps 2048 bins by default
//! and collapses them its own way. The Agent uses `γ = 1 + 2/128`,
//! round-half-to-even keys, a bias from a *floored* log and a 4096-bin limit
//! that collapses the lowest keys. An Agent key therefore names a different
//! interval in that crate; merging would need re-bucketing, which is lossy
//! and breaks "merge(Agent sketch, our sketch) == sketch of all values". So
//! the mapping is written here, from the Agent's definition.
//!
//! # Agent facts this mirrors (`pkg/quantile/{config,key,bin,store,sparse,agent}.go`)
//!
//! * `key(v)`: `v < 0` → `-key(-v)`; `|v| < norm.min` → `0`; otherwise
//!   `RoundToEven(ln v / ln γ) + bias`, then `> maxKey` → the +Inf key and
//!   `< 1` → `1`. `ln γ` is `Log1p(2ε)`.
//! * Keys are `int16`; `±32767` mean `±Inf`, the largest finite key is 32766.
//! * `f64(k)` = `γ^(k - bias)` (`-f64(-k)` for negatives, `0` for `0`,
//!   `±Inf` for the infinite keys).
//! * Bins hold `uint32` counts; larger counts are split into several bins with
//!   the same key. Past 4096 bins the *lowest* keys are folded into the lowest
//!   key that is kept (`trimLeft`).
//! * Rank: `RoundToEven(q·(count-1))`, walking bins in key order to the first
//!   bin whose cumulative count exceeds it; `q <= 0` → min, `q >= 1` → max.
//! * `InsertN(v, n)` is `n` inserts of `v`: one key with count `n`, and
//!   `sum += n·v`.
//!
//! Where the quoted storage spec and the Agent disagree we follow the Agent
//! and say so at the spot (the minimum threshold, and the rank rule). One
//! place deliberately differs from the Agent: the value a quantile reports
//! (see [`Sketch::quantile`]); that is read-side only and never changes keys.

use std::cmp::Ordering;

/// The Agent's `defaultEps` (`1.0 / 128.0` in `config.go`): the relative
/// accuracy the mapping is parameterised with. `γ` is derived from it.
const EPS: f64 = 1.0 / 128.0;

/// `γ = 1 + 2ε = 1.015625` (`Config.refresh`): the ratio between the lower
/// bounds of neighbouring keys. Exactly representable, so no rounding here.
const GAMMA: f64 = 1.0 + 2.0 * EPS;

/// `ln γ`, computed by the Agent as `Log1p(2ε)`. `ln_1p` is not a `const fn`,
/// so it is written out; the test `constants_match_agent_derivation` checks
/// it against `(2.0 * EPS).ln_1p()` bit for bit.
const LN_GAMMA: f64 = 0.015_504_186_535_965_254;

/// The Agent's `defaultMin`: the smallest magnitude it means to tell from 0.
const MIN_VALUE: f64 = 1e-9;

/// `bias = 1 - floor(ln(1e-9) / ln γ) = 1 - (-1337) = 1338`, so the key of
/// the smallest distinguishable magnitude is 1 and key 0 is reserved for
/// "zero". Checked against the formula in `constants_match_agent_derivation`.
const BIAS: i32 = 1338;

/// The Agent's `norm.min = f64(1) = γ^(1 - bias) = γ^-1337 ≈ 9.9419e-10`.
///
/// The Agent sends `|v| < norm.min` (not `|v| < 1e-9`, as the storage spec
/// words it) to key 0: `norm.min` is the next power of γ *below* 1e-9, so
/// values in `[norm.min, 1e-9)` get key 1. We follow the Agent. Checked
/// against `GAMMA.powf(-1337.0)` in `constants_match_agent_derivation`.
const NORM_MIN: f64 = 9.941_854_089_121_45e-10;

// Compile-time guard on the written-out constants: `NORM_MIN` is the largest
// power of γ not above `MIN_VALUE` (what `floor` in the bias selects).
const _: () = assert!(NORM_MIN <= MIN_VALUE && NORM_MIN * GAMMA > MIN_VALUE);

/// The +Inf key: `int16` max (`uvinf = 1<<15 - 1` in `key.go`). Keys range
/// over `-MAX_KEY..=MAX_KEY`; `±MAX_KEY` stand for `±Inf` (and every value
/// above the largest finite key's bound).
pub const MAX_KEY: i32 = i16::MAX as i32;

/// The largest finite key (`maxKey = uvinf - 1` in `key.go`): one slot of the
/// `int16` range is given up so `±Inf` have keys of their own.
const MAX_FINITE_KEY: i32 = MAX_KEY - 1;

/// Most distinct keys a sketch keeps (`defaultBinLimit = 4096` in
/// `config.go`). Past it the lowest keys are folded into the lowest kept key,
/// exactly as the Agent's `trimLeft` does, so trimming commutes with merging.
pub const BIN_LIMIT: usize = 4096;

/// Documented relative accuracy of [`Sketch::quantile`]: `ε = 1/128`
/// (0.78125%).
///
/// Because keys are rounded to the *nearest* power of γ, every value in a
/// bin lies within a factor `√γ` of [`Sketch::value_for`] of its key, so the
/// true worst case is `√γ - 1 ≈ 0.7782%`; `ε` is a slightly looser round
/// bound (`√(1+2ε) ≤ 1+ε`). It holds for magnitudes in
/// `[≈9.94e-10, ≈4.14e211]`; smaller magnitudes read back as 0 and larger
/// ones as the clamped max.
pub const RELATIVE_ACCURACY: f64 = EPS;

/// Encoding version written first by [`Sketch::encode`]; bump on any layout
/// change so old blocks stay readable.
const ENCODING_VERSION: u8 = 1;

/// Smallest encoded bin: a one-byte key delta plus a one-byte count. Used to
/// reject bin counts the remaining input could not hold before allocating.
const MIN_ENCODED_BIN_LEN: usize = 2;

/// A LEB128 `u64` needs at most 10 bytes (`ceil(64 / 7)`).
const MAX_VARINT_LEN: usize = 10;

/// Why a sketch could not be built or decoded.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SketchError {
    /// The Agent's key and count arrays differ in length.
    #[error("sketch has {keys} keys but {counts} counts")]
    KeysCountsMismatch {
        /// Number of keys.
        keys: usize,
        /// Number of counts.
        counts: usize,
    },
    /// A key outside `-MAX_KEY..=MAX_KEY` (the Agent's `int16` key space).
    #[error("sketch key {0} is outside -32767..=32767")]
    KeyOutOfRange(i32),
    /// The total count disagrees with the sum of the bin counts.
    #[error("sketch count {count} does not match its bins' total {bins}")]
    CountMismatch {
        /// The stated total count.
        count: u64,
        /// The sum of the bin counts.
        bins: u64,
    },
    /// A non-empty sketch whose min is above its max.
    #[error("sketch min {min} is above its max {max}")]
    MinAboveMax {
        /// The stated minimum.
        min: f64,
        /// The stated maximum.
        max: f64,
    },
    /// Min, max or sum is NaN or infinite where a finite value is required.
    #[error("sketch min, max or sum is not finite")]
    NonFinite,
    /// The encoding ended early.
    #[error("sketch encoding is truncated")]
    Truncated,
    /// The encoding is malformed.
    #[error("malformed sketch encoding: {0}")]
    BadEncoding(&'static str),
}

/// A mergeable quantile sketch with the Datadog Agent's key mapping.
///
/// Invariants (upheld by every constructor, checked by [`Sketch::decode`]):
/// bins are sorted by strictly increasing key, each key in
/// `-MAX_KEY..=MAX_KEY`, each count ≥ 1, at most [`BIN_LIMIT`] bins, and
/// `count` equals the (saturating) sum of the bin counts. A non-empty sketch
/// has finite `min <= max`. Counts saturate at `u64::MAX` instead of wrapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Sketch {
    count: u64,
    sum: f64,
    /// `+∞` while empty, so `min` needs no special case and empty sketches
    /// compare equal (a NaN would make `PartialEq` fail).
    min: f64,
    /// `-∞` while empty, for the same reasons as `min`.
    max: f64,
    bins: Vec<(i32, u64)>,
}

impl Default for Sketch {
    fn default() -> Self {
        Self::new()
    }
}

impl Sketch {
    /// An empty sketch.
    pub fn new() -> Self {
        Sketch {
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            bins: Vec::new(),
        }
    }

    /// Adds one value. NaN and ±∞ are ignored.
    pub fn insert(&mut self, v: f64) {
        self.insert_n(v, 1);
    }

    /// Adds `v` with weight `n` (e.g. `1 / sample_rate` for DogStatsD), the
    /// same as `n` calls to [`Sketch::insert`] except that `sum` grows by
    /// `v * n` in one step (as the Agent's `InsertN` does). NaN, ±∞ and
    /// `n == 0` are ignored.
    pub fn insert_n(&mut self, v: f64, n: u64) {
        if !v.is_finite() || n == 0 {
            return;
        }
        self.count = self.count.saturating_add(n);
        self.sum += v * n as f64;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        let key = Self::key_for(v);
        match self.bins.binary_search_by_key(&key, |&(k, _)| k) {
            Ok(i) => self.bins[i].1 = self.bins[i].1.saturating_add(n),
            Err(i) => {
                self.bins.insert(i, (key, n));
                trim_left(&mut self.bins);
            }
        }
    }

    /// Builds a sketch from the Agent's wire form (`cnt`, `min`, `max`,
    /// `sum`, `k`, `n`).
    ///
    /// Keys may be unsorted and repeated (the Agent repeats a key when a
    /// count exceeds `u32::MAX`); repeats are summed. Zero counts are
    /// dropped. More than [`BIN_LIMIT`] distinct keys are trimmed the way the
    /// Agent trims. Errors: arrays of different lengths, a key outside
    /// `-MAX_KEY..=MAX_KEY`, non-finite `min`/`max`/`sum`, `count` different
    /// from the sum of `counts`, or `min > max` on a non-empty sketch.
    /// `count == 0` (with all counts 0) yields an empty sketch.
    pub fn from_agent(
        count: u64,
        min: f64,
        max: f64,
        sum: f64,
        keys: &[i32],
        counts: &[u32],
    ) -> Result<Self, SketchError> {
        if keys.len() != counts.len() {
            return Err(SketchError::KeysCountsMismatch {
                keys: keys.len(),
                counts: counts.len(),
            });
        }
        if !(min.is_finite() && max.is_finite() && sum.is_finite()) {
            return Err(SketchError::NonFinite);
        }
        if let Some(&k) = keys.iter().find(|k| !(-MAX_KEY..=MAX_KEY).contains(*k)) {
            return Err(SketchError::KeyOutOfRange(k));
        }
        let total = counts
            .iter()
            .fold(0u64, |acc, &n| acc.saturating_add(u64::from(n)));
        if total != count {
            return Err(SketchError::CountMismatch { count, bins: total });
        }
        if count == 0 {
            return Ok(Self::new());
        }
        if min > max {
            return Err(SketchError::MinAboveMax { min, max });
        }
        let mut pairs: Vec<(i32, u64)> = keys
            .iter()
            .zip(counts)
            .filter(|&(_, &n)| n > 0)
            .map(|(&k, &n)| (k, u64::from(n)))
            .collect();
        pairs.sort_unstable_by_key(|&(k, _)| k);
        let mut bins: Vec<(i32, u64)> = Vec::with_capacity(pairs.len());
        for (k, n) in pairs {
            match bins.last_mut() {
                Some(last) if last.0 == k => last.1 = last.1.saturating_add(n),
                _ => bins.push((k, n)),
            }
        }
        trim_left(&mut bins);
        Ok(Sketch {
            count,
            sum,
            min,
            max,
            bins,
        })
    }

    /// The Agent's wire form: parallel `k` / `n` arrays in key order.
    ///
    /// A count above `u32::MAX` becomes several entries with the same key,
    /// as the Agent's `appendSafe` lays them out: the remainder
    /// (`n % u32::MAX`, if non-zero) first, then full `u32::MAX` entries. So
    /// the output has `Σ ceil(n / u32::MAX)` entries — one per bin for any
    /// count below ~4.3 billion.
    pub fn to_agent(&self) -> (Vec<i32>, Vec<u32>) {
        let full = u64::from(u32::MAX);
        let mut keys = Vec::with_capacity(self.bins.len());
        let mut counts = Vec::with_capacity(self.bins.len());
        for &(k, n) in &self.bins {
            let rem = n % full;
            if rem != 0 {
                keys.push(k);
                counts.push(rem as u32);
            }
            for _ in 0..n / full {
                keys.push(k);
                counts.push(u32::MAX);
            }
        }
        (keys, counts)
    }

    /// Merges `other` into `self`. Bins, count, min and max come out exactly
    /// as if every value of both had been inserted into one sketch (the
    /// trim is order-independent); `sum` up to float rounding.
    pub fn merge(&mut self, other: &Sketch) {
        if other.count == 0 {
            return;
        }
        self.count = self.count.saturating_add(other.count);
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);

        let (a, b) = (&self.bins, &other.bins);
        let mut out = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                Ordering::Less => {
                    out.push(a[i]);
                    i += 1;
                }
                Ordering::Greater => {
                    out.push(b[j]);
                    j += 1;
                }
                Ordering::Equal => {
                    out.push((a[i].0, a[i].1.saturating_add(b[j].1)));
                    i += 1;
                    j += 1;
                }
            }
        }
        out.extend_from_slice(&a[i..]);
        out.extend_from_slice(&b[j..]);
        trim_left(&mut out);
        self.bins = out;
    }

    /// Number of values inserted (weights included).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sum of the values inserted (weights included); 0 when empty. It may
    /// overflow to ±∞ for extreme inputs; that is kept, not rejected.
    pub fn sum(&self) -> f64 {
        self.sum
    }

    /// Smallest value inserted; NaN when empty.
    pub fn min(&self) -> f64 {
        if self.is_empty() { f64::NAN } else { self.min }
    }

    /// Largest value inserted; NaN when empty.
    pub fn max(&self) -> f64 {
        if self.is_empty() { f64::NAN } else { self.max }
    }

    /// `sum / count`; NaN when empty.
    pub fn avg(&self) -> f64 {
        if self.is_empty() {
            f64::NAN
        } else {
            self.sum / self.count as f64
        }
    }

    /// True when nothing has been inserted.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The value at quantile `q`; `None` when empty or `q` is not in `[0, 1]`.
    ///
    /// `q == 0` gives the exact min and `q == 1` the exact max (as the Agent).
    /// Otherwise, like the Agent, the wanted 0-based rank is
    /// `r = round_half_even(q · (count - 1))` (the spec's "until the
    /// cumulative count reaches q·cnt" differs by up to one rank; we follow
    /// the Agent), and the answer comes from the first bin, in key order,
    /// whose cumulative count exceeds `r` — the bin holding the `r`-th
    /// smallest value.
    ///
    /// Deliberate difference from the Agent: it interpolates from
    /// `f64(k)` (or min, for the first bin) towards `f64(k)·γ`, which
    /// reaches past the bin's upper edge (keys are *rounded*, so a bin spans
    /// `γ^±½` around `f64(k)`) and can be off by `γ^1.5 - 1 ≈ 2.3%`, three
    /// times its own ε. We report [`Sketch::value_for`] of that bin — the Agent's `f64(k)`,
    /// the value its commented-out `return vLow` would give — clamped to
    /// `[min, max]` as the spec says, which keeps the error within
    /// [`RELATIVE_ACCURACY`]. Keys, counts and merging are unaffected.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.is_empty() || !(0.0..=1.0).contains(&q) {
            return None;
        }
        if q == 0.0 {
            return Some(self.min);
        }
        if q == 1.0 {
            return Some(self.max);
        }
        let rank = (q * (self.count - 1) as f64).round_ties_even() as u64;
        let mut seen = 0u64;
        for &(k, n) in &self.bins {
            seen = seen.saturating_add(n);
            if seen > rank {
                // max/min rather than clamp: clamp panics on a bad range.
                return Some(Self::value_for(k).max(self.min).min(self.max));
            }
        }
        // Unreachable while count == Σ bins; the max is the safe answer.
        Some(self.max)
    }

    /// The bins, sorted by strictly increasing key: `(key, count)`.
    pub fn bins(&self) -> &[(i32, u64)] {
        &self.bins
    }

    /// The Agent's key for `v` (`Config.key` in `config.go`).
    ///
    /// `|v| < ≈9.94e-10` (and ±0) → 0; negative values → `-key_for(-v)`;
    /// magnitudes past the largest finite key's bound (≈4.14e211) →
    /// `±MAX_KEY`. Non-finite inputs, which [`Sketch::insert`] never maps,
    /// get ±∞ → `±MAX_KEY` and NaN → 0 (the Agent's Go `int(±Inf/NaN)`
    /// conversion is platform-defined, so there is nothing to mirror).
    ///
    /// `ln` here is the platform libm's and the Agent's is Go's; the two may
    /// differ in the last bit, which can move a value lying within a few ulps
    /// of a bin boundary to the neighbouring key. Agent keys are never
    /// recomputed, so this cannot make merging lossy.
    pub fn key_for(v: f64) -> i32 {
        if v.is_nan() {
            return 0;
        }
        if v < 0.0 {
            return -Self::key_for(-v);
        }
        if v < NORM_MIN {
            return 0;
        }
        // Finite for every finite v (|ln v / ln γ| < 46 000); +∞ for +∞,
        // which the comparison below turns into the +Inf key.
        let k = (v.ln() / LN_GAMMA).round_ties_even() + f64::from(BIAS);
        if k > f64::from(MAX_FINITE_KEY) {
            MAX_KEY
        } else if k < 1.0 {
            // The Agent's "should not happen" guard, kept for fidelity.
            1
        } else {
            k as i32
        }
    }

    /// The representative value of key `k`: the Agent's `f64(k)`,
    /// `γ^(k - bias)` for `k > 0`, `-value_for(-k)` for `k < 0`, 0 for 0 and
    /// `±∞` for `|k| >= MAX_KEY`.
    ///
    /// The Agent calls this the bin's "lower bound", but since keys are
    /// rounded to the nearest integer it is the bin's geometric centre: the
    /// bin of `k` holds `[γ^(k-bias-½), γ^(k-bias+½))`. It is computed with
    /// libm `pow`; the Agent uses Go's `math.Pow`, which may differ in the
    /// last bit.
    pub fn value_for(k: i32) -> f64 {
        match k {
            0 => 0.0,
            k if k >= MAX_KEY => f64::INFINITY,
            k if k <= -MAX_KEY => f64::NEG_INFINITY,
            k if k < 0 => -Self::value_for(-k),
            k => GAMMA.powf(f64::from(k - BIAS)),
        }
    }

    /// Appends the compact binary form of this sketch to `out`.
    ///
    /// Layout (all varints are unsigned LEB128, at most 10 bytes; f64s are
    /// their IEEE-754 bits, little-endian):
    ///
    /// ```text
    /// u8        version            = 1
    /// varint    count              total count (u64)
    ///           -- when count == 0 the encoding ends here (2 bytes) --
    /// f64 LE    min                finite
    /// f64 LE    max                finite, >= min
    /// f64 LE    sum                any f64 (may have overflowed to ±inf)
    /// varint    nbins              1 ..= 4096
    /// nbins × {
    ///   varint  zigzag(key - prev) prev = 0 for the first bin, then the
    ///                              previous key; so deltas after the first
    ///                              are >= 1 (keys strictly increase)
    ///   varint  n                  bin count, >= 1
    /// }
    /// ```
    ///
    /// `zigzag(d) = (d << 1) ^ (d >> 63)` on i64. The bin counts must sum
    /// (saturating at `u64::MAX`) to `count`; keys lie in `-32767..=32767`.
    /// A 1-value sketch takes 2 + 24 + 1 + 3 = 30 bytes; each further bin
    /// usually takes 2 bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(ENCODING_VERSION);
        put_varint(out, self.count);
        if self.is_empty() {
            return;
        }
        out.extend_from_slice(&self.min.to_le_bytes());
        out.extend_from_slice(&self.max.to_le_bytes());
        out.extend_from_slice(&self.sum.to_le_bytes());
        put_varint(out, self.bins.len() as u64);
        let mut prev = 0i64;
        for &(k, n) in &self.bins {
            let k = i64::from(k);
            put_varint(out, zigzag(k - prev));
            put_varint(out, n);
            prev = k;
        }
    }

    /// Decodes one sketch from the front of `buf`, returning it and the
    /// number of bytes it used (trailing bytes are left alone).
    ///
    /// Never panics. Checks everything [`Sketch::encode`] promises (version,
    /// varint length, finite min/max with `min <= max`, `1..=4096` bins that
    /// the remaining bytes could hold, strictly increasing in-range keys,
    /// non-zero counts summing to `count`) and allocates at most one
    /// `Vec` of `min(nbins, remaining / 2)` bins.
    pub fn decode(buf: &[u8]) -> Result<(Sketch, usize), SketchError> {
        let mut r = Reader { buf, pos: 0 };
        if r.byte()? != ENCODING_VERSION {
            return Err(SketchError::BadEncoding("unknown sketch encoding version"));
        }
        let count = r.varint()?;
        if count == 0 {
            return Ok((Sketch::new(), r.pos));
        }
        let min = r.f64()?;
        let max = r.f64()?;
        let sum = r.f64()?;
        if !(min.is_finite() && max.is_finite()) {
            return Err(SketchError::NonFinite);
        }
        if min > max {
            return Err(SketchError::MinAboveMax { min, max });
        }
        let nbins = r.varint()?;
        if nbins == 0 {
            return Err(SketchError::BadEncoding("non-empty sketch without bins"));
        }
        if nbins > BIN_LIMIT as u64 {
            return Err(SketchError::BadEncoding("more bins than the bin limit"));
        }
        let nbins = nbins as usize; // <= BIN_LIMIT, fits
        if nbins > r.remaining() / MIN_ENCODED_BIN_LEN {
            return Err(SketchError::Truncated);
        }
        let mut bins = Vec::with_capacity(nbins);
        let mut prev = 0i64;
        let mut total = 0u64;
        for i in 0..nbins {
            let delta = unzigzag(r.varint()?);
            let key = prev
                .checked_add(delta)
                .ok_or(SketchError::BadEncoding("key delta overflows"))?;
            if !(i64::from(-MAX_KEY)..=i64::from(MAX_KEY)).contains(&key) {
                let shown = key.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
                return Err(SketchError::KeyOutOfRange(shown));
            }
            if i > 0 && key <= prev {
                return Err(SketchError::BadEncoding("bin keys not strictly increasing"));
            }
            let n = r.varint()?;
            if n == 0 {
                return Err(SketchError::BadEncoding("bin with zero count"));
            }
            total = total.saturating_add(n);
            bins.push((key as i32, n)); // in -32767..=32767, fits
            prev = key;
        }
        if total != count {
            return Err(SketchError::CountMismatch { count, bins: total });
        }
        let sketch = Sketch {
            count,
            sum,
            min,
            max,
            bins,
        };
        Ok((sketch, r.pos))
    }
}

/// Keeps at most [`BIN_LIMIT`] bins by folding the lowest keys into the
/// lowest key that stays, as the Agent's `trimLeft` does. (The Agent keeps
/// `uint32` counts and spills overflow into extra same-key bins, which count
/// towards its limit; with `u64` counts one bin per key suffices, so the
/// two differ only when a single key holds more than `u32::MAX`.) The result depends only on the set of
/// keys seen and their total counts, not on the order of inserts and merges:
/// the kept keys are always the 4096 highest seen.
fn trim_left(bins: &mut Vec<(i32, u64)>) {
    if bins.len() <= BIN_LIMIT {
        return;
    }
    let drop = bins.len() - BIN_LIMIT;
    let folded = bins[..=drop]
        .iter()
        .fold(0u64, |acc, &(_, n)| acc.saturating_add(n));
    bins[drop].1 = folded;
    bins.drain(..drop);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A bounds-checked cursor: every read returns `Truncated` instead of
/// indexing past the end.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn byte(&mut self) -> Result<u8, SketchError> {
        let b = *self.buf.get(self.pos).ok_or(SketchError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, SketchError> {
        let mut v = 0u64;
        for i in 0..MAX_VARINT_LEN {
            let b = self.byte()?;
            // The 10th byte may only carry the top bit of a u64.
            if i == MAX_VARINT_LEN - 1 && b > 1 {
                return Err(SketchError::BadEncoding("varint overflows u64"));
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(SketchError::BadEncoding("varint overflows u64"))
    }

    fn f64(&mut self) -> Result<f64, SketchError> {
        let end = self.pos.checked_add(8).ok_or(SketchError::Truncated)?;
        let bytes: [u8; 8] = self
            .buf
            .get(self.pos..end)
            .ok_or(SketchError::Truncated)?
            .try_into()
            .map_err(|_| SketchError::Truncated)?;
        self.pos = end;
        Ok(f64::from_le_bytes(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const QUANTILES: [f64; 8] = [0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0];

    /// Slack for the accuracy bound: floating-point error in `ln`, `pow` and
    /// the division, orders of magnitude below the bound itself.
    const FP_SLACK: f64 = 1e-12;

    fn sketch_of(values: &[f64]) -> Sketch {
        let mut s = Sketch::new();
        for &v in values {
            s.insert(v);
        }
        s
    }

    /// The exact nearest-rank quantile, with the rank the sketch walks to:
    /// the value at 0-based index `round_half_even(q · (n - 1))` of the
    /// sorted values (so q = 0 is the min and q = 1 the max).
    fn exact_quantile(sorted: &[f64], q: f64) -> f64 {
        let r = (q * (sorted.len() - 1) as f64).round_ties_even() as usize;
        sorted[r]
    }

    /// The struct invariants, checked independently of the code under test.
    fn assert_invariants(s: &Sketch) {
        assert!(s.bins.len() <= BIN_LIMIT);
        assert!(
            s.bins.windows(2).all(|w| w[0].0 < w[1].0),
            "bins not sorted"
        );
        assert!(s.bins.iter().all(|&(k, n)| k.abs() <= MAX_KEY && n > 0));
        let total = s.bins.iter().fold(0u64, |a, &(_, n)| a.saturating_add(n));
        assert_eq!(total, s.count);
        if s.count > 0 {
            assert!(s.min.is_finite() && s.max.is_finite() && s.min <= s.max);
        } else {
            assert_eq!(s, &Sketch::new());
        }
    }

    /// A magnitude spread evenly in log space over 1e-6 ..= 1e9.
    fn magnitude() -> impl Strategy<Value = f64> {
        (-6.0f64..=9.0).prop_map(|e| 10f64.powf(e))
    }

    /// Value sets that are all positive (0), all negative (1) or mixed (2).
    /// A small pool of repeated values is mixed in so bins get counts > 1.
    fn value_set() -> impl Strategy<Value = Vec<f64>> {
        (
            0u8..3,
            prop::collection::vec((magnitude(), any::<bool>()), 1..400),
            prop::collection::vec(0usize..8, 0..100),
        )
            .prop_map(|(mode, raw, repeats)| {
                let mut vals: Vec<f64> = raw
                    .into_iter()
                    .map(|(m, neg)| match mode {
                        0 => m,
                        1 => -m,
                        _ if neg => -m,
                        _ => m,
                    })
                    .collect();
                let pool: Vec<f64> = vals.iter().copied().take(8).collect();
                vals.extend(repeats.iter().map(|&i| pool[i % pool.len()]));
                vals
            })
    }

    /// Arbitrary sketches, including weighted inserts and zeros.
    fn any_sketch() -> impl Strategy<Value = Sketch> {
        prop::collection::vec(
            (
                prop_oneof![magnitude(), Just(0.0), (-1e12f64..1e12)],
                any::<bool>(),
                prop_oneof![Just(1u64), 1u64..1000, Just(u64::from(u32::MAX) + 7)],
            ),
            0..60,
        )
        .prop_map(|items| {
            let mut s = Sketch::new();
            for (m, neg, n) in items {
                s.insert_n(if neg { -m } else { m }, n);
            }
            s
        })
    }

    proptest! {
        #[test]
        fn quantiles_within_relative_accuracy(values in value_set()) {
            let s = sketch_of(&values);
            assert_invariants(&s);
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            for q in QUANTILES {
                let want = exact_quantile(&sorted, q);
                let got = s.quantile(q).unwrap();
                let err = (got - want).abs();
                prop_assert!(
                    err <= (RELATIVE_ACCURACY + FP_SLACK) * want.abs(),
                    "q={q}: got {got}, exact {want}, rel err {}", err / want.abs()
                );
            }
            prop_assert_eq!(s.quantile(0.0), Some(sorted[0]));
            prop_assert_eq!(s.quantile(1.0), Some(sorted[sorted.len() - 1]));
        }

        #[test]
        fn merge_equals_sketch_of_concatenation(a in value_set(), b in value_set()) {
            let mut merged = sketch_of(&a);
            merged.merge(&sketch_of(&b));
            let all: Vec<f64> = a.iter().chain(&b).copied().collect();
            let direct = sketch_of(&all);
            prop_assert_eq!(merged.bins(), direct.bins());
            prop_assert_eq!(merged.count(), direct.count());
            prop_assert_eq!(merged.min(), direct.min());
            prop_assert_eq!(merged.max(), direct.max());
            let scale: f64 = all.iter().map(|v| v.abs()).sum();
            prop_assert!((merged.sum() - direct.sum()).abs() <= 1e-12 * scale);
            assert_invariants(&merged);
        }

        /// Past the bin limit, trimming must still commute with merging.
        #[test]
        fn merge_equals_concatenation_past_bin_limit(
            keys in prop::collection::vec(-MAX_FINITE_KEY..=MAX_FINITE_KEY, 4000..7000),
            split in 0.0f64..1.0,
        ) {
            let values: Vec<f64> = keys.iter().map(|&k| Sketch::value_for(k)).collect();
            let at = (split * values.len() as f64) as usize;
            let mut merged = sketch_of(&values[..at]);
            merged.merge(&sketch_of(&values[at..]));
            let direct = sketch_of(&values);
            prop_assert_eq!(merged.bins(), direct.bins());
            prop_assert_eq!(merged.count(), direct.count());
            assert_invariants(&merged);
        }

        #[test]
        fn encode_decode_round_trip(s in any_sketch(), trailing in prop::collection::vec(any::<u8>(), 0..8)) {
            assert_invariants(&s);
            let mut buf = vec![0xEE; 3]; // encode appends
            s.encode(&mut buf);
            let enc = buf.split_off(3);
            prop_assert_eq!(buf, vec![0xEE; 3]);
            let mut with_tail = enc.clone();
            with_tail.extend_from_slice(&trailing);
            prop_assert_eq!(Sketch::decode(&with_tail), Ok((s.clone(), enc.len())));
            for end in 0..enc.len() {
                prop_assert!(Sketch::decode(&enc[..end]).is_err(), "prefix {end} decoded");
            }
        }

        #[test]
        fn decode_random_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            if let Ok((s, used)) = Sketch::decode(&bytes) {
                prop_assert!(used <= bytes.len());
                assert_invariants(&s);
            }
            // Also get past the version byte, where most checks live.
            let mut v = vec![ENCODING_VERSION];
            v.extend_from_slice(&bytes);
            if let Ok((s, used)) = Sketch::decode(&v) {
                prop_assert!(used <= v.len());
                assert_invariants(&s);
            }
        }

        #[test]
        fn decode_mutated_encoding_never_panics(
            s in any_sketch(),
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        ) {
            let mut buf = Vec::new();
            s.encode(&mut buf);
            for (i, b) in flips {
                let at = i.index(buf.len());
                buf[at] = b;
            }
            if let Ok((d, used)) = Sketch::decode(&buf) {
                prop_assert!(used <= buf.len());
                assert_invariants(&d);
            }
        }

        #[test]
        fn agent_form_round_trips(s in any_sketch()) {
            let (keys, counts) = s.to_agent();
            prop_assert_eq!(keys.len(), counts.len());
            prop_assert!(keys.windows(2).all(|w| w[0] <= w[1]));
            if s.is_empty() {
                prop_assert!(keys.is_empty());
                prop_assert_eq!(Sketch::from_agent(0, 0.0, 0.0, 0.0, &keys, &counts), Ok(Sketch::new()));
            } else {
                let back = Sketch::from_agent(s.count(), s.min, s.max, s.sum(), &keys, &counts).unwrap();
                prop_assert_eq!(&back, &s);
                let (k2, c2) = back.to_agent();
                prop_assert_eq!(Sketch::from_agent(s.count(), s.min, s.max, s.sum(), &k2, &c2), Ok(s));
            }
        }

        #[test]
        fn value_for_key_for_within_accuracy(m in magnitude(), neg in any::<bool>()) {
            let v = if neg { -m } else { m };
            let rep = Sketch::value_for(Sketch::key_for(v));
            prop_assert!((rep - v).abs() <= (RELATIVE_ACCURACY + FP_SLACK) * v.abs());
            // The tighter bound the rounding actually gives.
            prop_assert!((rep - v).abs() <= (GAMMA.sqrt() - 1.0 + FP_SLACK) * v.abs());
        }

        #[test]
        fn insert_n_equals_repeated_insert(v in magnitude(), n in 1u64..50) {
            let mut weighted = Sketch::new();
            weighted.insert_n(v, n);
            let repeated = sketch_of(&vec![v; n as usize]);
            prop_assert_eq!(weighted.bins(), repeated.bins());
            prop_assert_eq!(weighted.count(), repeated.count());
            prop_assert!((weighted.sum() - repeated.sum()).abs() <= 1e-12 * v * n as f64);
        }
    }

    #[test]
    fn constants_match_agent_derivation() {
        // config.go: gamma.v = 1 + 2*eps; gamma.ln = Log1p(2*eps).
        assert_eq!(GAMMA, 1.015625);
        assert_eq!(LN_GAMMA.to_bits(), (2.0 * EPS).ln_1p().to_bits());
        // emin = floor(logGamma(minValue)); bias = -emin + 1.
        let emin = (MIN_VALUE.ln() / LN_GAMMA).floor() as i32;
        assert_eq!(emin, -1337);
        assert_eq!(BIAS, 1 - emin);
        // norm.min = f64(1) = gamma^(1 - bias), at or below minValue.
        assert_eq!(
            NORM_MIN.to_bits(),
            GAMMA.powf(f64::from(1 - BIAS)).to_bits()
        );
        // key.go: uvinf = 1<<15 - 1; maxKey = uvinf - 1.
        assert_eq!(MAX_KEY, (1 << 15) - 1);
        assert_eq!(MAX_FINITE_KEY, 32766);
        assert!((RELATIVE_ACCURACY - 0.0078).abs() < 0.0001);
        assert!(GAMMA.sqrt() - 1.0 <= RELATIVE_ACCURACY);
    }

    #[test]
    fn key_for_spot_checks() {
        // The agent's definition, by hand: round_half_even(ln v / ln γ) + bias.
        let by_hand = |v: f64| ((v.ln() / 1.015625f64.ln()).round_ties_even() as i32) + 1338;
        assert_eq!(Sketch::key_for(1.0), 1338); // ln 1 = 0
        assert_eq!(Sketch::key_for(0.5), 1293); // ln .5/ln γ = -44.707 → -45
        assert_eq!(Sketch::key_for(2.0), 1383); // +44.707 → 45
        assert_eq!(Sketch::key_for(100.0), 1635); // 297.03 → 297
        assert_eq!(Sketch::key_for(1e6), 2229); // 891.08 → 891
        for v in [1.0, 0.5, 2.0, 100.0, 1e6, 3.7, 1e-6, 123456.789] {
            assert_eq!(Sketch::key_for(v), by_hand(v), "v={v}");
            assert_eq!(Sketch::key_for(-v), -by_hand(v), "v=-{v}");
        }
        assert_eq!(Sketch::key_for(-1.0), -1338);
        assert_eq!(Sketch::key_for(-100.0), -1635);
        // Below the minimum: zero bin.
        assert_eq!(Sketch::key_for(0.0), 0);
        assert_eq!(Sketch::key_for(-0.0), 0);
        assert_eq!(Sketch::key_for(1e-10), 0);
        assert_eq!(Sketch::key_for(-1e-10), 0);
        // Agent, not spec: norm.min ≈ 9.94e-10 < 1e-9 already has key 1.
        assert_eq!(Sketch::key_for(NORM_MIN), 1);
        assert_eq!(Sketch::key_for(9.95e-10), 1);
        assert_eq!(Sketch::key_for(1e-9), 1);
        assert_eq!(Sketch::key_for(f64::from_bits(NORM_MIN.to_bits() - 1)), 0);
        assert_eq!(Sketch::key_for(NORM_MIN * GAMMA), 2);
        // Above the largest finite key: the Inf key.
        assert_eq!(Sketch::key_for(1e300), MAX_KEY);
        assert_eq!(Sketch::key_for(-1e300), -MAX_KEY);
        assert_eq!(Sketch::key_for(f64::MAX), MAX_KEY);
        assert_eq!(Sketch::key_for(f64::INFINITY), MAX_KEY);
        assert_eq!(Sketch::key_for(f64::NEG_INFINITY), -MAX_KEY);
        assert_eq!(Sketch::key_for(f64::NAN), 0);
        let top = Sketch::value_for(MAX_FINITE_KEY);
        assert!(top > 4.1e211 && top < 4.2e211);
        assert_eq!(Sketch::key_for(top), MAX_FINITE_KEY);
    }

    #[test]
    fn value_for_spot_checks() {
        assert_eq!(Sketch::value_for(1338), 1.0);
        assert_eq!(Sketch::value_for(-1338), -1.0);
        assert_eq!(Sketch::value_for(1339), GAMMA);
        assert_eq!(Sketch::value_for(0), 0.0);
        assert_eq!(Sketch::value_for(1), NORM_MIN);
        assert_eq!(Sketch::value_for(MAX_KEY), f64::INFINITY);
        assert_eq!(Sketch::value_for(-MAX_KEY), f64::NEG_INFINITY);
        assert_eq!(Sketch::value_for(40_000), f64::INFINITY);
    }

    /// The Agent's own check (`config_test.go`): key(f64(k)) == k.
    #[test]
    fn key_of_value_for_is_identity() {
        for k in -MAX_FINITE_KEY..=MAX_FINITE_KEY {
            assert_eq!(Sketch::key_for(Sketch::value_for(k)), k, "k={k}");
        }
    }

    #[test]
    fn empty_sketch() {
        let s = Sketch::new();
        assert!(s.is_empty());
        assert_eq!(s.count(), 0);
        assert_eq!(s.sum(), 0.0);
        assert!(s.min().is_nan() && s.max().is_nan() && s.avg().is_nan());
        assert_eq!(s.quantile(0.5), None);
        assert!(s.bins().is_empty());
        assert_eq!(s, Sketch::default());
        assert_eq!(s.to_agent(), (vec![], vec![]));
        let mut buf = Vec::new();
        s.encode(&mut buf);
        assert_eq!(buf, [ENCODING_VERSION, 0]);
    }

    #[test]
    fn non_finite_and_zero_weight_inserts_are_ignored() {
        let mut s = Sketch::new();
        s.insert(f64::NAN);
        s.insert(f64::INFINITY);
        s.insert(f64::NEG_INFINITY);
        s.insert_n(5.0, 0);
        assert_eq!(s, Sketch::new());
        s.insert(2.0);
        s.insert(f64::NAN);
        assert_eq!(s.count(), 1);
        assert_eq!((s.min(), s.max(), s.sum(), s.avg()), (2.0, 2.0, 2.0, 2.0));
    }

    #[test]
    fn quantile_rejects_q_outside_unit_interval() {
        let s = sketch_of(&[1.0, 2.0, 3.0]);
        assert_eq!(s.quantile(-0.01), None);
        assert_eq!(s.quantile(1.01), None);
        assert_eq!(s.quantile(f64::NAN), None);
        assert_eq!(s.quantile(0.0), Some(1.0));
        assert_eq!(s.quantile(1.0), Some(3.0));
        // rank round_half_even(0.5 * 2) = 1 → the bin of 2.0.
        assert_eq!(
            s.quantile(0.5),
            Some(Sketch::value_for(Sketch::key_for(2.0)))
        );
    }

    #[test]
    fn quantile_is_clamped_to_min_max() {
        // value_for(key_for(1.005)) = 1.0 < min; clamped up.
        let s = sketch_of(&[1.005, 1.005, 1.005]);
        assert_eq!(Sketch::value_for(Sketch::key_for(1.005)), 1.0);
        assert_eq!(s.quantile(0.5), Some(1.005));
    }

    #[test]
    fn weighted_quantile_uses_weights() {
        let mut s = Sketch::new();
        s.insert_n(1.0, 99);
        s.insert(1000.0);
        assert_eq!(s.count(), 100);
        assert_eq!(s.sum(), 1099.0);
        assert_eq!(s.quantile(0.5), Some(1.0));
        assert_eq!(s.quantile(0.99), Some(1.0)); // rank round(98.01) = 98 < 99
        assert_eq!(s.quantile(1.0), Some(1000.0));
    }

    #[test]
    fn bin_limit_folds_lowest_keys() {
        let mut s = Sketch::new();
        // 5000 distinct keys, lowest first: 1, 2, ... 5000.
        for k in 1..=5000 {
            s.insert(Sketch::value_for(k));
        }
        assert_eq!(s.bins().len(), BIN_LIMIT);
        assert_eq!(s.count(), 5000);
        // Keys 1..=904 fold into 905, the lowest of the 4096 kept.
        assert_eq!(s.bins()[0], (905, 905));
        assert_eq!(s.bins()[1], (906, 1));
        assert_eq!(s.bins().last(), Some(&(5000, 1)));
        assert_invariants(&s);
        // The same through from_agent (which trims like the Agent's merge).
        let keys: Vec<i32> = (1..=5000).rev().collect();
        let counts = vec![1u32; 5000];
        let a = Sketch::from_agent(5000, s.min, s.max, s.sum, &keys, &counts).unwrap();
        assert_eq!(a.bins(), s.bins());
    }

    #[test]
    fn from_agent_validates() {
        assert_eq!(
            Sketch::from_agent(2, 1.0, 2.0, 3.0, &[1338, 1383], &[2]),
            Err(SketchError::KeysCountsMismatch { keys: 2, counts: 1 })
        );
        assert_eq!(
            Sketch::from_agent(1, 1.0, 1.0, 1.0, &[32768], &[1]),
            Err(SketchError::KeyOutOfRange(32768))
        );
        assert_eq!(
            Sketch::from_agent(1, 1.0, 1.0, 1.0, &[-32768], &[1]),
            Err(SketchError::KeyOutOfRange(-32768))
        );
        assert_eq!(
            Sketch::from_agent(1, f64::NAN, 1.0, 1.0, &[1338], &[1]),
            Err(SketchError::NonFinite)
        );
        assert_eq!(
            Sketch::from_agent(1, 1.0, 1.0, f64::INFINITY, &[1338], &[1]),
            Err(SketchError::NonFinite)
        );
        assert_eq!(
            Sketch::from_agent(3, 1.0, 1.0, 1.0, &[1338], &[1]),
            Err(SketchError::CountMismatch { count: 3, bins: 1 })
        );
        assert_eq!(
            Sketch::from_agent(1, 2.0, 1.0, 1.0, &[1338], &[1]),
            Err(SketchError::MinAboveMax { min: 2.0, max: 1.0 })
        );
        assert_eq!(
            Sketch::from_agent(0, 0.0, 0.0, 0.0, &[], &[]),
            Ok(Sketch::new())
        );
        // The Inf keys are part of the Agent's key space.
        assert!(Sketch::from_agent(2, 1.0, 1e300, 1e300, &[MAX_KEY, 1338], &[1, 1]).is_ok());
    }

    #[test]
    fn from_agent_sums_duplicates_and_sorts() {
        let s =
            Sketch::from_agent(10, -1.0, 2.0, 5.0, &[1383, -1338, 1383, 0], &[3, 1, 4, 2]).unwrap();
        assert_eq!(s.bins(), &[(-1338, 1), (0, 2), (1383, 7)]);
        // Matches the same values inserted here.
        let mut ours = Sketch::new();
        ours.insert(-1.0);
        ours.insert_n(0.0, 2);
        ours.insert_n(2.0, 7);
        assert_eq!(ours.bins(), s.bins());
    }

    #[test]
    fn to_agent_splits_like_append_safe() {
        let max = u64::from(u32::MAX);
        let mut s = Sketch::new();
        s.insert_n(1.0, 2 * max + 5);
        s.insert_n(2.0, max);
        s.insert_n(0.5, 3);
        let (k, n) = s.to_agent();
        assert_eq!(k, vec![1293, 1338, 1338, 1338, 1383]);
        assert_eq!(n, vec![3, 5, u32::MAX, u32::MAX, u32::MAX]);
        let back = Sketch::from_agent(s.count(), s.min, s.max, s.sum, &k, &n).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn encode_layout_is_as_documented() {
        let mut s = Sketch::new();
        s.insert_n(1.0, 3); // key 1338
        s.insert(-1.0); // key -1338
        let mut buf = Vec::new();
        s.encode(&mut buf);
        let mut want = vec![ENCODING_VERSION, 4];
        want.extend_from_slice(&(-1.0f64).to_le_bytes());
        want.extend_from_slice(&1.0f64.to_le_bytes());
        want.extend_from_slice(&2.0f64.to_le_bytes());
        want.push(2); // nbins
        // zigzag(-1338) = 2675 = 0xF3 0x14 ; count 1
        want.extend_from_slice(&[0xF3, 0x14, 1]);
        // delta 2676 → zigzag 5352 = 0xE8 0x29 ; count 3
        want.extend_from_slice(&[0xE8, 0x29, 3]);
        assert_eq!(zigzag(-1338), 2675);
        assert_eq!(zigzag(2676), 5352);
        assert_eq!(buf, want);
        assert_eq!(Sketch::decode(&buf), Ok((s, buf.len())));
    }

    #[test]
    fn decode_rejects_malformed() {
        let bad = |b: &[u8]| Sketch::decode(b).unwrap_err();
        assert_eq!(bad(&[]), SketchError::Truncated);
        assert!(matches!(bad(&[2, 0]), SketchError::BadEncoding(_)));
        // 11-byte varint.
        assert!(matches!(
            bad(&[
                1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F
            ]),
            SketchError::BadEncoding(_)
        ));
        let head = |count: u8, min: f64, max: f64| {
            let mut v = vec![1, count];
            v.extend_from_slice(&min.to_le_bytes());
            v.extend_from_slice(&max.to_le_bytes());
            v.extend_from_slice(&0.0f64.to_le_bytes());
            v
        };
        let with = |mut v: Vec<u8>, tail: &[u8]| {
            v.extend_from_slice(tail);
            v
        };
        assert_eq!(
            bad(&with(head(1, f64::NAN, 1.0), &[1, 0, 1])),
            SketchError::NonFinite
        );
        assert_eq!(
            bad(&with(head(1, 2.0, 1.0), &[1, 0, 1])),
            SketchError::MinAboveMax { min: 2.0, max: 1.0 }
        );
        assert!(matches!(
            bad(&with(head(1, 0.0, 0.0), &[0])),
            SketchError::BadEncoding(_)
        ));
        // Huge bin count: rejected before any allocation.
        assert!(matches!(
            bad(&with(head(1, 0.0, 0.0), &[0xFF, 0xFF, 0xFF, 0xFF, 0x0F])),
            SketchError::BadEncoding(_)
        ));
        assert_eq!(
            bad(&with(head(1, 0.0, 0.0), &[100, 0, 1])),
            SketchError::Truncated
        );
        // Zero count, repeated key, out-of-range key, count mismatch.
        assert!(matches!(
            bad(&with(head(1, 0.0, 0.0), &[1, 0, 0])),
            SketchError::BadEncoding(_)
        ));
        assert!(matches!(
            bad(&with(head(2, 0.0, 0.0), &[2, 0, 1, 0, 1])),
            SketchError::BadEncoding(_)
        ));
        assert_eq!(
            bad(&with(head(1, 0.0, 0.0), &[1, 0x80, 0x80, 0x04, 1])),
            SketchError::KeyOutOfRange(32768)
        );
        assert_eq!(
            bad(&with(head(5, 0.0, 0.0), &[1, 0, 1])),
            SketchError::CountMismatch { count: 5, bins: 1 }
        );
    }
}
