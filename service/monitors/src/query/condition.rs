//! The comparison that ends metric and event monitor queries: `> 90`.

use std::fmt;

use super::cursor::{Cursor, echo};
use super::error::QueryError;
use crate::comparator::Comparator;

/// The comparison that ends metric and event monitor queries: `> 90`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Condition {
    /// How the monitor's value is compared.
    pub comparator: Comparator,
    /// The number after the comparator, always finite (the API requires it
    /// to equal `options.thresholds.critical`).
    pub threshold: f64,
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.comparator, number(self.threshold))
    }
}

/// The message when a query ends without a comparison.
const MISSING_COMPARATOR: &str = "missing comparator: the query must end with a comparison to a threshold, like `> 90` (one of >, >=, <, <=, ==, !=)";

/// The error for a query that has no comparator where one should start,
/// at byte `at`.
pub(crate) fn missing_comparator(cur: &Cursor<'_>, at: usize) -> QueryError {
    if at >= cur.src.len() {
        QueryError::at(at, MISSING_COMPARATOR)
    } else {
        QueryError::at(
            at,
            format!(
                "expected a comparator (one of >, >=, <, <=, ==, !=), found {}",
                cur.found(at)
            ),
        )
    }
}

/// The comparator at byte `at` of `src`, if one starts there (the longest:
/// `>=` rather than `>`).
pub(crate) fn comparator_at(src: &str, at: usize) -> Option<Comparator> {
    let rest = src.as_bytes().get(at..)?;
    Comparator::ALL
        .into_iter()
        .find(|c| rest.starts_with(c.as_str().as_bytes()))
}

/// Reads `comparator number` from the cursor (whitespace allowed before
/// each), and requires the end of the query after it.
pub(crate) fn condition(cur: &mut Cursor<'_>) -> Result<Condition, QueryError> {
    cur.skip_ws();
    let Some(comparator) = comparator_at(cur.src, cur.pos) else {
        return Err(missing_comparator(cur, cur.pos));
    };
    cur.pos += comparator.as_str().len();
    threshold(cur, comparator)
}

/// Reads the threshold after `comparator` (already consumed) and requires
/// the end of the query after it.
pub(crate) fn threshold(
    cur: &mut Cursor<'_>,
    comparator: Comparator,
) -> Result<Condition, QueryError> {
    cur.skip_ws();
    let start = cur.pos;
    let rest = &cur.src[start..];
    let len = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
    let token = &rest[..len];
    if token.is_empty() {
        return Err(QueryError::at(
            start,
            format!(
                "missing threshold: expected a number after `{comparator}`, like `{comparator} 90`"
            ),
        ));
    }
    if !is_decimal(token) {
        return Err(QueryError::at(
            start,
            format!("threshold `{}` is not a number", echo(token)),
        ));
    }
    let threshold: f64 = match token.parse() {
        Ok(v) if f64::is_finite(v) => v,
        _ => {
            return Err(QueryError::at(
                start,
                format!("threshold `{}` is out of range", echo(token)),
            ));
        }
    };
    cur.pos = start + len;
    cur.skip_ws();
    if !cur.at_end() {
        return Err(QueryError::at(
            cur.pos,
            format!(
                "unexpected text after the threshold: `{}`",
                echo(&cur.src[cur.pos..])
            ),
        ));
    }
    Ok(Condition {
        comparator,
        threshold,
    })
}

/// True for a decimal number: `[+-] digits [. [digits]] [e [+-] digits]`
/// or `[+-] . digits [e ...]` (`90`, `0.5`, `-1`, `1e3`, `.5`). Rust's
/// `f64::from_str` alone would also take `inf` and `NaN`, which are not
/// thresholds.
fn is_decimal(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let mut mantissa = digits(&mut i);
    if b.get(i) == Some(&b'.') {
        i += 1;
        mantissa += digits(&mut i);
    }
    if mantissa == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// A number as [`is_decimal`] and `f64::from_str` read it back exactly:
/// the shortest decimal that round-trips, in exponent form outside
/// `1e-5 ..= 1e16` (so `1e300` does not print as 301 digits).
pub(crate) fn number(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && a.is_finite() && !(1e-5..1e16).contains(&a) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Condition, QueryError> {
        condition(&mut Cursor::new(text))
    }

    #[test]
    fn numbers() {
        for (text, v) in [
            ("90", 90.0),
            ("0.5", 0.5),
            ("-1", -1.0),
            ("1e3", 1000.0),
            ("+2", 2.0),
            (".5", 0.5),
            ("5.", 5.0),
            ("1.5E-3", 0.0015),
        ] {
            assert_eq!(parse(&format!("> {text}")).unwrap().threshold, v, "{text}");
        }
        for bad in [
            "inf", "NaN", "1e", "--1", "1.2.3", "0x10", "e5", ".", "-", "1_000",
        ] {
            assert_eq!(
                parse(&format!(">= {bad}")).unwrap_err(),
                QueryError::at(3, format!("threshold `{bad}` is not a number")),
            );
        }
        assert_eq!(
            parse("< 1e999").unwrap_err().message,
            "threshold `1e999` is out of range"
        );
    }

    #[test]
    fn comparators_and_missing_parts() {
        assert_eq!(
            parse(">=1").unwrap(),
            Condition {
                comparator: Comparator::Ge,
                threshold: 1.0
            }
        );
        assert_eq!(parse("!= 0").unwrap().comparator, Comparator::Ne);
        assert_eq!(
            parse("> ").unwrap_err(),
            QueryError::at(
                2,
                "missing threshold: expected a number after `>`, like `> 90`"
            )
        );
        assert_eq!(
            parse("").unwrap_err(),
            QueryError::at(0, MISSING_COMPARATOR)
        );
        assert_eq!(
            parse("= 5").unwrap_err().to_string(),
            "expected a comparator (one of >, >=, <, <=, ==, !=), found `=` at position 0"
        );
        assert_eq!(
            parse("> 5 6").unwrap_err(),
            QueryError::at(4, "unexpected text after the threshold: `6`")
        );
    }

    #[test]
    fn numbers_print_back_exactly() {
        for v in [
            90.0, 0.5, -1.0, 1e300, 1.5e-7, 123456.789, -0.0, 1e16, 9.99e15,
        ] {
            let text = number(v);
            assert!(is_decimal(&text), "{text}");
            assert_eq!(text.parse::<f64>().unwrap(), v);
        }
        assert_eq!(number(1e300), "1e300");
        assert_eq!(number(90.0), "90");
    }
}
