//! Label checks of one series, and its storage name and tags.
//!
//! The checks, in order (the first that fails names the series and why):
//! the label count ([`Limits::max_labels_per_series`]), then for each label
//! UTF-8 name and value, the name's length, the name's form
//! (`[a-zA-Z_][a-zA-Z0-9_]*`), the value's length (the metric name's own
//! limit for `__name__`); then a metric name is required and must follow
//! [`Limits::metric_names`], and no label name may appear twice.
//!
//! Prometheus 2.42's receiver checks none of this (its TSDB refuses an empty
//! label set and duplicate names, with a 500); today's skips a series with
//! an invalid name or labels and answers 204. Whippet refuses the request
//! with 400 and the reason, as Datadog's intake does with a payload it
//! cannot store: the sender sees the error in its log instead of data
//! silently missing. The label name rule is Prometheus' classic one even
//! though the metric name may be any UTF-8 (see [`crate::MetricNames`]): a
//! label is stored as the tag `name:value` and read back by splitting at the
//! first `:` (`service/promql/src/names.rs`), so a name must not hold `:`.
//!
//! Storage mapping (the rule of `service/promql/src/names.rs`): the metric
//! is `__name__`'s value verbatim, every other label the tag `name:value`
//! verbatim ([`ValidSeries::tags`]); labels with empty values were dropped
//! by the decoder; the metric type is gauge (remote write 1.0 carries no
//! type with the samples).

use crate::decode::{RawLabel, Series};
use crate::{Error, Limits, MetricNames};

/// The label name of the metric name.
pub const METRIC_NAME_LABEL: &str = "__name__";

/// Longest label text put in an error message: enough to recognise a
/// series, short enough that a series of 40 long labels does not make a
/// 30 KiB error line.
const MAX_LABELS_TEXT: usize = 300;

/// A series whose labels passed [`validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidSeries<'a> {
    /// `__name__`'s value.
    pub metric: &'a str,
    /// The other labels, sorted by name.
    pub labels: Vec<(&'a str, &'a str)>,
}

impl ValidSeries<'_> {
    /// The storage tags: `name:value` per label, in label name order.
    pub fn tags(&self) -> Vec<String> {
        self.labels
            .iter()
            .map(|(n, v)| {
                let mut t = String::with_capacity(n.len() + 1 + v.len());
                t.push_str(n);
                t.push(':');
                t.push_str(v);
                t
            })
            .collect()
    }
}

/// The series' labels as Prometheus prints a label set
/// (`{__name__="up", job="api"}`), bytes that are not UTF-8 shown as
/// U+FFFD, shortened past [`MAX_LABELS_TEXT`] bytes.
pub fn labels_text(labels: &[RawLabel<'_>]) -> String {
    let mut s = String::from("{");
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&String::from_utf8_lossy(l.name));
        s.push('=');
        s.push_str(&format!("{:?}", String::from_utf8_lossy(l.value)));
        if s.len() > MAX_LABELS_TEXT {
            break;
        }
    }
    if s.len() > MAX_LABELS_TEXT {
        let mut cut = MAX_LABELS_TEXT;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("...");
    }
    s.push('}');
    s
}

fn shorten(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    let mut out: String = s.chars().take(64).collect();
    if out.len() < s.len() {
        out.push_str("...");
    }
    out
}

/// Whether `name` matches `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_label_name(name: &[u8]) -> bool {
    match name.split_first() {
        Some((first, rest)) => {
            (first.is_ascii_alphabetic() || *first == b'_')
                && rest.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        }
        None => false,
    }
}

/// Whether `name` matches `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn is_legacy_metric_name(name: &str) -> bool {
    match name.as_bytes().split_first() {
        Some((first, rest)) => {
            (first.is_ascii_alphabetic() || *first == b'_' || *first == b':')
                && rest
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b':')
        }
        None => false,
    }
}

/// Checks one series' labels (see the module doc) and returns its metric
/// name and other labels.
pub fn validate<'a>(series: &Series<'_, 'a>, limits: &Limits) -> Result<ValidSeries<'a>, Error> {
    let index = series.index;
    let text = || labels_text(series.labels);
    if series.labels.len() > limits.max_labels_per_series {
        return Err(Error::TooManyLabels {
            series: index,
            labels: text(),
            count: series.labels.len(),
            limit: limits.max_labels_per_series,
        });
    }
    let mut metric: Option<&'a str> = None;
    let mut labels: Vec<(&'a str, &'a str)> = Vec::with_capacity(series.labels.len());
    for l in series.labels {
        let utf8 = |b: &'a [u8], what| {
            std::str::from_utf8(b).map_err(|_| Error::InvalidUtf8 {
                series: index,
                labels: text(),
                what,
            })
        };
        let name = utf8(l.name, "name")?;
        let value = utf8(l.value, "value")?;
        let is_metric = name == METRIC_NAME_LABEL;
        if !is_metric && name.len() > limits.max_label_name_bytes {
            return Err(Error::LabelNameTooLong {
                series: index,
                labels: text(),
                name: shorten(l.name),
                len: name.len(),
                limit: limits.max_label_name_bytes,
            });
        }
        if !is_label_name(l.name) {
            return Err(Error::InvalidLabelName {
                series: index,
                labels: text(),
                name: shorten(l.name),
            });
        }
        let limit = if is_metric {
            limits.max_metric_name_bytes
        } else {
            limits.max_label_value_bytes
        };
        if value.len() > limit {
            return Err(Error::LabelValueTooLong {
                series: index,
                labels: text(),
                name: name.to_owned(),
                len: value.len(),
                limit,
            });
        }
        if is_metric {
            if metric.is_some() {
                return Err(Error::DuplicateLabelName {
                    series: index,
                    labels: text(),
                    name: name.to_owned(),
                });
            }
            metric = Some(value);
        } else {
            labels.push((name, value));
        }
    }
    let Some(metric) = metric else {
        return Err(Error::MissingMetricName {
            series: index,
            labels: text(),
        });
    };
    if limits.metric_names == MetricNames::Legacy && !is_legacy_metric_name(metric) {
        return Err(Error::InvalidMetricName {
            series: index,
            labels: text(),
            name: shorten(metric.as_bytes()),
            why: "the legacy rule is [a-zA-Z_:][a-zA-Z0-9_:]*",
        });
    }
    // Sent sorted, as the protocol asks: one pass. Otherwise sort.
    if !labels.is_sorted_by(|a, b| a.0 <= b.0) {
        labels.sort_unstable_by(|a, b| a.0.cmp(b.0));
    }
    if let Some(w) = labels.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(Error::DuplicateLabelName {
            series: index,
            labels: text(),
            name: w[0].0.to_owned(),
        });
    }
    Ok(ValidSeries { metric, labels })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Sample, SeriesIdent};

    fn check(labels: &[(&[u8], &[u8])], limits: &Limits) -> Result<(String, Vec<String>), Error> {
        let raw: Vec<RawLabel<'_>> = labels
            .iter()
            .map(|(n, v)| RawLabel { name: n, value: v })
            .collect();
        let samples: [Sample; 0] = [];
        let s = Series {
            index: 7,
            labels: &raw,
            samples: &samples,
            ident: SeriesIdent::default(),
        };
        validate(&s, limits).map(|v| (v.metric.to_owned(), v.tags()))
    }

    fn ok(labels: &[(&[u8], &[u8])]) -> (String, Vec<String>) {
        check(labels, &Limits::default()).unwrap()
    }

    fn err(labels: &[(&[u8], &[u8])]) -> Error {
        check(labels, &Limits::default()).unwrap_err()
    }

    #[test]
    fn maps_name_and_labels_to_metric_and_sorted_tags() {
        assert_eq!(
            ok(&[
                (b"zone", b"b"),
                (b"__name__", b"http_requests_total"),
                (b"job", b"api"),
                (b"url", b"http://x:1/")
            ]),
            (
                "http_requests_total".to_owned(),
                vec![
                    "job:api".to_owned(),
                    "url:http://x:1/".to_owned(),
                    "zone:b".to_owned()
                ]
            )
        );
        // Dotted (Datadog-style) and UTF-8 names are kept as they are.
        assert_eq!(
            ok(&[(b"__name__", b"system.cpu.user")]).0,
            "system.cpu.user"
        );
        assert_eq!(
            ok(&[(b"__name__", "d\u{e9}bit".as_bytes())]).0,
            "d\u{e9}bit"
        );
    }

    #[test]
    fn a_metric_name_is_required() {
        let e = err(&[(b"job", b"api")]);
        assert_eq!(
            e.to_string(),
            "series 7 {job=\"api\"}: no metric name (label __name__)"
        );
    }

    #[test]
    fn legacy_metric_names_when_configured() {
        let legacy = Limits {
            metric_names: MetricNames::Legacy,
            ..Limits::default()
        };
        assert!(check(&[(b"__name__", b"a:b_c9")], &legacy).is_ok());
        let e = check(&[(b"__name__", b"system.cpu")], &legacy).unwrap_err();
        assert!(matches!(e, Error::InvalidMetricName { .. }), "{e}");
        assert!(check(&[(b"__name__", b"9a")], &legacy).is_err());
    }

    #[test]
    fn label_names_follow_the_classic_rule() {
        for bad in [&b"a-b"[..], b"9a", b"a:b", b"a.b", b"", "\u{e9}".as_bytes()] {
            let e = err(&[(b"__name__", b"m"), (bad, b"v")]);
            assert!(matches!(e, Error::InvalidLabelName { .. }), "{bad:?}: {e}");
        }
        let e = err(&[(b"__name__", b"m"), (b"a-b", b"v")]);
        assert_eq!(
            e.to_string(),
            "series 7 {__name__=\"m\", a-b=\"v\"}: invalid label name \"a-b\" (a label name matches [a-zA-Z_][a-zA-Z0-9_]*)"
        );
        assert!(is_label_name(b"_a9Z"));
    }

    #[test]
    fn duplicate_label_names_are_refused_sorted_or_not() {
        let e = err(&[(b"__name__", b"m"), (b"a", b"1"), (b"a", b"2")]);
        assert!(
            matches!(&e, Error::DuplicateLabelName { name, .. } if name == "a"),
            "{e}"
        );
        let e = err(&[
            (b"b", b"1"),
            (b"__name__", b"m"),
            (b"c", b"1"),
            (b"b", b"2"),
        ]);
        assert!(
            matches!(&e, Error::DuplicateLabelName { name, .. } if name == "b"),
            "{e}"
        );
        let e = err(&[(b"__name__", b"m"), (b"__name__", b"n")]);
        assert!(
            matches!(&e, Error::DuplicateLabelName { name, .. } if name == "__name__"),
            "{e}"
        );
    }

    #[test]
    fn names_and_values_must_be_utf8() {
        let e = err(&[(b"__name__", b"m"), (b"a", b"\xff")]);
        assert!(matches!(e, Error::InvalidUtf8 { what: "value", .. }), "{e}");
        let e = err(&[(b"__name__", b"\xc3")]);
        assert!(matches!(e, Error::InvalidUtf8 { what: "value", .. }), "{e}");
        let e = err(&[(b"__name__", b"m"), (b"\xff", b"v")]);
        assert!(matches!(e, Error::InvalidUtf8 { what: "name", .. }), "{e}");
        assert!(e.to_string().contains('\u{fffd}'), "{e}");
    }

    #[test]
    fn label_count_and_length_limits() {
        let l = Limits {
            max_labels_per_series: 3,
            max_label_name_bytes: 4,
            max_label_value_bytes: 5,
            max_metric_name_bytes: 6,
            ..Limits::default()
        };
        assert!(
            check(
                &[(b"__name__", b"mmmmmm"), (b"aaaa", b"vvvvv"), (b"b", b"v")],
                &l
            )
            .is_ok()
        );
        let e = check(
            &[
                (b"__name__", b"m"),
                (b"a", b"v"),
                (b"b", b"v"),
                (b"c", b"v"),
            ],
            &l,
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                Error::TooManyLabels {
                    count: 4,
                    limit: 3,
                    ..
                }
            ),
            "{e}"
        );
        let e = check(&[(b"__name__", b"m"), (b"aaaaa", b"v")], &l).unwrap_err();
        assert!(
            matches!(
                e,
                Error::LabelNameTooLong {
                    len: 5,
                    limit: 4,
                    ..
                }
            ),
            "{e}"
        );
        let e = check(&[(b"__name__", b"m"), (b"a", b"vvvvvv")], &l).unwrap_err();
        assert!(
            matches!(
                e,
                Error::LabelValueTooLong {
                    len: 6,
                    limit: 5,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("over the limit of 5"), "{e}");
        let e = check(&[(b"__name__", b"mmmmmmm")], &l).unwrap_err();
        assert!(
            matches!(&e, Error::LabelValueTooLong { name, len: 7, limit: 6, .. } if name == "__name__"),
            "{e}"
        );
    }

    #[test]
    fn long_label_sets_are_shortened_in_messages() {
        let v = vec![b'x'; 1000];
        let e = err(&[(b"__name__", b"m"), (b"a", &v)]);
        let text = e.to_string();
        assert!(text.len() < 600, "{}", text.len());
        assert!(text.contains("...}"), "{text}");
    }
}
