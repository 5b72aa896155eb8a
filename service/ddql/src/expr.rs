//! Expressions: arithmetic, unary minus, parentheses, numbers, function
//! calls, and the leaves (metric queries in a request, names in a formula).
//!
//! ```text
//! expr     = product *( ( "+" / "-" ) product )      ; left-associative
//! product  = unary *( ( "*" / "/" ) unary )           ; left-associative
//! unary    = "-" unary / primary                      ; -a * b is (-a) * b
//! primary  = number / "(" expr ")" / call / leaf
//! call     = fname "(" expr *( "," param ) ")"
//! leaf     = metric-query                             ; request
//!          / name                                     ; formula
//! ```
//!
//! A number is always non-negative: `-5` is [`Expr::Neg`] of `5`.

use crate::MAX_DEPTH;
use crate::ast::{BinOp, Expr, Span};
use crate::cursor::{Cursor, Mode};
use crate::error::ParseError;
use crate::funcs;

/// A parsed operand: the expression, the text it came from including any
/// parentheses around it (so a parent's span covers them), and the height
/// of its tree (bounded by [`MAX_DEPTH`] so that no consumer recursing over
/// the tree, including `Drop`, can run out of stack).
pub(crate) struct Operand {
    pub(crate) expr: Expr,
    pub(crate) outer: Span,
    pub(crate) height: usize,
}

impl Cursor<'_> {
    /// `expr`: sums and differences.
    pub(crate) fn expr(&mut self) -> Result<Operand, ParseError> {
        let mut lhs = self.product()?;
        loop {
            self.skip_ws();
            let op = match self.peek() {
                Some(b'+') => BinOp::Add,
                Some(b'-') => BinOp::Sub,
                _ => return Ok(lhs),
            };
            let at = self.pos;
            self.pos += 1;
            let rhs = self.product()?;
            lhs = self.binary(op, at, lhs, rhs)?;
        }
    }

    /// `product`: products and quotients.
    fn product(&mut self) -> Result<Operand, ParseError> {
        let mut lhs = self.unary()?;
        loop {
            self.skip_ws();
            let op = match self.peek() {
                Some(b'*') => BinOp::Mul,
                Some(b'/') => BinOp::Div,
                _ => return Ok(lhs),
            };
            let at = self.pos;
            self.pos += 1;
            let rhs = self.unary()?;
            lhs = self.binary(op, at, lhs, rhs)?;
        }
    }

    fn binary(
        &self,
        op: BinOp,
        at: usize,
        lhs: Operand,
        rhs: Operand,
    ) -> Result<Operand, ParseError> {
        let height = lhs.height.max(rhs.height) + 1;
        if height > MAX_DEPTH {
            return Err(self.too_deep(at));
        }
        let span = Span {
            start: lhs.outer.start,
            end: rhs.outer.end,
        };
        Ok(Operand {
            expr: Expr::Binary {
                op,
                lhs: Box::new(lhs.expr),
                rhs: Box::new(rhs.expr),
                span,
            },
            outer: span,
            height,
        })
    }

    /// `unary`: a minus sign, or a primary.
    fn unary(&mut self) -> Result<Operand, ParseError> {
        self.skip_ws();
        if self.peek() != Some(b'-') {
            return self.primary();
        }
        let start = self.pos;
        self.enter(start)?;
        self.pos += 1;
        let inner = self.unary()?;
        self.leave();
        let height = inner.height + 1;
        if height > MAX_DEPTH {
            return Err(self.too_deep(start));
        }
        let span = Span {
            start,
            end: inner.outer.end,
        };
        Ok(Operand {
            expr: Expr::Neg {
                expr: Box::new(inner.expr),
                span,
            },
            outer: span,
            height,
        })
    }

    /// `primary`: a number, a parenthesised expression, a call or a leaf.
    fn primary(&mut self) -> Result<Operand, ParseError> {
        self.skip_ws();
        match self.peek() {
            Some(b'(') => {
                let open = self.pos;
                self.enter(open)?;
                self.pos += 1;
                let inner = self.expr()?;
                self.skip_ws();
                if !self.eat(b')') {
                    let also = if self.peek().is_some() {
                        "an operator or "
                    } else {
                        ""
                    };
                    return Err(self.expected(&format!(
                        "{also}`)` to close the parenthesis opened at position {open}"
                    )));
                }
                self.leave();
                Ok(Operand {
                    outer: Span {
                        start: open,
                        end: self.pos,
                    },
                    ..inner
                })
            }
            Some(b'0'..=b'9') => {
                let (start, value) = self.unsigned_number()?;
                let span = Span {
                    start,
                    end: self.pos,
                };
                Ok(Operand {
                    expr: Expr::Number { value, span },
                    outer: span,
                    height: 1,
                })
            }
            Some(b) if b.is_ascii_alphabetic() => self.word_primary(),
            _ => Err(self.expected(match self.mode {
                Mode::Request => "an expression (a metric query, a number, a function call or `(`)",
                Mode::Formula => "an expression (a query name, a number, a function call or `(`)",
            })),
        }
    }

    /// A primary that starts with a word: a call, a metric query or a name.
    fn word_primary(&mut self) -> Result<Operand, ParseError> {
        let Some((start, word)) = self.word() else {
            return Err(self.expected("an expression"));
        };
        let after_word = self.pos;
        self.skip_ws();
        match (self.peek(), self.mode) {
            (Some(b'('), _) => self.call(start, word),
            (Some(b':' | b'{'), Mode::Request) => {
                self.pos = start;
                let q = self.metric_query()?;
                let outer = q.span;
                Ok(Operand { expr: Expr::Query(Box::new(q)), outer, height: 1 })
            }
            (Some(b':' | b'{'), Mode::Formula) => Err(self.error(
                start,
                format!("a formula refers to queries by name (like `a`); the metric query starting with `{word}` belongs in `queries`"),
            )),
            (_, Mode::Formula) => {
                if word.contains('.') {
                    return Err(self.error(
                        start,
                        format!("expected a query name (letters, digits and `_`), found `{word}`"),
                    ));
                }
                self.pos = after_word;
                let span = Span { start, end: after_word };
                Ok(Operand { expr: Expr::Ref { name: word.to_owned(), span }, outer: span, height: 1 })
            }
            (_, Mode::Request) => Err(self.expected(&format!("`{{` after the metric name `{word}`"))),
        }
    }

    /// `call`: the cursor is on the `(` after `name` (which starts at `start`).
    fn call(&mut self, start: usize, name: &str) -> Result<Operand, ParseError> {
        let Some(shape) = funcs::lookup(name) else {
            return Err(funcs::unknown(self, start, name));
        };
        let open = self.pos;
        self.enter(start)?;
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b')') {
            return Err(funcs::arity_error(self, self.pos, name, &shape, 0));
        }
        let arg = self.expr()?;
        let params = self.rest_params(open, &format!("the call to `{name}`"))?;
        self.leave();
        let func = funcs::build(self, name, shape, &params, self.pos - 1)?;
        let height = arg.height + 1;
        if height > MAX_DEPTH {
            return Err(self.too_deep(start));
        }
        let span = Span {
            start,
            end: self.pos,
        };
        Ok(Operand {
            expr: Expr::Call {
                func,
                arg: Box::new(arg.expr),
                span,
            },
            outer: span,
            height,
        })
    }

    /// The error for what follows a complete expression when it is neither
    /// an operator nor (in a request) a `,`.
    pub(crate) fn after_expr_error(&self) -> ParseError {
        if self.peek() == Some(b'.') {
            return self.error(
                self.pos,
                "methods such as `.rollup()` only follow a metric query (`avg:system.load.1{*}.rollup(sum, 60)`), found `.`",
            );
        }
        self.expected(match self.mode {
            Mode::Request => "an operator (`+`, `-`, `*`, `/`), `,` or end of query",
            Mode::Formula => "an operator (`+`, `-`, `*`, `/`) or end of formula",
        })
    }
}
