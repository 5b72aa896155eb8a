//! A minimal SMTP client: sends one plain-text e-mail to one recipient
//! through the relay of the config file's `[smtp]` table.
//!
//! # What it owns
//! - **The message** ([`Email::to_message`]): RFC 5322 headers (`Date`,
//!   `From`, `To`, `Subject`, `Message-ID`, MIME headers, extra headers)
//!   and a `text/plain; charset=utf-8` body. A body that is ASCII with
//!   short lines goes as it is (`7bit`); any other is quoted-printable, so
//!   the message is 7-bit clean whatever the relay supports. A subject
//!   that is not short ASCII becomes RFC 2047 encoded words. Line breaks
//!   in the subject become spaces (no header injection).
//! - **The dialogue** ([`send`]): greeting `220`; `EHLO` `250` (on a
//!   `5xx`, `HELO` `250`); `MAIL FROM:<from>` `250`; `RCPT TO:<to>`
//!   `250`/`251`; `DATA` `354`; the message with CRLF line endings and
//!   dot-stuffing ([`data_block`]), `250`; `QUIT`. Every reply code is
//!   checked (multi-line replies read to their last line); any other code
//!   fails the send with the code and the server's text, which is what
//!   the outbox keeps as the notification's last error.
//! - **A bound on time and memory**: the whole dialogue runs under one
//!   timeout given by the caller, and reply lines and replies are capped
//!   ([`MAX_REPLY_LINE_BYTES`], [`MAX_REPLY_LINES`]).
//!
//! # What it must never do
//! Retry or queue: one call is one attempt; the outbox retries. Nor report
//! a failure once the server has accepted the message (`250` after the
//! data): a failed `QUIT` is ignored, or the notification would be sent
//! twice.
//!
//! # Limits
//! Plain SMTP only: no STARTTLS and no AUTH yet (no TLS client in
//! Whippet), so the relay must accept mail from Whippet's address without
//! a password, on a network where plain text is acceptable (a local MTA
//! or an internal smarthost). Addresses are ASCII (no SMTPUTF8). One
//! recipient per message: each `@address` is its own notification.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::config::notifications::{SmtpConfig, is_address};

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
            SmtpError::Io(e) => write!(f, "{e}"),
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
pub async fn send(relay: &SmtpConfig, mail: &Email, timeout: Duration) -> Result<(), SmtpError> {
    for a in [&mail.from, &mail.to] {
        if !is_address(a) {
            return Err(SmtpError::Address(a.clone()));
        }
    }
    tokio::time::timeout(timeout, dialogue(relay, mail))
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

async fn dialogue(relay: &SmtpConfig, mail: &Email) -> Result<(), SmtpError> {
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
    let mut c = Conn {
        io: BufReader::new(stream),
        server,
    };
    c.expect("the greeting", &[220]).await?;
    c.write(&format!("EHLO {helo}\r\n")).await?;
    let (code, text) = c.reply().await?;
    if code != 250 {
        if !(500..600).contains(&code) {
            return Err(reply_error("EHLO", code, &text));
        }
        // A server without ESMTP: the plain greeting will do.
        c.command(&format!("HELO {helo}"), "HELO", &[250]).await?;
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

/// One connection to the server.
struct Conn {
    io: BufReader<TcpStream>,
    /// `host:port`, for errors.
    server: String,
}

impl Conn {
    async fn write(&mut self, text: &str) -> Result<(), SmtpError> {
        self.io
            .get_mut()
            .write_all(text.as_bytes())
            .await
            .map_err(|e| SmtpError::Io(format!("writing to SMTP server {}: {e}", self.server)))
    }

    /// Sends `line` (without CRLF) and expects one of `codes`.
    async fn command(
        &mut self,
        line: &str,
        after: &'static str,
        codes: &[u16],
    ) -> Result<(), SmtpError> {
        self.write(&format!("{line}\r\n")).await?;
        self.expect(after, codes).await
    }

    async fn expect(&mut self, after: &'static str, codes: &[u16]) -> Result<(), SmtpError> {
        let (code, text) = self.reply().await?;
        if codes.contains(&code) {
            Ok(())
        } else {
            Err(reply_error(after, code, &text))
        }
    }

    /// One reply: its code and its lines' text joined by spaces. The lines
    /// of a multi-line reply (`250-...`, then `250 ...`) must share the
    /// code.
    async fn reply(&mut self) -> Result<(u16, String), SmtpError> {
        let mut text: Vec<String> = Vec::new();
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
            text.push(rest.get(1..).unwrap_or("").trim().to_owned());
            match rest.as_bytes().first() {
                Some(b'-') => continue,
                None | Some(b' ') => return Ok((this, text.join(" ").trim().to_owned())),
                Some(_) => return Err(SmtpError::Protocol(format!("{:?}", shorten(line)))),
            }
        }
        Err(SmtpError::Protocol(format!(
            "a reply of more than {MAX_REPLY_LINES} lines"
        )))
    }
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
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
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
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpListener;

    fn relay(port: u16) -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            from: "whippet@example.com".into(),
            helo: None,
        }
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

    /// What the fake server saw: the commands, then the data as sent
    /// (still dot-stuffed, without the terminating line).
    #[derive(Debug, Default)]
    struct Seen {
        commands: Vec<String>,
        data: String,
    }

    /// A fake SMTP server on a local port for one connection. It answers
    /// every command as a relay would, except that a command starting
    /// with a key of `refuse` gets that answer instead (the key `.`: the
    /// end of the data).
    async fn fake_server(
        refuse: &'static [(&'static str, &'static str)],
    ) -> (u16, tokio::task::JoinHandle<Seen>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let (sock, _) = listener.accept().await.unwrap();
            let mut io = BufReader::new(sock);
            let mut seen = Seen::default();
            io.get_mut()
                .write_all(b"220 fake.test ESMTP ready\r\n")
                .await
                .unwrap();
            loop {
                let mut line = String::new();
                if io.read_line(&mut line).await.unwrap() == 0 {
                    return seen;
                }
                let cmd = line.trim_end_matches("\r\n").to_owned();
                assert!(line.ends_with("\r\n"), "{line:?}");
                seen.commands.push(cmd.clone());
                let answer = match refuse.iter().find(|(k, _)| cmd.starts_with(k)) {
                    Some((_, answer)) => answer.to_string(),
                    None if cmd.starts_with("EHLO") => {
                        "250-fake.test greets you\r\n250-8BITMIME\r\n250 SIZE 1000000\r\n".into()
                    }
                    None if cmd == "DATA" => "354 go ahead\r\n".into(),
                    None if cmd == "QUIT" => "221 bye\r\n".into(),
                    None => "250 ok\r\n".into(),
                };
                io.get_mut().write_all(answer.as_bytes()).await.unwrap();
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
                    let answer = match refuse.iter().find(|(k, _)| *k == ".") {
                        Some((_, answer)) => answer,
                        None => "250 2.0.0 queued as 1\r\n",
                    };
                    io.get_mut().write_all(answer.as_bytes()).await.unwrap();
                }
                if cmd == "QUIT" {
                    return seen;
                }
            }
        });
        (port, task)
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
