//! The snappy block and the `WriteRequest` protobuf, read without copying:
//! labels are slices of the decompressed buffer, samples are copied into
//! one flat vector, and each series gets a digest of its label bytes (its
//! [`SeriesIdent`]) so that a receiver can recognise a series it has seen
//! before without looking at its labels again.
//!
//! # Messages read (Prometheus' `prompb/remote.proto` and `types.proto`)
//! ```text
//! WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
//! TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2;
//!                repeated Exemplar exemplars = 3; repeated Histogram histograms = 4; }
//! Label        { string name = 1; string value = 2; }
//! Sample       { double value = 1; int64 timestamp = 2; }
//! ```
//! `metadata`, `exemplars` and `histograms` (native histograms) are skipped
//! without being decoded and counted in [`Ignored`]: Whippet stores float
//! samples only, and a receiver answers 204 for them as Prometheus does when
//! its exemplar storage or native histograms are off. Unknown fields of any
//! wire type are skipped, as protobuf requires. Groups (wire types 3 and 4,
//! deprecated and never used by remote write) are refused.
//!
//! A label whose value is empty is dropped here (an empty label is an
//! absent label in Prometheus); nothing else about labels is checked here:
//! that is [`crate::validate`]'s job, which a receiver runs only for series
//! it does not know yet.
//!
//! # Why a hand-written reader
//! This is the hot path of remote write ingest. prost's derive allocates a
//! `String` per label name and value, a `Vec` per series' labels and
//! samples, and checks every string's UTF-8, for every series of every
//! request, even though a receiver that knows a series by its digest never
//! looks at its labels. The reader here allocates three vectors per request
//! (reused capacity aside) and leaves UTF-8 to validation.
//! `cargo bench -p whippet-prom-write --bench decode` (1 000 series of 6
//! labels, 10 samples each, the shape of `whippet-intake-bench`'s remote
//! write bodies), 2026-11-27 on 2 shared cores: this reader 278 us per body
//! (36 M samples/s), prost's derive 840 us (3.0x slower; 3.2x in a second
//! run), this reader plus validation of every series 425 us. Details and
//! the conditions: `benches/RESULTS.md`.
//!
//! # Bounds
//! Everything decoded is bounded by the decompressed size, which is checked
//! against [`crate::Limits::max_decompressed_bytes`] before decompressing;
//! series and samples are counted as they are read and the request refused
//! as soon as a limit is passed. A kept label takes at least 5 bytes on the
//! wire and 32 bytes decoded, a sample at least 2 and 16, so the decoded
//! form is at most about 8 times the decompressed bytes.

use std::ops::Range;

use xxhash_rust::xxh3::{Xxh3, xxh3_128_with_seed};

use crate::{Error, Limits};

/// The digest of a series' label bytes as sent (XXH3-128): equal digests
/// mean equal label bytes, so a series known by its digest needs neither
/// validation nor a catalog lookup. The same label set sent in another
/// order or encoding has another digest (and resolves to the same series).
pub type SeriesIdent = u128;

/// Seed of the digest: keeps remote write digests apart from the Datadog
/// intake's (`whippet_dd_intake::SeriesIdent`), which share the server's
/// series cache. Any constant other than theirs (0) would do.
const IDENT_SEED: u64 = 0x7072_6f6d_7772_6974; // "promwrit"

/// A label as sent: name and value bytes (UTF-8 not checked yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawLabel<'a> {
    /// The name, e.g. `__name__` or `job`.
    pub name: &'a [u8],
    /// The value, never empty (empty values are dropped).
    pub value: &'a [u8],
}

/// A float sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Milliseconds since the epoch.
    pub ts: i64,
    /// The value, bit for bit as sent (staleness markers included).
    pub value: f64,
}

/// How much of the request was skipped because Whippet does not store it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ignored {
    /// `MetricMetadata` messages (type, help and unit of metric families).
    pub metadata: usize,
    /// Exemplars.
    pub exemplars: usize,
    /// Native histogram samples.
    pub histograms: usize,
}

#[derive(Debug, Clone)]
struct Span {
    labels: Range<u32>,
    samples: Range<u32>,
    ident: SeriesIdent,
}

/// A decoded `WriteRequest`, borrowing the decompressed bytes.
#[derive(Debug, Default)]
pub struct Request<'a> {
    spans: Vec<Span>,
    labels: Vec<RawLabel<'a>>,
    samples: Vec<Sample>,
    /// What was skipped.
    pub ignored: Ignored,
}

/// One series of a [`Request`].
#[derive(Debug, Clone, Copy)]
pub struct Series<'r, 'a> {
    /// Its index among the request's series (for error messages).
    pub index: usize,
    /// Its labels in the order sent, empty values dropped.
    pub labels: &'r [RawLabel<'a>],
    /// Its samples in the order sent.
    pub samples: &'r [Sample],
    /// The digest of its label bytes.
    pub ident: SeriesIdent,
}

impl<'a> Request<'a> {
    /// Number of series.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when the request has no series.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Number of samples, all series together.
    pub fn sample_count(&self) -> usize {
        self.samples.len()
    }

    /// Series `i`.
    ///
    /// # Panics
    /// When `i >= self.len()`.
    pub fn series(&self, i: usize) -> Series<'_, 'a> {
        let s = &self.spans[i];
        Series {
            index: i,
            labels: &self.labels[s.labels.start as usize..s.labels.end as usize],
            samples: &self.samples[s.samples.start as usize..s.samples.end as usize],
            ident: s.ident,
        }
    }

    /// Every series, in request order.
    pub fn iter(&self) -> impl Iterator<Item = Series<'_, 'a>> + '_ {
        (0..self.len()).map(|i| self.series(i))
    }
}

/// Decompresses a snappy block (`Content-Encoding: snappy`, the block
/// format) into `out`, which is cleared first. An empty body is an empty
/// request. The announced length is checked against
/// [`Limits::max_decompressed_bytes`] before anything is allocated.
pub fn decompress(body: &[u8], limits: &Limits, out: &mut Vec<u8>) -> Result<(), Error> {
    out.clear();
    if body.is_empty() {
        return Ok(());
    }
    let len = snap::raw::decompress_len(body).map_err(|e| Error::Snappy(e.to_string()))?;
    if len > limits.max_decompressed_bytes {
        return Err(Error::DecompressedTooLarge {
            size: len,
            limit: limits.max_decompressed_bytes,
        });
    }
    out.resize(len, 0);
    let n = snap::raw::Decoder::new()
        .decompress(body, out)
        .map_err(|e| Error::Snappy(e.to_string()))?;
    out.truncate(n);
    Ok(())
}

/// Decodes a decompressed `WriteRequest`. Refuses malformed protobuf and
/// requests over [`Limits::max_series_per_request`] or
/// [`Limits::max_samples_per_request`]; labels are not validated (see the
/// module doc).
pub fn decode<'a>(buf: &'a [u8], limits: &Limits) -> Result<Request<'a>, Error> {
    let mut req = Request::default();
    decode_into(buf, limits, &mut req)?;
    Ok(req)
}

/// [`decode`] into `req`, whose vectors are cleared and reused.
pub fn decode_into<'a>(buf: &'a [u8], limits: &Limits, req: &mut Request<'a>) -> Result<(), Error> {
    req.spans.clear();
    req.labels.clear();
    req.samples.clear();
    req.ignored = Ignored::default();
    let mut r = Reader { buf, pos: 0 };
    let end = buf.len();
    while r.pos < end {
        let (field, wire) = r.key()?;
        match (field, wire) {
            (1, LEN) => {
                let body = r.len_delimited(end)?;
                if req.spans.len() >= limits.max_series_per_request {
                    return Err(Error::TooManySeries {
                        limit: limits.max_series_per_request,
                    });
                }
                series(buf, body, limits, req)?;
            }
            (1, _) => return Err(r.wrong_wire()),
            (3, LEN) => {
                r.len_delimited(end)?;
                req.ignored.metadata += 1;
            }
            _ => r.skip(wire, end)?,
        }
    }
    Ok(())
}

const VARINT: u8 = 0;
const I64: u8 = 1;
const LEN: u8 = 2;
const I32: u8 = 5;

/// One `TimeSeries` message at `range` of `buf`.
fn series<'a>(
    buf: &'a [u8],
    range: Range<usize>,
    limits: &Limits,
    req: &mut Request<'a>,
) -> Result<(), Error> {
    let labels_start = req.labels.len() as u32;
    let samples_start = req.samples.len() as u32;
    // The label fields' bytes, when they are one run (the usual case: all
    // labels before all samples): their digest is taken in one call.
    let mut run: Option<Range<usize>> = None;
    let mut contiguous = true;
    let mut r = Reader {
        buf,
        pos: range.start,
    };
    let end = range.end;
    while r.pos < end {
        let field_start = r.pos;
        let (field, wire) = r.key()?;
        match (field, wire) {
            (1, LEN) => {
                let body = r.len_delimited(end)?;
                match &mut run {
                    None => run = Some(field_start..r.pos),
                    Some(run) if run.end == field_start => run.end = r.pos,
                    Some(run) => {
                        contiguous = false;
                        run.end = r.pos;
                    }
                }
                let l = label(buf, body)?;
                if !l.value.is_empty() {
                    req.labels.push(l);
                }
            }
            (2, LEN) => {
                let body = r.len_delimited(end)?;
                if req.samples.len() >= limits.max_samples_per_request {
                    return Err(Error::TooManySamples {
                        limit: limits.max_samples_per_request,
                    });
                }
                req.samples.push(sample(buf, body)?);
            }
            (1 | 2, _) => return Err(r.wrong_wire()),
            (3, LEN) => {
                r.len_delimited(end)?;
                req.ignored.exemplars += 1;
            }
            (4, LEN) => {
                r.len_delimited(end)?;
                req.ignored.histograms += 1;
            }
            _ => r.skip(wire, end)?,
        }
    }
    let ident = match run {
        None => xxh3_128_with_seed(&[], IDENT_SEED),
        Some(run) if contiguous => xxh3_128_with_seed(&buf[run], IDENT_SEED),
        Some(_) => label_digest_streamed(buf, range)?,
    };
    req.spans.push(Span {
        labels: labels_start..req.labels.len() as u32,
        samples: samples_start..req.samples.len() as u32,
        ident,
    });
    Ok(())
}

/// The digest of a series whose label fields are interleaved with other
/// fields: the label fields' bytes in order, as if they were one run (so
/// the digest equals the one-shot digest of the same labels sent together).
fn label_digest_streamed(buf: &[u8], range: Range<usize>) -> Result<SeriesIdent, Error> {
    let mut h = Xxh3::with_seed(IDENT_SEED);
    let mut r = Reader {
        buf,
        pos: range.start,
    };
    while r.pos < range.end {
        let field_start = r.pos;
        let (field, wire) = r.key()?;
        if (field, wire) == (1, LEN) {
            r.len_delimited(range.end)?;
            h.update(&buf[field_start..r.pos]);
        } else {
            r.skip(wire, range.end)?;
        }
    }
    Ok(h.digest128())
}

fn label<'a>(buf: &'a [u8], range: Range<usize>) -> Result<RawLabel<'a>, Error> {
    let mut l = RawLabel {
        name: &[],
        value: &[],
    };
    let mut r = Reader {
        buf,
        pos: range.start,
    };
    while r.pos < range.end {
        let (field, wire) = r.key()?;
        match (field, wire) {
            (1, LEN) => l.name = &buf[r.len_delimited(range.end)?],
            (2, LEN) => l.value = &buf[r.len_delimited(range.end)?],
            (1 | 2, _) => return Err(r.wrong_wire()),
            _ => r.skip(wire, range.end)?,
        }
    }
    Ok(l)
}

fn sample(buf: &[u8], range: Range<usize>) -> Result<Sample, Error> {
    // Fast path: what every encoder writes, the value's key and 8 bytes,
    // then the timestamp's key and varint, ending the message.
    let b = &buf[range.clone()];
    if b.len() >= 11 && b[0] == 0x09 && b[9] == 0x10 {
        let mut v = [0u8; 8];
        v.copy_from_slice(&b[1..9]);
        let mut r = Reader {
            buf,
            pos: range.start + 10,
        };
        if let Ok(ts) = r.varint()
            && r.pos == range.end
        {
            return Ok(Sample {
                ts: ts as i64,
                value: f64::from_bits(u64::from_le_bytes(v)),
            });
        }
    }
    let mut s = Sample { ts: 0, value: 0.0 };
    let mut r = Reader {
        buf,
        pos: range.start,
    };
    while r.pos < range.end {
        let (field, wire) = r.key()?;
        match (field, wire) {
            (1, I64) => s.value = f64::from_bits(r.fixed64(range.end)?),
            (2, VARINT) => s.ts = r.varint()? as i64,
            (1 | 2, _) => return Err(r.wrong_wire()),
            _ => r.skip(wire, range.end)?,
        }
    }
    Ok(s)
}

/// A cursor over protobuf bytes. Every read checks bounds; nothing panics.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn err(&self, what: &'static str) -> Error {
        Error::Protobuf {
            offset: self.pos,
            what,
        }
    }

    fn wrong_wire(&self) -> Error {
        self.err("a known field has the wrong wire type")
    }

    #[inline]
    fn varint(&mut self) -> Result<u64, Error> {
        // One byte: field keys, lengths under 128, small timestamps.
        if let Some(&b) = self.buf.get(self.pos)
            && b < 0x80
        {
            self.pos += 1;
            return Ok(u64::from(b));
        }
        let mut v = 0u64;
        for i in 0..10 {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(self.err("unexpected end of input in a varint"));
            };
            self.pos += 1;
            if i == 9 && b > 1 {
                return Err(self.err("varint overflows 64 bits"));
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(self.err("varint longer than 10 bytes"))
    }

    #[inline]
    fn key(&mut self) -> Result<(u32, u8), Error> {
        let k = self.varint()?;
        let field = k >> 3;
        if field == 0 || field > u64::from(u32::MAX >> 3) {
            return Err(self.err("invalid field number"));
        }
        Ok((field as u32, (k & 7) as u8))
    }

    /// A length-delimited field's body, which must end by `end`.
    #[inline]
    fn len_delimited(&mut self, end: usize) -> Result<Range<usize>, Error> {
        let len = self.varint()?;
        let start = self.pos;
        match usize::try_from(len).ok().and_then(|l| start.checked_add(l)) {
            Some(stop) if stop <= end => {
                self.pos = stop;
                Ok(start..stop)
            }
            _ => Err(self.err("length runs past the end of its message")),
        }
    }

    #[inline]
    fn fixed64(&mut self, end: usize) -> Result<u64, Error> {
        let stop = self.pos + 8;
        if stop > end {
            return Err(self.err("unexpected end of input in a 64-bit field"));
        }
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.buf[self.pos..stop]);
        self.pos = stop;
        Ok(u64::from_le_bytes(b))
    }

    fn skip(&mut self, wire: u8, end: usize) -> Result<(), Error> {
        match wire {
            VARINT => {
                self.varint()?;
            }
            I64 => {
                self.fixed64(end)?;
            }
            LEN => {
                self.len_delimited(end)?;
            }
            I32 => {
                if self.pos + 4 > end {
                    return Err(self.err("unexpected end of input in a 32-bit field"));
                }
                self.pos += 4;
            }
            _ => return Err(self.err("unsupported wire type (groups or invalid)")),
        }
        if self.pos > end {
            return Err(self.err("field runs past the end of its message"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode;

    fn lim() -> Limits {
        Limits::default()
    }

    fn body(series: &[encode::SeriesSpec<'_>]) -> Vec<u8> {
        encode::write_request(series)
    }

    #[test]
    fn decodes_labels_samples_and_skips_empty_values() {
        let b = body(&[
            (
                &[("__name__", "up"), ("job", "api"), ("zone", "")],
                &[(1000, 1.0), (2000, f64::from_bits(0x7ff0_0000_0000_0002))],
            ),
            (&[("__name__", "x")], &[]),
        ]);
        let r = decode(&b, &lim()).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r.sample_count(), 2);
        let s = r.series(0);
        assert_eq!(
            s.labels,
            &[
                RawLabel {
                    name: b"__name__",
                    value: b"up"
                },
                RawLabel {
                    name: b"job",
                    value: b"api"
                }
            ]
        );
        assert_eq!(
            s.samples[0],
            Sample {
                ts: 1000,
                value: 1.0
            }
        );
        assert_eq!(s.samples[1].value.to_bits(), 0x7ff0_0000_0000_0002);
        assert!(r.series(1).samples.is_empty());
        assert_eq!(r.ignored, Ignored::default());
    }

    #[test]
    fn negative_timestamps_and_defaults_decode() {
        // An empty Sample message is value 0 at timestamp 0.
        let mut ts = encode::ld(1, &encode::label("__name__", "a"));
        ts.extend(encode::ld(2, &[]));
        ts.extend(encode::ld(2, &encode::sample(-5, -1.5)));
        // Fields in the other order, and a repeated field (the last wins).
        let mut odd = encode::field(2, 0, &encode::varint(7));
        odd.extend(encode::field(1, 1, &2.5f64.to_bits().to_le_bytes()));
        odd.extend(encode::field(2, 0, &encode::varint(8)));
        ts.extend(encode::ld(2, &odd));
        let b = encode::ld(1, &ts);
        let r = decode(&b, &lim()).unwrap();
        assert_eq!(
            r.series(0).samples,
            &[
                Sample { ts: 0, value: 0.0 },
                Sample {
                    ts: -5,
                    value: -1.5
                },
                Sample { ts: 8, value: 2.5 },
            ]
        );
    }

    #[test]
    fn same_labels_same_ident_and_interleaved_labels_hash_as_one_run() {
        let a = body(&[(&[("__name__", "up"), ("job", "a")], &[(1, 1.0)])]);
        let b = body(&[(&[("__name__", "up"), ("job", "a")], &[(2, 7.0), (3, 1.0)])]);
        let c = body(&[(&[("__name__", "up"), ("job", "b")], &[(1, 1.0)])]);
        let ident = |b: &[u8]| decode(b, &lim()).unwrap().series(0).ident;
        assert_eq!(ident(&a), ident(&b));
        assert_ne!(ident(&a), ident(&c));
        // Labels interleaved with samples: same digest as sent together.
        let mut ts = encode::ld(1, &encode::label("__name__", "up"));
        ts.extend(encode::ld(2, &encode::sample(1, 1.0)));
        ts.extend(encode::ld(1, &encode::label("job", "a")));
        let d = encode::ld(1, &ts);
        assert_eq!(ident(&d), ident(&a));
        assert_eq!(decode(&d, &lim()).unwrap().series(0).labels.len(), 2);
    }

    #[test]
    fn metadata_exemplars_histograms_and_unknown_fields_are_skipped() {
        let mut ts = encode::ld(1, &encode::label("__name__", "up"));
        ts.extend(encode::ld(2, &encode::sample(1, 1.0)));
        ts.extend(encode::ld(3, b"\x0a\x00")); // exemplar
        ts.extend(encode::ld(4, b"\x08\x01")); // histogram
        ts.extend(encode::field(9, 0, &encode::varint(300))); // unknown varint
        ts.extend(encode::field(10, 5, &[1, 2, 3, 4])); // unknown fixed32
        let mut b = encode::ld(1, &ts);
        b.extend(encode::ld(3, b"\x08\x01")); // metadata
        b.extend(encode::field(4, 1, &[0; 8])); // unknown fixed64
        let r = decode(&b, &lim()).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r.sample_count(), 1);
        assert_eq!(
            r.ignored,
            Ignored {
                metadata: 1,
                exemplars: 1,
                histograms: 1
            }
        );
    }

    #[test]
    fn malformed_protobuf_is_refused_with_its_offset() {
        let good = body(&[(&[("__name__", "up")], &[(1, 1.0)])]);
        // Every strict prefix of a message is malformed (a length or a
        // fixed64 runs past the end), except the empty one and cuts between
        // top-level fields.
        for cut in 1..good.len() {
            let e = decode(&good[..cut], &lim()).unwrap_err();
            assert!(matches!(e, Error::Protobuf { .. }), "{cut}: {e}");
        }
        let e = decode(b"\x0a\xff\x01\x02", &lim()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "malformed protobuf at byte 3 of the decompressed request: length runs past the end of its message"
        );
        // Field 1 as a varint.
        assert!(matches!(
            decode(b"\x08\x01", &lim()),
            Err(Error::Protobuf { .. })
        ));
        // A group.
        assert!(matches!(
            decode(b"\x0b", &lim()),
            Err(Error::Protobuf { .. })
        ));
        // Field number 0.
        assert!(matches!(
            decode(b"\x02\x00", &lim()),
            Err(Error::Protobuf { .. })
        ));
        // An 11-byte varint.
        assert!(matches!(
            decode(
                &[
                    0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
                ],
                &lim()
            ),
            Err(Error::Protobuf { .. })
        ));
    }

    #[test]
    fn series_and_sample_limits_stop_decoding() {
        let b = body(&[
            (&[("__name__", "a")], &[(1, 1.0), (2, 1.0)]),
            (&[("__name__", "b")], &[(1, 1.0)]),
        ]);
        let l = Limits {
            max_series_per_request: 1,
            ..lim()
        };
        assert_eq!(
            decode(&b, &l).unwrap_err(),
            Error::TooManySeries { limit: 1 }
        );
        let l = Limits {
            max_samples_per_request: 2,
            ..lim()
        };
        assert_eq!(
            decode(&b, &l).unwrap_err(),
            Error::TooManySamples { limit: 2 }
        );
        let l = Limits {
            max_samples_per_request: 3,
            max_series_per_request: 2,
            ..lim()
        };
        assert_eq!(decode(&b, &l).unwrap().sample_count(), 3);
    }

    #[test]
    fn snappy_blocks_decompress_within_the_limit() {
        let proto = body(&[(&[("__name__", "up")], &[(1, 1.0)])]);
        let compressed = snap::raw::Encoder::new().compress_vec(&proto).unwrap();
        let mut out = Vec::new();
        decompress(&compressed, &lim(), &mut out).unwrap();
        assert_eq!(out, proto);
        decompress(&[], &lim(), &mut out).unwrap();
        assert!(out.is_empty());
        let small = Limits {
            max_decompressed_bytes: proto.len() - 1,
            ..lim()
        };
        assert_eq!(
            decompress(&compressed, &small, &mut out).unwrap_err(),
            Error::DecompressedTooLarge {
                size: proto.len(),
                limit: proto.len() - 1
            }
        );
        // A block announcing 2 GiB is refused before any allocation.
        let huge = [0x80, 0x80, 0x80, 0x80, 0x08, 0x00];
        assert_eq!(
            decompress(&huge, &lim(), &mut out).unwrap_err().status(),
            413
        );
        let e = decompress(b"\xff\xff\xff\xff\xff\xff", &lim(), &mut out).unwrap_err();
        assert!(matches!(e, Error::Snappy(_)), "{e}");
        assert!(e.to_string().starts_with("snappy: corrupt input"), "{e}");
        // The framed (stream) format is not the block format.
        let mut framed = Vec::new();
        {
            use std::io::Write;
            let mut w = snap::write::FrameEncoder::new(&mut framed);
            w.write_all(&proto).unwrap();
        }
        assert!(decompress(&framed, &lim(), &mut out).is_err());
    }
}
