namespace Sockeye;

/// <summary>Close status codes (RFC 6455 §7.4) and the rules for which may appear on the wire.</summary>
public static class CloseCode
{
    /// <summary>Normal closure.</summary>
    public const ushort NormalClosure = 1000;
    /// <summary>The endpoint is going away (server shutdown, page navigation).</summary>
    public const ushort GoingAway = 1001;
    /// <summary>Protocol error.</summary>
    public const ushort ProtocolError = 1002;
    /// <summary>Received a data type it cannot accept.</summary>
    public const ushort UnsupportedData = 1003;
    /// <summary>Reserved: no status code was present. Never sent on the wire.</summary>
    public const ushort NoStatusReceived = 1005;
    /// <summary>Reserved: the connection closed without a close frame. Never sent on the wire.</summary>
    public const ushort AbnormalClosure = 1006;
    /// <summary>Message data inconsistent with its type (e.g. invalid UTF-8 in a text message).</summary>
    public const ushort InvalidPayloadData = 1007;
    /// <summary>Message violates the endpoint's policy.</summary>
    public const ushort PolicyViolation = 1008;
    /// <summary>Message too big to process.</summary>
    public const ushort MessageTooBig = 1009;
    /// <summary>Client expected the server to negotiate an extension.</summary>
    public const ushort MandatoryExtension = 1010;
    /// <summary>Unexpected condition on the server.</summary>
    public const ushort InternalError = 1011;
    /// <summary>Service restart (IANA registry).</summary>
    public const ushort ServiceRestart = 1012;
    /// <summary>Try again later (IANA registry).</summary>
    public const ushort TryAgainLater = 1013;
    /// <summary>Reserved: TLS handshake failure. Never sent on the wire.</summary>
    public const ushort TlsHandshake = 1015;

    /// <summary>
    /// Whether <paramref name="code"/> may appear in a close frame (RFC 6455 §7.4.1–7.4.2, IANA registry):
    /// 1000–1003, 1007–1014 and 3000–4999. Codes below 1000, 1004–1006, 1015, 1016–2999 and 5000+ are invalid.
    /// </summary>
    public static bool IsValidOnWire(int code) =>
        code is (>= 1000 and <= 1003) or (>= 1007 and <= 1014) or (>= 3000 and <= 4999);
}
