//! # whippet-query: Datadog metric queries over the storage engine (service plane)
//!
//! ## What it owns
//! The evaluation of parsed Datadog metric queries ([`whippet_ddql`]) over
//! [`whippet_tsdb`]: the choice of time buckets, time and space
//! aggregation, fill, arithmetic, the functions, the limits on what one query
//! may cost, and the series it answers with ([`QueryEngine::query`] for
//! `GET /api/v1/query`, [`QueryEngine::query_formulas`] for the v2
//! timeseries and scalar endpoints). Its semantics are pinned by the golden
//! corpus in `testdata/` (format: `testdata/README.md`), run by
//! `tests/golden.rs`.
//!
//! ## What it must never do
//! Parse query text (the parser is `whippet-ddql`), write to storage, or
//! format HTTP responses (the server turns [`SeriesResult`]s into JSON). It
//! never reads more than [`QueryLimits`] allow and checks every size before
//! allocating for it.
//!
//! ## Dependencies
//! `whippet-ddql` (the syntax tree), `whippet-tsdb` (storage), `thiserror`,
//! `tracing`. Nothing else: the evaluation is plain loops over columns.
//! `examples/query_speed.rs` times it against the bare storage aggregation.
//!
//! ## Evaluation rules
//! Spec 6.1.2 is the contract; where it is silent, the choice made here is
//! marked *(server choice)*.
//!
//! **Selection.** A metric query selects the series of its metric whose tags
//! satisfy the scope: `key:value` and bare tags match exactly, values with
//! `*` are wildcards (`key:*` means "has the key"), `key IN (a, b)` is any
//! of them, `AND`/`OR`/`NOT` and commas combine as written, `*` filters
//! nothing.
//!
//! **Interval.** `.rollup(_, seconds)` sets it, never below the native
//! resolution; otherwise [`default_interval_secs`] picks the smallest
//! interval of the ladder giving at most 300 points. The native resolution
//! is a count's or rate's interval, 10 s for everything else. *(server
//! choice)* One expression has one interval, the largest its metric queries
//! ask for, so that its operands line up; the v2 request shares one interval
//! across all queries and formulas, the largest any asks for (`interval`
//! replaces the default choice).
//!
//! **Buckets.** Bucket timestamps are multiples of the interval: the first
//! is the first multiple at or after `from`, the last the last multiple at or
//! before `to`; a bucket covers `[t, t + interval)`. The storage engine is
//! read over exactly these buckets and aggregates each series into them.
//!
//! **Time aggregation.** Each series is reduced per bucket by `.rollup(agg)`
//! or, by type: gauge `avg`, count `sum`, rate `avg`.
//!
//! **`.as_count()` and `.as_rate()`.** On counts, `as_count` is the default
//! (sum) and `as_rate` divides the bucket's sum by its seconds. On rates,
//! `as_rate` is the default (average) and `as_count` turns each point into a
//! count (value × the rate's interval) and sums them. *(server choice)* With
//! another rollup aggregator the points are converted first (a count's point
//! divided by its own interval, a rate's multiplied by it) and then
//! aggregated; `rollup(count)` is never scaled. On gauges both do nothing.
//!
//! **Fill.** Applied to each source series before space aggregation (it
//! exists to align series before they are combined). `zero` fills every
//! empty bucket with 0; `null` reports every bucket, nulls included;
//! `last` carries the last value forward at most `limit` seconds (default
//! 300); `linear` interpolates a gap between two values when it spans at most
//! `limit` seconds (default 300). *(server choice)* A gap's span is its number
//! of empty buckets × the interval, and the limit is never less than one
//! interval. Without `.fill`, empty buckets have no value.
//!
//! **Space aggregation.** The series are grouped by the values of the `by`
//! keys (a series lacking a key goes under `key:N/A`), and each group is
//! reduced per bucket with the space aggregator (default `avg`), ignoring
//! empty buckets; `count` is the number of series with a value. Groups come
//! out sorted by their tags.
//!
//! **Distributions.** The sketches of a group are merged per bucket and the
//! aggregator reads the merged sketch: `avg` (sum / count of all values),
//! `sum`, `min`, `max`, `count` (of values), `pNN` (globally accurate
//! percentile). The time aggregator does not apply; fill applies to the
//! group's values. *(server choice)* Float series sharing the metric name of
//! a distribution are ignored; a percentile of a non-distribution is
//! [`QueryError::Invalid`].
//!
//! **Arithmetic.** Per bucket, null in gives null out, `x / 0` is null.
//! Numbers apply to every bucket; an ungrouped series (one, no group tags)
//! is broadcast to every group of the other side; two grouped sides join on
//! identical group tag sets and a group on one side only gives nothing.
//!
//! **Functions.** Applied after all the above to each series of their
//! argument, in order of nesting. Pointwise: `abs`, `log2`/`log10` (≤ 0 →
//! null), `clamp_min/max`, `cutoff_min/max` (beyond → null). Over time, using
//! the previous non-null value (the first value has none and becomes null):
//! `diff`, `monotonic_diff` (a negative delta gives the current value),
//! `derivative` (per second), `dt` (seconds since the previous value).
//! `cumsum` and `integral` (value × seconds since the previous value; the
//! first covers its own bucket) run over the window, skipping nulls.
//!
//! **Rates.** `per_second`, `per_minute`, `per_hour`: for series of counts
//! (counts aggregated with `sum`, rates `.as_count()`) the count of each
//! bucket divided by its seconds, times the unit; for anything else the
//! derivative times the unit.
//!
//! **Smoothing.** `ewma_N`: exponential average with α = 2 / (N + 1),
//! starting at the first value. `median_N`: median of the non-null values of
//! the last N buckets. Both keep null buckets null. `moving_rollup(q, s,
//! agg)`: `agg` over the last `s / interval` buckets (at least one), reading
//! that far before the window so the first points are complete.
//!
//! **Timeshift.** `timeshift(q, s)` evaluates `q` over the window moved by
//! `s` seconds and reports its points at the unshifted timestamps;
//! `hour_before` etc. are shifts of −1 h, −1 d, −7 d, −28 d.
//!
//! **Ranking.** `top(q, N, rank, dir)` orders the series by `mean`, `max`,
//! `min`, `last`, `area` (sum), `l2norm`/`norm` of their non-null values,
//! skips `offset` of them and keeps N, in ranked order; series without
//! values rank last. A v2 formula's `limit` ranks by mean.
//!
//! **Counting.** `count_nonzero`/`count_not_null` return one ungrouped
//! series: per bucket, how many series of the argument are non-zero /
//! non-null (0 when none). `default_zero` turns every empty bucket of the
//! window into 0.
//!
//! **Output.** Leading and trailing empty buckets are left out of a series
//! and interior ones are null, unless the query asks for every bucket
//! (`fill(zero|null)`, `default_zero`, `count_*`); a series with no value at
//! all is left out. The v2 answer reports every bucket. A number alone is a
//! constant series.
//!
//! **Ranges and limits.** `to <= from` is [`QueryError::Invalid`]; a window
//! after the newest storable time, or outside retention, gives no series;
//! an empty selection gives no series. A query whose selection passes
//! [`QueryLimits::max_series`], whose estimated raw points pass
//! [`QueryLimits::max_points`], or whose answer would pass
//! [`QueryLimits::max_output_points`] fails with [`QueryError::TooLarge`]
//! before the storage engine aggregates.

mod arith;
mod engine;
mod error;
mod eval;
mod fill;
mod funcs;
mod grid;
mod limits;
mod metric;
mod select;
mod series;

pub use engine::{FormulaLimit, FormulaResult, FormulaSeries, QueryEngine, SeriesResult};
pub use error::QueryError;
pub use grid::{DEFAULT_NATIVE_SECS, LADDER_SECS, MAX_DEFAULT_POINTS, default_interval_secs};
pub use limits::QueryLimits;
