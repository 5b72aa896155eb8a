//! Composite monitors: a boolean formula over other monitors' ids,
//! `1000 && !1001`, `(12 || 13) && !14`.
//!
//! ```text
//! or   = and *( "||" and )
//! and  = not *( "&&" not )
//! not  = "!" not / atom
//! atom = id / "(" or ")"
//! id   = 1*DIGIT                      ; fits in a u64
//! ```
//!
//! `!` binds tightest, then `&&`, then `||`. Chains are flattened: `a && b
//! && c`, `(a && b) && c` and `a && (b && c)` are one `And` of three, so
//! the tree of a formula does not depend on redundant parentheses, and the
//! printer puts parentheses only where precedence needs them.

use std::collections::HashSet;
use std::fmt;

use super::cursor::{Cursor, echo};
use super::error::QueryError;

/// Deepest nesting of parentheses and `!` accepted. The parser, the
/// printer and `Drop` recurse once per level, so the bound keeps any input
/// from exhausting the stack; 64 is the bound `whippet_ddql` uses, far
/// beyond a hand-written formula (Datadog composites combine a handful of
/// monitors).
pub const MAX_COMPOSITE_DEPTH: usize = 64;

/// A composite monitor's formula.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompositeQuery {
    /// A monitor id: true while that monitor alerts (or warns).
    Monitor(u64),
    /// `!x`
    Not(Box<CompositeQuery>),
    /// `a && b && ...`: two or more operands, none of them an `And`.
    And(Vec<CompositeQuery>),
    /// `a || b || ...`: two or more operands, none of them an `Or`.
    Or(Vec<CompositeQuery>),
}

impl CompositeQuery {
    /// The monitor ids the formula mentions, each once, in the order first
    /// written.
    pub fn ids(&self) -> Vec<u64> {
        let mut seen = HashSet::new();
        let mut ids = Vec::new();
        self.visit_ids(&mut |id| {
            if seen.insert(id) {
                ids.push(id);
            }
        });
        ids
    }

    fn visit_ids(&self, f: &mut impl FnMut(u64)) {
        match self {
            CompositeQuery::Monitor(id) => f(*id),
            CompositeQuery::Not(inner) => inner.visit_ids(f),
            CompositeQuery::And(items) | CompositeQuery::Or(items) => {
                for item in items {
                    item.visit_ids(f);
                }
            }
        }
    }
}

/// Binding strength: `||` 1, `&&` 2, `!` and ids 3.
fn strength(q: &CompositeQuery) -> u8 {
    match q {
        CompositeQuery::Or(_) => 1,
        CompositeQuery::And(_) => 2,
        CompositeQuery::Not(_) | CompositeQuery::Monitor(_) => 3,
    }
}

/// Writes `q` in parentheses when it binds looser than `min`.
fn operand(f: &mut fmt::Formatter<'_>, q: &CompositeQuery, min: u8) -> fmt::Result {
    if strength(q) < min {
        write!(f, "({q})")
    } else {
        write!(f, "{q}")
    }
}

/// Canonical text: `a && !b || (c || d) && e` with single spaces around
/// operators and parentheses only where needed. An `And`/`Or` nested
/// directly in one of its own kind (which the parser never makes) is
/// printed in parentheses and reads back flattened; an empty one prints as
/// `()`, which does not parse.
impl fmt::Display for CompositeQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (items, sep, min) = match self {
            CompositeQuery::Monitor(id) => return write!(f, "{id}"),
            CompositeQuery::Not(inner) => {
                f.write_str("!")?;
                return operand(f, inner, 3);
            }
            CompositeQuery::And(items) => (items, " && ", 3),
            CompositeQuery::Or(items) => (items, " || ", 2),
        };
        if items.is_empty() {
            return f.write_str("()");
        }
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                f.write_str(sep)?;
            }
            operand(f, item, min)?;
        }
        Ok(())
    }
}

/// Parses a composite formula.
pub(crate) fn parse(src: &str) -> Result<CompositeQuery, QueryError> {
    let mut p = Parser {
        cur: Cursor::new(src),
        depth: 0,
    };
    let q = p.or()?;
    p.cur.skip_ws();
    if !p.cur.at_end() {
        return Err(p.cur.expected("`&&`, `||` or the end of the formula"));
    }
    Ok(q)
}

struct Parser<'a> {
    cur: Cursor<'a>,
    /// Parentheses and `!` being parsed, at most [`MAX_COMPOSITE_DEPTH`].
    depth: usize,
}

impl Parser<'_> {
    fn or(&mut self) -> Result<CompositeQuery, QueryError> {
        let mut items = Vec::new();
        loop {
            push_flat(&mut items, self.and()?, |q| match q {
                CompositeQuery::Or(items) => Ok(items),
                other => Err(other),
            });
            self.cur.skip_ws();
            if !self.cur.eat_str("||") {
                break;
            }
        }
        Ok(single_or(items, CompositeQuery::Or))
    }

    fn and(&mut self) -> Result<CompositeQuery, QueryError> {
        let mut items = Vec::new();
        loop {
            push_flat(&mut items, self.not()?, |q| match q {
                CompositeQuery::And(items) => Ok(items),
                other => Err(other),
            });
            self.cur.skip_ws();
            if !self.cur.eat_str("&&") {
                break;
            }
        }
        Ok(single_or(items, CompositeQuery::And))
    }

    fn not(&mut self) -> Result<CompositeQuery, QueryError> {
        self.cur.skip_ws();
        if self.cur.eat(b'!') {
            self.enter()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(CompositeQuery::Not(Box::new(inner)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<CompositeQuery, QueryError> {
        let open = self.cur.pos;
        if self.cur.eat(b'(') {
            self.enter()?;
            let inner = self.or()?;
            self.depth -= 1;
            self.cur.skip_ws();
            if !self.cur.eat(b')') {
                return Err(self
                    .cur
                    .expected(&format!("`)` to close the `(` at position {open}")));
            }
            return Ok(inner);
        }
        let Some((at, digits)) = self.cur.digits() else {
            return Err(self.cur.expected("a monitor id, `!` or `(`"));
        };
        digits
            .parse()
            .map(CompositeQuery::Monitor)
            .map_err(|_| QueryError::at(at, format!("monitor id `{}` is too large", echo(digits))))
    }

    /// Goes one level deeper, or refuses past [`MAX_COMPOSITE_DEPTH`].
    fn enter(&mut self) -> Result<(), QueryError> {
        if self.depth >= MAX_COMPOSITE_DEPTH {
            return Err(QueryError::at(
                self.cur.pos.saturating_sub(1),
                format!(
                    "composite formula nested too deeply: at most {MAX_COMPOSITE_DEPTH} levels of parentheses and `!`"
                ),
            ));
        }
        self.depth += 1;
        Ok(())
    }
}

/// Appends `q` to `items`, or its operands when `split` says it is a chain
/// of the same kind (from parentheses).
fn push_flat(
    items: &mut Vec<CompositeQuery>,
    q: CompositeQuery,
    split: impl Fn(CompositeQuery) -> Result<Vec<CompositeQuery>, CompositeQuery>,
) {
    match split(q) {
        Ok(inner) => items.extend(inner),
        Err(q) => items.push(q),
    }
}

/// The one item itself, or the chain of several.
fn single_or(
    mut items: Vec<CompositeQuery>,
    chain: fn(Vec<CompositeQuery>) -> CompositeQuery,
) -> CompositeQuery {
    if items.len() == 1 {
        items.remove(0)
    } else {
        chain(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CompositeQuery::{And, Monitor, Not, Or};

    fn err(query: &str) -> (String, Option<usize>) {
        let e = parse(query).unwrap_err();
        (e.message, e.position)
    }

    #[test]
    fn precedence_and_flattening() {
        assert_eq!(
            parse("1000 && !1001").unwrap(),
            And(vec![Monitor(1000), Not(Box::new(Monitor(1001)))])
        );
        assert_eq!(
            parse("1 || 2 && 3").unwrap(),
            Or(vec![Monitor(1), And(vec![Monitor(2), Monitor(3)])])
        );
        assert_eq!(
            parse("(1 || 2) && 3").unwrap(),
            And(vec![Or(vec![Monitor(1), Monitor(2)]), Monitor(3)])
        );
        assert_eq!(
            parse("(1 && 2) && (3 && 4) || ((5))").unwrap(),
            Or(vec![
                And(vec![Monitor(1), Monitor(2), Monitor(3), Monitor(4)]),
                Monitor(5)
            ])
        );
        assert_eq!(
            parse(" !!7 ").unwrap(),
            Not(Box::new(Not(Box::new(Monitor(7)))))
        );
        assert_eq!(parse("!(1||2)").unwrap().to_string(), "!(1 || 2)");
        assert_eq!(
            parse("1&&2||3&&!4").unwrap().to_string(),
            "1 && 2 || 3 && !4"
        );
        assert_eq!(parse("(1||2)&&3").unwrap().to_string(), "(1 || 2) && 3");
    }

    #[test]
    fn ids_in_order_without_repeats() {
        assert_eq!(parse("3 && (1 || 3) && !2").unwrap().ids(), [3, 1, 2]);
        assert_eq!(parse("18446744073709551615").unwrap().ids(), [u64::MAX]);
    }

    #[test]
    fn errors() {
        assert_eq!(
            err(""),
            (
                "expected a monitor id, `!` or `(`, found end of query".to_owned(),
                Some(0)
            )
        );
        assert_eq!(
            err("1 &"),
            (
                "expected `&&`, `||` or the end of the formula, found `&`".to_owned(),
                Some(2)
            )
        );
        assert_eq!(
            err("1 and 2"),
            (
                "expected `&&`, `||` or the end of the formula, found `and`".to_owned(),
                Some(2)
            )
        );
        assert_eq!(
            err("1 && "),
            (
                "expected a monitor id, `!` or `(`, found end of query".to_owned(),
                Some(5)
            )
        );
        assert_eq!(
            err("(1 || 2"),
            (
                "expected `)` to close the `(` at position 0, found end of query".to_owned(),
                Some(7)
            )
        );
        assert_eq!(
            err("1 && abc"),
            (
                "expected a monitor id, `!` or `(`, found `abc`".to_owned(),
                Some(5)
            )
        );
        assert_eq!(
            err("1)"),
            (
                "expected `&&`, `||` or the end of the formula, found `)`".to_owned(),
                Some(1)
            )
        );
        assert_eq!(
            err("18446744073709551616"),
            (
                "monitor id `18446744073709551616` is too large".to_owned(),
                Some(0)
            )
        );
        let deep = format!("{}1{}", "(".repeat(64), ")".repeat(64));
        assert_eq!(parse(&deep).unwrap(), Monitor(1));
        let too_deep = format!("{}1{}", "(".repeat(65), ")".repeat(65));
        assert_eq!(
            err(&too_deep),
            (
                "composite formula nested too deeply: at most 64 levels of parentheses and `!`"
                    .to_owned(),
                Some(64)
            )
        );
        assert_eq!(err(&format!("{}1", "!".repeat(100))).1, Some(64));
    }
}
