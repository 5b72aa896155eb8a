//! Literal parameters of functions and methods: `60`, `-3600`, `'mean'`,
//! `"desc"`, `avg`, and their conversion to typed values with errors that
//! name the function and what it takes.
//!
//! Keyword parameters are accepted quoted (single or double) or bare
//! (`.rollup(avg)` and `top(q, 5, 'mean', 'desc')` are both the usual
//! spellings); matching is case-sensitive, as Datadog's names are lower case.

use crate::ast::Span;
use crate::cursor::Cursor;
use crate::error::ParseError;

/// One literal parameter and where it is.
#[derive(Debug, Clone)]
pub(crate) struct Param {
    pub(crate) value: ParamValue,
    pub(crate) span: Span,
}

/// The literal itself.
#[derive(Debug, Clone)]
pub(crate) enum ParamValue {
    /// A signed number.
    Number(f64),
    /// A quoted string (quotes removed).
    Str(String),
    /// A bare identifier.
    Word(String),
}

impl Cursor<'_> {
    /// Reads one literal parameter (leading whitespace skipped).
    pub(crate) fn param(&mut self) -> Result<Param, ParseError> {
        self.skip_ws();
        let start = self.pos;
        let value = match self.peek() {
            Some(q @ (b'\'' | b'"')) => {
                let body = start + 1;
                let Some(len) = self
                    .src
                    .get(body..)
                    .and_then(|rest| rest.bytes().position(|b| b == q))
                else {
                    return Err(self.error(
                        start,
                        format!("unterminated string: no closing `{}`", q as char),
                    ));
                };
                self.pos = body + len + 1;
                ParamValue::Str(self.src[body..body + len].to_owned())
            }
            Some(sign @ (b'-' | b'+')) => {
                self.pos += 1;
                if !matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(self.expected(&format!("a number after `{}`", sign as char)));
                }
                let (_, v) = self.unsigned_number()?;
                ParamValue::Number(if sign == b'-' { -v } else { v })
            }
            Some(b'0'..=b'9') => ParamValue::Number(self.unsigned_number()?.1),
            Some(b) if b.is_ascii_alphabetic() => match self.ident() {
                Some((_, w)) => ParamValue::Word(w.to_owned()),
                None => return Err(self.expected("a parameter")),
            },
            _ => {
                return Err(self.expected("a parameter (a number or a quoted name such as 'mean')"));
            }
        };
        Ok(Param {
            value,
            span: Span {
                start,
                end: self.pos,
            },
        })
    }

    /// Reads `, param` pairs up to and including the closing `)` of a
    /// parameter list opened at `open`; `what` names the call for errors
    /// ("the call to `top`", "`.rollup(`").
    pub(crate) fn rest_params(
        &mut self,
        open: usize,
        what: &str,
    ) -> Result<Vec<Param>, ParseError> {
        let mut params = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    params.push(self.param()?);
                }
                Some(b')') => {
                    self.pos += 1;
                    return Ok(params);
                }
                None => {
                    return Err(
                        self.expected(&format!("`)` to close {what} opened at position {open}"))
                    );
                }
                Some(_) => {
                    return Err(self.expected(&format!(
                        "`,` or `)` to close {what} opened at position {open}"
                    )));
                }
            }
        }
    }

    /// A whole number in `range`: `what` is the parameter ("the interval"),
    /// `ctx` the function (`.rollup()`), `describe` the accepted values
    /// ("a positive whole number of seconds").
    pub(crate) fn whole(
        &self,
        p: &Param,
        what: &str,
        ctx: &str,
        range: std::ops::RangeInclusive<i64>,
        describe: &str,
    ) -> Result<i64, ParseError> {
        if let ParamValue::Number(v) = p.value
            && v.fract() == 0.0
            && v >= *range.start() as f64
            && v <= *range.end() as f64
        {
            // In range and integral, so the conversion is exact.
            return Ok(v as i64);
        }
        Err(self.error(
            p.span.start,
            format!(
                "{what} of {ctx} must be {describe}, found `{}`",
                p.span.text(self.src)
            ),
        ))
    }

    /// Any number.
    pub(crate) fn number(&self, p: &Param, what: &str, ctx: &str) -> Result<f64, ParseError> {
        match p.value {
            ParamValue::Number(v) => Ok(v),
            _ => Err(self.error(
                p.span.start,
                format!(
                    "{what} of {ctx} must be a number, found `{}`",
                    p.span.text(self.src)
                ),
            )),
        }
    }

    /// One of `options` (quoted or bare); `what` names the parameter
    /// ("aggregator"), `ctx` the function.
    pub(crate) fn keyword<T: Copy>(
        &self,
        p: &Param,
        what: &str,
        ctx: &str,
        options: &[(&str, T)],
    ) -> Result<T, ParseError> {
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        let list = names.join(", ");
        match &p.value {
            ParamValue::Str(s) | ParamValue::Word(s) => {
                match options.iter().find(|(n, _)| n == s) {
                    Some((_, v)) => Ok(*v),
                    None => {
                        let hint = crate::suggest::closest(s, &names)
                            .map(|n| format!(" (did you mean `{n}`?)"))
                            .unwrap_or_default();
                        Err(self.error(
                            p.span.start,
                            format!("unknown {what} `{s}` in {ctx}; expected one of {list}{hint}"),
                        ))
                    }
                }
            }
            ParamValue::Number(_) => Err(self.error(
                p.span.start,
                format!(
                    "expected {what} in {ctx} (one of {list}), found `{}`",
                    p.span.text(self.src)
                ),
            )),
        }
    }
}
