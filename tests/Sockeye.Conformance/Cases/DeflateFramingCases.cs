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
