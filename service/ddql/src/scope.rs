//! Scopes: the tag filter between the braces of a metric query.
//!
//! ```text
//! scope  = "*" / list                         ; "*" alone is Scope::All
//! list   = or *( "," or )                      ; comma: AND, loosest of all
//! or     = and *( OR and )
//! and    = not *( AND not )
//! not    = NOT not / "!" atom / atom
//! atom   = "(" list ")" / term
//! term   = key IN "(" values ")" / key NOT IN "(" values ")" / "*" / tag
//! ```
//!
//! Decisions, where Datadog's documentation leaves room:
//!
//! * Precedence: `NOT`/`!` binds tightest, then `AND`, then `OR`, then the
//!   comma. The comma is an AND at the loosest level, so
//!   `env:prod, host:a OR host:b` is `env:prod AND (host:a OR host:b)`:
//!   each comma-separated part is a complete filter, which is how comma
//!   lists read in every Datadog example.
//! * Keywords (`AND`, `OR`, `NOT`, `IN`) are matched in any case (`and`,
//!   `Not`), and only as whole tokens: `android` and `env:and` are tags, but
//!   a bare tag literally named `and`, `or`, `not` or `in` cannot be written.
//! * Datadog rejects mixing `!`/`,` with the keyword operators; Whippet
//!   accepts the mix, since every such query has one obvious meaning.
//! * A tag is a run of letters, digits and `_ - : . / *` (Datadog's tag
//!   alphabet plus the wildcard); one containing `*` is a [`Scope::Glob`].
//!   A lone `*` term is [`Scope::All`] wherever it appears.
//! * `(a AND b) AND c` keeps its grouping: parentheses always make their
//!   own node, and an `AND`/`OR` chain is one node with all its operands.

use crate::ast::Scope;
use crate::cursor::Cursor;
use crate::error::ParseError;
use crate::query::is_key_char;

/// Characters of a tag (`key:value` or bare) in a scope, wildcard included.
pub(crate) fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | ':' | '.' | '/' | '*')
}

/// Scope keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keyword {
    And,
    Or,
    Not,
    In,
}

fn keyword(token: &str) -> Option<Keyword> {
    [
        ("and", Keyword::And),
        ("or", Keyword::Or),
        ("not", Keyword::Not),
        ("in", Keyword::In),
    ]
    .into_iter()
    .find(|(name, _)| token.eq_ignore_ascii_case(name))
    .map(|(_, k)| k)
}

impl Cursor<'_> {
    /// Parses a scope after its `{` (at `open`) through the closing `}`.
    pub(crate) fn scope_body(&mut self, open: usize) -> Result<Scope, ParseError> {
        self.skip_ws();
        if self.peek() == Some(b'}') {
            return Err(self.error(self.pos, "empty scope: write `{*}` to select every series"));
        }
        let scope = self.scope_list()?;
        self.skip_ws();
        match self.peek() {
            Some(b'}') => {
                self.pos += 1;
                Ok(scope)
            }
            None => Err(self.expected(&format!(
                "`}}` to close the scope opened at position {open}"
            ))),
            Some(_) => Err(self.expected(&format!(
                "`,`, `AND`, `OR` or `}}` to close the scope opened at position {open}"
            ))),
        }
    }

    /// `list`: comma-separated filters.
    fn scope_list(&mut self) -> Result<Scope, ParseError> {
        let first = self.scope_or()?;
        let mut items = vec![first];
        loop {
            self.skip_ws();
            if !self.eat(b',') {
                break;
            }
            items.push(self.scope_or()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Scope::And(items)
        })
    }

    /// `or`: filters joined by `OR`.
    fn scope_or(&mut self) -> Result<Scope, ParseError> {
        let mut items = vec![self.scope_and()?];
        while self.eat_keyword(Keyword::Or) {
            items.push(self.scope_and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Scope::Or(items)
        })
    }

    /// `and`: filters joined by `AND`.
    fn scope_and(&mut self) -> Result<Scope, ParseError> {
        let mut items = vec![self.scope_not()?];
        while self.eat_keyword(Keyword::And) {
            items.push(self.scope_not()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Scope::And(items)
        })
    }

    /// `not`: `NOT` and `!` prefixes.
    fn scope_not(&mut self) -> Result<Scope, ParseError> {
        self.skip_ws();
        let start = self.pos;
        if self.eat_keyword(Keyword::Not) {
            self.enter(start)?;
            let inner = self.scope_not()?;
            self.leave();
            return Ok(Scope::Not(Box::new(inner)));
        }
        if self.eat(b'!') {
            self.enter(start)?;
            let inner = self.scope_atom()?;
            self.leave();
            return Ok(Scope::Not(Box::new(inner)));
        }
        self.scope_atom()
    }

    /// `atom`: a parenthesised list or a term.
    fn scope_atom(&mut self) -> Result<Scope, ParseError> {
        self.skip_ws();
        if self.peek() != Some(b'(') {
            return self.scope_term();
        }
        let open = self.pos;
        self.enter(open)?;
        self.pos += 1;
        let inner = self.scope_list()?;
        self.skip_ws();
        match self.peek() {
            Some(b')') => self.pos += 1,
            None => {
                return Err(self.expected(&format!(
                    "`)` to close the parenthesis opened at position {open}"
                )));
            }
            Some(_) => {
                return Err(self.expected(&format!(
                    "`,`, `AND`, `OR` or `)` to close the parenthesis opened at position {open}"
                )));
            }
        }
        self.leave();
        Ok(inner)
    }

    /// `term`: a tag, a glob, `*`, or an `IN` list.
    fn scope_term(&mut self) -> Result<Scope, ParseError> {
        self.skip_ws();
        let (start, tag) = self.take_chars(is_tag_char);
        if tag.is_empty() {
            return Err(self.expected("a tag (like `env:prod`), `*`, `!`, `NOT` or `(`"));
        }
        if keyword(tag).is_some() {
            return Err(self.error(start, format!("expected a tag, found the keyword `{tag}`")));
        }
        if tag == "*" {
            return Ok(Scope::All);
        }
        let after_tag = self.pos;
        match self.next_keyword() {
            Some(Keyword::In) => return self.in_list(start, tag, false),
            Some(Keyword::Not) if self.next_keyword() == Some(Keyword::In) => {
                return self.in_list(start, tag, true);
            }
            _ => self.pos = after_tag,
        }
        Ok(if tag.contains('*') {
            Scope::Glob(tag.to_owned())
        } else {
            Scope::Tag(tag.to_owned())
        })
    }

    /// The values of `key IN (...)`; the cursor is after `IN`.
    fn in_list(&mut self, key_at: usize, key: &str, negated: bool) -> Result<Scope, ParseError> {
        if !key.chars().all(is_key_char) {
            return Err(self.error(
                key_at,
                format!("`IN` needs a tag key on its left (like `env IN (prod, staging)`), found `{key}`"),
            ));
        }
        self.skip_ws();
        let open = self.pos;
        if !self.eat(b'(') {
            return Err(self.expected("`(` after `IN`"));
        }
        let mut values = Vec::new();
        loop {
            self.skip_ws();
            let (_, value) = self.take_chars(is_tag_char);
            if value.is_empty() {
                return Err(self.expected("a tag value"));
            }
            values.push(value.to_owned());
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b')') => {
                    self.pos += 1;
                    break;
                }
                None => {
                    return Err(self.expected(&format!(
                        "`)` to close the `IN` list opened at position {open}"
                    )));
                }
                Some(_) => {
                    return Err(self.expected(&format!(
                        "`,` or `)` to close the `IN` list opened at position {open}"
                    )));
                }
            }
        }
        let list = Scope::In {
            key: key.to_owned(),
            values,
        };
        Ok(if negated {
            Scope::Not(Box::new(list))
        } else {
            list
        })
    }

    /// Reads the next token if it is a keyword (cursor after it); otherwise
    /// `None`, with the cursor wherever it got to (callers restore it).
    fn next_keyword(&mut self) -> Option<Keyword> {
        self.skip_ws();
        let (_, token) = self.take_chars(is_tag_char);
        keyword(token)
    }

    /// Consumes the keyword `k` if it is the next token.
    fn eat_keyword(&mut self, k: Keyword) -> bool {
        let before = self.pos;
        if self.next_keyword() == Some(k) {
            return true;
        }
        self.pos = before;
        false
    }
}
