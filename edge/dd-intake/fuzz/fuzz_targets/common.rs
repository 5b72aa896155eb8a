//! Invariants every metric parser's output must hold, whatever the input.
#![allow(dead_code)]

use whippet_dd_intake::normalize::{self, MAX_METRIC_NAME_CHARS, MAX_TAG_CHARS};
use whippet_dd_intake::{MetricRow, Parsed, SketchRow};

pub fn check_name(metric: &str) {
    assert!(metric.as_bytes()[0].is_ascii_alphabetic(), "{metric:?}");
    assert!(metric.len() <= MAX_METRIC_NAME_CHARS, "{metric:?}");
    assert!(
        metric
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.'),
        "{metric:?}"
    );
}

pub fn check_tags(tags: &[String]) {
    for t in tags {
        assert!(!t.is_empty());
        assert!(t.chars().count() <= MAX_TAG_CHARS, "{t:?}");
        // A normalised tag is a fixed point of normalisation. (Not "has no
        // uppercase letter": Unicode has uppercase letters without a
        // lowercase mapping, e.g. U+03D3, which lower-casing keeps.)
        assert_eq!(normalize::tag(t).as_deref(), Some(t.as_str()), "{t:?}");
    }
}

pub fn check_parsed<T>(p: &Parsed<T>) {
    assert!(p.rejected.len() <= Parsed::<T>::MAX_REJECTED_DETAILS);
    assert!(p.rejected.len() as u64 <= p.rejected_total());
    for r in &p.rejected {
        assert!(!r.detail.is_empty());
        assert!(r.detail.len() < 1024, "{}", r.detail);
    }
}

pub fn check_metric_rows(p: &Parsed<MetricRow>) {
    check_parsed(p);
    for row in &p.rows {
        check_name(&row.metric);
        check_tags(&row.tags);
        assert!(!row.points.is_empty());
        assert!(
            row.points
                .iter()
                .all(|(ts, v)| v.is_finite() && ts % 1000 == 0)
        );
    }
}

pub fn check_sketch_rows(p: &Parsed<SketchRow>) {
    check_parsed(p);
    for row in &p.rows {
        check_name(&row.metric);
        check_tags(&row.tags);
        assert!(!row.points.is_empty());
        assert!(row.points.iter().all(|(ts, _)| ts % 1000 == 0));
    }
}

/// Every error must map to 400 or 413 and say something.
pub fn check_error(e: &whippet_dd_intake::IntakeError) {
    assert!(matches!(e.status(), 400 | 413));
    assert!(!e.message().is_empty());
}
