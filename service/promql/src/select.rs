//! Selection: a vector selector's matchers become a storage read.
//!
//! ## What it owns
//! Turning PromQL matchers into a [`whippet_tsdb::Selector`] that selects a
//! cheap *superset* of the wanted series through the tag index (the name
//! rule of [`crate::names`] makes an exact index lookup impossible: a shown
//! name stands for several stored ones, a label for several tag keys), then
//! checking every matcher exactly on [`names::labels_of`] of each series,
//! and reading the float samples of what is left over one time range.
//!
//! ## What it must never do
//! Return a series that a matcher refuses (the post-filter is the truth;
//! the index selector only saves work), return sketch (distribution)
//! series, or read one selector more than once per evaluation.

use promql_parser::label::{MatchOp, Matcher};
use whippet_tsdb::{Engine, OrgId, ReadBuffers, ReadView, Selector, ValueKind};

use crate::error::Result;
use crate::functions::goregex;
use crate::label_memo::{LabelMemo, Shown};
use crate::names;
use crate::value::{Labels, METRIC_NAME, Sample, Series};

/// Bits of Prometheus' staleness marker: a NaN that a scraper writes when a
/// series disappears; as the newest sample it means "no value".
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// True for a staleness marker (exact bits; other NaNs are values).
pub fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// One selected series: its labels and its samples over the read range
/// (oldest first, staleness markers kept).
#[derive(Debug, Clone)]
pub struct RawSeries {
    /// The labels PromQL shows for it.
    pub labels: Labels,
    /// `labels` without `__name__`, when known already (kept by the
    /// [`LabelMemo`]); see [`RawSeries::bare`].
    pub bare: Option<Labels>,
    /// Sample times (ms), ascending.
    pub ts: Vec<i64>,
    /// Sample values.
    pub vs: Vec<f64>,
}

impl RawSeries {
    /// Its samples `lo..hi` (indexes into `ts` and `vs`).
    pub fn samples(&self, lo: usize, hi: usize) -> impl Iterator<Item = Sample> + '_ {
        (lo..hi).map(|i| Sample {
            t: self.ts[i],
            v: self.vs[i],
        })
    }

    /// Its samples `lo..hi` as a series of a range vector (with its
    /// labels).
    pub fn window_series(&self, lo: usize, hi: usize) -> Series {
        Series {
            labels: self.labels.clone(),
            samples: self.samples(lo, hi).collect(),
        }
    }

    /// Its labels without `__name__`.
    pub fn bare(&self) -> Labels {
        self.bare
            .clone()
            .unwrap_or_else(|| self.labels.without_name())
    }
}

/// The matchers of a vector selector with its name folded in as a
/// `__name__` equality matcher (the parser keeps the name apart). Refuses
/// the `or` of matcher sets, which the parser accepts but Prometheus 2.42
/// does not have.
pub fn all_matchers(vs: &promql_parser::parser::VectorSelector) -> Result<Vec<Matcher>> {
    if !vs.matchers.or_matchers.is_empty() {
        return Err(crate::error::PromError::BadData(
            "`or` between matchers of a selector is not in Prometheus 2.42".into(),
        ));
    }
    let mut out: Vec<Matcher> = Vec::with_capacity(vs.matchers.matchers.len() + 1);
    if let Some(n) = &vs.name {
        out.push(Matcher::new(MatchOp::Equal, METRIC_NAME, n));
    }
    out.extend(vs.matchers.matchers.iter().map(go_regex));
    Ok(out)
}

/// `m` with its regex (if any) recompiled from its pattern text with Go's
/// rules ([`goregex::anchored`]): the parser compiles it with the `regex`
/// crate's Unicode `\d \w \s \b`, so `=~"\\d"` would match `٣`, which
/// Prometheus 2.42 does not. A pattern that only the parser's own
/// rewriting accepts (Go's literal `{` in `a{b}`) keeps the parser's regex.
fn go_regex(m: &Matcher) -> Matcher {
    let mut m = m.clone();
    m.op = match m.op {
        MatchOp::Re(re) => MatchOp::Re(goregex::anchored(&m.value).unwrap_or(re)),
        MatchOp::NotRe(re) => MatchOp::NotRe(goregex::anchored(&m.value).unwrap_or(re)),
        op => op,
    };
    m
}

/// True when `labels` satisfy every matcher (an absent label is the empty
/// string, as in Prometheus).
pub fn matches_all(matchers: &[Matcher], labels: &Labels) -> bool {
    matchers
        .iter()
        .all(|m| m.is_match(labels.get(&m.name).unwrap_or("")))
}

/// The literal alternatives of a regex written as `a|b|c` with no regex
/// syntax in them (the common form of `=~` in dashboards), or `None`.
/// A value holding `,` never qualifies: such a value may be the join of
/// several tags (see [`crate::names`]).
fn literal_alternatives(re: &str) -> Option<Vec<&str>> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '/' | ' ');
    if re.is_empty() || !re.chars().all(|c| plain(c) || c == '|') {
        return None;
    }
    let alts: Vec<&str> = re.split('|').collect();
    if alts.iter().any(|a| a.is_empty()) {
        return None;
    }
    Some(alts)
}

/// The literal text every string matching the anchored regex `re` starts
/// with, when `re` has no alternation (`a.*|b` does not qualify) and begins
/// with plain characters: `i-04d.*` gives `i-04d`; `ab?c` gives `a` (the
/// quantifier makes its character optional). `None` without such a
/// prefix. A prefix holding `,` never qualifies (see
/// [`literal_alternatives`]).
fn literal_prefix(re: &str) -> Option<&str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '/' | ' ');
    if re.contains('|') {
        return None;
    }
    let end = re.find(|c: char| !plain(c)).unwrap_or(re.len());
    let mut prefix = &re[..end];
    if matches!(re[end..].chars().next(), Some('*' | '?' | '{')) {
        // Every plain character is one byte.
        prefix = &prefix[..prefix.len().saturating_sub(1)];
    }
    (!prefix.is_empty()).then_some(prefix)
}

/// The index selector for `matchers`: a superset of the series they select.
pub fn index_selector(engine: &Engine, org: OrgId, matchers: &[Matcher]) -> Selector {
    let mut terms: Vec<Selector> = Vec::new();
    // The metric name first: it narrows the tag key lookups below.
    for m in matchers.iter().filter(|m| m.name == METRIC_NAME) {
        let wanted: Option<Vec<String>> = match &m.op {
            MatchOp::Equal if !m.value.is_empty() => Some(
                engine
                    .metric_names(org, Some(&names::metric_name_glob(&m.value)))
                    .into_iter()
                    .filter(|s| names::prom_metric_name(s) == m.value.as_str())
                    .collect(),
            ),
            MatchOp::Re(re) if !re.is_match("") => Some(
                engine
                    .metric_names(org, None)
                    .into_iter()
                    .filter(|s| re.is_match(&names::prom_metric_name(s)))
                    .collect(),
            ),
            _ => None,
        };
        if let Some(w) = wanted {
            terms.push(Selector::Or(w.into_iter().map(Selector::Metric).collect()));
        }
    }
    let name_sel = if terms.is_empty() {
        None
    } else {
        Some(Selector::And(terms.clone()))
    };
    let mut keys_cache: Option<Vec<String>> = None;
    for m in matchers.iter().filter(|m| m.name != METRIC_NAME) {
        let needs_label = !m.is_match("");
        if !needs_label {
            continue;
        }
        let keys: Vec<String> = keys_cache
            .get_or_insert_with(|| engine.tag_keys(org, name_sel.as_ref()))
            .iter()
            .filter(|k| names::prom_label_name(k) == m.name.as_str())
            .cloned()
            .collect();
        let values: Option<Vec<&str>> = match &m.op {
            MatchOp::Equal if !m.value.contains(',') => Some(vec![m.value.as_str()]),
            MatchOp::Re(_) => literal_alternatives(&m.value),
            _ => None,
        };
        let prefix = match (&m.op, &values) {
            (MatchOp::Re(_), None) => literal_prefix(&m.value),
            _ => None,
        };
        let term = match values {
            None if prefix.is_some() => Selector::Or(
                keys.iter()
                    .map(|k| {
                        let p = prefix.unwrap_or_default();
                        Selector::TagGlob(format!("{}*", names::tag_of_label(k, p)))
                    })
                    .collect(),
            ),
            Some(vals) => Selector::Or(
                keys.iter()
                    .flat_map(|k| {
                        vals.iter()
                            .map(move |v| Selector::Tag(names::tag_of_label(k, v)))
                    })
                    .collect(),
            ),
            None => Selector::Or(keys.into_iter().map(Selector::HasKey).collect()),
        };
        terms.push(term);
    }
    if terms.is_empty() {
        Selector::All
    } else {
        Selector::And(terms)
    }
}

/// The float series of `view` whose labels satisfy every matcher: their
/// index in the view and their labels, in the view's order.
pub fn wanted_series(
    view: &ReadView,
    memo: &LabelMemo,
    matchers: &[Matcher],
) -> Vec<(usize, Shown)> {
    let floats: Vec<usize> = (0..view.series().len())
        .filter(|&i| view.series()[i].key.kind == ValueKind::Float)
        .collect();
    let labels = memo.labels_of(floats.iter().map(|&i| {
        let meta = &view.series()[i];
        (meta.id, &meta.key)
    }));
    floats
        .into_iter()
        .zip(labels)
        .filter(|(_, labels)| matches_all(matchers, &labels.full))
        .collect()
}

/// Threads worth reading `series` series over `[start_ms, end_ms]` on:
/// the points the read may cover, assuming one per 10 s (the estimate the
/// storage engine makes for its own reads).
pub fn read_threads(series: usize, start_ms: i64, end_ms: i64) -> usize {
    let span = usize::try_from((end_ms - start_ms) / 10_000)
        .unwrap_or(0)
        .max(1);
    crate::parallel::threads_for(series.saturating_mul(span))
}

/// The float series `matchers` select, with their samples in
/// `[start_ms, end_ms]` (both included), sorted by labels.
pub fn read_series(
    engine: &Engine,
    memo: &LabelMemo,
    org: OrgId,
    matchers: &[Matcher],
    start_ms: i64,
    end_ms: i64,
) -> Result<Vec<RawSeries>> {
    let sel = index_selector(engine, org, matchers);
    let view = engine.read(org, &sel, start_ms, end_ms.saturating_add(1))?;
    // Labels and matchers first, on this thread; then the points, decoded
    // on several threads when there are enough of them.
    let wanted = wanted_series(&view, memo, matchers);
    let threads = read_threads(wanted.len(), start_ms, end_ms);
    let chunks = crate::parallel::map_chunks(wanted, threads, |part| -> Result<Vec<RawSeries>> {
        let mut buf = ReadBuffers::default();
        let mut out = Vec::with_capacity(part.len());
        for (i, labels) in part {
            let (ts, vs) = view.floats(i, &mut buf)?;
            out.push(RawSeries {
                labels: labels.full,
                bare: Some(labels.bare),
                ts: ts.to_vec(),
                vs: vs.to_vec(),
            });
        }
        Ok(out)
    });
    let mut out = Vec::new();
    for c in chunks {
        out.extend(c?);
    }
    out.sort_by(|a, b| a.labels.cmp(&b.labels));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_alternatives_only_for_plain_words() {
        assert_eq!(literal_alternatives("a|b-c"), Some(vec!["a", "b-c"]));
        assert_eq!(literal_alternatives("a.*"), None);
        assert_eq!(literal_alternatives("a,b"), None);
        assert_eq!(literal_alternatives("a||b"), None);
        assert_eq!(literal_alternatives(""), None);
    }

    #[test]
    fn literal_prefix_only_where_every_match_has_it() {
        assert_eq!(literal_prefix("i-04d.*"), Some("i-04d"));
        assert_eq!(literal_prefix("web-1+"), Some("web-1"));
        assert_eq!(literal_prefix("ab?c"), Some("a"));
        assert_eq!(literal_prefix("ab*"), Some("a"));
        assert_eq!(literal_prefix("a{0,2}b"), None);
        assert_eq!(literal_prefix("ab.*|c"), None);
        assert_eq!(literal_prefix(".*ab"), None);
        assert_eq!(literal_prefix("(?i)ab.*"), None);
        assert_eq!(literal_prefix("a,b.*"), Some("a"));
        for (re, s) in [("ab?c", "ac"), ("ab*", "a"), ("i-04d.*", "i-04d")] {
            let p = literal_prefix(re).unwrap();
            let full = crate::functions::goregex::anchored(re).unwrap();
            assert!(full.is_match(s) && s.starts_with(p), "{re} {s}");
        }
    }

    #[test]
    fn stale_marker_is_one_nan_only() {
        assert!(is_stale(f64::from_bits(STALE_NAN_BITS)));
        assert!(!is_stale(f64::NAN));
        assert!(!is_stale(1.0));
    }

    #[test]
    fn regex_matchers_use_go_classes() {
        let e = crate::errpos::parse(r#"x{n=~"\\d", w!~"\\w+"}"#).unwrap();
        let promql_parser::parser::Expr::VectorSelector(vs) = e else {
            panic!("not a selector");
        };
        let ms = all_matchers(&vs).unwrap();
        let arabic_three = Labels::new([("n", "\u{663}")]);
        let ascii_three = Labels::new([("n", "3")]);
        assert!(!matches_all(&ms[1..2], &arabic_three));
        assert!(matches_all(&ms[1..2], &ascii_three));
        // `!~"\w+"`: a non-ASCII word is not a Go word, so it is kept.
        assert!(matches_all(&ms[2..], &Labels::new([("w", "é")])));
        assert!(!matches_all(&ms[2..], &Labels::new([("w", "abc")])));
    }
}
