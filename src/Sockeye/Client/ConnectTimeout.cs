using System.Globalization;

namespace Sockeye.Client;

/// <summary>
/// The <see cref="TimeoutException"/>s of <see cref="WebSocketClient.ConnectAsync"/>: which step of the opening got no
/// answer within <see cref="WebSocketClientOptions.HandshakeTimeout"/>, and what that usually means.
/// </summary>
internal static class ConnectTimeout
{
    public static TimeoutException TcpConnect(Uri uri, TimeSpan limit, Exception inner) => new(
        $"TCP connect to {Target(uri)} timed out after {Seconds(limit)}: no answer from the host (is it up, and does a firewall drop the connection?)", inner);

    public static TimeoutException TlsHandshake(Uri uri, TimeSpan limit, Exception inner) => new(
        $"TLS handshake with {Target(uri)} timed out after {Seconds(limit)}: no TLS handshake answer (is the server serving TLS on this port, or is it plain ws://?)", inner);

    public static TimeoutException UpgradeResponse(Uri uri, TimeSpan limit, Exception inner) => new(
        $"WebSocket handshake with {Target(uri)} timed out after {Seconds(limit)}: no answer to the upgrade request (is it a WebSocket or HTTP server, or does it expect TLS, wss://?)", inner);

    private static string Target(Uri uri) => uri.IdnHost.Contains(':', StringComparison.Ordinal)
        ? $"[{uri.IdnHost}]:{uri.Port}"
        : $"{uri.IdnHost}:{uri.Port}";

    private static string Seconds(TimeSpan limit) => limit.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";
}
