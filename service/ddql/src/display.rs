//! Printing syntax trees back to query text (`Display`).
//!
//! The output parses back to the same tree, spans aside:
//! `parse(print(tree)) == tree` for every tree the parser produces (the
//! round-trip property is tested with generated trees and fuzzed). The
//! printer writes a canonical spelling: single spaces around operators,
//! parentheses only where precedence needs them, `top(q, n, 'rank', 'dir')`
//! for every ranking shorthand, `timeshift(q, s)` for `hour_before` and
//! friends, and the scope as its [`MetricQuery::scope_text`] when that is
//! set (so an echoed query keeps the user's spelling of the filter), else
//! from [`Scope`].
//!
//! Trees the parser never produces print as text that fails to parse rather
//! than as a different query: `PerUnit` other than 1/60/3600 s prints as
//! `per_unit(q, s)`, an `ewma_N`/`median_N` outside the known sizes keeps its
//! number, a `.rollup()` without aggregator or interval prints empty, and an
//! empty `And`/`Or` prints as `()`. Non-finite numbers print as Rust does
//! (`inf`, `NaN`).

use std::fmt::{self, Display, Formatter, Write};

use crate::ast::{
    BinOp, Expr, FillMode, Func, Method, MetricQuery, Request, Scope, SpaceAgg, TimeAgg, TopRank,
};

/// A number as the parser reads it back exactly: the shortest decimal that
/// round-trips, in exponent form outside `1e-5 ..= 1e16`.
pub(crate) fn number(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && a.is_finite() && !(1e-5..1e16).contains(&a) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

impl Display for Request {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, e) in self.exprs.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Binding strength: sums 1, products 2, negation 3, everything else 4.
fn strength(e: &Expr) -> u8 {
    match e {
        Expr::Binary {
            op: BinOp::Add | BinOp::Sub,
            ..
        } => 1,
        Expr::Binary {
            op: BinOp::Mul | BinOp::Div,
            ..
        } => 2,
        Expr::Neg { .. } => 3,
        _ => 4,
    }
}

fn operand(f: &mut Formatter<'_>, e: &Expr, parenthesise: bool) -> fmt::Result {
    if parenthesise {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Number { value, .. } => f.write_str(&number(*value)),
            Expr::Query(q) => write!(f, "{q}"),
            Expr::Ref { name, .. } => f.write_str(name),
            Expr::Binary { op, lhs, rhs, .. } => {
                let s = strength(self);
                // Left-associative: a right operand of equal strength needs parentheses.
                operand(f, lhs, strength(lhs) < s)?;
                write!(f, " {op} ")?;
                operand(f, rhs, strength(rhs) <= s)
            }
            Expr::Neg { expr, .. } => {
                f.write_char('-')?;
                operand(f, expr, strength(expr) < 3)
            }
            Expr::Call { func, arg, .. } => call(f, func, arg),
        }
    }
}

fn call(f: &mut Formatter<'_>, func: &Func, arg: &Expr) -> fmt::Result {
    let simple = match func {
        Func::Abs => "abs",
        Func::Log2 => "log2",
        Func::Log10 => "log10",
        Func::Cumsum => "cumsum",
        Func::Integral => "integral",
        Func::Diff => "diff",
        Func::MonotonicDiff => "monotonic_diff",
        Func::Derivative => "derivative",
        Func::PerUnit { seconds: 1 } => "per_second",
        Func::PerUnit { seconds: 60 } => "per_minute",
        Func::PerUnit { seconds: 3600 } => "per_hour",
        Func::PerUnit { seconds } => return write!(f, "per_unit({arg}, {seconds})"),
        Func::Dt => "dt",
        Func::Timeshift { seconds } => return write!(f, "timeshift({arg}, {seconds})"),
        Func::Top {
            n,
            rank,
            descending,
            offset,
        } => {
            let dir = if *descending { "desc" } else { "asc" };
            return if *offset == 0 {
                write!(f, "top({arg}, {n}, '{rank}', '{dir}')")
            } else {
                write!(f, "top_offset({arg}, {n}, '{rank}', '{dir}', {offset})")
            };
        }
        Func::MovingRollup { seconds, agg } => {
            return write!(f, "moving_rollup({arg}, {seconds}, '{agg}')");
        }
        Func::Ewma { span } => return write!(f, "ewma_{span}({arg})"),
        Func::Median { window } => return write!(f, "median_{window}({arg})"),
        Func::ClampMin(v) => return write!(f, "clamp_min({arg}, {})", number(*v)),
        Func::ClampMax(v) => return write!(f, "clamp_max({arg}, {})", number(*v)),
        Func::CutoffMin(v) => return write!(f, "cutoff_min({arg}, {})", number(*v)),
        Func::CutoffMax(v) => return write!(f, "cutoff_max({arg}, {})", number(*v)),
        Func::CountNonzero => "count_nonzero",
        Func::CountNotNull => "count_not_null",
        Func::DefaultZero => "default_zero",
    };
    write!(f, "{simple}({arg})")
}

impl Display for BinOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        })
    }
}

impl Display for MetricQuery {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(agg) = self.space_agg {
            write!(f, "{agg}:")?;
        }
        f.write_str(&self.metric)?;
        if self.scope_text.is_empty() {
            write!(f, "{{{}}}", self.scope)?
        } else {
            write!(f, "{{{}}}", self.scope_text)?
        }
        if !self.by.is_empty() {
            write!(f, " by {{{}}}", self.by.join(","))?;
        }
        for m in &self.methods {
            write!(f, "{m}")?;
        }
        Ok(())
    }
}

impl Display for SpaceAgg {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            SpaceAgg::Avg => f.write_str("avg"),
            SpaceAgg::Sum => f.write_str("sum"),
            SpaceAgg::Min => f.write_str("min"),
            SpaceAgg::Max => f.write_str("max"),
            SpaceAgg::Count => f.write_str("count"),
            // Plain decimal (never an exponent), as `pNN.N` requires.
            SpaceAgg::Percentile(p) => write!(f, "p{p}"),
        }
    }
}

impl Display for TimeAgg {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeAgg::Avg => "avg",
            TimeAgg::Sum => "sum",
            TimeAgg::Min => "min",
            TimeAgg::Max => "max",
            TimeAgg::Count => "count",
            TimeAgg::Last => "last",
        })
    }
}

impl Display for FillMode {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FillMode::Null => "null",
            FillMode::Zero => "zero",
            FillMode::Linear => "linear",
            FillMode::Last => "last",
        })
    }
}

impl Display for TopRank {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TopRank::Mean => "mean",
            TopRank::Max => "max",
            TopRank::Min => "min",
            TopRank::Last => "last",
            TopRank::Area => "area",
            TopRank::L2Norm => "l2norm",
            TopRank::Norm => "norm",
        })
    }
}

impl Display for Method {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Method::Rollup {
                agg: Some(a),
                seconds: Some(s),
            } => write!(f, ".rollup({a}, {s})"),
            Method::Rollup {
                agg: Some(a),
                seconds: None,
            } => write!(f, ".rollup({a})"),
            Method::Rollup {
                agg: None,
                seconds: Some(s),
            } => write!(f, ".rollup({s})"),
            Method::Rollup {
                agg: None,
                seconds: None,
            } => f.write_str(".rollup()"),
            Method::AsCount => f.write_str(".as_count()"),
            Method::AsRate => f.write_str(".as_rate()"),
            Method::Fill {
                mode,
                limit_seconds: Some(l),
            } => write!(f, ".fill({mode}, {l})"),
            Method::Fill {
                mode,
                limit_seconds: None,
            } => write!(f, ".fill({mode})"),
            Method::Weighted => f.write_str(".weighted()"),
        }
    }
}

/// Where a scope is printed, loosest first: what may appear there without
/// parentheses.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    /// The whole scope or a parenthesised group: a comma list.
    List,
    /// An item of a comma list: an `OR` chain.
    Or,
    /// An operand of `OR`: an `AND` chain.
    OrOperand,
    /// An operand of `AND`, `NOT` or `!`: a `not` or an atom.
    AndOperand,
}

impl Display for Scope {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        scope(f, self, Slot::List)
    }
}

fn join(f: &mut Formatter<'_>, items: &[Scope], sep: &str, slot: Slot) -> fmt::Result {
    if items.is_empty() {
        return f.write_str("()");
    }
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        scope(f, s, slot)?;
    }
    Ok(())
}

fn scope(f: &mut Formatter<'_>, s: &Scope, slot: Slot) -> fmt::Result {
    match s {
        Scope::All => f.write_char('*'),
        Scope::Tag(t) | Scope::Glob(t) => f.write_str(t),
        Scope::In { key, values } => write!(f, "{key} IN ({})", values.join(", ")),
        Scope::Not(inner) => match inner.as_ref() {
            Scope::In { key, values } => write!(f, "{key} NOT IN ({})", values.join(", ")),
            Scope::Not(_) => {
                f.write_str("NOT ")?;
                scope(f, inner, Slot::AndOperand)
            }
            Scope::And(_) | Scope::Or(_) => {
                f.write_str("!(")?;
                scope(f, inner, Slot::List)?;
                f.write_char(')')
            }
            Scope::All | Scope::Tag(_) | Scope::Glob(_) => {
                f.write_char('!')?;
                scope(f, inner, Slot::AndOperand)
            }
        },
        Scope::And(items) => match slot {
            Slot::List => join(f, items, ",", Slot::Or),
            Slot::Or | Slot::OrOperand => join(f, items, " AND ", Slot::AndOperand),
            Slot::AndOperand => {
                f.write_char('(')?;
                join(f, items, ",", Slot::Or)?;
                f.write_char(')')
            }
        },
        Scope::Or(items) => {
            if slot <= Slot::Or {
                join(f, items, " OR ", Slot::OrOperand)
            } else {
                f.write_char('(')?;
                join(f, items, " OR ", Slot::OrOperand)?;
                f.write_char(')')
            }
        }
    }
}
