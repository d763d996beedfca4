"""Connections that die while a send is blocked are released: slot, memory, descriptors (review item 1)."""
import signal
import socket
import struct

from harness import (FrameReader, Server, assert_healthy, close_code, echo_round_trip, frame, raw_connect,
                     wait_until)
from suite import test

MESSAGE = b"x" * 16384


def _stuff(port):
    """A client that pushes 16 KiB binary messages and never reads, until the server stops taking them."""
    sock, status, head, _ = raw_connect(port, rcvbuf=4096)
    assert status == 101, head
    sock.settimeout(0.5)
    sent = 0
    data = frame(2, MESSAGE)
    try:
        while sent < 64 * 2**20:  # bounded: both directions' buffers fill long before this
            sock.sendall(data)
            sent += len(data)
    except (socket.timeout, TimeoutError):
        pass  # the server stopped reading: its echoes are blocked on our full receive window
    except ConnectionError:
        pass  # the send timeout already cut us: also a connection that died with a send blocked
    return sock, sent


def _slots_come_back(server, baseline_sockets, how):
    port = server.port
    clients = [_stuff(port) for _ in range(5)]
    for i, (sock, _) in enumerate(clients):
        if how == "reset" or (how == "mixed" and i % 2):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST on close
        sock.close()

    def upgrade_ok():
        try:
            echo_round_trip(port, timeout=5)
            return True
        except AssertionError:
            return False  # 503 while the dead connections still hold their slots
    # send timeout 2 s + close timeout: the slots must come back well within this
    wait_until(upgrade_ok, "a new upgrade to be accepted after the 5 dead clients left", timeout=40, poll=0.5)
    wait_until(lambda: server.tcp_count() <= baseline_sockets, "the server's sockets to return to baseline", timeout=20)
    assert_healthy(server)
    return sum(sent for _, sent in clients)


@test
def dead_clients_blocked_on_send_release_their_slots():
    with Server("--max-connections", "5", "--send-timeout", "2", "--no-deflate") as server:
        baseline = server.tcp_count()
        pushed = _slots_come_back(server, baseline, "close")
        # and again with resets, on the same server: nothing accumulated
        _slots_come_back(server, baseline, "reset")
        rss = server.rss_mb()
        for _ in range(3):
            _slots_come_back(server, baseline, "mixed")
        grown = server.rss_mb() - rss
        assert grown < 40, f"RSS grew {grown:.0f} MB over 15 more dead clients"
        assert server.log_count(r"closing 0 connections") == 0  # not stopped yet
        server.stop()
        assert server.log_count(r"closing 0 connections") == 1, "shutdown found connections still held"
        return f"pushed {pushed / 2**20:.1f} MB into 5 stalled clients; slots, sockets and memory came back 5 times (RSS +{grown:.0f} MB)"


@test
def graceful_shutdown_sends_1001_to_everyone_and_cuts_no_connection_that_closed_in_time():
    server = Server("--no-deflate")
    clients = []
    try:
        for _ in range(20):
            sock, status, head, rest = raw_connect(server.port)
            assert status == 101, head
            clients.append((sock, FrameReader(sock, rest)))
        server.proc.send_signal(signal.SIGTERM)
        for sock, reader in clients:  # every client answers the close at once, as a browser does
            op, payload = reader.read_message()
            assert op == 8 and close_code(payload) == 1001, f"expected close 1001, got {op} {payload!r}"
            sock.sendall(frame(8, payload[:2]))
        for sock, reader in clients:  # then each sees the server's FIN (§7.1.1: the server closes TCP first) and closes
            try:
                while reader.read(10):
                    pass
            except ConnectionError:
                pass
            sock.close()
        rc = server.wait_exit(30)
        assert rc == 0, f"exit {rc}"
        cut = server.log_count("shutdown deadline passed")
        assert cut == 0, f"{cut} connections that had closed in time were reported cut at the deadline"
        return "20 clients got 1001, answered, and none was reported cut at the deadline"
    finally:
        for sock, _ in clients:
            sock.close()
        server.stop()
