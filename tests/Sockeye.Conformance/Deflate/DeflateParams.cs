using System.Globalization;

namespace Sockeye.Conformance.Deflate;

/// <summary>
/// The parameters of one permessage-deflate offer or response (RFC 7692 7.1). <see cref="ClientMaxWindowBits"/> is
/// whether client_max_window_bits is present; <see cref="ClientMaxWindowBitsValue"/> its value, if any.
/// </summary>
internal sealed record DeflateParams
{
    public const string ExtensionName = "permessage-deflate";

    public bool ServerNoContextTakeover { get; init; }

    public bool ClientNoContextTakeover { get; init; }

    public int? ServerMaxWindowBits { get; init; }

    public bool ClientMaxWindowBits { get; init; }

    public int? ClientMaxWindowBitsValue { get; init; }

    public static DeflateParams Default { get; } = new();

    /// <summary>The element as it goes into Sec-WebSocket-Extensions.</summary>
    public override string ToString()
    {
        var parts = new List<string> { ExtensionName };
        if (ClientNoContextTakeover)
        {
            parts.Add("client_no_context_takeover");
        }

        if (ClientMaxWindowBits)
        {
            parts.Add(ClientMaxWindowBitsValue is { } c ? $"client_max_window_bits={c}" : "client_max_window_bits");
        }

        if (ServerNoContextTakeover)
        {
            parts.Add("server_no_context_takeover");
        }

        if (ServerMaxWindowBits is { } s)
        {
            parts.Add($"server_max_window_bits={s}");
        }

        return string.Join("; ", parts);
    }

    /// <summary>
    /// Validates an offer (RFC 7692 7: a server MUST decline an offer with an unknown parameter, an invalid value or a
    /// repeated parameter). Returns the parameters or the reason the offer is invalid.
    /// </summary>
    public static (DeflateParams? Params, string? Error) ParseOffer(ExtensionElement element) => Parse(element, isResponse: false);

    /// <summary>
    /// Validates a response on its own (RFC 7692 7: a client MUST fail the connection on an unknown parameter, an
    /// invalid value or a repeated parameter); <see cref="CheckAgainstOffer"/> then matches it to an offer.
    /// </summary>
    public static (DeflateParams? Params, string? Error) ParseResponse(ExtensionElement element) => Parse(element, isResponse: true);

    /// <summary>Whether a valid response accepts <paramref name="offer"/>; null if it does, else why not.</summary>
    public string? CheckAgainstOffer(DeflateParams offer)
    {
        // RFC 7692 7.1.2.2: "If a received extension negotiation offer doesn't have the client_max_window_bits
        // extension parameter, the corresponding extension negotiation response to the offer MUST NOT include" it.
        if (ClientMaxWindowBits && !offer.ClientMaxWindowBits)
        {
            return "client_max_window_bits answered though not offered (RFC 7692 7.1.2.2)";
        }

        // RFC 7692 7.1.1.1: a server accepts server_no_context_takeover by including it in the response.
        if (offer.ServerNoContextTakeover && !ServerNoContextTakeover)
        {
            return "server_no_context_takeover offered but missing from the answer (RFC 7692 7.1.1.1)";
        }

        // RFC 7692 7.1.2.1: "... by including the server_max_window_bits extension parameter in the extension
        // negotiation response ... with the same or smaller value as the offer."
        if (offer.ServerMaxWindowBits is { } offered)
        {
            if (ServerMaxWindowBits is not { } answered)
            {
                return $"server_max_window_bits={offered} offered but missing from the answer (RFC 7692 7.1.2.1)";
            }

            if (answered > offered)
            {
                return $"server_max_window_bits={answered} answered, more than the {offered} offered (RFC 7692 7.1.2.1)";
            }
        }

        return null;
    }

    private static (DeflateParams? Params, string? Error) Parse(ExtensionElement element, bool isResponse)
    {
        if (element.SyntaxError is { } syntax)
        {
            return (null, syntax);
        }

        var result = new DeflateParams();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in element.Params)
        {
            if (!seen.Add(p.Name))
            {
                return (null, $"parameter {p.Name} appears twice (RFC 7692 7)");
            }

            switch (p.Name)
            {
                case "server_no_context_takeover" or "client_no_context_takeover" when p.Value is not null:
                    return (null, $"{p} has a value; it MUST NOT have one (RFC 7692 7.1.1)");
                case "server_no_context_takeover":
                    result = result with { ServerNoContextTakeover = true };
                    break;
                case "client_no_context_takeover":
                    result = result with { ClientNoContextTakeover = true };
                    break;
                case "server_max_window_bits":
                    if (WindowBits(p) is not { } serverBits)
                    {
                        return (null, $"{p} is not a decimal 8..15 without leading zeroes (RFC 7692 7.1.2.1)");
                    }

                    result = result with { ServerMaxWindowBits = serverBits };
                    break;
                case "client_max_window_bits" when p.Value is null:
                    // Valueless in an offer ("I support it"); a response must carry a value (RFC 7692 7.1.2.2).
                    if (isResponse)
                    {
                        return (null, "client_max_window_bits without a value in a response (RFC 7692 7.1.2.2)");
                    }

                    result = result with { ClientMaxWindowBits = true };
                    break;
                case "client_max_window_bits":
                    if (WindowBits(p) is not { } clientBits)
                    {
                        return (null, $"{p} is not a decimal 8..15 without leading zeroes (RFC 7692 7.1.2.2)");
                    }

                    result = result with { ClientMaxWindowBits = true, ClientMaxWindowBitsValue = clientBits };
                    break;
                default:
                    return (null, $"unknown parameter {p} (RFC 7692 7)");
            }
        }

        return (result, null);
    }

    /// <summary>RFC 7692 7.1.2: "a decimal integer value without leading zeroes between 8 to 15, inclusive".</summary>
    private static int? WindowBits(ExtensionParam p) =>
        p.Value is { Length: 1 or 2 } v && v[0] != '0' && v.All(char.IsAsciiDigit)
            && int.Parse(v, NumberStyles.None, CultureInfo.InvariantCulture) is var bits and >= 8 and <= 15
            ? bits
            : null;
}

/// <summary>What both directions use once negotiated: context takeover and the LZ77 window (RFC 7692 7.1).</summary>
internal sealed record DeflateAgreement(bool ServerNoContextTakeover, int ServerWindowBits, bool ClientNoContextTakeover, int ClientWindowBits)
{
    /// <summary>From the accepted offer and the response (RFC 7692 7.1.1, 7.1.2).</summary>
    public static DeflateAgreement From(DeflateParams offer, DeflateParams response) => new(
        ServerNoContextTakeover: response.ServerNoContextTakeover,
        ServerWindowBits: response.ServerMaxWindowBits ?? 15,
        // 7.1.1.2: an offered client_no_context_takeover is a promise even if the answer omits it.
        ClientNoContextTakeover: response.ClientNoContextTakeover || offer.ClientNoContextTakeover,
        // 7.1.2.2: an offered value is a promise too; the answer may lower it.
        ClientWindowBits: Math.Min(response.ClientMaxWindowBitsValue ?? 15, offer.ClientMaxWindowBitsValue ?? 15));

    /// <summary>The stricter of two agreements, for when it is not known which of several offers was accepted.</summary>
    public DeflateAgreement Strictest(DeflateAgreement other) => new(
        ServerNoContextTakeover || other.ServerNoContextTakeover,
        Math.Min(ServerWindowBits, other.ServerWindowBits),
        ClientNoContextTakeover || other.ClientNoContextTakeover,
        Math.Min(ClientWindowBits, other.ClientWindowBits));

    public override string ToString() =>
        $"server→client {ServerWindowBits}-bit window{(ServerNoContextTakeover ? ", no context takeover" : "")}; " +
        $"client→server {ClientWindowBits}-bit window{(ClientNoContextTakeover ? ", no context takeover" : "")}";
}
