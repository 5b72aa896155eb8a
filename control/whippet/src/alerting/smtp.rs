//! A minimal SMTP client: sends one plain-text e-mail to one recipient
//! through the relay of the config file's `[smtp]` table, over plain TCP,
//! STARTTLS or implicit TLS, logging in when credentials are configured.
//!
//! # What it owns
//! - **The message** ([`Email::to_message`]): RFC 5322 headers (`Date`,
//!   `From`, `To`, `Subject`, `Message-ID`, MIME headers, extra headers)
//!   and a `text/plain; charset=utf-8` body. A body that is ASCII with
//!   short lines goes as it is (`7bit`); any other is quoted-printable, so
//!   the message is 7-bit clean whatever the relay supports. A subject
//!   that is not short ASCII becomes RFC 2047 encoded words. Line breaks
//!   in the subject become spaces (no header injection).
//! - **The dialogue** ([`send`]): with `starttls = "implicit"` the TLS
//!   handshake first; greeting `220`; `EHLO` `250` (on a `5xx`, `HELO`
//!   `250`, which offers no extension); then, by the `starttls` mode
//!   ([`StartTls`]), `STARTTLS` `220`, the TLS handshake and `EHLO` again
//!   (RFC 3207: what the server offered in plain text is forgotten); with
//!   credentials, `AUTH` (below); `MAIL FROM:<from>` `250`; `RCPT TO:<to>`
//!   `250`/`251`; `DATA` `354`; the message with CRLF line endings and
//!   dot-stuffing ([`data_block`]), `250`; `QUIT`. Every reply code is
//!   checked (multi-line replies read to their last line); any other code
//!   fails the send with the code and the server's text, which is what
//!   the outbox keeps as the notification's last error.
//! - **TLS**: the process' connector ([`tls::connector`]: Mozilla's roots
//!   and `SSL_CERT_FILE`), the server name being `[smtp] host`. A
//!   certificate that does not verify fails the send ([`SmtpError::Tls`]);
//!   so does a `required` relay whose `EHLO` does not list `STARTTLS`
//!   ([`SmtpError::Capability`]). Bytes the server sends after its
//!   `STARTTLS` answer and before the handshake are refused (they would
//!   be read as if they had come over TLS).
//! - **AUTH** (RFC 4954): `PLAIN` (one command with the initial response)
//!   when the `EHLO` answer lists it, else `LOGIN` (user name and
//!   password each answering a `334`), expecting `235`; a `535` fails
//!   with the server's code and text. Credentials are sent over TLS only:
//!   on a plain connection (the relay did not offer STARTTLS) the send
//!   fails before `AUTH`. They never appear in an error.
//! - **A bound on time and memory**: the whole dialogue, TLS handshakes
//!   included, runs under one timeout given by the caller, and reply
//!   lines and replies are capped ([`MAX_REPLY_LINE_BYTES`],
//!   [`MAX_REPLY_LINES`]).
//!
//! # What it must never do
//! Retry or queue: one call is one attempt; the outbox retries. Nor report
//! a failure once the server has accepted the message (`250` after the
//! data): a failed `QUIT` is ignored, or the notification would be sent
//! twice. Nor fall back to plain text once a TLS handshake has started,
//! nor send credentials before one has succeeded.
//!
//! # Limits
//! `PLAIN` and `LOGIN` only (no `CRAM-MD5`, `XOAUTH2`); a relay offering
//! neither fails the send saying what it offers. A `STARTTLS` answered
//! with anything but `220` (such as `454`) fails the send even in
//! `opportunistic` mode. No client certificates. Addresses are ASCII (no
//! SMTPUTF8). One recipient per message: each `@address` is its own
//! notification.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::tls;
use crate::config::notifications::{SmtpConfig, StartTls, is_address};

/// Bytes of one reply line read at most. RFC 5321 (4.5.3.1.5) caps a
/// reply line at 512 octets; twice that tolerates a chatty server while
/// bounding what a hostile one costs.
pub const MAX_REPLY_LINE_BYTES: u64 = 1024;

/// Lines of one multi-line reply read at most: an `EHLO` answer lists a
/// dozen extensions; more than 100 lines is not SMTP.
pub const MAX_REPLY_LINES: usize = 100;

/// Longest line of a `7bit` body. RFC 5322 allows 998 characters; a body
/// with a longer line goes quoted-printable.
const MAX_PLAIN_LINE: usize = 998;

/// Longest encoded line of a quoted-printable body, without its CRLF: 76
/// per RFC 2045, less one for the `=` of a soft line break.
const QP_LINE: usize = 75;

/// Longest subject sent as it is; a longer one goes as encoded words,
/// which can be folded over several lines. Leaves room for `Subject: `
/// within the 998-character line limit.
const MAX_PLAIN_SUBJECT: usize = 900;

/// Bytes of UTF-8 text in one encoded word: an encoded word is at most 75
/// characters (RFC 2047), `=?UTF-8?Q?` and `?=` take 12, and a byte can
/// take 3 (`=E2`).
const ENCODED_WORD_TEXT: usize = 75 - 12;

/// Characters of the server's text kept in an error.
const ERROR_TEXT_CHARS: usize = 200;

/// One e-mail to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The sender (`MAIL FROM` and `From:`).
    pub from: String,
    /// The one recipient (`RCPT TO` and `To:`).
    pub to: String,
    /// The `Subject:`.
    pub subject: String,
    /// The plain-text body, any line endings.
    pub text: String,
    /// The `Message-ID:` without its `<>`; the same notification gets the
    /// same id, so a mail client shows a duplicate once.
    pub message_id: String,
    /// The `Date:`, Unix seconds.
    pub date_unix_secs: i64,
    /// More headers, after the standard ones (names and values ASCII, no
    /// line breaks).
    pub headers: Vec<(String, String)>,
}

/// Why a send failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmtpError {
    /// The sender or recipient cannot be sent to (not `local@domain` in
    /// printable ASCII).
    Address(String),
    /// Connecting, reading or writing failed, or the server hung up.
    Io(String),
    /// The TLS handshake failed (a certificate that does not verify, a
    /// server that does not speak TLS), or the TLS setup could not be
    /// read (`SSL_CERT_FILE`).
    Tls(String),
    /// The server lacks what the `[smtp]` table asks for: `STARTTLS` with
    /// `starttls = "required"`, TLS before credentials, an AUTH mechanism
    /// Whippet speaks. The text names the fix.
    Capability(String),
    /// The dialogue did not finish within the caller's timeout.
    Timeout(Duration),
    /// The server answered `code` where another was expected.
    Reply {
        /// What the answer was to (`RCPT TO`, `the greeting`, ...).
        after: &'static str,
        /// The reply code.
        code: u16,
        /// The server's text (the lines joined by spaces, shortened).
        text: String,
    },
    /// An answer that is not an SMTP reply.
    Protocol(String),
}

impl fmt::Display for SmtpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SmtpError::Address(a) => write!(f, "{a:?} is not an address SMTP can send to"),
            SmtpError::Io(e) | SmtpError::Tls(e) | SmtpError::Capability(e) => write!(f, "{e}"),
            SmtpError::Timeout(t) => {
                write!(
                    f,
                    "the SMTP dialogue did not finish within {} s",
                    t.as_secs()
                )
            }
            SmtpError::Reply { after, code, text } => {
                write!(f, "the SMTP server answered {code} to {after}: {text}")
            }
            SmtpError::Protocol(e) => write!(f, "not an SMTP server: {e}"),
        }
    }
}

/// Sends `mail` through `relay`, the whole dialogue within `timeout`.
/// `Ok` means the server accepted the message (`250` after the data).
/// TLS goes through the process' connector ([`tls::connector`]).
pub async fn send(relay: &SmtpConfig, mail: &Email, timeout: Duration) -> Result<(), SmtpError> {
    send_with(relay, mail, timeout, None).await
}

/// [`send`] with `tls` as the TLS connector; `None`: the process' one,
/// built only when the connection is encrypted.
pub async fn send_with(
    relay: &SmtpConfig,
    mail: &Email,
    timeout: Duration,
    tls: Option<&TlsConnector>,
) -> Result<(), SmtpError> {
    for a in [&mail.from, &mail.to] {
        if !is_address(a) {
            return Err(SmtpError::Address(a.clone()));
        }
    }
    tokio::time::timeout(timeout, dialogue(relay, mail, tls))
        .await
        .map_err(|_| SmtpError::Timeout(timeout))?
}

/// `host:port`, with brackets around an IPv6 address.
fn connect_addr(relay: &SmtpConfig) -> String {
    if relay.host.contains(':') && !relay.host.starts_with('[') {
        format!("[{}]:{}", relay.host, relay.port)
    } else {
        format!("{}:{}", relay.host, relay.port)
    }
}

/// The `EHLO` name when none is configured: the local end's address
/// literal (RFC 5321 4.1.3), which needs no DNS name.
fn address_literal(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => format!("[{}]", a.ip()),
        SocketAddr::V6(a) => format!("[IPv6:{}]", a.ip()),
    }
}

async fn dialogue(
    relay: &SmtpConfig,
    mail: &Email,
    tls: Option<&TlsConnector>,
) -> Result<(), SmtpError> {
    let server = connect_addr(relay);
    let stream = TcpStream::connect(&server)
        .await
        .map_err(|e| SmtpError::Io(format!("connecting to SMTP server {server}: {e}")))?;
    let helo = match &relay.helo {
        Some(h) => h.clone(),
        None => stream
            .local_addr()
            .map(address_literal)
            .unwrap_or_else(|_| "[127.0.0.1]".into()),
    };
    if relay.starttls == StartTls::Implicit {
        let stream = encrypt(relay, tls, stream).await?;
        let mut c = Conn::new(stream, server);
        c.expect("the greeting", &[220]).await?;
        let offered = c.hello(&helo).await?;
        return transaction(c, &offered, true, relay, mail).await;
    }
    let mut c = Conn::new(stream, server);
    c.expect("the greeting", &[220]).await?;
    let offered = c.hello(&helo).await?;
    let upgrade = match relay.starttls {
        StartTls::Off => false,
        _ if offered.has("STARTTLS") => true,
        StartTls::Required => {
            return Err(SmtpError::Capability(format!(
                "SMTP server {} does not offer STARTTLS, and [smtp] `starttls` is \
                 \"required\": use a relay that offers it, `starttls = \"implicit\"` \
                 for one that speaks TLS from the start (port 465), or \"opportunistic\" \
                 to accept plain text",
                c.server
            )));
        }
        // Implicit TLS returned above.
        StartTls::Opportunistic | StartTls::Implicit => false,
    };
    if !upgrade {
        return transaction(c, &offered, false, relay, mail).await;
    }
    c.command("STARTTLS", "STARTTLS", &[220]).await?;
    let server = c.server.clone();
    let stream = encrypt(relay, tls, c.into_stream()?).await?;
    let mut c = Conn::new(stream, server);
    let offered = c.hello(&helo).await?;
    transaction(c, &offered, true, relay, mail).await
}

/// The TLS handshake over `stream` with the certificate of `relay.host`.
async fn encrypt(
    relay: &SmtpConfig,
    tls: Option<&TlsConnector>,
    stream: TcpStream,
) -> Result<TlsStream<TcpStream>, SmtpError> {
    let process;
    let connector = match tls {
        Some(c) => c,
        None => {
            process = tls::connector().map_err(SmtpError::Tls)?;
            &process
        }
    };
    let name = relay.host.trim_start_matches('[').trim_end_matches(']');
    tls::handshake(connector, name, stream)
        .await
        .map_err(SmtpError::Tls)
}

/// After `EHLO`: `AUTH` when configured, then the mail. `secure`: the
/// connection is TLS.
async fn transaction<S>(
    mut c: Conn<S>,
    offered: &Extensions,
    secure: bool,
    relay: &SmtpConfig,
    mail: &Email,
) -> Result<(), SmtpError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    if let Some((user, password)) = relay.credentials() {
        if !secure {
            return Err(SmtpError::Capability(format!(
                "SMTP server {} does not offer STARTTLS, and Whippet does not send the \
                 [smtp] `username` and `password` in plain text: use a relay that offers \
                 STARTTLS (usually on port 587), `starttls = \"implicit\"` for one that \
                 speaks TLS from the start (port 465), or remove the credentials",
                c.server
            )));
        }
        c.authenticate(offered, user, password).await?;
    }
    c.command(&format!("MAIL FROM:<{}>", mail.from), "MAIL FROM", &[250])
        .await?;
    c.command(&format!("RCPT TO:<{}>", mail.to), "RCPT TO", &[250, 251])
        .await?;
    c.command("DATA", "DATA", &[354]).await?;
    c.write(&data_block(&mail.to_message())).await?;
    c.expect("the message", &[250]).await?;
    // Accepted: whatever QUIT gets, the mail is on its way.
    if c.write("QUIT\r\n").await.is_ok() {
        let _ = c.reply().await;
    }
    Ok(())
}

fn reply_error(after: &'static str, code: u16, text: &str) -> SmtpError {
    SmtpError::Reply {
        after,
        code,
        text: text.chars().take(ERROR_TEXT_CHARS).collect(),
    }
}

/// One reply: its code and the text of each line (after the code and
/// its separator, trimmed).
#[derive(Debug)]
struct Reply {
    code: u16,
    lines: Vec<String>,
}

impl Reply {
    /// The lines joined by spaces.
    fn text(&self) -> String {
        self.lines.join(" ").trim().to_owned()
    }
}

/// The extensions an `EHLO` answer lists (its lines after the first),
/// as sent.
#[derive(Debug, Default)]
struct Extensions(Vec<String>);

impl Extensions {
    /// Whether `keyword` (upper case) is listed, with or without
    /// parameters.
    fn has(&self, keyword: &str) -> bool {
        self.0.iter().any(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|k| k.eq_ignore_ascii_case(keyword))
        })
    }

    /// The SASL mechanisms of `AUTH`, upper case (also from the `AUTH=`
    /// spelling of servers that predate RFC 4954).
    fn auth_mechanisms(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for line in &self.0 {
            let upper = line.to_ascii_uppercase();
            let rest = match upper.strip_prefix("AUTH") {
                Some(r) if r.starts_with([' ', '=']) => &r[1..],
                _ => continue,
            };
            for m in rest.split_whitespace() {
                if !out.iter().any(|o| o == m) {
                    out.push(m.to_owned());
                }
            }
        }
        out
    }
}

/// One connection to the server, over TCP or TLS.
struct Conn<S> {
    io: BufReader<S>,
    /// `host:port`, for errors.
    server: String,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    fn new(stream: S, server: String) -> Self {
        Conn {
            io: BufReader::new(stream),
            server,
        }
    }

    /// The stream back, for the TLS handshake after `STARTTLS`. Anything
    /// the server sent after its `220` and before the handshake is an
    /// error: kept, it would be read as the answer to a command sent over
    /// TLS (the STARTTLS command injection of CVE-2011-0411).
    fn into_stream(self) -> Result<S, SmtpError> {
        if !self.io.buffer().is_empty() {
            return Err(SmtpError::Protocol(format!(
                "SMTP server {} sent more after its STARTTLS answer",
                self.server
            )));
        }
        Ok(self.io.into_inner())
    }

    async fn write(&mut self, text: &str) -> Result<(), SmtpError> {
        let io = self.io.get_mut();
        // Flushed: a TLS stream holds what is written until then.
        let written = match io.write_all(text.as_bytes()).await {
            Ok(()) => io.flush().await,
            Err(e) => Err(e),
        };
        written.map_err(|e| SmtpError::Io(format!("writing to SMTP server {}: {e}", self.server)))
    }

    /// Sends `line` (without CRLF) and expects one of `codes`.
    async fn command(
        &mut self,
        line: &str,
        after: &'static str,
        codes: &[u16],
    ) -> Result<Reply, SmtpError> {
        self.write(&format!("{line}\r\n")).await?;
        self.expect(after, codes).await
    }

    async fn expect(&mut self, after: &'static str, codes: &[u16]) -> Result<Reply, SmtpError> {
        let reply = self.reply().await?;
        if codes.contains(&reply.code) {
            Ok(reply)
        } else {
            Err(reply_error(after, reply.code, &reply.text()))
        }
    }

    /// `EHLO helo` and what the server offers; on a `5xx`, `HELO helo`
    /// and nothing offered.
    async fn hello(&mut self, helo: &str) -> Result<Extensions, SmtpError> {
        self.write(&format!("EHLO {helo}\r\n")).await?;
        let reply = self.reply().await?;
        if reply.code == 250 {
            return Ok(Extensions(reply.lines.into_iter().skip(1).collect()));
        }
        if !(500..600).contains(&reply.code) {
            return Err(reply_error("EHLO", reply.code, &reply.text()));
        }
        // A server without ESMTP: the plain greeting will do.
        self.command(&format!("HELO {helo}"), "HELO", &[250])
            .await?;
        Ok(Extensions::default())
    }

    /// `AUTH` with the first of `PLAIN` and `LOGIN` the server offers.
    async fn authenticate(
        &mut self,
        offered: &Extensions,
        user: &str,
        password: &str,
    ) -> Result<(), SmtpError> {
        let mechanisms = offered.auth_mechanisms();
        let has = |m: &str| mechanisms.iter().any(|o| o == m);
        if has("PLAIN") {
            // RFC 4616: no authorization identity, then the user and the
            // password, each after a NUL.
            let response = base64(format!("\0{user}\0{password}").as_bytes());
            self.command(&format!("AUTH PLAIN {response}"), "AUTH", &[235])
                .await?;
        } else if has("LOGIN") {
            self.command("AUTH LOGIN", "AUTH LOGIN", &[334]).await?;
            self.command(&base64(user.as_bytes()), "the AUTH LOGIN user name", &[334])
                .await?;
            self.command(&base64(password.as_bytes()), "AUTH", &[235])
                .await?;
        } else if mechanisms.is_empty() {
            return Err(SmtpError::Capability(format!(
                "SMTP server {} does not offer AUTH: remove `username` and `password` \
                 from [smtp] if it takes mail without them",
                self.server
            )));
        } else {
            return Err(SmtpError::Capability(format!(
                "SMTP server {} offers AUTH {}, and Whippet speaks PLAIN and LOGIN only",
                self.server,
                shorten(&mechanisms.join(" "))
            )));
        }
        Ok(())
    }

    /// One reply. The lines of a multi-line reply (`250-...`, then
    /// `250 ...`) must share the code.
    async fn reply(&mut self) -> Result<Reply, SmtpError> {
        let mut lines: Vec<String> = Vec::new();
        let mut code = None;
        for _ in 0..MAX_REPLY_LINES {
            let mut line = String::new();
            let n = (&mut self.io)
                .take(MAX_REPLY_LINE_BYTES)
                .read_line(&mut line)
                .await
                .map_err(|e| {
                    SmtpError::Io(format!("reading from SMTP server {}: {e}", self.server))
                })?;
            if n == 0 {
                return Err(SmtpError::Io(format!(
                    "SMTP server {} closed the connection",
                    self.server
                )));
            }
            if !line.ends_with('\n') {
                return Err(SmtpError::Protocol(format!(
                    "a reply line longer than {MAX_REPLY_LINE_BYTES} bytes"
                )));
            }
            let line = line.trim_end_matches(['\r', '\n']);
            let this: u16 = line
                .get(..3)
                .filter(|c| c.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|c| c.parse().ok())
                .ok_or_else(|| SmtpError::Protocol(format!("{:?}", shorten(line))))?;
            if *code.get_or_insert(this) != this {
                return Err(SmtpError::Protocol(format!(
                    "a multi-line reply changed its code: {:?}",
                    shorten(line)
                )));
            }
            let rest = &line[3..];
            lines.push(rest.get(1..).unwrap_or("").trim().to_owned());
            match rest.as_bytes().first() {
                Some(b'-') => continue,
                None | Some(b' ') => return Ok(Reply { code: this, lines }),
                Some(_) => return Err(SmtpError::Protocol(format!("{:?}", shorten(line)))),
            }
        }
        Err(SmtpError::Protocol(format!(
            "a reply of more than {MAX_REPLY_LINES} lines"
        )))
    }
}

/// Standard base64 with padding (RFC 4648 4), for the AUTH exchanges.
/// Written here: the `base64` crate is only an indirect dependency, and a
/// direct one for a few short strings per mail is not worth it.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn shorten(s: &str) -> String {
    s.chars().take(ERROR_TEXT_CHARS).collect()
}

/// The message as it goes after `DATA`: every line break CRLF, every line
/// that starts with `.` given one more (RFC 5321 4.5.2), then the
/// terminating `.` line.
pub fn data_block(message: &str) -> String {
    let mut out = String::with_capacity(message.len() + message.len() / 16 + 8);
    let normal = message.replace("\r\n", "\n").replace('\r', "\n");
    let body = normal.strip_suffix('\n').unwrap_or(&normal);
    if !body.is_empty() {
        for line in body.split('\n') {
            if line.starts_with('.') {
                out.push('.');
            }
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str(".\r\n");
    out
}

impl Email {
    /// The message: headers, a blank line, the body; CRLF line endings.
    pub fn to_message(&self) -> String {
        let text = self.text.replace("\r\n", "\n").replace('\r', "\n");
        let plain = text.is_ascii()
            && text.split('\n').all(|l| l.len() <= MAX_PLAIN_LINE)
            && !text.contains('\0');
        let mut m = String::with_capacity(text.len() * 2 + 512);
        let mut header = |name: &str, value: &str| {
            m.push_str(name);
            m.push_str(": ");
            m.push_str(value);
            m.push_str("\r\n");
        };
        header("Date", &rfc5322_date(self.date_unix_secs));
        header("From", &self.from);
        header("To", &self.to);
        header("Subject", &encode_subject(&self.subject));
        header("Message-ID", &format!("<{}>", self.message_id));
        header("MIME-Version", "1.0");
        header("Content-Type", "text/plain; charset=utf-8");
        header(
            "Content-Transfer-Encoding",
            if plain { "7bit" } else { "quoted-printable" },
        );
        for (name, value) in &self.headers {
            header(name, &one_line(value));
        }
        m.push_str("\r\n");
        if plain {
            m.push_str(&text.replace('\n', "\r\n"));
        } else {
            m.push_str(&quoted_printable(&text));
        }
        m
    }
}

/// `value` with its line breaks as spaces.
fn one_line(value: &str) -> String {
    value.replace(['\r', '\n'], " ")
}

/// The subject as is when it is short ASCII; otherwise RFC 2047 encoded
/// words (`=?UTF-8?Q?...?=`), folded one per line.
fn encode_subject(subject: &str) -> String {
    let subject = one_line(subject);
    if subject.is_ascii()
        && subject.len() <= MAX_PLAIN_SUBJECT
        && !subject.contains("=?")
        && subject.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
    {
        return subject;
    }
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut buf = [0u8; 4];
    for ch in subject.chars() {
        let mut encoded = String::new();
        for b in ch.encode_utf8(&mut buf).bytes() {
            match b {
                b' ' => encoded.push('_'),
                b if b.is_ascii_alphanumeric() || b"!*+-/".contains(&b) => encoded.push(b as char),
                b => encoded.push_str(&format!("={b:02X}")),
            }
        }
        if word.len() + encoded.len() > ENCODED_WORD_TEXT {
            words.push(std::mem::take(&mut word));
        }
        word.push_str(&encoded);
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
        .iter()
        .map(|w| format!("=?UTF-8?Q?{w}?="))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// `text` (`\n` line breaks) quoted-printable (RFC 2045 6.7), CRLF line
/// breaks, encoded lines at most 76 characters.
fn quoted_printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3 / 2);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        let bytes = line.as_bytes();
        let mut width = 0;
        for (j, &b) in bytes.iter().enumerate() {
            let last = j + 1 == bytes.len();
            let literal = (b'!'..=b'~').contains(&b) && b != b'=' || (b == b' ' && !last);
            let piece = if literal {
                (b as char).to_string()
            } else {
                format!("={b:02X}")
            };
            if width + piece.len() > QP_LINE {
                out.push_str("=\r\n");
                width = 0;
            }
            out.push_str(&piece);
            width += piece.len();
        }
    }
    out
}

/// `Tue, 10 Oct 2024 18:00:00 +0000` for Unix seconds.
pub fn rfc5322_date(unix_secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix_secs.div_euclid(86_400);
    let secs = unix_secs.rem_euclid(86_400);
    let (year, month, day) = whippet_tsdb::time::civil_from_days(days);
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} +0000",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerting::tls::testing::{acceptor, trusting};
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpListener;

    fn relay(port: u16) -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            from: "whippet@example.com".into(),
            helo: None,
            starttls: StartTls::Opportunistic,
            username: None,
            password: None,
        }
    }

    fn with_login(mut r: SmtpConfig) -> SmtpConfig {
        r.username = Some("whippet".into());
        r.password = Some(crate::config::notifications::SmtpPassword("s3cret".into()));
        r
    }

    fn email(text: &str) -> Email {
        Email {
            from: "whippet@example.com".into(),
            to: "oncall@example.com".into(),
            subject: "[Triggered] CPU high".into(),
            text: text.into(),
            message_id: "whippet-7@example.com".into(),
            date_unix_secs: 1_728_583_200,
            headers: vec![("X-Whippet-Notification-Id".into(), "7".into())],
        }
    }

    const TIMEOUT: Duration = Duration::from_secs(5);

    /// What the fake server saw: the lines the client sent (commands and
    /// AUTH LOGIN answers; `<TLS>` where the TLS handshake succeeded),
    /// then the data as sent (still dot-stuffed, without the terminating
    /// line), and the server's handshake error if any.
    #[derive(Debug, Default)]
    struct Seen {
        commands: Vec<String>,
        data: String,
        tls_error: Option<String>,
    }

    /// How the fake server behaves.
    #[derive(Clone, Copy)]
    struct Fake {
        /// A command starting with a key gets that answer instead of a
        /// relay's (the key `.`: the end of the data).
        refuse: &'static [(&'static str, &'static str)],
        /// The extensions `EHLO` lists in plain text.
        plain: &'static [&'static str],
        /// The extensions `EHLO` lists over TLS.
        secure: &'static [&'static str],
        /// TLS from the first byte.
        implicit: bool,
        /// Sent in the same write as the `220` to `STARTTLS`.
        after_starttls: &'static str,
        /// The last answer of AUTH (PLAIN, or LOGIN's password).
        auth: &'static str,
    }

    impl Default for Fake {
        fn default() -> Self {
            Fake {
                refuse: &[],
                plain: &["8BITMIME", "SIZE 1000000"],
                secure: &["8BITMIME", "AUTH PLAIN LOGIN"],
                implicit: false,
                after_starttls: "",
                auth: "235 2.7.0 Authentication successful\r\n",
            }
        }
    }

    trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
    impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

    /// A fake SMTP server as `how` says on a local port for one
    /// connection, with a real TLS handshake (the test certificate) on
    /// `STARTTLS` or from the start.
    async fn serve(how: Fake) -> (u16, tokio::task::JoinHandle<Seen>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let (sock, _) = listener.accept().await.unwrap();
            let mut seen = Seen::default();
            let mut secure = false;
            let mut io: BufReader<Box<dyn Io>> = if how.implicit {
                match acceptor().accept(sock).await {
                    Ok(tls) => {
                        seen.commands.push("<TLS>".into());
                        secure = true;
                        BufReader::new(Box::new(tls))
                    }
                    Err(e) => {
                        seen.tls_error = Some(e.to_string());
                        return seen;
                    }
                }
            } else {
                BufReader::new(Box::new(sock))
            };
            // The answers still to give to AUTH LOGIN's next lines.
            let mut login: Vec<&str> = Vec::new();
            if say(&mut io, "220 fake.test ESMTP ready\r\n").await.is_err() {
                return seen;
            }
            loop {
                let mut line = String::new();
                if !matches!(io.read_line(&mut line).await, Ok(n) if n > 0) {
                    return seen;
                }
                assert!(line.ends_with("\r\n"), "{line:?}");
                let cmd = line.trim_end_matches("\r\n").to_owned();
                seen.commands.push(cmd.clone());
                let answer = match refuse_or(how, &cmd) {
                    Some(answer) => answer.to_owned(),
                    None if !login.is_empty() => login.remove(0).to_owned(),
                    None if cmd.starts_with("EHLO") => {
                        let listed = if secure { how.secure } else { how.plain };
                        let mut lines = vec!["fake.test greets you"];
                        lines.extend_from_slice(listed);
                        let last = lines.len() - 1;
                        lines
                            .iter()
                            .enumerate()
                            .map(|(i, l)| {
                                format!("250{}{l}\r\n", if i == last { ' ' } else { '-' })
                            })
                            .collect()
                    }
                    None if cmd == "STARTTLS" => {
                        format!("220 2.0.0 go ahead\r\n{}", how.after_starttls)
                    }
                    None if cmd.starts_with("AUTH PLAIN ") => how.auth.to_owned(),
                    None if cmd == "AUTH LOGIN" => {
                        login = vec!["334 UGFzc3dvcmQ6\r\n", how.auth];
                        "334 VXNlcm5hbWU6\r\n".to_owned()
                    }
                    None if cmd == "DATA" => "354 go ahead\r\n".into(),
                    None if cmd == "QUIT" => "221 bye\r\n".into(),
                    None => "250 ok\r\n".into(),
                };
                if say(&mut io, &answer).await.is_err() {
                    return seen;
                }
                if cmd == "STARTTLS" && answer.starts_with("220") {
                    match acceptor().accept(io.into_inner()).await {
                        Ok(tls) => {
                            seen.commands.push("<TLS>".into());
                            secure = true;
                            io = BufReader::new(Box::new(tls));
                        }
                        Err(e) => {
                            seen.tls_error = Some(e.to_string());
                            return seen;
                        }
                    }
                }
                if cmd == "DATA" && answer.starts_with("354") {
                    loop {
                        let mut l = String::new();
                        io.read_line(&mut l).await.unwrap();
                        assert!(l.ends_with("\r\n"), "{l:?}");
                        if l == ".\r\n" {
                            break;
                        }
                        seen.data.push_str(&l);
                    }
                    let answer = refuse_or(how, ".").unwrap_or("250 2.0.0 queued as 1\r\n");
                    say(&mut io, answer).await.unwrap();
                }
                if cmd == "QUIT" {
                    return seen;
                }
            }
        });
        (port, task)
    }

    /// The answer `how.refuse` gives `cmd`, if any.
    fn refuse_or(how: Fake, cmd: &str) -> Option<&'static str> {
        how.refuse
            .iter()
            .find(|(k, _)| {
                if *k == "." {
                    cmd == "."
                } else {
                    cmd.starts_with(k)
                }
            })
            .map(|(_, answer)| *answer)
    }

    async fn say(io: &mut BufReader<Box<dyn Io>>, text: &str) -> std::io::Result<()> {
        io.get_mut().write_all(text.as_bytes()).await?;
        io.get_mut().flush().await
    }

    /// [`serve`] with a relay's answers but those of `refuse`.
    async fn fake_server(
        refuse: &'static [(&'static str, &'static str)],
    ) -> (u16, tokio::task::JoinHandle<Seen>) {
        serve(Fake {
            refuse,
            ..Fake::default()
        })
        .await
    }

    #[tokio::test]
    async fn the_whole_dialogue_with_dot_stuffing() {
        let (port, seen) = fake_server(&[]).await;
        let mail = email("CPU 95 on web-1\n.hidden line\n..two dots\nend.");
        send(&relay(port), &mail, Duration::from_secs(5))
            .await
            .unwrap();
        let seen = seen.await.unwrap();
        assert_eq!(
            seen.commands,
            [
                "EHLO [127.0.0.1]",
                "MAIL FROM:<whippet@example.com>",
                "RCPT TO:<oncall@example.com>",
                "DATA",
                "QUIT"
            ]
        );
        let (head, body) = seen.data.split_once("\r\n\r\n").unwrap();
        assert!(head.contains("Subject: [Triggered] CPU high\r\n"), "{head}");
        assert!(head.contains("To: oncall@example.com\r\n"), "{head}");
        assert!(head.contains("From: whippet@example.com\r\n"), "{head}");
        assert!(
            head.contains("Date: Thu, 10 Oct 2024 18:00:00 +0000\r\n"),
            "{head}"
        );
        assert!(
            head.contains("Message-ID: <whippet-7@example.com>\r\n"),
            "{head}"
        );
        assert!(head.contains("X-Whippet-Notification-Id: 7"), "{head}");
        assert!(head.contains("Content-Transfer-Encoding: 7bit"), "{head}");
        assert_eq!(
            body,
            "CPU 95 on web-1\r\n..hidden line\r\n...two dots\r\nend.\r\n"
        );
    }

    #[tokio::test]
    async fn a_refused_recipient_fails_with_the_code_and_text() {
        let (port, seen) = fake_server(&[("RCPT", "550 5.1.1 no such user\r\n")]).await;
        let e = send(&relay(port), &email("x"), Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(
            e,
            SmtpError::Reply {
                after: "RCPT TO",
                code: 550,
                text: "5.1.1 no such user".into()
            }
        );
        assert_eq!(
            e.to_string(),
            "the SMTP server answered 550 to RCPT TO: 5.1.1 no such user"
        );
        drop(seen);
    }

    #[tokio::test]
    async fn a_refused_message_fails_and_helo_is_the_fallback() {
        let (port, seen) =
            fake_server(&[("EHLO", "502 5.5.1 what\r\n"), (".", "552 too big\r\n")]).await;
        let mut r = relay(port);
        r.helo = Some("whippet.example.com".into());
        let e = send(&r, &email("x"), Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "the SMTP server answered 552 to the message: too big"
        );
        let seen = seen.await.unwrap();
        assert_eq!(
            seen.commands[..2],
            ["EHLO whippet.example.com", "HELO whippet.example.com"]
        );
        assert_eq!(seen.data.lines().last(), Some("x"));

        let (port, _) = fake_server(&[("MAIL", "451-4.3.0 try\r\n451 later\r\n")]).await;
        let e = send(&relay(port), &email("x"), Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "the SMTP server answered 451 to MAIL FROM: 4.3.0 try later"
        );
    }

    #[tokio::test]
    async fn silence_is_a_timeout_and_garbage_a_protocol_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hold = tokio::spawn(async move {
            let (sock, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(sock);
        });
        let e = send(&relay(port), &email("x"), Duration::from_millis(200))
            .await
            .unwrap_err();
        assert!(matches!(e, SmtpError::Timeout(_)), "{e}");
        hold.abort();

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            sock.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n")
                .await
                .unwrap();
        });
        let e = send(&relay(port), &email("x"), Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(matches!(e, SmtpError::Protocol(_)), "{e}");

        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let e = send(&relay(port), &email("x"), Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("connecting to SMTP server 127.0.0.1"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn bad_addresses_are_refused_before_connecting() {
        let mut mail = email("x");
        mail.to = "oncall@example.com>\r\nRCPT TO:<evil@example.com".into();
        let e = send(&relay(1), &mail, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(matches!(e, SmtpError::Address(_)), "{e}");
    }

    /// The commands of a delivery after `EHLO` (and AUTH).
    const TRANSACTION: [&str; 4] = [
        "MAIL FROM:<whippet@example.com>",
        "RCPT TO:<oncall@example.com>",
        "DATA",
        "QUIT",
    ];

    #[tokio::test]
    async fn starttls_then_ehlo_again_then_auth_plain() {
        let (port, seen) = serve(Fake {
            plain: &["8BITMIME", "STARTTLS"],
            // AUTH offered over TLS only, as most submission servers do.
            secure: &["8BITMIME", "AUTH LOGIN PLAIN"],
            ..Fake::default()
        })
        .await;
        let mail = email("CPU 95 on web-1\n.hidden");
        send_with(&with_login(relay(port)), &mail, TIMEOUT, Some(&trusting()))
            .await
            .unwrap();
        let seen = seen.await.unwrap();
        assert_eq!(seen.tls_error, None);
        let mut want = vec![
            "EHLO [127.0.0.1]",
            "STARTTLS",
            "<TLS>",
            "EHLO [127.0.0.1]",
            // base64 of "\0whippet\0s3cret" (`printf '\0whippet\0s3cret' | base64`).
            "AUTH PLAIN AHdoaXBwZXQAczNjcmV0",
        ];
        want.extend(TRANSACTION);
        assert_eq!(seen.commands, want);
        assert!(
            seen.data
                .ends_with("\r\n\r\nCPU 95 on web-1\r\n..hidden\r\n"),
            "{}",
            seen.data
        );
    }

    #[tokio::test]
    async fn auth_login_when_plain_is_not_offered() {
        let (port, seen) = serve(Fake {
            plain: &["STARTTLS"],
            secure: &["AUTH=LOGIN", "AUTH LOGIN CRAM-MD5"],
            ..Fake::default()
        })
        .await;
        let mut r = with_login(relay(port));
        r.starttls = StartTls::Required;
        send_with(&r, &email("x"), TIMEOUT, Some(&trusting()))
            .await
            .unwrap();
        let mut want = vec![
            "EHLO [127.0.0.1]",
            "STARTTLS",
            "<TLS>",
            "EHLO [127.0.0.1]",
            "AUTH LOGIN",
            "d2hpcHBldA==", // base64 of "whippet"
            "czNjcmV0",     // base64 of "s3cret"
        ];
        want.extend(TRANSACTION);
        assert_eq!(seen.await.unwrap().commands, want);
    }

    #[tokio::test]
    async fn a_rejected_login_fails_with_the_code_and_text() {
        for secure in [&["AUTH PLAIN LOGIN"][..], &["AUTH LOGIN"][..]] {
            let (port, seen) = serve(Fake {
                plain: &["STARTTLS"],
                secure,
                auth: "535 5.7.8 Authentication credentials invalid\r\n",
                ..Fake::default()
            })
            .await;
            let e = send_with(
                &with_login(relay(port)),
                &email("x"),
                TIMEOUT,
                Some(&trusting()),
            )
            .await
            .unwrap_err();
            assert_eq!(
                e,
                SmtpError::Reply {
                    after: "AUTH",
                    code: 535,
                    text: "5.7.8 Authentication credentials invalid".into()
                }
            );
            assert_eq!(
                e.to_string(),
                "the SMTP server answered 535 to AUTH: 5.7.8 Authentication credentials invalid"
            );
            assert!(!e.to_string().contains("s3cret"));
            let seen = seen.await.unwrap();
            assert!(
                !seen.commands.iter().any(|c| c.starts_with("MAIL")),
                "{:?}",
                seen.commands
            );
        }
    }

    #[tokio::test]
    async fn required_starttls_fails_when_the_server_does_not_offer_it() {
        let (port, seen) = fake_server(&[]).await;
        let mut r = relay(port);
        r.starttls = StartTls::Required;
        let e = send_with(&r, &email("x"), TIMEOUT, Some(&trusting()))
            .await
            .unwrap_err();
        assert!(matches!(e, SmtpError::Capability(_)), "{e}");
        assert!(
            e.to_string().starts_with(&format!(
                "SMTP server 127.0.0.1:{port} does not offer STARTTLS, and [smtp] \
                 `starttls` is \"required\""
            )),
            "{e}"
        );
        // Nothing was sent in plain text after EHLO.
        assert_eq!(seen.await.unwrap().commands, ["EHLO [127.0.0.1]"]);

        // A server without ESMTP offers no STARTTLS either.
        let (port, seen) = fake_server(&[("EHLO", "502 5.5.1 what\r\n")]).await;
        let mut r = relay(port);
        r.starttls = StartTls::Required;
        let e = send_with(&r, &email("x"), TIMEOUT, Some(&trusting()))
            .await
            .unwrap_err();
        assert!(matches!(e, SmtpError::Capability(_)), "{e}");
        assert_eq!(
            seen.await.unwrap().commands,
            ["EHLO [127.0.0.1]", "HELO [127.0.0.1]"]
        );
    }

    #[tokio::test]
    async fn credentials_never_go_in_plain_text() {
        // The server would take AUTH in plain text; Whippet does not.
        let (port, seen) = serve(Fake {
            plain: &["AUTH PLAIN LOGIN"],
            ..Fake::default()
        })
        .await;
        let e = send_with(
            &with_login(relay(port)),
            &email("x"),
            TIMEOUT,
            Some(&trusting()),
        )
        .await
        .unwrap_err();
        assert!(matches!(e, SmtpError::Capability(_)), "{e}");
        let text = e.to_string();
        assert!(
            text.contains("does not offer STARTTLS")
                && text.contains("in plain text")
                && text.contains("`starttls = \"implicit\"`"),
            "{text}"
        );
        assert!(!text.contains("s3cret"), "{text}");
        assert_eq!(seen.await.unwrap().commands, ["EHLO [127.0.0.1]"]);
    }

    #[tokio::test]
    async fn opportunistic_upgrades_when_offered_and_off_never_does() {
        let offering = Fake {
            plain: &["STARTTLS"],
            ..Fake::default()
        };
        let (port, seen) = serve(offering).await;
        send_with(&relay(port), &email("x"), TIMEOUT, Some(&trusting()))
            .await
            .unwrap();
        let mut want = vec!["EHLO [127.0.0.1]", "STARTTLS", "<TLS>", "EHLO [127.0.0.1]"];
        want.extend(TRANSACTION);
        assert_eq!(seen.await.unwrap().commands, want);

        let (port, seen) = serve(offering).await;
        let mut r = relay(port);
        r.starttls = StartTls::Off;
        send_with(&r, &email("x"), TIMEOUT, Some(&trusting()))
            .await
            .unwrap();
        let mut want = vec!["EHLO [127.0.0.1]"];
        want.extend(TRANSACTION);
        assert_eq!(seen.await.unwrap().commands, want);
    }

    #[tokio::test]
    async fn implicit_tls_from_the_first_byte() {
        let (port, seen) = serve(Fake {
            implicit: true,
            // Over implicit TLS a STARTTLS offer is not taken up.
            secure: &["STARTTLS", "AUTH PLAIN"],
            ..Fake::default()
        })
        .await;
        let mut r = with_login(relay(port));
        r.starttls = StartTls::Implicit;
        send_with(&r, &email("x"), TIMEOUT, Some(&trusting()))
            .await
            .unwrap();
        let mut want = vec![
            "<TLS>",
            "EHLO [127.0.0.1]",
            "AUTH PLAIN AHdoaXBwZXQAczNjcmV0",
        ];
        want.extend(TRANSACTION);
        assert_eq!(seen.await.unwrap().commands, want);
    }

    #[tokio::test]
    async fn an_unverified_certificate_fails_without_falling_back() {
        let (port, seen) = serve(Fake {
            plain: &["STARTTLS"],
            ..Fake::default()
        })
        .await;
        // The built-in roots alone do not know the test CA.
        let default = TlsConnector::from(tls::client_config(None).unwrap());
        let e = send_with(&relay(port), &email("x"), TIMEOUT, Some(&default))
            .await
            .unwrap_err();
        assert!(matches!(e, SmtpError::Tls(_)), "{e}");
        assert!(
            e.to_string().contains("TLS handshake with 127.0.0.1")
                && e.to_string().contains("UnknownIssuer"),
            "{e}"
        );
        let seen = seen.await.unwrap();
        assert_eq!(seen.commands, ["EHLO [127.0.0.1]", "STARTTLS"]);
        assert!(seen.tls_error.is_some());
    }

    #[tokio::test]
    async fn starttls_refused_or_followed_by_injected_bytes_fails() {
        let (port, seen) = serve(Fake {
            plain: &["STARTTLS"],
            refuse: &[("STARTTLS", "454 4.7.0 TLS not available\r\n")],
            ..Fake::default()
        })
        .await;
        let e = send_with(&relay(port), &email("x"), TIMEOUT, Some(&trusting()))
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "the SMTP server answered 454 to STARTTLS: 4.7.0 TLS not available"
        );
        drop(seen);

        // A reply sent before the handshake must not pass for one sent
        // over TLS.
        let (port, _) = serve(Fake {
            plain: &["STARTTLS"],
            after_starttls: "250 2.1.0 injected\r\n",
            ..Fake::default()
        })
        .await;
        let e = send_with(&relay(port), &email("x"), TIMEOUT, Some(&trusting()))
            .await
            .unwrap_err();
        assert!(matches!(e, SmtpError::Protocol(_)), "{e}");
        assert!(e.to_string().contains("after its STARTTLS answer"), "{e}");
    }

    #[tokio::test]
    async fn auth_needs_a_mechanism_whippet_speaks() {
        for (secure, want) in [
            (
                &["8BITMIME"][..],
                "does not offer AUTH: remove `username` and `password`",
            ),
            (
                &["AUTH CRAM-MD5 XOAUTH2"][..],
                "offers AUTH CRAM-MD5 XOAUTH2, and Whippet speaks PLAIN and LOGIN only",
            ),
        ] {
            let (port, seen) = serve(Fake {
                plain: &["STARTTLS"],
                secure,
                ..Fake::default()
            })
            .await;
            let e = send_with(
                &with_login(relay(port)),
                &email("x"),
                TIMEOUT,
                Some(&trusting()),
            )
            .await
            .unwrap_err();
            assert!(matches!(e, SmtpError::Capability(_)), "{e}");
            assert!(e.to_string().contains(want), "{e}");
            assert_eq!(seen.await.unwrap().commands.len(), 4, "no AUTH, no MAIL");
        }
    }

    #[test]
    fn extensions_and_their_auth_mechanisms() {
        let ext = Extensions(vec![
            "8BITMIME".into(),
            "starttls".into(),
            "AUTH=LOGIN".into(),
            "auth plain login".into(),
            "AUTHX FOO".into(),
        ]);
        assert!(ext.has("STARTTLS") && ext.has("8BITMIME") && !ext.has("SMTPUTF8"));
        assert_eq!(ext.auth_mechanisms(), ["LOGIN", "PLAIN"]);
        assert!(Extensions::default().auth_mechanisms().is_empty());
    }

    #[test]
    fn base64_is_rfc_4648() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain:?}");
        }
        assert_eq!(base64(&[0xff, 0xfe, 0x00]), "//4A");
        assert_eq!(base64(b"\0whippet\0s3cret"), "AHdoaXBwZXQAczNjcmV0");
    }

    #[test]
    fn data_blocks_are_crlf_and_dot_stuffed() {
        assert_eq!(data_block(""), ".\r\n");
        assert_eq!(data_block("a\r\n"), "a\r\n.\r\n");
        assert_eq!(
            data_block(".\n..\r\nx\ry\n."),
            "..\r\n...\r\nx\r\ny\r\n..\r\n.\r\n"
        );
    }

    #[test]
    fn non_ascii_and_long_lines_go_quoted_printable() {
        let mut mail = email(&format!(
            "Température élevée = 95°\n{}\ntrailing ",
            "x".repeat(1000)
        ));
        mail.subject = "[Triggered] Température\r\nBcc: evil@example.com".into();
        let m = mail.to_message();
        let (head, body) = m.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains("Content-Transfer-Encoding: quoted-printable"),
            "{head}"
        );
        assert!(!head.contains("\r\nBcc:"), "{head}");
        assert!(
            head.contains("Subject: =?UTF-8?Q?=5BTriggered=5D_Temp=C3=A9rature"),
            "{head}"
        );
        assert!(head.is_ascii() && body.is_ascii());
        assert!(
            body.starts_with("Temp=C3=A9rature =C3=A9lev=C3=A9e =3D 95=C2=B0\r\n"),
            "{body}"
        );
        assert!(body.ends_with("trailing=20"), "{body}");
        assert!(body.split("\r\n").all(|l| l.len() <= 76), "{body}");
        // The soft breaks undone give the line back.
        let long: String = body
            .split("\r\n")
            .skip(1)
            .take(14)
            .collect::<Vec<_>>()
            .join("\r\n");
        assert_eq!(long.replace("=\r\n", ""), "x".repeat(1000));
    }

    #[test]
    fn long_subjects_are_folded_encoded_words() {
        let s = encode_subject(&"é".repeat(100));
        for line in s.split("\r\n") {
            let word = line.trim_start();
            assert!(
                word.starts_with("=?UTF-8?Q?") && word.ends_with("?="),
                "{line}"
            );
            assert!(word.len() <= 75, "{line}");
        }
        assert_eq!(encode_subject("plain words"), "plain words");
    }

    #[test]
    fn dates() {
        assert_eq!(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc5322_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
        assert_eq!(
            rfc5322_date(1_728_583_200),
            "Thu, 10 Oct 2024 18:00:00 +0000"
        );
    }
}
