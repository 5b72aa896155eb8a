//! The receive loops: socket → batch of datagrams → parse → aggregator.
//!
//! Each loop owns one reusable batch buffer and one reusable sample vector.
//! It drains the socket without blocking until the batch is full or the
//! socket is empty, parses the whole batch outside any lock (computing each
//! sample's context hash there too), then takes the aggregator lock once
//! and applies every sample with one clock reading. Events and service
//! checks go to the sink as they are parsed.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{UdpSocket, UnixDatagram};
use tokio::sync::watch;

use super::Shared;
use super::stats::BatchCounts;
use crate::aggregate::DropReason;
use crate::parse::{Message, MetricSample, lines, parse_message};

/// Bytes of datagrams gathered before a batch is parsed: large enough that
/// the per-batch costs (one lock, one clock read, a few atomic adds) vanish
/// next to ~4 000 lines of 1 432-byte datagrams, small enough that the lock
/// is held well under a millisecond.
const BATCH_TARGET_BYTES: usize = 256 << 10;

/// Most datagrams in a batch, so that single-line datagrams also make
/// batches of bounded work (~1 000 lines).
const MAX_BATCH_DATAGRAMS: usize = 1024;

/// Batches drained after shutdown is asked for: datagrams already queued in
/// the socket are still counted and aggregated, but a sender that never
/// stops cannot hold shutdown up (64 batches is at most ~16 MiB).
const FINAL_DRAIN_BATCHES: usize = 64;

/// Pause after a receive error other than "would block", so a persistent
/// error cannot spin the task.
const ERROR_BACKOFF: Duration = Duration::from_millis(10);

/// A datagram socket the loop can drain.
pub(crate) trait DatagramSocket: Send + Sync + 'static {
    /// Receives one datagram without blocking (`WouldBlock` when empty).
    fn try_recv_one(&self, buf: &mut [u8]) -> io::Result<usize>;
    /// Waits until the socket may be readable.
    fn wait_readable(&self) -> impl Future<Output = io::Result<()>> + Send;
}

impl DatagramSocket for UdpSocket {
    #[inline]
    fn try_recv_one(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.try_recv_from(buf).map(|(n, _)| n)
    }
    fn wait_readable(&self) -> impl Future<Output = io::Result<()>> + Send {
        self.readable()
    }
}

impl DatagramSocket for UnixDatagram {
    #[inline]
    fn try_recv_one(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.try_recv(buf)
    }
    fn wait_readable(&self) -> impl Future<Output = io::Result<()>> + Send {
        self.readable()
    }
}

/// Datagrams stored back to back in one buffer.
pub(crate) struct DatagramBatch {
    buf: Vec<u8>,
    used: usize,
    ends: Vec<usize>,
    max_datagram: usize,
}

/// How a fill ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Fill {
    /// The batch is full; the socket may hold more.
    Full,
    /// The socket is empty.
    Drained,
    /// A receive error (counted); back off before trying again.
    Error,
}

impl DatagramBatch {
    pub(crate) fn new(max_datagram: usize) -> Self {
        DatagramBatch {
            buf: vec![0; BATCH_TARGET_BYTES + max_datagram],
            used: 0,
            ends: Vec::with_capacity(MAX_BATCH_DATAGRAMS),
            max_datagram,
        }
    }

    /// Receives datagrams until the batch is full or the socket is empty.
    pub(crate) fn fill<S: DatagramSocket>(&mut self, sock: &S, shared: &Shared) -> Fill {
        while self.ends.len() < MAX_BATCH_DATAGRAMS
            && self.buf.len() - self.used >= self.max_datagram
        {
            let slot = &mut self.buf[self.used..self.used + self.max_datagram];
            match sock.try_recv_one(slot) {
                Ok(n) => {
                    self.used += n;
                    self.ends.push(self.used);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Fill::Drained,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    tracing::debug!(error = %e, "DogStatsD receive error");
                    shared.stats.add_receive_error();
                    return Fill::Error;
                }
            }
        }
        Fill::Full
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.used = 0;
        self.ends.clear();
    }

    pub(crate) fn datagrams(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let d = &self.buf[start..end];
            start = end;
            d
        })
    }
}

/// Reuses a vector's allocation for a type of the same layout (here: the
/// same sample type with another lifetime). In-place `collect` keeps the
/// buffer since nothing is left to map.
fn reuse<T, U>(mut v: Vec<T>) -> Vec<U> {
    v.clear();
    v.into_iter()
        .map(|_| unreachable!("the vector is empty"))
        .collect()
}

/// Parses batches and applies them to the aggregator.
#[derive(Default)]
pub(crate) struct BatchProcessor {
    samples: Vec<(MetricSample<'static>, u64)>,
}

impl BatchProcessor {
    pub(crate) fn process<'b>(
        &mut self,
        datagrams: impl Iterator<Item = &'b [u8]>,
        shared: &Shared,
    ) {
        let mut samples: Vec<(MetricSample<'b>, u64)> = reuse(std::mem::take(&mut self.samples));
        let mut counts = BatchCounts::default();
        for datagram in datagrams {
            counts.datagrams += 1;
            counts.bytes += datagram.len() as u64;
            for line in lines(datagram) {
                counts.lines += 1;
                match parse_message(line) {
                    Ok(Message::Metric(m)) => {
                        counts.metrics += 1;
                        let hash = shared.hasher.hash(&m);
                        samples.push((m, hash));
                    }
                    Ok(Message::Event(mut e)) => {
                        counts.events += 1;
                        if e.host.is_none() {
                            e.host.clone_from(&shared.default_host);
                        }
                        shared.sink.event(e);
                    }
                    Ok(Message::ServiceCheck(mut c)) => {
                        counts.service_checks += 1;
                        if c.host.is_none() {
                            c.host.clone_from(&shared.default_host);
                        }
                        shared.sink.service_check(c);
                    }
                    Err(code) => counts.malformed[code as usize] += 1,
                }
            }
        }
        if !samples.is_empty() {
            let now = shared.clock.now_ms();
            let mut agg = shared.lock();
            for (sample, hash) in &samples {
                // Drops are counted inside the aggregator.
                let _ = agg.add_hashed(sample, *hash, now);
            }
            for reason in DropReason::ALL {
                shared.stats.set_dropped(reason, agg.dropped(reason));
            }
        }
        shared.stats.add_batch(&counts);
        self.samples = reuse(samples);
    }
}

/// Receives from `sock` until `stop` fires (or its sender is dropped), then
/// drains what is already queued.
pub(crate) async fn receive_loop<S: DatagramSocket>(
    sock: Arc<S>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let mut batch = DatagramBatch::new(shared.max_datagram_bytes);
    let mut processor = BatchProcessor::default();
    'outer: loop {
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            ready = sock.wait_readable() => {
                if let Err(e) = ready {
                    tracing::warn!(error = %e, "DogStatsD socket not readable");
                    shared.stats.add_receive_error();
                    tokio::time::sleep(ERROR_BACKOFF).await;
                    continue;
                }
            }
        }
        loop {
            let fill = batch.fill(&*sock, &shared);
            if !batch.is_empty() {
                processor.process(batch.datagrams(), &shared);
                batch.clear();
            }
            match fill {
                Fill::Drained => break,
                Fill::Error => {
                    tokio::time::sleep(ERROR_BACKOFF).await;
                    break;
                }
                Fill::Full => {
                    // Under sustained load the socket never runs dry: give
                    // the other tasks of this thread a turn, and notice a
                    // shutdown.
                    tokio::task::yield_now().await;
                    if stop.has_changed().unwrap_or(true) {
                        break 'outer;
                    }
                }
            }
        }
    }
    for _ in 0..FINAL_DRAIN_BATCHES {
        let fill = batch.fill(&*sock, &shared);
        if !batch.is_empty() {
            processor.process(batch.datagrams(), &shared);
            batch.clear();
        }
        if fill != Fill::Full {
            break;
        }
    }
}
