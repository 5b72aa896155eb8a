//! The bodies of WAL records: series definitions, float points and sketch
//! points. Layouts are in `docs/format/wal.md`.

use crate::codec::CodecError;
use crate::codec::varint::{Reader, put_ivarint, put_len_prefixed, put_uvarint};
use crate::ids::{OrgId, SeriesId};
use crate::point::{FloatPoint, SketchPoint};
use crate::series::{MetricType, SeriesKey, TagSet, ValueKind};
use crate::sketch::Sketch;

const SERIES: u8 = 1;
const FLOATS: u8 = 2;
const SKETCHES: u8 = 3;

/// A series definition as the WAL and the catalog store it.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesDef {
    /// The id the catalog assigned.
    pub id: SeriesId,
    /// The identity.
    pub key: SeriesKey,
    /// The metric type last written.
    pub mtype: MetricType,
}

/// Writes the body of a series definition record.
pub fn put_series(out: &mut Vec<u8>, id: SeriesId, key: &SeriesKey, mtype: MetricType) {
    out.push(SERIES);
    put_uvarint(out, id.0);
    put_uvarint(out, u64::from(key.org.0));
    out.push(key.kind.code());
    let (code, interval) = mtype.to_code();
    out.push(code);
    put_uvarint(out, u64::from(interval));
    put_len_prefixed(out, key.metric.as_bytes());
    put_uvarint(out, key.tags.len() as u64);
    for t in key.tags.as_slice() {
        put_len_prefixed(out, t.as_bytes());
    }
}

/// Writes the body of a float points record.
pub fn put_floats(out: &mut Vec<u8>, points: &[FloatPoint]) {
    out.push(FLOATS);
    put_uvarint(out, points.len() as u64);
    let (mut prev_id, mut prev_ts) = (0i64, 0i64);
    for p in points {
        let id = p.series.0 as i64;
        put_ivarint(out, id.wrapping_sub(prev_id));
        put_ivarint(out, p.ts.wrapping_sub(prev_ts));
        out.extend_from_slice(&p.value.to_le_bytes());
        prev_id = id;
        prev_ts = p.ts;
    }
}

/// Writes the body of a sketch points record.
pub fn put_sketches<'a>(out: &mut Vec<u8>, points: impl ExactSizeIterator<Item = &'a SketchPoint>) {
    out.push(SKETCHES);
    put_uvarint(out, points.len() as u64);
    for p in points {
        put_uvarint(out, p.series.0);
        put_ivarint(out, p.ts);
        p.sketch.encode(out);
    }
}

/// A decoded record.
#[derive(Debug)]
pub enum Record {
    /// A series was created, or its metric type changed.
    Series(SeriesDef),
    /// Float points, in the order they were written.
    Floats(Vec<FloatPoint>),
    /// Sketch points, in the order they were written.
    Sketches(Vec<SketchPoint>),
}

/// Decodes a record body. Never panics; allocation is bounded by the body size.
pub fn decode(body: &[u8]) -> Result<Record, CodecError> {
    let mut r = Reader::new(body);
    let rec = match r.u8("record type")? {
        SERIES => {
            let id = SeriesId(r.uvarint("series id")?);
            let org = OrgId(r.uvarint32("org id")?);
            let kind = ValueKind::from_code(r.u8("value kind")?)
                .ok_or(CodecError::Invalid("value kind"))?;
            let code = r.u8("metric type")?;
            let interval = r.uvarint32("interval")?;
            let mtype =
                MetricType::from_code(code, interval).ok_or(CodecError::Invalid("metric type"))?;
            let metric = r.str("metric name")?.to_owned();
            let n = r.uvarint("tag count")? as usize;
            if n > r.remaining() {
                return Err(CodecError::Truncated("tags"));
            }
            let mut tags = Vec::with_capacity(n);
            for _ in 0..n {
                tags.push(r.str("tag")?.to_owned());
            }
            Record::Series(SeriesDef {
                id,
                key: SeriesKey {
                    org,
                    metric,
                    tags: TagSet::new(tags),
                    kind,
                },
                mtype,
            })
        }
        FLOATS => {
            let n = r.uvarint("point count")? as usize;
            // Each point takes at least 10 bytes.
            if n > r.remaining() / 10 {
                return Err(CodecError::Truncated("float points"));
            }
            let mut v = Vec::with_capacity(n);
            let (mut id, mut ts) = (0i64, 0i64);
            for _ in 0..n {
                id = id.wrapping_add(r.ivarint("series id")?);
                ts = ts.wrapping_add(r.ivarint("timestamp")?);
                let value = r.f64("value")?;
                v.push(FloatPoint {
                    series: SeriesId(id as u64),
                    ts,
                    value,
                });
            }
            Record::Floats(v)
        }
        SKETCHES => {
            let n = r.uvarint("point count")? as usize;
            if n > r.remaining() / 3 {
                return Err(CodecError::Truncated("sketch points"));
            }
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                let series = SeriesId(r.uvarint("series id")?);
                let ts = r.ivarint("timestamp")?;
                let (sketch, used) =
                    Sketch::decode(r.rest()).map_err(|_| CodecError::Invalid("sketch"))?;
                r.bytes(used, "sketch")?;
                v.push(SketchPoint { series, ts, sketch });
            }
            Record::Sketches(v)
        }
        tag => {
            return Err(CodecError::UnknownCodec {
                what: "WAL record",
                tag,
            });
        }
    };
    if !r.is_empty() {
        return Err(CodecError::Invalid("trailing bytes in record"));
    }
    Ok(rec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let key = SeriesKey {
            org: OrgId(7),
            metric: "system.cpu.user".into(),
            tags: TagSet::new(["host:a", "env:prod", "canary"]),
            kind: ValueKind::Float,
        };
        let mut b = Vec::new();
        put_series(
            &mut b,
            SeriesId(42),
            &key,
            MetricType::Rate { interval_secs: 10 },
        );
        match decode(&b).unwrap() {
            Record::Series(d) => {
                assert_eq!(d.id, SeriesId(42));
                assert_eq!(d.key, key);
                assert_eq!(d.mtype, MetricType::Rate { interval_secs: 10 });
            }
            other => panic!("{other:?}"),
        }
        let pts = vec![
            FloatPoint {
                series: SeriesId(3),
                ts: 1_000,
                value: 1.5,
            },
            FloatPoint {
                series: SeriesId(1),
                ts: -5,
                value: f64::NAN,
            },
        ];
        let mut b = Vec::new();
        put_floats(&mut b, &pts);
        match decode(&b).unwrap() {
            Record::Floats(v) => {
                assert_eq!(v.len(), 2);
                assert_eq!(v[0], pts[0]);
                assert_eq!(v[1].series, SeriesId(1));
                assert_eq!(v[1].ts, -5);
                assert!(v[1].value.is_nan());
            }
            other => panic!("{other:?}"),
        }
        let mut s = Sketch::new();
        s.insert(3.0);
        let sp = [SketchPoint {
            series: SeriesId(9),
            ts: 10_000,
            sketch: s,
        }];
        let mut b = Vec::new();
        put_sketches(&mut b, sp.iter());
        match decode(&b).unwrap() {
            Record::Sketches(v) => assert_eq!(v, sp),
            other => panic!("{other:?}"),
        }
        for cut in 0..b.len() {
            assert!(decode(&b[..cut]).is_err());
        }
    }
}
