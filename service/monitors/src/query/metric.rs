//! Metric monitors (`metric alert`, `query alert`):
//! `avg(last_5m):avg:system.cpu.user{env:prod} by {host} > 90`.
//!
//! The part before the first `:` (the time reduction) is read here; the
//! metric expression between it and the comparator is parsed by
//! `whippet_ddql`, whose errors are moved to positions in the whole
//! monitor query. The comparator is the last one outside `{}`, `()`, `[]`
//! and quotes, so `!` in a scope (`{!env:dev}`) is never mistaken for one.

use std::collections::HashSet;
use std::fmt;

use whippet_ddql::{Expr, SpaceAgg};

use super::condition::{self, Condition, comparator_at};
use super::cursor::{Cursor, echo};
use super::ddql_tree::{canonical_text, for_each_query};
use super::error::QueryError;
use super::window::{self, Window};
use crate::comparator::Comparator;

/// A parsed metric or query alert.
///
/// Two queries are equal when they differ at most in the positions of
/// their parts (the expression's spans), so a query equals the parse of its
/// printed text.
#[derive(Debug, Clone)]
pub struct MetricQuery {
    /// How each group's series is reduced to one number: `avg(last_5m)`,
    /// `change(avg(last_5m),last_5m)`.
    pub reduction: TimeReduction,
    /// The metric expression, one `whippet_ddql` expression whose spans
    /// are byte ranges of the whole monitor query.
    pub expr: Expr,
    /// The comparison with the critical threshold.
    pub condition: Condition,
}

impl MetricQuery {
    /// The tag keys of the expression's `by {...}` clauses, each once, in
    /// the order first written (`["host"]` for `... by {host} > 90`).
    /// Empty for a simple (single-group) monitor; non-empty means the
    /// monitor is multi-alert, one group per combination of these tags.
    pub fn group_by(&self) -> Vec<&str> {
        let mut seen = HashSet::new();
        let mut keys = Vec::new();
        for_each_query(&self.expr, &mut |q| {
            for key in &q.by {
                if seen.insert(key.as_str()) {
                    keys.push(key.as_str());
                }
            }
        });
        keys
    }

    /// A canonical string naming what is evaluated: the time reduction and
    /// the expression, without the comparator and threshold
    /// (`avg(last_5m):avg:system.cpu.user{env:prod} by {host}`). Monitors
    /// whose keys are equal compute the same numbers and can share one
    /// evaluation. Scopes are printed from their parsed form and windows
    /// in their largest unit, so spelling differences (`last_60m` and
    /// `last_1h`, spaces in a scope) do not split monitors apart.
    pub fn evaluation_key(&self) -> String {
        format!("{}:{}", self.reduction, canonical_text(&self.expr))
    }
}

impl PartialEq for MetricQuery {
    fn eq(&self, other: &MetricQuery) -> bool {
        self.reduction == other.reduction
            && self.condition == other.condition
            && self.expr.without_spans() == other.expr.without_spans()
    }
}

/// Canonical text: `avg(last_5m):<expr> > 90`, the expression as
/// `whippet_ddql` prints it (scopes as the user spelled them).
impl fmt::Display for MetricQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{} {}", self.reduction, self.expr, self.condition)
    }
}

/// How the values of a group over the window become one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeAggregation {
    /// `avg`: the mean of the points in the window.
    Avg,
    /// `sum`: their sum.
    Sum,
    /// `min`: the smallest.
    Min,
    /// `max`: the largest.
    Max,
    /// `percentile`: the percentile named by the expression's space
    /// aggregator (`percentile(last_5m):p95:latency{*}`) over all the
    /// distribution's values in the window. Only on expressions whose
    /// metric queries all have a `pNN:` aggregator.
    Percentile,
}

impl TimeAggregation {
    /// Every time aggregation, in the order error messages list them.
    pub const ALL: [TimeAggregation; 5] = [
        TimeAggregation::Avg,
        TimeAggregation::Sum,
        TimeAggregation::Min,
        TimeAggregation::Max,
        TimeAggregation::Percentile,
    ];

    /// The name as written in a query.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeAggregation::Avg => "avg",
            TimeAggregation::Sum => "sum",
            TimeAggregation::Min => "min",
            TimeAggregation::Max => "max",
            TimeAggregation::Percentile => "percentile",
        }
    }
}

impl fmt::Display for TimeAggregation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a change monitor compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// `change(...)`: now minus then.
    Absolute,
    /// `pct_change(...)`: (now - then) / then × 100.
    Percent,
}

impl ChangeKind {
    /// The function name as written in a query.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Absolute => "change",
            ChangeKind::Percent => "pct_change",
        }
    }
}

/// The time part of a metric monitor, before the first `:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeReduction {
    /// `avg(last_5m)`: the aggregation of the last `window`.
    Window {
        /// How the window's values are combined.
        aggregation: TimeAggregation,
        /// How far back the monitor looks.
        window: Window,
    },
    /// `change(avg(last_5m),last_1h)`: the aggregation of the last
    /// `window` compared with the same aggregation `shift` earlier.
    Change {
        /// Absolute or percent change.
        kind: ChangeKind,
        /// How each window's values are combined.
        aggregation: TimeAggregation,
        /// How far back each side looks.
        window: Window,
        /// How long before now the compared window ends.
        shift: Window,
    },
}

impl TimeReduction {
    /// The evaluation window (for a change, the length of each side).
    pub fn window(&self) -> Window {
        match self {
            TimeReduction::Window { window, .. } | TimeReduction::Change { window, .. } => *window,
        }
    }

    /// The time aggregation.
    pub fn aggregation(&self) -> TimeAggregation {
        match self {
            TimeReduction::Window { aggregation, .. }
            | TimeReduction::Change { aggregation, .. } => *aggregation,
        }
    }
}

impl fmt::Display for TimeReduction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeReduction::Window {
                aggregation,
                window,
            } => write!(f, "{aggregation}(last_{window})"),
            TimeReduction::Change {
                kind,
                aggregation,
                window,
                shift,
            } => write!(
                f,
                "{}({aggregation}(last_{window}),last_{shift})",
                kind.as_str()
            ),
        }
    }
}

/// Parses a metric monitor query.
pub(crate) fn parse(src: &str) -> Result<MetricQuery, QueryError> {
    let mut cur = Cursor::new(src);
    let reduction = time_reduction(&mut cur)?;
    cur.skip_ws();
    if !cur.eat(b':') {
        return Err(cur.expected(&format!(
            "`:` between `{reduction}` and the metric expression"
        )));
    }
    let expr_start = cur.pos;
    let rest = &src[expr_start..];
    let Some((relative, comparator)) = find_comparator(rest) else {
        return Err(no_comparator(&cur, expr_start));
    };
    let expr_end = expr_start + relative;
    let expr = metric_expr(src, expr_start, expr_end)?;
    check_percentile(&reduction, &expr, src)?;
    cur.pos = expr_end + comparator.as_str().len();
    let condition = condition::threshold(&mut cur, comparator)?;
    Ok(MetricQuery {
        reduction,
        expr,
        condition,
    })
}

/// The names a time reduction may start with, for error messages.
const REDUCTIONS: &str = "avg, sum, min, max, percentile, change, pct_change";
/// The names a time aggregation inside `change()` may have.
const AGGREGATIONS: &str = "avg, sum, min, max, percentile";

/// `aggr(window)` or `change(aggr(window),shift)`.
fn time_reduction(cur: &mut Cursor<'_>) -> Result<TimeReduction, QueryError> {
    cur.skip_ws();
    let Some((at, word)) = cur.word() else {
        return Err(cur.expected("a time aggregation such as `avg(last_5m)`"));
    };
    let kind = match word {
        "change" => ChangeKind::Absolute,
        "pct_change" => ChangeKind::Percent,
        _ => {
            let aggregation = aggregation(at, word, REDUCTIONS)?;
            let window = parenthesised_window(cur, word)?;
            return Ok(TimeReduction::Window {
                aggregation,
                window,
            });
        }
    };
    open(cur, word)?;
    cur.skip_ws();
    let Some((inner_at, inner)) = cur.word() else {
        return Err(cur.expected(&format!(
            "a time aggregation such as `avg(last_5m)` inside `{word}(`"
        )));
    };
    let aggregation = aggregation(inner_at, inner, AGGREGATIONS)?;
    let window = parenthesised_window(cur, inner)?;
    cur.skip_ws();
    if !cur.eat(b',') {
        return Err(cur.expected(&format!(
            "`,` and a time shift such as `last_5m` after `{aggregation}(last_{window})`"
        )));
    }
    let shift = window_token(cur)?;
    close(cur, word)?;
    Ok(TimeReduction::Change {
        kind,
        aggregation,
        window,
        shift,
    })
}

fn aggregation(at: usize, word: &str, valid: &str) -> Result<TimeAggregation, QueryError> {
    TimeAggregation::ALL
        .into_iter()
        .find(|a| a.as_str() == word)
        .ok_or_else(|| {
            QueryError::at(
                at,
                format!(
                    "unknown time aggregation `{}`; expected one of {valid}",
                    echo(word)
                ),
            )
        })
}

/// `(` after `name`.
fn open(cur: &mut Cursor<'_>, name: &str) -> Result<(), QueryError> {
    cur.skip_ws();
    if cur.eat(b'(') {
        Ok(())
    } else {
        Err(cur.expected(&format!("`(` after `{name}`")))
    }
}

/// `)` closing `name(`.
fn close(cur: &mut Cursor<'_>, name: &str) -> Result<(), QueryError> {
    cur.skip_ws();
    if cur.eat(b')') {
        Ok(())
    } else {
        Err(cur.expected(&format!("`)` to close `{name}(`")))
    }
}

/// `(last_5m)` after an aggregation named `name`.
fn parenthesised_window(cur: &mut Cursor<'_>, name: &str) -> Result<Window, QueryError> {
    open(cur, name)?;
    let window = window_token(cur)?;
    close(cur, name)?;
    Ok(window)
}

/// `last_5m`.
fn window_token(cur: &mut Cursor<'_>) -> Result<Window, QueryError> {
    cur.skip_ws();
    let Some((at, word)) = cur.word() else {
        return Err(cur.expected("a window such as `last_5m`"));
    };
    match word.strip_prefix("last_") {
        Some(rest) => Window::parse(rest, at, &window::METRIC),
        None => Err(QueryError::at(
            at,
            format!(
                "invalid window `{}`; expected {}",
                echo(word),
                window::METRIC.expected
            ),
        )),
    }
}

/// The last comparator outside brackets and quotes in `text`, with its
/// offset.
fn find_comparator(text: &str) -> Option<(usize, Comparator)> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut quote = None;
    let mut last = None;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if let Some(q) = quote {
            if b == b'\\' {
                i += 2;
                continue;
            }
            if b == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match b {
            b'\'' | b'"' => quote = Some(b),
            b'{' | b'(' | b'[' => depth += 1,
            b'}' | b')' | b']' => depth = depth.saturating_sub(1),
            b'<' | b'>' | b'=' | b'!' if depth == 0 => {
                if let Some(c) = comparator_at(text, i) {
                    last = Some((i, c));
                    i += c.as_str().len();
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    last
}

/// The error for a metric query without a comparator outside brackets,
/// whose expression starts at `expr_start`.
fn no_comparator(cur: &Cursor<'_>, expr_start: usize) -> QueryError {
    let src = cur.src;
    match metric_expr(src, expr_start, src.len()) {
        // All of it is an expression: the comparison is missing at the end.
        Ok(_) => condition::missing_comparator(cur, src.len()),
        Err(e) => match e.position {
            // The expression is fine up to where it fails (`avg:m{*} = 90`,
            // `avg:m{*} 90`): that is where a comparator should be.
            Some(p) if p > expr_start && metric_expr(src, expr_start, p).is_ok() => {
                condition::missing_comparator(cur, p)
            }
            // An unclosed `{` or `(` hides the comparator; the expression's
            // own error says so better than "missing comparator".
            _ => e,
        },
    }
}

/// Parses `src[start..end]` as one metric expression, with spans and
/// errors at positions in `src`.
fn metric_expr(src: &str, start: usize, end: usize) -> Result<Expr, QueryError> {
    // ddql sees the time reduction before the expression as spaces (the
    // reduction is ASCII, so byte offsets are kept): every position it
    // reports, in its spans and inside its messages ("the scope opened at
    // position 18"), is then a position in the whole monitor query.
    let text = format!("{:start$}{}", "", &src[start..end]);
    let mut request = whippet_ddql::parse_request(&text).map_err(|e| {
        QueryError::at(
            boundary(src, e.position),
            format!("invalid metric expression: {}", e.message),
        )
    })?;
    if let Some(second) = request.exprs.get(1) {
        return Err(QueryError::at(
            second.span().start,
            "a monitor watches one metric expression; found a second one after a comma",
        ));
    }
    let expr = request.exprs.remove(0);
    let mut queries = 0;
    for_each_query(&expr, &mut |_| queries += 1);
    if queries == 0 {
        return Err(QueryError::at(
            expr.span().start,
            "the metric expression has no metric query (like `avg:system.cpu.user{*}`)",
        ));
    }
    Ok(expr)
}

/// `percentile(...)` needs a percentile to take: every metric query of the
/// expression must have a `pNN:` space aggregator.
fn check_percentile(reduction: &TimeReduction, expr: &Expr, src: &str) -> Result<(), QueryError> {
    if reduction.aggregation() != TimeAggregation::Percentile {
        return Ok(());
    }
    let mut first_bad = None;
    for_each_query(expr, &mut |q| {
        if first_bad.is_none() && !matches!(q.space_agg, Some(SpaceAgg::Percentile(_))) {
            first_bad = Some(q.span.start);
        }
    });
    match first_bad {
        None => Ok(()),
        Some(at) => Err(QueryError::at(
            boundary(src, at),
            "the `percentile` time aggregation needs a percentile space aggregator on each metric query, like `percentile(last_5m):p95:request.latency{*}`",
        )),
    }
}

/// `pos` moved back onto a character boundary of `src` and into it, so an
/// error position from another parser always points into the query.
fn boundary(src: &str, pos: usize) -> usize {
    let mut pos = pos.min(src.len());
    while !src.is_char_boundary(pos) {
        pos -= 1;
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(query: &str) -> (String, Option<usize>) {
        let e = parse(query).unwrap_err();
        (e.message, e.position)
    }

    #[test]
    fn simple_threshold_query() {
        let q = parse("avg(last_5m):avg:system.cpu.user{env:prod} by {host} > 90").unwrap();
        assert_eq!(
            q.reduction,
            TimeReduction::Window {
                aggregation: TimeAggregation::Avg,
                window: Window::from_seconds(300).unwrap()
            }
        );
        assert_eq!(q.condition.comparator, Comparator::Gt);
        assert_eq!(q.condition.threshold, 90.0);
        assert_eq!(q.group_by(), ["host"]);
        assert_eq!(q.expr.span().start, 13);
        assert_eq!(
            q.evaluation_key(),
            "avg(last_5m):avg:system.cpu.user{env:prod} by {host}"
        );
        assert_eq!(
            q.to_string(),
            "avg(last_5m):avg:system.cpu.user{env:prod} by {host} > 90"
        );
    }

    #[test]
    fn arithmetic_change_and_percentile() {
        let q = parse("avg(last_10m):sum:http.errors{*}.as_count() / sum:http.requests{*}.as_count() * 100 > 5").unwrap();
        assert!(q.group_by().is_empty());
        assert_eq!(q.condition.threshold, 5.0);

        let q = parse("change(avg(last_5m),last_5m):avg:system.cpu.user{*} > 10").unwrap();
        assert_eq!(
            q.reduction,
            TimeReduction::Change {
                kind: ChangeKind::Absolute,
                aggregation: TimeAggregation::Avg,
                window: Window::from_seconds(300).unwrap(),
                shift: Window::from_seconds(300).unwrap(),
            }
        );
        let q = parse("pct_change( max(last_1h) , last_1w ):max:m{*} by {a,b} <= -50").unwrap();
        assert_eq!(
            q.to_string(),
            "pct_change(max(last_1h),last_1w):max:m{*} by {a,b} <= -50"
        );
        assert_eq!(q.group_by(), ["a", "b"]);

        let q =
            parse("percentile(last_5m):p95:request.latency{service:api} by {host} > 0.5").unwrap();
        assert_eq!(q.reduction.aggregation(), TimeAggregation::Percentile);
        assert_eq!(
            err("percentile(last_5m):avg:request.latency{*} > 0.5"),
            ("the `percentile` time aggregation needs a percentile space aggregator on each metric query, like `percentile(last_5m):p95:request.latency{*}`".to_owned(), Some(20))
        );
    }

    #[test]
    fn comparator_is_found_outside_scopes() {
        let q = parse("max(last_1m):max:m{!env:dev,host:a} by {host} != 0").unwrap();
        assert_eq!(q.condition.comparator, Comparator::Ne);
        let q = parse("min(last_1m):top(avg:m{*} by {h}, 10, 'mean', 'desc') >= 1").unwrap();
        assert_eq!(q.condition.comparator, Comparator::Ge);
        assert_eq!(q.group_by(), ["h"]);
    }

    #[test]
    fn group_by_is_the_union_of_by_clauses() {
        let q = parse("sum(last_5m):sum:a{*} by {host,env} / sum:b{*} by {env,az} > 1").unwrap();
        assert_eq!(q.group_by(), ["host", "env", "az"]);
    }

    #[test]
    fn evaluation_key_ignores_comparator_threshold_and_spelling() {
        let a = parse("avg(last_60m):avg:m{ env:prod , role:web } by {host} > 90").unwrap();
        let b = parse("avg(last_1h):avg:m{env:prod,role:web} by {host} < 3").unwrap();
        assert_eq!(a.evaluation_key(), b.evaluation_key());
        assert_eq!(
            a.evaluation_key(),
            "avg(last_1h):avg:m{env:prod,role:web} by {host}"
        );
        let c = parse("sum(last_1h):avg:m{env:prod,role:web} by {host} < 3").unwrap();
        assert_ne!(a.evaluation_key(), c.evaluation_key());
        let d =
            parse("change(avg(last_1h),last_1h):avg:m{env:prod,role:web} by {host} < 3").unwrap();
        assert_ne!(a.evaluation_key(), d.evaluation_key());
    }

    #[test]
    fn bad_heads() {
        assert_eq!(
            err("mean(last_5m):avg:m{*} > 1"),
            ("unknown time aggregation `mean`; expected one of avg, sum, min, max, percentile, change, pct_change".to_owned(), Some(0))
        );
        assert_eq!(
            err("change(change(last_5m),last_5m):avg:m{*} > 1"),
            (
                "unknown time aggregation `change`; expected one of avg, sum, min, max, percentile"
                    .to_owned(),
                Some(7)
            )
        );
        assert_eq!(
            err("avg(last_5x):avg:m{*} > 1"),
            ("invalid window `last_5x`; expected last_ followed by a number and m, h, d or w (like last_5m, last_1h), or last_1mo".to_owned(), Some(4))
        );
        assert_eq!(
            err("avg(5m):avg:m{*} > 1").0,
            "invalid window `5m`; expected last_ followed by a number and m, h, d or w (like last_5m, last_1h), or last_1mo"
        );
        assert_eq!(
            err("avg(last_0m):avg:m{*} > 1"),
            (
                "invalid window `last_0m`: it must be at least 1m".to_owned(),
                Some(4)
            )
        );
        assert_eq!(
            err("avg(last_2mo):avg:m{*} > 1"),
            ("window `last_2mo` is too long: a metric monitor looks back at most one month (last_1mo, 30 days)".to_owned(), Some(4))
        );
        assert_eq!(
            err("avg(last_5m:avg:m{*} > 1"),
            (
                "expected `)` to close `avg(`, found `:`".to_owned(),
                Some(11)
            )
        );
        assert_eq!(
            err("avg(last_5m) avg:m{*} > 1"),
            (
                "expected `:` between `avg(last_5m)` and the metric expression, found `avg`"
                    .to_owned(),
                Some(13)
            )
        );
        assert_eq!(
            err("avg:m{*} > 1"),
            ("expected `(` after `avg`, found `:`".to_owned(), Some(3))
        );
        assert_eq!(
            err("change(avg(last_5m)):avg:m{*} > 1"),
            (
                "expected `,` and a time shift such as `last_5m` after `avg(last_5m)`, found `)`"
                    .to_owned(),
                Some(19)
            )
        );
        assert_eq!(
            err(":avg:m{*} > 1"),
            (
                "expected a time aggregation such as `avg(last_5m)`, found `:`".to_owned(),
                Some(0)
            )
        );
    }

    #[test]
    fn bad_expressions_and_conditions() {
        // ddql's message, with every position in it (not only the error's)
        // counted in the whole query.
        let ddql = whippet_ddql::parse_request("             avg:m{env:prod > 90").unwrap_err();
        assert_eq!(
            err("avg(last_5m):avg:m{env:prod > 90"),
            (
                format!("invalid metric expression: {}", ddql.message),
                Some(ddql.position)
            )
        );
        assert!(ddql.message.contains("position 18"), "{}", ddql.message);
        assert_eq!(
            err("avg(last_5m):avg:m{*} = 90"),
            (
                "expected a comparator (one of >, >=, <, <=, ==, !=), found `=`".to_owned(),
                Some(22)
            )
        );
        assert_eq!(
            err("avg(last_5m):avg:m{*} by {host} 90"),
            (
                "expected a comparator (one of >, >=, <, <=, ==, !=), found `90`".to_owned(),
                Some(32)
            )
        );

        assert_eq!(
            err("avg(last_5m):avg:system.cpu.user{*}"),
            ("missing comparator: the query must end with a comparison to a threshold, like `> 90` (one of >, >=, <, <=, ==, !=)".to_owned(), Some(35))
        );
        assert_eq!(
            err("avg(last_5m):avg:m{*} >"),
            (
                "missing threshold: expected a number after `>`, like `> 90`".to_owned(),
                Some(23)
            )
        );
        assert_eq!(
            err("avg(last_5m):avg:m{*} > ninety"),
            ("threshold `ninety` is not a number".to_owned(), Some(24))
        );
        assert_eq!(
            err("avg(last_5m):avg:m{*} > 90 for 5m"),
            (
                "unexpected text after the threshold: `for 5m`".to_owned(),
                Some(27)
            )
        );
        assert_eq!(
            err("avg(last_5m): > 90"),
            (
                "invalid metric expression: empty query".to_owned(),
                Some(14)
            )
        );
        assert_eq!(
            err("avg(last_5m):avg:a{*}, avg:b{*} > 1"),
            (
                "a monitor watches one metric expression; found a second one after a comma"
                    .to_owned(),
                Some(23)
            )
        );
        assert_eq!(
            err("avg(last_5m):5 * 2 > 1"),
            (
                "the metric expression has no metric query (like `avg:system.cpu.user{*}`)"
                    .to_owned(),
                Some(13)
            )
        );
        // ddql's position is moved into the whole query.
        let e = whippet_ddql::parse_request("avg:m{*} + ").unwrap_err();
        assert_eq!(
            err("avg(last_5m):avg:m{*} + > 1"),
            (
                format!("invalid metric expression: {}", e.message),
                Some(13 + e.position)
            )
        );
        // Spans are positions in the whole query too.
        let src = "avg(last_5m):  avg:m{*} / sum:n{*} > 1";
        assert_eq!(
            parse(src).unwrap().expr.span().text(src),
            "avg:m{*} / sum:n{*}"
        );
    }

    #[test]
    fn find_comparator_skips_brackets_and_quotes() {
        assert_eq!(find_comparator("a{x>y} > 1"), Some((7, Comparator::Gt)));
        assert_eq!(
            find_comparator("f(a, '>') >= 1"),
            Some((10, Comparator::Ge))
        );
        assert_eq!(find_comparator("a > 1 < 2"), Some((6, Comparator::Lt)));
        assert_eq!(find_comparator("a{!b} = 1"), None);
        assert_eq!(find_comparator("'\\"), None);
    }
}
