using Sockeye.Conformance.Deflate;
using Sockeye.Conformance.Judging;
using Sockeye.Conformance.Wire;

namespace Sockeye.Conformance.Cases;

/// <summary>
/// 13.18.x, a Sockeye addition: compressed messages framed in ways groups 12 and 13 do not cover (RFC 7692 6), corrupt
/// compressed data, and the byte sequences of RFC 7692 7.2.3, all under the default offer.
/// </summary>
internal static class DeflateFramingCases
{
    private const string Hello = "Hello";

    /// <summary>13.18.11: over the common 16 MiB message limit, under the suite's own 64 MiB.</summary>
    private const int BombBytes = 32 * 1024 * 1024;

    /// <summary>RFC 7692 7.2.3.1 and 7.2.3.2: "Hello" compressed, then again as a back-reference into the first.</summary>
    private static readonly byte[] HelloCompressed = [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00];

    private static readonly byte[] HelloAgain = [0xF2, 0x00, 0x11, 0x00, 0x00];

    /// <summary>RFC 7692 7.2.3.3: "Hello" in a single block with BFINAL set.</summary>
    private static readonly byte[] HelloFinal = [0xF3, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00];

    public static IEnumerable<ConformanceCase> All()
    {
        yield return Case("13.18.1", "Send 10 compressed text messages of 64 KiB, each in 1 KiB frames with RSV1 on the first frame only (RFC 7692 6.1); expect each echoed.", async ctx =>
        {
            var echoed = await DeflateCases.EchoBatchAsync(ctx, PayloadKind.Json, 65536, 10, fragmentSize: 1024);
            return echoed.Result == CaseResult.Failed ? echoed : Verdict.Combine(echoed, await Judge.CloseAsync(ctx));
        });

        yield return Case("13.18.2", "Send a compressed text message in 2 frames with a ping in between; expect the pong, then the echo.", async ctx =>
        {
            var payload = new DeflatePayloads(PayloadKind.Text).Next(4096);
            var frames = Compressed(ctx, Opcodes.Text, payload, 2);
            await ctx.SendAsync(frames[0], OutFrame.Ping("ping payload"), frames[1]);
            return await Judge.ExpectThenCloseAsync(ctx, ExpectedEvent.Pong("ping payload"), ExpectedEvent.Text(payload));
        });

        yield return Case("13.18.3", "Send a compressed text message in 2 frames, both with RSV1 set; expect failure 1002 (RFC 7692 6.1: RSV1 only on the first frame).", async ctx =>
        {
            var payload = new DeflatePayloads(PayloadKind.Json).Next(4096);
            var frames = Compressed(ctx, Opcodes.Text, payload, 2);
            await ctx.SendAsync(frames[0], frames[1] with { Rsv = 4 });
            return await Judge.ExpectFailureAsync(ctx, CloseCodes.ProtocolError);
        });

        yield return Case("13.18.4", "Send a ping with RSV1 set; expect failure 1002 (RFC 7692 6.1: control frames are never compressed).", async ctx =>
        {
            await ctx.SendAsync(OutFrame.Ping(Hello) with { Rsv = 4 });
            return await Judge.ExpectFailureAsync(ctx, CloseCodes.ProtocolError);
        });

        yield return Case("13.18.5", "Send a text message with RSV1 whose payload is not DEFLATE data (a block of reserved type 3); expect failure 1007.", async ctx =>
        {
            await ctx.SendAsync(OutFrame.Text(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }) with { Rsv = 4 });
            return await Judge.ExpectFailureAsync(ctx, CloseCodes.InvalidPayload);
        });

        yield return Case("13.18.6", "Send a compressed text message that inflates to invalid UTF-8; expect failure 1007 (RFC 6455 8.1 applies to the inflated message).", async ctx =>
        {
            var frames = Compressed(ctx, Opcodes.Text, [.. "Hello "u8, 0xED, 0xA0, 0x80, .. " world"u8], 1);
            await ctx.SendAsync(frames);
            return await Judge.ExpectFailureAsync(ctx, CloseCodes.InvalidPayload);
        });

        yield return Case("13.18.7", "Send an uncompressed text message (RSV1 clear), then a compressed one; expect both echoed (RFC 7692 6: compression is per message).", async ctx =>
        {
            var plain = new DeflatePayloads(PayloadKind.Json).Next(1024);
            await ctx.SendAsync(OutFrame.Text(plain));
            var compressed = new DeflatePayloads(PayloadKind.Text).Next(1024);
            await ctx.SendAsync(Compressed(ctx, Opcodes.Text, compressed, 1));
            return await Judge.ExpectThenCloseAsync(ctx, ExpectedEvent.Text(plain), ExpectedEvent.Text(compressed));
        });

        yield return Case("13.18.8", "Send an empty compressed text message (the single 0x00 of RFC 7692 7.2.3.6), then a compressed one; expect an empty echo, then the second.", async ctx =>
        {
            // An empty message adds nothing to the LZ77 window, so our compressor's context stays in step with the peer's.
            var next = new DeflatePayloads(PayloadKind.Json).Next(2048);
            await ctx.SendAsync(new OutFrame(Opcodes.Text, new byte[] { 0x00 }, Rsv: 4));
            await ctx.SendAsync(Compressed(ctx, Opcodes.Text, next, 1));
            return await Judge.ExpectThenCloseAsync(ctx, ExpectedEvent.Text(""), ExpectedEvent.Text(next));
        });

        yield return Case("13.18.9", "Send the compressed messages of RFC 7692 7.2.3.1/7.2.3.2 (\"Hello\", then \"Hello\" as a back-reference into the first) and 7.2.3.3 (\"Hello\" in a block with BFINAL set); expect three echoes of \"Hello\".", async ctx =>
        {
            // 7.2.3.2 references the previous message: only valid when we keep context for our direction.
            var agreement = ctx.Connection.Deflate!.Agreement;
            var ourNoContext = ctx.Role == Role.Client ? agreement.ClientNoContextTakeover : agreement.ServerNoContextTakeover;
            await ctx.SendAsync(
                new OutFrame(Opcodes.Text, HelloCompressed, Rsv: 4),
                new OutFrame(Opcodes.Text, ourNoContext ? HelloCompressed : HelloAgain, Rsv: 4),
                new OutFrame(Opcodes.Text, HelloFinal, Rsv: 4));
            return await Judge.ExpectThenCloseAsync(ctx, ExpectedEvent.Text(Hello), ExpectedEvent.Text(Hello), ExpectedEvent.Text(Hello));
        });

        yield return Case("13.18.10", "Send a compressed text message of 16 KiB in frames of 7 bytes; expect it echoed (the peer must inflate across any frame boundary).", async ctx =>
        {
            var payload = new DeflatePayloads(PayloadKind.Text).Next(16384);
            var compressed = ctx.Compress(payload);
            var frames = OutFrame.Fragment(Opcodes.Text, compressed, 7);
            frames[0] = frames[0] with { Rsv = 4 };
            await ctx.SendAsync(frames);
            return await Judge.ExpectThenCloseAsync(ctx, ExpectedEvent.Text(payload));
        });

        yield return Case("13.18.11", $"Send a compressed text message that inflates to {BombBytes / (1024 * 1024)} MiB (some 32 KiB on the wire); expect it echoed, or failure 1009 if that is over the peer's message limit.", BombAsync);
    }

    /// <summary>
    /// A decompression bomb: the peer must bound what it inflates by its message limit, not by the compressed size
    /// (RFC 7692 8: compressed data can expand by up to 1032:1), and fail with 1009 (RFC 6455 7.4.1) when over it.
    /// </summary>
    private static async Task<Verdict> BombAsync(CaseContext ctx)
    {
        var payload = Payloads.Filled((byte)'a', BombBytes);
        await ctx.SendCompressedAsync(Opcodes.Text, payload);
        var got = await ctx.NextAsync(TimeSpan.FromSeconds(30));
        switch (got)
        {
            case MessageEvent message when !message.Binary && message.Payload.AsSpan().SequenceEqual(payload):
                return Verdict.Combine(Verdict.Ok($"echoed all {BombBytes} bytes (the peer's limit is higher)"), await Judge.CloseAsync(ctx));
            case CloseEvent or DisconnectedEvent:
                ctx.PushBack(got);
                return await Judge.ExpectFailureAsync(ctx, CloseCodes.MessageTooBig);
            default:
                return Verdict.Failed($"expected the echo or failure 1009, got {DeflateCases.Describe(got, payload)}");
        }
    }

    /// <summary>A message compressed with the negotiated deflate and split into <paramref name="count"/> frames, RSV1 on the first.</summary>
    private static OutFrame[] Compressed(CaseContext ctx, byte opcode, byte[] payload, int count)
    {
        var compressed = ctx.Compress(payload);
        var frames = OutFrame.Fragment(opcode, compressed, Math.Max(1, (compressed.Length + count - 1) / count));
        frames[0] = frames[0] with { Rsv = 4 };
        return frames;
    }

    private static ConformanceCase Case(string id, string description, Func<CaseContext, Task<Verdict>> run) =>
        new(id, description, async ctx => await DeflateCases.RequireAgreementAsync(ctx) ?? await run(ctx)) { Deflate = DeflateCases.DefaultSetup };
}
