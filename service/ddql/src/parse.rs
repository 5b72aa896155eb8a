//! The three entry points and the limits on their input.
//!
//! The grammar lives beside this file, one concern per module: `expr`
//! (arithmetic, calls), `query` (metric queries and methods), `scope` (tag
//! filters), `funcs` (the function table) and `params` (literal parameters),
//! all moving one `Cursor` (`cursor`) over the text.

use crate::ast::{Expr, MetricQuery, Request};
use crate::cursor::{Cursor, Mode};
use crate::error::ParseError;

/// Longest query text accepted, in bytes. Datadog's own UI keeps queries far
/// shorter; 64 KiB leaves room for generated queries with long `IN` lists
/// while bounding the parser's work per request.
pub const MAX_QUERY_BYTES: usize = 64 * 1024;

/// Deepest nesting accepted. Two things are bounded by it: the nesting of
/// parentheses, function calls, unary minus, scope groups and `NOT` while
/// parsing (so the recursive-descent parser cannot exhaust its stack), and
/// the height of each expression tree, where every operator counts, so a
/// chain `a + b + ... ` holds at most 64 operands. Consumers that recurse
/// over a tree (the evaluator, `Display`, `Drop`) are therefore bounded too.
pub const MAX_DEPTH: usize = 64;

/// Parses a `GET /api/v1/query` query: comma-separated expressions whose
/// leaves are metric queries and numbers.
///
/// `Err` gives the byte offset of the offending token (or the end of the
/// text) and says what was expected there.
pub fn parse_request(src: &str) -> Result<Request, ParseError> {
    let mut cur = start(src, Mode::Request, "query")?;
    let mut exprs = Vec::new();
    loop {
        exprs.push(cur.expr()?.expr);
        cur.skip_ws();
        match cur.peek() {
            None => return Ok(Request { exprs }),
            Some(b',') => cur.pos += 1,
            Some(_) => return Err(cur.after_expr_error()),
        }
    }
}

/// Parses one metric query (a v2 `queries[].query`): methods are allowed,
/// arithmetic and functions are not (they belong in a formula).
pub fn parse_metric_query(src: &str) -> Result<MetricQuery, ParseError> {
    let mut cur = start(src, Mode::Request, "query")?;
    cur.skip_ws();
    let before = cur.pos;
    if let Some((at, word)) = cur.word() {
        cur.skip_ws();
        if cur.peek() == Some(b'(') {
            return Err(cur.error(
                at,
                format!("a query is a single metric query; functions such as `{word}()` belong in a formula"),
            ));
        }
    }
    cur.pos = before;
    let q = cur.metric_query()?;
    cur.skip_ws();
    match cur.peek() {
        None => Ok(q),
        Some(b @ (b'+' | b'-' | b'*' | b'/')) => Err(cur.error(
            cur.pos,
            format!(
                "a query is a single metric query; arithmetic belongs in a formula, found `{}`",
                b as char
            ),
        )),
        Some(b',') => Err(cur.error(cur.pos, "a query is a single metric query, found `,`")),
        Some(_) => Err(cur.expected("a method such as `.rollup()`, or end of query")),
    }
}

/// Parses a v2 formula (`a / b * 100`, `cumsum(a)`): one expression whose
/// leaves are query names ([`Expr::Ref`]) and numbers.
pub fn parse_formula(src: &str) -> Result<Expr, ParseError> {
    let mut cur = start(src, Mode::Formula, "formula")?;
    let e = cur.expr()?.expr;
    cur.skip_ws();
    match cur.peek() {
        None => Ok(e),
        Some(_) => Err(cur.after_expr_error()),
    }
}

/// Checks the limits that apply before parsing, and makes the cursor.
fn start<'a>(src: &'a str, mode: Mode, what: &str) -> Result<Cursor<'a>, ParseError> {
    if src.len() > MAX_QUERY_BYTES {
        return Err(ParseError {
            position: MAX_QUERY_BYTES,
            message: format!(
                "{what} too long: {} bytes, at most {MAX_QUERY_BYTES} are accepted",
                src.len()
            ),
        });
    }
    if src.trim().is_empty() {
        return Err(ParseError {
            position: src.len(),
            message: format!("empty {what}"),
        });
    }
    Ok(Cursor::new(src, mode))
}
