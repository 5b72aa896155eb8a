//! The cursor every grammar module moves over the query text.
//!
//! The Datadog query language is context sensitive at the character level
//! (`host:web-1` is one token inside a scope, three outside it), so there is
//! no separate lexer: each grammar module reads the characters it expects
//! from this cursor. Invariants kept by every method:
//!
//! * `pos` is always on a UTF-8 character boundary (the cursor only steps
//!   over ASCII bytes it has matched, or over whole characters);
//! * `depth` counts the recursive descents in progress (parentheses, calls,
//!   unary minus, scope groups and `NOT`), and never exceeds
//!   [`MAX_DEPTH`](crate::MAX_DEPTH): [`Cursor::enter`] refuses to go deeper,
//!   so no input can exhaust the stack.

use crate::MAX_DEPTH;
use crate::error::ParseError;

/// What kind of text is being parsed; it decides what a bare word means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A v1 query: leaves are metric queries and numbers.
    Request,
    /// A v2 formula: leaves are query names and numbers.
    Formula,
}

/// A position in the query text plus the nesting depth.
pub(crate) struct Cursor<'a> {
    /// The whole query text.
    pub(crate) src: &'a str,
    /// Byte offset of the next unread character.
    pub(crate) pos: usize,
    /// Recursive descents in progress.
    depth: usize,
    /// What bare words mean.
    pub(crate) mode: Mode,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(src: &'a str, mode: Mode) -> Self {
        Cursor {
            src,
            pos: 0,
            depth: 0,
            mode,
        }
    }

    /// The byte at the cursor, if any.
    pub(crate) fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    /// The character at `pos`, if any.
    pub(crate) fn char_at(&self, pos: usize) -> Option<char> {
        self.src.get(pos..).and_then(|s| s.chars().next())
    }

    /// Skips spaces, tabs and line breaks.
    pub(crate) fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Consumes `b` if it is the next byte.
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Reads `[A-Za-z][A-Za-z0-9_.]*` (a metric name, an aggregator such as
    /// `p99.9`, a function name or a query name) and returns where it
    /// starts; `None` (cursor unmoved) when no letter is next.
    pub(crate) fn word(&mut self) -> Option<(usize, &'a str)> {
        self.take_while_first(
            |b| b.is_ascii_alphabetic(),
            |b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.',
        )
    }

    /// Reads `[A-Za-z][A-Za-z0-9_]*` (method names, keyword parameters).
    pub(crate) fn ident(&mut self) -> Option<(usize, &'a str)> {
        self.take_while_first(
            |b| b.is_ascii_alphabetic(),
            |b| b.is_ascii_alphanumeric() || b == b'_',
        )
    }

    fn take_while_first(
        &mut self,
        first: impl Fn(u8) -> bool,
        rest: impl Fn(u8) -> bool,
    ) -> Option<(usize, &'a str)> {
        let start = self.pos;
        match self.peek() {
            Some(b) if first(b) => self.pos += 1,
            _ => return None,
        }
        while let Some(b) = self.peek() {
            if !rest(b) {
                break;
            }
            self.pos += 1;
        }
        Some((start, &self.src[start..self.pos]))
    }

    /// Reads a run of characters accepted by `accept` (whole characters, so
    /// non-ASCII tag values stay intact).
    pub(crate) fn take_chars(&mut self, accept: impl Fn(char) -> bool) -> (usize, &'a str) {
        let start = self.pos;
        while let Some(c) = self.char_at(self.pos) {
            if !accept(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
        (start, &self.src[start..self.pos])
    }

    /// Reads an unsigned number literal at the cursor: digits, an optional
    /// fraction, an optional exponent. The cursor must be on a digit.
    pub(crate) fn unsigned_number(&mut self) -> Result<(usize, f64), ParseError> {
        let start = self.pos;
        self.digits();
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.malformed_number(start));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.malformed_number(start));
            }
        }
        if let Some(b) = self.peek()
            && (b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        {
            return Err(self.malformed_number(start));
        }
        let text = &self.src[start..self.pos];
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok((start, v)),
            _ => Err(self.error(start, format!("number `{text}` is too large"))),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn malformed_number(&mut self, start: usize) -> ParseError {
        // Report the whole run the user meant as a number.
        self.pos = start;
        let (_, text) =
            self.take_chars(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '+' | '-'));
        let text = text.to_owned();
        self.error(start, format!("malformed number `{text}`; expected digits with an optional fraction and exponent, like `12`, `0.5` or `1e6`"))
    }

    /// Goes one level deeper; `at` is where the nested construct opens.
    pub(crate) fn enter(&mut self, at: usize) -> Result<(), ParseError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.too_deep(at));
        }
        self.depth += 1;
        Ok(())
    }

    /// Comes back from [`Cursor::enter`].
    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// The error for nesting beyond [`MAX_DEPTH`].
    pub(crate) fn too_deep(&self, at: usize) -> ParseError {
        self.error(
            at,
            format!(
                "query nested too deeply: at most {MAX_DEPTH} levels of parentheses, function calls, unary minus and chained operators are accepted"
            ),
        )
    }

    /// An error at `position`.
    pub(crate) fn error(&self, position: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            position,
            message: message.into(),
        }
    }

    /// "expected {what}, found {what is at the cursor}", at the cursor.
    pub(crate) fn expected(&self, what: &str) -> ParseError {
        self.error(
            self.pos,
            format!("expected {what}, found {}", self.found(self.pos)),
        )
    }

    /// Describes the token at `pos` for an error message: "end of query",
    /// "`word`" or "`c`".
    pub(crate) fn found(&self, pos: usize) -> String {
        let rest = self.src.get(pos..).unwrap_or("");
        let Some(c) = rest.chars().next() else {
            return "end of query".to_owned();
        };
        if c.is_alphanumeric() || c == '_' {
            let word: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '.'))
                .take(40)
                .collect();
            format!("`{word}`")
        } else if c == '`' {
            "a backquote".to_owned()
        } else {
            format!("`{c}`")
        }
    }
}
