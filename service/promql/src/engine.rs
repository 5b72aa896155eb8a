//! The entry points: instant and range queries, and the metadata questions
//! of Prometheus' HTTP API.

use promql_parser::label::Matcher;
use promql_parser::parser::value::ValueType;
use std::collections::HashMap;
use std::sync::Arc;

use whippet_tsdb::{Engine, OrgId, ReadBuffers, SeriesId, SeriesKey, ValueKind};

use crate::error::{PromError, Result};
use crate::eval::{Evaluator, Grid, Val};
use crate::label_memo::LabelMemo;
use crate::value::{InstantSample, Labels, METRIC_NAME, QueryValue, Sample, Series};
use crate::{errpos, names, select};

/// How queries are evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalOptions {
    /// How far back an instant selector looks for a series' latest sample
    /// (Prometheus' `--query.lookback-delta`, default 5 minutes).
    pub lookback_ms: i64,
    /// The most samples one query may hold in memory at once (Prometheus'
    /// `--query.max-samples`, default 50 million); beyond it the query
    /// fails with Prometheus' "query processing would load too many samples
    /// into memory" execution error.
    ///
    /// Counted more strictly than Prometheus does: every sample read from
    /// storage and every sample a selector, subquery or function call
    /// answers adds to the count and nothing is taken off when an
    /// intermediate result is dropped (the windows of one step of a range
    /// function are only checked, not added). A query Prometheus runs just
    /// under the limit may fail here.
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
    /// The labels of series already seen, shared by every query (and
    /// every clone of this engine).
    memo: Arc<LabelMemo>,
}

impl PromEngine {
    /// An engine over `tsdb` with these options.
    pub fn new(tsdb: Engine, opts: EvalOptions) -> PromEngine {
        PromEngine {
            tsdb,
            opts,
            memo: Arc::new(LabelMemo::new()),
        }
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
        let expr = errpos::parse_shared(query)?;
        let mut ev = Evaluator::new(&self.tsdb, org, &self.opts, &self.memo, time_ms, time_ms);
        let g = Grid::instant(time_ms);
        Ok(match ev.eval(&expr, &g)? {
            Val::Scalar(v) => QueryValue::Scalar {
                t: time_ms,
                v: v.first().copied().unwrap_or(f64::NAN),
            },
            Val::Str(s) => QueryValue::String { t: time_ms, s },
            Val::Vector(vs) => QueryValue::Vector(
                vs.into_iter()
                    .filter_map(|s| {
                        s.vals.first().map(|&v| InstantSample {
                            labels: s.labels,
                            t: time_ms,
                            v,
                        })
                    })
                    .collect(),
            ),
            Val::Matrix(m) => QueryValue::Matrix(m),
        })
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
        if end_ms < start_ms {
            return Err(PromError::BadData(
                "end timestamp must not be before start time".into(),
            ));
        }
        if step_ms <= 0 {
            return Err(PromError::BadData(
                "zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
            ));
        }
        let max = self.opts.max_points_per_series;
        if usize::try_from((end_ms - start_ms) / step_ms).unwrap_or(usize::MAX) > max {
            return Err(PromError::BadData(format!(
                "exceeded maximum resolution of {} points per timeseries. Try decreasing the query resolution (?step=XX)",
                thousands(max)
            )));
        }
        let expr = errpos::parse_shared(query)?;
        let kind = match expr.value_type() {
            ValueType::Vector | ValueType::Scalar => None,
            ValueType::Matrix => Some("range vector"),
            ValueType::String => Some("string"),
        };
        if let Some(kind) = kind {
            return Err(PromError::BadData(format!(
                "invalid expression type \"{kind}\" for range query, must be Scalar or instant Vector"
            )));
        }
        let g = Grid {
            start: start_ms,
            end: end_ms,
            step: step_ms,
        };
        // `end()` is the request's end, even when it is off the grid.
        let mut ev = Evaluator::new(&self.tsdb, org, &self.opts, &self.memo, start_ms, end_ms);
        let mut out: Vec<Series> = match ev.eval(&expr, &g)? {
            Val::Scalar(v) => vec![Series {
                labels: Labels::default(),
                samples: v
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| Sample { t: g.time(i), v })
                    .collect(),
            }],
            Val::Vector(vs) => vs
                .into_iter()
                .map(|s| Series {
                    labels: s.labels,
                    samples: s
                        .steps
                        .iter()
                        .zip(&s.vals)
                        .map(|(&k, &v)| Sample {
                            t: g.time(k as usize),
                            v,
                        })
                        .collect(),
                })
                .collect(),
            Val::Str(_) | Val::Matrix(_) => {
                return Err(PromError::BadData(
                    "invalid expression type for range query, must be Scalar or instant Vector"
                        .into(),
                ));
            }
        };
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(QueryValue::Matrix(out))
    }

    /// The selectors of a metadata request, parsed as Prometheus 2.42's API
    /// parses `match[]`: each a vector selector alone (see
    /// [`errpos::parse_metric_selector`]); then, once all parse, each must
    /// have a matcher that the empty string fails (`{}` and `{a=""}` would
    /// select every series), else Prometheus' `match[] must contain at
    /// least one non-empty matcher`. The caller adds `invalid parameter
    /// "match[]": ` where Prometheus does (`/series` only).
    fn parse_selectors(matchers: &[String]) -> Result<Vec<Vec<Matcher>>> {
        let sets = matchers
            .iter()
            .map(|m| errpos::parse_metric_selector(m))
            .collect::<Result<Vec<_>>>()?;
        if sets.iter().any(|set| set.iter().all(|m| m.is_match(""))) {
            return Err(PromError::BadData(
                "match[] must contain at least one non-empty matcher".into(),
            ));
        }
        Ok(sets)
    }

    /// The label sets of the float series the selectors pick that have a
    /// sample in `[start_ms, end_ms]`, sorted, unique.
    ///
    /// Reads no points for a series whose newest sample since `start_ms`
    /// is at or before `end_ms` (the usual case: a range ending now); only
    /// the others are read to see if a sample falls in the range.
    fn matching_labels(
        &self,
        org: OrgId,
        selectors: &[Vec<Matcher>],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Labels>> {
        let mut out = Vec::new();
        for m in selectors {
            let sel = select::index_selector(&self.tsdb, org, m);
            let keys: Vec<(SeriesId, SeriesKey)> = self
                .tsdb
                .select(org, &sel)
                .into_iter()
                .filter_map(|id| Some((id, self.tsdb.series_key(id)?)))
                .filter(|(_, key)| key.kind == ValueKind::Float)
                .collect();
            let shown = self.memo.labels_of(keys.iter().map(|(id, key)| (*id, key)));
            let mut ids = Vec::new();
            let mut labels = Vec::new();
            for ((id, _), l) in keys.iter().zip(shown) {
                if select::matches_all(m, &l.full) {
                    ids.push(*id);
                    labels.push(l.full);
                }
            }
            let newest = self.tsdb.newest_points(org, &ids, start_ms);
            let mut unsure: HashMap<SeriesId, Labels> = HashMap::new();
            for ((id, l), n) in ids.into_iter().zip(labels).zip(newest) {
                match n {
                    Some(t) if t <= end_ms => out.push(l),
                    Some(_) => {
                        unsure.insert(id, l);
                    }
                    None => {}
                }
            }
            if unsure.is_empty() {
                continue;
            }
            let view = self
                .tsdb
                .read(org, &sel, start_ms, end_ms.saturating_add(1))?;
            let mut buf = ReadBuffers::default();
            for (i, meta) in view.series().iter().enumerate() {
                if let Some(l) = unsure.remove(&meta.id)
                    && !view.floats(i, &mut buf)?.0.is_empty()
                {
                    out.push(l);
                }
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
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
        if matchers.is_empty() {
            return Err(PromError::BadData("no match[] parameter provided".into()));
        }
        let sels = Self::parse_selectors(matchers)?;
        self.matching_labels(org, &sels, start_ms, end_ms)
    }

    /// `GET /api/v1/labels`: the label names (with `__name__`) of the
    /// series the matchers select (all series without matchers), sorted.
    ///
    /// Without matchers the answer comes from the tag index alone (every
    /// series the org has, whatever the time range: Prometheus too answers
    /// from whole blocks); with matchers, from the series with samples in
    /// the range.
    pub fn label_names(
        &self,
        org: OrgId,
        matchers: &[String],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<String>> {
        let mut out: Vec<String> = if matchers.is_empty() {
            let mut v: Vec<String> = self
                .tsdb
                .tag_keys(org, None)
                .iter()
                .map(|k| names::prom_label_name(k).into_owned())
                .filter(|k| k != METRIC_NAME)
                .collect();
            if !self.tsdb.metric_names(org, None).is_empty() {
                v.push(METRIC_NAME.to_owned());
            }
            v
        } else {
            let sels = Self::parse_selectors(matchers)?;
            self.matching_labels(org, &sels, start_ms, end_ms)?
                .iter()
                .flat_map(|l| l.pairs().iter().map(|(k, _)| k.clone()))
                .collect()
        };
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// `GET /api/v1/label/<name>/values`: the values of label `name`
    /// (`__name__`: metric names as PromQL shows them) over the series the
    /// matchers select (all without matchers), sorted, unique.
    ///
    /// Without matchers the values come from the tag index (see
    /// [`PromEngine::label_names`]); a label that several tags of one
    /// series join (`env="a,b"`) then shows its tags' values one by one.
    pub fn label_values(
        &self,
        org: OrgId,
        name: &str,
        matchers: &[String],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<String>> {
        let mut out: Vec<String> = if matchers.is_empty() {
            if name == METRIC_NAME {
                self.tsdb
                    .metric_names(org, None)
                    .iter()
                    .map(|m| names::prom_metric_name(m).into_owned())
                    .collect()
            } else {
                self.tsdb
                    .tag_keys(org, None)
                    .iter()
                    .filter(|k| names::prom_label_name(k) == name)
                    .flat_map(|k| self.tsdb.tag_values(org, k, None))
                    .filter(|v| !v.is_empty())
                    .collect()
            }
        } else {
            let sels = Self::parse_selectors(matchers)?;
            self.matching_labels(org, &sels, start_ms, end_ms)?
                .iter()
                .filter_map(|l| l.get(name).map(str::to_owned))
                .collect()
        };
        out.sort();
        out.dedup();
        Ok(out)
    }
}

/// `11000` → `11,000`, as Prometheus writes its resolution limit.
fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use whippet_tsdb::time::DAY_MS;
    use whippet_tsdb::{Clock, EngineConfig, FloatPoint, MetricType, SeriesKey, TagSet};

    const ORG: OrgId = OrgId(7);
    const T0: i64 = 1_793_491_200_000;

    /// An engine with `up{job="a"}`, `up{job="b"}` (from T0 + 1h) and a
    /// Datadog series, one sample a minute for two hours.
    fn engine(opts: EvalOptions) -> (tempfile::TempDir, PromEngine) {
        let dir = tempfile::tempdir().unwrap();
        let config = EngineConfig {
            clock: Clock::manual(T0 + DAY_MS),
            background_tasks: false,
            retention_ms: 30 * DAY_MS,
            ..EngineConfig::default()
        };
        let tsdb = Engine::open(dir.path(), config).unwrap().0;
        let series: [(&str, &[&str], i64); 3] = [
            ("up", &["job:a"], 0),
            ("up", &["job:b"], 3_600_000),
            (
                "system.load.1",
                &["host:web-1", "kube.ns:prod", "canary"],
                0,
            ),
        ];
        for (metric, tags, from) in series {
            let key = SeriesKey::float(ORG, metric, TagSet::new(tags.iter().copied()));
            let id = tsdb.resolve(&key, MetricType::Gauge).unwrap();
            let points: Vec<FloatPoint> = (0..120)
                .map(|k| FloatPoint {
                    series: id,
                    ts: T0 + k * 60_000,
                    value: k as f64,
                })
                .filter(|p| p.ts >= T0 + from)
                .collect();
            tsdb.append_floats(&points).unwrap();
        }
        (dir, PromEngine::new(tsdb, opts))
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn series_are_those_with_samples_in_the_range() {
        let (_d, e) = engine(EvalOptions::default());
        let all = e
            .series(ORG, &strings(&["up"]), T0, T0 + 2 * 3_600_000)
            .unwrap();
        assert_eq!(
            all.iter().map(|l| l.to_string()).collect::<Vec<_>>(),
            [r#"up{job="a"}"#, r#"up{job="b"}"#]
        );
        // job="b" starts after the first half hour.
        let early = e
            .series(ORG, &strings(&["up", "system_load_1"]), T0, T0 + 1_800_000)
            .unwrap();
        assert_eq!(
            early.iter().map(|l| l.to_string()).collect::<Vec<_>>(),
            [
                r#"system_load_1{host="web-1", kube_ns="prod"}"#,
                r#"up{job="a"}"#
            ]
        );
        // job="b" has samples after the range only: read to be sure.
        let none = e
            .series(ORG, &strings(&[r#"up{job="b"}"#]), T0, T0 + 3_000_000)
            .unwrap();
        assert!(none.is_empty(), "{none:?}");
        assert!(matches!(
            e.series(ORG, &strings(&["up{"]), T0, T0 + 1),
            Err(PromError::Parse { .. })
        ));
    }

    /// `match[]` errors, each Prometheus 2.42's text (its `/series` adds
    /// `invalid parameter "match[]": ` in front; `/labels` does not).
    #[test]
    fn match_parameters_fail_as_prometheus_says() {
        let (_d, e) = engine(EvalOptions::default());
        let err = |sels: &[&str]| -> String {
            let s = e.series(ORG, &strings(sels), T0, T0 + 1).unwrap_err();
            let n = e.label_names(ORG, &strings(sels), T0, T0 + 1).unwrap_err();
            let v = e.label_values(ORG, "job", &strings(sels), T0, T0 + 1);
            assert_eq!(s.to_string(), n.to_string());
            assert_eq!(s.to_string(), v.unwrap_err().to_string());
            assert_eq!(s.http_status(), 400);
            s.to_string()
        };
        let empty = "match[] must contain at least one non-empty matcher";
        assert_eq!(err(&["{}"]), empty);
        assert_eq!(err(&[r#"{job=""}"#]), empty);
        assert_eq!(err(&[r#"{job=~".*"}"#]), empty);
        assert_eq!(err(&["up", r#"{job!="a", x=~""}"#]), empty);
        // Every `match[]` parses before any is checked for matchers.
        assert_eq!(
            err(&["{}", "1"]),
            r#"1:1: parse error: unexpected number "1""#
        );
        assert_eq!(err(&["up + 1"]), "1:4: parse error: unexpected <op:+>");
        assert_eq!(
            err(&["rate(up[5m])"]),
            r#"1:5: parse error: unexpected "(""#
        );
        assert_eq!(
            err(&["up offset 5m"]),
            "1:4: parse error: unexpected <offset>"
        );
        assert_eq!(err(&["(up)"]), r#"1:1: parse error: unexpected "(""#);
        assert_eq!(err(&[""]), "1:1: parse error: unexpected end of input");
        assert_eq!(
            err(&[r#"{a=~"(", b"#])
                .split(": ")
                .take(2)
                .collect::<Vec<_>>(),
            ["1:2", "parse error"],
            "a bad regex is reported at its label, before a later syntax error"
        );
        // Selectors with a non-empty matcher, in Prometheus' metric name
        // forms, are accepted.
        for ok in [
            "up",
            r#"{job="a"}"#,
            r#"sum{job="a",}"#,
            "by",
            "start",
            r#"{__name__=~"u.*"}"#,
        ] {
            e.series(ORG, &strings(&[ok]), T0, T0 + 1).unwrap();
        }
        let jobs = e
            .label_values(
                ORG,
                "job",
                &strings(&[r#"{job=~"a|b"}"#]),
                T0,
                T0 + 3 * 3_600_000,
            )
            .unwrap();
        assert_eq!(jobs, ["a", "b"]);
    }

    #[test]
    fn label_names_and_values_follow_the_name_rule() {
        let (_d, e) = engine(EvalOptions::default());
        let end = T0 + 2 * 3_600_000;
        assert_eq!(
            e.label_names(ORG, &[], T0, end).unwrap(),
            ["__name__", "host", "job", "kube_ns"]
        );
        assert_eq!(
            e.label_names(ORG, &strings(&["up"]), T0, end).unwrap(),
            ["__name__", "job"]
        );
        assert_eq!(
            e.label_values(ORG, "__name__", &[], T0, end).unwrap(),
            ["system_load_1", "up"]
        );
        assert_eq!(
            e.label_values(ORG, "job", &[], T0, end).unwrap(),
            ["a", "b"]
        );
        assert_eq!(
            e.label_values(ORG, "job", &strings(&[r#"{job=~"a|c"}"#]), T0, end)
                .unwrap(),
            ["a"]
        );
        assert_eq!(
            e.label_values(ORG, "kube_ns", &[], T0, end).unwrap(),
            ["prod"]
        );
    }

    #[test]
    fn the_sample_limit_refuses_big_queries() {
        let opts = EvalOptions {
            max_samples: 100,
            ..EvalOptions::default()
        };
        let (_d, e) = engine(opts);
        // 120 samples of up{job="a"} in the 2 hours' windows.
        let err = e
            .instant_query(ORG, r#"up{job="a"}[2h]"#, T0 + 7_200_000)
            .unwrap_err();
        assert_eq!(err.error_type(), "execution");
        assert!(err.to_string().contains("too many samples"), "{err}");
        // A small one passes.
        assert!(
            e.instant_query(ORG, r#"up{job="a"}[10m]"#, T0 + 7_200_000)
                .is_ok()
        );
    }

    #[test]
    fn range_queries_check_their_steps() {
        let (_d, e) = engine(EvalOptions::default());
        let err = e
            .range_query(ORG, "up", T0, T0 + 20_000_000, 1000)
            .unwrap_err();
        assert!(err.to_string().contains("11,000 points"), "{err}");
        assert_eq!(err.http_status(), 400);
        let QueryValue::Matrix(m) = e
            .range_query(ORG, "up", T0, T0 + 3_600_000, 1_800_000)
            .unwrap()
        else {
            panic!("a range query answers a matrix");
        };
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].samples.len(), 3);
        assert_eq!(m[1].samples.len(), 1);
        assert_eq!(thousands(11_000), "11,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn instant_queries_answer_each_type() {
        let (_d, e) = engine(EvalOptions::default());
        let t = T0 + 3_600_000;
        assert_eq!(
            e.instant_query(ORG, "1 + 1", t).unwrap(),
            QueryValue::Scalar { t, v: 2.0 }
        );
        assert_eq!(
            e.instant_query(ORG, r#""x""#, t).unwrap(),
            QueryValue::String { t, s: "x".into() }
        );
        let QueryValue::Vector(v) = e.instant_query(ORG, "sum(up)", t).unwrap() else {
            panic!("a vector");
        };
        assert_eq!(v.len(), 1);
        assert_eq!((v[0].t, v[0].v), (t, 120.0));
    }
}
