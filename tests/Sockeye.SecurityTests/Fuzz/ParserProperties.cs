using System.Buffers;
using System.Text;
using CsCheck;
using Xunit.Abstractions;

namespace Sockeye.SecurityTests.Fuzz;

/// <summary>
/// Property-based fuzzing of the no-I/O protocol core: (a) arbitrary bytes never make a parser throw or return an
/// undocumented result; (b) "trickle": splitting an input into segments, or feeding it as growing prefixes the way
/// bytes arrive from a socket, gives the same answer as the whole input.
/// </summary>
public sealed class ParserProperties(ITestOutputHelper output)
{
    // ---- generators -------------------------------------------------------------------------------------------

    /// <summary>A frame header shaped input: plausible first two bytes, any length encoding, then random bytes.</summary>
    internal static readonly Gen<byte[]> HeaderBytes = Gen.Frequency(
        (1, Gen.Byte.Array[0, 20]),
        (3, Gen.Select(Gen.Byte, Gen.OneOfConst<byte>(0, 1, 125, 126, 127), Gen.Bool, Gen.Byte.Array[0, 16],
            (b0, len, mask, rest) => (byte[])[b0, (byte)(len | (mask ? 0x80 : 0)), .. rest])),
        // 64-bit lengths around the top bit and the 2^63 boundary.
        (1, Gen.Select(Gen.Byte, Gen.Bool, Gen.OneOfConst(0x8000_0000_0000_0000UL, 0x7FFF_FFFF_FFFF_FFFFUL, ulong.MaxValue, 0UL, 1UL << 40), Gen.Byte.Array[0, 6],
            (b0, mask, len, rest) =>
            {
                var bytes = new List<byte> { b0, (byte)(127 | (mask ? 0x80 : 0)) };
                for (int shift = 56; shift >= 0; shift -= 8)
                {
                    bytes.Add((byte)(len >> shift));
                }

                bytes.AddRange(rest);
                return bytes.ToArray();
            })));

    /// <summary>Cut points for splitting an input of up to <paramref name="max"/> bytes.</summary>
    internal static Gen<int[]> Cuts(int max) => Gen.Int[0, max].Array[0, 6];

    private static readonly string[] HttpPieces =
    [
        "GET", "POST", "HEAD", " ", "  ", "/", "/chat?x=1", "*", "http://h/", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.", "\r\n", "\r\n\r\n",
        "\n", "\r", "\0", "\t", ":", ": ", ",", ", ", ",,,", "Host", "127.0.0.1:80", "Upgrade", "websocket", "WebSocket", "Connection",
        "keep-alive", "Upgrade, keep-alive", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version", "13", "8",
        "Sec-WebSocket-Protocol", "chat, superchat", "Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits",
        "Origin", "http://evil.example", "Content-Length", "5", "0", "Transfer-Encoding", "chunked", "X-\u00ff\u00fe", "\u007f",
        "HTTP/1.1 101 Switching Protocols", "HTTP/1.1 200 OK", "HTTP/1.1 1x1 Bad", "Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        "(),/;<=>?@[]{}\"",
    ];

    /// <summary>HTTP-ish heads: concatenations of meaningful pieces, valid requests with random byte edits, or noise.</summary>
    internal static readonly Gen<byte[]> HttpBytes = Gen.Frequency(
        (4, Gen.Int[0, HttpPieces.Length - 1].Array[0, 60].Select(ix => Encoding.Latin1.GetBytes(string.Concat(ix.Select(i => HttpPieces[i]))))),
        (4, Gen.Select(Gen.Bool, Gen.Select(Gen.Int[0, 400], Gen.Byte, Gen.Int[0, 2]).Array[0, 4], Gen.Byte.Array[0, 40], (response, edits, tail) =>
        {
            var bytes = Encoding.Latin1.GetBytes(response
                ? "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
                : "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, , superchat\r\n\r\n").ToList();
            foreach ((int at, byte value, int kind) in edits)
            {
                int i = at % (bytes.Count + 1);
                switch (kind)
                {
                    case 0 when i < bytes.Count: bytes[i] = value; break;
                    case 1: bytes.Insert(i, value); break;
                    case 2 when i < bytes.Count: bytes.RemoveAt(i); break;
                }
            }

            bytes.AddRange(tail); // pipelined bytes after the head (frames, a second request, garbage)
            return bytes.ToArray();
        })),
        (1, Gen.Byte.Array[0, 200]));

    /// <summary>Small limits so the 431 paths (size and field count, complete or not) are hit often.</summary>
    internal static readonly Gen<(int MaxBytes, int MaxFields)> Limits = Gen.Frequency(
        (1, Gen.Const((16 * 1024, 100))),
        (3, Gen.Select(Gen.Int[4, 300], Gen.Int[0, 8])));

    // ---- frame header -----------------------------------------------------------------------------------------

    [Fact]
    public void FrameHeader_never_throws_and_returns_only_documented_results() =>
        FuzzRun.Run(output, "FrameHeader.TryRead/arbitrary", HeaderBytes, bytes =>
        {
            OperationStatus status = FrameHeader.TryRead(bytes, out FrameHeader header, out ProtocolError error);
            int expectedSize = bytes.Length < 2 ? -1 : 2 + ((bytes[1] & 0x7F) switch { 126 => 2, 127 => 8, _ => 0 }) + ((bytes[1] & 0x80) != 0 ? 4 : 0);
            switch (status)
            {
                case OperationStatus.NeedMoreData:
                    Assert.True(bytes.Length < 2 || bytes.Length < expectedSize);
                    break;
                case OperationStatus.InvalidData:
                    // The only header-level error: a 64-bit length with the top bit set (§5.2), a protocol error.
                    Assert.Equal(CloseCode.ProtocolError, error.CloseCode);
                    Assert.Equal(127, bytes[1] & 0x7F);
                    Assert.True((bytes[2] & 0x80) != 0);
                    break;
                case OperationStatus.Done:
                    Assert.False(error.IsError);
                    Assert.Equal(expectedSize, header.Size);
                    Assert.InRange(header.Size, 2, FrameHeader.MaxSize);
                    Assert.InRange(header.PayloadLength, 0, long.MaxValue);
                    Assert.Equal((bytes[0] & 0x80) != 0, header.Fin);
                    Assert.Equal((Opcode)(bytes[0] & 0x0F), header.Opcode);
                    Assert.Equal((bytes[0] >> 4) & 7, header.Rsv);
                    break;
                default:
                    Assert.Fail($"undocumented status {status}");
                    break;
            }
        }, iter: 20_000, print: FuzzRun.Hex);

    [Fact]
    public void FrameHeader_trickle_growing_prefixes_and_segments_match_the_whole_input() =>
        FuzzRun.Run(output, "FrameHeader.TryRead/trickle", Gen.Select(HeaderBytes, Cuts(20)), t =>
        {
            (byte[] bytes, int[] cuts) = t;
            OperationStatus whole = FrameHeader.TryRead(bytes, out FrameHeader wholeHeader, out ProtocolError wholeError);

            // Growing prefixes: NeedMoreData until enough bytes arrived, then exactly the whole input's answer.
            bool decided = false;
            for (int p = 0; p <= bytes.Length; p++)
            {
                OperationStatus status = FrameHeader.TryRead(bytes.AsSpan(0, p), out FrameHeader header, out ProtocolError error);
                if (status == OperationStatus.NeedMoreData)
                {
                    Assert.False(decided, $"prefix {p} needs more data after a shorter prefix was decided");
                    continue;
                }

                decided = true;
                Assert.Equal(whole, status);
                Assert.Equal(wholeError, error);
                AssertSameHeader(wholeHeader, header);
            }

            // Every single split point, and a random multi-way split, through the ReadOnlySequence overload.
            for (int i = 0; i <= bytes.Length; i++)
            {
                AssertSequenceMatches(FuzzRun.Segments(bytes, [i]));
            }

            AssertSequenceMatches(FuzzRun.Segments(bytes, cuts));

            void AssertSequenceMatches(ReadOnlySequence<byte> sequence)
            {
                OperationStatus status = FrameHeader.TryRead(sequence, out FrameHeader header, out ProtocolError error);
                Assert.Equal(whole, status);
                Assert.Equal(wholeError, error);
                AssertSameHeader(wholeHeader, header);
            }
        }, iter: 5_000, print: t => FuzzRun.Hex(t.Item1) + " cuts " + string.Join(',', t.Item2));

    private static void AssertSameHeader(FrameHeader expected, FrameHeader actual)
    {
        Assert.Equal(expected.Fin, actual.Fin);
        Assert.Equal(expected.Rsv, actual.Rsv);
        Assert.Equal(expected.Opcode, actual.Opcode);
        Assert.Equal(expected.Masked, actual.Masked);
        Assert.Equal(expected.MaskingKey, actual.MaskingKey);
        Assert.Equal(expected.PayloadLength, actual.PayloadLength);
        Assert.Equal(expected.Size, actual.Size);
    }

    // ---- receive rules ----------------------------------------------------------------------------------------

    private static readonly Gen<FrameHeader> AnyHeader = Gen.Select(Gen.Bool, Gen.Frequency((6, Gen.Const((byte)0)), (1, Gen.Byte[0, 7])),
        Gen.Frequency((8, Gen.OneOfConst<byte>(0, 1, 2, 8, 9, 10)), (1, Gen.Byte[0, 15])), Gen.Frequency((6, Gen.Const(true)), (1, Gen.Const(false))),
        Gen.Frequency((6, Gen.Long[0, 200]), (2, Gen.OneOfConst(125L, 126L, 1000L, 1024L, 65_536L, 1L << 20, (1L << 20) + 1, long.MaxValue)), (1, Gen.Long[0, long.MaxValue])),
        (fin, rsv, opcode, masked, length) => new FrameHeader(fin, rsv, (Opcode)opcode, masked, 0x12345678, length, 2));

    [Fact]
    public void ReceiveRules_never_throw_and_keep_their_invariants() =>
        FuzzRun.Run(output, "ReceiveRules.OnHeader", Gen.Select(AnyHeader.Array[1, 40], Gen.Bool, Gen.OneOfConst(0L, 100L, 1000L, 1L << 20),
            Gen.OneOfConst(0, 1, 64, 1000), Gen.Bool), t =>
        {
            (FrameHeader[] headers, bool server, long maxMessage, int charge, bool unlimited) = t;
            var rules = new ReceiveRules(server ? Role.Server : Role.Client, maxMessage, maxMessage, minFragmentCharge: charge);
            foreach (FrameHeader header in headers)
            {
                bool wasInMessage = rules.InMessage;
                Opcode openOpcode = rules.MessageOpcode;
                long length = rules.MessageLength;
                ProtocolError error = rules.OnHeader(header, out Opcode messageOpcode, unlimited);
                if (error.IsError)
                {
                    Assert.Contains(error.CloseCode, new ushort[] { CloseCode.ProtocolError, CloseCode.MessageTooBig });
                    Assert.False(string.IsNullOrEmpty(error.Reason));
                    break; // the connection is failed
                }

                // Accepted frames obey §5: masking by role, no RSV, known opcodes, small unfragmented control frames.
                Assert.Equal(server, header.Masked);
                Assert.Equal(0, header.Rsv);
                Assert.True(header.Opcode.IsDefined());
                Assert.True(header.Opcode.IsControl() || header.PayloadLength <= maxMessage, "a data frame over the frame limit was accepted");
                if (header.Opcode.IsControl())
                {
                    Assert.True(header.Fin && header.PayloadLength <= FrameHeader.MaxControlPayload);
                    Assert.Equal(wasInMessage, rules.InMessage);
                    Assert.Equal(openOpcode, rules.MessageOpcode);
                    Assert.Equal(length, rules.MessageLength);
                    continue;
                }

                Assert.Equal(header.Opcode == Opcode.Continuation, wasInMessage);
                Assert.Equal(header.Opcode == Opcode.Continuation ? openOpcode : header.Opcode, messageOpcode);
                Assert.Equal(!header.Fin, rules.InMessage);
                Assert.True(rules.MessageCharge >= rules.MessageLength);
                if (!unlimited)
                {
                    Assert.True(rules.MessageLength <= maxMessage && rules.MessageCharge <= maxMessage);
                }
            }
        }, iter: 20_000);

    // ---- HTTP heads and the upgrade checks --------------------------------------------------------------------

    [Fact]
    public void HttpHeadParser_and_upgrade_checks_never_throw_on_arbitrary_bytes() =>
        FuzzRun.Run(output, "HttpHeadParser+UpgradeRequest/Response", Gen.Select(HttpBytes, Limits), t =>
        {
            (byte[] bytes, (int maxBytes, int maxFields)) = t;
            var sequence = new ReadOnlySequence<byte>(bytes);
            HttpParseStatus status = HttpHeadParser.TryParseRequest(sequence, maxBytes, maxFields, out HttpHead? head, out SequencePosition consumed,
                out int errorStatus, out string error);
            CheckResult(bytes, sequence, maxBytes, maxFields, status, head, consumed, errorStatus, error);
            if (head is not null)
            {
                UpgradeCheck check = UpgradeRequest.Check(head);
                Assert.True(Enum.IsDefined(check.Kind));
                if (check.Kind == UpgradeKind.Invalid)
                {
                    Assert.Contains(check.Status, new[] { 400, 405, 426, 505 });
                    Assert.False(string.IsNullOrEmpty(check.Reason));
                }
                else
                {
                    Assert.Equal(0, check.Status);
                }

                if (check.Kind == UpgradeKind.Valid)
                {
                    // A valid handshake always yields a well-formed 101 that the client side accepts.
                    byte[] accept = UpgradeRequest.BuildAcceptResponse(head, null);
                    Assert.Equal(HttpParseStatus.Done, HttpHeadParser.TryParseResponse(new ReadOnlySequence<byte>(accept), 16 * 1024, 100, out HttpHead? answer, out _, out _));
                    Assert.Null(UpgradeResponse.Validate(answer!, head.Get("Sec-WebSocket-Key")!.Trim(), [], out _));
                }

                _ = UpgradeRequest.OfferedSubprotocols(head);
            }

            status = HttpHeadParser.TryParseResponse(sequence, maxBytes, maxFields, out head, out consumed, out error);
            CheckResult(bytes, sequence, maxBytes, maxFields, status, head, consumed, status == HttpParseStatus.Invalid ? 400 : 0, error, response: true);
            if (head is not null)
            {
                string? problem = UpgradeResponse.Validate(head, "dGhlIHNhbXBsZSBub25jZQ==", ["chat"], out string? subprotocol);
                Assert.True(problem is not null || head.StatusCode == 101);
                Assert.True(subprotocol is null or "chat");
            }
        }, iter: 20_000, print: t => Encoding.Latin1.GetString(t.Item1).ReplaceLineEndings("⏎") + $" limits {t.Item2}");

    private static void CheckResult(byte[] bytes, in ReadOnlySequence<byte> sequence, int maxBytes, int maxFields, HttpParseStatus status, HttpHead? head,
        SequencePosition consumed, int errorStatus, string error, bool response = false)
    {
        switch (status)
        {
            case HttpParseStatus.Done:
                Assert.NotNull(head);
                long end = FuzzRun.Offset(sequence, consumed);
                Assert.InRange(end, 4, Math.Min(bytes.Length, maxBytes));
                Assert.True(bytes.AsSpan(0, (int)end).EndsWith("\r\n\r\n"u8));
                Assert.Equal((int)end - 4, bytes.AsSpan().IndexOf("\r\n\r\n"u8)); // the first blank line ends the head
                Assert.InRange(head.Fields.Count, 0, maxFields);
                foreach (var field in head.Fields)
                {
                    Assert.False(field.Key.Length == 0 || field.Value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0);
                }

                break;
            case HttpParseStatus.NeedMoreData:
                Assert.Null(head);
                Assert.True(bytes.AsSpan().IndexOf("\r\n\r\n"u8) < 0, "a complete head was not parsed");
                Assert.True(bytes.Length <= maxBytes, "an oversized incomplete head was not refused");
                break;
            case HttpParseStatus.Invalid:
                Assert.Null(head);
                if (!response)
                {
                    Assert.Contains(errorStatus, new[] { 400, 431 });
                }

                Assert.False(string.IsNullOrEmpty(error));
                break;
            default:
                Assert.Fail($"undocumented status {status}");
                break;
        }
    }

    [Fact]
    public void HttpHeadParser_trickle_segments_and_growing_prefixes_match_the_whole_input() =>
        FuzzRun.Run(output, "HttpHeadParser/trickle", Gen.Select(HttpBytes, Limits, Cuts(400)), t =>
        {
            (byte[] bytes, (int maxBytes, int maxFields), int[] cuts) = t;
            Outcome whole = Parse(new ReadOnlySequence<byte>(bytes), maxBytes, maxFields);

            // Multi-segment buffers (as a pipe hands them over) must not change the answer at all.
            Assert.Equal(whole, Parse(FuzzRun.Segments(bytes, cuts), maxBytes, maxFields));
            for (int i = 0; i <= bytes.Length; i += 1 + (bytes.Length / 64))
            {
                Assert.Equal(whole, Parse(FuzzRun.Segments(bytes, [i]), maxBytes, maxFields));
            }

            // Growing prefixes (bytes trickling in): each is "need more data" or already the final verdict — a
            // complete head parses identically, a refused one is refused. (Which refusal status an incomplete head
            // gets is pinned separately: see HttpHeadParserConsistencyTests.)
            for (int p = 0; p <= bytes.Length; p++)
            {
                Outcome partial = Parse(new ReadOnlySequence<byte>(bytes, 0, p), maxBytes, maxFields);
                if (partial.Status != HttpParseStatus.NeedMoreData)
                {
                    Assert.Equal(whole.Status, partial.Status);
                    if (partial.Status == HttpParseStatus.Done)
                    {
                        Assert.Equal(whole, partial);
                    }

                    break; // the server stops reading at the first answer
                }
            }
        }, iter: 5_000, print: t => Encoding.Latin1.GetString(t.Item1).ReplaceLineEndings("⏎") + $" limits {t.Item2} cuts {string.Join(',', t.Item3)}");

    private sealed record Outcome(HttpParseStatus Status, int ErrorStatus, string Error, long Consumed, string Fields, string StartLine);

    private static Outcome Parse(ReadOnlySequence<byte> sequence, int maxBytes, int maxFields)
    {
        HttpParseStatus status = HttpHeadParser.TryParseRequest(sequence, maxBytes, maxFields, out HttpHead? head, out SequencePosition consumed,
            out int errorStatus, out string error);
        return new Outcome(status, errorStatus, error, status == HttpParseStatus.Done ? FuzzRun.Offset(sequence, consumed) : -1,
            head is null ? string.Empty : string.Join("\n", head.Fields.Select(f => f.Key + ":" + f.Value)),
            head is null ? string.Empty : $"{head.Method} {head.Target} {head.VersionMajor}.{head.VersionMinor}");
    }

    // ---- header token lists -----------------------------------------------------------------------------------

    private static readonly Gen<string> TokenListText = Gen.Frequency(
        (3, Gen.OneOfConst(",", " ", "\t", "Upgrade", "upgrade", "keep-alive", "websocket", "a", "x=y", ";", "\"", "\u00e9", "\0").Array[0, 30].Select(string.Concat)),
        (1, Gen.Char.Array[0, 40].Select(chars => new string(chars))));

    [Fact]
    public void HeaderTokens_never_throw_and_agree_with_each_other() =>
        FuzzRun.Run(output, "HeaderTokens", Gen.Select(TokenListText, Gen.OneOfConst("Upgrade", "websocket", "keep-alive", "a", "x=y")), t =>
        {
            (string value, string token) = t;
            List<string> elements = HeaderTokens.Split(value);
            foreach (string element in elements)
            {
                Assert.False(element.Length == 0 || element.Contains(',', StringComparison.Ordinal));
                Assert.Equal(element, element.Trim(' ', '\t'));
            }

            Assert.Equal(elements.Any(e => string.Equals(e, token, StringComparison.OrdinalIgnoreCase)), HeaderTokens.Contains(value, token));
            Assert.Empty(HeaderTokens.Split(null));
        }, iter: 20_000);

    // ---- close bodies and incremental UTF-8 -------------------------------------------------------------------

    [Fact]
    public void ClosePayload_never_throws_and_returns_only_1002_or_1007() =>
        FuzzRun.Run(output, "ClosePayload.TryParse", Gen.Frequency((1, Gen.Byte.Array[0, 125]),
            (2, Gen.Select(Gen.UShort, Gen.Byte.Array[0, 20], (code, reason) => (byte[])[(byte)(code >> 8), (byte)code, .. reason]))), body =>
        {
            ProtocolError error = ClosePayload.TryParse(body, out ushort code, out string reason);
            if (error.IsError)
            {
                Assert.Contains(error.CloseCode, new ushort[] { CloseCode.ProtocolError, CloseCode.InvalidPayloadData });
                Assert.Equal(error.CloseCode == CloseCode.InvalidPayloadData, body.Length >= 2 && CloseCode.IsValidOnWire((body[0] << 8) | body[1]) && !Utf8Validator.IsValid(body.AsSpan(2)));
            }
            else
            {
                Assert.True(body.Length == 0 ? code == CloseCode.NoStatusReceived : CloseCode.IsValidOnWire(code));
                Assert.Equal(body.Length <= 2 ? string.Empty : Encoding.UTF8.GetString(body.AsSpan(2)), reason);
            }
        }, iter: 20_000, print: FuzzRun.Hex);

    private static readonly Gen<byte[]> Utf8ish = Gen.Frequency(
        (1, Gen.Byte.Array[0, 64]),
        (2, Gen.String.Select(s => Encoding.UTF8.GetBytes(s))),
        (2, Gen.OneOfConst("é", "€", "𝄞", "a", "\u0000", "\uffff").Array[0, 20].Select(p => Encoding.UTF8.GetBytes(string.Concat(p))).SelectMany(b =>
            Gen.Int[0, 3].Select(drop => b.Length >= drop ? b[..(b.Length - drop)] : b))),
        (1, Gen.OneOfConst<byte[]>([0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0x80], [0xE0, 0x80, 0x80], [0xF0, 0x8F, 0xBF, 0xBF], [0xF8]).Array[1, 3]
            .Select(parts => parts.SelectMany(p => p).ToArray())));

    [Fact]
    public void Utf8Validator_trickle_matches_whole_validation() =>
        FuzzRun.Run(output, "Utf8Validator/trickle", Gen.Select(Utf8ish, Cuts(64)), t =>
        {
            (byte[] bytes, int[] cuts) = t;
            bool whole = Utf8Validator.IsValid(bytes);
            Assert.Equal(whole, Validate(FuzzRun.Segments(bytes, cuts)));
            for (int i = 0; i <= bytes.Length; i++)
            {
                Assert.Equal(whole, Validate(FuzzRun.Segments(bytes, [i])));
            }

            // Byte by byte: fails no later than the byte that makes the text invalid, never on a valid prefix.
            var validator = default(Utf8Validator);
            for (int i = 0; i < bytes.Length; i++)
            {
                bool ok = validator.Append(bytes.AsSpan(i, 1));
                if (!ok)
                {
                    Assert.False(whole);
                    Assert.False(Utf8Validator.IsValid(bytes.AsSpan(0, i + 1)) || IsValidPrefix(bytes.AsSpan(0, i + 1)));
                    return;
                }
            }

            Assert.Equal(whole, validator.IsComplete);
        }, iter: 20_000, print: t => FuzzRun.Hex(t.Item1) + " cuts " + string.Join(',', t.Item2));

    private static bool Validate(ReadOnlySequence<byte> sequence)
    {
        var validator = default(Utf8Validator);
        foreach (ReadOnlyMemory<byte> segment in sequence)
        {
            if (!validator.Append(segment.Span))
            {
                return false;
            }
        }

        return validator.IsComplete;
    }

    /// <summary>True when some continuation could still make <paramref name="bytes"/> valid UTF-8.</summary>
    private static bool IsValidPrefix(ReadOnlySpan<byte> bytes)
    {
        for (int extra = 1; extra <= 3; extra++)
        {
            // Try every possible completion of the last incomplete sequence (continuation bytes only).
            foreach (byte b in new byte[] { 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF })
            {
                byte[] candidate = [.. bytes, .. Enumerable.Repeat(b, extra)];
                if (Utf8Validator.IsValid(candidate))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
