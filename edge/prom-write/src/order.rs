//! Out-of-order and duplicate samples, as Prometheus' receiver judges them.
//!
//! Whippet's storage engine accepts a point at any time (Datadog's
//! semantics: the last write wins); Prometheus' TSDB does not, and remote
//! write senders are built around its answers. What Prometheus does, read
//! in `storage/remote/write_handler.go` of 2.42 and of today's release and
//! checked against a real 2.42 server (`prometheus
//! --web.enable-remote-write-receiver`, 2026-11-27):
//!
//! - A sample older than its series' newest **stored** (committed) sample
//!   fails the request: 400 `out of order sample`, and the whole request is
//!   rolled back (its good samples, of this series and of every other one,
//!   are not stored). Same for a sample at the newest stored timestamp with
//!   another value (compared bit for bit, so staleness markers are equal to
//!   each other): 400 `duplicate sample for timestamp`. The same timestamp
//!   with the same value is accepted and changes nothing. Today's release
//!   does the same for remote write 1.0 (the partial writes of its handler
//!   are remote write 2.0's).
//! - Conflicts **inside** one request (a sample older than, or at the time
//!   of, an earlier sample of the same series in the same request, the
//!   series possibly sent twice) are not errors: the appender checks each
//!   sample against the committed state only, and the commit then drops
//!   the later, conflicting samples silently (first one wins). The request
//!   is answered 204.
//!
//! Whippet follows that (the e2e test runs Prometheus 2.42), with
//! [`SeriesOrder`] per series of a request: [`SeriesOrder::admit`] says
//! for each sample, in request order, whether to store it, drop it, or
//! fail the request. Prometheus' "out of bounds" (a sample older than its
//! head's window, about an hour) has no counterpart: Whippet stores any
//! time inside the org's retention.
//!
//! The stored newest sample comes from the receiver's memory of what it
//! wrote, or from the storage engine's newest timestamp of the series
//! (`Engine::newest_points`), which has no value: then a sample at exactly
//! that timestamp cannot be told identical or different, and is accepted
//! (stored, the last write wins). That happens only for the first request
//! of a series after a restart, where a retried identical sample is the
//! usual cause.

use crate::decode::Sample;

/// The newest sample a series had before the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Newest {
    /// Its timestamp (ms).
    pub ts: i64,
    /// Its value's bits, when known.
    pub value_bits: Option<u64>,
}

/// Why a sample fails its request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Conflict {
    /// Older than the newest stored sample, at `newest`.
    OutOfOrder {
        /// The newest stored timestamp.
        newest: i64,
    },
    /// At the newest stored timestamp with another value.
    Duplicate {
        /// The stored value.
        stored: f64,
    },
}

/// What to do with one sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Store it.
    Store,
    /// Nothing to store: the same sample is already stored.
    AlreadyStored,
    /// Drop it silently: it conflicts with an earlier sample of the same
    /// request.
    DropInRequest,
}

/// The order state of one series during one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesOrder {
    stored: Option<Newest>,
    /// The newest sample admitted by this request: timestamp and bits.
    admitted: Option<(i64, u64)>,
}

impl SeriesOrder {
    /// A series whose newest stored sample is `stored` (`None`: no sample
    /// that could conflict).
    pub fn new(stored: Option<Newest>) -> SeriesOrder {
        SeriesOrder {
            stored,
            admitted: None,
        }
    }

    /// Judges the next sample of the series, in request order.
    pub fn admit(&mut self, s: Sample) -> Result<Verdict, Conflict> {
        let bits = s.value.to_bits();
        if let Some(st) = self.stored {
            if s.ts < st.ts {
                return Err(Conflict::OutOfOrder { newest: st.ts });
            }
            if s.ts == st.ts {
                match st.value_bits {
                    Some(b) if b != bits => {
                        return Err(Conflict::Duplicate {
                            stored: f64::from_bits(b),
                        });
                    }
                    Some(_) => return Ok(Verdict::AlreadyStored),
                    // Unknown value (see the module doc): store it, once.
                    None => {}
                }
            }
        }
        if let Some((ts, _)) = self.admitted
            && s.ts <= ts
        {
            return Ok(Verdict::DropInRequest);
        }
        self.admitted = Some((s.ts, bits));
        Ok(Verdict::Store)
    }

    /// The newest sample this request admitted, if any.
    pub fn admitted(&self) -> Option<Newest> {
        self.admitted.map(|(ts, b)| Newest {
            ts,
            value_bits: Some(b),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(ts: i64, value: f64) -> Sample {
        Sample { ts, value }
    }

    fn run(stored: Option<Newest>, samples: &[Sample]) -> Result<Vec<Verdict>, Conflict> {
        let mut o = SeriesOrder::new(stored);
        samples.iter().map(|&x| o.admit(x)).collect()
    }

    const STALE: u64 = 0x7ff0_0000_0000_0002;

    #[test]
    fn in_order_samples_are_stored() {
        use Verdict::*;
        assert_eq!(run(None, &[s(1, 1.0), s(2, 2.0)]), Ok(vec![Store, Store]));
        let st = Some(Newest {
            ts: 5,
            value_bits: Some(1f64.to_bits()),
        });
        assert_eq!(run(st, &[s(6, 0.0)]), Ok(vec![Store]));
    }

    #[test]
    fn conflicts_with_stored_samples_fail() {
        let st = Some(Newest {
            ts: 5,
            value_bits: Some(1f64.to_bits()),
        });
        assert_eq!(
            run(st, &[s(6, 0.0), s(4, 1.0)]),
            Err(Conflict::OutOfOrder { newest: 5 })
        );
        assert_eq!(
            run(st, &[s(5, 2.0)]),
            Err(Conflict::Duplicate { stored: 1.0 })
        );
        // Same time, same bits: accepted, nothing to store.
        assert_eq!(run(st, &[s(5, 1.0)]), Ok(vec![Verdict::AlreadyStored]));
        // Staleness markers compare bit for bit.
        let stale = Some(Newest {
            ts: 5,
            value_bits: Some(STALE),
        });
        assert_eq!(
            run(stale, &[s(5, f64::from_bits(STALE))]),
            Ok(vec![Verdict::AlreadyStored])
        );
        assert!(run(stale, &[s(5, f64::NAN)]).is_err());
    }

    #[test]
    fn unknown_stored_value_at_the_same_time_is_stored_once() {
        let st = Some(Newest {
            ts: 5,
            value_bits: None,
        });
        assert_eq!(
            run(st, &[s(5, 2.0), s(5, 3.0), s(6, 1.0)]),
            Ok(vec![Verdict::Store, Verdict::DropInRequest, Verdict::Store])
        );
        assert_eq!(
            run(st, &[s(4, 2.0)]),
            Err(Conflict::OutOfOrder { newest: 5 })
        );
    }

    #[test]
    fn conflicts_inside_the_request_are_dropped_first_wins() {
        use Verdict::*;
        assert_eq!(
            run(
                None,
                &[s(4, 1.0), s(3, 2.0), s(4, 9.0), s(4, 1.0), s(5, 3.0)]
            ),
            Ok(vec![
                Store,
                DropInRequest,
                DropInRequest,
                DropInRequest,
                Store
            ])
        );
        let mut o = SeriesOrder::new(None);
        o.admit(s(4, 1.0)).unwrap();
        o.admit(s(3, 1.0)).unwrap();
        assert_eq!(
            o.admitted(),
            Some(Newest {
                ts: 4,
                value_bits: Some(1f64.to_bits())
            })
        );
        assert_eq!(SeriesOrder::new(None).admitted(), None);
    }
}
