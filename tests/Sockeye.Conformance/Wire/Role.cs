namespace Sockeye.Conformance.Wire;

/// <summary>Which end of the connection the suite plays; decides masking in both directions (RFC 6455 5.1).</summary>
internal enum Role
{
    /// <summary>We are the client: our frames are masked, the server's must not be.</summary>
    Client,

    /// <summary>We are the server: our frames are unmasked, the client's must be masked.</summary>
    Server,
}
