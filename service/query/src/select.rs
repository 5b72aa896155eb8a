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
