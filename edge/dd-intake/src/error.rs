//! The crate's one error type: a request the intake refuses as a whole.
//!
//! Per-series problems are *not* errors: they are reported in
//! [`Parsed::rejected`](crate::Parsed::rejected) and the request is still
//! accepted. An [`IntakeError`] means the client gets a 4xx and none of the
//! body is stored.

/// Why a whole request is refused.
///
/// Every variant maps to the status code the client must see
/// ([`IntakeError::status`]) and a message that says what is wrong and where
/// ([`IntakeError::message`]), suitable for the `{"errors": [...]}` body.
/// Messages only describe the client's input; they never contain internal
/// details.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IntakeError {
    /// The body is well-formed but not what the endpoint takes: wrong
    /// top-level type, `series` missing or not an array, a required event
    /// field missing, an unsupported `Content-Encoding`. 400.
    #[error("{0}")]
    BadRequest(String),

    /// The body is not JSON (syntax error, truncated, trailing characters,
    /// nesting deeper than 128, invalid UTF-8 in a string, a number that
    /// overflows a double). 400.
    #[error("invalid JSON at line {line} column {column}: {reason}")]
    InvalidJson {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What the JSON parser found, e.g. `expected value`.
        reason: String,
    },

    /// The body is not a valid protobuf message of the expected type
    /// (truncated, bad varint, wrong wire type for a known field). 400.
    #[error("protobuf: {0}")]
    InvalidProtobuf(String),

    /// The body could not be decompressed with its `Content-Encoding`
    /// (corrupt or truncated stream). 400.
    #[error("{encoding}: {reason}")]
    Decompress {
        /// The encoding as we name it: `gzip`, `deflate` or `zstd`.
        encoding: &'static str,
        /// What the decompressor reported.
        reason: String,
    },

    /// The body, or what it decompresses to, is larger than `limit` bytes.
    /// 413.
    #[error(
        "payload too large: the body is limited to {limit} bytes (compressed and decompressed)"
    )]
    TooLarge {
        /// The limit that was exceeded, in bytes.
        limit: usize,
    },
}

impl IntakeError {
    /// The HTTP status code the client must get: 413 for
    /// [`IntakeError::TooLarge`], 400 for everything else.
    pub fn status(&self) -> u16 {
        match self {
            IntakeError::TooLarge { .. } => 413,
            _ => 400,
        }
    }

    /// The client-facing message: one line saying what is wrong and where,
    /// e.g. `invalid JSON at line 1 column 17: expected value` or
    /// `protobuf: series[3]: ... invalid wire type`.
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// A small, bounded label for counters (`whippet.intake.errors{code}`):
    /// `bad_request`, `invalid_json`, `invalid_protobuf`, `decompress` or
    /// `too_large`.
    pub fn code(&self) -> &'static str {
        match self {
            IntakeError::BadRequest(_) => "bad_request",
            IntakeError::InvalidJson { .. } => "invalid_json",
            IntakeError::InvalidProtobuf(_) => "invalid_protobuf",
            IntakeError::Decompress { .. } => "decompress",
            IntakeError::TooLarge { .. } => "too_large",
        }
    }

    /// Turns a `serde_json` error into the error the client sees.
    ///
    /// Syntax and end-of-input errors become [`IntakeError::InvalidJson`]
    /// with their position; data errors (a field of the wrong type where the
    /// endpoint is strict, e.g. events) become [`IntakeError::BadRequest`]
    /// with the position appended.
    pub(crate) fn from_json(e: serde_json::Error) -> Self {
        let (line, column) = (e.line(), e.column());
        let full = e.to_string();
        // serde_json appends " at line L column C"; we put the position first.
        let suffix = format!(" at line {line} column {column}");
        let reason = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
        match e.classify() {
            serde_json::error::Category::Data => {
                IntakeError::BadRequest(format!("{reason} (at line {line} column {column})"))
            }
            _ => IntakeError::InvalidJson {
                line,
                column,
                reason,
            },
        }
    }
}
