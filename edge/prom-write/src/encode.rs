//! A minimal remote write encoder: protobuf bytes of a `WriteRequest` and
//! its snappy block. For tests, the decode bench and fuzz seeds (a client
//! of Whippet uses Prometheus or any remote write sender); written out by
//! hand so that the tests can also build bodies no proper encoder would
//! (interleaved fields, unknown fields, truncations).

/// A base-128 varint.
pub fn varint(mut n: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(10);
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out
}

/// A field: key (`field`, `wire` type) and its already encoded payload.
pub fn field(field: u32, wire: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = varint(u64::from(field) << 3 | u64::from(wire));
    out.extend_from_slice(payload);
    out
}

/// A length-delimited field.
pub fn ld(f: u32, data: &[u8]) -> Vec<u8> {
    let mut payload = varint(data.len() as u64);
    payload.extend_from_slice(data);
    field(f, 2, &payload)
}

/// A `Label` message's bytes.
pub fn label(name: &str, value: &str) -> Vec<u8> {
    let mut out = ld(1, name.as_bytes());
    out.extend(ld(2, value.as_bytes()));
    out
}

/// A `Sample` message's bytes.
pub fn sample(ts: i64, value: f64) -> Vec<u8> {
    let mut out = field(1, 1, &value.to_bits().to_le_bytes());
    out.extend(field(2, 0, &varint(ts as u64)));
    out
}

/// A `TimeSeries` message's bytes: labels, then samples `(ts, value)`.
pub fn time_series(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (n, v) in labels {
        out.extend(ld(1, &label(n, v)));
    }
    for &(t, v) in samples {
        out.extend(ld(2, &sample(t, v)));
    }
    out
}

/// One series to encode: its labels `(name, value)` and samples `(ts, value)`.
pub type SeriesSpec<'a> = (&'a [(&'a str, &'a str)], &'a [(i64, f64)]);

/// A `WriteRequest`'s bytes (uncompressed).
pub fn write_request(series: &[SeriesSpec<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (labels, samples) in series {
        out.extend(ld(1, &time_series(labels, samples)));
    }
    out
}

/// `proto` compressed as one snappy block (`Content-Encoding: snappy`).
pub fn snappy(proto: &[u8]) -> Vec<u8> {
    snap::raw::Encoder::new()
        .compress_vec(proto)
        .expect("snappy compresses any input under 4 GiB")
}
