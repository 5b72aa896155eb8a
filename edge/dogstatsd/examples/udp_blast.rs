//! Blasts DogStatsD counts over UDP at an in-process server for a while and
//! reports what arrived: lines sent, lines received, the sum of the flushed
//! counts (end to end through the aggregator), the loss, and the kernel's
//! UDP receive-buffer drops.
//!
//! ```text
//! cargo run --release -p whippet-dogstatsd --example udp_blast -- \
//!     [--seconds 10] [--rates 250000,500000,1000000,0] [--lines-per-datagram 25] \
//!     [--contexts 10000] [--senders 1] [--server-threads 1] [--receive-tasks 1]
//! ```
//!
//! A rate of 0 sends as fast as the senders can. Every line is
//! `blast.<k>:1|c|#...`, so the flushed counts must add up to the lines
//! received. Sender threads and server threads share the machine: on 2 cores
//! use 1 sender and 1 server thread.

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use whippet_dogstatsd::{Event, Flush, ServerConfig, ServiceCheck, Sink};

#[derive(Default)]
struct CountingSink {
    /// Σ flushed count values, in thousandths (counts here are integers).
    total_milli: AtomicU64,
    rows: AtomicU64,
}

impl Sink for CountingSink {
    fn metrics(&self, flush: Flush) {
        let sum: f64 = flush.metrics.iter().map(|m| m.value).sum();
        self.total_milli
            .fetch_add((sum * 1000.0).round() as u64, Ordering::Relaxed);
        self.rows
            .fetch_add(flush.metrics.len() as u64, Ordering::Relaxed);
    }
    fn event(&self, _: Event) {}
    fn service_check(&self, _: ServiceCheck) {}
}

#[derive(Clone)]
struct Args {
    seconds: f64,
    rates: Vec<u64>,
    lines_per_datagram: usize,
    contexts: usize,
    senders: usize,
    server_threads: usize,
    receive_tasks: usize,
}

fn args() -> Args {
    let mut a = Args {
        seconds: 10.0,
        rates: vec![0],
        lines_per_datagram: 25,
        contexts: 10_000,
        senders: 1,
        server_threads: 1,
        receive_tasks: 1,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut it = argv.iter();
    while let Some(flag) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--seconds" => a.seconds = v.parse().unwrap(),
            "--rates" => a.rates = v.split(',').map(|r| r.parse().unwrap()).collect(),
            "--lines-per-datagram" => a.lines_per_datagram = v.parse().unwrap(),
            "--contexts" => a.contexts = v.parse().unwrap(),
            "--senders" => a.senders = v.parse().unwrap(),
            "--server-threads" => a.server_threads = v.parse().unwrap(),
            "--receive-tasks" => a.receive_tasks = v.parse().unwrap(),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

/// Kernel counters from /proc/net/snmp (`Udp:` line) by name.
fn udp_snmp() -> HashMap<String, u64> {
    let text = std::fs::read_to_string("/proc/net/snmp").unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("Udp:")).collect();
    if lines.len() < 2 {
        return HashMap::new();
    }
    lines[0]
        .split_whitespace()
        .zip(lines[1].split_whitespace())
        .skip(1)
        .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
        .collect()
}

/// Pre-built datagrams for one sender.
fn datagrams(sender: usize, a: &Args) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for d in 0..512 {
        let mut buf = Vec::new();
        for l in 0..a.lines_per_datagram {
            let k = (sender * 7919 + d * a.lines_per_datagram + l) % a.contexts;
            buf.extend_from_slice(
                format!(
                    "blast.m{}:1|c|#env:prod,service:svc{},shard:{}\n",
                    k % 100,
                    k / 100 % 20,
                    k
                )
                .as_bytes(),
            );
        }
        out.push(buf);
    }
    out
}

/// Sends for `seconds` at `rate` lines/s in total (0 = unpaced); returns
/// lines sent.
fn send(target: SocketAddr, sender: usize, rate: u64, a: &Args) -> u64 {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(target).unwrap();
    let grams = datagrams(sender, a);
    let per_sec = rate as f64 / a.senders as f64 / a.lines_per_datagram as f64;
    let start = Instant::now();
    let end = Duration::from_secs_f64(a.seconds);
    let mut sent: u64 = 0;
    loop {
        let elapsed = start.elapsed();
        if elapsed >= end {
            break;
        }
        if rate > 0 {
            let due = (elapsed.as_secs_f64() * per_sec) as u64;
            if sent >= due {
                std::thread::sleep(Duration::from_micros(100));
                continue;
            }
        }
        // A short burst between clock reads.
        for _ in 0..16 {
            if sock.send(&grams[sent as usize % grams.len()]).is_ok() {
                sent += 1;
            }
        }
    }
    sent * a.lines_per_datagram as u64
}

fn main() {
    let a = args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(a.server_threads)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "| target lines/s | sent lines/s | received lines/s | loss | flushed sum = received | kernel RcvbufErrors |"
    );
    println!("|---|---|---|---|---|---|");
    for &rate in &a.rates {
        let sink = Arc::new(CountingSink::default());
        let config = ServerConfig {
            udp_addr: Some("127.0.0.1:0".parse().unwrap()),
            udp_receive_tasks: a.receive_tasks,
            ..ServerConfig::default()
        };
        let handle = rt
            .block_on(whippet_dogstatsd::Server::start(config, sink.clone()))
            .unwrap();
        let target = handle.local_udp_addr().unwrap();
        let before = udp_snmp();
        let started = Instant::now();
        let senders: Vec<_> = (0..a.senders)
            .map(|s| {
                let a2 = a.clone();
                std::thread::spawn(move || send(target, s, rate, &a2))
            })
            .collect();
        let sent: u64 = senders.into_iter().map(|t| t.join().unwrap()).sum();
        let send_secs = started.elapsed().as_secs_f64();
        // Wait until the server has caught up.
        let mut last = u64::MAX;
        while handle.stats().lines() != last {
            last = handle.stats().lines();
            std::thread::sleep(Duration::from_millis(300));
        }
        let received = handle.stats().lines();
        rt.block_on(handle.shutdown());
        let after = udp_snmp();
        let rcvbuf_errors =
            after.get("RcvbufErrors").unwrap_or(&0) - before.get("RcvbufErrors").unwrap_or(&0);
        let flushed = sink.total_milli.load(Ordering::Relaxed) as f64 / 1000.0;
        let loss = 1.0 - received as f64 / sent as f64;
        println!(
            "| {} | {:.0} | {:.0} | {:.3}% | {} | {} |",
            if rate == 0 {
                "unpaced".to_string()
            } else {
                rate.to_string()
            },
            sent as f64 / send_secs,
            received as f64 / send_secs,
            loss * 100.0,
            if flushed == received as f64 {
                "yes".to_string()
            } else {
                format!("NO ({flushed})")
            },
            rcvbuf_errors
        );
    }
}
