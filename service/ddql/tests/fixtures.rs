//! Queries that real clients sent (the recorded fixtures under
//! `shared/fixtures/`), the examples of the spec, and query shapes from
//! Datadog's documentation: all of them parse, and print back to text that
//! parses to the same tree.

use whippet_ddql::*;

fn round_trip_request(src: &str) -> Request {
    let r = parse_request(src).unwrap_or_else(|e| panic!("{src:?}: {e}"));
    let printed = r.to_string();
    let again =
        parse_request(&printed).unwrap_or_else(|e| panic!("{printed:?} (from {src:?}): {e}"));
    assert_eq!(
        again.without_spans(),
        r.without_spans(),
        "{src:?} printed as {printed:?}"
    );
    r
}

fn only_query(src: &str) -> MetricQuery {
    let mut r = round_trip_request(src);
    assert_eq!(r.exprs.len(), 1);
    match r.exprs.remove(0) {
        Expr::Query(q) => *q,
        other => panic!("{src:?}: {other:?}"),
    }
}

/// `datadog-api-client/v1_query.request.txt`, URL-decoded.
#[test]
fn api_client_v1_query() {
    let q = only_query("avg:system.cpu.user{env:prod} by {host}.rollup(avg, 60)");
    assert_eq!(q.space_agg, Some(SpaceAgg::Avg));
    assert_eq!(q.by, ["host"]);
    assert_eq!(
        q.methods,
        [Method::Rollup {
            agg: Some(TimeAgg::Avg),
            seconds: Some(60)
        }]
    );
}

/// `datadogpy/v1_query.request.txt`, URL-decoded.
#[test]
fn datadogpy_v1_query() {
    let q = only_query("avg:system.cpu.user{env:prod} by {host}");
    assert_eq!(
        (q.metric.as_str(), q.scope_text.as_str()),
        ("system.cpu.user", "env:prod")
    );
}

/// `datadog-api-client/v2_query_timeseries.json`: two queries and a formula.
#[test]
fn api_client_v2_timeseries() {
    for src in [
        "sum:http.errors{env:prod} by {service}.as_count()",
        "sum:http.requests{env:prod} by {service}.as_count()",
    ] {
        let q = parse_metric_query(src).unwrap();
        assert_eq!(q.space_agg, Some(SpaceAgg::Sum));
        assert_eq!(q.by, ["service"]);
        assert_eq!(q.methods, [Method::AsCount]);
        assert_eq!(
            parse_metric_query(&q.to_string()).unwrap().without_spans(),
            q.without_spans()
        );
    }
    let f = parse_formula("a / b * 100").unwrap();
    assert_eq!(f.to_string(), "a / b * 100");
    assert!(matches!(
        parse_formula("cumsum(a)").unwrap(),
        Expr::Call {
            func: Func::Cumsum,
            ..
        }
    ));
}

/// The metric part of the monitor queries in `monitor_create_metric_alert.json`
/// and the spec's query-alert example (the window before and the comparison
/// after belong to the monitor parser).
#[test]
fn monitor_metric_parts() {
    only_query("avg:system.cpu.user{env:prod} by {host}");
    let r =
        round_trip_request("sum:http.errors{*}.as_count() / sum:http.requests{*}.as_count() * 100");
    assert!(matches!(r.exprs[0], Expr::Binary { op: BinOp::Mul, .. }));
}

/// Query shapes from Datadog's documentation of scopes, functions and
/// rollups.
#[test]
fn documented_shapes() {
    for src in [
        "system.cpu.idle{*}",
        "avg:system.cpu.user{env:staging AND (availability-zone:us-east-1a OR availability-zone:us-east-1c)} by {availability-zone}",
        "avg:system.cpu.user{env:shop.ist AND availability-zone IN (us-east-1a, us-east-1b, us-east4-b)} by {availability-zone}",
        "avg:system.cpu.user{env:prod AND location NOT IN (atlanta,seattle,las-vegas)}",
        "avg:system.disk.in_use{!device:/dev/loop*} by {device}",
        "sum:kubernetes.pods.running{service:*-canary} by {service}",
        "avg:system.disk.utilized{region:*east*}",
        "avg:system.cpu.user{env:prod,role:web} by {host,availability-zone}.rollup(avg, 86400)",
        "sum:trace.http.request.hits{service:web}.as_rate().rollup(sum, 120)",
        "moving_rollup(avg:system.load.1{*}, 300, 'max')",
        "top(avg:system.cpu.user{*} by {host}, 10, 'mean', 'desc')",
        "bottom10_min(avg:system.cpu.idle{*} by {host})",
        "timeshift(avg:system.load.1{*}, -86400)",
        "week_before(sum:nginx.requests{*}.as_count())",
        "p99:request.latency.distribution{env:prod} by {endpoint}",
        "count:request.latency.distribution{*}",
        "ewma_10(avg:system.cpu.user{*}) - median_5(avg:system.cpu.user{*})",
        "per_minute(sum:app.jobs.completed{*}.as_count())",
        "cutoff_min(clamp_max(avg:system.cpu.user{*}, 100), 0)",
        "avg:system.cpu.user{*}.fill(linear, 600), avg:system.cpu.system{*}.fill(zero)",
        "100 * (1 - avg:system.cpu.idle{*} / 100)",
    ] {
        round_trip_request(src);
    }
}
