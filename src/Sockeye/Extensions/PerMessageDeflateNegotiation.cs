using System.Globalization;
using System.Text;
using Sockeye.Protocol;

namespace Sockeye.Extensions;

/// <summary>The opening-handshake side of permessage-deflate (RFC 7692 §5, §7.1), for both roles. No I/O.</summary>
internal static class PerMessageDeflateNegotiation
{
    /// <summary>The extension's registered name.</summary>
    public const string Name = "permessage-deflate";

    private const string ServerNoContext = "server_no_context_takeover";
    private const string ClientNoContext = "client_no_context_takeover";
    private const string ServerBits = "server_max_window_bits";
    private const string ClientBits = "client_max_window_bits";

    // What one offer or response asks for, once its parameters were checked (§7.1: each at most once, known, in range).
    private readonly record struct Request(bool ServerNoContext, bool ClientNoContext, int? ServerBits, bool ClientBitsPresent, int? ClientBits);

    /// <summary>
    /// Server side (§5.1): picks the first offer it can accept and returns the agreed parameters, or null when none
    /// can be accepted. Invalid offers (bad syntax, unknown or repeated parameters, values outside 8–15) are declined,
    /// not failed: the client may have sent a valid one after them.
    /// </summary>
    public static PerMessageDeflateParameters? Accept(IEnumerable<ExtensionOffer> offers, PerMessageDeflateOptions options)
    {
        ArgumentNullException.ThrowIfNull(offers);
        ArgumentNullException.ThrowIfNull(options);
        foreach (ExtensionOffer offer in offers)
        {
            if (!string.Equals(offer.Name, Name, StringComparison.OrdinalIgnoreCase) || !offer.IsValid ||
                TryRead(offer, out Request request) is not null)
            {
                continue;
            }

            bool serverNoContext = request.ServerNoContext || options.ServerNoContextTakeover;
            bool clientNoContext = request.ClientNoContext || options.ClientNoContextTakeover;
            // §7.1.2.1: the server may always lower its own window, and must stay within a window the client asked for.
            int serverBits = Math.Min(request.ServerBits ?? 15, options.ServerMaxWindowBits);
            // §7.1.2.2: the server may only limit the client's window when the client offered the parameter.
            int clientBits = request.ClientBitsPresent ? Math.Min(request.ClientBits ?? 15, options.ClientMaxWindowBits) : 15;

            var header = new StringBuilder(Name);
            if (serverNoContext)
            {
                header.Append("; ").Append(ServerNoContext);
            }

            if (clientNoContext)
            {
                header.Append("; ").Append(ClientNoContext);
            }

            if (request.ServerBits is not null || serverBits < 15)
            {
                header.Append("; ").Append(ServerBits).Append('=').Append(serverBits.ToString(CultureInfo.InvariantCulture));
            }

            if (request.ClientBitsPresent && clientBits < 15)
            {
                header.Append("; ").Append(ClientBits).Append('=').Append(clientBits.ToString(CultureInfo.InvariantCulture));
            }

            return new PerMessageDeflateParameters(serverNoContext, clientNoContext, serverBits, clientBits, header.ToString());
        }

        return null;
    }

    /// <summary>
    /// Client side: the offer for <paramref name="options"/> (with <c>client_max_window_bits</c> unless
    /// <see cref="PerMessageDeflateOptions.OfferClientMaxWindowBits"/> is off, so the server may lower it).
    /// </summary>
    public static string Offer(PerMessageDeflateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var sb = new StringBuilder(Name);
        if (options.ServerNoContextTakeover)
        {
            sb.Append("; ").Append(ServerNoContext);
        }

        if (options.ClientNoContextTakeover)
        {
            sb.Append("; ").Append(ClientNoContext);
        }

        if (options.ServerMaxWindowBits < 15)
        {
            sb.Append("; ").Append(ServerBits).Append('=').Append(options.ServerMaxWindowBits.ToString(CultureInfo.InvariantCulture));
        }

        if (options.OfferClientMaxWindowBits || options.ClientMaxWindowBits < 15)
        {
            sb.Append("; ").Append(ClientBits);
            if (options.ClientMaxWindowBits < 15)
            {
                sb.Append('=').Append(options.ClientMaxWindowBits.ToString(CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    /// <summary>
    /// Client side (§5.2, §7.1): checks the server's <c>Sec-WebSocket-Extensions</c> answer against what
    /// <see cref="Offer"/> offered. Returns null when valid (then <paramref name="agreed"/> is the agreed parameters,
    /// or null when the server declined), else why the client must fail the connection.
    /// </summary>
    public static string? ValidateResponse(IReadOnlyList<ExtensionOffer> response, PerMessageDeflateOptions? offered, out PerMessageDeflateParameters? agreed)
    {
        ArgumentNullException.ThrowIfNull(response);
        agreed = null;
        if (response.Count == 0)
        {
            return null;
        }

        // RFC 6455 §4.1 item 6: an extension that was not requested fails the connection.
        if (offered is null)
        {
            return $"server selected extension '{response[0].Name}', which was not offered";
        }

        if (response.FirstOrDefault(e => !string.Equals(e.Name, Name, StringComparison.OrdinalIgnoreCase)) is { } other)
        {
            return $"server selected extension '{other.Name}', which was not offered";
        }

        if (response.Count > 1)
        {
            return "server selected permessage-deflate more than once";
        }

        ExtensionOffer answer = response[0];
        if (!answer.IsValid)
        {
            return $"malformed extension response '{answer}'";
        }

        string? problem = TryRead(answer, out Request r);
        if (problem is not null)
        {
            return "invalid permessage-deflate response: " + problem;
        }

        // §7.1.2.2: only when the client offered the parameter, with a value no larger than what it offered.
        if (r.ClientBitsPresent && !(offered.OfferClientMaxWindowBits || offered.ClientMaxWindowBits < 15))
        {
            return "server answered client_max_window_bits, which was not offered";
        }

        if (r.ClientBitsPresent && r.ClientBits is null)
        {
            return "invalid permessage-deflate response: client_max_window_bits without a value";
        }

        if (r.ClientBits > offered.ClientMaxWindowBits)
        {
            return $"server asked for client_max_window_bits={r.ClientBits}, more than the {offered.ClientMaxWindowBits} offered";
        }

        // §7.1.1.1 / §7.1.2.1: what we asked of the server must be in its answer.
        if (offered.ServerNoContextTakeover && !r.ServerNoContext)
        {
            return "server ignored the offered server_no_context_takeover";
        }

        if (offered.ServerMaxWindowBits < 15 && (r.ServerBits is null || r.ServerBits > offered.ServerMaxWindowBits))
        {
            return $"server did not accept server_max_window_bits={offered.ServerMaxWindowBits}";
        }

        agreed = new PerMessageDeflateParameters(r.ServerNoContext, r.ClientNoContext || offered.ClientNoContextTakeover,
            r.ServerBits ?? 15, r.ClientBits ?? offered.ClientMaxWindowBits, answer.ToString());
        return null;
    }

    // Checks the parameters of one element (§7.1); null when they are acceptable.
    private static string? TryRead(ExtensionOffer element, out Request request)
    {
        request = default;
        bool serverNoContext = false, clientNoContext = false, clientBitsPresent = false;
        int? serverBits = null, clientBits = null;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in element.Parameters)
        {
            // §7.1: "A server MUST decline an extension negotiation offer ... if ... has multiple parameters with the same name".
            if (!seen.Add(key))
            {
                return $"parameter {key} repeated";
            }

            switch (key.ToLowerInvariant())
            {
                case ServerNoContext when value is null:
                    serverNoContext = true;
                    break;
                case ClientNoContext when value is null:
                    clientNoContext = true;
                    break;
                case ServerBits when ParseBits(value) is { } bits:
                    serverBits = bits;
                    break;
                case ClientBits when value is null:
                    clientBitsPresent = true;
                    break;
                case ClientBits when ParseBits(value) is { } bits:
                    clientBitsPresent = true;
                    clientBits = bits;
                    break;
                case ServerNoContext or ClientNoContext:
                    return $"parameter {key} must not have a value";
                case ServerBits or ClientBits:
                    return $"parameter {key} needs a value 8 to 15, got '{value}'";
                default:
                    return $"unknown parameter {key}";
            }
        }

        request = new Request(serverNoContext, clientNoContext, serverBits, clientBitsPresent, clientBits);
        return null;
    }

    // §7.1.2: "a decimal integer value without leading zeros between 8 to 15, inclusive".
    private static int? ParseBits(string? value) =>
        value is { Length: 1 or 2 } && value[0] != '0' && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int bits) && bits is >= 8 and <= 15
            ? bits
            : null;
}
