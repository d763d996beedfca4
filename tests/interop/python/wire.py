"""A watching TCP proxy for the Python interop tests (the counterpart of lib/wire.js).

Forwards bytes unchanged between a client and a target port and records, per connection and
direction, the HTTP head, the byte count and every WebSocket frame, grouped into messages
(type, compressed = RSV1 of the first frame, bytes on the wire, the payload). A chunk is parsed
before it is forwarded, so once a peer has received a message the proxy has recorded it.
"""
import asyncio
import zlib

OPCODES = {0: "cont", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}
TAIL = b"\x00\x00\xff\xff"


class Message:
    def __init__(self, opcode, compressed):
        self.type = OPCODES.get(opcode, f"op{opcode}")
        self.compressed = compressed
        self.frames = []  # (fin, rsv1, rsv2, rsv3, opcode, length)
        self.wire_length = 0
        self.payload = bytearray()

    def __repr__(self):
        return (f"<{self.type} {'compressed' if self.compressed else 'uncompressed'} "
                f"{len(self.frames)} frame(s) {self.wire_length} B>")


class Tap:
    """One direction of one connection."""

    def __init__(self, name):
        self.name = name
        self.bytes = 0
        self.head = None
        self.framing = False
        self.stopped = False
        self.messages = []
        self.controls = []  # (type, payload)
        self._head = b""
        self._early = b""
        self._buf = b""
        self._message = None

    def push(self, data):
        self.bytes += len(data)
        if self.stopped:
            return
        if self.head is None:
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                return
            self.head = self._head[:end].decode("latin-1")
            data = self._head[end + 4:]
            self._head = b""
        if not self.framing:
            self._early += data
            return
        self._frames(data)

    def start_framing(self):
        self.framing = True
        early, self._early = self._early, b""
        if early:
            self._frames(early)

    def headers(self):
        """Header name (lower case) -> list of values."""
        out = {}
        for line in (self.head or "").split("\r\n")[1:]:
            name, sep, value = line.partition(":")
            if sep:
                out.setdefault(name.strip().lower(), []).append(value.strip())
        return out

    def _frames(self, data):
        buf = self._buf + data
        off = 0
        while True:
            if len(buf) - off < 2:
                break
            b0, b1 = buf[off], buf[off + 1]
            length = b1 & 0x7F
            hdr = 2 + (2 if length == 126 else 8 if length == 127 else 0) + (4 if b1 & 0x80 else 0)
            if len(buf) - off < hdr:
                break
            if length == 126:
                length = int.from_bytes(buf[off + 2:off + 4], "big")
            elif length == 127:
                length = int.from_bytes(buf[off + 2:off + 10], "big")
            if len(buf) - off < hdr + length:
                break
            payload = buf[off + hdr:off + hdr + length]
            if b1 & 0x80:
                mask = buf[off + hdr - 4:off + hdr]
                payload = bytes(b ^ mask[i & 3] for i, b in enumerate(payload)) if length < 4096 else _unmask(payload, mask)
            off += hdr + length
            self._frame(b0, length, payload)
        self._buf = buf[off:]

    def _frame(self, b0, length, payload):
        fin, rsv1, rsv2, rsv3, opcode = bool(b0 & 0x80), bool(b0 & 0x40), bool(b0 & 0x20), bool(b0 & 0x10), b0 & 0x0F
        if opcode >= 8:
            self.controls.append((OPCODES.get(opcode, opcode), bytes(payload), rsv1))
            return
        if opcode != 0:
            assert self._message is None, f"{self.name}: new message inside a fragmented one"
            self._message = Message(opcode, rsv1)
        m = self._message
        assert m is not None, f"{self.name}: continuation without a message"
        m.frames.append((fin, rsv1, rsv2, rsv3, opcode, length))
        m.wire_length += length
        m.payload += payload
        if fin:
            m.payload = bytes(m.payload)
            self.messages.append(m)
            self._message = None


def _unmask(payload, mask):
    n = len(payload)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big")


class Connection:
    def __init__(self):
        self.up = Tap("client->server")
        self.down = Tap("server->client")
        self.upgraded = None


class Proxy:
    """`async with Proxy(target_port) as p:` -> p.url, p.connections."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.connections = []
        self.server = None
        self.tasks = set()
        self.writers = set()

    async def __aenter__(self):
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{self.port}"
        return self

    async def __aexit__(self, *exc):
        self.server.close()
        for w in list(self.writers):
            w.close()
        for t in list(self.tasks):
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.server.wait_closed()

    async def _accept(self, creader, cwriter):
        conn = Connection()
        self.connections.append(conn)
        sreader, swriter = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.writers.update((cwriter, swriter))

        async def pump(reader, writer, tap, is_down):
            try:
                while True:
                    data = await reader.read(65536)
                    if not data:
                        break
                    tap.push(data)
                    if is_down and conn.upgraded is None and tap.head is not None:
                        conn.upgraded = tap.head.startswith("HTTP/1.1 101")
                        if conn.upgraded:
                            conn.down.start_framing()
                            conn.up.start_framing()
                        else:
                            conn.up.stopped = conn.down.stopped = True
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                try:
                    writer.write_eof()
                except (OSError, RuntimeError):
                    writer.close()

        for args in ((creader, swriter, conn.up, False), (sreader, cwriter, conn.down, True)):
            t = asyncio.ensure_future(pump(*args))
            self.tasks.add(t)


def parse_extensions(value):
    """'a; x=1, b' -> [('a', {'x': '1'}), ('b', {})]; a valueless parameter maps to True."""
    out = []
    for ext in (value or "").split(","):
        parts = [p.strip() for p in ext.split(";")]
        if not parts[0]:
            continue
        params = {}
        for p in parts[1:]:
            if not p:
                continue
            k, sep, v = p.partition("=")
            assert k.strip() not in params, f"duplicate parameter {k} in {value!r}"
            params[k.strip()] = v.strip().strip('"') if sep else True
        out.append((parts[0], params))
    return out


def inflate_checked(decoder, data, window_bits):
    """Inflates one permessage-deflate message with `decoder` (a zlib.decompressobj(wbits=-window_bits)).

    Output is taken one byte per inflate() call, so zlib has to find every back-reference in its
    2^window_bits window: a sender that used a larger window fails with "invalid distance too far
    back" (with bigger output chunks zlib would silently serve it from its output buffer)."""
    out = bytearray()
    buf = data + TAIL
    while True:
        chunk = decoder.decompress(buf, 1)
        progressed = bool(chunk) or len(decoder.unconsumed_tail) != len(buf)
        out += chunk
        buf = decoder.unconsumed_tail
        if not progressed:
            break
    return bytes(out)


def check_sender(messages, sent, who, threshold, window_bits, no_context_takeover, strict_limit=70_000):
    """Checks messages written by a compressing peer: compressed iff >= threshold, compressible data
    small on the wire, every compressed message inflating to what was sent within the agreed window
    (checked byte by byte for messages up to strict_limit) and context rules."""
    assert len(messages) == len(sent), f"{who}: {len(messages)} messages on the wire, {len(sent)} sent"
    decoder = zlib.decompressobj(wbits=-window_bits)
    for i, (m, (label, kind, data)) in enumerate(zip(messages, sent)):
        raw = data.encode() if isinstance(data, str) else data
        assert m.type == ("text" if isinstance(data, str) else "binary"), f"{who}: message {i} ({label}) type {m.type}"
        assert all(not f[2] and not f[3] for f in m.frames), f"{who}: message {i} has RSV2/RSV3"
        assert all(not f[1] for f in m.frames[1:]), f"{who}: message {i}: RSV1 on a continuation frame"
        assert m.compressed == (len(raw) >= threshold), \
            f"{who}: message {i} ({label}, {len(raw)} B, threshold {threshold}) is {m!r}"
        if kind == "compressible" and len(raw) >= 1000:
            assert m.wire_length < len(raw) / 5, f"{who}: compressible message {i} ({label}) took {m.wire_length} B"
        if not m.compressed:
            assert m.payload == raw, f"{who}: uncompressed message {i} ({label}) differs"
            continue
        if no_context_takeover:
            decoder = zlib.decompressobj(wbits=-window_bits)
        try:
            if len(raw) <= strict_limit:
                got = inflate_checked(decoder, m.payload, window_bits)
            else:
                got = decoder.decompress(m.payload + TAIL)
        except zlib.error as e:
            raise AssertionError(f"{who}: message {i} ({label}) does not inflate within a 2^{window_bits} window"
                                 f"{'' if not no_context_takeover else ' without context'}: {e}") from None
        assert got == raw, f"{who}: message {i} ({label}) inflates to {len(got)} B that differ from the {len(raw)} B sent"
