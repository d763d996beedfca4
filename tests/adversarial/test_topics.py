"""Topics under attack (`serve --broadcast`): slow subscribers, protocol garbage, subscription and topic floods."""
import json
import socket
import struct
import threading
import time

from harness import FrameReader, Server, close_code, frame, raw_connect, wait_until
from suite import test

V1 = ("Sec-WebSocket-Protocol: sockeye.v1",)


class V1Client:
    """A sockeye.v1 client on a raw socket: sends JSON requests, reads JSON frames."""

    def __init__(self, port, path="/"):
        self.sock, status, head, rest = raw_connect(port, path, extra=V1)
        assert status == 101, head
        assert "sockeye.v1" in head, f"subprotocol not agreed: {head}"
        self.reader = FrameReader(self.sock, rest)
        hello = self.next()
        assert hello["op"] == "hello", hello

    def send(self, obj_or_bytes, opcode=1):
        data = obj_or_bytes if isinstance(obj_or_bytes, bytes) else json.dumps(obj_or_bytes).encode()
        self.sock.sendall(frame(opcode, data))

    def next(self, timeout=10):
        op, payload = self.reader.read_message(timeout)
        assert op != 8, f"closed: {close_code(payload)} {payload[2:]!r}"
        if op == 2:
            n = struct.unpack("!I", payload[:4])[0]
            msg = json.loads(payload[4:4 + n])
            msg["$payload"] = payload[4 + n:]
            return msg
        return json.loads(payload)

    def expect(self, op, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            msg = self.next(max(0.1, deadline - time.monotonic()))
            if msg["op"] == op:
                return msg

    def close(self):
        self.sock.close()


def _plain(port, path, rcvbuf=None):
    sock, status, head, rest = raw_connect(port, path, rcvbuf=rcvbuf)
    assert status == 101, head
    return sock, FrameReader(sock, rest)


@test
def a_subscriber_that_never_reads_is_cut_while_the_publisher_and_other_subscribers_keep_going():
    count, size = 3000, 4096  # 12 MB: far more than the stuck socket, its kernel buffers and --max-send-buffer hold
    with Server("--broadcast", "--max-queued-messages", "256", "--send-timeout", "60") as server:
        port = server.port
        stuck, _ = _plain(port, "/room", rcvbuf=4096)  # reads nothing, ever
        readers = [_plain(port, "/room") for _ in range(3)]
        publisher, pub_reader = _plain(port, "/room")
        tcp_before = server.tcp_count()
        results = {}
        errors = []

        def drain(i, reader):
            got = 0
            try:
                while got < count:
                    op, payload = reader.read_message(30)
                    if op != 2:
                        raise AssertionError(f"reader {i}: {op} {close_code(payload) if op == 8 else ''} at {got}")
                    assert int.from_bytes(payload[:4], "big") == got, f"reader {i}: out of order at {got}"
                    got += 1
                    results[i] = got
            except Exception as e:  # reported by the main thread
                errors.append(e)

        threads = [threading.Thread(target=drain, args=(i, r), daemon=True) for i, (_, r) in enumerate(readers + [(publisher, pub_reader)])]
        for t in threads:
            t.start()
        start = time.monotonic()
        # Bursts of 200 with the readers catching up in between: a reading subscriber never has more than a burst
        # queued, while the stuck one accumulates every burst until its queue (256) overflows.
        for n in range(count):
            publisher.sendall(frame(2, n.to_bytes(4, "big") + b"x" * (size - 4)))
            if n % 200 == 199:
                wait_until(lambda: errors or min(results.get(i, 0) for i in range(len(threads))) > n, "readers to catch up", timeout=30)
                assert not errors, errors
        for t in threads:
            t.join(60)
        assert not errors, errors
        elapsed = time.monotonic() - start
        assert all(results.get(i) == count for i in range(len(threads))), f"deliveries per reader: {results}"
        # The stuck one was cut, and said so in one line; the others are still connected.
        server.wait_log(r"subscriber too slow")
        assert server.log_count(r"closing .* subscriber too slow") == 1
        wait_until(lambda: server.tcp_count() <= tcp_before - 1, "the stuck subscriber's socket to be released")
        assert elapsed < 30, f"3000 messages took {elapsed:.1f}s with a stuck subscriber present"
        for sock, _ in readers:
            sock.close()
        publisher.close()
        stuck.close()


@test
def protocol_garbage_gets_error_codes_and_the_connection_stays_usable():
    with Server("--broadcast") as server:
        c = V1Client(server.port)
        cases = [
            (b"not json", 1, "bad_request"),
            (b"[1,2,3]", 1, "bad_request"),
            (b"{\"op\":", 1, "bad_request"),
            (b"[" * 100 + b"]" * 100, 1, "bad_request"),
            (b"\x00\x01", 2, "bad_request"),                                   # binary shorter than its header
            (struct.pack("!I", 1000) + b"{}", 2, "bad_request"),               # header length past the end
            ({"op": "fly", "id": 1}, 1, "unknown_op"),
            ({"op": "pub", "text": "no topic"}, 1, "bad_request"),
            ({"op": "pub", "topic": "", "text": "x"}, 1, "bad_request"),
            ({"op": "pub", "topic": "t" * 300, "text": "x"}, 1, "bad_request"),
            ({"op": "pub", "topic": "a\nb", "text": "x"}, 1, "bad_request"),
            ({"op": "sub", "id": 2**60, "topic": "t"}, 1, "bad_request"),
            ({"op": "sub", "id": 3, "topic": "t", "since": {"epoch": "e"}}, 1, "bad_request"),
            ({"op": "sub", "id": 4, "topic": "t", "presence": {"pad": "x" * 5000}}, 1, "bad_request"),
            ({"op": "unsub", "id": 5, "topic": "never"}, 1, "not_subscribed"),
        ]
        for payload, opcode, code in cases:
            c.send(payload, opcode)
            err = c.expect("error")
            assert err["code"] == code, f"{payload!r:.60}: expected {code}, got {err}"
        # Still a working client.
        c.send({"op": "sub", "id": 10, "topic": "ok"})
        assert c.expect("subscribed")["id"] == 10
        c.send({"op": "pub", "id": 11, "topic": "ok", "text": "fine"})
        assert c.expect("msg")["text"] == "fine"
        assert c.expect("ack")["id"] == 11
        assert server.proc.poll() is None
        c.close()


@test
def subscription_and_topic_floods_are_bounded():
    with Server("--broadcast", "--history", "4") as server:
        c = V1Client(server.port)
        for i in range(300):
            c.send({"op": "sub", "id": i + 1, "topic": f"t{i}"})
        subscribed = refused = 0
        while subscribed + refused < 300:
            msg = c.next()
            if msg["op"] == "subscribed":
                subscribed += 1
            elif msg["op"] == "error":
                assert "too many subscriptions" in msg["message"], msg
                refused += 1
        assert (subscribed, refused) == (256, 44), (subscribed, refused)
        # 20,000 topics with history, 64 KiB each: the global history budget (256 MiB) caps what is kept.
        rss_before = server.rss_mb()
        blob = b"y" * 65536
        for i in range(20000):
            header = json.dumps({"op": "pub", "topic": f"flood/{i}"}).encode()
            c.sock.sendall(frame(2, struct.pack("!I", len(header)) + header + blob))
        # A publish with an id after the flood is answered after every flood message was handled (one reader loop).
        c.send({"op": "pub", "id": 99999, "topic": "marker", "text": "m"})
        c.expect("ack", timeout=120)
        grown = server.rss_mb() - rss_before
        assert grown < 600, f"RSS grew {grown:.0f} MB for 1.3 GB of payload spread over 20,000 topics"
        assert server.proc.poll() is None
        c.close()
