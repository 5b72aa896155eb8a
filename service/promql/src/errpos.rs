//! Parsing with Prometheus' error form: `<line>:<col>: parse error: <msg>`.
//!
//! ## What it owns
//! [`parse`], the one entry point the rest of Whippet parses PromQL through,
//! and [`parse_metric_selector`], the `match[]` of the metadata API. A
//! valid query costs one call of `promql_parser::parser::parse` and one
//! walk of its tree; everything below runs only when that call fails, to
//! recover what the crate drops: *where* the error is, and Prometheus
//! 2.42's wording of it.
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
//! error, no offset for any error). On failure we re-read the query with
//! three pieces that follow Prometheus 2.42's parser, not the crate's:
//!
//! 1. **A lexer** ([`lex`]) that mirrors `promql/parser/lex.go`: the same
//!    states (statements, inside braces, the duration after `[`, strings
//!    and their escapes), the same messages (`unexpected character: '$'`,
//!    `bad duration syntax: "5mm"`, ...), and the same position: the start
//!    of the item being scanned (`l.start`), which is the end of the input
//!    for `unclosed left parenthesis`.
//! 2. **A recogniser** ([`Recogniser`]): recursive descent with precedence
//!    climbing over those tokens, accepting the language of
//!    `generated_parser.y`. Yacc reports the first token that cannot extend
//!    a valid prefix, as "unexpected <token>" plus the context of the
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
//! ## Agreement with Prometheus
//! The tests hold 257 queries with the answer of a real Prometheus 2.42
//! (lexer, syntax and type errors, multi-line queries). For all 250 that
//! both reject, our text is Prometheus' byte for byte. Six queries that
//! Prometheus rejects, the crate accepts (`foo[5]`, `foo[1m:5]`,
//! `foo offset 5`, `1 + 5m`, `sum(foo) by (a, "b")`, `1e999`): there is no
//! error to place, and finding one would cost every valid query a second
//! parse. One query Prometheus accepts by a quirk (`foo[5m x 1m]`) the
//! crate rejects; we answer its message at 1:1. On 1400 random queries
//! (mutations of those: inserted, deleted and truncated fragments; and
//! chains of operands, modifiers and operators), 1394 answers were
//! Prometheus' exactly; the crate accepts the 6 others (`5m`, `1 + 5m`,
//! `foo offset 0`, `foo @ 1e30`...).
//!
//! ## What it must never do
//! Panic or recurse without bound on any input (fuzzed:
//! `fuzz/fuzz_targets/promql_parse.rs`), or do extra work for a valid query.

use promql_parser::label::{MatchOp, Matcher};
use promql_parser::parser::token::{
    T_EQL, T_EQL_REGEX, T_LIMIT_RATIO, T_LIMITK, T_NEQ, T_NEQ_REGEX,
};
use promql_parser::parser::{Expr, Function, register_extra_functions, value::ValueType};
use promql_parser::util::unquote_string;

use crate::error::PromError;
use crate::functions::{goregex, is_prometheus_2_42_function};
use crate::value::METRIC_NAME;

/// Parses `query`; a failure is a [`PromError::Parse`] in Prometheus' form.
pub fn parse(query: &str) -> Result<Expr, PromError> {
    let parsed = crate_parse(query).and_then(|expr| match beyond_2_42(&expr) {
        None => Ok(expr),
        Some(msg) => Err(msg),
    });
    parsed.map_err(|msg| {
        let (position, text) = locate(query, &msg);
        parse_error(query, position, &text)
    })
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
    let mut r = Recogniser {
        q: input,
        toks: &toks,
        lex_err: lex_err.as_ref(),
        i: 0,
        nodes: Vec::new(),
        agg_depth: 0,
        depth: 0,
        action_err: None,
        built: Some(Vec::new()),
    };
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
/// This walk is the one cost a valid query pays beyond the crate's parse:
/// one visit of each node, no allocation but the stack.
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

/// Recursion depth of the recogniser past which it stops looking and
/// reports the crate's message at the start. A parenthesis costs two
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
    let mut r = Recogniser {
        q: query,
        toks: &toks,
        lex_err: lex_err.as_ref(),
        i: 0,
        nodes: Vec::new(),
        agg_depth: 0,
        depth: 0,
        action_err: None,
        built: None,
    };
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

/// What a token is, in the terms of Prometheus' grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Eof,
    Identifier,
    MetricIdentifier,
    Number,
    Str,
    Duration,
    LeftParen,
    RightParen,
    LeftBrace,
    RightBrace,
    LeftBracket,
    RightBracket,
    Comma,
    Colon,
    /// `=` (a label matcher).
    Eql,
    /// `=~` and `!~`.
    RegexOp,
    /// `+ - * / % ^ == != < <= > >= and or unless atan2`.
    BinOp,
    At,
    /// `offset by without on ignoring group_left group_right bool`.
    Keyword,
    /// `sum avg count min max group stddev stdvar topk bottomk count_values
    /// quantile`.
    Aggregator,
    /// `start end` (the `@` preprocessors).
    Preprocessor,
}

#[derive(Debug, Clone, Copy)]
struct Tok {
    kind: Kind,
    start: usize,
    end: usize,
}

/// A lexer error: Prometheus' message and the offset it names.
#[derive(Debug, Clone)]
struct LexError {
    pos: usize,
    msg: String,
}

/// The scanner's cursor, Go style: `next` remembers the width of the rune
/// it read so that one `backup` can undo it.
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
    start: usize,
    width: usize,
}

impl Cursor<'_> {
    fn next(&mut self) -> Option<char> {
        match self.s[self.pos..].chars().next() {
            Some(c) => {
                self.width = c.len_utf8();
                self.pos += self.width;
                Some(c)
            }
            None => {
                self.width = 0;
                None
            }
        }
    }

    fn backup(&mut self) {
        self.pos -= self.width;
        self.width = 0;
    }

    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.next() {
            Some(c) if valid.contains(c) => true,
            _ => {
                self.backup();
                false
            }
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    fn text(&self) -> &str {
        &self.s[self.start..self.pos]
    }
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn is_alpha(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_alnum(c: Option<char>) -> bool {
    matches!(c, Some(c) if is_alpha(c) || c.is_ascii_digit())
}

const DIGITS: &str = "0123456789";
const HEX_DIGITS: &str = "0123456789abcdefABCDEF";

/// Scans the whole query: the tokens, ending with `Eof` unless the scan
/// stopped at an error, which is then returned beside them.
fn lex(s: &str) -> (Vec<Tok>, Option<LexError>) {
    let mut c = Cursor {
        s,
        pos: 0,
        start: 0,
        width: 0,
    };
    let mut toks = Vec::new();
    let mut paren_depth: i64 = 0;
    let mut brace_open = false;
    let mut bracket_open = false;
    let mut got_colon = false;
    macro_rules! emit {
        ($kind:expr) => {{
            toks.push(Tok {
                kind: $kind,
                start: c.start,
                end: c.pos,
            });
            c.start = c.pos;
        }};
    }
    macro_rules! fail {
        ($($arg:tt)*) => {
            return (toks, Some(LexError { pos: c.start, msg: format!($($arg)*) }))
        };
    }
    loop {
        if s[c.pos..].starts_with('#') {
            while let Some(ch) = c.next() {
                if ch == '\n' || ch == '\r' {
                    break;
                }
            }
            c.start = c.pos;
            continue;
        }
        if brace_open {
            let Some(r) = c.next() else {
                fail!("unexpected end of input inside braces");
            };
            match r {
                r if is_space(r) => c.start = c.pos,
                r if is_alpha(r) => {
                    while is_alnum(c.peek()) {
                        c.next();
                    }
                    emit!(Kind::Identifier);
                }
                ',' => emit!(Kind::Comma),
                '"' | '\'' | '`' => {
                    if let Err(msg) = lex_string(&mut c, r) {
                        fail!("{msg}");
                    }
                    emit!(Kind::Str);
                }
                '=' => {
                    if c.next() == Some('~') {
                        emit!(Kind::RegexOp);
                    } else {
                        c.backup();
                        emit!(Kind::Eql);
                    }
                }
                '!' => match c.next() {
                    Some('~') => emit!(Kind::RegexOp),
                    Some('=') => emit!(Kind::BinOp),
                    other => fail!(
                        "unexpected character after '!' inside braces: {}",
                        go_quote_rune(other)
                    ),
                },
                '{' => fail!("unexpected left brace '{{'"),
                '}' => {
                    emit!(Kind::RightBrace);
                    brace_open = false;
                }
                other => fail!(
                    "unexpected character inside braces: {}",
                    go_quote_rune(Some(other))
                ),
            }
            continue;
        }
        let Some(r) = c.next() else {
            if paren_depth != 0 {
                fail!("unclosed left parenthesis");
            }
            if bracket_open {
                fail!("unclosed left bracket");
            }
            toks.push(Tok {
                kind: Kind::Eof,
                start: c.start,
                end: c.pos,
            });
            return (toks, None);
        };
        match r {
            ',' => emit!(Kind::Comma),
            r if is_space(r) => {
                while matches!(c.peek(), Some(x) if is_space(x)) {
                    c.next();
                }
                c.start = c.pos;
            }
            '*' | '/' | '%' | '+' | '-' | '^' => emit!(Kind::BinOp),
            '=' => match c.peek() {
                Some('=') => {
                    c.next();
                    emit!(Kind::BinOp);
                }
                Some('~') => fail!("unexpected character after '=': '~'"),
                _ => emit!(Kind::Eql),
            },
            '!' => match c.next() {
                Some('=') => emit!(Kind::BinOp),
                other => fail!("unexpected character after '!': {}", go_quote_rune(other)),
            },
            '<' | '>' => {
                if c.peek() == Some('=') {
                    c.next();
                }
                emit!(Kind::BinOp);
            }
            r if r.is_ascii_digit()
                || (r == '.' && matches!(c.peek(), Some(d) if d.is_ascii_digit())) =>
            {
                c.backup();
                if scan_number(&mut c) {
                    emit!(Kind::Number);
                } else if accept_remaining_duration(&mut c) {
                    c.backup();
                    emit!(Kind::Duration);
                } else {
                    fail!(
                        "bad number or duration syntax: {}",
                        go_quote_str(c.text(), None)
                    );
                }
            }
            '"' | '\'' | '`' => {
                if let Err(msg) = lex_string(&mut c, r) {
                    fail!("{msg}");
                }
                emit!(Kind::Str);
            }
            r if is_alpha(r) || r == ':' => {
                if !bracket_open {
                    while matches!(c.peek(), Some(x) if is_alpha(x) || x.is_ascii_digit() || x == ':')
                    {
                        c.next();
                    }
                    let kind = word_kind(c.text());
                    emit!(kind);
                } else if got_colon {
                    fail!("unexpected colon {}", go_quote_rune(Some(r)));
                } else {
                    // Prometheus 2.42 takes any letter here for the colon of
                    // a subquery (`foo[5m x]` is `foo[5m:]`); so do we.
                    emit!(Kind::Colon);
                    got_colon = true;
                }
            }
            '(' => {
                emit!(Kind::LeftParen);
                paren_depth += 1;
            }
            ')' => {
                emit!(Kind::RightParen);
                paren_depth -= 1;
                if paren_depth < 0 {
                    // Prometheus emits the parenthesis, then reports the
                    // error at the position after it.
                    toks.pop();
                    fail!("unexpected right parenthesis ')'");
                }
            }
            '{' => {
                emit!(Kind::LeftBrace);
                brace_open = true;
            }
            '[' => {
                if bracket_open {
                    fail!("unexpected left bracket '['");
                }
                got_colon = false;
                emit!(Kind::LeftBracket);
                while matches!(c.peek(), Some(x) if is_space(x)) {
                    c.next();
                }
                c.start = c.pos;
                bracket_open = true;
                // The range or subquery duration must follow at once.
                if scan_number(&mut c) {
                    fail!("missing unit character in duration");
                }
                if !accept_remaining_duration(&mut c) {
                    fail!("bad duration syntax: {}", go_quote_str(c.text(), None));
                }
                c.backup();
                emit!(Kind::Duration);
            }
            ']' => {
                if !bracket_open {
                    fail!("unexpected right bracket ']'");
                }
                emit!(Kind::RightBracket);
                bracket_open = false;
            }
            '@' => emit!(Kind::At),
            other => fail!("unexpected character: {}", go_quote_rune(Some(other))),
        }
    }
}

/// The kind of a word outside braces (keywords are case-insensitive).
fn word_kind(word: &str) -> Kind {
    match word.to_ascii_lowercase().as_str() {
        "and" | "or" | "unless" | "atan2" => Kind::BinOp,
        "sum" | "avg" | "count" | "min" | "max" | "group" | "stddev" | "stdvar" | "topk"
        | "bottomk" | "count_values" | "quantile" => Kind::Aggregator,
        "offset" | "by" | "without" | "on" | "ignoring" | "group_left" | "group_right" | "bool" => {
            Kind::Keyword
        }
        "start" | "end" => Kind::Preprocessor,
        "inf" | "nan" => Kind::Number,
        _ if word.contains(':') => Kind::MetricIdentifier,
        _ => Kind::Identifier,
    }
}

/// Scans a number; false when a letter or `.` follows (maybe a duration).
fn scan_number(c: &mut Cursor) -> bool {
    let mut digits = DIGITS;
    if c.accept("0") && c.accept("xX") {
        digits = HEX_DIGITS;
    }
    c.accept_run(digits);
    if c.accept(".") {
        c.accept_run(digits);
    }
    if c.accept("eE") {
        c.accept("+-");
        c.accept_run(DIGITS);
    }
    !is_alnum(c.peek())
}

/// After the digits of a duration: its units; true when it is well formed
/// and not followed by a letter or digit (which it consumes, as Prometheus'
/// lexer does, so that the message shows it).
fn accept_remaining_duration(c: &mut Cursor) -> bool {
    if !c.accept("smhdwy") {
        return false;
    }
    c.accept("s");
    while c.accept(DIGITS) {
        c.accept_run(DIGITS);
        if !c.accept("smhdw") {
            return false;
        }
        c.accept("s");
    }
    !is_alnum(c.next())
}

/// Scans a quoted string whose opening `quote` was consumed.
fn lex_string(c: &mut Cursor, quote: char) -> Result<(), String> {
    if quote == '`' {
        loop {
            match c.next() {
                None => return Err("unterminated raw string".into()),
                Some('`') => return Ok(()),
                Some(_) => {}
            }
        }
    }
    loop {
        match c.next() {
            Some('\\') => lex_escape(c, quote)?,
            Some('\u{fffd}') => return Err("invalid UTF-8 rune".into()),
            None | Some('\n') => return Err("unterminated quoted string".into()),
            Some(ch) if ch == quote => return Ok(()),
            Some(_) => {}
        }
    }
}

/// Checks one escape sequence (the `\` was consumed), as Go's rules say.
fn lex_escape(c: &mut Cursor, quote: char) -> Result<(), String> {
    let mut ch = c.next();
    let (mut n, base, max) = match ch {
        Some('a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\\') => return Ok(()),
        Some(q) if q == quote => return Ok(()),
        Some('0'..='7') => (3, 8, 255),
        Some('x') => {
            ch = c.next();
            (2, 16, 255)
        }
        Some('u') => {
            ch = c.next();
            (4, 16, 0x10ffff)
        }
        Some('U') => {
            ch = c.next();
            (8, 16, 0x10ffff)
        }
        None => return Err("escape sequence not terminated".into()),
        Some(other) => return Err(format!("unknown escape sequence {}", go_unicode(other))),
    };
    let mut x: u32 = 0;
    while n > 0 {
        let digit = ch.and_then(|d| d.to_digit(16)).filter(|d| *d < base);
        let Some(d) = digit else {
            return Err(match ch {
                None => "escape sequence not terminated".into(),
                Some(bad) => format!("illegal character {} in escape sequence", go_unicode(bad)),
            });
        };
        x = x.saturating_mul(base).saturating_add(d);
        n -= 1;
        if n > 0 {
            ch = c.next();
        }
    }
    if x > max || (0xd800..0xe000).contains(&x) {
        return Err("escape sequence is an invalid Unicode code point".into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Go's quoting, for messages that must read exactly like Prometheus'.

/// Whether Go's `strconv` prints `c` as itself (approximates `IsPrint`).
fn go_printable(c: char) -> bool {
    !c.is_control() && (c == ' ' || !c.is_whitespace())
}

fn go_escape(out: &mut String, c: char, quote: char) {
    match c {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        '\\' => out.push_str("\\\\"),
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        c if go_printable(c) => out.push(c),
        c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// Go's `%q` of a rune; `None` (end of input) prints as Go prints `eof`.
fn go_quote_rune(c: Option<char>) -> String {
    let mut out = String::from("'");
    go_escape(&mut out, c.unwrap_or('\u{fffd}'), '\'');
    out.push('\'');
    out
}

/// Go's `%q` of a string, or `%.Nq...` (the first `N` runes, then `...`)
/// when `limit` is given and the string is longer than that many bytes.
fn go_quote_str(s: &str, limit: Option<usize>) -> String {
    let mut out = String::from("\"");
    let truncated = matches!(limit, Some(n) if s.len() > n);
    let take = if truncated {
        limit.unwrap_or(0)
    } else {
        usize::MAX
    };
    for ch in s.chars().take(take) {
        go_escape(&mut out, ch, '"');
    }
    out.push('"');
    if truncated {
        out.push_str("...");
    }
    out
}

/// Go's `%#U`: `U+0071 'q'`.
fn go_unicode(c: char) -> String {
    if go_printable(c) {
        format!("U+{:04X} '{c}'", c as u32)
    } else {
        format!("U+{:04X}", c as u32)
    }
}

// ---------------------------------------------------------------------------
// Recogniser: the language of Prometheus 2.42's `generated_parser.y`.

/// Why the recogniser stopped.
enum Stop {
    /// A syntax or lexer error: offset and Prometheus' message.
    Syntax(usize, String),
    /// Nesting beyond [`MAX_DEPTH`].
    TooDeep,
}

/// What a node of the recogniser's tree is; the offsets are the ones a
/// semantic error may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeKind {
    Number,
    Str,
    Selector,
    Call,
    Aggregate,
    Paren,
    Unary,
    /// The operator's offset.
    Binary(usize),
    /// The `[`'s offset.
    Range(usize),
    /// The `[`'s offset.
    Subquery(usize),
    Offset,
    At,
}

/// A sub-expression: its span in the query and its children (arguments,
/// operands, the expression a modifier applies to), in order.
#[derive(Debug)]
struct Node {
    kind: NodeKind,
    start: usize,
    end: usize,
    children: Vec<usize>,
}

struct Recogniser<'a> {
    q: &'a str,
    toks: &'a [Tok],
    lex_err: Option<&'a LexError>,
    i: usize,
    nodes: Vec<Node>,
    /// How many aggregations enclose the current token: yacc's error rule
    /// `aggregate_op error` catches errors inside them.
    agg_depth: usize,
    depth: usize,
    /// The first error of a grammar action (see [`Recogniser::act`]).
    action_err: Option<(usize, String)>,
    /// The label matchers read so far, when reading a metric selector of
    /// the metadata API ([`parse_metric_selector`]); `None` otherwise.
    built: Option<Vec<Matcher>>,
}

type Res<T> = Result<T, Stop>;

/// Binding power of a binary operator (higher binds tighter); `^` is the
/// only right-associative one.
fn precedence(op: &str) -> u8 {
    match op.to_ascii_lowercase().as_str() {
        "or" => 1,
        "and" | "unless" => 2,
        "==" | "!=" | "<" | "<=" | ">" | ">=" => 3,
        "+" | "-" => 4,
        "*" | "/" | "%" | "atan2" => 5,
        _ => 6, // "^"
    }
}

/// How Prometheus describes a token in "unexpected ..." (`Item.desc`).
fn describe(q: &str, t: &Tok) -> String {
    let text = &q[t.start..t.end];
    match t.kind {
        Kind::Eof => "end of input".into(),
        Kind::Identifier => format!("identifier {}", go_quote_str(text, None)),
        Kind::MetricIdentifier => format!("metric identifier {}", go_quote_str(text, None)),
        Kind::Number => format!("number {}", go_quote_str(text, Some(10))),
        Kind::Str => format!("string {}", go_quote_str(text, Some(10))),
        Kind::Duration => format!("duration {}", go_quote_str(text, Some(10))),
        Kind::Keyword => format!("<{text}>"),
        Kind::Aggregator => format!("<aggr:{text}>"),
        Kind::BinOp | Kind::RegexOp => format!("<op:{text}>"),
        // 2.42 has no name for `@` in its table of token names, so Go
        // prints the token's number: 57385.
        Kind::At => format!("\"<Item 57385>\" <op:{text}>"),
        Kind::Preprocessor
        | Kind::LeftParen
        | Kind::RightParen
        | Kind::LeftBrace
        | Kind::RightBrace
        | Kind::LeftBracket
        | Kind::RightBracket
        | Kind::Comma
        | Kind::Colon
        | Kind::Eql => go_quote_str(text, Some(10)),
    }
}

impl Recogniser<'_> {
    /// The current token; at the scan's end, the lexer's error stops us.
    fn peek(&self) -> Res<Tok> {
        match self.toks.get(self.i) {
            Some(t) => Ok(*t),
            None => Err(match self.lex_err {
                Some(e) => Stop::Syntax(e.pos, e.msg.clone()),
                // Unreachable: a scan without error ends with `Eof`.
                None => Stop::Syntax(self.q.len(), "unexpected end of input".into()),
            }),
        }
    }

    fn text(&self, t: &Tok) -> &str {
        &self.q[t.start..t.end]
    }

    fn bump(&mut self) -> Res<Tok> {
        let t = self.peek()?;
        self.i += 1;
        Ok(t)
    }

    /// "unexpected <token>", in the aggregation context if inside one.
    fn unexpected(&self, t: &Tok) -> Stop {
        let ctx = if self.agg_depth > 0 {
            " in aggregation"
        } else {
            ""
        };
        Stop::Syntax(t.start, format!("unexpected {}{ctx}", describe(self.q, t)))
    }

    /// "unexpected <token> in <context>, expected <what>".
    fn expected(&self, t: &Tok, context: &str, what: &str) -> Stop {
        Stop::Syntax(
            t.start,
            format!(
                "unexpected {} in {context}, expected {what}",
                describe(self.q, t)
            ),
        )
    }

    fn node(&mut self, kind: NodeKind, start: usize, end: usize, children: Vec<usize>) -> usize {
        self.nodes.push(Node {
            kind,
            start,
            end,
            children,
        });
        self.nodes.len() - 1
    }

    fn start(&mut self) -> Res<usize> {
        let first = self.peek()?;
        if first.kind == Kind::Eof {
            return Err(Stop::Syntax(0, "no expression found in input".into()));
        }
        let root = self.expr(0)?;
        let t = self.peek()?;
        if t.kind != Kind::Eof {
            return Err(self.unexpected(&t));
        }
        Ok(root)
    }

    /// Prometheus' `START_METRIC_SELECTOR vector_selector`: a metric
    /// name and/or `{matchers}`, then the end. Answers the name's token.
    fn metric_selector(&mut self) -> Res<Option<Tok>> {
        let t = self.bump()?;
        let text = self.text(&t).to_ascii_lowercase();
        let is_name = match t.kind {
            Kind::Identifier | Kind::MetricIdentifier | Kind::Aggregator | Kind::Preprocessor => {
                true
            }
            Kind::Keyword => matches!(text.as_str(), "by" | "without" | "offset"),
            Kind::BinOp => matches!(text.as_str(), "and" | "or" | "unless"),
            _ => false,
        };
        let name = if t.kind == Kind::LeftBrace {
            self.matchers()?;
            None
        } else if is_name {
            if self.peek()?.kind == Kind::LeftBrace {
                self.bump()?;
                self.matchers()?;
            }
            Some(t)
        } else {
            return Err(self.unexpected(&t));
        };
        let end = self.peek()?;
        if end.kind != Kind::Eof {
            return Err(self.unexpected(&end));
        }
        Ok(name)
    }

    /// Builds the matcher `name op value` into `built`; a value that does
    /// not unquote or a regex that does not compile is the error of
    /// Prometheus' grammar action, at the label's position.
    fn build_matcher(&mut self, name: &Tok, op: &Tok, value: &Tok) {
        let id = match self.text(op) {
            "=" => T_EQL,
            "!=" => T_NEQ,
            "=~" => T_EQL_REGEX,
            _ => T_NEQ_REGEX,
        };
        let label = self.text(name).to_owned();
        let built =
            unquote_string(self.text(value)).and_then(|v| Matcher::new_matcher(id, label, v));
        match built {
            Ok(mut m) => {
                // Go's meaning of `\d \w \s \b` (ASCII), as the evaluator's
                // selectors have it (`select::all_matchers`).
                m.op = match m.op {
                    MatchOp::Re(re) => MatchOp::Re(goregex::anchored(&m.value).unwrap_or(re)),
                    MatchOp::NotRe(re) => MatchOp::NotRe(goregex::anchored(&m.value).unwrap_or(re)),
                    op => op,
                };
                self.built.get_or_insert_with(Vec::new).push(m)
            }
            Err(msg) => self.act(name.start, msg),
        }
    }

    fn enter(&mut self) -> Res<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Stop::TooDeep);
        }
        Ok(())
    }

    /// A binary expression whose operators bind at least `min_prec`.
    fn expr(&mut self, min_prec: u8) -> Res<usize> {
        self.enter()?;
        let mut lhs = self.unary()?;
        loop {
            let t = self.peek()?;
            if t.kind != Kind::BinOp {
                break;
            }
            let prec = precedence(self.text(&t));
            if prec < min_prec {
                break;
            }
            self.bump()?;
            self.bin_modifier()?;
            let next_min = if prec == 6 { prec } else { prec + 1 };
            let rhs = self.expr(next_min)?;
            let start = self.nodes[lhs].start;
            let end = self.nodes[rhs].end;
            lhs = self.node(NodeKind::Binary(t.start), start, end, vec![lhs, rhs]);
        }
        self.depth -= 1;
        Ok(lhs)
    }

    /// Whether `t` can begin an expression (`FIRST(expr)` of the grammar).
    fn starts_expr(&self, t: &Tok) -> bool {
        let word = self.text(t).to_ascii_lowercase();
        match t.kind {
            Kind::Number
            | Kind::Str
            | Kind::LeftParen
            | Kind::LeftBrace
            | Kind::Identifier
            | Kind::MetricIdentifier
            | Kind::Aggregator
            | Kind::Preprocessor => true,
            Kind::Keyword => matches!(word.as_str(), "by" | "without" | "offset"),
            Kind::BinOp => matches!(word.as_str(), "+" | "-" | "and" | "or" | "unless"),
            _ => false,
        }
    }

    /// `bool`, `on(...)`/`ignoring(...)`, `group_left(...)`/`group_right`.
    fn bin_modifier(&mut self) -> Res<()> {
        let mut t = self.peek()?;
        if t.kind == Kind::Keyword && self.text(&t).eq_ignore_ascii_case("bool") {
            self.bump()?;
            t = self.peek()?;
        }
        let word = self.text(&t).to_ascii_lowercase();
        if t.kind == Kind::Keyword && (word == "on" || word == "ignoring") {
            self.bump()?;
            self.grouping_labels()?;
            let g = self.peek()?;
            let word = self.text(&g).to_ascii_lowercase();
            if g.kind == Kind::Keyword && (word == "group_left" || word == "group_right") {
                self.bump()?;
                let next = self.peek()?;
                if next.kind == Kind::LeftParen {
                    self.grouping_labels()?;
                } else if !self.starts_expr(&next) {
                    // Neither labels nor the right operand: yacc is in the
                    // optional labels' rule when it sees the error.
                    return Err(self.expected(&next, "grouping opts", "\"(\""));
                }
            }
        }
        Ok(())
    }

    /// `( label, ... )` after `by`, `without`, `on`, `ignoring`, `group_*`.
    fn grouping_labels(&mut self) -> Res<()> {
        const CTX: &str = "grouping opts";
        let t = self.bump()?;
        if t.kind != Kind::LeftParen {
            return Err(self.expected(&t, CTX, "\"(\""));
        }
        loop {
            let t = self.bump()?;
            if t.kind == Kind::RightParen {
                return Ok(());
            }
            let is_word = matches!(
                t.kind,
                Kind::Identifier
                    | Kind::Keyword
                    | Kind::Aggregator
                    | Kind::Preprocessor
                    | Kind::BinOp
            ) && self.text(&t).starts_with(|c: char| is_alpha(c));
            if !is_word {
                return Err(self.expected(&t, CTX, "label"));
            }
            let sep = self.bump()?;
            match sep.kind {
                Kind::RightParen => return Ok(()),
                Kind::Comma => {}
                _ => return Err(self.expected(&sep, CTX, "\",\" or \")\"")),
            }
        }
    }

    fn unary(&mut self) -> Res<usize> {
        let t = self.peek()?;
        if t.kind == Kind::BinOp && matches!(self.text(&t), "+" | "-") {
            self.bump()?;
            self.enter()?;
            let inner = self.expr(6)?;
            self.depth -= 1;
            let end = self.nodes[inner].end;
            return Ok(self.node(NodeKind::Unary, t.start, end, vec![inner]));
        }
        let primary = self.primary()?;
        self.postfix(primary)
    }

    /// `[range]`, `[range:step]`, `offset d`, `@ t` after an expression.
    fn postfix(&mut self, mut e: usize) -> Res<usize> {
        loop {
            let t = self.peek()?;
            let start = self.nodes[e].start;
            match t.kind {
                Kind::LeftBracket => {
                    self.bump()?;
                    let d = self.bump()?;
                    if d.kind != Kind::Duration {
                        return Err(self.expected(&d, "subquery selector", "duration"));
                    }
                    // Yacc reduces a duration (and runs its check) before
                    // it reads the next token.
                    self.check_duration(&d);
                    let n = self.bump()?;
                    match n.kind {
                        Kind::RightBracket => {
                            e = self.node(NodeKind::Range(t.start), start, n.end, vec![e]);
                            self.check_range(e);
                        }
                        Kind::Colon => {
                            let mut s = self.bump()?;
                            if s.kind == Kind::Duration {
                                self.check_duration(&s);
                                s = self.bump()?;
                                if s.kind != Kind::RightBracket {
                                    return Err(self.expected(&s, "subquery selector", "\"]\""));
                                }
                            } else if s.kind != Kind::RightBracket {
                                return Err(self.expected(
                                    &s,
                                    "subquery selector",
                                    "duration or \"]\"",
                                ));
                            }
                            e = self.node(NodeKind::Subquery(t.start), start, s.end, vec![e]);
                        }
                        _ => {
                            return Err(self.expected(&n, "subquery or range", "\":\" or \"]\""));
                        }
                    }
                }
                Kind::Keyword if self.text(&t).eq_ignore_ascii_case("offset") => {
                    self.bump()?;
                    let mut d = self.bump()?;
                    if d.kind == Kind::BinOp && self.text(&d) == "-" {
                        d = self.bump()?;
                    }
                    if d.kind != Kind::Duration {
                        return Err(self.expected(&d, "offset", "duration"));
                    }
                    self.check_duration(&d);
                    self.check_modifier(e, "offset");
                    e = self.node(NodeKind::Offset, start, d.end, vec![e]);
                }
                Kind::At => {
                    self.bump()?;
                    let mut v = self.bump()?;
                    let end;
                    let signed = v.kind == Kind::BinOp && matches!(self.text(&v), "+" | "-");
                    let negative = signed && self.text(&v) == "-";
                    if signed {
                        v = self.bump()?;
                    }
                    if v.kind == Kind::Number {
                        self.check_number(&v);
                        self.check_timestamp(start, &v, negative);
                        end = v.end;
                    } else if v.kind == Kind::Preprocessor && !signed {
                        let open = self.bump()?;
                        if open.kind != Kind::LeftParen {
                            return Err(self.expected(&open, "@", "timestamp"));
                        }
                        let close = self.bump()?;
                        if close.kind != Kind::RightParen {
                            return Err(self.expected(&close, "@", "timestamp"));
                        }
                        end = close.end;
                    } else {
                        return Err(self.expected(&v, "@", "timestamp"));
                    }
                    self.check_modifier(e, "@");
                    e = self.node(NodeKind::At, start, end, vec![e]);
                }
                _ => return Ok(e),
            }
        }
    }

    fn primary(&mut self) -> Res<usize> {
        let t = self.bump()?;
        let text = self.text(&t).to_ascii_lowercase();
        match t.kind {
            Kind::Number => {
                self.check_number(&t);
                Ok(self.node(NodeKind::Number, t.start, t.end, vec![]))
            }
            Kind::Str => Ok(self.node(NodeKind::Str, t.start, t.end, vec![])),
            Kind::LeftParen => {
                self.enter()?;
                let inner = self.expr(0)?;
                self.depth -= 1;
                let close = self.bump()?;
                if close.kind != Kind::RightParen {
                    return Err(self.unexpected(&close));
                }
                Ok(self.node(NodeKind::Paren, t.start, close.end, vec![inner]))
            }
            Kind::LeftBrace => {
                let end = self.matchers()?;
                Ok(self.node(NodeKind::Selector, t.start, end, vec![]))
            }
            Kind::Identifier if self.peek()?.kind == Kind::LeftParen => {
                let (end, args) = self.call_body()?;
                let name = self.text(&t);
                if !is_prometheus_2_42_function(name) {
                    let msg = format!("unknown function with name {}", go_quote_str(name, None));
                    self.act(t.start, msg);
                }
                Ok(self.node(NodeKind::Call, t.start, end, args))
            }
            Kind::Aggregator
                if self.peek()?.kind == Kind::LeftParen
                    || matches!(self.peek()?.kind, Kind::Keyword)
                        && matches!(
                            self.text(&self.peek()?).to_ascii_lowercase().as_str(),
                            "by" | "without"
                        ) =>
            {
                self.aggregate(t)
            }
            Kind::Identifier | Kind::MetricIdentifier | Kind::Aggregator | Kind::Preprocessor => {
                self.selector(t)
            }
            Kind::Keyword if matches!(text.as_str(), "by" | "without" | "offset") => {
                self.selector(t)
            }
            Kind::BinOp if matches!(text.as_str(), "and" | "or" | "unless") => self.selector(t),
            _ => Err(self.unexpected(&t)),
        }
    }

    /// A metric name, maybe followed by `{matchers}`.
    fn selector(&mut self, name: Tok) -> Res<usize> {
        let mut end = name.end;
        if self.peek()?.kind == Kind::LeftBrace {
            self.bump()?;
            end = self.matchers()?;
        }
        Ok(self.node(NodeKind::Selector, name.start, end, vec![]))
    }

    /// The label matchers after `{`; returns the end of the `}`.
    fn matchers(&mut self) -> Res<usize> {
        const CTX: &str = "label matching";
        loop {
            let t = self.bump()?;
            match t.kind {
                Kind::RightBrace => return Ok(t.end),
                Kind::Identifier => {}
                _ => return Err(self.expected(&t, CTX, "identifier or \"}\"")),
            }
            let op = self.bump()?;
            let is_op = matches!(op.kind, Kind::Eql | Kind::RegexOp)
                || (op.kind == Kind::BinOp && self.text(&op) == "!=");
            if !is_op {
                return Err(self.expected(&op, CTX, "label matching operator"));
            }
            let v = self.bump()?;
            if v.kind != Kind::Str {
                return Err(self.expected(&v, CTX, "string"));
            }
            if self.built.is_some() {
                self.build_matcher(&t, &op, &v);
            }
            let sep = self.bump()?;
            match sep.kind {
                Kind::RightBrace => return Ok(sep.end),
                Kind::Comma => {}
                _ => return Err(self.expected(&sep, CTX, "\",\" or \"}\"")),
            }
        }
    }

    /// `( expr, ... )` of a call or an aggregation; returns the end of the
    /// `)` and the arguments.
    fn call_body(&mut self) -> Res<(usize, Vec<usize>)> {
        let open = self.bump()?;
        if open.kind != Kind::LeftParen {
            return Err(self.unexpected(&open));
        }
        let mut args = Vec::new();
        if self.peek()?.kind == Kind::RightParen {
            return Ok((self.bump()?.end, args));
        }
        self.enter()?;
        'args: loop {
            args.push(self.expr(0)?);
            loop {
                let t = self.bump()?;
                match t.kind {
                    Kind::RightParen => break 'args,
                    Kind::Comma if self.starts_expr(&self.peek()?) => continue 'args,
                    // Prometheus' grammar takes a comma that no argument
                    // follows (`abs(foo,)`, `f(a, ,b)`) and its action
                    // complains; what follows is read as after an argument.
                    Kind::Comma => self.act(
                        t.start,
                        "trailing commas not allowed in function call args".into(),
                    ),
                    _ => return Err(self.unexpected(&t)),
                }
            }
        }
        self.depth -= 1;
        Ok((self.toks[self.i - 1].end, args))
    }

    /// `op [by|without (...)] (args) [by|without (...)]`.
    fn aggregate(&mut self, op: Tok) -> Res<usize> {
        self.agg_depth += 1;
        let mut grouped = false;
        let modifier = |r: &Self| -> Res<bool> {
            let t = r.peek()?;
            Ok(t.kind == Kind::Keyword
                && matches!(r.text(&t).to_ascii_lowercase().as_str(), "by" | "without"))
        };
        if modifier(self)? {
            self.bump()?;
            self.grouping_labels()?;
            grouped = true;
        }
        let t = self.peek()?;
        if t.kind != Kind::LeftParen {
            return Err(self.unexpected(&t));
        }
        let (mut end, args) = self.call_body()?;
        if !grouped && modifier(self)? {
            self.bump()?;
            self.grouping_labels()?;
            end = self.toks[self.i - 1].end;
        }
        self.agg_depth -= 1;
        let with_param = matches!(
            self.text(&op).to_ascii_lowercase().as_str(),
            "topk" | "bottomk" | "count_values" | "quantile"
        );
        let wanted = if with_param { 2 } else { 1 };
        if args.is_empty() {
            self.act(
                op.start,
                "no arguments for aggregate expression provided".into(),
            );
        } else if args.len() != wanted {
            let msg = format!(
                "wrong number of arguments for aggregate expression provided, expected {wanted}, got {}",
                args.len()
            );
            self.act(op.start, msg);
        }
        Ok(self.node(NodeKind::Aggregate, op.start, end, args))
    }

    /// Records an error that a grammar action of Prometheus reports while
    /// parsing goes on (unknown function, bad duration or number, a range
    /// or modifier on the wrong expression, an aggregation's argument
    /// count): it comes before any later syntax error. Only the first
    /// counts.
    fn act(&mut self, pos: usize, msg: String) {
        if self.action_err.is_none() {
            self.action_err = Some((pos, msg));
        }
    }

    /// Prometheus' `parseDuration` on a duration token.
    fn check_duration(&mut self, d: &Tok) {
        if let Err(msg) = check_duration(self.text(d)) {
            self.act(d.start, msg);
        }
    }

    /// Prometheus' `number` on a number token (Go's `ParseInt`, then
    /// `ParseFloat`).
    fn check_number(&mut self, t: &Tok) {
        let text = self.text(t);
        let why = if let Some(hex) = text.strip_prefix("0x").or(text.strip_prefix("0X")) {
            let fits = !hex.is_empty() && i64::from_str_radix(hex, 16).is_ok();
            (!fits).then_some("invalid syntax")
        } else {
            match text.parse::<f64>() {
                Err(_) => Some("invalid syntax"),
                Ok(v) if v.is_infinite() && !text.to_ascii_lowercase().contains("inf") => {
                    Some("value out of range")
                }
                Ok(_) => None,
            }
        };
        if let Some(why) = why {
            let msg = format!(
                "error parsing number: strconv.ParseFloat: parsing {}: {why}",
                go_quote_str(text, None)
            );
            self.act(t.start, msg);
        }
    }

    /// `setTimestamp`'s bounds: the `@` time, in seconds, must fit an
    /// `int64`; the error names the expression the `@` applies to.
    fn check_timestamp(&mut self, expr_start: usize, v: &Tok, negative: bool) {
        let text = self.text(v);
        let value = match text.strip_prefix("0x").or(text.strip_prefix("0X")) {
            Some(hex) => i64::from_str_radix(hex, 16).map(|v| v as f64).ok(),
            None => text.parse::<f64>().ok(),
        };
        let Some(mut ts) = value else {
            return; // Not a number: `check_number` said so first.
        };
        if negative {
            ts = -ts;
        }
        let bound = i64::MAX as f64;
        if ts.is_nan() || ts >= bound || ts <= -bound {
            let shown = match ts {
                t if t.is_nan() => "NaN".to_string(),
                t if t == f64::INFINITY => "+Inf".to_string(),
                t if t == f64::NEG_INFINITY => "-Inf".to_string(),
                t => format!("{t:.6}"),
            };
            let msg = format!("timestamp out of bounds for @ modifier: {shown}");
            self.act(expr_start, msg);
        }
    }

    /// The base of `e` under its `offset` and `@` modifiers, and whether
    /// those hold an `offset` and an `@`.
    fn modifiers(&self, mut e: usize) -> (usize, bool, bool) {
        let (mut offset, mut at) = (false, false);
        loop {
            match self.nodes[e].kind {
                NodeKind::Offset => offset = true,
                NodeKind::At => at = true,
                _ => return (e, offset, at),
            }
            e = self.nodes[e].children[0];
        }
    }

    /// The matrix selector action: a range applies to a bare selector.
    fn check_range(&mut self, range: usize) {
        let NodeKind::Range(bracket) = self.nodes[range].kind else {
            return;
        };
        let (base, offset, at) = self.modifiers(self.nodes[range].children[0]);
        let msg = if self.nodes[base].kind != NodeKind::Selector {
            "ranges only allowed for vector selectors"
        } else if offset {
            "no offset modifiers allowed before range"
        } else if at {
            "no @ modifiers allowed before range"
        } else {
            return;
        };
        self.act(bracket, msg.into());
    }

    /// `addOffset` and `setTimestamp`: a modifier applies to a selector, a
    /// range or a subquery, once.
    fn check_modifier(&mut self, e: usize, modifier: &str) {
        let (base, offset, at) = self.modifiers(e);
        let start = self.nodes[e].start;
        let base_kind = self.nodes[base].kind;
        if let NodeKind::Range(_) = base_kind {
            let (inner, _, _) = self.modifiers(self.nodes[base].children[0]);
            if self.nodes[inner].kind != NodeKind::Selector {
                self.act(start, "ranges only allowed for vector selectors".into());
                return;
            }
        }
        if !matches!(
            base_kind,
            NodeKind::Selector | NodeKind::Range(_) | NodeKind::Subquery(_)
        ) {
            let msg = format!(
                "{modifier} modifier must be preceded by an instant vector selector or range vector selector or a subquery"
            );
            self.act(start, msg);
        } else if modifier == "offset" && offset {
            self.act(start, "offset may not be set multiple times".into());
        } else if modifier == "@" && at {
            self.act(start, "@ <timestamp> may not be set multiple times".into());
        }
    }
}

/// Prometheus 2.42's `parseDuration`: `model.ParseDuration` (units in the
/// order y w d h m s ms, each at most once, no overflow) and not zero.
fn check_duration(ds: &str) -> Result<(), String> {
    const UNITS: [(&str, u128); 7] = [
        ("y", 365 * 24 * 3600 * 1_000_000_000),
        ("w", 7 * 24 * 3600 * 1_000_000_000),
        ("d", 24 * 3600 * 1_000_000_000),
        ("h", 3600 * 1_000_000_000),
        ("m", 60 * 1_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
    ];
    let invalid = || format!("not a valid duration string: {}", go_quote_str(ds, None));
    if ds == "0" {
        return Err("duration must be greater than 0".into());
    }
    if ds.is_empty() {
        return Err("empty duration string".into());
    }
    let mut rest = ds;
    let mut next_unit = 0;
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        let value: u128 = rest[..digits].parse().unwrap_or(u128::MAX);
        rest = &rest[digits..];
        let unit = if rest.starts_with("ms") {
            "ms"
        } else {
            rest.get(..1).unwrap_or("")
        };
        let Some(idx) = UNITS[next_unit..].iter().position(|(u, _)| *u == unit) else {
            return Err(invalid());
        };
        let ns_per_unit = UNITS[next_unit + idx].1;
        next_unit += idx + 1;
        rest = &rest[unit.len()..];
        total = value
            .checked_mul(ns_per_unit)
            .and_then(|v| v.checked_add(total))
            .unwrap_or(u128::MAX);
        if total > i64::MAX as u128 {
            return Err("duration out of range".into());
        }
    }
    if total == 0 {
        return Err("duration must be greater than 0".into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Semantic errors: which node, which position, Prometheus' words.

/// The crate's verdict on one span of the query.
fn verdict(query: &str, node: &Node) -> Result<Expr, String> {
    crate_parse(&query[node.start..node.end])
}

/// How many bytes the culprit search may re-parse per byte of the query,
/// and at least. A real query's search re-parses each level of its nesting
/// once (under 10 levels, so under 10 times its length); 16 leaves room
/// and bounds the error path of a hostile query to a few dozen parses of
/// it (then the position is the start of the smallest span found so far).
const REPARSE_BYTES_PER_BYTE: usize = 16;
const REPARSE_BYTES_FLOOR: usize = 16 * 1024;

/// Locates an error the grammar accepts (`crate_msg` from the crate).
fn semantic(
    query: &str,
    toks: &[Tok],
    nodes: &[Node],
    root: usize,
    crate_msg: &str,
) -> (usize, String) {
    let crate_lexes = std::panic::catch_unwind(|| promql_parser::parser::lex::lexer(query).is_ok());
    if !matches!(crate_lexes, Ok(true)) {
        // The crate's lexer rejects what Prometheus' accepts (`foo[5m x]`,
        // which Prometheus reads as `foo[5m:]`): its message, no position.
        return (0, crate_msg.to_string());
    }
    let message = prometheus_wording(crate_msg);
    if verdict(query, &nodes[root]).err().as_deref() != Some(crate_msg) {
        // The recogniser and the crate disagree about the query (a
        // construct one accepts and the other does not): no node to blame.
        return (nodes[root].start, message);
    }
    // Walk down to the smallest span that fails with the same message,
    // within a budget: each level re-parses its children, which on a long
    // chain (`rate(a) + a + a + ...`, the error at the bottom of a left
    // spine) would cost the square of the query's length.
    let budget = REPARSE_BYTES_PER_BYTE * query.len() + REPARSE_BYTES_FLOOR;
    let mut spent = 0;
    let mut at = root;
    'down: loop {
        for &child in &nodes[at].children {
            spent += nodes[child].end - nodes[child].start;
            if spent > budget {
                break 'down;
            }
            if verdict(query, &nodes[child]).err().as_deref() == Some(crate_msg) {
                at = child;
                continue 'down;
            }
        }
        break;
    }
    let node = &nodes[at];
    let child_type = |i: usize| -> Option<ValueType> {
        let c = *node.children.get(i)?;
        verdict(query, &nodes[c]).ok().map(|e| e.value_type())
    };
    let child_start = |i: usize| node.children.get(i).map(|&c| nodes[c].start);
    let pos = if crate_msg.starts_with("expected type ") {
        // A type mismatch names the offending operand, not the call.
        let got = crate_msg.rsplit("got ").next().unwrap_or("");
        match node.kind {
            // The crate checks the aggregated expression (a vector) first,
            // then the parameter.
            NodeKind::Aggregate if crate_msg.starts_with("expected type vector") => {
                child_start(node.children.len().saturating_sub(1))
            }
            NodeKind::Aggregate => child_start(0),
            _ => (0..node.children.len())
                .find(|&i| child_type(i).map(|t| t.to_string()).as_deref() == Some(got))
                .and_then(child_start),
        }
        .unwrap_or(node.start)
    } else if crate_msg.starts_with("set operator")
        || crate_msg.starts_with("binary expression must contain only")
    {
        // Prometheus checks each operand (its own checks first, then its
        // type) before the set operator; the crate checks the operator
        // first, and lets a unary `+` of a range vector through.
        let ok = |t: Option<ValueType>| matches!(t, Some(ValueType::Scalar | ValueType::Vector));
        for (i, &child) in node.children.iter().enumerate().take(2) {
            if ok(child_type(i)) {
                continue;
            }
            let operand = &nodes[child];
            if operand.kind == NodeKind::Unary {
                let inner = verdict(query, &nodes[operand.children[0]]).ok();
                if let Some(t) = inner.map(|e| e.value_type()).filter(|t| !ok(Some(*t))) {
                    let got = match t {
                        ValueType::Matrix => "range vector",
                        ValueType::String => "string",
                        _ => "instant vector",
                    };
                    let msg = format!(
                        "unary expression only allowed on expressions of type scalar or instant vector, got \"{got}\""
                    );
                    return (operand.start, msg);
                }
            }
            return (operand.start, OPERAND_TYPES.into());
        }
        node.start
    } else if crate_msg.starts_with("comparisons between scalars")
        || crate_msg.starts_with("bool modifier can only")
        || crate_msg.contains("must not occur in ON and GROUP")
    {
        match node.kind {
            NodeKind::Binary(op) => op,
            _ => node.start,
        }
    } else if crate_msg.starts_with("ranges only allowed")
        || crate_msg.ends_with("modifiers allowed before range")
    {
        match node.kind {
            NodeKind::Range(bracket) | NodeKind::Subquery(bracket) => bracket,
            _ => node.start,
        }
    } else if crate_msg.contains("duration") {
        duration_position(query, toks, node, crate_msg)
    } else {
        node.start
    };
    (pos, message_for(query, node, crate_msg, message))
}

/// Prometheus' message for a binary operand that is neither a scalar nor
/// an instant vector.
const OPERAND_TYPES: &str = "binary expression must contain only scalar and instant vector types";

/// The duration token a duration error names: the one quoted in the
/// message, else the first zero one, else the node's first.
fn duration_position(query: &str, toks: &[Tok], node: &Node, crate_msg: &str) -> usize {
    let durations: Vec<&Tok> = toks
        .iter()
        .filter(|t| t.kind == Kind::Duration && t.start >= node.start && t.end <= node.end)
        .collect();
    let text = |t: &Tok| &query[t.start..t.end];
    durations
        .iter()
        .find(|t| crate_msg.ends_with(&format!(": {}", text(t))))
        .or_else(|| {
            durations
                .iter()
                .find(|t| text(t).chars().all(|c| !c.is_ascii_digit() || c == '0'))
        })
        .or(durations.first())
        .map_or(node.start, |t| t.start)
}

/// Prometheus' message where it cannot be derived from the crate's alone.
fn message_for(query: &str, node: &Node, crate_msg: &str, reworded: String) -> String {
    if node.kind == NodeKind::Aggregate
        && crate_msg.contains("in aggregation expression")
        && !crate_msg.starts_with("expected type vector")
    {
        // The crate says "aggregation expression" for the parameter too.
        return reworded.replace("aggregation expression", "aggregation parameter");
    }
    if node.kind == NodeKind::Number {
        // Go's `strconv.ParseFloat` error, which Prometheus passes on.
        let text = &query[node.start..node.end];
        let why = match text.parse::<f64>() {
            Ok(v) if v.is_infinite() => "value out of range",
            _ => "invalid syntax",
        };
        return format!(
            "error parsing number: strconv.ParseFloat: parsing {}: {why}",
            go_quote_str(text, None)
        );
    }
    reworded
}

/// Rewords one of the crate's messages as Prometheus 2.42 words it: Go's
/// double quotes for names, Prometheus' names for value types.
fn prometheus_wording(msg: &str) -> String {
    let types = |s: &str| {
        s.replace("type matrix", "type range vector")
            .replace("type vector", "type instant vector")
            .replace("got matrix", "got range vector")
            .replace("got vector", "got instant vector")
    };
    if let Some(got) = msg
        .strip_prefix("unary expression only allowed on expressions of type scalar or vector, got")
    {
        let got = match got.trim_start_matches(':').trim_start() {
            "matrix" => "range vector",
            "vector" => "instant vector",
            other => other,
        };
        return format!(
            "unary expression only allowed on expressions of type scalar or instant vector, got \"{got}\""
        );
    }
    if let Some(ds) = msg.strip_prefix("not a valid duration string: ") {
        return format!("not a valid duration string: {}", go_quote_str(ds, None));
    }
    if msg.starts_with("no arguments for aggregate expression") {
        return "no arguments for aggregate expression provided".into();
    }
    if msg == "vector matching only allowed between vectors" {
        return "vector matching only allowed between instant vectors".into();
    }
    if let Some(got) = msg.strip_prefix("subquery is only allowed on vector, got ") {
        // Prometheus names the type with its internal name here.
        let got = got.trim_end_matches(" instead");
        return format!("subquery is only allowed on instant vector, got {got} instead");
    }
    let msg = msg.replace(
        "preceded by an vector selector or matrix selector",
        "preceded by an instant vector selector or range vector selector",
    );
    types(&single_to_double_quotes(&msg))
}

/// `'name'` → `"name"` (Go's `%q` of the names the crate quotes).
fn single_to_double_quotes(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(open) = rest.find('\'') {
        let Some(len) = rest[open + 1..].find('\'') else {
            break;
        };
        out.push_str(&rest[..open]);
        out.push_str(&go_quote_str(&rest[open + 1..open + 1 + len], None));
        rest = &rest[open + 2 + len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How our answer relates to Prometheus 2.42's for one query.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Agreement {
        /// Same text: position and message.
        Same,
        /// Prometheus rejects it, but `promql-parser` accepts it, so there
        /// is no error to place (we only do work when the crate fails).
        CrateAccepts,
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
        // --- accepted (7)
        (
            "foo[5]",
            "1:5: parse error: missing unit character in duration",
            CrateAccepts,
        ),
        (
            r#"sum(foo) by (a, "b")"#,
            r#"1:17: parse error: unexpected string "\"b\"" in grouping opts, expected label"#,
            CrateAccepts,
        ),
        (
            "foo[1m:5]",
            r#"1:8: parse error: unexpected number "5" in subquery selector, expected duration or "]""#,
            CrateAccepts,
        ),
        ("foo[5m x 1m]", "OK", PrometheusAccepts),
        (
            "foo offset 5",
            r#"1:12: parse error: unexpected number "5" in offset, expected duration"#,
            CrateAccepts,
        ),
        (
            "1 + 5m",
            r#"1:5: parse error: unexpected duration "5m""#,
            CrateAccepts,
        ),
        (
            "1e999",
            r#"1:1: parse error: error parsing number: strconv.ParseFloat: parsing "1e999": value out of range"#,
            CrateAccepts,
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
        let q = r#"holt_winters{holt_winters="holt_winters("} + holt_winters(holt_winters[1m], 0.1, 0.2)"#;
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
                CrateAccepts => assert_eq!(ours, None, "query {query:?} now fails: {ours:?}"),
                PrometheusAccepts => {
                    assert_eq!(prometheus, "OK");
                    assert!(ours.is_some(), "query {query:?} now parses");
                }
            }
        }
        // The count the module doc reports.
        assert!(same >= 250, "only {same} exact answers");
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
        // Too deep to look into: the crate's message at the start.
        assert_eq!(
            answers.0.as_deref(),
            Some("1:1: parse error: invalid promql query")
        );
        assert_eq!(
            answers.1.as_deref(),
            Some("1:206: parse error: unexpected end of input")
        );
    }
}
