//! The public entry points: `GET /api/v1/query` and the v2 formula
//! queries, and what they return.

use whippet_ddql::{Expr, MetricQuery, Request, Span};
use whippet_tsdb::{Engine, OrgId};

use crate::error::QueryError;
use crate::eval::{Evaluator, leaves};
use crate::funcs::rank_by;
use crate::grid::{DEFAULT_NATIVE_SECS, Grid, default_interval_secs};
use crate::limits::QueryLimits;
use crate::metric::Options;
use crate::select::{selector, upper_bound};
use crate::series::SeriesSet;

/// Most evaluation passes of one request. A pass assumes a native
/// resolution to choose the interval; when the series read show another
/// one that changes the interval, the request is evaluated again with it.
/// The second pass sees the same series, so it settles; the third only
/// covers series created meanwhile.
const MAX_PASSES: usize = 3;

/// What [`QueryEngine::run`] evaluated: one set per expression, on `grid`,
/// and the request's budget (series, raw points) after it.
struct Pass {
    sets: Vec<SeriesSet>,
    grid: Grid,
    budget: (usize, u64),
}

/// Evaluates Datadog metric queries over a storage engine.
///
/// Thread-safe and cheap to share (`&self` everywhere); each query runs on
/// the calling thread and fans the storage reads out over `threads` threads.
/// Queries are blocking work: call them off an async runtime's threads.
pub struct QueryEngine {
    engine: Engine,
    limits: QueryLimits,
    threads: usize,
}

/// One series of a `GET /api/v1/query` answer (spec 6.1.3).
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesResult {
    /// The metric name of the (leftmost) metric query of the expression;
    /// the expression text when it has none (a number).
    pub metric: String,
    /// The metric name for a plain metric query, the expression text
    /// otherwise.
    pub display_name: String,
    /// The source text of the expression that produced the series.
    pub expression: String,
    /// The group tags joined by commas (`host:a,env:prod`); for an
    /// ungrouped series, the query's scope text (`*` for all).
    pub scope: String,
    /// The group tags, in `by` order (`["host:a"]`); empty when ungrouped.
    pub tag_set: Vec<String>,
    /// The space aggregator as written (`avg`, `p99`), `None` when omitted.
    pub aggr: Option<String>,
    /// Seconds per point.
    pub interval_secs: u32,
    /// `(bucket start ms, value)`, in time order, one per bucket: leading
    /// and trailing empty buckets are left out unless the query asks for
    /// them (`fill(null)`, `fill(zero)`, `default_zero`, `count_*`),
    /// interior empty buckets are `None`. Never empty.
    pub points: Vec<(i64, Option<f64>)>,
    /// Position of the expression in the request.
    pub query_index: usize,
}

/// The answer to a v2 timeseries (or scalar) query.
#[derive(Debug, Clone, PartialEq)]
pub struct FormulaResult {
    /// Bucket start of every point, ms, shared by all series.
    pub times: Vec<i64>,
    /// Seconds per point.
    pub interval_secs: u32,
    /// The series, per formula (or per query when there are no formulas),
    /// each group in tag order (or in limit order).
    pub series: Vec<FormulaSeries>,
}

/// One series of a [`FormulaResult`].
#[derive(Debug, Clone, PartialEq)]
pub struct FormulaSeries {
    /// The group tags (`["service:web"]`); empty when ungrouped.
    pub group_tags: Vec<String>,
    /// Index of the formula (or of the query when there are no formulas).
    pub query_index: usize,
    /// One value per entry of [`FormulaResult::times`]; `None` = no value.
    pub values: Vec<Option<f64>>,
}

/// A formula's `limit`: keep the `count` series with the largest
/// (`descending`) or smallest mean over the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormulaLimit {
    /// How many series to keep.
    pub count: usize,
    /// Largest first (`"order": "desc"`, the default) or smallest first.
    pub descending: bool,
}

impl QueryEngine {
    /// A query engine over `engine`, with `limits` on every query. Storage
    /// reads use one thread per available core.
    pub fn new(engine: Engine, limits: QueryLimits) -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        QueryEngine {
            engine,
            limits,
            threads,
        }
    }

    /// A cheap estimate (an upper bound, but for timeshifts) of the raw
    /// points `exprs` (with the named `queries` of a v2 request) would read
    /// over `[from_ms, to_ms)`: at most the series each metric query's
    /// metric and exact tags select × the range at 10 s per point. It only looks
    /// at the tag index, so a server can decide whether a query is small
    /// enough to answer on the thread that received it (a hand-off to a
    /// blocking thread costs tens of microseconds, more than a small query)
    /// before evaluating anything. Timeshifts and `moving_rollup` look-backs
    /// are not counted: it is a hint, not a limit.
    pub fn cost_hint<'e>(
        &self,
        org: OrgId,
        exprs: impl IntoIterator<Item = &'e Expr>,
        queries: &[&MetricQuery],
        from_ms: i64,
        to_ms: i64,
    ) -> u64 {
        let mut qs: Vec<&MetricQuery> = queries.to_vec();
        for e in exprs {
            leaves(e, &mut qs);
        }
        let per_series = u64::try_from((to_ms - from_ms).max(0) / 10_000)
            .unwrap_or(u64::MAX)
            .max(1);
        // An upper bound of each selection, from direct postings only: the
        // exact one can scan every value of a tag (`{host:i-0*}`), and the
        // query evaluates it anyway.
        qs.iter()
            .map(|q| match upper_bound(&selector(q)) {
                Some(b) => self.engine.select(org, &b).len() as u64,
                None => u64::MAX,
            })
            .fold(0u64, |acc, n| {
                acc.saturating_add(n.saturating_mul(per_series))
            })
    }

    /// The limits in force.
    pub fn limits(&self) -> &QueryLimits {
        &self.limits
    }

    /// GET /api/v1/query: every expression of the request, `query_index` = its position.
    ///
    /// `src` is the text `req` was parsed from (spans point into it);
    /// `from_ms`/`to_ms` bound the window (the API's `from`/`to` seconds ×
    /// 1000). Each expression gets its own interval: the largest its metric
    /// queries ask for. Limits apply to the request as a whole.
    ///
    /// Errors: [`QueryError::Invalid`] when `to_ms <= from_ms`, for a
    /// percentile of a non-distribution, or a query name outside a formula;
    /// [`QueryError::TooLarge`] over a limit; [`QueryError::Storage`].
    pub fn query(
        &self,
        org: OrgId,
        src: &str,
        req: &Request,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<SeriesResult>, QueryError> {
        check_range(from_ms, to_ms)?;
        let mut out = Vec::new();
        let mut budget = (0, 0);
        let mut points = 0usize;
        for (index, expr) in req.exprs.iter().enumerate() {
            let mut qs = Vec::new();
            leaves(expr, &mut qs);
            let Pass {
                mut sets,
                grid,
                budget: after,
            } = self.run(org, &[], &[expr], &qs, from_ms, to_ms, None, budget)?;
            budget = after;
            let set = sets.pop().unwrap_or_default();
            let text = expr.span().text(src).to_owned();
            let display = match expr {
                Expr::Query(q) => q.metric.clone(),
                _ => text.clone(),
            };
            for s in set.series {
                let Some((a, b)) = visible(&s.values, s.dense) else {
                    continue;
                };
                points = points.saturating_add(b - a);
                if points > self.limits.max_output_points {
                    return Err(QueryError::TooLarge {
                        message: format!(
                            "the query would return more than {} points (max_output_points); group by fewer tags or use a larger rollup interval",
                            self.limits.max_output_points
                        ),
                    });
                }
                out.push(SeriesResult {
                    metric: if set.meta.metric.is_empty() {
                        text.clone()
                    } else {
                        set.meta.metric.clone()
                    },
                    display_name: display.clone(),
                    expression: text.clone(),
                    scope: if s.tags.is_empty() {
                        set.meta.scope.clone()
                    } else {
                        s.tags.join(",")
                    },
                    tag_set: s.tags,
                    aggr: set.meta.aggr.clone(),
                    interval_secs: grid.step_secs() as u32,
                    points: (a..b).map(|i| (grid.ts(i), value(s.values[i]))).collect(),
                    query_index: index,
                });
            }
        }
        Ok(out)
    }

    /// v2 timeseries/scalar: named metric queries combined by formulas (Expr::Ref leaves); when `formulas` is empty each query is returned as is. `interval_ms` overrides the rollup interval choice.
    ///
    /// `queries` are `(name, source text, parsed query)`; `formulas` are
    /// `(source text, parsed formula, limit)`. All series share one grid:
    /// its interval is the largest any query asks for (`interval_ms`, rounded
    /// up to whole seconds, takes the place of the default choice but not
    /// of a query's own `.rollup(_, seconds)`). Every query is read once per
    /// window, however many formulas use it.
    ///
    /// Errors: as [`QueryEngine::query`], plus [`QueryError::Invalid`] for a
    /// duplicate query name, a formula naming no query, or a non-positive
    /// interval.
    pub fn query_formulas(
        &self,
        org: OrgId,
        queries: &[(String, String, MetricQuery)],
        formulas: &[(String, Expr, Option<FormulaLimit>)],
        from_ms: i64,
        to_ms: i64,
        interval_ms: Option<i64>,
    ) -> Result<FormulaResult, QueryError> {
        check_range(from_ms, to_ms)?;
        for (i, q) in queries.iter().enumerate() {
            if queries[..i].iter().any(|p| p.0 == q.0) {
                return Err(QueryError::Invalid {
                    position: None,
                    message: format!("two queries are named `{}`", q.0),
                });
            }
        }
        let interval = match interval_ms {
            None => None,
            Some(ms) if ms > 0 => Some(u32::try_from((ms + 999) / 1000).unwrap_or(u32::MAX)),
            Some(ms) => {
                return Err(QueryError::Invalid {
                    position: None,
                    message: format!("the interval must be positive, got {ms} ms"),
                });
            }
        };
        let refs: Vec<Expr> = queries
            .iter()
            .map(|q| Expr::Ref {
                name: q.0.clone(),
                span: Span::default(),
            })
            .collect();
        let exprs: Vec<&Expr> = if formulas.is_empty() {
            refs.iter().collect()
        } else {
            formulas.iter().map(|f| &f.1).collect()
        };
        let qs: Vec<&MetricQuery> = queries.iter().map(|q| &q.2).collect();
        let Pass { sets, grid, .. } =
            self.run(org, queries, &exprs, &qs, from_ms, to_ms, interval, (0, 0))?;
        let mut series = Vec::new();
        for (index, mut set) in sets.into_iter().enumerate() {
            if let Some(Some(limit)) = formulas.get(index).map(|f| f.2) {
                rank_by(&mut set.series, |s| mean(&s.values), limit.descending);
                set.series.truncate(limit.count);
            }
            for s in set.series {
                if (series.len() + 1).saturating_mul(grid.len) > self.limits.max_output_points {
                    return Err(QueryError::TooLarge {
                        message: format!(
                            "the query would return more than {} points (max_output_points); group by fewer tags, use a limit or a larger interval",
                            self.limits.max_output_points
                        ),
                    });
                }
                series.push(FormulaSeries {
                    group_tags: s.tags,
                    query_index: index,
                    values: s.values.into_iter().map(value).collect(),
                });
            }
        }
        Ok(FormulaResult {
            times: (0..grid.len).map(|i| grid.ts(i)).collect(),
            interval_secs: grid.step_secs() as u32,
            series,
        })
    }

    /// Evaluates `exprs` on one grid, choosing its interval from `qs` and
    /// re-evaluating when the series read have a coarser (or finer) native
    /// resolution than assumed. Returns one set per expression, the grid,
    /// and the request's budget after it.
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        org: OrgId,
        refs: &[(String, String, MetricQuery)],
        exprs: &[&Expr],
        qs: &[&MetricQuery],
        from_ms: i64,
        to_ms: i64,
        interval: Option<u32>,
        budget: (usize, u64),
    ) -> Result<Pass, QueryError> {
        let mut native = DEFAULT_NATIVE_SECS;
        let mut pass = 0;
        loop {
            pass += 1;
            let step = choose_interval(qs, from_ms, to_ms, native, interval);
            let grid = Grid::aligned(from_ms, to_ms, step);
            let ev = Evaluator::new(&self.engine, self.limits, self.threads, org, refs)
                .with_budget(budget);
            ev.check_buckets(grid.len)?;
            let mut sets = Vec::with_capacity(exprs.len());
            for e in exprs {
                sets.push(ev.eval(e, grid)?.into_set(grid.len));
            }
            let seen = ev.native_seen().unwrap_or(native);
            let (series, points) = ev.budget();
            if pass >= MAX_PASSES
                || seen == native
                || choose_interval(qs, from_ms, to_ms, seen, interval) == step
            {
                tracing::debug!(
                    pass,
                    interval_secs = step,
                    buckets = grid.len,
                    series,
                    estimated_points = points,
                    "query evaluated"
                );
                return Ok(Pass {
                    sets,
                    grid,
                    budget: ev.budget(),
                });
            }
            tracing::debug!(
                assumed_secs = native,
                native_secs = seen,
                "native resolution changes the interval; evaluating again"
            );
            native = seen;
        }
    }
}

/// The interval of a grid shared by `qs`: the largest any of them asks for,
/// each never below `native_secs` — its `.rollup(_, seconds)`, else the
/// request's interval, else [`default_interval_secs`].
fn choose_interval(
    qs: &[&MetricQuery],
    from_ms: i64,
    to_ms: i64,
    native_secs: u32,
    interval: Option<u32>,
) -> u32 {
    let default = || {
        interval.map_or_else(
            || default_interval_secs(from_ms, to_ms, native_secs),
            |i| i.max(native_secs),
        )
    };
    if qs.is_empty() {
        return default();
    }
    qs.iter()
        .map(|q| match Options::of(q).rollup_secs {
            Some(s) => s.max(native_secs).max(1),
            None => default(),
        })
        .max()
        .unwrap_or_else(default)
}

fn check_range(from_ms: i64, to_ms: i64) -> Result<(), QueryError> {
    if to_ms <= from_ms {
        return Err(QueryError::Invalid {
            position: None,
            message: "`to` must be after `from`".into(),
        });
    }
    Ok(())
}

/// The buckets to report: all when `dense`, else from the first to the
/// last value; `None` when there is nothing to report.
fn visible(v: &[f64], dense: bool) -> Option<(usize, usize)> {
    if dense {
        return (!v.is_empty()).then_some((0, v.len()));
    }
    let a = v.iter().position(|x| !x.is_nan())?;
    let b = v.iter().rposition(|x| !x.is_nan())? + 1;
    Some((a, b))
}

/// NaN and infinities (which JSON cannot carry) are reported as null.
fn value(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

fn mean(v: &[f64]) -> Option<f64> {
    let (s, n) = v
        .iter()
        .filter(|x| !x.is_nan())
        .fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| s / n as f64)
}
