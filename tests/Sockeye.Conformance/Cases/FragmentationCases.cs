using Sockeye.Conformance.Judging;
using Sockeye.Conformance.Wire;

namespace Sockeye.Conformance.Cases;

/// <summary>Autobahn group 5: fragmentation rules of RFC 6455 5.4.</summary>
internal static class FragmentationCases
{
    private const string Hello = "Hello, world!";

    public static IEnumerable<ConformanceCase> All()
    {
        // RFC 6455 5.5: "Control frames themselves MUST NOT be fragmented."
        yield return FragmentedControl("5.1", Opcodes.Ping);
        yield return FragmentedControl("5.2", Opcodes.Pong);

        yield return TwoFragments("5.3", SendMode.Together);
        yield return TwoFragments("5.4", SendMode.PerFrame);
        yield return TwoFragments("5.5", SendMode.Bytewise);

        // RFC 6455 5.4: "Control frames ... MAY be injected in the middle of a fragmented message."
        yield return PingBetweenFragments("5.6", SendMode.Together);
        yield return PingBetweenFragments("5.7", SendMode.PerFrame);
        yield return PingBetweenFragments("5.8", SendMode.Bytewise);

        // A continuation frame with no message to continue (RFC 6455 5.4).
        yield return ContinuationFirst("5.9", fin: true, SendMode.Together);
        yield return ContinuationFirst("5.10", fin: true, SendMode.PerFrame);
        yield return ContinuationFirst("5.11", fin: true, SendMode.Bytewise);
        yield return ContinuationFirst("5.12", fin: false, SendMode.Together);
        yield return ContinuationFirst("5.13", fin: false, SendMode.PerFrame);
        yield return ContinuationFirst("5.14", fin: false, SendMode.Bytewise);

        yield return new ConformanceCase("5.15", "Send text message in 2 fragments, then a continuation with FIN = false where there is nothing to continue, then a text message; expect the first echoed, then failure 1002.", async ctx =>
        {
            await ctx.SendAsync(
                OutFrame.Text("fragment1", fin: false),
                OutFrame.Continuation("fragment2", fin: true),
                OutFrame.Continuation("fragment3", fin: false),
                OutFrame.Text("fragment4"));
            return await Judge.ExpectFailureAsync(ctx, CloseCodes.ProtocolError, [ExpectedEvent.Text("fragment1fragment2")], []);
        });

        yield return ContinuationThenMessage("5.16", fin: false);
        yield return ContinuationThenMessage("5.17", fin: true);

        // RFC 6455 5.4: fragments after the first MUST use the continuation opcode.
        yield return new ConformanceCase("5.18", "Send text message in 2 fragments, both with the text opcode; expect failure 1002.", async ctx =>
        {
            await ctx.SendAsync(OutFrame.Text("fragment1", fin: false), OutFrame.Text("fragment2"));
            return await Judge.ExpectFailureAsync(ctx, CloseCodes.ProtocolError);
        });

        yield return PingsDuringMessage("5.19", SendMode.Together);
        yield return PingsDuringMessage("5.20", SendMode.PerFrame);
    }

    private static ConformanceCase FragmentedControl(string id, byte opcode) =>
        new(id, $"Send {Opcodes.Name(opcode)} fragmented into 2 fragments; expect failure 1002 (control frames must not be fragmented).", async ctx =>
        {
            await ctx.SendAsync(new OutFrame(opcode, Payloads.Utf8("fragment1"), Fin: false), OutFrame.Continuation("fragment2", fin: true));
            return await Judge.ExpectFailureAsync(ctx, CloseCodes.ProtocolError);
        });

    private static ConformanceCase TwoFragments(string id, SendMode mode) =>
        new(id, $"Send text message fragmented into 2 fragments.{mode.Describe()} Expect it echoed.", async ctx =>
        {
            await ctx.SendAsync(mode, OutFrame.Text("fragment1", fin: false), OutFrame.Continuation("fragment2", fin: true));
            return await Judge.ExpectThenCloseAsync(ctx, ExpectedEvent.Text("fragment1fragment2"));
        });

    private static ConformanceCase PingBetweenFragments(string id, SendMode mode) =>
        new(id, $"Send text message fragmented into 2 fragments, one ping with payload in-between.{mode.Describe()} Expect the pong, then the echo.", async ctx =>
        {
            await ctx.SendAsync(mode, OutFrame.Text("fragment1", fin: false), OutFrame.Ping("ping payload"), OutFrame.Continuation("fragment2", fin: true));
            return await Judge.ExpectThenCloseAsync(ctx, ExpectedEvent.Pong("ping payload"), ExpectedEvent.Text("fragment1fragment2"));
        });

    private static ConformanceCase ContinuationFirst(string id, bool fin, SendMode mode) =>
        new(id, $"Send continuation frame with FIN = {fin} where there is nothing to continue, then a text message.{mode.Describe()} Expect failure 1002.", async ctx =>
        {
            await ctx.SendAsync(mode, OutFrame.Continuation("non-continuation payload", fin), OutFrame.Text(Hello));
            return await Judge.ExpectFailureAsync(ctx, CloseCodes.ProtocolError);
        });

    private static ConformanceCase ContinuationThenMessage(string id, bool fin) =>
        new(id, $"Repeated 2x: continuation frame with FIN = {fin} (nothing to continue), then text message in 2 fragments; expect failure 1002.", async ctx =>
        {
            var round = new[] { OutFrame.Continuation("fragment1", fin), OutFrame.Text("fragment2", fin: false), OutFrame.Continuation("fragment3", fin: true) };
            await ctx.SendAsync([.. round, .. round]);
            return await Judge.ExpectFailureAsync(ctx, CloseCodes.ProtocolError);
        });

    /// <summary>
    /// The pong for a ping sent in the middle of a message must come back before the message is complete. Autobahn waits
    /// 1 s here; we wait for the pong itself (bounded by the reply timeout) before sending the rest.
    /// </summary>
    private static ConformanceCase PingsDuringMessage(string id, SendMode mode) =>
        new(id, $"Send 2 text fragments and a ping, await the pong, then 2 more fragments, another ping and the final fragment.{mode.Describe()} Expect both pongs (the first before the message is complete) and the echo.", async ctx =>
        {
            await ctx.SendAsync(mode, OutFrame.Text("fragment1", fin: false), OutFrame.Continuation("fragment2", fin: false), OutFrame.Ping("pongme 1!"));
            var early = await Judge.AwaitEventsAsync(ctx, [ExpectedEvent.Pong("pongme 1!")], ctx.Timeouts.Reply);
            if (early is not null)
            {
                return early;
            }

            await ctx.SendAsync(
                mode,
                OutFrame.Continuation("fragment3", fin: false),
                OutFrame.Continuation("fragment4", fin: false),
                OutFrame.Ping("pongme 2!"),
                OutFrame.Continuation("fragment5", fin: true));
            return await Judge.ExpectThenCloseAsync(ctx, ExpectedEvent.Pong("pongme 2!"), ExpectedEvent.Text("fragment1fragment2fragment3fragment4fragment5"));
        });
}
