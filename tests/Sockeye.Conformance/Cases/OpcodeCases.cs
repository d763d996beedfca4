using Sockeye.Conformance.Judging;
using Sockeye.Conformance.Wire;

namespace Sockeye.Conformance.Cases;

/// <summary>
/// Autobahn group 4. RFC 6455 5.2: opcodes %x3-7 and %xB-F are reserved; "If an unknown opcode is received, the
/// receiving endpoint MUST _Fail the WebSocket Connection_."
/// </summary>
internal static class OpcodeCases
{
    private const string Hello = "Hello, world!";

    public static IEnumerable<ConformanceCase> All()
    {
        foreach (var (sub, first) in new[] { (1, 3), (2, 11) })
        {
            var kind = sub == 1 ? "non-control" : "control";
            yield return Alone($"4.{sub}.1", (byte)first, kind, payload: "");
            yield return Alone($"4.{sub}.2", (byte)(first + 1), kind, payload: "reserved opcode payload");
            yield return AfterValidMessage($"4.{sub}.3", (byte)(first + 2), kind, payload: "", SendMode.Together);
            yield return AfterValidMessage($"4.{sub}.4", (byte)(first + 3), kind, payload: Hello, SendMode.Together);
            yield return AfterValidMessage($"4.{sub}.5", (byte)(first + 4), kind, payload: Hello, SendMode.Bytewise);
        }
    }

    private static ConformanceCase Alone(string id, byte opcode, string kind, string payload) =>
        new(id, $"Send frame with reserved {kind} opcode {opcode}{WithPayload(payload)}; expect failure 1002.", async ctx =>
        {
            await ctx.SendAsync(new OutFrame(opcode, Payloads.Utf8(payload)));
            return await Judge.ExpectFailureAsync(ctx, CloseCodes.ProtocolError);
        });

    private static ConformanceCase AfterValidMessage(string id, byte opcode, string kind, string payload, SendMode mode) =>
        new(id, $"Send small text message, then frame with reserved {kind} opcode {opcode}{WithPayload(payload)}, then Ping.{mode.Describe()} Expect the echo, then failure 1002 and no pong.", async ctx =>
        {
            await ctx.SendAsync(mode, OutFrame.Text(Hello), new OutFrame(opcode, Payloads.Utf8(payload)), OutFrame.Ping());
            return await Judge.ExpectFailureAsync(ctx, CloseCodes.ProtocolError, [ExpectedEvent.Text(Hello)], []);
        });

    private static string WithPayload(string payload) => payload.Length > 0 ? " and non-empty payload" : "";
}
