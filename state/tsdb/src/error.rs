//! The engine's error type and the reasons a point can be rejected.
//!
//! [`Error`] is what an operation returns when it cannot do its work at all
//! (I/O failure, corruption, bad configuration). [`RejectReason`] is what a
//! single point gets when the rest of its batch is stored: intake reports it
//! to the client and carries on.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::ids::{OrgId, SeriesId};
use crate::sketch::SketchError;
use crate::time::TimestampMs;

/// Result alias for the engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can make an engine operation fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O call failed. `op` says what the engine was doing.
    #[error("{op} {path}: {source}")]
    Io {
        /// What the engine was doing ("open WAL segment", "fsync part").
        op: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A file's bytes do not match what was written: a checksum, a length, a
    /// magic number or a structure is wrong at `offset`.
    #[error("corrupt file {file} at offset {offset}: {reason}")]
    Corruption {
        /// The damaged file.
        file: PathBuf,
        /// Byte offset of the damaged record, chunk or section.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A file was written by a format version this build cannot read.
    #[error("{file}: format version {found} is not supported (this build reads {supported})")]
    UnsupportedVersion {
        /// The file.
        file: PathBuf,
        /// The version found in its header.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// A previous fsync failed. The engine stops taking writes rather than
    /// retry: after a failed fsync the kernel may have dropped the dirty pages,
    /// so a retry that succeeds would claim durability it does not have.
    #[error(
        "writes are stopped after a failed fsync of {path}: {reason}; restart to recover from the WAL"
    )]
    WritesStopped {
        /// The file whose fsync failed.
        path: PathBuf,
        /// The error that fsync returned.
        reason: String,
    },
    /// The org already has its maximum number of active series.
    #[error(
        "org {org} has reached its limit of {limit} active series; new series are rejected until old ones go inactive or the limit (max_active_series_per_org) is raised"
    )]
    SeriesLimit {
        /// The org.
        org: OrgId,
        /// Its cap.
        limit: u64,
    },
    /// A series key the engine refuses (name or tags too long, too many tags).
    #[error("invalid series: {0}")]
    InvalidSeries(String),
    /// A series id that the catalog does not hold.
    #[error("unknown series id {0}")]
    UnknownSeries(SeriesId),
    /// A configuration value is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A sketch could not be decoded.
    #[error("sketch: {0}")]
    Sketch(#[from] SketchError),
    /// A broken invariant: a bug in the engine, not damage on disk and not
    /// bad input. Kept apart from [`Error::Corruption`] so that the two are
    /// never confused in logs or alerts.
    #[error("internal error (a bug): {0}")]
    Internal(String),
    /// The engine was closed, or a background task stopped after an error.
    #[error("the storage engine is closed")]
    Closed,
}

impl Error {
    /// Builds an [`Error::Io`].
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// Builds an [`Error::Corruption`].
    pub(crate) fn corrupt(
        file: impl Into<PathBuf>,
        offset: u64,
        reason: impl Into<String>,
    ) -> Self {
        Error::Corruption {
            file: file.into(),
            offset,
            reason: reason.into(),
        }
    }

    /// True for errors that mean stored bytes are damaged.
    pub fn is_corruption(&self) -> bool {
        matches!(self, Error::Corruption { .. })
    }
}

/// Why one point was not stored. The rest of its batch is unaffected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RejectReason {
    /// The timestamp is older than the org's retention.
    TooOld {
        /// The point's timestamp.
        ts: TimestampMs,
        /// The oldest timestamp accepted when the write happened.
        oldest_allowed: TimestampMs,
    },
    /// The timestamp is further in the future than `max_future_ms` allows.
    TooFarInFuture {
        /// The point's timestamp.
        ts: TimestampMs,
        /// The newest timestamp accepted when the write happened.
        newest_allowed: TimestampMs,
    },
    /// The series id is not in the catalog.
    UnknownSeries(SeriesId),
    /// A float written to a sketch series, or a sketch to a float series.
    WrongKind(SeriesId),
    /// The series would be a new active series over the org's cap.
    SeriesLimit {
        /// The org.
        org: OrgId,
        /// Its cap.
        limit: u64,
    },
}

impl RejectReason {
    /// A short, stable code for counters and logs (`too_old`, `too_far_in_future`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            RejectReason::TooOld { .. } => "too_old",
            RejectReason::TooFarInFuture { .. } => "too_far_in_future",
            RejectReason::UnknownSeries(_) => "unknown_series",
            RejectReason::WrongKind(_) => "wrong_kind",
            RejectReason::SeriesLimit { .. } => "series_limit",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectReason::TooOld { ts, oldest_allowed } => write!(
                f,
                "point timestamp {ts} ms is older than the retention period allows (oldest accepted: {oldest_allowed} ms)"
            ),
            RejectReason::TooFarInFuture { ts, newest_allowed } => write!(
                f,
                "point timestamp {ts} ms is too far in the future (newest accepted: {newest_allowed} ms)"
            ),
            RejectReason::UnknownSeries(id) => write!(f, "unknown series id {id}"),
            RejectReason::WrongKind(id) => write!(
                f,
                "series {id} stores another kind of value (float vs distribution)"
            ),
            RejectReason::SeriesLimit { org, limit } => write!(
                f,
                "org {org} has reached its limit of {limit} active series"
            ),
        }
    }
}
