//! Properties: any text is parsed or rejected without panicking, spans stay
//! inside the text, and printing a tree gives text that parses back to the
//! same tree.

use proptest::prelude::*;
use whippet_ddql::*;

// ---------------------------------------------------------------- generators

fn is_scope_keyword(s: &str) -> bool {
    ["and", "or", "not", "in"]
        .iter()
        .any(|k| s.eq_ignore_ascii_case(k))
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        (0u32..1000).prop_map(f64::from),
        0.0..1e6f64,
        any::<f64>()
            .prop_filter("finite", |v| v.is_finite())
            .prop_map(f64::abs),
        Just(1e300),
        Just(1.5e-7),
        Just(0.1),
    ]
}

fn signed_number() -> impl Strategy<Value = f64> {
    any::<f64>().prop_filter("finite", |v| v.is_finite())
}

fn tag_key() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_./-]{0,6}".prop_filter("not a scope keyword", |s| !is_scope_keyword(s))
}

fn tag_value() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9_./:-]{0,8}"
}

fn scope_leaf() -> impl Strategy<Value = Scope> {
    prop_oneof![
        Just(Scope::All),
        tag_key().prop_map(Scope::Tag),
        (tag_key(), tag_value()).prop_map(|(k, v)| Scope::Tag(format!("{k}:{v}"))),
        (tag_key(), "[a-z0-9]{0,3}", "[a-z0-9-]{0,3}")
            .prop_map(|(k, a, b)| Scope::Glob(format!("{k}:{a}*{b}"))),
        ("[a-z]{1,3}", "[a-z0-9-]{0,3}").prop_map(|(a, b)| Scope::Glob(format!("*{a}*{b}"))),
        (
            "[a-z][a-z0-9_.-]{0,6}",
            prop::collection::vec(prop_oneof![tag_value(), "[a-z]{1,3}\\*"], 1..4)
        )
            .prop_filter("key not a keyword", |(k, _)| !is_scope_keyword(k))
            .prop_map(|(key, values)| Scope::In { key, values }),
    ]
}

fn scope() -> impl Strategy<Value = Scope> {
    scope_leaf().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|s| Scope::Not(Box::new(s))),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Scope::And),
            prop::collection::vec(inner, 2..4).prop_map(Scope::Or),
        ]
    })
}

fn time_agg() -> impl Strategy<Value = TimeAgg> {
    prop::sample::select(vec![
        TimeAgg::Avg,
        TimeAgg::Sum,
        TimeAgg::Min,
        TimeAgg::Max,
        TimeAgg::Count,
        TimeAgg::Last,
    ])
}

fn method() -> impl Strategy<Value = Method> {
    let fill = prop::sample::select(vec![
        FillMode::Null,
        FillMode::Zero,
        FillMode::Linear,
        FillMode::Last,
    ]);
    prop_oneof![
        (time_agg(), prop::option::of(1u32..100_000)).prop_map(|(a, s)| Method::Rollup {
            agg: Some(a),
            seconds: s
        }),
        (1u32..100_000).prop_map(|s| Method::Rollup {
            agg: None,
            seconds: Some(s)
        }),
        Just(Method::AsCount),
        Just(Method::AsRate),
        Just(Method::Weighted),
        (fill, prop::option::of(1u32..100_000)).prop_map(|(mode, limit_seconds)| Method::Fill {
            mode,
            limit_seconds
        }),
    ]
}

fn space_agg() -> impl Strategy<Value = Option<SpaceAgg>> {
    prop::option::of(prop_oneof![
        Just(SpaceAgg::Avg),
        Just(SpaceAgg::Sum),
        Just(SpaceAgg::Min),
        Just(SpaceAgg::Max),
        Just(SpaceAgg::Count),
        (1u32..=1000).prop_map(|p| SpaceAgg::Percentile(f64::from(p) / 10.0)),
        (1u32..=100).prop_map(|p| SpaceAgg::Percentile(f64::from(p))),
    ])
}

fn metric_query() -> impl Strategy<Value = MetricQuery> {
    (
        space_agg(),
        "[a-z][a-z0-9_]{0,5}(\\.[a-z][a-z0-9_]{0,5}){0,3}",
        scope(),
        prop::collection::vec("[a-z][a-z0-9_.-]{0,6}", 0..3),
        prop::collection::vec(method(), 0..3),
    )
        .prop_map(|(space_agg, metric, scope, by, methods)| MetricQuery {
            space_agg,
            metric,
            scope_text: scope.to_string(),
            scope,
            by,
            methods,
            span: Span::default(),
        })
}

fn func() -> impl Strategy<Value = Func> {
    let rank = prop::sample::select(vec![
        TopRank::Mean,
        TopRank::Max,
        TopRank::Min,
        TopRank::Last,
        TopRank::Area,
        TopRank::L2Norm,
        TopRank::Norm,
    ]);
    prop_oneof![
        prop::sample::select(vec![
            Func::Abs,
            Func::Log2,
            Func::Log10,
            Func::Cumsum,
            Func::Integral,
            Func::Diff,
            Func::MonotonicDiff,
            Func::Derivative,
            Func::PerUnit { seconds: 1 },
            Func::PerUnit { seconds: 60 },
            Func::PerUnit { seconds: 3600 },
            Func::Dt,
            Func::CountNonzero,
            Func::CountNotNull,
            Func::DefaultZero,
        ]),
        (-10_000_000i64..10_000_000).prop_map(|seconds| Func::Timeshift { seconds }),
        (1usize..200, rank, any::<bool>(), 0usize..20).prop_map(|(n, rank, descending, offset)| {
            Func::Top {
                n,
                rank,
                descending,
                offset,
            }
        }),
        (1u32..100_000, time_agg()).prop_map(|(seconds, agg)| Func::MovingRollup { seconds, agg }),
        prop::sample::select(vec![3u32, 5, 7, 9, 10, 20]).prop_map(|span| Func::Ewma { span }),
        prop::sample::select(vec![3u32, 5, 7, 9]).prop_map(|window| Func::Median { window }),
        signed_number().prop_map(Func::ClampMin),
        signed_number().prop_map(Func::ClampMax),
        signed_number().prop_map(Func::CutoffMin),
        signed_number().prop_map(Func::CutoffMax),
    ]
}

fn expr_over(leaf: BoxedStrategy<Expr>) -> impl Strategy<Value = Expr> {
    let span = Span::default();
    leaf.prop_recursive(6, 48, 2, move |inner| {
        let op = prop::sample::select(vec![BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div]);
        prop_oneof![
            (op, inner.clone(), inner.clone()).prop_map(move |(op, l, r)| Expr::Binary {
                op,
                lhs: Box::new(l),
                rhs: Box::new(r),
                span
            }),
            inner.clone().prop_map(move |e| Expr::Neg {
                expr: Box::new(e),
                span
            }),
            (func(), inner).prop_map(move |(func, e)| Expr::Call {
                func,
                arg: Box::new(e),
                span
            }),
        ]
    })
}

fn request_expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        number().prop_map(|value| Expr::Number {
            value,
            span: Span::default()
        }),
        metric_query().prop_map(|q| Expr::Query(Box::new(q))),
    ];
    expr_over(leaf.boxed())
}

fn formula_expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        number().prop_map(|value| Expr::Number {
            value,
            span: Span::default()
        }),
        "[a-z][a-z0-9_]{0,6}".prop_map(|name| Expr::Ref {
            name,
            span: Span::default()
        }),
    ];
    expr_over(leaf.boxed())
}

/// Text made of the query language's own characters, so random inputs reach
/// deep into the grammar.
fn query_like_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[a-z0-9 ]{1,4}",
            prop::sample::select(vec![
                "{",
                "}",
                "(",
                ")",
                ",",
                ":",
                ".",
                "*",
                "!",
                "'",
                "\"",
                "+",
                "-",
                "/",
                " AND ",
                " OR ",
                " NOT ",
                " IN ",
                "by",
                "avg:",
                "p99.9:",
                "m{*}",
                "abs(",
                "top(",
                "timeshift(",
                ".rollup(",
                ".fill(",
                "1e5",
                "é",
            ])
            .prop_map(str::to_owned),
        ],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

// ---------------------------------------------------------------- checks

/// Every span of `e` is inside `src`, on character boundaries, non-empty.
fn check_spans(e: &Expr, src: &str) {
    let span = e.span();
    assert!(
        span.start < span.end && span.end <= src.len(),
        "{span:?} in {src:?}"
    );
    assert!(
        src.get(span.start..span.end).is_some(),
        "{span:?} not on char boundaries in {src:?}"
    );
    match e {
        Expr::Binary { lhs, rhs, .. } => {
            check_spans(lhs, src);
            check_spans(rhs, src);
        }
        Expr::Neg { expr, .. } => check_spans(expr, src),
        Expr::Call { arg, .. } => check_spans(arg, src),
        Expr::Query(q) => assert!(span.text(src).contains(&q.metric)),
        Expr::Number { .. } | Expr::Ref { .. } => {}
    }
}

/// Whatever parses prints to text that parses to the same tree.
fn check_text(src: &str) {
    if let Ok(r) = parse_request(src) {
        r.exprs.iter().for_each(|e| check_spans(e, src));
        let printed = r.to_string();
        let again =
            parse_request(&printed).unwrap_or_else(|e| panic!("{printed:?} from {src:?}: {e}"));
        assert_eq!(
            again.without_spans(),
            r.without_spans(),
            "{src:?} printed as {printed:?}"
        );
    }
    if let Ok(f) = parse_formula(src) {
        check_spans(&f, src);
        let printed = f.to_string();
        let again =
            parse_formula(&printed).unwrap_or_else(|e| panic!("{printed:?} from {src:?}: {e}"));
        assert_eq!(
            again.without_spans(),
            f.without_spans(),
            "{src:?} printed as {printed:?}"
        );
    }
    if let Ok(q) = parse_metric_query(src) {
        assert!(q.span.text(src).contains(&q.metric));
        let printed = q.to_string();
        let again = parse_metric_query(&printed)
            .unwrap_or_else(|e| panic!("{printed:?} from {src:?}: {e}"));
        assert_eq!(
            again.without_spans(),
            q.without_spans(),
            "{src:?} printed as {printed:?}"
        );
    }
}

/// Errors point inside the text (or just past its end) and say something.
fn check_errors(src: &str) {
    for e in [
        parse_request(src).err(),
        parse_formula(src).err(),
        parse_metric_query(src).err(),
    ]
    .into_iter()
    .flatten()
    {
        assert!(e.position <= src.len(), "{e:?} for {src:?}");
        assert!(!e.message.is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(src in any::<String>()) {
        check_errors(&src);
        check_text(&src);
    }

    #[test]
    fn query_like_strings_never_panic_and_round_trip(src in query_like_text()) {
        check_errors(&src);
        check_text(&src);
    }

    #[test]
    fn requests_round_trip(exprs in prop::collection::vec(request_expr(), 1..4)) {
        let r = Request { exprs };
        let printed = r.to_string();
        let parsed = parse_request(&printed).unwrap_or_else(|e| panic!("{printed:?}: {e}"));
        prop_assert_eq!(parsed.without_spans(), r);
        parsed.exprs.iter().for_each(|e| check_spans(e, &printed));
    }

    #[test]
    fn formulas_round_trip(f in formula_expr()) {
        let printed = f.to_string();
        let parsed = parse_formula(&printed).unwrap_or_else(|e| panic!("{printed:?}: {e}"));
        prop_assert_eq!(parsed.without_spans(), f);
    }

    #[test]
    fn metric_queries_round_trip(q in metric_query()) {
        let printed = q.to_string();
        let parsed = parse_metric_query(&printed).unwrap_or_else(|e| panic!("{printed:?}: {e}"));
        prop_assert_eq!(parsed.span.text(&printed), printed.as_str());
        prop_assert_eq!(parsed.without_spans(), q);
    }

    /// The printed scope alone (no source text to fall back on) also parses
    /// back to the same filter.
    #[test]
    fn scopes_round_trip(s in scope()) {
        let q = MetricQuery {
            space_agg: None,
            metric: "m".into(),
            scope: s.clone(),
            scope_text: String::new(),
            by: vec![],
            methods: vec![],
            span: Span::default(),
        };
        let printed = q.to_string();
        let parsed = parse_metric_query(&printed).unwrap_or_else(|e| panic!("{printed:?}: {e}"));
        prop_assert_eq!(parsed.scope, s);
    }
}
