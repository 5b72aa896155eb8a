//! Runs the three entry points on arbitrary text. None may panic, and every
//! tree they return must print to text that parses back to the same tree
//! (spans aside), with spans inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use whippet_ddql::{Expr, MAX_QUERY_BYTES, parse_formula, parse_metric_query, parse_request};

/// Printing may lengthen the text (spaces around operators, `1e15` printed
/// in full); a print beyond the size limit cannot be parsed back, by design.
fn fits(printed: &str) -> bool {
    printed.len() <= MAX_QUERY_BYTES
}

fn check_spans(e: &Expr, src: &str) {
    let s = e.span();
    assert!(s.start < s.end && src.get(s.start..s.end).is_some(), "span {s:?} of {e:?} in {src:?}");
    match e {
        Expr::Binary { lhs, rhs, .. } => {
            check_spans(lhs, src);
            check_spans(rhs, src);
        }
        Expr::Neg { expr, .. } => check_spans(expr, src),
        Expr::Call { arg, .. } => check_spans(arg, src),
        Expr::Query(_) | Expr::Number { .. } | Expr::Ref { .. } => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    match parse_request(src) {
        Ok(r) => {
            r.exprs.iter().for_each(|e| check_spans(e, src));
            let printed = r.to_string();
            if fits(&printed) {
                let again = parse_request(&printed).unwrap_or_else(|e| panic!("{printed:?} from {src:?}: {e}"));
                assert_eq!(again.without_spans(), r.without_spans(), "{src:?} printed as {printed:?}");
            }
        }
        Err(e) => assert!(e.position <= src.len().max(MAX_QUERY_BYTES)),
    }
    match parse_formula(src) {
        Ok(f) => {
            check_spans(&f, src);
            let printed = f.to_string();
            if fits(&printed) {
                let again = parse_formula(&printed).unwrap_or_else(|e| panic!("{printed:?} from {src:?}: {e}"));
                assert_eq!(again.without_spans(), f.without_spans(), "{src:?} printed as {printed:?}");
            }
        }
        Err(e) => assert!(e.position <= src.len().max(MAX_QUERY_BYTES)),
    }
    match parse_metric_query(src) {
        Ok(q) => {
            assert!(src.get(q.span.start..q.span.end).is_some());
            let printed = q.to_string();
            if fits(&printed) {
                let again = parse_metric_query(&printed).unwrap_or_else(|e| panic!("{printed:?} from {src:?}: {e}"));
                assert_eq!(again.without_spans(), q.without_spans(), "{src:?} printed as {printed:?}");
            }
        }
        Err(e) => assert!(e.position <= src.len().max(MAX_QUERY_BYTES)),
    }
});
