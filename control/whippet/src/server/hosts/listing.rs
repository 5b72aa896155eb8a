//! The query of `GET /api/v1/hosts`: its parameters, validated, and the
//! filter, sort and page they describe, applied to an inventory.
//!
//! # What it must never do
//! Touch storage: it works on the [`Host`]s it is given, so each rule here
//! is tested without a server.

use std::cmp::Ordering;
use std::collections::HashMap;

use super::inventory::Host;
use crate::server::error::ApiError;

/// Hosts one page holds unless `count` says otherwise (Datadog's default).
pub const DEFAULT_COUNT: usize = 100;

/// Most hosts one page holds: Datadog's documented maximum ("a max of 1000
/// results at a time"); a larger `count` is cut to it.
pub const MAX_COUNT: usize = 1000;

/// How far back the list looks without `from`: Datadog lists "hosts live
/// within the past 3 hours" by default.
pub const DEFAULT_WINDOW_MS: i64 = 3 * 3_600_000;

/// A host is `up` when it reported within this window. Datadog's
/// `hosts/totals` documentation counts hosts that "reported in the past
/// two hours" as up.
pub const UP_WINDOW_MS: i64 = 2 * 3_600_000;

/// What the list is ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    /// The host name (the default).
    Name,
    /// The time of the last report.
    LastReported,
    /// Up hosts after the others (ascending), then by name.
    Up,
    /// The host id.
    Id,
}

/// A validated `GET /api/v1/hosts` query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Lower-cased words that must each be found in the host's name or
    /// one of its tags (`filter`, split on white space).
    pub terms: Vec<String>,
    /// `sort_field`.
    pub sort: SortField,
    /// `sort_dir=desc`.
    pub descending: bool,
    /// Hosts skipped before the page (`start`, from 0).
    pub start: usize,
    /// Hosts in the page (`count`, at most [`MAX_COUNT`]).
    pub count: usize,
    /// Only hosts that reported at or after this time (`from`, epoch
    /// seconds; [`DEFAULT_WINDOW_MS`] before now without it), ms.
    pub since_ms: i64,
}

impl ListQuery {
    /// Reads the query string; `now_ms` places the default window. A
    /// parameter that does not parse is a 400 naming it.
    /// `include_muted_hosts_data` and `include_hosts_metadata` are
    /// accepted and change nothing: no host is ever muted here, and the
    /// metadata Whippet has is always included.
    pub fn parse(q: &HashMap<String, String>, now_ms: i64) -> Result<Self, ApiError> {
        let terms = q
            .get("filter")
            .map(|f| f.split_whitespace().map(str::to_lowercase).collect())
            .unwrap_or_default();
        let sort = match q.get("sort_field").map(|s| s.trim().to_ascii_lowercase()) {
            None => SortField::Name,
            Some(f) => match f.as_str() {
                "" | "name" | "host_name" => SortField::Name,
                "last_reported_time" => SortField::LastReported,
                "up" | "status" => SortField::Up,
                "id" => SortField::Id,
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "Invalid sort_field {f:?}: use name, last_reported_time, up or id"
                    )));
                }
            },
        };
        let descending = match q.get("sort_dir").map(|s| s.trim().to_ascii_lowercase()) {
            None => false,
            Some(d) => match d.as_str() {
                "" | "asc" => false,
                "desc" => true,
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "Invalid sort_dir {d:?}: use asc or desc"
                    )));
                }
            },
        };
        let start = count_param(q, "start")?.unwrap_or(0);
        let count = count_param(q, "count")?
            .unwrap_or(DEFAULT_COUNT)
            .min(MAX_COUNT);
        let since_ms = match secs_param(q, "from")? {
            Some(s) => s.saturating_mul(1000),
            None => now_ms - DEFAULT_WINDOW_MS,
        };
        for flag in ["include_muted_hosts_data", "include_hosts_metadata"] {
            bool_param(q, flag)?;
        }
        Ok(ListQuery {
            terms,
            sort,
            descending,
            start,
            count,
            since_ms,
        })
    }

    /// True when `h` passes the filter and the time bound.
    pub fn matches(&self, h: &Host) -> bool {
        h.last_reported_ms >= self.since_ms
            && self.terms.iter().all(|t| {
                contains_lower(&h.name, t) || h.tags.iter().any(|tag| contains_lower(tag, t))
            })
    }

    /// The page of `hosts` this query asks for, and how many matched in
    /// all. `id` gives each host's id (for [`SortField::Id`]); `now_ms`
    /// decides who is up.
    pub fn page<'h>(
        &self,
        hosts: &'h [Host],
        id: impl Fn(&Host) -> u64,
        now_ms: i64,
    ) -> (Vec<&'h Host>, usize) {
        let mut hit: Vec<&Host> = hosts.iter().filter(|h| self.matches(h)).collect();
        let total = hit.len();
        let key = |a: &Host, b: &Host| -> Ordering {
            match self.sort {
                SortField::Name => Ordering::Equal,
                SortField::LastReported => a.last_reported_ms.cmp(&b.last_reported_ms),
                SortField::Up => is_up(a, now_ms).cmp(&is_up(b, now_ms)),
                SortField::Id => id(a).cmp(&id(b)),
            }
        };
        hit.sort_by(|a, b| {
            let o = key(a, b).then_with(|| a.name.cmp(&b.name));
            if self.descending { o.reverse() } else { o }
        });
        let page = hit.into_iter().skip(self.start).take(self.count).collect();
        (page, total)
    }
}

/// True when `h` reported within [`UP_WINDOW_MS`] of `now_ms`.
pub fn is_up(h: &Host, now_ms: i64) -> bool {
    h.last_reported_ms >= now_ms - UP_WINDOW_MS
}

/// `from` of `GET /api/v1/hosts/totals`: epoch seconds, or `None`.
pub fn totals_since_ms(q: &HashMap<String, String>) -> Result<Option<i64>, ApiError> {
    Ok(secs_param(q, "from")?.map(|s| s.saturating_mul(1000)))
}

/// Case-insensitive substring test; `needle` is already lower case.
fn contains_lower(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if hay.is_ascii() {
        // No allocation for the common case (names and tags are ASCII).
        return hay
            .as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()));
    }
    hay.to_lowercase().contains(needle)
}

/// A non-negative integer parameter.
fn count_param(q: &HashMap<String, String>, name: &str) -> Result<Option<usize>, ApiError> {
    match q.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse::<usize>().map(Some).map_err(|_| {
            ApiError::bad_request(format!(
                "Invalid {name} {v:?}: expected a non-negative integer"
            ))
        }),
    }
}

/// Epoch seconds (an integer, or a decimal number whose fraction is
/// dropped, as clients that send `time.time()` do).
fn secs_param(q: &HashMap<String, String>, name: &str) -> Result<Option<i64>, ApiError> {
    match q.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .or_else(|| {
                v.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(|f| f as i64)
            })
            .map(Some)
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Invalid {name} {v:?}: expected seconds since the epoch"
                ))
            }),
    }
}

/// `true` or `false` (any case), as the client writes booleans.
fn bool_param(q: &HashMap<String, String>, name: &str) -> Result<Option<bool>, ApiError> {
    match q.get(name).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(None),
        Some(v) => match v.as_str() {
            "true" | "1" => Ok(Some(true)),
            "false" | "0" | "" => Ok(Some(false)),
            _ => Err(ApiError::bad_request(format!(
                "Invalid {name} {v:?}: expected true or false"
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_651_200_000;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn host(name: &str, tags: &[&str], ago_ms: i64) -> Host {
        Host {
            name: name.into(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            apps: vec![],
            last_reported_ms: NOW - ago_ms,
        }
    }

    fn names(page: &[&Host]) -> Vec<String> {
        page.iter().map(|h| h.name.clone()).collect()
    }

    #[test]
    fn defaults_follow_datadog() {
        let l = ListQuery::parse(&q(&[]), NOW).unwrap();
        assert_eq!(
            l,
            ListQuery {
                terms: vec![],
                sort: SortField::Name,
                descending: false,
                start: 0,
                count: 100,
                since_ms: NOW - 3 * 3_600_000,
            }
        );
        let l = ListQuery::parse(
            &q(&[
                ("filter", " Env:Prod  web "),
                ("sort_field", "last_reported_time"),
                ("sort_dir", "DESC"),
                ("start", "5"),
                ("count", "5000"),
                ("from", "1795600000"),
                ("include_muted_hosts_data", "true"),
                ("include_hosts_metadata", "False"),
            ]),
            NOW,
        )
        .unwrap();
        assert_eq!(l.terms, ["env:prod", "web"]);
        assert_eq!(l.sort, SortField::LastReported);
        assert!(l.descending);
        assert_eq!((l.start, l.count), (5, MAX_COUNT));
        assert_eq!(l.since_ms, 1_795_600_000_000);
        // A decimal `from` drops its fraction.
        let l = ListQuery::parse(&q(&[("from", "1795600000.75")]), NOW).unwrap();
        assert_eq!(l.since_ms, 1_795_600_000_000);
    }

    #[test]
    fn bad_parameters_are_400s_that_name_them() {
        for (k, v) in [
            ("sort_field", "cpu"),
            ("sort_dir", "up"),
            ("start", "-1"),
            ("count", "ten"),
            ("from", "yesterday"),
            ("include_hosts_metadata", "maybe"),
        ] {
            let err = ListQuery::parse(&q(&[(k, v)]), NOW).unwrap_err();
            assert_eq!(err.status, 400, "{k}={v}");
            assert!(err.messages[0].contains(k), "{k}: {:?}", err.messages);
        }
        assert!(totals_since_ms(&q(&[("from", "x")])).is_err());
        assert_eq!(
            totals_since_ms(&q(&[("from", "10")])).unwrap(),
            Some(10_000)
        );
    }

    #[test]
    fn the_filter_matches_every_word_in_the_name_or_a_tag() {
        let hosts = [
            host("web-1", &["env:prod", "role:web"], 0),
            host("web-2", &["env:staging"], 0),
            host("db-1", &["env:prod", "Team:Data"], 0),
        ];
        let run = |f: &str| {
            let l = ListQuery::parse(&q(&[("filter", f)]), NOW).unwrap();
            let (page, total) = l.page(&hosts, |_| 0, NOW);
            assert_eq!(page.len(), total);
            names(&page)
        };
        assert_eq!(run("WEB"), ["web-1", "web-2"]);
        assert_eq!(run("env:prod"), ["db-1", "web-1"]);
        assert_eq!(run("prod web"), ["web-1"]);
        assert_eq!(run("team:data"), ["db-1"]);
        assert_eq!(run("nothing"), Vec::<String>::new());
        assert_eq!(run("  "), ["db-1", "web-1", "web-2"]);
    }

    #[test]
    fn sort_page_and_time_bound() {
        let hosts = [
            host("a", &[], 3 * 3_600_000 + 1), // outside the default window
            host("b", &[], 1_000),
            host("c", &[], 2 * 3_600_000 + 1), // listed, not up
            host("d", &[], 1_000),
            host("e", &[], 500),
        ];
        let run = |pairs: &[(&str, &str)]| {
            let l = ListQuery::parse(&q(pairs), NOW).unwrap();
            let (page, total) = l.page(&hosts, |h| 1000 - u64::from(h.name.as_bytes()[0]), NOW);
            (names(&page), total)
        };
        assert_eq!(run(&[]).0, ["b", "c", "d", "e"]);
        assert_eq!(run(&[]).1, 4);
        assert_eq!(run(&[("sort_dir", "desc")]).0, ["e", "d", "c", "b"]);
        // Ties are broken by name, in the direction asked.
        assert_eq!(
            run(&[("sort_field", "last_reported_time")]).0,
            ["c", "b", "d", "e"]
        );
        assert_eq!(
            run(&[("sort_field", "last_reported_time"), ("sort_dir", "desc")]).0,
            ["e", "d", "b", "c"]
        );
        assert_eq!(run(&[("sort_field", "up")]).0, ["c", "b", "d", "e"]);
        assert_eq!(run(&[("sort_field", "id")]).0, ["e", "d", "c", "b"]);
        // Paging: `start` skips, `count` cuts, the total is every match.
        assert_eq!(
            run(&[("start", "1"), ("count", "2")]),
            (vec!["c".to_owned(), "d".to_owned()], 4)
        );
        assert_eq!(run(&[("start", "10")]), (vec![], 4));
        assert_eq!(run(&[("count", "0")]), (vec![], 4));
        // `from` widens (or narrows) the window.
        assert_eq!(
            run(&[("from", &((NOW - 4 * 3_600_000) / 1000).to_string())]).1,
            5
        );
        assert_eq!(run(&[("from", &(NOW / 1000).to_string())]).1, 0);
        assert!(is_up(&hosts[1], NOW) && !is_up(&hosts[2], NOW));
    }
}
