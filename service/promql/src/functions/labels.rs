//! `label_replace` and `label_join`: functions that rewrite a label of
//! each series and keep everything else, `__name__` included.
//!
//! `label_replace`'s regex is Go's (see [`super::goregex`]), anchored at
//! both ends (`^(?:re)$`, as every PromQL regex), and its replacement expands `$1`, `${1}`, `$name` with
//! Go's rules (see [`expand`]). Label names are checked against
//! Prometheus' rule (`[a-zA-Z_][a-zA-Z0-9_]*`). Neither may drop or add a
//! series; an empty result removes the destination label.

use std::cell::RefCell;

use regex::Regex;

use crate::error::{PromError, Result};
use crate::value::InstantSample;

/// Prometheus' label name rule.
fn valid_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

thread_local! {
    /// The last regex compiled on this thread: a range query calls
    /// `label_replace` once per step with the same regex, and compiling it
    /// costs more than applying it.
    static LAST_REGEX: RefCell<Option<(String, Regex)>> = const { RefCell::new(None) };
}

/// `re` anchored at both ends and compiled, `None` when invalid.
fn compiled_regex(re: &str) -> Option<Regex> {
    LAST_REGEX.with(|last| {
        let mut last = last.borrow_mut();
        if let Some((src, compiled)) = last.as_ref()
            && src == re
        {
            return Some(compiled.clone());
        }
        let compiled = super::goregex::anchored(re).ok()?;
        *last = Some((re.to_owned(), compiled.clone()));
        Some(compiled)
    })
}

/// `label_replace(v, dst, replacement, src, regex)`: where `src`'s value
/// (empty when absent) matches `regex`, `dst` becomes `replacement`
/// expanded with the match's groups; other series are unchanged.
pub(super) fn replace(
    v: Vec<InstantSample>,
    dst: &str,
    replacement: &str,
    src: &str,
    re: &str,
) -> Result<Vec<InstantSample>> {
    let compiled = compiled_regex(re).ok_or_else(|| {
        PromError::Execution(format!(
            "invalid regular expression in label_replace(): {re}"
        ))
    })?;
    if !valid_label_name(dst) {
        return Err(PromError::Execution(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    Ok(v.into_iter()
        .map(|mut s| {
            let value = s.labels.get(src).unwrap_or("").to_owned();
            if let Some(caps) = compiled.captures(&value) {
                let out = expand(&compiled, &caps, replacement);
                s.labels.set(dst, &out);
            }
            s
        })
        .collect())
}

/// Expands a replacement as Go's `Regexp.ExpandString`: `$$` is a `$`;
/// `$name` takes the longest run of letters, digits and `_` as the name
/// (so `$1x` is the group named `1x`, usually none: use `${1}x`); a name
/// of digits without a leading zero is a group number; an unknown or
/// unmatched group expands to nothing; a `$` not followed by a name is
/// kept as is.
fn expand(re: &Regex, caps: &regex::Captures<'_>, template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
            continue;
        }
        let Some((name, after)) = group_ref(rest) else {
            out.push('$');
            continue;
        };
        rest = after;
        let m = match group_number(name) {
            Some(n) => caps.get(n),
            None => re
                .capture_names()
                .position(|n| n == Some(name))
                .and_then(|i| caps.get(i)),
        };
        if let Some(m) = m {
            out.push_str(m.as_str());
        }
    }
    out.push_str(rest);
    out
}

/// The group name at the start of `s` (after a `$`): `name` or `{name}`,
/// and what follows it; `None` when malformed.
fn group_ref(s: &str) -> Option<(&str, &str)> {
    let (brace, body) = match s.strip_prefix('{') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let end = body
        .char_indices()
        .find(|&(_, c)| !(c.is_alphabetic() || c.is_numeric() || c == '_'))
        .map_or(body.len(), |(i, _)| i);
    if end == 0 {
        return None;
    }
    let name = &body[..end];
    if brace {
        let after = body[end..].strip_prefix('}')?;
        Some((name, after))
    } else {
        Some((name, &body[end..]))
    }
}

/// A group number as Go reads one: ASCII digits, no leading zero, below
/// 10^8.
fn group_number(name: &str) -> Option<usize> {
    // Go's cap on group numbers in templates.
    const MAX_GROUP: usize = 100_000_000;
    if name.len() > 1 && name.starts_with('0') {
        return None;
    }
    let mut n = 0usize;
    for b in name.bytes() {
        if !b.is_ascii_digit() || n >= MAX_GROUP {
            return None;
        }
        n = n * 10 + usize::from(b - b'0');
    }
    Some(n)
}

/// `label_join(v, dst, sep, src...)`: `dst` becomes the values of the
/// `src` labels (empty for absent ones) joined by `sep`.
pub(super) fn join(
    v: Vec<InstantSample>,
    dst: &str,
    sep: &str,
    srcs: &[String],
) -> Result<Vec<InstantSample>> {
    for src in srcs {
        if !valid_label_name(src) {
            return Err(PromError::Execution(format!(
                "invalid source label name in label_join(): {src}"
            )));
        }
    }
    if !valid_label_name(dst) {
        return Err(PromError::Execution(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    Ok(v.into_iter()
        .map(|mut s| {
            let joined = srcs
                .iter()
                .map(|src| s.labels.get(src).unwrap_or(""))
                .collect::<Vec<_>>()
                .join(sep);
            s.labels.set(dst, &joined);
            s
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::super::FnArg;
    use super::super::tests::{ctx, err_of, inst, vec_of};

    fn s(x: &str) -> FnArg {
        FnArg::String(x.to_owned())
    }

    fn lr(labels: &[(&str, &str)], dst: &str, repl: &str, src: &str, re: &str) -> String {
        let v = vec![inst(labels, 1.0)];
        let out = vec_of(
            "label_replace",
            vec![FnArg::Vector(v), s(dst), s(repl), s(src), s(re)],
            ctx(0, 0),
        );
        out[0].0.clone()
    }

    const UP: &[(&str, &str)] = &[
        ("__name__", "up"),
        ("instance", "host:9090"),
        ("job", "api"),
    ];

    #[test]
    fn replace_with_groups_keeps_the_name() {
        assert_eq!(
            lr(UP, "host", "$1", "instance", "(.*):.*"),
            "up{host=\"host\", instance=\"host:9090\", job=\"api\"}"
        );
        assert_eq!(
            lr(UP, "x", "${1}-$2", "instance", "(.*):(.*)"),
            "up{instance=\"host:9090\", job=\"api\", x=\"host-9090\"}"
        );
    }

    #[test]
    fn replace_is_anchored() {
        // "host" matches part of the value only: no replacement.
        assert_eq!(
            lr(UP, "x", "y", "instance", "host"),
            "up{instance=\"host:9090\", job=\"api\"}"
        );
        assert_eq!(
            lr(UP, "x", "y", "instance", "host|host:9090"),
            "up{instance=\"host:9090\", job=\"api\", x=\"y\"}"
        );
    }

    #[test]
    fn replace_with_empty_result_removes_the_label() {
        assert_eq!(lr(UP, "job", "", "job", ".*"), "up{instance=\"host:9090\"}");
        // A missing source is the empty string, which `.*` matches.
        assert_eq!(
            lr(UP, "z", "v", "nope", ".*"),
            "up{instance=\"host:9090\", job=\"api\", z=\"v\"}"
        );
        assert_eq!(
            lr(UP, "z", "v", "nope", ".+"),
            "up{instance=\"host:9090\", job=\"api\"}"
        );
    }

    #[test]
    fn go_expansion_rules() {
        // $1x is the (missing) group "1x"; $$ is a dollar; a lone $ stays.
        assert_eq!(
            lr(UP, "x", "$1x", "job", "(a)pi"),
            "up{instance=\"host:9090\", job=\"api\"}"
        );
        assert_eq!(
            lr(UP, "x", "${1}x", "job", "(a)pi"),
            "up{instance=\"host:9090\", job=\"api\", x=\"ax\"}"
        );
        assert_eq!(
            lr(UP, "x", "$$1", "job", "(a)pi"),
            "up{instance=\"host:9090\", job=\"api\", x=\"$1\"}"
        );
        assert_eq!(
            lr(UP, "x", "a$-", "job", "(a)pi"),
            "up{instance=\"host:9090\", job=\"api\", x=\"a$-\"}"
        );
        assert_eq!(
            lr(UP, "x", "$name", "job", "(?P<name>a)pi"),
            "up{instance=\"host:9090\", job=\"api\", x=\"a\"}"
        );
        assert_eq!(
            lr(UP, "x", "[$01]", "job", "(a)pi"),
            "up{instance=\"host:9090\", job=\"api\", x=\"[]\"}"
        );
        assert_eq!(
            lr(UP, "x", "[$2]", "job", "(a)pi"),
            "up{instance=\"host:9090\", job=\"api\", x=\"[]\"}"
        );
    }

    #[test]
    fn replace_errors() {
        let v = || FnArg::Vector(vec![]);
        let e = err_of(
            "label_replace",
            vec![v(), s("dst"), s("x"), s("src"), s("(")],
            ctx(0, 0),
        );
        assert_eq!(e, "invalid regular expression in label_replace(): (");
        let e = err_of(
            "label_replace",
            vec![v(), s("1dst"), s("x"), s("src"), s(".*")],
            ctx(0, 0),
        );
        assert_eq!(e, "invalid destination label name in label_replace(): 1dst");
    }

    #[test]
    fn join() {
        let v = vec![inst(&[("__name__", "m"), ("a", "1"), ("b", "2")], 1.0)];
        let args = vec![FnArg::Vector(v), s("c"), s("-"), s("a"), s("b"), s("none")];
        assert_eq!(
            vec_of("label_join", args, ctx(0, 0))[0].0,
            "m{a=\"1\", b=\"2\", c=\"1-2-\"}"
        );
        // Nothing to join removes the destination.
        let v = vec![inst(&[("__name__", "m"), ("a", "1")], 1.0)];
        let args = vec![FnArg::Vector(v), s("a"), s(","), s("none")];
        assert_eq!(vec_of("label_join", args, ctx(0, 0))[0].0, "m{}");
        let e = err_of(
            "label_join",
            vec![FnArg::Vector(vec![]), s("c"), s(","), s("a-b")],
            ctx(0, 0),
        );
        assert_eq!(e, "invalid source label name in label_join(): a-b");
        let e = err_of(
            "label_join",
            vec![FnArg::Vector(vec![]), s("c d"), s(",")],
            ctx(0, 0),
        );
        assert_eq!(e, "invalid destination label name in label_join(): c d");
    }
}
