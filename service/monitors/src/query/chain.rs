//! Method chains of service check and event queries:
//! `.over("env:prod").by("host").last(3)`, and quoting strings for print.
//!
//! The chain is read generically (a name and literal arguments per call)
//! and each query form then checks which methods it accepts, so both forms
//! report unknown, repeated and mistyped methods the same way.

use std::fmt;

use super::cursor::{Cursor, echo};
use super::error::QueryError;

/// A literal argument of a method.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    /// A quoted string, unescaped.
    Str(String),
    /// A whole number as written (digits only).
    Int(String),
}

/// One `.name(args)` call.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    /// The method name.
    pub(crate) name: String,
    /// Where the `.` is.
    pub(crate) at: usize,
    /// The arguments, each with where it starts.
    pub(crate) args: Vec<(usize, Arg)>,
}

/// Reads `.name(arg, ...)` calls until something else comes (whitespace
/// allowed around every token). The cursor stops after the last `)`.
pub(crate) fn calls(cur: &mut Cursor<'_>) -> Result<Vec<Call>, QueryError> {
    let mut calls = Vec::new();
    loop {
        let before = cur.pos;
        cur.skip_ws();
        let at = cur.pos;
        if !cur.eat(b'.') {
            cur.pos = before;
            return Ok(calls);
        }
        cur.skip_ws();
        let Some((_, name)) = cur.word() else {
            return Err(cur.expected("a method name after `.`"));
        };
        cur.skip_ws();
        if !cur.eat(b'(') {
            return Err(cur.expected(&format!("`(` after `.{name}`")));
        }
        let mut args = Vec::new();
        cur.skip_ws();
        if !cur.eat(b')') {
            loop {
                cur.skip_ws();
                let arg_at = cur.pos;
                let arg = if let Some((_, s)) = cur.string()? {
                    Arg::Str(s)
                } else if let Some((_, d)) = cur.digits() {
                    Arg::Int(d.to_owned())
                } else {
                    return Err(cur.expected(&format!(
                        "a quoted string or a number as argument of `.{name}()`"
                    )));
                };
                args.push((arg_at, arg));
                cur.skip_ws();
                if cur.eat(b')') {
                    break;
                }
                if !cur.eat(b',') {
                    return Err(cur.expected(&format!("`,` or `)` in `.{name}(`")));
                }
            }
        }
        calls.push(Call {
            name: name.to_owned(),
            at,
            args,
        });
    }
}

impl Call {
    /// Every argument as a non-empty string, at least one.
    pub(crate) fn strings(&self, what: &str) -> Result<Vec<String>, QueryError> {
        if self.args.is_empty() {
            return Err(QueryError::at(
                self.at,
                format!("`.{}()` needs at least one {what}", self.name),
            ));
        }
        self.args
            .iter()
            .map(|(at, arg)| match arg {
                Arg::Str(s) if !s.is_empty() => Ok(s.clone()),
                Arg::Str(_) => Err(QueryError::at(
                    *at,
                    format!("empty string in `.{}()`: expected a {what}", self.name),
                )),
                Arg::Int(n) => Err(QueryError::at(
                    *at,
                    format!(
                        "`.{}()` takes quoted strings, found `{}`; write it as \"{}\"",
                        self.name,
                        echo(n),
                        echo(n)
                    ),
                )),
            })
            .collect()
    }

    /// The only argument; an error unless there is exactly one.
    pub(crate) fn single(&self, example: &str) -> Result<(usize, &Arg), QueryError> {
        match self.args.as_slice() {
            [(at, arg)] => Ok((*at, arg)),
            [] => Err(QueryError::at(
                self.at,
                format!("`.{}()` needs one argument, like `{example}`", self.name),
            )),
            [_, (at, _), ..] => Err(QueryError::at(
                *at,
                format!("`.{}()` takes one argument, like `{example}`", self.name),
            )),
        }
    }

    /// An error unless the call has no arguments.
    pub(crate) fn no_args(&self) -> Result<(), QueryError> {
        match self.args.first() {
            None => Ok(()),
            Some((at, _)) => Err(QueryError::at(
                *at,
                format!("`.{}()` takes no arguments", self.name),
            )),
        }
    }
}

/// Takes the calls out of `calls` by name, checking each name is known and
/// given at most once. `known` lists the accepted names in the order error
/// messages mention them; `form` names the query form ("a service check
/// query"). The result has one slot per known name, in `known`'s order.
pub(crate) fn by_name<const N: usize>(
    calls: Vec<Call>,
    known: &[&str; N],
    form: &str,
) -> Result<[Option<Call>; N], QueryError> {
    let mut slots: [Option<Call>; N] = std::array::from_fn(|_| None);
    for call in calls {
        let Some(i) = known.iter().position(|k| *k == call.name) else {
            let list: Vec<String> = known.iter().map(|k| format!(".{k}()")).collect();
            return Err(QueryError::at(
                call.at,
                format!(
                    "unknown method `.{}()` in {form}; expected {}",
                    echo(&call.name),
                    list.join(", ")
                ),
            ));
        };
        if slots[i].is_some() {
            return Err(QueryError::at(
                call.at,
                format!("`.{}()` is given twice", call.name),
            ));
        }
        slots[i] = Some(call);
    }
    Ok(slots)
}

/// A string in double quotes, with `"` and `\` escaped: reads back as
/// `s` with [`Cursor::string`].
pub(crate) struct Quoted<'a>(pub(crate) &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for c in self.0.chars() {
            if c == '"' || c == '\\' {
                f.write_str("\\")?;
            }
            write!(f, "{c}")?;
        }
        f.write_str("\"")
    }
}

/// `"a","b"`: strings quoted and joined with commas.
pub(crate) struct QuotedList<'a>(pub(crate) &'a [String]);

impl fmt::Display for QuotedList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}", Quoted(s))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_calls_with_string_and_number_arguments() {
        let mut cur = Cursor::new(r#".over("a", 'b') . last( 3 ).x() rest"#);
        let calls = calls(&mut cur).unwrap();
        assert_eq!(cur.pos, 31);
        assert_eq!(calls.len(), 3);
        assert_eq!(calls[0].name, "over");
        assert_eq!(
            calls[0].args,
            [(6, Arg::Str("a".into())), (11, Arg::Str("b".into()))]
        );
        assert_eq!(calls[1].args, [(24, Arg::Int("3".into()))]);
        assert!(calls[2].args.is_empty());
    }

    #[test]
    fn chain_errors() {
        let e = |text| calls(&mut Cursor::new(text)).unwrap_err().to_string();
        assert_eq!(
            e(".over"),
            "expected `(` after `.over`, found end of query at position 5"
        );
        assert_eq!(
            e(".(1)"),
            "expected a method name after `.`, found `(` at position 1"
        );
        assert_eq!(
            e(".by(host)"),
            "expected a quoted string or a number as argument of `.by()`, found `host` at position 4"
        );
        assert_eq!(
            e(".by(\"a\" \"b\")"),
            "expected `,` or `)` in `.by(`, found `\"` at position 8"
        );
    }

    #[test]
    fn quoting_round_trips() {
        let s = "a\"b\\c 'd' é";
        let text = Quoted(s).to_string();
        assert_eq!(text, "\"a\\\"b\\\\c 'd' é\"");
        assert_eq!(Cursor::new(&text).string().unwrap().unwrap().1, s);
    }
}
