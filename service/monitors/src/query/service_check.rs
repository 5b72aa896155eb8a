//! Service check monitors:
//! `"app.is_up".over("env:prod").by("host").last(3).count_by_status()`.

use std::fmt;

use super::chain::{self, Arg, Quoted, QuotedList};
use super::cursor::{Cursor, echo};
use super::error::QueryError;

/// Most check runs `.last(N)` may count. Datadog's API reference: "It is
/// limited to 100".
pub const MAX_LAST_RUNS: u32 = 100;

/// A parsed service check monitor query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceCheckQuery {
    /// The check name (`app.is_up`), never empty.
    pub check: String,
    /// The scopes of `.over(...)`, each a tag or `*`, at least one; a
    /// check run counts when it has all of them.
    pub over: Vec<String>,
    /// The tag keys of `.by(...)`, one group per combination; empty when
    /// there is no `.by()`.
    pub by: Vec<String>,
    /// How many of the latest runs are counted (`.last(N)`), 1 to
    /// [`MAX_LAST_RUNS`]. The monitor's thresholds are counts of
    /// consecutive statuses and may not exceed it (checked with the
    /// options, not here).
    pub last: u32,
}

/// Canonical text: `"check".over(...)[.by(...)].last(N).count_by_status()`.
impl fmt::Display for ServiceCheckQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.over({})",
            Quoted(&self.check),
            QuotedList(&self.over)
        )?;
        if !self.by.is_empty() {
            write!(f, ".by({})", QuotedList(&self.by))?;
        }
        write!(f, ".last({}).count_by_status()", self.last)
    }
}

/// The methods, in the order error messages list them.
const METHODS: [&str; 4] = ["over", "by", "last", "count_by_status"];
/// What to call this form in error messages.
const FORM: &str = "a service check query";

/// Parses a service check query.
pub(crate) fn parse(src: &str) -> Result<ServiceCheckQuery, QueryError> {
    let mut cur = Cursor::new(src);
    cur.skip_ws();
    let Some((check_at, check)) = cur.string()? else {
        return Err(cur.expected("the check name in quotes, like `\"app.is_up\"`"));
    };
    if check.is_empty() {
        return Err(QueryError::at(check_at, "the check name is empty"));
    }
    let calls = chain::calls(&mut cur)?;
    let end = cur.pos;
    cur.skip_ws();
    if !cur.at_end() {
        return Err(cur.expected("a method such as `.last(3)`, or the end of the query"));
    }
    // `.count_by_status()` ends the chain; the other methods may come in any
    // order (Datadog documents `.over().last().by()`, its clients send
    // `.over().by().last()`).
    if let Some(i) = calls.iter().position(|c| c.name == "count_by_status")
        && let Some(next) = calls.get(i + 1)
    {
        return Err(QueryError::at(
            next.at,
            "`.count_by_status()` must come last",
        ));
    }
    let [over, by, last, count] = chain::by_name(calls, &METHODS, FORM)?;
    let Some(over) = over else {
        return Err(QueryError::at(
            end,
            "missing `.over(...)`: a service check query names the scopes it covers, like `.over(\"env:prod\")` or `.over(\"*\")`",
        ));
    };
    let Some(last) = last else {
        return Err(QueryError::at(
            end,
            "missing `.last(N)`: a service check query counts the latest N runs, like `.last(3)`",
        ));
    };
    let Some(count) = count else {
        return Err(QueryError::at(
            end,
            "missing `.count_by_status()` at the end of the service check query",
        ));
    };
    count.no_args()?;
    Ok(ServiceCheckQuery {
        check,
        over: over.strings("scope (a tag, or \"*\")")?,
        by: match by {
            Some(by) => by.strings("tag key")?,
            None => Vec::new(),
        },
        last: last_runs(&last)?,
    })
}

/// The N of `.last(N)`.
fn last_runs(call: &chain::Call) -> Result<u32, QueryError> {
    let (at, arg) = call.single(".last(3)")?;
    let bad = |shown: &str| {
        QueryError::at(
            at,
            format!(
                "`.last()` takes a whole number of check runs from 1 to {MAX_LAST_RUNS}, found `{}`",
                echo(shown)
            ),
        )
    };
    match arg {
        Arg::Int(digits) => match digits.parse::<u32>() {
            Ok(n) if (1..=MAX_LAST_RUNS).contains(&n) => Ok(n),
            _ => Err(bad(digits)),
        },
        Arg::Str(s) => Err(bad(&format!("\"{s}\""))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(query: &str) -> (String, Option<usize>) {
        let e = parse(query).unwrap_err();
        (e.message, e.position)
    }

    #[test]
    fn full_and_minimal_forms() {
        let q =
            parse(r#""app.is_up".over("env:prod").by("host").last(3).count_by_status()"#).unwrap();
        assert_eq!(
            q,
            ServiceCheckQuery {
                check: "app.is_up".into(),
                over: vec!["env:prod".into()],
                by: vec!["host".into()],
                last: 3,
            }
        );
        assert_eq!(
            q.to_string(),
            r#""app.is_up".over("env:prod").by("host").last(3).count_by_status()"#
        );
        let q =
            parse(r#" "datadog.agent.up" . over( "*" ) .last(100).count_by_status( ) "#).unwrap();
        assert_eq!(q.over, ["*"]);
        assert!(q.by.is_empty());
        assert_eq!(
            q.to_string(),
            r#""datadog.agent.up".over("*").last(100).count_by_status()"#
        );
        // Datadog's documented order, single quotes and several scopes.
        let q = parse(r#"'ntp.in_sync'.over('env:prod','role:db').last(2).by('host','env').count_by_status()"#).unwrap();
        assert_eq!(q.over, ["env:prod", "role:db"]);
        assert_eq!(q.by, ["host", "env"]);
        assert_eq!(
            q.to_string(),
            r#""ntp.in_sync".over("env:prod","role:db").by("host","env").last(2).count_by_status()"#
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            err(r#"app.is_up.over("*").last(3).count_by_status()"#),
            (
                "expected the check name in quotes, like `\"app.is_up\"`, found `app`".to_owned(),
                Some(0)
            )
        );
        assert_eq!(
            err(r#""app".last(3).count_by_status()"#),
            ("missing `.over(...)`: a service check query names the scopes it covers, like `.over(\"env:prod\")` or `.over(\"*\")`".to_owned(), Some(31))
        );
        assert_eq!(
            err(r#""app".over("*").count_by_status()"#),
            ("missing `.last(N)`: a service check query counts the latest N runs, like `.last(3)`".to_owned(), Some(33))
        );
        assert_eq!(
            err(r#""app".over("*").last(3)"#),
            (
                "missing `.count_by_status()` at the end of the service check query".to_owned(),
                Some(23)
            )
        );
        assert_eq!(
            err(r#""app".over("*").count_by_status().last(3)"#),
            ("`.count_by_status()` must come last".to_owned(), Some(33))
        );
        assert_eq!(
            err(r#""app".over("*").last(101).count_by_status()"#),
            (
                "`.last()` takes a whole number of check runs from 1 to 100, found `101`"
                    .to_owned(),
                Some(21)
            )
        );
        assert_eq!(
            err(r#""app".over("*").last(0).count_by_status()"#).0,
            "`.last()` takes a whole number of check runs from 1 to 100, found `0`"
        );
        assert_eq!(
            err(r#""app".over("*").last("3").count_by_status()"#).0,
            "`.last()` takes a whole number of check runs from 1 to 100, found `\"3\"`"
        );
        assert_eq!(
            err(r#""app".over("*").last(3,4).count_by_status()"#),
            (
                "`.last()` takes one argument, like `.last(3)`".to_owned(),
                Some(23)
            )
        );
        assert_eq!(
            err(r#""app".over().last(3).count_by_status()"#),
            (
                "`.over()` needs at least one scope (a tag, or \"*\")".to_owned(),
                Some(5)
            )
        );
        assert_eq!(
            err(r#""app".over("").last(3).count_by_status()"#),
            (
                "empty string in `.over()`: expected a scope (a tag, or \"*\")".to_owned(),
                Some(11)
            )
        );
        assert_eq!(
            err(r#""app".over("*").by(1).last(3).count_by_status()"#),
            (
                "`.by()` takes quoted strings, found `1`; write it as \"1\"".to_owned(),
                Some(19)
            )
        );
        assert_eq!(
            err(r#""app".over("*").over("a").last(3).count_by_status()"#),
            ("`.over()` is given twice".to_owned(), Some(15))
        );
        assert_eq!(
            err(r#""app".over("*").last(3).count_by_status(1)"#),
            (
                "`.count_by_status()` takes no arguments".to_owned(),
                Some(40)
            )
        );
        assert_eq!(
            err(r#""app".over("*").within("1h").last(3).count_by_status()"#),
            ("unknown method `.within()` in a service check query; expected .over(), .by(), .last(), .count_by_status()".to_owned(), Some(15))
        );
        assert_eq!(
            err(r#""app".over("*").last(3).count_by_status() > 1"#),
            (
                "expected a method such as `.last(3)`, or the end of the query, found `>`"
                    .to_owned(),
                Some(42)
            )
        );
        assert_eq!(
            err(r#""".over("*").last(3).count_by_status()"#),
            ("the check name is empty".to_owned(), Some(0))
        );
    }
}
