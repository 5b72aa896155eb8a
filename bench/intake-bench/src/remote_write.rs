//! Prometheus remote write 1.0 request bodies: what a Prometheus server
//! sends to `remote_write` URLs, and what Prometheus
//! (`--web.enable-remote-write-receiver`, at `/api/v1/write`) and
//! VictoriaMetrics (also at `/api/v1/write`) accept.
//!
//! This module owns the encoding only: the messages, the labels a
//! Datadog-style series becomes, the snappy compression and the headers.
//! Cutting the fleet into bodies and sending them are the callers' job.
//!
//! ## The wire format
//! A body is one protobuf `WriteRequest`, compressed with snappy's *block*
//! format (`snap::raw`, no stream framing, no checksums: the
//! `Content-Encoding: snappy` of remote write is the raw block format), sent
//! with the three [`HEADERS`]. The messages are written out by hand with
//! `prost` derives (no `protoc`, no build script), with the field numbers of
//! Prometheus' `prompb/remote.proto` (`WriteRequest`) and
//! `prompb/types.proto` (`TimeSeries`, `Label`, `Sample`):
//!
//! ```text
//! message WriteRequest { repeated TimeSeries timeseries = 1; /* metadata = 3 left out */ }
//! message TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
//! message Label        { string name = 1; string value = 2; }
//! message Sample       { double value = 1; int64 timestamp = 2; /* milliseconds */ }
//! ```
//!
//! Field 2 of `WriteRequest` is reserved upstream; `metadata` (field 3, the
//! type and help of each metric family) is optional for receivers and left
//! out, as are exemplars and native histograms (fields 3 and 4 of
//! `TimeSeries`).
//!
//! ## Labels
//! A series `(metric, host, tags)` becomes the labels `__name__` = the metric
//! name exactly as given (`system.cpu.user`: both Prometheus' TSDB and
//! VictoriaMetrics store dotted names sent by remote write as they are; only
//! the text exposition format restricts names), `host` = the host (left out
//! when empty: an empty label is an absent label in both systems), and one
//! label per tag, the tag split at its first `:` (`env:prod` → `env="prod"`,
//! `url:http://x` → `url="http://x"`). Nothing is sanitised: a tag key that
//! is not a valid Prometheus label name is sent as it is, and what happens to
//! it is the receiver's business. Labels are sorted by name, as the protocol
//! requires (`__name__` comes first on its own: `_` sorts before every
//! lowercase letter). A tag without a `:`, an empty label name or a name
//! given twice (say a `host:` tag next to the host) is an error: receivers
//! reject or mangle such series.

use anyhow::{Context, Result, bail, ensure};
use prost::Message;

/// The request path of both receivers (Prometheus with
/// `--web.enable-remote-write-receiver`, VictoriaMetrics always).
pub const PATH: &str = "/api/v1/write";

/// The headers every remote write request carries: the body is a protobuf
/// message, snappy-compressed (block format), of version 0.1.0 of the
/// protocol (remote write 1.0).
pub const HEADERS: [(&str, &str); 3] = [
    ("Content-Type", "application/x-protobuf"),
    ("Content-Encoding", "snappy"),
    ("X-Prometheus-Remote-Write-Version", "0.1.0"),
];

/// [`HEADERS`] as owned pairs, the way [`crate::send::Target`] takes them.
pub fn headers() -> Vec<(String, String)> {
    HEADERS
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// `prompb.WriteRequest` (remote.proto), without `metadata`.
#[derive(Clone, PartialEq, Message)]
pub struct WriteRequest {
    /// The series of the request, each with its samples.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

/// `prompb.TimeSeries` (types.proto), float samples only.
#[derive(Clone, PartialEq, Message)]
pub struct TimeSeries {
    /// Labels, sorted by name, names unique.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Samples, in increasing timestamp order.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

/// `prompb.Label` (types.proto).
#[derive(Clone, PartialEq, Eq, Message)]
pub struct Label {
    /// The label name (`__name__` for the metric name).
    #[prost(string, tag = "1")]
    pub name: String,
    /// Its value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `prompb.Sample` (types.proto).
#[derive(Clone, Copy, PartialEq, Message)]
pub struct Sample {
    /// The value.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// One series to put in a body, as a Datadog-style generator holds it.
#[derive(Debug, Clone, Copy)]
pub struct RwSeries<'a> {
    /// The metric name, sent as `__name__` unchanged (`system.cpu.user`).
    pub metric: &'a str,
    /// The host, sent as the `host` label (none when empty).
    pub host: &'a str,
    /// The other tags, Datadog style `key:value` (`env:prod`); each becomes
    /// a label, split at the first `:`. Must not hold a `host:` tag.
    pub tags: &'a [&'a str],
    /// Timestamps, milliseconds since the epoch, increasing.
    pub ts_ms: &'a [i64],
    /// Values, one per timestamp.
    pub vals: &'a [f64],
}

/// The sorted labels of `s` (see the module doc).
pub fn labels(s: &RwSeries<'_>) -> Result<Vec<Label>> {
    ensure!(!s.metric.is_empty(), "a series needs a metric name");
    let mut out = Vec::with_capacity(2 + s.tags.len());
    out.push(Label {
        name: "__name__".into(),
        value: s.metric.into(),
    });
    if !s.host.is_empty() {
        out.push(Label {
            name: "host".into(),
            value: s.host.into(),
        });
    }
    for t in s.tags {
        let (name, value) = t.split_once(':').with_context(|| {
            format!(
                "{}: tag {t:?} has no ':' to split it into a label name and value",
                s.metric
            )
        })?;
        ensure!(
            !name.is_empty(),
            "{}: tag {t:?} has an empty key (an empty label name)",
            s.metric
        );
        out.push(Label {
            name: name.into(),
            value: value.into(),
        });
    }
    out.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    if let Some(w) = out.windows(2).find(|w| w[0].name == w[1].name) {
        bail!(
            "{} on host {:?}: label {:?} is given twice (tags {:?}); remote write receivers \
             reject duplicate label names",
            s.metric,
            s.host,
            w[0].name,
            s.tags
        );
    }
    Ok(out)
}

/// Builds one body series by series, reusing its buffers from body to body.
pub struct Builder {
    request: WriteRequest,
    points: u64,
    proto: Vec<u8>,
    snappy: snap::raw::Encoder,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            request: WriteRequest::default(),
            points: 0,
            proto: Vec::new(),
            snappy: snap::raw::Encoder::new(),
        }
    }
}

impl Builder {
    /// An empty body.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Adds one series with its samples. Fails, adding nothing, on a label
    /// the module doc rules out or when `ts_ms` and `vals` differ in length.
    pub fn push(&mut self, s: &RwSeries<'_>) -> Result<()> {
        ensure!(
            s.ts_ms.len() == s.vals.len(),
            "{} on host {:?}: {} timestamps but {} values",
            s.metric,
            s.host,
            s.ts_ms.len(),
            s.vals.len()
        );
        let labels = labels(s)?;
        let samples = s
            .ts_ms
            .iter()
            .zip(s.vals)
            .map(|(&timestamp, &value)| Sample { value, timestamp })
            .collect();
        self.request.timeseries.push(TimeSeries { labels, samples });
        self.points += s.ts_ms.len() as u64;
        Ok(())
    }

    /// Series added since the last [`Builder::finish`].
    pub fn series(&self) -> usize {
        self.request.timeseries.len()
    }

    /// Samples added since the last [`Builder::finish`].
    pub fn points(&self) -> u64 {
        self.points
    }

    /// Writes the body (the snappy-compressed `WriteRequest`) into `out`,
    /// which is cleared first, and empties the builder for the next body.
    /// Returns the size of the protobuf message before compression.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<usize> {
        self.proto.clear();
        self.request
            .encode(&mut self.proto)
            .context("encoding a remote write request")?;
        out.clear();
        out.resize(snap::raw::max_compress_len(self.proto.len()), 0);
        let n = self
            .snappy
            .compress(&self.proto, out)
            .context("snappy-compressing a remote write request")?;
        out.truncate(n);
        self.request.timeseries.clear();
        self.points = 0;
        Ok(self.proto.len())
    }
}

/// Encodes `series` as one body into `out` (cleared first); returns the
/// size of the protobuf message before compression. A one-shot
/// [`Builder`].
pub fn encode_body(series: &[RwSeries<'_>], out: &mut Vec<u8>) -> Result<usize> {
    let mut b = Builder::new();
    for s in series {
        b.push(s)?;
    }
    b.finish(out)
}

/// Decodes a body (snappy block, then protobuf): the receivers' side, for
/// tests and for checking what was sent.
pub fn decode_body(body: &[u8]) -> Result<WriteRequest> {
    let raw = snap::raw::Decoder::new()
        .decompress_vec(body)
        .context("the body is not snappy block-compressed")?;
    WriteRequest::decode(&raw[..]).context("the body is not a remote write WriteRequest")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(name: &str, value: &str) -> Label {
        Label {
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn bodies_round_trip() {
        let tags = [
            "env:prod",
            "region:us-east-1",
            "az:us-east-1a",
            "service:web",
        ];
        let series = [
            RwSeries {
                metric: "system.cpu.user",
                host: "i-0123456789abcdef",
                tags: &tags,
                ts_ms: &[1_767_225_600_000, 1_767_225_610_000],
                vals: &[12.3, 0.1 + 0.2],
            },
            RwSeries {
                metric: "system.net.bytes_rcvd",
                host: "i-0fedcba987654321",
                tags: &["env:dev", "url:http://x:80"],
                ts_ms: &[1_767_225_600_000],
                vals: &[9_007_199_254_740_993.0],
            },
        ];
        let mut body = Vec::new();
        let proto_len = encode_body(&series, &mut body).unwrap();
        let req = decode_body(&body).unwrap();
        assert_eq!(req.encoded_len(), proto_len);
        assert_eq!(req.timeseries.len(), 2);
        assert_eq!(
            req.timeseries[0].labels,
            vec![
                label("__name__", "system.cpu.user"),
                label("az", "us-east-1a"),
                label("env", "prod"),
                label("host", "i-0123456789abcdef"),
                label("region", "us-east-1"),
                label("service", "web"),
            ]
        );
        assert_eq!(
            req.timeseries[0].samples,
            vec![
                Sample {
                    value: 12.3,
                    timestamp: 1_767_225_600_000
                },
                Sample {
                    value: 0.1 + 0.2,
                    timestamp: 1_767_225_610_000
                },
            ]
        );
        assert_eq!(
            req.timeseries[1].labels,
            vec![
                label("__name__", "system.net.bytes_rcvd"),
                label("env", "dev"),
                label("host", "i-0fedcba987654321"),
                label("url", "http://x:80"),
            ],
            "a tag splits at its first ':'"
        );
        assert_eq!(
            req.timeseries[1].samples[0].value.to_bits(),
            9_007_199_254_740_993.0f64.to_bits()
        );
    }

    #[test]
    fn labels_are_sorted_by_name() {
        let l = labels(&RwSeries {
            metric: "m",
            host: "h",
            tags: &["zone:z", "Upper:u", "_x:1", "a_b:2", "a:3", "hostname:n"],
            ts_ms: &[],
            vals: &[],
        })
        .unwrap();
        let names: Vec<&str> = l.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Upper", "__name__", "_x", "a", "a_b", "host", "hostname", "zone"
            ]
        );
        assert!(names.windows(2).all(|w| w[0] < w[1]));
        // With lowercase keys, as Datadog tags have, `__name__` is first.
        let l = labels(&RwSeries {
            metric: "m",
            host: "",
            tags: &["env:prod", "az:a"],
            ts_ms: &[],
            vals: &[],
        })
        .unwrap();
        assert_eq!(l[0].name, "__name__");
        assert_eq!(l.len(), 3, "an empty host is left out");
    }

    #[test]
    fn bad_series_are_refused() {
        let bad = |tags: &[&str], ts: &[i64]| {
            encode_body(
                &[RwSeries {
                    metric: "m",
                    host: "h",
                    tags,
                    ts_ms: ts,
                    vals: &[1.0],
                }],
                &mut Vec::new(),
            )
            .unwrap_err()
            .to_string()
        };
        assert!(bad(&["host:h2"], &[1]).contains("twice"));
        assert!(bad(&["env:a", "env:b"], &[1]).contains("twice"));
        assert!(bad(&["nocolon"], &[1]).contains("no ':'"));
        assert!(bad(&[":v"], &[1]).contains("empty key"));
        assert!(bad(&[], &[1, 2]).contains("2 timestamps but 1 values"));
    }

    #[test]
    fn the_builder_is_reusable() {
        let mut b = Builder::new();
        let mut out = Vec::new();
        for round in 0..2 {
            b.push(&RwSeries {
                metric: "m",
                host: "h",
                tags: &[],
                ts_ms: &[round],
                vals: &[round as f64],
            })
            .unwrap();
            assert_eq!((b.series(), b.points()), (1, 1));
            b.finish(&mut out).unwrap();
            assert_eq!((b.series(), b.points()), (0, 0));
            let req = decode_body(&out).unwrap();
            assert_eq!(req.timeseries.len(), 1);
            assert_eq!(req.timeseries[0].samples[0].timestamp, round);
        }
    }

    #[test]
    fn the_body_is_a_snappy_block_not_a_stream() {
        let mut out = Vec::new();
        encode_body(
            &[RwSeries {
                metric: "m",
                host: "h",
                tags: &[],
                ts_ms: &[1],
                vals: &[1.0],
            }],
            &mut out,
        )
        .unwrap();
        // A framed stream starts with the stream identifier chunk (0xff);
        // a block starts with the uncompressed length as a varint.
        assert_ne!(out[0], 0xff);
        let raw = snap::raw::Decoder::new().decompress_vec(&out).unwrap();
        assert_eq!(raw[0], 0x0a, "field 1 (timeseries), length-delimited");
    }
}
