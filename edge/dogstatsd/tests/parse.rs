//! Parser tables: every message form of spec §3 and every captured datagram.

mod common;

use whippet_dogstatsd::parse::SampleValue;
use whippet_dogstatsd::{
    Event, EventAlertType, EventPriority, Message, MetricKind, MetricSample, ParseErrorCode,
    ServiceCheck, ServiceCheckStatus, parse_datagram, parse_message,
};

fn metric(line: &str) -> MetricSample<'_> {
    match parse_message(line.as_bytes()) {
        Ok(Message::Metric(m)) => m,
        other => panic!("{line:?} parsed as {other:?}"),
    }
}

fn values(m: &MetricSample<'_>) -> Vec<f64> {
    m.values().collect()
}

fn err(line: &str) -> ParseErrorCode {
    match parse_message(line.as_bytes()) {
        Err(code) => code,
        Ok(m) => panic!("{line:?} should not parse, got {m:?}"),
    }
}

#[test]
fn metric_types() {
    let cases = [
        ("a:1|g", MetricKind::Gauge),
        ("a:1|c", MetricKind::Count),
        ("a:1|h", MetricKind::Histogram),
        ("a:1|ms", MetricKind::Timing),
        ("a:1|d", MetricKind::Distribution),
        ("a:x|s", MetricKind::Set),
    ];
    for (line, kind) in cases {
        assert_eq!(metric(line).kind, kind, "{line}");
    }
}

#[test]
fn metric_fields() {
    let m = metric("example.count:3|c|@0.999999|#env:dev,role:web");
    assert_eq!(m.name, b"example.count");
    assert_eq!(values(&m), [3.0]);
    assert_eq!(m.sample_rate, 0.999999);
    assert_eq!(m.tags, b"env:dev,role:web");
    assert_eq!(m.timestamp, None);

    // Fields in any order; unknown fields ignored; container id, external
    // data, cardinality and timestamp (protocol 1.2, 1.3).
    let m = metric("m:1.5|g|T1700000000|card:low|x:unknown|e:ext|c:ci-abc|#a:b|@0.5");
    assert_eq!(m.timestamp, Some(1_700_000_000));
    assert_eq!(m.container_id, Some(&b"ci-abc"[..]));
    assert_eq!(m.external_data, Some(&b"ext"[..]));
    assert_eq!(m.cardinality, Some(&b"low"[..]));
    assert_eq!(m.tags, b"a:b");
    assert_eq!(m.sample_rate, 0.5);

    // The last '#' field wins, as in the Agent.
    assert_eq!(metric("m:1|c|#a:1|#b:2").tags, b"b:2");
}

#[test]
fn metric_values() {
    assert_eq!(values(&metric("a:-2|c")), [-2.0]);
    assert_eq!(values(&metric("a:1e3|g")), [1000.0]);
    assert_eq!(values(&metric("a:+4.5|g")), [4.5]);
    assert_eq!(values(&metric("a:.5|g")), [0.5]);
    // Protocol 1.1 multi-value, empty elements skipped.
    assert_eq!(values(&metric("a:1.5:2:3.25|d|#t")), [1.5, 2.0, 3.25]);
    assert_eq!(values(&metric("a:1::2|h")), [1.0, 2.0]);
    assert_eq!(values(&metric("a::1:|h")), [1.0]);
    assert_eq!(metric("a:1:2:3|h").value_count(), 3);
    // Set members are opaque, colons included.
    let m = metric("a:user:123|s");
    assert_eq!(m.value, SampleValue::Set(b"user:123"));
    assert_eq!(values(&m), Vec::<f64>::new());
    assert_eq!(m.value_count(), 1);
}

#[test]
fn sample_rates_outside_zero_one_become_one() {
    for line in [
        "a:1|c|@0",
        "a:1|c|@-1",
        "a:1|c|@2",
        "a:1|c|@nan",
        "a:1|c|@inf",
    ] {
        assert_eq!(metric(line).sample_rate, 1.0, "{line}");
    }
    assert_eq!(metric("a:1|c|@1").sample_rate, 1.0);
    assert_eq!(metric("a:1|c|@0.1").sample_rate, 0.1);
}

#[test]
fn malformed_metrics() {
    let cases = [
        ("a:1", ParseErrorCode::MissingType),
        ("garbage", ParseErrorCode::MissingType),
        ("a|c", ParseErrorCode::InvalidNameValue),
        (":1|c", ParseErrorCode::InvalidNameValue),
        ("a:|c", ParseErrorCode::InvalidNameValue),
        ("123:1|c", ParseErrorCode::InvalidName),
        ("a:1|x", ParseErrorCode::UnknownType),
        ("a:1|", ParseErrorCode::UnknownType),
        ("a:1|gg", ParseErrorCode::UnknownType),
        ("a:abc|g", ParseErrorCode::InvalidValue),
        ("a:nan|g", ParseErrorCode::InvalidValue),
        ("a:inf|c", ParseErrorCode::InvalidValue),
        ("a:1:x|d", ParseErrorCode::InvalidValue),
        ("a:::|d", ParseErrorCode::InvalidValue),
        ("a:1|c|@abc", ParseErrorCode::InvalidSampleRate),
        ("a:1|c|@", ParseErrorCode::InvalidSampleRate),
        ("a:1|g|T0", ParseErrorCode::InvalidTimestamp),
        ("a:1|g|T-5", ParseErrorCode::InvalidTimestamp),
        ("a:1|g|Tabc", ParseErrorCode::InvalidTimestamp),
        ("a:1|g|T", ParseErrorCode::InvalidTimestamp),
        (
            "a:1|g|T9223372036854775807",
            ParseErrorCode::InvalidTimestamp,
        ),
    ];
    for (line, code) in cases {
        assert_eq!(err(line), code, "{line}");
    }
}

#[test]
fn events() {
    let line = r"_e{15,17}:Deploy finished|line1\nline2 done|d:1700000000|h:web-1|k:deploy-1|p:low|s:my_apps|t:success|#env:dev";
    let Ok(Message::Event(e)) = parse_message(line.as_bytes()) else {
        panic!("not an event");
    };
    assert_eq!(
        e,
        Event {
            title: "Deploy finished".into(),
            text: "line1\nline2 done".into(),
            timestamp: Some(1_700_000_000),
            host: Some("web-1".into()),
            aggregation_key: Some("deploy-1".into()),
            priority: EventPriority::Low,
            source_type_name: Some("my_apps".into()),
            alert_type: EventAlertType::Success,
            tags: vec!["env:dev".into()],
            container_id: None,
        }
    );

    // Minimal event; '|' inside title and text is fine (lengths decide).
    let Ok(Message::Event(e)) = parse_message(b"_e{3,3}:a|b|c|d") else {
        panic!()
    };
    assert_eq!((e.title.as_str(), e.text.as_str()), ("a|b", "c|d"));
    assert_eq!(e.priority, EventPriority::Normal);
    assert_eq!(e.alert_type, EventAlertType::Info);

    // Empty text; invalid optional fields are ignored, the event kept.
    let Ok(Message::Event(e)) = parse_message(b"_e{1,0}:t||d:abc|p:urgent|t:bad|c:cid-1|zz") else {
        panic!()
    };
    assert_eq!(e.text, "");
    assert_eq!(e.timestamp, None);
    assert_eq!(e.priority, EventPriority::Normal);
    assert_eq!(e.alert_type, EventAlertType::Info);
    assert_eq!(e.container_id.as_deref(), Some("cid-1"));

    for t in ["error", "warning", "info", "success"] {
        let line = format!("_e{{1,1}}:a|b|t:{t}");
        let Ok(Message::Event(e)) = parse_message(line.as_bytes()) else {
            panic!()
        };
        assert_eq!(e.alert_type.as_str(), t);
    }
}

#[test]
fn malformed_events() {
    let cases = [
        ("_e{", ParseErrorCode::InvalidEventHeader),
        ("_e{1,1:a|b", ParseErrorCode::InvalidEventHeader),
        ("_e{1}:a|b", ParseErrorCode::InvalidEventHeader),
        ("_e{x,1}:a|b", ParseErrorCode::InvalidEventHeader),
        ("_e{1,-1}:a|b", ParseErrorCode::InvalidEventHeader),
        ("_e{0,1}:|b", ParseErrorCode::EmptyEventTitle),
        ("_e{5,1}:a|b", ParseErrorCode::EventTooShort),
        ("_e{1,5}:a|b", ParseErrorCode::EventTooShort),
        (
            "_e{18446744073709551615,18446744073709551615}:a|b",
            ParseErrorCode::EventTooShort,
        ),
        (
            "_e{99999999999999999999999,1}:a|b",
            ParseErrorCode::InvalidEventHeader,
        ),
    ];
    for (line, code) in cases {
        assert_eq!(err(line), code, "{line}");
    }
}

#[test]
fn service_checks() {
    let line = r"_sc|app.is_up|1|d:1700000000|h:web-1|#env:dev|m:disk | almost\nfull m\:x";
    let Ok(Message::ServiceCheck(c)) = parse_message(line.as_bytes()) else {
        panic!("not a service check");
    };
    assert_eq!(
        c,
        ServiceCheck {
            name: "app.is_up".into(),
            status: ServiceCheckStatus::Warning,
            timestamp: Some(1_700_000_000),
            host: Some("web-1".into()),
            tags: vec!["env:dev".into()],
            message: Some("disk | almost\nfull m:x".into()),
            container_id: None,
        }
    );
    for (code, status) in [
        ("0", ServiceCheckStatus::Ok),
        ("1", ServiceCheckStatus::Warning),
        ("2", ServiceCheckStatus::Critical),
        ("3", ServiceCheckStatus::Unknown),
    ] {
        let line = format!("_sc|x|{code}");
        let Ok(Message::ServiceCheck(c)) = parse_message(line.as_bytes()) else {
            panic!()
        };
        assert_eq!(c.status, status);
        assert_eq!(c.status.code().to_string(), code);
        assert_eq!(c.message, None);
    }
    // Bad optional fields are ignored; c: is kept.
    let Ok(Message::ServiceCheck(c)) = parse_message(b"_sc|x|0|d:zz|c:ci-9|q:1") else {
        panic!()
    };
    assert_eq!(c.timestamp, None);
    assert_eq!(c.container_id.as_deref(), Some("ci-9"));

    let cases = [
        ("_sc|x", ParseErrorCode::InvalidServiceCheck),
        ("_sc||0", ParseErrorCode::EmptyServiceCheckName),
        ("_sc|", ParseErrorCode::EmptyServiceCheckName),
        ("_sc|x|4", ParseErrorCode::InvalidServiceCheckStatus),
        ("_sc|x|", ParseErrorCode::InvalidServiceCheckStatus),
        ("_sc|x|ok|m:a", ParseErrorCode::InvalidServiceCheckStatus),
    ];
    for (line, code) in cases {
        assert_eq!(err(line), code, "{line}");
    }
}

#[test]
fn one_bad_line_does_not_cost_the_datagram() {
    let got: Vec<_> = parse_datagram(b"a:1|c\nbad\n\nb:2|g\n_sc|x|9\nc:3|h\n").collect();
    assert_eq!(got.len(), 5);
    assert!(matches!(got[0], Ok(Message::Metric(_))));
    assert_eq!(got[1], Err(ParseErrorCode::MissingType));
    assert!(matches!(got[2], Ok(Message::Metric(_))));
    assert_eq!(got[3], Err(ParseErrorCode::InvalidServiceCheckStatus));
    assert!(matches!(got[4], Ok(Message::Metric(_))));
}

/// A compact, comparable form of a parsed message for the fixture tables.
fn describe(m: &Message<'_>) -> String {
    match m {
        Message::Metric(s) => {
            let value = match s.value {
                SampleValue::Set(v) => String::from_utf8_lossy(v).into_owned(),
                SampleValue::Numbers { .. } => format!("{:?}", s.values().collect::<Vec<_>>()),
            };
            let mut out = format!(
                "{}:{value}|{}",
                String::from_utf8_lossy(s.name),
                s.kind.symbol()
            );
            if s.sample_rate != 1.0 {
                out.push_str(&format!("|@{}", s.sample_rate));
            }
            if !s.tags.is_empty() {
                out.push_str(&format!("|#{}", String::from_utf8_lossy(s.tags)));
            }
            if let Some(c) = s.container_id {
                out.push_str(&format!("|c:{}", String::from_utf8_lossy(c)));
            }
            if let Some(c) = s.cardinality {
                out.push_str(&format!("|card:{}", String::from_utf8_lossy(c)));
            }
            if let Some(t) = s.timestamp {
                out.push_str(&format!("|T{t}"));
            }
            out
        }
        Message::Event(e) => format!("event {:?} {:?}", e.title, e.text),
        Message::ServiceCheck(c) => format!("check {} {}", c.name, c.status.code()),
    }
}

fn describe_datagram(d: &[u8]) -> Vec<String> {
    parse_datagram(d)
        .map(|r| {
            r.map(|m| describe(&m))
                .unwrap_or_else(|e| format!("error {e:?}"))
        })
        .collect()
}

#[test]
fn datadogpy_fixture() {
    let datagrams = common::fixture("datadogpy_dogstatsd.datagrams.json");
    assert_eq!(datagrams.len(), 17);
    let expected: Vec<Vec<&str>> = vec![
        vec!["example.gauge:[42.5]|g|#env:dev,role:web"],
        vec!["example.count:[1.0]|c"],
        vec!["example.count:[3.0]|c|@0.999999|#env:dev"],
        vec!["example.count:[-2.0]|c"],
        vec!["example.histogram:[12.5]|h|#env:dev"],
        vec!["example.distribution:[7.0]|d|#env:dev"],
        vec!["example.set:user-123|s|#env:dev"],
        vec!["example.timing:[250.0]|ms|#env:dev"],
        vec!["example.gauge.ts:[7.0]|g|#env:dev|T1700000000"],
        vec!["example.count.ts:[5.0]|c|T1700000000"],
        vec!["event \"Deploy finished\" \"line1\\nline2 done\""],
        vec!["check app.is_up 1"],
        vec!["ns.with.cid:[1.0]|g|#a:b,team:core|c:abcdef0123456789|card:low"],
        vec![
            "agg.hist:[0.0]|h",
            "agg.dist:[0.0]|d",
            "agg.hist:[1.0]|h",
            "agg.dist:[1.5]|d",
            "agg.hist:[2.0]|h",
            "agg.dist:[3.0]|d",
            "agg.hist:[3.0]|h",
            "agg.dist:[4.5]|d",
            "agg.hist:[4.0]|h",
            "agg.dist:[6.0]|d",
        ],
        vec![],
        vec![
            "agg.count:[5.0]|c|#k:v",
            "agg.gauge:[4.0]|g|#k:v",
            "agg.set:0|s",
            "agg.set:1|s",
        ],
        vec![],
    ];
    let telemetry = |first: &str, bytes_sent: &str, packets_sent: &str| -> Vec<String> {
        let tags = "|#client:py,client_version:0.56.0,client_transport:udp";
        [
            ("metrics", first),
            ("events", "0"),
            ("service_checks", "0"),
            ("bytes_sent", bytes_sent),
            ("bytes_dropped", "0"),
            ("bytes_dropped_queue", "0"),
            ("bytes_dropped_writer", "0"),
            ("packets_sent", packets_sent),
            ("packets_dropped", "0"),
            ("packets_dropped_queue", "0"),
            ("packets_dropped_writer", "0"),
        ]
        .iter()
        .map(|(n, v)| format!("datadog.dogstatsd.client.{n}:[{v}.0]|c{tags}"))
        .collect()
    };
    for (i, (d, want)) in datagrams.iter().zip(&expected).enumerate() {
        let got = describe_datagram(d);
        let want: Vec<String> = match i {
            14 => telemetry("10", "140", "1"),
            16 => telemetry("4", "1148", "2"),
            _ => want.iter().map(|s| s.to_string()).collect(),
        };
        assert_eq!(got, want, "datagram {i}");
    }
}

#[test]
fn ddtrace_runtime_metrics_fixture() {
    let datagrams = common::fixture("ddtrace_runtime_metrics_dogstatsd.datagrams.json");
    assert_eq!(datagrams.len(), 2);
    let tags = "service:checkout,env:dev,version:1.2.3,lang:python,lang_interpreter:CPython,lang_version:3.11.7,tracer_version:4.16.0,entrypoint.basedir:clients,entrypoint.name:drive_ddtrace,entrypoint.type:script,entrypoint.workdir:clients,svc.user:true";
    let want: Vec<String> = [
        ("gc.count.gen0", 67.0),
        ("gc.count.gen1", 6.0),
        ("gc.count.gen2", 10.0),
        ("gc.collections.gen0", 2.0),
        ("gc.collections.gen1", 0.0),
    ]
    .iter()
    .map(|(n, v)| format!("runtime.python.{n}:[{v:?}]|d|#{tags}"))
    .collect();
    assert_eq!(describe_datagram(&datagrams[0]), want);
    let got = describe_datagram(&datagrams[1]);
    assert_eq!(got.len(), 11);
    assert_eq!(
        got[0],
        format!(
            "datadog.dogstatsd.client.metrics:[6.0]|c|#client:py,client_version:0.47.0,client_transport:udp,{tags}"
        )
    );
    assert!(
        got.iter()
            .all(|l| l.starts_with("datadog.dogstatsd.client."))
    );
}
