"""Connections that die while a send is blocked are released: slot, memory, descriptors (review item 1)."""
import socket
import struct

from harness import Server, assert_healthy, frame, raw_connect, wait_until, echo_round_trip
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
