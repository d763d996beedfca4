
namespace Sockeye.Cli;

/// <summary>How <c>sockeye connect</c> reports the end of a connection: a line on stderr and its exit status.</summary>
internal static class CloseReport
{
    /// <summary>Exit status for a close that is not a normal end (the connection failed or the server refused).</summary>
    public const int AbnormalExit = 1;

    /// <summary>
    /// 1000, 1001 and 1005 (a close frame without a code) end a session normally: exit 0. Anything else, including
    /// 1006 (the TCP connection ended without a close frame), exits <see cref="AbnormalExit"/>. The line
    /// <c>sockeye: closed: 1008 policy violation: REASON</c> is printed when the server closed (whatever the code) or
    /// when the close was not normal; a session the client ended normally prints nothing.
    /// </summary>
    public static int Report(WebSocketConnection connection, bool clientClosed, TextWriter stderr)
    {
        ushort code = connection.CloseStatus ?? CloseCode.AbnormalClosure;
        bool normal = code is CloseCode.NormalClosure or CloseCode.GoingAway or CloseCode.NoStatusReceived;
        if (!clientClosed || !normal)
        {
            // The reason is the server's text: escaped so it cannot write control sequences to the terminal.
            string reason = string.IsNullOrEmpty(connection.CloseReason) ? string.Empty : ": " + LogText.Escape(connection.CloseReason);
            stderr.WriteLine($"sockeye: closed: {code} {Name(code)}{reason}");
        }

        return normal ? 0 : AbnormalExit;
    }

    /// <summary>The RFC 6455 §7.4.1 meaning of a close code (IANA registry for 1012-1015).</summary>
    public static string Name(ushort code) => code switch
    {
        CloseCode.NormalClosure => "normal closure",
        CloseCode.GoingAway => "going away",
        CloseCode.ProtocolError => "protocol error",
        CloseCode.UnsupportedData => "unsupported data",
        CloseCode.NoStatusReceived => "no status code",
        CloseCode.AbnormalClosure => "abnormal closure (the connection ended without a close frame)",
        CloseCode.InvalidPayloadData => "invalid payload data",
        CloseCode.PolicyViolation => "policy violation",
        CloseCode.MessageTooBig => "message too big",
        CloseCode.MandatoryExtension => "mandatory extension",
        CloseCode.InternalError => "internal error",
        CloseCode.ServiceRestart => "service restart",
        CloseCode.TryAgainLater => "try again later",
        1014 => "bad gateway",
        CloseCode.TlsHandshake => "TLS handshake failure",
        >= 3000 and <= 3999 => "registered code",
        >= 4000 and <= 4999 => "application code",
        _ => "unknown code",
    };
}
