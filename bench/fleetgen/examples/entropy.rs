//! # How close to the data's entropy
//!
//! ```sh
//! cargo run --release -p whippet-fleetgen --example entropy   # ~11 s of CPU, 10–30 s on 2 shared cores, 140 MB
//! ```
//!
//! How many bytes per point must *any* lossless store spend on the values of
//! [`FleetSpec::full()`], by value shape, and how close do zstd and
//! Whippet's value codec come? It prints a table per metric (the bound and
//! a check of the model against the data), a table per shape, and the
//! answer for a target of two thirds of VictoriaMetrics' 1.166 bytes/point.
//!
//! ## The lower bound, model by model
//!
//! What is counted is the information in the values for a decoder that
//! knows the generator's models and their parameters (the library's own
//! `whippet_fleetgen::model::METRICS` table) but not its random draws; given the
//! seed as well, the whole data set is a small program. Series are
//! independent (each draws from its own stream; gaps from another), so the
//! data set's entropy is the sum over series, and by the chain rule a
//! series' is `H(first value) + Σ H(value_t | earlier values)`. Each term is
//! bounded below by also conditioning on the generator's hidden state,
//! which can only lower an entropy:
//!
//! - **Walk** (NoisyGauge1, NoisyGauge2). Given the unrounded state `x` and
//!   the series' level, the next value is `round(clamp(μ + sd·Z))`,
//!   `μ = x + reversion·(level − x)`. `Z` is not Gaussian: the generator's
//!   "normal" is the sum of four uniforms, centred and scaled (Irwin–Hall,
//!   unit variance, bounded at ±2√3), whose differential entropy is 2.043
//!   bits against a Gaussian's 2.047; since the Gaussian has the largest
//!   entropy for its variance, a Gaussian-based figure would overstate the
//!   bound. The entropy of the rounded value is computed exactly (−p·log2 p
//!   summed over the cells, from the Irwin–Hall CDF) and depends only on
//!   `μ`'s distance to the nearer bound: below it the cells merge into the
//!   bound value (the runs of zeros of idle I/O and CPU). It is averaged
//!   over 5 000 simulated series per metric, with the model's level draws;
//!   the share of values on a bound in the data set agrees with the
//!   simulation's (the "check" columns).
//! - **Counter**. Given the rate and this tick's drift, the increment is
//!   `round(c·(1 + 0.2·Z))`, `c = rate·10 s·drift`, whose entropy is
//!   computed the same way (`h(Z) + log2(0.2·c)`, a hair below, once the
//!   spread passes 64). The drift's own innovation is left out: the bound
//!   conditions on it. `c` is taken from the data set's own increments
//!   (`log2` of an increment is `log2 c + log2(1 + 0.2·Z)`, whose mean,
//!   −0.0306, is known), because the rates drawn, four decades wide, move
//!   the figure more than anything else; the model's expectation is printed
//!   beside it. `system.uptime` is deterministic after its first value.
//! - **Steady** (NearConstant). The mantissa is emitted exactly, so this is
//!   the entropy rate itself, not only a bound: `h(change) + change·(1 +
//!   log2 max_quanta)` bits per point (moves or not, then sign and size),
//!   and 0 for the 70 % of swap series that stay 0. (The floor at 0, where
//!   a move down stops short, is within reach of a few swap series only;
//!   ignoring it overstates the figure by well under 0.0001 bit/point.)
//! - **First values**: the entropy of each model's first draw (a level or a
//!   start uniform over its range, rounded), 0.003 bytes/point in all.
//! - **Timestamps**: given the spec, only the gaps (which hosts, where, how
//!   long) carry information, under 0.001 bit/point. Whippet's codec spends
//!   0.013 bytes/point on them (9.5 bytes per series: first timestamp and
//!   step, or the runs around gaps).
//!
//! The true rate is a little higher, because a decoder sees neither `x`
//! (only its rounded value), nor the level, rate or drift. Estimated:
//! knowing `x` only within its cell costs 0.002 bit/point on NoisyGauge1
//! and 0.012 on NoisyGauge2 (`load.15` moves by one quantum per step);
//! tracking the hidden drift (a steady-state Kalman filter) widens a
//! counter increment's spread by 0.08 bit. About 0.0025 bytes/point in all.
//!
//! ## What real codecs do
//!
//! zstd at level 19 on every 40th host's mantissas, each shape's series
//! concatenated, as zig-zag varints or byte planes of order-1 or order-2
//! deltas, the smallest kept. Whippet's value codec
//! (`whippet_tsdb::codec::floats::encode`, `Effort::Best`) on every series
//! as one 720-point chunk, as in the merged part of the full preset.
//!
//! ## Result (2026-11-26)
//!
//! | shape | series | lower bound bits/point | lower bound bytes/point | zstd -19 bytes/point | Whippet codec bytes/point | Whippet / bound |
//! |---|---|---|---|---|---|---|
//! | NoisyGauge1 | 30000 | 5.834 | 0.729 | 0.862 | 0.845 | 1.16 |
//! | NoisyGauge2 | 25000 | 5.905 | 0.738 | 0.947 | 0.859 | 1.16 |
//! | Counter | 25000 | 11.548 | 1.444 | 1.619 | 1.560 | 1.08 |
//! | NearConstant | 20000 | 0.309 | 0.039 | 0.060 | 0.117 | 3.02 |
//! | all | 100000 | 6.175 | 0.772 | 0.912 | 0.882 | 1.14 |
//!
//! zstd ran on every 40th host (1.8 M points), where Whippet's codec
//! measures 0.845, 0.859, 1.541 and 0.116 bytes/point (0.877 in all): zstd's
//! best layout (order-1 deltas as varints, or as byte planes for counters)
//! is 2–10 % above Whippet's on the busy shapes and half of it on
//! NearConstant, where a 720-point chunk's fixed cost dominates.
//!
//! **0.78 bytes/point (2/3 of VictoriaMetrics' 1.166) is not reachable.**
//! The values alone carry at least 0.772 bytes/point (about 0.774 at their
//! true rate), which leaves 0.005 bytes/point, 3.6 bytes per 720-point
//! series, for the timestamps, the index and every per-series structure.
//! The series keys' bare information is only 0.0006 bytes/point, so a store
//! coding every shape at its exact entropy with no structure at all would
//! land at about 0.775, just under the target: the target is the data's
//! entropy itself. Any real index (0.05–0.15) puts the floor at 0.82–0.92.
//!
//! Whippet's codec is 14 % above the bound, mostly the fixed cost of a
//! 720-point chunk (pco's header): in a one-off run on 2 000 series of
//! 8 640 points (a merged day) it measured 0.751, 0.763, 1.453 and 0.045
//! bytes/point by shape, within about 4 % of the bound on the gauges.

use std::time::Instant;

use whippet_fleetgen::model::{
    DRIFT_BOUNDS, DRIFT_REVERSION, DRIFT_SD, METRICS, Metric, Model, SQRT3,
};
use whippet_fleetgen::{FleetSpec, METRICS_PER_HOST, Shape, points};
use whippet_tsdb::codec::varint::put_ivarint;
use whippet_tsdb::codec::{Effort, floats, timestamps};

// ---------------------------------------------------------------------------
// The generator's models: `whippet_fleetgen::model`, used as they are.

/// The bound of the generator's "normal" draw, `(U1 + U2 + U3 + U4 − 2)·√3`.
const Z_MAX: f64 = 2.0 * SQRT3;

/// Seconds between ticks in every preset.
const INTERVAL_S: f64 = 10.0;

const SHAPES: [Shape; 4] = [
    Shape::NoisyGauge1,
    Shape::NoisyGauge2,
    Shape::Counter,
    Shape::NearConstant,
];

// ---------------------------------------------------------------------------
// The innovation's distribution.

/// CDF of Irwin–Hall(4) (the sum of four uniforms) at `s ≤ 2`, where the
/// alternating sum has at most three terms and small values keep their
/// relative precision.
fn irwin_hall4_lower(s: f64) -> f64 {
    const C: [f64; 3] = [1.0, -4.0, 6.0];
    if s <= 0.0 {
        return 0.0;
    }
    let s = s.min(2.0);
    let mut acc = 0.0;
    for (k, c) in C.iter().enumerate() {
        let t = s - k as f64;
        if t <= 0.0 {
            break;
        }
        acc += c * t.powi(4);
    }
    acc / 24.0
}

/// `P(Z < z)` for `z ≤ 0`.
fn z_lower(z: f64) -> f64 {
    irwin_hall4_lower(z / SQRT3 + 2.0)
}

/// `P(Z < z)`.
fn z_cdf(z: f64) -> f64 {
    if z <= 0.0 {
        z_lower(z)
    } else {
        1.0 - z_lower(-z)
    }
}

/// `P(a ≤ Z < b)`, computed from the nearer tail so that the tiny
/// probabilities of the outer cells stay accurate.
fn z_prob(a: f64, b: f64) -> f64 {
    let p = if a >= 0.0 {
        z_lower(-a) - z_lower(-b.max(a))
    } else if b <= 0.0 {
        z_lower(b) - z_lower(a)
    } else {
        1.0 - z_lower(a) - z_lower(-b)
    };
    p.max(0.0)
}

fn plogp(p: f64) -> f64 {
    if p > 0.0 { -p * p.log2() } else { 0.0 }
}

fn binary_entropy(p: f64) -> f64 {
    plogp(p) + plogp(1.0 - p)
}

/// Cells of the midpoint rule over [0, 2] in both integrals of the
/// Irwin–Hall(4) density below.
const MIDPOINT_CELLS: usize = 200_000;

/// Density of Irwin–Hall(4) (the sum of four uniforms) at `s` in [0, 2]; it
/// is symmetric about 2, so the integrals cover [0, 2] and mirror.
fn irwin_hall4_density(s: f64) -> f64 {
    let mut acc = s.powi(3);
    if s > 1.0 {
        acc -= 4.0 * (s - 1.0).powi(3);
    }
    acc / 6.0
}

/// Differential entropy of `Z` in bits: 2.043, against 2.047 for a true
/// Gaussian of unit variance (the Gaussian has the largest entropy for its
/// variance, so a Gaussian-based figure would overstate the bound).
fn z_differential_entropy() -> f64 {
    let n = MIDPOINT_CELLS;
    let h = 2.0 / n as f64;
    let hs: f64 = (0..n)
        .map(|i| {
            let f = irwin_hall4_density((i as f64 + 0.5) * h);
            if f > 0.0 { -f * f.log2() * h } else { 0.0 }
        })
        .sum();
    2.0 * hs + SQRT3.log2()
}

/// Entropy in bits of `round(mu + s·Z)` (the grid is the integers; `mu`
/// and `s` are in quanta).
fn quantised_entropy(mu: f64, s: f64) -> f64 {
    let lo = (mu - Z_MAX * s - 1.0).floor() as i64;
    let hi = (mu + Z_MAX * s + 1.0).ceil() as i64;
    (lo..=hi)
        .map(|k| {
            let k = k as f64;
            plogp(z_prob((k - 0.5 - mu) / s, (k + 0.5 - mu) / s))
        })
        .sum()
}

/// Entropy in bits of `round(max(0, d + s·Z))`: a walk whose mean is `d`
/// quanta above its lower bound. Every draw below the bound lands on the
/// bound, so the cells below it merge into one. Bounds are multiples of the
/// quantum, so clamping then rounding is rounding then clamping, and by the
/// symmetry of `Z` the same figure holds at `d` quanta below an upper bound.
fn clamped_entropy(d: f64, s: f64) -> f64 {
    let top = (d + Z_MAX * s + 1.0).ceil() as i64;
    let mut h = plogp(z_cdf((0.5 - d) / s));
    for k in 1..=top {
        let k = k as f64;
        h += plogp(z_prob((k - 0.5 - d) / s, (k + 0.5 - d) / s));
    }
    h
}

/// [`clamped_entropy`] tabulated over the distance to the bound, for one
/// step size `s`. Past `far` quanta no draw can reach the bound (`Z` is
/// bounded), and the entropy only depends on where the mean falls within
/// its cell, so the table stops one quantum after `far`.
struct WalkTable {
    per_quantum: usize,
    far: f64,
    vals: Vec<f64>,
}

impl WalkTable {
    fn new(s: f64) -> Self {
        // Within a cell the entropy varies by under 0.001 bit once s ≥ 1, so
        // wide steps need few table points per quantum.
        let per_quantum = if s > 8.0 { 8 } else { 32 };
        let far = (Z_MAX * s + 1.0).ceil();
        let n = (far as usize + 1) * per_quantum;
        let vals = (0..=n)
            .map(|i| clamped_entropy(i as f64 / per_quantum as f64, s))
            .collect();
        WalkTable {
            per_quantum,
            far,
            vals,
        }
    }

    /// Entropy of the next value when its mean is `d ≥ 0` quanta from the
    /// nearer bound.
    fn get(&self, d: f64) -> f64 {
        let d = if d >= self.far {
            self.far + (d - self.far).fract()
        } else {
            d.max(0.0)
        };
        let x = d * self.per_quantum as f64;
        let i = (x.floor() as usize).min(self.vals.len() - 2);
        let f = x - i as f64;
        self.vals[i] * (1.0 - f) + self.vals[i + 1] * f
    }
}

/// Entropy in bits of a counter's increment `round(c·(1 + jitter·Z))`:
/// tabulated where the spread `c·jitter` is small enough for the
/// quantisation to matter, `h(Z) + log2(c·jitter)` above (which is below the
/// exact figure by about `1/(24·spread²·ln 2)`, under 2e-5 bit there).
struct CounterTable {
    jitter: f64,
    h_z: f64,
    per_unit: f64,
    vals: Vec<f64>,
}

/// Spread (in units of the counter) from which the closed form is used.
const SMOOTH_SPREAD: f64 = 64.0;

impl CounterTable {
    fn new(jitter: f64, h_z: f64) -> Self {
        let per_unit = 64.0;
        let n = (SMOOTH_SPREAD / jitter * per_unit).ceil() as usize + 1;
        let vals = (0..=n)
            .map(|i| {
                let c = (i as f64 / per_unit).max(1e-3);
                quantised_entropy(c, c * jitter)
            })
            .collect();
        CounterTable {
            jitter,
            h_z,
            per_unit,
            vals,
        }
    }

    /// Entropy of the increment whose expected value is `c`.
    fn get(&self, c: f64) -> f64 {
        let spread = c * self.jitter;
        if spread >= SMOOTH_SPREAD {
            return self.h_z + spread.log2();
        }
        let x = c * self.per_unit;
        let i = (x.floor() as usize).min(self.vals.len() - 2);
        let f = x - i as f64;
        self.vals[i] * (1.0 - f) + self.vals[i + 1] * f
    }
}

/// `E[log2(1 + jitter·Z)]`: an increment's log is its expected value's log
/// plus this, so the data's increments give `E[log2 c]` without bias.
fn mean_log2_noise(jitter: f64) -> f64 {
    // Z = √3·(S − 2), S Irwin–Hall(4), symmetric: integrate over S in [0, 2]
    // and mirror.
    let n = MIDPOINT_CELLS;
    let h = 2.0 / n as f64;
    (0..n)
        .map(|i| {
            let s = (i as f64 + 0.5) * h;
            let z = (s - 2.0) * SQRT3;
            irwin_hall4_density(s) * h * ((1.0 + jitter * z).log2() + (1.0 - jitter * z).log2())
        })
        .sum()
}

// ---------------------------------------------------------------------------
// Monte Carlo over the models, with a random stream of our own
// (xorshift64*): the bound is an expectation over the generator's draws, so
// it needs their distribution, not the data set's particular ones.

struct XorShift(u64);

impl XorShift {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    fn z(&mut self) -> f64 {
        (self.unit() + self.unit() + self.unit() + self.unit() - 2.0) * SQRT3
    }
}

/// Series simulated per metric: as many as the full fleet has (one per host).
const SIM_SERIES: usize = 5_000;

/// What the model says about one metric.
#[derive(Debug, Default, Clone, Copy)]
struct ModelFigures {
    /// Lower bound on the entropy of each value after the first, in bits.
    bits_per_step: f64,
    /// Entropy of the first value of a series, in bits.
    first_bits: f64,
    /// The statistic compared with the data (see [`check_name`]).
    check: f64,
}

/// The statistic each model is checked with, on consecutive ticks.
fn check_name(m: &Model) -> &'static str {
    match m {
        Model::Walk { .. } => "share of values on a bound",
        Model::Counter { .. } => "mean log2(increment)",
        Model::Uptime { .. } => "share of +10 s increments",
        Model::Steady { .. } => "share of values that change",
    }
}

/// The statistic of [`check_name`] for one pair of consecutive values.
fn check_value(m: &Model, prev: f64, next: f64) -> f64 {
    let yes = |b: bool| f64::from(u8::from(b));
    match *m {
        Model::Walk { bounds, .. } => yes(next == bounds.0 || next == bounds.1),
        Model::Counter { .. } => (next - prev).max(1.0).log2(),
        Model::Uptime { .. } => yes(next - prev == INTERVAL_S),
        Model::Steady { .. } => yes(next != prev),
    }
}

fn model_figures(
    metric: &Metric,
    ticks: usize,
    counter_table: &CounterTable,
    rng: &mut XorShift,
) -> ModelFigures {
    let q = 1.0 / 10f64.powi(metric.decimals() as i32);
    match metric.model {
        Model::Walk {
            level,
            bounds,
            sd,
            reversion,
        } => {
            // Given the unrounded state x and the series' level, the next
            // value is round(clamp(μ + sd·Z)), μ = x + reversion·(level − x):
            // its entropy depends only on μ's distance to the nearer bound.
            let table = WalkTable::new(sd / q);
            let (mut bits, mut on_bound, mut pairs) = (0.0, 0u64, 0u64);
            for _ in 0..SIM_SERIES {
                let lv = rng.range(level.0, level.1);
                let mut x = lv;
                let mut y = (x / q).round() * q;
                for _ in 1..ticks {
                    let mu = x + reversion * (lv - x);
                    bits += table.get((mu - bounds.0).min(bounds.1 - mu) / q);
                    x = (mu + sd * rng.z()).clamp(bounds.0, bounds.1);
                    let next = (x / q).round() * q;
                    on_bound += check_value(&metric.model, y, next) as u64;
                    pairs += 1;
                    y = next;
                }
            }
            ModelFigures {
                bits_per_step: bits / pairs as f64,
                first_bits: ((level.1 - level.0) / q).log2(),
                check: on_bound as f64 / pairs as f64,
            }
        }
        Model::Counter {
            decades,
            jitter,
            start_max,
        } => {
            // Given the rate and this tick's drift (both hidden from a
            // decoder), the increment is round(c·(1 + jitter·Z)).
            assert_eq!(jitter, counter_table.jitter);
            let (mut bits, mut log_inc, mut pairs) = (0.0, 0.0, 0u64);
            for _ in 0..SIM_SERIES {
                let d = decades.0 + (rng.unit() * f64::from(decades.1 - decades.0 + 1)) as u32;
                let rate = rng.range(1.0, 10.0) * 10f64.powi(d as i32);
                let mut drift = 1.0;
                for _ in 1..ticks {
                    drift += DRIFT_REVERSION * (1.0 - drift) + DRIFT_SD * rng.z();
                    drift = drift.clamp(DRIFT_BOUNDS.0, DRIFT_BOUNDS.1);
                    let c = rate * INTERVAL_S * drift;
                    bits += counter_table.get(c);
                    let inc = (c * (1.0 + jitter * rng.z()).max(0.0)).round();
                    log_inc += check_value(&metric.model, 0.0, inc);
                    pairs += 1;
                }
            }
            ModelFigures {
                bits_per_step: bits / pairs as f64,
                first_bits: (start_max + 1.0).log2(),
                check: log_inc / pairs as f64,
            }
        }
        Model::Uptime { start_max } => ModelFigures {
            bits_per_step: 0.0,
            first_bits: (start_max + 1.0).log2(),
            check: 1.0,
        },
        Model::Steady {
            level,
            quantum,
            max_quanta,
            change,
            zero_share,
            ..
        } => {
            // The mantissa is emitted exactly, so given the past the next
            // value is "same" or "± k quanta": whether it moves, then the
            // sign (1 bit) and k (uniform). Exact, not only a bound, except
            // where a move down would cross 0 and stops there instead: only
            // swap series that start within a few moves of 0 (their level
            // drawn under about 20 MiB, 0.5 % of the non-zero ones) can
            // meet it, and each time it saves a few bits at most.
            let moving = binary_entropy(change) + change * (1.0 + (max_quanta as f64).log2());
            let cells = (level.1 - level.0) / q / quantum as f64;
            ModelFigures {
                bits_per_step: (1.0 - zero_share) * moving,
                first_bits: binary_entropy(zero_share) + (1.0 - zero_share) * cells.log2(),
                check: (1.0 - zero_share) * change,
            }
        }
    }
}

/// How much more than the bound, per value, a decoder pays because it sees
/// only the rounded values (an estimate; see the notes `main` prints).
fn slack_bits(metric: &Metric) -> f64 {
    let q = 1.0 / 10f64.powi(metric.decimals() as i32);
    match metric.model {
        Model::Walk { sd, reversion, .. } => {
            // The decoder knows x only to within its cell: μ carries an extra
            // (1 − reversion)·q·U, U uniform on ±½. Entropy of round(φ + s·Z
            // + w·U) minus that of round(φ + s·Z), averaged over the phase
            // φ, away from the bounds.
            let s = sd / q;
            let w = 1.0 - reversion;
            let (phases, shifts) = (8, 32);
            let mut with_u = 0.0;
            let mut without = 0.0;
            for p in 0..phases {
                let phi = (p as f64 + 0.5) / phases as f64;
                without += quantised_entropy(phi, s);
                let lo = (phi - Z_MAX * s - w).floor() as i64 - 1;
                let hi = (phi + Z_MAX * s + w).ceil() as i64 + 1;
                for k in lo..=hi {
                    let k = k as f64;
                    let p: f64 = (0..shifts)
                        .map(|j| {
                            let c = phi + w * ((j as f64 + 0.5) / shifts as f64 - 0.5);
                            z_prob((k - 0.5 - c) / s, (k + 0.5 - c) / s)
                        })
                        .sum::<f64>()
                        / shifts as f64;
                    with_u += plogp(p);
                }
            }
            (with_u - without) / phases as f64
        }
        Model::Counter { jitter, .. } => {
            // The drift is hidden: a decoder tracks it (a Kalman filter on
            // the relative increments, steady state) and its estimate's
            // error P⁻ widens the predicted spread from jitter to
            // sqrt(jitter² + P⁻).
            let a = 1.0 - DRIFT_REVERSION;
            let process = DRIFT_SD * DRIFT_SD;
            let drift_var = process / (1.0 - a * a);
            let noise = jitter * jitter * (1.0 + drift_var);
            let (mut p, mut prior) = (drift_var, drift_var);
            for _ in 0..1_000 {
                prior = a * a * p + process;
                p = prior * noise / (prior + noise);
            }
            0.5 * (1.0 + prior / noise).log2()
        }
        Model::Uptime { .. } | Model::Steady { .. } => 0.0,
    }
}

// ---------------------------------------------------------------------------
// The data set.

/// zstd reads one host in this many (all 20 of its metrics, so every metric
/// keeps its share): level 19 is the slow part of the run, about 7 s of CPU
/// for the four layouts of this subset's 1.8 M points.
const ZSTD_HOST_STRIDE: usize = 40;

/// zstd's highest level without `--ultra`.
const ZSTD_LEVEL: i32 = 19;

#[derive(Default)]
struct ShapeTotals {
    series: usize,
    points: u64,
    bound_bits: f64,
    /// The part of `bound_bits` spent on the first value of each series.
    first_bits: f64,
    whippet_values: u64,
    whippet_timestamps: u64,
    /// On the zstd subset: points and Whippet's value bytes.
    subset_points: u64,
    subset_whippet: u64,
}

/// A sum and a count.
#[derive(Default, Clone, Copy)]
struct Mean {
    sum: f64,
    n: u64,
}

impl Mean {
    fn add(&mut self, x: f64) {
        self.sum += x;
        self.n += 1;
    }
    fn get(&self) -> f64 {
        self.sum / self.n.max(1) as f64
    }
}

fn varints(vals: &[i64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(vals.len() * 3);
    for &v in vals {
        put_ivarint(&mut out, v);
    }
    out
}

/// Little-endian bytes of each value, in eight planes (every lowest byte,
/// then every next one, ...): zstd then sees the high bytes of a column of
/// similar magnitudes as long runs.
fn byte_planes(vals: &[i64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(vals.len() * 8);
    for b in 0..8 {
        out.extend(vals.iter().map(|v| (v >> (8 * b)) as u8));
    }
    out
}

fn zstd_size(bytes: &[u8]) -> usize {
    zstd::bulk::compress(bytes, ZSTD_LEVEL)
        .expect("zstd compresses")
        .len()
}

fn shape_index(s: Shape) -> usize {
    SHAPES.iter().position(|&x| x == s).expect("known shape")
}

/// The mantissas of one series' values (exact: checked).
fn mantissas(vals: &[f64], decimals: u32, out: &mut Vec<i64>) {
    let p = 10f64.powi(decimals as i32);
    out.clear();
    out.extend(vals.iter().map(|&v| {
        let m = (v * p).round() as i64;
        assert_eq!(m as f64 / p, v, "{v} has more than {decimals} decimals");
        m
    }));
}

/// Per shape, every series' mantissas on the zstd subset as order-1 and
/// order-2 deltas, concatenated. Each series starts from 0: its first
/// order-1 delta is its first mantissa, and its order-2 column starts with
/// the mantissa and the first order-1 delta.
fn zstd_columns(spec: &FleetSpec) -> Vec<[Vec<i64>; 2]> {
    let mut cols: Vec<[Vec<i64>; 2]> = SHAPES.iter().map(|_| Default::default()).collect();
    let (mut ts, mut vals, mut ms) = (Vec::new(), Vec::new(), Vec::new());
    for host in (0..spec.hosts()).step_by(ZSTD_HOST_STRIDE) {
        for (k, metric) in METRICS.iter().enumerate() {
            let i = host * METRICS_PER_HOST + k;
            if i >= spec.series {
                break;
            }
            points(spec, i, &mut ts, &mut vals);
            mantissas(&vals, metric.decimals(), &mut ms);
            let [d1, d2] = &mut cols[shape_index(metric.shape)];
            let (mut prev, mut prev_d) = (0i64, 0i64);
            for (j, &m) in ms.iter().enumerate() {
                let d = m - prev;
                d1.push(d);
                d2.push(if j < 2 { d } else { d - prev_d });
                prev = m;
                prev_d = d;
            }
        }
    }
    cols
}

/// Per shape, the smallest zstd output over four layouts (order-1 or
/// order-2 deltas, as zig-zag varints or as byte planes), and which won.
/// One at a time: the caller runs this on a thread of its own beside the
/// rest, and one level-19 context at a time keeps memory low.
fn zstd_best(cols: &[[Vec<i64>; 2]]) -> Vec<(usize, &'static str)> {
    cols.iter()
        .map(|[d1, d2]| {
            [
                (zstd_size(&varints(d1)), "order-1 deltas, varints"),
                (zstd_size(&varints(d2)), "order-2 deltas, varints"),
                (zstd_size(&byte_planes(d1)), "order-1 deltas, byte planes"),
                (zstd_size(&byte_planes(d2)), "order-2 deltas, byte planes"),
            ]
            .into_iter()
            .min()
            .expect("four layouts")
        })
        .collect()
}

fn main() {
    let started = Instant::now();
    let spec = FleetSpec::full();

    // zstd runs on its own threads while the rest goes on.
    let report = std::thread::scope(|scope| {
        let zstd = scope.spawn(|| zstd_best(&zstd_columns(&spec)));

        // 1. The models.
        let h_z = z_differential_entropy();
        let jitter = match METRICS[11].model {
            Model::Counter { jitter, .. } => jitter,
            _ => unreachable!("metric 11 is a counter"),
        };
        let counter_table = CounterTable::new(jitter, h_z);
        let noise_log = mean_log2_noise(jitter);
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let figures: Vec<ModelFigures> = METRICS
            .iter()
            .map(|m| model_figures(m, spec.points_per_series, &counter_table, &mut rng))
            .collect();
        let model_secs = started.elapsed().as_secs_f64();

        // 2. Every series: the bound, Whippet's codecs, the model check.
        let mut shapes: Vec<ShapeTotals> = SHAPES.iter().map(|_| ShapeTotals::default()).collect();
        let mut checks = [Mean::default(); METRICS_PER_HOST];
        let mut data_steps = [Mean::default(); METRICS_PER_HOST];
        let (mut ts, mut vals) = (Vec::new(), Vec::new());
        let (mut out, mut scratch) = (Vec::new(), Vec::new());
        for i in 0..spec.series {
            let k = i % METRICS_PER_HOST;
            let metric = &METRICS[k];
            let fig = figures[k];
            points(&spec, i, &mut ts, &mut vals);
            let t = &mut shapes[shape_index(metric.shape)];
            t.series += 1;
            t.points += vals.len() as u64;

            // Bits of each value after the first. A counter's come from its
            // own increments (its rate and drift are this data set's, not
            // an average over the model's): log2 of the increment per tick,
            // less E[log2(1 + jitter·Z)], estimates log2 of its expected
            // value c without bias.
            let mut steps = 0.0;
            for (w, tw) in vals.windows(2).zip(ts.windows(2)) {
                let ticks = ((tw[1] - tw[0]) / spec.interval_ms) as f64;
                let bits = match metric.model {
                    Model::Counter { .. } => {
                        let per_tick = ((w[1] - w[0]) / ticks).max(0.5);
                        counter_table.get((per_tick.log2() - noise_log).exp2())
                    }
                    _ => fig.bits_per_step,
                };
                steps += bits;
                data_steps[k].add(bits);
                if ticks == 1.0 {
                    checks[k].add(check_value(&metric.model, w[0], w[1]));
                }
            }
            // A series that starts after a gap: its first value is bounded
            // by one step's innovation, as any other.
            let first = if ts[0] == spec.start_ms {
                fig.first_bits
            } else {
                steps / (vals.len() - 1).max(1) as f64
            };
            t.bound_bits += first + steps;
            t.first_bits += first;

            out.clear();
            floats::encode(&vals, &mut out, &mut scratch, Effort::Best);
            t.whippet_values += out.len() as u64;
            if (i / METRICS_PER_HOST).is_multiple_of(ZSTD_HOST_STRIDE) {
                t.subset_points += vals.len() as u64;
                t.subset_whippet += out.len() as u64;
            }
            out.clear();
            timestamps::encode(&ts, &mut out, Effort::Best);
            t.whippet_timestamps += out.len() as u64;
        }
        let data_secs = started.elapsed().as_secs_f64() - model_secs;
        Report {
            h_z,
            noise_log,
            figures,
            checks: checks.map(|c| c.get()),
            data_steps: data_steps.map(|c| c.get()),
            shapes,
            zstd: zstd.join().expect("zstd"),
            model_secs,
            data_secs,
        }
    });
    report.print(&spec);
    println!();
    println!(
        "Took {:.1} s wall (models {:.1} s, every series {:.1} s, zstd alongside).",
        started.elapsed().as_secs_f64(),
        report.model_secs,
        report.data_secs
    );
}

struct Report {
    h_z: f64,
    noise_log: f64,
    figures: Vec<ModelFigures>,
    checks: [f64; METRICS_PER_HOST],
    data_steps: [f64; METRICS_PER_HOST],
    shapes: Vec<ShapeTotals>,
    zstd: Vec<(usize, &'static str)>,
    model_secs: f64,
    data_secs: f64,
}

/// VictoriaMetrics 1.79 on the full fleet, index included
/// (`bench/results`), and the target: two thirds of it.
const VM_BYTES_PER_POINT: f64 = 1.166;

/// The series keys' own information, in bytes per point: per host a 64-bit
/// instance id (random to anyone without the seed) and four tags drawn from
/// the generator's weights (env 1.35 bits, region 1.86, az 1.58, service
/// 3.91), 72.7 bits × 5 000 hosts over 71 669 300 points. Metric names add
/// nothing: every host has the same twenty.
const INDEX_INFORMATION: f64 = 0.0006;

impl Report {
    fn print(&self, spec: &FleetSpec) {
        let series: usize = self.shapes.iter().map(|t| t.series).sum();
        let points: u64 = self.shapes.iter().map(|t| t.points).sum();
        let n = points as f64;
        println!(
            "Fleet: FleetSpec::full(), {series} series, {points} points (720 ticks at 10 s, gaps out)."
        );
        println!(
            "Innovation Z = (U1+U2+U3+U4 − 2)·√3: differential entropy {:.4} bits (a Gaussian's: {:.4}); E[log2(1 + 0.2·Z)] = {:.4}.",
            self.h_z,
            0.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E).log2(),
            self.noise_log
        );
        println!();
        println!(
            "## Per metric (model: {SIM_SERIES} simulated series of {} points each)",
            spec.points_per_series
        );
        println!();
        println!(
            "| metric | bound bits/step, model | bound bits/step, this data set | first value bits | check | data | model |"
        );
        println!("|---|---|---|---|---|---|---|");
        for (k, m) in METRICS.iter().enumerate() {
            let f = self.figures[k];
            println!(
                "| {} | {:.3} | {:.3} | {:.1} | {} | {:.4} | {:.4} |",
                m.name,
                f.bits_per_step,
                self.data_steps[k],
                f.first_bits,
                check_name(&m.model),
                self.checks[k],
                f.check
            );
        }
        println!();
        println!("## Per shape (values only; bytes per point)");
        println!();
        println!(
            "| shape | series | lower bound bits/point | lower bound bytes/point | zstd -{ZSTD_LEVEL} bytes/point | Whippet codec bytes/point | Whippet / bound |"
        );
        println!("|---|---|---|---|---|---|---|");
        let (mut bound, mut first, mut whippet, mut ts_bytes) = (0.0, 0.0, 0u64, 0u64);
        let (mut zstd, mut sub_points, mut sub_whippet) = (0usize, 0u64, 0u64);
        for (j, t) in self.shapes.iter().enumerate() {
            let tn = t.points as f64;
            println!(
                "| {:?} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.2} |",
                SHAPES[j],
                t.series,
                t.bound_bits / tn,
                t.bound_bits / 8.0 / tn,
                self.zstd[j].0 as f64 / t.subset_points as f64,
                t.whippet_values as f64 / tn,
                t.whippet_values as f64 * 8.0 / t.bound_bits,
            );
            bound += t.bound_bits;
            first += t.first_bits;
            whippet += t.whippet_values;
            ts_bytes += t.whippet_timestamps;
            zstd += self.zstd[j].0;
            sub_points += t.subset_points;
            sub_whippet += t.subset_whippet;
        }
        println!(
            "| all | {series} | {:.3} | {:.3} | {:.3} | {:.3} | {:.2} |",
            bound / n,
            bound / 8.0 / n,
            zstd as f64 / sub_points as f64,
            whippet as f64 / n,
            whippet as f64 * 8.0 / bound
        );
        println!();
        println!(
            "- zstd: on every {ZSTD_HOST_STRIDE}th host ({sub_points} points), the shape's series concatenated. Whippet's codec on those same series: {}, all {:.3} bytes/point. Kept: {}.",
            self.shapes
                .iter()
                .zip(SHAPES)
                .map(|(t, s)| format!(
                    "{s:?} {:.3}",
                    t.subset_whippet as f64 / t.subset_points as f64
                ))
                .collect::<Vec<_>>()
                .join(", "),
            sub_whippet as f64 / sub_points as f64,
            self.zstd
                .iter()
                .zip(SHAPES)
                .map(|((_, how), s)| format!("{s:?} {how}"))
                .collect::<Vec<_>>()
                .join("; ")
        );
        println!(
            "- Of the bound, the first value of each series is {:.4} bytes/point.",
            first / 8.0 / n
        );
        println!(
            "- Timestamps: Whippet's codec spends {:.4} bytes/point ({:.1} bytes per series); given the spec, their information is the gaps' positions, under 0.001 bits/point.",
            ts_bytes as f64 / n,
            ts_bytes as f64 / series as f64
        );
        println!();
        println!("## Slack of the bound (estimates: how far above it the true entropy rate is)");
        println!();
        let mut slack = 0.0;
        for (t, shape) in self.shapes.iter().zip(SHAPES) {
            let ms: Vec<&Metric> = METRICS.iter().filter(|m| m.shape == shape).collect();
            let s = ms.iter().map(|m| slack_bits(m)).sum::<f64>() / ms.len() as f64;
            slack += s * t.points as f64;
            println!(
                "- {shape:?}: about {s:.3} bits/point ({:.4} bytes/point).",
                s / 8.0
            );
        }
        let slack = slack / n / 8.0;
        println!("- all: about {slack:.4} bytes/point.");
        println!();
        let target = VM_BYTES_PER_POINT * 2.0 / 3.0;
        let floor = bound / 8.0 / n;
        println!(
            "## Is {target:.3} bytes/point (2/3 of VictoriaMetrics' {VM_BYTES_PER_POINT}) reachable?"
        );
        println!();
        println!(
            "Values alone need at least {floor:.3} bytes/point (about {:.3} with the slack), timestamps about 0, leaving {:.3} bytes/point under the target for the index and every per-series cost.",
            floor + slack,
            target - floor
        );
        println!(
            "An ideal store (values at their true rate, series keys at their bare information, {INDEX_INFORMATION} bytes/point, nothing else) would need about {:.3}: the target is the data's entropy itself.",
            floor + slack + INDEX_INFORMATION
        );
        for index in [0.05, 0.10, 0.15] {
            let total = floor + index;
            let verdict = if total <= target {
                "reachable only by coding the values within that margin of their entropy".to_owned()
            } else {
                format!("not reachable: {:.3} over", total - target)
            };
            println!("- with an index of {index:.2} bytes/point: at least {total:.3}, {verdict}");
        }
    }
}
