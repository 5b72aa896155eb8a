//! The Agent's protobuf bodies: `MetricPayload` (`POST /api/v2/series`,
//! `application/x-protobuf`) and `SketchPayload` (`POST /api/beta/sketches`).
//!
//! The top-level message is walked by hand, one repeated entry at a time,
//! and each entry is decoded and turned into its row before the next is
//! read. So at any moment we hold the rows built so far plus *one* decoded
//! series, not a decoded copy of the whole payload (prost's structs for a
//! payload of empty series would be ~100× the body).
//!
//! A `MetricSeries` (the hot path: every Agent flush is one) is decoded by
//! hand into [`RawSeries`], slices borrowed from the body in buffers reused
//! from series to series, with prost's semantics (last value wins for a
//! scalar field, repeated fields accumulate, unknown fields are skipped).
//! prost's owned decode allocated every name, tag, resource and point list
//! and was, with the allocator's share, about a sixth of the server's CPU
//! on the side-by-side protobuf ingest (`whippet-intake-bench --protobuf`,
//! perf, 2026-11-26). Sketches, rarer and heavier per entry, keep prost.
//!
//! Whole-request errors (400, [`IntakeError::InvalidProtobuf`]): a truncated
//! or over-long varint, a length running past the end, a group wire type, a
//! wire type other than length-delimited for the repeated field, and any
//! decode error inside one entry (the message names the entry and field).
//! Per-series problems are skipped as in the JSON parsers (crate doc).
//! Unknown top-level fields are skipped, as protobuf requires.

use prost::Message;
use whippet_tsdb::{MetricType, Sketch};

use crate::json::Num;
use crate::proto::{Metadata, sketch_payload};
use crate::series::{bad_v2_type, check_point, v2_type_code};
use crate::{IntakeError, MetricRow, Parsed, RejectCode, SketchRow, normalize};

/// Parses an Agent `MetricPayload` (already decoded from its
/// `Content-Encoding`, see [`decode_body`](crate::body::decode_body)).
///
/// Type codes: 0 (unspecified) and 3 → gauge, 1 → count, 2 → rate, with
/// `interval` seconds; other codes skip the series ([`RejectCode::BadType`]).
/// Resources become tags (`host:<name>` for type `host`, `<type>:<name>`
/// otherwise). `unit`, `source_type_name` and `metadata` are read but not
/// returned. An empty body is an empty payload (no rows, no error).
pub fn parse_series_v2_protobuf(body: &[u8]) -> Result<Parsed<MetricRow>, IntakeError> {
    let mut out = Parsed::new();
    let mut raw = RawSeries::default();
    for_each_entry(body, 1, "series", |index, bytes| {
        raw.decode(bytes).map_err(|e| match e {
            IntakeError::InvalidProtobuf(m) => {
                IntakeError::InvalidProtobuf(format!("series[{index}]: {m}"))
            }
            e => e,
        })?;
        series_row(&raw, index, &mut out);
        Ok(())
    })?;
    Ok(out)
}

/// One `MetricSeries`, its byte fields borrowed from the body. Field
/// numbers as in `proto.rs`; `unit` (6) and `source_type_name` (7) are
/// checked for their wire type and skipped, `metadata` (9) is validated
/// with prost and dropped (the parser returns none of them).
#[derive(Default)]
struct RawSeries<'a> {
    /// `resources` (1): (type, name).
    resources: Vec<(&'a [u8], &'a [u8])>,
    /// `metric` (2).
    metric: &'a [u8],
    /// `tags` (3).
    tags: Vec<&'a [u8]>,
    /// `points` (4): (timestamp, value) as sent.
    points: Vec<(i64, f64)>,
    /// `type` (5), an int32 enum: the varint truncated, as prost does.
    mtype: i32,
    /// `interval` (8).
    interval: i64,
    /// Every field but the points as sent (key and value bytes, in body
    /// order): what the series' row is a function of, apart from its
    /// points, and a little more (`unit`, `metadata`...). See
    /// [`SeriesIdent`].
    ident: Vec<u8>,
}

impl<'a> RawSeries<'a> {
    /// Decodes one message into `self`, reusing its buffers.
    fn decode(&mut self, buf: &'a [u8]) -> Result<(), IntakeError> {
        self.resources.clear();
        self.metric = &[];
        self.tags.clear();
        self.points.clear();
        self.mtype = 0;
        self.interval = 0;
        self.ident.clear();
        // Start of the run of fields (other than points) not yet copied to
        // `ident`: runs are copied whole, so the Agent's layout (everything
        // else around one block of points) costs two copies.
        let mut run_from = Some(0);
        let mut pos = 0;
        while pos < buf.len() {
            let field_at = pos;
            let (field, wire) = read_key(buf, &mut pos)?;
            if field == 4 {
                if let Some(from) = run_from.take() {
                    self.ident.extend_from_slice(&buf[from..field_at]);
                }
            } else if run_from.is_none() {
                run_from = Some(field_at);
            }
            match (field, wire) {
                (1, WIRE_LEN) => {
                    let m = read_len(buf, &mut pos, "resources")?;
                    self.resources.push(decode_resource(m)?);
                }
                (2, WIRE_LEN) => self.metric = read_len(buf, &mut pos, "metric")?,
                (3, WIRE_LEN) => self.tags.push(read_len(buf, &mut pos, "tags")?),
                (4, WIRE_LEN) => {
                    let m = read_len(buf, &mut pos, "points")?;
                    self.points.push(decode_point(m)?);
                }
                (5, WIRE_VARINT) => self.mtype = read_varint(buf, &mut pos)? as i32,
                (6 | 7, WIRE_LEN) => {
                    read_len(buf, &mut pos, "unit")?;
                }
                (8, WIRE_VARINT) => self.interval = read_varint(buf, &mut pos)? as i64,
                (9, WIRE_LEN) => {
                    let m = read_len(buf, &mut pos, "metadata")?;
                    Metadata::decode(m)
                        .map_err(|e| IntakeError::InvalidProtobuf(format!("metadata: {e}")))?;
                }
                (1..=4 | 6 | 7 | 9, w) => return Err(wrong_wire(field, w, WIRE_LEN)),
                (5 | 8, w) => return Err(wrong_wire(field, w, WIRE_VARINT)),
                (_, w) => skip_field(buf, &mut pos, field, w)?,
            }
        }
        if let Some(from) = run_from {
            self.ident.extend_from_slice(&buf[from..]);
        }
        Ok(())
    }
}

/// A `Resource`: (type (1), name (2)).
fn decode_resource(buf: &[u8]) -> Result<(&[u8], &[u8]), IntakeError> {
    let (mut ty, mut name): (&[u8], &[u8]) = (&[], &[]);
    let mut pos = 0;
    while pos < buf.len() {
        match read_key(buf, &mut pos)? {
            (1, WIRE_LEN) => ty = read_len(buf, &mut pos, "resources.type")?,
            (2, WIRE_LEN) => name = read_len(buf, &mut pos, "resources.name")?,
            (f @ (1 | 2), w) => {
                return Err(in_field("resources", wrong_wire(f, w, WIRE_LEN)));
            }
            (f, w) => skip_field(buf, &mut pos, f, w)?,
        }
    }
    Ok((ty, name))
}

/// A `MetricPoint`: (timestamp (2, int64), value (1, double)).
#[inline]
fn decode_point(buf: &[u8]) -> Result<(i64, f64), IntakeError> {
    // The Agent writes the value, then the timestamp, and nothing else:
    // that layout is read directly. Anything else (fields repeated, in
    // another order, unknown) takes the general path.
    if buf.len() >= 11 && buf[0] == 0x09 && buf[9] == 0x10 {
        let mut pos = 10;
        if let Ok(ts) = read_varint(buf, &mut pos)
            && pos == buf.len()
        {
            let value = f64::from_le_bytes(buf[1..9].try_into().expect("8 bytes"));
            return Ok((ts as i64, value));
        }
    }
    decode_point_general(buf)
}

fn decode_point_general(buf: &[u8]) -> Result<(i64, f64), IntakeError> {
    let (mut ts, mut value) = (0i64, 0.0f64);
    let mut pos = 0;
    while pos < buf.len() {
        match read_key(buf, &mut pos)? {
            (1, WIRE_FIXED64) => {
                let b = read_fixed::<8>(buf, &mut pos, "points.value")?;
                value = f64::from_le_bytes(b);
            }
            (2, WIRE_VARINT) => ts = read_varint(buf, &mut pos)? as i64,
            (1, w) => return Err(in_field("points", wrong_wire(1, w, WIRE_FIXED64))),
            (2, w) => return Err(in_field("points", wrong_wire(2, w, WIRE_VARINT))),
            (f, w) => skip_field(buf, &mut pos, f, w)?,
        }
    }
    Ok((ts, value))
}

/// Reads a field key; refuses field number 0 and numbers above the maximum.
fn read_key(buf: &[u8], pos: &mut usize) -> Result<(u64, u64), IntakeError> {
    let at = *pos;
    let key = read_varint(buf, pos)?;
    let (number, wire) = (key >> 3, key & 7);
    if number == 0 || number > MAX_FIELD_NUMBER {
        return Err(IntakeError::InvalidProtobuf(format!(
            "invalid field number {number} at byte {at}"
        )));
    }
    Ok((number, wire))
}

/// Reads a length prefix and returns the bytes it covers.
#[inline]
fn read_len<'a>(
    buf: &'a [u8],
    pos: &mut usize,
    what: impl std::fmt::Display,
) -> Result<&'a [u8], IntakeError> {
    let len = read_varint(buf, pos)?;
    let start = *pos;
    skip(buf, pos, len, what)?;
    Ok(&buf[start..*pos])
}

/// Reads `N` bytes.
fn read_fixed<const N: usize>(
    buf: &[u8],
    pos: &mut usize,
    what: &str,
) -> Result<[u8; N], IntakeError> {
    let start = *pos;
    skip(buf, pos, N as u64, what)?;
    Ok(buf[start..*pos].try_into().expect("N bytes"))
}

/// Skips an unknown field of wire type `wire`.
fn skip_field(buf: &[u8], pos: &mut usize, field: u64, wire: u64) -> Result<(), IntakeError> {
    let what = format_args!("field {field}");
    match wire {
        WIRE_VARINT => read_varint(buf, pos).map(drop),
        WIRE_FIXED64 => skip(buf, pos, 8, what),
        WIRE_FIXED32 => skip(buf, pos, 4, what),
        WIRE_LEN => read_len(buf, pos, what).map(drop),
        WIRE_START_GROUP | WIRE_END_GROUP => Err(IntakeError::InvalidProtobuf(format!(
            "unsupported group wire type {wire} for field {field}"
        ))),
        _ => Err(IntakeError::InvalidProtobuf(format!(
            "invalid wire type {wire} for field {field}"
        ))),
    }
}

fn wrong_wire(field: u64, got: u64, expected: u64) -> IntakeError {
    IntakeError::InvalidProtobuf(format!(
        "field {field} has wire type {got}, expected {expected}"
    ))
}

/// Prefixes an error's message with the message it happened in.
fn in_field(name: &str, e: IntakeError) -> IntakeError {
    match e {
        IntakeError::InvalidProtobuf(m) => IntakeError::InvalidProtobuf(format!("{name}: {m}")),
        e => e,
    }
}

/// Parses an Agent `SketchPayload`: each `Dogsketch` becomes one point,
/// built with [`Sketch::from_agent`] from its `cnt`, `min`, `max`, `sum`,
/// `k` and `n` (`avg` is derived and ignored). A sketch series with no
/// dogsketches (for instance only the legacy `distributions`) is skipped
/// ([`RejectCode::NoPoints`]); an inconsistent dogsketch skips its series
/// ([`RejectCode::BadSketch`]). `host` becomes the tag `host:<name>`.
pub fn parse_sketches_protobuf(body: &[u8]) -> Result<Parsed<SketchRow>, IntakeError> {
    let mut out = Parsed::new();
    for_each_entry(body, 1, "sketches", |index, bytes| {
        let s = sketch_payload::Sketch::decode(bytes)
            .map_err(|e| IntakeError::InvalidProtobuf(format!("sketches[{index}]: {e}")))?;
        sketch_row(s, index, &mut out);
        Ok(())
    })?;
    Ok(out)
}

/// Protobuf wire types (the low three bits of a field key).
const WIRE_VARINT: u64 = 0;
const WIRE_FIXED64: u64 = 1;
const WIRE_LEN: u64 = 2;
const WIRE_START_GROUP: u64 = 3;
const WIRE_END_GROUP: u64 = 4;
const WIRE_FIXED32: u64 = 5;

/// Largest field number protobuf allows (2^29 - 1).
const MAX_FIELD_NUMBER: u64 = (1 << 29) - 1;

/// Reads a base-128 varint at `*pos`, at most 10 bytes.
#[inline]
fn read_varint(body: &[u8], pos: &mut usize) -> Result<u64, IntakeError> {
    // Keys and lengths are almost always one byte.
    if let Some(&b) = body.get(*pos)
        && b < 0x80
    {
        *pos += 1;
        return Ok(u64::from(b));
    }
    read_varint_long(body, pos)
}

fn read_varint_long(body: &[u8], pos: &mut usize) -> Result<u64, IntakeError> {
    let start = *pos;
    // With eight bytes at hand, a varint that ends within them (every
    // timestamp) is decoded without a loop: find the first byte with its
    // high bit clear, keep the bytes up to it, and squeeze out the
    // continuation bits.
    if let Some(word) = body.get(start..start + 8) {
        let x = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        let stops = !x & 0x8080_8080_8080_8080;
        if stops != 0 {
            let len = stops.trailing_zeros() as usize / 8 + 1;
            let x = if len == 8 {
                x
            } else {
                x & ((1u64 << (8 * len)) - 1)
            };
            let mut v = 0u64;
            for i in 0..8 {
                v |= ((x >> (8 * i)) & 0x7f) << (7 * i);
            }
            *pos = start + len;
            return Ok(v);
        }
    }
    let mut v: u64 = 0;
    for i in 0..10 {
        let Some(&b) = body.get(start + i) else {
            return Err(IntakeError::InvalidProtobuf(format!(
                "truncated varint at byte {start}"
            )));
        };
        // The tenth byte may only carry the top bit of a u64.
        if i == 9 && b > 1 {
            break;
        }
        v |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            *pos = start + i + 1;
            return Ok(v);
        }
    }
    Err(IntakeError::InvalidProtobuf(format!(
        "invalid varint at byte {start}"
    )))
}

/// Advances `*pos` by `n` bytes, or fails if fewer remain.
/// `what` names the field in the error; it is only formatted on error (a
/// `format_args!` costs nothing until then).
fn skip(
    body: &[u8],
    pos: &mut usize,
    n: u64,
    what: impl std::fmt::Display,
) -> Result<(), IntakeError> {
    let remaining = body.len() - *pos;
    match usize::try_from(n) {
        Ok(n) if n <= remaining => {
            *pos += n;
            Ok(())
        }
        _ => Err(IntakeError::InvalidProtobuf(format!(
            "{what} at byte {pos} needs {n} bytes but only {remaining} remain",
            pos = *pos
        ))),
    }
}

/// Walks the top-level fields of a message, calling `f(index, bytes)` for
/// each occurrence of the length-delimited field `field` (named `name` in
/// messages) and skipping every other field.
fn for_each_entry<'a>(
    body: &'a [u8],
    field: u64,
    name: &str,
    mut f: impl FnMut(usize, &'a [u8]) -> Result<(), IntakeError>,
) -> Result<(), IntakeError> {
    let mut pos = 0;
    let mut index = 0;
    while pos < body.len() {
        let key_at = pos;
        let key = read_varint(body, &mut pos)?;
        let (number, wire) = (key >> 3, key & 7);
        if number == 0 || number > MAX_FIELD_NUMBER {
            return Err(IntakeError::InvalidProtobuf(format!(
                "invalid field number {number} at byte {key_at}"
            )));
        }
        match wire {
            WIRE_LEN => {
                let len = read_varint(body, &mut pos)?;
                let start = pos;
                skip(body, &mut pos, len, format_args!("field {number}"))?;
                if number == field {
                    f(index, &body[start..pos])?;
                    index += 1;
                }
            }
            _ if number == field => {
                return Err(IntakeError::InvalidProtobuf(format!(
                    "field {field} (`{name}`) at byte {key_at} has wire type {wire}, expected 2 (length-delimited)"
                )));
            }
            WIRE_VARINT => {
                read_varint(body, &mut pos)?;
            }
            WIRE_FIXED64 => skip(body, &mut pos, 8, format_args!("field {number}"))?,
            WIRE_FIXED32 => skip(body, &mut pos, 4, format_args!("field {number}"))?,
            WIRE_START_GROUP | WIRE_END_GROUP => {
                return Err(IntakeError::InvalidProtobuf(format!(
                    "unsupported group wire type {wire} for field {number} at byte {key_at}"
                )));
            }
            _ => {
                return Err(IntakeError::InvalidProtobuf(format!(
                    "invalid wire type {wire} for field {number} at byte {key_at}"
                )));
            }
        }
    }
    Ok(())
}

/// Bytes of a `string` field as text; invalid UTF-8 becomes U+FFFD.
fn text(v: Vec<u8>) -> String {
    String::from_utf8(v).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// [`text`] of borrowed bytes.
fn text_of(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

/// `<list>[i]`, with the metric name once known (cut to 64 characters).
fn at(list: &str, index: usize, metric: Option<&str>) -> String {
    match metric {
        None => format!("{list}[{index}]"),
        Some(m) => {
            let shown: String = m.chars().take(64).collect();
            format!("{list}[{index}] \"{shown}\"")
        }
    }
}

/// A normalised metric name, or why the series is skipped.
fn metric_of(raw: &[u8]) -> Result<String, (RejectCode, String)> {
    if raw.is_empty() {
        return Err((
            RejectCode::MissingMetricName,
            "missing metric name".to_owned(),
        ));
    }
    normalize::metric_name_owned(text_of(raw)).map_err(|e| {
        // Shown as sent (cut), only when refused: a copy per accepted
        // series was one of the allocations of the hot path.
        let shown: String = String::from_utf8_lossy(raw).chars().take(64).collect();
        (RejectCode::InvalidMetricName, format!("{e}: \"{shown}\""))
    })
}

/// The series' tags, normalised, with room for `extra` more (the
/// resources' tags), so that adding them does not grow the vector again.
fn tags_of<'a>(raw: impl ExactSizeIterator<Item = &'a [u8]>, extra: usize) -> Vec<String> {
    let mut tags = Vec::with_capacity(raw.len() + extra);
    tags.extend(raw.filter_map(|t| normalize::tag_owned(text_of(t))));
    tags
}

/// The checks, in order: metric name, interval, type, points, resources.
/// Checks a series' points and appends them to `out` (as `(ms, value)`);
/// on the first bad point, or none at all, nothing is appended and the
/// series is to be skipped with the returned reason.
fn push_points(s: &RawSeries<'_>, out: &mut Vec<(i64, f64)>) -> Result<(), (RejectCode, String)> {
    if s.points.is_empty() {
        return Err((RejectCode::NoPoints, "no points".to_owned()));
    }
    let start = out.len();
    out.reserve(s.points.len());
    for (i, &(ts, value)) in s.points.iter().enumerate() {
        match check_point(Num::I(ts), value) {
            Ok(p) => out.push(p),
            Err(e) => {
                out.truncate(start);
                return Err((e.code(), format!("points[{i}]: {e}")));
            }
        }
    }
    Ok(())
}

/// A series' metric type, from `type` and `interval`, checked.
fn mtype_of(s: &RawSeries<'_>) -> Result<MetricType, (RejectCode, String)> {
    let interval_secs = u32::try_from(s.interval).map_err(|_| {
        (
            RejectCode::BadField,
            format!(
                "`interval` {} is not a number of seconds from 0 to {}",
                s.interval,
                u32::MAX
            ),
        )
    })?;
    v2_type_code(i64::from(s.mtype), interval_secs).ok_or_else(|| bad_v2_type(s.mtype))
}

/// A series' tags: the sent tags, then one per resource, checked.
fn series_tags(s: &RawSeries<'_>) -> Result<Vec<String>, (RejectCode, String)> {
    let mut tags = tags_of(s.tags.iter().copied(), s.resources.len());
    for (i, &(ty, name)) in s.resources.iter().enumerate() {
        if ty.is_empty() {
            return Err((
                RejectCode::BadField,
                format!("resources[{i}]: missing `type`"),
            ));
        }
        tags.extend(normalize::key_value_tag(
            &String::from_utf8_lossy(ty),
            &String::from_utf8_lossy(name),
        ));
    }
    Ok(tags)
}

/// Checks the parts of a series other than its metric name, in this order
/// (the first failure names the rejection): `interval`, `type`, points,
/// resources. The points go to `points` (nothing when it fails).
fn checked_series(
    s: &RawSeries<'_>,
    points: &mut Vec<(i64, f64)>,
) -> Result<(MetricType, Vec<String>), (RejectCode, String)> {
    let mtype = mtype_of(s)?;
    let start = points.len();
    push_points(s, points)?;
    match series_tags(s) {
        Ok(tags) => Ok((mtype, tags)),
        Err(e) => {
            points.truncate(start);
            Err(e)
        }
    }
}

/// Turns one decoded series into a row of `out`, or a rejection: the
/// metric name is checked first, then [`checked_series`].
fn series_row(s: &RawSeries<'_>, index: usize, out: &mut Parsed<MetricRow>) {
    let metric = match metric_of(s.metric) {
        Ok(m) => m,
        Err((code, msg)) => {
            return out.reject(code, || format!("{}: {msg}", at("series", index, None)));
        }
    };
    let mut points = Vec::new();
    let checked = checked_series(s, &mut points).map(|(mtype, tags)| (mtype, points, tags));
    match checked {
        Ok((mtype, points, tags)) => out.rows.push(MetricRow {
            metric,
            tags,
            mtype,
            points,
        }),
        Err((code, msg)) => out.reject(code, || {
            format!("{}: {msg}", at("series", index, Some(&metric)))
        }),
    }
}

/// A 128-bit digest (XXH3-128) of the bytes a `MetricSeries` carries apart
/// from its points: every other field, keys included, in the order sent.
/// Everything [`parse_series_v2_protobuf`] makes of a series except its
/// points is a function of these bytes, so two series with the same digest
/// become the same row apart from their points, whatever the normalisation
/// does. (The converse does not hold: the same series sent with its tags in
/// another order, or another `unit`, has another digest, and is only looked
/// up the long way.)
///
/// The digest stands for the bytes: two different identities with the same
/// 128-bit digest would be taken for one series. For a million series the
/// chance that any two collide is about 2^-89; keeping the bytes instead
/// would cost about seven times the memory per series.
pub type SeriesIdent = u128;

/// Where the points of one accepted series of a [`CachedSeries`] go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<K> {
    /// A series the caller's cache knew: what its lookup returned.
    Known(K),
    /// A series it did not know: `CachedSeries::new_series[i]`.
    New(usize),
}

/// A series [`parse_series_v2_protobuf_cached`] had to normalise: its row
/// without the points, and the digest to remember it by.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSeries {
    /// Normalised metric name (as [`MetricRow::metric`]).
    pub metric: String,
    /// Normalised tags (as [`MetricRow::tags`]).
    pub tags: Vec<String>,
    /// Metric type (as [`MetricRow::mtype`]).
    pub mtype: MetricType,
    /// The digest of its identity bytes.
    pub ident: SeriesIdent,
}

/// A `MetricPayload` parsed against the caller's cache of known series.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedSeries<K> {
    /// The series that had to be normalised; their points are in `points`
    /// like every other's. Its rejections are the payload's rejections.
    pub new_series: Parsed<NewSeries>,
    /// Every accepted series in body order: where its points go, and how
    /// many of `points` are its (each series' points follow the previous
    /// series' points).
    pub runs: Vec<(Target<K>, usize)>,
    /// `(timestamp in milliseconds, value)` of every accepted series, as in
    /// [`MetricRow::points`].
    pub points: Vec<(i64, f64)>,
}

impl<K> CachedSeries<K> {
    /// The rows [`parse_series_v2_protobuf`] returns for the same body,
    /// given the name, tags and type each known series stands for. For
    /// tests and fuzzing: the writer never builds rows.
    pub fn to_rows(
        &self,
        row_of: impl Fn(&K) -> (String, Vec<String>, MetricType),
    ) -> Vec<MetricRow> {
        let mut at = 0;
        self.runs
            .iter()
            .map(|(target, n)| {
                let points = self.points[at..at + n].to_vec();
                at += n;
                let (metric, tags, mtype) = match target {
                    Target::Known(k) => row_of(k),
                    Target::New(i) => {
                        let s = &self.new_series.rows[*i];
                        (s.metric.clone(), s.tags.clone(), s.mtype)
                    }
                };
                MetricRow {
                    metric,
                    tags,
                    mtype,
                    points,
                }
            })
            .collect()
    }
}

/// [`parse_series_v2_protobuf`] for callers that cache what a series
/// resolves to: for each series it first asks `known` about the series'
/// [`SeriesIdent`]; a known series skips its name and tag normalisation,
/// the most expensive part of a parse, and only has its points checked.
///
/// The result holds the same series, points and rejections as
/// [`parse_series_v2_protobuf`] would (as long as `known` only knows
/// digests of series that that parser accepted), in another shape.
pub fn parse_series_v2_protobuf_cached<K: Copy>(
    body: &[u8],
    mut known: impl FnMut(SeriesIdent) -> Option<K>,
) -> Result<CachedSeries<K>, IntakeError> {
    let mut out = CachedSeries {
        new_series: Parsed::new(),
        runs: Vec::new(),
        points: Vec::new(),
    };
    let mut raw = RawSeries::default();
    for_each_entry(body, 1, "series", |index, bytes| {
        raw.decode(bytes).map_err(|e| match e {
            IntakeError::InvalidProtobuf(m) => {
                IntakeError::InvalidProtobuf(format!("series[{index}]: {m}"))
            }
            e => e,
        })?;
        let ident = xxhash_rust::xxh3::xxh3_128(&raw.ident);
        let before = out.points.len();
        if let Some(k) = known(ident) {
            // The identity bytes passed every check but the points' before.
            match push_points(&raw, &mut out.points) {
                Ok(()) => out.runs.push((Target::Known(k), out.points.len() - before)),
                Err((code, msg)) => out.new_series.reject(code, || {
                    // Named as the plain parse names it: normalised.
                    let metric = metric_of(raw.metric).unwrap_or_else(|_| text_of(raw.metric));
                    format!("{}: {msg}", at("series", index, Some(&metric)))
                }),
            }
            return Ok(());
        }
        let metric = match metric_of(raw.metric) {
            Ok(m) => m,
            Err((code, msg)) => {
                out.new_series
                    .reject(code, || format!("{}: {msg}", at("series", index, None)));
                return Ok(());
            }
        };
        match checked_series(&raw, &mut out.points) {
            Ok((mtype, tags)) => {
                let i = out.new_series.rows.len();
                out.new_series.rows.push(NewSeries {
                    metric,
                    tags,
                    mtype,
                    ident,
                });
                out.runs.push((Target::New(i), out.points.len() - before));
            }
            Err((code, msg)) => out.new_series.reject(code, || {
                format!("{}: {msg}", at("series", index, Some(&metric)))
            }),
        }
        Ok(())
    })?;
    Ok(out)
}

fn sketch_row(s: sketch_payload::Sketch, index: usize, out: &mut Parsed<SketchRow>) {
    let metric = match metric_of(&s.metric) {
        Ok(m) => m,
        Err((code, msg)) => {
            return out.reject(code, || format!("{}: {msg}", at("sketches", index, None)));
        }
    };
    let checked = (|| {
        if s.dogsketches.is_empty() {
            let msg = if s.distributions.is_empty() {
                "no dogsketches"
            } else {
                "no dogsketches (legacy `distributions` are not supported)"
            };
            return Err((RejectCode::NoPoints, msg.to_owned()));
        }
        let points = s
            .dogsketches
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let ms = Num::I(d.ts).secs_to_ms().ok_or_else(|| {
                    (
                        RejectCode::BadPoint,
                        format!("dogsketches[{i}]: timestamp out of range"),
                    )
                })?;
                let cnt = u64::try_from(d.cnt).map_err(|_| {
                    (
                        RejectCode::BadSketch,
                        format!("dogsketches[{i}]: negative count {}", d.cnt),
                    )
                })?;
                let sketch = Sketch::from_agent(cnt, d.min, d.max, d.sum, &d.k, &d.n)
                    .map_err(|e| (RejectCode::BadSketch, format!("dogsketches[{i}]: {e}")))?;
                Ok((ms, sketch))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(points)
    })();
    match checked {
        Ok(points) => {
            let mut tags = tags_of(s.tags.iter().map(Vec::as_slice), 1);
            tags.extend(normalize::key_value_tag("host", &text(s.host)));
            out.rows.push(SketchRow {
                metric,
                tags,
                points,
            });
        }
        Err((code, msg)) => out.reject(code, || {
            format!("{}: {msg}", at("sketches", index, Some(&metric)))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        let mut pos = 0;
        assert_eq!(read_varint(&[0x96, 0x01], &mut pos), Ok(150));
        assert_eq!(pos, 2);
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        let mut pos = 0;
        assert_eq!(read_varint(&max, &mut pos), Ok(u64::MAX));
        let mut pos = 0;
        let too_long = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert!(read_varint(&too_long, &mut pos).is_err());
        let mut pos = 0;
        assert!(read_varint(&[0x80, 0x80], &mut pos).is_err());
    }

    /// Every length of varint, at the end of the buffer and followed by
    /// other bytes (the one-word path and the byte loop), decodes to what
    /// prost encoded and stops where it ends.
    #[test]
    fn varints_of_every_length_match_prost() {
        let mut values = vec![0u64, 1, 127, 128, 300, 1_795_645_006, u64::MAX];
        for bits in 0..64 {
            values.push(1u64 << bits);
            values.push((1u64 << bits) - 1);
            values.push(0x5555_5555_5555_5555 >> (63 - bits));
        }
        for v in values {
            let mut enc = Vec::new();
            prost::encoding::encode_varint(v, &mut enc);
            for tail in [&[][..], &[0x80, 0xff, 0x01, 7, 7, 7, 7, 7, 7, 7][..]] {
                let mut buf = vec![0xAA];
                buf.extend_from_slice(&enc);
                buf.extend_from_slice(tail);
                let mut pos = 1;
                assert_eq!(read_varint(&buf, &mut pos), Ok(v), "{v} {tail:?}");
                assert_eq!(pos, 1 + enc.len(), "{v}");
            }
        }
    }
}
