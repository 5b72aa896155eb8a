//! The evaluator: a parsed expression over a grid of evaluation times.
//!
//! ## What it owns
//! Evaluating every node over all steps of a query at once, as Prometheus'
//! engine does: a selector is read from storage once for the whole range
//! (from the first step's time minus offset, lookback or range, to the last
//! step's), then sliced per step; a subquery evaluates its inner expression
//! once over its own grid of steps aligned to multiples of its step; binary
//! operators, aggregations and function calls work on the slices. Lookback
//! and staleness (`[t - lookback, t]` as Prometheus 2.42 bounds it, a
//! staleness marker as the newest sample hiding the series), range windows
//! `[t - range, t]` (both ends included in 2.x, markers removed), `offset`,
//! `@` (`start()`, `end()` are the query's), literals, unary minus, and the
//! sample limit.
//!
//! ## Whole-range paths
//! The common shapes skip the per-step machinery (an argument list and a
//! label-keyed hash per step and series), with the same answers, order and
//! errors as the per-step path (`testdata/fastpaths.test`, checked equal to
//! it, and `tests/parallel.rs`):
//! - a range-vector function whose other arguments are scalars
//!   ([`RangeFn`]) runs series by series, its window sliding along the
//!   sorted samples, on several threads for large reads
//!   ([`crate::parallel`]);
//! - an element-wise function of one instant vector maps each series'
//!   values once;
//! - `sum avg min max count group stddev stdvar` keep one accumulator per
//!   group ([`Acc`]) and build each group's series once.
//!
//! Labels are shared ([`Labels`] is an `Arc`), so handing them to a step
//! or an answer never copies strings.
//!
//! ## What it must never do
//! Compute a function's value itself (that is [`crate::functions`], also
//! for the whole-range paths; only `absent` and `absent_over_time`, which
//! need the syntax tree, are here), read a selector once per step, or
//! answer two series with the same labels at one step where Prometheus
//! refuses ("vector cannot contain metrics with the same labelset").

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use promql_parser::label::MatchOp;
use promql_parser::parser::token::{T_LIMIT_RATIO, T_LIMITK};
use promql_parser::parser::value::ValueType;
use promql_parser::parser::{
    AggregateExpr, AtModifier, BinaryExpr, Call, Expr, LabelModifier, MatrixSelector, Offset,
    SubqueryExpr, VectorSelector,
};
use whippet_tsdb::{Engine, OrgId};

use crate::aggregate::{self, Acc, Grouping, In, Param};
use crate::binary::{self, Matching, Side, StepSample};
use crate::engine::EvalOptions;
use crate::error::{PromError, Result};
use crate::functions::whole::{self, RangeFn};
use crate::functions::{self, CallCtx, FnArg, FnValue};
use crate::label_memo::LabelMemo;
use crate::select::{self, RawSeries};
use crate::value::{InstantSample, Labels, METRIC_NAME, Sample, Series};

/// A subquery's step when it names none: Prometheus' default global
/// `evaluation_interval` (1 minute), which the query API uses for
/// subqueries whatever the range query's own step.
pub const DEFAULT_SUBQUERY_STEP_MS: i64 = 60_000;

/// The evaluation times: `start`, `start + step`, ... up to `end`.
#[derive(Debug, Clone, Copy)]
pub struct Grid {
    /// First time (ms).
    pub start: i64,
    /// Last time (ms), included when on the grid.
    pub end: i64,
    /// Distance between times (ms, > 0).
    pub step: i64,
}

impl Grid {
    /// A single time.
    pub fn instant(t: i64) -> Grid {
        Grid {
            start: t,
            end: t,
            step: 1,
        }
    }

    /// Number of times (0 when `end < start`).
    pub fn len(&self) -> usize {
        if self.end < self.start {
            0
        } else {
            usize::try_from((self.end - self.start) / self.step + 1).unwrap_or(0)
        }
    }

    /// True without times.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The i-th time.
    pub fn time(&self, i: usize) -> i64 {
        self.start + i as i64 * self.step
    }
}

/// An instant-vector series over a grid: the steps where it has a value.
#[derive(Debug, Clone)]
pub struct VSeries {
    /// The labels.
    pub labels: Labels,
    /// Step indexes, ascending.
    pub steps: Vec<u32>,
    /// The value at each of `steps`.
    pub vals: Vec<f64>,
    /// For a plain selector, the time of the sample found at each step (for
    /// `timestamp()`); empty otherwise.
    pub ts: Vec<i64>,
}

/// What a node evaluates to over a grid.
#[derive(Debug, Clone)]
pub enum Val {
    /// A scalar per step.
    Scalar(Vec<f64>),
    /// A string.
    Str(String),
    /// An instant vector per step.
    Vector(Vec<VSeries>),
    /// A range vector (only over a single-time grid: an instant query of a
    /// range selector or subquery).
    Matrix(Vec<Series>),
}

/// A range-vector argument: series with their samples (no staleness
/// markers) and how a step's time becomes a window.
pub(crate) struct RangeArg {
    pub(crate) series: Vec<RawSeries>,
    pub(crate) range: i64,
    pub(crate) offset: i64,
    pub(crate) at: Option<i64>,
}

impl RangeArg {
    /// The indexes of the samples of series `s` in the window of step
    /// time `t`: `[r - range, r]` with `r = (@ or t) - offset`.
    fn window(&self, s: &RawSeries, t: i64) -> (usize, usize) {
        let r = self.at.unwrap_or(t) - self.offset;
        let lo = s.ts.partition_point(|&x| x < r - self.range);
        let hi = s.ts.partition_point(|&x| x <= r);
        (lo, hi.max(lo))
    }

    /// The range vector at step time `t`: each series with samples in its
    /// window (see [`RangeArg::window`]), and the number of samples copied.
    fn matrix_at(&self, t: i64) -> (Vec<Series>, usize) {
        let mut out = Vec::new();
        let mut samples = 0;
        for s in &self.series {
            let (lo, hi) = self.window(s, t);
            if lo < hi {
                samples += hi - lo;
                out.push(s.window_series(lo, hi));
            }
        }
        (out, samples)
    }
}

/// Collects step results into series, refusing two samples with the same
/// labels at one step.
#[derive(Default)]
struct Builder {
    index: HashMap<Labels, usize>,
    out: Vec<VSeries>,
}

impl Builder {
    fn push(&mut self, step: u32, labels: Labels, v: f64) -> Result<()> {
        match self.index.get(&labels) {
            Some(&i) => {
                let s = &mut self.out[i];
                if s.steps.last() == Some(&step) {
                    return Err(dup_labelset());
                }
                s.steps.push(step);
                s.vals.push(v);
            }
            None => {
                self.index.insert(labels.clone(), self.out.len());
                self.out.push(VSeries {
                    labels,
                    steps: vec![step],
                    vals: vec![v],
                    ts: Vec::new(),
                });
            }
        }
        Ok(())
    }
}

pub(crate) fn dup_labelset() -> PromError {
    PromError::Execution("vector cannot contain metrics with the same labelset".into())
}

/// Walks a vector's series step by step.
struct Cursor {
    pos: Vec<usize>,
}

impl Cursor {
    fn new(n: usize) -> Cursor {
        Cursor { pos: vec![0; n] }
    }

    /// The (series, point) indexes present at `step` (steps must be asked
    /// in increasing order).
    fn at(&mut self, series: &[VSeries], step: u32, out: &mut Vec<(usize, usize)>) {
        out.clear();
        for (i, s) in series.iter().enumerate() {
            let p = &mut self.pos[i];
            while *p < s.steps.len() && s.steps[*p] < step {
                *p += 1;
            }
            if *p < s.steps.len() && s.steps[*p] == step {
                out.push((i, *p));
            }
        }
    }
}

/// Milliseconds since the epoch of a parsed `@` time.
fn system_time_ms(t: &SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

pub(crate) fn offset_ms(o: Option<&Offset>) -> i64 {
    match o {
        Some(Offset::Pos(d)) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Some(Offset::Neg(d)) => -i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        None => 0,
    }
}

fn duration_ms(d: &std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Strips parentheses.
pub fn unwrap_parens(mut e: &Expr) -> &Expr {
    while let Expr::Paren(p) = e {
        e = &p.expr;
    }
    e
}

/// The evaluation of one query.
pub struct Evaluator<'a> {
    engine: &'a Engine,
    org: OrgId,
    opts: &'a EvalOptions,
    /// The labels of series already seen, shared with other queries.
    memo: &'a LabelMemo,
    /// The query's first and last evaluation time (`start()`, `end()`).
    query_start: i64,
    query_end: i64,
    /// Samples loaded so far (storage reads and intermediate results).
    samples: usize,
}

impl<'a> Evaluator<'a> {
    /// An evaluator of a query whose steps run from `query_start` to
    /// `query_end`.
    pub fn new(
        engine: &'a Engine,
        org: OrgId,
        opts: &'a EvalOptions,
        memo: &'a LabelMemo,
        query_start: i64,
        query_end: i64,
    ) -> Evaluator<'a> {
        Evaluator {
            engine,
            org,
            opts,
            memo,
            query_start,
            query_end,
            samples: 0,
        }
    }

    fn add_samples(&mut self, n: usize) -> Result<()> {
        self.samples = self.samples.saturating_add(n);
        if self.samples > self.opts.max_samples {
            return Err(PromError::Execution(
                "query processing would load too many samples into memory in query execution"
                    .into(),
            ));
        }
        Ok(())
    }

    fn at_ms(&self, at: Option<&AtModifier>) -> Option<i64> {
        at.map(|a| match a {
            AtModifier::Start => self.query_start,
            AtModifier::End => self.query_end,
            AtModifier::At(t) => system_time_ms(t),
        })
    }

    /// Evaluates `e` at every time of `g`.
    pub fn eval(&mut self, e: &Expr, g: &Grid) -> Result<Val> {
        match e {
            Expr::NumberLiteral(n) => Ok(Val::Scalar(vec![n.val; g.len()])),
            Expr::StringLiteral(s) => Ok(Val::Str(s.val.clone())),
            Expr::Paren(p) => self.eval(&p.expr, g),
            Expr::Unary(u) => match self.eval(&u.expr, g)? {
                Val::Scalar(v) => Ok(Val::Scalar(v.into_iter().map(|x| -x).collect())),
                Val::Vector(vs) => {
                    // Prometheus checks whole series here, not steps: two
                    // series that differ only by name are refused even if
                    // they never have a value at the same time.
                    let mut series = vs;
                    let mut seen = std::collections::HashSet::new();
                    for s in &mut series {
                        s.labels.remove(METRIC_NAME);
                        s.vals.iter_mut().for_each(|x| *x = -*x);
                        s.ts.clear();
                        if !seen.insert(s.labels.clone()) {
                            return Err(dup_labelset());
                        }
                    }
                    Ok(Val::Vector(series))
                }
                _ => Err(PromError::Execution(
                    "unary minus needs a scalar or an instant vector".into(),
                )),
            },
            Expr::VectorSelector(vs) => Ok(Val::Vector(self.select_instant(vs, g)?)),
            Expr::MatrixSelector(_) | Expr::Subquery(_) => {
                if g.len() != 1 {
                    return Err(PromError::BadData(
                        "invalid expression type \"range vector\" for range query, must be Scalar or instant Vector"
                            .into(),
                    ));
                }
                let t = g.start;
                let arg = self.range_arg(e, g)?;
                Ok(Val::Matrix(arg.matrix_at(t).0))
            }
            Expr::Aggregate(a) => self.eval_aggregate(a, g),
            Expr::Binary(b) => self.eval_binary(b, g),
            Expr::Call(c) => self.eval_call(c, g),
            Expr::Extension(_) => Err(PromError::Execution(
                "extension expressions are not supported".into(),
            )),
        }
    }

    /// A plain vector selector at every step: each series' newest sample
    /// in `[r - lookback, r]`, `r = (@ or t) - offset`, unless it is a
    /// staleness marker.
    fn select_instant(&mut self, vs: &VectorSelector, g: &Grid) -> Result<Vec<VSeries>> {
        let n = g.len();
        if n == 0 {
            return Ok(Vec::new());
        }
        let offset = offset_ms(vs.offset.as_ref());
        let at = self.at_ms(vs.at.as_ref());
        let refs = |i: usize| at.unwrap_or_else(|| g.time(i)) - offset;
        let (lo_ref, hi_ref) = match at {
            Some(a) => (a - offset, a - offset),
            None => (g.start - offset, g.time(n - 1) - offset),
        };
        let lookback = self.opts.lookback_ms;
        let raw = self.read(&select::all_matchers(vs)?, lo_ref - lookback, hi_ref)?;
        let mut out = Vec::with_capacity(raw.len());
        let mut kept = 0usize;
        for s in raw {
            let mut v = VSeries {
                labels: s.labels,
                steps: Vec::new(),
                vals: Vec::new(),
                ts: Vec::new(),
            };
            for i in 0..n {
                let r = refs(i);
                let idx = s.ts.partition_point(|&x| x <= r);
                if idx == 0 {
                    continue;
                }
                let j = idx - 1;
                if s.ts[j] < r - lookback || select::is_stale(s.vs[j]) {
                    continue;
                }
                v.steps.push(i as u32);
                v.vals.push(s.vs[j]);
                v.ts.push(s.ts[j]);
            }
            if !v.steps.is_empty() {
                kept += v.steps.len();
                out.push(v);
            }
        }
        self.add_samples(kept)?;
        Ok(out)
    }

    fn read(
        &mut self,
        matchers: &[promql_parser::label::Matcher],
        start: i64,
        end: i64,
    ) -> Result<Vec<RawSeries>> {
        let raw = select::read_series(self.engine, self.memo, self.org, matchers, start, end)?;
        self.add_samples(raw.iter().map(|s| s.ts.len()).sum())?;
        Ok(raw)
    }

    /// A range-vector expression (a matrix selector or a subquery, in
    /// parentheses or not) read or evaluated once for all steps of `g`.
    fn range_arg(&mut self, e: &Expr, g: &Grid) -> Result<RangeArg> {
        let n = g.len();
        match unwrap_parens(e) {
            Expr::MatrixSelector(MatrixSelector { vs, range }) => {
                let range = duration_ms(range);
                let offset = offset_ms(vs.offset.as_ref());
                let at = self.at_ms(vs.at.as_ref());
                let (lo, hi) = match at {
                    Some(a) => (a - offset, a - offset),
                    None => (g.start - offset, g.time(n.max(1) - 1) - offset),
                };
                let mut series = self.read(&select::all_matchers(vs)?, lo - range, hi)?;
                for s in &mut series {
                    if s.vs.iter().any(|&v| select::is_stale(v)) {
                        let (ts, vs): (Vec<i64>, Vec<f64>) =
                            s.ts.iter()
                                .zip(&s.vs)
                                .filter(|(_, v)| !select::is_stale(**v))
                                .map(|(t, v)| (*t, *v))
                                .unzip();
                        s.ts = ts;
                        s.vs = vs;
                    }
                }
                Ok(RangeArg {
                    series,
                    range,
                    offset,
                    at,
                })
            }
            Expr::Subquery(sq) => self.subquery(sq, g),
            other => Err(PromError::Execution(format!(
                "expected a range vector, got {other}"
            ))),
        }
    }

    /// Evaluates a subquery's expression over its own grid: the multiples
    /// of its step from the first one at or after the earliest window's
    /// start to the latest window's end.
    fn subquery(&mut self, sq: &SubqueryExpr, g: &Grid) -> Result<RangeArg> {
        let n = g.len();
        let range = duration_ms(&sq.range);
        let offset = offset_ms(sq.offset.as_ref());
        let at = self.at_ms(sq.at.as_ref());
        let step = sq
            .step
            .as_ref()
            .map(duration_ms)
            .filter(|&s| s > 0)
            .unwrap_or(DEFAULT_SUBQUERY_STEP_MS);
        let (lo, hi) = match at {
            Some(a) => (a - offset, a - offset),
            None => (g.start - offset, g.time(n.max(1) - 1) - offset),
        };
        let first = lo - range;
        let mut start = first.div_euclid(step) * step;
        if start < first {
            start += step;
        }
        let inner = Grid {
            start,
            end: hi,
            step,
        };
        let series = match self.eval(&sq.expr, &inner)? {
            Val::Vector(vs) => vs
                .into_iter()
                .map(|s| RawSeries {
                    labels: s.labels,
                    bare: None,
                    ts: s.steps.iter().map(|&k| inner.time(k as usize)).collect(),
                    vs: s.vals,
                })
                .collect(),
            Val::Scalar(v) => vec![RawSeries {
                labels: Labels::default(),
                bare: None,
                ts: (0..v.len()).map(|k| inner.time(k)).collect(),
                vs: v,
            }],
            _ => {
                return Err(PromError::Execution(
                    "subquery is only allowed on instant vector".into(),
                ));
            }
        };
        Ok(RangeArg {
            series,
            range,
            offset,
            at,
        })
    }

    fn eval_aggregate(&mut self, a: &AggregateExpr, g: &Grid) -> Result<Val> {
        let op = a.op.id();
        if op == T_LIMITK || op == T_LIMIT_RATIO {
            return Err(PromError::Execution(format!(
                "{} is not in Prometheus 2.42",
                a.op
            )));
        }
        let n = g.len();
        let param = match &a.param {
            Some(p) => Some(self.eval(p, g)?),
            None => None,
        };
        let Val::Vector(input) = self.eval(&a.expr, g)? else {
            return Err(PromError::Execution(
                "aggregation needs an instant vector".into(),
            ));
        };
        let grouping = match &a.modifier {
            Some(LabelModifier::Include(l)) => Grouping {
                without: false,
                labels: l.labels.clone(),
            },
            Some(LabelModifier::Exclude(l)) => Grouping {
                without: true,
                labels: l.labels.clone(),
            },
            None => Grouping {
                without: false,
                labels: Vec::new(),
            },
        };
        // Each series' group, computed once.
        let mut groups: Vec<Labels> = Vec::new();
        // foldhash (hashbrown's), not SipHash: group labels come from
        // stored series, and hashing them was a visible cost per series.
        let mut group_index: hashbrown::HashMap<Labels, usize> = hashbrown::HashMap::new();
        let series_group: Vec<usize> = input
            .iter()
            .map(|s| {
                let key = grouping.group_of(&s.labels);
                *group_index.entry(key.clone()).or_insert_with(|| {
                    groups.push(key);
                    groups.len() - 1
                })
            })
            .collect();
        if Acc::is_simple(op) {
            return aggregate_simple(op, &input, &series_group, &groups, n).map(Val::Vector);
        }
        let mut b = Builder::default();
        let mut cur = Cursor::new(input.len());
        let mut present = Vec::new();
        let mut ins: Vec<In<'_>> = Vec::new();
        for step in 0..n {
            cur.at(&input, step as u32, &mut present);
            if present.is_empty() {
                continue;
            }
            ins.clear();
            ins.extend(present.iter().map(|&(i, p)| In {
                labels: &input[i].labels,
                group: series_group[i],
                v: input[i].vals[p],
            }));
            let p = match &param {
                None => Param::None,
                Some(Val::Scalar(v)) => Param::Number(v[step]),
                Some(Val::Str(s)) => Param::Str(s),
                Some(_) => {
                    return Err(PromError::Execution(
                        "aggregation parameter must be a scalar or a string".into(),
                    ));
                }
            };
            for (l, v) in aggregate::aggregate(op, p, &grouping, &groups, &ins)? {
                b.push(step as u32, l, v)?;
            }
        }
        Ok(Val::Vector(b.out))
    }

    fn eval_binary(&mut self, be: &BinaryExpr, g: &Grid) -> Result<Val> {
        let op = be.op.id();
        let modifier = be.modifier.as_ref();
        if modifier.is_some_and(|m| m.fill_values.lhs.is_some() || m.fill_values.rhs.is_some()) {
            return Err(PromError::Execution(
                "fill modifiers are not in Prometheus 2.42".into(),
            ));
        }
        let return_bool = be.return_bool();
        let lhs = self.eval(&be.lhs, g)?;
        let rhs = self.eval(&be.rhs, g)?;
        match (lhs, rhs) {
            (Val::Scalar(l), Val::Scalar(r)) => {
                let mut out = Vec::with_capacity(l.len());
                for (a, b) in l.into_iter().zip(r) {
                    out.push(binary::scalar_scalar(op, a, b)?);
                }
                Ok(Val::Scalar(out))
            }
            (Val::Vector(v), Val::Scalar(s)) => vector_scalar(op, v, &s, false, return_bool),
            (Val::Scalar(s), Val::Vector(v)) => vector_scalar(op, v, &s, true, return_bool),
            (Val::Vector(l), Val::Vector(r)) => {
                let m = Matching::of(
                    modifier.and_then(|m| m.matching.as_ref()),
                    modifier.map(|m| &m.card),
                );
                self.vector_vector(op, &l, &r, &m, return_bool, g.len())
            }
            _ => Err(PromError::Execution(
                "binary expression must contain only scalar and instant vector types".into(),
            )),
        }
    }

    fn vector_vector(
        &mut self,
        op: promql_parser::parser::token::TokenId,
        l: &[VSeries],
        r: &[VSeries],
        m: &Matching,
        return_bool: bool,
        n: usize,
    ) -> Result<Val> {
        // Each series' match signature, numbered once for all steps.
        let mut sigs: HashMap<Labels, u32> = HashMap::new();
        let mut number = |s: &VSeries| {
            let next = sigs.len() as u32;
            *sigs.entry(m.signature(&s.labels)).or_insert(next)
        };
        let lsig: Vec<u32> = l.iter().map(&mut number).collect();
        let rsig: Vec<u32> = r.iter().map(&mut number).collect();
        let mut cache = binary::LabelCache::new();
        let mut b = Builder::default();
        let (mut cl, mut cr) = (Cursor::new(l.len()), Cursor::new(r.len()));
        let (mut pl, mut pr) = (Vec::new(), Vec::new());
        let set = binary::is_set_op(op);

        let (mut ls, mut rs) = (Vec::new(), Vec::new());
        for step in 0..n {
            let step32 = step as u32;
            cl.at(l, step32, &mut pl);
            cr.at(r, step32, &mut pr);
            if pl.is_empty() && pr.is_empty() {
                continue;
            }
            ls.clear();
            ls.extend(pl.iter().map(|&x| step_sample(l, &lsig, x)));
            rs.clear();
            rs.extend(pr.iter().map(|&x| step_sample(r, &rsig, x)));
            if set {
                for side in binary::set_op(op, &ls, &rs) {
                    let s: &StepSample<'_> = match side {
                        Side::Left(i) => &ls[i],
                        Side::Right(j) => &rs[j],
                    };
                    b.push(step32, s.labels.clone(), s.v)?;
                }
            } else {
                if ls.is_empty() || rs.is_empty() {
                    continue;
                }
                for (lab, v) in binary::vector_vector(op, &ls, &rs, m, return_bool, &mut cache)? {
                    b.push(step32, lab, v)?;
                }
            }
        }
        Ok(Val::Vector(b.out))
    }

    fn eval_call(&mut self, c: &Call, g: &Grid) -> Result<Val> {
        let name = c.func.name;
        let n = g.len();
        let args: Vec<&Expr> = c.args.args.iter().map(|a| unwrap_parens(a)).collect();
        if name == "absent" || name == "absent_over_time" {
            let arg = args
                .first()
                .ok_or_else(|| PromError::Execution(format!("{name} needs one argument")))?;
            let labels = absent_labels(arg);
            let mut present = vec![false; n];
            if name == "absent" {
                let Val::Vector(v) = self.eval(arg, g)? else {
                    return Err(PromError::Execution(
                        "absent needs an instant vector".into(),
                    ));
                };
                for s in &v {
                    for &k in &s.steps {
                        present[k as usize] = true;
                    }
                }
            } else {
                let ra = self.range_arg(arg, g)?;
                for (i, p) in present.iter_mut().enumerate() {
                    let t = g.time(i);
                    *p = ra.series.iter().any(|s| {
                        let (lo, hi) = ra.window(s, t);
                        lo < hi
                    });
                }
            }
            let mut b = Builder::default();
            for (i, p) in present.iter().enumerate() {
                if !p {
                    b.push(i as u32, labels.clone(), 1.0)?;
                }
            }
            return Ok(Val::Vector(b.out));
        }
        // `<agg>_over_time` whose windows tile the steps: buckets in the
        // storage engine (see `pushdown`), unless it has to fall back.
        if let Some(plan) = crate::pushdown::plan(c, g)
            && let Some((out, samples)) =
                crate::pushdown::run(self.engine, self.memo, self.org, &plan)?
        {
            self.add_samples(samples)?;
            return Ok(Val::Vector(out));
        }
        // A function of a plain matrix selector: series by series as they
        // are read (see `stream`).
        if let Some(rf) = RangeFn::of(name)
            && rf.params() == 0
            && !matches!(c.func.return_type, ValueType::Scalar)
            && let [Expr::MatrixSelector(MatrixSelector { vs, range })] = &args[..]
            && vs.at.is_none()
        {
            let plan = crate::stream::Plan {
                vs,
                range: duration_ms(range),
                offset: offset_ms(vs.offset.as_ref()),
                rf,
            };
            let (engine, memo, org) = (self.engine, self.memo, self.org);
            let out =
                crate::stream::run(engine, memo, org, &plan, g, |read| self.add_samples(read))?;
            let total = out.iter().map(|s| s.steps.len()).sum();
            self.add_samples(total)?;
            return Ok(Val::Vector(out));
        }
        // Evaluate the arguments once for all steps.
        enum A {
            Scalar(Vec<f64>),
            Str(String),
            Vector(Vec<VSeries>, Cursor, bool),
            Range(RangeArg),
        }
        let mut evaluated: Vec<A> = Vec::with_capacity(args.len());
        let (mut range_ms, mut offset_ms, mut range_at) = (0, 0, None);
        for a in &args {
            let a = *a;
            if a.value_type() == ValueType::Matrix {
                let ra = self.range_arg(a, g)?;
                (range_ms, offset_ms, range_at) = (ra.range, ra.offset, ra.at);
                evaluated.push(A::Range(ra));
                continue;
            }
            let plain = matches!(a, Expr::VectorSelector(_));
            evaluated.push(match self.eval(a, g)? {
                Val::Scalar(v) => A::Scalar(v),
                Val::Str(s) => A::Str(s),
                Val::Vector(v) => {
                    let cur = Cursor::new(v.len());
                    A::Vector(v, cur, plain)
                }
                Val::Matrix(_) => {
                    return Err(PromError::Execution(format!(
                        "unexpected range vector argument to {name}"
                    )));
                }
            });
        }
        let scalar_out = c.func.return_type == ValueType::Scalar;
        let range_index = evaluated.iter().position(|a| matches!(a, A::Range(_)));
        let has_vector = evaluated.iter().any(|a| matches!(a, A::Vector(..)));
        if let (Some(ri), false, false) = (range_index, has_vector, scalar_out) {
            if let Some(rf) = RangeFn::of(name) {
                let mut scalars: Vec<&[f64]> = Vec::new();
                for a in &evaluated {
                    if let A::Scalar(v) = a {
                        scalars.push(v);
                    }
                }
                if scalars.len() == rf.params() && scalars.len() + 1 == evaluated.len() {
                    let A::Range(ra) = &evaluated[ri] else {
                        unreachable!("range_index points at a range argument");
                    };
                    let out = range_fn_whole(rf, ra, &scalars, g)?;
                    let total = out.iter().map(|s| s.steps.len()).sum();
                    self.add_samples(total)?;
                    return Ok(Val::Vector(out));
                }
            }
            // As Prometheus does: the function is called per series and
            // step, and two input series whose results have the same
            // labels are refused, whenever their values are.
            let A::Range(ra) = &evaluated[ri] else {
                unreachable!("range_index points at a range argument");
            };
            let mut b = Builder::default();
            let mut produced_by: HashMap<Labels, usize> = HashMap::new();
            for (si, s) in ra.series.iter().enumerate() {
                for step in 0..n {
                    let t = g.time(step);
                    let (lo, hi) = ra.window(s, t);
                    if lo == hi {
                        continue;
                    }
                    let mut fargs = Vec::with_capacity(evaluated.len());
                    for (k, a) in evaluated.iter().enumerate() {
                        fargs.push(match a {
                            A::Scalar(v) => FnArg::Scalar(v[step]),
                            A::Str(x) => FnArg::String(x.clone()),
                            A::Range(_) if k == ri => FnArg::Matrix(vec![s.window_series(lo, hi)]),
                            _ => {
                                return Err(PromError::Execution(format!(
                                    "{name} takes one range vector"
                                )));
                            }
                        });
                    }
                    let ctx = CallCtx {
                        t: ra.at.unwrap_or(t),
                        range_ms: ra.range,
                        offset_ms: ra.offset,
                    };
                    let FnValue::Vector(out) = functions::call(name, fargs, ctx)? else {
                        return Err(PromError::Execution(format!(
                            "function {name} answered a value of the wrong type"
                        )));
                    };
                    for o in out {
                        if *produced_by.entry(o.labels.clone()).or_insert(si) != si {
                            return Err(dup_labelset());
                        }
                        b.push(step as u32, o.labels, o.v)?;
                    }
                }
            }
            let total = b.out.iter().map(|s| s.steps.len()).sum();
            self.add_samples(total)?;
            return Ok(Val::Vector(b.out));
        }
        if let (Some(f), [A::Vector(v, ..)]) = (whole::element_wise(name), &mut evaluated[..]) {
            let out = element_wise_whole(f, std::mem::take(v))?;
            let total = out.iter().map(|s| s.steps.len()).sum();
            self.add_samples(total)?;
            return Ok(Val::Vector(out));
        }
        let mut scalars = Vec::with_capacity(if scalar_out { n } else { 0 });
        let mut b = Builder::default();
        let mut present = Vec::new();
        for step in 0..n {
            let t = g.time(step);
            let mut fargs = Vec::with_capacity(evaluated.len());
            let mut empty_range = false;
            let mut window_samples = 0usize;
            for a in &mut evaluated {
                fargs.push(match a {
                    A::Scalar(v) => FnArg::Scalar(v[step]),
                    A::Str(s) => FnArg::String(s.clone()),
                    A::Vector(v, cur, plain) => {
                        cur.at(v, step as u32, &mut present);
                        FnArg::Vector(
                            present
                                .iter()
                                .map(|&(i, p)| InstantSample {
                                    labels: v[i].labels.clone(),
                                    t: if *plain && !v[i].ts.is_empty() {
                                        v[i].ts[p]
                                    } else {
                                        t
                                    },
                                    v: v[i].vals[p],
                                })
                                .collect(),
                        )
                    }
                    A::Range(ra) => {
                        let (m, n) = ra.matrix_at(t);
                        window_samples += n;
                        empty_range = m.is_empty();
                        FnArg::Matrix(m)
                    }
                });
            }
            // The windows of one step are held at once, then dropped.
            if self.samples.saturating_add(window_samples) > self.opts.max_samples {
                self.add_samples(window_samples)?;
            }
            if empty_range && !scalar_out {
                continue;
            }
            // With `@ t0` on the range argument, the function sees t0 as
            // its time (the functions' contract).
            let ctx = CallCtx {
                t: range_at.unwrap_or(t),
                range_ms,
                offset_ms,
            };
            match functions::call(name, fargs, ctx)? {
                FnValue::Scalar(v) if scalar_out => scalars.push(v),
                FnValue::Vector(v) if !scalar_out => {
                    for s in v {
                        b.push(step as u32, s.labels, s.v)?;
                    }
                }
                _ => {
                    return Err(PromError::Execution(format!(
                        "function {name} answered a value of the wrong type"
                    )));
                }
            }
        }
        if scalar_out {
            if scalars.len() != n {
                return Err(PromError::Execution(format!(
                    "function {name} did not answer at every step"
                )));
            }
            return Ok(Val::Scalar(scalars));
        }
        let total = b.out.iter().map(|s| s.steps.len()).sum();
        self.add_samples(total)?;
        Ok(Val::Vector(b.out))
    }
}

/// A range-vector function `rf` of `ra` at every step of `g`, series by
/// series (on several threads when there are enough samples): each
/// series' window slides along its sorted samples (no search per step),
/// and its answer's labels are made once. Answers what the per-step path
/// answers, in the same order: series in input order, two series with the
/// same resulting labels refused as soon as the second one has a value,
/// and of a duplicate and a function error the one the sequential loop
/// meets first.
fn range_fn_whole(
    rf: RangeFn,
    ra: &RangeArg,
    scalars: &[&[f64]],
    g: &Grid,
) -> Result<Vec<VSeries>> {
    let samples: usize = ra.series.iter().map(|s| s.ts.len()).sum();
    let work = samples.max(ra.series.len().saturating_mul(g.len()));
    let threads = crate::parallel::threads_for(work);
    let all: Vec<usize> = (0..ra.series.len()).collect();
    let parts = crate::parallel::map_chunks(all, threads, |part| {
        let mut window: Vec<Sample> = Vec::new();
        let mut params: Vec<f64> = Vec::with_capacity(scalars.len());
        let mut out = Vec::with_capacity(part.len());
        for si in part {
            let (v, err) = range_fn_series(rf, ra, si, scalars, g, &mut window, &mut params);
            let stop = err.is_some();
            out.push((si, v, err));
            if stop {
                break;
            }
        }
        out
    });
    let mut produced_by: HashMap<Labels, usize> = HashMap::new();
    gather_answers(parts.into_iter().flatten(), |si, v| {
        *produced_by.entry(v.labels.clone()).or_insert(si) != si
    })
}

/// The answers of a range function over its input series, given in input
/// order as `(input index, answer, error)`: the non-empty answers up to
/// the first error, which is answered; `repeats(i, answer)` says whether a
/// non-empty answer has the labels of an earlier one, refused as in
/// Prometheus.
pub(crate) fn gather_answers(
    answers: impl IntoIterator<Item = (usize, VSeries, Option<PromError>)>,
    mut repeats: impl FnMut(usize, &VSeries) -> bool,
) -> Result<Vec<VSeries>> {
    let mut out = Vec::new();
    for (si, v, err) in answers {
        if !v.steps.is_empty() {
            if repeats(si, &v) {
                return Err(dup_labelset());
            }
            if err.is_none() {
                out.push(v);
            }
        }
        if let Some(e) = err {
            return Err(e);
        }
    }
    Ok(out)
}

/// [`range_fn_whole`] for series `si`: its answer up to the first error,
/// and that error. `window` and `params` are scratch space.
pub(crate) fn range_fn_series(
    rf: RangeFn,
    ra: &RangeArg,
    si: usize,
    scalars: &[&[f64]],
    g: &Grid,
    window: &mut Vec<Sample>,
    params: &mut Vec<f64>,
) -> (VSeries, Option<PromError>) {
    let s = &ra.series[si];
    let n = g.len();
    let mut v = VSeries {
        labels: if rf.keeps_name() {
            s.labels.clone()
        } else {
            s.bare()
        },
        steps: Vec::new(),
        vals: Vec::new(),
        ts: Vec::new(),
    };
    // At most one value per step, and a sample is in at most
    // `range / step + 1` windows: reserving that bounds the reservation
    // by the input (no grow-and-copy, no step-sized vectors for a series
    // of three samples).
    let per_sample = usize::try_from(ra.range / g.step.max(1))
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    let cap = n.min(s.ts.len().saturating_mul(per_sample));
    v.steps.reserve_exact(cap);
    v.vals.reserve_exact(cap);
    let columns = rf.has_columns() && scalars.is_empty();
    let (mut lo, mut hi) = (0usize, 0usize);
    for step in 0..n {
        let t = g.time(step);
        // `r` never decreases from one step to the next, so neither do the
        // window's ends.
        let r = ra.at.unwrap_or(t) - ra.offset;
        while lo < s.ts.len() && s.ts[lo] < r - ra.range {
            lo += 1;
        }
        hi = hi.max(lo);
        while hi < s.ts.len() && s.ts[hi] <= r {
            hi += 1;
        }
        if lo == hi {
            continue;
        }
        let ctx = CallCtx {
            t: ra.at.unwrap_or(t),
            range_ms: ra.range,
            offset_ms: ra.offset,
        };
        let answer = if columns {
            // `rate` and its kin read the window where it lies.
            Ok(rf
                .apply_columns(&s.ts[lo..hi], &s.vs[lo..hi], ctx)
                .expect("has_columns"))
        } else {
            window.clear();
            window.extend(s.samples(lo, hi));
            params.clear();
            params.extend(scalars.iter().map(|p| p[step]));
            rf.apply(window, params, ctx)
        };
        match answer {
            Ok(Some(x)) => {
                v.steps.push(step as u32);
                v.vals.push(x);
            }
            Ok(None) => {}
            Err(e) => return (v, Some(e)),
        }
    }
    (v, None)
}

/// An element-wise function `f` of every value of `input` (`__name__`
/// dropped), in the order the per-step path builds its answer: by first
/// step, then input order; series whose labels became equal merge unless
/// they have values at one step (refused, as at one step).
fn element_wise_whole(f: fn(f64) -> f64, mut input: Vec<VSeries>) -> Result<Vec<VSeries>> {
    input.retain(|s| !s.steps.is_empty());
    input.sort_by_key(|s| s.steps[0]);
    for s in &mut input {
        s.labels.remove(METRIC_NAME);
        s.vals.iter_mut().for_each(|x| *x = f(*x));
        s.ts.clear();
    }
    let mut b = Builder::default();
    merge_series(&mut b, input)?;
    Ok(b.out)
}

/// A simple aggregation ([`Acc::is_simple`]) at every step, with one
/// accumulator per group reused from step to step: no label is hashed or
/// copied per step, and each group's answer series is made once, in the
/// order the per-step path makes them (first step, then first input
/// series).
fn aggregate_simple(
    op: promql_parser::parser::token::TokenId,
    input: &[VSeries],
    series_group: &[usize],
    groups: &[Labels],
    n: usize,
) -> Result<Vec<VSeries>> {
    let points: usize = input.iter().map(|s| s.steps.len()).sum();
    let slots = groups.len().saturating_mul(n);
    if slots <= points && slots <= MAX_AGGREGATION_SLOTS {
        return Ok(aggregate_simple_by_series(
            op,
            input,
            series_group,
            groups,
            n,
        ));
    }
    const NONE: usize = usize::MAX;
    let mut accs: Vec<Acc> = (0..groups.len()).map(|_| Acc::default()).collect();
    // The last step each group had a sample at, and its answer series.
    let mut seen_at: Vec<usize> = vec![NONE; groups.len()];
    let mut out_of: Vec<usize> = vec![NONE; groups.len()];
    let mut touched: Vec<usize> = Vec::new();
    let mut out: Vec<VSeries> = Vec::new();
    let mut cur = Cursor::new(input.len());
    let mut present = Vec::new();
    for step in 0..n {
        cur.at(input, step as u32, &mut present);
        touched.clear();
        for (k, &(i, p)) in present.iter().enumerate() {
            let gi = series_group[i];
            let v = input[i].vals[p];
            if seen_at[gi] == step {
                accs[gi].add(op, k, v, 0)?;
            } else {
                seen_at[gi] = step;
                accs[gi] = Acc::first(op, k, v);
                touched.push(gi);
            }
        }
        for &gi in &touched {
            if out_of[gi] == NONE {
                out_of[gi] = out.len();
                out.push(VSeries {
                    labels: groups[gi].clone(),
                    steps: Vec::new(),
                    vals: Vec::new(),
                    ts: Vec::new(),
                });
            }
            let s = &mut out[out_of[gi]];
            s.steps.push(step as u32);
            s.vals.push(accs[gi].simple_value(op));
        }
    }
    Ok(out)
}

/// Most accumulators [`aggregate_simple_by_series`] holds at once (one per
/// group and step): 256 Ki of 48 bytes, 12 MiB, enough for 500 groups
/// over 500 steps; more groups or steps go step by step with one
/// accumulator per group.
const MAX_AGGREGATION_SLOTS: usize = 1 << 18;

/// [`aggregate_simple`] series by series, with one accumulator per group
/// and step: no walk over every series at every step. Each (group, step)
/// still sees its samples in input order, so the arithmetic is the same,
/// and the groups' series come out in the same order (by first step, then
/// by the first input series there).
fn aggregate_simple_by_series(
    op: promql_parser::parser::token::TokenId,
    input: &[VSeries],
    series_group: &[usize],
    groups: &[Labels],
    n: usize,
) -> Vec<VSeries> {
    if op == promql_parser::parser::token::T_AVG {
        return crate::average::average_by_series(input, series_group, groups, n);
    }
    accumulate_by_series(op, input, series_group, groups, n)
}

/// [`aggregate_simple_by_series`] with one [`Acc`] per slot (for every
/// operator: [`crate::average`]'s test compares `avg` with it).
pub(crate) fn accumulate_by_series(
    op: promql_parser::parser::token::TokenId,
    input: &[VSeries],
    series_group: &[usize],
    groups: &[Labels],
    n: usize,
) -> Vec<VSeries> {
    const NONE: u32 = u32::MAX;
    let slots = groups.len() * n;
    let mut accs: Vec<Acc> = (0..slots).map(|_| Acc::default()).collect();
    // The first input series with a sample in each slot.
    let mut first: Vec<u32> = vec![NONE; slots];
    for (i, s) in input.iter().enumerate() {
        let base = series_group[i] * n;
        for (&step, &v) in s.steps.iter().zip(&s.vals) {
            let slot = base + step as usize;
            if first[slot] == NONE {
                first[slot] = i as u32;
                accs[slot] = Acc::first(op, 0, v);
            } else {
                // `add` fails only for operators `is_simple` refuses.
                let _ = accs[slot].add(op, 0, v, 0);
            }
        }
    }
    let mut order: Vec<(usize, u32, usize)> = (0..groups.len())
        .filter_map(|g| {
            (0..n)
                .find(|&step| first[g * n + step] != NONE)
                .map(|step| (step, first[g * n + step], g))
        })
        .collect();
    order.sort_unstable();
    order
        .into_iter()
        .map(|(_, _, g)| {
            let mut out = VSeries {
                labels: groups[g].clone(),
                steps: Vec::new(),
                vals: Vec::new(),
                ts: Vec::new(),
            };
            for step in 0..n {
                let slot = g * n + step;
                if first[slot] != NONE {
                    out.steps.push(step as u32);
                    out.vals.push(accs[slot].simple_value(op));
                }
            }
            out
        })
        .collect()
}

/// The sample at point `p` of series `i` of one side of a binary operator.
fn step_sample<'v>(side: &'v [VSeries], sig: &[u32], (i, p): (usize, usize)) -> StepSample<'v> {
    StepSample {
        labels: &side[i].labels,
        v: side[i].vals[p],
        sig: sig[i],
        series: i,
    }
}

/// `vector op scalar` (or `scalar op vector` with `swap`) over all steps.
fn vector_scalar(
    op: promql_parser::parser::token::TokenId,
    v: Vec<VSeries>,
    s: &[f64],
    swap: bool,
    return_bool: bool,
) -> Result<Val> {
    let drop_name = binary::drops_metric_name(op) || return_bool;
    let mut out = Vec::with_capacity(v.len());
    for mut series in v {
        let mut steps = Vec::with_capacity(series.steps.len());
        let mut vals = Vec::with_capacity(series.steps.len());
        for (k, &step) in series.steps.iter().enumerate() {
            if let Some(x) =
                binary::vector_scalar(op, series.vals[k], s[step as usize], swap, return_bool)?
            {
                steps.push(step);
                vals.push(x);
            }
        }
        if steps.is_empty() {
            continue;
        }
        if drop_name {
            series.labels.remove(METRIC_NAME);
        }
        out.push(VSeries {
            labels: series.labels,
            steps,
            vals,
            ts: Vec::new(),
        });
    }
    let mut b = Builder::default();
    merge_series(&mut b, out)?;
    Ok(Val::Vector(b.out))
}

/// Adds whole series to a builder: series whose labels became equal merge,
/// unless they have a value at the same step.
fn merge_series(b: &mut Builder, series: Vec<VSeries>) -> Result<()> {
    for s in series {
        match b.index.get(&s.labels) {
            None => {
                b.index.insert(s.labels.clone(), b.out.len());
                b.out.push(VSeries {
                    ts: Vec::new(),
                    ..s
                });
            }
            Some(&i) => {
                let t = &mut b.out[i];
                let mut merged: Vec<(u32, f64)> = Vec::with_capacity(t.steps.len() + s.steps.len());
                let (mut x, mut y) = (0, 0);
                while x < t.steps.len() || y < s.steps.len() {
                    if y == s.steps.len() || (x < t.steps.len() && t.steps[x] < s.steps[y]) {
                        merged.push((t.steps[x], t.vals[x]));
                        x += 1;
                    } else if x == t.steps.len() || s.steps[y] < t.steps[x] {
                        merged.push((s.steps[y], s.vals[y]));
                        y += 1;
                    } else {
                        return Err(dup_labelset());
                    }
                }
                t.steps = merged.iter().map(|p| p.0).collect();
                t.vals = merged.iter().map(|p| p.1).collect();
            }
        }
    }
    Ok(())
}

/// The labels `absent(...)` answers for its argument: the equality
/// matchers of a selector, except `__name__` and any label matched more
/// than once or otherwise than by equality.
fn absent_labels(e: &Expr) -> Labels {
    let vs = match unwrap_parens(e) {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector(ms) => &ms.vs,
        _ => return Labels::default(),
    };
    let mut set: Vec<(String, String)> = Vec::new();
    let mut dropped: Vec<&str> = Vec::new();
    for m in &vs.matchers.matchers {
        if m.name == METRIC_NAME {
            continue;
        }
        if matches!(m.op, MatchOp::Equal) && !set.iter().any(|(k, _)| *k == m.name) {
            set.push((m.name.clone(), m.value.clone()));
        } else {
            dropped.push(&m.name);
        }
    }
    set.retain(|(k, _)| !dropped.contains(&k.as_str()));
    Labels::new(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_counts_its_times() {
        let g = Grid {
            start: 0,
            end: 100,
            step: 30,
        };
        assert_eq!(g.len(), 4);
        assert_eq!(g.time(3), 90);
        assert_eq!(Grid::instant(5).len(), 1);
    }

    #[test]
    fn absent_keeps_only_single_equality_matchers() {
        let e = crate::errpos::parse(r#"foo{a="1", b=~"x", c="2", c="3", d="4"}"#).unwrap();
        assert_eq!(absent_labels(&e).to_string(), r#"{a="1", d="4"}"#);
    }
}
