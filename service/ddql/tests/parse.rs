//! What each construct of the query language parses to.

use whippet_ddql::*;

fn query(src: &str) -> MetricQuery {
    parse_metric_query(src).unwrap_or_else(|e| panic!("{src:?}: {e}"))
}

fn request(src: &str) -> Vec<Expr> {
    parse_request(src)
        .unwrap_or_else(|e| panic!("{src:?}: {e}"))
        .exprs
}

/// The single expression of a request, spans removed.
fn expr(src: &str) -> Expr {
    let mut exprs = request(src);
    assert_eq!(exprs.len(), 1, "{src:?}");
    exprs.remove(0).without_spans()
}

fn formula(src: &str) -> Expr {
    parse_formula(src)
        .unwrap_or_else(|e| panic!("{src:?}: {e}"))
        .without_spans()
}

fn scope(inner: &str) -> Scope {
    query(&format!("m{{{inner}}}")).scope
}

fn methods(suffix: &str) -> Vec<Method> {
    query(&format!("m{{*}}{suffix}")).methods
}

/// The function a one-call formula applies to `a`.
fn func(src: &str) -> Func {
    match formula(src) {
        Expr::Call { func, arg, .. } => {
            assert_eq!(*arg, r("a"), "{src:?}");
            func
        }
        other => panic!("{src:?}: not a call: {other:?}"),
    }
}

const NO: Span = Span { start: 0, end: 0 };

fn r(name: &str) -> Expr {
    Expr::Ref {
        name: name.into(),
        span: NO,
    }
}

fn n(value: f64) -> Expr {
    Expr::Number { value, span: NO }
}

fn bin(op: BinOp, lhs: Expr, rhs: Expr) -> Expr {
    Expr::Binary {
        op,
        lhs: Box::new(lhs),
        rhs: Box::new(rhs),
        span: NO,
    }
}

fn neg(e: Expr) -> Expr {
    Expr::Neg {
        expr: Box::new(e),
        span: NO,
    }
}

fn call(func: Func, arg: Expr) -> Expr {
    Expr::Call {
        func,
        arg: Box::new(arg),
        span: NO,
    }
}

fn tag(t: &str) -> Scope {
    Scope::Tag(t.into())
}

fn not(s: Scope) -> Scope {
    Scope::Not(Box::new(s))
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

// ---------------------------------------------------------------- metric queries

#[test]
fn full_metric_query() {
    let q = query("avg:system.cpu.user{env:prod} by {host}.rollup(avg, 60)");
    assert_eq!(q.space_agg, Some(SpaceAgg::Avg));
    assert_eq!(q.metric, "system.cpu.user");
    assert_eq!(q.scope, tag("env:prod"));
    assert_eq!(q.scope_text, "env:prod");
    assert_eq!(q.by, strings(&["host"]));
    assert_eq!(
        q.methods,
        vec![Method::Rollup {
            agg: Some(TimeAgg::Avg),
            seconds: Some(60)
        }]
    );
}

#[test]
fn space_aggregators() {
    for (text, agg) in [
        ("avg", SpaceAgg::Avg),
        ("sum", SpaceAgg::Sum),
        ("min", SpaceAgg::Min),
        ("max", SpaceAgg::Max),
        ("count", SpaceAgg::Count),
        ("p50", SpaceAgg::Percentile(50.0)),
        ("p75", SpaceAgg::Percentile(75.0)),
        ("p90", SpaceAgg::Percentile(90.0)),
        ("p95", SpaceAgg::Percentile(95.0)),
        ("p99", SpaceAgg::Percentile(99.0)),
        ("p99.9", SpaceAgg::Percentile(99.9)),
        ("p100", SpaceAgg::Percentile(100.0)),
        ("p1", SpaceAgg::Percentile(1.0)),
        ("p0.5", SpaceAgg::Percentile(0.5)),
        ("p99.99", SpaceAgg::Percentile(99.99)),
    ] {
        assert_eq!(
            query(&format!("{text}:m{{*}}")).space_agg,
            Some(agg),
            "{text}"
        );
    }
    assert_eq!(query("m{*}").space_agg, None);
}

#[test]
fn metric_names() {
    for name in [
        "m",
        "system.cpu.user",
        "a_b.c2.d_3",
        "trace.http.request.hits.by_http_status",
        "X1",
    ] {
        assert_eq!(query(&format!("sum:{name}{{*}}")).metric, name);
    }
}

#[test]
fn whitespace_around_tokens() {
    let q = query(
        "  avg : system.load.1 { env:prod , role:web } by { host , az } . rollup ( sum , 120 ) .as_count( )  ",
    );
    assert_eq!(q.space_agg, Some(SpaceAgg::Avg));
    assert_eq!(q.metric, "system.load.1");
    assert_eq!(q.scope, Scope::And(vec![tag("env:prod"), tag("role:web")]));
    assert_eq!(q.scope_text, "env:prod , role:web");
    assert_eq!(q.by, strings(&["host", "az"]));
    assert_eq!(
        q.methods,
        vec![
            Method::Rollup {
                agg: Some(TimeAgg::Sum),
                seconds: Some(120)
            },
            Method::AsCount
        ]
    );
}

#[test]
fn by_clause_forms() {
    assert_eq!(query("m{*}by{host}").by, strings(&["host"]));
    assert_eq!(query("m{*} by {host}").by, strings(&["host"]));
    assert_eq!(query("m{*} BY {host,env}").by, strings(&["host", "env"]));
    assert_eq!(query("m{*} by {}").by, Vec::<String>::new());
    assert_eq!(
        query("m{*} by {kube_namespace,pod-name,a.b/c}").by,
        strings(&["kube_namespace", "pod-name", "a.b/c"])
    );
    assert!(query("m{*}").by.is_empty());
}

#[test]
fn methods_in_order() {
    assert_eq!(
        methods(".rollup(avg)"),
        vec![Method::Rollup {
            agg: Some(TimeAgg::Avg),
            seconds: None
        }]
    );
    assert_eq!(
        methods(".rollup(60)"),
        vec![Method::Rollup {
            agg: None,
            seconds: Some(60)
        }]
    );
    assert_eq!(
        methods(".rollup('max', 300)"),
        vec![Method::Rollup {
            agg: Some(TimeAgg::Max),
            seconds: Some(300)
        }]
    );
    for (name, agg) in [
        ("avg", TimeAgg::Avg),
        ("sum", TimeAgg::Sum),
        ("min", TimeAgg::Min),
        ("max", TimeAgg::Max),
        ("count", TimeAgg::Count),
        ("last", TimeAgg::Last),
    ] {
        assert_eq!(
            methods(&format!(".rollup({name}, 10)")),
            vec![Method::Rollup {
                agg: Some(agg),
                seconds: Some(10)
            }]
        );
    }
    assert_eq!(methods(".as_count()"), vec![Method::AsCount]);
    assert_eq!(methods(".as_rate()"), vec![Method::AsRate]);
    assert_eq!(methods(".weighted()"), vec![Method::Weighted]);
    for (name, mode) in [
        ("null", FillMode::Null),
        ("zero", FillMode::Zero),
        ("linear", FillMode::Linear),
        ("last", FillMode::Last),
    ] {
        assert_eq!(
            methods(&format!(".fill({name})")),
            vec![Method::Fill {
                mode,
                limit_seconds: None
            }]
        );
        assert_eq!(
            methods(&format!(".fill({name}, 300)")),
            vec![Method::Fill {
                mode,
                limit_seconds: Some(300)
            }]
        );
    }
    assert_eq!(
        methods(".as_rate().fill(zero).rollup(sum, 60).weighted()"),
        vec![
            Method::AsRate,
            Method::Fill {
                mode: FillMode::Zero,
                limit_seconds: None
            },
            Method::Rollup {
                agg: Some(TimeAgg::Sum),
                seconds: Some(60)
            },
            Method::Weighted
        ]
    );
}

// ---------------------------------------------------------------- scopes

#[test]
fn scope_all_and_simple_tags() {
    assert_eq!(scope("*"), Scope::All);
    assert_eq!(scope(" * "), Scope::All);
    assert_eq!(scope("production"), tag("production"));
    assert_eq!(scope("env:prod"), tag("env:prod"));
    assert_eq!(scope("url:http://x/y"), tag("url:http://x/y"));
    assert_eq!(scope("version:1.2.3"), tag("version:1.2.3"));
    assert_eq!(
        scope("availability-zone:us-east-1a"),
        tag("availability-zone:us-east-1a")
    );
    assert_eq!(scope("device:/dev/sda1"), tag("device:/dev/sda1"));
    assert_eq!(scope("ville:zürich"), tag("ville:zürich"));
    assert_eq!(scope("android"), tag("android"));
    assert_eq!(scope("env:and"), tag("env:and"));
}

#[test]
fn scope_globs() {
    assert_eq!(scope("host:web-*"), Scope::Glob("host:web-*".into()));
    assert_eq!(scope("service:*api*"), Scope::Glob("service:*api*".into()));
    assert_eq!(
        scope("!device:/dev/loop*"),
        not(Scope::Glob("device:/dev/loop*".into()))
    );
    assert_eq!(scope("*-canary"), Scope::Glob("*-canary".into()));
}

#[test]
fn scope_comma_and_keywords() {
    assert_eq!(
        scope("env:prod,role:web"),
        Scope::And(vec![tag("env:prod"), tag("role:web")])
    );
    assert_eq!(
        scope("env:prod AND role:web"),
        Scope::And(vec![tag("env:prod"), tag("role:web")])
    );
    assert_eq!(
        scope("a and b And c"),
        Scope::And(vec![tag("a"), tag("b"), tag("c")])
    );
    assert_eq!(
        scope("a OR b or c"),
        Scope::Or(vec![tag("a"), tag("b"), tag("c")])
    );
    assert_eq!(scope("NOT a"), not(tag("a")));
    assert_eq!(scope("not a"), not(tag("a")));
    assert_eq!(scope("!a"), not(tag("a")));
    assert_eq!(scope("! a"), not(tag("a")));
    assert_eq!(scope("NOT NOT a"), not(not(tag("a"))));
}

#[test]
fn scope_precedence() {
    // NOT > AND > OR > comma.
    assert_eq!(
        scope("a OR b AND c"),
        Scope::Or(vec![tag("a"), Scope::And(vec![tag("b"), tag("c")])])
    );
    assert_eq!(
        scope("a AND b OR c"),
        Scope::Or(vec![Scope::And(vec![tag("a"), tag("b")]), tag("c")])
    );
    assert_eq!(
        scope("NOT a AND b"),
        Scope::And(vec![not(tag("a")), tag("b")])
    );
    assert_eq!(
        scope("NOT a OR b"),
        Scope::Or(vec![not(tag("a")), tag("b")])
    );
    assert_eq!(
        scope("env:prod, host:a OR host:b"),
        Scope::And(vec![
            tag("env:prod"),
            Scope::Or(vec![tag("host:a"), tag("host:b")])
        ])
    );
    assert_eq!(
        scope("a AND b, c"),
        Scope::And(vec![Scope::And(vec![tag("a"), tag("b")]), tag("c")])
    );
    assert_eq!(
        scope("env:prod AND (host:a OR host:b) AND NOT role:db"),
        Scope::And(vec![
            tag("env:prod"),
            Scope::Or(vec![tag("host:a"), tag("host:b")]),
            not(tag("role:db"))
        ])
    );
    assert_eq!(scope("(a, b)"), Scope::And(vec![tag("a"), tag("b")]));
    assert_eq!(
        scope("(a AND b) AND c"),
        Scope::And(vec![Scope::And(vec![tag("a"), tag("b")]), tag("c")])
    );
    assert_eq!(scope("!(a OR b)"), not(Scope::Or(vec![tag("a"), tag("b")])));
    assert_eq!(
        scope("NOT (a, b)"),
        not(Scope::And(vec![tag("a"), tag("b")]))
    );
    assert_eq!(scope("((a))"), tag("a"));
}

#[test]
fn scope_in_lists() {
    assert_eq!(
        scope("availability-zone IN (us-east-1a, us-east-1b, us-east4-b)"),
        Scope::In {
            key: "availability-zone".into(),
            values: strings(&["us-east-1a", "us-east-1b", "us-east4-b"])
        }
    );
    assert_eq!(
        scope("env:prod AND location NOT IN (atlanta,seattle,las-vegas)"),
        Scope::And(vec![
            tag("env:prod"),
            not(Scope::In {
                key: "location".into(),
                values: strings(&["atlanta", "seattle", "las-vegas"])
            })
        ])
    );
    assert_eq!(
        scope("host in (a)"),
        Scope::In {
            key: "host".into(),
            values: strings(&["a"])
        }
    );
    assert_eq!(
        scope("host not in (web-*)"),
        not(Scope::In {
            key: "host".into(),
            values: strings(&["web-*"])
        })
    );
    assert_eq!(
        scope("NOT host IN (a)"),
        not(Scope::In {
            key: "host".into(),
            values: strings(&["a"])
        })
    );
    assert_eq!(
        scope("!host IN (a)"),
        not(Scope::In {
            key: "host".into(),
            values: strings(&["a"])
        })
    );
    assert_eq!(
        scope("host IN(a,b),env:x"),
        Scope::And(vec![
            Scope::In {
                key: "host".into(),
                values: strings(&["a", "b"])
            },
            tag("env:x")
        ])
    );
}

#[test]
fn scope_text_is_trimmed_source() {
    assert_eq!(
        query("m{  env:prod AND (a OR b)  }").scope_text,
        "env:prod AND (a OR b)"
    );
    assert_eq!(query("m{*}").scope_text, "*");
}

// ---------------------------------------------------------------- expressions

#[test]
fn numbers() {
    assert_eq!(expr("0"), n(0.0));
    assert_eq!(expr("42"), n(42.0));
    assert_eq!(expr("1.5"), n(1.5));
    assert_eq!(expr("1e3"), n(1000.0));
    assert_eq!(expr("2.5E-2"), n(0.025));
    assert_eq!(expr("1e+2"), n(100.0));
    assert_eq!(expr("-3"), neg(n(3.0)));
    assert_eq!(formula("007"), n(7.0));
}

#[test]
fn operator_precedence_and_associativity() {
    use BinOp::*;
    let (a, b, c) = (r("a"), r("b"), r("c"));
    assert_eq!(
        formula("a + b * c"),
        bin(Add, a.clone(), bin(Mul, b.clone(), c.clone()))
    );
    assert_eq!(
        formula("a * b + c"),
        bin(Add, bin(Mul, a.clone(), b.clone()), c.clone())
    );
    assert_eq!(
        formula("a - b - c"),
        bin(Sub, bin(Sub, a.clone(), b.clone()), c.clone())
    );
    assert_eq!(
        formula("a / b / c"),
        bin(Div, bin(Div, a.clone(), b.clone()), c.clone())
    );
    assert_eq!(
        formula("a / b * 100"),
        bin(Mul, bin(Div, a.clone(), b.clone()), n(100.0))
    );
    assert_eq!(
        formula("a - (b - c)"),
        bin(Sub, a.clone(), bin(Sub, b.clone(), c.clone()))
    );
    assert_eq!(
        formula("(a + b) * c"),
        bin(Mul, bin(Add, a.clone(), b.clone()), c.clone())
    );
    assert_eq!(formula("-a * b"), bin(Mul, neg(a.clone()), b.clone()));
    assert_eq!(formula("-(a * b)"), neg(bin(Mul, a.clone(), b.clone())));
    assert_eq!(formula("a - -b"), bin(Sub, a.clone(), neg(b.clone())));
    assert_eq!(formula("--a"), neg(neg(a.clone())));
    assert_eq!(formula("a*-b"), bin(Mul, a.clone(), neg(b.clone())));
    assert_eq!(formula("((a))"), a);
}

#[test]
fn arithmetic_over_metric_queries() {
    let e = expr("sum:http.errors{*}.as_count() / sum:http.requests{*}.as_count() * 100");
    let Expr::Binary {
        op: BinOp::Mul,
        lhs,
        rhs,
        ..
    } = e
    else {
        panic!("{e:?}")
    };
    assert_eq!(*rhs, n(100.0));
    let Expr::Binary {
        op: BinOp::Div,
        lhs: l,
        rhs: r,
        ..
    } = *lhs
    else {
        panic!()
    };
    let (Expr::Query(l), Expr::Query(r)) = (*l, *r) else {
        panic!()
    };
    assert_eq!(
        (l.metric.as_str(), r.metric.as_str()),
        ("http.errors", "http.requests")
    );
    assert_eq!(l.methods, vec![Method::AsCount]);
    // No spaces needed around operators.
    assert!(matches!(
        expr("a{*}-b{*}"),
        Expr::Binary { op: BinOp::Sub, .. }
    ));
    assert!(matches!(
        expr("2*avg:a{*}"),
        Expr::Binary { op: BinOp::Mul, .. }
    ));
}

#[test]
fn request_lists_expressions() {
    let exprs = request("avg:a{*}, sum:b{env:x,role:y} by {host} , 5");
    assert_eq!(exprs.len(), 3);
    assert!(matches!(&exprs[0], Expr::Query(q) if q.metric == "a"));
    assert!(
        matches!(&exprs[1], Expr::Query(q) if q.by == ["host"] && q.scope_text == "env:x,role:y")
    );
    assert!(matches!(exprs[2], Expr::Number { value: 5.0, .. }));
}

#[test]
fn formulas_use_names() {
    assert_eq!(formula("query1"), r("query1"));
    assert_eq!(formula("a_b2 + 1"), bin(BinOp::Add, r("a_b2"), n(1.0)));
    assert_eq!(formula("cumsum(a)"), call(Func::Cumsum, r("a")));
    // A name may look like a function: only `(` makes it a call.
    assert_eq!(formula("abs + top5"), bin(BinOp::Add, r("abs"), r("top5")));
}

// ---------------------------------------------------------------- functions

#[test]
fn functions_without_parameters() {
    for (name, f) in [
        ("abs", Func::Abs),
        ("log2", Func::Log2),
        ("log10", Func::Log10),
        ("cumsum", Func::Cumsum),
        ("integral", Func::Integral),
        ("diff", Func::Diff),
        ("monotonic_diff", Func::MonotonicDiff),
        ("derivative", Func::Derivative),
        ("per_second", Func::PerUnit { seconds: 1 }),
        ("per_minute", Func::PerUnit { seconds: 60 }),
        ("per_hour", Func::PerUnit { seconds: 3600 }),
        ("dt", Func::Dt),
        ("hour_before", Func::Timeshift { seconds: -3600 }),
        ("day_before", Func::Timeshift { seconds: -86400 }),
        ("week_before", Func::Timeshift { seconds: -604800 }),
        ("month_before", Func::Timeshift { seconds: -2419200 }),
        ("count_nonzero", Func::CountNonzero),
        ("count_not_null", Func::CountNotNull),
        ("default_zero", Func::DefaultZero),
        ("ewma_3", Func::Ewma { span: 3 }),
        ("ewma_5", Func::Ewma { span: 5 }),
        ("ewma_7", Func::Ewma { span: 7 }),
        ("ewma_9", Func::Ewma { span: 9 }),
        ("ewma_10", Func::Ewma { span: 10 }),
        ("ewma_20", Func::Ewma { span: 20 }),
        ("median_3", Func::Median { window: 3 }),
        ("median_5", Func::Median { window: 5 }),
        ("median_7", Func::Median { window: 7 }),
        ("median_9", Func::Median { window: 9 }),
    ] {
        assert_eq!(func(&format!("{name}(a)")), f, "{name}");
    }
}

#[test]
fn timeshift() {
    assert_eq!(
        func("timeshift(a, -3600)"),
        Func::Timeshift { seconds: -3600 }
    );
    assert_eq!(
        func("timeshift(a, 86400)"),
        Func::Timeshift { seconds: 86400 }
    );
    assert_eq!(func("timeshift(a, +60)"), Func::Timeshift { seconds: 60 });
    assert_eq!(func("timeshift(a, 0)"), Func::Timeshift { seconds: 0 });
}

#[test]
fn top_and_top_offset() {
    let top = |n, rank, descending, offset| Func::Top {
        n,
        rank,
        descending,
        offset,
    };
    assert_eq!(
        func("top(a, 10, 'mean', 'desc')"),
        top(10, TopRank::Mean, true, 0)
    );
    assert_eq!(
        func("top(a, 5, \"max\", \"asc\")"),
        top(5, TopRank::Max, false, 0)
    );
    assert_eq!(func("top(a,25,min,desc)"), top(25, TopRank::Min, true, 0));
    for (name, rank) in [
        ("mean", TopRank::Mean),
        ("max", TopRank::Max),
        ("min", TopRank::Min),
        ("last", TopRank::Last),
        ("area", TopRank::Area),
        ("l2norm", TopRank::L2Norm),
        ("norm", TopRank::Norm),
        ("sum", TopRank::Area),
    ] {
        assert_eq!(
            func(&format!("top(a, 3, '{name}', 'desc')")),
            top(3, rank, true, 0),
            "{name}"
        );
    }
    assert_eq!(
        func("top_offset(a, 10, 'area', 'asc', 5)"),
        top(10, TopRank::Area, false, 5)
    );
    assert_eq!(
        func("top_offset(a, 10, 'area', 'asc', 0)"),
        top(10, TopRank::Area, false, 0)
    );
}

#[test]
fn top_shorthands() {
    for (dir, descending) in [("top", true), ("bottom", false)] {
        for n in [5, 10, 15, 20] {
            assert_eq!(
                func(&format!("{dir}{n}(a)")),
                Func::Top {
                    n,
                    rank: TopRank::Mean,
                    descending,
                    offset: 0
                }
            );
            for (suffix, rank) in [
                ("mean", TopRank::Mean),
                ("max", TopRank::Max),
                ("min", TopRank::Min),
                ("last", TopRank::Last),
                ("area", TopRank::Area),
                ("l2norm", TopRank::L2Norm),
                ("norm", TopRank::Norm),
            ] {
                assert_eq!(
                    func(&format!("{dir}{n}_{suffix}(a)")),
                    Func::Top {
                        n,
                        rank,
                        descending,
                        offset: 0
                    },
                    "{dir}{n}_{suffix}"
                );
            }
        }
    }
}

#[test]
fn moving_rollup_and_thresholds() {
    assert_eq!(
        func("moving_rollup(a, 300, 'sum')"),
        Func::MovingRollup {
            seconds: 300,
            agg: TimeAgg::Sum
        }
    );
    assert_eq!(
        func("moving_rollup(a, 60, last)"),
        Func::MovingRollup {
            seconds: 60,
            agg: TimeAgg::Last
        }
    );
    assert_eq!(func("clamp_min(a, 0)"), Func::ClampMin(0.0));
    assert_eq!(func("clamp_max(a, 100.5)"), Func::ClampMax(100.5));
    assert_eq!(func("cutoff_min(a, -5)"), Func::CutoffMin(-5.0));
    assert_eq!(func("cutoff_max(a, 1e3)"), Func::CutoffMax(1000.0));
}

#[test]
fn nested_calls_and_arithmetic_arguments() {
    assert_eq!(
        formula("abs(diff(a))"),
        call(Func::Abs, call(Func::Diff, r("a")))
    );
    assert_eq!(
        formula("top(a / b * 100, 10, 'mean', 'desc')"),
        call(
            Func::Top {
                n: 10,
                rank: TopRank::Mean,
                descending: true,
                offset: 0
            },
            bin(BinOp::Mul, bin(BinOp::Div, r("a"), r("b")), n(100.0))
        )
    );
    assert_eq!(
        formula("abs ( a ) * 2"),
        bin(BinOp::Mul, call(Func::Abs, r("a")), n(2.0))
    );
    let e = expr("top10(avg:system.load.1{*} by {host}.rollup(max))");
    let Expr::Call { arg, .. } = e else { panic!() };
    assert!(matches!(*arg, Expr::Query(ref q) if q.by == ["host"]));
}

// ---------------------------------------------------------------- spans

#[test]
fn spans_cover_each_node() {
    let src = " (abs(avg:m{a:b} by {h}.rollup(sum)) + 2) * -x{*}.as_count() , timeshift(y{*}, -60)";
    let exprs = request(src);
    let Expr::Binary { lhs, rhs, span, .. } = &exprs[0] else {
        panic!()
    };
    assert_eq!(
        span.text(src),
        "(abs(avg:m{a:b} by {h}.rollup(sum)) + 2) * -x{*}.as_count()"
    );
    let Expr::Binary {
        lhs: call,
        rhs: two,
        span,
        ..
    } = lhs.as_ref()
    else {
        panic!()
    };
    assert_eq!(span.text(src), "abs(avg:m{a:b} by {h}.rollup(sum)) + 2");
    assert_eq!(call.span().text(src), "abs(avg:m{a:b} by {h}.rollup(sum))");
    assert_eq!(two.span().text(src), "2");
    let Expr::Call { arg, .. } = call.as_ref() else {
        panic!()
    };
    assert_eq!(arg.span().text(src), "avg:m{a:b} by {h}.rollup(sum)");
    let Expr::Neg { expr: x, span } = rhs.as_ref() else {
        panic!()
    };
    assert_eq!(span.text(src), "-x{*}.as_count()");
    assert_eq!(x.span().text(src), "x{*}.as_count()");
    assert_eq!(exprs[1].span().text(src), "timeshift(y{*}, -60)");

    let f = " a/ (b -1) ";
    let e = parse_formula(f).unwrap();
    assert_eq!(e.span().text(f), "a/ (b -1)");
    let Expr::Binary { lhs, rhs, .. } = e else {
        panic!()
    };
    assert_eq!(lhs.span().text(f), "a");
    assert_eq!(rhs.span().text(f), "b -1");
    let Expr::Binary { rhs: one, .. } = *rhs else {
        panic!()
    };
    assert_eq!(one.span().text(f), "1");

    let q = " sum:m{*} by {h} ";
    assert_eq!(
        parse_metric_query(q).unwrap().span.text(q),
        "sum:m{*} by {h}"
    );
    let q = "m{*}";
    assert_eq!(parse_metric_query(q).unwrap().span.text(q), "m{*}");
}

// ---------------------------------------------------------------- printing

#[test]
fn printing_is_canonical() {
    let cases = [
        (
            "avg:system.cpu.user{env:prod} by {host}.rollup(avg,60)",
            "avg:system.cpu.user{env:prod} by {host}.rollup(avg, 60)",
        ),
        ("m{ a , b }by{x,y}", "m{a , b} by {x,y}"),
        ("m{*} by {}", "m{*}"),
        (
            "p99.90:m{*}.fill(last,300).as_rate()",
            "p99.9:m{*}.fill(last, 300).as_rate()",
        ),
        ("(a{*}+b{*})*(c{*}-1)", "(a{*} + b{*}) * (c{*} - 1)"),
        ("a{*} - (b{*} - c{*})", "a{*} - (b{*} - c{*})"),
        ("-(1+2)", "-(1 + 2)"),
        ("hour_before(m{*})", "timeshift(m{*}, -3600)"),
        ("bottom5_max(m{*})", "top(m{*}, 5, 'max', 'asc')"),
        (
            "top_offset(m{*},5,sum,desc,2)",
            "top_offset(m{*}, 5, 'area', 'desc', 2)",
        ),
        ("clamp_min(m{*},1e20)", "clamp_min(m{*}, 1e20)"),
        ("m{*}, 0.000001", "m{*}, 1e-6"),
    ];
    for (src, printed) in cases {
        assert_eq!(parse_request(src).unwrap().to_string(), printed, "{src}");
    }
    assert_eq!(parse_formula("a/b*100").unwrap().to_string(), "a / b * 100");
    assert_eq!(
        parse_metric_query("sum:m{*}.as_count()")
            .unwrap()
            .to_string(),
        "sum:m{*}.as_count()"
    );
}

#[test]
fn scope_printing_without_source_text() {
    let cases = [
        "a,b",
        "a AND b OR c",
        "(a OR b),c",
        "a OR b AND c",
        "(a AND b) AND c",
        "!(a OR b)",
        "NOT !a",
        "k IN (x, y)",
        "k NOT IN (x)",
        "NOT k NOT IN (x)",
        "(a,b) OR c",
        "!*",
    ];
    for src in cases {
        let q = query(&format!("m{{{src}}}"));
        let printed = MetricQuery {
            scope_text: String::new(),
            ..q.clone()
        }
        .to_string();
        let again = query(&printed);
        assert_eq!(again.scope, q.scope, "{src} printed as {printed}");
    }
}
