//! The built-in "Whippet internals" dashboard: Whippet's own `whippet.*`
//! metrics (see `server::selfmon`) on one page, listed in every org.
//!
//! # What it owns
//! The definition ([`definition`]), its fixed id [`ID`] (reserved: the
//! store never gives a stored dashboard an id starting with `wpt-`) and
//! the rule that it is read-only: the API refuses to update or delete it
//! (a user who wants to change it clones it, as in Datadog: get, then
//! create).
//!
//! # What it must never do
//! Use a query Whippet's engine does not answer. Every query here is
//! classic Datadog syntax that `/api/v1/query` evaluates; the unit test
//! parses each one, and the end-to-end test
//! (`tests/e2e/test_dashboards_api.py`) runs each against a real server.
//!
//! The metrics land in the first org only (self-monitoring writes there);
//! in another org the dashboard is listed but its widgets stay empty, and
//! its description says so.

use serde_json::{Value, json};

/// The dashboard id.
pub const ID: &str = "wpt-int-dsh";

/// The title.
pub const TITLE: &str = "Whippet internals";

/// The author handle shown for it.
pub const AUTHOR: &str = "whippet";

/// Its creation and modification time (Unix ms): fixed, since it is part of
/// the binary rather than stored (2026-01-01T00:00:00Z).
pub const CREATED_MS: i64 = 1_767_225_600_000;

/// What `PUT` and `DELETE` on it answer (with 403).
pub const READ_ONLY_MESSAGE: &str = "Forbidden: the Whippet internals dashboard is built into \
     the server and read-only; clone it (get it, then create a new dashboard from its JSON) \
     to change it";

/// A timeseries widget of classic queries, one request per `(query,
/// alias)`, drawn as `display`.
fn timeseries(title: &str, display: &str, queries: &[(&str, &str)]) -> Value {
    let requests: Vec<Value> = queries
        .iter()
        .map(|(q, alias)| {
            let mut r = json!({
                "q": q,
                "display_type": display,
                "style": {"palette": "dog_classic", "line_type": "solid", "line_width": "normal"},
            });
            if !alias.is_empty() {
                r["metadata"] = json!([{"expression": q, "alias_name": alias}]);
            }
            r
        })
        .collect();
    json!({
        "type": "timeseries",
        "title": title,
        "title_size": "16",
        "title_align": "left",
        "show_legend": true,
        "legend_layout": "auto",
        "requests": requests,
    })
}

/// A query value widget: `aggregator` of `q` over the shown window.
fn query_value(title: &str, q: &str, aggregator: &str, unit: Option<&str>) -> Value {
    let mut d = json!({
        "type": "query_value",
        "title": title,
        "title_size": "16",
        "title_align": "left",
        "precision": 0,
        "autoscale": true,
        "requests": [{"q": q, "aggregator": aggregator}],
    });
    if let Some(u) = unit {
        d["custom_unit"] = json!(u);
    }
    d
}

/// A widget at `(x, y)` of size `(w, h)` on the 12-column grid.
fn placed(definition: Value, x: u32, y: u32, w: u32, h: u32) -> Value {
    json!({"definition": definition, "layout": {"x": x, "y": y, "width": w, "height": h}})
}

/// The dashboard as `/api/v1/dashboard` takes it (server fields are added
/// when it is served), widget ids included.
pub fn definition() -> Value {
    let intro = json!({
        "type": "note",
        "content": "Whippet's own metrics (`whippet.*`), written by the server itself every \
            `self_monitoring_interval_secs` into the **first org**; in other orgs this \
            dashboard stays empty. Counters are stored as counts per interval, so \
            `.as_count()` sums are exact. The same counters are at `GET /metrics` \
            (Prometheus text). This dashboard is built in and read-only: clone it to change it.",
        "background_color": "gray",
        "font_size": "14",
        "text_align": "left",
        "vertical_align": "center",
        "show_tick": false,
        "tick_pos": "50%",
        "tick_edge": "left",
        "has_padding": true,
    });
    let dogstatsd = json!({
        "type": "group",
        "title": "DogStatsD",
        "layout_type": "ordered",
        "background_color": "vivid_blue",
        "show_title": true,
        "widgets": [
            placed(timeseries("Lines parsed", "bars", &[
                ("sum:whippet.dogstatsd.lines{*}.as_count()", "lines"),
                ("sum:whippet.dogstatsd.datagrams{*}.as_count()", "datagrams"),
            ]), 0, 0, 6, 3),
            placed(timeseries("Malformed lines by reason", "bars", &[
                ("sum:whippet.dogstatsd.malformed{*} by {reason}.as_count()", ""),
            ]), 6, 0, 6, 3),
        ],
    });
    let widgets = vec![
        placed(intro, 0, 0, 12, 2),
        placed(
            timeseries(
                "Points stored by endpoint",
                "bars",
                &[("sum:whippet.intake.points{*} by {endpoint}.as_count()", "")],
            ),
            0,
            2,
            6,
            3,
        ),
        placed(
            timeseries(
                "Intake requests by status",
                "bars",
                &[("sum:whippet.intake.requests{*} by {status}.as_count()", "")],
            ),
            6,
            2,
            6,
            3,
        ),
        placed(
            timeseries(
                "Rejections by reason",
                "bars",
                &[("sum:whippet.intake.rejected{*} by {reason}.as_count()", "")],
            ),
            0,
            5,
            6,
            3,
        ),
        placed(
            json!({
                "type": "toplist",
                "title": "Rejections by endpoint and reason",
                "title_size": "16",
                "title_align": "left",
                "requests": [{
                    "q": "top(sum:whippet.intake.rejected{*} by {endpoint,reason}.as_count(), 10, 'sum', 'desc')",
                }],
            }),
            6,
            5,
            6,
            3,
        ),
        placed(
            query_value("Series", "avg:whippet.storage.series{*}", "last", None),
            0,
            8,
            3,
            2,
        ),
        placed(
            query_value(
                "Bytes in parts",
                "avg:whippet.storage.part.bytes{*}",
                "last",
                Some("B"),
            ),
            3,
            8,
            3,
            2,
        ),
        placed(
            query_value(
                "Bytes of WAL",
                "avg:whippet.storage.wal.bytes{*}",
                "last",
                Some("B"),
            ),
            6,
            8,
            3,
            2,
        ),
        placed(
            query_value(
                "Points in the head",
                "avg:whippet.storage.head.points{*}",
                "last",
                None,
            ),
            9,
            8,
            3,
            2,
        ),
        placed(
            timeseries(
                "Storage size (bytes)",
                "line",
                &[
                    ("avg:whippet.storage.part.bytes{*}", "parts"),
                    ("avg:whippet.storage.wal.bytes{*}", "WAL"),
                    ("avg:whippet.storage.head.bytes{*}", "head"),
                    ("avg:whippet.storage.chunk_cache.bytes{*}", "chunk cache"),
                ],
            ),
            0,
            10,
            6,
            3,
        ),
        placed(
            timeseries(
                "Intake latency (seconds per request) by endpoint",
                "line",
                &[(
                    "sum:whippet.intake.request.seconds{*} by {endpoint}.as_count() / sum:whippet.intake.requests{*} by {endpoint}.as_count()",
                    "",
                )],
            ),
            6,
            10,
            6,
            3,
        ),
        placed(
            timeseries(
                "Monitor evaluation: seconds per round",
                "bars",
                &[(
                    "sum:whippet.monitors.round.seconds{*}.as_count()",
                    "seconds evaluating",
                )],
            ),
            0,
            13,
            6,
            3,
        ),
        placed(
            timeseries(
                "Monitors evaluated",
                "bars",
                &[(
                    "sum:whippet.monitors.evaluated{*}.as_count()",
                    "evaluations",
                )],
            ),
            6,
            13,
            6,
            3,
        ),
        placed(
            timeseries(
                "Notifications by kind and outcome",
                "bars",
                &[(
                    "sum:whippet.alerting.notifications{*} by {kind,outcome}.as_count()",
                    "",
                )],
            ),
            0,
            16,
            6,
            3,
        ),
        placed(
            timeseries(
                "Bytes received by endpoint",
                "bars",
                &[("sum:whippet.intake.bytes{*} by {endpoint}.as_count()", "")],
            ),
            6,
            16,
            6,
            3,
        ),
        placed(
            timeseries(
                "Query latency (seconds per request) by endpoint",
                "line",
                &[(
                    "sum:whippet.query.request.seconds{*} by {endpoint}.as_count() / sum:whippet.query.requests{*} by {endpoint}.as_count()",
                    "",
                )],
            ),
            0,
            19,
            6,
            3,
        ),
        placed(
            timeseries(
                "Queries by endpoint and status",
                "bars",
                &[(
                    "sum:whippet.query.requests{*} by {endpoint,status}.as_count()",
                    "",
                )],
            ),
            6,
            19,
            6,
            3,
        ),
        placed(dogstatsd, 0, 22, 12, 4),
    ];
    let body = json!({
        "title": TITLE,
        "description": "Whippet's own metrics: intake, rejections, storage, query latency, \
            monitors, notifications and DogStatsD. Built in and read-only; the data is in the first org.",
        "layout_type": "ordered",
        "reflow_type": "fixed",
        "is_read_only": true,
        "notify_list": [],
        "tags": [],
        "template_variables": [],
        "widgets": widgets,
    });
    super::definition::normalise(&body).expect("BUG: the built-in dashboard does not validate")
}

/// Every classic query (`q`) of the dashboard, in order, nested widgets
/// included.
#[cfg(test)]
fn queries(definition: &Value) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(widgets: &Value, out: &mut Vec<String>) {
        for w in widgets.as_array().into_iter().flatten() {
            let def = &w["definition"];
            for r in def["requests"].as_array().into_iter().flatten() {
                if let Some(q) = r["q"].as_str() {
                    out.push(q.to_owned());
                }
            }
            walk(&def["widgets"], out);
        }
    }
    walk(&definition["widgets"], &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::selfmon::names;

    #[test]
    fn it_validates_and_every_query_parses() {
        let d = definition();
        let qs = queries(&d);
        assert!(qs.len() >= 15, "{qs:?}");
        for q in &qs {
            whippet_ddql::parse_request(q).unwrap_or_else(|e| panic!("{q}: {e:?}"));
        }
        // Every widget, nested ones too, has an id, unique.
        let mut ids = Vec::new();
        fn collect(widgets: &Value, ids: &mut Vec<u64>) {
            for w in widgets.as_array().into_iter().flatten() {
                ids.push(w["id"].as_u64().expect("id"));
                collect(&w["definition"]["widgets"], ids);
            }
        }
        collect(&d["widgets"], &mut ids);
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n);
    }

    #[test]
    fn it_covers_the_counters_that_matter() {
        let all = queries(&definition()).join("\n");
        for name in [
            names::POINTS,
            names::REQUESTS,
            names::REJECTED,
            names::REQUEST_SECONDS,
            names::BYTES,
            names::DSD_LINES,
            names::DSD_MALFORMED,
            names::MONITORS_EVALUATED,
            names::MONITOR_ROUND_SECONDS,
            names::NOTIFICATIONS,
            names::QUERY_REQUESTS,
            names::QUERY_SECONDS,
            "whippet.storage.series",
            "whippet.storage.part.bytes",
            "whippet.storage.wal.bytes",
        ] {
            assert!(all.contains(&format!("{name}{{")), "{name} is on no widget");
        }
    }
}
