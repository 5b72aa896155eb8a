//! The points a caller writes.

use crate::ids::SeriesId;
use crate::sketch::Sketch;
use crate::time::TimestampMs;

/// One float point of a gauge, count or rate series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloatPoint {
    /// The series, from [`crate::Engine::resolve`].
    pub series: SeriesId,
    /// Milliseconds since the epoch.
    pub ts: TimestampMs,
    /// The value. Any f64 is stored bit for bit; aggregations skip NaN.
    pub value: f64,
}

/// One sketch point of a distribution series.
#[derive(Debug, Clone, PartialEq)]
pub struct SketchPoint {
    /// The series, from [`crate::Engine::resolve`].
    pub series: SeriesId,
    /// Milliseconds since the epoch (the start of the sketch's interval).
    pub ts: TimestampMs,
    /// The sketch of the values seen in the interval.
    pub sketch: Sketch,
}
