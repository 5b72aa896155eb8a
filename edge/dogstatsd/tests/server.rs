//! Server tests: real UDP and Unix datagrams to a started server, checked
//! at the sink.

mod common;

use std::os::unix::net::UnixDatagram as StdUnixDatagram;
use std::sync::Arc;
use std::time::Duration;

use common::{RecordingSink, one, rows};
use whippet_dogstatsd::{
    AggregatorConfig, ParseErrorCode, Server, ServerConfig, ServiceCheckStatus, Sink,
};
use whippet_tsdb::Clock;

const T0: i64 = 1_700_000_000_000;

fn config(clock: Clock) -> ServerConfig {
    ServerConfig {
        udp_addr: Some("127.0.0.1:0".parse().unwrap()),
        default_host: Some("test-host".into()),
        clock,
        ..ServerConfig::default()
    }
}

/// Waits until the server has seen `lines` lines (datagrams are async).
async fn wait_lines(handle: &whippet_dogstatsd::ServerHandle, lines: u64) {
    for _ in 0..500 {
        if handle.stats().lines() >= lines {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("only {} of {lines} lines arrived", handle.stats().lines());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_fixture_replay_reaches_the_sink() {
    let sink = Arc::new(RecordingSink::default());
    let handle = Server::start(config(Clock::manual(T0 + 1_000)), sink.clone())
        .await
        .unwrap();
    let addr = handle.local_udp_addr().unwrap();
    let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let datagrams = common::fixture("datadogpy_dogstatsd.datagrams.json");
    let lines: usize = datagrams
        .iter()
        .map(|d| d.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count())
        .sum();
    for d in &datagrams {
        client.send_to(d, addr).unwrap();
    }
    client.send_to(b"bad line\nx:1|zz\n", addr).unwrap();
    wait_lines(&handle, lines as u64 + 2).await;
    let stats = handle.stats().snapshot();
    assert_eq!(stats.datagrams, datagrams.len() as u64 + 1);
    assert_eq!(stats.events, 1);
    assert_eq!(stats.service_checks, 1);
    assert_eq!(handle.stats().malformed(ParseErrorCode::MissingType), 1);
    assert_eq!(handle.stats().malformed(ParseErrorCode::UnknownType), 1);
    assert_eq!(handle.stats().malformed_total(), 2);
    // Events and service checks are handed over as they arrive, with the
    // default host where none was sent.
    {
        let events = sink.events.lock().unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].title, "Deploy finished");
        assert_eq!(events[0].text, "line1\nline2 done");
        assert_eq!(events[0].host.as_deref(), Some("web-1"));
        let checks = sink.checks.lock().unwrap();
        assert_eq!(checks[0].name, "app.is_up");
        assert_eq!(checks[0].status, ServiceCheckStatus::Warning);
    }
    handle.shutdown().await;
    let metrics = sink.metrics();
    let total: f64 = rows(&metrics, "example.count")
        .iter()
        .map(|m| m.value)
        .sum();
    assert!((total - 2.000003).abs() < 1e-9);
    let g = one(&metrics, "example.gauge");
    assert_eq!(g.value, 42.5);
    assert_eq!(g.ts_ms, T0);
    assert_eq!(g.tags, ["env:dev", "host:test-host", "role:web"]);
    assert_eq!(one(&metrics, "example.set").value, 1.0);
    assert_eq!(one(&metrics, "example.histogram.max").value, 12.5);
    assert!(
        sink.sketches()
            .iter()
            .any(|s| s.metric == "example.distribution")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_datagrams_reach_the_sink_and_the_socket_is_cleaned_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dsd.socket");
    // A stale socket file from a "previous run" is replaced.
    drop(StdUnixDatagram::bind(&path).unwrap());
    assert!(path.exists());
    let sink = Arc::new(RecordingSink::default());
    let cfg = ServerConfig {
        udp_addr: None,
        socket_path: Some(path.clone()),
        ..config(Clock::manual(T0))
    };
    let handle = Server::start(cfg, sink.clone()).await.unwrap();
    assert!(handle.local_udp_addr().is_none());
    assert!(handle.receive_buffer_bytes().1.unwrap() > 0);
    let client = StdUnixDatagram::unbound().unwrap();
    // A buffered 8 KiB-style datagram of many lines, and a service check.
    let big: String = (0..200)
        .map(|i| format!("uds.count:1|c|#i:{}\n", i % 4))
        .collect();
    client.send_to(big.as_bytes(), &path).unwrap();
    client.send_to(b"_sc|uds.check|2|#a:b\n", &path).unwrap();
    wait_lines(&handle, 201).await;
    // A second server on the same live path is refused.
    let second = Server::start(
        ServerConfig {
            udp_addr: None,
            socket_path: Some(path.clone()),
            ..ServerConfig::default()
        },
        sink.clone(),
    )
    .await;
    assert_eq!(second.err().unwrap().kind(), std::io::ErrorKind::AddrInUse);
    handle.shutdown().await;
    assert!(!path.exists());
    let metrics = sink.metrics();
    let counts = rows(&metrics, "uds.count");
    assert_eq!(counts.len(), 4);
    assert!(counts.iter().all(|m| m.value == 50.0 && m.ts_ms == T0));
    let checks = sink.checks.lock().unwrap();
    assert_eq!(checks[0].host.as_deref(), Some("test-host"));
    assert_eq!(checks[0].tags, ["a:b"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flush_tick_emits_closed_buckets_only() {
    let clock = Clock::manual(T0 + 1_000);
    let sink = Arc::new(RecordingSink::default());
    let cfg = ServerConfig {
        flush_interval: Duration::from_millis(20),
        ..config(clock.clone())
    };
    let handle = Server::start(cfg, sink.clone()).await.unwrap();
    let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .send_to(b"tick:1|c\ntick.g:2|g\n", handle.local_udp_addr().unwrap())
        .unwrap();
    wait_lines(&handle, 2).await;
    // Ticks keep coming, but the bucket is open: nothing flushed.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(sink.metrics().is_empty());
    clock.set_ms(T0 + 10_000);
    for _ in 0..200 {
        if !sink.metrics().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let metrics = sink.metrics();
    assert_eq!(one(&metrics, "tick").value, 1.0);
    assert_eq!(one(&metrics, "tick").ts_ms, T0);
    assert_eq!(handle.stats().snapshot().flushes, 1);
    // Zero-fill comes from later ticks as the clock moves.
    clock.set_ms(T0 + 20_000);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let zeros: Vec<_> = rows(&sink.metrics(), "tick")
        .iter()
        .map(|m| (m.ts_ms, m.value))
        .collect();
    assert_eq!(zeros, [(T0, 1.0), (T0 + 10_000, 0.0)]);
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_flushes_the_open_bucket_and_what_is_queued() {
    let sink = Arc::new(RecordingSink::default());
    let cfg = ServerConfig {
        udp_receive_tasks: 2,
        ..config(Clock::manual(T0 + 3_000))
    };
    let handle = Server::start(cfg, sink.clone()).await.unwrap();
    let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = handle.local_udp_addr().unwrap();
    // 200 datagrams of 5 lines: few enough that the loopback device's
    // backlog (net.core.netdev_max_backlog, often 1000) cannot drop any.
    for _ in 0..200 {
        client
            .send_to(b"q:1|c\nq:1|c\nq:1|c\nq:1|c\nq:1|c\n", addr)
            .unwrap();
    }
    // Loopback delivery is asynchronous: let the datagrams reach the socket
    // queue, but do not wait for them to be processed.
    tokio::time::sleep(Duration::from_millis(50)).await;
    handle.shutdown().await;
    let metrics = sink.metrics();
    assert_eq!(one(&metrics, "q").value, 1000.0);
    assert_eq!(one(&metrics, "q").ts_ms, T0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_context_cap_is_reported_in_stats() {
    let sink = Arc::new(RecordingSink::default());
    let cfg = ServerConfig {
        aggregation: AggregatorConfig {
            max_contexts: 3,
            ..AggregatorConfig::default()
        },
        ..config(Clock::manual(T0))
    };
    let handle = Server::start(cfg, sink.clone()).await.unwrap();
    let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let d: String = (0..10).map(|i| format!("cap.{i}:1|g\n")).collect();
    client
        .send_to(d.as_bytes(), handle.local_udp_addr().unwrap())
        .unwrap();
    wait_lines(&handle, 10).await;
    assert_eq!(handle.stats().dropped_total(), 7);
    let series = handle.stats().snapshot().series();
    assert!(
        series
            .iter()
            .any(|(name, tags, v)| *name == "whippet.dogstatsd.dropped.count"
                && tags == &["reason:context_limit"]
                && *v == 7)
    );
    handle.shutdown().await;
    assert_eq!(sink.metrics().len(), 3);
}

#[tokio::test]
async fn invalid_configurations_are_refused_before_binding() {
    let sink: Arc<dyn Sink> = Arc::new(RecordingSink::default());
    let bad = [
        ServerConfig {
            udp_addr: None,
            ..ServerConfig::default()
        },
        ServerConfig {
            flush_interval: Duration::ZERO,
            ..ServerConfig::default()
        },
        ServerConfig {
            aggregation: AggregatorConfig {
                histogram_percentiles: vec![1.5],
                ..AggregatorConfig::default()
            },
            ..ServerConfig::default()
        },
        ServerConfig {
            udp_receive_tasks: 0,
            ..ServerConfig::default()
        },
    ];
    for cfg in bad {
        let err = Server::start(cfg, sink.clone()).await.err().unwrap();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
    }
    // A regular file at the socket path is never removed.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-a-socket");
    std::fs::write(&path, b"keep me").unwrap();
    let cfg = ServerConfig {
        udp_addr: None,
        socket_path: Some(path.clone()),
        ..ServerConfig::default()
    };
    let err = Server::start(cfg, sink).await.err().unwrap();
    assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read(&path).unwrap(), b"keep me");
}
