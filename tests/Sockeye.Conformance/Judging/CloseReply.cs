namespace Sockeye.Conformance.Judging;

/// <summary>
/// What the peer may answer to a Close we sent. <see cref="AfterInvalidClose"/>: our Close was malformed, so the peer
/// should fail the connection; dropping TCP is then acceptable and another error code is NON-STRICT.
/// </summary>
internal sealed record CloseReply(IReadOnlyCollection<ushort> Accepted, bool AfterInvalidClose)
{
    public static CloseReply Normal { get; } = new([Wire.CloseCodes.Normal], AfterInvalidClose: false);

    public static CloseReply ProtocolError { get; } = new([Wire.CloseCodes.ProtocolError], AfterInvalidClose: true);

    public string AcceptedText => string.Join(" or ", Accepted);
}
