//! The crate's one error enum: why a remote write request is refused.
//!
//! Every variant is a client's mistake and refuses the whole request (no
//! sample of it is stored); [`Error::status`] is the HTTP status the
//! receiver answers with, and the `Display` text is the plain-text body.
//! Texts that have a Prometheus counterpart start with Prometheus' own words
//! (`snappy: corrupt input`, `out of order sample`, `duplicate sample for
//! timestamp`), so a client that matches on them keeps working; the rest of
//! the text says which series (its index in the request and its labels) and
//! why.

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The body is not a snappy block (the block format, not the framed
    /// stream format).
    #[error("snappy: corrupt input ({0})")]
    Snappy(String),
    /// The snappy block says it decompresses to more than the limit.
    #[error(
        "the request decompresses to {size} bytes, over the limit of {limit} bytes; send smaller batches (max_samples_per_send)"
    )]
    DecompressedTooLarge {
        /// The decompressed size the block announces.
        size: usize,
        /// [`crate::Limits::max_decompressed_bytes`].
        limit: usize,
    },
    /// The decompressed bytes are not a `WriteRequest`.
    #[error("malformed protobuf at byte {offset} of the decompressed request: {what}")]
    Protobuf {
        /// Where in the decompressed body.
        offset: usize,
        /// What was wrong there.
        what: &'static str,
    },
    /// More series than [`crate::Limits::max_series_per_request`].
    #[error(
        "too many series in one request: over the limit of {limit}; send smaller batches (max_samples_per_send)"
    )]
    TooManySeries {
        /// The limit.
        limit: usize,
    },
    /// More samples than [`crate::Limits::max_samples_per_request`].
    #[error(
        "too many samples in one request: over the limit of {limit}; send smaller batches (max_samples_per_send)"
    )]
    TooManySamples {
        /// The limit.
        limit: usize,
    },
    /// A series without `__name__` (or with an empty one).
    #[error("series {series} {labels}: no metric name (label __name__)")]
    MissingMetricName {
        /// Index of the series in the request.
        series: usize,
        /// Its labels, as Prometheus prints them (shortened).
        labels: String,
    },
    /// A metric name the configured rule refuses.
    #[error("series {series} {labels}: invalid metric name {name:?} ({why})")]
    InvalidMetricName {
        /// Index of the series in the request.
        series: usize,
        /// Its labels.
        labels: String,
        /// The name.
        name: String,
        /// The rule it breaks.
        why: &'static str,
    },
    /// A label name outside `[a-zA-Z_][a-zA-Z0-9_]*`.
    #[error(
        "series {series} {labels}: invalid label name {name:?} (a label name matches [a-zA-Z_][a-zA-Z0-9_]*)"
    )]
    InvalidLabelName {
        /// Index of the series in the request.
        series: usize,
        /// Its labels.
        labels: String,
        /// The name.
        name: String,
    },
    /// The same label name twice in one series.
    #[error("series {series} {labels}: label name {name:?} is not unique")]
    DuplicateLabelName {
        /// Index of the series in the request.
        series: usize,
        /// Its labels.
        labels: String,
        /// The repeated name.
        name: String,
    },
    /// A label name or value that is not UTF-8.
    #[error("series {series} {labels}: label {what} is not valid UTF-8")]
    InvalidUtf8 {
        /// Index of the series in the request.
        series: usize,
        /// Its labels (invalid bytes shown as U+FFFD).
        labels: String,
        /// `name` or `value`.
        what: &'static str,
    },
    /// More labels than [`crate::Limits::max_labels_per_series`].
    #[error("series {series} {labels}: {count} labels, over the limit of {limit}")]
    TooManyLabels {
        /// Index of the series in the request.
        series: usize,
        /// Its labels.
        labels: String,
        /// Labels the series has.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A label name longer than [`crate::Limits::max_label_name_bytes`].
    #[error(
        "series {series} {labels}: label name {name:?} is {len} bytes, over the limit of {limit}"
    )]
    LabelNameTooLong {
        /// Index of the series in the request.
        series: usize,
        /// Its labels.
        labels: String,
        /// The name (shortened).
        name: String,
        /// Its length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// A label value (or the metric name) longer than its limit.
    #[error(
        "series {series} {labels}: the value of label {name:?} is {len} bytes, over the limit of {limit}"
    )]
    LabelValueTooLong {
        /// Index of the series in the request.
        series: usize,
        /// Its labels.
        labels: String,
        /// The label's name.
        name: String,
        /// The value's length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// A sample older than the newest stored sample of its series.
    #[error(
        "out of order sample: series {series} {labels}: timestamp {ts} is older than the series' newest stored sample at {newest}; nothing in this request was stored"
    )]
    OutOfOrder {
        /// Index of the series in the request.
        series: usize,
        /// Its labels.
        labels: String,
        /// The sample's timestamp (ms).
        ts: i64,
        /// The newest stored timestamp of the series (ms).
        newest: i64,
    },
    /// A sample at the timestamp of the newest stored sample, with another
    /// value.
    #[error(
        "duplicate sample for timestamp: series {series} {labels}: timestamp {ts} is already stored with value {stored}, this sample has {value}; nothing in this request was stored"
    )]
    Duplicate {
        /// Index of the series in the request.
        series: usize,
        /// Its labels.
        labels: String,
        /// The timestamp (ms).
        ts: i64,
        /// The value stored at `ts`.
        stored: f64,
        /// The value sent.
        value: f64,
    },
}

impl Error {
    /// The HTTP status a receiver answers with: 413 when the request is too
    /// large to be looked at, 400 for everything else (Prometheus answers
    /// 400 to bad input so that the sender drops the batch instead of
    /// retrying it forever).
    pub fn status(&self) -> u16 {
        match self {
            Error::DecompressedTooLarge { .. } => 413,
            _ => 400,
        }
    }

    /// A short, bounded code for counting rejections by reason
    /// (`whippet.intake.rejected` `reason` tag).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Snappy(_) => "bad_snappy",
            Error::DecompressedTooLarge { .. } => "too_large",
            Error::Protobuf { .. } => "bad_protobuf",
            Error::TooManySeries { .. } => "too_many_series",
            Error::TooManySamples { .. } => "too_many_samples",
            Error::MissingMetricName { .. } => "no_metric_name",
            Error::InvalidMetricName { .. } => "invalid_metric_name",
            Error::InvalidLabelName { .. } => "invalid_label_name",
            Error::DuplicateLabelName { .. } => "duplicate_label_name",
            Error::InvalidUtf8 { .. } => "invalid_utf8",
            Error::TooManyLabels { .. } => "too_many_labels",
            Error::LabelNameTooLong { .. } => "label_name_too_long",
            Error::LabelValueTooLong { .. } => "label_value_too_long",
            Error::OutOfOrder { .. } => "out_of_order",
            Error::Duplicate { .. } => "duplicate_sample",
        }
    }
}
