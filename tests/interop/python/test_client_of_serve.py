#!/usr/bin/python3
"""Python `websockets` (asyncio API, Debian's 10.4) as a CLIENT of `sockeye serve`."""
import asyncio
import os

import websockets

from common import Serve, run_tests

MIB = 1024 * 1024


async def test_text_echo():
    async with Serve("--max-message", str(16 * MIB)) as srv:
        async with websockets.connect(srv.url + "/echo", max_size=16 * MIB) as ws:
            for text in ["hello", "", "héllo wörld ✓ 🐟 日本語", "y" * 200000]:
                await ws.send(text)
                got = await asyncio.wait_for(ws.recv(), 15)
                assert isinstance(got, str), f"expected text, got {type(got)}"
                assert got == text


async def test_binary_echo_sizes():
    async with Serve("--max-message", str(16 * MIB)) as srv:
        async with websockets.connect(srv.url, max_size=16 * MIB) as ws:
            for size in [0, 1, 125, 126, 65535, 65536, MIB, 4 * MIB]:
                payload = os.urandom(size)
                await ws.send(payload)
                got = await asyncio.wait_for(ws.recv(), 15)
                assert isinstance(got, bytes), f"size {size}: expected bytes, got {type(got)}"
                assert got == payload, f"size {size}: payload differs"


async def test_fragmented_message_is_reassembled():
    # websockets sends an iterable of strings/bytes as one fragmented message.
    async with Serve() as srv:
        async with websockets.connect(srv.url) as ws:
            await ws.send(["frag", "mented ", "✓" * 3, ""])
            assert await asyncio.wait_for(ws.recv(), 15) == "fragmented ✓✓✓"
            parts = [os.urandom(n) for n in (10, 0, 70000, 5)]
            await ws.send(parts)
            assert await asyncio.wait_for(ws.recv(), 15) == b"".join(parts)


async def test_many_messages_in_order():
    async with Serve() as srv:
        async with websockets.connect(srv.url) as ws:
            sent = [(f"msg {i}" if i % 2 else os.urandom(i % 200)) for i in range(2000)]

            async def sender():
                for m in sent:
                    await ws.send(m)

            async def receiver():
                return [await ws.recv() for _ in sent]

            _, got = await asyncio.wait_for(asyncio.gather(sender(), receiver()), 60)
            assert got == sent


async def test_ping_gets_matching_pong():
    async with Serve() as srv:
        async with websockets.connect(srv.url) as ws:
            for payload in [b"", b"hello ping", os.urandom(125)]:
                waiter = await ws.ping(payload)
                await asyncio.wait_for(waiter, 10)  # resolves only for a pong with this payload


async def test_close_1000_with_reason():
    async with Serve() as srv:
        ws = await websockets.connect(srv.url)
        await ws.send("x")
        await ws.recv()
        await asyncio.wait_for(ws.close(1000, "goodbye"), 10)
        assert ws.close_code == 1000, f"close code {ws.close_code}"


async def test_message_over_max_message_closes_with_1009():
    async with Serve("--max-message", "4096") as srv:
        async with websockets.connect(srv.url) as ws:
            await ws.send(b"a" * 4096)
            assert await ws.recv() == b"a" * 4096
            await ws.send(b"b" * 5000)
            try:
                await asyncio.wait_for(ws.recv(), 10)
                raise AssertionError("expected the server to close the connection")
            except websockets.ConnectionClosed as e:
                code = e.rcvd.code if e.rcvd else None
                assert code == 1009, f"close code {code}"


async def test_subprotocol_offer_connects():
    # The CLI contract does not say whether `sockeye serve` selects an offered subprotocol;
    # either answer is valid, but it must never select one that was not offered.
    async with Serve() as srv:
        async with websockets.connect(srv.url, subprotocols=["chat"]) as ws:
            assert ws.subprotocol in (None, "chat"), f"unexpected subprotocol {ws.subprotocol!r}"
            await ws.send("still works")
            assert await ws.recv() == "still works"


async def test_bad_version_rejected():
    async with Serve() as srv:
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
        writer.write((
            "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 12\r\n\r\n").encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        writer.close()
        status_line, *headers = head.decode("latin1").split("\r\n")
        assert status_line.split(" ")[1] == "426", status_line
        hdr = {h.split(":", 1)[0].strip().lower(): h.split(":", 1)[1].strip() for h in headers if ":" in h}
        assert "13" in hdr.get("sec-websocket-version", ""), hdr


if __name__ == "__main__":
    run_tests([v for k, v in list(globals().items()) if k.startswith("test_")],
              "python websockets client -> sockeye serve")
