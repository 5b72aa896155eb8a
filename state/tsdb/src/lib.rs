//! # whippet-tsdb: the time-series storage engine (state plane)
//!
//! ## What it owns
//! Everything between "these points were accepted" and "here are the points
//! of these series over this range":
//! - the data model (orgs, series keyed by metric name and tag set, metric
//!   types, float and sketch points; [`series`], [`sketch`]);
//! - the write-ahead log, with checksums, group commit and torn-tail repair
//!   ([`wal`]);
//! - the in-memory head, each series' points encoded as they arrive ([`head`]);
//! - immutable on-disk parts per org and day partition, merged in the
//!   background ([`block`], [`engine`]);
//! - the column codecs (decimal conversion, delta-of-delta, pco;
//!   [`codec`]);
//! - the series catalog and the tag index with its selectors ([`catalog`],
//!   [`index`]);
//! - retention, the active-series cap and backpressure;
//! - the read path with per-bucket aggregation pushed down
//!   ([`ReadView::aggregate`]), and cheap summaries that read no points:
//!   series grouped by a tag's values ([`Engine::tag_groups`]) and the time
//!   of each series' newest point ([`Engine::newest_points`]).
//!
//! ## What it must never do
//! - Parse wire protocols or query languages: intake and the query engines
//!   turn those into [`FloatPoint`]s, [`SketchPoint`]s and [`Selector`]s.
//! - Normalise names or tags: it stores what it is given, byte for byte.
//! - Acknowledge a write before its WAL record has been handed to the kernel
//!   (and synced, under `FsyncPolicy::Always`).
//! - Modify a part file after it is renamed into place.
//! - Return data of one org to a reader of another.
//!
//! ## Compression (why these codecs)
//! The target is at most 1.0 byte per point after merges on a host fleet
//! (VictoriaMetrics 1.79 needs about 1.5). Timestamps of a scraped or agent
//! series are regular, so a chunk stores the first timestamp and the step
//! (a few bytes for thousands of points); irregular ones use delta-of-delta
//! varints or pco. Values are converted to exact decimal integers where
//! possible (`42.37` → `4237`, exponent 2), and the integers are compressed
//! with pco, which picks the delta order per chunk and entropy-codes with
//! tANS: on the fleet data set this measured 12% smaller than varint deltas
//! under zstd, and it decodes at more than 150 M values/s. Values that are
//! not short decimals keep their exact bits (pco over f64, or raw).
//!
//! ## Dependencies
//! `pco` (numeric compression: the reason above), `memmap2` (parts are read
//! through maps), `roaring` (postings), `zstd` (the catalog's snapshot:
//! general-purpose compression of strings and symbol indexes, 71 times
//! smaller than the log on a fleet; already in the workspace for the
//! Datadog intake, built with no default features), `crc32fast`,
//! `parking_lot`, `thiserror`, `tracing`. The DDSketch is hand-written
//! ([`sketch`]) to match the Datadog Agent's key mapping bit for bit.
//!
//! ## Layout of a data directory
//! ```text
//! LOCK                      exclusive lock while an engine has it open
//! catalog.wcat              series definitions (docs/format/catalog.md)
//! catalog.wcat.tmp          a catalog compaction's new file, until renamed
//! wal/<n>.wal               WAL segments (docs/format/wal.md)
//! blocks/org-<org>/<YYYYMMDD>/<seq_lo>-<seq_hi>.wblk   parts (docs/format/block.md)
//! ```

pub mod block;
pub mod catalog;
pub mod codec;
pub mod config;
pub mod engine;
pub mod error;
pub mod head;
pub mod ids;
pub mod index;
pub mod point;
pub mod runs;
pub mod series;
pub mod sketch;
pub mod symbols;
pub mod time;
pub mod wal;

pub use config::{EngineConfig, FsyncPolicy};
pub use engine::{
    Agg, Engine, OpenReport, ReadBuffers, ReadView, SeriesMeta, StorageStats, VerifyReport,
    WriteOutcome,
};
pub use error::{Error, RejectReason, Result};
pub use ids::{OrgId, PartSeq, SeriesId};
pub use index::{GroupLimits, Selector, TagGroup};
pub use point::{FloatPoint, SketchPoint};
pub use series::{MetricType, SeriesKey, TagSet, ValueKind};
pub use sketch::Sketch;
pub use time::{Clock, PartitionId, TimestampMs, parse_duration_ms};
