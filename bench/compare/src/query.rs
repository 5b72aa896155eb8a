//! The query suite (`whippet_query_bench::suite`) on every system, each
//! asked in its own language over HTTP: Datadog's on Whippet
//! (`GET /api/v1/query`), PromQL on VictoriaMetrics and Prometheus
//! (`GET /api/v1/query_range`), over the whole data range with the step
//! Whippet chose. Whippet is also asked the PromQL form, through its
//! Prometheus API (`GET /prometheus/api/v1/query_range`, the side named
//! [`WHIPPET_PROMQL`]), with its own metric names (`system_cpu_user`).
//!
//! For each query: one run on each side to check the answers against
//! Whippet's (non-empty, series paired by labels, values compared on the
//! shifted grid described in `bench/README.md`); Whippet's PromQL answer is
//! also compared with each PromQL peer's on the same grid (no shift: the
//! same expression on both sides). Then each side in turn
//! gets its warm-up runs and its measured runs back to back (which system
//! goes first rotates from query to query). A run is a `GET` over a
//! keep-alive connection opened beforehand, timed from writing the request
//! to having read the whole answer; the server's CPU is read around it.
//!
//! Runs are not interleaved between systems: on two cores, what a system
//! does after answering (the Go collector after a VictoriaMetrics or
//! Prometheus query that allocated hundreds of MB) takes a core from
//! whichever query comes next. Interleaved, Whippet's 1-2 ms queries were
//! timed with the peers' clean-up in them: `wildcard_per_host` measured
//! 1.1-1.3 ms with VictoriaMetrics alone up and 2.0-2.1 ms with
//! Prometheus up too (2026-11-26). Back to back, each system's own
//! clean-up lands on its own next run, as it would for a user.
//!
//! Prometheus 2.x range selectors are closed on both ends (`[t − r, t]`),
//! VictoriaMetrics' are left-open (`(t − r, t]`): with `[30s]` on 10 s data
//! Prometheus would average four points where the others average three.
//! Prometheus, and Whippet's PromQL engine, which follows Prometheus 2.42,
//! are therefore given the range in milliseconds, one less than the step
//! (`[29999ms]`), which selects exactly the same raw points.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use whippet_fleetgen::FleetSpec;
use whippet_intake_bench::http::{Conn, Response, encode_query};
use whippet_intake_bench::sys;
use whippet_query_bench::answer::{Answer, Comparison, compare, parse_vm, parse_whippet};
use whippet_query_bench::stats::{self, Summary};
use whippet_query_bench::suite::{Count, Query, Step, closed_window};

use crate::systems::{Running, System};

/// The range every query covers, seconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Range {
    /// First second (the first point).
    pub from: i64,
    /// Last second (the last point + one interval).
    pub to: i64,
    /// The data's resolution.
    pub native_secs: i64,
}

impl Range {
    /// The whole data set of `spec`: from its first point to one interval
    /// after its last, at its resolution.
    pub fn of(spec: &FleetSpec) -> Range {
        Range {
            from: spec.start_ms / 1000,
            to: spec.end_ms() / 1000,
            native_secs: spec.interval_ms / 1000,
        }
    }
}

/// How many runs.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Unmeasured runs per system before the measured ones.
    pub warmups: u32,
    /// Measured runs per system.
    pub runs: u32,
    /// Clock ticks per second of `/proc` CPU times.
    pub hz: f64,
}

/// The name of the side that asks Whippet the PromQL forms, in reports.
pub const WHIPPET_PROMQL: &str = "whippet-promql";

/// What a side asks a system in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    /// The system's own language: Datadog's on Whippet, PromQL on the
    /// others.
    Native,
    /// PromQL on Whippet, through its Prometheus API.
    WhippetPromql,
}

/// One system's query endpoint and connection, in one language.
pub struct Side {
    /// Which system.
    pub system: System,
    lang: Lang,
    pid: String,
    headers: Vec<(String, String)>,
    conn: Conn,
}

impl Side {
    /// The endpoint of a running system, in its own language.
    pub fn new(srv: &Running) -> Side {
        Side {
            system: srv.system,
            lang: Lang::Native,
            pid: srv.server.pid(),
            headers: srv.auth_headers(),
            conn: Conn::new(srv.server.addr),
        }
    }

    /// Whippet's PromQL endpoint (`/prometheus/api/v1/query_range`, the
    /// same keys), on a connection of its own; `None` for another system.
    pub fn whippet_promql(srv: &Running) -> Option<Side> {
        (srv.system == System::Whippet).then(|| Side {
            lang: Lang::WhippetPromql,
            ..Side::new(srv)
        })
    }

    /// The side's name in reports: the system's, or [`WHIPPET_PROMQL`].
    pub fn name(&self) -> &'static str {
        match self.lang {
            Lang::Native => self.system.name(),
            Lang::WhippetPromql => WHIPPET_PROMQL,
        }
    }

    /// The side answers PromQL (a matrix, points at the end of windows).
    fn is_promql(&self) -> bool {
        self.lang == Lang::WhippetPromql || self.system != System::Whippet
    }

    /// The query text of `q` in this side's language for `step_secs`.
    fn text(&self, q: &Query, step_secs: u32) -> String {
        match (self.system, self.lang) {
            (_, Lang::WhippetPromql) => q.promql_whippet(step_secs),
            (System::Whippet, Lang::Native) => q.datadog.clone(),
            (System::VictoriaMetrics, Lang::Native) => q.promql(step_secs),
            (System::Prometheus, Lang::Native) => closed_window(&q.promql_template, step_secs),
        }
    }

    /// The request path of `text` over `range` with `step_secs` (PromQL
    /// only; Whippet's Datadog queries choose or are told their interval in
    /// the text).
    fn path(&self, text: &str, range: &Range, step_secs: u32) -> String {
        let prefix = match self.lang {
            Lang::WhippetPromql => "/prometheus",
            Lang::Native if self.system == System::Whippet => {
                return format!(
                    "/api/v1/query?from={}&to={}&query={}",
                    range.from,
                    range.to,
                    encode_query(text)
                );
            }
            Lang::Native => "",
        };
        format!(
            "{prefix}/api/v1/query_range?query={}&start={}&end={}&step={step_secs}",
            encode_query(text),
            range.from,
            range.to
        )
    }

    /// One timed `GET`: milliseconds from writing the request to having
    /// read the whole answer, and the answer. A non-200 answer is an error.
    pub fn get(&mut self, path: &str) -> Result<(f64, Response)> {
        self.conn.connect()?;
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let t = Instant::now();
        let r = self.conn.request("GET", path, &headers, b"")?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if r.status != 200 {
            bail!("{}: HTTP {}: {}", self.name(), r.status, r.body_snippet());
        }
        Ok((ms, r))
    }

    fn parse(&self, body: &[u8]) -> Result<Answer> {
        if self.is_promql() {
            parse_vm(body)
        } else {
            parse_whippet(body)
        }
    }
}

/// One system's result for one query.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SideResult {
    /// The system.
    pub system: String,
    /// The query text it was asked.
    pub text: String,
    /// The first run, before any warm-up (caches cold for the first query
    /// that reads a metric).
    pub first_ms: f64,
    /// Every measured run, milliseconds, in order (NaN for a failed run).
    pub runs_ms: Vec<f64>,
    /// Their summary.
    pub summary: Summary,
    /// Server CPU per measured run, milliseconds.
    pub server_cpu_ms_per_query: f64,
    /// Failed measured runs.
    pub errors: u32,
    /// The first failure.
    pub first_error: Option<String>,
    /// Size of the answer, bytes.
    pub response_bytes: usize,
    /// Series in the answer.
    pub series: usize,
    /// Points in the answer.
    pub points: usize,
    /// The answer against Whippet's (peers only).
    pub comparison: Option<Comparison>,
    /// Whippet's PromQL answer against each PromQL peer's, on the same
    /// grid, by peer name ([`WHIPPET_PROMQL`] only).
    pub peer_comparisons: Vec<(String, Comparison)>,
    /// Whippet's (Datadog) median / this side's (every side but Whippet's
    /// Datadog one).
    pub median_ratio: f64,
    /// Whippet's p99 / this system's (peers only).
    pub p99_ratio: f64,
    /// Something the reader should check (a series count that differs).
    pub warning: Option<String>,
}

/// One query's results on every system.
#[derive(Debug, Clone, Serialize)]
pub struct QueryResult {
    /// Short name.
    pub name: String,
    /// A dashboard aggregation (held to the absolute target too).
    pub dashboard: bool,
    /// The step, seconds.
    pub step_secs: u32,
    /// Hosts the filter selects (0: no host filter).
    pub hosts_selected: usize,
    /// Where the step comes from.
    pub step_rule: Step,
    /// How the series counts relate.
    pub count_rule: Count,
    /// What the reader should know about the pair.
    pub note: String,
    /// Per system, Whippet first.
    pub sides: Vec<SideResult>,
    /// Why the query could not be measured, if it could not.
    pub failure: Option<String>,
}

impl QueryResult {
    /// The result of `system` in its own language.
    pub fn side(&self, system: System) -> Option<&SideResult> {
        self.side_named(system.name())
    }

    /// The result of the side named `name` (a system's name, or
    /// [`WHIPPET_PROMQL`]).
    pub fn side_named(&self, name: &str) -> Option<&SideResult> {
        self.sides.iter().find(|s| s.system == name)
    }
}

/// Checks and times `q` on `sides` (Whippet first); a failure is recorded
/// in the result rather than ending the run.
pub fn run(q: &Query, sides: &mut [Side], range: &Range, plan: &Plan) -> QueryResult {
    let mut r = QueryResult {
        name: q.name.into(),
        dashboard: q.dashboard,
        step_secs: 0,
        hosts_selected: q.hosts_selected,
        step_rule: q.step,
        count_rule: q.count,
        note: q.note.clone(),
        sides: sides
            .iter()
            .map(|s| SideResult {
                system: s.name().into(),
                median_ratio: f64::NAN,
                p99_ratio: f64::NAN,
                ..SideResult::default()
            })
            .collect(),
        failure: None,
    };
    if let Err(e) = check_and_time(q, sides, range, plan, &mut r) {
        r.failure = Some(format!("{e:#}"));
    }
    r
}

fn check_and_time(
    q: &Query,
    sides: &mut [Side],
    range: &Range,
    plan: &Plan,
    r: &mut QueryResult,
) -> Result<()> {
    if sides.first().map(Side::name) != Some(System::Whippet.name()) {
        bail!("Whippet (Datadog) must be the first side: its answer sets the step");
    }
    // Whippet first: its answer's interval is the step of the others.
    let mut paths = Vec::with_capacity(sides.len());
    let mut whippet_answer = Answer::default();
    // The PromQL sides' answers, unshifted, for Whippet's PromQL to be
    // compared with.
    let mut promql_answers: Vec<Option<Answer>> = vec![None; sides.len()];
    for (i, side) in sides.iter_mut().enumerate() {
        let step = r.step_secs;
        let text = side.text(q, step);
        let path = side.path(&text, range, step);
        let (first_ms, resp) = side.get(&path)?;
        let answer = side.parse(&resp.body)?;
        if answer.series.is_empty() {
            bail!("{} returned no series for `{text}`", side.name());
        }
        let out = &mut r.sides[i];
        out.text = text;
        out.first_ms = first_ms;
        out.response_bytes = resp.body.len();
        out.series = answer.series.len();
        out.points = answer.points();
        if i == 0 {
            let interval = answer
                .interval_secs
                .context("whippet's answer has no interval")?;
            r.step_secs = match q.step {
                Step::Whippet => interval,
                Step::Fixed(s) if s == interval => s,
                Step::Fixed(s) => {
                    bail!("whippet answered with a {interval} s interval, the query asks for {s} s")
                }
            };
            whippet_answer = answer;
        } else {
            promql_answers[i] = Some(answer.clone());
            out.comparison = Some(compare_shifted(
                side,
                q,
                range,
                r.step_secs,
                &whippet_answer,
                answer,
            )?);
            let (ws, ps) = (whippet_answer.series.len(), out.series);
            out.warning = match q.count {
                Count::Same if ws != ps => Some(format!(
                    "whippet returned {ws} series, {} {ps}",
                    side.name()
                )),
                Count::TopkPerStep if ps < ws => Some(format!(
                    "{}'s per-step topk returned {ps} series, fewer than whippet's {ws}",
                    side.name()
                )),
                _ => None,
            };
        }
        paths.push(path);
    }
    compare_promql(sides, &promql_answers, r);
    let n = sides.len();
    let mut cpu = vec![0.0f64; n];
    // Which system goes first: rotates with the query (by its name, so that
    // a run of the suite is reproducible).
    let first = q.name.bytes().map(usize::from).sum::<usize>() % n;
    for k in 0..n {
        let i = (first + k) % n;
        let side = &mut sides[i];
        let out = &mut r.sides[i];
        for _ in 0..plan.warmups {
            side.get(&paths[i])?;
        }
        for _ in 0..plan.runs {
            let c0 = sys::cpu_secs(&side.pid, plan.hz).unwrap_or(0.0);
            match side.get(&paths[i]) {
                Ok((ms, _)) => out.runs_ms.push(ms),
                Err(e) => {
                    out.runs_ms.push(f64::NAN);
                    out.errors += 1;
                    out.first_error.get_or_insert_with(|| format!("{e:#}"));
                }
            }
            cpu[i] += sys::cpu_secs(&side.pid, plan.hz).unwrap_or(0.0) - c0;
        }
    }
    for (out, c) in r.sides.iter_mut().zip(cpu) {
        out.summary = stats::summarize(&out.runs_ms);
        out.server_cpu_ms_per_query = c * 1000.0 / f64::from(plan.runs);
    }
    let (wm, wp) = (r.sides[0].summary.median_ms, r.sides[0].summary.p99_ms);
    for out in r.sides.iter_mut().skip(1) {
        out.median_ratio = stats::ratio(wm, out.summary.median_ms);
        out.p99_ratio = stats::ratio(wp, out.summary.p99_ms);
    }
    Ok(())
}

/// Compares Whippet's PromQL answer with each PromQL peer's: the same
/// expression over the same grid, so points pair at equal timestamps. A
/// pairing short of either answer's series is a warning.
fn compare_promql(sides: &[Side], answers: &[Option<Answer>], r: &mut QueryResult) {
    let Some(wi) = sides.iter().position(|s| s.lang == Lang::WhippetPromql) else {
        return;
    };
    let Some(w) = &answers[wi] else {
        return;
    };
    let mut comparisons = Vec::new();
    let mut warnings = Vec::new();
    for (side, answer) in sides.iter().zip(answers) {
        if side.lang == Lang::WhippetPromql {
            continue;
        }
        let Some(a) = answer else {
            continue;
        };
        let c = compare(w, a, 0, 0);
        if c.paired_series != c.whippet_series || c.paired_series != c.vm_series {
            warnings.push(format!(
                "{WHIPPET_PROMQL} returned {} series, {} {}, {} paired",
                c.whippet_series,
                side.name(),
                c.vm_series,
                c.paired_series
            ));
        }
        comparisons.push((side.name().to_owned(), c));
    }
    let out = &mut r.sides[wi];
    out.peer_comparisons = comparisons;
    if !warnings.is_empty() {
        let mut all: Vec<String> = out.warning.take().into_iter().collect();
        all.extend(warnings);
        out.warning = Some(all.join("; "));
    }
}

/// Compares a PromQL answer with Whippet's. A Datadog bucket at `t` covers
/// `[t, t + step)`, a PromQL point at `t` the window ending at `t`: on the
/// 10 s grid they hold the same raw points when the PromQL point is at
/// `t + step − 10 s`, so the system is asked once more (not timed) with its
/// grid moved by that much.
fn compare_shifted(
    side: &mut Side,
    q: &Query,
    range: &Range,
    step: u32,
    w: &Answer,
    answer: Answer,
) -> Result<Comparison> {
    let shift = i64::from(step) - range.native_secs;
    let moved = if shift == 0 {
        answer.clone()
    } else {
        let moved = Range {
            from: range.from + shift,
            to: range.to + shift,
            native_secs: range.native_secs,
        };
        let text = side.text(q, step);
        let (_, resp) = side.get(&side.path(&text, &moved, step))?;
        side.parse(&resp.body)?
    };
    let mut c = compare(w, &moved, i64::from(step) * 1000, range.native_secs * 1000);
    c.vm_series = answer.series.len();
    c.vm_points = answer.points();
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_spans_every_point_and_one_interval_more() {
        let spec = FleetSpec {
            start_ms: 1_800_000_000 * 1000,
            ..FleetSpec::small()
        };
        let r = Range::of(&spec);
        let interval = spec.interval_ms / 1000;
        let last = spec.tick_ms(spec.points_per_series - 1) / 1000;
        assert_eq!(r.from, 1_800_000_000);
        assert_eq!(r.to, last + interval);
        assert_eq!(r.native_secs, 10);
    }
}
