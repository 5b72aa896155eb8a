//! A minimal HTTP/1.1 client over `std::net::TcpStream`: one keep-alive
//! connection, one request at a time, bodies with `Content-Length`.
//!
//! Enough for the bench and nothing more: it sends `Content-Length` bodies
//! (never chunked), and reads responses framed by `Content-Length`, by
//! `Transfer-Encoding: chunked` (streamed exports) or by the end of the
//! connection. Interim `1xx` responses are skipped. A connection the server
//! closed while idle is reopened once, and the request sent again, only when
//! not a byte of the response had arrived (the request was not processed).
//! Header lines are capped at [`MAX_LINE`] bytes and [`MAX_HEADERS`] in
//! number, so a broken server cannot make the client grow without bound.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Longest status or header line accepted, in bytes.
const MAX_LINE: usize = 16 * 1024;
/// Most header lines accepted in one response.
const MAX_HEADERS: usize = 128;
/// How long a read or write may block. Generous: a large export or a server
/// stalled by backpressure may take a while, but a hung server must not
/// hang the bench forever.
const IO_TIMEOUT: Duration = Duration::from_secs(300);

/// A response, with its body read in full.
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Header names (lower case) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
}

impl Response {
    /// The first header named `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// True for 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as text, lossily, for error messages (at most 300 bytes).
    pub fn body_snippet(&self) -> String {
        let end = self.body.len().min(300);
        String::from_utf8_lossy(&self.body[..end]).into_owned()
    }
}

/// One keep-alive connection to `addr`, opened on first use and reopened
/// when the server closes it.
pub struct Conn {
    addr: SocketAddr,
    host: String,
    stream: Option<BufReader<TcpStream>>,
    /// The open connection has already carried a request: if it turns out
    /// closed, the server timed it out while idle.
    reused: bool,
    head: Vec<u8>,
}

impl Conn {
    /// A connection to `addr`; nothing is opened yet.
    pub fn new(addr: SocketAddr) -> Conn {
        Conn {
            addr,
            host: addr.to_string(),
            stream: None,
            reused: false,
            head: Vec::with_capacity(512),
        }
    }

    /// Opens the connection now (so that connecting is not timed later).
    pub fn connect(&mut self) -> io::Result<()> {
        if self.stream.is_none() {
            let s = TcpStream::connect(self.addr)?;
            // The head and the body go out in two writes; without this,
            // Nagle's algorithm would hold the body back until the server
            // acknowledges the head (a delayed ACK: up to 40 ms a request).
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(IO_TIMEOUT))?;
            s.set_write_timeout(Some(IO_TIMEOUT))?;
            self.stream = Some(BufReader::with_capacity(64 * 1024, s));
            self.reused = false;
        }
        Ok(())
    }

    /// Sends one request and reads its response. `headers` are added to
    /// `Host` and `Content-Length`; a body is sent when not empty or when
    /// the method is `POST`/`PUT`.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<Response> {
        self.head.clear();
        write!(
            self.head,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n",
            self.host
        )?;
        if !body.is_empty() || matches!(method, "POST" | "PUT") {
            write!(self.head, "Content-Length: {}\r\n", body.len())?;
        }
        for (k, v) in headers {
            write!(self.head, "{k}: {v}\r\n")?;
        }
        self.head.extend_from_slice(b"\r\n");

        let mut retried = false;
        loop {
            self.connect()?;
            let was_reused = self.reused;
            match self.exchange(body, method == "HEAD") {
                Ok((resp, keep)) => {
                    if keep {
                        self.reused = true;
                    } else {
                        self.stream = None;
                    }
                    return Ok(resp);
                }
                Err(Exchange::NothingReceived(e)) if was_reused && !retried => {
                    // The server closed the idle connection before reading
                    // the request: nothing was processed, send it again.
                    let _ = e;
                    self.stream = None;
                    retried = true;
                }
                Err(Exchange::NothingReceived(e) | Exchange::Broken(e)) => {
                    self.stream = None;
                    return Err(e);
                }
            }
        }
    }

    /// Writes the prepared head and `body`, reads the response. Returns it
    /// and whether the connection may be used again.
    fn exchange(&mut self, body: &[u8], head_only: bool) -> Result<(Response, bool), Exchange> {
        let stream = self.stream.as_mut().expect("connected");
        let w = stream.get_mut();
        w.write_all(&self.head)
            .and_then(|()| w.write_all(body))
            .and_then(|()| w.flush())
            .map_err(Exchange::NothingReceived)?;
        // Skip interim responses (100 Continue and the like).
        let (status, version_1_0) = loop {
            let line = match read_line(stream) {
                Ok(Some(l)) => l,
                Ok(None) => {
                    return Err(Exchange::NothingReceived(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "connection closed before the status line",
                    )));
                }
                Err(e) => return Err(Exchange::NothingReceived(e)),
            };
            let (status, v10) = parse_status(&line).map_err(Exchange::Broken)?;
            if (100..200).contains(&status) {
                read_headers(stream).map_err(Exchange::Broken)?;
                continue;
            }
            break (status, v10);
        };
        let headers = read_headers(stream).map_err(Exchange::Broken)?;
        let get = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let mut keep = !version_1_0;
        if let Some(c) = get("connection") {
            let c = c.to_ascii_lowercase();
            if c.contains("close") {
                keep = false;
            } else if c.contains("keep-alive") {
                keep = true;
            }
        }
        let chunked =
            get("transfer-encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
        let length = get("content-length")
            .map(|v| {
                v.trim()
                    .parse::<usize>()
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad Content-Length"))
            })
            .transpose()
            .map_err(Exchange::Broken)?;
        let mut body = Vec::new();
        if head_only || status == 204 || status == 304 {
            // No body by definition.
        } else if chunked {
            read_chunked(stream, &mut body).map_err(Exchange::Broken)?;
        } else if let Some(n) = length {
            body.resize(n, 0);
            stream.read_exact(&mut body).map_err(Exchange::Broken)?;
        } else {
            stream.read_to_end(&mut body).map_err(Exchange::Broken)?;
            keep = false;
        }
        Ok((
            Response {
                status,
                headers,
                body,
            },
            keep,
        ))
    }
}

/// How an exchange failed.
enum Exchange {
    /// Before any byte of the response arrived: safe to retry on a fresh
    /// connection when the old one had been idle.
    NothingReceived(io::Error),
    /// Mid-response: the connection is unusable and the request's fate
    /// unknown.
    Broken(io::Error),
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_owned())
}

/// Reads one CRLF- (or LF-) terminated line without its terminator; `None`
/// at a clean end of stream.
fn read_line(r: &mut impl BufRead) -> io::Result<Option<String>> {
    let mut line = Vec::new();
    let n = r.take(MAX_LINE as u64 + 2).read_until(b'\n', &mut line)?;
    if n == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        return Err(if n > MAX_LINE {
            invalid("response line too long")
        } else {
            io::Error::new(io::ErrorKind::UnexpectedEof, "truncated response line")
        });
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line)
        .map(Some)
        .map_err(|_| invalid("response line is not UTF-8"))
}

/// `HTTP/1.1 202 Accepted` → (202, false); the flag is true for HTTP/1.0.
fn parse_status(line: &str) -> io::Result<(u16, bool)> {
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(invalid("not an HTTP/1.x status line"));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|s| (100..1000).contains(s))
        .ok_or_else(|| invalid("bad status code"))?;
    Ok((status, version == "HTTP/1.0"))
}

/// Reads header lines up to the empty line; names lower-cased.
fn read_headers(r: &mut impl BufRead) -> io::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    loop {
        let line = read_line(r)?.ok_or_else(|| {
            io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed in headers")
        })?;
        if line.is_empty() {
            return Ok(out);
        }
        if out.len() == MAX_HEADERS {
            return Err(invalid("too many response headers"));
        }
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| invalid("header line without a colon"))?;
        out.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
}

/// Reads a chunked body (RFC 9112 §7.1) into `out`, trailers ignored.
fn read_chunked(r: &mut impl BufRead, out: &mut Vec<u8>) -> io::Result<()> {
    loop {
        let line = read_line(r)?.ok_or_else(|| {
            io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed in a chunk")
        })?;
        let size = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| invalid("bad chunk size"))?;
        if size == 0 {
            // Trailer fields, then the empty line.
            read_headers(r)?;
            return Ok(());
        }
        let start = out.len();
        out.resize(start + size, 0);
        r.read_exact(&mut out[start..])?;
        let mut crlf = [0u8; 2];
        r.read_exact(&mut crlf)?;
        if &crlf != b"\r\n" {
            return Err(invalid("chunk not followed by CRLF"));
        }
    }
}

/// Percent-encodes a query parameter value (RFC 3986 unreserved characters
/// are kept).
pub fn encode_query(v: &str) -> String {
    let mut out = String::with_capacity(v.len() * 3);
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// Reads one request (request line, headers, Content-Length body).
    fn read_request(r: &mut impl BufRead) -> Option<String> {
        let line = read_line(r).ok()??;
        let mut len = 0;
        loop {
            let h = read_line(r).ok()??;
            if h.is_empty() {
                break;
            }
            if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body).ok()?;
        Some(format!("{line} {}", String::from_utf8(body).unwrap()))
    }

    fn server(conns: Vec<Vec<&'static str>>) -> (SocketAddr, std::thread::JoinHandle<Vec<String>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let h = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for conn in conns {
                let (s, _) = l.accept().unwrap();
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut w = s;
                for resp in conn {
                    match read_request(&mut r) {
                        Some(req) => seen.push(req),
                        None => break,
                    }
                    w.write_all(resp.as_bytes()).unwrap();
                }
            }
            seen
        });
        (addr, h)
    }

    #[test]
    fn keep_alive_content_length_and_chunked() {
        let (addr, h) = server(vec![vec![
            "HTTP/1.1 202 Accepted\r\nContent-Length: 15\r\n\r\n{\"status\":\"ok\"}",
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nX-T: 1\r\n\r\n",
            "HTTP/1.1 204 No Content\r\n\r\n",
        ]]);
        let mut c = Conn::new(addr);
        let r = c
            .request("POST", "/api/v1/series", &[("DD-API-KEY", "k")], b"{}")
            .unwrap();
        assert_eq!(
            (r.status, r.body.as_slice()),
            (202, &b"{\"status\":\"ok\"}"[..])
        );
        assert!(r.is_success());
        let r = c.request("GET", "/export?x=1", &[], b"").unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"abcde"[..]));
        let r = c.request("GET", "/health", &[], b"").unwrap();
        assert_eq!((r.status, r.body.len()), (204, 0));
        let seen = h.join().unwrap();
        assert_eq!(
            seen,
            vec![
                "POST /api/v1/series HTTP/1.1 {}",
                "GET /export?x=1 HTTP/1.1 ",
                "GET /health HTTP/1.1 "
            ]
        );
    }

    #[test]
    fn reconnects_when_the_idle_connection_was_closed() {
        // The first connection serves one request and closes; the second
        // request must go out again on a new connection.
        let (addr, h) = server(vec![
            vec!["HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"],
            vec!["HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nb"],
            vec!["HTTP/1.0 200 OK\r\n\r\nuntil-eof"],
        ]);
        let mut c = Conn::new(addr);
        assert_eq!(c.request("GET", "/1", &[], b"").unwrap().body, b"a");
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(c.request("GET", "/2", &[], b"").unwrap().body, b"b");
        // Connection: close → the next request opens a new connection.
        assert_eq!(c.request("GET", "/3", &[], b"").unwrap().body, b"until-eof");
        let seen = h.join().unwrap();
        assert_eq!(seen.len(), 3, "{seen:?}");
    }

    #[test]
    fn broken_responses_are_errors() {
        let (addr, _h) = server(vec![vec![
            "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        ]]);
        let mut c = Conn::new(addr);
        assert!(c.request("GET", "/", &[], b"").is_err());
        let (addr, _h) = server(vec![vec!["SMTP ready\r\n\r\n"]]);
        let mut c = Conn::new(addr);
        assert!(c.request("GET", "/", &[], b"").is_err());
    }

    #[test]
    fn query_encoding() {
        assert_eq!(
            encode_query("{__name__=~\"a\\\\.b|a_b\"}"),
            "%7B__name__%3D~%22a%5C%5C.b%7Ca_b%22%7D"
        );
        assert_eq!(encode_query("system.cpu.user"), "system.cpu.user");
    }
}
