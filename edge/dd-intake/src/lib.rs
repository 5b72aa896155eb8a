//! Pure parsers for Datadog's HTTP metric intake: bytes in, rows out.
//!
//! # What this crate owns
//!
//! * [`body::decode_body`]: `Content-Encoding` (identity, gzip, deflate/zlib,
//!   zstd, `zstd1`) with a hard bound on the decompressed size.
//! * One parser per intake body (spec §2, §4, §5):
//!
//!   | endpoint | `Content-Type` | parser | limits ([`limits`]) |
//!   |---|---|---|---|
//!   | `POST /api/v1/series` | `application/json`, `text/json` | [`parse_series_v1`] | `V1_*` |
//!   | `POST /api/v1/distribution_points` | `application/json`, `text/json` | [`parse_distribution_points`] | `V1_*` |
//!   | `POST /api/v2/series` | `application/json` | [`parse_series_v2_json`] | `V2_*` |
//!   | `POST /api/v2/series` | `application/x-protobuf` | [`parse_series_v2_protobuf`] | `V2_*` |
//!   | `POST /api/beta/sketches` | `application/x-protobuf` | [`parse_sketches_protobuf`] | `SKETCHES_*` |
//!   | `POST /api/v1/check_run` | `application/json`, `text/json` | [`parse_check_runs`] | `V1_*` |
//!   | `POST /api/v1/events` | `application/json`, `text/json` | [`parse_event_v1`] | `V1_*` |
//!   | `POST /api/v2/events` | `application/json` | [`parse_event_v2`] | `V1_*` |
//!
//!   The media type decides the parser (compare it case-insensitively and
//!   without parameters such as `; charset=utf-8`). The Content-Type is the
//!   caller's business: the parsers look only at the bytes.
//!
//! * Datadog's name and tag normalisation ([`normalize`]) and its size
//!   limits ([`limits`]).
//! * The Agent's protobuf messages, hand-written for prost ([`proto`]).
//!
//! # What it must never do
//!
//! * No I/O, no HTTP, no storage, no clock, no logging, no global state:
//!   the HTTP layer reads the body, checks keys and limits, calls a parser,
//!   stores the rows and answers.
//! * Never panic on input. Every parser is fuzzed (`fuzz/`) and property-
//!   tested on arbitrary bytes.
//! * Bounded memory. [`body::decode_body`] never allocates more output than
//!   its limit. The parsers allocate in proportion to the decoded body: the
//!   JSON parsers stream each series straight into its row (no DOM), the
//!   protobuf parsers decode one series at a time; at most
//!   [`Parsed::MAX_REJECTED_DETAILS`] rejection messages are kept.
//!
//! # Whole request (400) or one series (skipped)?
//!
//! Datadog refuses a request only when it cannot read it; a series it
//! cannot use is dropped and the rest is stored (spec §2.2, §2.4: "Invalid
//! JSON or missing `series` → 400"; "partial problems MAY be reported ...
//! with status 202"). We follow that:
//!
//! **400 for the whole request** ([`IntakeError`]):
//! * the body is not valid JSON (syntax, truncation, trailing bytes, nesting
//!   deeper than 128, invalid UTF-8, a number that overflows a double such
//!   as `1e999`) or not a valid protobuf message (truncated, bad varint,
//!   wrong wire type, a length past the end);
//! * the top level is not an object (series bodies), not an object or array
//!   (check runs);
//! * `series` is absent, not an array (`null` included) or given twice;
//! * events: anything wrong (one event per request, see [`events`]).
//!
//! **Skip one series** (reported in [`Parsed::rejected`], request still
//! 202), with a [`RejectCode`]:
//! * the element of `series` is not an object → `BadField`;
//! * `metric` absent, null or `""` → `MissingMetricName`; not a string →
//!   `BadField`; not starting with a letter → `InvalidMetricName`;
//! * `interval` not a number of seconds in `0..=u32::MAX` → `BadField`;
//! * `type` unknown (v1 strings other than gauge/count/rate/"", v2 codes
//!   other than 0–3) or of the wrong JSON type → `BadType`;
//! * `points` absent, null or empty → `NoPoints`; not an array → `BadField`;
//! * **any** point that is not `[ts, value]` / `{timestamp, value}` /
//!   `[ts, [values]]`, whose timestamp is not a number of seconds that fits
//!   in `i64` milliseconds, or whose value is not a number → `BadPoint`; a
//!   NaN or infinite value (protobuf) → `NonFiniteValue`. The whole series
//!   is skipped, not just the point: a series with a malformed point comes
//!   from a broken client, and half of it would look like real data;
//! * `tags` not an array of strings, `host`/`device` not strings, a
//!   resource without a `type` → `BadField`;
//! * an inconsistent Agent sketch → `BadSketch`; a check run with a bad
//!   `status` → `BadStatus`.
//!
//! Unknown fields are ignored everywhere. Time windows (Datadog drops points
//! more than 1 h old or 10 min ahead) are not applied here: that needs the
//! clock and is the storage layer's policy.
//!
//! # Dependencies
//!
//! `serde`/`serde_json` (streaming visitors over borrowed input), `prost`
//! (derive only: the messages are written by hand in [`proto`], no
//! `protoc`), `flate2` and `zstd` (decompression), `thiserror`, and
//! `whippet-tsdb` for [`whippet_tsdb::Sketch`] and
//! [`whippet_tsdb::MetricType`], the types the rows are stored as.

pub mod body;
mod check_runs;
mod error;
pub mod events;
mod json;
pub mod limits;
pub mod normalize;
mod parsed;
pub mod proto;
mod protobuf;
mod series;

pub use check_runs::{CheckRun, parse_check_runs};
pub use error::IntakeError;
pub use events::{EventIn, parse_event_v1, parse_event_v2};
pub use parsed::{MetricRow, Parsed, RejectCode, RejectCounts, Rejected, SketchRow};
pub use protobuf::{
    CachedSeries, NewSeries, SeriesIdent, Target, parse_series_v2_protobuf,
    parse_series_v2_protobuf_cached, parse_sketches_protobuf,
};
pub use series::{parse_distribution_points, parse_series_v1, parse_series_v2_json};
