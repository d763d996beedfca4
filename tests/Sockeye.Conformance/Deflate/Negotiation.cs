namespace Sockeye.Conformance.Deflate;

/// <summary>A permessage-deflate offer as the client sent it: valid (with its parameters) or not (with the reason).</summary>
internal sealed record ReceivedOffer(ExtensionElement Element, DeflateParams? Params, string? Error);

/// <summary>Server role: what we answer to the client's offers, and what we then expect on the wire.</summary>
/// <param name="Header">Our Sec-WebSocket-Extensions value, or null to decline everything.</param>
/// <param name="Agreement">What both sides use if the client goes along with <paramref name="Header"/>.</param>
/// <param name="NotApplicable">Why the client's offer does not allow the answer the case is about (the case is then informational).</param>
internal sealed record ServerAnswer(string? Header, DeflateAgreement? Agreement, string? NotApplicable = null)
{
    public static ServerAnswer Decline { get; } = new(null, null);
}

/// <summary>What happened to permessage-deflate in the opening handshake, for the case to judge.</summary>
internal sealed record Negotiation
{
    /// <summary>The Sec-WebSocket-Extensions the client sent (lines joined with ", "), or null.</summary>
    public string? Offered { get; init; }

    /// <summary>The Sec-WebSocket-Extensions of the 101 response, or null.</summary>
    public string? Answered { get; init; }

    /// <summary>What is in use on the connection; null when permessage-deflate is not.</summary>
    public DeflateAgreement? Agreement { get; init; }

    /// <summary>Client role: which permessage-deflate offer (1-based) the answer first fits.</summary>
    public int? AcceptedOffer { get; init; }

    /// <summary>Client role: why the server's answer is invalid (we then fail the connection, RFC 7692 5).</summary>
    public string? Problem { get; init; }

    /// <summary>Server role: why the client's offer does not allow the answer this case needs.</summary>
    public string? NotApplicable { get; init; }

    public string Describe() =>
        $"offered \"{Offered ?? "(nothing)"}\", answered \"{Answered ?? "(nothing)"}\"";

    /// <summary>Client role: judges the server's answer against everything we offered (RFC 6455 4.1, RFC 7692 5 and 7).</summary>
    public static Negotiation EvaluateAnswer(IReadOnlyList<string> offerLines, string? answer)
    {
        var offered = offerLines.Count == 0 ? null : string.Join(", ", offerLines);
        var offerElements = ExtensionHeader.Parse(offered);
        var result = new Negotiation { Offered = offered, Answered = answer };
        var answerElements = ExtensionHeader.Parse(answer);
        if (answerElements.Count == 0)
        {
            return result;
        }

        // RFC 7692 5: the server accepts at most one PMCE offer (all of ours share RSV1).
        if (answerElements.Count > 1)
        {
            return result with { Problem = $"the answer accepts {answerElements.Count} extensions; at most one permessage-deflate can be in use (RFC 7692 5, RFC 6455 9.1)" };
        }

        var element = answerElements[0];
        if (!offerElements.Any(o => o.Name.Equals(element.Name, StringComparison.OrdinalIgnoreCase)))
        {
            return result with { Problem = $"the answer names extension \"{element.Name}\" that was not offered (RFC 6455 4.1: the client MUST fail the connection)" };
        }

        if (!element.Name.Equals(DeflateParams.ExtensionName, StringComparison.OrdinalIgnoreCase))
        {
            return result with { Problem = $"the server accepted \"{element.Name}\", an extension offered only to be declined" };
        }

        var (response, error) = DeflateParams.ParseResponse(element);
        if (response is null)
        {
            return result with { Problem = $"invalid answer: {error} (RFC 7692 5: the client MUST fail the connection)" };
        }

        var offers = offerElements.Where(o => o.Name.Equals(DeflateParams.ExtensionName, StringComparison.OrdinalIgnoreCase)).Select(DeflateParams.ParseOffer).ToList();
        DeflateAgreement? agreement = null;
        int? accepted = null;
        string? firstMismatch = null;
        for (var i = 0; i < offers.Count; i++)
        {
            if (offers[i].Params is not { } offer)
            {
                continue; // an offer the server must decline (RFC 7692 7); an answer cannot accept it
            }

            if (response.CheckAgainstOffer(offer) is { } mismatch)
            {
                firstMismatch ??= mismatch;
                continue;
            }

            // Several offers may fit; we do not know which the server meant, so we keep every promise we made.
            var candidate = DeflateAgreement.From(offer, response);
            agreement = agreement is null ? candidate : agreement.Strictest(candidate);
            accepted ??= i + 1;
        }

        return agreement is null
            ? result with { Problem = $"the answer fits no valid offer: {firstMismatch ?? "every permessage-deflate offer was invalid and must have been declined (RFC 7692 7)"}" }
            : result with { Agreement = agreement, AcceptedOffer = accepted };
    }

    /// <summary>Server role: the client's permessage-deflate offers in order (other extensions are ignored).</summary>
    public static IReadOnlyList<ReceivedOffer> ParseOffers(string? header) =>
        [.. ExtensionHeader.Parse(header)
            .Where(e => e.Name.Equals(DeflateParams.ExtensionName, StringComparison.OrdinalIgnoreCase))
            .Select(e =>
            {
                var (offer, error) = DeflateParams.ParseOffer(e);
                return new ReceivedOffer(e, offer, error);
            })];
}
