using System.Net;
using System.Net.Sockets;

namespace Sockeye.Protocol;

/// <summary>The <c>Host</c> request header (RFC 9110 §7.2, RFC 9112 §3.2): <c>uri-host [ ":" port ]</c>.</summary>
internal static class HostHeader
{
    /// <summary>
    /// Splits a Host value into its host (an IPv6 literal without its brackets) and port; false when the value is
    /// not <c>uri-host [ ":" port ]</c> (RFC 3986 §3.2.2–3.2.3). An empty value is valid (RFC 9112 §3.2).
    /// </summary>
    public static bool TryParse(string value, out string host)
    {
        host = string.Empty;
        ReadOnlySpan<char> rest = value;
        if (rest.StartsWith('['))
        {
            int close = rest.IndexOf(']');
            if (close < 0 || !IPAddress.TryParse(rest[1..close], out IPAddress? v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return false;
            }

            host = value[1..close];
            rest = rest[(close + 1)..];
            return rest.IsEmpty || (rest[0] == ':' && IsPort(rest[1..]));
        }

        int colon = rest.LastIndexOf(':');
        ReadOnlySpan<char> name = colon < 0 ? rest : rest[..colon];
        if (colon >= 0 && !IsPort(rest[(colon + 1)..]))
        {
            return false;
        }

        // reg-name / IPv4address: unreserved, pct-encoded and sub-delims only; no ':' left (bare IPv6 is invalid).
        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || "-._~%!$&'()*+,;=".Contains(c, StringComparison.Ordinal)))
            {
                return false;
            }
        }

        host = name.ToString();
        return true;
    }

    /// <summary>
    /// True for names that always mean this machine without asking DNS: <c>localhost</c> and <c>*.localhost</c>
    /// (RFC 6761 §6.3), 127.0.0.0/8 and ::1. A page on such a name cannot be a DNS-rebinding attacker's.
    /// </summary>
    public static bool IsLoopbackName(string host)
    {
        ReadOnlySpan<char> name = host.AsSpan();
        if (name.EndsWith('.'))
        {
            name = name[..^1]; // the absolute form "localhost." is the same name
        }

        if (name.Equals("localhost", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(name, out IPAddress? address) && IPAddress.IsLoopback(address);
    }

    // port = *DIGIT (RFC 3986 §3.2.3): may be empty; at most 5 digits keeps it a plausible port.
    private static bool IsPort(ReadOnlySpan<char> port) => port.Length <= 5 && !port.ContainsAnyExceptInRange('0', '9');
}
