#!/usr/bin/python3
"""Python `websockets` (asyncio API, Debian's 10.4) as a SERVER for `sockeye connect` / `connect --echo`."""
import asyncio
import base64
import contextlib
import os

import websockets

from common import free_port, run_connect, run_tests, sockeye_command

MIB = 1024 * 1024


@contextlib.asynccontextmanager
async def ws_server(handler, **kwargs):
    """A websockets server on a free loopback port; yields its ws:// URL."""
    async def wrapped(ws, path=None):  # websockets 10.x passes (ws, path)
        try:
            await handler(ws, path)
        except websockets.ConnectionClosed:
            pass

    kwargs.setdefault("max_size", 16 * MIB)
    async with websockets.serve(wrapped, "127.0.0.1", 0, **kwargs) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}"


def explain(code, out, err):
    return f"exit={code}\n--- stdout ---\n{out}\n--- stderr ---\n{err}"


async def test_connect_sends_stdin_lines_as_text_and_closes_1000_at_eof():
    received = []
    close_codes = []

    async def record(ws, path):
        async for msg in ws:
            received.append(msg)
        close_codes.append(ws.close_code)

    async with ws_server(record) as url:
        lines = ["hello from python", "ünïcödé ✓ 🐟", "", "z" * 50000, "last"]
        code, out, err = await run_connect([url + "/echo"], ("\n".join(lines) + "\n").encode())
        assert code == 0, explain(code, out, err)
    assert received == lines, f"server received {[m[:40] for m in received]}"
    assert close_codes == [1000], f"server saw close codes {close_codes}"


async def test_connect_prints_echoes_interactively():
    # websockets answers a close frame before its handler has sent pending echoes, so stdin is
    # closed only after every echo has been printed, as a person typing would.
    async def echo(ws, path):
        async for msg in ws:
            await ws.send(msg)

    async with ws_server(echo) as url:
        proc = await asyncio.create_subprocess_exec(
            *(sockeye_command() + ["connect", "--no-wait", url]),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            limit=1024 * 1024)
        try:
            lines = ["one", "twö ✓", "", "x" * 70000]
            for line in lines:
                proc.stdin.write((line + "\n").encode())
                await proc.stdin.drain()
                got = await asyncio.wait_for(proc.stdout.readline(), 15)
                assert got.decode().rstrip("\r\n") == line, f"echo of {line[:20]!r} printed as {got[:40]!r}"
            proc.stdin.close()
            rest = await asyncio.wait_for(proc.stdout.read(), 15)
            code = await asyncio.wait_for(proc.wait(), 15)
            err = await proc.stderr.read()
            assert code == 0, explain(code, rest.decode(), err.decode())
            assert rest == b"", f"unexpected extra output {rest[:200]!r}"
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


async def test_server_close_while_stdin_open_prints_pushed_text_and_binary_and_exits_0():
    blobs = [os.urandom(n) for n in (1, 2, 3, 1000, 65536)]

    async def push(ws, path):
        await ws.send("start")
        for b in blobs:
            await ws.send(b)
        await ws.send("end")
        await ws.close(1000, "bye")

    async with ws_server(push) as url:
        code, out, err = await run_connect([url], keep_stdin_open=True)
        assert code == 0, explain(code, out, err)
        expected = ["start"] + ["bin:" + base64.b64encode(b).decode() for b in blobs] + ["end"]
        assert out.splitlines() == expected, explain(code, out, err)


async def test_connect_echo_mode_returns_identical_messages():
    sent = []
    for i in range(100):
        sent.append(f"text {i} ✓" if i % 2 == 0 else os.urandom(i * 101))
    sent += ["", b"", os.urandom(2 * MIB), "é" * 70000]
    got = []
    result = {}

    async def driver(ws, path):
        async def sender():
            for m in sent:
                await ws.send(m)

        async def receiver():
            for _ in sent:
                got.append(await ws.recv())

        await asyncio.gather(sender(), receiver())
        await ws.close(1000, "done")
        result["close_code"] = ws.close_code

    async with ws_server(driver) as url:
        code, out, err = await run_connect(["--echo", url], keep_stdin_open=True, timeout=60)
        assert code == 0, explain(code, out, err)
    assert len(got) == len(sent), f"{len(got)} of {len(sent)} echoes"
    for i, (a, b) in enumerate(zip(sent, got)):
        assert type(a) is type(b), f"message {i}: sent {type(a).__name__}, got {type(b).__name__}"
        assert a == b, f"message {i} differs"
    assert result.get("close_code") == 1000, f"close code {result.get('close_code')}"


async def test_connect_offers_subprotocols():
    seen = {}
    sent = asyncio.Event()

    async def handler(ws, path):
        seen["offered"] = ws.request_headers.get_all("Sec-WebSocket-Protocol")
        await ws.send(f"sub={ws.subprotocol}")
        sent.set()  # then stdin ends and the client closes
        await ws.wait_closed()

    async with ws_server(handler, subprotocols=["v2.sockeye"]) as url:
        code, out, err = await run_connect(["--subprotocol", "v1.sockeye", "--subprotocol", "v2.sockeye", url],
                                           end_stdin=sent)
        assert code == 0, explain(code, out, err)
        # The server only speaks v2, the client's second offer; the client must accept that choice.
        assert out.splitlines() == ["sub=v2.sockeye"], explain(code, out, err)
    offered = [p.strip() for h in seen["offered"] for p in h.split(",")]
    assert offered == ["v1.sockeye", "v2.sockeye"], offered


async def test_connect_to_closed_port_fails():
    port = free_port()
    code, out, err = await run_connect([f"ws://127.0.0.1:{port}/"], keep_stdin_open=True)
    assert code != 0, explain(code, out, err)
    assert err.strip(), "expected an error message on stderr"


if __name__ == "__main__":
    run_tests([v for k, v in list(globals().items()) if k.startswith("test_")],
              "sockeye connect -> python websockets server")
