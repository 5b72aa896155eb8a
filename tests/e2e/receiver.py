"""A local webhook receiver for the end-to-end tests: an HTTP (or HTTPS)
server that keeps every POST it gets."""

import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TLS_DIR = Path(__file__).resolve().parents[2] / "control" / "whippet" / "testdata" / "tls"


class Receiver:
    """A local HTTP (or, given an SSL context, HTTPS) server that keeps every
    POST it gets, and every TLS handshake that failed."""

    def __init__(self, tls_context=None):
        self.posts = []
        self.tls_errors = []
        received = self.posts
        tls_errors = self.tls_errors

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        class Httpd(ThreadingHTTPServer):
            daemon_threads = True

            def finish_request(self, request, client_address):
                # The handshake runs in the connection's own thread, so a
                # client that fails it costs nothing to the others.
                if tls_context is None:
                    return super().finish_request(request, client_address)
                request.settimeout(10)
                try:
                    conn = tls_context.wrap_socket(request, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    tls_errors.append(repr(e))
                    return
                try:
                    super().finish_request(conn, client_address)
                finally:
                    conn.close()

        self.httpd = Httpd(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        scheme = "https" if tls_context else "http"
        host = "localhost" if tls_context else "127.0.0.1"
        self.base = f"{scheme}://{host}:{self.port}"
        # A default path, for tests that need one URL.
        self.url = f"{self.base}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def at(self, path):
        return [p for p in list(self.posts) if p["path"] == path]

    def bodies(self, path=None):
        return [json.loads(p["body"]) for p in list(self.posts) if path is None or p["path"] == path]

    def wait_for(self, predicate, what, timeout=60, path=None):
        deadline = time.time() + timeout
        while time.time() < deadline:
            hits = [b for b in self.bodies(path) if predicate(b)]
            if hits:
                return hits
            time.sleep(0.2)
        raise AssertionError(f"no {what} within {timeout} s; received: {self.bodies()}")

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def tls_server_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(TLS_DIR / "server.pem", TLS_DIR / "server.key")
    return ctx
