using Sockeye.Conformance.Judging;
using Sockeye.Conformance.Wire;

namespace Sockeye.Conformance.Cases;

/// <summary>
/// Group 11, a Sockeye addition (Autobahn has no such cases): frames masked the wrong way for the sender's role.
/// RFC 6455 5.1: "The server MUST close the connection upon receiving a frame that is not masked ... A client MUST close
/// a connection if it detects a masked frame." As client we send unmasked frames; as server, masked ones.
/// </summary>
internal static class MaskingCases
{
    public static IEnumerable<ConformanceCase> All()
    {
        yield return WrongMask("11.1.1", OutFrame.Text("Hello, world!"));
        yield return WrongMask("11.1.2", OutFrame.Ping("Hello, world!"));
    }

    private static ConformanceCase WrongMask(string id, OutFrame frame) =>
        new(id, $"Send a {Opcodes.Name(frame.Opcode)} frame masked the wrong way for our role (unmasked from a client, masked from a server); expect failure 1002.", async ctx =>
        {
            await ctx.SendAsync(frame with { Masked = ctx.Role == Role.Server });
            return await Judge.ExpectFailureAsync(ctx, CloseCodes.ProtocolError);
        });
}
