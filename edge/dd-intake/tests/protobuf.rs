//! The Agent's protobuf bodies: payloads built with our prost structs parse
//! to the right rows, the structs put every field at the number the proto
//! gives it (checked byte by byte), and broken payloads are refused.

use prost::Message;
use whippet_dd_intake::proto::sketch_payload::Sketch as PbSketch;
use whippet_dd_intake::proto::sketch_payload::sketch::{Distribution, Dogsketch};
use whippet_dd_intake::proto::{
    CommonMetadata, Metadata, MetricPayload, MetricPoint, MetricSeries, MetricType as PbType,
    Origin, Resource, SketchPayload,
};
use whippet_dd_intake::{
    IntakeError, MetricRow, RejectCode, parse_series_v2_json, parse_series_v2_protobuf,
    parse_sketches_protobuf,
};
use whippet_tsdb::{MetricType, Sketch};

fn res(t: &str, n: &str) -> Resource {
    Resource {
        r#type: t.into(),
        name: n.into(),
    }
}

fn pt(timestamp: i64, value: f64) -> MetricPoint {
    MetricPoint { value, timestamp }
}

fn series(metric: &str, ty: i32, interval: i64, points: Vec<MetricPoint>) -> MetricSeries {
    MetricSeries {
        metric: metric.into(),
        r#type: ty,
        interval,
        points,
        ..Default::default()
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn metric_payload_round_trip() {
    let payload = MetricPayload {
        series: vec![
            MetricSeries {
                resources: vec![res("host", "Web-1"), res("device", "sda1")],
                metric: "system.cpu.user".into(),
                tags: vec!["env:prod".into(), "Role:Web Server".into()],
                points: vec![pt(1_795_645_006, 12.5), pt(1_795_645_016, 13.0)],
                r#type: PbType::Gauge as i32,
                unit: "percent".into(),
                source_type_name: "System".into(),
                interval: 0,
                metadata: Some(Metadata {
                    origin: Some(Origin {
                        origin_product: 10,
                        origin_category: 11,
                        origin_service: 12,
                    }),
                }),
            },
            series(
                "requests.count",
                PbType::Count as i32,
                10,
                vec![pt(1_795_645_006, 3.0)],
            ),
            series(
                "requests.rate",
                PbType::Rate as i32,
                15,
                vec![pt(1_795_645_006, 0.25)],
            ),
            series(
                "legacy.unspecified",
                PbType::Unspecified as i32,
                0,
                vec![pt(1, -1.0)],
            ),
            series("count.no.interval", 1, 0, vec![pt(2, 1.0)]),
        ],
    };
    let parsed = parse_series_v2_protobuf(&payload.encode_to_vec()).unwrap();
    assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
    assert_eq!(
        parsed.rows,
        vec![
            MetricRow {
                metric: "system.cpu.user".into(),
                tags: strings(&["env:prod", "role:web_server", "host:web-1", "device:sda1"]),
                mtype: MetricType::Gauge,
                points: vec![(1_795_645_006_000, 12.5), (1_795_645_016_000, 13.0)],
            },
            MetricRow {
                metric: "requests.count".into(),
                tags: vec![],
                mtype: MetricType::Count { interval_secs: 10 },
                points: vec![(1_795_645_006_000, 3.0)],
            },
            MetricRow {
                metric: "requests.rate".into(),
                tags: vec![],
                mtype: MetricType::Rate { interval_secs: 15 },
                points: vec![(1_795_645_006_000, 0.25)],
            },
            MetricRow {
                metric: "legacy.unspecified".into(),
                tags: vec![],
                mtype: MetricType::Gauge,
                points: vec![(1000, -1.0)],
            },
            MetricRow {
                metric: "count.no.interval".into(),
                tags: vec![],
                mtype: MetricType::Count { interval_secs: 0 },
                points: vec![(2000, 1.0)],
            },
        ]
    );
}

#[test]
fn v2_json_and_protobuf_give_the_same_rows() {
    let json = br#"{"series":[
        {"metric":"a.b","type":1,"interval":10,"points":[{"timestamp":100,"value":1.5}],
         "resources":[{"type":"host","name":"h1"}],"tags":["x:y"]},
        {"metric":"c","type":3,"points":[{"timestamp":200,"value":-2}]}]}"#;
    let pb = MetricPayload {
        series: vec![
            MetricSeries {
                resources: vec![res("host", "h1")],
                tags: vec!["x:y".into()],
                ..series("a.b", 1, 10, vec![pt(100, 1.5)])
            },
            series("c", 3, 0, vec![pt(200, -2.0)]),
        ],
    };
    let a = parse_series_v2_json(json).unwrap();
    let b = parse_series_v2_protobuf(&pb.encode_to_vec()).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.rows.len(), 2);
}

/// The bytes our structs write, field by field, against the numbers and
/// wire types of `agent_payload.proto` (spec §2.5), written out by hand.
#[test]
fn field_numbers_match_the_proto_metric_payload() {
    let payload = MetricPayload {
        series: vec![MetricSeries {
            resources: vec![res("host", "h")],
            metric: "m".into(),
            tags: vec!["t".into()],
            points: vec![pt(2, 1.0)],
            r#type: 3,
            unit: "u".into(),
            source_type_name: "s".into(),
            interval: 10,
            metadata: Some(Metadata {
                origin: Some(Origin {
                    origin_product: 1,
                    origin_category: 2,
                    origin_service: 3,
                }),
            }),
        }],
    };
    let mut series = vec![];
    // 1: resources (LEN) = Resource { 1: type "host", 2: name "h" }
    series.extend([0x0a, 9, 0x0a, 4, b'h', b'o', b's', b't', 0x12, 1, b'h']);
    // 2: metric (LEN)
    series.extend([0x12, 1, b'm']);
    // 3: tags (LEN)
    series.extend([0x1a, 1, b't']);
    // 4: points (LEN) = MetricPoint { 1: value (I64) 1.0, 2: timestamp (VARINT) 2 }
    series.extend([0x22, 11, 0x09]);
    series.extend(1.0f64.to_le_bytes());
    series.extend([0x10, 2]);
    // 5: type (VARINT) 3 = GAUGE
    series.extend([0x28, 3]);
    // 6: unit, 7: source_type_name (LEN)
    series.extend([0x32, 1, b'u', 0x3a, 1, b's']);
    // 8: interval (VARINT)
    series.extend([0x40, 10]);
    // 9: metadata (LEN) = Metadata { 1: origin = Origin { 4: 1, 5: 2, 6: 3 } }
    series.extend([0x4a, 8, 0x0a, 6, 0x20, 1, 0x28, 2, 0x30, 3]);
    let mut want = vec![0x0a, series.len() as u8];
    want.extend(series);
    assert_eq!(payload.encode_to_vec(), want);
    assert_eq!(MetricPayload::decode(&want[..]).unwrap(), payload);
}

#[test]
fn field_numbers_match_the_proto_sketch_payload() {
    let payload = SketchPayload {
        sketches: vec![PbSketch {
            metric: "m".into(),
            host: "h".into(),
            distributions: vec![],
            tags: vec!["t".into()],
            dogsketches: vec![Dogsketch {
                ts: 1,
                cnt: 2,
                min: 1.0,
                max: 2.0,
                avg: 1.5,
                sum: 3.0,
                k: vec![1338, -1],
                n: vec![1, 1],
            }],
            metadata: Some(Metadata { origin: None }),
        }],
        metadata: Some(CommonMetadata {
            agent_version: "7".into(),
            ..Default::default()
        }),
    };
    let mut dog = vec![0x08, 1, 0x10, 2]; // 1: ts, 2: cnt (VARINT)
    for (key, v) in [(0x19u8, 1.0f64), (0x21, 2.0), (0x29, 1.5), (0x31, 3.0)] {
        dog.push(key); // 3: min, 4: max, 5: avg, 6: sum (I64)
        dog.extend(v.to_le_bytes());
    }
    // 7: k, packed sint32 (zigzag: 1338 → 2676 = f4 14, -1 → 1)
    dog.extend([0x3a, 3, 0xf4, 0x14, 0x01]);
    // 8: n, packed uint32
    dog.extend([0x42, 2, 1, 1]);
    let mut sketch = vec![0x0a, 1, b'm', 0x12, 1, b'h', 0x22, 1, b't']; // 1 metric, 2 host, 4 tags
    sketch.extend([0x3a, dog.len() as u8]); // 7: dogsketches
    sketch.extend(dog);
    sketch.extend([0x42, 0]); // 8: metadata (empty)
    let mut want = vec![0x0a, sketch.len() as u8]; // 1: sketches
    want.extend(sketch);
    want.extend([0x12, 3, 0x0a, 1, b'7']); // 2: metadata = CommonMetadata { 1: agent_version }
    assert_eq!(payload.encode_to_vec(), want);
}

#[test]
fn sketches_round_trip_through_agent_keys() {
    let mut a = Sketch::new();
    for v in [0.5, 1.0, 2.0, 2.0, 3.5, 1000.0, -4.0, 0.0] {
        a.insert(v);
    }
    let mut b = Sketch::new();
    b.insert(42.0);
    let dog = |ts: i64, s: &Sketch| {
        let (k, n) = s.to_agent();
        Dogsketch {
            ts,
            cnt: s.count() as i64,
            min: s.min(),
            max: s.max(),
            avg: s.avg(),
            sum: s.sum(),
            k,
            n,
        }
    };
    let payload = SketchPayload {
        sketches: vec![PbSketch {
            metric: "request.latency".into(),
            host: "Web-1".into(),
            tags: vec!["env:prod".into(), "Service:API".into()],
            dogsketches: vec![dog(1_795_645_000, &a), dog(1_795_645_010, &b)],
            ..Default::default()
        }],
        metadata: None,
    };
    let parsed = parse_sketches_protobuf(&payload.encode_to_vec()).unwrap();
    assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
    assert_eq!(parsed.rows.len(), 1);
    let row = &parsed.rows[0];
    assert_eq!(row.metric, "request.latency");
    assert_eq!(
        row.tags,
        strings(&["env:prod", "service:api", "host:web-1"])
    );
    assert_eq!(
        row.points,
        vec![(1_795_645_000_000, a), (1_795_645_010_000, b)]
    );
}

/// The Agent writes `k` and `n` packed; proto3 parsers must also take them
/// unpacked (one key per element).
#[test]
fn unpacked_sketch_keys_are_accepted() {
    let mut dog = vec![0x10, 2]; // cnt 2
    for (key, v) in [(0x19u8, 1.0f64), (0x21, 1.0), (0x31, 2.0)] {
        dog.push(key);
        dog.extend(v.to_le_bytes());
    }
    // k: 1338 twice, unpacked (field 7, VARINT: key 0x38); n: 1, 1 (0x40).
    dog.extend([0x38, 0xf4, 0x14, 0x38, 0xf4, 0x14, 0x40, 1, 0x40, 1]);
    let mut sketch = vec![0x0a, 1, b'm', 0x3a, dog.len() as u8];
    sketch.extend(dog);
    let mut body = vec![0x0a, sketch.len() as u8];
    body.extend(sketch);
    let parsed = parse_sketches_protobuf(&body).unwrap();
    assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
    let mut want = Sketch::new();
    want.insert(1.0);
    want.insert(1.0);
    assert_eq!(parsed.rows[0].points, vec![(0, want)]);
}

fn rejected_codes(payload: &MetricPayload) -> Vec<RejectCode> {
    let p = parse_series_v2_protobuf(&payload.encode_to_vec()).unwrap();
    assert_eq!(
        p.rows.len(),
        1,
        "only the good series is kept: {:?}",
        p.rejected
    );
    assert_eq!(p.rows[0].metric, "good");
    p.rejected.iter().map(|r| r.reason).collect()
}

#[test]
fn bad_series_are_skipped_one_by_one() {
    let cases: Vec<(MetricSeries, RejectCode, &str)> = vec![
        (
            series("", 3, 0, vec![pt(1, 1.0)]),
            RejectCode::MissingMetricName,
            "missing metric name",
        ),
        (
            series("9lives", 3, 0, vec![pt(1, 1.0)]),
            RejectCode::InvalidMetricName,
            "start with a letter",
        ),
        (series("m", 3, 0, vec![]), RejectCode::NoPoints, "no points"),
        (
            series("m", 3, 0, vec![pt(1, 1.0), pt(2, f64::NAN)]),
            RejectCode::NonFiniteValue,
            "points[1]",
        ),
        (
            series("m", 3, 0, vec![pt(1, f64::INFINITY)]),
            RejectCode::NonFiniteValue,
            "NaN or infinite",
        ),
        (
            series("m", 3, 0, vec![pt(i64::MAX, 1.0)]),
            RejectCode::BadPoint,
            "timestamp out of range",
        ),
        (
            series("m", 7, 0, vec![pt(1, 1.0)]),
            RejectCode::BadType,
            "unknown metric type 7",
        ),
        (
            series("m", 1, -10, vec![pt(1, 1.0)]),
            RejectCode::BadField,
            "`interval` -10",
        ),
        (
            MetricSeries {
                resources: vec![res("", "h")],
                ..series("m", 3, 0, vec![pt(1, 1.0)])
            },
            RejectCode::BadField,
            "resources[0]: missing `type`",
        ),
    ];
    for (bad, code, detail) in cases {
        let payload = MetricPayload {
            series: vec![bad.clone(), series("good", 3, 0, vec![pt(1, 1.0)])],
        };
        let p = parse_series_v2_protobuf(&payload.encode_to_vec()).unwrap();
        assert_eq!(rejected_codes(&payload), vec![code], "{bad:?}");
        assert!(
            p.rejected[0].detail.starts_with("series[0]"),
            "{}",
            p.rejected[0].detail
        );
        assert!(
            p.rejected[0].detail.contains(detail),
            "{}",
            p.rejected[0].detail
        );
    }
}

#[test]
fn bad_sketches_are_skipped_one_by_one() {
    let good = PbSketch {
        metric: "good".into(),
        dogsketches: vec![Dogsketch {
            cnt: 1,
            min: 1.0,
            max: 1.0,
            sum: 1.0,
            k: vec![1338],
            n: vec![1],
            ..Default::default()
        }],
        ..Default::default()
    };
    let with = |d: Dogsketch| PbSketch {
        metric: "m".into(),
        dogsketches: vec![d],
        ..Default::default()
    };
    let cases: Vec<(PbSketch, RejectCode, &str)> = vec![
        (
            PbSketch {
                metric: "m".into(),
                ..Default::default()
            },
            RejectCode::NoPoints,
            "no dogsketches",
        ),
        (
            PbSketch {
                metric: "m".into(),
                distributions: vec![Distribution::default()],
                ..Default::default()
            },
            RejectCode::NoPoints,
            "legacy",
        ),
        (
            with(Dogsketch {
                cnt: 5,
                ..good.dogsketches[0].clone()
            }),
            RejectCode::BadSketch,
            "does not match",
        ),
        (
            with(Dogsketch {
                cnt: -1,
                ..good.dogsketches[0].clone()
            }),
            RejectCode::BadSketch,
            "negative count",
        ),
        (
            with(Dogsketch {
                n: vec![],
                ..good.dogsketches[0].clone()
            }),
            RejectCode::BadSketch,
            "1 keys but 0 counts",
        ),
        (
            with(Dogsketch {
                k: vec![40_000],
                ..good.dogsketches[0].clone()
            }),
            RejectCode::BadSketch,
            "outside",
        ),
        (
            with(Dogsketch {
                ts: i64::MIN,
                ..good.dogsketches[0].clone()
            }),
            RejectCode::BadPoint,
            "timestamp out of range",
        ),
        (
            PbSketch {
                metric: "".into(),
                ..good.clone()
            },
            RejectCode::MissingMetricName,
            "missing metric name",
        ),
    ];
    for (bad, code, detail) in cases {
        let payload = SketchPayload {
            sketches: vec![bad.clone(), good.clone()],
            metadata: None,
        };
        let p = parse_sketches_protobuf(&payload.encode_to_vec()).unwrap();
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].metric, "good");
        assert_eq!(p.rejected.len(), 1, "{bad:?}");
        assert_eq!(p.rejected[0].reason, code, "{:?}", p.rejected[0]);
        assert!(
            p.rejected[0].detail.starts_with("sketches[0]"),
            "{}",
            p.rejected[0].detail
        );
        assert!(
            p.rejected[0].detail.contains(detail),
            "{}",
            p.rejected[0].detail
        );
    }
}

#[test]
fn invalid_utf8_is_replaced_not_refused() {
    let payload = MetricPayload {
        series: vec![MetricSeries {
            metric: vec![b'c', b'p', 0xff, b'u'],
            tags: vec![vec![b'k', b':', 0xc3, 0x28]],
            resources: vec![Resource {
                r#type: b"host".to_vec(),
                name: vec![b'h', 0x80],
            }],
            ..series("", 3, 0, vec![pt(1, 1.0)])
        }],
    };
    let p = parse_series_v2_protobuf(&payload.encode_to_vec()).unwrap();
    assert!(p.rejected.is_empty(), "{:?}", p.rejected);
    assert_eq!(p.rows[0].metric, "cp_u");
    // U+FFFD and `(` are both outside the tag alphabet.
    assert_eq!(p.rows[0].tags, strings(&["k:__", "host:h_"]));
}

#[test]
fn unknown_top_level_fields_are_skipped() {
    let one = MetricPayload {
        series: vec![series("m", 3, 0, vec![pt(1, 1.0)])],
    }
    .encode_to_vec();
    let mut body = vec![0x10, 0x96, 0x01]; // field 2, varint 150
    body.extend([0x1d, 1, 2, 3, 4]); // field 3, fixed32
    body.extend([0x21, 1, 2, 3, 4, 5, 6, 7, 8]); // field 4, fixed64
    body.extend([0x2a, 2, b'x', b'y']); // field 5, bytes
    body.extend(&one);
    body.extend([0xf8, 0x7f, 1]); // field 2047, varint
    body.extend(&one);
    let p = parse_series_v2_protobuf(&body).unwrap();
    assert_eq!(p.rows.len(), 2);
    assert!(p.rejected.is_empty());
}

fn protobuf_error(body: &[u8]) -> String {
    match parse_series_v2_protobuf(body) {
        Err(e @ IntakeError::InvalidProtobuf(_)) => {
            assert_eq!(e.status(), 400);
            e.message()
        }
        other => panic!("expected a protobuf error, got {other:?}"),
    }
}

#[test]
fn broken_payloads_are_refused_with_a_useful_message() {
    let good = MetricPayload {
        series: vec![
            MetricSeries {
                tags: vec!["env:prod".into()],
                ..series("a", 3, 0, vec![pt(1, 1.0), pt(2, 2.0)])
            },
            series("b", 1, 10, vec![pt(3, 3.0)]),
        ],
    }
    .encode_to_vec();
    let full = parse_series_v2_protobuf(&good).unwrap().rows;
    // Every cut either fails, or falls between two series and keeps the
    // series before it.
    for cut in 0..good.len() {
        match parse_series_v2_protobuf(&good[..cut]) {
            Ok(p) => assert_eq!(p.rows, full[..p.rows.len()], "cut at {cut}"),
            Err(e) => {
                assert!(
                    matches!(e, IntakeError::InvalidProtobuf(_)),
                    "cut at {cut}: {e:?}"
                );
                assert!(e.message().starts_with("protobuf: "), "{}", e.message());
            }
        }
    }
    let msg = protobuf_error(&good[..good.len() - 3]);
    assert!(msg.contains("series[1]") || msg.contains("remain"), "{msg}");

    assert_eq!(
        protobuf_error(&[0x08, 0x01]),
        "protobuf: field 1 (`series`) at byte 0 has wire type 0, expected 2 (length-delimited)"
    );
    assert_eq!(
        protobuf_error(&[0x0a]),
        "protobuf: truncated varint at byte 1"
    );
    assert_eq!(
        protobuf_error(&[0x0a, 0x05, 0x12]),
        "protobuf: field 1 at byte 2 needs 5 bytes but only 1 remain"
    );
    assert!(protobuf_error(br#"{"series":[]}"#).contains("group wire type 3"));
    assert!(protobuf_error(&[0x07]).contains("invalid field number 0"));
    assert!(protobuf_error(&[0x16]).contains("invalid wire type 6 for field 2"));
    // Inside a series: a point whose value has the wrong wire type.
    let msg = protobuf_error(&[0x0a, 0x04, 0x22, 0x02, 0x08, 0x01]);
    assert!(msg.starts_with("protobuf: series[0]: "), "{msg}");
    assert!(msg.contains("wire type"), "{msg}");
}

#[test]
fn empty_payloads_are_fine() {
    let p = parse_series_v2_protobuf(&[]).unwrap();
    assert!(p.rows.is_empty() && p.rejected.is_empty());
    let p = parse_sketches_protobuf(&[]).unwrap();
    assert!(p.rows.is_empty() && p.rejected.is_empty());
}
