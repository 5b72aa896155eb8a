//! The comparison a monitor makes between its value and a threshold.

use std::fmt;

/// `>`, `>=`, `<`, `<=`, `==` or `!=` in a monitor query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Comparator {
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl Comparator {
    /// Every comparator, the two-character ones first (so a scanner that
    /// tries them in order never reads `>=` as `>`).
    pub const ALL: [Comparator; 6] = [
        Comparator::Ge,
        Comparator::Le,
        Comparator::Eq,
        Comparator::Ne,
        Comparator::Gt,
        Comparator::Lt,
    ];

    /// The comparator as written in a query.
    pub fn as_str(self) -> &'static str {
        match self {
            Comparator::Gt => ">",
            Comparator::Ge => ">=",
            Comparator::Lt => "<",
            Comparator::Le => "<=",
            Comparator::Eq => "==",
            Comparator::Ne => "!=",
        }
    }

    /// The comparator `text` spells, if any.
    pub fn parse(text: &str) -> Option<Comparator> {
        Comparator::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// True when `value` is on the alerting side of `threshold`
    /// (`value > threshold` for `>`). NaN never crosses.
    pub fn crosses(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparator::Gt => value > threshold,
            Comparator::Ge => value >= threshold,
            Comparator::Lt => value < threshold,
            Comparator::Le => value <= threshold,
            Comparator::Eq => value == threshold,
            Comparator::Ne => value != threshold && !value.is_nan(),
        }
    }

    /// True for `>` and `>=`: higher values are worse. `==` and `!=` have
    /// no worse side; they count as "above" for ordering checks.
    pub fn alerts_above(self) -> bool {
        matches!(
            self,
            Comparator::Gt | Comparator::Ge | Comparator::Eq | Comparator::Ne
        )
    }
}

impl fmt::Display for Comparator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_print_and_cross() {
        for c in Comparator::ALL {
            assert_eq!(Comparator::parse(c.as_str()), Some(c));
        }
        assert_eq!(Comparator::parse("=>"), None);
        assert!(Comparator::Gt.crosses(91.0, 90.0));
        assert!(!Comparator::Gt.crosses(90.0, 90.0));
        assert!(Comparator::Ge.crosses(90.0, 90.0));
        assert!(Comparator::Lt.crosses(1.0, 2.0));
        assert!(Comparator::Le.crosses(2.0, 2.0));
        assert!(Comparator::Eq.crosses(2.0, 2.0));
        assert!(Comparator::Ne.crosses(1.0, 2.0));
        for c in Comparator::ALL {
            assert!(!c.crosses(f64::NAN, 1.0), "{c}");
        }
    }
}
