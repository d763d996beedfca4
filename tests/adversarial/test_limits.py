"""Process limits: the descriptor limit (review item 2) and port sharing (review item 4)."""
import resource
import socket
import time

from harness import Server, assert_healthy, echo_round_trip, raw_connect, read_head, wait_until
from suite import test

FD_LIMIT = 400


def _limit_fds():
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


def _cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


import os  # noqa: E402


@test
def at_the_descriptor_limit_the_server_sheds_with_503_and_never_spins_or_crashes():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))  # room for our own sockets
    with Server("--no-deflate", preexec=_limit_fds) as server:
        port = server.port
        baseline_fds = server.fd_count()
        baseline_sockets = server.tcp_count()
        rss_before = server.rss_mb()
        held = []
        # 1. Upgrades until refused: the default connection limit and the accept loop's session budget both follow the
        #    descriptor limit, so the refusal is a clean 503, not a failed accept. Which of the two refuses depends on
        #    the descriptors the server opens between building its options and starting to accept (the budget,
        #    measured later, is the lower one: 229 upgrades, and 245 with the budget raised by 16). This used to
        #    require the connection limit and passed only while the budget's log line was still in the logger's
        #    queue (3 failures in 13 runs under load).
        refused = None
        for i in range(FD_LIMIT + 50):
            try:
                sock, status, head, _ = raw_connect(port, timeout=10)
            except (ConnectionError, socket.timeout, TimeoutError) as e:
                refused = f"connection {i}: {type(e).__name__}"
                break
            if status != 101:
                refused = f"connection {i}: HTTP {status}"
                sock.close()
                break
            held.append(sock)
        assert refused and "HTTP 503" in refused, f"expected a 503 once full, got {refused!r} after {len(held)} upgrades"
        assert FD_LIMIT // 2 <= len(held) < FD_LIMIT, f"{len(held)} upgrades held under a limit of {FD_LIMIT} descriptors"
        assert server.log_count("accept failed") == 0, "descriptors ran out: the connection limit or the budget should refuse first"

        # 2. Now exhaust the descriptors themselves: connections that never send a request sit in their handshake.
        mark = server.log_mark()
        cpu_start = _cpu_seconds(server.pid)
        wall_start = time.monotonic()
        silent = []
        for _ in range(150):
            s = socket.socket()
            s.settimeout(10)
            s.connect(("127.0.0.1", port))  # the kernel completes it from the backlog
            silent.append(s)
        # Some of them were accepted (until descriptors ran out), the rest must be answered 503
        # descriptor rather than hang: read an answer from the last one.
        status, head, _ = read_head(silent[-1], timeout=15)
        assert status == 503, f"a connection beyond the descriptor budget got {status}: {head}"
        # 3. Keep it there for a while (well inside the 10 s handshake timeout that frees the silent ones): new
        #    connections keep coming, and each must be answered 503 promptly, without the loop spinning.
        answered = 0
        while time.monotonic() - wall_start < 5:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                status, head, _ = read_head(s, timeout=10)
                assert status == 503, f"got {status} at the descriptor limit: {head}"
                answered += 1
            time.sleep(0.01)  # pacing: ~100 connections/s, so CPU time measures the loop, not our request rate
        wall = time.monotonic() - wall_start
        cpu = _cpu_seconds(server.pid) - cpu_start
        assert server.proc.poll() is None, "server died at the descriptor limit"
        failures = server.log_count("accept failed|descriptor budget")
        assert 1 <= failures <= 2 + int(wall / 10), f"{failures} log lines about the limit in {wall:.1f}s: silent or flooded"
        assert server.log_count("accept failed") == 0, "descriptors ran out: the budget should shed before that"
        assert cpu < 0.3 * wall + 0.5, f"the server used {cpu:.1f} CPU-seconds in {wall:.1f}s at the limit ({answered} answered): the accept loop spins"
        rss_peak = server.rss_mb()
        assert rss_peak < rss_before + 150, f"RSS {rss_before:.0f} -> {rss_peak:.0f} MB at the limit"

        for s in held + silent:
            s.close()
        wait_until(lambda: _echo_ok(port), "a new connection to be served after the clients left", timeout=30, poll=0.2)
        # Sockets come back exactly; other descriptors may grow a little as the runtime adds threads (their pipes).
        wait_until(lambda: server.tcp_count() <= baseline_sockets, f"sockets back to {baseline_sockets}", timeout=30)
        assert server.fd_count() <= baseline_fds + 32, f"descriptors {baseline_fds} -> {server.fd_count()}"
        assert_healthy(server)
        return (f"{len(held)} upgrades then 503 (limit {FD_LIMIT} fds); beyond the fds: {answered} more answered 503, "
                f"{failures} log line(s), {cpu:.1f} CPU-s in {wall:.1f}s, RSS {rss_before:.0f}->{rss_peak:.0f} MB; recovered")


def _echo_ok(port):
    try:
        echo_round_trip(port, timeout=5)
        return True
    except (AssertionError, OSError):
        return False


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@test
def a_second_server_on_a_port_in_use_fails_and_a_restart_rebinds_over_time_wait():
    port = _free_port()
    with Server("--no-deflate", port=port) as first:
        # Leave server-closed connections behind: the server closes TCP first (RFC 6455 §7.1.1), so they sit in
        # TIME_WAIT on its side of the port.
        for _ in range(3):
            echo_round_trip(port)
        second = Server("--no-deflate", port=port, wait_listening=False)
        rc = second.wait_exit(60)
        out = "\n".join(second.lines)
        assert rc != 0, f"the second server exited {rc}: {out}"
        assert "already in use" in out.lower(), f"no 'address already in use' message: {out}"
        assert second.log_count("listening") == 0, f"the second server claimed to listen: {out}"
        for _ in range(20):
            echo_round_trip(port)  # every connection still reaches the first server
        assert first.stop() == 0
    # A restart right away binds the same port although the old connections are in TIME_WAIT.
    with Server("--no-deflate", port=port) as restarted:
        assert_healthy(restarted)
    said = next(line for line in second.lines if "already in use" in line.lower())
    return f"second server: exit {rc}, '{said.strip()}'; restart on port {port} rebinds over TIME_WAIT"
