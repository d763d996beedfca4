"""Plain HTTP on the WebSocket port: `sockeye serve --static DIR` (symlinks, dotfiles, FIFOs, slow readers, ranges),
the Host check against DNS rebinding, HTTP versions, Host header rules, the origin scheme, log escaping, status
lines and the TLS log line (docs/security.md)."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from harness import TIMEOUT, Server, assert_healthy, handshake_request, read_head, wait_until
from suite import test

REAL = b"the real file\n" * 100  # 1400 bytes: far longer than any symlink's own length
SECRET = b"OUTSIDE SECRET\n"
DATA = bytes(range(256)) * 4  # 1024 bytes for range requests


class Tree:
    """A temp DIR (`www`) to serve and a sibling directory outside it."""

    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="sockeye-http-")
        self.www = os.path.join(self.base, "www")
        outside = os.path.join(self.base, "outside")
        os.makedirs(os.path.join(self.www, "sub"))
        os.makedirs(os.path.join(self.www, ".git"))
        os.makedirs(outside)
        self.write("www/real.txt", REAL)
        self.write("www/data.bin", DATA)
        self.write("www/index.html", b"<h1>home</h1>")
        self.write("www/sub/page.txt", b"sub page")
        self.write("www/.env", b"API_KEY=hunter2")
        self.write("www/.git/config", b"[core] hidden")
        self.write("www/sub/.hidden", b"hidden in sub")
        self.write("outside/secret.txt", SECRET)
        os.symlink("real.txt", self.path("www/link.txt"))  # inside DIR: served with the target's length
        os.symlink("sub", self.path("www/subdir-link"))  # symlinked directory inside DIR
        os.symlink("../outside/secret.txt", self.path("www/out.txt"))  # relative, leaves DIR
        os.symlink(self.path("outside"), self.path("www/outdir"))  # absolute, symlinked directory outside DIR
        os.symlink(".env", self.path("www/env-link"))  # visible name, hidden target

    def path(self, rel):
        return os.path.join(self.base, rel)

    def write(self, rel, data):
        with open(self.path(rel), "wb") as f:
            f.write(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.base, ignore_errors=True)


class Conn:
    """One keep-alive HTTP/1.1 connection: requests go out one at a time, responses are read by Content-Length."""

    def __init__(self, port, timeout=TIMEOUT):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, method, path, *headers, host=None, version="1.1"):
        lines = [f"{method} {path} HTTP/{version}"]
        if host is not False:
            lines.append(f"Host: {host or f'127.0.0.1:{self.port}'}")
        lines += headers
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed; unread: {self.buf[:200]!r}")
        self.buf += chunk

    def response(self, head_request=False):
        """(status, head text, body); the body is exactly Content-Length bytes."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        text = head.decode("latin-1")
        status = int(text.split(" ", 2)[1])
        m = re.search(r"(?im)^content-length:\s*(\d+)\s*$", text)
        n = 0 if head_request or status == 304 or not m else int(m.group(1))
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, text, body

    def get(self, path, *headers, **kw):
        self.send("GET", path, *headers, **kw)
        return self.response()

    def close(self):
        self.sock.close()


def header(head, name):
    m = re.search(rf"(?im)^{re.escape(name)}:\s*(.*?)\s*$", head)
    return m.group(1) if m else None


def upgrade_status(port, host=None, origin=None, version="1.1"):
    extra = [f"Origin: {origin}"] if origin else []
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(handshake_request(port, "/", extra, host=host, version=version))
        status, head, rest = read_head(sock)
        m = re.search(r"(?im)^content-length:\s*(\d+)", head)
        body = rest
        while m and len(body) < int(m.group(1)):
            chunk = sock.recv(4096)
            if not chunk:
                break
            body += chunk
        return status, head, body


def fds_on(pid, path):
    """How many of the process's descriptors point at `path`."""
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == path:
                n += 1
        except OSError:
            pass
    return n


# ---- item 6: static files ----

@test
def static_symlink_is_served_with_its_targets_length_and_keep_alive_stays_in_step():
    with Tree() as t, Server("--static", t.www) as srv:
        c = Conn(srv.port)
        try:
            for path in ["/link.txt", "/real.txt", "/link.txt", "/subdir-link/page.txt"]:
                status, head, body = c.get(path)
                want = b"sub page" if "sub" in path else REAL
                assert status == 200 and body == want, f"{path}: {status}, {len(body)} bytes: {body[:40]!r}\n{head}"
            c.send("HEAD", "/link.txt")
            status, head, _ = c.response(head_request=True)
            assert header(head, "Content-Length") == str(len(REAL)), head
        finally:
            c.close()
        assert_healthy(srv)
    return f"4 GETs and a HEAD on one connection, Content-Length {len(REAL)} for the link"


@test
def static_never_serves_outside_dir_through_symlinks():
    with Tree() as t, Server("--static", t.www) as srv:
        for path in ["/out.txt", "/outdir/secret.txt", "/outdir/", "/subdir-link/../out.txt", "/%2e%2e/outside/secret.txt"]:
            c = Conn(srv.port)
            try:
                status, head, body = c.get(path)
            finally:
                c.close()
            assert status in (400, 404) and SECRET not in body, f"{path}: {status} {body[:60]!r}"
        assert_healthy(srv)
    return "relative and absolute links to a file and a directory outside DIR: 404"


@test
def static_hidden_files_are_404_unless_allowed():
    hidden = ["/.env", "/.git/config", "/sub/.hidden", "/%2eenv", "/env-link", "/.git/"]
    with Tree() as t:
        with Server("--static", t.www) as srv:
            c = Conn(srv.port)
            try:
                for path in hidden:
                    status, head, body = c.get(path)
                    assert status == 404 and b"hunter2" not in body and b"hidden" not in body, f"{path}: {status} {body[:60]!r}"
                assert c.get("/real.txt")[0] == 200
            finally:
                c.close()
        with Server("--static", t.www, "--static-hidden") as srv:
            c = Conn(srv.port)
            try:
                for path, want in [("/.env", b"API_KEY=hunter2"), ("/.git/config", b"[core] hidden"), ("/env-link", b"API_KEY=hunter2")]:
                    status, head, body = c.get(path)
                    assert (status, body) == (200, want), f"--static-hidden {path}: {status} {body[:60]!r}"
            finally:
                c.close()
    return f"{len(hidden)} hidden paths 404 by default; --static-hidden serves them"


@test
def static_fifo_is_refused_without_blocking_and_sigterm_still_stops_the_server():
    with Tree() as t:
        os.mkfifo(os.path.join(t.www, "pipe"))
        os.mkfifo(os.path.join(t.www, "pipe.html"))
        with Server("--static", t.www) as srv:
            for path in ["/pipe", "/pipe.html"]:
                c = Conn(srv.port, timeout=10)
                try:
                    status, head, body = c.get(path)
                except socket.timeout:
                    raise AssertionError(f"GET {path} (a FIFO) got no answer within 10 s: the server blocked opening it")
                finally:
                    c.close()
                assert status == 404, f"{path}: {status}"
            assert_healthy(srv, "after GET of a FIFO")
            start = time.monotonic()
            srv.proc.send_signal(signal.SIGTERM)
            rc = srv.proc.wait(20)
            assert rc == 0, f"exit code {rc} after SIGTERM"
            took = time.monotonic() - start
    return f"FIFO answered 404 at once; SIGTERM stopped the server in {took:.1f}s"


@test
def static_non_reading_client_is_cut_after_send_timeout_and_the_file_released():
    with Tree() as t:
        big = os.path.join(t.www, "big.bin")
        size = 256 << 20
        with open(big, "wb") as f:
            f.truncate(size)  # sparse: large on the wire, nothing on disk
        with Server("--static", t.www, "--send-timeout", "2") as srv:
            sockets = srv.tcp_count()  # the listener
            c = Conn(srv.port)
            assert c.get("/real.txt")[0] == 200  # warm the static path before measuring the baseline
            c.close()
            wait_until(lambda: srv.tcp_count() == sockets, "the warm-up connection to close")
            base = srv.fd_count()
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.settimeout(TIMEOUT)
            sock.connect(("127.0.0.1", srv.port))
            start = time.monotonic()
            sock.sendall(f"GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n\r\n".encode())
            status, head, _ = read_head(sock)
            assert status == 200 and header(head, "Content-Length") == str(size), head
            wait_until(lambda: fds_on(srv.pid, big) == 1, "the server to hold the file open")
            # The client reads nothing more: the server must give up after --send-timeout and release the file.
            wait_until(lambda: fds_on(srv.pid, big) == 0, "the file to be released", timeout=40)
            held = time.monotonic() - start
            assert held >= 1.9, f"cut after {held:.1f}s, before the 2 s send timeout"
            srv.wait_log(r"static response .*(stalled|send timeout)")
            received = 0
            try:
                sock.settimeout(TIMEOUT)
                while chunk := sock.recv(1 << 20):
                    received += len(chunk)
            except (ConnectionResetError, socket.timeout):
                pass
            sock.close()
            assert received < size, "the whole file arrived: the client was not cut"
            wait_until(lambda: srv.fd_count() <= base, f"descriptors back to {base}")
            assert_healthy(srv)
    return f"file released {held:.1f}s after the request (send timeout 2 s); descriptors back to {base}"


@test
def static_large_file_streams_without_loading_it_whole():
    with Tree() as t:
        big = os.path.join(t.www, "big.bin")
        size = 512 << 20
        with open(big, "wb") as f:
            f.truncate(size)
        with Server("--static", t.www) as srv:
            before = srv.rss_mb()
            c = Conn(srv.port, timeout=60)
            try:
                c.send("GET", "/big.bin")
                while b"\r\n\r\n" not in c.buf:
                    c._fill()
                head, _, rest = c.buf.partition(b"\r\n\r\n")
                got = len(rest)
                while got < size:
                    chunk = c.sock.recv(1 << 20)
                    assert chunk, f"connection closed after {got} bytes"
                    got += len(chunk)
            finally:
                c.close()
            grew = srv.rss_mb() - before
            assert grew < 128, f"RSS grew {grew:.0f} MB serving a {size >> 20} MiB file"
            assert_healthy(srv)
    return f"{size >> 20} MiB served, RSS grew {grew:.0f} MB"


@test
def static_range_requests():
    n = len(DATA)
    with Tree() as t, Server("--static", t.www) as srv:
        c = Conn(srv.port)
        try:
            status, head, body = c.get("/data.bin")
            assert status == 200 and body == DATA and header(head, "Accept-Ranges") == "bytes", head
            cases = [
                ("bytes=0-9", 206, f"bytes 0-9/{n}", DATA[:10]),
                ("bytes=1000-", 206, f"bytes 1000-{n - 1}/{n}", DATA[1000:]),
                ("bytes=-5", 206, f"bytes {n - 5}-{n - 1}/{n}", DATA[-5:]),
                ("bytes=10-99999", 206, f"bytes 10-{n - 1}/{n}", DATA[10:]),
                ("BYTES = 3 - 4", None, None, None),  # whitespace is not in the grammar: ignored or not, stay in step
                ("bytes=0-1,5-6", 200, None, DATA),  # several ranges: the whole file (documented)
                ("bytes=5-3", 200, None, DATA),  # invalid: ignored (RFC 9110 §14.2)
                ("items=0-1", 200, None, DATA),  # unknown unit: ignored
                (f"bytes={n}-", 416, f"bytes */{n}", None),
                ("bytes=-0", 416, f"bytes */{n}", None),
            ]
            for rng, want_status, want_range, want_body in cases:
                status, head, body = c.get("/data.bin", f"Range: {rng}")
                if want_status is None:
                    assert status in (200, 206, 416), f"{rng}: {status}"
                    continue
                assert status == want_status, f"Range {rng}: {status}\n{head}"
                assert header(head, "Content-Range") == want_range, f"Range {rng}: {head}"
                if want_body is not None:
                    assert body == want_body, f"Range {rng}: {len(body)} bytes"
            c.send("HEAD", "/data.bin", "Range: bytes=0-9")
            status, head, _ = c.response(head_request=True)
            assert status == 206 and header(head, "Content-Length") == "10", head
            assert c.get("/real.txt")[2] == REAL  # still in step after every case
        finally:
            c.close()
        assert_healthy(srv)
    return f"{len(cases)} Range cases + HEAD on one keep-alive connection"


@test
def static_conditional_requests_get_304():
    with Tree() as t, Server("--static", t.www) as srv:
        c = Conn(srv.port)
        try:
            status, head, body = c.get("/real.txt")
            etag, modified = header(head, "ETag"), header(head, "Last-Modified")
            assert status == 200 and etag and modified, head
            assert c.get("/real.txt", f"If-None-Match: {etag}")[0] == 304
            assert c.get("/real.txt", f"If-Modified-Since: {modified}")[0] == 304
            assert c.get("/real.txt", 'If-None-Match: "other"')[0] == 200
            status, head, body = c.get("/data.bin", "Range: bytes=0-1", 'If-Range: "stale"')
            assert status == 200 and body == DATA, f"If-Range with a stale validator: {status}"
            etag = header(c.get("/data.bin")[1], "ETag")
            assert c.get("/data.bin", "Range: bytes=0-1", f"If-Range: {etag}")[0] == 206
            assert c.get("/real.txt")[2] == REAL
        finally:
            c.close()
    return "ETag/If-None-Match, Last-Modified/If-Modified-Since → 304; If-Range"


# ---- item 9: DNS rebinding ----

@test
def rebinding_host_is_refused_on_a_loopback_listener():
    with Tree() as t, Server("--static", t.www) as srv:
        p = srv.port
        status, head, body = upgrade_status(p, host=f"evil.example:{p}", origin=f"http://evil.example:{p}")
        assert status == 421, f"rebinding upgrade: {status}"
        assert b"--allowed-host" in body, body
        status, head, body = Conn(p).get("/index.html", host=f"evil.example:{p}")
        assert status == 421 and b"home" not in body, f"rebinding static GET: {status}"
        srv.wait_log(r"421.*evil\.example")
        for host in [f"localhost:{p}", f"127.0.0.1:{p}", f"127.1.2.3:{p}", f"app.localhost:{p}", f"[::1]:{p}", "localhost",
                     f"LOCALHOST.:{p}"]:
            assert Conn(p).get("/index.html", host=host)[0] == 200, f"static GET with Host {host} refused"
            status, _, _ = upgrade_status(p, host=host, origin=f"http://{host}")
            assert status == 101, f"upgrade with Host {host}: {status}"
    with Server("--allowed-host", "evil.example") as srv:
        p = srv.port
        assert upgrade_status(p, host=f"evil.example:{p}", origin=f"http://evil.example:{p}")[0] == 101
        assert Conn(p).get("/", host=f"evil.example:{p}")[0] == 200
        assert upgrade_status(p, host=f"other.example:{p}", origin=f"http://other.example:{p}")[0] == 421
        assert upgrade_status(p, host=f"localhost:{p}")[0] == 101
    with Server("--allowed-host", "*") as srv:
        assert upgrade_status(srv.port, host=f"evil.example:{srv.port}", origin=f"http://evil.example:{srv.port}")[0] == 101
    return "evil Host → 421 (upgrade and static); loopback names pass; --allowed-host NAME and * let it through"


# ---- item 10: versions, Host header, origin scheme, log escaping, status line, TLS log line ----

@test
def only_http_1_1_may_upgrade():
    with Server() as srv:
        p = srv.port
        results = {v: upgrade_status(p, version=v)[0] for v in ["2.0", "9.9", "1.0", "1.1"]}
        assert results == {"2.0": 505, "9.9": 505, "1.0": 400, "1.1": 101}, results
        status, head, _ = Conn(p).get("/", version="2.0")
        assert status == 505 and head.startswith("HTTP/1.1 505 HTTP Version Not Supported\r\n"), head
        assert_healthy(srv)
    return f"upgrade answers {results}; plain GET over HTTP/2.0 → 505"


@test
def static_requests_need_exactly_one_host():
    with Tree() as t, Server("--static", t.www) as srv:
        p = srv.port
        no_host = Conn(p).get("/index.html", host=False)[0]
        two = Conn(p).get("/index.html", "Host: localhost")[0]
        bad = Conn(p).get("/index.html", host="a b")[0]
        http10 = Conn(p).get("/index.html", host=False, version="1.0")[0]
        assert (no_host, two, bad, http10) == (400, 400, 400, 200), (no_host, two, bad, http10)
        assert_healthy(srv)
    return "HTTP/1.1 without Host, two Hosts, invalid Host → 400; HTTP/1.0 without Host → 200"


@test
def https_origin_is_refused_on_a_plain_port():
    with Server() as srv:
        p = srv.port
        https = upgrade_status(p, origin=f"https://127.0.0.1:{p}")[0]
        http = upgrade_status(p, origin=f"http://127.0.0.1:{p}")[0]
        assert (https, http) == (403, 101), (https, http)
    return "https://127.0.0.1:PORT → 403, http://127.0.0.1:PORT → 101"


@test
def origin_refusal_says_so_and_points_at_the_origin_flag():
    with Server() as srv:
        status, head, body = upgrade_status(srv.port, origin="https://evil.example")
        assert status == 403 and b"https://evil.example" in body and b"--origin" in body, body
        srv.wait_log(r"403.*https://evil\.example.*--origin")
    return f"403 body: {body.decode().strip()}"


@test
def control_characters_from_clients_are_escaped_in_the_log():
    with Tree() as t, Server("--static", t.www, "--log-level", "Debug") as srv:
        p = srv.port
        mark = srv.log_mark()
        Conn(p).get("/x%1b[31mred%0aFORGED-LINE%07")
        upgrade_status(p, origin="http://evil.example\x1b[2J\x07")
        srv.wait_log(r"403", start=mark)
        srv.wait_log(r"FORGED-LINE", start=mark)
        with srv.cond:
            lines = srv.lines[mark:]
        raw = [line for line in lines if re.search(r"[\x00-\x08\x0b-\x1f\x7f]", line)]
        assert not raw, f"raw control characters in the log: {raw!r}"
        assert not any(line.startswith("FORGED-LINE") for line in lines), "a client forged a log line"
        assert any("\\x1b" in line for line in lines), lines
    return "ESC, BEL and LF from the path and Origin are logged as \\x1b, \\x07, \\x0a"


@test
def status_lines_have_standard_reason_phrases():
    with Tree() as t, Server("--static", t.www) as srv:
        c = Conn(srv.port)
        try:
            lines = [c.get(path, *extra)[1].split("\r\n", 1)[0] for path, extra in
                     [("/", ()), ("/missing", ()), ("/data.bin", ("Range: bytes=0-0",)), ("/data.bin", ("Range: bytes=9999-",))]]
        finally:
            c.close()
        assert lines == ["HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found", "HTTP/1.1 206 Partial Content",
                         "HTTP/1.1 416 Range Not Satisfiable"], lines
    return " | ".join(lines)


@test
def tls_listening_line_says_https():
    if shutil.which("openssl") is None:
        raise AssertionError("openssl is needed to make a test certificate")
    work = tempfile.mkdtemp(prefix="sockeye-tls-")
    try:
        cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-days", "1", "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
                       check=True, capture_output=True, timeout=60)
        with Server("--tls-cert", cert, "--tls-key", key) as srv:
            line = srv.wait_log(r"listening on \S+").group(0)
            assert line.startswith("listening on https://"), line
        with Server() as srv:
            plain = srv.wait_log(r"listening on \S+").group(0)
            assert plain.startswith("listening on http://"), plain
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return f"{line} (plain: {plain})"
