//! # Notification messages: the template language, `@`-handles, webhook bodies
//!
//! ## What it owns
//! - [`render()`]: a monitor's `message` rendered for one group and one
//!   transition ([`Context`]), in Datadog's notification language.
//! - [`mentions`] / [`rendered_mentions`]: the `@`-handles a message
//!   notifies ([`Handle`]).
//! - [`payload`]: webhook bodies, Datadog's `$VARIABLES` substituted into a
//!   payload template with JSON escaping, the default payload, and a Slack
//!   incoming-webhook body.
//!
//! Files: `context` (what a template can see), `parse` (syntax and
//! recovery), `render` (evaluation), `mention` (handles), `format` (how
//! numbers and dates read), `payload` (webhooks).
//!
//! ## What it must never do
//! I/O, delivery, logging, reading the clock (the notification time is
//! [`Context::now_ms`]) or the state machine (the server maps its states
//! onto [`Status`]). Every function is pure and total: it never panics and
//! never fails on any input. Output size is bounded by the input:
//! [`max_rendered_len`] for messages, [`payload::max_payload_len`] for
//! payloads, and [`mentions`] returns at most `len / 2` handles. Parsing,
//! rendering, handle extraction and payload substitution take time linear
//! in their input (hostile runs of `{{`, `[` or `@` included).
//!
//! ## Syntax
//! - `{{var}}`, `{{ var }}`, `{{{var}}}`: a template variable: `value`,
//!   `threshold`, `warn_threshold`, `alert_recovery_threshold`,
//!   `warn_recovery_threshold`, `ok_threshold`, `comparator`,
//!   `first_triggered_at`, `last_triggered_at` (`2024-10-10 16:39:00 UTC`)
//!   and their `_epoch` forms (milliseconds), `triggered_duration_sec`,
//!   `check_message`, and `<tag key>.name` (`{{host.name}}`,
//!   `{{[dot.key].name}}`, `{{@facet.name}}`), a key with several values
//!   giving them comma-separated in lexicographic order.
//! - `{{#cond}}...{{/cond}}`, `{{^cond}}...{{/cond}}` (inverted), with an
//!   optional `{{else}}`; nested to [`MAX_SECTION_DEPTH`] levels. `cond` is
//!   a [`Conditional`] (`is_alert`, `is_warning`, `is_recovery`,
//!   `is_alert_recovery`, `is_warning_recovery`, `is_alert_to_warning`,
//!   `is_no_data`, `is_no_data_recovery`, `is_unknown`, `is_renotify`), or
//!   `is_match "var" "s1" "s2"...` (any `si` is a substring of the
//!   variable; `""` tests non-empty), `is_exact_match "var" "s1"...`
//!   (equal, or numerically equal when both are numbers), or
//!   `is_priority 'P1'`. Arguments take `"..."`, `'...'` or bare words.
//! - `{{urlencode "var"}}`, `{{local_time 'last_triggered_at' 'zone'}}`.
//! - `{{!-- comment --}}`, `{{! comment }}`: nothing.
//! - `{{{{raw}}}}...{{{{/raw}}}}`: the body literally;
//!   `{{{{is_match ...}}}}...{{{{/is_match}}}}`: the body literally when the
//!   condition holds.
//!
//! ## Decisions where Datadog is silent or Whippet differs
//! - Unknown variables, and variables the context lacks (`{{value}}` on No
//!   Data, `{{region.name}}` on a group without `region`), render as empty
//!   text: Datadog documents exactly this for missing attributes and tags,
//!   and its Handlebars engine does it for any missing name.
//! - Unknown section names are false (`{{#x}}` hides, `{{^x}}` shows), as
//!   Handlebars treats an undefined value.
//! - Unsupported helpers (`{{eval ...}}`, composite `{{a.value}}`, log and
//!   span attributes) render empty. `local_time` prints the instant at
//!   `+00:00` whatever the zone: there is no time-zone database here.
//! - Nothing is escaped: `{{x}}` and `{{{x}}}` render the same. Messages
//!   are plain text or Markdown, not HTML; escaping for a destination
//!   (JSON for webhooks) happens where the destination is known
//!   ([`payload`]).
//! - Malformed templates render, never fail: an unclosed `{{#x}}` or
//!   `{{^x}}`, a `{{/x}}` closing nothing, a stray or second `{{else}}`, an
//!   unclosed `{{`, and a section nested too deep are all kept as literal
//!   text, and an unclosed section's body renders unconditionally (its
//!   handles notify). A broken message thus shows its error to the reader
//!   and notifies too many rather than none. A closing tag closes the
//!   innermost open section of its name; sections left open inside it
//!   become literal. [`Template::problems`] lists these for validation.
//! - `is_no_data_recovery` is No Data → OK (Datadog: "recovers from NO
//!   DATA"), so like every recovery it implies `is_recovery`.
//! - Handles: route the handles of the rendered message
//!   ([`rendered_mentions`]), see [`mention`].

pub mod context;
pub mod format;
pub mod mention;
pub mod parse;
pub mod payload;
pub mod render;

pub use context::{Conditional, Context, Status, Thresholds, Transition};
pub use mention::{Handle, mentions, rendered_mentions, split_slack_target};
pub use parse::{MAX_SECTION_DEPTH, Problem, ProblemKind};
pub use render::{Template, max_rendered_len, render};
