using System.Globalization;

namespace Sockeye.Cli.Bench;

/// <summary>
/// The client side of permessage-deflate negotiation (RFC 7692 §5, §7.1) for the load generator:
/// builds the offer and checks the server's Sec-WebSocket-Extensions answer against it. Written
/// here rather than taken from the Sockeye library so that a library bug cannot pass unnoticed.
/// </summary>
internal static class DeflateNegotiation
{
    public const string ExtensionName = "permessage-deflate";

    /// <summary>The parameters offered by <c>--deflate</c> without <c>--deflate-offer</c>.</summary>
    public const string DefaultOfferParameters = "client_no_context_takeover; client_max_window_bits";

    /// <summary>
    /// Turns <c>--deflate-offer</c> into a header value: parameters alone get the extension name
    /// prepended; a value that already starts with it (possibly several offers) is sent as is.
    /// </summary>
    public static string OfferHeader(string? offer)
    {
        var text = string.IsNullOrWhiteSpace(offer) ? DefaultOfferParameters : offer.Trim();
        return text.StartsWith(ExtensionName, StringComparison.OrdinalIgnoreCase) ? text : $"{ExtensionName}; {text}";
    }

    /// <summary>
    /// Checks the server's answer (all Sec-WebSocket-Extensions values joined with commas) against
    /// the offer header; null or empty means the server declined.
    /// </summary>
    /// <exception cref="InvalidDataException">The answer is malformed or not acceptable for any offer.</exception>
    public static DeflateAgreement Accept(string offerHeader, string? answer)
    {
        if (string.IsNullOrWhiteSpace(answer))
        {
            throw new InvalidDataException("server declined permessage-deflate (no Sec-WebSocket-Extensions in the 101)");
        }

        var answered = ParseList(answer, "answer");
        if (answered.Count != 1)
        {
            throw new InvalidDataException($"server answered {answered.Count} extensions, only permessage-deflate was offered: {answer}");
        }

        var (name, parameters) = answered[0];
        if (!name.Equals(ExtensionName, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"server answered extension '{name}', which was not offered");
        }

        var agreement = ParseAnswer(parameters, answer.Trim());
        string? lastProblem = null;
        foreach (var (offerName, offerParameters) in ParseList(offerHeader, "offer"))
        {
            if (offerName.Equals(ExtensionName, StringComparison.OrdinalIgnoreCase))
            {
                lastProblem = Mismatch(offerParameters, parameters);
                if (lastProblem is null)
                {
                    return agreement;
                }
            }
        }

        throw new InvalidDataException($"server answer '{answer.Trim()}' does not match the offer: {lastProblem ?? "no permessage-deflate offer"}");
    }

    /// <summary>Validates the answer's own syntax and values (§7.1: no duplicates, no unknown names, 8..15).</summary>
    private static DeflateAgreement ParseAnswer(List<(string Name, string? Value)> parameters, string text)
    {
        bool serverNoContext = false, clientNoContext = false;
        int? serverBits = null, clientBits = null;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in parameters)
        {
            if (!seen.Add(name))
            {
                throw new InvalidDataException($"server answer repeats the parameter {name}");
            }

            switch (name.ToLowerInvariant())
            {
                case "server_no_context_takeover":
                    serverNoContext = NoValue(name, value);
                    break;
                case "client_no_context_takeover":
                    clientNoContext = NoValue(name, value);
                    break;
                case "server_max_window_bits":
                    serverBits = WindowBits(name, value) ?? throw new InvalidDataException("server answer: server_max_window_bits needs a value");
                    break;
                case "client_max_window_bits":
                    // In an answer the value is mandatory (§7.1.2.2).
                    clientBits = WindowBits(name, value) ?? throw new InvalidDataException("server answer: client_max_window_bits needs a value");
                    break;
                default:
                    throw new InvalidDataException($"server answer has the unknown parameter {name}");
            }
        }

        return new DeflateAgreement(text, serverNoContext, clientNoContext, serverBits ?? 15, clientBits ?? 15);
    }

    /// <returns>Why the answer does not fit this offer, or null when it does.</returns>
    private static string? Mismatch(List<(string Name, string? Value)> offer, List<(string Name, string? Value)> answer)
    {
        string? Offered(string name, out bool present)
        {
            foreach (var (n, v) in offer)
            {
                if (n.Equals(name, StringComparison.OrdinalIgnoreCase))
                {
                    present = true;
                    return v;
                }
            }

            present = false;
            return null;
        }

        string? Answered(string name, out bool present)
        {
            foreach (var (n, v) in answer)
            {
                if (n.Equals(name, StringComparison.OrdinalIgnoreCase))
                {
                    present = true;
                    return v;
                }
            }

            present = false;
            return null;
        }

        // §7.1.1.1: an offer with server_no_context_takeover is accepted only by answering it.
        Offered("server_no_context_takeover", out var offeredServerNoContext);
        Answered("server_no_context_takeover", out var answeredServerNoContext);
        if (offeredServerNoContext && !answeredServerNoContext)
        {
            return "server_no_context_takeover was offered but not answered";
        }

        // §7.1.2.1: an offered server_max_window_bits must be answered with the same or a smaller value.
        var offeredServerBits = Offered("server_max_window_bits", out var offeredServerBitsPresent);
        var answeredServerBits = Answered("server_max_window_bits", out var answeredServerBitsPresent);
        if (offeredServerBitsPresent)
        {
            if (!answeredServerBitsPresent)
            {
                return "server_max_window_bits was offered but not answered";
            }

            if (int.Parse(answeredServerBits!, CultureInfo.InvariantCulture) > (WindowBits("server_max_window_bits", offeredServerBits) ?? 15))
            {
                return "server_max_window_bits answered larger than offered";
            }
        }

        // §7.1.2.2: client_max_window_bits may only be answered when the client offered it.
        var offeredClientBits = Offered("client_max_window_bits", out var offeredClientBitsPresent);
        var answeredClientBits = Answered("client_max_window_bits", out var answeredClientBitsPresent);
        if (answeredClientBitsPresent && !offeredClientBitsPresent)
        {
            return "client_max_window_bits answered but not offered";
        }

        if (answeredClientBitsPresent && offeredClientBits is not null &&
            int.Parse(answeredClientBits!, CultureInfo.InvariantCulture) > (WindowBits("client_max_window_bits", offeredClientBits) ?? 15))
        {
            return "client_max_window_bits answered larger than offered";
        }

        return null;
    }

    private static bool NoValue(string name, string? value) =>
        value is null ? true : throw new InvalidDataException($"server answer: {name} takes no value");

    private static int? WindowBits(string name, string? value)
    {
        if (value is null)
        {
            return null;
        }

        // §7.1.2: a decimal integer 8..15 without leading zeros.
        if (value.Length is 1 or 2 && value[0] != '0' && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var bits) && bits is >= 8 and <= 15)
        {
            return bits;
        }

        throw new InvalidDataException($"{name}={value} is not a window size 8..15");
    }

    /// <summary>
    /// Parses an extension list (RFC 6455 §9.1): comma-separated extensions, each a token followed by
    /// ';'-separated parameters, each a token with an optional '=' token or quoted string.
    /// </summary>
    private static List<(string Name, List<(string Name, string? Value)> Parameters)> ParseList(string header, string what)
    {
        var result = new List<(string, List<(string, string?)>)>();
        foreach (var element in header.Split(','))
        {
            var parts = element.Split(';');
            var name = parts[0].Trim();
            if (!IsToken(name))
            {
                throw new InvalidDataException($"malformed extension {what}: '{header}'");
            }

            var parameters = new List<(string, string?)>();
            foreach (var part in parts.AsSpan(1))
            {
                var eq = part.IndexOf('=', StringComparison.Ordinal);
                var key = (eq < 0 ? part : part[..eq]).Trim();
                var value = eq < 0 ? null : part[(eq + 1)..].Trim();
                if (value is { Length: >= 2 } && value[0] == '"' && value[^1] == '"')
                {
                    value = value[1..^1];
                }

                if (!IsToken(key) || (value is not null && !IsToken(value)))
                {
                    throw new InvalidDataException($"malformed extension {what}: '{header}'");
                }

                parameters.Add((key, value));
            }

            result.Add((name, parameters));
        }

        return result;
    }

    private static bool IsToken(string s)
    {
        if (s.Length == 0)
        {
            return false;
        }

        foreach (var c in s)
        {
            if (c <= ' ' || c >= 0x7F || "()<>@,;:\\\"/[]?={}".Contains(c, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>What the server agreed to, as the client must honour it and as the report shows it.</summary>
/// <param name="Answer">The server's Sec-WebSocket-Extensions value.</param>
/// <param name="ServerNoContextTakeover">The server resets its compressor per message.</param>
/// <param name="ClientNoContextTakeover">The client must compress each message independently (it always does).</param>
/// <param name="ServerMaxWindowBits">Window the server compresses with.</param>
/// <param name="ClientMaxWindowBits">Largest window the client may use.</param>
internal sealed record DeflateAgreement(
    string Answer,
    bool ServerNoContextTakeover,
    bool ClientNoContextTakeover,
    int ServerMaxWindowBits,
    int ClientMaxWindowBits)
{
    /// <summary>
    /// The prebuilt frames come from DeflateStream, whose window is always 32 KiB; each message is
    /// compressed alone, so no match reaches further back than the message's own length. Messages
    /// up to 2^bits bytes therefore honour any client_max_window_bits; longer ones might not.
    /// </summary>
    /// <exception cref="InvalidDataException">Messages of <paramref name="size"/> bytes might exceed the agreed window.</exception>
    public void EnsureClientWindowFits(int size)
    {
        if (size > 1 << ClientMaxWindowBits)
        {
            throw new InvalidDataException(
                $"server asked for client_max_window_bits={ClientMaxWindowBits}; messages over {1 << ClientMaxWindowBits} bytes could use a larger window");
        }
    }
}
