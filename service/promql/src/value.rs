//! The values PromQL expressions evaluate to, and the label sets of series.

use std::fmt;
use std::sync::Arc;

/// The name of the label holding a series' metric name.
pub const METRIC_NAME: &str = "__name__";

/// A series' labels, sorted by name, names unique, no empty values (an
/// empty value is an absent label, as in Prometheus). `__name__` is one of
/// them when the series has a name.
///
/// The pairs sit behind an [`Arc`]: the evaluator hands the same labels to
/// every step of a series and to every answer derived from it, so a clone
/// costs a reference count, not a copy of the strings. A change
/// ([`Labels::set`], [`Labels::remove`]) copies the pairs only when they
/// are shared.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Labels(Arc<Vec<(String, String)>>);

impl Labels {
    /// Labels from pairs in any order: sorted, empty values dropped, and for
    /// a name given twice the last value kept.
    pub fn new<I, K, V>(pairs: I) -> Labels
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut v: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        // Stable sort, then keep the last of equal names.
        v.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(String, String)> = Vec::with_capacity(v.len());
        for (k, val) in v {
            match out.last_mut() {
                Some(last) if last.0 == k => last.1 = val,
                _ => out.push((k, val)),
            }
        }
        out.retain(|(_, v)| !v.is_empty());
        Labels(Arc::new(out))
    }

    /// The pairs, sorted by name.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The value of `name`, if the series has it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(name))
            .ok()
            .map(|i| self.0[i].1.as_str())
    }

    /// Sets `name` to `value` (an empty value removes the label).
    pub fn set(&mut self, name: &str, value: &str) {
        match self.0.binary_search_by(|(k, _)| k.as_str().cmp(name)) {
            Ok(i) if value.is_empty() => {
                Arc::make_mut(&mut self.0).remove(i);
            }
            Ok(i) if self.0[i].1 == value => {}
            Ok(i) => Arc::make_mut(&mut self.0)[i].1 = value.to_owned(),
            Err(_) if value.is_empty() => {}
            Err(i) => Arc::make_mut(&mut self.0).insert(i, (name.to_owned(), value.to_owned())),
        }
    }

    /// Removes `name`.
    pub fn remove(&mut self, name: &str) {
        if let Ok(i) = self.0.binary_search_by(|(k, _)| k.as_str().cmp(name)) {
            Arc::make_mut(&mut self.0).remove(i);
        }
    }

    /// The metric name (`__name__`), if any.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    /// True when all of `sets` have the same `__name__` (or none). Then
    /// two of them are equal without `__name__` exactly when they are
    /// equal, so sorted sets repeat only as neighbours: a check for
    /// repeated answers needs no hashing.
    pub fn one_name<'a>(sets: impl IntoIterator<Item = &'a Labels>) -> bool {
        let mut sets = sets.into_iter();
        let Some(first) = sets.next() else {
            return true;
        };
        let name = first.get(METRIC_NAME);
        sets.all(|l| l.get(METRIC_NAME) == name)
    }

    /// The same labels without `__name__` (what functions and arithmetic
    /// answer).
    pub fn without_name(&self) -> Labels {
        let mut l = self.clone();
        l.remove(METRIC_NAME);
        l
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True without labels.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Labels {
    /// Prometheus' form: `name{a="1", b="2"}` (values escaped as Go quotes
    /// them for the characters that need it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(n) = self.metric_name() {
            f.write_str(n)?;
        }
        f.write_str("{")?;
        let mut first = true;
        for (k, v) in self.0.iter() {
            if k == METRIC_NAME {
                continue;
            }
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{k}={v:?}")?;
        }
        f.write_str("}")
    }
}

/// One sample: a time in milliseconds since the epoch and a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Milliseconds since the epoch.
    pub t: i64,
    /// The value.
    pub v: f64,
}

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct InstantSample {
    /// The series' labels.
    pub labels: Labels,
    /// The evaluation time (ms), as Prometheus reports it (not the time of
    /// the sample the selector found).
    pub t: i64,
    /// The value.
    pub v: f64,
}

/// A series with its samples in time order (a range vector's element, or
/// one series of a range query's answer).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The series' labels.
    pub labels: Labels,
    /// The samples, oldest first, at most one per timestamp.
    pub samples: Vec<Sample>,
}

/// What a query answers, in the four types of Prometheus' HTTP API
/// (`resultType`).
#[derive(Debug, Clone, PartialEq)]
pub enum QueryValue {
    /// `scalar`: one number at a time.
    Scalar {
        /// Evaluation time (ms).
        t: i64,
        /// The number.
        v: f64,
    },
    /// `string`: a string literal's value.
    String {
        /// Evaluation time (ms).
        t: i64,
        /// The string.
        s: String,
    },
    /// `vector`: an instant query's series, one sample each.
    Vector(Vec<InstantSample>),
    /// `matrix`: a range query's series (or an instant query of a range
    /// vector), each with its samples.
    Matrix(Vec<Series>),
}
