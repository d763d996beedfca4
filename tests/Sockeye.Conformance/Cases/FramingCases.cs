using Sockeye.Conformance.Judging;
using Sockeye.Conformance.Wire;

namespace Sockeye.Conformance.Cases;

/// <summary>Autobahn group 1: text and binary messages around the 7-bit/16-bit/64-bit length boundaries (RFC 6455 5.2).</summary>
internal static class FramingCases
{
    private static readonly int[] Lengths = [0, 125, 126, 127, 128, 65535, 65536];

    public static IEnumerable<ConformanceCase> All()
    {
        for (var i = 0; i < Lengths.Length; i++)
        {
            yield return Echo($"1.1.{i + 1}", Opcodes.Text, Lengths[i], chop: null);
        }

        yield return Echo("1.1.8", Opcodes.Text, 65536, chop: 997);

        for (var i = 0; i < Lengths.Length; i++)
        {
            yield return Echo($"1.2.{i + 1}", Opcodes.Binary, Lengths[i], chop: null);
        }

        yield return Echo("1.2.8", Opcodes.Binary, 65536, chop: 997);
    }

    private static ConformanceCase Echo(string id, byte opcode, int length, int? chop)
    {
        var binary = opcode == Opcodes.Binary;
        var payload = Payloads.Filled(binary ? (byte)0xFE : (byte)'*', length);
        var description = $"Send {(binary ? "binary" : "text")} message with payload of length {length}{(chop is { } c ? $", in {c}-byte writes" : "")}; expect it echoed.";
        return new ConformanceCase(id, description, async ctx =>
        {
            var frame = new OutFrame(opcode, payload);
            _ = chop is { } size ? await ctx.SendChoppedAsync(size, frame) : await ctx.SendAsync(frame);
            return await Judge.ExpectThenCloseAsync(ctx, binary ? ExpectedEvent.Binary(payload) : ExpectedEvent.Text(payload));
        });
    }
}
