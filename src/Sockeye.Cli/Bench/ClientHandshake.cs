using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Sockeye.Cli.Bench;

/// <summary>
/// Minimal RFC 6455 client opening handshake over a raw socket: independent of the Sockeye
/// library so that the load generator can measure any server, Sockeye included.
/// </summary>
internal static class ClientHandshake
{
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    // Linux IP_BIND_ADDRESS_NO_PORT: defer the ephemeral port choice to connect(), so each
    // source address gets its own ~28k ports instead of sharing one pool at bind() time.
    private const int SolIp = 0;
    private const int IpBindAddressNoPort = 24;

    /// <summary>
    /// Connects (optionally from <paramref name="source"/>) and upgrades. Bytes that followed the
    /// 101 response in the same read are left at the start of <paramref name="buffer"/>.
    /// </summary>
    /// <param name="deflateOffer">A Sec-WebSocket-Extensions value offering permessage-deflate, or null.</param>
    /// <returns>
    /// The connected socket, the number of leftover bytes, and with an offer what the server agreed
    /// to (a refusal or an invalid answer fails the handshake).
    /// </returns>
    public static async Task<(Socket Socket, int Leftover, DeflateAgreement? Deflate)> ConnectAsync(
        BenchTarget target, IPAddress? source, byte[] buffer, TimeSpan timeout, string? deflateOffer, CancellationToken cancellationToken)
    {
        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutCts.CancelAfter(timeout);
        var ct = timeoutCts.Token;

        var socket = new Socket(target.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (source is not null)
            {
                if (OperatingSystem.IsLinux())
                {
                    socket.SetRawSocketOption(SolIp, IpBindAddressNoPort, BitConverter.GetBytes(1));
                }

                socket.Bind(new IPEndPoint(source, 0));
            }

            await socket.ConnectAsync(target.EndPoint, ct).ConfigureAwait(false);

            var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            var request = Encoding.ASCII.GetBytes(
                $"GET {target.PathAndQuery} HTTP/1.1\r\nHost: {target.HostHeader}\r\nUpgrade: websocket\r\n" +
                $"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n" +
                (deflateOffer is null ? "" : $"Sec-WebSocket-Extensions: {deflateOffer}\r\n") + "\r\n");
            await SendAllAsync(socket, request, ct).ConfigureAwait(false);

            var filled = 0;
            int headerEnd;
            while ((headerEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
            {
                if (filled == buffer.Length)
                {
                    throw new InvalidDataException("handshake response headers too large");
                }

                var n = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, ct).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new InvalidDataException("server closed the connection during the handshake");
                }

                filled += n;
            }

            var extensions = Validate(Encoding.ASCII.GetString(buffer, 0, headerEnd), key);
            if (deflateOffer is null && extensions is not null)
            {
                throw new InvalidDataException($"server answered extensions that were not offered: {extensions}");
            }

            var deflate = deflateOffer is null ? null : DeflateNegotiation.Accept(deflateOffer, extensions);
            var leftover = filled - (headerEnd + 4);
            buffer.AsSpan(headerEnd + 4, leftover).CopyTo(buffer);
            return (socket, leftover, deflate);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static async ValueTask SendAllAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            var sent = await socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    /// <returns>The Sec-WebSocket-Extensions values, joined with commas, or null when absent.</returns>
    private static string? Validate(string head, string key)
    {
        var lines = head.Split("\r\n");
        var status = lines[0].Split(' ', 3);
        if (status.Length < 2 || status[1] != "101")
        {
            throw new InvalidDataException($"handshake rejected: {lines[0]}");
        }

#pragma warning disable CA5350 // RFC 6455 mandates SHA-1 for Sec-WebSocket-Accept; it is not used for security.
        var expected = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid)));
#pragma warning restore CA5350
        var accepted = false;
        string? extensions = null;
        foreach (var line in lines.AsSpan(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var name = line.AsSpan(0, colon).Trim();
            var value = line[(colon + 1)..].Trim();
            if (name.Equals("Sec-WebSocket-Accept", StringComparison.OrdinalIgnoreCase))
            {
                if (value != expected)
                {
                    throw new InvalidDataException("handshake: wrong Sec-WebSocket-Accept");
                }

                accepted = true;
            }
            else if (name.Equals("Sec-WebSocket-Extensions", StringComparison.OrdinalIgnoreCase))
            {
                // Several header lines form one comma-separated list (RFC 9110 §5.3).
                extensions = extensions is null ? value : $"{extensions}, {value}";
            }
        }

        return accepted ? extensions : throw new InvalidDataException("handshake: no Sec-WebSocket-Accept header");
    }
}
