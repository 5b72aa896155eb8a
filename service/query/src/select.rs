//! Lowering a query's scope to a storage selector.

use whippet_ddql::{MetricQuery, Scope};
use whippet_tsdb::Selector;

/// The selector of a metric query: its metric, and its scope when the
/// scope filters anything.
pub(crate) fn selector(q: &MetricQuery) -> Selector {
    let mut all = vec![Selector::Metric(q.metric.clone())];
    match scope(&q.scope) {
        Selector::All => {}
        Selector::And(parts) => all.extend(parts),
        other => all.push(other),
    }
    Selector::And(all)
}

/// A selector that matches at least what `sel` matches and only reads
/// direct postings (metrics, exact tags): wildcards, has-key terms and
/// negations are dropped from conjunctions. For cost estimates, where a
/// superset costs microseconds and the exact set may cost a scan of every
/// tag value. `None`: no such bound (it would be everything).
pub(crate) fn upper_bound(sel: &Selector) -> Option<Selector> {
    match sel {
        Selector::Metric(_) | Selector::Tag(_) => Some(sel.clone()),
        Selector::And(parts) => {
            let kept: Vec<Selector> = parts.iter().filter_map(upper_bound).collect();
            (!kept.is_empty()).then_some(Selector::And(kept))
        }
        Selector::Or(parts) => parts
            .iter()
            .map(upper_bound)
            .collect::<Option<Vec<_>>>()
            .map(Selector::Or),
        _ => None,
    }
}

/// `Tag` → exact tag; `Glob` → wildcard (`key:*` → has the key); `In` →
/// any of the values; `Not`/`And`/`Or` map one to one; `All` → no filter.
fn scope(s: &Scope) -> Selector {
    match s {
        Scope::All => Selector::All,
        Scope::Tag(t) => Selector::Tag(t.clone()),
        Scope::Glob(g) => glob(g),
        Scope::In { key, values } => Selector::Or(
            values
                .iter()
                .map(|v| {
                    let tag = format!("{key}:{v}");
                    if v.contains('*') {
                        glob(&tag)
                    } else {
                        Selector::Tag(tag)
                    }
                })
                .collect(),
        ),
        Scope::Not(inner) => match scope(inner) {
            // NOT * matches nothing.
            Selector::All => Selector::Or(Vec::new()),
            other => Selector::Not(Box::new(other)),
        },
        Scope::And(parts) => Selector::And(parts.iter().map(scope).collect()),
        Scope::Or(parts) => Selector::Or(parts.iter().map(scope).collect()),
    }
}

fn glob(g: &str) -> Selector {
    match g.strip_suffix(":*") {
        Some(key) if !key.contains('*') && !key.is_empty() => Selector::HasKey(key.to_owned()),
        _ if g == "*" => Selector::All,
        _ => Selector::TagGlob(g.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_bounds_keep_direct_terms_only() {
        let m = || Selector::Metric("m".into());
        let t = |x: &str| Selector::Tag(x.into());
        let g = Selector::TagGlob("host:a*".into());
        let sel = Selector::And(vec![
            m(),
            g.clone(),
            t("env:prod"),
            Selector::Not(Box::new(t("x"))),
        ]);
        assert_eq!(
            upper_bound(&sel),
            Some(Selector::And(vec![m(), t("env:prod")]))
        );
        // An Or with an unbounded branch has no bound; inside an And it is dropped.
        let or = Selector::Or(vec![t("a"), g]);
        assert_eq!(upper_bound(&or), None);
        assert_eq!(
            upper_bound(&Selector::And(vec![m(), or])),
            Some(Selector::And(vec![m()]))
        );
        let or2 = Selector::Or(vec![t("a"), t("b")]);
        assert_eq!(upper_bound(&or2), Some(or2.clone()));
    }

    fn mq(scope: Scope) -> MetricQuery {
        MetricQuery {
            space_agg: None,
            metric: "m".into(),
            scope,
            scope_text: String::new(),
            by: vec![],
            methods: vec![],
            span: Default::default(),
        }
    }

    #[test]
    fn scopes_lower_to_selectors() {
        let m = || Selector::Metric("m".into());
        assert_eq!(selector(&mq(Scope::All)), Selector::And(vec![m()]));
        assert_eq!(
            selector(&mq(Scope::And(vec![
                Scope::Tag("env:prod".into()),
                Scope::Glob("host:*".into()),
                Scope::Glob("host:web-*".into()),
            ]))),
            Selector::And(vec![
                m(),
                Selector::Tag("env:prod".into()),
                Selector::HasKey("host".into()),
                Selector::TagGlob("host:web-*".into()),
            ])
        );
        assert_eq!(
            selector(&mq(Scope::Not(Box::new(Scope::In {
                key: "host".into(),
                values: vec!["a".into(), "b*".into(), "*".into()],
            })))),
            Selector::And(vec![
                m(),
                Selector::Not(Box::new(Selector::Or(vec![
                    Selector::Tag("host:a".into()),
                    Selector::TagGlob("host:b*".into()),
                    Selector::HasKey("host".into()),
                ])))
            ])
        );
        assert_eq!(
            selector(&mq(Scope::Not(Box::new(Scope::All)))),
            Selector::And(vec![m(), Selector::Or(vec![])])
        );
    }
}
