using Sockeye.Conformance.Judging;
using Sockeye.Conformance.Wire;

namespace Sockeye.Conformance.Cases;

/// <summary>How a case's frames are written: Autobahn's default, sync = True, or chopsize = 1.</summary>
internal enum SendMode
{
    /// <summary>All frames in one write.</summary>
    Together,

    /// <summary>One write per frame.</summary>
    PerFrame,

    /// <summary>One write per byte.</summary>
    Bytewise,
}

internal static class SendModeExtensions
{
    public static Task<bool> SendAsync(this CaseContext ctx, SendMode mode, params OutFrame[] frames) => mode switch
    {
        SendMode.PerFrame => ctx.SendEachAsync(frames),
        SendMode.Bytewise => ctx.SendChoppedAsync(1, frames),
        _ => ctx.SendAsync(frames),
    };

    public static string Describe(this SendMode mode) => mode switch
    {
        SendMode.PerFrame => " Octets are sent in frame-wise chops.",
        SendMode.Bytewise => " Octets are sent in octet-wise chops.",
        _ => "",
    };
}
