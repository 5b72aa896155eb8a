//! Aggregation operators at one evaluation step: `sum`, `avg`, `min`,
//! `max`, `count`, `group`, `stddev`, `stdvar`, `topk`, `bottomk`,
//! `quantile`, `count_values`, with `by`/`without`.
//!
//! ## What it owns
//! Prometheus 2.42's arithmetic for each operator (the running mean of
//! `avg` that survives infinities, Welford's update for `stddev`, NaN
//! handling of `min`/`max`, `quantile`'s interpolation, `topk`'s order),
//! the result labels (`by` keeps the listed labels, `without` drops them
//! and `__name__`; `topk`/`bottomk` answer their input series unchanged)
//! and the order of groups (first seen first, as Prometheus answers an
//! instant query).
//!
//! ## What it must never do
//! Look at time or at other steps; the evaluator computes each series'
//! group once and calls [`aggregate`] per step (or, for the operators
//! [`Acc::is_simple`] accepts, keeps one [`Acc`] per group and calls its
//! methods, the same arithmetic).

use std::collections::HashMap;

use promql_parser::parser::token::{
    T_AVG, T_BOTTOMK, T_COUNT, T_COUNT_VALUES, T_GROUP, T_MAX, T_MIN, T_QUANTILE, T_STDDEV,
    T_STDVAR, T_SUM, T_TOPK, TokenId,
};

use crate::error::{PromError, Result};
use crate::value::{Labels, METRIC_NAME};

/// The grouping of an aggregation.
#[derive(Debug, Clone)]
pub struct Grouping {
    /// `without` (true) or `by` (false; also with no clause).
    pub without: bool,
    /// The listed labels.
    pub labels: Vec<String>,
}

impl Grouping {
    /// The labels of the group `l` falls in (also the group's result
    /// labels).
    pub fn group_of(&self, l: &Labels) -> Labels {
        if self.without {
            Labels::new(
                l.pairs()
                    .iter()
                    .filter(|(k, _)| k != METRIC_NAME && !self.labels.iter().any(|x| x == k))
                    .cloned(),
            )
        } else {
            Labels::new(
                l.pairs()
                    .iter()
                    .filter(|(k, _)| self.labels.iter().any(|x| x == k))
                    .cloned(),
            )
        }
    }
}

/// The parameter of `topk`, `bottomk`, `quantile` (a number) or
/// `count_values` (a label name) at this step.
#[derive(Debug, Clone)]
pub enum Param<'a> {
    /// No parameter.
    None,
    /// A number.
    Number(f64),
    /// A string.
    Str(&'a str),
}

/// One input sample: its series' labels, its group (index into the
/// caller's group labels; ignored by `count_values`, which regroups), and
/// its value.
#[derive(Debug, Clone, Copy)]
pub struct In<'a> {
    /// The series' labels.
    pub labels: &'a Labels,
    /// The series' group.
    pub group: usize,
    /// The value.
    pub v: f64,
}

/// One group's accumulator at one step. The evaluator's whole-range path
/// ([`crate::eval`]) keeps one per group for the operators that
/// [`Acc::is_simple`] accepts and calls [`Acc::first`], [`Acc::add`] and
/// [`Acc::simple_value`] itself, so both paths do the same arithmetic.
#[derive(Default)]
pub struct Acc {
    value: f64,
    mean: f64,
    count: u64,
    /// Samples for topk, bottomk and quantile: (index into the input, value).
    samples: Vec<(usize, f64)>,
}

impl Acc {
    /// True for the operators whose answer is one value per group from
    /// the values alone (no parameter, no input labels): `sum`, `avg`,
    /// `min`, `max`, `count`, `group`, `stddev`, `stdvar`.
    pub fn is_simple(op: TokenId) -> bool {
        matches!(
            op,
            T_SUM | T_AVG | T_MIN | T_MAX | T_COUNT | T_GROUP | T_STDDEV | T_STDVAR
        )
    }

    /// The accumulator of a group whose first sample (input index `i`) is
    /// `v`.
    pub fn first(op: TokenId, i: usize, v: f64) -> Acc {
        let mut acc = Acc {
            value: v,
            mean: v,
            count: 1,
            samples: Vec::new(),
        };
        match op {
            T_STDDEV | T_STDVAR => acc.value = 0.0,
            T_TOPK | T_BOTTOMK | T_QUANTILE => acc.samples.push((i, v)),
            T_GROUP => acc.value = 1.0,
            _ => {}
        }
        acc
    }

    /// Adds the group's next sample (input index `i`, value `v`); `k` is
    /// `topk`/`bottomk`'s parameter (unused otherwise).
    pub fn add(&mut self, op: TokenId, i: usize, v: f64, k: usize) -> Result<()> {
        let acc = self;
        match op {
            T_SUM => acc.value += v,
            T_AVG => {
                acc.count += 1;
                if acc.mean.is_infinite() {
                    if v.is_infinite() && (acc.mean > 0.0) == (v > 0.0) {
                        return Ok(());
                    }
                    if !v.is_infinite() && !v.is_nan() {
                        return Ok(());
                    }
                }
                let c = acc.count as f64;
                acc.mean += v / c - acc.mean / c;
            }
            T_GROUP => {}
            T_MAX => {
                if acc.value < v || acc.value.is_nan() {
                    acc.value = v;
                }
            }
            T_MIN => {
                if acc.value > v || acc.value.is_nan() {
                    acc.value = v;
                }
            }
            T_COUNT => acc.count += 1,
            T_STDDEV | T_STDVAR => {
                acc.count += 1;
                let delta = v - acc.mean;
                acc.mean += delta / acc.count as f64;
                acc.value += delta * (v - acc.mean);
            }
            T_TOPK | T_BOTTOMK => {
                let heap = GoHeap { top: op == T_TOPK };
                let h = &mut acc.samples;
                let root = h[0].1;
                let replace = if op == T_TOPK { root < v } else { root > v };
                if h.len() < k || replace || root.is_nan() {
                    if h.len() == k {
                        if k == 1 {
                            h[0] = (i, v);
                            return Ok(());
                        }
                        heap.pop(h);
                    }
                    heap.push(h, (i, v));
                }
            }
            T_QUANTILE => acc.samples.push((i, v)),
            _ => {
                return Err(PromError::Execution(format!(
                    "aggregation operator {op} is not supported"
                )));
            }
        }
        Ok(())
    }

    /// The group's answer for an operator [`Acc::is_simple`] accepts.
    pub fn simple_value(&self, op: TokenId) -> f64 {
        match op {
            T_AVG => self.mean,
            T_COUNT => self.count as f64,
            T_STDVAR => self.value / self.count as f64,
            T_STDDEV => (self.value / self.count as f64).sqrt(),
            _ => self.value,
        }
    }
}

fn valid_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`: the shortest decimal that
/// reads back as `v`, never in exponent form.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

/// Prometheus' quantile of a set of values, the rule of both the
/// `quantile` operator and `quantile_over_time`: NaN for no values or a NaN
/// `q`, -Inf below 0, +Inf above 1, else the weighted average of the two
/// nearest ranks (values sorted here, NaNs first).
pub fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    // NaN sorts first, as Go's sort with `IsNaN(a) || a < b` puts it.
    values.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ => a.total_cmp(b),
    });
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

/// The binary heap of Go's `container/heap` over Prometheus'
/// `vectorByValueHeap` (topk: smallest on top) or
/// `vectorByReverseValueHeap` (bottomk: largest on top), NaN always
/// "less". Reproduced operation for operation so that ties (equal values)
/// pick and order the same series as Prometheus.
struct GoHeap {
    top: bool,
}

impl GoHeap {
    fn less(&self, h: &[(usize, f64)], i: usize, j: usize) -> bool {
        if h[i].1.is_nan() {
            return true;
        }
        if self.top {
            h[i].1 < h[j].1
        } else {
            h[i].1 > h[j].1
        }
    }

    fn up(&self, h: &mut [(usize, f64)], mut j: usize) {
        while j > 0 {
            let i = (j - 1) / 2;
            if !self.less(h, j, i) {
                break;
            }
            h.swap(i, j);
            j = i;
        }
    }

    fn down(&self, h: &mut [(usize, f64)], i0: usize, n: usize) {
        let mut i = i0;
        loop {
            let j1 = 2 * i + 1;
            if j1 >= n {
                break;
            }
            let mut j = j1;
            let j2 = j1 + 1;
            if j2 < n && self.less(h, j2, j1) {
                j = j2;
            }
            if !self.less(h, j, i) {
                break;
            }
            h.swap(i, j);
            i = j;
        }
    }

    fn push(&self, h: &mut Vec<(usize, f64)>, x: (usize, f64)) {
        h.push(x);
        let last = h.len() - 1;
        self.up(h, last);
    }

    fn pop(&self, h: &mut Vec<(usize, f64)>) {
        let n = h.len() - 1;
        h.swap(0, n);
        self.down(h, 0, n);
        h.pop();
    }
}

/// Aggregates one step's samples. `groups` holds the labels of each group
/// index used in `input`. Answers the result samples in Prometheus' order.
pub fn aggregate(
    op: TokenId,
    param: Param<'_>,
    grouping: &Grouping,
    groups: &[Labels],
    input: &[In<'_>],
) -> Result<Vec<(Labels, f64)>> {
    if op == T_COUNT_VALUES {
        return count_values(param, grouping, input);
    }
    let mut k: usize = 0;
    if op == T_TOPK || op == T_BOTTOMK {
        let Param::Number(f) = param else {
            return Err(PromError::Execution(
                "topk/bottomk need a number parameter".into(),
            ));
        };
        if !(f >= i64::MIN as f64 && f <= i64::MAX as f64) {
            return Err(PromError::Execution(format!(
                "Scalar value {} overflows int64",
                format_value(f)
            )));
        }
        let ki = f as i64;
        if ki < 1 {
            return Ok(Vec::new());
        }
        k = usize::try_from(ki).unwrap_or(usize::MAX);
    }
    let q = match param {
        Param::Number(f) => f,
        _ => f64::NAN,
    };
    // Accumulators by group index, in order of first appearance.
    let mut slot: HashMap<usize, usize> = HashMap::new();
    let mut accs: Vec<(usize, Acc)> = Vec::new();
    for (i, s) in input.iter().enumerate() {
        let Some(&a) = slot.get(&s.group) else {
            slot.insert(s.group, accs.len());
            accs.push((s.group, Acc::first(op, i, s.v)));
            continue;
        };
        accs[a].1.add(op, i, s.v, k)?;
    }
    let mut out = Vec::with_capacity(accs.len());
    for (g, acc) in accs {
        let value = match op {
            T_TOPK | T_BOTTOMK => {
                let heap = GoHeap { top: op == T_TOPK };
                // The heap holds the k best, worst on top; Prometheus
                // answers it sorted best first (Go's insertion sort for
                // the small sizes of a topk, which keeps heap order on
                // ties).
                let mut h = acc.samples;
                for j in 1..h.len() {
                    let mut j = j;
                    while j > 0 && heap.less(&h, j - 1, j) {
                        h.swap(j, j - 1);
                        j -= 1;
                    }
                }
                for &(i, v) in &h {
                    out.push((input[i].labels.clone(), v));
                }
                continue;
            }
            T_QUANTILE => {
                let mut vals: Vec<f64> = acc.samples.iter().map(|s| s.1).collect();
                quantile(q, &mut vals)
            }
            _ => acc.simple_value(op),
        };
        out.push((groups[g].clone(), value));
    }
    Ok(out)
}

fn count_values(
    param: Param<'_>,
    grouping: &Grouping,
    input: &[In<'_>],
) -> Result<Vec<(Labels, f64)>> {
    let Param::Str(label) = param else {
        return Err(PromError::Execution(
            "count_values needs a string parameter".into(),
        ));
    };
    if !valid_label_name(label) {
        return Err(PromError::Execution(format!(
            "invalid label name {label:?}"
        )));
    }
    let mut g = grouping.clone();
    if !g.without {
        g.labels.push(label.to_owned());
    }
    let mut slot: HashMap<Labels, usize> = HashMap::new();
    let mut out: Vec<(Labels, f64)> = Vec::new();
    for s in input {
        let mut l = s.labels.clone();
        l.set(label, &format_value(s.v));
        let key = g.group_of(&l);
        match slot.get(&key) {
            Some(&i) => out[i].1 += 1.0,
            None => {
                slot.insert(key.clone(), out.len());
                out.push((key, 1.0));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_interpolates_between_ranks() {
        assert_eq!(quantile(0.5, &mut [1.0, 3.0, 2.0, 4.0]), 2.5);
        assert_eq!(quantile(0.0, &mut [5.0, 1.0]), 1.0);
        assert_eq!(quantile(-1.0, &mut [5.0]), f64::NEG_INFINITY);
        assert_eq!(quantile(2.0, &mut [5.0]), f64::INFINITY);
        assert!(quantile(0.5, &mut []).is_nan());
    }

    #[test]
    fn values_format_as_go_does() {
        assert_eq!(format_value(1.0), "1");
        assert_eq!(format_value(0.5), "0.5");
        assert_eq!(format_value(1e21), "1000000000000000000000");
        assert_eq!(format_value(f64::INFINITY), "+Inf");
    }
}
