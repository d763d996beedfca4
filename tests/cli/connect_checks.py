#!/usr/bin/python3
"""`sockeye connect` against Python `websockets` servers: what happens after stdin EOF, close reporting, timeouts.

Usage: connect_checks.py SOCKEYE_DLL. Prints one 'ok   NAME' or 'FAIL NAME (why)' line per check; exit 1 on failure.
Every wait is bounded; no check depends on a sleep being long enough.
"""
import asyncio
import hashlib
import os
import socket
import sys

import websockets

DLL = sys.argv[1]
failures = 0


def report(name, ok, why=""):
    global failures
    print(f"ok   {name}" if ok else f"FAIL {name} ({why})", flush=True)
    failures += 0 if ok else 1


async def serve(handler, **kwargs):
    async def wrapped(ws, path=None):
        try:
            await handler(ws)
        except websockets.ConnectionClosed:
            pass
    server = await websockets.serve(wrapped, "127.0.0.1", 0, max_size=None, **kwargs)
    return server, f"ws://127.0.0.1:{next(iter(server.sockets)).getsockname()[1]}/"


async def connect(*args, stdin=asyncio.subprocess.DEVNULL):
    return await asyncio.create_subprocess_exec(
        "dotnet", DLL, "connect", *args, stdin=stdin,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, limit=64 * 1024 * 1024)


async def finish(proc, timeout=60):
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode, out, err.decode(errors="replace")


async def large_message_after_eof():
    # The server starts sending 20 MB only after half a second, long after `</dev/null` ended stdin. Closing at
    # EOF (the old behaviour) let the server answer the close and drop it; the old 16 MiB limit refused it too.
    payload = os.urandom(10 * 1024 * 1024).hex()  # 20 MB of text
    async def handler(ws):
        await asyncio.sleep(0.5)
        await ws.send(payload)
        await ws.close(1000, "done")
    server, url = await serve(handler)
    try:
        code, out, err = await finish(await connect(url))
    finally:
        server.close()
    whole = hashlib.sha256(out).hexdigest() == hashlib.sha256(payload.encode() + b"\n").hexdigest()
    report("connect </dev/null: a 20 MB message sent after stdin EOF is printed whole, then the server's close",
           code == 0 and whole and "sockeye: closed: 1000 normal closure: done" in err,
           f"exit {code}, {len(out)} bytes of {len(payload) + 1}, stderr {err.strip()[:200]!r}")


async def quiet_time_closes_1000():
    # A server that never closes: with --quiet-time the client closes 1000 once nothing arrives after stdin EOF.
    seen = {}
    async def handler(ws):
        await ws.send("hello")
        try:
            await ws.recv()
        except websockets.ConnectionClosed as e:
            seen["code"] = e.code
    server, url = await serve(handler)
    try:
        proc = await connect("--quiet-time", "0.3", url, stdin=asyncio.subprocess.PIPE)
        first = await asyncio.wait_for(proc.stdout.readline(), 30)
        proc.stdin.close()  # EOF only after the server's message arrived
        code, rest, err = await finish(proc, 30)
    finally:
        server.close()
    report("--quiet-time: after stdin EOF and a quiet time the client closes 1000 and exits 0",
           first == b"hello\n" and rest == b"" and code == 0 and seen.get("code") == 1000,
           f"first {first!r}, exit {code}, server saw {seen}, stderr {err.strip()[:200]!r}")


async def server_close_code_is_reported():
    async def handler(ws):
        await ws.send("before")
        await ws.close(1008, "policy: nope")
    server, url = await serve(handler)
    try:
        proc = await connect(url, stdin=asyncio.subprocess.PIPE)  # stdin stays open: the server ends it
        code, out, err = await finish(proc, 30)
    finally:
        server.close()
    report("server closes 1008: stdout has its message, stderr 'sockeye: closed: 1008 policy violation: policy: nope', exit 1",
           code == 1 and out == b"before\n" and err.strip() == "sockeye: closed: 1008 policy violation: policy: nope",
           f"exit {code}, stdout {out[:100]!r}, stderr {err.strip()[:200]!r}")


async def abnormal_end_is_reported():
    async def handler(ws):
        ws.transport.abort()  # TCP ends without a close frame
    server, url = await serve(handler)
    try:
        proc = await connect(url, stdin=asyncio.subprocess.PIPE)
        code, out, err = await finish(proc, 30)
    finally:
        server.close()
    report("server drops TCP without a close frame: 'closed: 1006 abnormal closure', exit 1",
           code == 1 and "sockeye: closed: 1006 abnormal closure" in err, f"exit {code}, stderr {err.strip()[:200]!r}")


async def connect_timeouts():
    # A listener that accepts and never answers, and one whose accept queue is full (the kernel drops new SYNs).
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    full = socket.socket()
    full.bind(("127.0.0.1", 0))
    full.listen(0)
    held = []
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(full.getsockname())
        except BlockingIOError:
            pass
        held.append(c)
    cases = [
        ("TCP connect", f"ws://127.0.0.1:{full.getsockname()[1]}/", "TCP connect to 127.0.0.1:"),
        ("TLS handshake", f"wss://127.0.0.1:{silent.getsockname()[1]}/", "no TLS handshake answer (is the server serving TLS"),
        ("WebSocket handshake", f"ws://127.0.0.1:{silent.getsockname()[1]}/", "no answer to the upgrade request"),
    ]
    try:
        for step, url, expected in cases:
            code, out, err = await finish(await connect("--connect-timeout", "1", url), 30)
            lines = err.strip().splitlines()
            report(f"--connect-timeout 1: a {step} that gets no answer says so (one line, exit 1)",
                   code == 1 and len(lines) == 1 and expected in lines[0] and "timed out after 1 s" in lines[0],
                   f"exit {code}, stderr {err.strip()[:300]!r}")
    finally:
        for s in held + [silent, full]:
            s.close()


async def main():
    for check in (large_message_after_eof, quiet_time_closes_1000, server_close_code_is_reported,
                  abnormal_end_is_reported, connect_timeouts):
        try:
            await check()
        except Exception as e:  # a check that blew up is a failure, not a crash of the suite
            report(check.__name__, False, f"{type(e).__name__}: {e}")


asyncio.run(main())
sys.exit(1 if failures else 0)
