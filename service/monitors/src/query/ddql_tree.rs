//! Walks over `whippet_ddql` expression trees: the metric queries they
//! hold, their spans, their canonical spelling.
//!
//! Every walk recurses once per tree level; `whippet_ddql` caps the height
//! of the trees it produces at `whippet_ddql::MAX_DEPTH`, so the recursion
//! is bounded.

use whippet_ddql::{Expr, MetricQuery, Span};

/// Calls `f` on every metric query in `expr`, left to right.
pub(crate) fn for_each_query<'a>(expr: &'a Expr, f: &mut impl FnMut(&'a MetricQuery)) {
    match expr {
        Expr::Query(q) => f(q),
        Expr::Number { .. } | Expr::Ref { .. } => {}
        Expr::Binary { lhs, rhs, .. } => {
            for_each_query(lhs, f);
            for_each_query(rhs, f);
        }
        Expr::Neg { expr, .. } => for_each_query(expr, f),
        Expr::Call { arg, .. } => for_each_query(arg, f),
    }
}

/// Calls `f` on every metric query in `expr`, mutably, and on every span
/// through `g`.
fn visit_mut(expr: &mut Expr, f: &mut impl FnMut(&mut MetricQuery), g: &mut impl FnMut(&mut Span)) {
    match expr {
        Expr::Query(q) => {
            g(&mut q.span);
            f(q);
        }
        Expr::Number { span, .. } | Expr::Ref { span, .. } => g(span),
        Expr::Binary { lhs, rhs, span, .. } => {
            g(span);
            visit_mut(lhs, f, g);
            visit_mut(rhs, f, g);
        }
        Expr::Neg { expr, span } => {
            g(span);
            visit_mut(expr, f, g);
        }
        Expr::Call { arg, span, .. } => {
            g(span);
            visit_mut(arg, f, g);
        }
    }
}

/// Moves every span of `expr` `offset` bytes later: ddql parsed the
/// expression on its own, and its spans should point into the whole
/// monitor query.
pub(crate) fn shift_spans(expr: &mut Expr, offset: usize) {
    visit_mut(expr, &mut |_| {}, &mut |span| {
        span.start += offset;
        span.end += offset;
    });
}

/// The expression's text with each scope printed from its parsed form
/// rather than as the user spelled it (`{env:prod,role:web}` for
/// `{ env:prod , role:web }`), so that equal filters print equally.
pub(crate) fn canonical_text(expr: &Expr) -> String {
    let mut copy = expr.clone();
    visit_mut(&mut copy, &mut |q| q.scope_text.clear(), &mut |_| {});
    copy.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Expr {
        whippet_ddql::parse_request(text).unwrap().exprs.remove(0)
    }

    #[test]
    fn visits_queries_in_order_and_shifts_spans() {
        let mut e = parse("sum:a{*} by {host} / abs(sum:b{x:y})");
        let mut names = Vec::new();
        for_each_query(&e, &mut |q| names.push(q.metric.clone()));
        assert_eq!(names, ["a", "b"]);
        shift_spans(&mut e, 10);
        assert_eq!(e.span(), Span { start: 10, end: 46 });
        let mut starts = Vec::new();
        for_each_query(&e, &mut |q| starts.push(q.span.start));
        assert_eq!(starts, [10, 35]);
    }

    #[test]
    fn canonical_text_reprints_scopes() {
        assert_eq!(
            canonical_text(&parse("avg:m{ env:prod ,  role:web } by {host}")),
            "avg:m{env:prod,role:web} by {host}"
        );
    }
}
