//! The cursor the monitor query parsers move over the text.
//!
//! Monitor queries have few tokens (words, quoted strings, whole numbers,
//! punctuation), read here; the metric expression inside a metric monitor is
//! handed whole to `whippet_ddql`. Invariants kept by every method:
//!
//! * `pos` is always on a UTF-8 character boundary and at most `src.len()`:
//!   the cursor steps only over ASCII bytes it has matched, or over whole
//!   characters inside quoted strings;
//! * every method does work proportional to the text it consumes, so a
//!   parse is linear in the length of the query.

use super::error::QueryError;

/// A position in the monitor query text.
pub(crate) struct Cursor<'a> {
    /// The whole monitor query.
    pub(crate) src: &'a str,
    /// Byte offset of the next unread character.
    pub(crate) pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(src: &'a str) -> Cursor<'a> {
        Cursor { src, pos: 0 }
    }

    /// The byte at the cursor, if any.
    pub(crate) fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    /// True when the whole text has been read.
    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    /// Skips spaces, tabs and line breaks.
    pub(crate) fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Consumes `b` (an ASCII byte) if it is next.
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes `text` (ASCII) if it comes next.
    pub(crate) fn eat_str(&mut self, text: &str) -> bool {
        if self.src.as_bytes()[self.pos..].starts_with(text.as_bytes()) {
            self.pos += text.len();
            true
        } else {
            false
        }
    }

    /// Reads a word, `[A-Za-z0-9_]+` (a time aggregation, a window such as
    /// `last_5m`, a method name), and returns where it starts; `None`
    /// (cursor unmoved) when none is next.
    pub(crate) fn word(&mut self) -> Option<(usize, &'a str)> {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if b.is_ascii_alphanumeric() || b == b'_' {
                self.pos += 1;
            } else {
                break;
            }
        }
        (self.pos > start).then(|| (start, &self.src[start..self.pos]))
    }

    /// Reads a run of ASCII digits and returns where it starts; `None`
    /// (cursor unmoved) when no digit is next.
    pub(crate) fn digits(&mut self) -> Option<(usize, &'a str)> {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        (self.pos > start).then(|| (start, &self.src[start..self.pos]))
    }

    /// Reads a string quoted with `"` or `'`, in which `\"`, `\'` and `\\`
    /// stand for the quote or backslash they escape, and returns where it
    /// starts and its value. `Ok(None)` (cursor unmoved) when no quote is
    /// next.
    pub(crate) fn string(&mut self) -> Result<Option<(usize, String)>, QueryError> {
        let start = self.pos;
        let Some(quote @ (b'"' | b'\'')) = self.peek() else {
            return Ok(None);
        };
        self.pos += 1;
        let mut value = String::new();
        loop {
            let rest = &self.src[self.pos..];
            let Some(c) = rest.chars().next() else {
                return Err(QueryError::at(
                    start,
                    format!(
                        "unterminated string: expected a closing `{}`",
                        quote as char
                    ),
                ));
            };
            if c as u32 == u32::from(quote) {
                self.pos += 1;
                return Ok(Some((start, value)));
            }
            if c == '\\' {
                match rest[1..].chars().next() {
                    Some(e @ ('"' | '\'' | '\\')) => {
                        value.push(e);
                        self.pos += 2;
                    }
                    Some(e) => {
                        return Err(QueryError::at(
                            self.pos,
                            format!(
                                "unknown escape `\\{e}` in a string; only `\\\"`, `\\'` and `\\\\` are allowed"
                            ),
                        ));
                    }
                    None => {
                        return Err(QueryError::at(
                            start,
                            format!(
                                "unterminated string: expected a closing `{}`",
                                quote as char
                            ),
                        ));
                    }
                }
                continue;
            }
            value.push(c);
            self.pos += c.len_utf8();
        }
    }

    /// Describes the token at `pos` for an error message: "end of query",
    /// "`word`" or "`c`".
    pub(crate) fn found(&self, pos: usize) -> String {
        let rest = self.src.get(pos..).unwrap_or("");
        let Some(c) = rest.chars().next() else {
            return "end of query".to_owned();
        };
        if c.is_ascii_alphanumeric() || c == '_' {
            let word: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(MAX_ECHOED_CHARS)
                .collect();
            format!("`{word}`")
        } else {
            format!("`{c}`")
        }
    }

    /// "expected {what}, found {what is at the cursor}", at the cursor.
    pub(crate) fn expected(&self, what: &str) -> QueryError {
        QueryError::at(
            self.pos,
            format!("expected {what}, found {}", self.found(self.pos)),
        )
    }
}

/// Longest piece of the user's text repeated in an error message, in
/// characters: enough to recognise a word, short enough that a 64 KiB
/// query cannot make a 64 KiB error response.
pub(crate) const MAX_ECHOED_CHARS: usize = 40;

/// `text` shortened to [`MAX_ECHOED_CHARS`] characters (with `...` when
/// cut), for quoting user text in an error message.
pub(crate) fn echo(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(MAX_ECHOED_CHARS).collect();
    if chars.next().is_some() {
        format!("{head}...")
    } else {
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_unescape_and_report_their_errors() {
        let mut c = Cursor::new(r#""a\"b\\c" rest"#);
        assert_eq!(c.string().unwrap(), Some((0, "a\"b\\c".to_owned())));
        assert_eq!(c.pos, 9);
        let mut c = Cursor::new("'it\\'s'");
        assert_eq!(c.string().unwrap(), Some((0, "it's".to_owned())));
        let mut c = Cursor::new("x");
        assert_eq!(c.string().unwrap(), None);
        assert_eq!(c.pos, 0);
        let e = Cursor::new("\"abc").string().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unterminated string: expected a closing `\"` at position 0"
        );
        let e = Cursor::new("\"abc\\").string().unwrap_err();
        assert_eq!(e.position, Some(0));
        let e = Cursor::new("\"a\\nb\"").string().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown escape `\\n` in a string; only `\\\"`, `\\'` and `\\\\` are allowed at position 2"
        );
        let mut c = Cursor::new("\"é\"");
        assert_eq!(c.string().unwrap(), Some((0, "é".to_owned())));
    }

    #[test]
    fn found_describes_the_next_token() {
        let c = Cursor::new("ab_1+ é");
        assert_eq!(c.found(0), "`ab_1`");
        assert_eq!(c.found(4), "`+`");
        assert_eq!(c.found(6), "`é`");
        assert_eq!(c.found(8), "end of query");
        assert_eq!(echo(&"x".repeat(50)), format!("{}...", "x".repeat(40)));
    }
}
