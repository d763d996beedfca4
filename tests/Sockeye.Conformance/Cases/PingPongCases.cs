using Sockeye.Conformance.Judging;
using Sockeye.Conformance.Wire;

namespace Sockeye.Conformance.Cases;

/// <summary>Autobahn group 2: pings must be answered with identical pongs, unsolicited pongs ignored (RFC 6455 5.5.2, 5.5.3).</summary>
internal static class PingPongCases
{
    public static IEnumerable<ConformanceCase> All()
    {
        yield return PingEcho("2.1", "Send ping without payload.", []);
        yield return PingEcho("2.2", "Send ping with small text payload.", Payloads.Utf8("Hello, world!"));
        yield return PingEcho("2.3", "Send ping with small binary (non UTF-8) payload.", Payloads.Hex("00 ff fe fd fc fb 00 ff"));
        yield return PingEcho("2.4", "Send ping with binary payload of 125 octets.", Payloads.Filled(0xFE, 125));

        // RFC 6455 5.5: "All control frames MUST have a payload length of 125 bytes or less".
        yield return new ConformanceCase("2.5", "Send ping with binary payload of 126 octets; expect failure 1002 (control frames are limited to 125 bytes).", async ctx =>
        {
            await ctx.SendAsync(OutFrame.Ping(Payloads.Filled(0xFE, 126)));
            return await Judge.ExpectFailureAsync(ctx, CloseCodes.ProtocolError);
        });

        yield return PingEcho("2.6", "Send ping with binary payload of 125 octets, in 1-byte writes.", Payloads.Filled(0xFE, 125), chop: 1);

        // RFC 6455 5.5.3: "A Pong frame MAY be sent unsolicited ... A response to an unsolicited Pong frame is not expected."
        yield return UnsolicitedPong("2.7", "Send unsolicited pong without payload; expect nothing, then a clean close.", "");
        yield return UnsolicitedPong("2.8", "Send unsolicited pong with payload; expect nothing, then a clean close.", "unsolicited pong payload");

        yield return new ConformanceCase("2.9", "Send unsolicited pong with payload, then ping with payload; expect only the pong for the ping.", async ctx =>
        {
            await ctx.SendAsync(OutFrame.Pong("unsolicited pong payload"), OutFrame.Ping("ping payload"));
            return await Judge.ExpectThenCloseAsync(ctx, ExpectedEvent.Pong("ping payload"));
        });

        yield return TenPings("2.10", "Send 10 pings with payload; expect 10 pongs in order (not required by the spec, Autobahn checks it anyway).", chop: null);
        yield return TenPings("2.11", "Send 10 pings with payload in 1-byte writes; expect 10 pongs in order.", chop: 1);
    }

    private static ConformanceCase PingEcho(string id, string description, byte[] payload, int? chop = null) =>
        new(id, $"{description} Expect a pong with the same payload.", async ctx =>
        {
            var ping = OutFrame.Ping(payload);
            _ = chop is { } size ? await ctx.SendChoppedAsync(size, ping) : await ctx.SendAsync(ping);
            return await Judge.ExpectThenCloseAsync(ctx, ExpectedEvent.Pong(payload));
        });

    private static ConformanceCase UnsolicitedPong(string id, string description, string payload) =>
        new(id, description, async ctx =>
        {
            await ctx.SendAsync(OutFrame.Pong(payload), OutFrame.Close(CloseCodes.Normal));
            return await Judge.AwaitCloseReplyAsync(ctx, CloseReply.Normal);
        });

    private static ConformanceCase TenPings(string id, string description, int? chop) =>
        new(id, description, async ctx =>
        {
            var payloads = Enumerable.Range(0, 10).Select(i => $"payload-{i}").ToArray();
            var pings = payloads.Select(p => OutFrame.Ping(p)).ToArray();
            _ = chop is { } size ? await ctx.SendChoppedAsync(size, pings) : await ctx.SendAsync(pings);
            return await Judge.ExpectThenCloseAsync(ctx, payloads.Select(ExpectedEvent.Pong).ToArray());
        });
}
