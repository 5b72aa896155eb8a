//! Parse errors.

/// Why a query does not parse, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Error parsing query: {message} at position {position}")]
pub struct ParseError {
    /// Byte offset in the query text where the problem is (0-based).
    pub position: usize,
    /// What was expected and what was found, e.g. "expected `}` to close
    /// the scope, found `,`".
    pub message: String,
}
