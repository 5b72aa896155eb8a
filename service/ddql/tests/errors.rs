//! Every class of parse error: where it points and what it says.

use whippet_ddql::*;

#[track_caller]
fn request_err(src: &str, position: usize, message: &str) {
    match parse_request(src) {
        Ok(r) => panic!("{src:?} parsed: {r:?}"),
        Err(e) => assert_eq!(
            e,
            ParseError {
                position,
                message: message.into()
            },
            "{src:?}"
        ),
    }
}

#[track_caller]
fn formula_err(src: &str, position: usize, message: &str) {
    match parse_formula(src) {
        Ok(r) => panic!("{src:?} parsed: {r:?}"),
        Err(e) => assert_eq!(
            e,
            ParseError {
                position,
                message: message.into()
            },
            "{src:?}"
        ),
    }
}

#[track_caller]
fn query_err(src: &str, position: usize, message: &str) {
    match parse_metric_query(src) {
        Ok(r) => panic!("{src:?} parsed: {r:?}"),
        Err(e) => assert_eq!(
            e,
            ParseError {
                position,
                message: message.into()
            },
            "{src:?}"
        ),
    }
}

/// Only the position (for errors whose wording other tests pin down).
#[track_caller]
fn request_err_at(src: &str, position: usize) {
    match parse_request(src) {
        Ok(r) => panic!("{src:?} parsed: {r:?}"),
        Err(e) => assert_eq!(e.position, position, "{src:?}: {e}"),
    }
}

#[test]
fn display_format() {
    let e = parse_request("avg:system.cpu.user{env:prod").unwrap_err();
    assert_eq!(
        e.to_string(),
        "Error parsing query: expected `}` to close the scope opened at position 19, found end of query at position 28"
    );
}

#[test]
fn empty_input() {
    request_err("", 0, "empty query");
    request_err(" \t\n", 3, "empty query");
    formula_err("", 0, "empty formula");
    query_err("  ", 2, "empty query");
}

#[test]
fn scope_errors() {
    request_err(
        "avg:system.cpu.user{env:prod",
        28,
        "expected `}` to close the scope opened at position 19, found end of query",
    );
    request_err(
        "avg:system.cpu.user{env:prod by {host}",
        29,
        "expected `,`, `AND`, `OR` or `}` to close the scope opened at position 19, found `by`",
    );
    request_err("m{}", 2, "empty scope: write `{*}` to select every series");
    request_err(
        "m{a b}",
        4,
        "expected `,`, `AND`, `OR` or `}` to close the scope opened at position 1, found `b`",
    );
    request_err(
        "m{a%b}",
        3,
        "expected `,`, `AND`, `OR` or `}` to close the scope opened at position 1, found `%`",
    );
    request_err(
        "m{a AND}",
        7,
        "expected a tag (like `env:prod`), `*`, `!`, `NOT` or `(`, found `}`",
    );
    request_err(
        "m{a,}",
        4,
        "expected a tag (like `env:prod`), `*`, `!`, `NOT` or `(`, found `}`",
    );
    request_err(
        "m{!!a}",
        3,
        "expected a tag (like `env:prod`), `*`, `!`, `NOT` or `(`, found `!`",
    );
    request_err(
        "m{'a'}",
        2,
        "expected a tag (like `env:prod`), `*`, `!`, `NOT` or `(`, found `'`",
    );
    request_err("m{AND a}", 2, "expected a tag, found the keyword `AND`");
    request_err("m{a or in}", 7, "expected a tag, found the keyword `in`");
    request_err(
        "m{a NOT b}",
        4,
        "expected `,`, `AND`, `OR` or `}` to close the scope opened at position 1, found `NOT`",
    );
    request_err(
        "m{(a}",
        4,
        "expected `,`, `AND`, `OR` or `)` to close the parenthesis opened at position 2, found `}`",
    );
    request_err(
        "m{(a",
        4,
        "expected `)` to close the parenthesis opened at position 2, found end of query",
    );
}

#[test]
fn in_list_errors() {
    request_err(
        "m{env:prod IN (a)}",
        2,
        "`IN` needs a tag key on its left (like `env IN (prod, staging)`), found `env:prod`",
    );
    request_err("m{k IN a}", 7, "expected `(` after `IN`, found `a`");
    request_err("m{k IN ()}", 8, "expected a tag value, found `)`");
    request_err(
        "m{k IN (a b)}",
        10,
        "expected `,` or `)` to close the `IN` list opened at position 7, found `b`",
    );
    request_err(
        "m{k IN (a",
        9,
        "expected `)` to close the `IN` list opened at position 7, found end of query",
    );
}

#[test]
fn metric_query_errors() {
    request_err(
        "mean:m{*}",
        0,
        "unknown space aggregator `mean`; expected one of avg, sum, min, max, count, or a percentile such as p95",
    );
    request_err(
        "p1000:m{*}",
        0,
        "unknown space aggregator `p1000`; expected one of avg, sum, min, max, count, or a percentile such as p95",
    );
    request_err(
        "AVG:m{*}",
        0,
        "unknown space aggregator `AVG`; expected one of avg, sum, min, max, count, or a percentile such as p95",
    );
    request_err(
        "p0:m{*}",
        0,
        "percentile `p0` is out of range; expected above 0 and at most 100, like p50 or p99.9",
    );
    request_err(
        "p100.5:m{*}",
        0,
        "percentile `p100.5` is out of range; expected above 0 and at most 100, like p50 or p99.9",
    );
    request_err(
        "avg:{*}",
        4,
        "expected a metric name after `avg:`, found `{`",
    );
    request_err(
        "avg:m",
        5,
        "expected `{` after the metric name `m`, found end of query",
    );
    request_err(
        "foo bar",
        4,
        "expected `{` after the metric name `foo`, found `bar`",
    );
    request_err("m{*} by", 7, "expected `{` after `by`, found end of query");
    request_err("m{*} by host", 8, "expected `{` after `by`, found `host`");
    request_err(
        "m{*} by {host",
        13,
        "expected `}` to close the `by` clause opened at position 8, found end of query",
    );
    request_err(
        "m{*} by {host:a}",
        13,
        "expected `,` or `}` to close the `by` clause opened at position 8, found `:`",
    );
    request_err(
        "m{*} by {a,}",
        11,
        "expected a tag key in `by {...}`, found `}`",
    );
    request_err(
        "m{*} by {a} by {b}",
        12,
        "expected an operator (`+`, `-`, `*`, `/`), `,` or end of query, found `by`",
    );
}

#[test]
fn method_errors() {
    request_err(
        "m{*}.rollup(mean)",
        12,
        "unknown aggregator `mean` in `.rollup()`; expected one of avg, sum, min, max, count, last",
    );
    request_err(
        "m{*}.rollup(mean, 60)",
        12,
        "unknown aggregator `mean` in `.rollup()`; expected one of avg, sum, min, max, count, last",
    );
    request_err(
        "m{*}.rollup(60, avg)",
        12,
        "expected aggregator in `.rollup()` (one of avg, sum, min, max, count, last), found `60`",
    );
    request_err(
        "m{*}.rollup()",
        12,
        "`.rollup()` takes an aggregator, an interval in seconds, or both: .rollup(avg), .rollup(60) or .rollup(avg, 60); found 0 arguments",
    );
    request_err(
        "m{*}.rollup(avg, 60, 1)",
        21,
        "`.rollup()` takes an aggregator, an interval in seconds, or both: .rollup(avg), .rollup(60) or .rollup(avg, 60); found 3 arguments",
    );
    for bad in ["1.5", "0", "-5", "'x'", "4294967296"] {
        request_err(
            &format!("m{{*}}.rollup(avg, {bad})"),
            17,
            &format!(
                "the interval of `.rollup()` must be a positive whole number of seconds, found `{bad}`"
            ),
        );
    }
    request_err(
        "m{*}.fill(foo)",
        10,
        "unknown fill mode `foo` in `.fill()`; expected one of null, zero, linear, last",
    );
    request_err(
        "m{*}.fill(zeros)",
        10,
        "unknown fill mode `zeros` in `.fill()`; expected one of null, zero, linear, last (did you mean `zero`?)",
    );
    request_err(
        "m{*}.fill()",
        10,
        "`.fill()` takes a mode and an optional limit in seconds: .fill(null), .fill(zero), .fill(linear, 300) or .fill(last, 300); found 0 arguments",
    );
    request_err(
        "m{*}.fill(zero, 0)",
        16,
        "the limit of `.fill()` must be a positive whole number of seconds, found `0`",
    );
    request_err("m{*}.as_count(1)", 14, "`.as_count()` takes no arguments");
    request_err("m{*}.as_rate(x)", 13, "`.as_rate()` takes no arguments");
    request_err("m{*}.weighted(1)", 14, "`.weighted()` takes no arguments");
    request_err(
        "m{*}.foo()",
        5,
        "unknown method `.foo()`; expected one of .rollup(), .as_count(), .as_rate(), .fill(), .weighted()",
    );
    request_err(
        "m{*}.rolup(sum)",
        5,
        "unknown method `.rolup()`; did you mean `.rollup()`?",
    );
    request_err(
        "m{*}.",
        5,
        "expected a method name after `.` (rollup, as_count, as_rate, fill or weighted), found end of query",
    );
    request_err(
        "m{*}.rollup",
        11,
        "expected `(` after `.rollup`, found end of query",
    );
    request_err(
        "m{*}.rollup(sum",
        15,
        "expected `)` to close `.rollup(` opened at position 11, found end of query",
    );
    request_err(
        "m{a}.rollup(sum 5)",
        16,
        "expected `,` or `)` to close `.rollup(` opened at position 11, found `5`",
    );
    request_err(
        "m{a}.rollup('sum)",
        12,
        "unterminated string: no closing `'`",
    );
    request_err(
        "abs(m{*}).rollup(sum)",
        9,
        "methods such as `.rollup()` only follow a metric query (`avg:system.load.1{*}.rollup(sum, 60)`), found `.`",
    );
}

#[test]
fn unknown_functions() {
    request_err(
        "absolute(m{*})",
        0,
        "unknown function `absolute`; did you mean `abs`?",
    );
    request_err(
        "ABS(m{*})",
        0,
        "unknown function `ABS`; did you mean `abs`?",
    );
    request_err(
        "cumsun(m{*})",
        0,
        "unknown function `cumsun`; did you mean `cumsum`?",
    );
    request_err(
        "top7(m{*})",
        0,
        "unknown function `top7`; did you mean `top`?",
    );
    request_err("frobnicate(m{*})", 0, "unknown function `frobnicate`");
    request_err(
        "1 + anomalies(m{*}, 'basic', 2)",
        4,
        "function `anomalies` is not supported",
    );
    request_err(
        "rollup(m{*}, sum)",
        0,
        "`rollup` is a method, not a function: write it after the metric query, like `avg:system.load.1{*}.rollup(...)`",
    );
    request_err(
        "system.load.rollup(sum)",
        0,
        "`.rollup()` follows the scope of a metric query (`avg:system.load.1{*}.rollup(...)`), found `system.load.rollup`",
    );
    formula_err(
        "a.rollup(sum)",
        0,
        "`.rollup()` belongs in the query, not in the formula: found `a.rollup`",
    );
}

#[test]
fn function_arity() {
    request_err("abs()", 4, "`abs` takes 1 argument: abs(query); found 0");
    request_err(
        "abs(m{*}, 1)",
        10,
        "`abs` takes 1 argument: abs(query); found 2",
    );
    request_err(
        "top5_max(m{*}, 1)",
        15,
        "`top5_max` takes 1 argument: top5_max(query); found 2",
    );
    request_err(
        "timeshift(m{*})",
        14,
        "`timeshift` takes 2 arguments: timeshift(query, seconds); found 1",
    );
    request_err(
        "top(m{*}, 10)",
        12,
        "`top` takes 4 arguments: top(query, count, 'rank', 'direction'); found 2",
    );
    request_err(
        "top(m{*}, 10, 'mean', 'desc', 3)",
        30,
        "`top` takes 4 arguments: top(query, count, 'rank', 'direction'); found 5",
    );
    request_err(
        "top_offset(m{*}, 10, 'mean', 'desc')",
        35,
        "`top_offset` takes 5 arguments: top_offset(query, count, 'rank', 'direction', offset); found 4",
    );
    request_err(
        "moving_rollup(m{*}, 60)",
        22,
        "`moving_rollup` takes 3 arguments: moving_rollup(query, seconds, 'aggregator'); found 2",
    );
    request_err(
        "clamp_min(m{*})",
        14,
        "`clamp_min` takes 2 arguments: clamp_min(query, value); found 1",
    );
    request_err(
        "cutoff_max( )",
        12,
        "`cutoff_max` takes 2 arguments: cutoff_max(query, value); found 0",
    );
}

#[test]
fn function_parameter_types() {
    request_err(
        "timeshift(m{*}, 1.5)",
        16,
        "the shift of `timeshift` must be a whole number of seconds, found `1.5`",
    );
    request_err(
        "timeshift(m{*}, 'x')",
        16,
        "the shift of `timeshift` must be a whole number of seconds, found `'x'`",
    );
    request_err(
        "top(m{*}, 0, 'mean', 'desc')",
        10,
        "the count of `top` must be a positive whole number, found `0`",
    );
    request_err(
        "top(m{*}, 1e20, 'mean', 'desc')",
        10,
        "the count of `top` must be a positive whole number, found `1e20`",
    );
    request_err(
        "top(m{*}, 'ten', 'mean', 'desc')",
        10,
        "the count of `top` must be a positive whole number, found `'ten'`",
    );
    request_err(
        "top(m{*}, 10, 'avg', 'desc')",
        14,
        "unknown rank `avg` in `top`; expected one of mean, max, min, last, area, l2norm, norm, sum",
    );
    request_err(
        "top(m{*}, 10, 'MEAN', 'desc')",
        14,
        "unknown rank `MEAN` in `top`; expected one of mean, max, min, last, area, l2norm, norm, sum (did you mean `mean`?)",
    );
    request_err(
        "top(m{*}, 10, 'mean', 'up')",
        22,
        "unknown direction `up` in `top`; expected one of desc, asc",
    );
    request_err(
        "top(m{*}, 10, 'mean', 5)",
        22,
        "expected direction in `top` (one of desc, asc), found `5`",
    );
    request_err(
        "top_offset(m{*}, 10, 'mean', 'desc', -1)",
        37,
        "the offset of `top_offset` must be a whole number, 0 or more, found `-1`",
    );
    request_err(
        "moving_rollup(m{*}, 60, 'median')",
        24,
        "unknown aggregator `median` in `moving_rollup`; expected one of avg, sum, min, max, count, last",
    );
    request_err(
        "moving_rollup(m{*}, 0, 'avg')",
        20,
        "the window of `moving_rollup` must be a positive whole number of seconds, found `0`",
    );
    request_err(
        "clamp_min(m{*}, 'x')",
        16,
        "the value of `clamp_min` must be a number, found `'x'`",
    );
    request_err(
        "top(m{*}, 10, 'mean, 'desc')",
        22,
        "expected `,` or `)` to close the call to `top` opened at position 3, found `desc`",
    );
    request_err(
        "top(m{*}, 10, 'mean', 'desc)",
        22,
        "unterminated string: no closing `'`",
    );
    request_err(
        "clamp_max(m{*}, -)",
        17,
        "expected a number after `-`, found `)`",
    );
    request_err(
        "clamp_max(m{*}, #)",
        16,
        "expected a parameter (a number or a quoted name such as 'mean'), found `#`",
    );
    request_err(
        "clamp_max(m{*}, 2 * 3)",
        18,
        "expected `,` or `)` to close the call to `clamp_max` opened at position 9, found `*`",
    );
}

#[test]
fn expression_errors() {
    request_err(
        "abs(m{*}",
        8,
        "expected `)` to close the call to `abs` opened at position 3, found end of query",
    );
    request_err(
        "abs(m{*} m{*})",
        9,
        "expected `,` or `)` to close the call to `abs` opened at position 3, found `m`",
    );
    request_err(
        "(m{*}",
        5,
        "expected `)` to close the parenthesis opened at position 0, found end of query",
    );
    request_err(
        "(m{*} m{*})",
        6,
        "expected an operator or `)` to close the parenthesis opened at position 0, found `m`",
    );
    request_err(
        "m{*} m{*}",
        5,
        "expected an operator (`+`, `-`, `*`, `/`), `,` or end of query, found `m`",
    );
    request_err(
        "m{*}{*}",
        4,
        "expected an operator (`+`, `-`, `*`, `/`), `,` or end of query, found `{`",
    );
    request_err(
        "m{*},",
        5,
        "expected an expression (a metric query, a number, a function call or `(`), found end of query",
    );
    request_err(
        ",",
        0,
        "expected an expression (a metric query, a number, a function call or `(`), found `,`",
    );
    request_err(
        "m{*} +",
        6,
        "expected an expression (a metric query, a number, a function call or `(`), found end of query",
    );
    request_err(
        "m{*} * * 2",
        7,
        "expected an expression (a metric query, a number, a function call or `(`), found `*`",
    );
    request_err(
        "+1",
        0,
        "expected an expression (a metric query, a number, a function call or `(`), found `+`",
    );
    request_err(
        "ñ",
        0,
        "expected an expression (a metric query, a number, a function call or `(`), found `ñ`",
    );
    request_err(
        "1 2",
        2,
        "expected an operator (`+`, `-`, `*`, `/`), `,` or end of query, found `2`",
    );
    request_err(
        "m{*} `x`",
        5,
        "expected an operator (`+`, `-`, `*`, `/`), `,` or end of query, found a backquote",
    );
}

#[test]
fn number_errors() {
    let malformed = |t: &str| {
        format!(
            "malformed number `{t}`; expected digits with an optional fraction and exponent, like `12`, `0.5` or `1e6`"
        )
    };
    request_err("1.", 0, &malformed("1."));
    request_err("2 * 1e", 4, &malformed("1e"));
    request_err("1e+", 0, &malformed("1e+"));
    request_err("5abc", 0, &malformed("5abc"));
    request_err("1.5.2", 0, &malformed("1.5.2"));
    request_err("1e400", 0, "number `1e400` is too large");
    request_err("clamp_min(m{*}, -1e400)", 17, "number `1e400` is too large");
}

#[test]
fn formula_errors() {
    formula_err(
        "a{*}",
        0,
        "a formula refers to queries by name (like `a`); the metric query starting with `a` belongs in `queries`",
    );
    formula_err(
        "a + avg:m{*}",
        4,
        "a formula refers to queries by name (like `a`); the metric query starting with `avg` belongs in `queries`",
    );
    formula_err(
        "a.b",
        0,
        "expected a query name (letters, digits and `_`), found `a.b`",
    );
    formula_err(
        "a, b",
        1,
        "expected an operator (`+`, `-`, `*`, `/`) or end of formula, found `,`",
    );
    formula_err(
        "a b",
        2,
        "expected an operator (`+`, `-`, `*`, `/`) or end of formula, found `b`",
    );
    formula_err(
        "a +",
        3,
        "expected an expression (a query name, a number, a function call or `(`), found end of query",
    );
    formula_err(
        "anomalies(a, 'basic', 2)",
        0,
        "function `anomalies` is not supported",
    );
}

#[test]
fn single_query_errors() {
    query_err(
        "abs(m{*})",
        0,
        "a query is a single metric query; functions such as `abs()` belong in a formula",
    );
    query_err(
        "m{*} + 1",
        5,
        "a query is a single metric query; arithmetic belongs in a formula, found `+`",
    );
    query_err(
        "m{*} by {a}.rollup(sum) / 2",
        24,
        "a query is a single metric query; arithmetic belongs in a formula, found `/`",
    );
    query_err(
        "m{*}, n{*}",
        4,
        "a query is a single metric query, found `,`",
    );
    query_err(
        "1",
        0,
        "expected a metric query (like `avg:system.cpu.user{*}`), found `1`",
    );
    query_err(
        "m{*} x",
        5,
        "expected a method such as `.rollup()`, or end of query, found `x`",
    );
    query_err(
        "m{*",
        3,
        "expected `}` to close the scope opened at position 1, found end of query",
    );
}

#[test]
fn positions_are_byte_offsets() {
    // `é` is two bytes: the error after it is at byte 6, not character 5.
    request_err_at("m{é b}", 5);
    request_err(
        "m{é:x} ?",
        8,
        "expected an operator (`+`, `-`, `*`, `/`), `,` or end of query, found `?`",
    );
}

// ---------------------------------------------------------------- limits

const TOO_DEEP: &str = "query nested too deeply: at most 64 levels of parentheses, function calls, unary minus and chained operators are accepted";

#[test]
fn too_long() {
    let long = format!("m{{{}}}", "a".repeat(MAX_QUERY_BYTES));
    request_err(
        &long,
        MAX_QUERY_BYTES,
        &format!(
            "query too long: {} bytes, at most {MAX_QUERY_BYTES} are accepted",
            long.len()
        ),
    );
    query_err(
        &long,
        MAX_QUERY_BYTES,
        &format!(
            "query too long: {} bytes, at most {MAX_QUERY_BYTES} are accepted",
            long.len()
        ),
    );
    formula_err(
        &"a".repeat(MAX_QUERY_BYTES + 1),
        MAX_QUERY_BYTES,
        &format!(
            "formula too long: {} bytes, at most {MAX_QUERY_BYTES} are accepted",
            MAX_QUERY_BYTES + 1
        ),
    );
    // Exactly at the limit is fine.
    let at_limit = format!("m{{{}}}", "a".repeat(MAX_QUERY_BYTES - 3));
    assert_eq!(at_limit.len(), MAX_QUERY_BYTES);
    parse_request(&at_limit).unwrap();
}

#[test]
fn nesting_limits() {
    let parens = |n: usize| format!("{}a{}", "(".repeat(n), ")".repeat(n));
    parse_formula(&parens(MAX_DEPTH)).unwrap();
    formula_err(&parens(MAX_DEPTH + 1), MAX_DEPTH, TOO_DEEP);

    // A call is a node of the tree: 64 calls over a leaf are 65 levels,
    // reported at the outermost call.
    let calls = |n: usize| format!("{}a{}", "abs(".repeat(n), ")".repeat(n));
    parse_formula(&calls(MAX_DEPTH - 1)).unwrap();
    formula_err(&calls(MAX_DEPTH), 0, TOO_DEEP);
    formula_err(
        &format!("1 + {}", calls(MAX_DEPTH + 5)),
        4 + 4 * MAX_DEPTH,
        TOO_DEEP,
    );

    let minus = |n: usize| format!("{}a", "-".repeat(n));
    parse_formula(&minus(MAX_DEPTH - 1)).unwrap();
    formula_err(&minus(MAX_DEPTH), 0, TOO_DEEP);

    // Chained operators make a tree as tall as the chain.
    let chain = |n: usize| vec!["a"; n].join("+");
    parse_formula(&chain(MAX_DEPTH)).unwrap();
    formula_err(&chain(MAX_DEPTH + 1), 2 * MAX_DEPTH - 1, TOO_DEEP);

    // Scopes nest too.
    let groups = |n: usize| format!("m{{{}a{}}}", "(".repeat(n), ")".repeat(n));
    parse_request(&groups(MAX_DEPTH)).unwrap();
    request_err(&groups(MAX_DEPTH + 1), 2 + MAX_DEPTH, TOO_DEEP);
    let nots = |n: usize| format!("m{{{}a}}", "NOT ".repeat(n));
    parse_request(&nots(MAX_DEPTH)).unwrap();
    request_err(&nots(MAX_DEPTH + 1), 2 + 4 * MAX_DEPTH, TOO_DEEP);
}

/// Inputs as deep as the size limit allows fail cleanly instead of
/// overflowing the stack (this runs on the test harness's small thread stack).
#[test]
fn pathological_nesting_fails_cleanly() {
    let n = MAX_QUERY_BYTES / 4;
    for src in [
        "(".repeat(MAX_QUERY_BYTES),
        "-".repeat(MAX_QUERY_BYTES),
        "abs(".repeat(n),
        format!("m{{{}", "(".repeat(MAX_QUERY_BYTES - 2)),
        format!("m{{{}", "NOT ".repeat(n - 1)),
        format!("m{{{}", "!(".repeat(n - 1)),
        format!("a{}", "+a".repeat(n)),
        format!("a{}", "*(a".repeat(n)),
    ] {
        assert!(parse_request(&src).is_err());
        assert!(parse_formula(&src).is_err());
        assert!(parse_metric_query(&src).is_err());
    }
}

#[test]
fn long_flat_inputs_are_fine() {
    // Width is not depth: long comma lists and IN lists parse.
    let scope = (0..5000)
        .map(|i| format!("host:h{i}"))
        .collect::<Vec<_>>()
        .join(",");
    let q = parse_metric_query(&format!("m{{{scope}}}")).unwrap();
    assert!(matches!(q.scope, Scope::And(ref v) if v.len() == 5000));
    let values = (0..5000)
        .map(|i| format!("h{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let q = parse_metric_query(&format!("m{{host IN ({values})}}")).unwrap();
    assert!(matches!(q.scope, Scope::In { ref values, .. } if values.len() == 5000));
    let many = vec!["m{*}"; 5000].join(",");
    assert_eq!(parse_request(&many).unwrap().exprs.len(), 5000);
}
