//! What one query may cost.

/// Limits on the work and the answer of one query (one `GET /api/v1/query`
/// or one v2 request, all its expressions together). A query over a limit
/// fails with [`crate::QueryError::TooLarge`] before the storage engine
/// aggregates anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    /// Most series a query may select, summed over its metric queries (and
    /// over each time a timeshifted query is read). Default: 200 000, a
    /// large fleet's worth of one metric (20 000 hosts × 10 tag combinations).
    /// The read keeps one row of buckets per selected series, so this also
    /// caps the memory of the aggregation: 200 000 rows of 300 buckets are
    /// 480 MB, the most one query should hold.
    pub max_series: usize,
    /// Most raw points a query may read, estimated before reading as
    /// Σ (range / native interval) over the selected series. Default:
    /// 500 000 000: the engine aggregates well over 100 M points per second
    /// per core, so this is a few seconds of CPU on a small server, and a
    /// week of 10-second data for 80 000 series.
    pub max_points: u64,
    /// Most points a query may return, over all its series. Default:
    /// 1 000 000: a dashboard graph shows at most a few thousand lines of
    /// 300 points; more is a forgotten `by` or a tiny rollup, and the JSON
    /// answer (about 25 bytes per point) would pass 25 MB.
    pub max_output_points: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_series: 200_000,
            max_points: 500_000_000,
            max_output_points: 1_000_000,
        }
    }
}
