//! The Datadog Agent's protobuf messages for metrics, written by hand with
//! `prost` derives (no `protoc`, no build script).
//!
//! Source: `proto/metrics/agent_payload.proto` in `DataDog/agent-payload`
//! (package `datadog.agentpayload`, proto3), the version with
//! `MetricType { UNSPECIFIED = 0; COUNT = 1; RATE = 2; GAUGE = 3 }` and
//! `Metadata metadata = 9` on series (spec §2.5, §2.6). Field numbers and
//! wire types are the proto's; the test `field_numbers_match_the_proto`
//! (tests/protobuf.rs) checks the encoded bytes of each message by hand.
//!
//! One deliberate difference: every `string` field is declared `bytes`.
//! Both are wire type 2 and encode identically, but prost refuses a whole
//! message when a `string` holds invalid UTF-8, and the Agent (Go) can send
//! such a tag. As `bytes`, the parser turns bad UTF-8 into U+FFFD (which
//! normalisation then makes `_`) instead of refusing the request.
//!
//! The legacy `Distribution` message (field 3 of a sketch) is declared so
//! that such payloads decode, but current agents never send it and the
//! parser ignores it. `CommonMetadata` (field 2 of `SketchPayload`) is
//! declared for completeness; the parser skips it unread.

/// `datadog.agentpayload.MetricPayload`: the body of `POST /api/v2/series`
/// (protobuf).
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricPayload {
    /// The series.
    #[prost(message, repeated, tag = "1")]
    pub series: Vec<MetricSeries>,
}

/// `MetricPayload.MetricType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum MetricType {
    /// Not set; stored as a gauge.
    Unspecified = 0,
    /// A count over `interval` seconds.
    Count = 1,
    /// A per-second rate over `interval` seconds.
    Rate = 2,
    /// A gauge.
    Gauge = 3,
}

/// `MetricPayload.MetricSeries`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricSeries {
    /// Resources the series applies to, e.g. `{type: "host", name: <host>}`.
    #[prost(message, repeated, tag = "1")]
    pub resources: Vec<Resource>,
    /// Metric name (`string` in the proto).
    #[prost(bytes = "vec", tag = "2")]
    pub metric: Vec<u8>,
    /// Tags (`repeated string` in the proto).
    #[prost(bytes = "vec", repeated, tag = "3")]
    pub tags: Vec<Vec<u8>>,
    /// Points.
    #[prost(message, repeated, tag = "4")]
    pub points: Vec<MetricPoint>,
    /// A [`MetricType`] value; unknown values are kept as they came.
    #[prost(enumeration = "MetricType", tag = "5")]
    pub r#type: i32,
    /// Unit name (`string`).
    #[prost(bytes = "vec", tag = "6")]
    pub unit: Vec<u8>,
    /// Source, e.g. a check name (`string`).
    #[prost(bytes = "vec", tag = "7")]
    pub source_type_name: Vec<u8>,
    /// Interval in seconds, for counts and rates.
    #[prost(int64, tag = "8")]
    pub interval: i64,
    /// Origin metadata.
    #[prost(message, optional, tag = "9")]
    pub metadata: Option<Metadata>,
}

/// `MetricPayload.MetricPoint`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct MetricPoint {
    /// The value.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Seconds since the Unix epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// `MetricPayload.Resource`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Resource {
    /// Resource type, e.g. `host` (`string`).
    #[prost(bytes = "vec", tag = "1")]
    pub r#type: Vec<u8>,
    /// Resource name (`string`).
    #[prost(bytes = "vec", tag = "2")]
    pub name: Vec<u8>,
}

/// `Metadata`, shared by series and sketches.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Metadata {
    /// Where the metric comes from.
    #[prost(message, optional, tag = "1")]
    pub origin: Option<Origin>,
}

/// `Origin` (fields 1–3 are reserved in the proto).
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Origin {
    /// Origin product.
    #[prost(uint32, tag = "4")]
    pub origin_product: u32,
    /// Origin category.
    #[prost(uint32, tag = "5")]
    pub origin_category: u32,
    /// Origin service.
    #[prost(uint32, tag = "6")]
    pub origin_service: u32,
}

/// `datadog.agentpayload.SketchPayload`: the body of
/// `POST /api/beta/sketches`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SketchPayload {
    /// The sketch series.
    #[prost(message, repeated, tag = "1")]
    pub sketches: Vec<sketch_payload::Sketch>,
    /// Agent metadata.
    #[prost(message, optional, tag = "2")]
    pub metadata: Option<CommonMetadata>,
}

/// `CommonMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CommonMetadata {
    /// Agent version (`string`).
    #[prost(bytes = "vec", tag = "1")]
    pub agent_version: Vec<u8>,
    /// Time zone (`string`).
    #[prost(bytes = "vec", tag = "2")]
    pub timezone: Vec<u8>,
    /// The Agent's clock when it built the payload.
    #[prost(double, tag = "3")]
    pub current_epoch: f64,
    /// Internal IP (`string`).
    #[prost(bytes = "vec", tag = "4")]
    pub internal_ip: Vec<u8>,
    /// Public IP (`string`).
    #[prost(bytes = "vec", tag = "5")]
    pub public_ip: Vec<u8>,
    /// API key (`string`).
    #[prost(bytes = "vec", tag = "6")]
    pub api_key: Vec<u8>,
}

/// Messages nested in `SketchPayload`.
pub mod sketch_payload {
    /// `SketchPayload.Sketch`: one distribution series.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Sketch {
        /// Metric name (`string`).
        #[prost(bytes = "vec", tag = "1")]
        pub metric: Vec<u8>,
        /// Host name (`string`).
        #[prost(bytes = "vec", tag = "2")]
        pub host: Vec<u8>,
        /// Legacy sketches; ignored.
        #[prost(message, repeated, tag = "3")]
        pub distributions: Vec<sketch::Distribution>,
        /// Tags (`repeated string`).
        #[prost(bytes = "vec", repeated, tag = "4")]
        pub tags: Vec<Vec<u8>>,
        /// One sketch per 10-second bucket.
        #[prost(message, repeated, tag = "7")]
        pub dogsketches: Vec<sketch::Dogsketch>,
        /// Origin metadata.
        #[prost(message, optional, tag = "8")]
        pub metadata: Option<super::Metadata>,
    }

    /// Messages nested in `SketchPayload.Sketch`.
    pub mod sketch {
        /// `Dogsketch`: a DDSketch in the Agent's key space.
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct Dogsketch {
            /// Bucket start, seconds since the Unix epoch.
            #[prost(int64, tag = "1")]
            pub ts: i64,
            /// Number of values.
            #[prost(int64, tag = "2")]
            pub cnt: i64,
            /// Smallest value.
            #[prost(double, tag = "3")]
            pub min: f64,
            /// Largest value.
            #[prost(double, tag = "4")]
            pub max: f64,
            /// Mean (derived; ignored by the parser).
            #[prost(double, tag = "5")]
            pub avg: f64,
            /// Sum of the values.
            #[prost(double, tag = "6")]
            pub sum: f64,
            /// Bin keys (packed `sint32`).
            #[prost(sint32, repeated, tag = "7")]
            pub k: Vec<i32>,
            /// Bin counts (packed `uint32`), parallel to `k`.
            #[prost(uint32, repeated, tag = "8")]
            pub n: Vec<u32>,
        }

        /// Legacy `Distribution` (GK sketch); not sent by current agents.
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct Distribution {
            /// Timestamp, seconds.
            #[prost(int64, tag = "1")]
            pub ts: i64,
            /// Count.
            #[prost(int64, tag = "2")]
            pub cnt: i64,
            /// Minimum.
            #[prost(double, tag = "3")]
            pub min: f64,
            /// Maximum.
            #[prost(double, tag = "4")]
            pub max: f64,
            /// Mean.
            #[prost(double, tag = "5")]
            pub avg: f64,
            /// Sum.
            #[prost(double, tag = "6")]
            pub sum: f64,
            /// Values.
            #[prost(double, repeated, tag = "7")]
            pub v: Vec<f64>,
            /// GK `g`.
            #[prost(uint32, repeated, tag = "8")]
            pub g: Vec<u32>,
            /// GK `delta`.
            #[prost(uint32, repeated, tag = "9")]
            pub delta: Vec<u32>,
            /// Buffered values.
            #[prost(double, repeated, tag = "10")]
            pub buf: Vec<f64>,
        }
    }
}
