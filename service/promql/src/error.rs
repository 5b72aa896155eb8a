//! The crate's error type and the Prometheus `errorType` of each variant.

/// Why a PromQL request could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum PromError {
    /// The query does not parse, or is not a valid expression. `message` is
    /// Prometheus' form, position first: `1:15: parse error: unclosed left
    /// parenthesis`. Prometheus' `bad_data`, HTTP 400.
    #[error("{message}")]
    Parse {
        /// Byte offset of the problem in the query text.
        position: usize,
        /// The message, as Prometheus words it (with the position).
        message: String,
    },
    /// A request parameter is wrong (a time, a step, a matcher of
    /// `/series`). Prometheus' `bad_data`, HTTP 400.
    #[error("{0}")]
    BadData(String),
    /// The query is valid but cannot be evaluated: duplicate series where a
    /// vector needs unique label sets, a many-to-many match, too many
    /// samples. Prometheus' `execution`, HTTP 422.
    #[error("{0}")]
    Execution(String),
    /// The storage engine failed. Prometheus' `internal`, HTTP 500.
    #[error("storage error: {0}")]
    Storage(#[from] whippet_tsdb::Error),
}

impl PromError {
    /// Prometheus' `errorType` string for this error.
    pub fn error_type(&self) -> &'static str {
        match self {
            PromError::Parse { .. } | PromError::BadData(_) => "bad_data",
            PromError::Execution(_) => "execution",
            PromError::Storage(_) => "internal",
        }
    }

    /// The HTTP status Prometheus answers with for this error.
    pub fn http_status(&self) -> u16 {
        match self {
            PromError::Parse { .. } | PromError::BadData(_) => 400,
            PromError::Execution(_) => 422,
            PromError::Storage(_) => 500,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = PromError> = std::result::Result<T, E>;
