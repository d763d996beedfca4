using Sockeye.Conformance.Judging;
using Sockeye.Conformance.Wire;

namespace Sockeye.Conformance.Cases;

/// <summary>Autobahn group 10: the peer must accept any fragmentation and may re-fragment its echo however it likes.</summary>
internal static class AutoFragmentationCases
{
    public static IEnumerable<ConformanceCase> All()
    {
        yield return new ConformanceCase("10.1.1", "Send text message of length 65536 in fragments of 1300 octets; expect it echoed (in any framing).", async ctx =>
        {
            var payload = Payloads.Filled((byte)'*', 65536);
            await ctx.SendAsync(OutFrame.Fragment(Opcodes.Text, payload, 1300));
            return await Judge.ExpectThenCloseAsync(ctx, ExpectedEvent.Text(payload));
        });
    }
}
