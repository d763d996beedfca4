using Sockeye.Conformance.Judging;
using Sockeye.Conformance.Wire;

namespace Sockeye.Conformance.Cases;

/// <summary>
/// Autobahn group 3. RFC 6455 5.2: "RSV1, RSV2, RSV3: ... MUST be 0 unless an extension is negotiated ... If a nonzero
/// value is received and none of the negotiated extensions defines the meaning of such a nonzero value, the receiving
/// endpoint MUST _Fail the WebSocket Connection_."
/// </summary>
internal static class ReservedBitsCases
{
    private const string Hello = "Hello, world!";

    public static IEnumerable<ConformanceCase> All()
    {
        yield return new ConformanceCase("3.1", "Send small text message with RSV = 1; expect failure 1002.", async ctx =>
        {
            await ctx.SendAsync(OutFrame.Text(Hello) with { Rsv = 1 });
            return await Judge.ExpectFailureAsync(ctx, CloseCodes.ProtocolError);
        });

        yield return AfterValidMessage("3.2", 2, SendMode.Together);
        yield return AfterValidMessage("3.3", 3, SendMode.PerFrame);
        yield return AfterValidMessage("3.4", 4, SendMode.Bytewise);

        yield return new ConformanceCase("3.5", "Send small binary message with RSV = 5; expect failure 1002.", async ctx =>
        {
            await ctx.SendAsync(OutFrame.Binary(Payloads.Hex("00 ff fe fd fc fb 00 ff")) with { Rsv = 5 });
            return await Judge.ExpectFailureAsync(ctx, CloseCodes.ProtocolError);
        });

        // Autobahn's description says Ping but its code sends a binary frame; we send the Ping the description promises.
        yield return new ConformanceCase("3.6", "Send Ping with RSV = 6; expect failure 1002.", async ctx =>
        {
            await ctx.SendAsync(OutFrame.Ping(Hello) with { Rsv = 6 });
            return await Judge.ExpectFailureAsync(ctx, CloseCodes.ProtocolError);
        });

        yield return new ConformanceCase("3.7", "Send Close with RSV = 7; expect failure 1002.", async ctx =>
        {
            await ctx.SendAsync(OutFrame.CloseRaw(ReadOnlyMemory<byte>.Empty) with { Rsv = 7 });
            return await Judge.ExpectFailureAsync(ctx, CloseCodes.ProtocolError);
        });
    }

    /// <summary>Valid message, the same with RSV set, then a ping: the echo should come back, the pong must not.</summary>
    private static ConformanceCase AfterValidMessage(string id, byte rsv, SendMode mode) =>
        new(id, $"Send small text message, then again with RSV = {rsv}, then a Ping.{mode.Describe()} Expect the first echoed, then failure 1002 and no pong.", async ctx =>
        {
            await ctx.SendAsync(mode, OutFrame.Text(Hello), OutFrame.Text(Hello) with { Rsv = rsv }, OutFrame.Ping());
            return await Judge.ExpectFailureAsync(ctx, CloseCodes.ProtocolError, [ExpectedEvent.Text(Hello)], []);
        });
}
