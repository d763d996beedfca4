"""Fairness (reliability item 3): compression work on one connection must not starve the others.

The default `sockeye serve` negotiates permessage-deflate and runs socket completions inline on the I/O threads. A
client that sends small compressed messages which inflate to ~1 MB (and are deflated again for the echo) made the
read loop hold its I/O thread for as long as such messages kept coming: other clients' echoes and new handshakes
on those threads waited ~20 s. Now a connection yields its thread after a bounded amount of zlib work.
"""
import os
import socket
import statistics
import threading
import time
import zlib

from harness import FrameReader, Server, assert_healthy, frame, handshake_request, raw_connect, read_head, wait_until
from suite import test

INFLATED = 1_000_000      # each bomb message inflates to this (under the default 1 MiB message limit)
TOTAL_RATE = 1200         # bomb messages per second, all senders together (~1.2 MB/s compressed): more than the
                          # server's cores inflate and deflate, so an I/O thread that never yields never comes back
MEASURE_SECONDS = 4       # how long the victim keeps measuring echoes while the bombs fly
ROUND_TRIPS = 40          # at most this many victim echoes, one every PACE seconds
PACE = 0.1
STEP_TIMEOUT = 5          # any single echo or handshake slower than this fails the test at once
P50_LIMIT = 0.25          # seconds; the bug measured ~19 s, a busy 2-core machine stays far below
HANDSHAKE_LIMIT = 2.0     # seconds; the bug measured ~20 s


def _bomb_frame():
    """One binary message of INFLATED zeros as raw DEFLATE (RFC 7692 §7.2.1: sync flush, trailing 00 00 ff ff
    removed), about 1 KiB. It uses no earlier history, so it is valid in a context-takeover stream too."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = c.compress(bytes(INFLATED)) + c.flush(zlib.Z_SYNC_FLUSH)
    assert data.endswith(b"\x00\x00\xff\xff")
    return frame(2, data[:-4], rsv1=True)


class Bomber:
    """A client that negotiated permessage-deflate and sends bomb messages at a fixed rate, draining the echoes."""

    def __init__(self, port, wire, rate, go, stop):
        self.sock, status, head, rest = raw_connect(port, extra=("Sec-WebSocket-Extensions: permessage-deflate",))
        assert status == 101 and "permessage-deflate" in head.lower(), f"deflate not agreed: {head}"
        self.reader = FrameReader(self.sock, rest)
        self.wire, self.interval, self.go, self.stop = wire, 1.0 / rate, go, stop
        self.sent = 0
        self.echoes = 0
        self.error = None
        self.threads = [threading.Thread(target=self._send, daemon=True), threading.Thread(target=self._drain, daemon=True)]
        for t in self.threads:
            t.start()

    def _send(self):
        self.go.wait(STEP_TIMEOUT * 6)  # all bombers connect first, then start together
        due = time.monotonic()
        try:
            while not self.stop.is_set():
                self.sock.sendall(self.wire)  # blocks when the server applies backpressure: that is allowed
                self.sent += 1
                due = max(due + self.interval, time.monotonic() - self.interval)
                self.stop.wait(max(0.0, due - time.monotonic()))  # pacing, not synchronization
        except OSError as e:
            if not self.stop.is_set():
                self.error = f"send: {e}"

    def _drain(self):
        inflater = zlib.decompressobj(-15)  # the server compresses with context takeover (its default)
        try:
            while not self.stop.is_set():
                try:
                    op, fin, payload = self.reader.read(timeout=1)
                except TimeoutError:
                    continue
                if op == 8:
                    self.error = f"server closed the bomb connection: {payload!r}"
                    return
                if self.echoes == 0:
                    # The first echo is checked whole (the server may fragment a compressed message).
                    parts = [payload]
                    while not fin:
                        op, fin, payload = self.reader.read(timeout=STEP_TIMEOUT)
                        parts.append(payload)
                    echoed = inflater.decompress(b"".join(parts) + b"\x00\x00\xff\xff")
                    assert echoed == bytes(INFLATED), f"wrong echo: {len(echoed)} bytes"
                    self.echoes += 1
                elif fin:
                    self.echoes += 1
        except (OSError, ConnectionError, AssertionError) as e:
            if not self.stop.is_set():
                self.error = f"drain: {type(e).__name__}: {e}"

    def close(self):
        self.sock.close()
        for t in self.threads:
            t.join(STEP_TIMEOUT)


def _echo(sock, reader, text):
    start = time.monotonic()
    sock.sendall(frame(1, text))
    try:
        op, payload = reader.read_message(timeout=STEP_TIMEOUT)
    except TimeoutError:
        raise AssertionError(f"starved: no echo within {STEP_TIMEOUT}s under the compression load") from None
    assert (op, payload) == (1, text), f"echo mismatch: {(op, payload)!r}"
    return time.monotonic() - start


def _handshake(port):
    """A fresh client's opening handshake (seconds until its 101), then one echo on it."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=STEP_TIMEOUT) as s:
        s.sendall(handshake_request(port))
        try:
            status, head, rest = read_head(s, timeout=STEP_TIMEOUT)
        except TimeoutError:
            raise AssertionError(f"starved: no handshake answer within {STEP_TIMEOUT}s under the compression load") from None
        took = time.monotonic() - start
        assert status == 101, head
        _echo(s, FrameReader(s, rest), b"fresh")
        return took


@test
def compression_bombs_do_not_starve_other_clients_echoes_or_handshakes():
    with Server() as server:  # defaults: deflate offered, inline completions on (the echo server)
        port = server.port
        # The victim connects first and proves it works before the attack.
        victim, status, head, rest = raw_connect(port)
        assert status == 101, head
        reader = FrameReader(victim, rest)
        _echo(victim, reader, b"before")

        # Four bomb connections per CPU (with inline completions there is one socket engine, i.e. one I/O thread,
        # per CPU, and sockets are spread over them in turn), so every I/O thread gets some; one fixed total rate.
        go, stop = threading.Event(), threading.Event()
        count = 4 * max(2, os.cpu_count() or 2)
        wire = _bomb_frame()
        bombers = []
        try:
            for _ in range(count):
                bombers.append(Bomber(port, wire, TOTAL_RATE / count, go, stop))
            go.set()
            wait_until(lambda: sum(b.echoes for b in bombers) >= count or any(b.error for b in bombers),
                       "the bombs' first echoes", timeout=STEP_TIMEOUT * 3)
            for b in bombers:
                assert b.error is None, b.error
            echoes_before = sum(b.echoes for b in bombers)

            # Under attack: the victim's echoes, and every fourth time a fresh client's handshake (new sockets go
            # to the I/O threads in turn, so the handshakes visit all of them).
            times, handshakes = [], []
            start = time.monotonic()
            for i in range(ROUND_TRIPS):
                if time.monotonic() - start > MEASURE_SECONDS:
                    break
                times.append(_echo(victim, reader, f"ping {i}".encode()))
                if i % 4 == 0:
                    handshakes.append(_handshake(port))
                time.sleep(PACE)  # pacing: samples spread over the window, not synchronization
            bomb_echoes = sum(b.echoes for b in bombers) - echoes_before
            for b in bombers:
                assert b.error is None, b.error
        finally:
            stop.set()
            for b in bombers:
                b.close()
        victim.close()

        p50 = statistics.median(times)
        worst = max(times)
        # The attack really ran alongside the measurement: the bombs kept being inflated and echoed.
        assert bomb_echoes > 0, "no bomb message was echoed while measuring: the attack did not run"
        assert p50 < P50_LIMIT, f"echo p50 {p50 * 1000:.0f} ms under the compression load (max {worst * 1000:.0f} ms)"
        handshake = max(handshakes)
        assert handshake < HANDSHAKE_LIMIT, f"a new handshake took {handshake:.2f}s under the compression load"
        assert_healthy(server)
        return (f"{count} bomb connections, {bomb_echoes} bomb echoes while measuring; victim echo p50 "
                f"{p50 * 1000:.1f} ms, max {worst * 1000:.1f} ms over {len(times)}; slowest of {len(handshakes)} "
                f"new handshakes {handshake * 1000:.1f} ms")
