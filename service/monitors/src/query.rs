//! The monitor query syntax of every supported monitor type.
//!
//! ## What it owns
//! The text of a monitor's `query` field, for each `type` Whippet
//! evaluates: parsing it into a tree ([`parse`]), printing a tree back to
//! canonical text (`Display`), and errors that say what is wrong and where
//! ([`QueryError`]). It also answers the questions the API layer asks of a
//! query without evaluating it: which tags split it into groups
//! ([`MonitorQuery::group_by`], the `multi` field), its comparison
//! ([`MonitorQuery::condition`], checked against
//! `options.thresholds.critical`), the monitors a composite refers to
//! ([`CompositeQuery::ids`]), and which metric monitors can share one
//! evaluation ([`MetricQuery::evaluation_key`]).
//!
//! ## What it must never do
//! Evaluate a query, read storage, look up other monitors, or validate
//! options: a parse is a pure function of the type and the text. It never
//! panics on any input, and its work is linear in the length of the query
//! (at most [`MAX_QUERY_BYTES`]), its recursion bounded
//! ([`MAX_COMPOSITE_DEPTH`], and `whippet_ddql::MAX_DEPTH` in metric
//! expressions).
//!
//! ## Grammar
//! Whitespace may appear between any two tokens. Strings are quoted with
//! `"` or `'`; inside them `\"`, `\'` and `\\` stand for the character
//! escaped, and any other backslash escape is an error.
//!
//! ```text
//! ; type "metric alert" and "query alert"
//! metric-query  = reduction ":" expr comparator number
//! reduction     = time-aggr "(" window ")"
//!               / ( "change" / "pct_change" ) "(" time-aggr "(" window ")" "," window ")"
//! time-aggr     = "avg" / "sum" / "min" / "max" / "percentile"
//! window        = "last_" 1*DIGIT ( "m" / "h" / "d" / "w" / "mo" )   ; 1 minute .. 30 days
//! expr          = <one whippet_ddql expression>   ; avg:system.cpu.user{env:prod} by {host}
//! comparator    = ">" / ">=" / "<" / "<=" / "==" / "!="
//! number        = [ "+" / "-" ] ( 1*DIGIT [ "." *DIGIT ] / "." 1*DIGIT ) [ ( "e" / "E" ) [ "+" / "-" ] 1*DIGIT ]
//!
//! ; type "service check"
//! check-query   = string *( "." call ) ".count_by_status()"
//! call          = "over(" strings ")"                 ; required; "*" for every scope
//!               / "by(" strings ")"                   ; optional
//!               / "last(" 1*DIGIT ")"                 ; required; 1 .. 100
//!
//! ; type "event alert" and "event-v2 alert"
//! event-query   = "events(" string ")" *( "." call ) comparator number
//! call          = "rollup(" "\"count\"" ")"           ; required
//!               / "by(" strings ")"                   ; optional
//!               / "last(" quoted-window ")"           ; required; "5m", "1h", "1d"; at most 2 days
//!
//! ; type "composite"
//! composite     = and *( "||" and )
//! and           = not *( "&&" not )
//! not           = "!" not / "(" composite ")" / 1*DIGIT  ; a monitor id
//!
//! strings       = string *( "," string )               ; non-empty strings
//! ```
//!
//! ## Decisions where Datadog is silent
//! * `last_1mo` is 30 days, and no metric window or change shift may be
//!   longer ([`MAX_METRIC_WINDOW_SECONDS`]); windows are kept in seconds
//!   and print in their largest exact unit (`last_60m` prints `last_1h`).
//! * `percentile(last_5m)` takes the percentile named by the expression's
//!   space aggregator (`percentile(last_5m):p95:latency{*}`, the form
//!   Datadog's UI writes), so every metric query in the expression must
//!   have a `pNN:` aggregator. `last` is not a time aggregation (Datadog's
//!   API reference lists avg, sum, min, max, change and pct_change).
//! * The comparator of a metric query is the last one outside `{}`, `()`,
//!   `[]` and quotes; the expression must hold exactly one `whippet_ddql`
//!   expression with at least one metric query in it.
//! * Service check and event methods may come in any order (Datadog
//!   documents `.over().last().by()`, its API client sends
//!   `.over().by().last()`), each at most once; `.count_by_status()`
//!   comes last. Printing uses one fixed order.
//! * Event alerts support only `.rollup("count")`; other rollups are
//!   rejected by name. Their window is bounded by Datadog's documented
//!   48 hours ([`MAX_EVENT_WINDOW_SECONDS`]).
//! * Composite chains are flattened (`(1 && 2) && 3` is one `And` of three)
//!   and nesting of `(` and `!` is capped at [`MAX_COMPOSITE_DEPTH`].
//! * Monitor types are matched exactly (`"metric alert"`, not
//!   `"Metric Alert"`), as Datadog's API client sends them.

mod chain;
mod composite;
mod condition;
mod cursor;
mod ddql_tree;
mod error;
mod event;
mod metric;
mod service_check;
mod window;

use std::fmt;

pub use composite::{CompositeQuery, MAX_COMPOSITE_DEPTH};
pub use condition::Condition;
pub use error::QueryError;
pub use event::{EventQuery, EventRollup};
pub use metric::{ChangeKind, MetricQuery, TimeAggregation, TimeReduction};
pub use service_check::{MAX_LAST_RUNS, ServiceCheckQuery};
pub use window::{MAX_EVENT_WINDOW_SECONDS, MAX_METRIC_WINDOW_SECONDS, MONTH_SECONDS, Window};

/// Longest monitor query accepted, in bytes: the limit `whippet_ddql` puts
/// on a metric query (64 KiB), applied to every form so that a parse's
/// work is bounded the same way for all of them.
pub const MAX_QUERY_BYTES: usize = whippet_ddql::MAX_QUERY_BYTES;

/// The monitor `type`s [`parse`] accepts, in the order error messages list
/// them.
pub const SUPPORTED_TYPES: [&str; 6] = [
    "metric alert",
    "query alert",
    "service check",
    "event alert",
    "event-v2 alert",
    "composite",
];

/// A parsed monitor query, one variant per query form.
#[derive(Debug, Clone, PartialEq)]
pub enum MonitorQuery {
    /// `metric alert` and `query alert`.
    Metric(MetricQuery),
    /// `service check`.
    ServiceCheck(ServiceCheckQuery),
    /// `event alert` and `event-v2 alert`.
    Event(EventQuery),
    /// `composite`.
    Composite(CompositeQuery),
}

impl MonitorQuery {
    /// The tags (metric and service check) or facets (event) that split
    /// the monitor into groups, each once, in the order written. Non-empty
    /// means a multi-alert monitor (`"multi": true`). Always empty for a
    /// composite, whose groups come from its members.
    pub fn group_by(&self) -> Vec<&str> {
        match self {
            MonitorQuery::Metric(q) => q.group_by(),
            MonitorQuery::ServiceCheck(q) => q.by.iter().map(String::as_str).collect(),
            MonitorQuery::Event(q) => q.by.iter().map(String::as_str).collect(),
            MonitorQuery::Composite(_) => Vec::new(),
        }
    }

    /// The comparison at the end of a metric or event query; `None` for
    /// service checks (whose thresholds are counts in the options) and
    /// composites.
    pub fn condition(&self) -> Option<Condition> {
        match self {
            MonitorQuery::Metric(q) => Some(q.condition),
            MonitorQuery::Event(q) => Some(q.condition),
            MonitorQuery::ServiceCheck(_) | MonitorQuery::Composite(_) => None,
        }
    }
}

/// Canonical query text, which [`parse`] (with the monitor's type) reads
/// back to an equal tree.
impl fmt::Display for MonitorQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MonitorQuery::Metric(q) => q.fmt(f),
            MonitorQuery::ServiceCheck(q) => q.fmt(f),
            MonitorQuery::Event(q) => q.fmt(f),
            MonitorQuery::Composite(q) => q.fmt(f),
        }
    }
}

/// Parses the `query` of a monitor whose `type` is `monitor_type`.
///
/// `Ok` holds the tree of the form that type uses (see the module
/// documentation for the grammar). `Err` says what is wrong and, except for
/// an unsupported type, the byte offset in `query` where; its message is
/// meant to follow Datadog's "The value provided for parameter 'query' is
/// invalid: ".
pub fn parse(monitor_type: &str, query: &str) -> Result<MonitorQuery, QueryError> {
    if !SUPPORTED_TYPES.contains(&monitor_type) {
        let list: Vec<String> = SUPPORTED_TYPES.iter().map(|t| format!("\"{t}\"")).collect();
        return Err(QueryError::whole(format!(
            "monitor type \"{}\" is not supported; supported types are {}",
            cursor::echo(monitor_type),
            list.join(", ")
        )));
    }
    if query.len() > MAX_QUERY_BYTES {
        return Err(QueryError::at(
            0,
            format!(
                "query too long: {} bytes, at most {MAX_QUERY_BYTES} are accepted",
                query.len()
            ),
        ));
    }
    if query.trim().is_empty() {
        return Err(QueryError::at(query.len(), "empty query"));
    }
    Ok(match monitor_type {
        "metric alert" | "query alert" => MonitorQuery::Metric(metric::parse(query)?),
        "service check" => MonitorQuery::ServiceCheck(service_check::parse(query)?),
        "event alert" | "event-v2 alert" => MonitorQuery::Event(event::parse(query)?),
        _ => MonitorQuery::Composite(composite::parse(query)?),
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::comparator::Comparator;

    /// Every `(type, query)` of the recorded datadog-api-client requests
    /// (`shared/fixtures/datadog-api-client/monitor_*.json`).
    const FIXTURES: [(&str, &str); 5] = [
        // monitor_create_metric_alert.json, monitor_validate.json
        (
            "metric alert",
            "avg(last_5m):avg:system.cpu.user{env:prod} by {host} > 90",
        ),
        // monitor_update.json (its type is the stored monitor's)
        (
            "metric alert",
            "avg(last_10m):avg:system.cpu.user{env:prod} by {host} > 95",
        ),
        // monitor_create_service_check.json
        (
            "service check",
            r#""app.is_up".over("env:prod").by("host").last(3).count_by_status()"#,
        ),
        // monitor_create_composite.json
        ("composite", "1000 && !1001"),
        // monitor_create_log_alert.json (log alerts are not supported)
        (
            "log alert",
            r#"logs("service:web status:error").index("*").rollup("count").last("5m") > 100"#,
        ),
    ];

    /// Further examples of every form, from the spec and Datadog's
    /// documentation.
    const EXAMPLES: [(&str, &str); 9] = [
        (
            "query alert",
            "avg(last_10m):sum:http.errors{*}.as_count() / sum:http.requests{*}.as_count() * 100 > 5",
        ),
        (
            "query alert",
            "change(avg(last_5m),last_5m):avg:system.cpu.user{*} > 10",
        ),
        (
            "query alert",
            "pct_change(avg(last_1h),last_1d):sum:orders{env:prod} by {region}.as_count() < -20",
        ),
        (
            "metric alert",
            "percentile(last_5m):p95:http.request.duration{service:api} > 0.5",
        ),
        (
            "metric alert",
            "max(last_1mo):max:disk.used{!env:dev AND role:db} by {host,device} >= 1e3",
        ),
        (
            "event alert",
            r#"events("sources:nagios priority:all").rollup("count").last("1h") > 0"#,
        ),
        (
            "event-v2 alert",
            r#"events("status:error").rollup("count").by("host").last("5m") >= 10"#,
        ),
        (
            "service check",
            r#""datadog.agent.up".over("*").last(2).by("host").count_by_status()"#,
        ),
        ("composite", "(12 || 13) && !14"),
    ];

    /// Parses, prints, parses again: the trees are equal and the canonical
    /// text is stable.
    fn round_trip(monitor_type: &str, query: &str) -> MonitorQuery {
        let q = parse(monitor_type, query).unwrap_or_else(|e| panic!("{query:?}: {e}"));
        let printed = q.to_string();
        let again = parse(monitor_type, &printed)
            .unwrap_or_else(|e| panic!("{printed:?} (from {query:?}): {e}"));
        assert_eq!(again, q, "{query:?} printed as {printed:?}");
        assert_eq!(again.to_string(), printed);
        q
    }

    #[test]
    fn fixture_queries_parse() {
        let q = round_trip(FIXTURES[0].0, FIXTURES[0].1);
        assert_eq!(q.group_by(), ["host"]);
        assert_eq!(
            q.condition(),
            Some(Condition {
                comparator: Comparator::Gt,
                threshold: 90.0
            })
        );
        assert_eq!(q.to_string(), FIXTURES[0].1);
        let MonitorQuery::Metric(update) = round_trip(FIXTURES[1].0, FIXTURES[1].1) else {
            panic!("not a metric query")
        };
        assert_eq!(update.condition.threshold, 95.0);
        assert_eq!(update.reduction.window().seconds(), 600);

        let q = round_trip(FIXTURES[2].0, FIXTURES[2].1);
        assert_eq!(q.group_by(), ["host"]);
        assert_eq!(q.condition(), None);
        assert_eq!(q.to_string(), FIXTURES[2].1);

        let MonitorQuery::Composite(c) = round_trip(FIXTURES[3].0, FIXTURES[3].1) else {
            panic!("not a composite")
        };
        assert_eq!(c.ids(), [1000, 1001]);
        assert_eq!(c.to_string(), FIXTURES[3].1);

        let e = parse(FIXTURES[4].0, FIXTURES[4].1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "monitor type \"log alert\" is not supported; supported types are \"metric alert\", \"query alert\", \"service check\", \"event alert\", \"event-v2 alert\", \"composite\""
        );
        assert_eq!(e.position, None);
    }

    #[test]
    fn examples_parse_and_round_trip() {
        for (t, q) in EXAMPLES {
            round_trip(t, q);
        }
        assert_eq!(
            parse(EXAMPLES[6].0, EXAMPLES[6].1).unwrap().group_by(),
            ["host"]
        );
        assert_eq!(
            parse("query alert", EXAMPLES[2].1).unwrap().group_by(),
            ["region"]
        );
    }

    #[test]
    fn dispatch_errors() {
        assert_eq!(
            parse("metric alert", "  ").unwrap_err(),
            QueryError::at(2, "empty query")
        );
        let long = format!("avg(last_5m):avg:m{{{}}} > 1", "a".repeat(MAX_QUERY_BYTES));
        assert_eq!(
            parse("metric alert", &long).unwrap_err().message,
            format!(
                "query too long: {} bytes, at most 65536 are accepted",
                long.len()
            )
        );
        assert!(parse("Metric Alert", FIXTURES[0].1).is_err());
        // The form follows the type: a composite formula is no metric query.
        assert_eq!(
            parse("metric alert", "1000 && !1001")
                .unwrap_err()
                .to_string(),
            "unknown time aggregation `1000`; expected one of avg, sum, min, max, percentile, change, pct_change at position 0"
        );
    }

    /// Every type with a query text of its own form, for generated inputs.
    const TYPES: [&str; 7] = [
        "metric alert",
        "query alert",
        "service check",
        "event alert",
        "event-v2 alert",
        "composite",
        "log alert",
    ];

    /// Checks the promises every parse keeps, whatever the input: no panic,
    /// error positions inside the text on a character boundary, and a
    /// successful parse that prints back to an equal tree.
    fn check_any(monitor_type: &str, query: &str) -> Result<(), TestCaseError> {
        match parse(monitor_type, query) {
            Ok(q) => {
                let printed = q.to_string();
                let again = parse(monitor_type, &printed);
                prop_assert_eq!(
                    again.as_ref(),
                    Ok(&q),
                    "{:?} printed as {:?}",
                    query,
                    printed
                );
            }
            Err(e) => {
                if let Some(p) = e.position {
                    prop_assert!(p <= query.len(), "{:?}: {:?}", query, e);
                    prop_assert!(query.is_char_boundary(p), "{:?}: {:?}", query, e);
                }
                prop_assert!(!e.message.is_empty());
            }
        }
        Ok(())
    }

    /// Characters that matter to some grammar, to mutate valid queries with.
    const MUTATIONS: &str = "(){}[]\"'\\!<>=&|:,. -*_0123456789aelmnstv";

    /// A valid query of some form with a few characters deleted, replaced
    /// or inserted.
    fn mutated() -> impl Strategy<Value = (usize, String)> {
        let all: Vec<(&str, &str)> = FIXTURES.iter().chain(EXAMPLES.iter()).copied().collect();
        let n = all.len();
        (
            0..n,
            prop::collection::vec(
                (any::<prop::sample::Index>(), 0..3u8, 0..MUTATIONS.len()),
                1..6,
            ),
        )
            .prop_map(move |(i, edits)| {
                let mut chars: Vec<char> = all[i].1.chars().collect();
                for (at, op, m) in edits {
                    let c = MUTATIONS.as_bytes()[m] as char;
                    let pos = at.index(chars.len() + 1);
                    match op {
                        0 if pos < chars.len() => {
                            chars.remove(pos);
                        }
                        1 if pos < chars.len() => chars[pos] = c,
                        _ => chars.insert(pos, c),
                    }
                }
                let ty = TYPES.iter().position(|t| *t == all[i].0).unwrap_or(0);
                (ty, chars.into_iter().collect())
            })
    }

    fn comparator() -> impl Strategy<Value = Comparator> {
        prop::sample::select(Comparator::ALL.to_vec())
    }

    fn threshold() -> impl Strategy<Value = f64> {
        prop_oneof![
            (-1000i32..1000).prop_map(f64::from),
            any::<f64>().prop_filter("finite", |v| v.is_finite()),
        ]
    }

    fn window(max_minutes: u32) -> impl Strategy<Value = Window> {
        (1..=max_minutes).prop_map(|m| Window::from_seconds(m * 60).expect("whole minutes"))
    }

    /// Metric expressions of different shapes (each parsed by ddql in the
    /// round trip).
    const EXPRS: [&str; 6] = [
        "avg:system.cpu.user{*}",
        "avg:system.cpu.user{env:prod} by {host}",
        "sum:http.errors{*}.as_count() / sum:http.requests{*}.as_count() * 100",
        "max:disk.used{!env:dev,role:db} by {host,device}.rollup(max, 60)",
        "top(avg:m{*} by {host}, 5, 'mean', 'desc')",
        "-abs(min:queue.depth{service:api OR service:web})",
    ];

    fn metric_text() -> impl Strategy<Value = String> {
        let head = prop_oneof![
            (
                prop::sample::select(vec!["avg", "sum", "min", "max"]),
                window(43_200)
            )
                .prop_map(|(a, w)| format!("{a}(last_{w})")),
            (
                prop::sample::select(vec!["change", "pct_change"]),
                prop::sample::select(vec!["avg", "sum", "min", "max"]),
                window(43_200),
                window(43_200),
            )
                .prop_map(|(k, a, w, s)| format!("{k}({a}(last_{w}),last_{s})")),
        ];
        (
            head,
            prop::sample::select(EXPRS.to_vec()),
            comparator(),
            threshold(),
        )
            .prop_map(|(h, e, c, t)| format!("{h}:{e} {c} {}", condition::number(t)))
    }

    fn strings(min: usize) -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec(".{1,12}", min..4)
    }

    fn service_check() -> impl Strategy<Value = ServiceCheckQuery> {
        (".{1,20}", strings(1), strings(0), 1..=MAX_LAST_RUNS).prop_map(
            |(check, over, by, last)| ServiceCheckQuery {
                check,
                over,
                by,
                last,
            },
        )
    }

    fn event() -> impl Strategy<Value = EventQuery> {
        (
            ".{0,30}",
            strings(0),
            window(2880),
            comparator(),
            threshold(),
        )
            .prop_map(|(search, by, window, comparator, threshold)| EventQuery {
                search,
                rollup: EventRollup::Count,
                by,
                window,
                condition: Condition {
                    comparator,
                    threshold,
                },
            })
    }

    fn composite() -> impl Strategy<Value = CompositeQuery> {
        let leaf = (0u64..20).prop_map(CompositeQuery::Monitor);
        leaf.prop_recursive(6, 64, 4, |inner| {
            prop_oneof![
                inner.clone().prop_map(|q| CompositeQuery::Not(Box::new(q))),
                prop::collection::vec(inner.clone(), 2..4).prop_map(CompositeQuery::And),
                prop::collection::vec(inner, 2..4).prop_map(CompositeQuery::Or),
            ]
        })
    }

    /// The formula's value when the monitors whose id bit is set in
    /// `alerting` alert.
    fn truth(q: &CompositeQuery, alerting: u32) -> bool {
        match q {
            CompositeQuery::Monitor(id) => alerting >> id & 1 == 1,
            CompositeQuery::Not(inner) => !truth(inner, alerting),
            CompositeQuery::And(items) => items.iter().all(|i| truth(i, alerting)),
            CompositeQuery::Or(items) => items.iter().any(|i| truth(i, alerting)),
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_any_text(ty in 0..TYPES.len(), query in ".{0,120}") {
            check_any(TYPES[ty], &query)?;
        }

        #[test]
        fn never_panics_on_query_like_text(
            ty in 0..TYPES.len(),
            query in r#"[a-z_0-9(){}:<>=!&|"'.,\\ *-]{0,80}"#,
        ) {
            check_any(TYPES[ty], &query)?;
        }

        #[test]
        fn never_panics_on_mutated_queries((ty, query) in mutated()) {
            check_any(TYPES[ty], &query)?;
        }

        #[test]
        fn generated_metric_queries_round_trip(query in metric_text(), ty in 0..2usize) {
            let q = parse(TYPES[ty], &query);
            prop_assert!(q.is_ok(), "{:?}: {:?}", query, q);
            check_any(TYPES[ty], &query)?;
        }

        #[test]
        fn generated_service_checks_round_trip(q in service_check()) {
            let text = q.to_string();
            prop_assert_eq!(parse("service check", &text), Ok(MonitorQuery::ServiceCheck(q)), "{}", text);
        }

        #[test]
        fn generated_event_queries_round_trip(q in event()) {
            let text = q.to_string();
            prop_assert_eq!(parse("event-v2 alert", &text), Ok(MonitorQuery::Event(q)), "{}", text);
        }

        #[test]
        fn generated_composites_keep_their_meaning(q in composite(), alerting in any::<u32>()) {
            let text = q.to_string();
            let Ok(MonitorQuery::Composite(again)) = parse("composite", &text) else {
                return Err(TestCaseError::fail(format!("{text:?} does not parse")));
            };
            prop_assert_eq!(truth(&again, alerting), truth(&q, alerting), "{}", text);
            // Chains nested in chains of their kind (which the parser never
            // makes) print in parentheses and read back flattened; from then
            // on the text is stable.
            check_any("composite", &text)?;
            prop_assert_eq!(parse("composite", &again.to_string()), Ok(MonitorQuery::Composite(again)));
        }
    }
}
