//! # whippet-monitors: what a monitor is and how it decides (service plane)
//!
//! ## What it owns
//! - [`definition`]: a monitor's definition as the API takes it, checked
//!   (Datadog's 400 messages), with Datadog's defaults, and the [`state::Rules`]
//!   it implies.
//! - [`query`]: the monitor query syntax of every supported monitor type
//!   (`avg(last_5m):avg:system.cpu.user{env:prod} by {host} > 90`, the
//!   `change()`/`pct_change()` forms, service checks, event alerts,
//!   composites), parsed into a tree with errors Datadog's API would give.
//! - [`state`]: the per-group alert state machine (OK, Warn, Alert, No Data,
//!   Skipped): thresholds and their recovery thresholds, `new_group_delay`,
//!   `notify_no_data`/`no_data_timeframe`, `renotify_interval`, as one
//!   explicit, documented transition function.
//! - [`template`]: the notification message language (`{{#is_alert}}`,
//!   `{{value}}`, `{{host.name}}`, ...) and the `@`-handles a message
//!   mentions.
//!
//! ## What it must never do
//! Read storage, evaluate queries, keep time, do I/O or log: every function
//! here is a pure function of its arguments (the clock is a parameter), so
//! that the scheduler, the offline `whippet monitors test` runner and the
//! tests all decide the same way. It never panics on any input.
//! Evaluation, persistence and delivery live in the server.

pub mod comparator;
pub mod definition;
pub mod query;
pub mod state;
pub mod template;
