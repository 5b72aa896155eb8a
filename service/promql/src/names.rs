//! How Datadog-style names and tags meet Prometheus names and labels.
//!
//! This is the one rule (the README's "Names in both languages" section
//! shows it with examples). The storage engine keeps names and tags byte
//! for byte as they were sent; the rule only says how PromQL sees them.
//!
//! **Writing.** Prometheus remote write stores `__name__` as the metric name
//! and every other label `name="value"` as the tag `name:value`, verbatim
//! (`whippet-prom-write`). A Prometheus label name cannot hold `:`, so the
//! tag splits back at its first `:` unambiguously, and a Prometheus metric
//! name is already valid: data written by Prometheus reads back through
//! PromQL exactly as it was sent, and Datadog queries see
//! `http_requests_total{job:api}`.
//!
//! **Reading in PromQL.** A stored series shows as:
//! - `__name__` = the metric name with every character outside
//!   `[A-Za-z0-9_:]` replaced by `_` (and `_` put before a leading digit):
//!   `system.cpu.user` → `system_cpu_user`, `trace.http-req` →
//!   `trace_http_req`. ([`prom_metric_name`])
//! - each tag `key:value` → the label `key'="value"`, where `key'` is the
//!   key with every character outside `[A-Za-z0-9_]` replaced by `_` (and
//!   `_` before a leading digit): `host:web-1` → `host="web-1"`,
//!   `kube.namespace:prod` → `kube_namespace="prod"`. The value is verbatim
//!   (it may hold `:`: `url:http://x` → `url="http://x"`). ([`prom_label_name`])
//! - Several tags that give the same label name (`env:a` and `env:b`, which
//!   Datadog allows on one series) give one label whose value is their
//!   values, sorted and joined with `,`: `env="a,b"`.
//! - A tag without `:` (a bare tag such as `canary`) has no label: Datadog
//!   queries still select on it.
//!
//! **Selecting in PromQL.** A matcher compares against the labels above, so
//! `system_cpu_user{host="web-1"}` selects the series Datadog's agent sent
//! as `system.cpu.user` with `host:web-1`; `{__name__="system.cpu.user"}`
//! selects nothing (the shown name has no dots), which keeps the rule one
//! way round. When two stored metrics show under the same name
//! (`system.cpu.user` and `system_cpu_user`) both are selected, as two
//! series that differ only by their stored name could collide: such a
//! collision is answered as Prometheus answers duplicate series (an error
//! where a vector must have unique label sets).
//!
//! **Distributions** (sketch series) are not visible to PromQL.

use std::borrow::Cow;

use whippet_tsdb::SeriesKey;

use crate::value::{Labels, METRIC_NAME};

/// The name PromQL shows for a stored metric name (see the module doc).
pub fn prom_metric_name(metric: &str) -> Cow<'_, str> {
    sanitize(metric, true)
}

/// The label name PromQL shows for a tag key (see the module doc).
pub fn prom_label_name(key: &str) -> Cow<'_, str> {
    sanitize(key, false)
}

fn sanitize(s: &str, colon_ok: bool) -> Cow<'_, str> {
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || (colon_ok && c == ':');
    let leading_digit = s.starts_with(|c: char| c.is_ascii_digit());
    if !leading_digit && !s.is_empty() && s.chars().all(ok) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 1);
    if leading_digit || s.is_empty() {
        out.push('_');
    }
    out.extend(s.chars().map(|c| if ok(c) { c } else { '_' }));
    Cow::Owned(out)
}

/// A glob for `Engine::metric_names` that matches every stored metric name
/// `prom_metric_name` could turn into `name` (each `_` may have been any
/// character, and a leading `_` may have been added), a superset to filter
/// with [`prom_metric_name`].
pub fn metric_name_glob(name: &str) -> String {
    let core = name.strip_prefix('_').map_or(name, |rest| {
        if rest.starts_with(|c: char| c.is_ascii_digit()) {
            rest
        } else {
            name
        }
    });
    let glob: String = core
        .chars()
        .map(|c| if c == '_' { '*' } else { c })
        .collect();
    if core.len() != name.len() {
        format!("*{glob}")
    } else {
        glob
    }
}

/// The labels PromQL shows for a stored series (see the module doc).
pub fn labels_of(key: &SeriesKey) -> Labels {
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(key.tags.len() + 1);
    pairs.push((
        METRIC_NAME.to_owned(),
        prom_metric_name(&key.metric).into_owned(),
    ));
    let mut tags: Vec<(Cow<'_, str>, &str)> = key
        .tags
        .as_slice()
        .iter()
        .filter_map(|t| t.split_once(':'))
        .map(|(k, v)| (prom_label_name(k), v))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    tags.sort();
    tags.dedup();
    let mut i = 0;
    while i < tags.len() {
        let mut j = i + 1;
        while j < tags.len() && tags[j].0 == tags[i].0 {
            j += 1;
        }
        let value = if j - i == 1 {
            tags[i].1.to_owned()
        } else {
            tags[i..j]
                .iter()
                .map(|(_, v)| *v)
                .collect::<Vec<_>>()
                .join(",")
        };
        if tags[i].0 != METRIC_NAME {
            pairs.push((tags[i].0.clone().into_owned(), value));
        }
        i = j;
    }
    Labels::new(pairs)
}

/// The tag a remote-written label becomes: `name:value`, verbatim.
pub fn tag_of_label(name: &str, value: &str) -> String {
    format!("{name}:{value}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use whippet_tsdb::{OrgId, TagSet};

    #[test]
    fn datadog_names_show_with_underscores() {
        assert_eq!(prom_metric_name("system.cpu.user"), "system_cpu_user");
        assert_eq!(
            prom_metric_name("http_requests_total"),
            "http_requests_total"
        );
        assert_eq!(prom_metric_name("job:rate5m"), "job:rate5m");
        assert_eq!(prom_metric_name("9lives"), "_9lives");
        assert_eq!(prom_label_name("kube.namespace"), "kube_namespace");
        assert_eq!(prom_label_name("a:b"), "a_b");
    }

    #[test]
    fn the_glob_covers_every_name_that_maps_to_the_shown_one() {
        for stored in ["system.cpu.user", "system_cpu_user", "9lives", "a-b.c"] {
            let shown = prom_metric_name(stored);
            let glob = metric_name_glob(&shown);
            assert!(glob_matches(&glob, stored), "{glob} vs {stored}");
        }
    }

    fn glob_matches(glob: &str, s: &str) -> bool {
        let parts: Vec<&str> = glob.split('*').collect();
        let mut rest = s;
        for (i, p) in parts.iter().enumerate() {
            if i == 0 {
                let Some(r) = rest.strip_prefix(p) else {
                    return false;
                };
                rest = r;
            } else if i == parts.len() - 1 {
                return rest.ends_with(p);
            } else {
                let Some(pos) = rest.find(p) else {
                    return false;
                };
                rest = &rest[pos + p.len()..];
            }
        }
        rest.is_empty()
    }

    #[test]
    fn tags_become_labels_and_repeated_keys_join() {
        let key = SeriesKey::float(
            OrgId(1),
            "system.cpu.user",
            TagSet::new([
                "host:web-1",
                "env:b",
                "env:a",
                "canary",
                "url:http://x",
                "kube.ns:p",
            ]),
        );
        let l = labels_of(&key);
        assert_eq!(
            l.to_string(),
            r#"system_cpu_user{env="a,b", host="web-1", kube_ns="p", url="http://x"}"#
        );
    }
}
