//! The crate's one error type, and the HTTP status each variant maps to.

use whippet_ddql::ParseError;

/// Why a query could not be answered.
///
/// Messages are written for the client: they say what is wrong with the
/// query (and where, when known), never how the server is built. A storage
/// failure is logged in full by the caller and answered with a generic
/// message; its [`std::fmt::Display`] is for logs.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The query is wrong: it does not parse, it refers to something that does
    /// not exist, or it asks for something the data cannot give (a percentile
    /// of a gauge, `to` before `from`). HTTP 400.
    #[error("{message}")]
    Invalid {
        /// Byte offset in the query text the problem is about, when known.
        position: Option<usize>,
        /// What is wrong, for the client.
        message: String,
    },
    /// The query is valid but would cost more than a limit allows. The
    /// message names the limit (a [`crate::QueryLimits`] field) and the figure
    /// that broke it, so the user knows how to narrow the query. HTTP 400:
    /// the Datadog clients treat any 400 as "fix the query" and never retry.
    #[error("{message}")]
    TooLarge {
        /// Which limit, the figure, and how to narrow the query.
        message: String,
    },
    /// The storage engine failed (I/O, corruption, a bug). HTTP 500.
    #[error("storage error while reading series: {0}")]
    Storage(#[from] whippet_tsdb::Error),
}

impl QueryError {
    /// The HTTP status a client gets for this error.
    pub fn http_status(&self) -> u16 {
        match self {
            QueryError::Invalid { .. } | QueryError::TooLarge { .. } => 400,
            QueryError::Storage(_) => 500,
        }
    }

    /// An [`QueryError::Invalid`] about byte `position` of the query.
    pub(crate) fn invalid_at(position: usize, message: impl Into<String>) -> Self {
        QueryError::Invalid {
            position: Some(position),
            message: message.into(),
        }
    }
}

impl From<ParseError> for QueryError {
    /// A parse error keeps its position; the message is the parser's full
    /// text (`Error parsing query: ... at position N`), as Datadog answers.
    fn from(e: ParseError) -> Self {
        QueryError::Invalid {
            position: Some(e.position),
            message: e.to_string(),
        }
    }
}
