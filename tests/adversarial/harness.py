"""Shared helpers for the adversarial suite: the real `sockeye serve` over loopback, raw sockets, process facts.

Every wait has a deadline and waits on an event (a log line, a socket answer, a count reaching a value), never a
fixed sleep standing in for one. Tests measure the server process itself: RSS and open descriptors from /proc.
"""
import asyncio
import base64
import os
import re
import signal
import socket
import struct
import subprocess
import threading
import time

DLL = os.environ.get("SOCKEYE_DLL", "")
TIMEOUT = 15  # seconds for any single wait
HERE = os.path.dirname(os.path.abspath(__file__))


class Server:
    """`sockeye serve --port 0 ARGS...` with its log (stderr) collected so tests can wait for lines.

    `preexec` runs in the child before exec (e.g. to lower RLIMIT_NOFILE); `port` may be fixed for tests that need
    two servers on one port."""

    def __init__(self, *args, port=0, env=None, preexec=None, wait_listening=True, cwd=None):
        full_env = dict(os.environ if env is None else env)
        full_env.setdefault("DOTNET_gcServer", "0")
        self.args = ["dotnet", DLL, "serve", "--port", str(port), *args]
        self.proc = subprocess.Popen(
            self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=full_env, errors="replace", preexec_fn=preexec, cwd=cwd)
        self.lines = []
        self.eof = False
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        self.port = None
        if wait_listening:
            self.port = int(self.wait_log(r"listening on \w+://[^ ]+:(\d+)", 60).group(1))

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    @property
    def pid(self):
        return self.proc.pid

    def wait_log(self, pattern, timeout=TIMEOUT, start=0):
        """The first log line (from index `start`) matching `pattern`; waits for it."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines[start:]:
                    if m := re.search(pattern, line):
                        return m
                left = deadline - time.monotonic()
                if self.eof or left <= 0:
                    tail = "\n    ".join(self.lines[-15:])
                    raise AssertionError(f"no log line /{pattern}/; log tail:\n    {tail}")
                self.cond.wait(left)

    def log_count(self, pattern):
        with self.cond:
            return sum(1 for line in self.lines if re.search(pattern, line))

    def log_mark(self):
        with self.cond:
            return len(self.lines)

    def wait_exit(self, timeout=TIMEOUT):
        rc = self.proc.wait(timeout)
        self._read_to_end()
        return rc

    def _read_to_end(self, timeout=TIMEOUT):
        """Once the process has exited: waits (bounded) until its output has been read to the end, so `lines` holds
        every line it wrote. The reader thread can still be behind the exit on a busy machine."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self.eof:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self.cond.wait(left)

    def rss_mb(self):
        return rss_mb(self.proc.pid)

    def fd_count(self):
        return fd_count(self.proc.pid)

    def tcp_count(self):
        """Established or closing TCP sockets the server holds (descriptors pointing at sockets)."""
        return socket_fd_count(self.proc.pid)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._read_to_end()
        return self.proc.returncode


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def socket_fd_count(pid):
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                n += 1
        except OSError:
            pass
    return n


def alive(pid):
    return os.path.exists(f"/proc/{pid}")


def wait_until(condition, what, timeout=TIMEOUT, poll=0.05):
    """Polls `condition` until true; fails with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(poll)


# ---- raw WebSocket client (blocking sockets): what an attacker controls byte by byte ----

def handshake_request(port, path="/", extra=(), host=None, version="1.1"):
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {path} HTTP/{version}", f"Host: {host or f'127.0.0.1:{port}'}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_head(sock, timeout=TIMEOUT):
    """Reads an HTTP response head; returns (status, head_text, bytes_after_head)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError(f"connection closed before a complete response head: {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    text = head.decode("latin-1")
    status = int(text.split(" ", 2)[1])
    return status, text, rest


def raw_connect(port, path="/", extra=(), rcvbuf=None, timeout=TIMEOUT):
    """Opens a WebSocket with a raw socket; returns (sock, status, head, leftover)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(timeout)
    sock.connect(("127.0.0.1", port))
    sock.sendall(handshake_request(port, path, extra))
    status, head, rest = read_head(sock, timeout)
    return sock, status, head, rest


def frame(opcode, payload=b"", fin=True, rsv1=False, mask=True):
    """A client frame (masked unless told otherwise)."""
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", b0, (0x80 if mask else 0) | n)
    elif n < 65536:
        header = struct.pack("!BBH", b0, (0x80 if mask else 0) | 126, n)
    else:
        header = struct.pack("!BBQ", b0, (0x80 if mask else 0) | 127, n)
    if not mask:
        return header + payload
    key = os.urandom(4)
    masked = bytes(b ^ key[i & 3] for i, b in enumerate(payload)) if n < 4096 else _mask_fast(payload, key)
    return header + key + masked


def _mask_fast(payload, key):
    k = int.from_bytes(key * ((len(payload) + 3) // 4), "big") >> (8 * ((-len(payload)) % 4))
    return (int.from_bytes(payload, "big") ^ k).to_bytes(len(payload), "big")


class FrameReader:
    """Reads server frames (unmasked) from a blocking socket, with bytes left over from the handshake."""

    def __init__(self, sock, leftover=b""):
        self.sock = sock
        self.buf = bytearray(leftover)

    def _need(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no complete frame before the deadline")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk

    def read(self, timeout=TIMEOUT):
        """Returns (opcode, fin, payload) of the next frame."""
        deadline = time.monotonic() + timeout
        self._need(2, deadline)
        b0, b1 = self.buf[0], self.buf[1]
        n = b1 & 0x7F
        pos = 2
        if n == 126:
            self._need(4, deadline)
            n = struct.unpack("!H", self.buf[2:4])[0]
            pos = 4
        elif n == 127:
            self._need(10, deadline)
            n = struct.unpack("!Q", self.buf[2:10])[0]
            pos = 10
        self._need(pos + n, deadline)
        payload = bytes(self.buf[pos:pos + n])
        del self.buf[:pos + n]
        return b0 & 0x0F, bool(b0 & 0x80), payload

    def read_message(self, timeout=TIMEOUT):
        """The next data message (opcode, payload), answering nothing; control frames other than close skipped."""
        deadline = time.monotonic() + timeout
        parts = []
        first = None
        while True:
            op, fin, payload = self.read(max(0.01, deadline - time.monotonic()))
            if op == 8:
                return 8, payload
            if op in (9, 10):
                continue
            if first is None:
                first = op
            parts.append(payload)
            if fin:
                return first, b"".join(parts)


def close_code(payload):
    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005


def echo_round_trip(port, text="ping", timeout=TIMEOUT):
    """A fresh client's echo round trip on the echo server; returns seconds taken (handshake included)."""
    start = time.monotonic()
    sock, status, head, rest = raw_connect(port, timeout=timeout)
    try:
        assert status == 101, f"expected 101, got {status}: {head}"
        sock.sendall(frame(1, text.encode()))
        op, payload = FrameReader(sock, rest).read_message(timeout)
        assert (op, payload) == (1, text.encode()), f"echo mismatch: {(op, payload)!r}"
        sock.sendall(frame(8, struct.pack("!H", 1000)))
        return time.monotonic() - start
    finally:
        sock.close()


def assert_healthy(server, what="after the attack"):
    assert server.proc.poll() is None, f"server exited ({server.proc.returncode}) {what}"
    echo_round_trip(server.port)


def http_get(port, path, extra=(), host=None, timeout=TIMEOUT, method="GET"):
    """A raw HTTP/1.1 request; returns (status, head, body) reading exactly Content-Length bytes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        lines = [f"{method} {path} HTTP/1.1"]
        if host is not False:
            lines.append(f"Host: {host or f'127.0.0.1:{port}'}")
        lines += [*extra, "Connection: close"]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        status, head, rest = read_head(sock, timeout)
        m = re.search(r"(?im)^content-length:\s*(\d+)", head)
        body = bytearray(rest)
        if m and method != "HEAD":
            n = int(m.group(1))
            while len(body) < n:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                body += chunk
        return status, head, bytes(body)
