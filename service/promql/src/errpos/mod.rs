//! Parsing with Prometheus' error form: `<line>:<col>: parse error: <msg>`.
//!
//! ## What it owns
//! [`parse`], the one entry point the rest of Whippet parses PromQL through,
//! and [`parse_metric_selector`], the `match[]` of the metadata API. A
//! valid query costs one call of `promql_parser::parser::parse`, one walk
//! of its tree, and one pass of Prometheus 2.42's lexer and recogniser
//! (below), which refuses what the crate accepts and 2.42 does not. When
//! the crate fails, the same pieces, and a culprit search that runs only
//! then, recover what the crate drops: *where* the error is, and
//! Prometheus 2.42's wording of it.
//!
//! ## Prometheus 2.42's language, not the crate's
//! The crate follows a later Prometheus. It knows `holt_winters` only as
//! `double_exponential_smoothing`: the 2.42 name is registered with the
//! crate once per process (see `register_holt_winters`). It accepts
//! functions and aggregations 2.42 lacks (`sort_by_label`, `limitk`,
//! `double_exponential_smoothing` itself, ...) and `fill` modifiers: the
//! walk of a parsed tree (`beyond_2_42`) finds them, and the query then
//! takes the failure path below, whose recogniser reads 2.42's language
//! and gives 2.42's error (`unknown function with name "limitk"`, or the
//! syntax error 2.42 meets first) at 2.42's position.
//!
//! ## How the position is recovered
//! The crate's lexer and grammar are ports of Prometheus' own, but its
//! `parse` returns a bare message (`invalid promql query` for every syntax
//! error, no offset for any error). We re-read the query with three pieces
//! that follow Prometheus 2.42's parser, not the crate's (the first two
//! for every query, the third on failure only):
//!
//! 1. **A lexer** (`lex`) that mirrors `promql/parser/lex.go`: the same
//!    states (statements, inside braces, the duration after `[`, strings
//!    and their escapes), the same messages (`unexpected character: '$'`,
//!    `bad duration syntax: "5mm"`, ...), and the same position: the start
//!    of the item being scanned (`l.start`), which is the end of the input
//!    for `unclosed left parenthesis`.
//! 2. **A recogniser** (`Recogniser`): recursive descent with precedence
//!    climbing over those tokens, accepting the language of
//!    `generated_parser.y`. Yacc reports the first token that cannot extend
//!    a valid prefix, as `unexpected <token>` plus the context of the
//!    innermost error rule on its stack (`in label matching, expected
//!    string`, `in grouping opts`, `in aggregation`, ...); the recogniser
//!    stops at the same token and names the same context. A lexer error is
//!    reported only when the recogniser reaches it, as Prometheus' parser
//!    pulls tokens lazily: a syntax error before it wins. Prometheus'
//!    grammar actions also report errors while parsing goes on (unknown
//!    function, bad duration or number, an `@` time out of bounds, a range
//!    or `offset` on the wrong expression, an aggregation's argument
//!    count); the recogniser makes
//!    the same checks as each node completes, and the first such error
//!    wins over any later one, as in Prometheus' error list.
//! 3. **A culprit search** for errors the grammar accepts but the type
//!    checks reject (`expected type range vector in call to function
//!    "rate"`, wrong arity, `ranges only allowed for vector selectors`).
//!    The recogniser's tree gives every sub-expression's span; the crate
//!    re-parses spans from the root down to the smallest one that still
//!    fails with the same message. That node, its children's types and the
//!    message say which position Prometheus names: the node's start, an
//!    argument's, the operator's, the `[`, or a duration's.
//!
//! The message of a semantic error is the crate's, reworded as Prometheus
//! words it (`"rate"` not `'rate'`, `range vector` not `matrix`).
//!
//! Columns are 1-based and count bytes, as Prometheus does
//! (`ParseErr.Error`): `é` is two columns.
//!
//! Cost of a failure (release build, 2-core machine under load): a syntax
//! error about twice the time of the failed parse itself (140 µs for a
//! 60-byte query whose valid form parses in 78 µs), a type error about
//! three times (460 µs against 145 µs), since the culprit search re-parses
//! spans; that search has a budget so a hostile query stays cheap.
//!
//! Cost of a valid query: the recogniser's pass (lexing, then descent
//! without the culprit search) adds 2 to 10% to the crate's parse and
//! walk. Release build, 2-core machine, best of 5 rounds of 2000 calls
//! (`tests::valid_query_cost`): `up` 0.66 µs + 0.07 µs; a 57-byte
//! `sum by (job) (rate(...{code=~"5.."}[5m]))` 26 µs + 0.6 µs; a 123-byte
//! ratio with `on(job) group_left` 30 µs + 1.3 µs; a 143-byte
//! `histogram_quantile(...) > bool 0.5` 15 µs + 1.3 µs. The engine parses
//! through [`parse_shared`], so this is paid once per distinct query text.
//!
//! ## Agreement with Prometheus
//! The tests hold 257 queries with the answer of a real Prometheus 2.42
//! (lexer, syntax and type errors, multi-line queries). For all 256 that
//! Prometheus rejects, our text is Prometheus' byte for byte, including
//! the six the crate accepts (`foo[5]`, `foo[1m:5]`, `foo offset 5`,
//! `1 + 5m`, `sum(foo) by (a, "b")`, `1e999`), which the recogniser
//! refuses after the crate's success. One query Prometheus accepts by a
//! quirk (`foo[5m x 1m]`) the crate rejects; we answer its message at 1:1.
//! On 1400 random queries (mutations of those: inserted, deleted and
//! truncated fragments; and chains of operands, modifiers and operators),
//! all 1400 answers are Prometheus' exactly (the crate accepts 6 of them:
//! `5m`, `1 + 5m`, `foo offset 0`, `foo @ 1e30`...). Of 11,203 inputs of
//! the fuzz target's corpus, 30 are accepted by the crate and refused by
//! the recogniser (a form feed as a space, `{"a"}`, `o[0.2]`,
//! `foo[5h399999999999m]`, `30m`, ...): Prometheus 2.42 refuses all 30,
//! in our words.
//!
//! The recogniser's verdict on a query the crate accepts is taken only
//! when it is a syntax, lexer or grammar-action error; nesting too deep
//! for it leaves the crate's word (accepted). None of the queries of the
//! golden corpus (3,999 `eval`s) nor of the end-to-end comparisons with
//! Prometheus (222) is refused by it, nor any of 66 corners of 2.42's
//! language that a real 2.42 accepts (keywords as names, signs, `@` and
//! `offset` in either order, every form of number and string, keywords in
//! any case, comments, CRLF: `tests::the_recogniser_accepts_what_2_42_accepts`).
//!
//! ## What it must never do
//! Panic or recurse without bound on any input (fuzzed:
//! `fuzz/fuzz_targets/promql_parse.rs`); refuse a query that Prometheus
//! 2.42 accepts (the recogniser must accept all of 2.42's language: a
//! false refusal breaks a dashboard); or do more for a valid query than
//! the crate's parse, the walk of its tree, and one pass of the
//! recogniser (no culprit search, no second parse by the crate).

use std::sync::{Arc, OnceLock};

use promql_parser::label::{MatchOp, Matcher};
use promql_parser::parser::token::{
    T_EQL, T_EQL_REGEX, T_LIMIT_RATIO, T_LIMITK, T_NEQ, T_NEQ_REGEX,
};
use promql_parser::parser::{Expr, Function, register_extra_functions, value::ValueType};
use promql_parser::util::unquote_string;

use crate::compiled::Compiled;
use crate::error::PromError;
use crate::functions::{goregex, is_prometheus_2_42_function};
use crate::value::METRIC_NAME;

/// Parses `query`; a failure is a [`PromError::Parse`] in Prometheus' form.
pub fn parse(query: &str) -> Result<Expr, PromError> {
    let parsed = crate_parse(query).and_then(|expr| match beyond_2_42(&expr) {
        None => Ok(expr),
        Some(msg) => Err(msg),
    });
    match parsed {
        Ok(expr) => match refused_by_2_42(query) {
            None => Ok(expr),
            Some((position, text)) => Err(parse_error(query, position, &text)),
        },
        Err(msg) => {
            let (position, text) = locate(query, &msg);
            Err(parse_error(query, position, &text))
        }
    }
}

/// [`parse`], shared: recently parsed queries are kept by their text
/// ([`crate::compiled`]), so a dashboard's refresh does not parse (and
/// compile the regexes of) the same query again. Failures are not kept.
pub fn parse_shared(query: &str) -> Result<Arc<Expr>, PromError> {
    /// Queries kept: the panels of many dashboards; an expression is a
    /// few KiB at most (longer texts are never kept).
    const KEPT: usize = 1024;
    static KEPT_EXPRS: OnceLock<Compiled<Arc<Expr>>> = OnceLock::new();
    KEPT_EXPRS
        .get_or_init(|| Compiled::new(KEPT))
        .get_or_compile(query, |q| parse(q).map(Arc::new))
}

/// Prometheus' form of a parse error at byte `position` of `query`.
fn parse_error(query: &str, position: usize, text: &str) -> PromError {
    PromError::Parse {
        position,
        message: format!("{}: parse error: {text}", line_col(query, position)),
    }
}

/// Parses a series selector of Prometheus' metadata API (`match[]` of
/// `/series`, `/labels`, `/label/<name>/values`) as Prometheus 2.42's
/// `parser.ParseMetricSelector` does: one vector selector (a metric name,
/// `{matchers}`, or both) and nothing else; errors in Prometheus' form
/// (`1:5: parse error: unexpected "("` for `rate(foo)`). Answers the
/// selector's matchers, the metric name first as `__name__="<name>"`.
///
/// Unlike [`parse`], nothing checks that a matcher is non-empty (`{}` is a
/// valid selector here): the API checks that after every `match[]` parsed.
/// A regex that does not compile is reported at its label's position, in
/// the `regex` crate's words (Prometheus gives Go's).
pub fn parse_metric_selector(input: &str) -> Result<Vec<Matcher>, PromError> {
    let (toks, lex_err) = lex(input);
    let mut r = Recogniser::new(input, &toks, lex_err.as_ref(), Some(Vec::new()));
    let outcome = r.metric_selector();
    if let Some((position, text)) = r.action_err {
        // As in `locate`: a grammar action's error comes before any later
        // syntax error.
        return Err(parse_error(input, position, &text));
    }
    match outcome {
        Err(Stop::Syntax(position, text)) => Err(parse_error(input, position, &text)),
        // Unreachable: a selector does not nest.
        Err(Stop::TooDeep) => Err(parse_error(input, 0, "unexpected end of input")),
        Ok(name) => {
            let mut out = r.built.unwrap_or_default();
            if let Some(name) = name {
                let m = Matcher::new(MatchOp::Equal, METRIC_NAME, &input[name.start..name.end]);
                out.insert(0, m);
            }
            Ok(out)
        }
    }
}

/// What in the crate's tree of a valid query Prometheus 2.42 does not
/// have, as a message for [`locate`], which then finds Prometheus' own
/// error and position (its recogniser knows 2.42's language): a function
/// that is not one of 2.42's (`sort_by_label`, `mad_over_time`,
/// `double_exponential_smoothing`, the name `holt_winters` took in
/// Prometheus 3), the aggregations `limitk` and `limit_ratio`, `fill`
/// modifiers of vector matching. (`or` between matchers is refused later,
/// by `select::all_matchers`, in its own words.)
///
/// This walk costs a valid query one visit of each node, no allocation
/// but the stack; the other cost beyond the crate's parse is
/// [`refused_by_2_42`].
fn beyond_2_42(expr: &Expr) -> Option<String> {
    let unknown = |name: &str| format!("unknown function with name {}", go_quote_str(name, None));
    let mut stack = vec![expr];
    while let Some(e) = stack.pop() {
        match e {
            Expr::Call(c) => {
                if !is_prometheus_2_42_function(c.func.name) {
                    return Some(unknown(c.func.name));
                }
                stack.extend(c.args.args.iter().map(|a| &**a));
            }
            Expr::Aggregate(a) => {
                if matches!(a.op.id(), T_LIMITK | T_LIMIT_RATIO) {
                    return Some(unknown(&a.op.to_string()));
                }
                stack.push(&a.expr);
                stack.extend(a.param.as_deref());
            }
            Expr::Binary(b) => {
                if let Some(m) = &b.modifier
                    && (m.fill_values.lhs.is_some() || m.fill_values.rhs.is_some())
                {
                    return Some("fill modifiers are not in Prometheus 2.42".into());
                }
                stack.push(&b.lhs);
                stack.push(&b.rhs);
            }
            Expr::Unary(u) => stack.push(&u.expr),
            Expr::Paren(p) => stack.push(&p.expr),
            Expr::Subquery(s) => stack.push(&s.expr),
            // `or` between matcher sets is a later Prometheus' syntax.
            Expr::VectorSelector(v) if !v.matchers.or_matchers.is_empty() => {
                return Some("`or` in a selector is not in Prometheus 2.42".into());
            }
            Expr::MatrixSelector(m) if !m.vs.matchers.or_matchers.is_empty() => {
                return Some("`or` in a selector is not in Prometheus 2.42".into());
            }
            Expr::NumberLiteral(_)
            | Expr::StringLiteral(_)
            | Expr::VectorSelector(_)
            | Expr::MatrixSelector(_)
            | Expr::Extension(_) => {}
        }
    }
    None
}

/// The crate's parse, its panics turned into errors.
///
/// `promql-parser` 0.11 panics where its grammar takes a number of seconds
/// for a duration and the number does not fit one (`foo offset 1e30`,
/// `foo offset nan`, `foo[99999999999999999999]`; found by the fuzz
/// target). Prometheus rejects all of these, and so does [`locate`], so a
/// panic is just a failure here. Catching costs nothing when nothing
/// panics; the process' panic hook still reports it (one line on stderr).
fn crate_parse(query: &str) -> Result<Expr, String> {
    register_holt_winters();
    std::panic::catch_unwind(|| promql_parser::parser::parse(query))
        .unwrap_or_else(|_| Err(CRATE_PANICKED.to_string()))
}

/// Teaches the crate Prometheus 2.42's `holt_winters`, once per process.
///
/// `promql-parser` 0.11 knows the function only by its Prometheus 3 name,
/// `double_exponential_smoothing`; its registry of extra functions (one
/// per process, read by every parse) takes the 2.42 name with the same
/// signature. Registering a name, rather than rewriting the query's text,
/// keeps every position and message about the user's own text: the crate
/// then says `"holt_winters"` in its type errors, only a call token is
/// concerned (not a metric or label of that name, nor a string), and the
/// evaluator sees the name the user wrote. The new name itself is refused
/// by [`beyond_2_42`], as 2.42 knows no such function.
///
/// This module is the only one in Whippet that registers functions with
/// the crate.
fn register_holt_winters() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let holt_winters = Function::new(
            "holt_winters",
            vec![ValueType::Matrix, ValueType::Scalar, ValueType::Scalar],
            0,
            ValueType::Vector,
            false,
        );
        // Refused only if a later crate knew the name itself: then it
        // needs no teaching.
        let _ = register_extra_functions(vec![holt_winters]);
    });
}

/// The crate's message when it panicked: what it says for any query its
/// grammar rejects.
const CRATE_PANICKED: &str = "invalid promql query";

/// Recursion depth of the recogniser past which it stops looking: it
/// reports the crate's message at the start of a query the crate
/// rejects, and leaves a query the crate accepts accepted. A parenthesis costs two
/// levels, a call or a sign one or two. Measured in a debug build on a
/// 2 MiB stack (a Tokio worker's): 300 nested parentheses (600 levels)
/// pass, 1000 overflow; 500 levels (about 250 parentheses) keep a margin
/// of more than two, and no real query nests that deep (Prometheus' own
/// test corpus stays under 10).
const MAX_DEPTH: usize = 500;

/// Where and why `query` fails, given the crate's message `crate_msg`: a
/// byte offset and Prometheus' message (without the position).
fn locate(query: &str, crate_msg: &str) -> (usize, String) {
    let (toks, lex_err) = lex(query);
    let mut r = Recogniser::new(query, &toks, lex_err.as_ref(), None);
    let outcome = r.start();
    if let (Some(first), false) = (r.action_err, matches!(outcome, Err(Stop::TooDeep))) {
        // Prometheus keeps parsing after an error of a grammar action and
        // reports its errors in order: this one came first.
        return first;
    }
    match outcome {
        Err(Stop::Syntax(pos, msg)) => (pos, msg),
        Err(Stop::TooDeep) => (0, crate_msg.to_string()),
        Ok(root) => semantic(query, &toks, &r.nodes, root, crate_msg),
    }
}

/// Prometheus 2.42's error for a query the crate accepts, if 2.42 has
/// one: its lexer and grammar are stricter in places (`foo[5]`,
/// `foo offset 5`, `1 + 5m`, `sum(foo) by (a, "b")`, `1e999`,
/// `foo @ 1e30`), and the recogniser reads 2.42's. Its answer is taken
/// only when it is certain: a syntax or lexer error, or the error of a
/// grammar action. Nesting too deep to follow (`Stop::TooDeep`) leaves
/// the crate's word: the query is accepted. The recogniser makes no type
/// checks, so a query it reads to the end is accepted too.
fn refused_by_2_42(query: &str) -> Option<(usize, String)> {
    let (toks, lex_err) = lex(query);
    let mut r = Recogniser::new(query, &toks, lex_err.as_ref(), None);
    match r.start() {
        Err(Stop::TooDeep) => None,
        // As in `locate`: a grammar action's error comes first.
        Err(Stop::Syntax(pos, msg)) => Some(r.action_err.unwrap_or((pos, msg))),
        Ok(_) => r.action_err,
    }
}

/// `line:col` of byte offset `pos`, both 1-based, the column in bytes.
fn line_col(query: &str, pos: usize) -> String {
    let bytes = query.as_bytes();
    let pos = pos.min(bytes.len());
    let mut line = 1;
    let mut line_start = 0;
    for (i, b) in bytes[..pos].iter().enumerate() {
        if *b == b'\n' {
            line += 1;
            line_start = i + 1;
        }
    }
    format!("{line}:{}", pos - line_start + 1)
}

// ---------------------------------------------------------------------------
// Lexer: Prometheus 2.42's `lex.go`, positions in bytes.

mod culprit;
mod lex;
mod recognise;
#[cfg(test)]
mod tests;

use culprit::*;
use lex::*;
use recognise::*;
