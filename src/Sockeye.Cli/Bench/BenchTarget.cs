using System.Net;
using System.Net.Sockets;

namespace Sockeye.Cli.Bench;

/// <summary>Where the load goes: a resolved ws:// endpoint plus the request target and Host header.</summary>
internal sealed record BenchTarget(IPEndPoint EndPoint, string HostHeader, string PathAndQuery)
{
    public static async Task<BenchTarget> ResolveAsync(string url, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            throw new ArgumentException($"not an absolute URL: {url}");
        }

        if (uri.Scheme is not ("ws" or "http"))
        {
            // TLS would measure the TLS stack, not the WebSocket implementation.
            throw new ArgumentException($"only ws:// URLs are supported, got {uri.Scheme}://");
        }

        var addresses = await Dns.GetHostAddressesAsync(uri.IdnHost, cancellationToken).ConfigureAwait(false);
        var address = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? addresses.FirstOrDefault()
            ?? throw new ArgumentException($"cannot resolve {uri.Host}");
        var port = uri.IsDefaultPort ? 80 : uri.Port;
        var hostHeader = uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{port}";
        var path = string.IsNullOrEmpty(uri.PathAndQuery) ? "/" : uri.PathAndQuery;
        return new BenchTarget(new IPEndPoint(address, port), hostHeader, path);
    }
}
