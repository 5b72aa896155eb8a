//! Every intake body captured from the real clients (copied from
//! `shared/fixtures/`, see `tests/fixtures/manifest.json`) parses to exactly
//! the data the client sent.

use std::path::PathBuf;

use whippet_dd_intake::body::decode_body;
use whippet_dd_intake::limits::{V1_MAX_DECOMPRESSED, V2_MAX_DECOMPRESSED};
use whippet_dd_intake::{
    CheckRun, MetricRow, Parsed, SketchRow, parse_check_runs, parse_distribution_points,
    parse_event_v1, parse_event_v2, parse_series_v1, parse_series_v2_json,
};
use whippet_tsdb::MetricType;

fn fixture(rel: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn ok<T>(p: Parsed<T>) -> Vec<T> {
    assert!(p.rejected.is_empty(), "rejected: {:?}", p.rejected);
    assert_eq!(p.rejected_total(), 0);
    p.rows
}

fn row(metric: &str, tags: &[&str], mtype: MetricType, points: &[(i64, f64)]) -> MetricRow {
    MetricRow {
        metric: metric.to_owned(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        mtype,
        points: points.to_vec(),
    }
}

fn count(interval_secs: u32) -> MetricType {
    MetricType::Count { interval_secs }
}

fn rate(interval_secs: u32) -> MetricType {
    MetricType::Rate { interval_secs }
}

const GAUGE: MetricType = MetricType::Gauge;

#[test]
fn datadogpy_v1_series_gauge() {
    let rows = ok(parse_series_v1(&fixture("datadogpy/v1_series_gauge.json")).unwrap());
    assert_eq!(
        rows,
        vec![row(
            "dp.gauge",
            &["env:dev", "host:drv-host"],
            GAUGE,
            &[(1_795_644_994_000, 1.0), (1_795_645_004_000, 2.5)]
        )]
    );
}

#[test]
fn datadogpy_v1_series_multi_count_and_rate_with_fractional_timestamp() {
    let rows = ok(parse_series_v1(&fixture("datadogpy/v1_series_multi.json")).unwrap());
    assert_eq!(
        rows,
        vec![
            // 1795645004.1691635 truncated to the second.
            row(
                "dp.count",
                &["a:b", "host:drv-host"],
                count(10),
                &[(1_795_645_004_000, 5.0)]
            ),
            row(
                "dp.rate",
                &["host:h2"],
                rate(10),
                &[(1_795_645_004_000, 0.5)]
            ),
        ]
    );
}

#[test]
fn datadogpy_v1_series_deflate_is_zlib() {
    let raw = fixture("datadogpy/v1_series_deflate.bin");
    assert_eq!(raw[0], 0x78, "a zlib header, as the manifest says");
    let body = decode_body(Some("deflate"), &raw, V1_MAX_DECOMPRESSED).unwrap();
    assert_eq!(
        &*body,
        &fixture("datadogpy/v1_series_deflate.decompressed.json")[..]
    );
    let rows = ok(parse_series_v1(&body).unwrap());
    assert_eq!(
        rows,
        vec![row(
            "dp.gz",
            &["host:drv-host"],
            GAUGE,
            &[(1_795_645_004_000, 1.0)]
        )]
    );
}

#[test]
fn api_client_v1_series_text_json() {
    let rows = ok(parse_series_v1(&fixture("datadog-api-client/v1_series.json")).unwrap());
    assert_eq!(
        rows,
        vec![
            row(
                "example.v1.gauge",
                &["env:dev", "host:web-1"],
                GAUGE,
                &[(1_795_645_006_000, 1.5)]
            ),
            row(
                "example.v1.count",
                &[],
                count(10),
                &[(1_795_645_006_000, 3.0)]
            ),
        ]
    );
}

fn v2_rows(gauge_name: &str) -> Vec<MetricRow> {
    vec![
        row(
            gauge_name,
            &["env:dev", "team:core", "host:web-1"],
            GAUGE,
            &[(1_795_644_996_000, 0.7), (1_795_645_006_000, 0.9)],
        ),
        row(
            "example.v2.count",
            &[],
            count(10),
            &[(1_795_645_006_000, 3.0)],
        ),
        row(
            "example.v2.rate",
            &[],
            rate(10),
            &[(1_795_645_006_000, 0.3)],
        ),
    ]
}

#[test]
fn api_client_v2_series_json() {
    let rows = ok(parse_series_v2_json(&fixture("datadog-api-client/v2_series.json")).unwrap());
    assert_eq!(rows, v2_rows("example.v2.gauge"));
}

#[test]
fn api_client_v2_series_compressed() {
    for (file, encoding, name) in [
        ("v2_series_gzip.bin", "gzip", "gz.metric"),
        ("v2_series_deflate.bin", "deflate", "deflate.metric"),
        ("v2_series_zstd1.bin", "zstd1", "zstd.metric"),
    ] {
        let raw = fixture(&format!("datadog-api-client/{file}"));
        let body = decode_body(Some(encoding), &raw, V2_MAX_DECOMPRESSED)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let rows = ok(parse_series_v2_json(&body).unwrap());
        assert_eq!(rows, v2_rows(name), "{file}");
    }
}

fn assert_sketch(row: &SketchRow, metric: &str, tags: &[&str], ts: i64, values: &[f64]) {
    assert_eq!(row.metric, metric);
    assert_eq!(row.tags, tags);
    assert_eq!(row.points.len(), 1);
    let (t, s) = &row.points[0];
    assert_eq!(*t, ts);
    assert_eq!(s.count(), values.len() as u64);
    assert_eq!(s.sum(), values.iter().sum::<f64>());
    assert_eq!(
        s.min(),
        values.iter().copied().fold(f64::INFINITY, f64::min)
    );
    assert_eq!(
        s.max(),
        values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    );
    let mut want = whippet_tsdb::Sketch::new();
    values.iter().for_each(|&v| want.insert(v));
    assert_eq!(s, &want);
}

#[test]
fn distribution_points_from_both_clients() {
    let rows =
        ok(parse_distribution_points(&fixture("datadogpy/v1_distribution_points.json")).unwrap());
    assert_eq!(rows.len(), 1);
    assert_sketch(
        &rows[0],
        "dp.dist",
        &["env:dev", "host:drv-host"],
        1_795_645_004_000,
        &[1.0, 2.0, 3.0],
    );
    let rows = ok(parse_distribution_points(&fixture(
        "datadog-api-client/v1_distribution_points.json",
    ))
    .unwrap());
    assert_eq!(rows.len(), 1);
    assert_sketch(
        &rows[0],
        "example.dist",
        &["env:dev", "host:web-1"],
        1_795_645_006_000,
        &[1.0, 2.0, 3.5],
    );
}

#[test]
fn check_run_object_from_datadogpy() {
    let rows = ok(parse_check_runs(&fixture("datadogpy/v1_check_run.json")).unwrap());
    assert_eq!(
        rows,
        vec![CheckRun {
            check: "app.ok".to_owned(),
            host: Some("web-1".to_owned()),
            status: 0,
            timestamp_ms: None,
            message: "all good".to_owned(),
            tags: vec!["env:dev".to_owned()],
        }]
    );
}

#[test]
fn check_run_array_from_api_client() {
    let rows = ok(parse_check_runs(&fixture("datadog-api-client/check_run.json")).unwrap());
    assert_eq!(
        rows,
        vec![CheckRun {
            check: "app.ok".to_owned(),
            host: Some("web-1".to_owned()),
            status: 0,
            timestamp_ms: Some(1_795_645_006_000),
            message: "fine".to_owned(),
            tags: vec!["env:prod".to_owned()],
        }]
    );
}

#[test]
fn event_v1_from_datadogpy() {
    let e = parse_event_v1(&fixture("datadogpy/v1_events_create.json")).unwrap();
    assert_eq!(e.title, "Something happened");
    assert_eq!(e.text, "details **md**");
    assert_eq!(e.tags, ["env:dev"]);
    assert_eq!(e.alert_type.as_deref(), Some("warning"));
    assert_eq!(e.aggregation_key.as_deref(), Some("agg1"));
    assert_eq!(e.priority.as_deref(), Some("normal"));
    assert_eq!(e.source_type_name.as_deref(), Some("my_apps"));
    assert_eq!(e.host.as_deref(), Some("drv-host"));
    assert_eq!(e.date_happened_ms, None);
    assert_eq!(e.related_event_id, None);
    assert_eq!(e.category, None);
    assert_eq!(e.attributes, None);
}

#[test]
fn event_v1_from_api_client() {
    let e = parse_event_v1(&fixture("datadog-api-client/event_v1_create.json")).unwrap();
    assert_eq!(e.title, "Deploy");
    assert_eq!(e.text, "Deployed v1.2");
    assert_eq!(e.host.as_deref(), Some("web-1"));
    assert_eq!(e.tags, ["env:prod"]);
    assert_eq!(e.alert_type.as_deref(), Some("info"));
    assert_eq!(e.aggregation_key.as_deref(), Some("deploy"));
    assert_eq!(e.source_type_name.as_deref(), Some("my_apps"));
    assert_eq!(e.priority, None);
}

#[test]
fn event_v2_change_from_api_client() {
    let e = parse_event_v2(&fixture("datadog-api-client/event_v2_create.json")).unwrap();
    assert_eq!(e.title, "flag flipped");
    assert_eq!(e.text, "new checkout on");
    assert_eq!(e.category.as_deref(), Some("change"));
    assert_eq!(e.tags, ["env:prod"]);
    assert_eq!(e.aggregation_key.as_deref(), Some("flag-1"));
    assert_eq!(e.date_happened_ms, None);
    assert_eq!(e.alert_type, None);
    assert_eq!(
        e.attributes,
        Some(serde_json::json!({
            "changed_resource": {"name": "new_checkout", "type": "feature_flag"}
        }))
    );
}

/// Replays every intake entry of the capture manifest the way the HTTP
/// layer will: Content-Type decides the parser, Content-Encoding the
/// decoder, the path the limits. Every one must parse with nothing
/// rejected; a manifest entry for an intake path without a copied fixture
/// fails the test, so new captures cannot be forgotten.
#[test]
fn manifest_replay() {
    let manifest: serde_json::Value =
        serde_json::from_slice(&fixture("manifest.json")).expect("manifest is JSON");
    let mut replayed = 0;
    for entry in manifest.as_array().unwrap() {
        let method = entry["method"].as_str().unwrap();
        let path = entry["path"].as_str().unwrap();
        let intake = matches!(
            path,
            "/api/v1/series"
                | "/api/v1/distribution_points"
                | "/api/v2/series"
                | "/api/v1/check_run"
                | "/api/v1/events"
                | "/api/v2/events"
        );
        if method != "POST" || !intake {
            continue;
        }
        let file = format!(
            "{}/{}",
            entry["dir"].as_str().unwrap(),
            entry["files"][0].as_str().unwrap()
        );
        let header = |name: &str| {
            entry["headers"]
                .as_object()
                .unwrap()
                .iter()
                .find_map(|(k, v)| {
                    k.eq_ignore_ascii_case(name)
                        .then(|| v.as_str().unwrap().to_owned())
                })
        };
        let content_type = header("content-type").unwrap_or_default();
        let encoding = header("content-encoding");
        let limit = if path == "/api/v2/series" {
            V2_MAX_DECOMPRESSED
        } else {
            V1_MAX_DECOMPRESSED
        };
        assert!(
            matches!(content_type.as_str(), "application/json" | "text/json"),
            "{file}: content type {content_type}"
        );
        let raw = fixture(&file);
        let body =
            decode_body(encoding.as_deref(), &raw, limit).unwrap_or_else(|e| panic!("{file}: {e}"));
        let rows = match path {
            "/api/v1/series" => ok(parse_series_v1(&body).unwrap()).len(),
            "/api/v1/distribution_points" => ok(parse_distribution_points(&body).unwrap()).len(),
            "/api/v2/series" => ok(parse_series_v2_json(&body).unwrap()).len(),
            "/api/v1/check_run" => ok(parse_check_runs(&body).unwrap()).len(),
            "/api/v1/events" => usize::from(parse_event_v1(&body).is_ok()),
            "/api/v2/events" => usize::from(parse_event_v2(&body).is_ok()),
            _ => unreachable!(),
        };
        assert!(rows > 0, "{file}: nothing parsed");
        replayed += 1;
    }
    // 3 + 1 + 1 + 1 (datadogpy) and 4 + 1 + 1 + 1 + 1 + 1 (api-client).
    assert_eq!(replayed, 15);
}
