//! Evaluating one metric query on a grid: select, read with per-bucket
//! aggregation pushed down into the storage engine, scale by metric type,
//! fill, and aggregate across the series of each group.

use std::collections::HashMap;

use whippet_ddql::{FillMode, Method, MetricQuery, SpaceAgg, TimeAgg};
use whippet_tsdb::{Agg, MetricType, ReadView, SeriesMeta, Sketch, TagSet, ValueKind};

use crate::error::QueryError;
use crate::eval::Evaluator;
use crate::fill::fill;
use crate::grid::{DEFAULT_NATIVE_SECS, Grid};
use crate::select::selector;
use crate::series::{Meta, Series, SeriesSet};

/// Groups of series: the group tags and the indices of its series.
type Groups = Vec<(Vec<String>, Vec<usize>)>;

/// Fewest series per group for [`Evaluator::floats_streaming`]: below it,
/// the per-group accumulators (one row per group and reading thread) cost
/// about what keeping every series' row does, and the general path is used.
const STREAM_MIN_SERIES_PER_GROUP: usize = 4;

/// One reading thread's per-group accumulators, `groups × buckets` each.
struct GroupAcc {
    /// Sums (avg, sum, count) or the running min or max (NaN: none yet).
    val: Vec<f64>,
    /// Series with a value, per group and bucket.
    n: Vec<f64>,
}

/// Value of a `by` key for series that lack the key (spec 6.1.1).
const MISSING: &str = "N/A";

/// The methods of a metric query, resolved (the last of each kind wins).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Options {
    pub rollup_agg: Option<TimeAgg>,
    pub rollup_secs: Option<u32>,
    pub as_count: bool,
    pub as_rate: bool,
    pub fill: Option<(FillMode, Option<u32>)>,
}

impl Options {
    pub fn of(q: &MetricQuery) -> Options {
        let mut o = Options::default();
        for m in &q.methods {
            match *m {
                Method::Rollup { agg, seconds } => {
                    if agg.is_some() {
                        o.rollup_agg = agg;
                    }
                    if seconds.is_some() {
                        o.rollup_secs = seconds;
                    }
                }
                Method::AsCount => (o.as_count, o.as_rate) = (true, false),
                Method::AsRate => (o.as_count, o.as_rate) = (false, true),
                Method::Fill {
                    mode,
                    limit_seconds,
                } => o.fill = Some((mode, limit_seconds)),
                Method::Weighted => {}
            }
        }
        o
    }
}

/// The native resolution of a series, seconds: the interval of a count or
/// rate when known, else [`DEFAULT_NATIVE_SECS`].
pub(crate) fn native_secs(t: MetricType) -> u32 {
    match t {
        MetricType::Count { interval_secs } | MetricType::Rate { interval_secs }
            if interval_secs > 0 =>
        {
            interval_secs
        }
        _ => DEFAULT_NATIVE_SECS,
    }
}

/// How one float series is reduced per bucket: the storage aggregator, a
/// factor applied to its result, and whether the result counts events.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Plan {
    agg: Agg,
    scale: f64,
    counts: bool,
}

/// Time aggregation by type (spec 6.1.2 step 3):
/// * gauge: `avg` (or the rollup's); `as_count`/`as_rate` do nothing;
/// * count: `sum`; `.as_rate()` divides the sum by the bucket's seconds
///   (with another rollup aggregator, each point is first made a per-second
///   rate by its own interval);
/// * rate: `avg`; `.as_count()` makes each point a count (value × its
///   interval) and sums them.
///
/// `count` (number of points) is never scaled.
fn plan(t: MetricType, o: &Options, step_secs: i64) -> Plan {
    let to_agg = |a: TimeAgg| match a {
        TimeAgg::Avg => Agg::Avg,
        TimeAgg::Sum => Agg::Sum,
        TimeAgg::Min => Agg::Min,
        TimeAgg::Max => Agg::Max,
        TimeAgg::Count => Agg::Count,
        TimeAgg::Last => Agg::Last,
    };
    let native = f64::from(native_secs(t));
    let (default, scale) = match t {
        MetricType::Count { .. } if o.as_rate => {
            let agg = o.rollup_agg.map_or(Agg::Sum, to_agg);
            let s = if agg == Agg::Sum {
                1.0 / step_secs as f64
            } else {
                1.0 / native
            };
            (Agg::Sum, s)
        }
        MetricType::Count { .. } => (Agg::Sum, 1.0),
        MetricType::Rate { .. } if o.as_count => (Agg::Sum, native),
        MetricType::Rate { .. } => (Agg::Avg, 1.0),
        MetricType::Gauge | MetricType::Distribution => (Agg::Avg, 1.0),
    };
    let agg = o.rollup_agg.map_or(default, to_agg);
    let counts = agg == Agg::Sum
        && match t {
            MetricType::Count { .. } => !o.as_rate,
            MetricType::Rate { .. } => o.as_count,
            _ => false,
        };
    Plan {
        agg,
        scale: if agg == Agg::Count { 1.0 } else { scale },
        counts,
    }
}

/// The response's name of a space aggregator.
pub(crate) fn agg_name(a: SpaceAgg) -> String {
    match a {
        SpaceAgg::Avg => "avg".into(),
        SpaceAgg::Sum => "sum".into(),
        SpaceAgg::Min => "min".into(),
        SpaceAgg::Max => "max".into(),
        SpaceAgg::Count => "count".into(),
        SpaceAgg::Percentile(p) => format!("p{p}"),
    }
}

impl Evaluator<'_> {
    /// Evaluates `q` on `grid`.
    pub(crate) fn metric(&self, q: &MetricQuery, grid: Grid) -> Result<SeriesSet, QueryError> {
        let scope = q.scope_text.trim();
        let meta = Meta {
            metric: q.metric.clone(),
            aggr: q.space_agg.map(agg_name),
            scope: if scope.is_empty() { "*" } else { scope }.to_owned(),
        };
        let empty = || SeriesSet {
            meta: meta.clone(),
            series: Vec::new(),
        };
        self.check_buckets(grid.len)?;
        if grid.len == 0 || grid.start_ms > self.newest_ms() {
            return Ok(empty());
        }
        let Some((view, skip)) = self.read(&selector(q), grid)? else {
            return Ok(empty());
        };
        if view.series().is_empty() {
            return Ok(empty());
        }
        self.charge(view.series(), view.end() - view.start())?;
        let sub = Grid {
            start_ms: grid.ts(skip),
            step_ms: grid.step_ms,
            len: grid.len - skip,
        };
        let o = Options::of(q);
        let by = dedup(&q.by);
        let mut set = if view
            .series()
            .iter()
            .any(|s| s.key.kind == ValueKind::Sketch)
        {
            self.distribution(q, &view, sub, &by, &o)?
        } else if let Some(SpaceAgg::Percentile(_)) = q.space_agg {
            let t = view.series()[0].mtype.name();
            return Err(QueryError::invalid_at(
                q.span.start,
                format!(
                    "the percentile aggregator {} needs a distribution metric; `{}` is a {t}",
                    meta.aggr.as_deref().unwrap_or("p"),
                    q.metric
                ),
            ));
        } else {
            self.floats(q, &view, sub, &by, &o)?
        };
        drop(view);
        if skip > 0 {
            for s in &mut set {
                s.values.splice(0..0, std::iter::repeat_n(f64::NAN, skip));
            }
        }
        Ok(SeriesSet { meta, series: set })
    }

    /// Reads the selection over the grid. Retention may cut the start of
    /// the range: the read is then redone from the first whole bucket the
    /// retention keeps, and the number of buckets skipped is returned with
    /// the view (the storage buckets start at the view's start). `None`
    /// when retention keeps none of the grid.
    fn read(
        &self,
        sel: &whippet_tsdb::Selector,
        grid: Grid,
    ) -> Result<Option<(ReadView, usize)>, QueryError> {
        let mut skip = 0usize;
        // The oldest point kept moves with the clock; a few tries settle it.
        for _ in 0..4 {
            let start = grid.ts(skip);
            let view = self.engine.read(self.org, sel, start, grid.end_ms())?;
            if view.start() == start {
                return Ok(Some((view, skip)));
            }
            let behind = view.start() - grid.start_ms;
            skip =
                usize::try_from((behind + grid.step_ms - 1) / grid.step_ms).unwrap_or(usize::MAX);
            if skip >= grid.len {
                return Ok(None);
            }
        }
        Ok(None)
    }

    /// Gauges, counts and rates.
    fn floats(
        &self,
        q: &MetricQuery,
        view: &ReadView,
        grid: Grid,
        by: &[&str],
        o: &Options,
    ) -> Result<Vec<Series>, QueryError> {
        let metas = view.series();
        let step_secs = grid.step_secs();
        let plans: Vec<Plan> = metas.iter().map(|m| plan(m.mtype, o, step_secs)).collect();
        // One storage pass per distinct aggregator (one, unless the types
        // of the metric's series differ).
        let space = q.space_agg.unwrap_or(SpaceAgg::Avg);
        if o.fill.is_none()
            && plans.windows(2).all(|w| w[0].agg == w[1].agg)
            && let Some(set) = self.floats_streaming(view, grid, by, &plans, space)?
        {
            return Ok(set);
        }
        let mut rows: Vec<Vec<f64>> = Vec::new();
        let mut aggs: Vec<Agg> = plans.iter().map(|p| p.agg).collect();
        aggs.sort_by_key(|a| *a as u8);
        aggs.dedup();
        for agg in aggs {
            let out = view.aggregate(grid.step_ms, agg, self.threads)?;
            if rows.is_empty() {
                rows = out;
            } else {
                for ((r, new), p) in rows.iter_mut().zip(out).zip(&plans) {
                    if p.agg == agg {
                        *r = new;
                    }
                }
            }
        }
        for (r, p) in rows.iter_mut().zip(&plans) {
            if p.scale != 1.0 {
                r.iter_mut().for_each(|v| *v *= p.scale);
            }
            if let Some((mode, limit)) = o.fill
                && r.iter().any(|v| !v.is_nan())
            {
                fill(r, mode, limit, step_secs);
            }
        }
        let counts = plans.iter().all(|p| p.counts);
        let groups = self.group(metas, by, |i| rows[i].iter().any(|v| !v.is_nan()))?;
        let dense = matches!(o.fill, Some((FillMode::Zero | FillMode::Null, _)));
        Ok(groups
            .into_iter()
            .map(|(tags, members)| Series {
                tags,
                values: match members[..] {
                    // A group of one series is that series (each row
                    // belongs to one group, so it can be moved out).
                    [i] if space != SpaceAgg::Count => std::mem::take(&mut rows[i]),
                    _ => space_aggregate(
                        members.iter().map(|&i| rows[i].as_slice()),
                        space,
                        grid.len,
                    ),
                },
                dense,
                counts: counts && space != SpaceAgg::Count,
            })
            .collect())
    }

    /// [`Evaluator::floats`] for many series into few groups, without fill
    /// and with one storage aggregator: each series' row is folded into its
    /// group's accumulators as the storage engine produces it
    /// ([`ReadView::aggregate_fold`]), so memory holds a row per group and
    /// thread rather than per series, and the space aggregation happens on
    /// the reading threads. `None` when the groups are too many for this to
    /// pay (each group's accumulators cost about what a series' row does).
    fn floats_streaming(
        &self,
        view: &ReadView,
        grid: Grid,
        by: &[&str],
        plans: &[Plan],
        space: SpaceAgg,
    ) -> Result<Option<Vec<Series>>, QueryError> {
        let metas = view.series();
        let nb = grid.len;
        // Every series takes part (one without values adds nothing); groups
        // that end up without any value are left out below.
        let groups = self.group(metas, by, |_| true)?;
        if groups.len().saturating_mul(STREAM_MIN_SERIES_PER_GROUP) > metas.len() {
            return Ok(None);
        }
        let mut group_of = vec![0usize; metas.len()];
        for (g, (_, members)) in groups.iter().enumerate() {
            for &i in members {
                group_of[i] = g;
            }
        }
        let ng = groups.len();
        let pick = match space {
            SpaceAgg::Min => Some(f64::min as fn(f64, f64) -> f64),
            SpaceAgg::Max => Some(f64::max as fn(f64, f64) -> f64),
            _ => None,
        };
        let init = || GroupAcc {
            // Sums start at 0; min and max at NaN, which `f64::min`/`max`
            // ignore.
            val: vec![if pick.is_some() { f64::NAN } else { 0.0 }; ng * nb],
            n: vec![0.0; ng * nb],
        };
        let accs = view.aggregate_fold(
            grid.step_ms,
            plans[0].agg,
            self.threads,
            init,
            |acc, i, row| {
                let g = group_of[i];
                let scale = plans[i].scale;
                let val = &mut acc.val[g * nb..(g + 1) * nb];
                let n = &mut acc.n[g * nb..(g + 1) * nb];
                for ((a, c), &v) in val.iter_mut().zip(n.iter_mut()).zip(row) {
                    let has = !v.is_nan();
                    let v = v * scale;
                    *a = match pick {
                        Some(p) => p(*a, v),
                        None => *a + if has { v } else { 0.0 },
                    };
                    *c += f64::from(u8::from(has));
                }
            },
        )?;
        let mut total = init();
        for acc in accs {
            for ((a, c), (v, n)) in total
                .val
                .iter_mut()
                .zip(total.n.iter_mut())
                .zip(acc.val.into_iter().zip(acc.n))
            {
                *a = match pick {
                    Some(p) => p(*a, v),
                    None => *a + v,
                };
                *c += n;
            }
        }
        let counts = plans.iter().all(|p| p.counts);
        let mut out: Vec<Series> = Vec::with_capacity(ng);
        for (g, (t, _)) in groups.into_iter().enumerate() {
            let n = &total.n[g * nb..(g + 1) * nb];
            if n.iter().all(|&c| c == 0.0) {
                continue;
            }
            let val = &total.val[g * nb..(g + 1) * nb];
            let values = val
                .iter()
                .zip(n)
                .map(|(&v, &c)| match space {
                    _ if c == 0.0 => f64::NAN,
                    SpaceAgg::Avg => v / c,
                    SpaceAgg::Count => c,
                    _ => v,
                })
                .collect();
            out.push(Series {
                tags: t,
                values,
                dense: false,
                counts: counts && space != SpaceAgg::Count,
            });
        }
        Ok(Some(out))
    }

    /// Distributions: the sketches of a group are merged per bucket and the
    /// space aggregator reads the merged sketch. `avg`, `sum`, `min`, `max`
    /// and `count` only need the sketches' summaries, which the storage
    /// engine aggregates without merging bins; percentiles merge the bins.
    /// Float series of the same metric name are ignored. Fill applies to
    /// the group's result.
    fn distribution(
        &self,
        q: &MetricQuery,
        view: &ReadView,
        grid: Grid,
        by: &[&str],
        o: &Options,
    ) -> Result<Vec<Series>, QueryError> {
        let metas = view.series();
        let is_sketch = |i: usize| metas[i].key.kind == ValueKind::Sketch;
        let space = q.space_agg.unwrap_or(SpaceAgg::Avg);
        let nb = grid.len;
        let mut out: Vec<(Vec<String>, Vec<f64>)> = Vec::new();
        if let SpaceAgg::Percentile(p) = space {
            let rows = view.aggregate_sketches(grid.step_ms, self.threads)?;
            let groups = self.group(metas, by, |i| {
                is_sketch(i) && rows[i].iter().any(Option::is_some)
            })?;
            for (tags, members) in groups {
                let mut merged: Vec<Option<Sketch>> = vec![None; nb];
                for &i in &members {
                    for (m, s) in merged.iter_mut().zip(&rows[i]) {
                        if let Some(s) = s {
                            match m {
                                Some(acc) => acc.merge(s),
                                None => *m = Some(s.clone()),
                            }
                        }
                    }
                }
                let vals = merged
                    .iter()
                    .map(|m| {
                        m.as_ref()
                            .and_then(|s| s.quantile(p / 100.0))
                            .unwrap_or(f64::NAN)
                    })
                    .collect();
                out.push((tags, vals));
            }
        } else {
            let (agg, across) = match space {
                SpaceAgg::Avg | SpaceAgg::Sum => (Agg::Sum, SpaceAgg::Sum),
                SpaceAgg::Count => (Agg::Count, SpaceAgg::Sum),
                SpaceAgg::Min => (Agg::Min, SpaceAgg::Min),
                SpaceAgg::Max => (Agg::Max, SpaceAgg::Max),
                SpaceAgg::Percentile(_) => unreachable!("handled above"),
            };
            let rows = view.aggregate(grid.step_ms, agg, self.threads)?;
            let counts = if space == SpaceAgg::Avg {
                Some(view.aggregate(grid.step_ms, Agg::Count, self.threads)?)
            } else {
                None
            };
            let groups = self.group(metas, by, |i| {
                is_sketch(i) && rows[i].iter().any(|v| !v.is_nan())
            })?;
            for (tags, members) in groups {
                let mut vals =
                    space_aggregate(members.iter().map(|&i| rows[i].as_slice()), across, nb);
                if let Some(c) = &counts {
                    let n = space_aggregate(
                        members.iter().map(|&i| c[i].as_slice()),
                        SpaceAgg::Sum,
                        nb,
                    );
                    for (v, n) in vals.iter_mut().zip(n) {
                        *v = if n > 0.0 { *v / n } else { f64::NAN };
                    }
                }
                out.push((tags, vals));
            }
        }
        let dense = matches!(o.fill, Some((FillMode::Zero | FillMode::Null, _)));
        Ok(out
            .into_iter()
            .map(|(tags, mut values)| {
                if let Some((mode, limit)) = o.fill {
                    fill(&mut values, mode, limit, grid.step_secs());
                }
                Series {
                    tags,
                    values,
                    dense,
                    counts: space == SpaceAgg::Count,
                }
            })
            .collect())
    }

    /// Splits the series `i` for which `keep(i)` holds into groups by the
    /// values of the `by` keys; groups come sorted by their tags. The number
    /// of groups is not limited here: `top` and a v2 `limit` may keep 10 of
    /// 5 000 groups, and the rows they come from are already bounded by
    /// `max_points`. The answer is checked against `max_output_points`.
    fn group(
        &self,
        metas: &[SeriesMeta],
        by: &[&str],
        keep: impl Fn(usize) -> bool,
    ) -> Result<Groups, QueryError> {
        let mut groups: Groups = Vec::new();
        if by.is_empty() {
            let members: Vec<usize> = (0..metas.len()).filter(|&i| keep(i)).collect();
            if !members.is_empty() {
                groups.push((Vec::new(), members));
            }
        } else {
            let mut index: HashMap<Vec<String>, usize> = HashMap::new();
            for (i, m) in metas.iter().enumerate() {
                if !keep(i) {
                    continue;
                }
                let key = group_tags(&m.key.tags, by);
                let g = *index.entry(key).or_insert_with_key(|k| {
                    groups.push((k.clone(), Vec::new()));
                    groups.len() - 1
                });
                groups[g].1.push(i);
            }
            groups.sort_by(|a, b| a.0.cmp(&b.0));
        }
        Ok(groups)
    }
}

fn dedup(by: &[String]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::with_capacity(by.len());
    for k in by {
        if !out.contains(&k.as_str()) {
            out.push(k);
        }
    }
    out
}

/// `key:value` for each `by` key, `key:N/A` when the series lacks it.
fn group_tags(tags: &TagSet, by: &[&str]) -> Vec<String> {
    by.iter()
        .map(|k| format!("{k}:{}", tags.value_of(k).unwrap_or(MISSING)))
        .collect()
}

/// Combines rows bucket by bucket with `agg`, skipping NaN; a bucket where
/// every row is NaN stays NaN. `count` is the number of rows with a value.
///
/// The inner loops have no branches (NaN is skipped by arithmetic, and
/// `f64::min`/`max` already ignore a NaN operand), so they vectorise: this
/// runs once per selected series and bucket.
pub(crate) fn space_aggregate<'r>(
    rows: impl Iterator<Item = &'r [f64]>,
    agg: SpaceAgg,
    nb: usize,
) -> Vec<f64> {
    match agg {
        SpaceAgg::Min | SpaceAgg::Max => {
            let pick = if agg == SpaceAgg::Min {
                f64::min
            } else {
                f64::max
            };
            let mut acc = vec![f64::NAN; nb];
            for row in rows {
                for (a, &v) in acc.iter_mut().zip(row) {
                    *a = pick(*a, v);
                }
            }
            acc
        }
        _ => {
            let mut sum = vec![0.0; nb];
            let mut n = vec![0.0f64; nb];
            for row in rows {
                for ((s, c), &v) in sum.iter_mut().zip(n.iter_mut()).zip(row) {
                    let has = !v.is_nan();
                    *s += if has { v } else { 0.0 };
                    *c += f64::from(u8::from(has));
                }
            }
            for (s, &c) in sum.iter_mut().zip(&n) {
                *s = if c == 0.0 {
                    f64::NAN
                } else {
                    match agg {
                        SpaceAgg::Avg => *s / c,
                        SpaceAgg::Count => c,
                        _ => *s,
                    }
                };
            }
            sum
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(methods: Vec<Method>) -> Options {
        Options::of(&MetricQuery {
            space_agg: None,
            metric: "m".into(),
            scope: whippet_ddql::Scope::All,
            scope_text: "*".into(),
            by: vec![],
            methods,
            span: Default::default(),
        })
    }

    #[test]
    fn plans_follow_the_type() {
        let count = MetricType::Count { interval_secs: 10 };
        let rate = MetricType::Rate { interval_secs: 15 };
        let p = plan(count, &opts(vec![]), 60);
        assert_eq!((p.agg, p.scale, p.counts), (Agg::Sum, 1.0, true));
        let p = plan(count, &opts(vec![Method::AsRate]), 60);
        assert_eq!((p.agg, p.scale, p.counts), (Agg::Sum, 1.0 / 60.0, false));
        let p = plan(rate, &opts(vec![]), 60);
        assert_eq!((p.agg, p.scale), (Agg::Avg, 1.0));
        let p = plan(rate, &opts(vec![Method::AsCount]), 60);
        assert_eq!((p.agg, p.scale, p.counts), (Agg::Sum, 15.0, true));
        let p = plan(
            rate,
            &opts(vec![
                Method::AsCount,
                Method::Rollup {
                    agg: Some(TimeAgg::Count),
                    seconds: None,
                },
            ]),
            60,
        );
        assert_eq!((p.agg, p.scale), (Agg::Count, 1.0));
        let p = plan(MetricType::Gauge, &opts(vec![Method::AsRate]), 60);
        assert_eq!((p.agg, p.scale), (Agg::Avg, 1.0));
    }

    #[test]
    fn space_aggregation_skips_nulls() {
        let n = f64::NAN;
        let rows: [&[f64]; 2] = [&[1.0, n, n], &[3.0, 5.0, n]];
        let f = |a| space_aggregate(rows.iter().copied(), a, 3);
        assert_eq!(f(SpaceAgg::Avg)[..2], [2.0, 5.0]);
        assert_eq!(f(SpaceAgg::Sum)[..2], [4.0, 5.0]);
        assert_eq!(f(SpaceAgg::Min)[..2], [1.0, 5.0]);
        assert_eq!(f(SpaceAgg::Max)[..2], [3.0, 5.0]);
        assert_eq!(f(SpaceAgg::Count)[..2], [2.0, 1.0]);
        assert!(f(SpaceAgg::Avg)[2].is_nan());
    }
}
