//! The Agent's DogStatsD time sampler (spec §3.6), as a state machine driven
//! by the caller's clock.
//!
//! # State
//!
//! * **Contexts** (`context.rs`): one per (type class, normalised name,
//!   sorted de-duplicated normalised tags, host). `h` and `ms` share a class;
//!   the class is part of the identity (server choice: the Agent lets the
//!   first type seen in a bucket win, which depends on arrival order). The
//!   host is the last `host:` tag of the message (an empty `host:` means
//!   none), else the configured default host; it is kept as the tag
//!   `host:<h>`.
//! * **Buckets**: each context holds its open buckets, keyed by
//!   `floor(arrival_ms / 10 000) · 10 000`, where `arrival_ms` is the `now_ms`
//!   passed to [`Aggregator::add`]. Normally one bucket is open (two around a
//!   bucket boundary until the next flush).
//! * **Counter state**: a counter context remembers the arrival time of its
//!   last sample and the first bucket it has not emitted yet.
//! * **Timestamped points**: `g` and `c` samples with a `T` field skip the
//!   buckets and wait, merged per (context, timestamp) (counts summed,
//!   gauges last), for the next flush, which emits them at their own
//!   timestamp. `T` on other types is ignored, as clients drop it there.
//!
//! # Transitions
//!
//! * `add(sample, now)`: resolve the context (creating it when there is
//!   room), then fold every value into the bucket of `now` (creating the
//!   bucket): gauge = last, count += v / rate, set ∪= {member}, histogram and
//!   distribution += v with weight `trunc(1 / rate)`.
//! * `flush(now)`: with `cutoff = bucket(now)`, every bucket that started
//!   before `cutoff` is closed: it is reduced to rows and removed. Buckets
//!   at or after `cutoff` stay open. Counters also emit `0` for each bucket
//!   in `[next unemitted bucket, cutoff)` that has no samples and starts
//!   before `last sample + counter_expiry_secs`. Timestamped points are all
//!   emitted. Then every context with no open bucket and no zero-fill left to
//!   do is removed (so its slot counts no more against `max_contexts`).
//! * `flush_all(now)`: as `flush`, but every open bucket is closed,
//!   including the current one (shutdown). Zero-fill still stops at
//!   `bucket(now)`. Meant to be the last call: samples added to the current
//!   bucket afterwards would be emitted again at the same timestamp.
//!
//! # Memory bounds
//!
//! * Live contexts ≤ `max_contexts`; a sample that would create one more is
//!   dropped ([`DropReason::ContextLimit`]).
//! * Timestamped points ≤ `max_timestamped_points` between two flushes
//!   ([`DropReason::TimestampedLimit`]).
//! * The raw-key cache ≤ `max(2 · max_contexts, 4096)` entries.
//! * Per bucket: a gauge or count is one `f64`, a distribution one sketch
//!   (≤ 4096 bins); a set keeps 8 bytes per distinct member and a histogram
//!   16 bytes per sample, as the Agent does, so those grow with the intake
//!   rate of one bucket (two buckets at most between flushes).
//!
//! # Rows
//!
//! Counts and histogram `.count` are `Count { interval_secs: 10 }` rows
//! (server choice, spec §3.6: a count rather than the Agent's rate); all
//! other float rows are gauges; distributions are sketch rows. Non-finite
//! results are never emitted ([`DropReason::NonFinite`]).

mod bucket;
mod config;
mod context;
mod flush;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

pub use config::{AggregatorConfig, HistogramAggregate};
pub use flush::{Flush, FlushedMetric, FlushedSketch};
use whippet_tsdb::MetricType;

use crate::error::Error;
use crate::hash::KeyHasher;
use crate::parse::{MetricSample, SampleValue};
use bucket::{Acc, Bucket, COUNT_TYPE, Emitter, Reduction, weight};
use context::{Class, ContextKey, ContextTable, CounterState, raw_hash};

/// Bucket width in seconds: the Agent's fixed `bucketSize`, and the
/// interval every count row carries.
pub const BUCKET_SECS: i64 = 10;

/// Bucket width in milliseconds.
pub const BUCKET_MS: i64 = BUCKET_SECS * 1000;

/// The start of the bucket holding `ms`. Saturates at `i64::MIN` for the
/// few clocks below the lowest whole bucket (only a hand-driven clock gets
/// there; `tests/fuzz_seeds.rs` covers the extremes).
#[inline]
pub fn bucket_start(ms: i64) -> i64 {
    ms.div_euclid(BUCKET_MS).saturating_mul(BUCKET_MS)
}

/// Why a sample (one value of a message) was not aggregated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum DropReason {
    /// It would have created a context past `max_contexts`.
    #[error("too many live DogStatsD contexts (max_contexts)")]
    ContextLimit,
    /// It would have held a timestamped point past `max_timestamped_points`.
    #[error("too many pending timestamped points (max_timestamped_points)")]
    TimestampedLimit,
    /// The value, scaled by its sample rate, or a reduced row, is not finite.
    #[error("value is not finite")]
    NonFinite,
    /// The name has no ASCII letter (only from samples built by hand: the
    /// parser rejects these).
    #[error("metric name has no ASCII letter")]
    InvalidName,
}

impl DropReason {
    /// Number of reasons; `reason as usize` is below it.
    pub const COUNT: usize = 4;
    /// Every reason, in declaration order.
    pub const ALL: [DropReason; Self::COUNT] = [
        DropReason::ContextLimit,
        DropReason::TimestampedLimit,
        DropReason::NonFinite,
        DropReason::InvalidName,
    ];
    /// A stable snake_case name, used as the `reason:` tag of the dropped
    /// counter.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::ContextLimit => "context_limit",
            DropReason::TimestampedLimit => "timestamped_limit",
            DropReason::NonFinite => "non_finite",
            DropReason::InvalidName => "invalid_name",
        }
    }
}

/// Hashes samples the way the aggregator's context cache expects, so the
/// hash can be computed outside the lock that guards the aggregator
/// ([`Aggregator::add_hashed`]). Cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct ContextHasher(KeyHasher);

impl ContextHasher {
    /// The context-cache hash of a sample.
    #[inline]
    pub fn hash(&self, sample: &MetricSample<'_>) -> u64 {
        raw_hash(&self.0, Class::of(sample.kind), sample.name, sample.tags)
    }
}

/// A timestamped point waiting for the next flush.
#[derive(Debug)]
struct TimestampedPoint {
    key: Arc<ContextKey>,
    ts_ms: i64,
    value: f64,
}

/// The time sampler. Not thread-safe by itself: the server keeps it behind
/// one mutex, taken once per batch of datagrams and once per flush.
#[derive(Debug)]
pub struct Aggregator {
    aggregates: Vec<HistogramAggregate>,
    /// (whole percent, `.NNpercentile`), in configured order.
    percentiles: Vec<(u32, String)>,
    expiry_ms: i64,
    max_contexts: usize,
    max_timestamped_points: usize,
    /// The normalised `host:<h>` tag of the default host.
    default_host_tag: Option<String>,
    hasher: KeyHasher,
    contexts: ContextTable,
    timestamped: Vec<TimestampedPoint>,
    /// (context slot, timestamp) → index in `timestamped`. Valid between
    /// two flushes: contexts are only removed by a flush, which also
    /// empties both.
    timestamped_index: HashMap<(u32, i64), usize>,
    dropped: [u64; DropReason::COUNT],
}

impl Aggregator {
    /// A new aggregator. `default_host` is the host of samples without a
    /// `host:` tag (`None`: no host).
    pub fn new(config: AggregatorConfig, default_host: Option<&str>) -> Result<Self, Error> {
        config.validate()?;
        let mut percentiles = Vec::new();
        for &p in &config.histogram_percentiles {
            let pct = config::percent(p)?;
            percentiles.push((pct, format!(".{pct}percentile")));
        }
        let default_host_tag = default_host
            .filter(|h| !h.is_empty())
            .and_then(|h| crate::normalize::tag(format!("host:{h}").as_bytes()));
        Ok(Aggregator {
            aggregates: config.histogram_aggregates,
            percentiles,
            expiry_ms: config.counter_expiry_secs as i64 * 1000,
            max_contexts: config.max_contexts,
            max_timestamped_points: config.max_timestamped_points,
            default_host_tag,
            hasher: KeyHasher::random(),
            contexts: ContextTable::default(),
            timestamped: Vec::new(),
            timestamped_index: HashMap::new(),
            dropped: [0; DropReason::COUNT],
        })
    }

    /// The hasher for [`Aggregator::add_hashed`].
    pub fn context_hasher(&self) -> ContextHasher {
        ContextHasher(self.hasher)
    }

    /// Number of live contexts.
    pub fn live_contexts(&self) -> usize {
        self.contexts.live()
    }

    /// Timestamped points waiting for the next flush.
    pub fn pending_timestamped(&self) -> usize {
        self.timestamped.len()
    }

    /// Samples dropped for `reason` since the aggregator was created.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped[reason as usize]
    }

    /// Entries in the raw-key cache (bounded, see the module doc).
    pub fn raw_cache_len(&self) -> usize {
        self.contexts.raw_cache_len()
    }

    /// Adds every value of `sample`, arrived at `now_ms`.
    ///
    /// `Err` says why (some of) its values were dropped; they are also
    /// counted ([`Aggregator::dropped`]).
    #[inline]
    pub fn add(&mut self, sample: &MetricSample<'_>, now_ms: i64) -> Result<(), DropReason> {
        let hash = self.context_hasher().hash(sample);
        self.add_hashed(sample, hash, now_ms)
    }

    /// [`Aggregator::add`] with the hash already computed by this
    /// aggregator's [`ContextHasher`]. (A wrong hash costs speed, never
    /// correctness: cache hits are checked byte for byte.)
    #[inline]
    pub fn add_hashed(
        &mut self,
        sample: &MetricSample<'_>,
        hash: u64,
        now_ms: i64,
    ) -> Result<(), DropReason> {
        let class = Class::of(sample.kind);
        let idx = match self.contexts.resolve(
            class,
            sample.name,
            sample.tags,
            hash,
            self.default_host_tag.as_deref(),
            self.max_contexts,
        ) {
            Ok(idx) => idx,
            Err(reason) => {
                self.dropped[reason as usize] += sample.value_count() as u64;
                return Err(reason);
            }
        };
        if let (Some(ts), Class::Gauge | Class::Count) = (sample.timestamp, class) {
            return self.add_timestamped(idx, class, sample, ts.saturating_mul(1000));
        }
        let start = bucket_start(now_ms);
        let hasher = self.hasher;
        let Some(ctx) = self.contexts.get_mut(idx) else {
            unreachable!("resolve returned a live slot");
        };
        let acc = open_bucket(&mut ctx.buckets, start, class);
        let rate = sample.sample_rate;
        let mut result = Ok(());
        match (acc, sample.value) {
            (Acc::Set(set), SampleValue::Set(member)) => {
                set.insert(hasher.hash(member));
            }
            (Acc::Set(set), SampleValue::Numbers { .. }) => {
                for v in sample.values() {
                    set.insert(hasher.hash(&v.to_bits().to_le_bytes()));
                }
            }
            (_, SampleValue::Set(_)) => {}
            (acc, SampleValue::Numbers { .. }) => {
                let w = weight(rate);
                for v in sample.values() {
                    let ok = match acc {
                        Acc::Gauge(g) => {
                            *g = v;
                            v.is_finite()
                        }
                        Acc::Count(c) => {
                            let x = v / rate;
                            if x.is_finite() {
                                *c += x;
                            }
                            x.is_finite()
                        }
                        Acc::Histogram(h) => {
                            if v.is_finite() {
                                h.add(v, w);
                            }
                            v.is_finite()
                        }
                        Acc::Distribution(s) => {
                            s.insert_n(v, w);
                            v.is_finite()
                        }
                        Acc::Set(_) => true,
                    };
                    if !ok {
                        self.dropped[DropReason::NonFinite as usize] += 1;
                        result = Err(DropReason::NonFinite);
                    }
                }
            }
        }
        if class == Class::Count {
            match &mut ctx.counter {
                Some(c) => c.last_sample_ms = c.last_sample_ms.max(now_ms),
                None => {
                    ctx.counter = Some(CounterState {
                        last_sample_ms: now_ms,
                        next_bucket_ms: start,
                    })
                }
            }
        }
        result
    }

    fn add_timestamped(
        &mut self,
        idx: u32,
        class: Class,
        sample: &MetricSample<'_>,
        ts_ms: i64,
    ) -> Result<(), DropReason> {
        let mut result = Ok(());
        for v in sample.values() {
            let x = if class == Class::Count {
                v / sample.sample_rate
            } else {
                v
            };
            if !x.is_finite() {
                self.dropped[DropReason::NonFinite as usize] += 1;
                result = Err(DropReason::NonFinite);
                continue;
            }
            match self.timestamped_index.entry((idx, ts_ms)) {
                Entry::Occupied(e) => {
                    let p = &mut self.timestamped[*e.get()];
                    if class == Class::Count {
                        p.value += x;
                    } else {
                        p.value = x;
                    }
                }
                Entry::Vacant(e) => {
                    if self.timestamped.len() >= self.max_timestamped_points {
                        self.dropped[DropReason::TimestampedLimit as usize] += 1;
                        result = Err(DropReason::TimestampedLimit);
                        continue;
                    }
                    let Some(ctx) = self.contexts.get_mut(idx) else {
                        unreachable!("resolve returned a live slot");
                    };
                    e.insert(self.timestamped.len());
                    self.timestamped.push(TimestampedPoint {
                        key: Arc::clone(&ctx.key),
                        ts_ms,
                        value: x,
                    });
                }
            }
        }
        result
    }

    /// Emits every bucket closed at `now_ms` (started before
    /// `bucket_start(now_ms)`), the counters' zeros, and the timestamped
    /// points; see the module doc.
    pub fn flush(&mut self, now_ms: i64) -> Flush {
        let cutoff = bucket_start(now_ms);
        self.flush_until(cutoff, cutoff)
    }

    /// Emits every open bucket, the current one included (shutdown).
    pub fn flush_all(&mut self, now_ms: i64) -> Flush {
        self.flush_until(i64::MAX, bucket_start(now_ms))
    }

    fn flush_until(&mut self, data_cutoff: i64, fill_cutoff: i64) -> Flush {
        let mut out = Flush::default();
        let red = Reduction {
            aggregates: &self.aggregates,
            percentiles: &self.percentiles,
        };
        let mut emit = Emitter {
            out: &mut out,
            dropped: &mut self.dropped,
        };
        let expiry_ms = self.expiry_ms;
        for idx in 0..self.contexts.slot_count() as u32 {
            let Some(ctx) = self.contexts.get_mut(idx) else {
                continue;
            };
            let closed = ctx.buckets.partition_point(|b| b.start_ms < data_cutoff);
            if ctx.key.class == Class::Count {
                flush_counter(ctx, closed, fill_cutoff, expiry_ms, &mut emit);
            } else {
                let key = Arc::clone(&ctx.key);
                for b in ctx.buckets.drain(..closed) {
                    emit.bucket(&key, b, &red);
                }
            }
            if ctx.buckets.is_empty() && ctx.counter.is_none() {
                self.contexts.remove(idx);
            }
        }
        for p in self.timestamped.drain(..) {
            let mtype = match p.key.class {
                Class::Count => COUNT_TYPE,
                _ => MetricType::Gauge,
            };
            emit.metric(&p.key, "", mtype, p.ts_ms, p.value);
        }
        self.timestamped_index.clear();
        self.contexts.sweep_raw_cache();
        out
    }
}

/// The open bucket starting at `start`, created if needed (buckets stay
/// sorted; the current one is almost always the last).
#[inline]
fn open_bucket(buckets: &mut Vec<Bucket>, start: i64, class: Class) -> &mut Acc {
    let pos = match buckets.last() {
        Some(b) if b.start_ms == start => buckets.len() - 1,
        Some(b) if b.start_ms < start => {
            buckets.push(Bucket {
                start_ms: start,
                acc: Acc::new(class),
            });
            buckets.len() - 1
        }
        None => {
            buckets.push(Bucket {
                start_ms: start,
                acc: Acc::new(class),
            });
            0
        }
        Some(_) => match buckets.binary_search_by_key(&start, |b| b.start_ms) {
            Ok(i) => i,
            Err(i) => {
                buckets.insert(
                    i,
                    Bucket {
                        start_ms: start,
                        acc: Acc::new(class),
                    },
                );
                i
            }
        },
    };
    &mut buckets[pos].acc
}

/// Emits a counter's closed buckets (`buckets[..closed]`) and its zeros, in
/// time order, and moves its zero-fill state on.
fn flush_counter(
    ctx: &mut context::Context,
    closed: usize,
    fill_cutoff: i64,
    expiry_ms: i64,
    emit: &mut Emitter<'_>,
) {
    let key = Arc::clone(&ctx.key);
    // Zero-fill runs over [next, min(fill_cutoff, expiry_end)).
    let (mut next, expiry_end) = match ctx.counter {
        Some(c) => (c.next_bucket_ms, c.last_sample_ms.saturating_add(expiry_ms)),
        None => (i64::MAX, i64::MIN),
    };
    let mut emitted_end = i64::MIN;
    let mut data = ctx.buckets.drain(..closed).peekable();
    loop {
        let zero = (next < fill_cutoff && next < expiry_end).then_some(next);
        match (data.peek().map(|b| b.start_ms), zero) {
            (None, None) => break,
            (Some(d), Some(z)) if z < d => {
                emit.metric(&key, "", COUNT_TYPE, z, 0.0);
                next = next.saturating_add(BUCKET_MS);
            }
            (None, Some(z)) => {
                emit.metric(&key, "", COUNT_TYPE, z, 0.0);
                next = next.saturating_add(BUCKET_MS);
            }
            (Some(d), z) => {
                if z == Some(d) {
                    next = next.saturating_add(BUCKET_MS);
                }
                emitted_end = emitted_end.max(d.saturating_add(BUCKET_MS));
                if let Some(b) = data.next() {
                    let v = match b.acc {
                        Acc::Count(v) => v,
                        _ => 0.0,
                    };
                    emit.metric(&key, "", COUNT_TYPE, d, v);
                }
            }
        }
    }
    drop(data);
    if let Some(c) = &mut ctx.counter {
        c.next_bucket_ms = next.max(fill_cutoff).max(emitted_end);
        if c.next_bucket_ms >= expiry_end {
            ctx.counter = None;
        }
    }
}
