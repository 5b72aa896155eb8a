//! Binary operators at one evaluation step: arithmetic, comparisons (with
//! and without `bool`), `atan2`, the set operators `and`/`or`/`unless`, and
//! vector matching (`on`/`ignoring`, `group_left`/`group_right`).
//!
//! ## What it owns
//! Prometheus 2.42's rules for which samples pair up, what labels a result
//! carries (`__name__` dropped by arithmetic and by `bool`, `on(...)` of a
//! one-to-one match keeping only the listed labels, `group_x(...)` labels
//! copied from the "one" side) and its error messages for ambiguous
//! matches.
//!
//! ## What it must never do
//! Look at time: the evaluator hands it the samples of one step and keeps
//! the per-series bookkeeping itself.

use std::collections::{HashMap, HashSet};

use promql_parser::parser::token::{
    T_ADD, T_ATAN2, T_DIV, T_EQLC, T_GTE, T_GTR, T_LAND, T_LOR, T_LSS, T_LTE, T_LUNLESS, T_MOD,
    T_MUL, T_NEQ, T_POW, T_SUB, TokenId,
};
use promql_parser::parser::{LabelModifier, VectorMatchCardinality};

use crate::error::{PromError, Result};
use crate::value::{Labels, METRIC_NAME};

/// How two vectors match: the labels a match compares and the side with
/// many series per match (Prometheus' `VectorMatching`).
#[derive(Debug, Clone)]
pub struct Matching {
    /// `on(...)` (true) or `ignoring(...)` (false, also the default).
    pub on: bool,
    /// The labels of `on`/`ignoring`.
    pub labels: Vec<String>,
    /// The cardinality.
    pub card: Card,
    /// The extra labels of `group_left(...)`/`group_right(...)`.
    pub include: Vec<String>,
}

/// The cardinality of a vector match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Card {
    /// One series on each side per match.
    OneToOne,
    /// `group_left`: many on the left.
    ManyToOne,
    /// `group_right`: many on the right.
    OneToMany,
    /// The set operators.
    ManyToMany,
}

impl Matching {
    /// The matching of a parsed binary expression's modifier.
    pub fn of(matching: Option<&LabelModifier>, card: Option<&VectorMatchCardinality>) -> Matching {
        let (on, labels) = match matching {
            Some(LabelModifier::Include(l)) => (true, l.labels.clone()),
            Some(LabelModifier::Exclude(l)) => (false, l.labels.clone()),
            None => (false, Vec::new()),
        };
        let (card, include) = match card {
            Some(VectorMatchCardinality::ManyToOne(l)) => (Card::ManyToOne, l.labels.clone()),
            Some(VectorMatchCardinality::OneToMany(l)) => (Card::OneToMany, l.labels.clone()),
            Some(VectorMatchCardinality::ManyToMany) => (Card::ManyToMany, Vec::new()),
            Some(VectorMatchCardinality::OneToOne) | None => (Card::OneToOne, Vec::new()),
        };
        Matching {
            on,
            labels,
            card,
            include,
        }
    }

    /// The labels a match compares: with `on`, the listed ones; with
    /// `ignoring`, all but the listed ones and `__name__`.
    pub fn signature(&self, l: &Labels) -> Labels {
        if self.on {
            Labels::new(
                l.pairs()
                    .iter()
                    .filter(|(k, _)| self.labels.iter().any(|x| x == k))
                    .cloned(),
            )
        } else {
            Labels::new(
                l.pairs()
                    .iter()
                    .filter(|(k, _)| k != METRIC_NAME && !self.labels.iter().any(|x| x == k))
                    .cloned(),
            )
        }
    }
}

/// True for the operators whose result drops `__name__`: arithmetic, but
/// not `atan2` (Prometheus 2.42 keeps the name there).
pub fn drops_metric_name(op: TokenId) -> bool {
    matches!(op, T_ADD | T_SUB | T_MUL | T_DIV | T_POW | T_MOD)
}

/// True for comparison operators.
pub fn is_comparison(op: TokenId) -> bool {
    matches!(op, T_EQLC | T_NEQ | T_GTR | T_LSS | T_GTE | T_LTE)
}

/// True for `and`, `or`, `unless`.
pub fn is_set_op(op: TokenId) -> bool {
    matches!(op, T_LAND | T_LOR | T_LUNLESS)
}

/// One operation on two numbers: the value and whether a comparison holds
/// (arithmetic always holds; a comparison's value is its left side).
pub fn elem(op: TokenId, l: f64, r: f64) -> Result<(f64, bool)> {
    Ok(match op {
        T_ADD => (l + r, true),
        T_SUB => (l - r, true),
        T_MUL => (l * r, true),
        T_DIV => (l / r, true),
        T_POW => (l.powf(r), true),
        // Go's math.Mod and Rust's `%` both keep the dividend's sign.
        T_MOD => (l % r, true),
        T_ATAN2 => (l.atan2(r), true),
        T_EQLC => (l, l == r),
        T_NEQ => (l, l != r),
        T_GTR => (l, l > r),
        T_LSS => (l, l < r),
        T_GTE => (l, l >= r),
        T_LTE => (l, l <= r),
        _ => {
            return Err(PromError::Execution(format!(
                "operator {op} is not a binary number operator"
            )));
        }
    })
}

/// Two scalars: comparisons answer 1 or 0 (the parser insists on `bool`).
pub fn scalar_scalar(op: TokenId, l: f64, r: f64) -> Result<f64> {
    let (v, keep) = elem(op, l, r)?;
    Ok(if is_comparison(op) {
        if keep { 1.0 } else { 0.0 }
    } else {
        v
    })
}

/// A vector sample against a scalar; `swap` when the scalar is on the
/// left. `None`: the comparison filtered the sample out. The labels change
/// only by `__name__` ([`drops_metric_name`] or `bool`), which the caller
/// applies.
pub fn vector_scalar(
    op: TokenId,
    sample: f64,
    scalar: f64,
    swap: bool,
    return_bool: bool,
) -> Result<Option<f64>> {
    let (l, r) = if swap {
        (scalar, sample)
    } else {
        (sample, scalar)
    };
    let (mut v, keep) = elem(op, l, r)?;
    // A comparison keeps the vector's value even when it is on the right.
    if is_comparison(op) && swap {
        v = r;
    }
    if return_bool {
        return Ok(Some(if keep { 1.0 } else { 0.0 }));
    }
    Ok(keep.then_some(v))
}

/// A sample of one step.
#[derive(Debug, Clone, Copy)]
pub struct StepSample<'a> {
    /// Its series' labels.
    pub labels: &'a Labels,
    /// The value.
    pub v: f64,
    /// Its series' match signature ([`Matching::signature`]) as a number:
    /// equal numbers for equal signatures within one operation (the
    /// evaluator computes them once per series, not per step).
    pub sig: u32,
    /// Its series' index on its side (for the result-label cache).
    pub series: usize,
}

/// Result labels of vector-vector operations, by (many-side series,
/// one-side series): the same pair gives the same labels at every step.
pub type LabelCache = HashMap<(usize, usize), Labels>;

/// Prometheus' form of a label set in messages: `{__name__="a", b="c"}`.
pub fn go_labels(l: &Labels) -> String {
    let parts: Vec<String> = l
        .pairs()
        .iter()
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// `and`, `or`, `unless` at one step; answers which samples the result
/// holds, in Prometheus' order (left ones first).
pub fn set_op(op: TokenId, lhs: &[StepSample<'_>], rhs: &[StepSample<'_>]) -> Vec<Side> {
    match op {
        T_LAND | T_LUNLESS => {
            let right: HashSet<u32> = rhs.iter().map(|s| s.sig).collect();
            let keep_matched = op == T_LAND;
            (0..lhs.len())
                .filter(|&i| right.contains(&lhs[i].sig) == keep_matched)
                .map(Side::Left)
                .collect()
        }
        _ => {
            let left: HashSet<u32> = lhs.iter().map(|s| s.sig).collect();
            let mut out: Vec<Side> = (0..lhs.len()).map(Side::Left).collect();
            out.extend(
                (0..rhs.len())
                    .filter(|&j| !left.contains(&rhs[j].sig))
                    .map(Side::Right),
            );
            out
        }
    }
}

/// Which side a set operator's result sample comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The i-th left sample.
    Left(usize),
    /// The j-th right sample.
    Right(usize),
}

/// Arithmetic or comparison between two vectors at one step (one-to-one,
/// many-to-one or one-to-many): the result samples with their labels.
pub fn vector_vector(
    op: TokenId,
    lhs: &[StepSample<'_>],
    rhs: &[StepSample<'_>],
    m: &Matching,
    return_bool: bool,
    cache: &mut LabelCache,
) -> Result<Vec<(Labels, f64)>> {
    // One-to-many is many-to-one with the sides swapped (values are swapped
    // back when computed).
    let (many, one) = if m.card == Card::OneToMany {
        (rhs, lhs)
    } else {
        (lhs, rhs)
    };
    let mut one_sigs: HashMap<u32, usize> = HashMap::with_capacity(one.len());
    for (j, s) in one.iter().enumerate() {
        if let Some(&prev) = one_sigs.get(&s.sig) {
            let side = if m.card == Card::OneToMany {
                "left"
            } else {
                "right"
            };
            return Err(PromError::Execution(format!(
                "found duplicate series for the match group {} on the {side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                go_labels(&m.signature(s.labels)),
                go_labels(s.labels),
                go_labels(one[prev].labels)
            )));
        }
        one_sigs.insert(s.sig, j);
    }
    let mut matched: HashMap<u32, HashSet<Labels>> = HashMap::new();
    let mut out = Vec::new();
    for ms in many {
        let Some(&j) = one_sigs.get(&ms.sig) else {
            continue;
        };
        let os = one[j];
        let (vl, vr) = if m.card == Card::OneToMany {
            (os.v, ms.v)
        } else {
            (ms.v, os.v)
        };
        let (mut value, keep) = elem(op, vl, vr)?;
        if return_bool {
            value = if keep { 1.0 } else { 0.0 };
        } else if !keep {
            continue;
        }
        let labels = cache
            .entry((ms.series, os.series))
            .or_insert_with(|| {
                let mut l = result_labels(ms.labels, os.labels, op, m);
                if return_bool {
                    l.remove(METRIC_NAME);
                }
                l
            })
            .clone();
        match m.card {
            Card::OneToOne => {
                if matched.insert(ms.sig, HashSet::new()).is_some() {
                    return Err(PromError::Execution(
                        "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)".into(),
                    ));
                }
            }
            _ => {
                if !matched.entry(ms.sig).or_default().insert(labels.clone()) {
                    return Err(PromError::Execution(
                        "multiple matches for labels: grouping labels must ensure unique matches"
                            .into(),
                    ));
                }
            }
        }
        out.push((labels, value));
    }
    Ok(out)
}

/// The labels of a vector-vector result: the "many" side's labels, minus
/// `__name__` for arithmetic, cut to the `on` labels for one-to-one
/// matches (or without the `ignoring` ones), with the `group_x` labels
/// taken from the "one" side.
fn result_labels(many: &Labels, one: &Labels, op: TokenId, m: &Matching) -> Labels {
    let mut l = many.clone();
    if drops_metric_name(op) {
        l.remove(METRIC_NAME);
    }
    if m.card == Card::OneToOne {
        if m.on {
            l = Labels::new(
                l.pairs()
                    .iter()
                    .filter(|(k, _)| m.labels.iter().any(|x| x == k))
                    .cloned(),
            );
        } else {
            for name in &m.labels {
                l.remove(name);
            }
        }
    }
    for name in &m.include {
        match one.get(name) {
            Some(v) => l.set(name, v),
            None => l.remove(name),
        }
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab(p: &[(&str, &str)]) -> Labels {
        Labels::new(p.iter().copied())
    }

    #[test]
    fn ignoring_drops_the_name_from_the_signature() {
        let m = Matching::of(None, None);
        let a = lab(&[("__name__", "a"), ("job", "x")]);
        let b = lab(&[("__name__", "b"), ("job", "x")]);
        assert_eq!(m.signature(&a), m.signature(&b));
    }

    #[test]
    fn comparison_keeps_the_vector_value_when_swapped() {
        // 5 < v with v = 7: keeps 7.
        assert_eq!(
            vector_scalar(T_LSS, 7.0, 5.0, true, false).unwrap(),
            Some(7.0)
        );
        assert_eq!(vector_scalar(T_LSS, 3.0, 5.0, true, false).unwrap(), None);
        assert_eq!(
            vector_scalar(T_LSS, 3.0, 5.0, true, true).unwrap(),
            Some(0.0)
        );
    }

    #[test]
    fn duplicate_one_side_is_many_to_many() {
        let m = Matching::of(
            Some(&LabelModifier::Include(promql_parser::label::Labels::new(
                vec!["job"],
            ))),
            None,
        );
        let a = lab(&[("job", "x"), ("i", "1")]);
        let b = lab(&[("job", "x"), ("i", "2")]);
        let sample = |labels, series| StepSample {
            labels,
            v: 1.0,
            sig: 0,
            series,
        };
        let err = vector_vector(
            T_ADD,
            &[sample(&a, 0)],
            &[sample(&a, 0), sample(&b, 1)],
            &m,
            false,
            &mut LabelCache::new(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("many-to-many matching not allowed"), "{err}");
    }
}
