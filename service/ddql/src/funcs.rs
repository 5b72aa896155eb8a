//! The function table: which names exist, what parameters each takes, and
//! how the parsed parameters become a [`Func`].
//!
//! Names are case-sensitive and lower case, as in Datadog. The first
//! argument of every function is an expression (parsed by the caller); the
//! others are literals ([`Param`]).

use crate::ast::{Func, TimeAgg, TopRank};
use crate::cursor::{Cursor, Mode};
use crate::error::ParseError;
use crate::params::Param;

/// The parameter list a function takes after its query argument.
#[derive(Debug, Clone)]
pub(crate) enum Shape {
    /// Nothing more: `abs(q)`, `hour_before(q)`, `top10_max(q)`.
    Query(Func),
    /// `timeshift(q, ±seconds)`
    Timeshift,
    /// `top(q, count, 'rank', 'direction')`
    Top,
    /// `top_offset(q, count, 'rank', 'direction', offset)`
    TopOffset,
    /// `moving_rollup(q, seconds, 'aggregator')`
    MovingRollup,
    /// `clamp_min(q, value)` and the other thresholds.
    Value(fn(f64) -> Func),
}

/// Names of functions with no extra parameters, and what they mean.
const SIMPLE: &[(&str, Func)] = &[
    ("abs", Func::Abs),
    ("log2", Func::Log2),
    ("log10", Func::Log10),
    ("cumsum", Func::Cumsum),
    ("integral", Func::Integral),
    ("diff", Func::Diff),
    ("monotonic_diff", Func::MonotonicDiff),
    ("derivative", Func::Derivative),
    ("per_second", Func::PerUnit { seconds: 1 }),
    ("per_minute", Func::PerUnit { seconds: 60 }),
    ("per_hour", Func::PerUnit { seconds: 3600 }),
    ("dt", Func::Dt),
    ("hour_before", Func::Timeshift { seconds: -3600 }),
    ("day_before", Func::Timeshift { seconds: -86_400 }),
    ("week_before", Func::Timeshift { seconds: -604_800 }),
    (
        "month_before",
        Func::Timeshift {
            seconds: -2_419_200,
        },
    ),
    ("count_nonzero", Func::CountNonzero),
    ("count_not_null", Func::CountNotNull),
    ("default_zero", Func::DefaultZero),
];

/// Functions with parameters.
const WITH_PARAMS: &[(&str, Shape)] = &[
    ("timeshift", Shape::Timeshift),
    ("top", Shape::Top),
    ("top_offset", Shape::TopOffset),
    ("moving_rollup", Shape::MovingRollup),
    ("clamp_min", Shape::Value(Func::ClampMin)),
    ("clamp_max", Shape::Value(Func::ClampMax)),
    ("cutoff_min", Shape::Value(Func::CutoffMin)),
    ("cutoff_max", Shape::Value(Func::CutoffMax)),
];

/// `ewma_N` spans.
pub(crate) const EWMA_SPANS: &[u32] = &[3, 5, 7, 9, 10, 20];
/// `median_N` windows.
pub(crate) const MEDIAN_WINDOWS: &[u32] = &[3, 5, 7, 9];
/// `topN` / `bottomN` counts.
const SHORTHAND_COUNTS: &[usize] = &[5, 10, 15, 20];

/// Ranks of `top`, by name. `sum` is listed in Datadog's documentation of
/// `top` and means the sum of the values, which is what [`TopRank::Area`]
/// ranks by, so it is read as `area` (and printed back as `area`).
pub(crate) const RANKS: &[(&str, TopRank)] = &[
    ("mean", TopRank::Mean),
    ("max", TopRank::Max),
    ("min", TopRank::Min),
    ("last", TopRank::Last),
    ("area", TopRank::Area),
    ("l2norm", TopRank::L2Norm),
    ("norm", TopRank::Norm),
    ("sum", TopRank::Area),
];

/// Suffixes of the `top`/`bottom` shorthands (Datadog's list; `sum` is not one).
const SHORTHAND_RANKS: &[(&str, TopRank)] = &[
    ("mean", TopRank::Mean),
    ("max", TopRank::Max),
    ("min", TopRank::Min),
    ("last", TopRank::Last),
    ("area", TopRank::Area),
    ("l2norm", TopRank::L2Norm),
    ("norm", TopRank::Norm),
];

/// Directions of `top`.
const DIRECTIONS: &[(&str, bool)] = &[("desc", true), ("asc", false)];

/// Time aggregators, for `moving_rollup` and `.rollup()`.
pub(crate) const TIME_AGGS: &[(&str, TimeAgg)] = &[
    ("avg", TimeAgg::Avg),
    ("sum", TimeAgg::Sum),
    ("min", TimeAgg::Min),
    ("max", TimeAgg::Max),
    ("count", TimeAgg::Count),
    ("last", TimeAgg::Last),
];

/// Datadog functions Whippet knows of but does not evaluate: a clearer
/// error than "unknown function".
const UNSUPPORTED: &[&str] = &[
    "anomalies",
    "forecast",
    "outliers",
    "robust_trend",
    "trend_line",
    "piecewise_constant",
    "exclude_null",
    "count_distinct",
];

/// Methods, which follow a metric query instead of wrapping it.
pub(crate) const METHODS: &[&str] = &["rollup", "as_count", "as_rate", "fill", "weighted"];

/// Largest timeshift accepted: about 285 million years, and exactly
/// representable in the `f64` the literal is read as.
const MAX_SHIFT_SECONDS: i64 = 1 << 53;

/// The function called `name`, if there is one.
pub(crate) fn lookup(name: &str) -> Option<Shape> {
    if let Some((_, f)) = SIMPLE.iter().find(|(n, _)| *n == name) {
        return Some(Shape::Query(f.clone()));
    }
    if let Some((_, s)) = WITH_PARAMS.iter().find(|(n, _)| *n == name) {
        return Some(s.clone());
    }
    shorthand(name).map(Shape::Query)
}

/// `ewma_N`, `median_N`, `topN[_rank]`, `bottomN[_rank]`.
fn shorthand(name: &str) -> Option<Func> {
    if let Some(n) = name.strip_prefix("ewma_") {
        return EWMA_SPANS
            .iter()
            .find(|s| s.to_string() == n)
            .map(|&span| Func::Ewma { span });
    }
    if let Some(n) = name.strip_prefix("median_") {
        return MEDIAN_WINDOWS
            .iter()
            .find(|s| s.to_string() == n)
            .map(|&window| Func::Median { window });
    }
    let (rest, descending) = match name.strip_prefix("top") {
        Some(rest) => (rest, true),
        None => (name.strip_prefix("bottom")?, false),
    };
    let (count, rank) = match rest.split_once('_') {
        Some((count, suffix)) => (count, SHORTHAND_RANKS.iter().find(|(n, _)| *n == suffix)?.1),
        None => (rest, TopRank::Mean),
    };
    let n = *SHORTHAND_COUNTS.iter().find(|c| c.to_string() == count)?;
    Some(Func::Top {
        n,
        rank,
        descending,
        offset: 0,
    })
}

/// Every function name, for suggestions.
fn all_names() -> Vec<String> {
    let mut names: Vec<String> = SIMPLE.iter().map(|(n, _)| (*n).to_owned()).collect();
    names.extend(WITH_PARAMS.iter().map(|(n, _)| (*n).to_owned()));
    names.extend(EWMA_SPANS.iter().map(|s| format!("ewma_{s}")));
    names.extend(MEDIAN_WINDOWS.iter().map(|s| format!("median_{s}")));
    for dir in ["top", "bottom"] {
        for c in SHORTHAND_COUNTS {
            names.push(format!("{dir}{c}"));
            names.extend(SHORTHAND_RANKS.iter().map(|(r, _)| format!("{dir}{c}_{r}")));
        }
    }
    names
}

/// The error for a call to `name`, which is not a function.
pub(crate) fn unknown(cur: &Cursor<'_>, at: usize, name: &str) -> ParseError {
    if METHODS.contains(&name) {
        return cur.error(
            at,
            format!("`{name}` is a method, not a function: write it after the metric query, like `avg:system.load.1{{*}}.{name}(...)`"),
        );
    }
    if let Some((_, method)) = name.rsplit_once('.')
        && METHODS.contains(&method)
    {
        let message = match cur.mode {
            Mode::Formula => {
                format!("`.{method}()` belongs in the query, not in the formula: found `{name}`")
            }
            Mode::Request => format!(
                "`.{method}()` follows the scope of a metric query (`avg:system.load.1{{*}}.{method}(...)`), found `{name}`"
            ),
        };
        return cur.error(at, message);
    }
    if UNSUPPORTED.contains(&name) {
        return cur.error(at, format!("function `{name}` is not supported"));
    }
    let names = all_names();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let hint = crate::suggest::closest(name, &refs)
        .map(|n| format!("; did you mean `{n}`?"))
        .unwrap_or_default();
    cur.error(at, format!("unknown function `{name}`{hint}"))
}

/// How a call to `name` is written, for arity errors.
fn usage(name: &str, shape: &Shape) -> String {
    match shape {
        Shape::Query(_) => format!("{name}(query)"),
        Shape::Timeshift => "timeshift(query, seconds)".to_owned(),
        Shape::Top => "top(query, count, 'rank', 'direction')".to_owned(),
        Shape::TopOffset => "top_offset(query, count, 'rank', 'direction', offset)".to_owned(),
        Shape::MovingRollup => "moving_rollup(query, seconds, 'aggregator')".to_owned(),
        Shape::Value(_) => format!("{name}(query, value)"),
    }
}

/// Literal parameters each shape takes after the query.
fn extra_params(shape: &Shape) -> usize {
    match shape {
        Shape::Query(_) => 0,
        Shape::Timeshift | Shape::Value(_) => 1,
        Shape::MovingRollup => 2,
        Shape::Top => 3,
        Shape::TopOffset => 4,
    }
}

/// The error for a call with the wrong number of arguments; `given`
/// counts the query argument too.
pub(crate) fn arity_error(
    cur: &Cursor<'_>,
    at: usize,
    name: &str,
    shape: &Shape,
    given: usize,
) -> ParseError {
    let takes = extra_params(shape) + 1;
    let s = |n: usize| if n == 1 { "" } else { "s" };
    cur.error(
        at,
        format!(
            "`{name}` takes {takes} argument{}: {}; found {given}",
            s(takes),
            usage(name, shape)
        ),
    )
}

/// Checks the literal parameters of a call to `name` (`params` follow the
/// query argument; `close` is where the closing parenthesis is) and builds
/// the function.
pub(crate) fn build(
    cur: &Cursor<'_>,
    name: &str,
    shape: Shape,
    params: &[Param],
    close: usize,
) -> Result<Func, ParseError> {
    let want = extra_params(&shape);
    if params.len() != want {
        let at = params.get(want).map_or(close, |p| p.span.start);
        return Err(arity_error(cur, at, name, &shape, params.len() + 1));
    }
    let ctx = format!("`{name}`");
    let positive = 1..=i64::from(u32::MAX);
    Ok(match shape {
        Shape::Query(f) => f,
        Shape::Timeshift => {
            let seconds = cur.whole(
                &params[0],
                "the shift",
                &ctx,
                -MAX_SHIFT_SECONDS..=MAX_SHIFT_SECONDS,
                "a whole number of seconds",
            )?;
            Func::Timeshift { seconds }
        }
        Shape::Top | Shape::TopOffset => {
            let n = cur.whole(
                &params[0],
                "the count",
                &ctx,
                1..=i64::from(u32::MAX),
                "a positive whole number",
            )?;
            let rank = cur.keyword(&params[1], "rank", &ctx, RANKS)?;
            let descending = cur.keyword(&params[2], "direction", &ctx, DIRECTIONS)?;
            let offset = match params.get(3) {
                Some(p) => cur.whole(
                    p,
                    "the offset",
                    &ctx,
                    0..=i64::from(u32::MAX),
                    "a whole number, 0 or more",
                )?,
                None => 0,
            };
            // Both are at most u32::MAX, so they fit any usize Whippet runs on.
            Func::Top {
                n: n as usize,
                rank,
                descending,
                offset: offset as usize,
            }
        }
        Shape::MovingRollup => {
            let seconds = cur.whole(
                &params[0],
                "the window",
                &ctx,
                positive,
                "a positive whole number of seconds",
            )?;
            let agg = cur.keyword(&params[1], "aggregator", &ctx, TIME_AGGS)?;
            Func::MovingRollup {
                seconds: seconds as u32,
                agg,
            }
        }
        Shape::Value(make) => make(cur.number(&params[0], "the value", &ctx)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_resolves() {
        for name in all_names() {
            assert!(lookup(&name).is_some(), "{name}");
        }
    }

    #[test]
    fn shorthands_are_exact() {
        for bad in [
            "top7",
            "top05",
            "top5_",
            "top5_sum",
            "bottom",
            "ewma_4",
            "median_11",
            "topten",
            "top5_max_min",
        ] {
            assert!(lookup(bad).is_none(), "{bad}");
        }
        assert!(matches!(
            lookup("bottom15_l2norm"),
            Some(Shape::Query(Func::Top {
                n: 15,
                rank: TopRank::L2Norm,
                descending: false,
                offset: 0
            }))
        ));
    }
}
