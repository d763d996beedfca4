using Sockeye.Conformance.Judging;
using Sockeye.Conformance.Wire;

namespace Sockeye.Conformance.Cases;

/// <summary>
/// Autobahn group 6. RFC 6455 8.1: "When an endpoint is to interpret a byte stream as UTF-8 but finds that the byte
/// stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the WebSocket Connection_" (7.4.1: code 1007).
/// </summary>
internal static class Utf8Cases
{
    private const string Mixed = "Hello-µ@ßöäüàá-UTF-8!!";

    /// <summary>κόσμε + U+D800 (a surrogate, invalid at byte 12) + "edited".</summary>
    private static readonly byte[] WithSurrogate = [.. Utf8Sequences.Kosme, .. Payloads.Hex("ed a0 80"), .. "edited"u8];

    /// <summary>κόσμε (11 bytes) + the encoding of 0x110000 (f4 90 80 80: invalid at its second byte) + "edited".</summary>
    private static readonly byte[] OutOfRange = [.. Utf8Sequences.Kosme, .. Payloads.Hex("f4 90 80 80"), .. "edited"u8];

    public static IEnumerable<ConformanceCase> All()
    {
        yield return Valid("6.1.1", "Send text message of length 0.", [OutFrame.Text("")], "");
        yield return Valid("6.1.2", "Send fragmented text message, 3 fragments each of length 0.", [OutFrame.Text("", fin: false), OutFrame.Continuation("", fin: false), OutFrame.Continuation("", fin: true)], "");
        yield return Valid("6.1.3", "Send fragmented text message, 3 fragments, first and last of length 0, middle non-empty.", [OutFrame.Text("", fin: false), OutFrame.Continuation("middle frame payload", fin: false), OutFrame.Continuation("", fin: true)], "middle frame payload");

        yield return Valid("6.2.1", "Send a valid UTF-8 text message in one fragment.", [OutFrame.Text(Mixed)], Mixed);
        yield return Valid("6.2.2", "Send a valid UTF-8 text message in two fragments, split on a code point boundary.", [OutFrame.Text("Hello-µ@ßöä", fin: false), OutFrame.Continuation("üàá-UTF-8!!", fin: true)], Mixed);
        yield return Valid("6.2.3", "Send a valid UTF-8 text message in fragments of 1 octet, splitting code points.", OutFrame.Fragment(Opcodes.Text, Payloads.Utf8(Mixed), 1), Mixed);
        yield return Valid("6.2.4", "Send a valid UTF-8 text message (κόσμε) in fragments of 1 octet, splitting code points.", OutFrame.Fragment(Opcodes.Text, Utf8Sequences.Kosme, 1), Utf8Sequences.Kosme);

        yield return Invalid("6.3.1", "Send invalid UTF-8 text message unfragmented.", [OutFrame.Text(WithSurrogate)]);
        yield return Invalid("6.3.2", "Send invalid UTF-8 text message in fragments of 1 octet.", OutFrame.Fragment(Opcodes.Text, WithSurrogate, 1));

        yield return FailFast("6.4.1", "in 3 frames: valid start, the invalid code point, the rest", 11, 15, separateFrames: true);
        yield return FailFast("6.4.2", "in 3 frames: valid start, the single invalid byte, the rest", 12, 13, separateFrames: true);
        yield return FailFast("6.4.3", "as 1 frame written in 3 parts: valid start, the invalid code point, the rest", 11, 15, separateFrames: false);
        yield return FailFast("6.4.4", "as 1 frame written in 3 parts: valid start, the single invalid byte, the rest", 12, 13, separateFrames: false);

        var categories = Utf8Sequences.Categories;
        for (var c = 0; c < categories.Count; c++)
        {
            var (title, sequences) = categories[c];
            for (var s = 0; s < sequences.Count; s++)
            {
                var (valid, bytes) = sequences[s];
                var id = $"6.{c + 5}.{s + 1}";
                var description = $"{title}: send a text message with payload {Convert.ToHexString(bytes).ToLowerInvariant()} in one frame.";
                yield return valid ? Valid(id, description, [OutFrame.Text(bytes)], bytes) : Invalid(id, description, [OutFrame.Text(bytes)]);
            }
        }
    }

    private static ConformanceCase Valid(string id, string description, OutFrame[] frames, string expected) =>
        Valid(id, description, frames, Payloads.Utf8(expected));

    private static ConformanceCase Valid(string id, string description, OutFrame[] frames, byte[] expected) =>
        new(id, $"{description} Expect it echoed.", async ctx =>
        {
            await ctx.SendAsync(frames);
            return await Judge.ExpectThenCloseAsync(ctx, ExpectedEvent.Text(expected));
        });

    private static ConformanceCase Invalid(string id, string description, OutFrame[] frames) =>
        new(id, $"{description} Expect failure 1007.", async ctx =>
        {
            await ctx.SendAsync(frames);
            return await Judge.ExpectFailureAsync(ctx, CloseCodes.InvalidPayload);
        });

    /// <summary>
    /// 6.4.x: the peer should fail as soon as the bytes received so far cannot start valid UTF-8, not only when the message
    /// is complete. Autobahn sleeps 1 s between parts; we send the valid start and the invalid part, then wait (bounded by
    /// the fail-fast timeout) for the peer's Close before sending the rest. Failing only after the rest is NON-STRICT.
    /// </summary>
    private static ConformanceCase FailFast(string id, string how, int invalidStart, int invalidEnd, bool separateFrames) =>
        new(id, $"Send invalid UTF-8 text message {how}; expect failure 1007 before the rest is sent (fail fast).", async ctx =>
        {
            var parts = new[] { OutOfRange[..invalidStart], OutOfRange[invalidStart..invalidEnd], OutOfRange[invalidEnd..] };
            byte[][] writes;
            if (separateFrames)
            {
                writes = [ctx.Encode(OutFrame.Text(parts[0], fin: false)), ctx.Encode(OutFrame.Continuation(parts[1], fin: false)), ctx.Encode(OutFrame.Continuation(parts[2], fin: true))];
            }
            else
            {
                // One frame whose header announces the whole payload; split its bytes where the parts end.
                var frame = ctx.Encode(OutFrame.Text(OutOfRange));
                var headerEnd = frame.Length - OutOfRange.Length;
                writes = [frame[..(headerEnd + invalidStart)], frame[(headerEnd + invalidStart)..(headerEnd + invalidEnd)], frame[(headerEnd + invalidEnd)..]];
            }

            await ctx.SendRawAsync(writes[0], "valid start");
            await ctx.SendRawAsync(writes[1], "invalid part");
            var early = await ctx.NextAsync(ctx.Timeouts.FailFast);
            if (early is MessageEvent or PongEvent or PingEvent)
            {
                return Verdict.Failed($"unexpected {early} while the invalid message was incomplete");
            }

            if (early is null)
            {
                await ctx.SendRawAsync(writes[2], "rest of the message");
                var late = await Judge.ExpectFailureAsync(ctx, CloseCodes.InvalidPayload);
                return Verdict.Combine(late, Verdict.NonStrict($"not fail-fast: no failure within {ctx.Timeouts.FailFast.TotalSeconds:0.#} s of the invalid bytes, only after the complete message"));
            }

            ctx.PushBack(early);
            return await Judge.ExpectFailureAsync(ctx, CloseCodes.InvalidPayload);
        });
}
