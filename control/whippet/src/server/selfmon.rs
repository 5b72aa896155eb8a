//! Self-monitoring: what Whippet receives, rejects, stores and how long it
//! takes, as counters exposed at `/metrics` (Prometheus text) and written
//! into Whippet's own store as `whippet.*` metrics.
//!
//! Names follow `whippet.<component>.<what>[.<unit>]`. Counters are bumped
//! once per request or batch, never per point, and only ever go up; the
//! store receives their increase since the last write as `count` points, so
//! `sum` over any window is exact. Label sets are bounded by construction
//! (endpoints, status codes and reason codes are fixed enums).

use std::collections::BTreeMap;
use std::fmt::Write;

use parking_lot::Mutex;

/// A counter's labels: (name, value) pairs.
type Labels = Vec<(&'static str, String)>;

/// A counter family's labelled values.
type Family = BTreeMap<Labels, f64>;

/// The registry of Whippet's own counters.
#[derive(Default)]
pub struct SelfMon {
    /// name → labels → value. One lock, taken once per request or batch.
    counters: Mutex<BTreeMap<&'static str, Family>>,
    /// Values at the last write into the store, to send increases.
    written: Mutex<BTreeMap<(&'static str, Labels), f64>>,
}

/// Counter names (help text is in [`help`]).
pub mod names {
    /// Intake requests, by endpoint and status code.
    pub const REQUESTS: &str = "whippet.intake.requests";
    /// Time spent on intake requests, by endpoint (seconds).
    pub const REQUEST_SECONDS: &str = "whippet.intake.request.seconds";
    /// Points (or sketches) stored, by endpoint.
    pub const POINTS: &str = "whippet.intake.points";
    /// Series or points rejected, by endpoint and reason.
    pub const REJECTED: &str = "whippet.intake.rejected";
    /// Request body bytes received (as sent, before decompression).
    pub const BYTES: &str = "whippet.intake.bytes";
    /// DogStatsD datagrams received.
    pub const DSD_DATAGRAMS: &str = "whippet.dogstatsd.datagrams";
    /// DogStatsD lines parsed.
    pub const DSD_LINES: &str = "whippet.dogstatsd.lines";
    /// DogStatsD malformed lines, by reason.
    pub const DSD_MALFORMED: &str = "whippet.dogstatsd.malformed";
    /// Events stored, by source (api, dogstatsd).
    pub const EVENTS: &str = "whippet.intake.events";
    /// Check runs stored, by source.
    pub const CHECK_RUNS: &str = "whippet.intake.check_runs";
    /// Monitor evaluations (one per monitor per round).
    pub const MONITORS_EVALUATED: &str = "whippet.monitors.evaluated";
    /// Notification delivery attempts, by kind, outcome and reason.
    pub const NOTIFICATIONS: &str = "whippet.alerting.notifications";
    /// Seconds spent in monitor rounds.
    pub const MONITOR_ROUND_SECONDS: &str = "whippet.monitors.round.seconds";
    /// Metric query requests, by endpoint and status code.
    pub const QUERY_REQUESTS: &str = "whippet.query.requests";
    /// Seconds spent answering metric queries, by endpoint.
    pub const QUERY_SECONDS: &str = "whippet.query.request.seconds";
}

/// The help line of a counter for `/metrics`.
pub fn help(name: &str) -> &'static str {
    match name {
        names::REQUESTS => "Intake requests, by endpoint and status code.",
        names::REQUEST_SECONDS => "Seconds spent handling intake requests, by endpoint.",
        names::POINTS => "Points stored, by endpoint.",
        names::REJECTED => "Series or points rejected, by endpoint and reason.",
        names::BYTES => "Request body bytes received, before decompression.",
        names::DSD_DATAGRAMS => "DogStatsD datagrams received.",
        names::DSD_LINES => "DogStatsD lines parsed.",
        names::DSD_MALFORMED => "DogStatsD malformed lines, by reason.",
        names::EVENTS => "Events stored, by source.",
        names::CHECK_RUNS => "Check runs stored, by source.",
        names::NOTIFICATIONS => {
            "Notification delivery attempts, by kind (webhook, slack, email, other), outcome and reason."
        }
        names::MONITORS_EVALUATED => "Monitor evaluations, one per monitor per round.",
        names::MONITOR_ROUND_SECONDS => {
            "Seconds spent evaluating monitors (the evaluation lag is one round's share)."
        }
        names::QUERY_REQUESTS => "Metric query requests, by endpoint and status code.",
        names::QUERY_SECONDS => {
            "Seconds spent answering metric queries, by endpoint (divide by the requests for the latency)."
        }
        _ => "A Whippet counter.",
    }
}

impl SelfMon {
    /// Adds `by` to counter `name` with `labels`.
    pub fn add(&self, name: &'static str, labels: &[(&'static str, &str)], by: f64) {
        if by == 0.0 {
            return;
        }
        let key: Vec<(&'static str, String)> =
            labels.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        *self
            .counters
            .lock()
            .entry(name)
            .or_default()
            .entry(key)
            .or_default() += by;
    }

    /// Sets a counter to an absolute value (for counters kept elsewhere, such
    /// as the DogStatsD server's atomics, which only grow).
    pub fn set(&self, name: &'static str, labels: &[(&'static str, &str)], value: f64) {
        let key: Vec<(&'static str, String)> =
            labels.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        self.counters
            .lock()
            .entry(name)
            .or_default()
            .insert(key, value);
    }

    /// The current value of a counter.
    #[cfg(test)]
    pub fn get(&self, name: &'static str, labels: &[(&'static str, &str)]) -> f64 {
        let key: Vec<(&'static str, String)> =
            labels.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        self.counters
            .lock()
            .get(name)
            .and_then(|f| f.get(&key))
            .copied()
            .unwrap_or(0.0)
    }

    /// Prometheus text exposition (version 0.0.4) of every counter, plus
    /// the gauges given by the caller (storage sizes).
    pub fn render_prometheus(&self, gauges: &[(&str, &str, f64)]) -> String {
        let mut out = String::new();
        for (name, family) in self.counters.lock().iter() {
            let prom = format!("{}_total", name.replace('.', "_"));
            let _ = writeln!(out, "# HELP {prom} {}", help(name));
            let _ = writeln!(out, "# TYPE {prom} counter");
            for (labels, v) in family {
                let _ = writeln!(out, "{prom}{} {v}", prom_labels(labels));
            }
        }
        for (name, help, v) in gauges {
            let prom = name.replace('.', "_");
            let _ = writeln!(out, "# HELP {prom} {help}");
            let _ = writeln!(out, "# TYPE {prom} gauge");
            let _ = writeln!(out, "{prom} {v}");
        }
        out
    }

    /// The increase of every counter since the last call: (name, tags
    /// `key:value`, increase). Counters that did not move are left out.
    pub fn take_increases(&self) -> Vec<(&'static str, Vec<String>, f64)> {
        let now = self.counters.lock().clone();
        let mut written = self.written.lock();
        let mut out = Vec::new();
        for (name, family) in now {
            for (labels, v) in family {
                let prev = written.insert((name, labels.clone()), v).unwrap_or(0.0);
                let d = v - prev;
                if d > 0.0 {
                    let tags = labels.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                    out.push((name, tags, d));
                }
            }
        }
        out
    }
}

fn prom_labels(labels: &[(&'static str, String)]) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}=\"{}\"",
                v.replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n")
            )
        })
        .collect();
    format!("{{{}}}", parts.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_and_report_increases() {
        let m = SelfMon::default();
        m.add(names::POINTS, &[("endpoint", "series_v1")], 3.0);
        m.add(names::POINTS, &[("endpoint", "series_v1")], 2.0);
        m.add(
            names::REJECTED,
            &[("endpoint", "series_v1"), ("reason", "no_points")],
            1.0,
        );
        let text = m.render_prometheus(&[("whippet.storage.series", "Series stored.", 7.0)]);
        assert!(
            text.contains("# TYPE whippet_intake_points_total counter"),
            "{text}"
        );
        assert!(
            text.contains("whippet_intake_points_total{endpoint=\"series_v1\"} 5"),
            "{text}"
        );
        assert!(text.contains(
            "whippet_intake_rejected_total{endpoint=\"series_v1\",reason=\"no_points\"} 1"
        ));
        assert!(text.contains("whippet_storage_series 7"));
        let inc = m.take_increases();
        assert!(inc.contains(&(names::POINTS, vec!["endpoint:series_v1".to_string()], 5.0)));
        assert!(m.take_increases().is_empty(), "nothing moved since");
        m.add(names::POINTS, &[("endpoint", "series_v1")], 1.0);
        assert_eq!(
            m.take_increases(),
            vec![(names::POINTS, vec!["endpoint:series_v1".to_string()], 1.0)]
        );
        assert_eq!(m.get(names::POINTS, &[("endpoint", "series_v1")]), 6.0);
    }
}
