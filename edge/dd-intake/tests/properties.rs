//! Property tests: no parser panics on any input, accepted output always
//! holds the row invariants, and well-formed input parses to what a simple
//! model says.

use std::io::Write;

use proptest::prelude::*;
use prost::Message;
use whippet_dd_intake::body::decode_body;
use whippet_dd_intake::normalize::{self, MAX_METRIC_NAME_CHARS, MAX_TAG_CHARS};
use whippet_dd_intake::proto::{MetricPayload, MetricPoint, MetricSeries, Resource};
use whippet_dd_intake::{
    IntakeError, MetricRow, Parsed, parse_check_runs, parse_distribution_points, parse_event_v1,
    parse_event_v2, parse_series_v1, parse_series_v2_json, parse_series_v2_protobuf,
    parse_series_v2_protobuf_cached, parse_sketches_protobuf,
};
use whippet_tsdb::MetricType;

fn check_name(m: &str) {
    assert!(m.as_bytes()[0].is_ascii_alphabetic(), "{m:?}");
    assert!(m.len() <= MAX_METRIC_NAME_CHARS);
    assert!(
        m.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.'),
        "{m:?}"
    );
}

fn check_tag(t: &str) {
    assert!(!t.is_empty());
    assert!(t.chars().count() <= MAX_TAG_CHARS);
    assert_eq!(
        normalize::tag(t).as_deref(),
        Some(t),
        "normal form is a fixed point"
    );
}

fn check_parsed<T>(p: &Parsed<T>) {
    assert!(p.rejected.len() <= Parsed::<T>::MAX_REJECTED_DETAILS);
    assert!(p.rejected.len() as u64 <= p.rejected_total());
}

fn check_error(e: &IntakeError) {
    assert!(matches!(e.status(), 400 | 413));
    assert!(!e.message().is_empty());
}

/// Runs every parser on `body`; none may panic, and whatever they accept
/// must hold the invariants.
fn run_all(body: &[u8]) {
    for r in [
        parse_series_v1(body),
        parse_series_v2_json(body),
        parse_series_v2_protobuf(body),
    ] {
        match r {
            Ok(p) => {
                check_parsed(&p);
                for row in &p.rows {
                    check_name(&row.metric);
                    row.tags.iter().for_each(|t| check_tag(t));
                    assert!(!row.points.is_empty());
                    assert!(
                        row.points
                            .iter()
                            .all(|(ts, v)| v.is_finite() && ts % 1000 == 0)
                    );
                }
            }
            Err(e) => check_error(&e),
        }
    }
    for r in [
        parse_distribution_points(body),
        parse_sketches_protobuf(body),
    ] {
        match r {
            Ok(p) => {
                check_parsed(&p);
                for row in &p.rows {
                    check_name(&row.metric);
                    row.tags.iter().for_each(|t| check_tag(t));
                    assert!(!row.points.is_empty());
                }
            }
            Err(e) => check_error(&e),
        }
    }
    match parse_check_runs(body) {
        Ok(p) => {
            check_parsed(&p);
            assert!(p.rows.iter().all(|c| c.status <= 3 && !c.check.is_empty()));
        }
        Err(e) => check_error(&e),
    }
    for r in [parse_event_v1(body), parse_event_v2(body)] {
        match r {
            Ok(e) => assert!(!e.title.is_empty()),
            Err(e) => check_error(&e),
        }
    }
}

/// JSON text built from the intake's own vocabulary, so random documents
/// reach the series, point and event code rather than stopping at the lexer.
fn json_text() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "series",
        "metric",
        "points",
        "type",
        "interval",
        "host",
        "device",
        "tags",
        "resources",
        "name",
        "timestamp",
        "value",
        "check",
        "status",
        "host_name",
        "message",
        "title",
        "text",
        "date_happened",
        "data",
        "attributes",
        "category",
        "other",
    ]);
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        any::<i64>().prop_map(|i| i.to_string()),
        any::<u64>().prop_map(|u| u.to_string()),
        (-1e20f64..1e20).prop_map(|f| f.to_string()),
        prop::sample::select(vec![
            "gauge", "count", "rate", "", "host", "change", "alert", "event", "ok"
        ])
        .prop_map(|s| format!("\"{s}\"")),
        "[ -~]{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        "\\PC{0,6}".prop_map(|s| serde_json::to_string(&s).unwrap()),
    ];
    leaf.prop_recursive(6, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((key.clone(), inner), 0..6).prop_map(|kv| {
                let fields: Vec<String> = kv
                    .into_iter()
                    .map(|(k, v)| format!("\"{k}\":{v}"))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

/// A series body: `{"series": [...]}` around random elements.
fn series_doc() -> impl Strategy<Value = String> {
    prop::collection::vec(json_text(), 0..6)
        .prop_map(|items| format!("{{\"series\":[{}]}}", items.join(",")))
}

/// A valid protobuf payload of a few series.
fn metric_payload() -> impl Strategy<Value = Vec<u8>> {
    let point = (any::<i64>(), any::<f64>())
        .prop_map(|(timestamp, value)| MetricPoint { value, timestamp });
    let series = (
        "[a-zA-Z0-9._ -]{0,10}",
        prop::collection::vec("\\PC{0,8}", 0..3),
        prop::collection::vec(point, 0..4),
        -1i32..5,
        -2i64..20,
        prop::option::of("[a-z]{0,5}"),
    )
        .prop_map(|(metric, tags, points, ty, interval, host)| MetricSeries {
            metric: metric.into_bytes(),
            tags: tags.into_iter().map(String::into_bytes).collect(),
            points,
            r#type: ty,
            interval,
            resources: host
                .map(|h| Resource {
                    r#type: b"host".to_vec(),
                    name: h.into_bytes(),
                })
                .into_iter()
                .collect(),
            ..Default::default()
        });
    prop::collection::vec(series, 0..4).prop_map(|series| MetricPayload { series }.encode_to_vec())
}

/// Parses `body` plainly, cached with an empty cache, and cached with a
/// cache that learned every series of `teacher`; the three must agree.
fn check_cached_parse(body: &[u8], teacher: &[u8]) -> Result<(), TestCaseError> {
    let plain = parse_series_v2_protobuf(body);
    let first = parse_series_v2_protobuf_cached(body, |_| None::<usize>);
    let (plain, first) = match (plain, first) {
        (Ok(p), Ok(f)) => (p, f),
        (Err(p), Err(f)) => {
            prop_assert_eq!(p.message(), f.message());
            return Ok(());
        }
        (p, f) => return Err(TestCaseError::fail(format!("{p:?} but {f:?}"))),
    };
    let no_known = |_: &usize| unreachable!("nothing is known");
    prop_assert_eq!(&first.to_rows(no_known), &plain.rows);
    prop_assert_eq!(&first.new_series.rejected, &plain.rejected);
    prop_assert_eq!(&first.new_series.rejected_counts, &plain.rejected_counts);
    let Ok(taught) = parse_series_v2_protobuf_cached(teacher, |_| None::<usize>) else {
        return Ok(());
    };
    let learned: std::collections::HashMap<u128, usize> = taught
        .new_series
        .rows
        .iter()
        .enumerate()
        .map(|(i, s)| (s.ident, i))
        .collect();
    let second =
        parse_series_v2_protobuf_cached(body, |ident| learned.get(&ident).copied()).unwrap();
    let template = |&i: &usize| {
        let s = &taught.new_series.rows[i];
        (s.metric.clone(), s.tags.clone(), s.mtype)
    };
    prop_assert_eq!(&second.to_rows(template), &plain.rows);
    prop_assert_eq!(&second.new_series.rejected, &plain.rejected);
    prop_assert_eq!(&second.new_series.rejected_counts, &plain.rejected_counts);
    prop_assert!(
        second
            .new_series
            .rows
            .iter()
            .all(|s| !learned.contains_key(&s.ident))
    );
    Ok(())
}

/// A known series whose points are bad this time is rejected as the plain
/// parse rejects it, under its normalised name; one sent twice keeps both
/// runs in body order.
#[test]
fn known_series_with_bad_points_are_rejected_as_before() {
    let s = |points: Vec<(i64, f64)>| MetricSeries {
        metric: b"System.Load 1".to_vec(),
        tags: vec![b"Env:Prod".to_vec()],
        points: points
            .into_iter()
            .map(|(timestamp, value)| MetricPoint { value, timestamp })
            .collect(),
        resources: vec![Resource {
            r#type: b"host".to_vec(),
            name: b"web-1".to_vec(),
        }],
        ..Default::default()
    };
    let teacher = MetricPayload {
        series: vec![s(vec![(10, 1.0)])],
    }
    .encode_to_vec();
    let body = MetricPayload {
        series: vec![
            s(vec![(20, 2.0), (30, f64::NAN)]),
            s(vec![]),
            s(vec![(40, 4.0)]),
            s(vec![(i64::MAX, 5.0)]),
            s(vec![(50, 5.0), (60, 6.0)]),
        ],
    }
    .encode_to_vec();
    check_cached_parse(&body, &teacher).unwrap();
    let plain = parse_series_v2_protobuf(&body).unwrap();
    assert_eq!(plain.rows.len(), 2);
    assert_eq!(plain.rejected.len(), 3);
    assert!(
        plain.rejected[0].detail.contains("\"System.Load_1\""),
        "{}",
        plain.rejected[0].detail
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        run_all(&body);
    }

    #[test]
    fn arbitrary_json_never_panics(doc in json_text()) {
        run_all(doc.as_bytes());
    }

    #[test]
    fn arbitrary_series_documents_never_panic(doc in series_doc()) {
        run_all(doc.as_bytes());
        // A series document is always well-formed JSON with a `series`
        // array: never a 400, whatever its elements hold.
        prop_assert!(parse_series_v1(doc.as_bytes()).is_ok());
        prop_assert!(parse_series_v2_json(doc.as_bytes()).is_ok());
        prop_assert!(parse_distribution_points(doc.as_bytes()).is_ok());
    }

    #[test]
    fn mutated_protobuf_never_panics(
        body in metric_payload(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
    ) {
        run_all(&body);
        prop_assert!(parse_series_v2_protobuf(&body).is_ok());
        let mut m = body.clone();
        if !m.is_empty() {
            for (i, b) in flips {
                let i = i.index(m.len());
                m[i] = b;
            }
            m.truncate(cut.index(m.len() + 1));
        }
        run_all(&m);
        // The hand-written series decoder is never laxer than prost's, and
        // accounts for every series prost sees: each becomes a row or a
        // rejection.
        if let Ok(p) = parse_series_v2_protobuf(&m) {
            let reference = MetricPayload::decode(&m[..]);
            prop_assert!(reference.is_ok(), "accepted what prost refuses: {reference:?}");
            prop_assert_eq!(p.rows.len() as u64 + p.rejected_total(), reference.unwrap().series.len() as u64);
        }
    }

    /// The cached parse gives the plain parse's rows and rejections, both
    /// with an empty cache and with one that knows every series the first
    /// pass accepted, on valid and on damaged payloads.
    #[test]
    fn the_cached_parse_is_the_plain_parse(
        body in metric_payload(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
    ) {
        let mut damaged = body.clone();
        for (i, b) in flips {
            if !damaged.is_empty() {
                let i = i.index(damaged.len());
                damaged[i] = b;
            }
        }
        for bytes in [&body, &damaged] {
            check_cached_parse(bytes, bytes)?;
        }
    }

    #[test]
    fn decompression_round_trips_or_is_too_large(
        data in prop::collection::vec(any::<u8>(), 0..4096),
        limit in 0usize..5000,
        which in 0usize..4,
    ) {
        let (enc, body) = match which {
            0 => {
                let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                w.write_all(&data).unwrap();
                ("gzip", w.finish().unwrap())
            }
            1 => {
                let mut w = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
                w.write_all(&data).unwrap();
                ("deflate", w.finish().unwrap())
            }
            2 => {
                let mut w = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
                w.write_all(&data).unwrap();
                ("deflate", w.finish().unwrap())
            }
            _ => ("zstd1", zstd::bulk::compress(&data, 1).unwrap()),
        };
        match decode_body(Some(enc), &body, limit) {
            Ok(out) => {
                prop_assert!(data.len() <= limit);
                prop_assert_eq!(&*out, &data[..]);
            }
            Err(IntakeError::TooLarge { limit: l }) => {
                prop_assert_eq!(l, limit);
                prop_assert!(data.len() > limit);
            }
            Err(e) => prop_assert!(false, "{enc}: {e}"),
        }
    }

    #[test]
    fn normalisation_is_idempotent(s in "\\PC{0,300}") {
        if let Some(t) = normalize::tag(&s) {
            check_tag(&t);
        }
        if let Ok(m) = normalize::metric_name(&s) {
            check_name(&m);
            prop_assert_eq!(normalize::metric_name(&m), Ok(m.clone()));
        }
    }
}

/// Rows equal but for float values, which may differ by one unit in the
/// last place: serde_json's default float parser (without its
/// `float_roundtrip` feature, which would switch on for the whole
/// workspace) is not always correctly rounded. Protobuf carries the exact
/// bits and is compared with `==`.
fn assert_rows_close(got: &[MetricRow], want: &[MetricRow]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert_eq!((&g.metric, &g.tags, g.mtype), (&w.metric, &w.tags, w.mtype));
        assert_eq!(g.points.len(), w.points.len());
        for (&(gt, gv), &(wt, wv)) in g.points.iter().zip(&w.points) {
            assert_eq!(gt, wt);
            let ulp = f64::EPSILON * wv.abs().max(f64::MIN_POSITIVE);
            assert!((gv - wv).abs() <= ulp, "{gv} vs {wv}");
        }
    }
}

/// What a client sends, for the model test.
#[derive(Debug, Clone)]
struct ModelSeries {
    metric: String,
    tags: Vec<String>,
    host: Option<String>,
    kind: u8,
    interval: u32,
    points: Vec<(i64, f64)>,
}

fn model_series() -> impl Strategy<Value = ModelSeries> {
    (
        "[a-z][a-z0-9_.]{0,20}",
        prop::collection::vec("[a-z0-9_:./-]{1,20}", 0..5),
        prop::option::of("[a-z0-9-]{1,12}"),
        0u8..4,
        0u32..3600,
        prop::collection::vec((0i64..4_000_000_000, -1e12f64..1e12), 1..6),
    )
        .prop_map(|(metric, tags, host, kind, interval, points)| ModelSeries {
            metric,
            tags,
            host,
            kind,
            interval,
            points,
        })
}

impl ModelSeries {
    fn mtype(&self) -> MetricType {
        match self.kind {
            1 => MetricType::Count {
                interval_secs: self.interval,
            },
            2 => MetricType::Rate {
                interval_secs: self.interval,
            },
            _ => MetricType::Gauge,
        }
    }

    fn expected(&self) -> MetricRow {
        let mut tags = self.tags.clone();
        tags.extend(self.host.iter().map(|h| format!("host:{h}")));
        MetricRow {
            metric: self.metric.clone(),
            tags,
            mtype: self.mtype(),
            points: self.points.iter().map(|&(t, v)| (t * 1000, v)).collect(),
        }
    }

    fn v1_json(&self) -> serde_json::Value {
        let ty = ["gauge", "count", "rate", ""][usize::from(self.kind)];
        let mut o = serde_json::json!({
            "metric": self.metric, "tags": self.tags, "type": ty, "interval": self.interval,
            "points": self.points.iter().map(|&(t, v)| serde_json::json!([t, v])).collect::<Vec<_>>(),
        });
        if let Some(h) = &self.host {
            o["host"] = h.clone().into();
        }
        o
    }

    fn v2_json(&self) -> serde_json::Value {
        let ty = [3, 1, 2, 0][usize::from(self.kind)];
        serde_json::json!({
            "metric": self.metric, "tags": self.tags, "type": ty, "interval": self.interval,
            "points": self.points.iter()
                .map(|&(t, v)| serde_json::json!({"timestamp": t, "value": v}))
                .collect::<Vec<_>>(),
            "resources": self.host.iter()
                .map(|h| serde_json::json!({"type": "host", "name": h}))
                .collect::<Vec<_>>(),
        })
    }

    fn protobuf(&self) -> MetricSeries {
        MetricSeries {
            metric: self.metric.clone().into_bytes(),
            tags: self.tags.iter().map(|t| t.clone().into_bytes()).collect(),
            resources: self
                .host
                .iter()
                .map(|h| Resource {
                    r#type: b"host".to_vec(),
                    name: h.clone().into_bytes(),
                })
                .collect(),
            points: self
                .points
                .iter()
                .map(|&(timestamp, value)| MetricPoint { value, timestamp })
                .collect(),
            r#type: [3, 1, 2, 0][usize::from(self.kind)],
            interval: i64::from(self.interval),
            ..Default::default()
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Well-formed series in any of the three encodings parse to exactly
    /// the model's rows.
    #[test]
    fn well_formed_series_parse_to_the_model(series in prop::collection::vec(model_series(), 0..8)) {
        let want: Vec<MetricRow> = series.iter().map(ModelSeries::expected).collect();

        let v1 = serde_json::json!({"series": series.iter().map(ModelSeries::v1_json).collect::<Vec<_>>()});
        let p = parse_series_v1(&serde_json::to_vec(&v1).unwrap()).unwrap();
        prop_assert!(p.rejected.is_empty(), "{:?}", p.rejected);
        assert_rows_close(&p.rows, &want);

        let v2 = serde_json::json!({"series": series.iter().map(ModelSeries::v2_json).collect::<Vec<_>>()});
        let p = parse_series_v2_json(&serde_json::to_vec(&v2).unwrap()).unwrap();
        prop_assert!(p.rejected.is_empty(), "{:?}", p.rejected);
        assert_rows_close(&p.rows, &want);

        let pb = MetricPayload { series: series.iter().map(ModelSeries::protobuf).collect() };
        let p = parse_series_v2_protobuf(&pb.encode_to_vec()).unwrap();
        prop_assert!(p.rejected.is_empty(), "{:?}", p.rejected);
        prop_assert_eq!(&p.rows, &want);
    }
}
