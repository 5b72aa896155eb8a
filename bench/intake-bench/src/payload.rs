//! The request bodies: the fleet data set as Datadog `/api/v1/series` JSON,
//! cut the way agents send it, generated in full before anything is timed.
//!
//! Series are taken in groups of `series_per_body` consecutive fleet series
//! (a group is 50 hosts × 20 metrics by default) and time in windows of
//! `ticks_per_body` ticks; body `(window, group)` holds, for each series of
//! the group, its points in the window: one flush of a group of agents that
//! buffered a few intervals. Bodies go out window by window (time-major),
//! as a fleet would send them. A series with no point in a window (a gap)
//! is left out of that body.
//!
//! Each series is written as
//! `{"metric":"system.cpu.user","points":[[1764122400,12.3],...],"type":"gauge","host":"i-0…","tags":["env:prod","region:…","az:…","service:…"]}`:
//! the fleet's `host:` tag goes into the `host` field, the way the Agent
//! sends it (VictoriaMetrics makes it the `host` label; a `host:` tag would
//! become `exported_host`), and the other four tags stay tags. Every series
//! is sent as a `gauge`, counters included: both systems then store the
//! numbers exactly as sent (Datadog's `count` and `rate` types carry an
//! interval VictoriaMetrics ignores). Timestamps are whole seconds, values
//! in Rust's shortest round-trip notation.
//!
//! The data set's totals and a checksum of every point are computed here so
//! that what each system stored can be checked against them ([`Checksum`]).

use std::io::Write as _;

use anyhow::{Result, ensure};
use flate2::Compression;
use flate2::write::GzEncoder;
use whippet_fleetgen::{FleetSpec, METRICS_PER_HOST, describe, points};

/// One request body, ready to send.
pub struct Body {
    /// The bytes on the wire (gzip-compressed when asked).
    pub bytes: Vec<u8>,
    /// Points it carries.
    pub points: u64,
}

/// How to cut the data set into requests.
#[derive(Debug, Clone, Copy)]
pub struct Cut {
    /// Series per body.
    pub series_per_body: usize,
    /// Ticks (points per series) per body.
    pub ticks_per_body: usize,
    /// Compress each body with gzip (`Content-Encoding: gzip`).
    pub gzip: bool,
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
    /// JSON bytes before compression.
    pub json_bytes: u64,
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
    json_bytes: u64,
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

    let mut json_bytes = 0;
    let mut checksum = Checksum::default();
    let mut columns: Vec<std::vec::IntoIter<Body>> = Vec::with_capacity(groups);
    for g in per_group {
        let g = g.expect("every group generated");
        json_bytes += g.json_bytes;
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
        json_bytes,
        wire_bytes,
        checksum,
    })
}

fn group_bodies(spec: &FleetSpec, cut: Cut, g: usize, windows: usize) -> Result<GroupBodies> {
    let first = g * cut.series_per_body;
    let last = (first + cut.series_per_body).min(spec.series);
    let mut json: Vec<Vec<u8>> = (0..windows).map(|_| b"{\"series\":[".to_vec()).collect();
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
        let tags: Vec<&String> = desc
            .tags
            .iter()
            .filter(|t| !t.starts_with("host:"))
            .collect();
        let seed = Checksum::series_seed(&desc.metric, &host);
        points(spec, i, &mut ts, &mut vals);
        let mut p = 0;
        for (w, out) in json.iter_mut().enumerate() {
            let end_ms = spec.tick_ms(((w + 1) * cut.ticks_per_body).min(spec.points_per_series));
            let from = p;
            while p < ts.len() && ts[p] < end_ms {
                p += 1;
            }
            if p == from {
                continue;
            }
            if counts[w] > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"metric\":");
            json_string(out, &desc.metric);
            out.extend_from_slice(b",\"points\":[");
            for k in from..p {
                ensure!(vals[k].is_finite(), "series {i} has a non-finite value");
                let secs = ts[k] / 1000;
                if k > from {
                    out.push(b',');
                }
                write!(out, "[{secs},{}]", vals[k])?;
                checksum.add(seed, secs, vals[k]);
            }
            out.extend_from_slice(b"],\"type\":\"gauge\",\"host\":");
            json_string(out, &host);
            out.extend_from_slice(b",\"tags\":[");
            for (j, t) in tags.iter().enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                json_string(out, t);
            }
            out.extend_from_slice(b"]}");
            counts[w] += (p - from) as u64;
        }
    }
    let mut json_bytes = 0;
    let mut bodies = Vec::with_capacity(windows);
    for (mut body, points) in json.into_iter().zip(counts) {
        body.extend_from_slice(b"]}");
        json_bytes += body.len() as u64;
        let bytes = if cut.gzip {
            let mut enc =
                GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::default());
            enc.write_all(&body)?;
            enc.finish()?
        } else {
            body
        };
        bodies.push(Body { bytes, points });
    }
    Ok(GroupBodies {
        bodies,
        json_bytes,
        checksum,
    })
}

/// Appends `s` as a JSON string.
fn json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

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
            gzip: false,
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
                gzip: false,
            },
            1,
        )
        .unwrap();
        let gz = generate(
            spec,
            Cut {
                series_per_body: 50,
                ticks_per_body: 25,
                gzip: true,
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
        assert_eq!(gz.json_bytes, plain.json_bytes);
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
