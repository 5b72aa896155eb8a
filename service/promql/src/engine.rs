//! The entry points: instant and range queries, and the metadata questions
//! of Prometheus' HTTP API.

use whippet_tsdb::{Engine, OrgId};

use crate::error::{PromError, Result};
use crate::value::{Labels, QueryValue};

/// How queries are evaluated.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// How far back an instant selector looks for a series' latest sample
    /// (Prometheus' `--query.lookback-delta`, default 5 minutes).
    pub lookback_ms: i64,
    /// The most samples one query may hold in memory at once (Prometheus'
    /// `--query.max-samples`, default 50 million); beyond it the query
    /// fails with Prometheus' "query processing would load too many samples
    /// into memory" execution error.
    pub max_samples: usize,
    /// The most points a range query may answer per series (Prometheus
    /// refuses more than 11,000: "exceeded maximum resolution of 11,000
    /// points per timeseries").
    pub max_points_per_series: usize,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            lookback_ms: 5 * 60 * 1000,
            max_samples: 50_000_000,
            max_points_per_series: 11_000,
        }
    }
}

/// PromQL over one storage engine. Cheap to clone.
#[derive(Clone)]
pub struct PromEngine {
    tsdb: Engine,
    opts: EvalOptions,
}

impl PromEngine {
    /// An engine over `tsdb` with these options.
    pub fn new(tsdb: Engine, opts: EvalOptions) -> PromEngine {
        PromEngine { tsdb, opts }
    }

    /// The storage engine.
    pub fn tsdb(&self) -> &Engine {
        &self.tsdb
    }

    /// The options.
    pub fn options(&self) -> &EvalOptions {
        &self.opts
    }

    /// `GET /api/v1/query`: evaluates `query` at `time_ms`. A range-vector
    /// expression answers [`QueryValue::Matrix`].
    pub fn instant_query(&self, org: OrgId, query: &str, time_ms: i64) -> Result<QueryValue> {
        let _ = (org, query, time_ms);
        Err(PromError::Execution(
            "PromQL evaluation is not built yet".into(),
        ))
    }

    /// `GET /api/v1/query_range`: evaluates `query` at `start_ms`,
    /// `start_ms + step_ms`, ... up to `end_ms`; always answers
    /// [`QueryValue::Matrix`] (a scalar becomes one series without labels).
    /// The expression must be a scalar or an instant vector.
    pub fn range_query(
        &self,
        org: OrgId,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryValue> {
        let _ = (org, query, start_ms, end_ms, step_ms);
        Err(PromError::Execution(
            "PromQL evaluation is not built yet".into(),
        ))
    }

    /// `GET /api/v1/series`: the label sets of the series that any of the
    /// `matchers` (each a series selector such as `up{job="x"}`) selects
    /// and that have samples in `[start_ms, end_ms]`, sorted, unique.
    pub fn series(
        &self,
        org: OrgId,
        matchers: &[String],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Labels>> {
        let _ = (org, matchers, start_ms, end_ms);
        Err(PromError::Execution(
            "PromQL evaluation is not built yet".into(),
        ))
    }

    /// `GET /api/v1/labels`: the label names (with `__name__`) of the
    /// series the matchers select (all series without matchers), sorted.
    pub fn label_names(
        &self,
        org: OrgId,
        matchers: &[String],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<String>> {
        let _ = (org, matchers, start_ms, end_ms);
        Err(PromError::Execution(
            "PromQL evaluation is not built yet".into(),
        ))
    }

    /// `GET /api/v1/label/<name>/values`: the values of label `name`
    /// (`__name__`: metric names as PromQL shows them) over the series the
    /// matchers select (all without matchers), sorted, unique.
    pub fn label_values(
        &self,
        org: OrgId,
        name: &str,
        matchers: &[String],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<String>> {
        let _ = (org, name, matchers, start_ms, end_ms);
        Err(PromError::Execution(
            "PromQL evaluation is not built yet".into(),
        ))
    }
}
