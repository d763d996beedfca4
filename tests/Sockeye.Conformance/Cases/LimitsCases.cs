using System.Diagnostics;
using System.Globalization;
using Sockeye.Conformance.Judging;
using Sockeye.Conformance.Wire;

namespace Sockeye.Conformance.Cases;

/// <summary>Autobahn group 9: large messages, many fragments, tiny TCP writes and round-trip series, all echoed byte for byte.</summary>
internal static class LimitsCases
{
    private const int KiB = 1024;
    private const int MiB = 1024 * 1024;
    private const string TextPattern = "BAsd7&jh23";

    private static readonly int[] MessageSizes = [64 * KiB, 256 * KiB, MiB, 4 * MiB, 8 * MiB, 16 * MiB];
    private static readonly int[] FragmentSizes = [64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 4 * MiB];
    private static readonly int[] ChopSizes = [64, 128, 256, 512, 1024, 2048];
    private static readonly int[] RoundTripSizes = [0, 16, 64, 256, 1024, 4096];
    private static readonly byte[] BinaryPattern = [0x00, 0xFE, 0x23, 0xFA, 0xF0];

    /// <summary>Generous: 16 MiB through a debug build on a busy CI runner.</summary>
    private static readonly TimeSpan BigTimeout = TimeSpan.FromSeconds(120);

    public static IEnumerable<ConformanceCase> All()
    {
        for (var i = 0; i < MessageSizes.Length; i++)
        {
            var size = MessageSizes[i];
            yield return Echo($"9.1.{i + 1}", $"Send text message with payload of length {Size(size)}.", Opcodes.Text, () => Payloads.Repeat(TextPattern, size), fragmentSize: null, chopSize: null);
        }

        for (var i = 0; i < MessageSizes.Length; i++)
        {
            var size = MessageSizes[i];
            yield return Echo($"9.2.{i + 1}", $"Send binary message with payload of length {Size(size)}.", Opcodes.Binary, () => Payloads.Repeat(BinaryPattern, size), fragmentSize: null, chopSize: null);
        }

        for (var i = 0; i < FragmentSizes.Length; i++)
        {
            var fragment = FragmentSizes[i];
            yield return Echo($"9.3.{i + 1}", $"Send fragmented text message of length 4 MiB in fragments of {Size(fragment)}.", Opcodes.Text, () => Payloads.Filled((byte)'*', 4 * MiB), fragment, chopSize: null);
        }

        for (var i = 0; i < FragmentSizes.Length; i++)
        {
            var fragment = FragmentSizes[i];
            yield return Echo($"9.4.{i + 1}", $"Send fragmented binary message of length 4 MiB in fragments of {Size(fragment)}.", Opcodes.Binary, () => Payloads.Filled(0xFE, 4 * MiB), fragment, chopSize: null);
        }

        for (var i = 0; i < ChopSizes.Length; i++)
        {
            var chop = ChopSizes[i];
            yield return Echo($"9.5.{i + 1}", $"Send text message of length 1 MiB in TCP writes of {chop} octets.", Opcodes.Text, () => Payloads.Repeat(TextPattern, MiB), fragmentSize: null, chop);
        }

        for (var i = 0; i < ChopSizes.Length; i++)
        {
            var chop = ChopSizes[i];
            yield return Echo($"9.6.{i + 1}", $"Send binary message of length 1 MiB in TCP writes of {chop} octets.", Opcodes.Binary, () => Payloads.Repeat(BinaryPattern, MiB), fragmentSize: null, chop);
        }

        for (var i = 0; i < RoundTripSizes.Length; i++)
        {
            yield return RoundTrips($"9.7.{i + 1}", Opcodes.Text, RoundTripSizes[i]);
        }

        for (var i = 0; i < RoundTripSizes.Length; i++)
        {
            yield return RoundTrips($"9.8.{i + 1}", Opcodes.Binary, RoundTripSizes[i]);
        }
    }

    private static ConformanceCase Echo(string id, string description, byte opcode, Func<byte[]> makePayload, int? fragmentSize, int? chopSize) =>
        new(id, $"{description} Expect it echoed byte for byte.", async ctx =>
        {
            var payload = makePayload();
            var clock = Stopwatch.StartNew();
            var frames = fragmentSize is { } size ? OutFrame.Fragment(opcode, payload, size) : [new OutFrame(opcode, payload)];
            _ = chopSize is { } chop ? await ctx.SendChoppedAsync(chop, frames) : await ctx.SendAsync(frames);
            var expected = opcode == Opcodes.Binary ? ExpectedEvent.Binary(payload) : ExpectedEvent.Text(payload);
            var failure = await Judge.AwaitEventsAsync(ctx, [expected], BigTimeout);
            var elapsed = clock.ElapsedMilliseconds;
            return failure ?? Verdict.Combine(Verdict.Ok($"echoed in {elapsed} ms"), await Judge.CloseAsync(ctx));
        })
        { Timeout = BigTimeout * 2 };

    /// <summary>9.7/9.8: 1000 messages, each sent only after the previous echo arrived (latency, not throughput).</summary>
    private static ConformanceCase RoundTrips(string id, byte opcode, int size)
    {
        const int count = 1000;
        var binary = opcode == Opcodes.Binary;
        var payload = binary ? Payloads.Filled(0xFE, size) : Payloads.Filled((byte)'*', size);
        var expected = binary ? ExpectedEvent.Binary(payload) : ExpectedEvent.Text(payload);
        return new ConformanceCase(id, $"Send {count} {(binary ? "binary" : "text")} messages of payload size {size} one after the other; expect each echoed before the next is sent.", async ctx =>
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < count; i++)
            {
                await ctx.SendAsync(new OutFrame(opcode, payload));
                if (await Judge.AwaitEventsAsync(ctx, [expected], ctx.Timeouts.Reply) is { } failure)
                {
                    return failure with { Reason = $"message {i + 1}: {failure.Reason}" };
                }
            }

            var elapsed = clock.ElapsedMilliseconds;
            return Verdict.Combine(Verdict.Ok($"{count} round trips in {elapsed} ms"), await Judge.CloseAsync(ctx));
        })
        { Timeout = BigTimeout };
    }

    private static string Size(int bytes) => bytes switch
    {
        >= MiB when bytes % MiB == 0 => $"{bytes / MiB} MiB",
        >= KiB when bytes % KiB == 0 => $"{bytes / KiB} KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture),
    };
}
