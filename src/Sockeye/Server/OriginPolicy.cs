namespace Sockeye.Server;

/// <summary>
/// The browser origin check (RFC 6455 §10.2, §4.2.2 item 4): a page may only connect to its own host unless the
/// server lists its origin. Stops cross-site WebSocket hijacking, where a hostile page rides the user's cookies.
/// </summary>
internal static class OriginPolicy
{
    public static bool IsAllowed(string? origin, string? host, IList<string> allowed, bool tls)
    {
        if (origin is null)
        {
            return true; // not a browser; browsers always send Origin on WebSocket requests
        }

        foreach (string entry in allowed)
        {
            if (entry == "*" || string.Equals(entry.TrimEnd('/'), origin, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        // Same origin (RFC 6454 §5): scheme, host and port all equal. The scheme is the listener's (https with a
        // certificate, else http), so an https page is not the origin of a plain port even on the same host:port.
        string scheme = tls ? "https" : "http";
        if (host is null || !Uri.TryCreate(origin, UriKind.Absolute, out Uri? originUri) || originUri.Scheme != scheme)
        {
            return false; // includes the opaque origin "null"
        }

        // The Origin's host and port equal the Host the request was sent to (default ports implied).
        if (!Uri.TryCreate(scheme + "://" + host, UriKind.Absolute, out Uri? hostUri))
        {
            return false;
        }

        return string.Equals(originUri.IdnHost, hostUri.IdnHost, StringComparison.OrdinalIgnoreCase) && originUri.Port == hostUri.Port;
    }
}
