using Sockeye.Conformance.Judging;
using Sockeye.Conformance.Wire;

namespace Sockeye.Conformance.Cases;

/// <summary>Autobahn group 7: the closing handshake (RFC 6455 5.5.1, 7) started by us.</summary>
internal static class CloseCases
{
    /// <summary>RFC 6455 7.4.1/7.4.2: codes an endpoint may send; the reply must be 1000 or the same code.</summary>
    private static readonly ushort[] ValidCodes = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999];

    /// <summary>Codes that are reserved or undefined on the wire (RFC 6455 7.4.1, 7.4.2): the peer must fail with 1002.</summary>
    private static readonly ushort[] InvalidCodes = [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999];

    public static IEnumerable<ConformanceCase> All()
    {
        yield return new ConformanceCase("7.1.1", "Send a message followed by a close frame; expect the echo, then a clean close with 1000.", async ctx =>
        {
            await ctx.SendAsync(OutFrame.Text("Hello World!"));
            return await Judge.ExpectThenCloseAsync(ctx, ExpectedEvent.Text("Hello World!"));
        });

        // RFC 6455 5.5.1: "The application MUST NOT send any more data frames after sending a Close frame"; a peer ignores what follows.
        yield return AfterClose("7.1.2", "Send two close frames; expect a clean close with 1000, the second close ignored.", OutFrame.CloseRaw(ReadOnlyMemory<byte>.Empty));
        yield return AfterClose("7.1.3", "Send a ping after the close; expect a clean close with 1000 and no pong.", OutFrame.Ping());
        yield return AfterClose("7.1.4", "Send a text message after the close; expect a clean close with 1000 and no echo.", OutFrame.Text("Hello World!"));

        yield return new ConformanceCase("7.1.5", "Send message fragment 1, then close, then fragment 2; expect a clean close with 1000 and no echo.", async ctx =>
        {
            await ctx.SendAsync(OutFrame.Text("fragment1", fin: false), OutFrame.Close(CloseCodes.Normal), OutFrame.Continuation("fragment2", fin: true));
            return await Judge.AwaitCloseReplyAsync(ctx, CloseReply.Normal);
        });

        yield return new ConformanceCase("7.1.6", "Send a 256 KiB message, a small message, a close and a ping back to back; whether the messages are echoed before the close reply is implementation defined.", BigMessageThenCloseAsync);

        // RFC 6455 5.5.1: the close body is empty or a 2-byte code followed by a UTF-8 reason; control frames carry at most 125 bytes.
        yield return CloseWith("7.3.1", "Send a close frame with payload length 0 (no close code, no close reason); expect a clean close.", OutFrame.CloseRaw(ReadOnlyMemory<byte>.Empty), CloseReply.Normal);
        yield return CloseWith("7.3.2", "Send a close frame with payload length 1; expect failure 1002 or a dropped connection.", OutFrame.CloseRaw("a"u8.ToArray()), CloseReply.ProtocolError);
        yield return CloseWith("7.3.3", "Send a close frame with payload length 2 (regular close with a code); expect a clean close with 1000.", OutFrame.Close(CloseCodes.Normal), CloseReply.Normal);
        yield return CloseWith("7.3.4", "Send a close frame with close code and close reason; expect a clean close with 1000.", OutFrame.Close(CloseCodes.Normal, "Hello World!"u8), CloseReply.Normal);
        yield return CloseWith("7.3.5", "Send a close frame with close code and a close reason of maximum length (123); expect a clean close with 1000.", OutFrame.Close(CloseCodes.Normal, Payloads.Filled((byte)'*', 123)), CloseReply.Normal);
        yield return CloseWith("7.3.6", "Send a close frame with close code and a close reason of 124 bytes (payload 126, too long for a control frame); expect failure 1002 or a dropped connection.", OutFrame.Close(CloseCodes.Normal, Payloads.Filled((byte)'*', 124)), CloseReply.ProtocolError);

        yield return CloseWith(
            "7.5.1",
            "Send a close frame whose reason is not valid UTF-8; expect failure 1002 or 1007, or a dropped connection.",
            OutFrame.Close(CloseCodes.Normal, [.. Utf8Sequences.Kosme, .. Payloads.Hex("ed a0 80"), .. "edited"u8]),
            new CloseReply([CloseCodes.ProtocolError, CloseCodes.InvalidPayload], AfterInvalidClose: true));

        for (var i = 0; i < ValidCodes.Length; i++)
        {
            var code = ValidCodes[i];
            yield return CloseWith($"7.7.{i + 1}", $"Send close with valid close code {code}; expect a clean close with 1000 or {code}.", OutFrame.Close(code), new CloseReply([CloseCodes.Normal, code], AfterInvalidClose: false));
        }

        for (var i = 0; i < InvalidCodes.Length; i++)
        {
            var code = InvalidCodes[i];
            yield return CloseWith($"7.9.{i + 1}", $"Send close with invalid close code {code}; expect failure 1002 or a dropped connection.", OutFrame.Close(code), CloseReply.ProtocolError);
        }

        // 5000 and 65535 are outside every range RFC 6455 7.4.2 defines; what to do is unspecified.
        yield return Undefined("7.13.1", 5000);
        yield return Undefined("7.13.2", 65535);
    }

    private static ConformanceCase AfterClose(string id, string description, OutFrame after) =>
        new(id, description, async ctx =>
        {
            await ctx.SendAsync(OutFrame.Close(CloseCodes.Normal), after);
            return await Judge.AwaitCloseReplyAsync(ctx, CloseReply.Normal);
        });

    private static ConformanceCase CloseWith(string id, string description, OutFrame close, CloseReply reply) =>
        new(id, description, async ctx =>
        {
            await ctx.SendAsync(close);
            return await Judge.AwaitCloseReplyAsync(ctx, reply);
        });

    private static ConformanceCase Undefined(string id, ushort code) =>
        new(id, $"Send close with close code {code}; the expected behaviour is undefined by the spec (informational).", async ctx =>
        {
            await ctx.SendAsync(OutFrame.Close(code));
            var verdict = await Judge.AwaitCloseReplyAsync(ctx, new CloseReply([CloseCodes.Normal, code, CloseCodes.ProtocolError], AfterInvalidClose: true));
            var reply = ctx.PeerCloseCode is { } c ? $"peer answered with Close {c}" : "peer sent no Close code";
            return Verdict.Informational($"{reply}: {verdict.Reason}");
        });

    /// <summary>7.1.6: reports what the peer did with messages that were still being processed when the close arrived.</summary>
    private static async Task<Verdict> BigMessageThenCloseAsync(CaseContext ctx)
    {
        var big = Payloads.Repeat("BAsd7&jh23", 256 * 1024);
        await ctx.SendAsync(OutFrame.Text(big), OutFrame.Text("Hello World!"), OutFrame.Close(CloseCodes.Normal), OutFrame.Ping());
        var echoed = new List<string>();
        WireEvent? last;
        while ((last = await ctx.NextAsync(ctx.Timeouts.Reply)) is MessageEvent message)
        {
            echoed.Add(message.Payload.AsSpan().SequenceEqual(big) ? "the 256 KiB message" : $"a {message.Payload.Length}-byte message");
        }

        var close = last switch
        {
            CloseEvent => $"Close {ctx.PeerCloseCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "without code"}; {(await Judge.AwaitTransportCloseAsync(ctx)).Result.Display()} TCP close",
            null => "no Close reply",
            _ => $"then {last}",
        };
        var what = echoed.Count == 0 ? "the close was processed before the messages were echoed" : $"echoed {string.Join(" and ", echoed)} before the close";
        return Verdict.Informational($"{what}; {close}");
    }
}
