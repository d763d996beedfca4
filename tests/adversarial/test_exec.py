"""`sockeye serve --exec/--dir/--exec-shared` under attack (reliability review items 5, 7 and 8): forged
--tag-connections lines, programs that leave background children behind, and CGI variables a client controls."""
import asyncio
import os
import re
import signal
import socket
import tempfile
import time
import uuid

import websockets

from harness import FrameReader, Server, assert_healthy, close_code, frame, handshake_request, read_head, wait_until
from suite import test

PY = "/usr/bin/python3"
PROGRAMS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "exec", "programs")
BRIDGE_THREAD = re.compile(r"^(#\d+ |\[)")  # "#12 out", "[/room] in" (names are cut at 15 characters)


def _bridge_threads(pid):
    """Names of the server's threads that serve a program (named "#ID out", "#ID err", ... by the bridge)."""
    names = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
        except OSError:
            continue
        if BRIDGE_THREAD.match(name):
            names.append(name)
    return names


def _pipe_count(pid):
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            n += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("pipe:")
        except OSError:
            pass
    return n


def _marked(marker):
    """Live processes whose environment holds `marker` (background children inherit it)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read()
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in env and state != "Z":
            found.append(int(pid))
    return found


def _zombie_children(pid):
    zombies = []
    for p in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == pid:
            zombies.append(int(p))
    return zombies


def _kill_marked(marker):
    """Cleanup for a failed run: the orphans the old code left would live 300 s."""
    for pid in _marked(marker):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


async def _recv(ws, timeout=15):
    return await asyncio.wait_for(ws.recv(), timeout)


@test
async def tagged_stdin_lines_cannot_be_forged_with_line_breaks():
    """--tag-connections: a client sprays lines that look like other connections' (LF, CRLF, lone CR, after a long
    line); no reply meant for another connection may result."""
    with Server("--exec-shared", f"{PY} {PROGRAMS}/shared_repl.py", "--tag-connections") as server:
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/", max_size=None) as victim:
            await victim.send("v0")
            assert {await _recv(victim), await _recv(victim)} == {"all: v0", "you: v0"}
            async with websockets.connect(f"ws://127.0.0.1:{server.port}/", max_size=None) as attacker:
                breaks = ["\n", "\r\n", "\r"]
                spray = "hi" + "".join(f"{breaks[i % 3]}{i}\tFORGED" for i in range(64))
                await attacker.send(spray)
                await attacker.send("y" * 200_000 + "\n1\tFORGED\r2\tFORGED")
                await attacker.send("done")
                mine = []
                while (text := await _recv(attacker)) != "you: done":
                    mine.append(text)
                await victim.send("sync")
                seen = []
                while (text := await _recv(victim)) != "you: sync":
                    seen.append(text)
    forged = [t for t in seen if t.startswith("you:")]
    assert not forged, f"the victim got replies meant for the attacker: {forged[:3]}"
    private = [t for t in mine if t.startswith("you:")]
    assert len(private) == 65 + 3, f"the attacker's lines: {len(private)} private replies, expected 68 (one per line)"
    assert all(t.startswith("you: ") for t in private) and "you: 1\tFORGED" in private
    return "64 forged ids (LF, CRLF, CR) and a 200 KB line: every line tagged with the sender, nothing reached the victim"


@test
async def background_children_are_stopped_and_threads_and_pipes_come_back():
    """`sh -c 'sleep 300 & cat'`: clients connect and leave; each program's process group is gone, the bridge
    threads and pipes are released, no zombies. And a program that exits while its background child holds stdout
    is closed promptly."""
    marker = uuid.uuid4().hex
    with Server("--close-grace", "2", "--exec", "sh -c 'sleep 300 & cat'") as server:
        try:
            url = f"ws://127.0.0.1:{server.port}/?{marker}"
            # Warm-up: one full cycle, so the baseline includes what the runtime keeps after a first connection.
            async with websockets.connect(url) as ws:
                await ws.send("w")
                assert await _recv(ws) == "w"
            wait_until(lambda: not _marked(marker) and not _bridge_threads(server.pid), "the warm-up's group and threads")
            pipes = _pipe_count(server.pid)

            clients = []
            for i in range(6):
                ws = await websockets.connect(url)
                await ws.send(f"c{i}")
                assert await _recv(ws) == f"c{i}"
                clients.append(ws)
            assert len(_marked(marker)) >= 12, "expected a sh and a sleep per connection"
            slowest = 0.0
            for ws in clients:
                began = time.monotonic()
                await asyncio.wait_for(ws.close(), 15)
                slowest = max(slowest, time.monotonic() - began)
            assert slowest < 1.5, f"a close took {slowest:.2f} s"
            wait_until(lambda: not _marked(marker), "every program's process group (the background sleeps) to be gone")
            wait_until(lambda: not _bridge_threads(server.pid), "the bridge threads to end")
            left = _bridge_threads(server.pid)
            wait_until(lambda: _pipe_count(server.pid) <= pipes, f"pipes back to {pipes}")
            assert not _zombie_children(server.pid), f"zombies: {_zombie_children(server.pid)}"
            assert_healthy(server)  # cat echoes the round trip
        finally:
            _kill_marked(marker)
    # The program exits first while its background child holds stdout: the close must not wait for the child.
    marker = uuid.uuid4().hex
    with Server("--close-grace", "5", "--exec", "sh -c 'sleep 300 & echo started'") as server:
        try:
            async with websockets.connect(f"ws://127.0.0.1:{server.port}/?{marker}") as ws:
                assert await _recv(ws) == "started"
                began = time.monotonic()
                try:
                    await _recv(ws)
                except websockets.ConnectionClosed:
                    pass
                took = time.monotonic() - began
            assert ws.close_code == 1000 and took < 4, f"close {ws.close_code} after {took:.2f} s (grace 5 s)"
            wait_until(lambda: not _marked(marker), "the background sleep to be stopped")
            server.wait_log(r"pid \d+ exited; 1 process\(es\) left in its group; sending SIGTERM")
        finally:
            _kill_marked(marker)
    return (f"6 programs with `sleep 300 &`: groups gone, bridge threads {left}, pipes back to {pipes}, no zombies, "
            f"closes <= {slowest:.2f} s; exit with a child holding stdout closed in {took:.2f} s")


@test
async def server_sigterm_leaves_no_orphans_even_from_sigterm_ignoring_groups():
    marker = uuid.uuid4().hex
    try:
        with tempfile.TemporaryDirectory() as d:
            script = os.path.join(d, "bg")
            with open(script, "w") as f:
                f.write("#!/bin/sh\ntrap '' TERM\nsleep 300 &\nexec cat\n")  # the sleep ignores SIGTERM too
            os.chmod(script, 0o755)
            for args, path in [(["--exec", script], f"/?{marker}"), (["--dir", d], f"/bg?{marker}"),
                               (["--exec-shared", script], f"/{marker}")]:
                server = Server("--close-grace", "0.5", *args)
                try:
                    async with websockets.connect(f"ws://127.0.0.1:{server.port}{path}") as ws:
                        await ws.send("up")
                        assert await _recv(ws) == "up"
                        assert _marked(marker), f"{args[0]}: the program did not start"
                        server.proc.send_signal(signal.SIGTERM)
                        try:
                            await _recv(ws)
                        except websockets.ConnectionClosed:
                            pass
                    code = await asyncio.to_thread(server.wait_exit, 30)
                    assert code == 0, f"{args[0]}: server exit {code}"
                    assert not _marked(marker), f"{args[0]}: {_marked(marker)} outlived the server"
                finally:
                    server.stop()
    finally:
        _kill_marked(marker)
    return "--exec, --dir, --exec-shared: a group ignoring SIGTERM is SIGKILLed; nothing outlives the server"


def _env_of(port, extra, path="/"):
    """Upgrades with raw header bytes to `--exec env` and returns the program's environment lines (as bytes)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=15)
    try:
        head = handshake_request(port, path).replace(b"\r\n\r\n", b"\r\n" + b"".join(h + b"\r\n" for h in extra) + b"\r\n")
        sock.sendall(head)
        status, text, rest = read_head(sock)
        assert status == 101, text
        reader = FrameReader(sock, rest)
        lines = []
        while True:
            op, payload = reader.read_message()
            if op == 8:
                assert close_code(payload) == 1000, close_code(payload)
                return lines
            lines.append(payload)
    finally:
        sock.close()


@test
def cgi_headers_cannot_spoof_variables_or_set_http_proxy():
    with Server("--exec", "env") as server:
        for order in [(b"X-Forwarded-For: 10.0.0.1", b"X_Forwarded_For: 6.6.6.6"),
                      (b"X_Forwarded_For: 6.6.6.6", b"X-Forwarded-For: 10.0.0.1")]:
            env = _env_of(server.port, [*order, b"Proxy: http://attacker:8080", b"X.Real.Ip: 6.6.6.6",
                                        b"X-Utf8: caf\xc3\xa9 \xe2\x9c\x93", b"X-Latin1: caf\xe9"])
            assert b"HTTP_X_FORWARDED_FOR=10.0.0.1" in env, f"spoofed: {[e for e in env if b'FORWARDED' in e]}"
            assert not any(e.startswith(b"HTTP_PROXY=") for e in env), "httpoxy: HTTP_PROXY was set"
            assert not any(e.startswith(b"HTTP_X_REAL_IP=") for e in env), "a dotted header name was passed"
            assert b"HTTP_X_UTF8=caf\xc3\xa9 \xe2\x9c\x93" in env, [e for e in env if e.startswith(b"HTTP_X_UTF8")]
            assert b"HTTP_X_LATIN1=caf\xc3\xa9" in env, [e for e in env if e.startswith(b"HTTP_X_LATIN1")]
        assert server.proc.poll() is None, "the server died"
    return "X_Forwarded_For / X.Real.Ip dropped (either order), no HTTP_PROXY, UTF-8 as sent, Latin-1 as its UTF-8"


@test
def control_characters_in_the_path_never_reach_a_program():
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "p"), "w") as f:
            f.write("#!/bin/sh\nexec cat\n")
        os.chmod(os.path.join(d, "p"), 0o755)
        for args, prefix in [(["--exec", "cat"], "/x"), (["--dir", d], "/p"), (["--exec-shared", "cat"], "/x")]:
            with Server(*args) as server:
                mark = server.log_mark()
                paths = [f"{prefix}%0aPATH_INFO=/evil", f"{prefix}%00.txt", f"{prefix}%0d%0a", f"{prefix}%1b[2J",
                         f"{prefix}%7f", f"{prefix}%c2%85"]
                for path in paths:
                    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
                        sock.sendall(handshake_request(server.port, path))
                        status, head, _ = read_head(sock)
                        assert status == 400, f"{args[0]} {path}: {status}"
                server.wait_log(rf"refused {re.escape(paths[-1])} with 400", start=mark)
                refused = server.log_count(r"refused .* with 400: control character in the path")
                assert refused == len(paths), f"{args[0]}: {refused} log lines for {len(paths)} refusals"
                assert server.log_count(r"started pid") == 0, f"{args[0]}: a program was started"
                if args[0] == "--exec":
                    assert_healthy(server)
    return "%0a %00 %0d %1b %7f %c2%85 -> 400 with one log line each, for --exec, --dir, --exec-shared; no program ran"
