//! Request parameters of Prometheus' HTTP API, parsed as Prometheus 2.42
//! parses them (`web/api/v1/api.go`: `parseTime`, `parseDuration`,
//! `r.FormValue`, `r.Form["match[]"]`), with the same error texts.
//!
//! Owns: the form (URL query and `application/x-www-form-urlencoded` body),
//! times (`time`, `start`, `end`: Unix seconds with decimals or RFC 3339)
//! and durations (`step`, `timeout`: float seconds or `1h30m`). Never
//! decides what a missing parameter means to an endpoint (each handler
//! gives its default) and never touches the network.

/// Prometheus' earliest time (`minTime` in `api.go`: the earliest
/// `time.Time` whose Unix milliseconds fit an `int64`), in milliseconds.
/// A `start` that is absent means this.
pub const MIN_TIME_MS: i64 = (i64::MIN / 1000 + 62_135_596_801) * 1000;
/// Prometheus' latest time (`maxTime`), in milliseconds. An absent `end`
/// means this.
pub const MAX_TIME_MS: i64 = (i64::MAX / 1000 - 62_135_596_801) * 1000 + 999;

/// How Prometheus prints [`MIN_TIME_MS`] (`minTimeFormatted`); clients
/// that echo it back get the same time.
const MIN_TIME_TEXT: &str = "-292273086-05-16T16:47:06Z";
/// How Prometheus prints [`MAX_TIME_MS`] (`maxTimeFormatted`).
const MAX_TIME_TEXT: &str = "292277025-08-18T07:12:54.999999999Z";

const NS_PER_SEC: i64 = 1_000_000_000;
const NS_PER_MS: i64 = 1_000_000;

/// The parameters of one request: the body's form fields first, then the
/// URL query's, as Go's `Request.ParseForm` merges them (so a body value
/// wins over a URL value of the same name).
#[derive(Debug, Default, Clone)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// The form of a request: `body` (its urlencoded fields, when there is
    /// one) then `query` (the URL's query string, without `?`).
    pub fn new(body: Option<&[u8]>, query: Option<&str>) -> Form {
        let mut pairs = Vec::new();
        if let Some(b) = body {
            decode_into(b, &mut pairs);
        }
        if let Some(q) = query {
            decode_into(q.as_bytes(), &mut pairs);
        }
        Form { pairs }
    }

    /// The first value of `name`, or `""` when it is absent (Go's
    /// `FormValue`: absent and empty are the same).
    pub fn value(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `name`, in order (`match[]`).
    pub fn values(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// `a=1&b=x+y&c=%2F`: pairs split on `&`, names and values split at the
/// first `=`, `+` as space and `%XX` decoded; an empty piece is skipped, a
/// `%` not followed by two hex digits is kept as it is, and bytes that are
/// not UTF-8 become U+FFFD.
fn decode_into(raw: &[u8], out: &mut Vec<(String, String)>) {
    for piece in raw.split(|&b| b == b'&') {
        if piece.is_empty() {
            continue;
        }
        let (k, v) = match piece.iter().position(|&b| b == b'=') {
            Some(i) => (&piece[..i], &piece[i + 1..]),
            None => (piece, &[][..]),
        };
        out.push((unescape(k), unescape(v)));
    }
}

fn unescape(s: &[u8]) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' => {
                match (
                    s.get(i + 1).copied().and_then(hex),
                    s.get(i + 2).copied().and_then(hex),
                ) {
                    (Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Why a time or a duration does not parse: Prometheus' text for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError(pub String);

impl std::fmt::Display for ParamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A time parameter: Unix seconds as a decimal number (rounded to the
/// millisecond, as Prometheus rounds it) or RFC 3339 (`2023-11-14T22:13:20Z`,
/// `...20.5+01:00`; truncated to the millisecond), in milliseconds.
pub fn parse_time(s: &str) -> Result<i64, ParamError> {
    let bad = || ParamError(format!("cannot parse {} to a valid timestamp", go_quote(s)));
    if let Some(f) = go_float(s) {
        if !f.is_finite() {
            return Err(bad());
        }
        return float_time_ms(f).ok_or_else(bad);
    }
    match s {
        MIN_TIME_TEXT => return Ok(MIN_TIME_MS),
        MAX_TIME_TEXT => return Ok(MAX_TIME_MS),
        _ => {}
    }
    rfc3339_ms(s).ok_or_else(bad)
}

/// A time parameter that may be absent (`default` then), with the error
/// text of Prometheus' `parseTimeParam`.
pub fn parse_time_param(form: &Form, name: &str, default: i64) -> Result<i64, ParamError> {
    let v = form.value(name);
    if v.is_empty() {
        return Ok(default);
    }
    parse_time(v).map_err(|e| ParamError(format!("Invalid time value for '{name}': {e}")))
}

/// Seconds as Prometheus turns them into a time: whole seconds, and the
/// fraction rounded to milliseconds then made nanoseconds (`time.Unix`),
/// then milliseconds again (`timestamp.FromTime`).
fn float_time_ms(f: f64) -> Option<i64> {
    // Beyond this a time has no millisecond count in an i64.
    if f.abs() >= 9.2e15 {
        return None;
    }
    let secs = f.trunc();
    let frac = f - secs;
    let mut sec = secs as i64;
    let mut nsec = ((frac * 1000.0).round() / 1000.0 * NS_PER_SEC as f64) as i64;
    if !(0..NS_PER_SEC).contains(&nsec) {
        sec += nsec / NS_PER_SEC;
        nsec -= nsec / NS_PER_SEC * NS_PER_SEC;
        if nsec < 0 {
            nsec += NS_PER_SEC;
            sec -= 1;
        }
    }
    sec.checked_mul(1000)?.checked_add(nsec / NS_PER_MS)
}

/// Go's `strconv.ParseFloat` for what clients send: decimal numbers with
/// optional exponent, `Inf`, `NaN`. A number too large for an `f64` is an
/// error in Go (Rust would give infinity).
fn go_float(s: &str) -> Option<f64> {
    let f: f64 = s.parse().ok()?;
    if f.is_infinite() && !s.to_ascii_lowercase().contains("inf") {
        return None;
    }
    Some(f)
}

/// RFC 3339 as Go's `time.Parse(time.RFC3339Nano, ...)` reads it:
/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, fields checked against the
/// calendar; the fraction truncated to milliseconds.
fn rfc3339_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let year = num(0, 4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || b.get(10) != Some(&b'T') {
        return None;
    }
    let month = num(5, 2)?;
    let day = num(8, 2)?;
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }
    let (hour, min, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || min > 59
        || sec > 59
    {
        return None;
    }
    let mut i = 19;
    let mut frac_ms = 0i64;
    if matches!(b.get(i), Some(b'.' | b',')) {
        let start = i + 1;
        let mut end = start;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
        if end == start {
            return None;
        }
        // Milliseconds: the first three digits, padded with zeros.
        for k in 0..3 {
            frac_ms = frac_ms * 10
                + b.get(start + k)
                    .filter(|_| start + k < end)
                    .map_or(0, |d| i64::from(d - b'0'));
        }
        i = end;
    }
    let offset_secs = match b.get(i) {
        Some(b'Z') if i + 1 == b.len() => 0,
        Some(&c @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let (h, m) = (num(i + 1, 2)?, num(i + 4, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let o = h * 3600 + m * 60;
            if c == b'-' { -o } else { o }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + min * 60 + sec - offset_secs;
    Some(secs * 1000 + frac_ms)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar
/// (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A duration parameter (`step`, `timeout`) in nanoseconds, as Prometheus'
/// `parseDuration`: float seconds (`15`, `0.5`, truncated to the
/// nanosecond) or Prometheus' duration (`1m30s`, `2h`, `1d`, `1w`, `1y`,
/// `500ms`; units largest first, each at most once, no sign).
pub fn parse_duration(s: &str) -> Result<i64, ParamError> {
    if let Some(f) = go_float(s) {
        let ns = f * NS_PER_SEC as f64;
        if ns > i64::MAX as f64 || ns < i64::MIN as f64 {
            return Err(ParamError(format!(
                "cannot parse {} to a valid duration. It overflows int64",
                go_quote(s)
            )));
        }
        // Go converts NaN to the most negative duration: "zero or negative".
        return Ok(if ns.is_nan() { i64::MIN } else { ns as i64 });
    }
    prom_duration_ms(s)
        .and_then(|ms| ms.checked_mul(NS_PER_MS))
        .ok_or_else(|| ParamError(format!("cannot parse {} to a valid duration", go_quote(s))))
}

/// Prometheus' duration syntax (`model.ParseDuration`), in milliseconds.
fn prom_duration_ms(s: &str) -> Option<i64> {
    const UNITS: [(&str, i64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ];
    if s == "0" {
        return Some(0);
    }
    if s.is_empty() {
        return None;
    }
    let b = s.as_bytes();
    let mut i = 0;
    let mut next_unit = 0;
    let mut total: i64 = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        let n: i64 = s[start..i].parse().ok()?;
        let rest = &s[i..];
        // "ms" before "m": `5ms` is milliseconds, not minutes and a stray `s`.
        let unit = if rest.starts_with("ms") {
            6
        } else {
            UNITS
                .iter()
                .position(|(u, _)| u.len() == 1 && rest.starts_with(u))?
        };
        if unit < next_unit {
            return None;
        }
        next_unit = unit + 1;
        i += UNITS[unit].0.len();
        total = total.checked_add(n.checked_mul(UNITS[unit].1)?)?;
    }
    Some(total)
}

/// A string quoted as Go's `%q` quotes it (what Prometheus' messages
/// show): `"`, `\` and control characters escaped.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\x7f' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_merge_body_first_and_decode() {
        let f = Form::new(
            Some(b"query=sum(rate(x%5B5m%5D))+by+(a)&match%5B%5D=a&time=7"),
            Some("time=5&match[]=b&empty=&bare&%zz=1%"),
        );
        assert_eq!(f.value("query"), "sum(rate(x[5m])) by (a)");
        assert_eq!(f.value("time"), "7");
        assert_eq!(f.values("match[]"), ["a", "b"]);
        assert_eq!(f.value("empty"), "");
        assert_eq!(f.value("missing"), "");
        assert_eq!(f.values("bare"), [""]);
        assert_eq!(f.value("%zz"), "1%");
    }

    #[test]
    fn unix_times_round_to_the_millisecond_as_prometheus_does() {
        assert_eq!(parse_time("1700000000"), Ok(1_700_000_000_000));
        assert_eq!(parse_time("1700000000.12"), Ok(1_700_000_000_120));
        assert_eq!(parse_time("12.3456"), Ok(12_346));
        assert_eq!(parse_time("12.3454"), Ok(12_345));
        assert_eq!(parse_time("1e3"), Ok(1_000_000));
        assert_eq!(parse_time("-1.5"), Ok(-1500));
        // Prometheus 2.42 answers time() at these times with -1.234,
        // 12.345, 1700000000 and 0.002 (binary fractions round so).
        assert_eq!(parse_time("-1.2345"), Ok(-1234));
        assert_eq!(parse_time("12.3455"), Ok(12_345));
        assert_eq!(parse_time("1700000000.0005"), Ok(1_700_000_000_000));
        assert_eq!(parse_time("0.0015"), Ok(2));
        assert_eq!(parse_time(".5"), Ok(500));
    }

    #[test]
    fn rfc3339_times() {
        assert_eq!(parse_time("2023-11-14T22:13:20Z"), Ok(1_700_000_000_000));
        assert_eq!(
            parse_time("2023-11-14T22:13:20.123456+01:00"),
            Ok(1_699_996_400_123)
        );
        assert_eq!(
            parse_time("2023-11-14T22:13:20.5-00:30"),
            Ok(1_700_001_800_500)
        );
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_time("1969-12-31T23:59:59.9Z"), Ok(-100));
        assert_eq!(parse_time("2024-02-29T00:00:00Z"), Ok(1_709_164_800_000));
        assert_eq!(parse_time(MIN_TIME_TEXT), Ok(MIN_TIME_MS));
        assert_eq!(parse_time(MAX_TIME_TEXT), Ok(MAX_TIME_MS));
    }

    #[test]
    fn bad_times_say_what_prometheus_says() {
        for s in [
            "abc",
            "",
            " 12",
            "0x10",
            "2023-11-14",
            "2023-02-29T00:00:00Z",
            "2023-11-14T24:00:00Z",
            "2023-11-14T22:13:20",
            "2023-11-14t22:13:20Z",
            "2023-11-14T22:13:20.Z",
            "2023-11-14T22:13:20+0100",
            "1e400",
            "NaN",
            "Inf",
        ] {
            assert_eq!(
                parse_time(s),
                Err(ParamError(format!(
                    "cannot parse {} to a valid timestamp",
                    go_quote(s)
                ))),
                "{s}"
            );
        }
        let f = Form::new(None, Some("time=x"));
        assert_eq!(
            parse_time_param(&f, "time", 0).unwrap_err().0,
            r#"Invalid time value for 'time': cannot parse "x" to a valid timestamp"#
        );
        assert_eq!(parse_time_param(&f, "start", 42), Ok(42));
    }

    #[test]
    fn durations_in_both_forms() {
        let s = 1_000_000_000;
        assert_eq!(parse_duration("15"), Ok(15 * s));
        assert_eq!(parse_duration("0.5"), Ok(s / 2));
        assert_eq!(parse_duration("1m30s"), Ok(90 * s));
        assert_eq!(parse_duration("1s500ms"), Ok(1500 * s / 1000));
        assert_eq!(parse_duration("5ms"), Ok(5_000_000));
        assert_eq!(
            parse_duration("1y1w1d1h1m1s1ms"),
            Ok(((((365 + 7 + 1) * 24 + 1) * 60 + 1) * 60 + 1) * s + 1_000_000)
        );
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("-1"), Ok(-s));
        assert_eq!(parse_duration("NaN"), Ok(i64::MIN));
        for bad in ["", "-1m", "1s1m", "1m1m", "m", "1x", "1.5m", " 1m"] {
            assert_eq!(
                parse_duration(bad),
                Err(ParamError(format!(
                    "cannot parse {} to a valid duration",
                    go_quote(bad)
                ))),
                "{bad}"
            );
        }
        assert_eq!(
            parse_duration("1e19").unwrap_err().0,
            r#"cannot parse "1e19" to a valid duration. It overflows int64"#
        );
        assert!(parse_duration("300000y").is_err());
    }

    #[test]
    fn go_quoting() {
        assert_eq!(go_quote("a\"b\\c\n\u{1}é"), r#""a\"b\\c\n\x01é""#);
    }

    #[test]
    fn the_time_bounds_are_prometheus_own() {
        // minTime and maxTime of api.go, in milliseconds.
        assert_eq!(MIN_TIME_MS, -9_223_309_901_257_974_000);
        assert_eq!(MAX_TIME_MS, 9_223_309_901_257_974_999);
    }
}
