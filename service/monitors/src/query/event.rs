//! Event monitors (`event alert`, `event-v2 alert`):
//! `events("sources:nagios priority:all").rollup("count").by("host").last("1h") > 0`.

use std::fmt;

use super::chain::{self, Arg, Quoted, QuotedList};
use super::condition::{self, Condition};
use super::cursor::{Cursor, echo};
use super::error::QueryError;
use super::window::{self, Window};

/// A parsed event alert.
#[derive(Debug, Clone, PartialEq)]
pub struct EventQuery {
    /// The event search (`sources:nagios priority:all`), possibly empty
    /// (every event). Kept as written: its syntax belongs to the event
    /// store.
    pub search: String,
    /// How matching events become a number.
    pub rollup: EventRollup,
    /// The facets of `.by(...)`, one group per combination; empty when
    /// there is no `.by()`.
    pub by: Vec<String>,
    /// How far back events are counted (`.last("1h")`), at most
    /// [`window::MAX_EVENT_WINDOW_SECONDS`].
    pub window: Window,
    /// The comparison with the critical threshold.
    pub condition: Condition,
}

/// The `.rollup(...)` of an event alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventRollup {
    /// `"count"`: the number of matching events. The only rollup Whippet
    /// evaluates; Datadog's `"cardinality"` and `"avg"` (which take a
    /// measure) are rejected by name.
    Count,
}

impl EventRollup {
    /// The name as written in a query, without quotes.
    pub fn as_str(self) -> &'static str {
        match self {
            EventRollup::Count => "count",
        }
    }
}

/// Canonical text:
/// `events("...").rollup("count")[.by(...)].last("1h") > 0`.
impl fmt::Display for EventQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "events({}).rollup({})",
            Quoted(&self.search),
            Quoted(self.rollup.as_str())
        )?;
        if !self.by.is_empty() {
            write!(f, ".by({})", QuotedList(&self.by))?;
        }
        write!(f, ".last(\"{}\") {}", self.window, self.condition)
    }
}

/// The methods, in the order error messages list them.
const METHODS: [&str; 3] = ["rollup", "by", "last"];
/// What to call this form in error messages.
const FORM: &str = "an event query";

/// Parses an event alert query.
pub(crate) fn parse(src: &str) -> Result<EventQuery, QueryError> {
    let mut cur = Cursor::new(src);
    cur.skip_ws();
    let start = cur.pos;
    if cur.word().map(|(_, w)| w) != Some("events") {
        cur.pos = start;
        return Err(cur.expected("`events(\"search\")` at the start of an event query"));
    }
    cur.skip_ws();
    if !cur.eat(b'(') {
        return Err(cur.expected("`(` after `events`"));
    }
    cur.skip_ws();
    let Some((_, search)) = cur.string()? else {
        return Err(cur.expected("the event search in quotes, like `events(\"sources:nagios\")`"));
    };
    cur.skip_ws();
    if !cur.eat(b')') {
        return Err(cur.expected("`)` after the event search"));
    }
    let calls = chain::calls(&mut cur)?;
    let end = cur.pos;
    let [rollup, by, last] = chain::by_name(calls, &METHODS, FORM)?;
    let Some(rollup) = rollup else {
        return Err(QueryError::at(
            end,
            "missing `.rollup(\"count\")` after `events(...)`",
        ));
    };
    let Some(last) = last else {
        return Err(QueryError::at(
            end,
            "missing `.last(...)`: an event query counts events over a window, like `.last(\"1h\")`",
        ));
    };
    let rollup = event_rollup(&rollup)?;
    let by = match by {
        Some(by) => by.strings("facet")?,
        None => Vec::new(),
    };
    let window = event_window(&last)?;
    let condition = condition::condition(&mut cur)?;
    Ok(EventQuery {
        search,
        rollup,
        by,
        window,
        condition,
    })
}

fn event_rollup(call: &chain::Call) -> Result<EventRollup, QueryError> {
    let Some((at, arg)) = call.args.first() else {
        return Err(QueryError::at(
            call.at,
            "`.rollup()` needs the rollup method, like `.rollup(\"count\")`",
        ));
    };
    match arg {
        Arg::Str(s) if s == "count" => {
            call.single(".rollup(\"count\")")?;
            Ok(EventRollup::Count)
        }
        Arg::Str(s) => Err(QueryError::at(
            *at,
            format!(
                "unsupported rollup `\"{}\"`; event alerts support only \"count\"",
                echo(s)
            ),
        )),
        Arg::Int(n) => Err(QueryError::at(
            *at,
            format!(
                "`.rollup()` takes the rollup method in quotes, like `.rollup(\"count\")`, found `{}`",
                echo(n)
            ),
        )),
    }
}

fn event_window(call: &chain::Call) -> Result<Window, QueryError> {
    let (at, arg) = call.single(".last(\"1h\")")?;
    match arg {
        Arg::Str(s) => Window::parse(s, at, &window::EVENT),
        Arg::Int(n) => Err(QueryError::at(
            at,
            format!(
                "`.last()` takes a window in quotes, like `.last(\"1h\")`, found `{}`",
                echo(n)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comparator::Comparator;

    fn err(query: &str) -> (String, Option<usize>) {
        let e = parse(query).unwrap_err();
        (e.message, e.position)
    }

    #[test]
    fn parses_and_prints() {
        let q = parse(r#"events("sources:nagios priority:all").rollup("count").last("1h") > 0"#)
            .unwrap();
        assert_eq!(
            q,
            EventQuery {
                search: "sources:nagios priority:all".into(),
                rollup: EventRollup::Count,
                by: vec![],
                window: Window::from_seconds(3600).unwrap(),
                condition: Condition {
                    comparator: Comparator::Gt,
                    threshold: 0.0
                },
            }
        );
        assert_eq!(
            q.to_string(),
            r#"events("sources:nagios priority:all").rollup("count").last("1h") > 0"#
        );
        let q = parse(r#"events('status:error "quoted \" text"').last('90m').by("host",'env').rollup('count')>=10"#).unwrap();
        assert_eq!(q.search, "status:error \"quoted \" text\"");
        assert_eq!(q.by, ["host", "env"]);
        assert_eq!(
            q.to_string(),
            r#"events("status:error \"quoted \" text\"").rollup("count").by("host","env").last("90m") >= 10"#
        );
        assert_eq!(parse(&q.to_string()).unwrap(), q);
        assert_eq!(
            parse(r#"events("").rollup("count").last("2d") < 1"#)
                .unwrap()
                .window
                .seconds(),
            172_800
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            err(r#"logs("x").rollup("count").last("1h") > 0"#),
            (
                "expected `events(\"search\")` at the start of an event query, found `logs`"
                    .to_owned(),
                Some(0)
            )
        );
        assert_eq!(
            err(r#"events(x).rollup("count").last("1h") > 0"#),
            (
                "expected the event search in quotes, like `events(\"sources:nagios\")`, found `x`"
                    .to_owned(),
                Some(7)
            )
        );
        assert_eq!(
            err(r#"events("x").rollup("avg").last("1h") > 0"#),
            (
                "unsupported rollup `\"avg\"`; event alerts support only \"count\"".to_owned(),
                Some(19)
            )
        );
        assert_eq!(
            err(r#"events("x").rollup("cardinality","@host").last("1h") > 0"#).0,
            "unsupported rollup `\"cardinality\"`; event alerts support only \"count\""
        );
        assert_eq!(
            err(r#"events("x").rollup("count","@a").last("1h") > 0"#),
            (
                "`.rollup()` takes one argument, like `.rollup(\"count\")`".to_owned(),
                Some(27)
            )
        );
        assert_eq!(
            err(r#"events("x").last("1h") > 0"#),
            (
                "missing `.rollup(\"count\")` after `events(...)`".to_owned(),
                Some(22)
            )
        );
        assert_eq!(
            err(r#"events("x").rollup("count") > 0"#),
            ("missing `.last(...)`: an event query counts events over a window, like `.last(\"1h\")`".to_owned(), Some(27))
        );
        assert_eq!(
            err(r#"events("x").rollup("count").last("1x") > 0"#),
            ("invalid window `\"1x\"`; expected a number followed by m, h or d, like \"5m\" or \"1h\"".to_owned(), Some(33))
        );
        assert_eq!(
            err(r#"events("x").rollup("count").last("3d") > 0"#),
            (
                "window `\"3d\"` is too long: an event alert looks back at most 2 days (\"48h\")"
                    .to_owned(),
                Some(33)
            )
        );
        assert_eq!(
            err(r#"events("x").rollup("count").last(5) > 0"#),
            (
                "`.last()` takes a window in quotes, like `.last(\"1h\")`, found `5`".to_owned(),
                Some(33)
            )
        );
        assert_eq!(
            err(r#"events("x").rollup("count").last("1h")"#),
            ("missing comparator: the query must end with a comparison to a threshold, like `> 90` (one of >, >=, <, <=, ==, !=)".to_owned(), Some(38))
        );
        assert_eq!(
            err(r#"events("x").rollup("count").last("1h") > many"#),
            ("threshold `many` is not a number".to_owned(), Some(41))
        );
        assert_eq!(
            err(r#"events("x").rollup("count").last("1h") 5"#),
            (
                "expected a comparator (one of >, >=, <, <=, ==, !=), found `5`".to_owned(),
                Some(39)
            )
        );
        assert_eq!(
            err(r#"events("x").rollup("count").index("*").last("1h") > 1"#),
            (
                "unknown method `.index()` in an event query; expected .rollup(), .by(), .last()"
                    .to_owned(),
                Some(27)
            )
        );
    }
}
