//! `scalar` and `vector`: conversions between an instant vector and a
//! scalar.
//!
//! `scalar(v)` is the value of a one-element vector and NaN otherwise
//! (never an error); `vector(s)` is one sample without labels. Neither may
//! look at labels.

use super::sample;
use crate::value::{InstantSample, Labels};

/// `scalar(v)`.
pub(super) fn scalar(v: &[InstantSample]) -> f64 {
    match v {
        [one] => one.v,
        _ => f64::NAN,
    }
}

/// `vector(s)` at time `t`.
pub(super) fn vector(s: f64, t: i64) -> Vec<InstantSample> {
    vec![sample(Labels::default(), t, s)]
}

#[cfg(test)]
mod tests {
    use super::super::FnArg;
    use super::super::tests::{ctx, inst, scalar_of, vec_of};

    #[test]
    fn scalar_of_one_element_only() {
        let one = vec![inst(&[("__name__", "m")], 4.0)];
        assert_eq!(
            scalar_of("scalar", vec![FnArg::Vector(one)], ctx(0, 0)),
            4.0
        );
        assert!(scalar_of("scalar", vec![FnArg::Vector(vec![])], ctx(0, 0)).is_nan());
        let two = vec![inst(&[("a", "1")], 1.0), inst(&[("a", "2")], 2.0)];
        assert!(scalar_of("scalar", vec![FnArg::Vector(two)], ctx(0, 0)).is_nan());
    }

    #[test]
    fn vector_has_no_labels() {
        let out = vec_of("vector", vec![FnArg::Scalar(2.5)], ctx(7, 0));
        assert_eq!(out, vec![("{}".to_owned(), 2.5)]);
    }
}
