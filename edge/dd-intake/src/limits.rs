//! Datadog SaaS size limits for the metric intake, in bytes.
//!
//! The series values are the ones Datadog enforces (spec §1.5, from
//! Datadog's public API documentation); the sketch values, undocumented by
//! Datadog, are what the Datadog Agent itself keeps to. The HTTP layer
//! SHOULD use them as defaults and MAY make them configurable. Exceeding any
//! of them is a 413 ([`IntakeError::TooLarge`](crate::IntakeError::TooLarge)).
//! Check runs and events have no documented size limit; the v1 figures are
//! a reasonable bound for them.
//!
//! How to apply them: check the *request body* length against `*_MAX_BODY`
//! before calling anything here, then pass `*_MAX_DECOMPRESSED` to
//! [`decode_body`](crate::body::decode_body), which never produces (nor
//! allocates for) more than that.

/// `POST /api/v1/series` and `/api/v1/distribution_points`: largest request
/// body, 3.2 MB (3 200 000 bytes, decimal), compressed or not. Source: the
/// Datadog API reference, "Submit metrics" (v1) ("3.2 megabytes (3200000
/// bytes)"), and spec §1.5.
pub const V1_MAX_BODY: usize = 3_200_000;

/// `POST /api/v1/series` and `/api/v1/distribution_points`: largest body
/// after decompression, 62 MiB (62 914 560 bytes). Source: the Datadog API
/// reference, "Submit metrics" (v1) ("compressed payloads must have a
/// decompressed size of less than 62 megabytes"), and spec §1.5.
pub const V1_MAX_DECOMPRESSED: usize = 62_914_560;

/// `POST /api/v2/series` (JSON and the Agent's protobuf): largest request
/// body, 500 KB (512 000 bytes). Source: the Datadog API reference, "Submit
/// metrics" (v2) ("500 kilobytes (512000 bytes)"), and spec §1.5.
pub const V2_MAX_BODY: usize = 512_000;

/// `POST /api/v2/series`: largest body after decompression, 5 MiB
/// (5 242 880 bytes). Source: the Datadog API reference, "Submit metrics"
/// (v2) ("5 megabytes (5242880 bytes)" decompressed), and spec §1.5.
pub const V2_MAX_DECOMPRESSED: usize = 5_242_880;

/// `POST /api/beta/sketches`: largest request body. Datadog documents no
/// limit for this Agent-only endpoint; the Agent keeps each payload under
/// `serializer_max_payload_size` = 2.5 MiB (2 621 440 bytes) compressed,
/// with the comment "do not change ... your payloads will get dropped by
/// Datadog's intake", and Datadog's Agent Data Plane (Saluki) uses
/// 3 200 000 bytes for sketches. We take the larger, the v1 figure.
pub const SKETCHES_MAX_BODY: usize = 3_200_000;

/// `POST /api/beta/sketches`: largest body after decompression, 4 MiB
/// (4 194 304 bytes): the Agent's `serializer_max_uncompressed_payload_size`
/// (same comment as above), which Saluki also describes as the
/// "intake-safe limit".
pub const SKETCHES_MAX_DECOMPRESSED: usize = 4_194_304;
