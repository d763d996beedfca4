namespace Sockeye.Conformance.Wire;

/// <summary>Close status codes (RFC 6455 7.4).</summary>
internal static class CloseCodes
{
    public const ushort Normal = 1000;
    public const ushort GoingAway = 1001;
    public const ushort ProtocolError = 1002;
    public const ushort InvalidPayload = 1007;
    public const ushort MessageTooBig = 1009;

    /// <summary>
    /// Whether a peer may put this code on the wire: 1000-1003 and 1007-1011 (RFC 6455 7.4.1),
    /// 1012-1014 (registered later in the IANA registry) and 3000-4999 (7.4.2).
    /// 1004-1006 and 1015 are reserved and MUST NOT be sent; everything else is undefined.
    /// </summary>
    public static bool IsValidOnWire(ushort code) =>
        code is (>= 1000 and <= 1003) or (>= 1007 and <= 1014) or (>= 3000 and <= 4999);

    /// <summary>Codes that signal an error; closing with one other than the expected one is NON-STRICT, not FAILED.</summary>
    public static bool IsErrorCode(ushort code) => code is (>= 1002 and <= 1003) or (>= 1007 and <= 1011);
}
