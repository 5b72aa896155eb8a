//! `whippet query '<query>' --from -1h`: a metric query from the terminal.
//!
//! Sends the query to a running server's `GET /api/v1/query` (the same API
//! the Datadog clients use, so it needs an API and an application key) and
//! prints the answer as a table, one row per series with its statistics and
//! a sparkline, then as a chart ([`crate::termchart`]). `--points` adds every
//! point; `--json` prints the server's answer as it came.
//!
//! It owns the command line of the query, the parsing of times (`now`,
//! `-1h`, Unix seconds, `2026-11-26T10:00:00Z`) and the rendering. It must
//! never evaluate a query itself: the server is the one place queries run,
//! so the CLI shows exactly what a dashboard would.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use serde::Deserialize;

use crate::termchart::{self, Line, MARKERS};

/// How long the whole request may take before the CLI gives up. A query
/// over a long range can read for a while; a hung server must not hang the
/// terminal forever.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Width of the sparkline column of the table, in characters.
const SPARK_WIDTH: usize = 24;

/// Flags of `whippet query`.
#[derive(clap::Args, Debug)]
pub struct QueryArgs {
    /// The Datadog metric query, e.g. `avg:system.cpu.user{env:prod} by {host}`.
    pub query: String,
    /// Start: `-1h`, `-30m`, `-2d` (ago), `now`, Unix seconds, or
    /// `2026-11-26T10:00:00Z`.
    #[arg(long, default_value = "-1h", allow_hyphen_values = true)]
    pub from: String,
    /// End, in the same forms as --from.
    #[arg(long, default_value = "now", allow_hyphen_values = true)]
    pub to: String,
    /// The server's base URL (plain HTTP).
    #[arg(long, env = "WHIPPET_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// API key [env: WHIPPET_API_KEY, or DD_API_KEY]
    #[arg(long)]
    pub api_key: Option<String>,
    /// Application key [env: WHIPPET_APP_KEY, or DD_APP_KEY]
    #[arg(long)]
    pub app_key: Option<String>,
    /// Also print every point (time, then one column per series).
    #[arg(long)]
    pub points: bool,
    /// Print the server's JSON answer instead of the table and chart.
    #[arg(long)]
    pub json: bool,
    /// Chart width in columns [default: the terminal's width ($COLUMNS), or 80].
    #[arg(long)]
    pub width: Option<usize>,
    /// Chart height in rows.
    #[arg(long, default_value_t = 10)]
    pub height: usize,
}

/// The part of a `/api/v1/query` answer the CLI reads.
#[derive(Deserialize, Debug)]
struct Answer {
    #[serde(default)]
    series: Vec<Series>,
}

#[derive(Deserialize, Debug)]
struct Series {
    #[serde(default)]
    expression: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    interval: u64,
    #[serde(default)]
    pointlist: Vec<(f64, Option<f64>)>,
}

/// Runs `whippet query`.
pub fn run(args: QueryArgs) -> Result<()> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs() as i64;
    let from = parse_time(&args.from, now).with_context(|| format!("--from `{}`", args.from))?;
    let to = parse_time(&args.to, now).with_context(|| format!("--to `{}`", args.to))?;
    let key = |flag: &Option<String>, envs: [&str; 2], what: &str| {
        flag.clone()
            .or_else(|| envs.iter().find_map(|e| std::env::var(e).ok()))
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                anyhow!(
                    "no {what}: pass --{} or set {} (the keys `whippet serve` printed on its first start; `whippet keys create` makes new ones)",
                    what.replace(' ', "-"),
                    envs[0]
                )
            })
    };
    let api_key = key(&args.api_key, ["WHIPPET_API_KEY", "DD_API_KEY"], "api key")?;
    let app_key = key(&args.app_key, ["WHIPPET_APP_KEY", "DD_APP_KEY"], "app key")?;
    let target = format!(
        "/api/v1/query?from={from}&to={to}&query={}",
        encode_component(&args.query)
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let (status, body) = rt
        .block_on(get(&args.url, &target, &api_key, &app_key))
        .with_context(|| format!("querying {}", args.url))?;
    if status != 200 {
        bail!("the server answered {status}: {}", error_text(&body));
    }
    if args.json {
        println!("{}", String::from_utf8_lossy(&body));
        return Ok(());
    }
    let answer: Answer = serde_json::from_slice(&body).context("reading the server's answer")?;
    let width = args
        .width
        .or_else(|| std::env::var("COLUMNS").ok()?.parse().ok())
        .unwrap_or(80);
    print!(
        "{}",
        render(
            &args.query,
            from,
            to,
            &answer.series,
            width,
            args.height,
            args.points
        )
    );
    Ok(())
}

/// The message of an error answer: the first of Datadog's `errors`, or the
/// body itself.
fn error_text(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Errors {
        errors: Vec<String>,
    }
    match serde_json::from_slice::<Errors>(body) {
        Ok(e) if !e.errors.is_empty() => e.errors.join("; "),
        _ => String::from_utf8_lossy(body).into_owned(),
    }
}

/// One GET with the two key headers; the status and the whole body.
async fn get(base: &str, target: &str, api_key: &str, app_key: &str) -> Result<(u16, Bytes)> {
    let rest = base
        .strip_prefix("http://")
        .ok_or_else(|| anyhow!("--url must start with http:// (got `{base}`)"))?;
    let (authority, prefix) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
        None => (rest, ""),
    };
    let addr = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let work = async {
        let stream = tokio::net::TcpStream::connect(&addr)
            .await
            .with_context(|| format!("connecting to {addr} (is `whippet serve` running?)"))?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .context("HTTP handshake")?;
        tokio::spawn(conn);
        let req = hyper::Request::get(format!("{prefix}{target}"))
            .header("host", authority)
            .header("dd-api-key", api_key)
            .header("dd-application-key", app_key)
            .header(
                "user-agent",
                concat!("whippet-cli/", env!("CARGO_PKG_VERSION")),
            )
            .body(Empty::<Bytes>::new())
            .context("building the request")?;
        let resp = sender
            .send_request(req)
            .await
            .context("sending the request")?;
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .collect()
            .await
            .context("reading the answer")?
            .to_bytes();
        Ok::<_, anyhow::Error>((status, body))
    };
    tokio::time::timeout(REQUEST_TIMEOUT, work)
        .await
        .map_err(|_| anyhow!("no answer within {} s", REQUEST_TIMEOUT.as_secs()))?
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A time as Unix seconds: `now`, `-<duration>` (before `now`, units of
/// `whippet_tsdb::parse_duration_ms`), Unix seconds, or an RFC 3339 UTC
/// time `YYYY-MM-DDTHH:MM[:SS]Z` (also with a space, and without the `Z`).
pub fn parse_time(text: &str, now: i64) -> Result<i64> {
    let t = text.trim();
    if t == "now" {
        return Ok(now);
    }
    if let Some(ago) = t.strip_prefix('-') {
        let ms = whippet_tsdb::parse_duration_ms(ago).map_err(|e| anyhow!(e))?;
        return Ok(now - ms / 1000);
    }
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().context("a number of seconds too large");
    }
    parse_utc(t)
        .ok_or_else(|| anyhow!("expected `now`, `-1h` (ago), Unix seconds or 2026-11-26T10:00:00Z"))
}

/// `YYYY-MM-DD[T ]HH:MM[:SS][Z]` in UTC.
pub(crate) fn parse_utc(t: &str) -> Option<i64> {
    let t = t.strip_suffix('Z').unwrap_or(t);
    let (date, time) = t.split_once(['T', ' '])?;
    let mut d = date.split('-');
    let (y, m, day) = (d.next()?, d.next()?, d.next()?);
    if d.next().is_some() || y.len() != 4 || m.len() != 2 || day.len() != 2 {
        return None;
    }
    let (y, m, day): (i64, u32, u32) = (y.parse().ok()?, m.parse().ok()?, day.parse().ok()?);
    let mut hms = time.split(':');
    let h: i64 = hms.next()?.parse().ok()?;
    let min: i64 = hms.next()?.parse().ok()?;
    let s: i64 = hms.next().map_or(Some(0), |s| s.parse().ok())?;
    if hms.next().is_some() || h > 23 || min > 59 || s > 60 {
        return None;
    }
    let days = whippet_tsdb::time::days_from_civil(y, m, day);
    if whippet_tsdb::time::civil_from_days(days) != (y, m, day) {
        return None;
    }
    Some(days * 86_400 + h * 3600 + min * 60 + s)
}

/// `YYYY-MM-DD HH:MM:SS` UTC for Unix milliseconds.
fn fmt_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = whippet_tsdb::time::civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// `HH:MM:SS` of Unix milliseconds, for the chart's time axis.
fn fmt_clock(ms: i64) -> String {
    fmt_time(ms)[11..].to_owned()
}

/// Statistics of one series' non-null values.
struct Stats {
    count: usize,
    min: f64,
    avg: f64,
    max: f64,
    last: f64,
}

fn stats(points: &[(i64, Option<f64>)]) -> Option<Stats> {
    let values: Vec<f64> = points.iter().filter_map(|p| p.1).collect();
    let last = *values.last()?;
    Some(Stats {
        count: values.len(),
        min: values.iter().copied().fold(f64::INFINITY, f64::min),
        max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        avg: values.iter().sum::<f64>() / values.len() as f64,
        last,
    })
}

/// The whole text `whippet query` prints for an answer.
fn render(
    query: &str,
    from: i64,
    to: i64,
    series: &[Series],
    width: usize,
    height: usize,
    with_points: bool,
) -> String {
    let mut out = format!(
        "{query}\n{} → {} UTC",
        fmt_time(from * 1000),
        fmt_time(to * 1000)
    );
    if let Some(s) = series.first() {
        out.push_str(&format!(", interval {} s", s.interval));
    }
    out.push_str(&format!(", {} series\n", series.len()));
    if series.is_empty() {
        out.push_str("no data in this range\n");
        return out;
    }
    let points: Vec<Vec<(i64, Option<f64>)>> = series
        .iter()
        .map(|s| s.pointlist.iter().map(|&(t, v)| (t as i64, v)).collect())
        .collect();
    let names: Vec<String> = series
        .iter()
        .map(|s| {
            if s.scope.is_empty() || s.scope == "*" {
                s.expression.clone()
            } else {
                s.scope.clone()
            }
        })
        .collect();
    let name_w = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(6)
        .clamp(6, 48);
    out.push('\n');
    out.push_str(&format!(
        "  {:<name_w$}  {:>6}  {:>8}  {:>8}  {:>8}  {:>8}  {}\n",
        "series", "points", "min", "avg", "max", "last", "shape"
    ));
    for (i, (name, p)) in names.iter().zip(&points).enumerate() {
        let marker = MARKERS[i % MARKERS.len()];
        let name = truncate(name, name_w);
        match stats(p) {
            Some(st) => out.push_str(&format!(
                "{marker} {name:<name_w$}  {:>6}  {:>8}  {:>8}  {:>8}  {:>8}  {}\n",
                st.count,
                termchart::human(st.min),
                termchart::human(st.avg),
                termchart::human(st.max),
                termchart::human(st.last),
                termchart::sparkline(p, SPARK_WIDTH.min(st.count.max(1)))
            )),
            None => out.push_str(&format!("{marker} {name:<name_w$}  {:>6}\n", 0)),
        }
    }
    let lines: Vec<Line<'_>> = points.iter().map(|p| Line { points: p }).collect();
    let chart_w = width.saturating_sub(12).max(10);
    out.push('\n');
    out.push_str(&termchart::chart(&lines, chart_w, height, &|t| {
        fmt_clock(t)
    }));
    if with_points {
        out.push('\n');
        out.push_str(&points_table(&names, &points));
    }
    out
}

/// Every timestamp of any series, one row each, one column per series
/// (empty where a series has no point).
fn points_table(names: &[String], points: &[Vec<(i64, Option<f64>)>]) -> String {
    let mut times: Vec<i64> = points.iter().flatten().map(|p| p.0).collect();
    times.sort_unstable();
    times.dedup();
    let col_w = 12;
    let mut out = format!("{:<19}", "time (UTC)");
    for n in names {
        out.push_str(&format!("  {:>col_w$}", truncate(n, col_w)));
    }
    out.push('\n');
    let mut cursor = vec![0usize; points.len()];
    for t in times {
        out.push_str(&fmt_time(t));
        for (p, c) in points.iter().zip(cursor.iter_mut()) {
            let cell = match p.get(*c) {
                Some(&(pt, v)) if pt == t => {
                    *c += 1;
                    v.map(|v| format!("{v}")).unwrap_or_else(|| "null".into())
                }
                _ => String::new(),
            };
            out.push_str(&format!("  {cell:>col_w$}"));
        }
        out.push('\n');
    }
    out
}

/// At most `w` characters, ending in `…` when cut.
fn truncate(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(w.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_every_accepted_form() {
        let now = 1_795_651_200; // 2026-11-26T00:00:00Z
        assert_eq!(parse_time("now", now).unwrap(), now);
        assert_eq!(parse_time("-1h", now).unwrap(), now - 3600);
        assert_eq!(parse_time("-1d12h", now).unwrap(), now - 129_600);
        assert_eq!(parse_time("1700000000", now).unwrap(), 1_700_000_000);
        assert_eq!(parse_time("2026-11-26T00:00:00Z", now).unwrap(), now);
        assert_eq!(parse_time("2026-11-26 01:30", now).unwrap(), now + 5400);
        for bad in [
            "-1",
            "yesterday",
            "2026-02-30T00:00:00Z",
            "2026-11-26T24:00Z",
            "",
        ] {
            assert!(parse_time(bad, now).is_err(), "{bad}");
        }
        assert_eq!(fmt_time(now * 1000 + 3_723_000), "2026-11-26 01:02:03");
    }

    #[test]
    fn query_text_is_percent_encoded() {
        assert_eq!(
            encode_component("avg:m{host:a} by {x}"),
            "avg%3Am%7Bhost%3Aa%7D%20by%20%7Bx%7D"
        );
    }

    fn series(scope: &str, points: &[(f64, Option<f64>)]) -> Series {
        Series {
            expression: format!("avg:m{{{scope}}}"),
            scope: scope.into(),
            interval: 10,
            pointlist: points.to_vec(),
        }
    }

    #[test]
    fn render_has_a_row_per_series_with_its_statistics_and_a_chart() {
        let t0 = 1_795_651_200_000.0;
        let s = vec![
            series(
                "host:a",
                &[(t0, Some(1.0)), (t0 + 10e3, None), (t0 + 20e3, Some(3.0))],
            ),
            series("host:b", &[(t0, Some(10.0)), (t0 + 10e3, Some(20.0))]),
        ];
        let text = render(
            "avg:m{*} by {host}",
            1_795_651_200,
            1_795_651_260,
            &s,
            60,
            5,
            true,
        );
        assert!(text.contains("interval 10 s, 2 series"), "{text}");
        let row_a = text.lines().find(|l| l.starts_with("● host:a")).unwrap();
        let cells: Vec<&str> = row_a.split_whitespace().collect();
        // marker, name, points, min, avg, max, last, sparkline
        assert_eq!(&cells[2..7], ["2", "1", "2", "3", "3"], "{text}");
        let row_b = text.lines().find(|l| l.starts_with("○ host:b")).unwrap();
        assert!(row_b.contains("15"), "{row_b}");
        // The chart's top label is the largest value, 20.
        assert!(
            text.lines().any(|l| l.trim_start().starts_with("20 ┤")),
            "{text}"
        );
        // The points table: a null in a's middle row, nothing for b's third.
        let row = text
            .lines()
            .find(|l| l.starts_with("2026-11-26 00:00:10"))
            .unwrap();
        assert!(row.contains("null") && row.contains("20"), "{row}");
        let row = text
            .lines()
            .find(|l| l.starts_with("2026-11-26 00:00:20"))
            .unwrap();
        assert_eq!(row.split_whitespace().count(), 3, "{row}");
    }

    #[test]
    fn render_of_no_series_says_so() {
        let text = render("avg:m{*}", 0, 60, &[], 80, 5, false);
        assert!(
            text.contains("0 series") && text.contains("no data"),
            "{text}"
        );
    }

    #[test]
    fn error_answers_show_datadogs_message() {
        assert_eq!(
            error_text(br#"{"errors":["Error parsing query: at position 7: expected `}`"]}"#),
            "Error parsing query: at position 7: expected `}`"
        );
        assert_eq!(error_text(b"plain"), "plain");
    }
}
