//! Monitors at work: the scheduler that evaluates every monitor on its
//! cadence ([`schedule`]) and the deliverer that sends the notifications
//! evaluations queue ([`deliver`]).
//!
//! What decides (query syntax, thresholds, the state machine, templates)
//! is `whippet-monitors`, a pure crate; what persists (definitions, group
//! states, transitions, the outbox) is the metadata store. This module
//! reads data, calls the one and writes to the other.

pub mod deliver;
pub mod downtime;
pub mod schedule;
pub mod smtp;
pub mod tls;
