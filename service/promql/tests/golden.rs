//! The PromQL golden corpus: every `testdata/*.test` file loads series into
//! a fresh storage engine and checks what PromQL queries over them answer.
//! The format is described in `testdata/README.md` (close to Prometheus'
//! own `promql/testdata/*.test`).
//!
//! Each file runs twice: once with its data in the engine's in-memory head,
//! once with every load flushed and merged into parts, so both read paths
//! give the same answers. All failures are collected and reported together,
//! each with the file and line, and the actual answer in the corpus syntax
//! (check it by hand before pasting it).

use std::path::Path;

use whippet_golden::{Block, Mode, blocks, parse_duration_ms, run_corpus};

use whippet_promql::{EvalOptions, Labels, PromEngine, QueryValue};
use whippet_tsdb::time::DAY_MS;
use whippet_tsdb::{Clock, Engine, EngineConfig, FloatPoint, MetricType, OrgId, SeriesKey, TagSet};

const ORG: OrgId = OrgId(1);
/// The origin of every file: 2026-11-01T00:00:00Z.
const ORIGIN_MS: i64 = 1_793_491_200_000;
/// The engine's clock: 30 days after the origin, so that no loaded point is
/// in the future and retention (400 days) keeps them all.
const NOW_MS: i64 = ORIGIN_MS + 30 * DAY_MS;
/// Relative tolerance of value comparisons.
const TOLERANCE: f64 = 1e-6;
/// Bits of Prometheus' staleness marker.
const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

#[test]
fn golden_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    run_corpus(&dir, run_file);
}

struct Ctx {
    _dir: tempfile::TempDir,
    engine: Engine,
    flush: bool,
}

fn open(flush: bool) -> Ctx {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = EngineConfig {
        clock: Clock::manual(NOW_MS),
        background_tasks: false,
        retention_ms: 400 * DAY_MS,
        ..EngineConfig::default()
    };
    let engine = Engine::open(dir.path(), config).expect("open engine").0;
    Ctx {
        _dir: dir,
        engine,
        flush,
    }
}

fn run_file(name: &str, text: &str, mode: Mode) -> (usize, Vec<String>) {
    let mut ctx = open(mode == Mode::Parts);
    let mut cases = 0;
    let (blocks, mut fails) = blocks(name, text);
    for Block {
        lineno,
        head: line,
        body,
    } in blocks
    {
        let res = if let Some(rest) = line.strip_prefix("load ") {
            load(&mut ctx, rest, &body)
        } else if line == "clear" {
            ctx = open(ctx.flush);
            Ok(())
        } else if let Some(rest) = line.strip_prefix("eval ") {
            cases += 1;
            eval(&ctx, rest, &body)
        } else {
            Err(format!("unknown directive `{line}`"))
        };
        if let Err(e) = res {
            fails.push(format!("{name}:{lineno} ({}): {line}\n{e}\n", mode.name()));
        }
    }
    (cases, fails)
}

// ---------------------------------------------------------------- values

/// One value of a series line.
#[derive(Clone, Copy, Debug)]
enum Item {
    None,
    Value(f64),
}

fn parse_number(s: &str) -> Result<f64, String> {
    match s {
        "Inf" | "+Inf" | "inf" | "+inf" => Ok(f64::INFINITY),
        "-Inf" | "-inf" => Ok(f64::NEG_INFINITY),
        "NaN" | "nan" => Ok(f64::NAN),
        "stale" => Ok(f64::from_bits(STALE_NAN_BITS)),
        _ => s.parse().map_err(|_| format!("bad number `{s}`")),
    }
}

/// `v`, `_`, `stale`, `_xN` (N blanks), `axN` (N+1 times a), `a+bxN` /
/// `a-bxN` (N+1 values a, a+b, ...), as Prometheus' test files write them.
fn expand(tok: &str, out: &mut Vec<Item>) -> Result<(), String> {
    let (item, times) = match tok.rfind('x') {
        Some(p) if !tok[p + 1..].is_empty() && tok[p + 1..].bytes().all(|b| b.is_ascii_digit()) => {
            let n = tok[p + 1..].parse::<usize>().map_err(|e| e.to_string())?;
            (&tok[..p], Some(n))
        }
        _ => (tok, None),
    };
    if times.is_some_and(|n| n > 1_000_000) {
        return Err(format!("`{tok}` repeats too often"));
    }
    if item == "_" {
        out.extend(std::iter::repeat_n(Item::None, times.unwrap_or(1)));
        return Ok(());
    }
    let count = times.map_or(1, |n| n + 1);
    // a+b or a-b: the sign after the first character, not after an `e`.
    if let Some(p) = item
        .get(1..)
        .and_then(|r| r.find(['+', '-']))
        .map(|p| p + 1)
        && !item[..p].ends_with(['e', 'E'])
        && times.is_some()
    {
        let a = parse_number(&item[..p])?;
        let d = parse_number(&item[p..])?;
        out.extend((0..count).map(|k| Item::Value(a + d * k as f64)));
        return Ok(());
    }
    let v = parse_number(item)?;
    out.extend(std::iter::repeat_n(Item::Value(v), count));
    Ok(())
}

// ---------------------------------------------------------------- labels

/// `name{a="1", b="2"}`, `{a="1"}` or `name`: the name and label pairs, and
/// what follows.
/// A parsed series: its name, its label pairs, and the rest of the line.
type ParsedSeries<'a> = (Option<String>, Vec<(String, String)>, &'a str);

fn parse_labels(s: &str) -> Result<ParsedSeries<'_>, String> {
    let s = s.trim_start();
    let name_end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.' | '-')))
        .unwrap_or(s.len());
    let name = (name_end > 0).then(|| s[..name_end].to_owned());
    let rest = &s[name_end..];
    let Some(inner) = rest.strip_prefix('{') else {
        if name.is_none() {
            return Err(format!("expected a series, got `{s}`"));
        }
        return Ok((name, Vec::new(), rest));
    };
    let mut pairs = Vec::new();
    let mut chars = inner.char_indices().peekable();
    loop {
        while chars
            .peek()
            .is_some_and(|(_, c)| c.is_whitespace() || *c == ',')
        {
            chars.next();
        }
        let Some(&(p, c)) = chars.peek() else {
            return Err(format!("missing `}}` in `{s}`"));
        };
        if c == '}' {
            return Ok((name, pairs, &inner[p + 1..]));
        }
        let start = p;
        while chars.peek().is_some_and(|(_, c)| *c != '=') {
            chars.next();
        }
        let Some((eq, _)) = chars.next() else {
            return Err(format!("expected `=` in `{s}`"));
        };
        let key = inner[start..eq].trim().to_owned();
        if chars.next().map(|x| x.1) != Some('"') {
            return Err(format!("expected a quoted value in `{s}`"));
        }
        let mut val = String::new();
        loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => val.push('\n'),
                    Some((_, c)) => val.push(c),
                    None => return Err(format!("dangling escape in `{s}`")),
                },
                Some((_, '"')) => break,
                Some((_, c)) => val.push(c),
                None => return Err(format!("unterminated value in `{s}`")),
            }
        }
        pairs.push((key, val));
    }
}

/// `dd metric{tag,tag}`: the metric and its tags, and what follows.
fn parse_dd_series(s: &str) -> Result<(String, Vec<String>, &str), String> {
    let s = s.trim_start();
    let end = s.find(['{', ' ']).unwrap_or(s.len());
    let metric = s[..end].to_owned();
    let rest = &s[end..];
    if let Some(inner) = rest.strip_prefix('{') {
        let close = inner
            .find('}')
            .ok_or_else(|| format!("missing `}}` in `{s}`"))?;
        let tags = inner[..close]
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect();
        return Ok((metric, tags, &inner[close + 1..]));
    }
    Ok((metric, Vec::new(), rest))
}

fn load(ctx: &mut Ctx, rest: &str, body: &[(usize, &str)]) -> Result<(), String> {
    let step = parse_duration_ms(rest.trim())?;
    for &(lineno, line) in body {
        let err = |m: String| format!("line {lineno}: {m}");
        let (metric, tags, values) = if let Some(dd) = line.strip_prefix("dd ") {
            parse_dd_series(dd).map_err(err)?
        } else {
            let (name, pairs, values) = parse_labels(line).map_err(err)?;
            let name = name.ok_or_else(|| err("a loaded series needs a metric name".into()))?;
            let tags = pairs
                .into_iter()
                .filter(|(k, _)| k != "__name__")
                .map(|(k, v)| format!("{k}:{v}"))
                .collect();
            (name, tags, values)
        };
        let mut items = Vec::new();
        for tok in values.split_whitespace() {
            expand(tok, &mut items).map_err(err)?;
        }
        let key = SeriesKey::float(ORG, metric, TagSet::new(tags));
        let id = ctx
            .engine
            .resolve(&key, MetricType::Gauge)
            .map_err(|e| err(e.to_string()))?;
        let points: Vec<FloatPoint> = items
            .iter()
            .enumerate()
            .filter_map(|(k, it)| match it {
                Item::None => None,
                Item::Value(v) => Some(FloatPoint {
                    series: id,
                    ts: ORIGIN_MS + k as i64 * step,
                    value: *v,
                }),
            })
            .collect();
        let outcome = ctx
            .engine
            .append_floats(&points)
            .map_err(|e| err(e.to_string()))?;
        if let Some((i, why)) = outcome.rejected.first() {
            return Err(err(format!("point {i} rejected: {why:?}")));
        }
    }
    if ctx.flush {
        ctx.engine.flush().map_err(|e| e.to_string())?;
        ctx.engine.compact().map_err(|e| e.to_string())?;
    }
    Ok(())
}

// ---------------------------------------------------------------- eval

fn words(s: &str, n: usize) -> Result<(Vec<&str>, &str), String> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    for _ in 0..n {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        if end == 0 {
            return Err(format!("expected {n} words in `{s}`"));
        }
        out.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    Ok((out, rest))
}

fn prom(ctx: &Ctx) -> PromEngine {
    PromEngine::new(ctx.engine.clone(), EvalOptions::default())
}

fn eval(ctx: &Ctx, rest: &str, body: &[(usize, &str)]) -> Result<(), String> {
    let (w, _) = words(rest, 1)?;
    match w[0] {
        "instant" => {
            let (w, query) = words(rest, 3)?;
            if w[1] != "at" {
                return Err("expected: eval instant at <offset> <query>".into());
            }
            let t = ORIGIN_MS + parse_duration_ms(w[2])?;
            let got = prom(ctx)
                .instant_query(ORG, query, t)
                .map_err(|e| format!("query failed: {e}"))?;
            check_instant(query, &got, body)
        }
        "range" => {
            let (w, query) = words(rest, 7)?;
            if w[1] != "from" || w[3] != "to" || w[5] != "step" {
                return Err(
                    "expected: eval range from <offset> to <offset> step <dur> <query>".into(),
                );
            }
            let start = ORIGIN_MS + parse_duration_ms(w[2])?;
            let end = ORIGIN_MS + parse_duration_ms(w[4])?;
            let step = parse_duration_ms(w[6])?;
            let got = prom(ctx)
                .range_query(ORG, query, start, end, step)
                .map_err(|e| format!("query failed: {e}"))?;
            check_range(&got, start, end, step, body)
        }
        "error" => {
            let (query, want) = rest["error".len()..]
                .rsplit_once("=>")
                .ok_or("expected: eval error at <offset> <query> => <message>")?;
            let want = want.trim();
            let (w, query) = words(query, 1)?;
            let res = match w[0] {
                "at" => {
                    let (w, query) = words(query, 1)?;
                    let t = ORIGIN_MS + parse_duration_ms(w[0])?;
                    prom(ctx).instant_query(ORG, query.trim(), t).map(|_| ())
                }
                "range" => {
                    let (w, query) = words(query, 6)?;
                    let start = ORIGIN_MS + parse_duration_ms(w[1])?;
                    let end = ORIGIN_MS + parse_duration_ms(w[3])?;
                    let step = parse_duration_ms(w[5])?;
                    prom(ctx)
                        .range_query(ORG, query.trim(), start, end, step)
                        .map(|_| ())
                }
                _ => return Err("expected `eval error at` or `eval error range`".into()),
            };
            match res {
                Ok(()) => Err(format!("expected an error containing `{want}`, got none")),
                Err(e) if e.to_string().contains(want) => Ok(()),
                Err(e) => Err(format!("expected an error containing `{want}`, got `{e}`")),
            }
        }
        other => Err(format!("unknown eval kind `{other}`")),
    }
}

fn values_equal(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a == b {
        return true;
    }
    if a.is_infinite() || b.is_infinite() {
        return false;
    }
    (a - b).abs() <= TOLERANCE * a.abs().max(b.abs())
}

fn fmt_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

fn fmt_offset(t: i64) -> String {
    let d = t - ORIGIN_MS;
    if d % 1000 == 0 {
        format!("{}s", d / 1000)
    } else {
        format!("{d}ms")
    }
}

/// An expected series line: labels and the rest of the line.
fn expected_line(line: &str) -> Result<(Labels, &str), String> {
    let (name, pairs, rest) = parse_labels(line)?;
    let mut all = pairs;
    if let Some(n) = name {
        all.push(("__name__".into(), n));
    }
    Ok((Labels::new(all), rest.trim()))
}

/// True when the query's answer has an order to check: a top-level `sort`,
/// `sort_desc`, `topk` or `bottomk`.
fn is_ordered(query: &str) -> bool {
    let q = query.trim().trim_start_matches('(').trim_start();
    [
        "sort(",
        "sort_desc(",
        "topk",
        "bottomk",
        "sort (",
        "sort_desc (",
    ]
    .iter()
    .any(|p| q.starts_with(p))
}

fn check_instant(query: &str, got: &QueryValue, body: &[(usize, &str)]) -> Result<(), String> {
    match got {
        QueryValue::Scalar { v, .. } => {
            let [(_, line)] = body else {
                return Err(format!(
                    "got scalar {}, expected {} lines",
                    fmt_value(*v),
                    body.len()
                ));
            };
            let want = parse_number(line.trim())?;
            if values_equal(want, *v) {
                Ok(())
            } else {
                Err(format!("got scalar {}, want {line}", fmt_value(*v)))
            }
        }
        QueryValue::String { s, .. } => {
            let want = body.first().map(|(_, l)| l.trim().trim_matches('"'));
            if body.len() == 1 && want == Some(s.as_str()) {
                Ok(())
            } else {
                Err(format!("got string {s:?}"))
            }
        }
        QueryValue::Vector(v) => {
            let actual = || {
                v.iter()
                    .map(|s| format!("  {} {}", s.labels, fmt_value(s.v)))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let mut want = Vec::new();
            for &(lineno, line) in body {
                let (l, rest) = expected_line(line).map_err(|e| format!("line {lineno}: {e}"))?;
                want.push((
                    l,
                    parse_number(rest).map_err(|e| format!("line {lineno}: {e}"))?,
                ));
            }
            if want.len() != v.len() {
                return Err(format!(
                    "got {} samples, want {}; got:\n{}",
                    v.len(),
                    want.len(),
                    actual()
                ));
            }
            let ordered = is_ordered(query);
            let mut used = vec![false; v.len()];
            for (k, (l, x)) in want.iter().enumerate() {
                let found = if ordered {
                    (v[k].labels == *l && values_equal(v[k].v, *x)).then_some(k)
                } else {
                    (0..v.len())
                        .find(|&i| !used[i] && v[i].labels == *l && values_equal(v[i].v, *x))
                };
                match found {
                    Some(i) => used[i] = true,
                    None => {
                        return Err(format!(
                            "no sample {l} {} (in order: {ordered}); got:\n{}",
                            fmt_value(*x),
                            actual()
                        ));
                    }
                }
            }
            Ok(())
        }
        QueryValue::Matrix(m) => {
            let actual = || {
                m.iter()
                    .map(|s| {
                        let vals: Vec<String> = s
                            .samples
                            .iter()
                            .map(|p| format!("{}@{}", fmt_value(p.v), fmt_offset(p.t)))
                            .collect();
                        format!("  {} {}", s.labels, vals.join(" "))
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            if body.len() != m.len() {
                return Err(format!(
                    "got {} series, want {}; got:\n{}",
                    m.len(),
                    body.len(),
                    actual()
                ));
            }
            for &(lineno, line) in body {
                let (l, rest) = expected_line(line).map_err(|e| format!("line {lineno}: {e}"))?;
                let s = m
                    .iter()
                    .find(|s| s.labels == l)
                    .ok_or_else(|| format!("line {lineno}: no series {l}; got:\n{}", actual()))?;
                let toks: Vec<&str> = rest.split_whitespace().collect();
                let ok = toks.len() == s.samples.len()
                    && toks.iter().zip(&s.samples).all(|(tok, p)| {
                        let (v, at) = match tok.split_once('@') {
                            Some((v, at)) => (v, Some(at)),
                            None => (*tok, None),
                        };
                        parse_number(v).is_ok_and(|x| values_equal(x, p.v))
                            && at.is_none_or(|a| {
                                parse_duration_ms(a).is_ok_and(|d| ORIGIN_MS + d == p.t)
                            })
                    });
                if !ok {
                    return Err(format!(
                        "line {lineno}: series {l} differs; got:\n{}",
                        actual()
                    ));
                }
            }
            Ok(())
        }
    }
}

fn check_range(
    got: &QueryValue,
    start: i64,
    end: i64,
    step: i64,
    body: &[(usize, &str)],
) -> Result<(), String> {
    let QueryValue::Matrix(m) = got else {
        return Err(format!("a range query answered {got:?}"));
    };
    let n = usize::try_from((end - start) / step + 1).unwrap_or(0);
    let grid = |s: &whippet_promql::Series| -> Vec<Option<f64>> {
        let mut row = vec![None; n];
        for p in &s.samples {
            let k = usize::try_from((p.t - start) / step).unwrap_or(0);
            if k < n {
                row[k] = Some(p.v);
            }
        }
        row
    };
    let actual = || {
        m.iter()
            .map(|s| {
                let vals: Vec<String> = grid(s)
                    .iter()
                    .map(|v| v.map_or("_".into(), fmt_value))
                    .collect();
                format!("  {} {}", s.labels, vals.join(" "))
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    if body.len() != m.len() {
        return Err(format!(
            "got {} series, want {}; got:\n{}",
            m.len(),
            body.len(),
            actual()
        ));
    }
    for w in m.windows(2) {
        if w[0].labels > w[1].labels {
            return Err(format!(
                "the matrix is not sorted by labels; got:\n{}",
                actual()
            ));
        }
    }
    for &(lineno, line) in body {
        let (l, rest) = expected_line(line).map_err(|e| format!("line {lineno}: {e}"))?;
        let mut items = Vec::new();
        for tok in rest.split_whitespace() {
            expand(tok, &mut items).map_err(|e| format!("line {lineno}: {e}"))?;
        }
        if items.len() != n {
            return Err(format!(
                "line {lineno}: {} values for {n} steps",
                items.len()
            ));
        }
        let s = m
            .iter()
            .find(|s| s.labels == l)
            .ok_or_else(|| format!("line {lineno}: no series {l}; got:\n{}", actual()))?;
        let row = grid(s);
        let ok = items.iter().zip(&row).all(|(want, got)| match (want, got) {
            (Item::None, None) => true,
            (Item::Value(a), Some(b)) => values_equal(*a, *b),
            _ => false,
        });
        if !ok {
            return Err(format!(
                "line {lineno}: series {l} differs; got:\n{}",
                actual()
            ));
        }
    }
    Ok(())
}
