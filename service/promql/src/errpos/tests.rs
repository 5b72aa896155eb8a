//! The failure path against a table of real Prometheus 2.42 answers.

use super::*;

/// How our answer relates to Prometheus 2.42's for one query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Agreement {
    /// Same text: position and message.
    Same,
    /// Prometheus accepts it (a quirk of its lexer), the crate does not.
    PrometheusAccepts,
}
use Agreement::*;

/// Bad queries and what Prometheus 2.42 answers (`error` of
/// `/api/v1/query`, without its `invalid parameter "query": ` prefix),
/// recorded from the Debian `prometheus` 2.42.0+ds package; `OK` when
/// it accepts the query.
const PROMETHEUS: &[(&str, &str, Agreement)] = &[
    // --- lexer (55)
    (
        "rate(foo[5m]",
        "1:13: parse error: unclosed left parenthesis",
        Same,
    ),
    (
        "sum(foo",
        "1:8: parse error: unclosed left parenthesis",
        Same,
    ),
    (
        "foo)",
        "1:5: parse error: unexpected right parenthesis ')'",
        Same,
    ),
    ("foo}", "1:4: parse error: unexpected character: '}'", Same),
    ("foo $", "1:5: parse error: unexpected character: '$'", Same),
    (
        "foo[5mm]",
        r#"1:5: parse error: bad duration syntax: "5mm""#,
        Same,
    ),
    ("foo[5m", "1:7: parse error: unclosed left bracket", Same),
    (
        r#"foo{a="b\q"}"#,
        "1:7: parse error: unknown escape sequence U+0071 'q'",
        Same,
    ),
    (
        r#""abc"#,
        "1:1: parse error: unterminated quoted string",
        Same,
    ),
    ("'abc", "1:1: parse error: unterminated quoted string", Same),
    ("`abc", "1:1: parse error: unterminated raw string", Same),
    (
        "sum by (a",
        "1:10: parse error: unclosed left parenthesis",
        Same,
    ),
    (
        "foo{a=~1}",
        "1:8: parse error: unexpected character inside braces: '1'",
        Same,
    ),
    (
        r#"foo{a!"b"}"#,
        r#"1:6: parse error: unexpected character after '!' inside braces: '"'"#,
        Same,
    ),
    (
        "foo[1m:2m:3m]",
        "1:10: parse error: unexpected colon ':'",
        Same,
    ),
    (
        "sum(\n  rate(foo[5m]\n)",
        "3:2: parse error: unclosed left parenthesis",
        Same,
    ),
    (
        "foo{\na=~1}",
        "2:4: parse error: unexpected character inside braces: '1'",
        Same,
    ),
    ("(foo", "1:5: parse error: unclosed left parenthesis", Same),
    (
        "((foo)",
        "1:7: parse error: unclosed left parenthesis",
        Same,
    ),
    (
        "foo))",
        "1:5: parse error: unexpected right parenthesis ')'",
        Same,
    ),
    (
        "foo[[5m]]",
        "1:5: parse error: missing unit character in duration",
        Same,
    ),
    (
        "foo[5m:1m]]",
        "1:11: parse error: unexpected right bracket ']'",
        Same,
    ),
    (
        "abs(foo",
        "1:8: parse error: unclosed left parenthesis",
        Same,
    ),
    (
        "abs(foo,",
        "1:9: parse error: unclosed left parenthesis",
        Same,
    ),
    (
        "foo.bar",
        "1:4: parse error: unexpected character: '.'",
        Same,
    ),
    (
        "5x",
        r#"1:1: parse error: bad number or duration syntax: "5""#,
        Same,
    ),
    (
        "bar offset 5mm",
        r#"1:12: parse error: bad number or duration syntax: "5mm""#,
        Same,
    ),
    ("éfoo", "1:1: parse error: unexpected character: 'é'", Same),
    (
        r#"foo{a="é\q"}"#,
        "1:7: parse error: unknown escape sequence U+0071 'q'",
        Same,
    ),
    (
        r#"foo{a="b", 1}"#,
        "1:12: parse error: unexpected character inside braces: '1'",
        Same,
    ),
    (
        "foo[5m:1m x]",
        "1:11: parse error: unexpected colon 'x'",
        Same,
    ),
    (
        "foo[]",
        "1:5: parse error: missing unit character in duration",
        Same,
    ),
    (
        "foo[ ]",
        "1:6: parse error: missing unit character in duration",
        Same,
    ),
    (
        "foo[x]",
        r#"1:5: parse error: bad duration syntax: """#,
        Same,
    ),
    (
        "foo @ start(",
        "1:13: parse error: unclosed left parenthesis",
        Same,
    ),
    (
        "\"a\nb\"",
        "1:1: parse error: unterminated quoted string",
        Same,
    ),
    (
        r#""a\x""#,
        r#"1:1: parse error: illegal character U+0022 '"' in escape sequence"#,
        Same,
    ),
    (
        r#""a\x4g""#,
        "1:1: parse error: illegal character U+0067 'g' in escape sequence",
        Same,
    ),
    (
        "foo !",
        "1:5: parse error: unexpected character after '!': '�'",
        Same,
    ),
    (
        "foo @ start)",
        "1:13: parse error: unexpected right parenthesis ')'",
        Same,
    ),
    (
        "foo[5m:1m",
        "1:10: parse error: unclosed left bracket",
        Same,
    ),
    (
        r#"foo{a="\u{1}"}"#,
        "1:7: parse error: illegal character U+007B '{' in escape sequence",
        Same,
    ),
    (
        "foo[1y1y]",
        r#"1:5: parse error: bad duration syntax: "1y1""#,
        Same,
    ),
    (
        "abs(foo]",
        "1:8: parse error: unexpected right bracket ']'",
        Same,
    ),
    (
        r#"foo{a="b")"#,
        "1:10: parse error: unexpected character inside braces: ')'",
        Same,
    ),
    (
        "sum(foo) by (a",
        "1:15: parse error: unclosed left parenthesis",
        Same,
    ),
    (
        "foo \"a\nb\"",
        "1:5: parse error: unterminated quoted string",
        Same,
    ),
    (
        "foo / on(a) group_left bar(",
        "1:28: parse error: unclosed left parenthesis",
        Same,
    ),
    ("(", "1:2: parse error: unclosed left parenthesis", Same),
    (
        ")",
        "1:2: parse error: unexpected right parenthesis ')'",
        Same,
    ),
    (
        r#"foo{a="b"#,
        "1:7: parse error: unterminated quoted string",
        Same,
    ),
    (
        r#"foo{a="b"}["#,
        "1:12: parse error: missing unit character in duration",
        Same,
    ),
    (
        r#"foo{a="b"}[5m"#,
        "1:14: parse error: unclosed left bracket",
        Same,
    ),
    (
        r#"foo{a="b"}[5m:"#,
        "1:15: parse error: unclosed left bracket",
        Same,
    ),
    (
        "1 + (2",
        "1:7: parse error: unclosed left parenthesis",
        Same,
    ),
    // --- syntax (89)
    (
        "foo bar",
        r#"1:5: parse error: unexpected identifier "bar""#,
        Same,
    ),
    ("foo +", "1:6: parse error: unexpected end of input", Same),
    ("foo + * bar", "1:7: parse error: unexpected <op:*>", Same),
    (
        "sum by a (foo)",
        r#"1:8: parse error: unexpected identifier "a" in grouping opts, expected "(""#,
        Same,
    ),
    (
        "sum by (1) (foo)",
        r#"1:9: parse error: unexpected number "1" in grouping opts, expected label"#,
        Same,
    ),
    (
        "sum without (a,) (foo) by (b)",
        "1:24: parse error: unexpected <by>",
        Same,
    ),
    (
        "foo{a}",
        r#"1:6: parse error: unexpected "}" in label matching, expected label matching operator"#,
        Same,
    ),
    (
        r#"foo{a="b" c="d"}"#,
        r#"1:11: parse error: unexpected identifier "c" in label matching, expected "," or "}""#,
        Same,
    ),
    (
        r#"foo{=~"x"}"#,
        r#"1:5: parse error: unexpected <op:=~> in label matching, expected identifier or "}""#,
        Same,
    ),
    (
        "foo offset",
        "1:11: parse error: unexpected end of input in offset, expected duration",
        Same,
    ),
    (
        "foo offset bar",
        r#"1:12: parse error: unexpected identifier "bar" in offset, expected duration"#,
        Same,
    ),
    (
        "foo @ bar",
        r#"1:7: parse error: unexpected identifier "bar" in @, expected timestamp"#,
        Same,
    ),
    (
        "sum(foo) by (a) by (b)",
        "1:17: parse error: unexpected <by>",
        Same,
    ),
    (
        r#"foo{a="b"}[5m] offset"#,
        "1:22: parse error: unexpected end of input in offset, expected duration",
        Same,
    ),
    (
        "foo +\nbar baz",
        r#"2:5: parse error: unexpected identifier "baz""#,
        Same,
    ),
    (
        "foo # comment\n+",
        "2:2: parse error: unexpected end of input",
        Same,
    ),
    ("1 +", "1:4: parse error: unexpected end of input", Same),
    (
        "abs(foo,)",
        "1:8: parse error: trailing commas not allowed in function call args",
        Same,
    ),
    (
        "sum(foo,)",
        "1:8: parse error: trailing commas not allowed in function call args",
        Same,
    ),
    ("1.2.3", r#"1:4: parse error: unexpected number ".3""#, Same),
    (
        "foo @ start",
        "1:12: parse error: unexpected end of input in @, expected timestamp",
        Same,
    ),
    (
        r#"foo{a="b"}{c="d"}"#,
        r#"1:11: parse error: unexpected "{""#,
        Same,
    ),
    (
        "sum foo",
        r#"1:5: parse error: unexpected identifier "foo""#,
        Same,
    ),
    (
        "sum(foo +)",
        r#"1:10: parse error: unexpected ")" in aggregation"#,
        Same,
    ),
    (
        "sum(foo bar)",
        r#"1:9: parse error: unexpected identifier "bar" in aggregation"#,
        Same,
    ),
    (
        "sum by (a) foo",
        r#"1:12: parse error: unexpected identifier "foo" in aggregation"#,
        Same,
    ),
    (
        "sum by (a) (foo bar)",
        r#"1:17: parse error: unexpected identifier "bar" in aggregation"#,
        Same,
    ),
    (
        "rate(foo bar)",
        r#"1:10: parse error: unexpected identifier "bar""#,
        Same,
    ),
    ("rate(foo +)", r#"1:11: parse error: unexpected ")""#, Same),
    ("(foo +)", r#"1:7: parse error: unexpected ")""#, Same),
    (
        "(foo bar)",
        r#"1:6: parse error: unexpected identifier "bar""#,
        Same,
    ),
    (
        "foo{,}",
        r#"1:5: parse error: unexpected "," in label matching, expected identifier or "}""#,
        Same,
    ),
    (
        r#"foo{a="b" c}"#,
        r#"1:11: parse error: unexpected identifier "c" in label matching, expected "," or "}""#,
        Same,
    ),
    (
        "foo{a=}",
        r#"1:7: parse error: unexpected "}" in label matching, expected string"#,
        Same,
    ),
    (
        "sum(foo) by (a b)",
        r#"1:16: parse error: unexpected identifier "b" in grouping opts, expected "," or ")""#,
        Same,
    ),
    (
        "sum(foo) by (a,,b)",
        r#"1:16: parse error: unexpected "," in grouping opts, expected label"#,
        Same,
    ),
    (
        "foo + on bar",
        r#"1:10: parse error: unexpected identifier "bar" in grouping opts, expected "(""#,
        Same,
    ),
    (
        "foo + on(a) group_left(a b) bar",
        r#"1:26: parse error: unexpected identifier "b" in grouping opts, expected "," or ")""#,
        Same,
    ),
    (
        "foo[5m 1m]",
        r#"1:8: parse error: unexpected duration "1m" in subquery or range, expected ":" or "]""#,
        Same,
    ),
    (
        r#"foo{a="b"} x"#,
        r#"1:12: parse error: unexpected identifier "x""#,
        Same,
    ),
    ("1 2", r#"1:3: parse error: unexpected number "2""#, Same),
    ("atan2", "1:1: parse error: unexpected <op:atan2>", Same),
    (
        "sum(foo) without",
        r#"1:17: parse error: unexpected end of input in grouping opts, expected "(""#,
        Same,
    ),
    (
        "sum without (foo)",
        "1:18: parse error: unexpected end of input in aggregation",
        Same,
    ),
    (
        r#"x{a="b"}{c="d"}"#,
        r#"1:9: parse error: unexpected "{""#,
        Same,
    ),
    (
        "abs(foo) bool",
        "1:10: parse error: unexpected <bool>",
        Same,
    ),
    (
        "a_very_long_identifier_name blah_blah_blah_blah",
        r#"1:29: parse error: unexpected identifier "blah_blah_blah_blah""#,
        Same,
    ),
    ("1 + [5m]", r#"1:5: parse error: unexpected "[""#, Same),
    (
        "sum(foo) bar",
        r#"1:10: parse error: unexpected identifier "bar""#,
        Same,
    ),
    (
        "sum by (a) (foo) bar",
        r#"1:18: parse error: unexpected identifier "bar""#,
        Same,
    ),
    ("", "1:1: parse error: no expression found in input", Same),
    (
        "   ",
        "1:1: parse error: no expression found in input",
        Same,
    ),
    (
        "# only comment",
        "1:1: parse error: no expression found in input",
        Same,
    ),
    (
        "foo * group_left bar",
        "1:7: parse error: unexpected <group_left>",
        Same,
    ),
    (
        "sum(foo) by (a:b)",
        r#"1:14: parse error: unexpected metric identifier "a:b" in grouping opts, expected label"#,
        Same,
    ),
    (
        "foo @ start(1)",
        r#"1:13: parse error: unexpected number "1" in @, expected timestamp"#,
        Same,
    ),
    (
        "foo @ +",
        "1:8: parse error: unexpected end of input in @, expected timestamp",
        Same,
    ),
    (
        "foo offset -",
        "1:13: parse error: unexpected end of input in offset, expected duration",
        Same,
    ),
    (
        r#"foo{a="a_very_long_string"} "a_very_long_string""#,
        r#"1:29: parse error: unexpected string "\"a_very_lo"..."#,
        Same,
    ),
    (
        "foo 3.1415926535",
        r#"1:5: parse error: unexpected number "3.14159265"..."#,
        Same,
    ),
    (
        r#"foo{a="b"} =="#,
        "1:14: parse error: unexpected end of input",
        Same,
    ),
    (
        "foo{a=\"b\"\n  ,c=\"d\"} bar",
        r#"2:11: parse error: unexpected identifier "bar""#,
        Same,
    ),
    (
        "rate(foo[5m)",
        r#"1:12: parse error: unexpected ")" in subquery or range, expected ":" or "]""#,
        Same,
    ),
    (
        r#"foo{a="\u00e9"} +"#,
        "1:18: parse error: unexpected end of input",
        Same,
    ),
    (
        r#"foo{a="é"} bar"#,
        r#"1:13: parse error: unexpected identifier "bar""#,
        Same,
    ),
    ("foo sum", "1:5: parse error: unexpected <aggr:sum>", Same),
    ("foo by", "1:5: parse error: unexpected <by>", Same),
    (
        "sum(foo) BY (a b)",
        r#"1:16: parse error: unexpected identifier "b" in grouping opts, expected "," or ")""#,
        Same,
    ),
    (
        "foo @ -start()",
        r#"1:8: parse error: unexpected "start" in @, expected timestamp"#,
        Same,
    ),
    (
        "sum(rate(foo bar))",
        r#"1:14: parse error: unexpected identifier "bar" in aggregation"#,
        Same,
    ),
    (
        "sum(abs(foo +))",
        r#"1:14: parse error: unexpected ")" in aggregation"#,
        Same,
    ),
    (
        "count(sum(foo) by (a) x)",
        r#"1:23: parse error: unexpected identifier "x" in aggregation"#,
        Same,
    ),
    (
        "max by (a) (foo) +",
        "1:19: parse error: unexpected end of input",
        Same,
    ),
    (
        "foo{a=\"b\",# comment\nc}",
        r#"2:2: parse error: unexpected "}" in label matching, expected label matching operator"#,
        Same,
    ),
    (
        "foo * ignoring(a) group_right(b c) bar",
        r#"1:33: parse error: unexpected identifier "c" in grouping opts, expected "," or ")""#,
        Same,
    ),
    (
        "histogram_quantile(0.9, rate(foo[5m]) by (le))",
        "1:39: parse error: unexpected <by>",
        Same,
    ),
    (
        "sum by (a) (rate(foo[5m])) without (b)",
        "1:28: parse error: unexpected <without>",
        Same,
    ),
    (
        "stddev by (a)",
        "1:14: parse error: unexpected end of input in aggregation",
        Same,
    ),
    (
        "foo offset 5m @",
        "1:16: parse error: unexpected end of input in @, expected timestamp",
        Same,
    ),
    ("-", "1:2: parse error: unexpected end of input", Same),
    (
        "+foo{",
        "1:6: parse error: unexpected end of input inside braces",
        Same,
    ),
    ("[5m]", r#"1:1: parse error: unexpected "[""#, Same),
    (
        "{",
        "1:2: parse error: unexpected end of input inside braces",
        Same,
    ),
    (
        "foo{",
        "1:5: parse error: unexpected end of input inside braces",
        Same,
    ),
    (
        "foo{a",
        "1:6: parse error: unexpected end of input inside braces",
        Same,
    ),
    (
        "foo{a=",
        "1:7: parse error: unexpected end of input inside braces",
        Same,
    ),
    (
        r#"foo{a="b","#,
        "1:11: parse error: unexpected end of input inside braces",
        Same,
    ),
    ("1 +* 2", "1:4: parse error: unexpected <op:*>", Same),
    (
        r#"foo{a="b"} unless bar{c="d"} or"#,
        "1:32: parse error: unexpected end of input",
        Same,
    ),
    // --- semantic (86)
    (
        "rate(foo)",
        r#"1:6: parse error: expected type range vector in call to function "rate", got instant vector"#,
        Same,
    ),
    (
        "rate(foo[5m], 1)",
        r#"1:1: parse error: expected 1 argument(s) in call to "rate", got 2"#,
        Same,
    ),
    (
        "nope(foo)",
        r#"1:1: parse error: unknown function with name "nope""#,
        Same,
    ),
    (
        "abs()",
        r#"1:1: parse error: expected 1 argument(s) in call to "abs", got 0"#,
        Same,
    ),
    (
        "abs(foo, bar)",
        r#"1:1: parse error: expected 1 argument(s) in call to "abs", got 2"#,
        Same,
    ),
    (
        "round()",
        r#"1:1: parse error: expected at least 1 argument(s) in call to "round", got 0"#,
        Same,
    ),
    (
        r#"label_replace(foo, "a", "b")"#,
        r#"1:1: parse error: expected 5 argument(s) in call to "label_replace", got 3"#,
        Same,
    ),
    (
        "topk(foo)",
        "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1",
        Same,
    ),
    (
        "topk(foo, bar)",
        "1:6: parse error: expected type scalar in aggregation parameter, got instant vector",
        Same,
    ),
    (
        "count_values(1, foo)",
        "1:14: parse error: expected type string in aggregation parameter, got scalar",
        Same,
    ),
    (
        r#"quantile("a", foo)"#,
        "1:10: parse error: expected type scalar in aggregation parameter, got string",
        Same,
    ),
    (
        "sum(rate(foo[5m]))[5m]",
        "1:19: parse error: ranges only allowed for vector selectors",
        Same,
    ),
    (
        "{}",
        "1:1: parse error: vector selector must contain at least one non-empty matcher",
        Same,
    ),
    (
        r#"{a=""}"#,
        "1:1: parse error: vector selector must contain at least one non-empty matcher",
        Same,
    ),
    (
        "foo[5m] + bar",
        "1:1: parse error: binary expression must contain only scalar and instant vector types",
        Same,
    ),
    (
        r#"foo + "a""#,
        "1:7: parse error: binary expression must contain only scalar and instant vector types",
        Same,
    ),
    (
        r#""a" + 1"#,
        "1:1: parse error: binary expression must contain only scalar and instant vector types",
        Same,
    ),
    (
        "1 == 2",
        "1:3: parse error: comparisons between scalars must use BOOL modifier",
        Same,
    ),
    (
        "foo + bool bar",
        "1:5: parse error: bool modifier can only be used on comparison operators",
        Same,
    ),
    (
        "foo and 1",
        r#"1:1: parse error: set operator "and" not allowed in binary scalar expression"#,
        Same,
    ),
    (
        "1 and 2",
        r#"1:1: parse error: set operator "and" not allowed in binary scalar expression"#,
        Same,
    ),
    (
        "rate(foo[5m] offset 1m)[2m]",
        "1:24: parse error: ranges only allowed for vector selectors",
        Same,
    ),
    (
        "(foo + bar)[5m]",
        "1:12: parse error: ranges only allowed for vector selectors",
        Same,
    ),
    (
        r#"-"a""#,
        r#"1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "string""#,
        Same,
    ),
    (
        "-foo[5m]",
        r#"1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "range vector""#,
        Same,
    ),
    (
        "foo +\n\n  rate(bar)",
        r#"3:8: parse error: expected type range vector in call to function "rate", got instant vector"#,
        Same,
    ),
    (
        "foo unless on(a) group_left(a) bar",
        r#"1:5: parse error: label "a" must not occur in ON and GROUP clause at once"#,
        Same,
    ),
    (
        "foo * on(a) group_left(a) bar",
        r#"1:5: parse error: label "a" must not occur in ON and GROUP clause at once"#,
        Same,
    ),
    (
        "foo * on(a) bar * on(a) group_left baz(1)",
        r#"1:36: parse error: unknown function with name "baz""#,
        Same,
    ),
    (
        "0x",
        r#"1:1: parse error: error parsing number: strconv.ParseFloat: parsing "0x": invalid syntax"#,
        Same,
    ),
    (
        "1e",
        r#"1:1: parse error: error parsing number: strconv.ParseFloat: parsing "1e": invalid syntax"#,
        Same,
    ),
    (
        "histogram_quantile(0.9)",
        r#"1:1: parse error: expected 2 argument(s) in call to "histogram_quantile", got 1"#,
        Same,
    ),
    (
        "avg_over_time(foo[5m], 1)",
        r#"1:1: parse error: expected 1 argument(s) in call to "avg_over_time", got 2"#,
        Same,
    ),
    (
        "timestamp(1)",
        r#"1:11: parse error: expected type instant vector in call to function "timestamp", got scalar"#,
        Same,
    ),
    (
        r#"vector("a")"#,
        r#"1:8: parse error: expected type scalar in call to function "vector", got string"#,
        Same,
    ),
    (
        "time(1)",
        r#"1:1: parse error: expected 0 argument(s) in call to "time", got 1"#,
        Same,
    ),
    (
        "foo @ 1 @ 2",
        "1:1: parse error: @ <timestamp> may not be set multiple times",
        Same,
    ),
    (
        "foo offset 1m offset 2m",
        "1:1: parse error: offset may not be set multiple times",
        Same,
    ),
    (
        "foo[5m] offset 1m offset 2m",
        "1:1: parse error: offset may not be set multiple times",
        Same,
    ),
    (
        "sum(foo) offset 1m",
        "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
        Same,
    ),
    (
        r#""a\u00e9" + 1"#,
        "1:1: parse error: binary expression must contain only scalar and instant vector types",
        Same,
    ),
    (
        "foo + bool on(a) bar",
        "1:5: parse error: bool modifier can only be used on comparison operators",
        Same,
    ),
    (
        "sum(1, 2, 3)",
        "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 1, got 3",
        Same,
    ),
    (
        "topk(1, foo, bar)",
        "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 3",
        Same,
    ),
    (
        r#"foo{__name__="a"}"#,
        r#"1:1: parse error: metric name must not be set twice: "foo" or "a""#,
        Same,
    ),
    (
        r#"count_values("a")"#,
        "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1",
        Same,
    ),
    (
        "topk()",
        "1:1: parse error: no arguments for aggregate expression provided",
        Same,
    ),
    (
        "sum()",
        "1:1: parse error: no arguments for aggregate expression provided",
        Same,
    ),
    (
        r#"1 + "a_very_long_string""#,
        "1:5: parse error: binary expression must contain only scalar and instant vector types",
        Same,
    ),
    (
        r#"foo{a="b"} offset 5m[5m]"#,
        "1:21: parse error: no offset modifiers allowed before range",
        Same,
    ),
    (
        r#""\xff" + foo"#,
        "1:1: parse error: binary expression must contain only scalar and instant vector types",
        Same,
    ),
    (
        "foo[0s]",
        "1:5: parse error: duration must be greater than 0",
        Same,
    ),
    (
        "foo[3m5h]",
        r#"1:5: parse error: not a valid duration string: "3m5h""#,
        Same,
    ),
    (
        "foo offset 0s",
        "1:12: parse error: duration must be greater than 0",
        Same,
    ),
    (
        "foo[5m][5m:1m]",
        "1:1: parse error: subquery is only allowed on instant vector, got matrix instead",
        Same,
    ),
    (
        "foo[5m:1m][1m]",
        "1:11: parse error: ranges only allowed for vector selectors",
        Same,
    ),
    (
        "-(foo[5m])",
        r#"1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "range vector""#,
        Same,
    ),
    (
        r#"1 + -"a""#,
        r#"1:5: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "string""#,
        Same,
    ),
    (
        "sum(foo[5m])",
        "1:5: parse error: expected type instant vector in aggregation expression, got range vector",
        Same,
    ),
    (
        "abs(foo[5m])",
        r#"1:5: parse error: expected type instant vector in call to function "abs", got range vector"#,
        Same,
    ),
    (
        r#""a" + on(x) 1"#,
        "1:1: parse error: binary expression must contain only scalar and instant vector types",
        Same,
    ),
    (
        "foo + on(x) 1",
        "1:1: parse error: vector matching only allowed between instant vectors",
        Same,
    ),
    (
        "foo and on(x) group_left bar",
        r#"1:1: parse error: no grouping allowed for "and" operation"#,
        Same,
    ),
    (
        "foo offset 1m[5m]",
        "1:14: parse error: no offset modifiers allowed before range",
        Same,
    ),
    (
        "foo @ 1 [5m]",
        "1:9: parse error: no @ modifiers allowed before range",
        Same,
    ),
    (
        "foo[1h:0s]",
        "1:8: parse error: duration must be greater than 0",
        Same,
    ),
    (
        "foo[0s:1m]",
        "1:5: parse error: duration must be greater than 0",
        Same,
    ),
    (
        "foo offset -0s",
        "1:13: parse error: duration must be greater than 0",
        Same,
    ),
    (
        "1 + on(a) bar",
        "1:1: parse error: vector matching only allowed between instant vectors",
        Same,
    ),
    (
        r#"label_join(foo, "a", ",", "b", 1)"#,
        r#"1:32: parse error: expected type string in call to function "label_join", got scalar"#,
        Same,
    ),
    (
        "sort_desc(foo, bar)",
        r#"1:1: parse error: expected 1 argument(s) in call to "sort_desc", got 2"#,
        Same,
    ),
    (
        "scalar(foo[5m])",
        r#"1:8: parse error: expected type instant vector in call to function "scalar", got range vector"#,
        Same,
    ),
    (
        "absent_over_time(foo)",
        r#"1:18: parse error: expected type range vector in call to function "absent_over_time", got instant vector"#,
        Same,
    ),
    (
        "rate(foo[5m]) offset 1m offset 1m",
        "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
        Same,
    ),
    (
        "foo @ 1 @ start()",
        "1:1: parse error: @ <timestamp> may not be set multiple times",
        Same,
    ),
    (
        "quantile(0.5)",
        "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1",
        Same,
    ),
    (
        "topk(3, foo[5m])",
        "1:9: parse error: expected type instant vector in aggregation expression, got range vector",
        Same,
    ),
    (
        r#"count_values("v", foo[1m])"#,
        "1:19: parse error: expected type instant vector in aggregation expression, got range vector",
        Same,
    ),
    (
        "round(foo, 1, 2)",
        r#"1:1: parse error: expected at most 2 argument(s) in call to "round", got 3"#,
        Same,
    ),
    (
        "clamp(foo, 1)",
        r#"1:1: parse error: expected 3 argument(s) in call to "clamp", got 2"#,
        Same,
    ),
    (
        "vector(1)[5m]",
        "1:10: parse error: ranges only allowed for vector selectors",
        Same,
    ),
    (
        "time() + foo[1m]",
        "1:10: parse error: binary expression must contain only scalar and instant vector types",
        Same,
    ),
    (
        "foo or 2",
        r#"1:1: parse error: set operator "or" not allowed in binary scalar expression"#,
        Same,
    ),
    (
        r#""a" or foo"#,
        "1:1: parse error: binary expression must contain only scalar and instant vector types",
        Same,
    ),
    (
        "abs(nope(foo))",
        r#"1:5: parse error: unknown function with name "nope""#,
        Same,
    ),
    (
        "nope(abs(foo))",
        r#"1:1: parse error: unknown function with name "nope""#,
        Same,
    ),
    // --- errors of grammar actions come before later syntax errors
    (
        "su(a)m(-foo[",
        r#"1:1: parse error: unknown function with name "su""#,
        Same,
    ),
    (
        "r+ate(fo+o[m] offset 1m)[2m]",
        r#"1:12: parse error: not a valid duration string: "m""#,
        Same,
    ),
    (
        "su(foo) by (sum, by, .on)",
        r#"1:1: parse error: unknown function with name "su""#,
        Same,
    ),
    (
        "+@1 +",
        r#"1:2: parse error: unexpected "<Item 57385>" <op:@>"#,
        Same,
    ),
    (
        "suoffsetm(foono) ofboolfset 1m",
        r#"1:1: parse error: unknown function with name "suoffsetm""#,
        Same,
    ),
    (
        "foo unless on(@a) group",
        r#"1:15: parse error: unexpected "<Item 57385>" <op:@> in grouping opts, expected label"#,
        Same,
    ),
    (
        "rate(foo[m:1m])",
        r#"1:10: parse error: not a valid duration string: "m""#,
        Same,
    ),
    (
        "@",
        r#"1:1: parse error: unexpected "<Item 57385>" <op:@>"#,
        Same,
    ),
    (
        "nope(abs(foando())",
        r#"1:10: parse error: unknown function with name "foando""#,
        Same,
    ),
    (
        r#"foo{a="b"}[m:"#,
        r#"1:12: parse error: not a valid duration string: "m""#,
        Same,
    ),
    (
        "nope(foo)(",
        r#"1:1: parse error: unknown function with name "nope""#,
        Same,
    ),
    (
        "srt_sc(foo, bar)bool",
        r#"1:1: parse error: unknown function with name "srt_sc""#,
        Same,
    ),
    (
        "foo * on(a) bar * on(a) group_left ",
        r#"1:36: parse error: unexpected end of input in grouping opts, expected "(""#,
        Same,
    ),
    (
        r#"label_replace(up, ,"a",  "b", "(.1*)")"#,
        "1:17: parse error: trailing commas not allowed in function call args",
        Same,
    ),
    // --- @ bounds, durations before lexer errors, operand checks first
    (
        "foo [0s}]",
        "1:6: parse error: duration must be greater than 0",
        Same,
    ),
    (
        "foo[5m:1m] @ -5 unless inf",
        "1:1: parse error: binary expression must contain only scalar and instant vector types",
        Same,
    ),
    (
        "rate(foo[5m]) @ 1e30 @ 100",
        "1:1: parse error: timestamp out of bounds for @ modifier: 1000000000000000019884624838656.000000",
        Same,
    ),
    (
        "foo[5m] @ 1e30 offset 0s > bool (foo) atan2 topk(2, foo) [30m1h]",
        "1:1: parse error: timestamp out of bounds for @ modifier: 1000000000000000019884624838656.000000",
        Same,
    ),
    (
        "1 / on(a) (foo) [5m:] @ 1e30 == abs(foo) offset 1y2y",
        "1:11: parse error: timestamp out of bounds for @ modifier: 1000000000000000019884624838656.000000",
        Same,
    ),
    (
        "time() and+ foo[1m]",
        r#"1:11: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "range vector""#,
        Same,
    ),
    // --- accepted by promql-parser (a later Prometheus), refused by 2.42
    // (6), and the one 2.42 accepts by a quirk of its lexer
    (
        "foo[5]",
        "1:5: parse error: missing unit character in duration",
        Same,
    ),
    (
        r#"sum(foo) by (a, "b")"#,
        r#"1:17: parse error: unexpected string "\"b\"" in grouping opts, expected label"#,
        Same,
    ),
    (
        "foo[1m:5]",
        r#"1:8: parse error: unexpected number "5" in subquery selector, expected duration or "]""#,
        Same,
    ),
    ("foo[5m x 1m]", "OK", PrometheusAccepts),
    (
        "foo offset 5",
        r#"1:12: parse error: unexpected number "5" in offset, expected duration"#,
        Same,
    ),
    (
        "1 + 5m",
        r#"1:5: parse error: unexpected duration "5m""#,
        Same,
    ),
    (
        "1e999",
        r#"1:1: parse error: error parsing number: strconv.ParseFloat: parsing "1e999": value out of range"#,
        Same,
    ),
];

/// Queries on which `promql-parser` 0.11 panics, with Prometheus'
/// answers: the panic is caught and the error placed as for any other.
const CRATE_PANICS: &[(&str, &str)] = &[
    (
        "foo offset 1e30",
        r#"1:12: parse error: unexpected number "1e30" in offset, expected duration"#,
    ),
    (
        "foo[99999999999999999999]",
        "1:5: parse error: missing unit character in duration",
    ),
    (
        "foo offset nan",
        r#"1:12: parse error: unexpected number "nan" in offset, expected duration"#,
    ),
    (
        "rate(foo[4444444444444444444444453] offset 1m)[2m]",
        "1:10: parse error: missing unit character in duration",
    ),
];

#[test]
fn a_panic_of_the_crate_is_a_parse_error() {
    for &(query, prometheus) in CRATE_PANICS {
        assert!(
            std::panic::catch_unwind(|| promql_parser::parser::parse(query)).is_err(),
            "the crate no longer panics on {query:?}: move it to PROMETHEUS"
        );
        assert_eq!(error_of(query).as_deref(), Some(prometheus), "{query:?}");
    }
}

/// Queries `promql-parser` 0.11 accepts and Prometheus 2.42 refuses, with
/// 2.42's answers (`/api/v1/query`; found by the random mutations): the
/// crate's success is checked against 2.42's recogniser.
const CRATE_ACCEPTS: &[(&str, &str)] = &[
    ("5m", r#"1:1: parse error: unexpected duration "5m""#),
    (
        "foo offset 0",
        r#"1:12: parse error: unexpected number "0" in offset, expected duration"#,
    ),
    (
        r#"foo{a="b"} @ 1e30"#,
        "1:1: parse error: timestamp out of bounds for @ modifier: 1000000000000000019884624838656.000000",
    ),
    (
        "foo offset -1h @ 1e30",
        "1:1: parse error: timestamp out of bounds for @ modifier: 1000000000000000019884624838656.000000",
    ),
    (
        "-foo @ 1e30",
        "1:2: parse error: timestamp out of bounds for @ modifier: 1000000000000000019884624838656.000000",
    ),
];

#[test]
fn what_the_crate_accepts_and_2_42_refuses_is_refused() {
    let six = PROMETHEUS
        .iter()
        .filter(|c| c.2 == Same && crate_parse(c.0).is_ok())
        .map(|c| (c.0, c.1));
    let mut n = 0;
    for (query, prometheus) in CRATE_ACCEPTS.iter().copied().chain(six) {
        assert!(
            crate_parse(query).is_ok(),
            "the crate now refuses {query:?}"
        );
        assert_eq!(error_of(query).as_deref(), Some(prometheus), "{query:?}");
        n += 1;
    }
    // The six of the table (`foo[5]`, `1e999`, ...) and the five above.
    assert_eq!(n, 11);
}

/// The error text of `query`, or `None` if it parses.
fn error_of(query: &str) -> Option<String> {
    match parse(query) {
        Ok(_) => None,
        Err(e) => Some(e.to_string()),
    }
}

/// Functions and aggregations the crate knows but 2.42 does not are
/// unknown functions, and `holt_winters` is 2.42's name for the
/// crate's `double_exponential_smoothing`; answers of a real
/// Prometheus 2.42 (`/api/v1/query`).
const VERSION_2_42: &[(&str, &str)] = &[
    (
        r#"sort_by_label(foo, "a")"#,
        r#"1:1: parse error: unknown function with name "sort_by_label""#,
    ),
    (
        "1 + mad_over_time(foo[5m])",
        r#"1:5: parse error: unknown function with name "mad_over_time""#,
    ),
    (
        "limitk(2, foo)",
        r#"1:1: parse error: unknown function with name "limitk""#,
    ),
    (
        "limitk by (a) (2, foo)",
        "1:8: parse error: unexpected <by>",
    ),
    (
        "sum(limit_ratio(0.5, foo))",
        r#"1:5: parse error: unknown function with name "limit_ratio""#,
    ),
    (
        "double_exponential_smoothing(foo[5m], 0.5, 0.5)",
        r#"1:1: parse error: unknown function with name "double_exponential_smoothing""#,
    ),
    (
        "double_exponential_smoothing(foo, 0.5, 0.5)",
        r#"1:1: parse error: unknown function with name "double_exponential_smoothing""#,
    ),
    (
        "holt_winters(foo[5m], 0.5, 0.5) + double_exponential_smoothing(foo[5m], 0.5, 0.5)",
        r#"1:35: parse error: unknown function with name "double_exponential_smoothing""#,
    ),
    (
        "holt_winters(foo, 0.5, 0.5)",
        r#"1:14: parse error: expected type range vector in call to function "holt_winters", got instant vector"#,
    ),
    (
        "holt_winters(foo[5m], 0.5)",
        r#"1:1: parse error: expected 3 argument(s) in call to "holt_winters", got 2"#,
    ),
    (
        "sum(holt_winters(foo[5m], 0.5))",
        r#"1:5: parse error: expected 3 argument(s) in call to "holt_winters", got 2"#,
    ),
    (
        r#"holt_winters(foo[5m], "a", 0.5)"#,
        r#"1:23: parse error: expected type scalar in call to function "holt_winters", got string"#,
    ),
    (
        "HOLT_WINTERS(foo[5m], 0.5, 0.5)",
        r#"1:1: parse error: unknown function with name "HOLT_WINTERS""#,
    ),
    (
        r#"sort_by_label(foo, "a") + rate(foo)"#,
        r#"1:1: parse error: unknown function with name "sort_by_label""#,
    ),
    (
        r#"rate(foo) + sort_by_label(foo, "a")"#,
        r#"1:13: parse error: unknown function with name "sort_by_label""#,
    ),
    (
        r#"sort_by_label(foo, "a") +"#,
        r#"1:1: parse error: unknown function with name "sort_by_label""#,
    ),
    (
        "info(foo)",
        r#"1:1: parse error: unknown function with name "info""#,
    ),
    (
        "topk(scalar(ts_of_max_over_time(foo[5m])), foo)",
        r#"1:13: parse error: unknown function with name "ts_of_max_over_time""#,
    ),
    (
        "foo + on(a) fill(0) bar",
        r#"1:13: parse error: unknown function with name "fill""#,
    ),
    (
        "foo\n  + sort_by_label(bar)",
        r#"2:5: parse error: unknown function with name "sort_by_label""#,
    ),
    (
        "first_over_time(foo[5m])",
        r#"1:1: parse error: unknown function with name "first_over_time""#,
    ),
    (
        "histogram_avg(foo)",
        r#"1:1: parse error: unknown function with name "histogram_avg""#,
    ),
];

#[test]
fn only_prometheus_2_42_functions_are_known() {
    for &(query, prometheus) in VERSION_2_42 {
        assert_eq!(
            error_of(query).as_deref(),
            Some(prometheus),
            "query {query:?}"
        );
    }
    // The name holt_winters is taken as a function only where it is
    // called; the call is the crate's double exponential smoothing
    // under 2.42's name.
    let q =
        r#"holt_winters{holt_winters="holt_winters("} + holt_winters(holt_winters[1m], 0.1, 0.2)"#;
    let Expr::Binary(b) = parse(q).unwrap() else {
        panic!("not a binary expression")
    };
    let Expr::VectorSelector(vs) = &*b.lhs else {
        panic!("lhs {:?}", b.lhs)
    };
    assert_eq!(vs.name.as_deref(), Some("holt_winters"));
    assert_eq!(vs.matchers.matchers[0].value, "holt_winters(");
    let Expr::Call(c) = &*b.rhs else {
        panic!("rhs {:?}", b.rhs)
    };
    assert_eq!(c.func.name, "holt_winters");
    assert_eq!(c.args.len(), 3);
    assert_eq!(parse(q).unwrap().value_type(), ValueType::Vector);
}

/// `match[]` of the metadata API (`parser.ParseMetricSelector`):
/// answers of a real Prometheus 2.42 (`/api/v1/labels`).
#[test]
fn metric_selectors_parse_as_prometheus_does() {
    let err = |s: &str| parse_metric_selector(s).unwrap_err().to_string();
    for (sel, prometheus) in [
        ("1", r#"1:1: parse error: unexpected number "1""#),
        ("foo +", "1:5: parse error: unexpected <op:+>"),
        ("rate(foo[5m])", r#"1:5: parse error: unexpected "(""#),
        ("sum(foo)", r#"1:4: parse error: unexpected "(""#),
        (
            r#""str""#,
            r#"1:1: parse error: unexpected string "\"str\"""#,
        ),
        ("foo[5m]", r#"1:4: parse error: unexpected "[""#),
        ("foo offset 5m", "1:5: parse error: unexpected <offset>"),
        (
            "foo @ 100",
            r#"1:5: parse error: unexpected "<Item 57385>" <op:@>"#,
        ),
        ("(foo)", r#"1:1: parse error: unexpected "(""#),
        ("", "1:1: parse error: unexpected end of input"),
        ("   ", "1:4: parse error: unexpected end of input"),
        (r#"{a="b"} {c="d"}"#, r#"1:9: parse error: unexpected "{""#),
        ("sum by (a)", "1:5: parse error: unexpected <by>"),
        ("nan", r#"1:1: parse error: unexpected number "nan""#),
        (
            "foo{",
            "1:5: parse error: unexpected end of input inside braces",
        ),
        ("foo}", "1:4: parse error: unexpected character: '}'"),
        ("-foo", "1:1: parse error: unexpected <op:->"),
        ("foo $", "1:5: parse error: unexpected character: '$'"),
        (r#"on{a="b"}"#, "1:1: parse error: unexpected <on>"),
        ("bool", "1:1: parse error: unexpected <bool>"),
        ("atan2", "1:1: parse error: unexpected <op:atan2>"),
        ("group_left", "1:1: parse error: unexpected <group_left>"),
        (
            r#"{a="b" or c="d"}"#,
            r#"1:8: parse error: unexpected identifier "or" in label matching, expected "," or "}""#,
        ),
        (r#"foo{a="b"}[5m]"#, r#"1:11: parse error: unexpected "[""#),
        (
            r#"foo{a="\q"}"#,
            "1:7: parse error: unknown escape sequence U+0071 'q'",
        ),
    ] {
        assert_eq!(err(sel), prometheus, "selector {sel:?}");
    }
    // A bad regex: Prometheus' position (the label), the regex crate's
    // words; before a later syntax error, as a grammar action's.
    for sel in [r#"{a=~"(", b"#, r#"{a=~"[", b="c"}"#] {
        assert!(
            err(sel).starts_with("1:2: parse error: "),
            "{sel}: {}",
            err(sel)
        );
    }
    let names = |s: &str| -> Vec<String> {
        parse_metric_selector(s)
            .unwrap()
            .iter()
            .map(|m| format!("{}{}{:?}", m.name, m.op, m.value))
            .collect()
    };
    assert_eq!(names("{}"), Vec::<String>::new());
    assert_eq!(names("foo"), [r#"__name__="foo""#]);
    assert_eq!(
        names(r#"foo:bar{a="x\"y", b!='z', c=~`.+`, d!~"e",}"#),
        [
            r#"__name__="foo:bar""#,
            r#"a="x\"y""#,
            r#"b!="z""#,
            r#"c=~".+""#,
            r#"d!~"e""#
        ]
    );
    for name in ["without", "offset", "or", "quantile", "end", "sum", "by"] {
        assert_eq!(names(name), [format!("__name__={name:?}")]);
    }
    let m = parse_metric_selector(r#"{a=~"b|c"}"#).unwrap();
    assert!(
        m[0].is_match("c") && !m[0].is_match("bc"),
        "regexes are anchored"
    );
    let m = parse_metric_selector(r#"{a=~"\\d", b!~"\\w+"}"#).unwrap();
    assert!(
        m[0].is_match("3") && !m[0].is_match("\u{663}"),
        "Go's ASCII \\d"
    );
    assert!(
        m[1].is_match("é") && !m[1].is_match("abc"),
        "Go's ASCII \\w"
    );
    // Unlike a query, nothing refuses a metric name set twice.
    assert_eq!(names(r#"foo{__name__="bar"}"#).len(), 2);
}

#[test]
fn answers_as_prometheus_does() {
    let mut same = 0;
    for &(query, prometheus, agreement) in PROMETHEUS {
        let ours = error_of(query);
        match agreement {
            Same => {
                assert_eq!(ours.as_deref(), Some(prometheus), "query {query:?}");
                same += 1;
            }
            PrometheusAccepts => {
                assert_eq!(prometheus, "OK");
                assert!(ours.is_some(), "query {query:?} now parses");
            }
        }
    }
    // The count the module doc reports.
    assert!(same >= 256, "only {same} exact answers");
}

#[test]
fn the_table_covers_each_kind_of_error() {
    let has = |needle: &str| PROMETHEUS.iter().any(|c| c.1.contains(needle));
    for needle in [
        "unclosed left parenthesis",
        "unclosed left bracket",
        "inside braces",
        "unterminated quoted string",
        "bad duration syntax",
        "bad number or duration syntax",
        "in grouping opts",
        "in label matching",
        "in aggregation",
        "in offset",
        "in @",
        "in subquery",
        "unknown function",
        "argument(s) in call to",
        "expected type range vector",
        "binary expression must contain only",
        "ranges only allowed",
        "duration must be greater than 0",
    ] {
        assert!(has(needle), "no case for {needle:?}");
    }
    assert!(PROMETHEUS.iter().filter(|c| c.0.contains('\n')).count() >= 5);
}

#[test]
fn valid_queries_parse() {
    for query in [
        "foo",
        "sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m]))",
        "foo[5m:1m] offset 1h @ end()",
        "histogram_quantile(0.9, sum by (le) (rate(bucket[5m])))",
        "foo{a=\"b\",}",
        "foo + on(a) group_left(b) bar",
        "-1 ^ 2",
        "# comment\nfoo",
    ] {
        assert!(
            error_of(query).is_none(),
            "{query:?}: {:?}",
            error_of(query)
        );
    }
}

#[test]
fn the_recogniser_accepts_what_2_42_accepts() {
    // The crate accepts each, and so did a real Prometheus 2.42
    // (`/api/v1/query`); each is read by the recogniser after the crate,
    // which must not refuse it (a false refusal breaks a dashboard). The
    // corners of 2.42's lexer and grammar: keywords as names, signs, `@`
    // and `offset` in either order, every kind of number and string,
    // keywords in any case, comments and line breaks.
    for query in [
        "- - - 1",
        "---metric @ 100",
        "2 ^ - - 1",
        "1 + +1",
        "SUM(http_requests) BY (job) % 2 ^ 3 ^ 2 ^ 2",
        "http_requests AND IGNORING (group, instance, job) vector(1)",
        "node_cpu / on (instance) group_left sum by (instance,job)(node_cpu)",
        "foo > bool on(a) group_left() bar",
        "random + on() metricA",
        "-{__name__=~'testmetric1|testmetric2'}",
        "metric offset 50s @ 100",
        "metric @ 0 offset -50s",
        "metric_ms @ 1.234",
        "foo @ 0x10",
        "foo @ .5",
        "foo @ -5",
        "sum_over_time(minute()[50m:1m] @ 6000 offset 5m)",
        "rate(sum_over_time((metric1+metric2+metric3)[30s:10s])[30s:10s])",
        "foo[5m:1m] @ start() offset 5m",
        "by",
        "offset",
        "start",
        "end",
        "sum",
        "topk",
        "foo:bar:baz",
        ":foo",
        r#"foo{by="a", on="b", offset="c", bool="d", sum="e", start="f", group_left="g"}"#,
        "sum by (on, by, offset, bool, sum, start, and, or, unless, atan2) (foo)",
        "foo and on(group_left, offset) bar",
        "sum without () (foo)",
        "sum(foo)without(a)",
        "topk(2,foo)by(a)",
        r#"count_values by (a) ("v", foo)"#,
        "foo # trailing comment",
        "foo\r\n+ bar",
        "foo\t+\tbar",
        "foo[2h3m4s5ms]",
        "foo[1y]",
        "'single'",
        r#""a\"b""#,
        r#""\u00e9""#,
        r#""\x41""#,
        r#""\101""#,
        r#""\U0001F600""#,
        r#""\a\b\f\n\r\t\v\\""#,
        r"'\''",
        "`raw`",
        "0X1f",
        "1E-3",
        "5.",
        "1.5e+3",
        "-Inf",
        "+Inf",
        "nan",
        "iNf",
        "Infinity",
        "Sum By (a) (foo)",
        "FOO",
        "foo @ 10 OFFSET 5m",
        "foo * ON(a) GROUP_LEFT(b) bar",
        "foo ATAN2 bar",
        "foo{}",
        "(foo + bar)[5m:1m]",
        "holt_winters(foo[5m], 0.5, 0.5)",
        "histogram_fraction(0, 1, foo)",
    ] {
        assert!(crate_parse(query).is_ok(), "the crate refuses {query:?}");
        assert_eq!(error_of(query), None, "{query:?}");
    }
}

#[test]
fn columns_count_bytes_and_lines_restart() {
    // `é` is two bytes: Prometheus counts bytes.
    assert_eq!(line_col("é x", 3), "1:4");
    assert_eq!(line_col("ab\ncd", 3), "2:1");
    assert_eq!(line_col("ab\ncd", 5), "2:3");
    assert_eq!(line_col("ab", 99), "1:3");
    match parse("foo{a=\"é\"} bar") {
        Err(PromError::Parse { position, .. }) => assert_eq!(position, 12),
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_prefix_gets_an_answer_inside_the_query() {
    // Truncated queries are the commonest bad input (a user typing).
    for &(query, _, _) in PROMETHEUS {
        for (end, _) in query.char_indices().chain([(query.len(), ' ')]) {
            let prefix = &query[..end];
            if let Err(PromError::Parse { position, message }) = parse(prefix) {
                assert!(position <= prefix.len(), "{prefix:?}: {message}");
                assert!(message.contains(": parse error: "), "{message}");
            }
        }
    }
}

#[test]
fn every_prefix_of_a_selector_gets_an_answer_inside_it() {
    // The 257 queries of the table, read as `match[]`: a selector, or
    // an error placed inside the text; never a panic.
    for &(query, _, _) in PROMETHEUS {
        for (end, _) in query.char_indices().chain([(query.len(), ' ')]) {
            let prefix = &query[..end];
            match parse_metric_selector(prefix) {
                Err(PromError::Parse { position, message }) => {
                    assert!(position <= prefix.len(), "{prefix:?}: {message}");
                    assert!(message.contains(": parse error: "), "{message}");
                }
                Err(other) => panic!("{prefix:?}: {other}"),
                Ok(_) => {}
            }
        }
    }
}

#[test]
fn a_long_chain_is_searched_within_the_budget() {
    // The error at the bottom of a left spine of 3000 additions: a
    // full search would re-parse about 3000 spans of up to 12 KB.
    let query = format!("rate(a){}", " + a".repeat(3000));
    let t = std::time::Instant::now();
    let answer = error_of(&query).expect("rate(a) is a type error");
    assert!(answer.ends_with("got instant vector"), "{answer}");
    // Debug build, shared machine: 0.8 s; the unbounded search took 50 s.
    assert!(t.elapsed().as_secs() < 4, "{:?}", t.elapsed());
    // The search may stop inside a nesting of parentheses: still the
    // type error, and no panic.
    for depth in [200, 201] {
        let nested = format!("{}\"s\"{}", "(".repeat(depth), " + a)".repeat(depth));
        let answer = error_of(&nested).expect("a string operand");
        assert!(answer.ends_with("instant vector types"), "{answer}");
    }
    // A short chain is searched to the end: Prometheus' position.
    assert_eq!(
        error_of("rate(a) + a + a").as_deref(),
        Some(
            r#"1:6: parse error: expected type range vector in call to function "rate", got instant vector"#
        )
    );
}

#[test]
fn deep_nesting_is_bounded() {
    let deep = format!("{}foo{} +", "(".repeat(5000), ")".repeat(5000));
    let shallow = format!("{}foo{} +", "(".repeat(100), ")".repeat(100));
    // Run on a Tokio worker's stack size.
    let answers = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || (error_of(&deep), error_of(&shallow)))
        .expect("spawn")
        .join()
        .expect("no overflow");
    // Too deep to look into: the crate's message at the start; a valid
    // query that deep stays valid (the recogniser gives up, the crate's
    // success stands).
    let valid = format!("{}foo{}", "(".repeat(400), ")".repeat(400));
    let accepted = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || error_of(&valid))
        .expect("spawn")
        .join()
        .expect("no overflow");
    assert_eq!(accepted, None);
    assert_eq!(
        answers.0.as_deref(),
        Some("1:1: parse error: invalid promql query")
    );
    assert_eq!(
        answers.1.as_deref(),
        Some("1:206: parse error: unexpected end of input")
    );
}

/// What 2.42's recogniser adds to the parse of a valid query; prints, does
/// not assert (the figures of the module doc). Run in release:
/// `cargo test --release -p whippet-promql --lib valid_query_cost -- --ignored --nocapture`.
#[test]
#[ignore]
fn valid_query_cost() {
    fn per_call(f: impl Fn()) -> f64 {
        const CALLS: u32 = 2000;
        // The best of 5 rounds: the machine is shared.
        (0..5)
            .map(|_| {
                let t = std::time::Instant::now();
                for _ in 0..CALLS {
                    f();
                }
                t.elapsed().as_secs_f64() * 1e6 / f64::from(CALLS)
            })
            .fold(f64::INFINITY, f64::min)
    }
    for query in [
        "up",
        r#"sum by (job) (rate(http_requests_total{code=~"5.."}[5m]))"#,
        r#"sum by (job) (rate(http_requests_total{code=~"5.."}[5m])) / on(job) group_left sum by (job) (rate(http_requests_total[5m]))"#,
        r#"histogram_quantile(0.99, sum by (le, service) (rate(request_duration_seconds_bucket{env="prod", service=~"api|web"}[5m] offset 1h))) > bool 0.5"#,
    ] {
        let crate_only = per_call(|| {
            let e = crate_parse(std::hint::black_box(query)).expect("valid");
            assert!(beyond_2_42(&e).is_none());
        });
        let recogniser = per_call(|| {
            assert!(refused_by_2_42(std::hint::black_box(query)).is_none());
        });
        println!(
            "{:4} bytes: crate parse + walk {crate_only:7.2} us, 2.42 recogniser {recogniser:6.2} us (+{:.0}%)",
            query.len(),
            100.0 * recogniser / crate_only
        );
    }
}
