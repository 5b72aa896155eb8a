//! # whippet-fleetgen: a deterministic host-fleet data set
//!
//! The data set Whippet's storage benchmarks run on, and the one we will feed
//! to VictoriaMetrics and Prometheus to compare them: a fleet of hosts, each
//! running an agent that reports about twenty system metrics every ten
//! seconds, the bread and butter of a Datadog account.
//!
//! ## Layout
//! Series `i` is metric `i % 20` of host `i / 20` (the last host has fewer
//! metrics when [`FleetSpec::series`] is not a multiple of 20). Every series
//! carries exactly five tags, in this order:
//!
//! | tag        | values | how they are drawn |
//! |------------|--------|--------------------|
//! | `host:`    | one per host, `i-0` + 16 hex digits (an EC2 instance id) | a bijection of the host number, so names never collide |
//! | `env:`     | `prod`, `staging`, `dev` | 60 / 25 / 15 % of hosts |
//! | `region:`  | `us-east-1`, `us-west-2`, `eu-west-1`, `ap-southeast-1` | 40 / 25 / 25 / 10 % |
//! | `az:`      | three per region (`us-east-1a`..`c`), always in the host's region | uniform |
//! | `service:` | 20 names (`web`, `api`, ...) | Zipf-like: the first is ten times the last |
//!
//! All metrics of a host share its tags, as with the Agent's host tags; the
//! series count grows with the number of hosts, which is how real accounts
//! grow. Tag cardinality is therefore "one high-cardinality key (host), four
//! low ones", the shape the tag index sees in production.
//!
//! ## Metrics and value shapes
//! Per host (share of the 20 series in brackets):
//!
//! - [`Shape::NoisyGauge1`] (30 %): `system.cpu.{user,system,iowait,idle}`
//!   in percent and `system.mem.{used,free}` in MiB. A mean-reverting random
//!   walk around a per-series level, clamped to its bounds (CPU: 0–100) and
//!   rounded to one decimal, as the Agent's text output shows them. Steps of
//!   a few tenths to a few units: the noisiest, least compressible gauges.
//! - [`Shape::NoisyGauge2`] (25 %): `system.load.{1,5,15}` and
//!   `system.io.{r_s,w_s}`, two decimals, with small smooth steps (load.15
//!   moves by about 0.01 per point) and, for the I/O rates, runs of exact
//!   zeros on idle hosts (the clamp at 0).
//! - [`Shape::Counter`] (25 %): `system.net.{bytes_rcvd,bytes_sent,
//!   packets_in.count,packets_out.count}` as cumulative counters (integers,
//!   the way Prometheus' node exporter exposes them and the way VictoriaMetrics
//!   and Prometheus store them, so all three systems store the same numbers).
//!   Each has a per-series rate drawn over four decades (100 B/s to 1 MB/s,
//!   1 to 1000 packets/s), a slow traffic drift and ±20 % noise per interval:
//!   increments of tens of thousands of bytes are the highest-entropy values
//!   in the set. Plus `system.uptime`, which grows by exactly the interval.
//! - [`Shape::NearConstant`] (20 %): `system.disk.free` (KiB, moves in 4 KiB
//!   pages), `system.disk.in_use` (a fraction, 4 decimals),
//!   `system.fs.inodes.free` and `system.swap.used` (zero on 70 % of hosts):
//!   long runs of one value with a change every 20 to 100 points.
//!
//! The parameters of every metric's model are the public [`model::METRICS`]
//! table, so that analyses of the data set (`examples/entropy.rs`) use the
//! generator's own models.
//!
//! ## Gaps
//! About 5 % of hosts (so about 5 % of series) miss one to three runs of
//! points, each up to a twelfth of the series' length (ten minutes in the
//! full set): an agent restart or a network partition. Every metric of such a
//! host misses the same ticks. A gap only hides points: the values after it
//! are those the series would have had anyway (a counter has kept counting),
//! and [`FleetSpec::total_points`] counts exactly the points left.
//!
//! ## Timestamps
//! Exact multiples of the interval (the Agent flushes on a 10 s grid), the
//! same ticks for every series, strictly increasing.
//!
//! ## What it leaves out (on purpose, for now)
//! Computed ratios with full f64 mantissas (`system.mem.pct_usable`), counter
//! resets, series churn (hosts coming and going), jittered scrape timestamps
//! and distributions. Each would move the figures; add them as new shapes
//! rather than changing these, so results stay comparable over time.
//!
//! ## Determinism
//! Everything is a pure function of `(spec, i)`: each host and each series
//! draws from its own splitmix64 stream seeded by a hash of the spec's seed
//! and its index, so series can be generated in any order, on any number of
//! threads. Only IEEE-754 `+ - * /` and `sqrt` are used (no `exp`, `ln` or
//! `sin`, whose last bit differs between math libraries), so a spec yields
//! the same bits on every platform.

use std::ops::Range;

pub mod model;

use model::{DRIFT_BOUNDS, DRIFT_REVERSION, DRIFT_SD, METRICS, Model, SQRT3};

/// Metrics reported by each host.
pub const METRICS_PER_HOST: usize = 20;

/// The size and time range of a data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FleetSpec {
    /// Number of series (hosts × [`METRICS_PER_HOST`]).
    pub series: usize,
    /// Ticks per series (points before gaps).
    pub points_per_series: usize,
    /// Milliseconds between ticks.
    pub interval_ms: i64,
    /// Timestamp of the first tick, milliseconds since the epoch; a multiple
    /// of `interval_ms`.
    pub start_ms: i64,
    /// Seed of every random draw.
    pub seed: u64,
}

/// 2026-01-01T08:00:00Z: two hours from here stay inside one UTC day, so the
/// full set lands in a single day partition of the engine.
const DEFAULT_START_MS: i64 = 1_767_225_600_000 + 8 * 3_600_000;
const DEFAULT_SEED: u64 = 0x5EED_F1EE_7000_0001;

impl FleetSpec {
    /// 100 000 series (5 000 hosts) × 720 points × 10 s: two hours of a
    /// mid-sized fleet, 72 M points before gaps.
    pub fn full() -> Self {
        FleetSpec {
            series: 100_000,
            points_per_series: 720,
            interval_ms: 10_000,
            start_ms: DEFAULT_START_MS,
            seed: DEFAULT_SEED,
        }
    }

    /// 10 000 series (500 hosts) × 360 points × 10 s: one hour, 3.6 M points
    /// before gaps; runs in seconds.
    pub fn small() -> Self {
        FleetSpec {
            series: 10_000,
            points_per_series: 360,
            ..FleetSpec::full()
        }
    }

    /// Checks that the spec describes a data set.
    pub fn validate(&self) -> Result<(), String> {
        if self.series == 0 || self.points_per_series == 0 {
            return Err("a fleet needs at least one series and one point".into());
        }
        if self.interval_ms <= 0 {
            return Err(format!(
                "interval must be positive, got {} ms",
                self.interval_ms
            ));
        }
        if self.start_ms.rem_euclid(self.interval_ms) != 0 {
            return Err(format!(
                "start {} is not a multiple of the interval {}",
                self.start_ms, self.interval_ms
            ));
        }
        Ok(())
    }

    /// Number of hosts.
    pub fn hosts(&self) -> usize {
        self.series.div_ceil(METRICS_PER_HOST)
    }

    /// Timestamp of tick `k`.
    pub fn tick_ms(&self, k: usize) -> i64 {
        self.start_ms + k as i64 * self.interval_ms
    }

    /// End of the data set, exclusive: one interval after the last tick.
    pub fn end_ms(&self) -> i64 {
        self.tick_ms(self.points_per_series)
    }

    /// Exact number of points [`points`] yields over all series, gaps
    /// excluded.
    pub fn total_points(&self) -> u64 {
        (0..self.hosts())
            .map(|h| {
                let metrics = METRICS_PER_HOST.min(self.series - h * METRICS_PER_HOST);
                let missing: usize = host_gaps(self, h).iter().map(Range::len).sum();
                (metrics * (self.points_per_series - missing)) as u64
            })
            .sum()
    }
}

/// How a series' values move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// Mean-reverting random walk, clamped, one decimal (CPU %, memory MiB).
    NoisyGauge1,
    /// Small smooth steps, two decimals (load averages, I/O rates).
    NoisyGauge2,
    /// Integers that never decrease (network counters, uptime).
    Counter,
    /// Long runs of one value with rare changes (disk free, inodes, swap).
    NearConstant,
}

/// The identity of a series and what its values look like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesDesc {
    /// Datadog-style metric name, e.g. `system.cpu.user`.
    pub metric: String,
    /// `host:`, `env:`, `region:`, `az:`, `service:`, in that order.
    pub tags: Vec<String>,
    /// How the values move.
    pub shape: Shape,
    /// A cumulative counter (rate() applies), as opposed to a gauge. Uptime
    /// has the [`Shape::Counter`] shape but is a gauge.
    pub is_counter: bool,
    /// The series misses runs of points.
    pub has_gaps: bool,
}

/// Describes series `i` (`i < spec.series`).
pub fn describe(spec: &FleetSpec, i: usize) -> SeriesDesc {
    assert!(
        i < spec.series,
        "series {i} out of range ({} series)",
        spec.series
    );
    let host = Host::new(spec, i / METRICS_PER_HOST);
    let m = &METRICS[i % METRICS_PER_HOST];
    SeriesDesc {
        metric: m.name.to_owned(),
        tags: vec![
            format!("host:{}", host.name),
            format!("env:{}", host.env),
            format!("region:{}", host.region),
            format!("az:{}{}", host.region, host.az),
            format!("service:{}", host.service),
        ],
        shape: m.shape,
        is_counter: m.is_counter,
        has_gaps: host.has_gaps,
    }
}

/// Writes the points of series `i` (`i < spec.series`) into `ts` and `vals`,
/// both cleared first: timestamps strictly increasing, gaps left out.
pub fn points(spec: &FleetSpec, i: usize, ts: &mut Vec<i64>, vals: &mut Vec<f64>) {
    assert!(
        i < spec.series,
        "series {i} out of range ({} series)",
        spec.series
    );
    ts.clear();
    vals.clear();
    let n = spec.points_per_series;
    ts.reserve(n);
    vals.reserve(n);
    let gaps = host_gaps(spec, i / METRICS_PER_HOST);
    let mut gap = gaps.iter().peekable();
    let mut g = ValueGen::new(spec, i);
    for k in 0..n {
        let v = g.next();
        while gap.peek().is_some_and(|r| r.end <= k) {
            gap.next();
        }
        if gap.peek().is_some_and(|r| r.contains(&k)) {
            continue;
        }
        ts.push(spec.tick_ms(k));
        vals.push(v);
    }
}

// ---------------------------------------------------------------------------
// Random numbers.

/// splitmix64 (Steele, Lea & Flood, 2014): one add and a bijective mix per
/// draw, passes BigCrush, and is all a benchmark data set needs.
#[derive(Debug, Clone)]
struct Rng(u64);

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Streams: each kind of draw has its own, so adding a draw to one never
/// shifts the others.
const STREAM_HOST: u64 = 1;
const STREAM_GAPS: u64 = 2;
const STREAM_VALUES: u64 = 3;

impl Rng {
    /// The stream `what` of item `index` under `seed`.
    fn stream(seed: u64, what: u64, index: u64) -> Self {
        Rng(mix(mix(seed ^ mix(what)) ^ mix(index.wrapping_add(1))))
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// Uniform in [lo, hi).
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// Uniform in 0..n.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Approximately standard normal: the sum of four uniforms (Irwin–Hall),
    /// centred and scaled. Bounded at ±3.46, which suits random walks.
    fn normal(&mut self) -> f64 {
        let s = self.unit() + self.unit() + self.unit() + self.unit();
        (s - 2.0) * SQRT3
    }
    /// Index drawn with the given integer weights.
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut x = self.below(u64::from(total)) as u32;
        for (i, &w) in weights.iter().enumerate() {
            if x < w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

// ---------------------------------------------------------------------------
// Hosts.

const ENVS: [&str; 3] = ["prod", "staging", "dev"];
const ENV_WEIGHTS: [u32; 3] = [60, 25, 15];
const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-1"];
const REGION_WEIGHTS: [u32; 4] = [40, 25, 25, 10];
const AZS: [char; 3] = ['a', 'b', 'c'];
const SERVICES: [&str; 20] = [
    "web",
    "api",
    "checkout",
    "search",
    "auth",
    "cart",
    "catalog",
    "payments",
    "ingest",
    "queue-worker",
    "notifications",
    "scheduler",
    "cache",
    "db-proxy",
    "analytics",
    "recommendations",
    "media",
    "gateway",
    "billing",
    "admin",
];
/// Roughly 1/k^0.8: a few big services and a long tail.
const SERVICE_WEIGHTS: [u32; 20] = [
    100, 57, 42, 33, 28, 24, 21, 19, 17, 16, 15, 14, 13, 12, 11, 11, 10, 10, 10, 10,
];
/// Share of hosts whose series have gaps.
const GAP_HOST_SHARE: f64 = 0.05;
/// Most gap runs per host with gaps.
const MAX_GAP_RUNS: u64 = 3;
/// A gap run is at most this fraction of the series (ten minutes of two hours).
const GAP_MAX_FRACTION: usize = 12;

struct Host {
    name: String,
    env: &'static str,
    region: &'static str,
    az: char,
    service: &'static str,
    has_gaps: bool,
}

impl Host {
    fn new(spec: &FleetSpec, h: usize) -> Self {
        let mut r = Rng::stream(spec.seed, STREAM_HOST, h as u64);
        // `mix` is a bijection on u64: distinct hosts get distinct names.
        let id = mix((h as u64) ^ spec.seed);
        let region = r.weighted(&REGION_WEIGHTS);
        Host {
            name: format!("i-0{id:016x}"),
            env: ENVS[r.weighted(&ENV_WEIGHTS)],
            region: REGIONS[region],
            az: AZS[r.below(AZS.len() as u64) as usize],
            service: SERVICES[r.weighted(&SERVICE_WEIGHTS)],
            has_gaps: host_has_gaps(spec, h),
        }
    }
}

fn host_has_gaps(spec: &FleetSpec, h: usize) -> bool {
    Rng::stream(spec.seed, STREAM_GAPS, h as u64).chance(GAP_HOST_SHARE)
}

/// The ticks host `h` misses: sorted, disjoint, non-empty ranges.
fn host_gaps(spec: &FleetSpec, h: usize) -> Vec<Range<usize>> {
    let mut r = Rng::stream(spec.seed, STREAM_GAPS, h as u64);
    if !r.chance(GAP_HOST_SHARE) {
        return Vec::new();
    }
    let n = spec.points_per_series;
    let max_len = (n / GAP_MAX_FRACTION).max(1) as u64;
    let runs = 1 + r.below(MAX_GAP_RUNS);
    let mut gaps: Vec<Range<usize>> = (0..runs)
        .map(|_| {
            let start = r.below(n as u64) as usize;
            let len = 1 + r.below(max_len) as usize;
            start..(start + len).min(n)
        })
        .collect();
    gaps.sort_by_key(|g| g.start);
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(gaps.len());
    for g in gaps {
        match merged.last_mut() {
            Some(last) if g.start <= last.end => last.end = last.end.max(g.end),
            _ => merged.push(g),
        }
    }
    merged
}

const POW10: [f64; 10] = [1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/// Rounds to `d` decimals the way a parser reading the printed value would:
/// the nearest f64 to the decimal `round(x·10^d) / 10^d`.
fn round_to(x: f64, d: u32) -> f64 {
    let p = POW10[d as usize];
    (x * p).round() / p
}

/// Generates one series' values tick by tick (gaps included).
struct ValueGen {
    r: Rng,
    state: State,
    interval_s: f64,
}

enum State {
    Walk {
        x: f64,
        level: f64,
        bounds: (f64, f64),
        sd: f64,
        reversion: f64,
        decimals: u32,
        started: bool,
    },
    Counter {
        value: f64,
        rate: f64,
        drift: f64,
        jitter: f64,
        started: bool,
    },
    Uptime {
        value: f64,
        started: bool,
    },
    Steady {
        m: i64,
        scale: f64,
        quantum: i64,
        max_quanta: u64,
        change: f64,
        started: bool,
    },
}

impl ValueGen {
    fn new(spec: &FleetSpec, i: usize) -> Self {
        let mut r = Rng::stream(spec.seed, STREAM_VALUES, i as u64);
        let metric = &METRICS[i % METRICS_PER_HOST];
        let state = match metric.model {
            Model::Walk {
                level,
                bounds,
                sd,
                reversion,
            } => {
                let level = r.range(level.0, level.1);
                State::Walk {
                    x: level,
                    level,
                    bounds,
                    sd,
                    reversion,
                    decimals: metric.decimals(),
                    started: false,
                }
            }
            Model::Counter {
                decades,
                jitter,
                start_max,
            } => {
                let d = decades.0 + r.below(u64::from(decades.1 - decades.0 + 1)) as u32;
                let rate = r.range(1.0, 10.0) * POW10[d as usize];
                State::Counter {
                    value: (r.unit() * start_max).round(),
                    rate,
                    drift: 1.0,
                    jitter,
                    started: false,
                }
            }
            Model::Uptime { start_max } => State::Uptime {
                value: (r.unit() * start_max).round(),
                started: false,
            },
            Model::Steady {
                level,
                decimals,
                quantum,
                max_quanta,
                change,
                zero_share,
            } => {
                let scale = POW10[decimals as usize];
                let (m, change) = if r.chance(zero_share) {
                    (0, 0.0)
                } else {
                    let m = (r.range(level.0, level.1) * scale).round() as i64;
                    (m - m % quantum, change)
                };
                State::Steady {
                    m,
                    scale,
                    quantum,
                    max_quanta,
                    change,
                    started: false,
                }
            }
        };
        ValueGen {
            r,
            state,
            interval_s: spec.interval_ms as f64 / 1000.0,
        }
    }

    /// The value at the next tick.
    fn next(&mut self) -> f64 {
        let r = &mut self.r;
        match &mut self.state {
            State::Walk {
                x,
                level,
                bounds,
                sd,
                reversion,
                decimals,
                started,
            } => {
                if *started {
                    *x += *reversion * (*level - *x) + *sd * r.normal();
                    *x = x.clamp(bounds.0, bounds.1);
                }
                *started = true;
                round_to(*x, *decimals)
            }
            State::Counter {
                value,
                rate,
                drift,
                jitter,
                started,
            } => {
                if *started {
                    *drift += DRIFT_REVERSION * (1.0 - *drift) + DRIFT_SD * r.normal();
                    *drift = drift.clamp(DRIFT_BOUNDS.0, DRIFT_BOUNDS.1);
                    let noise = (1.0 + *jitter * r.normal()).max(0.0);
                    *value += (*rate * self.interval_s * *drift * noise).round();
                }
                *started = true;
                *value
            }
            State::Uptime { value, started } => {
                if *started {
                    *value += self.interval_s;
                }
                *started = true;
                *value
            }
            State::Steady {
                m,
                scale,
                quantum,
                max_quanta,
                change,
                started,
            } => {
                if *started && r.chance(*change) {
                    let q = (1 + r.below(*max_quanta)) as i64 * *quantum;
                    *m = if r.chance(0.5) {
                        *m + q
                    } else {
                        (*m - q).max(0)
                    };
                }
                *started = true;
                *m as f64 / *scale
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    fn tiny() -> FleetSpec {
        FleetSpec {
            series: 2_010,
            points_per_series: 240,
            ..FleetSpec::small()
        }
    }

    fn pts(spec: &FleetSpec, i: usize) -> (Vec<i64>, Vec<f64>) {
        let (mut t, mut v) = (Vec::new(), Vec::new());
        points(spec, i, &mut t, &mut v);
        (t, v)
    }

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// True when `v` is exactly what parsing a decimal with `d` digits after
    /// the point gives (checked through the integer, as the engine does).
    fn is_decimal(v: f64, d: u32) -> bool {
        let p = POW10[d as usize];
        ((v * p).round() as i64) as f64 / p == v
    }

    #[test]
    fn presets_are_valid() {
        for s in [FleetSpec::full(), FleetSpec::small(), tiny()] {
            s.validate().unwrap();
            // One UTC day partition.
            assert_eq!(s.start_ms / 86_400_000, (s.end_ms() - 1) / 86_400_000);
        }
        assert_eq!(FleetSpec::full().hosts(), 5_000);
        assert!(
            FleetSpec {
                start_ms: 5,
                ..FleetSpec::small()
            }
            .validate()
            .is_err()
        );
    }

    /// The data set is frozen: results from different dates are only
    /// comparable while these hold. Change the generator only by adding
    /// shapes, and update these values knowingly.
    #[test]
    fn the_full_data_set_does_not_drift() {
        let spec = FleetSpec::full();
        assert_eq!(spec.total_points(), 71_669_300);
        let d = describe(&spec, 0);
        assert_eq!(d.metric, "system.cpu.user");
        assert_eq!(
            d.tags,
            [
                "host:i-0457e5fde7b0524dc",
                "env:staging",
                "region:us-east-1",
                "az:us-east-1c",
                "service:payments"
            ]
        );
        assert_eq!(&pts(&spec, 0).1[..4], [21.2, 22.9, 24.2, 22.7]);
        assert_eq!(&pts(&spec, 8).1[..4], [1.1, 1.09, 1.1, 1.09]);
        assert_eq!(pts(&spec, 11).1[1], 65_559_644_826.0);
    }

    #[test]
    fn points_are_deterministic_in_any_order() {
        let spec = tiny();
        let forward: Vec<_> = (0..60).map(|i| pts(&spec, i)).collect();
        for i in (0..60).rev() {
            let (t, v) = pts(&spec, i);
            assert_eq!(t, forward[i].0);
            assert_eq!(bits(&v), bits(&forward[i].1), "series {i}");
        }
        assert_eq!(describe(&spec, 7), describe(&spec, 7));
        // Another seed gives other values.
        let other = FleetSpec { seed: 1, ..spec };
        assert_ne!(bits(&pts(&other, 0).1), bits(&forward[0].1));
    }

    #[test]
    fn total_points_matches_the_points() {
        for spec in [tiny(), FleetSpec::small()] {
            let mut sum = 0u64;
            let (mut t, mut v) = (Vec::new(), Vec::new());
            for i in 0..spec.series {
                points(&spec, i, &mut t, &mut v);
                assert_eq!(t.len(), v.len());
                sum += t.len() as u64;
            }
            assert_eq!(sum, spec.total_points());
            assert!(sum < (spec.series * spec.points_per_series) as u64, "gaps");
        }
    }

    #[test]
    fn tags_are_the_five_keys_and_consistent_per_host() {
        let spec = tiny();
        let mut hosts = HashSet::new();
        let mut services = HashSet::new();
        let mut regions = HashMap::new();
        for i in 0..spec.series {
            let d = describe(&spec, i);
            let keys: Vec<&str> = d
                .tags
                .iter()
                .map(|t| t.split(':').next().unwrap())
                .collect();
            assert_eq!(keys, ["host", "env", "region", "az", "service"]);
            let val = |k: usize| d.tags[k].split_once(':').unwrap().1.to_owned();
            assert!(ENVS.contains(&val(1).as_str()));
            assert!(REGIONS.contains(&val(2).as_str()));
            let az = val(3);
            assert!(
                az.starts_with(&val(2)) && az.len() == val(2).len() + 1,
                "{az}"
            );
            assert!(SERVICES.contains(&val(4).as_str()));
            // Every metric of a host has the host's tags.
            let first = describe(&spec, i - i % METRICS_PER_HOST);
            assert_eq!(d.tags, first.tags);
            assert_eq!(d.has_gaps, first.has_gaps);
            if i % METRICS_PER_HOST == 0 {
                assert!(hosts.insert(val(0)), "host names are unique");
                *regions.entry(val(2)).or_insert(0) += 1;
            }
            services.insert(val(4));
        }
        assert_eq!(hosts.len(), spec.hosts());
        assert_eq!(regions.len(), 4);
        assert!(services.len() >= 18, "{services:?}");
        assert!(hosts.iter().all(|h| h.starts_with("i-0") && h.len() == 19));
        // The last host is partial: 2 010 = 100 hosts × 20 + 10.
        assert_eq!(spec.hosts(), 101);
    }

    #[test]
    fn metric_mix_and_names() {
        let names: HashSet<&str> = METRICS.iter().map(|m| m.name).collect();
        assert_eq!(names.len(), METRICS_PER_HOST);
        for n in [
            "system.cpu.user",
            "system.load.1",
            "system.net.bytes_rcvd",
            "system.disk.free",
        ] {
            assert!(names.contains(n), "{n}");
        }
        let count = |s: Shape| METRICS.iter().filter(|m| m.shape == s).count();
        assert_eq!(count(Shape::NoisyGauge1), 6);
        assert_eq!(count(Shape::NoisyGauge2), 5);
        assert_eq!(count(Shape::Counter), 5);
        assert_eq!(count(Shape::NearConstant), 4);
    }

    #[test]
    fn value_shapes_hold() {
        let spec = tiny();
        let mut changes_steady = (0usize, 0usize);
        for i in 0..spec.series {
            let d = describe(&spec, i);
            let (t, v) = pts(&spec, i);
            assert!(!t.is_empty());
            assert!(t.windows(2).all(|w| w[0] < w[1]));
            assert!(t.iter().all(|x| x % spec.interval_ms == 0));
            assert!(v.iter().all(|x| x.is_finite() && *x >= 0.0), "{}", d.metric);
            match d.shape {
                Shape::NoisyGauge1 => {
                    assert!(v.iter().all(|&x| is_decimal(x, 1)), "{}", d.metric);
                    if d.metric.starts_with("system.cpu.") {
                        assert!(v.iter().all(|&x| x <= 100.0));
                    }
                }
                Shape::NoisyGauge2 => {
                    assert!(v.iter().all(|&x| is_decimal(x, 2)), "{}", d.metric);
                    let max_step = v
                        .windows(2)
                        .map(|w| (w[1] - w[0]).abs())
                        .fold(0.0, f64::max);
                    assert!(max_step < 20.0, "{} steps by {max_step}", d.metric);
                }
                Shape::Counter => {
                    assert!(v.iter().all(|&x| x.fract() == 0.0 && x < 9e15));
                    assert!(v.windows(2).all(|w| w[0] <= w[1]), "{} decreased", d.metric);
                    assert!(v.last() > v.first());
                }
                Shape::NearConstant => {
                    let c = v.windows(2).filter(|w| w[0] != w[1]).count();
                    changes_steady.0 += c;
                    changes_steady.1 += v.len();
                    assert!(v.iter().all(|&x| is_decimal(x, 4)));
                }
            }
            if d.metric == "system.uptime" && !d.has_gaps {
                assert!(v.windows(2).all(|w| w[1] - w[0] == 10.0));
            }
        }
        let rate = changes_steady.0 as f64 / changes_steady.1 as f64;
        assert!(
            rate > 0.001 && rate < 0.05,
            "near-constant change rate {rate}"
        );
    }

    #[test]
    fn about_five_percent_of_series_have_gaps() {
        let spec = FleetSpec::small();
        let with_gaps = (0..spec.series)
            .filter(|&i| describe(&spec, i).has_gaps)
            .count();
        let share = with_gaps as f64 / spec.series as f64;
        assert!((0.02..0.09).contains(&share), "{share}");
        // A series with gaps misses points; one without has them all.
        for i in 0..spec.series {
            let d = describe(&spec, i);
            let (t, _) = pts(&spec, i);
            assert_eq!(d.has_gaps, t.len() < spec.points_per_series, "series {i}");
            if d.has_gaps {
                // Gap runs are whole intervals missing, nothing else moves.
                assert!(t.windows(2).any(|w| w[1] - w[0] > spec.interval_ms));
            }
        }
    }

    #[test]
    fn gaps_hide_points_without_changing_the_others() {
        let spec = FleetSpec::small();
        let i = (0..spec.series)
            .find(|&i| describe(&spec, i).has_gaps)
            .expect("a series with gaps");
        let (t, v) = pts(&spec, i);
        let mut g = ValueGen::new(&spec, i);
        let all: Vec<f64> = (0..spec.points_per_series).map(|_| g.next()).collect();
        for (ts, val) in t.iter().zip(&v) {
            let k = ((ts - spec.start_ms) / spec.interval_ms) as usize;
            assert_eq!(all[k].to_bits(), val.to_bits());
        }
    }
}
