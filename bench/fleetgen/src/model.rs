//! The value models of the fleet's metrics: for each of a host's
//! [`METRICS_PER_HOST`] metrics, its name, shape and the process its values
//! come from, with the constants of the processes shared by every metric.
//!
//! This module owns the parameters; the generator in `lib.rs` draws from
//! them. They are public so that analyses of the data set (the `entropy`
//! example's lower bound on the information in the values) reason about the
//! very models that generated it rather than a copy that could drift.

use crate::{METRICS_PER_HOST, Shape};

/// `√3`: the generator's "normal" draw is `(U1 + U2 + U3 + U4 − 2)·√3`, the
/// sum of four uniforms centred and scaled to unit variance (Irwin–Hall),
/// bounded at ±2√3. Only `+ - * /` are used, so the draw is bit-identical on
/// every platform.
pub const SQRT3: f64 = 1.732_050_807_568_877_2;

/// A counter's traffic drift reverts towards 1 by this share of its
/// distance per interval: a time constant of about twenty intervals (three
/// minutes at 10 s), the pace at which traffic changes.
pub const DRIFT_REVERSION: f64 = 0.05;

/// Standard deviation of the drift's innovation per interval: with the
/// reversion above, the drift's steady-state spread is about 0.1
/// (`0.03 / √(1 − 0.95²)`), traffic within ±10 % or so of its rate.
pub const DRIFT_SD: f64 = 0.03;

/// The drift stays within these factors of the counter's drawn rate.
pub const DRIFT_BOUNDS: (f64, f64) = (0.25, 4.0);

/// How one metric's values are generated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Model {
    /// `x += reversion·(level − x) + sd·N(0,1)`, clamped to `bounds`, output
    /// rounded to the shape's decimals. `level` is drawn per series.
    Walk {
        level: (f64, f64),
        bounds: (f64, f64),
        sd: f64,
        reversion: f64,
    },
    /// A cumulative counter: per interval it grows by `rate · interval ·
    /// drift · (1 + jitter·N)`, rounded. The rate is `m · 10^d` with `m`
    /// uniform in [1, 10) and `d` uniform in `decades`; the drift is a slow
    /// mean-reverting walk around 1 (traffic changes over minutes).
    Counter {
        decades: (u32, u32),
        jitter: f64,
        start_max: f64,
    },
    /// Seconds since boot: grows by exactly the interval.
    Uptime { start_max: f64 },
    /// An integer mantissa `m` (value `m / 10^decimals`) that, with
    /// probability `change` per point, moves by 1 to `max_quanta` quanta
    /// either way (never below 0). A share `zero_share` of series is 0 for
    /// ever.
    Steady {
        level: (f64, f64),
        decimals: u32,
        quantum: i64,
        max_quanta: u64,
        change: f64,
        zero_share: f64,
    },
}

/// One metric of a host: what it is called, how its values look and how
/// they are drawn.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    /// The metric name (`system.cpu.user`).
    pub name: &'static str,
    /// The value shape it belongs to.
    pub shape: Shape,
    /// Reported as a monotonic count (the Datadog `count` type) rather than
    /// a gauge.
    pub is_counter: bool,
    /// How its values are generated.
    pub model: Model,
}

impl Metric {
    /// Digits after the point of every value it emits: one for
    /// [`Shape::NoisyGauge1`] walks, two for the other walks, none for
    /// counters and uptime, the model's own for steady metrics. Every value
    /// is an integer mantissa over `10^decimals`.
    pub const fn decimals(&self) -> u32 {
        match self.model {
            Model::Walk { .. } => match self.shape {
                Shape::NoisyGauge1 => 1,
                _ => 2,
            },
            Model::Counter { .. } | Model::Uptime { .. } => 0,
            Model::Steady { decimals, .. } => decimals,
        }
    }
}

const fn walk(
    name: &'static str,
    shape: Shape,
    level: (f64, f64),
    bounds: (f64, f64),
    sd: f64,
    reversion: f64,
) -> Metric {
    Metric {
        name,
        shape,
        is_counter: false,
        model: Model::Walk {
            level,
            bounds,
            sd,
            reversion,
        },
    }
}

const fn counter(name: &'static str, decades: (u32, u32), jitter: f64) -> Metric {
    Metric {
        name,
        shape: Shape::Counter,
        is_counter: true,
        model: Model::Counter {
            decades,
            jitter,
            start_max: 1e12,
        },
    }
}

const fn steady(
    name: &'static str,
    level: (f64, f64),
    decimals: u32,
    quantum: i64,
    max_quanta: u64,
    change: f64,
    zero_share: f64,
) -> Metric {
    Metric {
        name,
        shape: Shape::NearConstant,
        is_counter: false,
        model: Model::Steady {
            level,
            decimals,
            quantum,
            max_quanta,
            change,
            zero_share,
        },
    }
}

use Shape::{NoisyGauge1 as G1, NoisyGauge2 as G2};

/// The metrics of one host, in series order. Levels, bounds and step sizes
/// are plausible for a mixed fleet of small and large VMs.
pub const METRICS: [Metric; METRICS_PER_HOST] = [
    walk("system.cpu.user", G1, (2.0, 60.0), (0.0, 100.0), 1.5, 0.05),
    walk(
        "system.cpu.system",
        G1,
        (0.5, 15.0),
        (0.0, 100.0),
        0.5,
        0.05,
    ),
    walk("system.cpu.iowait", G1, (0.0, 3.0), (0.0, 100.0), 0.2, 0.1),
    walk("system.cpu.idle", G1, (30.0, 95.0), (0.0, 100.0), 2.0, 0.05),
    walk(
        "system.mem.used",
        G1,
        (500.0, 60_000.0),
        (0.0, 1e6),
        5.0,
        0.02,
    ),
    walk(
        "system.mem.free",
        G1,
        (200.0, 30_000.0),
        (0.0, 1e6),
        5.0,
        0.02,
    ),
    walk("system.load.1", G2, (0.05, 4.0), (0.0, 64.0), 0.08, 0.1),
    walk("system.load.5", G2, (0.05, 4.0), (0.0, 64.0), 0.03, 0.03),
    walk("system.load.15", G2, (0.05, 4.0), (0.0, 64.0), 0.01, 0.01),
    walk("system.io.r_s", G2, (0.0, 20.0), (0.0, 1e5), 1.0, 0.05),
    walk("system.io.w_s", G2, (1.0, 200.0), (0.0, 1e5), 3.0, 0.05),
    counter("system.net.bytes_rcvd", (2, 6), 0.2),
    counter("system.net.bytes_sent", (2, 6), 0.2),
    counter("system.net.packets_in.count", (0, 3), 0.2),
    counter("system.net.packets_out.count", (0, 3), 0.2),
    Metric {
        name: "system.uptime",
        shape: Shape::Counter,
        is_counter: false,
        model: Model::Uptime { start_max: 1e7 },
    },
    steady("system.disk.free", (2e7, 5e8), 0, 4, 2_500, 0.02, 0.0),
    steady("system.disk.in_use", (0.05, 0.95), 4, 1, 3, 0.01, 0.0),
    steady("system.fs.inodes.free", (1e5, 3e7), 0, 1, 40, 0.05, 0.0),
    steady("system.swap.used", (10.0, 2_000.0), 1, 1, 50, 0.01, 0.7),
];
