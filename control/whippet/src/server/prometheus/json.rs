//! Prometheus' JSON, byte for byte as Prometheus 2.42 writes it.
//!
//! Owns the envelope (`{"status":"success","data":...}`, warnings, errors)
//! and the encodings of values, which differ by place, as in Prometheus:
//! - a vector's or matrix's sample (`jsonutil.MarshalTimestamp`,
//!   `MarshalValue`): the time as whole seconds and, when not whole, a dot
//!   and exactly three digits (`1700000000.120`); the value as Go's
//!   `FormatFloat(v, 'f', -1)`, except exponent form (`'e'`) below 1e-6 and
//!   from 1e21 on (`"1e-07"`, `"1e+21"`);
//! - a scalar or string result (`promql.Scalar.MarshalJSON`): the time as a
//!   float (`1700000000.12`) and the value always in `'f'` form
//!   (`"1000000000000000000000"`);
//! - non-finite values as `"NaN"`, `"+Inf"`, `"-Inf"`;
//! - strings escaped as Go's `encoding/json` escapes them: `<`, `>`, `&`,
//!   U+2028 and U+2029 as `\u` escapes, control characters other than
//!   `\n`, `\r`, `\t` as `\u00xx`.
//!
//! These were checked against Prometheus 2.42.0 (Debian's package) for the
//! same queries; the tests below hold those bytes. Never decides what to
//! answer, only how it is written.

use whippet_promql::{InstantSample, Labels, QueryValue, Series};

/// A JSON string, escaped as Go's `encoding/json` escapes it.
pub fn string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let mut run = 0;
    for (i, c) in s.char_indices() {
        let esc: Option<&[u8]> = match c {
            '"' => Some(b"\\\""),
            '\\' => Some(b"\\\\"),
            '\n' => Some(b"\\n"),
            '\r' => Some(b"\\r"),
            '\t' => Some(b"\\t"),
            '<' => Some(b"\\u003c"),
            '>' => Some(b"\\u003e"),
            '&' => Some(b"\\u0026"),
            '\u{2028}' => Some(b"\\u2028"),
            '\u{2029}' => Some(b"\\u2029"),
            c if (c as u32) < 0x20 => Some(b""),
            _ => None,
        };
        if let Some(e) = esc {
            out.extend_from_slice(&s.as_bytes()[run..i]);
            if e.is_empty() {
                let b = c as u8;
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            } else {
                out.extend_from_slice(e);
            }
            run = i + c.len_utf8();
        }
    }
    out.extend_from_slice(&s.as_bytes()[run..]);
    out.push(b'"');
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)` (the shortest text that
/// reads back as `v`, never in exponent form), with Go's spellings of the
/// non-finite values.
pub fn go_float_f(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        // Rust's Display is the shortest round-trip text, without exponent.
        format!("{v}")
    }
}

/// Go's `strconv.FormatFloat(v, 'e', -1, 64)`: `1e-07`, `1.5e+21` (the
/// exponent signed, at least two digits).
fn go_float_e(v: f64) -> String {
    let s = format!("{v:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    format!("{mantissa}e{sign}{digits:0>2}")
}

/// A sample's value as Prometheus' `jsonutil.MarshalValue` writes it
/// (quoted).
pub fn sample_value(out: &mut Vec<u8>, v: f64) {
    let abs = v.abs();
    let text = if abs != 0.0 && v.is_finite() && !(1e-6..1e21).contains(&abs) {
        go_float_e(v)
    } else {
        go_float_f(v)
    };
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
}

/// A sample's time (milliseconds) as `jsonutil.MarshalTimestamp` writes it.
pub fn sample_time(out: &mut Vec<u8>, t_ms: i64) {
    let mut b = itoa::Buffer::new();
    if t_ms < 0 {
        out.push(b'-');
    }
    let t = t_ms.unsigned_abs();
    out.extend_from_slice(b.format(t / 1000).as_bytes());
    let frac = t % 1000;
    if frac != 0 {
        out.push(b'.');
        if frac < 100 {
            out.push(b'0');
        }
        if frac < 10 {
            out.push(b'0');
        }
        out.extend_from_slice(b.format(frac).as_bytes());
    }
}

/// `{"name":"value",...}`, names in their (sorted) order.
pub fn labels(out: &mut Vec<u8>, l: &Labels) {
    out.push(b'{');
    for (i, (k, v)) in l.pairs().iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, k);
        out.push(b':');
        string(out, v);
    }
    out.push(b'}');
}

/// `[time,"value"]` of a vector's or matrix's sample.
fn point(out: &mut Vec<u8>, t: i64, v: f64) {
    out.push(b'[');
    sample_time(out, t);
    out.push(b',');
    sample_value(out, v);
    out.push(b']');
}

/// `{"resultType":...,"result":...}` of a query.
pub fn query_data(out: &mut Vec<u8>, value: &QueryValue) {
    let scalar_time = |out: &mut Vec<u8>, t: i64| {
        // Go's encoding/json of float64(t)/1000: shortest text, no exponent
        // for any time in range.
        out.extend_from_slice(go_float_f(t as f64 / 1000.0).as_bytes());
    };
    match value {
        QueryValue::Scalar { t, v } => {
            out.extend_from_slice(br#"{"resultType":"scalar","result":["#);
            scalar_time(out, *t);
            out.extend_from_slice(b",\"");
            out.extend_from_slice(go_float_f(*v).as_bytes());
            out.extend_from_slice(b"\"]}");
        }
        QueryValue::String { t, s } => {
            out.extend_from_slice(br#"{"resultType":"string","result":["#);
            scalar_time(out, *t);
            out.push(b',');
            string(out, s);
            out.extend_from_slice(b"]}");
        }
        QueryValue::Vector(samples) => {
            out.extend_from_slice(br#"{"resultType":"vector","result":["#);
            for (i, InstantSample { labels: l, t, v }) in samples.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(br#"{"metric":"#);
                labels(out, l);
                out.extend_from_slice(br#","value":"#);
                point(out, *t, *v);
                out.push(b'}');
            }
            out.extend_from_slice(b"]}");
        }
        QueryValue::Matrix(series) => {
            out.extend_from_slice(br#"{"resultType":"matrix","result":["#);
            for (i, Series { labels: l, samples }) in series.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(br#"{"metric":"#);
                labels(out, l);
                out.extend_from_slice(br#","values":["#);
                for (j, s) in samples.iter().enumerate() {
                    if j > 0 {
                        out.push(b',');
                    }
                    point(out, s.t, s.v);
                }
                out.extend_from_slice(b"]}");
            }
            out.extend_from_slice(b"]}");
        }
    }
}

/// A rough size of a query's answer, to size the buffer once.
pub fn size_hint(value: &QueryValue) -> usize {
    const PER_POINT: usize = 32;
    const PER_SERIES: usize = 128;
    match value {
        QueryValue::Scalar { .. } => 96,
        QueryValue::String { s, .. } => 96 + s.len(),
        QueryValue::Vector(v) => 64 + v.len() * (PER_SERIES + PER_POINT),
        QueryValue::Matrix(m) => {
            64 + m
                .iter()
                .map(|s| PER_SERIES + s.samples.len() * PER_POINT)
                .sum::<usize>()
        }
    }
}

/// `["a","b"]`.
pub fn string_list(out: &mut Vec<u8>, items: &[String]) {
    out.push(b'[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, s);
    }
    out.push(b']');
}

/// The success envelope around `data` (already written JSON), with
/// `warnings` only when there are some.
pub fn success(data: &[u8], warnings: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 40);
    out.extend_from_slice(br#"{"status":"success","data":"#);
    out.extend_from_slice(data);
    if !warnings.is_empty() {
        out.extend_from_slice(br#","warnings":"#);
        string_list(&mut out, warnings);
    }
    out.push(b'}');
    out
}

/// The error envelope: `{"status":"error","errorType":...,"error":...}`.
pub fn error(error_type: &str, message: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 64);
    out.extend_from_slice(br#"{"status":"error","errorType":"#);
    string(&mut out, error_type);
    out.extend_from_slice(br#","error":"#);
    string(&mut out, message);
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use whippet_promql::Sample;

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    fn vector(labels: Labels, t: i64, v: f64) -> String {
        text(|o| query_data(o, &QueryValue::Vector(vec![InstantSample { labels, t, v }])))
    }

    #[test]
    fn sample_values_as_prometheus_writes_them() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (-0.0, "-0"),
            (0.0, "0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e-7, "1e-07"),
            (1e-6, "0.000001"),
            (-2.5e-300, "-2.5e-300"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e300, "1.5e+300"),
            (123_456_789_012_345_678.0, "123456789012345680"),
            (1_700_000_000.5, "1700000000.5"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
        ];
        for &(v, want) in cases {
            assert_eq!(text(|o| sample_value(o, v)), format!("\"{want}\""), "{v:e}");
        }
    }

    #[test]
    fn sample_times_keep_three_decimals() {
        for (t, want) in [
            (1_700_000_000_120, "1700000000.120"),
            (1_700_000_000_000, "1700000000"),
            (1_700_000_000_005, "1700000000.005"),
            (1_700_000_000_050, "1700000000.050"),
            (0, "0"),
            (-1500, "-1.500"),
            (-1000, "-1"),
        ] {
            assert_eq!(text(|o| sample_time(o, t)), want);
        }
    }

    #[test]
    fn strings_escape_as_go_does() {
        // Prometheus 2.42 answered label_replace(vector(1),"a",<this>,"","")
        // with these bytes.
        assert_eq!(
            text(|o| string(o, "<&>\n\u{1}é\u{2028}")),
            r#""\u003c\u0026\u003e\n\u0001é\u2028""#
        );
        assert_eq!(
            text(|o| string(o, "\u{8}\u{c}\t\r\u{7f}\u{2029}'\"\\")),
            "\"\\u0008\\u000c\\t\\r\u{7f}\\u2029'\\\"\\\\\""
        );
        assert_eq!(text(|o| string(o, "")), r#""""#);
    }

    #[test]
    fn query_results_in_each_shape() {
        // Bytes of Prometheus 2.42 for the same results.
        assert_eq!(
            vector(Labels::default(), 1_700_000_000_120, 1e-7),
            r#"{"resultType":"vector","result":[{"metric":{},"value":[1700000000.120,"1e-07"]}]}"#
        );
        assert_eq!(
            vector(
                Labels::new([("job", "x"), ("__name__", "up")]),
                1_700_000_000_000,
                1.0
            ),
            r#"{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"x"},"value":[1700000000,"1"]}]}"#
        );
        assert_eq!(
            text(|o| query_data(o, &QueryValue::Vector(vec![]))),
            r#"{"resultType":"vector","result":[]}"#
        );
        assert_eq!(
            text(|o| query_data(
                o,
                &QueryValue::Scalar {
                    t: 1_700_000_000_120,
                    v: 1e21
                }
            )),
            r#"{"resultType":"scalar","result":[1700000000.12,"1000000000000000000000"]}"#
        );
        assert_eq!(
            text(|o| query_data(
                o,
                &QueryValue::Scalar {
                    t: -1500,
                    v: f64::NAN
                }
            )),
            r#"{"resultType":"scalar","result":[-1.5,"NaN"]}"#
        );
        assert_eq!(
            text(|o| query_data(
                o,
                &QueryValue::String {
                    t: 1_700_000_000_120,
                    s: "str".into()
                }
            )),
            r#"{"resultType":"string","result":[1700000000.12,"str"]}"#
        );
        let m = QueryValue::Matrix(vec![Series {
            labels: Labels::default(),
            samples: [0, 500, 1000, 1500]
                .iter()
                .map(|&d| Sample {
                    t: 1_700_000_000_000 + d,
                    v: (1_700_000_000_000 + d) as f64 / 1000.0,
                })
                .collect(),
        }]);
        assert_eq!(
            text(|o| query_data(o, &m)),
            r#"{"resultType":"matrix","result":[{"metric":{},"values":[[1700000000,"1700000000"],[1700000000.500,"1700000000.5"],[1700000001,"1700000001"],[1700000001.500,"1700000001.5"]]}]}"#
        );
        assert!(size_hint(&m) >= 4 * 20);
    }

    #[test]
    fn envelopes() {
        assert_eq!(
            String::from_utf8(success(b"[]", &[])).unwrap(),
            r#"{"status":"success","data":[]}"#
        );
        assert_eq!(
            String::from_utf8(success(b"{}", &["w <1>".into()])).unwrap(),
            r#"{"status":"success","data":{},"warnings":["w \u003c1\u003e"]}"#
        );
        assert_eq!(
            String::from_utf8(error(
                "bad_data",
                r#"invalid parameter "query": 1:16: parse error: unclosed left parenthesis"#
            ))
            .unwrap(),
            r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:16: parse error: unclosed left parenthesis"}"#
        );
    }
}
