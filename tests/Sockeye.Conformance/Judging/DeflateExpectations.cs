namespace Sockeye.Conformance.Judging;

/// <summary>
/// What the user expects of permessage-deflate in groups 12 and 13: <see cref="Threshold"/> is the size from which the
/// peer's echoes should be compressed (smaller ones may go uncompressed); <see cref="Required"/> turns "not
/// negotiated" (Autobahn's UNIMPLEMENTED, reported as INFORMATIONAL) into FAILED.
/// </summary>
internal sealed record DeflateExpectations(int Threshold, bool Required)
{
    public static DeflateExpectations Default { get; } = new(32, Required: false);
}
