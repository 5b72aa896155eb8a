//! The syntax tree of a Datadog metric query.
//!
//! A request (`GET /api/v1/query?query=...`) is one or more expressions
//! separated by commas ([`Request`]); each expression combines metric
//! queries, numbers and functions with arithmetic ([`Expr`]). A formula of
//! `POST /api/v2/query/timeseries` is an expression whose leaves are query
//! names ([`Expr::Ref`]) instead of metric queries.
//!
//! Every node keeps its [`Span`] in the source text, so evaluation errors can
//! point at the part of the query they are about, and the response's
//! `expression` field can echo the sub-expression that produced a series.

/// Byte range `[start, end)` in the query text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The text this span covers in `source`.
    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        source.get(self.start..self.end).unwrap_or("")
    }
}

/// A whole query: comma-separated expressions (`query_index` 0, 1, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The expressions, in order.
    pub exprs: Vec<Expr>,
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number literal.
    Number {
        /// Its value.
        value: f64,
        /// Where it is.
        span: Span,
    },
    /// A metric query: `avg:system.cpu.user{env:prod} by {host}.rollup(max)`.
    Query(Box<MetricQuery>),
    /// A reference to a named query in a v2 formula (`a`, `query1`).
    Ref {
        /// The name.
        name: String,
        /// Where it is.
        span: Span,
    },
    /// `lhs op rhs`.
    Binary {
        /// The operator.
        op: BinOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
        /// The whole expression.
        span: Span,
    },
    /// `-expr`.
    Neg {
        /// The operand.
        expr: Box<Expr>,
        /// The whole expression.
        span: Span,
    },
    /// A function applied to an expression: `abs(q)`, `top(q, 10, 'mean',
    /// 'desc')`, `timeshift(q, -3600)`, `hour_before(q)`.
    Call {
        /// The function with its parsed parameters.
        func: Func,
        /// The expression it applies to (the first argument).
        arg: Box<Expr>,
        /// The whole call.
        span: Span,
    },
}

impl Expr {
    /// Where the expression is in the source.
    pub fn span(&self) -> Span {
        match self {
            Expr::Number { span, .. }
            | Expr::Ref { span, .. }
            | Expr::Binary { span, .. }
            | Expr::Neg { span, .. }
            | Expr::Call { span, .. } => *span,
            Expr::Query(q) => q.span,
        }
    }
}

/// Arithmetic operators, with the usual precedence (`*` and `/` bind
/// tighter than `+` and `-`; all are left-associative).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/` (division by zero gives null)
    Div,
}

/// `[space_agg:]metric{scope} [by {keys}] [.method()...]`
#[derive(Debug, Clone, PartialEq)]
pub struct MetricQuery {
    /// The space aggregator; `None` when omitted (evaluated as `avg`, and
    /// reported as `aggr: null`).
    pub space_agg: Option<SpaceAgg>,
    /// The metric name.
    pub metric: String,
    /// The scope filter (`*` is [`Scope::All`]).
    pub scope: Scope,
    /// The source text of the scope, without braces (`env:prod,role:web`).
    pub scope_text: String,
    /// Tag keys of the `by {...}` clause, in the order written.
    pub by: Vec<String>,
    /// `.rollup(...)`, `.as_count()`, `.as_rate()`, `.fill(...)`,
    /// `.weighted()`, in the order written.
    pub methods: Vec<Method>,
    /// The whole metric query.
    pub span: Span,
}

/// How the series of a group are combined per time bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SpaceAgg {
    /// `avg:`
    Avg,
    /// `sum:`
    Sum,
    /// `min:`
    Min,
    /// `max:`
    Max,
    /// `count:` (number of values; on distributions, the number of samples)
    Count,
    /// `p50:`, `p99:`, `p99.9:`: a percentile of the merged distribution
    /// sketches (distributions only). The value is in `0.0..=100.0`.
    Percentile(f64),
}

/// How the points of one series are combined per time bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeAgg {
    /// `avg`
    Avg,
    /// `sum`
    Sum,
    /// `min`
    Min,
    /// `max`
    Max,
    /// `count`
    Count,
    /// `last` (accepted by `moving_rollup` and `.rollup`)
    Last,
}

/// A method chained after a metric query.
#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    /// `.rollup(agg)` or `.rollup(agg, seconds)` (also `.rollup(seconds)`,
    /// which keeps the default aggregator).
    Rollup {
        /// The time aggregator, when given.
        agg: Option<TimeAgg>,
        /// The bucket length in seconds, when given.
        seconds: Option<u32>,
    },
    /// `.as_count()`
    AsCount,
    /// `.as_rate()`
    AsRate,
    /// `.fill(mode)` or `.fill(mode, limit_seconds)`
    Fill {
        /// What fills an empty bucket.
        mode: FillMode,
        /// How far (seconds) `last` and `linear` may reach.
        limit_seconds: Option<u32>,
    },
    /// `.weighted()` (accepted; evaluated like the default)
    Weighted,
}

/// What `.fill()` puts in empty buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FillMode {
    /// `null`: explicit nulls (the default for interior gaps).
    Null,
    /// `zero`
    Zero,
    /// `linear`: interpolate between neighbours.
    Linear,
    /// `last`: carry the previous value forward.
    Last,
}

/// A scope filter over tags.
#[derive(Debug, Clone, PartialEq)]
pub enum Scope {
    /// `*`: every series of the metric.
    All,
    /// `key:value` or a bare tag, matched exactly.
    Tag(String),
    /// A tag with `*` wildcards: `host:web-*`, `service:*api*`.
    Glob(String),
    /// `key IN (v1, v2)`
    In {
        /// The tag key.
        key: String,
        /// The values (each may contain `*`).
        values: Vec<String>,
    },
    /// `!tag`, `NOT tag`, `key NOT IN (...)`
    Not(Box<Scope>),
    /// Comma-separated filters and `AND`.
    And(Vec<Scope>),
    /// `OR`
    Or(Vec<Scope>),
}

/// A function with its parameters, checked by the parser.
#[derive(Debug, Clone, PartialEq)]
pub enum Func {
    /// `abs(q)`
    Abs,
    /// `log2(q)` (≤ 0 gives null)
    Log2,
    /// `log10(q)` (≤ 0 gives null)
    Log10,
    /// `cumsum(q)`
    Cumsum,
    /// `integral(q)`: running sum of value × Δt seconds
    Integral,
    /// `diff(q)`
    Diff,
    /// `monotonic_diff(q)`
    MonotonicDiff,
    /// `derivative(q)`: diff per second
    Derivative,
    /// `per_second(q)`, `per_minute(q)`, `per_hour(q)`: the seconds of the
    /// unit (1, 60, 3600)
    PerUnit {
        /// 1, 60 or 3600.
        seconds: u32,
    },
    /// `dt(q)`
    Dt,
    /// `timeshift(q, ±seconds)`; `hour_before(q)` is -3600, `day_before(q)`
    /// -86400, `week_before(q)` -604800, `month_before(q)` -2419200.
    Timeshift {
        /// Seconds to shift; negative looks into the past.
        seconds: i64,
    },
    /// `top(q, n, 'rank', 'dir')`, `top_offset(q, n, 'rank', 'dir', offset)`
    /// and the shorthands (`top10`, `bottom5_max`, ...).
    Top {
        /// How many series to keep.
        n: usize,
        /// How series are ranked.
        rank: TopRank,
        /// Largest first (`desc`, `top`) or smallest first (`asc`, `bottom`).
        descending: bool,
        /// Series to skip first (`top_offset`).
        offset: usize,
    },
    /// `moving_rollup(q, seconds, 'agg')`
    MovingRollup {
        /// Window length.
        seconds: u32,
        /// Aggregator over the window.
        agg: TimeAgg,
    },
    /// `ewma_3(q)` .. `ewma_20(q)` (span 3, 5, 7, 9, 10, 20 ...)
    Ewma {
        /// The span in points.
        span: u32,
    },
    /// `median_3(q)` .. `median_9(q)`
    Median {
        /// The window in points (odd).
        window: u32,
    },
    /// `clamp_min(q, v)`
    ClampMin(f64),
    /// `clamp_max(q, v)`
    ClampMax(f64),
    /// `cutoff_min(q, v)`: below v becomes null
    CutoffMin(f64),
    /// `cutoff_max(q, v)`: above v becomes null
    CutoffMax(f64),
    /// `count_nonzero(q)`
    CountNonzero,
    /// `count_not_null(q)`
    CountNotNull,
    /// `default_zero(q)`
    DefaultZero,
}

/// How `top` ranks series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopRank {
    /// `mean` (the default)
    Mean,
    /// `max`
    Max,
    /// `min`
    Min,
    /// `last`
    Last,
    /// `area`: sum of the values
    Area,
    /// `l2norm`: square root of the sum of squares
    L2Norm,
    /// `norm`: alias of `l2norm` in Datadog's documentation
    Norm,
}
