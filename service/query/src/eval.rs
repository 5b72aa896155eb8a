//! The expression evaluator: walks the syntax tree on a grid, charging
//! every read against the query's limits.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use whippet_ddql::{Expr, Func, MetricQuery};
use whippet_tsdb::{Engine, OrgId, SeriesMeta};

use crate::arith;
use crate::error::QueryError;
use crate::funcs;
use crate::grid::Grid;
use crate::limits::QueryLimits;
use crate::metric::native_secs;
use crate::series::{SeriesSet, Value};

/// Most buckets the storage engine aggregates per series in one call
/// (`whippet_tsdb`'s `MAX_BUCKETS`, which it does not export).
const STORAGE_MAX_BUCKETS: usize = 1 << 20;

/// State of one evaluation pass of one request.
pub(crate) struct Evaluator<'a> {
    pub engine: &'a Engine,
    pub limits: QueryLimits,
    pub threads: usize,
    pub org: OrgId,
    /// v2 named queries that `Expr::Ref` leaves resolve to.
    pub refs: &'a [(String, String, MetricQuery)],
    /// Series selected so far (limit `max_series`).
    series_read: Cell<usize>,
    /// Raw points estimated so far (limit `max_points`).
    points_read: Cell<u64>,
    /// Coarsest native resolution among the series read, seconds (0: none).
    native_seen: Cell<u32>,
    /// Named queries already evaluated, per grid.
    ref_cache: RefCell<HashMap<(usize, Grid), SeriesSet>>,
}

impl<'a> Evaluator<'a> {
    pub fn new(
        engine: &'a Engine,
        limits: QueryLimits,
        threads: usize,
        org: OrgId,
        refs: &'a [(String, String, MetricQuery)],
    ) -> Self {
        Evaluator {
            engine,
            limits,
            threads,
            org,
            refs,
            series_read: Cell::new(0),
            points_read: Cell::new(0),
            native_seen: Cell::new(0),
            ref_cache: RefCell::new(HashMap::new()),
        }
    }

    /// Starts the budget where earlier expressions of the request left it.
    pub fn with_budget(self, (series, points): (usize, u64)) -> Self {
        self.series_read.set(series);
        self.points_read.set(points);
        self
    }

    /// Series selected and raw points estimated so far.
    pub fn budget(&self) -> (usize, u64) {
        (self.series_read.get(), self.points_read.get())
    }

    /// The coarsest native resolution among the series read, if any.
    pub fn native_seen(&self) -> Option<u32> {
        Some(self.native_seen.get()).filter(|&n| n > 0)
    }

    /// Newest timestamp the storage can hold: later grids are empty.
    pub fn newest_ms(&self) -> i64 {
        let c = self.engine.config();
        c.clock.now_ms().saturating_add(c.max_future_ms)
    }

    /// Charges a read of `metas` over `range_ms` against the limits.
    pub fn charge(&self, metas: &[SeriesMeta], range_ms: i64) -> Result<(), QueryError> {
        let n = self.series_read.get().saturating_add(metas.len());
        self.series_read.set(n);
        if n > self.limits.max_series {
            return Err(QueryError::TooLarge {
                message: format!(
                    "the query selects {n} series, more than the limit of {} (max_series); narrow the scope",
                    self.limits.max_series
                ),
            });
        }
        let range = u64::try_from(range_ms.max(0)).unwrap_or(0);
        let mut points = self.points_read.get();
        let mut native = self.native_seen.get();
        for m in metas {
            let ns = native_secs(m.mtype);
            native = native.max(ns);
            points = points.saturating_add(range.div_ceil(u64::from(ns) * 1000));
        }
        self.native_seen.set(native);
        self.points_read.set(points);
        if points > self.limits.max_points {
            return Err(QueryError::TooLarge {
                message: format!(
                    "the query would read about {points} raw points, more than the limit of {} (max_points); narrow the scope or the time range",
                    self.limits.max_points
                ),
            });
        }
        Ok(())
    }

    /// Refuses grids longer than any answer may be.
    pub fn check_buckets(&self, len: usize) -> Result<(), QueryError> {
        if len > self.limits.max_output_points || len > STORAGE_MAX_BUCKETS {
            return Err(QueryError::TooLarge {
                message: format!(
                    "the query asks for {len} points per series, more than the limit of {} (max_output_points); use a larger rollup interval or a shorter time range",
                    self.limits.max_output_points.min(STORAGE_MAX_BUCKETS)
                ),
            });
        }
        Ok(())
    }

    /// Evaluates `e` on `grid`.
    pub fn eval(&self, e: &Expr, grid: Grid) -> Result<Value, QueryError> {
        match e {
            Expr::Number { value, .. } => Ok(Value::Scalar(*value)),
            Expr::Query(q) => Ok(Value::Set(self.metric(q, grid)?)),
            Expr::Ref { name, span } => {
                let Some(i) = self.refs.iter().position(|r| r.0 == *name) else {
                    return Err(QueryError::invalid_at(
                        span.start,
                        if self.refs.is_empty() {
                            format!(
                                "`{name}` is not a metric query (query names can only be used in formulas)"
                            )
                        } else {
                            format!(
                                "the formula refers to `{name}`, which is not the name of a query"
                            )
                        },
                    ));
                };
                if let Some(s) = self.ref_cache.borrow().get(&(i, grid)) {
                    return Ok(Value::Set(s.clone()));
                }
                let s = self.metric(&self.refs[i].2, grid)?;
                self.ref_cache.borrow_mut().insert((i, grid), s.clone());
                Ok(Value::Set(s))
            }
            Expr::Binary { op, lhs, rhs, .. } => {
                let l = self.eval(lhs, grid)?;
                let r = self.eval(rhs, grid)?;
                Ok(arith::binary(*op, l, r))
            }
            Expr::Neg { expr, .. } => Ok(match self.eval(expr, grid)? {
                Value::Scalar(v) => Value::Scalar(-v),
                Value::Set(mut s) => {
                    for x in &mut s.series {
                        x.values.iter_mut().for_each(|v| *v = -*v);
                    }
                    Value::Set(s)
                }
            }),
            Expr::Call { func, arg, .. } => self.call(func, arg, grid),
        }
    }

    fn call(&self, func: &Func, arg: &Expr, grid: Grid) -> Result<Value, QueryError> {
        match *func {
            // The argument over the shifted window; bucket i of the result
            // is bucket i of the shifted grid, so timestamps move back.
            Func::Timeshift { seconds } => {
                self.eval(arg, grid.shifted(seconds.saturating_mul(1000)))
            }
            Func::MovingRollup { seconds, agg } => {
                let window = usize::try_from((i64::from(seconds) / grid.step_secs()).max(1))
                    .unwrap_or(usize::MAX);
                let back = window - 1;
                self.check_buckets(grid.len.saturating_add(back))?;
                let ext = grid.extended_back(back);
                let mut set = self.eval(arg, ext)?.into_set(ext.len);
                for s in &mut set.series {
                    s.values = funcs::moving_rollup(&s.values, window, agg);
                    s.counts = false;
                }
                Ok(Value::Set(set))
            }
            _ => match self.eval(arg, grid)? {
                Value::Scalar(v) if is_pointwise(func) => {
                    let set = funcs::apply(func, Value::Scalar(v).into_set(1), grid.step_secs());
                    Ok(Value::Scalar(set.series[0].values[0]))
                }
                v => Ok(Value::Set(funcs::apply(
                    func,
                    v.into_set(grid.len),
                    grid.step_secs(),
                ))),
            },
        }
    }
}

fn is_pointwise(f: &Func) -> bool {
    matches!(
        f,
        Func::Abs
            | Func::Log2
            | Func::Log10
            | Func::ClampMin(_)
            | Func::ClampMax(_)
            | Func::CutoffMin(_)
            | Func::CutoffMax(_)
    )
}

/// The metric queries of an expression, left to right.
pub(crate) fn leaves<'e>(e: &'e Expr, out: &mut Vec<&'e MetricQuery>) {
    match e {
        Expr::Query(q) => out.push(q),
        Expr::Number { .. } | Expr::Ref { .. } => {}
        Expr::Binary { lhs, rhs, .. } => {
            leaves(lhs, out);
            leaves(rhs, out);
        }
        Expr::Neg { expr, .. } => leaves(expr, out),
        Expr::Call { arg, .. } => leaves(arg, out),
    }
}
