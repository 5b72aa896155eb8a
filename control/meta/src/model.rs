//! The values the store takes and returns: orgs, keys, events, check
//! statuses. Plain data; the rules live in [`MetaStore`](crate::MetaStore).
//!
//! Times are Unix milliseconds (`i64`) throughout, like the time-series
//! engine; the HTTP layer converts Datadog's epoch seconds.

use std::fmt;

pub use whippet_tsdb::OrgId;

/// An organisation (tenant). Every key, event and check status belongs to
/// exactly one org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    /// Assigned by the store, from 1, never reused.
    pub id: OrgId,
    /// Unique across the store (exact, case-sensitive match).
    pub name: String,
    /// When the org was created, Unix ms.
    pub created_at: i64,
}

/// The two kinds of Datadog key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyKind {
    /// An API key (`DD-API-KEY`): required on every API and intake call.
    /// Generated secrets are 32 lowercase hex characters.
    Api,
    /// An application key (`DD-APPLICATION-KEY`): required on read and
    /// manage calls. Generated secrets are 40 lowercase hex characters.
    App,
}

impl KeyKind {
    /// The value stored in the `kind` column: `"api"` or `"app"`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Api => "api",
            KeyKind::App => "app",
        }
    }

    /// Parses [`KeyKind::as_str`]'s output.
    pub fn parse(s: &str) -> Option<KeyKind> {
        match s {
            "api" => Some(KeyKind::Api),
            "app" => Some(KeyKind::App),
            _ => None,
        }
    }

    /// Length in characters of a secret generated for this kind, matching
    /// Datadog's formats.
    pub fn generated_len(self) -> usize {
        match self {
            KeyKind::Api => 32,
            KeyKind::App => 40,
        }
    }
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key's row id: assigned by the store, never reused. Not secret; it is
/// how keys are listed and revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub i64);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What the store tells about a key: never the secret, never its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The key's id.
    pub id: KeyId,
    /// The org the key authenticates as.
    pub org: OrgId,
    /// API or application key.
    pub kind: KeyKind,
    /// A human label ("bootstrap", "ci", "team-a agent").
    pub name: String,
    /// The last four characters of the secret, for telling keys apart in a
    /// list. Empty when the secret is shorter than
    /// [`MIN_LEN_FOR_LAST4`](crate::MIN_LEN_FOR_LAST4) characters (only a
    /// given key can be): showing four characters of a short key would
    /// show most of it.
    pub last4: String,
    /// When the key was created, Unix ms.
    pub created_at: i64,
    /// When the key was revoked, Unix ms; `None` while it is active.
    pub revoked_at: Option<i64>,
}

/// What [`MetaStore::bootstrap`](crate::MetaStore::bootstrap) created: the
/// first org and its two keys, the secrets in plain text. This is the only
/// time the store ever hands the secrets out; the caller prints them once.
///
/// `Debug` shows only the secrets' last four characters, so that logging the
/// struct by accident does not leak them.
#[derive(Clone, PartialEq, Eq)]
pub struct Bootstrap {
    /// The org "default".
    pub org: Org,
    /// The API key secret.
    pub api_key: String,
    /// The application key secret.
    pub app_key: String,
}

impl fmt::Debug for Bootstrap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bootstrap")
            .field("org", &self.org)
            .field(
                "api_key",
                &format_args!("<redacted, {} chars>", self.api_key.len()),
            )
            .field(
                "app_key",
                &format_args!("<redacted, {} chars>", self.app_key.len()),
            )
            .finish()
    }
}

/// An event to store, as posted to `POST /api/v1/events`, DogStatsD `_e`
/// or `POST /api/v2/events` (spec §5, §3.3), after intake has validated
/// and normalised it. The store keeps every field as given; it does not
/// enforce Datadog's length limits or enums (that is intake's business).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewEvent {
    /// Required by Datadog (≤ 100 chars, intake's check).
    pub title: String,
    /// The body; Markdown when wrapped in `%%% \n ... \n %%%`.
    pub text: String,
    /// When the event happened, Unix ms. Listing filters and orders on it.
    pub date_happened: i64,
    /// `"normal"` or `"low"`; `None` counts as `"normal"` when filtering.
    pub priority: Option<String>,
    /// The host the event is about.
    pub host: Option<String>,
    /// Tags in the order given. Listing matches them exactly.
    pub tags: Vec<String>,
    /// `error`, `warning`, `info`, `success`, `user_update`,
    /// `recommendation` or `snapshot`.
    pub alert_type: Option<String>,
    /// Groups related events (Datadog rolls them up in its UI).
    pub aggregation_key: Option<String>,
    /// The source ("my_apps", "docker"); the `sources` list filter matches
    /// it case-insensitively.
    pub source_type_name: Option<String>,
    /// The parent event's id (see [`EventQuery::unaggregated`]).
    pub related_event_id: Option<i64>,
    /// The device the event is about.
    pub device_name: Option<String>,
    /// Anything else, kept as JSON: v2 fields (`category`,
    /// `integration_id`, the nested `attributes`) and whatever a later API
    /// needs. `Null` when there is nothing.
    pub extra: serde_json::Value,
}

/// A stored event: the [`NewEvent`] plus what the store assigned.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Unique within the store (across orgs), assigned in insertion order,
    /// never reused. Positive.
    pub id: i64,
    /// When the store received it, Unix ms.
    pub created_at: i64,
    /// Title, as given.
    pub title: String,
    /// Text, as given.
    pub text: String,
    /// Unix ms.
    pub date_happened: i64,
    /// As given.
    pub priority: Option<String>,
    /// As given.
    pub host: Option<String>,
    /// As given, in order.
    pub tags: Vec<String>,
    /// As given.
    pub alert_type: Option<String>,
    /// As given.
    pub aggregation_key: Option<String>,
    /// As given.
    pub source_type_name: Option<String>,
    /// As given.
    pub related_event_id: Option<i64>,
    /// As given.
    pub device_name: Option<String>,
    /// As given.
    pub extra: serde_json::Value,
}

/// The filters of `GET /api/v1/events` (spec §5.2), in store terms.
///
/// An event is listed when all of these hold:
/// - `start_ms <= date_happened <= end_ms` (both ends inclusive);
/// - `priority`, when set: the event's priority equals it, an event without
///   one counting as `"normal"`. Accepted values: `"normal"`, `"low"`, and
///   `"all"` (no filter); anything else is [`MetaError::Invalid`](crate::MetaError::Invalid);
/// - `sources`, when not empty: the event's `source_type_name` equals one of
///   them, ignoring ASCII case;
/// - `tags`: the event carries every one of them (exact match);
/// - unless `unaggregated`: the event has no parent (`related_event_id`)
///   in the same org whose `date_happened` lies outside the range. This is
///   Datadog's documented rule ("if an event is aggregated to a parent event
///   with a timestamp outside of the timeframe, it won't be available in the
///   output"), with the explicit `related_event_id` as the parent link.
///   Events are not rolled up by `aggregation_key` (server choice).
///
/// Results are newest first (`date_happened` descending, then id
/// descending, so the order is total and paging is stable), `limit` per
/// page, `page` counted from 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventQuery {
    /// Inclusive lower bound on `date_happened`, Unix ms.
    pub start_ms: i64,
    /// Inclusive upper bound on `date_happened`, Unix ms.
    pub end_ms: i64,
    /// `"normal"`, `"low"` or `"all"`; `None` is no filter.
    pub priority: Option<String>,
    /// Source names; empty is no filter. Empty strings are ignored.
    pub sources: Vec<String>,
    /// Tags that must all be present; empty is no filter. Empty strings
    /// are ignored.
    pub tags: Vec<String>,
    /// `true`: list every event in range, parent or not.
    pub unaggregated: bool,
    /// Page size. 0 means [`EventQuery::DEFAULT_LIMIT`]; larger than
    /// [`EventQuery::MAX_LIMIT`] is capped to it.
    pub limit: usize,
    /// Page number from 0: skips `page * limit` events.
    pub page: usize,
}

impl EventQuery {
    /// Datadog answers at most 1 000 events per page of `GET /api/v1/events`
    /// ("this endpoint returns a maximum of 1000 most recent results"); the
    /// same number is the default and the cap here.
    pub const DEFAULT_LIMIT: usize = 1000;
    /// See [`EventQuery::DEFAULT_LIMIT`].
    pub const MAX_LIMIT: usize = 1000;

    /// A query for every event in `[start_ms, end_ms]`, first page, no
    /// other filter, aggregated view.
    pub fn range(start_ms: i64, end_ms: i64) -> EventQuery {
        EventQuery {
            start_ms,
            end_ms,
            priority: None,
            sources: Vec::new(),
            tags: Vec::new(),
            unaggregated: false,
            limit: EventQuery::DEFAULT_LIMIT,
            page: 0,
        }
    }
}

/// The last status reported for one check run series: one per (org, check,
/// host, sorted tag set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckStatus {
    /// The check's name (`app.is_up`).
    pub check: String,
    /// The host it ran on; `None` when none was given (an empty host is
    /// taken as none).
    pub host: Option<String>,
    /// Sorted, without duplicates.
    pub tags: Vec<String>,
    /// 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    pub status: u8,
    /// The message that came with that status (may be empty).
    pub message: String,
    /// The run's timestamp, Unix ms.
    pub ts_ms: i64,
}
