using Sockeye.Protocol;

namespace Sockeye.Server;

/// <summary>
/// The DNS-rebinding guard: a hostile page whose name is made to resolve to 127.0.0.1 reaches a loopback server
/// with its own name in <c>Host</c> (and <c>Origin</c>, so the origin check passes). A loopback listener therefore
/// accepts only names that mean this machine without DNS (<see cref="HostHeader.IsLoopbackName"/>) plus
/// <see cref="WebSocketServerOptions.AllowedHosts"/>; other listeners accept any name unless that list is set.
/// </summary>
internal static class HostPolicy
{
    /// <summary>Whether <paramref name="host"/> (from <see cref="HostHeader.TryParse"/>; null when absent) may be served.</summary>
    public static bool IsAllowed(string? host, IList<string> allowed, bool loopbackListener)
    {
        // No Host at all (HTTP/1.0): not a browser, which always sends one, so not a rebinding page.
        if (host is null || (!loopbackListener && allowed.Count == 0) || HostHeader.IsLoopbackName(host))
        {
            return true;
        }

        foreach (string entry in allowed)
        {
            if (entry == "*" || Normalize(entry).Equals(Normalize(host), StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    // "[::1]" and "::1", "example.com." and "example.com" name the same host.
    private static ReadOnlySpan<char> Normalize(string name) => name.AsSpan().Trim().TrimStart('[').TrimEnd(']').TrimEnd('.');
}
