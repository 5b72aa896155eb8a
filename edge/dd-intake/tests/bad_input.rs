//! Bad input: what refuses a whole request (and with which message), what
//! only skips one series, and the decompression bounds.

use std::io::Write;

use whippet_dd_intake::body::decode_body;
use whippet_dd_intake::{
    IntakeError, Parsed, RejectCode, parse_check_runs, parse_distribution_points, parse_event_v1,
    parse_event_v2, parse_series_v1, parse_series_v2_json,
};
use whippet_tsdb::MetricType;

type Parser<T> = fn(&[u8]) -> Result<Parsed<T>, IntakeError>;

fn err<T: std::fmt::Debug>(r: Result<T, IntakeError>) -> IntakeError {
    r.expect_err("expected the request to be refused")
}

/// The whole-request errors are the same for the three `{"series": [...]}`
/// bodies.
fn assert_document_errors<T: std::fmt::Debug>(parse: Parser<T>) {
    let cases: &[(&[u8], &str)] = &[
        (
            b"",
            "invalid JSON at line 1 column 0: EOF while parsing a value",
        ),
        (
            b"{\"series\":",
            "invalid JSON at line 1 column 10: EOF while parsing a value",
        ),
        (
            b"{\"series\": [{\"metric\": }]}",
            "invalid JSON at line 1 column 24: expected value",
        ),
        (
            b"{\"series\": []} x",
            "invalid JSON at line 1 column 16: trailing characters",
        ),
        (
            b"{\"series\":\n [1e999]}",
            "invalid JSON at line 2 column 7: number out of range",
        ),
        (
            b"[]",
            "expected a JSON object with a `series` array, found an array",
        ),
        (
            b"null",
            "expected a JSON object with a `series` array, found null",
        ),
        (
            b"\"x\"",
            "expected a JSON object with a `series` array, found a string",
        ),
        (b"{}", "missing field `series`"),
        (b"{\"status\": \"ok\"}", "missing field `series`"),
        (
            b"{\"series\": null}",
            "`series` must be an array, found null",
        ),
        (
            b"{\"series\": {}}",
            "`series` must be an array, found an object",
        ),
        (
            b"{\"series\": \"a\"}",
            "`series` must be an array, found a string",
        ),
        (
            b"{\"series\": [], \"series\": []}",
            "duplicate field `series` (at line 1 column 23)",
        ),
    ];
    for (body, want) in cases {
        let e = err(parse(body));
        assert_eq!(e.status(), 400);
        assert_eq!(
            e.message(),
            *want,
            "body {:?}",
            String::from_utf8_lossy(body)
        );
    }
    // Invalid UTF-8 inside a string, and nesting deeper than serde_json's 128.
    let e = err(parse(b"{\"series\": [{\"metric\": \"a\xff\"}]}"));
    assert!(matches!(e, IntakeError::InvalidJson { .. }), "{e:?}");
    // Values we skip are skipped without recursion: very deep nesting costs
    // no stack, and only the series it is in.
    let deep = format!(
        "{{\"series\": [{}{}, {{\"x\": {}1{}}}]}}",
        "[".repeat(100_000),
        "]".repeat(100_000),
        "{\"a\":".repeat(100_000),
        "}".repeat(100_000)
    );
    let p = parse(deep.as_bytes()).unwrap();
    assert!(p.rows.is_empty());
    assert_eq!(p.rejected_total(), 2);
    // An empty list is fine.
    let p = parse(b"{\"series\": []}").unwrap();
    assert!(p.rows.is_empty() && p.rejected.is_empty());
}

#[test]
fn document_errors_v1() {
    assert_document_errors(parse_series_v1);
}

#[test]
fn document_errors_v2() {
    assert_document_errors(parse_series_v2_json);
}

#[test]
fn document_errors_distribution_points() {
    assert_document_errors(parse_distribution_points);
}

/// Runs `[bad, good]` through `parse`: the good series must survive and the
/// bad one be skipped with `code` and a detail containing `detail`.
fn assert_skipped<T: std::fmt::Debug>(
    parse: Parser<T>,
    good: &str,
    bad: &str,
    code: RejectCode,
    detail: &str,
) {
    let body = format!("{{\"series\": [{bad}, {good}]}}");
    let p = parse(body.as_bytes()).unwrap_or_else(|e| panic!("{bad}: {e}"));
    assert_eq!(p.rows.len(), 1, "{bad}: {:?}", p.rejected);
    assert_eq!(p.rejected.len(), 1, "{bad}");
    assert_eq!(p.rejected_counts.get(code), 1, "{bad}: {:?}", p.rejected);
    let d = &p.rejected[0].detail;
    assert!(d.starts_with("series[0]"), "{bad}: {d}");
    assert!(d.contains(detail), "{bad}: {d:?} lacks {detail:?}");
}

#[test]
fn v1_series_problems_skip_only_that_series() {
    let good = r#"{"metric": "good", "points": [[1, 1]]}"#;
    use RejectCode::*;
    let cases: &[(&str, RejectCode, &str)] = &[
        (
            r#"{"points": [[1, 1]]}"#,
            MissingMetricName,
            "missing metric name",
        ),
        (
            r#"{"metric": null, "points": [[1, 1]]}"#,
            MissingMetricName,
            "missing metric name",
        ),
        (
            r#"{"metric": "", "points": [[1, 1]]}"#,
            MissingMetricName,
            "missing metric name",
        ),
        (
            r#"{"metric": 5, "points": [[1, 1]]}"#,
            BadField,
            "`metric` must be a string, found a number",
        ),
        (
            r#"{"metric": "1m", "points": [[1, 1]]}"#,
            InvalidMetricName,
            "must start with a letter: \"1m\"",
        ),
        (r#"{"metric": "m"}"#, NoPoints, "series[0] \"m\": no points"),
        (r#"{"metric": "m", "points": null}"#, NoPoints, "no points"),
        (r#"{"metric": "m", "points": []}"#, NoPoints, "no points"),
        (
            r#"{"metric": "m", "points": 5}"#,
            BadField,
            "`points` must be an array, found a number",
        ),
        (
            r#"{"metric": "m", "points": [[1, 1], 5]}"#,
            BadPoint,
            "points[1]: expected [timestamp, value], found a number",
        ),
        (
            r#"{"metric": "m", "points": [[1]]}"#,
            BadPoint,
            "points[0]: expected [timestamp, value], found an array of 1 elements",
        ),
        (
            r#"{"metric": "m", "points": [[1, 2, 3]]}"#,
            BadPoint,
            "found an array of 3 elements",
        ),
        (
            r#"{"metric": "m", "points": [[]]}"#,
            BadPoint,
            "found an array of 0 elements",
        ),
        (
            r#"{"metric": "m", "points": [["1", 2]]}"#,
            BadPoint,
            "timestamp must be a number of seconds, found a string",
        ),
        (
            r#"{"metric": "m", "points": [[1, null]]}"#,
            BadPoint,
            "value must be a number, found null",
        ),
        (
            r#"{"metric": "m", "points": [[1, "2"]]}"#,
            BadPoint,
            "value must be a number, found a string",
        ),
        (
            r#"{"metric": "m", "points": [[1e300, 2]]}"#,
            BadPoint,
            "timestamp out of range",
        ),
        (
            r#"{"metric": "m", "points": [[9223372036854776, 2]]}"#,
            BadPoint,
            "timestamp out of range",
        ),
        (
            r#"{"metric": "m", "points": [[1, 1]], "type": "histogram"}"#,
            BadType,
            "unknown metric type \"histogram\"",
        ),
        (
            r#"{"metric": "m", "points": [[1, 1]], "type": 3}"#,
            BadType,
            "`type` must be a string, found a number",
        ),
        (
            r#"{"metric": "m", "points": [[1, 1]], "interval": -1}"#,
            BadField,
            "`interval` -1 is not a number of seconds",
        ),
        (
            r#"{"metric": "m", "points": [[1, 1]], "interval": "10"}"#,
            BadField,
            "`interval` must be a number of seconds, found a string",
        ),
        (
            r#"{"metric": "m", "points": [[1, 1]], "tags": "a:b"}"#,
            BadField,
            "`tags` must be an array of strings, found a string",
        ),
        (
            r#"{"metric": "m", "points": [[1, 1]], "tags": ["a", 1]}"#,
            BadField,
            "tags[1] must be a string, found a number",
        ),
        (
            r#"{"metric": "m", "points": [[1, 1]], "host": 1}"#,
            BadField,
            "`host` must be a string, found a number",
        ),
        (
            r#"{"metric": "m", "points": [[1, 1]], "device": []}"#,
            BadField,
            "`device` must be a string, found an array",
        ),
        (
            "7",
            BadField,
            "series[0]: expected an object, found a number",
        ),
        ("null", BadField, "expected an object, found null"),
        ("[1, 2]", BadField, "expected an object, found an array"),
    ];
    for (bad, code, detail) in cases {
        assert_skipped(parse_series_v1, good, bad, *code, detail);
    }
}

#[test]
fn v1_series_leniency() {
    let body = br#"{"series": [
        {"metric": "a\u0062c", "points": [[1.9, 1], [-2, -0.5], [18446744073709551615e-10, 3]],
         "type": "COUNT", "interval": 10.7, "host": "", "tags": [null, "", "A\u00c9:b", "x"],
         "device": null, "source_type_name": "s", "unknown": {"deep": [1, {"x": null}]}},
        {"metric": "g", "points": [[1, 2]], "type": "", "tags": null, "host": null},
        {"metric": "dup", "points": [[1, 1]], "points": [[2, 2]]}
    ], "extra": [1, 2]}"#;
    let p = parse_series_v1(body).unwrap();
    assert!(p.rejected.is_empty(), "{:?}", p.rejected);
    assert_eq!(p.rows[0].metric, "abc");
    assert_eq!(p.rows[0].mtype, MetricType::Count { interval_secs: 10 });
    assert_eq!(
        p.rows[0].points,
        vec![(1000, 1.0), (-2000, -0.5), (1_844_674_407_000, 3.0)]
    );
    assert_eq!(
        p.rows[0].tags,
        ["\u{e0}\u{e9}:b".replace('\u{e0}', "a"), "x".into()]
    );
    assert_eq!(p.rows[1].mtype, MetricType::Gauge);
    assert!(p.rows[1].tags.is_empty());
    // A repeated key replaces the earlier value.
    assert_eq!(p.rows[2].points, vec![(2000, 2.0)]);
}

#[test]
fn v2_series_problems_skip_only_that_series() {
    let good = r#"{"metric": "good", "points": [{"timestamp": 1, "value": 1}]}"#;
    let p = r#""points": [{"timestamp": 1, "value": 1}]"#;
    use RejectCode::*;
    let cases: Vec<(String, RejectCode, &str)> = vec![
        (
            format!(r#"{{"metric": "m", {p}, "type": 4}}"#),
            BadType,
            "unknown metric type 4: expected 0 (unspecified)",
        ),
        (
            format!(r#"{{"metric": "m", {p}, "type": -1}}"#),
            BadType,
            "unknown metric type -1",
        ),
        (
            format!(r#"{{"metric": "m", {p}, "type": 1.5}}"#),
            BadType,
            "unknown metric type 1.5",
        ),
        (
            format!(r#"{{"metric": "m", {p}, "type": "gauge"}}"#),
            BadType,
            "`type` must be an integer from 0 to 3, found a string",
        ),
        (
            r#"{"metric": "m", "points": [[1, 1]]}"#.into(),
            BadPoint,
            "points[0]: expected {\"timestamp\": ..., \"value\": ...}, found an array",
        ),
        (
            r#"{"metric": "m", "points": [{"value": 1}]}"#.into(),
            BadPoint,
            "points[0]: missing `timestamp`",
        ),
        (
            r#"{"metric": "m", "points": [{"timestamp": 1}]}"#.into(),
            BadPoint,
            "points[0]: missing `value`",
        ),
        (
            r#"{"metric": "m", "points": [{"timestamp": 1, "value": true}]}"#.into(),
            BadPoint,
            "value must be a number, found a boolean",
        ),
        (
            format!(r#"{{"metric": "m", {p}, "resources": {{}}}}"#),
            BadField,
            "`resources` must be an array, found an object",
        ),
        (
            format!(r#"{{"metric": "m", {p}, "resources": [1]}}"#),
            BadField,
            "resources[0]: expected {\"type\": ..., \"name\": ...}, found a number",
        ),
        (
            format!(r#"{{"metric": "m", {p}, "resources": [{{"name": "h"}}]}}"#),
            BadField,
            "resources[0]: `type` must be a string, found null",
        ),
        (
            format!(r#"{{"metric": "m", {p}, "resources": [{{"type": "host", "name": 3}}]}}"#),
            BadField,
            "resources[0]: `name` must be a string, found a number",
        ),
        (
            format!(r#"{{"metric": "m", {p}, "interval": 1e10}}"#),
            BadField,
            "`interval` 10000000000 is not a number of seconds",
        ),
    ];
    for (bad, code, detail) in &cases {
        assert_skipped(parse_series_v2_json, good, bad, *code, detail);
    }
    // v2 ignores v1's host field; resources give host and other tags.
    let body = br#"{"series": [{"metric": "m", "type": 0, "host": "ignored",
        "points": [{"timestamp": 5, "value": 1, "extra": 1}],
        "resources": [{"type": "host", "name": "H"}, {"type": "Device", "name": "sda"},
                      {"type": "host", "name": ""}, {"type": "host"}]}]}"#;
    let p = parse_series_v2_json(body).unwrap();
    assert!(p.rejected.is_empty(), "{:?}", p.rejected);
    assert_eq!(p.rows[0].tags, ["host:h", "device:sda"]);
    assert_eq!(p.rows[0].mtype, MetricType::Gauge);
}

#[test]
fn distribution_point_problems_skip_only_that_series() {
    let good = r#"{"metric": "good", "points": [[1, [1]]]}"#;
    use RejectCode::*;
    let cases: &[(&str, RejectCode, &str)] = &[
        (
            r#"{"metric": "m", "points": [[1, [1, "x"]]]}"#,
            BadPoint,
            "points[0]: values[1] must be a number, found a string",
        ),
        (
            r#"{"metric": "m", "points": [[1, {}]]}"#,
            BadPoint,
            "values must be an array of numbers, found an object",
        ),
        (
            r#"{"metric": "m", "points": [[1, null]]}"#,
            BadPoint,
            "values must be an array of numbers, found null",
        ),
        (
            r#"{"metric": "m", "points": [[1]]}"#,
            BadPoint,
            "found an array of 1 elements",
        ),
        (
            r#"{"metric": "m", "points": [[1, [1], 2]]}"#,
            BadPoint,
            "found an array of 3 elements",
        ),
        (
            r#"{"metric": "m", "points": [["t", [1]]]}"#,
            BadPoint,
            "timestamp must be a number",
        ),
        (
            r#"{"metric": "m", "points": [5]}"#,
            BadPoint,
            "expected [timestamp, value], found a number",
        ),
        (r#"{"metric": "m", "points": []}"#, NoPoints, "no points"),
        (
            r#"{"metric": "1m", "points": [[1, [1]]]}"#,
            InvalidMetricName,
            "must start with a letter",
        ),
        (
            r#"{"metric": "m", "points": [[1, [1]]], "tags": [{}]}"#,
            BadField,
            "tags[0] must be a string, found an object",
        ),
        (
            r#"{"metric": "m", "points": [[1, [1]]], "host": false}"#,
            BadField,
            "`host` must be a string, found a boolean",
        ),
    ];
    for (bad, code, detail) in cases {
        assert_skipped(parse_distribution_points, good, bad, *code, detail);
    }
    // A bare number is one value; an empty list an empty sketch; `type` and
    // `interval` are ignored.
    let p = parse_distribution_points(
        br#"{"series": [{"metric": "d", "type": "weird", "interval": "x",
            "points": [[10, 2.5], [20, []], [30, [1, -1, 0]]]}]}"#,
    )
    .unwrap();
    assert!(p.rejected.is_empty(), "{:?}", p.rejected);
    let pts = &p.rows[0].points;
    assert_eq!(
        (pts[0].0, pts[0].1.count(), pts[0].1.sum()),
        (10_000, 1, 2.5)
    );
    assert!(pts[1].1.is_empty());
    assert_eq!(
        (pts[2].1.count(), pts[2].1.min(), pts[2].1.max()),
        (3, -1.0, 1.0)
    );
}

#[test]
fn rejection_details_are_capped_counts_are_not() {
    let mut body = String::from("{\"series\": [");
    for i in 0..500 {
        body.push_str(&format!("{{\"metric\": \"m{i}\", \"points\": []}},"));
    }
    body.push_str("{\"metric\": \"ok\", \"points\": [[1, 1]]}]}");
    let p = parse_series_v1(body.as_bytes()).unwrap();
    assert_eq!(p.rows.len(), 1);
    assert_eq!(p.rejected.len(), Parsed::<()>::MAX_REJECTED_DETAILS);
    assert_eq!(p.rejected_counts.get(RejectCode::NoPoints), 500);
    assert_eq!(p.rejected_total(), 500);
    assert_eq!(p.rejected[99].detail, "series[99] \"m99\": no points");
}

#[test]
fn check_run_problems() {
    for (body, want) in [
        (
            &b"5"[..],
            "expected a JSON object or an array of objects, found a number",
        ),
        (
            b"null",
            "expected a JSON object or an array of objects, found null",
        ),
        (
            b"\"x\"",
            "expected a JSON object or an array of objects, found a string",
        ),
        (
            b"[{\"check\": ",
            "invalid JSON at line 1 column 11: EOF while parsing a value",
        ),
    ] {
        assert_eq!(err(parse_check_runs(body)).message(), want);
    }
    use RejectCode::*;
    let cases: &[(&str, RejectCode, &str)] = &[
        (
            r#"{"status": 0}"#,
            MissingMetricName,
            "check_runs[0]: missing check name",
        ),
        (
            r#"{"check": "", "status": 0}"#,
            MissingMetricName,
            "missing check name",
        ),
        (
            r#"{"check": 1, "status": 0}"#,
            BadField,
            "`check` must be a string, found a number",
        ),
        (r#"{"check": "c"}"#, BadStatus, "missing `status`"),
        (
            r#"{"check": "c", "status": 4}"#,
            BadStatus,
            "`status` must be 0, 1, 2 or 3, found 4",
        ),
        (r#"{"check": "c", "status": 1.5}"#, BadStatus, "found 1.5"),
        (
            r#"{"check": "c", "status": "0"}"#,
            BadStatus,
            "found a string",
        ),
        (
            r#"{"check": "c", "status": 0, "host_name": 1}"#,
            BadField,
            "`host_name` must be a string",
        ),
        (
            r#"{"check": "c", "status": 0, "timestamp": "now"}"#,
            BadField,
            "`timestamp` must be a number of seconds",
        ),
        (
            r#"{"check": "c", "status": 0, "timestamp": 1e300}"#,
            BadField,
            "`timestamp` out of range",
        ),
        (
            r#"{"check": "c", "status": 0, "message": []}"#,
            BadField,
            "`message` must be a string",
        ),
        (
            r#"{"check": "c", "status": 0, "tags": [1]}"#,
            BadField,
            "tags[0] must be a string",
        ),
        (
            "[]",
            BadField,
            "check_runs[0]: expected an object, found an array",
        ),
    ];
    for (bad, code, detail) in cases {
        let body = format!(r#"[{bad}, {{"check": "ok", "status": 3.0, "host_name": ""}}]"#);
        let p = parse_check_runs(body.as_bytes()).unwrap();
        assert_eq!(p.rows.len(), 1, "{bad}");
        assert_eq!(p.rows[0].status, 3);
        assert_eq!(p.rows[0].host, None);
        assert_eq!(p.rejected.len(), 1, "{bad}");
        assert_eq!(p.rejected[0].reason, *code, "{bad}");
        assert!(
            p.rejected[0].detail.contains(detail),
            "{bad}: {}",
            p.rejected[0].detail
        );
    }
    // A single bad object is a skipped check run, not a 400.
    let p = parse_check_runs(br#"{"check": "c", "status": 9}"#).unwrap();
    assert!(p.rows.is_empty());
    assert_eq!(p.rejected_counts.get(RejectCode::BadStatus), 1);
    assert!(parse_check_runs(b"[]").unwrap().rows.is_empty());
}

fn event_err(r: Result<whippet_dd_intake::EventIn, IntakeError>) -> String {
    let e = err(r);
    assert_eq!(e.status(), 400);
    e.message()
}

#[test]
fn event_v1_validation() {
    for (body, want) in [
        (&br#"{"text": "t"}"#[..], "missing required field `title`"),
        (
            br#"{"title": null, "text": "t"}"#,
            "missing required field `title`",
        ),
        (br#"{"title": "x"}"#, "missing required field `text`"),
        (
            br#"{"title": "", "text": "t"}"#,
            "`title` must not be empty",
        ),
        (
            br#"{"title": "x", "text": "t", "priority": "high"}"#,
            "invalid `priority` \"high\": expected \"normal\" or \"low\"",
        ),
        (
            br#"{"title": "x", "text": "t", "alert_type": "fatal"}"#,
            "invalid `alert_type` \"fatal\": expected one of error, warning, info, success, user_update, recommendation, snapshot",
        ),
        (
            br#"{"title": 5, "text": "t"}"#,
            "invalid type: integer `5`, expected a string (at line 1 column 11)",
        ),
        (br#"[]"#, "expected a JSON object, found an array"),
        (br#" "x""#, "expected a JSON object, found a string"),
        (br#"null"#, "expected a JSON object, found null"),
        (
            br#"{"title": "x", "text": "t", "date_happened": 1e300}"#,
            "`date_happened` 1e+300 is out of range",
        ),
        (
            br#"{"title": "x", "text": "t""#,
            "invalid JSON at line 1 column 26: EOF while parsing an object",
        ),
    ] {
        assert_eq!(
            event_err(parse_event_v1(body)),
            want,
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    // Over-long title and text are cut, not refused (Datadog answers 202).
    let long = format!(
        r#"{{"title": "{}", "text": "{}", "date_happened": 1795644497.9, "priority": "LOW",
            "alert_type": "Error", "related_event_id": 123, "device_name": "sda1", "tags": ["A:B"]}}"#,
        "\u{e9}".repeat(150),
        "x".repeat(5000)
    );
    let e = parse_event_v1(long.as_bytes()).unwrap();
    assert_eq!(e.title, "\u{e9}".repeat(100));
    assert_eq!(e.text.len(), 4000);
    assert_eq!(e.date_happened_ms, Some(1_795_644_497_000));
    assert_eq!(e.priority.as_deref(), Some("low"));
    assert_eq!(e.alert_type.as_deref(), Some("error"));
    assert_eq!(e.related_event_id, Some(123));
    assert_eq!(e.device_name.as_deref(), Some("sda1"));
    assert_eq!(e.tags, ["a:b"]);
}

#[test]
fn event_v2_validation() {
    let with = |attrs: &str| format!(r#"{{"data": {{"type": "event", "attributes": {attrs}}}}}"#);
    let change = r#""attributes": {"changed_resource": {"name": "f", "type": "feature_flag"}}"#;
    let cases: Vec<(String, &str)> = vec![
        ("{}".into(), "missing required field `data`"),
        (
            r#"{"data": {"attributes": {}}}"#.into(),
            "missing required field `data.type`",
        ),
        (
            r#"{"data": {"type": "evt"}}"#.into(),
            "`data.type` must be \"event\", found \"evt\"",
        ),
        (
            r#"{"data": {"type": "event"}}"#.into(),
            "missing required field `data.attributes`",
        ),
        (
            with(r#"{"title": "t"}"#),
            "missing required field `data.attributes.category`",
        ),
        (
            with(r#"{"category": "change"}"#),
            "missing required field `data.attributes.title`",
        ),
        (
            with(&format!(
                r#"{{"category": "change", "title": "", {change}}}"#
            )),
            "`data.attributes.title` must not be empty",
        ),
        (
            with(&format!(
                r#"{{"category": "change", "title": "{}", {change}}}"#,
                "t".repeat(501)
            )),
            "`data.attributes.title` is limited to 500 characters",
        ),
        (
            with(&format!(
                r#"{{"category": "change", "title": "t", "message": "{}", {change}}}"#,
                "m".repeat(4001)
            )),
            "`data.attributes.message` is limited to 4000 characters",
        ),
        (
            with(&format!(
                r#"{{"category": "change", "title": "t", "aggregation_key": "{}", {change}}}"#,
                "k".repeat(101)
            )),
            "`data.attributes.aggregation_key` is limited to 100 characters",
        ),
        (
            with(&format!(
                r#"{{"category": "change", "title": "t", "host": "{}", {change}}}"#,
                "h".repeat(256)
            )),
            "`data.attributes.host` is limited to 255 characters",
        ),
        (
            with(&format!(
                r#"{{"category": "change", "title": "t", "tags": [{}], {change}}}"#,
                vec!["\"a\""; 101].join(",")
            )),
            "`data.attributes.tags` is limited to 100 tags",
        ),
        (
            with(&format!(
                r#"{{"category": "change", "title": "t", "timestamp": "yesterday", {change}}}"#
            )),
            "`data.attributes.timestamp` \"yesterday\" is not an ISO 8601 date-time (e.g. 2017-01-15T01:30:15.010000Z)",
        ),
        (
            with(r#"{"category": "change", "title": "t"}"#),
            "missing required field `data.attributes.attributes`",
        ),
        (
            with(r#"{"category": "change", "title": "t", "attributes": [1]}"#),
            "`data.attributes.attributes` must be an object",
        ),
        (
            with(
                r#"{"category": "change", "title": "t", "attributes": {"changed_resource": {"name": "f"}}}"#,
            ),
            "`data.attributes.attributes.changed_resource` with string `name` and `type` is required for a change event",
        ),
        (
            with(r#"{"category": "alert", "title": "t", "attributes": {"status": "bad"}}"#),
            "`data.attributes.attributes.status` must be \"warn\", \"error\" or \"ok\" for an alert event",
        ),
        (
            with(
                r#"{"category": "alert", "title": "t", "attributes": {"status": "ok", "priority": 1}}"#,
            ),
            "`data.attributes.attributes.priority` must be one of \"1\", \"2\", \"3\", \"4\", \"5\"",
        ),
        (
            with(&format!(
                r#"{{"category": "other", "title": "t", {change}}}"#
            )),
            "`data.attributes.category` must be \"change\" or \"alert\", found \"other\"",
        ),
    ];
    for (body, want) in &cases {
        assert_eq!(&event_err(parse_event_v2(body.as_bytes())), want, "{body}");
    }
    let e = parse_event_v2(
        with(
            r#"{"category": "alert", "title": "disk", "message": "sda1 full", "host": "web-1",
            "timestamp": "2025-01-01T01:00:00.5+01:00", "integration_id": "custom-events",
            "tags": ["Env:Prod"], "attributes": {"status": "warn", "priority": "2"}}"#,
        )
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(e.alert_type.as_deref(), Some("warning"));
    assert_eq!(e.priority.as_deref(), Some("2"));
    assert_eq!(e.date_happened_ms, Some(1_735_689_600_500));
    assert_eq!(e.source_type_name.as_deref(), Some("custom-events"));
    assert_eq!(e.tags, ["env:prod"]);
    assert_eq!(e.host.as_deref(), Some("web-1"));
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    w.write_all(data).unwrap();
    w.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut w = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    w.write_all(data).unwrap();
    w.finish().unwrap()
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut w = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    w.write_all(data).unwrap();
    w.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::bulk::compress(data, 3).unwrap()
}

const MIB: usize = 1 << 20;

#[test]
fn zip_bombs_stop_at_the_limit() {
    let bomb = vec![0u8; 64 * MIB];
    for (enc, body) in [
        ("gzip", gzip(&bomb)),
        ("deflate", zlib(&bomb)),
        ("deflate", raw_deflate(&bomb)),
        ("zstd", zstd(&bomb)),
        ("zstd1", zstd(&bomb)),
    ] {
        assert!(
            body.len() < 100_000,
            "{enc}: a bomb is small ({} bytes)",
            body.len()
        );
        let e = err(decode_body(Some(enc), &body, MIB));
        assert_eq!(e, IntakeError::TooLarge { limit: MIB }, "{enc}");
        assert_eq!(e.status(), 413);
        assert_eq!(e.code(), "too_large");
    }
}

#[test]
fn the_limit_is_exact_and_the_buffer_never_exceeds_it() {
    let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    for (enc, body) in [
        ("gzip", gzip(&data)),
        ("deflate", zlib(&data)),
        ("deflate", raw_deflate(&data)),
        ("zstd1", zstd(&data)),
    ] {
        let out = decode_body(Some(enc), &body, data.len()).unwrap();
        assert_eq!(&*out, &data[..], "{enc}");
        match out {
            std::borrow::Cow::Owned(v) => {
                assert!(
                    v.capacity() <= data.len(),
                    "{enc}: capacity {}",
                    v.capacity()
                )
            }
            std::borrow::Cow::Borrowed(_) => panic!("{enc}: decoded output is owned"),
        }
        assert_eq!(
            err(decode_body(Some(enc), &body, data.len() - 1)),
            IntakeError::TooLarge {
                limit: data.len() - 1
            },
            "{enc}"
        );
    }
    // Identity: borrowed, and limited the same way.
    let out = decode_body(None, &data, data.len()).unwrap();
    assert!(matches!(out, std::borrow::Cow::Borrowed(_)));
    assert_eq!(
        err(decode_body(Some("identity"), &data, 10)),
        IntakeError::TooLarge { limit: 10 }
    );
    // Empty bodies.
    assert!(decode_body(Some("gzip"), &gzip(b""), 0).unwrap().is_empty());
    assert!(decode_body(None, b"", 0).unwrap().is_empty());
}

#[test]
fn content_encoding_values() {
    let plain = b"{\"series\": []}";
    for (enc, body) in [
        ("GZIP", gzip(plain)),
        ("x-gzip", gzip(plain)),
        (" gzip ", gzip(plain)),
        ("identity, gzip", gzip(plain)),
        ("Deflate", zlib(plain)),
        ("ZSTD", zstd(plain)),
        ("", plain.to_vec()),
        ("identity", plain.to_vec()),
    ] {
        let out = decode_body(Some(enc), &body, 1000).unwrap_or_else(|e| panic!("{enc:?}: {e}"));
        assert_eq!(&*out, plain, "{enc:?}");
    }
    // Concatenated gzip members are one stream.
    let mut two = gzip(b"ab");
    two.extend(gzip(b"cd"));
    assert_eq!(&*decode_body(Some("gzip"), &two, 100).unwrap(), b"abcd");
    // Concatenated zstd frames too: the first declares only its own size,
    // so the one-call path gives way to the stream. Over the limit is 413.
    let mut two = zstd(b"ab");
    two.extend(zstd(b"cd"));
    assert_eq!(&*decode_body(Some("zstd"), &two, 100).unwrap(), b"abcd");
    assert_eq!(
        err(decode_body(Some("zstd"), &two, 3)),
        IntakeError::TooLarge { limit: 3 }
    );
    for enc in ["br", "compress", "gzip, deflate", "zstd2"] {
        let e = err(decode_body(Some(enc), plain, 1000));
        assert_eq!(e.status(), 400);
        assert_eq!(
            e.message(),
            format!(
                "unsupported Content-Encoding `{enc}`: expected identity, gzip, deflate, zstd or zstd1"
            )
        );
    }
}

#[test]
fn corrupt_streams_are_400() {
    let plain = vec![b'x'; 10_000];
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("gzip", b"not gzip at all".to_vec(), "gzip: "),
        ("gzip", gzip(&plain)[..20].to_vec(), "gzip: "),
        ("deflate", zlib(&plain)[..10].to_vec(), "deflate: "),
        ("deflate", vec![0xff; 16], "deflate: "),
        ("zstd", b"\x28\xb5\x2f\xfd garbage".to_vec(), "zstd: "),
        ("zstd", zstd(&plain)[..12].to_vec(), "zstd: "),
        (
            "zstd",
            [zstd(&plain), b"trailing".to_vec()].concat(),
            "zstd: ",
        ),
    ];
    for (enc, body, prefix) in cases {
        let e = err(decode_body(Some(enc), &body, MIB));
        assert_eq!(e.status(), 400, "{enc}: {e:?}");
        assert_eq!(e.code(), "decompress", "{enc}: {e:?}");
        assert!(e.message().starts_with(prefix), "{enc}: {}", e.message());
    }
}

/// A zstd frame may ask for a window larger than anything we would accept:
/// refused (400) before the decoder reserves it.
#[test]
fn zstd_window_is_capped_by_the_limit() {
    let data: Vec<u8> = (0..3 * MIB as u32).map(|i| (i % 251) as u8).collect();
    let mut enc = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
    enc.window_log(23).unwrap(); // 8 MiB window
    enc.include_contentsize(false).unwrap();
    enc.write_all(&data).unwrap();
    let body = enc.finish().unwrap();
    // Limit 64 KiB → window log 16: the frame's 8 MiB window is refused.
    let e = err(decode_body(Some("zstd"), &body, 64 * 1024));
    assert!(matches!(e.status(), 400 | 413), "{e:?}");
    // With a limit the data fits in, it decodes.
    assert_eq!(
        decode_body(Some("zstd"), &body, 8 * MIB).unwrap().len(),
        data.len()
    );
}
