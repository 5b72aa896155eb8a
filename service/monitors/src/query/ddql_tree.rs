//! Walks over `whippet_ddql` expression trees: the metric queries they
//! hold, and their canonical spelling.
//!
//! Every walk recurses once per tree level; `whippet_ddql` caps the height
//! of the trees it produces at `whippet_ddql::MAX_DEPTH`, so the recursion
//! is bounded.

use whippet_ddql::{Expr, MetricQuery};

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

/// Calls `f` on every metric query in `expr`, mutably, left to right.
fn for_each_query_mut(expr: &mut Expr, f: &mut impl FnMut(&mut MetricQuery)) {
    match expr {
        Expr::Query(q) => f(q),
        Expr::Number { .. } | Expr::Ref { .. } => {}
        Expr::Binary { lhs, rhs, .. } => {
            for_each_query_mut(lhs, f);
            for_each_query_mut(rhs, f);
        }
        Expr::Neg { expr, .. } => for_each_query_mut(expr, f),
        Expr::Call { arg, .. } => for_each_query_mut(arg, f),
    }
}

/// The expression's text with each scope printed from its parsed form
/// rather than as the user spelled it (`{env:prod,role:web}` for
/// `{ env:prod , role:web }`), so that equal filters print equally.
pub(crate) fn canonical_text(expr: &Expr) -> String {
    let mut copy = expr.clone();
    for_each_query_mut(&mut copy, &mut |q| q.scope_text.clear());
    copy.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Expr {
        whippet_ddql::parse_request(text).unwrap().exprs.remove(0)
    }

    #[test]
    fn visits_queries_in_order() {
        let e = parse("sum:a{*} by {host} / abs(sum:b{x:y}) * -c{*}");
        let mut names = Vec::new();
        for_each_query(&e, &mut |q| names.push(q.metric.clone()));
        assert_eq!(names, ["a", "b", "c"]);
    }

    #[test]
    fn canonical_text_reprints_scopes() {
        assert_eq!(
            canonical_text(&parse("avg:m{ env:prod ,  role:web } by {host}")),
            "avg:m{env:prod,role:web} by {host}"
        );
    }
}
