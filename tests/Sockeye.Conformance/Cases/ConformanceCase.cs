using Sockeye.Conformance.Deflate;
using Sockeye.Conformance.Judging;

namespace Sockeye.Conformance.Cases;

/// <summary>One test case, identified like its Autobahn TestSuite counterpart so results can be compared.</summary>
internal sealed record ConformanceCase(string Id, string Description, Func<CaseContext, Task<Verdict>> Run)
{
    /// <summary>Safety net for the whole case; individual waits have their own, shorter, bounds.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How the case negotiates permessage-deflate (groups 12 and 13); null: no extension is offered or accepted.</summary>
    public DeflateSetup? Deflate { get; init; }
}

/// <summary>
/// The permessage-deflate side of a case's opening handshake (RFC 7692 5), for both roles. In client role an upgrade
/// refused over our offer is NON-STRICT: RFC 7692 7 has the server decline an offer, not the handshake.
/// </summary>
internal sealed record DeflateSetup
{
    /// <summary>The default offer, as browsers make it: permessage-deflate; client_max_window_bits.</summary>
    public const string DefaultPeerOffer = "client_max_window_bits";

    /// <summary>Client role: our Sec-WebSocket-Extensions header lines (each may hold several offers).</summary>
    public required IReadOnlyList<string> Offers { get; init; }

    /// <summary>Server role: the parameters the echo client is asked to offer, through {offer} in --peer-deflate.</summary>
    public string PeerOffer { get; init; } = DefaultPeerOffer;

    /// <summary>Server role: our answer, given the client's Sec-WebSocket-Extensions (null when it sent none).</summary>
    public required Func<string?, ServerAnswer> Answer { get; init; }
}
