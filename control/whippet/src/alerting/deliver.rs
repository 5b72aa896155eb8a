//! The notification deliverer: takes the due notifications out of the
//! metadata store's outbox, sends each to its target and records the
//! outcome.
//!
//! # What it owns
//! - **Delivery by target.**
//!   - `webhook-NAME`: the org's webhook NAME (Datadog's webhooks
//!     integration API, see [`build_request`]) gets an HTTP POST; when the
//!     org has none of that name, the config file's `[[webhooks]]` entry
//!     NAME does (the API's wins).
//!   - `slack-TARGET`: the incoming-webhook URL the config file's
//!     `[slack.channels]` gives `TARGET` (split into workspace and channel
//!     by its `workspaces`, see `config::notifications::SlackConfig`)
//!     gets Slack's body, `{"text": "*TITLE*\nMESSAGE"}` ([`slack_request`]).
//!   - an e-mail address: a plain-text mail (subject the title, body the
//!     message without its Markdown) through the `[smtp]` relay
//!     ([`email_for`], [`smtp`](super::smtp)).
//!
//!   Without the integration (no `[slack]` or `[smtp]` table, another
//!   kind of handle such as `pagerduty-...`), or without the webhook or
//!   channel, the attempt fails saying so and is retried like any failure,
//!   so configuring it later (for the file: and restarting) delivers it.
//! - **Retries.** A failed attempt is tried again after [`retry_delay_ms`]:
//!   [`FIRST_RETRY_MS`], doubling, capped at [`MAX_RETRY_MS`]. Nothing is
//!   ever given up: a notification stays in the outbox until a receiver
//!   confirms it, and each failure is logged (warn, then error from
//!   [`ERROR_AFTER_ATTEMPTS`] on). Every attempt reads the webhook afresh,
//!   so fixing a webhook's URL or headers fixes its pending notifications
//!   (the config file's tables are read at start-up: fixing them takes a
//!   restart).
//! - **Order and duplicates.** The due notifications of one target are
//!   sent one after the other, oldest first; different targets are sent
//!   concurrently. When one fails, the later ones of the same target in
//!   that round are not tried (they fail with the same reason), so a
//!   receiver that is down costs one timeout per round, not one per
//!   notification. A retried notification can arrive after a newer one.
//!   Every delivery carries [`NOTIFICATION_ID_HEADER`] (an e-mail also
//!   a `Message-ID` made from the notification's id); the same
//!   notification is sent twice only when the store could not record a
//!   confirmed delivery (a crash, a shutdown mid-round or a store error
//!   right after the receiver's 2xx), and the receiver can drop it by
//!   that id.
//!
//! # What it must never do
//! Decide what to notify or render the message: the evaluator queued the
//! notification with its title, message and webhook variables
//! (`{"title", "message", "vars": {"EVENT_TITLE": ..., ...}}`). Nor hold a
//! notification in memory across rounds: the store is the only queue.
//!
//! # TLS and limits
//! `https://` URLs, and SMTP relays with STARTTLS or implicit TLS
//! ([`smtp`](super::smtp)), are verified against the built-in roots and
//! the certificates of `SSL_CERT_FILE` ([`tls`](super::tls)); a
//! certificate that does not verify is a failure like any other, retried.
//! HTTP/1.1
//! only. Redirects are not followed (a 3xx is a failure). Credentials in
//! the URL (`http://user:pass@host`) are refused; send an `Authorization`
//! custom header instead.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderName, HeaderValue};
use serde_json::Value;
use whippet_meta::{Notification, OrgId, Webhook};
use whippet_monitors::template::payload::{
    DEFAULT_PAYLOAD, PayloadVars, Variable, render_payload, slack_body, text_only,
};

use super::smtp::{self, Email, SmtpError};
use crate::config::notifications::{SlackConfig, SmtpConfig};
use crate::server::AppState;

/// How often the outbox is read. A second is well below any receiver's
/// expectation of an alert's delay (evaluation itself runs every minute or
/// so), and the query is one indexed read of pending rows, so polling
/// costs nothing worth a wake-up channel.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Notifications taken per round. Sent concurrently by target, so a round
/// lasts about one [`DELIVERY_TIMEOUT`] at worst; 64 is far more than a
/// burst of alerts needs per second, and a fuller backlog is drained by
/// starting the next round at once.
pub const BATCH: i64 = 64;

/// The longest one delivery may take, connecting to reading the status.
/// Datadog's own webhooks give a receiver about as long; a receiver that
/// needs more should answer first and work after. For e-mail it bounds
/// the whole SMTP dialogue: RFC 5321's minutes-long timeouts are for mail
/// servers talking across the internet, while Whippet hands mail to a
/// relay nearby that answers in milliseconds, and a round waits for its
/// slowest target.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// Wait before the first retry: long enough for a receiver that is
/// restarting to come back, short enough that an alert is only seconds
/// late after a blip.
pub const FIRST_RETRY_MS: i64 = 5_000;

/// The longest wait between two attempts: a receiver down for hours still
/// gets its notifications within ten minutes of coming back, at the cost of
/// six attempts an hour per pending notification.
pub const MAX_RETRY_MS: i64 = 10 * 60 * 1000;

/// From this many failed attempts on, failures are logged at error instead
/// of warn: with [`retry_delay_ms`] that is about half an hour of failing,
/// past a blip or a restart, so someone should look.
pub const ERROR_AFTER_ATTEMPTS: i64 = 10;

/// The header naming the notification, so a receiver can drop a duplicate.
pub const NOTIFICATION_ID_HEADER: &str = "x-whippet-notification-id";

/// Bytes of a failed answer's body read to quote in the error: enough for
/// any error message, and a bound on what a hostile receiver costs.
const MAX_ERROR_BODY_BYTES: usize = 4096;

/// Characters of a failed answer's body kept in `last_error`.
const ERROR_BODY_CHARS: usize = 200;

/// The prefix of webhook targets (`@webhook-NAME`).
const WEBHOOK_PREFIX: &str = "webhook-";

/// The prefix of Slack targets (`@slack-CHANNEL`,
/// `@slack-WORKSPACE-CHANNEL`).
const SLACK_PREFIX: &str = "slack-";

/// Headers the client sets itself; custom headers naming them are dropped
/// so a webhook cannot break the framing of its own request.
const RESERVED_HEADERS: &[&str] = &["host", "content-length", "transfer-encoding", "connection"];

/// Counter of delivery attempts, by `kind` (a [`Kind`]), `outcome`
/// (`delivered`, `failed`) and `reason` (a [`DeliveryError::reason`], or
/// `ok`).
pub const NOTIFICATIONS: &str = crate::server::selfmon::names::NOTIFICATIONS;

/// What a target is, for the counter's `kind` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `webhook-NAME`.
    Webhook,
    /// `slack-...`.
    Slack,
    /// An e-mail address.
    Email,
    /// Anything else (`pagerduty-...`): no integration.
    Other,
}

impl Kind {
    /// The kind of a queued target (as the scheduler writes them: `webhook-NAME`,
    /// `slack-TARGET`, or an address).
    pub fn of(target: &str) -> Kind {
        if target.starts_with(WEBHOOK_PREFIX) {
            Kind::Webhook
        } else if target.starts_with(SLACK_PREFIX) {
            Kind::Slack
        } else if target.contains('@') {
            Kind::Email
        } else {
            Kind::Other
        }
    }

    /// The counter label.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Webhook => "webhook",
            Kind::Slack => "slack",
            Kind::Email => "email",
            Kind::Other => "other",
        }
    }
}

/// Why an attempt failed. Its text is what `last_error` keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    /// No integration sends this target: another kind of handle, or
    /// `[slack]` / `[smtp]` absent from the config file.
    NoIntegration(String),
    /// `@webhook-NAME` with no webhook NAME in the org nor in the file.
    NoWebhook(String),
    /// `@slack-TARGET` with no URL for `TARGET` in `[slack.channels]`.
    NoChannel(String),
    /// The SMTP relay refused the mail, or did not speak SMTP.
    Smtp(String),
    /// The webhook's URL, headers or payload cannot make a request.
    Config(String),
    /// The TLS handshake failed (an unverified certificate, a server that
    /// does not speak TLS...), or the TLS setup could not be read.
    Tls(String),
    /// Connecting, sending or reading failed.
    Network(String),
    /// No answer within [`DELIVERY_TIMEOUT`].
    Timeout,
    /// The receiver answered something other than 2xx.
    Status(u16, String),
}

impl DeliveryError {
    /// A bounded label for the counter.
    pub fn reason(&self) -> &'static str {
        match self {
            DeliveryError::NoIntegration(_) => "no_integration",
            DeliveryError::NoWebhook(_) => "no_webhook",
            DeliveryError::NoChannel(_) => "no_channel",
            DeliveryError::Smtp(_) => "smtp",
            DeliveryError::Config(_) => "config",
            DeliveryError::Tls(_) => "tls",
            DeliveryError::Network(_) => "network",
            DeliveryError::Timeout => "timeout",
            DeliveryError::Status(..) => "status",
        }
    }
}

impl fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeliveryError::NoIntegration(t) => write!(f, "no integration configured for @{t}"),
            DeliveryError::NoWebhook(name) => write!(
                f,
                "no webhook named {name:?}: create it with the webhooks integration API \
                 (POST /api/v1/integration/webhooks/configuration/webhooks) or as a \
                 [[webhooks]] entry of the config file"
            ),
            DeliveryError::NoChannel(target) => write!(
                f,
                "no Slack channel for @slack-{target}: add its incoming-webhook URL under \
                 [slack.channels] in the config file"
            ),
            DeliveryError::Smtp(e) => write!(f, "{e}"),
            DeliveryError::Config(e) => write!(f, "webhook misconfigured: {e}"),
            DeliveryError::Tls(e) => write!(f, "{e}"),
            DeliveryError::Network(e) => write!(f, "{e}"),
            DeliveryError::Timeout => {
                write!(f, "no answer within {} s", DELIVERY_TIMEOUT.as_secs())
            }
            DeliveryError::Status(code, body) if body.is_empty() => {
                write!(f, "the receiver answered {code}")
            }
            DeliveryError::Status(code, body) => write!(f, "the receiver answered {code}: {body}"),
        }
    }
}

/// Milliseconds to wait after the `attempts`-th failed attempt (1 for the
/// first): [`FIRST_RETRY_MS`] doubled `attempts - 1` times, at most
/// [`MAX_RETRY_MS`].
pub fn retry_delay_ms(attempts: i64) -> i64 {
    let doublings = attempts.saturating_sub(1).clamp(0, 32) as u32;
    FIRST_RETRY_MS
        .saturating_mul(1i64 << doublings)
        .min(MAX_RETRY_MS)
}

/// The webhook variables of a notification body: each key of `vars` named
/// like a [`Variable`] (strings as they are, other JSON values as their
/// JSON text, `null` skipped; unknown keys ignored). Without
/// `EVENT_TITLE` or `EVENT_MSG`, the body's `title` and `message` stand in.
pub fn payload_vars(body: &Value) -> PayloadVars {
    let mut vars = PayloadVars::new();
    let given = body.get("vars").and_then(Value::as_object);
    for v in Variable::ALL {
        let value = match given.and_then(|g| g.get(v.name())) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        vars.set(*v, value);
    }
    for (v, key) in [
        (Variable::EventTitle, "title"),
        (Variable::EventMsg, "message"),
    ] {
        if given.is_none_or(|g| !g.contains_key(v.name()))
            && let Some(text) = body.get(key).and_then(Value::as_str)
        {
            vars.set(v, text);
        }
    }
    vars
}

/// The same variables percent-encoded, for a URL or a form body.
fn percent_encoded(vars: &PayloadVars) -> PayloadVars {
    let mut out = PayloadVars::new();
    for v in Variable::ALL {
        out.set(*v, percent_encode(vars.get(*v)));
    }
    out
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A webhook's custom headers (a JSON object as text, as the API stores
/// it) as (name, value) pairs. Blank text is no header. Values may be
/// strings, numbers or booleans (sent as their JSON text). The reason of a
/// rejection reads after "custom_headers".
pub(crate) fn parse_custom_headers(text: &str) -> Result<Vec<(String, String)>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let map = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err("must be a JSON object of header names to values".into()),
        Err(e) => return Err(format!("is not valid JSON: {e}")),
    };
    let mut out = Vec::with_capacity(map.len());
    for (name, value) in map {
        let value = match value {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => return Err(format!("header {name:?} must be a string, not {other}")),
        };
        if HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(format!("{name:?} is not a valid header name"));
        }
        if HeaderValue::from_str(&value).is_err() {
            return Err(format!("header {name:?} has an invalid value"));
        }
        out.push((name, value));
    }
    Ok(out)
}

/// Where an `http://` or `https://` URL goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTarget {
    /// `https://`: TLS, verified against the server name `host`.
    pub tls: bool,
    /// The host without port or IPv6 brackets, the name TLS verifies.
    pub host: String,
    /// `host[:port]` as written, for the `Host` header.
    pub authority: String,
    /// `host:port` to connect to (port 80, or 443 for `https://`, when
    /// none is given).
    pub connect: String,
    /// Path and query, at least `/`; the fragment dropped.
    pub path: String,
}

/// Splits an `http://` or `https://` URL.
pub fn parse_url(url: &str) -> Result<HttpTarget, DeliveryError> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let (tls, rest) = if lower.starts_with("https://") {
        (true, &url["https://".len()..])
    } else if lower.starts_with("http://") {
        (false, &url["http://".len()..])
    } else {
        return Err(DeliveryError::Config(format!(
            "URL {url:?} must start with http:// or https://"
        )));
    };
    let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if authority.is_empty() {
        return Err(DeliveryError::Config(format!("URL {url:?} has no host")));
    }
    if authority.contains('@') {
        return Err(DeliveryError::Config(
            "credentials in the URL are not supported; send an Authorization custom header".into(),
        ));
    }
    let has_port = match authority.rfind(':') {
        // `[::1]` has colons but no port; `[::1]:8080` has one.
        Some(i) => !authority[i..].contains(']'),
        None => false,
    };
    let host_port = if has_port {
        let i = authority.rfind(':').unwrap_or(0);
        if authority[i + 1..].parse::<u16>().is_err() {
            return Err(DeliveryError::Config(format!(
                "URL {url:?} has an invalid port"
            )));
        }
        &authority[..i]
    } else {
        authority
    };
    let host = host_port
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host_port);
    if host.is_empty() {
        return Err(DeliveryError::Config(format!("URL {url:?} has no host")));
    }
    let connect = if has_port {
        authority.to_owned()
    } else {
        format!("{authority}:{}", if tls { 443 } else { 80 })
    };
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    Ok(HttpTarget {
        tls,
        host: host.to_owned(),
        authority: authority.to_owned(),
        connect,
        path,
    })
}

/// One webhook POST, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRequest {
    /// Where.
    pub target: HttpTarget,
    /// Every header but `Host` and `Content-Length`, in order; a custom
    /// `Content-Type` replaces the default one.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

/// The request a webhook makes for notification `id` with `vars`, as
/// Datadog's webhooks integration builds it:
/// - the URL and the custom headers get the variables too (in the URL
///   percent-encoded; in the headers, a JSON object, JSON-escaped);
/// - `encode_as` `json`: the payload (the webhook's or
///   [`DEFAULT_PAYLOAD`]) rendered, sent as `application/json`;
/// - `encode_as` `form`, sent as `application/x-www-form-urlencoded`: a
///   JSON payload (first non-blank character `{` or `[`, as for
///   [`render_payload`]) must render to an object; each
///   of its top-level keys becomes `key=value` (a string value as is, any
///   other as its JSON text), percent-encoded and joined by `&`; any other
///   payload is taken as a form body already (`text=$EVENT_MSG&x=1`) and
///   rendered with percent-encoded values;
/// - `Content-Type` (unless a custom header sets it), `User-Agent`,
///   [`NOTIFICATION_ID_HEADER`], then the custom headers (`Host`,
///   `Content-Length`, `Transfer-Encoding`, `Connection` among them
///   dropped).
pub fn build_request(
    w: &Webhook,
    vars: &PayloadVars,
    id: i64,
) -> Result<WebhookRequest, DeliveryError> {
    let encoded = percent_encoded(vars);
    let target = parse_url(&render_payload(&w.url, &encoded))?;
    let template = w.payload.as_deref().unwrap_or(DEFAULT_PAYLOAD);
    let (content_type, body) = if w.encode_as == "form" {
        let body = if template.trim_start().starts_with(['{', '[']) {
            let rendered = render_payload(template, vars);
            let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(&rendered) else {
                return Err(DeliveryError::Config(
                    "the payload is not a JSON object once rendered, so it cannot be \
                     form-encoded"
                        .into(),
                ));
            };
            fields
                .iter()
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    format!("{}={}", percent_encode(k), percent_encode(&text))
                })
                .collect::<Vec<_>>()
                .join("&")
        } else {
            render_payload(template, &encoded)
        };
        ("application/x-www-form-urlencoded", body)
    } else {
        ("application/json", render_payload(template, vars))
    };
    let custom = match &w.custom_headers {
        Some(text) => parse_custom_headers(&render_payload(text, vars))
            .map_err(|e| DeliveryError::Config(format!("custom_headers {e}")))?,
        None => Vec::new(),
    };
    let sets = |name: &str| custom.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    let mut headers = Vec::with_capacity(custom.len() + 3);
    if !sets("content-type") {
        headers.push(("content-type".to_owned(), content_type.to_owned()));
    }
    if !sets("user-agent") {
        headers.push((
            "user-agent".to_owned(),
            concat!("whippet/", env!("CARGO_PKG_VERSION")).to_owned(),
        ));
    }
    headers.push((NOTIFICATION_ID_HEADER.to_owned(), id.to_string()));
    headers.extend(custom.into_iter().filter(|(n, _)| {
        !RESERVED_HEADERS.iter().any(|r| n.eq_ignore_ascii_case(r))
            && !n.eq_ignore_ascii_case(NOTIFICATION_ID_HEADER)
    }));
    Ok(WebhookRequest {
        target,
        headers,
        body,
    })
}

/// Sends `req`; a 2xx answer is `Ok`. `https://` goes through the
/// process' TLS [`connector`](super::tls::connector).
pub async fn post(req: WebhookRequest) -> Result<(), DeliveryError> {
    let tls = if req.target.tls {
        Some(super::tls::connector().map_err(DeliveryError::Tls)?)
    } else {
        None
    };
    post_with(req, tls.as_ref()).await
}

/// [`post`] with `tls` as the connector for `https://` targets.
pub async fn post_with(
    req: WebhookRequest,
    tls: Option<&tokio_rustls::TlsConnector>,
) -> Result<(), DeliveryError> {
    let work = async {
        let tcp = tokio::net::TcpStream::connect(&req.target.connect)
            .await
            .map_err(|e| {
                DeliveryError::Network(format!("connecting to {}: {e}", req.target.connect))
            })?;
        match (req.target.tls, tls) {
            (false, _) => exchange(&req, tcp).await,
            (true, Some(tls)) => {
                let stream = super::tls::handshake(tls, &req.target.host, tcp)
                    .await
                    .map_err(DeliveryError::Tls)?;
                exchange(&req, stream).await
            }
            (true, None) => Err(DeliveryError::Tls("no TLS connector".into())),
        }
    };
    tokio::time::timeout(DELIVERY_TIMEOUT, work)
        .await
        .map_err(|_| DeliveryError::Timeout)?
}

/// One HTTP/1.1 request and its answer over a connected `stream`.
async fn exchange<S>(req: &WebhookRequest, stream: S) -> Result<(), DeliveryError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let net = |what: &str, e: &dyn fmt::Display| {
        DeliveryError::Network(format!("{what} {}: {e}", req.target.connect))
    };
    {
        // Header names go out in title case (`Content-Type`,
        // `X-Whippet-Notification-Id`), as Go's and most clients write
        // them: names are case-insensitive, but not every receiver knows.
        let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
            .title_case_headers(true)
            .handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| net("HTTP handshake with", &e))?;
        tokio::spawn(conn);
        let mut builder = hyper::Request::post(req.target.path.as_str())
            .header("host", req.target.authority.as_str());
        for (name, value) in &req.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let request = builder
            .body(Full::new(Bytes::from(req.body.clone())))
            .map_err(|e| DeliveryError::Config(format!("cannot build the request: {e}")))?;
        let resp = sender
            .send_request(request)
            .await
            .map_err(|e| net("sending to", &e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let body = Limited::new(resp.into_body(), MAX_ERROR_BODY_BYTES)
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let text: String = String::from_utf8_lossy(&body)
            .chars()
            .take(ERROR_BODY_CHARS)
            .collect();
        Err(DeliveryError::Status(
            status.as_u16(),
            text.trim().to_owned(),
        ))
    }
}

/// The request a Slack-compatible incoming webhook gets for notification
/// `id`: [`slack_body`] of the body's `title` and `message` as JSON, with
/// the same `User-Agent` and [`NOTIFICATION_ID_HEADER`] as a webhook's.
/// `target` is the notification's target after `slack-`.
pub fn slack_request(
    slack: &SlackConfig,
    target: &str,
    body: &Value,
    id: i64,
) -> Result<WebhookRequest, DeliveryError> {
    let url = slack
        .url_for(target)
        .ok_or_else(|| DeliveryError::NoChannel(target.to_owned()))?;
    let text = |key: &str| body.get(key).and_then(Value::as_str).unwrap_or("");
    Ok(WebhookRequest {
        target: parse_url(url)?,
        headers: vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            (
                "user-agent".to_owned(),
                concat!("whippet/", env!("CARGO_PKG_VERSION")).to_owned(),
            ),
            (NOTIFICATION_ID_HEADER.to_owned(), id.to_string()),
        ],
        body: slack_body(text("title"), text("message")).to_string(),
    })
}

/// The e-mail notification `id` (body `body`) makes for address `to`:
/// subject the title, text the message without its Markdown
/// ([`text_only`]), a `Message-ID` from the id and the sender's domain,
/// and [`NOTIFICATION_ID_HEADER`].
pub fn email_for(relay: &SmtpConfig, to: &str, body: &Value, id: i64, now_ms: i64) -> Email {
    let text = |key: &str| body.get(key).and_then(Value::as_str).unwrap_or("");
    let domain = relay.from.rsplit_once('@').map_or("whippet", |(_, d)| d);
    Email {
        from: relay.from.clone(),
        to: to.to_owned(),
        subject: text("title").to_owned(),
        text: text_only(text("message")),
        message_id: format!("whippet.notification.{id}@{domain}"),
        date_unix_secs: now_ms.div_euclid(1000),
        headers: vec![("X-Whippet-Notification-Id".to_owned(), id.to_string())],
    }
}

/// An SMTP failure as a delivery error: network, TLS and time-outs as
/// for webhooks; a refusal, a missing capability (no STARTTLS when it is
/// required, no AUTH) or a bad address as [`DeliveryError::Smtp`].
fn smtp_error(e: SmtpError) -> DeliveryError {
    match e {
        SmtpError::Io(text) => DeliveryError::Network(text),
        SmtpError::Tls(text) => DeliveryError::Tls(text),
        SmtpError::Timeout(_) => DeliveryError::Timeout,
        other => DeliveryError::Smtp(other.to_string()),
    }
}

/// One attempt at one notification.
async fn attempt(state: &AppState, n: &Notification) -> Result<(), DeliveryError> {
    let files = &state.notifications;
    match Kind::of(&n.target) {
        Kind::Webhook => {
            let name = &n.target[WEBHOOK_PREFIX.len()..];
            let webhook = match state.meta.get_webhook(n.org, name).await {
                Ok(Some(w)) => w,
                Ok(None) => match files.webhook(name) {
                    Some(w) => w.to_webhook(),
                    None => return Err(DeliveryError::NoWebhook(name.to_owned())),
                },
                Err(e) => {
                    return Err(DeliveryError::Network(format!(
                        "reading webhook {name:?} from the metadata store: {e}"
                    )));
                }
            };
            post(build_request(&webhook, &payload_vars(&n.body), n.id)?).await
        }
        Kind::Slack => {
            let Some(slack) = &files.slack else {
                return Err(DeliveryError::NoIntegration(n.target.clone()));
            };
            let target = &n.target[SLACK_PREFIX.len()..];
            post(slack_request(slack, target, &n.body, n.id)?).await
        }
        Kind::Email => {
            let Some(relay) = &files.smtp else {
                return Err(DeliveryError::NoIntegration(n.target.clone()));
            };
            let mail = email_for(relay, &n.target, &n.body, n.id, now_ms());
            smtp::send(relay, &mail, DELIVERY_TIMEOUT)
                .await
                .map_err(smtp_error)
        }
        Kind::Other => Err(DeliveryError::NoIntegration(n.target.clone())),
    }
}

/// Records the outcome of one attempt (store errors logged: the
/// notification stays due and is tried again next round).
async fn record(state: &AppState, n: &Notification, outcome: Result<(), DeliveryError>) {
    let kind = Kind::of(&n.target).label();
    match outcome {
        Ok(()) => {
            state.selfmon.add(
                NOTIFICATIONS,
                &[("kind", kind), ("outcome", "delivered"), ("reason", "ok")],
                1.0,
            );
            tracing::info!(
                notification = n.id,
                target = %n.target,
                attempts = n.attempts + 1,
                "notification delivered"
            );
            if let Err(e) = state.meta.notification_delivered(n.id).await {
                tracing::warn!(notification = n.id, error = %e,
                    "recording a delivery failed; it will be sent again");
            }
        }
        Err(err) => {
            state.selfmon.add(
                NOTIFICATIONS,
                &[
                    ("kind", kind),
                    ("outcome", "failed"),
                    ("reason", err.reason()),
                ],
                1.0,
            );
            let attempts = n.attempts + 1;
            let delay = retry_delay_ms(attempts);
            let text = err.to_string();
            if attempts >= ERROR_AFTER_ATTEMPTS {
                tracing::error!(notification = n.id, target = %n.target, attempts,
                    retry_in_secs = delay / 1000, error = %text, "notification still undelivered");
            } else {
                tracing::warn!(notification = n.id, target = %n.target, attempts,
                    retry_in_secs = delay / 1000, error = %text, "notification delivery failed");
            }
            if let Err(e) = state
                .meta
                .notification_failed(n.id, &text, now_ms() + delay)
                .await
            {
                tracing::warn!(notification = n.id, error = %e, "recording a failed delivery failed");
            }
        }
    }
}

/// The notifications of one target, oldest first: stops trying at the
/// first failure (see the module doc).
async fn deliver_target(state: AppState, queue: Vec<Notification>) {
    let mut failed: Option<DeliveryError> = None;
    for n in &queue {
        let outcome = match &failed {
            Some(e) => Err(e.clone()),
            None => attempt(&state, n).await,
        };
        if let Err(e) = &outcome {
            failed.get_or_insert_with(|| e.clone());
        }
        record(&state, n, outcome).await;
    }
}

/// One round: the due notifications, by target concurrently. Returns how
/// many were taken.
pub async fn round(state: &AppState) -> usize {
    let due = match state.meta.due_notifications(now_ms(), BATCH).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "reading the notification outbox failed");
            return 0;
        }
    };
    let taken = due.len();
    let mut by_target: BTreeMap<(OrgId, String), Vec<Notification>> = BTreeMap::new();
    for n in due {
        by_target
            .entry((n.org, n.target.clone()))
            .or_default()
            .push(n);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for queue in by_target.into_values() {
        tasks.spawn(deliver_target(state.clone(), queue));
    }
    while let Some(r) = tasks.join_next().await {
        if let Err(e) = r {
            tracing::error!(error = %e, "a notification delivery task failed");
        }
    }
    taken
}

/// Delivers notifications until `stop` changes (or its sender goes away).
/// A round in progress is abandoned at shutdown: what it had sent but not
/// yet recorded is sent again after the restart (see the module doc).
pub async fn run(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        let taken = tokio::select! {
            taken = round(&state) => taken,
            _ = stop.changed() => return,
        };
        // A full batch means more are due: go on at once.
        if taken as i64 >= BATCH {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL_INTERVAL) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Unix milliseconds now.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn webhook(payload: Option<&str>, headers: Option<&str>, encode_as: &str) -> Webhook {
        Webhook {
            name: "ops".into(),
            url: "http://127.0.0.1:8080/hook/$ALERT_ID?q=$EVENT_TITLE#frag".into(),
            payload: payload.map(str::to_owned),
            custom_headers: headers.map(str::to_owned),
            encode_as: encode_as.into(),
        }
    }

    fn body() -> Value {
        json!({
            "title": "fallback title",
            "message": "fallback message",
            "vars": {
                "EVENT_TITLE": "[Triggered] CPU \"high\"",
                "ALERT_ID": 42,
                "DATE": "1728578400000",
                "HOSTNAME": null,
                "NOT_A_VARIABLE": "x",
            }
        })
    }

    fn header<'a>(r: &'a WebhookRequest, name: &str) -> Option<&'a str> {
        r.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn vars_come_from_the_body() {
        let vars = payload_vars(&body());
        assert_eq!(vars.get(Variable::EventTitle), "[Triggered] CPU \"high\"");
        assert_eq!(vars.get(Variable::EventMsg), "fallback message");
        assert_eq!(vars.get(Variable::AlertId), "42");
        assert_eq!(vars.get(Variable::Hostname), "");
        let bare = payload_vars(&json!({"title": "t"}));
        assert_eq!(bare.get(Variable::EventTitle), "t");
        assert_eq!(bare.get(Variable::EventMsg), "");
    }

    #[test]
    fn backoff_doubles_to_the_cap() {
        let delays: Vec<i64> = (1..=10).map(retry_delay_ms).collect();
        assert_eq!(
            delays,
            [
                5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 600_000, 600_000, 600_000
            ]
        );
        assert_eq!(retry_delay_ms(0), FIRST_RETRY_MS);
        assert_eq!(retry_delay_ms(i64::MAX), MAX_RETRY_MS);
        let to_error: i64 = (1..ERROR_AFTER_ATTEMPTS).map(retry_delay_ms).sum();
        assert!((20 * 60_000..60 * 60_000).contains(&to_error), "{to_error}");
    }

    #[test]
    fn custom_headers() {
        assert_eq!(parse_custom_headers("  "), Ok(vec![]));
        assert_eq!(
            parse_custom_headers(r#"{"X-Key": "k", "X-N": 3, "X-B": true}"#),
            Ok(vec![
                ("X-B".into(), "true".into()),
                ("X-Key".into(), "k".into()),
                ("X-N".into(), "3".into()),
            ])
        );
        for bad in [
            "nope",
            "[]",
            r#"{"X": {"a": 1}}"#,
            r#"{"bad name": "v"}"#,
            r#"{"X": "line\nbreak"}"#,
        ] {
            assert!(parse_custom_headers(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls() {
        let t = parse_url("http://example.com").unwrap();
        assert_eq!(
            (t.authority.as_str(), t.connect.as_str(), t.path.as_str()),
            ("example.com", "example.com:80", "/")
        );
        let t = parse_url("HTTP://[::1]:9000?x=1#f").unwrap();
        assert_eq!(
            (t.connect.as_str(), t.path.as_str()),
            ("[::1]:9000", "/?x=1")
        );
        assert_eq!(parse_url("http://[::1]/a").unwrap().connect, "[::1]:80");
        let t = parse_url("https://hooks.example.com/services/T0").unwrap();
        assert_eq!(
            (t.tls, t.host.as_str(), t.connect.as_str()),
            (true, "hooks.example.com", "hooks.example.com:443")
        );
        let t = parse_url("https://[::1]:8443/").unwrap();
        assert_eq!((t.host.as_str(), t.connect.as_str()), ("::1", "[::1]:8443"));
        assert!(!parse_url("http://a").unwrap().tls);
        for bad in [
            "ftp://x/",
            "http:///x",
            "https:///x",
            "https://:443/",
            "http://u:p@x/",
            "http://x:99999/",
        ] {
            assert!(
                matches!(parse_url(bad), Err(DeliveryError::Config(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn json_request_with_the_default_payload() {
        let w = webhook(None, Some(r#"{"X-Title": "$EVENT_TITLE"}"#), "json");
        let r = build_request(&w, &payload_vars(&body()), 7).unwrap();
        assert_eq!(
            r.target.path,
            "/hook/42?q=%5BTriggered%5D%20CPU%20%22high%22"
        );
        assert_eq!(header(&r, "content-type"), Some("application/json"));
        assert_eq!(header(&r, NOTIFICATION_ID_HEADER), Some("7"));
        assert_eq!(header(&r, "X-Title"), Some("[Triggered] CPU \"high\""));
        let sent: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(sent["title"], "[Triggered] CPU \"high\"");
        assert_eq!(sent["body"], "fallback message");
        assert_eq!(sent["date"], "1728578400000");
    }

    #[test]
    fn custom_headers_can_set_the_content_type_but_not_the_framing() {
        let w = webhook(
            Some("$EVENT_MSG"),
            Some(
                r#"{"Content-Type": "text/plain", "Content-Length": "1", "Host": "x", "X-Whippet-Notification-Id": "0"}"#,
            ),
            "json",
        );
        let r = build_request(&w, &payload_vars(&body()), 7).unwrap();
        assert_eq!(r.body, "fallback message");
        let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["user-agent", NOTIFICATION_ID_HEADER, "Content-Type"]
        );
        assert_eq!(header(&r, NOTIFICATION_ID_HEADER), Some("7"));
    }

    #[test]
    fn form_requests() {
        let vars = payload_vars(&body());
        let w = webhook(
            Some(r#"{"title": "$EVENT_TITLE", "id": $ALERT_ID, "nested": {"a": 1}}"#),
            None,
            "form",
        );
        let r = build_request(&w, &vars, 1).unwrap();
        assert_eq!(
            header(&r, "content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(
            r.body,
            "id=42&nested=%7B%22a%22%3A1%7D&title=%5BTriggered%5D%20CPU%20%22high%22"
        );
        let w = webhook(Some("text=$EVENT_TITLE&n=1"), None, "form");
        assert_eq!(
            build_request(&w, &vars, 1).unwrap().body,
            "text=%5BTriggered%5D%20CPU%20%22high%22&n=1"
        );
        let w = webhook(Some("[1, 2]"), None, "form");
        assert!(matches!(
            build_request(&w, &vars, 1),
            Err(DeliveryError::Config(_))
        ));
    }

    /// A receiver on a local port that answers `answer` to one request and
    /// hands back what it read.
    async fn receiver(answer: &'static str) -> (String, tokio::task::JoinHandle<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/in?x=1", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (sock, _) = listener.accept().await.unwrap();
            serve_one(sock, answer).await
        });
        (url, task)
    }

    /// [`receiver`] over TLS with the test server certificate, at
    /// `https://localhost:PORT/in`; the task ends with the TLS error when
    /// the handshake fails.
    async fn tls_receiver(
        answer: &'static str,
    ) -> (String, tokio::task::JoinHandle<Result<String, String>>) {
        let acceptor = crate::alerting::tls::testing::acceptor();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "https://localhost:{}/in",
            listener.local_addr().unwrap().port()
        );
        let task = tokio::spawn(async move {
            let (sock, _) = listener.accept().await.unwrap();
            let tls = acceptor.accept(sock).await.map_err(|e| e.to_string())?;
            Ok(serve_one(tls, answer).await)
        });
        (url, task)
    }

    /// Reads one request from `sock`, answers `answer`, returns the request.
    async fn serve_one<S>(mut sock: S, answer: &str) -> String
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        // Headers, then as many body bytes as Content-Length says.
        loop {
            let n = sock.read(&mut buf).await.unwrap();
            seen.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&seen).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length: ")
                            .map(str::to_owned)
                    })
                    .map_or(0, |v| v.trim().parse().unwrap());
                if body.len() >= len || n == 0 {
                    break;
                }
            }
        }
        sock.write_all(answer.as_bytes()).await.unwrap();
        sock.flush().await.unwrap();
        String::from_utf8_lossy(&seen).into_owned()
    }

    #[tokio::test]
    async fn https_posts_verify_the_server_certificate() {
        use crate::alerting::tls::testing::{testdata, trusting};
        let trusting = trusting();
        let (url, seen) = tls_receiver("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await;
        let w = Webhook {
            url,
            ..webhook(None, None, "json")
        };
        let req = build_request(&w, &payload_vars(&body()), 7).unwrap();
        assert!(req.target.tls);
        assert_eq!(post_with(req, Some(&trusting)).await, Ok(()));
        let seen = seen.await.unwrap().unwrap();
        assert!(seen.starts_with("POST /in HTTP/1.1\r\n"), "{seen}");
        assert!(seen.contains("X-Whippet-Notification-Id: 7\r\n"), "{seen}");

        // The built-in roots alone do not know the test CA.
        let default =
            tokio_rustls::TlsConnector::from(super::super::tls::client_config(None).unwrap());
        let (url, refused) = tls_receiver("HTTP/1.1 200 OK\r\n\r\n").await;
        let w = Webhook {
            url,
            ..webhook(None, None, "json")
        };
        let req = build_request(&w, &PayloadVars::new(), 8).unwrap();
        let err = post_with(req, Some(&default)).await.unwrap_err();
        assert_eq!(err.reason(), "tls", "{err}");
        assert!(err.to_string().contains("UnknownIssuer"), "{err}");
        assert!(refused.await.unwrap().is_err(), "no request got through");

        // An unreadable CA file is a setup error naming the file.
        let e = super::super::tls::client_config(Some(&testdata("missing.pem"))).unwrap_err();
        assert!(e.contains("missing.pem"), "{e}");
    }

    #[tokio::test]
    async fn posts_and_reads_the_status() {
        let (url, seen) = receiver("HTTP/1.1 204 No Content\r\n\r\n").await;
        let w = Webhook {
            url,
            ..webhook(None, Some(r#"{"X-Token": "t"}"#), "json")
        };
        let req = build_request(&w, &payload_vars(&body()), 99).unwrap();
        assert_eq!(post(req).await, Ok(()));
        let seen = seen.await.unwrap();
        assert!(seen.starts_with("POST /in?x=1 HTTP/1.1\r\n"), "{seen}");
        assert!(seen.contains("X-Whippet-Notification-Id: 99\r\n"), "{seen}");
        assert!(seen.contains("X-Token: t\r\n"), "{seen}");
        assert!(
            seen.contains("Content-Type: application/json\r\n"),
            "{seen}"
        );
        assert!(
            seen.contains(r#""title": "[Triggered] CPU \"high\"""#),
            "{seen}"
        );

        let (url, _) =
            receiver("HTTP/1.1 500 Internal Server Error\r\ncontent-length: 5\r\n\r\noops\n").await;
        let w = Webhook {
            url,
            ..webhook(None, None, "json")
        };
        let req = build_request(&w, &PayloadVars::new(), 1).unwrap();
        assert_eq!(
            post(req).await,
            Err(DeliveryError::Status(500, "oops".into()))
        );
    }

    #[tokio::test]
    async fn refused_connections_are_network_errors() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let w = Webhook {
            url: format!("http://127.0.0.1:{port}/"),
            ..webhook(None, None, "json")
        };
        let req = build_request(&w, &PayloadVars::new(), 1).unwrap();
        let e = post(req).await.unwrap_err();
        assert_eq!(e.reason(), "network", "{e}");
        assert!(e.to_string().contains("connecting to 127.0.0.1"), "{e}");
    }

    #[test]
    fn kinds_of_targets() {
        let kinds: Vec<&str> = [
            "webhook-a",
            "slack-ops",
            "oncall@example.com",
            "pagerduty-x",
        ]
        .iter()
        .map(|t| Kind::of(t).label())
        .collect();
        assert_eq!(kinds, ["webhook", "slack", "email", "other"]);
    }

    #[test]
    fn slack_requests_carry_the_slack_body() {
        let slack = SlackConfig {
            workspaces: vec!["acme".into()],
            channels: [
                (
                    "ops".to_owned(),
                    "http://chat.internal:8065/hooks/abc".to_owned(),
                ),
                (
                    "acme-alerts".to_owned(),
                    "https://hooks.slack.com/x".to_owned(),
                ),
            ]
            .into(),
        };
        let r = slack_request(&slack, "ops", &body(), 5).unwrap();
        assert_eq!(r.target.connect, "chat.internal:8065");
        assert_eq!(r.target.path, "/hooks/abc");
        assert_eq!(header(&r, "content-type"), Some("application/json"));
        assert_eq!(header(&r, NOTIFICATION_ID_HEADER), Some("5"));
        let sent: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(sent, json!({"text": "*fallback title*\nfallback message"}));
        let r = slack_request(&slack, "acme-alerts", &body(), 5).unwrap();
        assert_eq!(
            (r.target.tls, r.target.host.as_str()),
            (true, "hooks.slack.com")
        );
        let e = slack_request(&slack, "acme-ops", &body(), 5).unwrap_err();
        assert_eq!(e.reason(), "no_channel");
        assert!(
            e.to_string().contains("@slack-acme-ops") && e.to_string().contains("[slack.channels]"),
            "{e}"
        );
    }

    #[test]
    fn emails_take_the_title_and_the_text_only_message() {
        let relay = SmtpConfig {
            host: "mail".into(),
            port: 25,
            from: "whippet@alerts.example.com".into(),
            helo: None,
            starttls: crate::config::notifications::StartTls::Opportunistic,
            username: None,
            password: None,
        };
        let body =
            json!({"title": "[Triggered] CPU", "message": "%%%\n**CPU** is [high](http://x)\n%%%"});
        let m = email_for(&relay, "oncall@example.com", &body, 12, 1_728_583_200_500);
        assert_eq!(m.subject, "[Triggered] CPU");
        assert_eq!(m.text, "CPU is high (http://x)\n");
        assert_eq!(m.to, "oncall@example.com");
        assert_eq!(m.message_id, "whippet.notification.12@alerts.example.com");
        assert_eq!(m.date_unix_secs, 1_728_583_200);
        assert_eq!(
            smtp_error(SmtpError::Timeout(DELIVERY_TIMEOUT)),
            DeliveryError::Timeout
        );
        assert_eq!(smtp_error(SmtpError::Io("x".into())).reason(), "network");
        assert_eq!(smtp_error(SmtpError::Tls("x".into())).reason(), "tls");
        assert_eq!(
            smtp_error(SmtpError::Capability("x".into())).reason(),
            "smtp"
        );
    }

    #[test]
    fn bad_headers_at_delivery_are_config_errors() {
        let w = webhook(None, Some("{not json"), "json");
        let e = build_request(&w, &PayloadVars::new(), 1).unwrap_err();
        assert!(matches!(e, DeliveryError::Config(_)));
        assert!(e.to_string().contains("custom_headers"), "{e}");
    }
}
