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
#[cfg(test)]
pub fn go_float_f(v: f64) -> String {
    let mut out = Vec::new();
    write_float_f(&mut out, v);
    String::from_utf8(out).expect("ASCII")
}

/// The largest `|v| * 10^k` the exact-decimal path of [`write_float_f`]
/// takes: below 2^50 the value's rounding interval (half an ulp either
/// side, at most `|v| * 2^-53`) spans under a quarter of `10^-k`, so at
/// most one number of `k` decimals reads back as `v`, and `v * 10^k`
/// computed in floating point is within 1/4 of that number, so rounding
/// it finds it whenever it exists.
const EXACT_SCALED_MAX: f64 = (1u64 << 50) as f64;

/// Powers of ten up to 10^6, all exact in an `f64`: the exact-decimal
/// path tries at most six decimals (stored samples rarely have more), so
/// that a value with none short enough (an average, a rate: about 17
/// digits) loses only ~10 ns in the attempt before `Display` (~60 ns);
/// a value it takes costs ~30 ns instead of ~60 ns (rustc -O, this
/// machine, 2026-11-27).
const POW10: [f64; 7] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6];

/// Appends [`go_float_f`]'s text of `v` without allocating. Values that
/// are `m / 10^k` for an integer `m` below 2^50 (whole numbers, and
/// samples stored with a few decimals) are written from `m` with `itoa`;
/// the fewest decimals that read back as `v` are the shortest text, and
/// `m / 10^k` (both exact) rounds as parsing the text does. Others go
/// through Rust's `Display`, the shortest round-trip text without exponent,
/// which is what Go writes.
fn write_float_f(out: &mut Vec<u8>, v: f64) {
    use std::io::Write as _;
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
        return;
    }
    let abs = v.abs();
    // Zero keeps its sign through Display ("-0"), as in Go.
    if abs != 0.0 {
        for (k, &p) in POW10.iter().enumerate() {
            let scaled = abs * p;
            if scaled >= EXACT_SCALED_MAX {
                break;
            }
            // The nearest integer by a cast (exact: `scaled + 0.5` is below
            // 2^51), not `f64::round`, which is a libm call on x86-64.
            let m = (scaled + 0.5) as u64;
            let mf = m as f64;
            // A number of `k` decimals that reads back as `v` is within
            // 1/4 of `scaled` (see EXACT_SCALED_MAX): others need no
            // division to be refused.
            if (scaled - mf).abs() <= 0.25 && mf / p == abs {
                write_decimal(out, v < 0.0, m, k);
                return;
            }
        }
    }
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{v}");
}

/// `m / 10^k` as plain decimal text: `12.5`, `0.005`, `-3`.
fn write_decimal(out: &mut Vec<u8>, negative: bool, m: u64, k: usize) {
    if negative {
        out.push(b'-');
    }
    let mut b = itoa::Buffer::new();
    let digits = b.format(m).as_bytes();
    if k == 0 {
        out.extend_from_slice(digits);
    } else if digits.len() > k {
        let (int, frac) = digits.split_at(digits.len() - k);
        out.extend_from_slice(int);
        out.push(b'.');
        out.extend_from_slice(frac);
    } else {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + (k - digits.len()), b'0');
        out.extend_from_slice(digits);
    }
}

/// Go's `strconv.FormatFloat(v, 'e', -1, 64)`: `1e-07`, `1.5e+21` (the
/// exponent signed, at least two digits). Only for finite values outside
/// `'f'`'s range in answers, which are rare: allocates.
fn write_float_e(out: &mut Vec<u8>, v: f64) {
    let s = format!("{v:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => (b'-', d),
        None => (b'+', exp),
    };
    out.extend_from_slice(mantissa.as_bytes());
    out.push(b'e');
    out.push(sign);
    if digits.len() < 2 {
        out.push(b'0');
    }
    out.extend_from_slice(digits.as_bytes());
}

/// A sample's value as Prometheus' `jsonutil.MarshalValue` writes it
/// (quoted).
pub fn sample_value(out: &mut Vec<u8>, v: f64) {
    let abs = v.abs();
    out.push(b'"');
    if abs != 0.0 && v.is_finite() && !(1e-6..1e21).contains(&abs) {
        write_float_e(out, v);
    } else {
        write_float_f(out, v);
    }
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
        write_float_f(out, t as f64 / 1000.0);
    };
    match value {
        QueryValue::Scalar { t, v } => {
            out.extend_from_slice(br#"{"resultType":"scalar","result":["#);
            scalar_time(out, *t);
            out.extend_from_slice(b",\"");
            write_float_f(out, *v);
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
    // `[1795750980.120,"47.312345678912345"],` is 38 bytes: rarely more.
    const PER_POINT: usize = 40;
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

/// A buffer of `capacity` holding the start of the success envelope, for
/// the data to be written straight after it and [`success_end`] to close:
/// large answers are written once, never copied into an envelope.
pub fn success_start(capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(SUCCESS_START.len() + capacity + 1);
    out.extend_from_slice(SUCCESS_START);
    out
}

/// Closes what [`success_start`] opened (no warnings).
pub fn success_end(out: &mut Vec<u8>) {
    out.push(b'}');
}

const SUCCESS_START: &[u8] = br#"{"status":"success","data":"#;

/// The success envelope around `data` (already written JSON), with
/// `warnings` only when there are some.
pub fn success(data: &[u8], warnings: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 40);
    out.extend_from_slice(SUCCESS_START);
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
            (42.137, "42.137"),
            (-0.005, "-0.005"),
            (1.0 / 3.0, "0.3333333333333333"),
            (2e-6, "0.000002"),
            (9.999_999e-7, "9.999999e-07"),
            (123_456.0, "123456"),
            (1_125_899_906_842_624.0, "1125899906842624"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
        ];
        for &(v, want) in cases {
            assert_eq!(text(|o| sample_value(o, v)), format!("\"{want}\""), "{v:e}");
        }
    }

    #[test]
    fn floats_are_rusts_shortest_text_on_both_paths() {
        // The exact-decimal path must write what Display writes (the text
        // Go's 'f' form has): every kind of value, on both sides of its
        // limits.
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut values = vec![
            0.1,
            0.3,
            1e-6,
            5e-324,
            0.000_001_5,
            0.099_999_999_999_999_99,
            2.5,
            1e15,
            1e16,
            (1u64 << 50) as f64,
            ((1u64 << 50) - 1) as f64,
            ((1u64 << 53) + 2) as f64,
            1_125_899_906_842.623,
            112_589_990_684.262_3,
            9_007_199_254_740_993.0,
            1_795_750_980.12,
            42.137,
            1e-15,
            1.234_567_890_123_45e-10,
            f64::MAX,
            f64::MIN_POSITIVE,
        ];
        for _ in 0..200_000 {
            let r = next();
            let k = (r % 18) as i32;
            let m = (next() % 100_000_000_000_000_000) >> (next() % 60);
            // Decimals of up to 17 places, integers, arbitrary bits.
            values.push(m as f64 / 10f64.powi(k));
            values.push(m as f64);
            values.push(f64::from_bits(next()));
            values.push((next() % 1_000_000) as f64 / 1000.0 / 7.0);
        }
        for v in values {
            for v in [v, -v] {
                if v.is_finite() {
                    assert_eq!(go_float_f(v), format!("{v}"), "{v:e}");
                }
            }
        }
    }

    #[test]
    fn success_envelope_written_in_place_equals_the_copied_one() {
        let mut out = success_start(4);
        out.extend_from_slice(b"[1]");
        success_end(&mut out);
        assert_eq!(out, success(b"[1]", &[]));
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
