//! The golden corpus: every `testdata/*.test` file loads series into a fresh
//! storage engine and checks what queries over them return. The format is
//! described in `testdata/README.md`.
//!
//! Each file runs twice: once with its data in the engine's in-memory head,
//! once with every load flushed and merged into parts, so both read paths
//! give the same answers. All failures are collected and reported together,
//! each with the file and line, the expectation and the actual answer in the
//! corpus syntax (ready to paste once checked by hand).

use std::fmt::Write as _;
use std::path::Path;

use whippet_golden::{Block, Mode, blocks, parse_duration_ms, run_corpus};

use whippet_query::{FormulaLimit, QueryEngine, QueryError, QueryLimits, SeriesResult};
use whippet_tsdb::time::DAY_MS;
use whippet_tsdb::{
    Clock, Engine, EngineConfig, FloatPoint, MetricType, OrgId, SeriesKey, Sketch, SketchPoint,
    TagSet,
};

const ORG: OrgId = OrgId(1);
/// Default clock of a file: 2026-12-01T00:00:00Z.
const DEFAULT_NOW_MS: i64 = 1_796_083_200_000;
/// Relative tolerance of value comparisons: lets a file write 0.333333
/// for a third.
const TOLERANCE: f64 = 1e-6;

#[test]
fn golden_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    run_corpus(&dir, run_file);
}

/// One file's engine and settings.
struct Ctx {
    _dir: tempfile::TempDir,
    engine: Engine,
    clock: Clock,
    limits: QueryLimits,
    /// Relative times (`+1h`, `30:`) count from here, ms.
    origin: Option<i64>,
    range: Option<(i64, i64)>,
    flush: bool,
    retention_ms: i64,
    loaded: bool,
}

impl Ctx {
    fn new(flush: bool) -> Ctx {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = Clock::manual(DEFAULT_NOW_MS);
        let retention_ms = 15 * 31 * DAY_MS;
        let engine = open(dir.path(), &clock, retention_ms);
        Ctx {
            _dir: dir,
            engine,
            clock,
            limits: QueryLimits::default(),
            origin: None,
            range: None,
            flush,
            retention_ms,
            loaded: false,
        }
    }

    fn query_engine(&self) -> QueryEngine {
        QueryEngine::new(self.engine.clone(), self.limits)
    }

    fn origin(&self) -> i64 {
        self.origin.unwrap_or(DEFAULT_NOW_MS)
    }
}

fn open(dir: &Path, clock: &Clock, retention_ms: i64) -> Engine {
    let config = EngineConfig {
        clock: clock.clone(),
        background_tasks: false,
        retention_ms,
        ..EngineConfig::default()
    };
    Engine::open(dir, config).expect("open engine").0
}

/// Runs one file; returns the number of cases and the failures.
fn run_file(name: &str, text: &str, mode: Mode) -> (usize, Vec<String>) {
    let mut ctx = Ctx::new(mode == Mode::Parts);
    let mut cases = 0;
    let (blocks, mut fails) = blocks(name, text);
    for Block { lineno, head, body } in blocks {
        let (word, rest) = split_word(head);
        let res = match word {
            "now" => parse_time(rest.trim(), &ctx).map(|t| ctx.clock.set_ms(t)),
            "origin" => parse_time(rest.trim(), &ctx).map(|t| ctx.origin = Some(t)),
            "retention" => set_retention(&mut ctx, rest.trim()),
            "limits" => set_limits(&mut ctx, rest),
            "range" => parse_range(rest, &ctx).map(|r| ctx.range = Some(r)),
            "load" => load(&mut ctx, rest, &body),
            "eval" => {
                cases += 1;
                eval(&ctx, rest, &body)
            }
            "formulas" => {
                cases += 1;
                formulas(&ctx, rest, &body)
            }
            other => Err(format!("unknown directive `{other}`")),
        };
        if let Err(e) = res {
            fails.push(format!("{name}:{lineno} ({}): {head}\n{e}\n", mode.name()));
        }
    }
    (cases, fails)
}

fn in_quotes(l: &str, p: usize) -> bool {
    l[..p].matches('"').count() % 2 == 1
}

fn split_word(s: &str) -> (&str, &str) {
    match s.find(char::is_whitespace) {
        Some(p) => (&s[..p], &s[p..]),
        None => (s, ""),
    }
}

/// Splits on whitespace, keeping `"..."` (with `\"` escapes) together;
/// quotes are removed.
fn tokens(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut in_tok = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => cur.push(chars.next().ok_or("dangling escape")?),
            '"' => {
                quoted = !quoted;
                in_tok = true;
            }
            c if c.is_whitespace() && !quoted => {
                if in_tok {
                    out.push(std::mem::take(&mut cur));
                    in_tok = false;
                }
            }
            c => {
                cur.push(c);
                in_tok = true;
            }
        }
    }
    if quoted {
        return Err(format!("unterminated quote in: {s}"));
    }
    if in_tok {
        out.push(cur);
    }
    Ok(out)
}

// ---------------------------------------------------------------- times

/// `2026-11-26T00:00:00Z`, epoch seconds, or `±<duration>` from the origin.
fn parse_time(s: &str, ctx: &Ctx) -> Result<i64, String> {
    if let Some(d) = s.strip_prefix('+') {
        return Ok(ctx.origin() + parse_duration_ms(d)?);
    }
    if let Some(d) = s.strip_prefix('-') {
        return Ok(ctx.origin() - parse_duration_ms(d)?);
    }
    if let Ok(secs) = s.parse::<i64>() {
        return Ok(secs * 1000);
    }
    parse_rfc3339(s)
        .ok_or_else(|| format!("bad time `{s}` (want 2026-11-26T00:00:00Z, epoch seconds or +1h)"))
}

fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
    let days =
        whippet_tsdb::time::days_from_civil(y, u32::try_from(m).ok()?, u32::try_from(d).ok()?);
    Some(((days * 24 + hh) * 60 + mm) * 60_000 + ss * 1000)
}

/// A signed offset from the origin in seconds (or with a unit), ms.
fn parse_offset_ms(s: &str) -> Result<i64, String> {
    match s.strip_prefix('-') {
        Some(d) => Ok(-parse_duration_ms(d)?),
        None => parse_duration_ms(s.strip_prefix('+').unwrap_or(s)),
    }
}

fn parse_range(s: &str, ctx: &Ctx) -> Result<(i64, i64), String> {
    let (mut from, mut to) = ctx
        .range
        .unwrap_or((ctx.origin(), ctx.origin() + 3_600_000));
    for t in tokens(s)? {
        match t.split_once('=') {
            Some(("from", v)) => from = parse_time(v, ctx)?,
            Some(("to", v)) => to = parse_time(v, ctx)?,
            _ => return Err(format!("expected from=... or to=..., got `{t}`")),
        }
    }
    Ok((from, to))
}

// ---------------------------------------------------------------- setup

fn set_retention(ctx: &mut Ctx, s: &str) -> Result<(), String> {
    if ctx.loaded {
        return Err("retention must come before the first load".into());
    }
    ctx.retention_ms = parse_duration_ms(s)?;
    // Nothing is loaded yet: a fresh directory is simplest.
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    ctx.engine = open(dir.path(), &ctx.clock, ctx.retention_ms);
    ctx._dir = dir;
    Ok(())
}

fn set_limits(ctx: &mut Ctx, s: &str) -> Result<(), String> {
    for t in tokens(s)? {
        let (k, v) = t
            .split_once('=')
            .ok_or_else(|| format!("expected key=value, got `{t}`"))?;
        let bad = |_| format!("bad number in `{t}`");
        match k {
            "max_series" => ctx.limits.max_series = v.parse().map_err(bad)?,
            "max_points" => ctx.limits.max_points = v.parse().map_err(bad)?,
            "max_output_points" => ctx.limits.max_output_points = v.parse().map_err(bad)?,
            _ => return Err(format!("unknown limit `{k}`")),
        }
    }
    Ok(())
}

/// One value of a load line.
#[derive(Clone)]
enum Item {
    Skip,
    Float(f64),
    Sketch(Vec<f64>),
}

/// `v`, `_`, `[v,...]`, each optionally `xN` (N times); `a+dxN` / `a-dxN`
/// are N values from `a` in steps of `d`.
fn expand(tok: &str, out: &mut Vec<Item>) -> Result<(), String> {
    let (item, times) = match tok.rfind('x') {
        Some(p) if !tok[p + 1..].is_empty() && tok[p + 1..].bytes().all(|b| b.is_ascii_digit()) => {
            (
                &tok[..p],
                tok[p + 1..].parse::<usize>().map_err(|e| e.to_string())?,
            )
        }
        _ => (tok, 1),
    };
    if times > 1_000_000 {
        return Err(format!("`{tok}` repeats too often"));
    }
    if item == "_" {
        out.extend(std::iter::repeat_n(Item::Skip, times));
        return Ok(());
    }
    if let Some(inner) = item.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        let mut vals = Vec::new();
        for v in inner.split(',').filter(|v| !v.trim().is_empty()) {
            let mut sub = Vec::new();
            expand(v.trim(), &mut sub)?;
            for s in sub {
                match s {
                    Item::Float(f) => vals.push(f),
                    _ => return Err(format!("bad sketch value in `{tok}`")),
                }
            }
        }
        out.extend(std::iter::repeat_n(Item::Sketch(vals), times));
        return Ok(());
    }
    // a+d or a-d (the sign after the first character).
    if let Some(p) = item[1..].find(['+', '-']).map(|p| p + 1)
        && !item[..p].ends_with('e')
    {
        let a: f64 = item[..p]
            .parse()
            .map_err(|_| format!("bad number in `{tok}`"))?;
        let d: f64 = item[p..]
            .parse()
            .map_err(|_| format!("bad step in `{tok}`"))?;
        out.extend((0..times).map(|k| Item::Float(a + d * k as f64)));
        return Ok(());
    }
    let v: f64 = match item {
        "nan" => f64::NAN,
        "inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        _ => item.parse().map_err(|_| format!("bad value `{tok}`"))?,
    };
    out.extend(std::iter::repeat_n(Item::Float(v), times));
    Ok(())
}

/// `metric{k:v,...}` → (metric, tags).
fn parse_series_name(s: &str) -> Result<(String, Vec<String>), String> {
    let (m, rest) = s
        .split_once('{')
        .ok_or_else(|| format!("expected metric{{tags}}, got `{s}`"))?;
    let tags = rest
        .strip_suffix('}')
        .ok_or_else(|| format!("missing `}}` in `{s}`"))?;
    let tags = tags
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect();
    Ok((m.to_owned(), tags))
}

fn load(ctx: &mut Ctx, rest: &str, body: &[(usize, &str)]) -> Result<(), String> {
    let t = tokens(rest)?;
    let (step, from) = match t.as_slice() {
        [step, kw, from] if kw == "from" => (parse_duration_ms(step)?, parse_time(from, ctx)?),
        _ => return Err("expected: load <step> from <time>".into()),
    };
    if ctx.origin.is_none() {
        ctx.origin = Some(from);
    }
    ctx.loaded = true;
    for &(lineno, line) in body {
        let t = tokens(line)?;
        let err = |m: String| format!("line {lineno}: {m}");
        let [kind, name, rest @ ..] = t.as_slice() else {
            return Err(err("expected: <type> metric{tags} values...".into()));
        };
        let (metric, tags) = parse_series_name(name).map_err(err)?;
        let mut interval = 0u32;
        let mut items = Vec::new();
        for tok in rest {
            if let Some(v) = tok.strip_prefix("interval=") {
                interval = v.parse().map_err(|_| err(format!("bad interval `{v}`")))?;
            } else {
                expand(tok, &mut items).map_err(err)?;
            }
        }
        let mtype = match kind.as_str() {
            "gauge" => MetricType::Gauge,
            "count" => MetricType::Count {
                interval_secs: interval,
            },
            "rate" => MetricType::Rate {
                interval_secs: interval,
            },
            "dist" => MetricType::Distribution,
            k => {
                return Err(err(format!(
                    "unknown type `{k}` (gauge, count, rate, dist)"
                )));
            }
        };
        let tagset = TagSet::new(tags);
        let key = if mtype == MetricType::Distribution {
            SeriesKey::sketch(ORG, metric, tagset)
        } else {
            SeriesKey::float(ORG, metric, tagset)
        };
        let id = ctx
            .engine
            .resolve(&key, mtype)
            .map_err(|e| err(e.to_string()))?;
        let mut floats = Vec::new();
        let mut sketches = Vec::new();
        for (k, it) in items.into_iter().enumerate() {
            let ts = from + k as i64 * step;
            match (it, mtype) {
                (Item::Skip, _) => {}
                (Item::Float(value), t) if t != MetricType::Distribution => {
                    floats.push(FloatPoint {
                        series: id,
                        ts,
                        value,
                    })
                }
                (Item::Sketch(vals), MetricType::Distribution) => {
                    let mut s = Sketch::new();
                    vals.iter().for_each(|&v| s.insert(v));
                    sketches.push(SketchPoint {
                        series: id,
                        ts,
                        sketch: s,
                    });
                }
                _ => return Err(err("dist series take [v,...] values, others numbers".into())),
            }
        }
        for outcome in [
            ctx.engine
                .append_floats(&floats)
                .map_err(|e| err(e.to_string()))?,
            ctx.engine
                .append_sketches(&sketches)
                .map_err(|e| err(e.to_string()))?,
        ] {
            if let Some((i, why)) = outcome.rejected.first() {
                return Err(err(format!("point {i} rejected: {why}")));
            }
        }
    }
    if ctx.flush {
        ctx.engine.flush().map_err(|e| e.to_string())?;
        ctx.engine.compact().map_err(|e| e.to_string())?;
    }
    Ok(())
}

// ---------------------------------------------------------------- expectations

/// An expected series: its tag set, optional attributes, and points as
/// `(offset from origin ms, value)` — or, for `@` runs, slots resolved
/// against the answer's interval.
struct Expected {
    lineno: usize,
    tags: Vec<String>,
    attrs: Vec<(String, String)>,
    points: Vec<(Slot, Option<f64>)>,
}

#[derive(Clone, Copy)]
enum Slot {
    /// An offset from the origin, ms.
    At(i64),
    /// The k-th bucket after an `@` offset.
    Run(i64, usize),
}

impl Slot {
    fn ts(self, origin: i64, interval_ms: i64) -> i64 {
        match self {
            Slot::At(o) => origin + o,
            Slot::Run(o, k) => origin + o + k as i64 * interval_ms,
        }
    }
}

fn parse_expected(lineno: usize, line: &str) -> Result<Expected, String> {
    let toks = tokens(line)?;
    let (tags_tok, rest) = toks.split_first().ok_or("empty series line")?;
    let inner = tags_tok
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .ok_or_else(|| format!("line {lineno}: a series line starts with {{tags}}"))?;
    let tags = inner
        .split(',')
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect();
    let mut attrs = Vec::new();
    let mut points = Vec::new();
    let mut run: Option<(i64, usize)> = None;
    for t in rest {
        if let Some((k, v)) = t.split_once('=') {
            attrs.push((k.to_owned(), v.to_owned()));
        } else if let Some(o) = t.strip_prefix('@') {
            run = Some((parse_offset_ms(o)?, 0));
        } else if let Some((o, v)) = t.split_once(':') {
            let mut vals = Vec::new();
            expand_expected(v, &mut vals)?;
            let [v] = vals.as_slice() else {
                return Err(format!("line {lineno}: `{t}`: one value per offset"));
            };
            points.push((Slot::At(parse_offset_ms(o)?), *v));
        } else {
            let (o, k) = run.as_mut().ok_or_else(|| {
                format!("line {lineno}: value `{t}` needs an @offset or offset:value")
            })?;
            let mut vals = Vec::new();
            expand_expected(t, &mut vals)?;
            for v in vals {
                points.push((Slot::Run(*o, *k), v));
                *k += 1;
            }
        }
    }
    Ok(Expected {
        lineno,
        tags,
        attrs,
        points,
    })
}

fn expand_expected(tok: &str, out: &mut Vec<Option<f64>>) -> Result<(), String> {
    let norm = tok.replace("null", "_");
    let mut items = Vec::new();
    expand(&norm, &mut items)?;
    for it in items {
        out.push(match it {
            Item::Skip => None,
            Item::Float(f) => Some(f),
            Item::Sketch(_) => return Err(format!("unexpected sketch in `{tok}`")),
        });
    }
    Ok(())
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => x == y || (x - y).abs() <= TOLERANCE * y.abs().max(1.0),
        _ => false,
    }
}

fn fmt_value(v: Option<f64>) -> String {
    match v {
        None => "null".into(),
        Some(f) => {
            let r = (f * 1e6).round() / 1e6;
            format!("{r}")
        }
    }
}

fn fmt_offset(ms: i64) -> String {
    if ms % 1000 == 0 {
        format!("{}", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// A series of an answer in the corpus syntax.
fn fmt_actual(s: &SeriesResult, origin: i64) -> String {
    let mut out = format!("  {{{}}}", s.tag_set.join(","));
    if let Some(&(t0, _)) = s.points.first() {
        let _ = write!(out, " @{}", fmt_offset(t0 - origin));
    }
    for &(_, v) in &s.points {
        let _ = write!(out, " {}", fmt_value(v));
    }
    let _ = write!(
        out,
        "    # interval={} scope={:?} aggr={} metric={:?} display={:?} expr={:?} index={}",
        s.interval_secs,
        s.scope,
        s.aggr.as_deref().unwrap_or("null"),
        s.metric,
        s.display_name,
        s.expression,
        s.query_index
    );
    out
}

fn check_attr(s: &SeriesResult, k: &str, v: &str) -> Result<(), String> {
    let actual = match k {
        "metric" => s.metric.clone(),
        "display" => s.display_name.clone(),
        "expr" => s.expression.clone(),
        "scope" => s.scope.clone(),
        "aggr" => s.aggr.clone().unwrap_or_else(|| "null".into()),
        "interval" => s.interval_secs.to_string(),
        "index" => s.query_index.to_string(),
        _ => return Err(format!("unknown attribute `{k}`")),
    };
    if actual != v {
        return Err(format!("{k} is {actual:?}, expected {v:?}"));
    }
    Ok(())
}

/// The error expected after `=>`, if any, and the text before it.
fn split_error(rest: &str) -> (&str, Option<&str>) {
    match rest.find("=>") {
        Some(p) if !in_quotes(rest, p) => (&rest[..p], Some(rest[p + 2..].trim())),
        _ => (rest, None),
    }
}

fn expect_error(err: &QueryError, want: &str) -> Result<(), String> {
    let (status, msg) = match want.split_once(' ') {
        Some((s, m)) if s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()) => {
            (Some(s.parse::<u16>().unwrap()), m.trim())
        }
        _ => (None, want),
    };
    let text = err.to_string();
    if !text.contains(msg) {
        return Err(format!(
            "error is:\n  {text}\nexpected it to contain:\n  {msg}"
        ));
    }
    if let Some(s) = status
        && err.http_status() != s
    {
        return Err(format!(
            "error status is {}, expected {s}: {text}",
            err.http_status()
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------- eval

fn eval(ctx: &Ctx, rest: &str, body: &[(usize, &str)]) -> Result<(), String> {
    let (head, want_err) = split_error(rest);
    let mut toks = tokens(head)?;
    let query = toks.pop().ok_or("eval needs a query in quotes")?;
    let error_kw = toks.first().is_some_and(|t| t == "error");
    if error_kw {
        toks.remove(0);
    }
    if error_kw != want_err.is_some() {
        return Err("`eval error ... => message` needs both `error` and `=>`".into());
    }
    let (from, to) = parse_range(&toks.join(" "), ctx)?;
    let answer = whippet_ddql::parse_request(&query)
        .map_err(QueryError::from)
        .and_then(|req| ctx.query_engine().query(ORG, &query, &req, from, to));
    if let Some(want) = want_err {
        return match answer {
            Err(e) => expect_error(&e, want),
            Ok(r) => Err(format!("expected an error, got {} series", r.len())),
        };
    }
    let got = answer.map_err(|e| format!("query failed: {e}"))?;
    let expected: Vec<Expected> = body
        .iter()
        .map(|&(n, l)| parse_expected(n, l))
        .collect::<Result<_, _>>()?;
    compare(ctx.origin(), &got, &expected)
}

fn compare(origin: i64, got: &[SeriesResult], expected: &[Expected]) -> Result<(), String> {
    let mut problems = Vec::new();
    if got.len() != expected.len() {
        problems.push(format!("{} series, expected {}", got.len(), expected.len()));
    }
    for (k, (g, e)) in got.iter().zip(expected).enumerate() {
        let at = format!("line {} (series {k})", e.lineno);
        if g.tag_set != e.tags {
            problems.push(format!(
                "{at}: tag set {:?}, expected {:?}",
                g.tag_set, e.tags
            ));
        }
        for (key, v) in &e.attrs {
            if let Err(m) = check_attr(g, key, v) {
                problems.push(format!("{at}: {m}"));
            }
        }
        let interval_ms = i64::from(g.interval_secs) * 1000;
        let want: Vec<(i64, Option<f64>)> = e
            .points
            .iter()
            .map(|&(s, v)| (s.ts(origin, interval_ms), v))
            .collect();
        let same = want.len() == g.points.len()
            && want
                .iter()
                .zip(&g.points)
                .all(|(w, a)| w.0 == a.0 && close(a.1, w.1));
        if !same {
            let first = want
                .iter()
                .zip(&g.points)
                .position(|(w, a)| w.0 != a.0 || !close(a.1, w.1))
                .unwrap_or(want.len().min(g.points.len()));
            let show = |p: Option<&(i64, Option<f64>)>| {
                p.map_or("(none)".into(), |&(t, v)| {
                    format!("{}:{}", fmt_offset(t - origin), fmt_value(v))
                })
            };
            problems.push(format!(
                "{at}: points differ: {} expected, {} actual; first difference: expected {}, actual {}",
                want.len(),
                g.points.len(),
                show(want.get(first)),
                show(g.points.get(first))
            ));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let actual: Vec<String> = got.iter().map(|s| fmt_actual(s, origin)).collect();
    Err(format!(
        "{}\n  actual answer:\n{}",
        problems.join("\n"),
        actual.join("\n")
    ))
}

// ---------------------------------------------------------------- formulas

fn formulas(ctx: &Ctx, rest: &str, body: &[(usize, &str)]) -> Result<(), String> {
    let mut range_toks = Vec::new();
    let mut interval_ms = None;
    for t in tokens(rest)? {
        match t.strip_prefix("interval=") {
            Some(v) => interval_ms = Some(parse_duration_ms(v)?),
            None => range_toks.push(t),
        }
    }
    let (from, to) = parse_range(&range_toks.join(" "), ctx)?;
    let mut queries = Vec::new();
    let mut forms = Vec::new();
    let mut expected = Vec::new();
    let mut want_err = None;
    let mut times: Option<(i64, usize)> = None;
    for &(lineno, line) in body {
        let (word, rest) = split_word(line);
        let err = |m: String| format!("line {lineno}: {m}");
        match word {
            "query" => {
                let t = tokens(rest)?;
                let [name, src] = t.as_slice() else {
                    return Err(err("expected: query <name> \"<query>\"".into()));
                };
                match whippet_ddql::parse_metric_query(src) {
                    Ok(q) => queries.push((name.clone(), src.clone(), q)),
                    Err(e) => {
                        return match want_err_in(body) {
                            Some(w) => expect_error(&QueryError::from(e), w),
                            None => Err(err(format!("query does not parse: {e}"))),
                        };
                    }
                }
            }
            "formula" => {
                let t = tokens(rest)?;
                let (src, opts) = t
                    .split_first()
                    .ok_or_else(|| err("expected: formula \"<formula>\"".into()))?;
                let mut limit = None;
                let mut descending = true;
                for o in opts {
                    match o.split_once('=') {
                        Some(("limit", n)) => {
                            limit = Some(
                                n.parse::<usize>()
                                    .map_err(|_| err(format!("bad limit `{n}`")))?,
                            )
                        }
                        Some(("order", "asc")) => descending = false,
                        Some(("order", "desc")) => descending = true,
                        _ => return Err(err(format!("unknown formula option `{o}`"))),
                    }
                }
                match whippet_ddql::parse_formula(src) {
                    Ok(f) => forms.push((
                        src.clone(),
                        f,
                        limit.map(|count| FormulaLimit { count, descending }),
                    )),
                    Err(e) => {
                        return match want_err_in(body) {
                            Some(w) => expect_error(&QueryError::from(e), w),
                            None => Err(err(format!("formula does not parse: {e}"))),
                        };
                    }
                }
            }
            "times" => {
                let t = tokens(rest)?;
                let [first, count] = t.as_slice() else {
                    return Err(err("expected: times @<offset> count=<n>".into()));
                };
                let off = parse_offset_ms(
                    first
                        .strip_prefix('@')
                        .ok_or_else(|| err("times @<offset>".into()))?,
                )?;
                let n = count
                    .strip_prefix("count=")
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| err("times ... count=<n>".into()))?;
                times = Some((off, n));
            }
            "error" => want_err = Some(rest.trim()),
            _ if word.starts_with('{') => expected.push(parse_expected(lineno, line)?),
            _ => return Err(err(format!("unknown line in a formulas block: `{word}`"))),
        }
    }
    let answer = ctx
        .query_engine()
        .query_formulas(ORG, &queries, &forms, from, to, interval_ms);
    if let Some(w) = want_err {
        return match answer {
            Err(e) => expect_error(&e, w),
            Ok(r) => Err(format!("expected an error, got {} series", r.series.len())),
        };
    }
    let r = answer.map_err(|e| format!("query failed: {e}"))?;
    let origin = ctx.origin();
    let interval = i64::from(r.interval_secs) * 1000;
    let mut problems = Vec::new();
    if let Some((off, n)) = times {
        let want: Vec<i64> = (0..n).map(|k| origin + off + k as i64 * interval).collect();
        if want != r.times {
            problems.push(format!(
                "times start at {} ({} of them), expected @{} count={n}",
                r.times
                    .first()
                    .map_or("-".into(), |t| fmt_offset(t - origin)),
                r.times.len(),
                fmt_offset(off)
            ));
        }
    }
    if r.series.len() != expected.len() {
        problems.push(format!(
            "{} series, expected {}",
            r.series.len(),
            expected.len()
        ));
    }
    for (s, e) in r.series.iter().zip(&expected) {
        if s.group_tags != e.tags {
            problems.push(format!(
                "line {}: group tags {:?}, expected {:?}",
                e.lineno, s.group_tags, e.tags
            ));
        }
        for (k, v) in &e.attrs {
            match k.as_str() {
                "index" if *v == s.query_index.to_string() => {}
                "index" => problems.push(format!(
                    "line {}: index {}, expected {v}",
                    e.lineno, s.query_index
                )),
                _ => problems.push(format!("line {}: unknown attribute `{k}`", e.lineno)),
            }
        }
        // Listed points must match; every other time must be null.
        let mut want: Vec<Option<f64>> = vec![None; r.times.len()];
        for &(slot, v) in &e.points {
            let ts = slot.ts(origin, interval);
            match r.times.iter().position(|&t| t == ts) {
                Some(i) => want[i] = v,
                None => problems.push(format!(
                    "line {}: no time {} in the answer",
                    e.lineno,
                    fmt_offset(ts - origin)
                )),
            }
        }
        if !want.iter().zip(&s.values).all(|(w, a)| close(*a, *w)) {
            let fmt = |v: &[Option<f64>]| {
                v.iter()
                    .map(|&x| fmt_value(x))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            problems.push(format!(
                "line {}: values differ (from @{})\n    expected {}\n    actual   {}",
                e.lineno,
                r.times
                    .first()
                    .map_or("-".into(), |t| fmt_offset(t - origin)),
                fmt(&want),
                fmt(&s.values)
            ));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let mut actual = String::new();
    for s in &r.series {
        let _ = writeln!(
            actual,
            "  {{{}}} index={} @{} {}",
            s.group_tags.join(","),
            s.query_index,
            r.times
                .first()
                .map_or("-".into(), |t| fmt_offset(t - origin)),
            s.values
                .iter()
                .map(|&x| fmt_value(x))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    Err(format!(
        "{}\n  actual answer (interval {} s):\n{actual}",
        problems.join("\n"),
        r.interval_secs
    ))
}

fn want_err_in<'a>(body: &[(usize, &'a str)]) -> Option<&'a str> {
    body.iter()
        .find_map(|&(_, l)| l.strip_prefix("error").map(str::trim))
}
