//! The two answers, parsed into one shape, and their comparison.
//!
//! - Whippet (`GET /api/v1/query`): `{"series": [{"tag_set": ["region:…"],
//!   "interval": 30, "pointlist": [[ms, value|null], …]}, …]}`; a bucket's
//!   timestamp is its start.
//! - VictoriaMetrics (`GET /api/v1/query_range`): `{"status": "success",
//!   "data": {"resultType": "matrix", "result": [{"metric": {"region": …},
//!   "values": [[secs, "value"], …]}, …]}}`; a point's timestamp is the end
//!   of its window.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// One series of an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Its labels (`key:value`, sorted; `__name__` left out).
    pub key: Vec<String>,
    /// `(timestamp ms, value)`, nulls and NaNs left out.
    pub points: Vec<(i64, f64)>,
}

/// A parsed answer.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// Its series, in the answer's order.
    pub series: Vec<Series>,
    /// Whippet: the `interval` of every series (they must agree), seconds.
    pub interval_secs: Option<u32>,
}

impl Answer {
    /// Points over all series.
    pub fn points(&self) -> usize {
        self.series.iter().map(|s| s.points.len()).sum()
    }
}

#[derive(Deserialize)]
struct WBody {
    #[serde(default)]
    series: Vec<WSeries>,
    #[serde(default)]
    errors: Vec<String>,
}

#[derive(Deserialize)]
struct WSeries {
    #[serde(default)]
    tag_set: Vec<String>,
    interval: Option<u32>,
    #[serde(default)]
    pointlist: Vec<(f64, Option<f64>)>,
}

/// Parses Whippet's `GET /api/v1/query` answer.
pub fn parse_whippet(body: &[u8]) -> Result<Answer> {
    let b: WBody = serde_json::from_slice(body).context("Whippet's answer is not query JSON")?;
    if !b.errors.is_empty() {
        bail!("Whippet answered with errors: {:?}", b.errors);
    }
    let mut interval = None;
    let mut series = Vec::with_capacity(b.series.len());
    for s in b.series {
        if let Some(i) = s.interval {
            if interval.is_some_and(|x| x != i) {
                bail!("Whippet's series have different intervals ({interval:?} and {i})");
            }
            interval = Some(i);
        }
        let mut key = s.tag_set;
        key.sort();
        let points = s
            .pointlist
            .into_iter()
            .filter_map(|(t, v)| Some((t as i64, v.filter(|x| x.is_finite())?)))
            .collect();
        series.push(Series { key, points });
    }
    Ok(Answer {
        series,
        interval_secs: interval,
    })
}

#[derive(Deserialize)]
struct VBody {
    status: String,
    #[serde(default)]
    error: Option<String>,
    data: Option<VData>,
}

#[derive(Deserialize)]
struct VData {
    #[serde(rename = "resultType")]
    result_type: String,
    result: Vec<VSeries>,
}

#[derive(Deserialize)]
struct VSeries {
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

/// Parses VictoriaMetrics' `GET /api/v1/query_range` answer.
pub fn parse_vm(body: &[u8]) -> Result<Answer> {
    let b: VBody =
        serde_json::from_slice(body).context("VictoriaMetrics' answer is not query JSON")?;
    if b.status != "success" {
        bail!(
            "VictoriaMetrics answered {}: {}",
            b.status,
            b.error.unwrap_or_default()
        );
    }
    let data = b.data.context("VictoriaMetrics' answer has no data")?;
    if data.result_type != "matrix" {
        bail!(
            "VictoriaMetrics answered a {}, not a matrix",
            data.result_type
        );
    }
    let series = data
        .result
        .into_iter()
        .map(|s| Series {
            key: s
                .metric
                .into_iter()
                .filter(|(k, _)| k != "__name__")
                .map(|(k, v)| format!("{k}:{v}"))
                .collect(),
            points: s
                .values
                .into_iter()
                .filter_map(|(t, v)| {
                    let v: f64 = v.parse().ok()?;
                    v.is_finite().then_some(((t * 1000.0).round() as i64, v))
                })
                .collect(),
        })
        .collect();
    Ok(Answer {
        series,
        interval_secs: None,
    })
}

/// How close the two answers are.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Comparison {
    /// Series in Whippet's answer.
    pub whippet_series: usize,
    /// Series in VictoriaMetrics' answer.
    pub vm_series: usize,
    /// Points in Whippet's answer.
    pub whippet_points: usize,
    /// Points in VictoriaMetrics' answer.
    pub vm_points: usize,
    /// Whippet series paired with a VictoriaMetrics one (same labels, or
    /// the only series of each).
    pub paired_series: usize,
    /// Points compared (a Whippet bucket starting at `t` against the
    /// VictoriaMetrics point at `t + step - 10 s`, whose window holds the
    /// same raw points).
    pub compared_points: usize,
    /// Median of |w − v| / max(|w|, |v|) over the compared points.
    pub median_rel_diff: f64,
    /// Largest relative difference.
    pub max_rel_diff: f64,
    /// Share of compared points within 1 % of each other.
    pub within_1pct: f64,
}

/// Relative difference of two values (0 when both are 0).
pub fn rel_diff(a: f64, b: f64) -> f64 {
    let m = a.abs().max(b.abs());
    if m == 0.0 { 0.0 } else { (a - b).abs() / m }
}

/// Compares Whippet's answer `w` with VictoriaMetrics' `v` for a step of
/// `step_ms` on data of resolution `native_ms`.
pub fn compare(w: &Answer, v: &Answer, step_ms: i64, native_ms: i64) -> Comparison {
    let mut c = Comparison {
        whippet_series: w.series.len(),
        vm_series: v.series.len(),
        whippet_points: w.points(),
        vm_points: v.points(),
        ..Comparison::default()
    };
    let by_key: HashMap<&[String], &Series> =
        v.series.iter().map(|s| (s.key.as_slice(), s)).collect();
    let pairs: Vec<(&Series, &Series)> = if w.series.len() == 1 && v.series.len() == 1 {
        vec![(&w.series[0], &v.series[0])]
    } else {
        w.series
            .iter()
            .filter_map(|s| Some((s, *by_key.get(s.key.as_slice())?)))
            .collect()
    };
    c.paired_series = pairs.len();
    let shift = step_ms - native_ms;
    let mut diffs = Vec::new();
    for (ws, vs) in pairs {
        let at: HashMap<i64, f64> = vs.points.iter().copied().collect();
        for &(t, x) in &ws.points {
            if let Some(&y) = at.get(&(t + shift)) {
                diffs.push(rel_diff(x, y));
            }
        }
    }
    c.compared_points = diffs.len();
    if !diffs.is_empty() {
        diffs.sort_by(f64::total_cmp);
        c.median_rel_diff = crate::stats::median(&diffs);
        c.max_rel_diff = *diffs.last().expect("not empty");
        c.within_1pct = diffs.iter().filter(|d| **d <= 0.01).count() as f64 / diffs.len() as f64;
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: &str = r#"{"status":"ok","res_type":"time_series","series":[
        {"metric":"system.cpu.user","tag_set":["region:eu"],"interval":30,"length":3,
         "pointlist":[[60000.0,2.0],[90000.0,null],[120000.0,4.0]]},
        {"metric":"system.cpu.user","tag_set":["region:us"],"interval":30,
         "pointlist":[[60000.0,10.0]]}]}"#;
    const V: &str = r#"{"status":"success","data":{"resultType":"matrix","result":[
        {"metric":{"region":"us"},"values":[[80,"10.5"]]},
        {"metric":{"__name__":"x","region":"eu"},"values":[[80,"2"],[140,"4.04"],[170,"NaN"]]}]}}"#;

    #[test]
    fn answers_parse() {
        let w = parse_whippet(W.as_bytes()).unwrap();
        assert_eq!(w.interval_secs, Some(30));
        assert_eq!(w.series.len(), 2);
        assert_eq!(w.series[0].key, ["region:eu"]);
        assert_eq!(w.series[0].points, [(60_000, 2.0), (120_000, 4.0)]);
        let v = parse_vm(V.as_bytes()).unwrap();
        assert_eq!(v.series[1].key, ["region:eu"]);
        assert_eq!(v.series[1].points, [(80_000, 2.0), (140_000, 4.04)]);
        assert_eq!(v.points(), 3);
        assert!(parse_whippet(br#"{"errors":["bad query"]}"#).is_err());
        assert!(parse_vm(br#"{"status":"error","error":"boom"}"#).is_err());
        assert!(
            parse_vm(br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#)
                .is_err()
        );
    }

    #[test]
    fn comparison_shifts_to_the_window_end() {
        let w = parse_whippet(W.as_bytes()).unwrap();
        let v = parse_vm(V.as_bytes()).unwrap();
        // step 30 s, native 10 s: Whippet's bucket at 60 s ↔ VM's point at 80 s.
        let c = compare(&w, &v, 30_000, 10_000);
        assert_eq!((c.whippet_series, c.vm_series, c.paired_series), (2, 2, 2));
        assert_eq!(c.compared_points, 3);
        assert!((c.max_rel_diff - 0.5 / 10.5).abs() < 1e-12, "{c:?}");
        assert!((c.median_rel_diff - 0.04 / 4.04).abs() < 1e-12, "{c:?}");
        assert!((c.within_1pct - 2.0 / 3.0).abs() < 1e-12);
        // Without the shift nothing lines up.
        assert_eq!(compare(&w, &v, 10_000, 10_000).compared_points, 0);
    }

    #[test]
    fn single_series_pair_whatever_their_labels() {
        let w = Answer {
            series: vec![Series {
                key: vec![],
                points: vec![(0, 1.0)],
            }],
            interval_secs: Some(10),
        };
        let v = Answer {
            series: vec![Series {
                key: vec!["host:h".into()],
                points: vec![(0, 1.0)],
            }],
            interval_secs: None,
        };
        let c = compare(&w, &v, 10_000, 10_000);
        assert_eq!((c.paired_series, c.compared_points), (1, 1));
        assert_eq!(c.max_rel_diff, 0.0);
        assert_eq!(rel_diff(0.0, 0.0), 0.0);
        assert_eq!(rel_diff(1.0, -1.0), 2.0);
        assert_eq!(rel_diff(2.0, 1.0), 0.5);
    }
}
