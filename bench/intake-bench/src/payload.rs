//! The request bodies: the fleet data set in one of the wire formats the
//! benches send ([`Format`]), cut the way agents send it, generated in full
//! before anything is timed.
//!
//! Series are taken in groups of `series_per_body` consecutive fleet series
//! (a group is 50 hosts × 20 metrics by default) and time in windows of
//! `ticks_per_body` ticks; body `(window, group)` holds, for each series of
//! the group, its points in the window: one flush of a group of agents that
//! buffered a few intervals. Bodies go out window by window (time-major),
//! as a fleet would send them. A series with no point in a window (a gap)
//! is left out of that body.
//!
//! Every format carries the same series: the metric's Datadog name
//! (`system.cpu.user`), the fleet's host and its four other tags
//! (`env:prod`, `region:…`, `az:…`, `service:…`), and the points as
//! generated. The host travels where each protocol's senders put it: the
//! `host` field of Datadog v1 JSON, a `host` resource of Datadog v2
//! protobuf, a `host` label in remote write; the other tags become tags or
//! labels. Every series is a gauge, counters included, so that each system
//! stores the numbers exactly as sent. The encoders are in [`json`],
//! [`v2`] and [`rw`].
//!
//! The data set's totals and a checksum of every point are computed here so
//! that what each system stored can be checked against them ([`Checksum`]).

pub mod json;
pub mod rw;
pub mod v2;

use std::io::Write as _;

use anyhow::{Result, ensure};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Serialize;
use whippet_fleetgen::{FleetSpec, METRICS_PER_HOST, describe, points};

/// One request body, ready to send.
pub struct Body {
    /// The bytes on the wire (compressed when the format or cut says so).
    pub bytes: Vec<u8>,
    /// Points it carries.
    pub points: u64,
    /// The group of series it belongs to (its column): the bodies of one
    /// group hold the same series, window after window.
    pub group: usize,
}

/// The wire format of the bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Datadog `/api/v1/series` JSON ([`json`]).
    DatadogJson,
    /// Datadog `/api/v2/series` protobuf `MetricPayload` ([`v2`]).
    DatadogProtobuf,
    /// Prometheus remote write 1.0: a snappy-compressed `WriteRequest`
    /// ([`rw`]); snappy is part of the protocol, so `encoding` must be
    /// [`Encoding::Identity`].
    RemoteWrite,
}

impl Format {
    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Format::DatadogJson => "Datadog v1 JSON",
            Format::DatadogProtobuf => "Datadog v2 protobuf",
            Format::RemoteWrite => "Prometheus remote write",
        }
    }
}

/// The `Content-Encoding` applied on top of the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// Sent as encoded.
    Identity,
    /// gzip (RFC 1952), default level.
    Gzip,
    /// zstd, level 1 (what the Datadog Agent's zstd compressor uses by
    /// default: fast, about as small as gzip on these bodies).
    Zstd,
}

impl Encoding {
    /// The `Content-Encoding` header value, if any.
    pub fn header(self) -> Option<&'static str> {
        match self {
            Encoding::Identity => None,
            Encoding::Gzip => Some("gzip"),
            Encoding::Zstd => Some("zstd"),
        }
    }
}

/// How to cut the data set into requests.
#[derive(Debug, Clone, Copy)]
pub struct Cut {
    /// Series per body.
    pub series_per_body: usize,
    /// Ticks (points per series) per body.
    pub ticks_per_body: usize,
    /// The wire format.
    pub format: Format,
    /// Compression on top of the format.
    pub encoding: Encoding,
}

impl Cut {
    /// 1 000 series × 10 points per body, the cut every bench uses by
    /// default: the flush of 50 agents that buffered 100 s, about 350 KB of
    /// JSON.
    pub fn agents(format: Format, encoding: Encoding) -> Cut {
        Cut {
            series_per_body: 1_000,
            ticks_per_body: 10,
            format,
            encoding,
        }
    }

    /// The headers a sender adds for these bodies (content type, encoding).
    pub fn headers(&self) -> Vec<(String, String)> {
        let mut h: Vec<(String, String)> = match self.format {
            Format::DatadogJson => vec![("Content-Type".into(), "application/json".into())],
            Format::DatadogProtobuf => {
                vec![("Content-Type".into(), "application/x-protobuf".into())]
            }
            Format::RemoteWrite => rw::HEADERS
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        if let Some(e) = self.encoding.header() {
            h.push(("Content-Encoding".into(), e.into()));
        }
        h
    }
}

/// One series as every encoder sees it.
pub struct SeriesRef<'a> {
    /// Datadog metric name.
    pub metric: &'a str,
    /// The host.
    pub host: &'a str,
    /// The other tags, `key:value`.
    pub tags: &'a [&'a str],
    /// Timestamps, milliseconds (whole seconds in the fleet).
    pub ts_ms: &'a [i64],
    /// Values, as many as timestamps.
    pub vals: &'a [f64],
}

/// Builds one body from the series put in it.
pub trait BodyEncoder {
    /// Adds one series (at least one point).
    fn series(&mut self, s: &SeriesRef<'_>) -> Result<()>;
    /// The encoded body, before any [`Encoding`].
    fn finish(self: Box<Self>) -> Result<Vec<u8>>;
}

fn encoder(format: Format) -> Box<dyn BodyEncoder> {
    match format {
        Format::DatadogJson => Box::new(json::Encoder::default()),
        Format::DatadogProtobuf => Box::new(v2::Encoder::default()),
        Format::RemoteWrite => Box::new(rw::Encoder::default()),
    }
}

/// Every body of the data set, with its totals.
pub struct DataSet {
    /// How it was cut.
    pub cut: Cut,
    /// Metric names, each once, in fleet order.
    pub metrics: Vec<String>,
    /// Bodies in sending order.
    pub bodies: Vec<Body>,
    /// Points, gaps excluded.
    pub total_points: u64,
    /// Encoded bytes before any [`Encoding`] (for remote write, whose
    /// protocol compresses with snappy, the compressed bytes).
    pub raw_bytes: u64,
    /// Bytes on the wire.
    pub wire_bytes: u64,
    /// Checksum of every point of the data set.
    pub checksum: Checksum,
}

/// An order-independent checksum of stored points: the wrapping sum of a
/// hash of (metric, host, timestamp in seconds, value bits) per point. Two
/// sets of points have the same sum when they hold the same points, in any
/// order (up to a 2⁻⁶⁴ chance); a value changed by one bit, a point moved
/// to another host or metric, a lost or a doubled point all change it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checksum(pub u64);

impl Checksum {
    /// The seed of one series' points.
    pub fn series_seed(metric: &str, host: &str) -> u64 {
        mix(fnv1a(metric.as_bytes()) ^ mix(fnv1a(host.as_bytes())))
    }

    /// Adds one point of the series with `seed`.
    pub fn add(&mut self, seed: u64, ts_secs: i64, value: f64) {
        let h = mix(seed ^ mix(ts_secs as u64 ^ mix(value.to_bits())));
        self.0 = self.0.wrapping_add(h);
    }

    /// Adds another checksum's points.
    pub fn merge(&mut self, other: Checksum) {
        self.0 = self.0.wrapping_add(other.0);
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// splitmix64's finaliser: a bijection that spreads every input bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The bodies of one group of series, one per window.
struct GroupBodies {
    bodies: Vec<Body>,
    raw_bytes: u64,
    checksum: Checksum,
}

/// Generates every body of `spec` cut by `cut`, on `threads` threads.
pub fn generate(spec: FleetSpec, cut: Cut, threads: usize) -> Result<DataSet> {
    spec.validate().map_err(anyhow::Error::msg)?;
    ensure!(
        cut.series_per_body > 0 && cut.ticks_per_body > 0,
        "a body needs at least one series and one tick"
    );
    ensure!(
        spec.interval_ms % 1000 == 0 && spec.start_ms % 1000 == 0,
        "timestamps are sent in whole seconds"
    );
    let groups = spec.series.div_ceil(cut.series_per_body);
    let windows = spec.points_per_series.div_ceil(cut.ticks_per_body);
    let threads = threads.clamp(1, groups);
    let mut per_group: Vec<Option<GroupBodies>> = (0..groups).map(|_| None).collect();
    let chunk = groups.div_ceil(threads);
    std::thread::scope(|s| -> Result<()> {
        let handles: Vec<_> = per_group
            .chunks_mut(chunk)
            .enumerate()
            .map(|(t, slots)| {
                s.spawn(move || -> Result<()> {
                    for (j, slot) in slots.iter_mut().enumerate() {
                        *slot = Some(group_bodies(&spec, cut, t * chunk + j, windows)?);
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join().expect("generator thread panicked")?;
        }
        Ok(())
    })?;

    let mut raw_bytes = 0;
    let mut checksum = Checksum::default();
    let mut columns: Vec<std::vec::IntoIter<Body>> = Vec::with_capacity(groups);
    for g in per_group {
        let g = g.expect("every group generated");
        raw_bytes += g.raw_bytes;
        checksum.merge(g.checksum);
        columns.push(g.bodies.into_iter());
    }
    // Time-major order: window 0 of every group, then window 1, ...
    let mut bodies = Vec::with_capacity(groups * windows);
    for _ in 0..windows {
        for col in &mut columns {
            if let Some(b) = col.next()
                && b.points > 0
            {
                bodies.push(b);
            }
        }
    }
    let total_points: u64 = bodies.iter().map(|b| b.points).sum();
    ensure!(
        total_points == spec.total_points(),
        "the bodies hold {total_points} points, the fleet {}",
        spec.total_points()
    );
    let wire_bytes = bodies.iter().map(|b| b.bytes.len() as u64).sum();
    let metrics = (0..spec.series.min(METRICS_PER_HOST))
        .map(|i| describe(&spec, i).metric)
        .collect();
    Ok(DataSet {
        cut,
        metrics,
        bodies,
        total_points,
        raw_bytes,
        wire_bytes,
        checksum,
    })
}

fn group_bodies(spec: &FleetSpec, cut: Cut, g: usize, windows: usize) -> Result<GroupBodies> {
    ensure!(
        cut.format != Format::RemoteWrite || cut.encoding == Encoding::Identity,
        "remote write bodies are snappy-compressed by the protocol; no other encoding applies"
    );
    let first = g * cut.series_per_body;
    let last = (first + cut.series_per_body).min(spec.series);
    let mut encoders: Vec<Box<dyn BodyEncoder>> =
        (0..windows).map(|_| encoder(cut.format)).collect();
    let mut counts = vec![0u64; windows];
    let mut checksum = Checksum::default();
    let (mut ts, mut vals) = (Vec::new(), Vec::new());
    for i in first..last {
        let desc = describe(spec, i);
        let host = desc
            .tags
            .iter()
            .find_map(|t| t.strip_prefix("host:"))
            .unwrap_or_default()
            .to_owned();
        let tags: Vec<&str> = desc
            .tags
            .iter()
            .filter(|t| !t.starts_with("host:"))
            .map(String::as_str)
            .collect();
        let seed = Checksum::series_seed(&desc.metric, &host);
        points(spec, i, &mut ts, &mut vals);
        let mut p = 0;
        for (w, enc) in encoders.iter_mut().enumerate() {
            let end_ms = spec.tick_ms(((w + 1) * cut.ticks_per_body).min(spec.points_per_series));
            let from = p;
            while p < ts.len() && ts[p] < end_ms {
                p += 1;
            }
            if p == from {
                continue;
            }
            for k in from..p {
                ensure!(vals[k].is_finite(), "series {i} has a non-finite value");
                checksum.add(seed, ts[k] / 1000, vals[k]);
            }
            enc.series(&SeriesRef {
                metric: &desc.metric,
                host: &host,
                tags: &tags,
                ts_ms: &ts[from..p],
                vals: &vals[from..p],
            })?;
            counts[w] += (p - from) as u64;
        }
    }
    let mut raw_bytes = 0;
    let mut bodies = Vec::with_capacity(windows);
    for (enc, points) in encoders.into_iter().zip(counts) {
        let body = enc.finish()?;
        raw_bytes += body.len() as u64;
        let bytes = match cut.encoding {
            Encoding::Identity => body,
            Encoding::Gzip => {
                let mut enc =
                    GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::default());
                enc.write_all(&body)?;
                enc.finish()?
            }
            Encoding::Zstd => zstd::bulk::compress(&body, ZSTD_LEVEL)?,
        };
        bodies.push(Body {
            bytes,
            points,
            group: g,
        });
    }
    Ok(GroupBodies {
        bodies,
        raw_bytes,
        checksum,
    })
}

/// zstd level of [`Encoding::Zstd`]: 1, the fastest regular level, as the
/// Agent uses.
const ZSTD_LEVEL: i32 = 1;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn tiny() -> FleetSpec {
        FleetSpec {
            series: 45,
            points_per_series: 25,
            start_ms: 1_764_122_400_000,
            ..FleetSpec::small()
        }
    }

    #[test]
    fn bodies_hold_the_fleet_exactly_once() {
        let spec = tiny();
        let cut = Cut {
            series_per_body: 20,
            ticks_per_body: 10,
            format: Format::DatadogJson,
            encoding: Encoding::Identity,
        };
        let ds = generate(spec, cut, 2).unwrap();
        // 3 groups × 3 windows.
        assert_eq!(ds.bodies.len(), 9);
        assert_eq!(ds.metrics.len(), 20);
        let mut sum = Checksum::default();
        let mut points = 0;
        for b in &ds.bodies {
            let v: Value = serde_json::from_slice(&b.bytes).unwrap();
            let mut in_body = 0;
            for s in v["series"].as_array().unwrap() {
                let host = s["host"].as_str().unwrap();
                assert!(host.starts_with("i-0"));
                let tags = s["tags"].as_array().unwrap();
                assert_eq!(tags.len(), 4);
                assert!(tags[0].as_str().unwrap().starts_with("env:"));
                assert_eq!(s["type"], "gauge");
                let seed = Checksum::series_seed(s["metric"].as_str().unwrap(), host);
                for p in s["points"].as_array().unwrap() {
                    sum.add(seed, p[0].as_i64().unwrap(), p[1].as_f64().unwrap());
                    in_body += 1;
                }
            }
            assert_eq!(in_body, b.points);
            points += in_body;
        }
        assert_eq!(points, spec.total_points());
        assert_eq!(ds.total_points, points);
        assert_eq!(sum, ds.checksum, "values survive the JSON round trip");
        // Time-major: the first bodies hold the first window.
        let first: Value = serde_json::from_slice(&ds.bodies[0].bytes).unwrap();
        assert_eq!(
            first["series"][0]["points"][0][0].as_i64().unwrap(),
            spec.start_ms / 1000
        );
    }

    #[test]
    fn gzip_bodies_decompress_to_the_same_json() {
        let spec = tiny();
        let plain = generate(
            spec,
            Cut {
                series_per_body: 50,
                ticks_per_body: 25,
                format: Format::DatadogJson,
                encoding: Encoding::Identity,
            },
            1,
        )
        .unwrap();
        let gz = generate(
            spec,
            Cut {
                series_per_body: 50,
                ticks_per_body: 25,
                format: Format::DatadogJson,
                encoding: Encoding::Gzip,
            },
            1,
        )
        .unwrap();
        assert_eq!(plain.bodies.len(), 1);
        let mut out = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(&gz.bodies[0].bytes[..]),
            &mut out,
        )
        .unwrap();
        assert_eq!(out, plain.bodies[0].bytes);
        assert!(gz.wire_bytes < plain.wire_bytes);
        assert_eq!(gz.raw_bytes, plain.raw_bytes);
    }

    #[test]
    fn protobuf_bodies_carry_the_same_points() {
        use prost::Message as _;
        use whippet_dd_intake::proto::MetricPayload;
        let spec = tiny();
        let json = generate(
            spec,
            Cut::agents(Format::DatadogJson, Encoding::Identity),
            1,
        )
        .unwrap();
        let ds = generate(
            spec,
            Cut::agents(Format::DatadogProtobuf, Encoding::Zstd),
            2,
        )
        .unwrap();
        assert_eq!(ds.checksum, json.checksum);
        let mut sum = Checksum::default();
        let mut points = 0;
        for b in &ds.bodies {
            let raw = zstd::bulk::decompress(&b.bytes, 1 << 24).unwrap();
            let p = MetricPayload::decode(&raw[..]).unwrap();
            let mut in_body = 0;
            for s in &p.series {
                assert_eq!(s.resources.len(), 1);
                assert_eq!(s.resources[0].r#type, b"host");
                assert_eq!(s.tags.len(), 4);
                assert_eq!(s.r#type, 3, "gauge");
                let metric = std::str::from_utf8(&s.metric).unwrap();
                let host = std::str::from_utf8(&s.resources[0].name).unwrap();
                let seed = Checksum::series_seed(metric, host);
                for pt in &s.points {
                    sum.add(seed, pt.timestamp, pt.value);
                    in_body += 1;
                }
            }
            assert_eq!(in_body, b.points);
            points += in_body;
        }
        assert_eq!(points, spec.total_points());
        assert_eq!(sum, ds.checksum);
        assert_eq!(
            ds.cut.headers(),
            vec![
                (
                    "Content-Type".to_owned(),
                    "application/x-protobuf".to_owned()
                ),
                ("Content-Encoding".to_owned(), "zstd".to_owned())
            ]
        );
    }

    #[test]
    fn checksum_sees_changes() {
        let seed = Checksum::series_seed("m", "h");
        let mut a = Checksum::default();
        a.add(seed, 10, 1.5);
        a.add(seed, 20, 2.5);
        let mut b = Checksum::default();
        b.add(seed, 20, 2.5);
        b.add(seed, 10, 1.5);
        assert_eq!(a, b, "order does not matter");
        let mut c = Checksum::default();
        c.add(seed, 10, 1.5);
        c.add(seed, 20, 2.500_000_000_000_001);
        assert_ne!(a, c);
        let mut d = Checksum::default();
        d.add(Checksum::series_seed("m", "h2"), 10, 1.5);
        d.add(seed, 20, 2.5);
        assert_ne!(a, d);
    }
}
