namespace Sockeye.Protocol;

/// <summary>
/// Why the connection must be failed (RFC 6455 §7.1.7), as a value: the close code to send and a reason for the
/// log. Parsers return these instead of throwing, so bad input never escapes as an exception.
/// </summary>
/// <param name="CloseCode">Close code to send to the peer.</param>
/// <param name="Reason">Human-readable reason, logged and sent as the close reason.</param>
internal readonly record struct ProtocolError(ushort CloseCode, string Reason)
{
    /// <summary>True when this value carries an error (default instance means "no error").</summary>
    public bool IsError => CloseCode != 0;

    internal static ProtocolError Protocol(string reason) => new(Sockeye.CloseCode.ProtocolError, reason);
    internal static ProtocolError InvalidData(string reason) => new(Sockeye.CloseCode.InvalidPayloadData, reason);
    internal static ProtocolError TooBig(string reason) => new(Sockeye.CloseCode.MessageTooBig, reason);
}
