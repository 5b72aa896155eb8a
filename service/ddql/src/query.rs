//! Metric queries: `[space_agg:]metric{scope} [by {keys}] [.method()...]`.
//!
//! ```text
//! metric-query = [ space-agg ":" ] metric "{" scope "}" [ by-clause ] *( "." method )
//! space-agg    = "avg" / "sum" / "min" / "max" / "count" / "p" 1*3DIGIT [ "." 1*DIGIT ]
//! metric       = ALPHA *( ALPHA / DIGIT / "_" / "." )
//! by-clause    = "by" "{" [ tag-key *( "," tag-key ) ] "}"  ; "by" in any case
//! method       = name "(" [ param *( "," param ) ] ")"
//! ```
//!
//! Whitespace is allowed between all of these tokens (`avg: m {*} by {host} .rollup( sum , 60 )`).
//! The `by` clause comes before the methods, as Datadog writes it.

use crate::ast::{FillMode, Method, MetricQuery, SpaceAgg, Span};
use crate::cursor::Cursor;
use crate::error::ParseError;
use crate::funcs::{METHODS, TIME_AGGS};
use crate::params::{Param, ParamValue};

/// Fill modes, by name.
const FILL_MODES: &[(&str, FillMode)] = &[
    ("null", FillMode::Null),
    ("zero", FillMode::Zero),
    ("linear", FillMode::Linear),
    ("last", FillMode::Last),
];

/// Characters of a tag key in `by {...}` and before `IN`.
pub(crate) fn is_key_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/')
}

impl Cursor<'_> {
    /// Reads a metric query starting at the cursor (leading whitespace skipped).
    pub(crate) fn metric_query(&mut self) -> Result<MetricQuery, ParseError> {
        self.skip_ws();
        let Some((start, word)) = self.word() else {
            return Err(self.expected("a metric query (like `avg:system.cpu.user{*}`)"));
        };
        self.skip_ws();
        let (space_agg, metric) = if self.peek() == Some(b':') {
            let agg = self.space_agg(start, word)?;
            self.pos += 1;
            self.skip_ws();
            let Some((_, metric)) = self.word() else {
                return Err(self.expected(&format!("a metric name after `{word}:`")));
            };
            self.skip_ws();
            (Some(agg), metric)
        } else {
            (None, word)
        };
        if self.peek() != Some(b'{') {
            return Err(self.expected(&format!("`{{` after the metric name `{metric}`")));
        }
        let open = self.pos;
        self.pos += 1;
        let scope = self.scope_body(open)?;
        let scope_text = self.src[open + 1..self.pos - 1].trim().to_owned();
        let mut end = self.pos;

        let by = if self.by_keyword() {
            let by = self.by_keys()?;
            end = self.pos;
            by
        } else {
            Vec::new()
        };

        let mut methods = Vec::new();
        loop {
            let before = self.pos;
            self.skip_ws();
            if !self.eat(b'.') {
                self.pos = before;
                break;
            }
            methods.push(self.method()?);
            end = self.pos;
        }
        self.pos = end;
        Ok(MetricQuery {
            space_agg,
            metric: metric.to_owned(),
            scope,
            scope_text,
            by,
            methods,
            span: Span { start, end },
        })
    }

    /// `avg`, `sum`, `min`, `max`, `count`, `pNN[.N]`.
    fn space_agg(&self, at: usize, word: &str) -> Result<SpaceAgg, ParseError> {
        Ok(match word {
            "avg" => SpaceAgg::Avg,
            "sum" => SpaceAgg::Sum,
            "min" => SpaceAgg::Min,
            "max" => SpaceAgg::Max,
            "count" => SpaceAgg::Count,
            _ => {
                let Some(p) = percentile(word) else {
                    return Err(self.error(
                        at,
                        format!("unknown space aggregator `{word}`; expected one of avg, sum, min, max, count, or a percentile such as p95"),
                    ));
                };
                if !(p > 0.0 && p <= 100.0) {
                    return Err(self.error(at, format!("percentile `{word}` is out of range; expected above 0 and at most 100, like p50 or p99.9")));
                }
                SpaceAgg::Percentile(p)
            }
        })
    }

    /// Consumes `by` (any case, as a whole word) if it comes next.
    fn by_keyword(&mut self) -> bool {
        let before = self.pos;
        self.skip_ws();
        if let Some((_, w)) = self.word()
            && w.eq_ignore_ascii_case("by")
        {
            return true;
        }
        self.pos = before;
        false
    }

    /// `{k1, k2}` after `by`; `{}` is no grouping.
    fn by_keys(&mut self) -> Result<Vec<String>, ParseError> {
        self.skip_ws();
        let open = self.pos;
        if !self.eat(b'{') {
            return Err(self.expected("`{` after `by`"));
        }
        let mut keys = Vec::new();
        self.skip_ws();
        if self.eat(b'}') {
            return Ok(keys);
        }
        loop {
            self.skip_ws();
            let (_, key) = self.take_chars(is_key_char);
            if key.is_empty() {
                return Err(self.expected("a tag key in `by {...}`"));
            }
            keys.push(key.to_owned());
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(keys);
                }
                None => {
                    return Err(self.expected(&format!(
                        "`}}` to close the `by` clause opened at position {open}"
                    )));
                }
                Some(_) => {
                    return Err(self.expected(&format!(
                        "`,` or `}}` to close the `by` clause opened at position {open}"
                    )));
                }
            }
        }
    }

    /// A method after its `.`.
    fn method(&mut self) -> Result<Method, ParseError> {
        self.skip_ws();
        let Some((start, name)) = self.ident() else {
            return Err(self.expected(
                "a method name after `.` (rollup, as_count, as_rate, fill or weighted)",
            ));
        };
        if !METHODS.contains(&name) {
            let message = match crate::suggest::closest(name, METHODS) {
                Some(m) => format!("unknown method `.{name}()`; did you mean `.{m}()`?"),
                None => format!(
                    "unknown method `.{name}()`; expected one of .rollup(), .as_count(), .as_rate(), .fill(), .weighted()"
                ),
            };
            return Err(self.error(start, message));
        }
        self.skip_ws();
        let open = self.pos;
        if !self.eat(b'(') {
            return Err(self.expected(&format!("`(` after `.{name}`")));
        }
        self.skip_ws();
        let params = if self.eat(b')') {
            Vec::new()
        } else {
            let first = self.param()?;
            let mut params = vec![first];
            params.extend(self.rest_params(open, &format!("`.{name}(`"))?);
            params
        };
        let close = self.pos - 1;
        let ctx = format!("`.{name}()`");
        match name {
            "rollup" => self.rollup(&params, &ctx, close),
            "fill" => self.fill(&params, &ctx, close),
            _ => {
                if let Some(p) = params.first() {
                    return Err(self.error(p.span.start, format!("{ctx} takes no arguments")));
                }
                Ok(match name {
                    "as_count" => Method::AsCount,
                    "as_rate" => Method::AsRate,
                    _ => Method::Weighted,
                })
            }
        }
    }

    /// `.rollup(agg)`, `.rollup(seconds)`, `.rollup(agg, seconds)`.
    fn rollup(&self, params: &[Param], ctx: &str, close: usize) -> Result<Method, ParseError> {
        let interval = |p: &Param| {
            self.whole(
                p,
                "the interval",
                ctx,
                1..=i64::from(u32::MAX),
                "a positive whole number of seconds",
            )
            .map(|s| s as u32)
        };
        match params {
            [p] if matches!(p.value, ParamValue::Number(_)) => Ok(Method::Rollup { agg: None, seconds: Some(interval(p)?) }),
            [p] => Ok(Method::Rollup { agg: Some(self.keyword(p, "aggregator", ctx, TIME_AGGS)?), seconds: None }),
            [a, s] => Ok(Method::Rollup { agg: Some(self.keyword(a, "aggregator", ctx, TIME_AGGS)?), seconds: Some(interval(s)?) }),
            _ => Err(self.error(
                params.get(2).map_or(close, |p| p.span.start),
                format!(
                    "{ctx} takes an aggregator, an interval in seconds, or both: .rollup(avg), .rollup(60) or .rollup(avg, 60); found {} arguments",
                    params.len()
                ),
            )),
        }
    }

    /// `.fill(mode)`, `.fill(mode, limit_seconds)`.
    fn fill(&self, params: &[Param], ctx: &str, close: usize) -> Result<Method, ParseError> {
        match params {
            [m] => Ok(Method::Fill { mode: self.keyword(m, "fill mode", ctx, FILL_MODES)?, limit_seconds: None }),
            [m, l] => {
                let mode = self.keyword(m, "fill mode", ctx, FILL_MODES)?;
                let limit = self.whole(l, "the limit", ctx, 1..=i64::from(u32::MAX), "a positive whole number of seconds")?;
                Ok(Method::Fill { mode, limit_seconds: Some(limit as u32) })
            }
            _ => Err(self.error(
                params.get(2).map_or(close, |p| p.span.start),
                format!(
                    "{ctx} takes a mode and an optional limit in seconds: .fill(null), .fill(zero), .fill(linear, 300) or .fill(last, 300); found {} arguments",
                    params.len()
                ),
            )),
        }
    }
}

/// `pNN[.N]` → NN.N, if `word` has that shape (1 to 3 integer digits).
fn percentile(word: &str) -> Option<f64> {
    let digits = word.strip_prefix('p')?;
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if int.len() > 3 || !all_digits(int) || frac.is_some_and(|f| !all_digits(f)) {
        return None;
    }
    digits.parse().ok()
}
