using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Sockeye.Cli.Exec;

/// <summary>A <c>--proxy</c> backend: <c>tcp://HOST:PORT</c> or <c>unix:PATH</c>.</summary>
internal sealed record ProxyTarget(string Display, EndPoint EndPoint)
{
    public static ProxyTarget? TryParse(string text, out string error)
    {
        error = string.Empty;
        if (text.StartsWith("unix:", StringComparison.Ordinal))
        {
            string path = text["unix:".Length..];
            if (path.StartsWith("//", StringComparison.Ordinal))
            {
                path = path[2..]; // unix:///run/app.sock
            }

            if (path.Length == 0)
            {
                error = "unix: needs a socket path, e.g. unix:/run/app.sock";
                return null;
            }

            return new ProxyTarget($"unix:{path}", new UnixDomainSocketEndPoint(path));
        }

        if (text.StartsWith("tcp://", StringComparison.Ordinal)
            && Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) && uri.Port > 0 && uri.Host.Length > 0 && uri.AbsolutePath == "/")
        {
            string host = uri.Host.Trim('[', ']');
            EndPoint endPoint = IPAddress.TryParse(host, out IPAddress? address)
                ? new IPEndPoint(address, uri.Port)
                : new DnsEndPoint(host, uri.Port);
            return new ProxyTarget($"tcp://{uri.Host}:{uri.Port.ToString(CultureInfo.InvariantCulture)}", endPoint);
        }

        error = $"--proxy must be tcp://HOST:PORT or unix:PATH, got '{text}'";
        return null;
    }

    /// <summary>Opens a new connection to the backend.</summary>
    public async Task<Socket> ConnectAsync(CancellationToken cancellationToken)
    {
        Socket socket = EndPoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(EndPoint, cancellationToken).ConfigureAwait(false);
            if (socket.ProtocolType == ProtocolType.Tcp)
            {
                socket.NoDelay = true; // lines are small and should not wait for Nagle
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
