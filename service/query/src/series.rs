//! The values an expression evaluates to: numbers and sets of series on a
//! grid, columnar (one `Vec<f64>` per series, NaN for "no value").

/// One output series of an expression, on the expression's grid.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    /// The group tags (`["host:a", "env:prod"]`), in `by` order; empty for
    /// an ungrouped series.
    pub tags: Vec<String>,
    /// One value per bucket of the grid; NaN = null.
    pub values: Vec<f64>,
    /// Every bucket is reported, nulls at the edges included (`fill(null)`,
    /// `fill(zero)`, `default_zero`, `count_*`). Otherwise empty buckets at
    /// the start and end are left out.
    pub dense: bool,
    /// The values are event counts per bucket (counts queried as counts,
    /// rates `.as_count()`): `per_second` and friends divide them by the
    /// bucket length instead of differentiating.
    pub counts: bool,
}

/// What the response says about where a set of series came from.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Meta {
    /// Metric name of the (leftmost) metric query; empty for pure numbers.
    pub metric: String,
    /// Its space aggregator as written, `None` when omitted.
    pub aggr: Option<String>,
    /// Its scope text (`*` for all).
    pub scope: String,
}

/// The series an expression produced.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct SeriesSet {
    pub meta: Meta,
    pub series: Vec<Series>,
}

impl SeriesSet {
    /// True when the set is one series without group tags: it is broadcast
    /// against grouped operands.
    pub fn is_ungrouped(&self) -> bool {
        self.series.len() == 1 && self.series[0].tags.is_empty()
    }
}

/// The value of an expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// A number: broadcast to every bucket of every series it meets.
    Scalar(f64),
    /// Series.
    Set(SeriesSet),
}

impl Value {
    /// The value as series: a number becomes one ungrouped, dense series
    /// holding it in every bucket.
    pub fn into_set(self, len: usize) -> SeriesSet {
        match self {
            Value::Set(s) => s,
            Value::Scalar(v) => SeriesSet {
                meta: Meta {
                    scope: "*".into(),
                    ..Meta::default()
                },
                series: vec![Series {
                    tags: Vec::new(),
                    values: vec![v; len],
                    dense: true,
                    counts: false,
                }],
            },
        }
    }
}
