#!/usr/bin/python3
"""permessage-deflate (RFC 7692) between Sockeye and Python `websockets` 10.4 (Debian), both roles.

Every connection runs through a watching proxy (wire.py): the tests check the negotiated
Sec-WebSocket-Extensions, byte-exact echoes, which messages went compressed (RSV1) in each
direction and how small they were on the wire, and - inflating Sockeye's output one byte per zlib
call - that Sockeye kept to the agreed window and context-takeover rules.
"""
import asyncio
import contextlib
import os

import websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory, ServerPerMessageDeflateFactory

from common import Serve, run_connect, run_tests
from wire import Proxy, check_sender, parse_extensions

MIB = 1024 * 1024
SIZES = [0, 1, 31, 32, 100, 1000, 64 * 1024, MIB]
SENTENCE = "Pack my box with five dozen liquor jugs — ünïcödé ✓ 🐟. "


def compressible_text(n):
    s = (SENTENCE * (n // len(SENTENCE.encode()) + 2)).encode()[:n].decode("utf-8", "ignore")
    return s + "x" * (n - len(s.encode()))


def random_text(n):
    chars = []
    size = 0
    for b in os.urandom(n):
        ch = chr(0x20 + b % 0x5F) if b < 160 else chr(0x400 + b) if b < 230 else chr(0x4E00 + b * 37)
        w = len(ch.encode())
        if size + w > n:
            break
        chars.append(ch)
        size += w
    return "".join(chars) + "x" * (n - size)


def compressible_bytes(n):
    return bytes((i & 31) * 9 if (i & 31) < 28 else (i >> 5) & 0xFF for i in range(n))


def message_set(sizes=SIZES):
    """[(label, kind, data)] - data is str for text messages, bytes for binary ones."""
    out = []
    for n in sizes:
        out += [(f"text/compressible/{n}", "compressible", compressible_text(n)),
                (f"text/random/{n}", "random", random_text(n)),
                (f"binary/compressible/{n}", "compressible", compressible_bytes(n)),
                (f"binary/random/{n}", "random", os.urandom(n))]
    # Redundant only at distance 6000: shows whether a compressor kept to a window of 2^12 or less.
    out.append(("binary/long-range/18000", "long-range", os.urandom(6000) * 3))
    for label, _, data in out:
        size = len(data.encode() if isinstance(data, str) else data)
        assert size == int(label.rsplit("/", 1)[1]), f"generator: {label} is {size} bytes"
    return out


def extension_params(value):
    exts = parse_extensions(value)
    assert len(exts) == 1 and exts[0][0] == "permessage-deflate", f"expected one permessage-deflate, got {value!r}"
    return exts[0][1]


async def echo_all(ws, sent):
    async def sender():
        for _, _, m in sent:
            await ws.send(m)

    async def receiver():
        return [await ws.recv() for _ in sent]

    _, got = await asyncio.wait_for(asyncio.gather(sender(), receiver()), 60)
    for i, ((label, _, m), g) in enumerate(zip(sent, got)):
        assert type(g) is type(m), f"echo {i} ({label}): sent {type(m).__name__}, got {type(g).__name__}"
        assert g == m, f"echo {i} ({label}) differs"


# ---------------------------------------------------------------------------------------------
# websockets as the client of `sockeye serve`

async def client_round(srv, expected_params, sent=None, **connect_kwargs):
    """Connects through a proxy, checks the answer, echoes `sent`, checks both directions."""
    sent = sent if sent is not None else message_set()
    async with Proxy(srv.port) as proxy:
        async with websockets.connect(proxy.url, max_size=8 * MIB, **connect_kwargs) as ws:
            answer = ws.response_headers.get("Sec-WebSocket-Extensions")
            assert answer is not None, "sockeye did not negotiate permessage-deflate"
            params = extension_params(answer)
            assert params == expected_params, f"sockeye answered {answer!r}, expected params {expected_params}"
            await echo_all(ws, sent)
        conn = proxy.connections[0]
        # websockets compresses every message; sockeye compresses those of 32 bytes or more.
        check_sender(conn.up.messages, sent, "websockets -> sockeye", 0, 15, False, strict_limit=0)
        check_sender(conn.down.messages, sent, "sockeye -> websockets", 32,
                     int(params.get("server_max_window_bits", 15)), "server_no_context_takeover" in params)
        return conn, params


async def test_default_client_negotiates_and_echoes_all_sizes_compressed_both_ways():
    async with Serve("--max-message", str(4 * MIB)) as srv:
        conn, _ = await client_round(srv, {})
        offered = conn.up.headers()["sec-websocket-extensions"]
        assert offered == ["permessage-deflate; client_max_window_bits"], offered


async def test_client_asking_no_context_takeover_and_small_server_window():
    ext = ClientPerMessageDeflateFactory(server_no_context_takeover=True, client_no_context_takeover=True,
                                         server_max_window_bits=10, client_max_window_bits=True)
    async with Serve("--max-message", str(4 * MIB)) as srv:
        await client_round(srv, {"server_no_context_takeover": True, "client_no_context_takeover": True,
                                 "server_max_window_bits": "10"}, extensions=[ext], compression=None)


async def test_client_asking_server_max_window_bits_8():
    ext = ClientPerMessageDeflateFactory(server_max_window_bits=8, client_max_window_bits=True)
    async with Serve("--max-message", str(4 * MIB)) as srv:
        await client_round(srv, {"server_max_window_bits": "8"}, sent=message_set([0, 31, 32, 1000, 64 * 1024]),
                           extensions=[ext], compression=None)


async def test_client_with_client_max_window_bits_9_and_server_asking_10():
    # The client offers 9; sockeye is configured to ask 10 and must stay at or below the offer.
    ext = ClientPerMessageDeflateFactory(client_max_window_bits=9)
    async with Serve("--deflate-client-window-bits", "10") as srv:
        await client_round(srv, {"client_max_window_bits": "9"}, sent=message_set([0, 100, 64 * 1024]),
                           extensions=[ext], compression=None)


async def test_server_window_and_no_context_flags():
    async with Serve("--deflate-window-bits", "11", "--deflate-no-context-takeover", "--deflate-client-window-bits", "12") as srv:
        await client_round(srv, {"server_no_context_takeover": True, "server_max_window_bits": "11",
                                 "client_max_window_bits": "12"}, sent=message_set([0, 32, 1000, 64 * 1024]))


async def test_fragmented_compressed_message_is_reassembled():
    async with Serve() as srv:
        async with Proxy(srv.port) as proxy:
            async with websockets.connect(proxy.url) as ws:
                parts = [compressible_text(5000), "", random_text(70000), "end"]
                await ws.send(parts)
                assert await asyncio.wait_for(ws.recv(), 15) == "".join(parts)
            m = proxy.connections[0].up.messages[0]
            assert m.compressed and len(m.frames) >= len(parts), m  # websockets ends with an empty final frame


async def test_client_without_compression_negotiates_nothing():
    async with Serve() as srv:
        async with Proxy(srv.port) as proxy:
            async with websockets.connect(proxy.url, compression=None) as ws:
                assert "Sec-WebSocket-Extensions" not in ws.response_headers, dict(ws.response_headers)
                sent = message_set([0, 100, 64 * 1024])
                await echo_all(ws, sent)
            conn = proxy.connections[0]
            assert "sec-websocket-extensions" not in conn.up.headers()
            for tap in (conn.up, conn.down):
                assert len(tap.messages) == len(sent)
                assert not any(m.compressed for m in tap.messages), f"{tap.name}: RSV1 without negotiation"


async def test_no_deflate_server_declines_the_default_offer():
    async with Serve("--no-deflate") as srv:
        async with websockets.connect(srv.url) as ws:
            assert "Sec-WebSocket-Extensions" not in ws.response_headers, dict(ws.response_headers)
            await ws.send(compressible_text(10000))
            assert await asyncio.wait_for(ws.recv(), 15) == compressible_text(10000)


async def test_compressed_bomb_from_websockets_closes_1009_and_server_stays_up():
    async with Serve("--max-message", str(MIB)) as srv:
        async with Proxy(srv.port) as proxy:
            async with websockets.connect(proxy.url) as ws:
                await ws.send(b"\0" * (8 * MIB))
                try:
                    await asyncio.wait_for(ws.recv(), 15)
                    raise AssertionError("expected the server to close the connection")
                except websockets.ConnectionClosed as e:
                    code = e.rcvd.code if e.rcvd else None
                    assert code == 1009, f"close code {code}"
            wire = proxy.connections[0].up.messages[0].wire_length
            assert wire < 64 * 1024, f"the 8 MiB message took {wire} B on the wire"
        async with websockets.connect(srv.url) as ws:
            await ws.send("still there?")
            assert await asyncio.wait_for(ws.recv(), 15) == "still there?"


# ---------------------------------------------------------------------------------------------
# websockets as the server for `sockeye connect --deflate --echo`

@contextlib.asynccontextmanager
async def pushing_server(sent, **serve_kwargs):
    """A websockets server that sends `sent`, collects the echoes and closes with 1000."""
    result = {}

    async def handler(ws, path=None):
        result["request_extensions"] = ws.request_headers.get_all("Sec-WebSocket-Extensions")
        result["response_extensions"] = ws.response_headers.get("Sec-WebSocket-Extensions")

        async def sender():
            for _, _, m in sent:
                await ws.send(m)

        async def receiver():
            return [await ws.recv() for _ in sent]

        _, result["got"] = await asyncio.gather(sender(), receiver())
        await ws.close(1000, "done")

    serve_kwargs.setdefault("max_size", 16 * MIB)
    async with websockets.serve(handler, "127.0.0.1", 0, **serve_kwargs) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        async with Proxy(port) as proxy:
            yield proxy, result


def explain(code, out, err):
    return f"exit={code}\n--- stdout ---\n{out[:2000]}\n--- stderr ---\n{err[:2000]}"


async def connect_round(args, expected_params, sent=None, **serve_kwargs):
    sent = sent if sent is not None else message_set()
    async with pushing_server(sent, **serve_kwargs) as (proxy, result):
        code, out, err = await run_connect(list(args) + ["--echo", proxy.url + "/"], keep_stdin_open=True, timeout=90)
        assert code == 0, explain(code, out, err)
        got = result.get("got")
        assert got is not None and len(got) == len(sent), f"{0 if got is None else len(got)} of {len(sent)} echoes"
        for i, ((label, _, m), g) in enumerate(zip(sent, got)):
            assert type(g) is type(m) and g == m, f"echo {i} ({label}) differs"
        lines = [l[len("sockeye: extensions: "):] for l in err.splitlines() if l.startswith("sockeye: extensions: ")]
        answer = result["response_extensions"]
        conn = proxy.connections[0]
        if expected_params is None:
            assert answer is None, f"websockets answered {answer!r}"
            assert lines == ["none"], explain(code, out, err)
            for tap in (conn.up, conn.down):
                assert not any(m.compressed for m in tap.messages), f"{tap.name}: RSV1 without negotiation"
            return result, None
        params = extension_params(answer)
        assert params == expected_params, f"websockets answered {answer!r}, expected {expected_params}"
        assert len(lines) == 1 and extension_params(lines[0]) == params, \
            f"stderr extensions line {lines} vs answer {answer!r}"
        check_sender(conn.down.messages, sent, "websockets -> sockeye", 0, 15, False, strict_limit=0)
        check_sender(conn.up.messages, sent, "sockeye -> websockets", 32,
                     int(params.get("client_max_window_bits", 15)), "client_no_context_takeover" in params)
        return result, params


async def test_connect_deflate_with_default_websockets_server():
    # websockets' default server asks for 12-bit windows both ways.
    result, _ = await connect_round(["--deflate"], {"server_max_window_bits": "12", "client_max_window_bits": "12"})
    assert result["request_extensions"] == ["permessage-deflate; client_max_window_bits"], result["request_extensions"]


async def test_connect_deflate_offer_with_no_context_takeover_server():
    ext = ServerPerMessageDeflateFactory(server_no_context_takeover=True, client_no_context_takeover=True,
                                         server_max_window_bits=9, client_max_window_bits=10)
    await connect_round(["--deflate"], {"server_no_context_takeover": True, "client_no_context_takeover": True,
                                        "server_max_window_bits": "9", "client_max_window_bits": "10"},
                        extensions=[ext], compression=None)


async def test_connect_deflate_offer_variants():
    # A websockets server without window wishes of its own accepts what the client offered.
    for offer, expected in [
        ("client_no_context_takeover", {"client_no_context_takeover": True}),
        ("server_max_window_bits=10", {"server_max_window_bits": "10"}),
        ("server_no_context_takeover; client_max_window_bits=11",
         {"server_no_context_takeover": True, "client_max_window_bits": "11"}),
    ]:
        sent = message_set([0, 31, 32, 1000, 64 * 1024])
        async with pushing_server(sent, extensions=[ServerPerMessageDeflateFactory()], compression=None) as (proxy, res):
            code, out, err = await run_connect(["--deflate-offer", offer, "--echo", proxy.url + "/"],
                                               keep_stdin_open=True, timeout=60)
            assert code == 0, explain(code, out, err)
            assert res.get("got") == [m for _, _, m in sent], f"--deflate-offer {offer!r}: echoes differ"
            offered = extension_params(res["request_extensions"][0])
            for k, v in expected.items():
                assert offered.get(k) == v, f"--deflate-offer {offer!r} sent {res['request_extensions']}"
            params = extension_params(res["response_extensions"])
            for k, v in expected.items():
                assert params.get(k) == v, f"--deflate-offer {offer!r}: websockets answered {res['response_extensions']!r}"
            conn = proxy.connections[0]
            check_sender(conn.down.messages, sent, f"websockets -> sockeye ({offer})", 0, 15, False, strict_limit=0)
            check_sender(conn.up.messages, sent, f"sockeye ({offer}) -> websockets", 32,
                         int(params.get("client_max_window_bits", 15)), "client_no_context_takeover" in params)


async def test_connect_deflate_against_server_without_compression():
    await connect_round(["--deflate"], None, sent=message_set([0, 100, 64 * 1024]), compression=None)


if __name__ == "__main__":
    run_tests([v for k, v in list(globals().items()) if k.startswith("test_")],
              "permessage-deflate: python websockets <-> sockeye")
