//! The error every monitor query parser returns.

use std::fmt;

/// Why a monitor query does not parse, and where.
///
/// `message` says what is wrong in the words of the query language
/// ("unknown time aggregation `mean`; expected one of ..."), without the
/// "The value provided for parameter 'query' is invalid: " prefix the HTTP
/// layer adds in front of it (Datadog's wording). `position` is the byte
/// offset in the whole monitor query where the problem is (the start of the
/// offending token, or the length of the query when something is missing at
/// its end); `None` when the problem is not at a place in the text (an
/// unsupported monitor type).
///
/// `Display` prints the message followed by ` at position N` when there is
/// a position, as `whippet_ddql::ParseError` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// What is wrong, for the user.
    pub message: String,
    /// Byte offset in the monitor query (0-based), always on a character
    /// boundary and at most the length of the query.
    pub position: Option<usize>,
}

impl QueryError {
    /// An error at byte `position` of the query.
    pub(crate) fn at(position: usize, message: impl Into<String>) -> QueryError {
        QueryError {
            message: message.into(),
            position: Some(position),
        }
    }

    /// An error about the query as a whole.
    pub(crate) fn whole(message: impl Into<String>) -> QueryError {
        QueryError {
            message: message.into(),
            position: None,
        }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(p) => write!(f, "{} at position {p}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for QueryError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_adds_the_position_when_there_is_one() {
        assert_eq!(
            QueryError::at(3, "missing threshold").to_string(),
            "missing threshold at position 3"
        );
        assert_eq!(
            QueryError::whole("monitor type `x` is not supported").to_string(),
            "monitor type `x` is not supported"
        );
    }
}
