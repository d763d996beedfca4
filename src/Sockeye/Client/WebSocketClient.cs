using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sockeye.Extensions;
using Sockeye.Protocol;
using Sockeye.Transport;

namespace Sockeye.Client;

/// <summary>Opens client connections (RFC 6455 §4.1) with the same engine the server uses, in the client role.</summary>
public static class WebSocketClient
{
    /// <summary>
    /// Connects to a <c>ws://</c> or <c>wss://</c> URL, performs the opening handshake and validates the answer (status 101, accept
    /// value, subprotocol, extensions). Throws <see cref="WebSocketHandshakeException"/> when the server refuses or
    /// answers incorrectly, <see cref="SocketException"/> when it cannot be reached, and <see cref="TimeoutException"/>
    /// when <see cref="WebSocketClientOptions.HandshakeTimeout"/> passes, saying which step got no answer (TCP connect,
    /// TLS handshake or the upgrade response) and its likely cause.
    /// </summary>
    public static async Task<WebSocketConnection> ConnectAsync(Uri uri, WebSocketClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uri);
        options ??= new WebSocketClientOptions();
        if (uri.Scheme is not ("ws" or "wss" or "http" or "https"))
        {
            throw new ArgumentException($"Unsupported scheme '{uri.Scheme}': use ws://.", nameof(uri));
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.HandshakeTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(uri.IdnHost, uri.Port, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (TimedOut(timeout, cancellationToken))
        {
            socket.Dispose();
            throw ConnectTimeout.TcpConnect(uri, options.HandshakeTimeout, ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        IWebSocketTransport transport;
        if (uri.Scheme is "wss" or "https")
        {
            var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
            try
            {
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = uri.IdnHost,
                    ApplicationProtocols = [SslApplicationProtocol.Http11],
    #pragma warning disable CA5359 // accept-any is only used behind the explicit AllowInvalidCertificates switch
                RemoteCertificateValidationCallback = options.RemoteCertificateValidation
                        ?? (options.AllowInvalidCertificates ? AcceptAnyCertificate : null),
#pragma warning restore CA5359
                }, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException && TimedOut(timeout, cancellationToken))
            {
                // A canceled TLS handshake may surface as an IOException around the cancellation.
                await ssl.DisposeAsync().ConfigureAwait(false);
                socket.Dispose();
                throw ConnectTimeout.TlsHandshake(uri, options.HandshakeTimeout, ex);
            }
            catch
            {
                await ssl.DisposeAsync().ConfigureAwait(false);
                socket.Dispose();
                throw;
            }

            transport = new StreamTransport(socket, ssl);
        }
        else
        {
            transport = new SocketTransport(socket, maxBufferedOutput: options.WebSocket.MaxSendBuffer);
        }

        try
        {
            return await HandshakeAsync(transport, uri, options, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException and not WebSocketHandshakeException && TimedOut(timeout, cancellationToken))
        {
            transport.Abort();
            throw ConnectTimeout.UpgradeResponse(uri, options.HandshakeTimeout, ex);
        }
        catch
        {
            transport.Abort();
            throw;
        }
    }

    private static async Task<WebSocketConnection> HandshakeAsync(IWebSocketTransport transport, Uri uri, WebSocketClientOptions options, CancellationToken cancellationToken)
    {
        string key = HandshakeKey.NewKey();
        var subprotocols = options.Subprotocols.ToList();
        PerMessageDeflateOptions? deflate = options.WebSocket.Deflate;
        IEnumerable<KeyValuePair<string, string>> headers = deflate is null
            ? options.Headers
            : options.Headers.Append(new("Sec-WebSocket-Extensions", PerMessageDeflateNegotiation.Offer(deflate)));
        byte[] requestBytes = UpgradeResponse.BuildRequest(uri, key, subprotocols, headers);
        await transport.Output.WriteAsync(requestBytes, cancellationToken).ConfigureAwait(false);

        PipeReader input = transport.Input;
        while (true)
        {
            ReadResult result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            HttpParseStatus status = HttpHeadParser.TryParseResponse(buffer, options.MaxResponseHeaderBytes, 100,
                out HttpHead? response, out SequencePosition consumed, out string error);
            if (status == HttpParseStatus.Invalid)
            {
                input.AdvanceTo(buffer.End);
                throw new WebSocketHandshakeException("Invalid handshake response: " + error);
            }

            if (status == HttpParseStatus.NeedMoreData)
            {
                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    throw new WebSocketHandshakeException("The server closed the connection during the handshake.");
                }

                continue;
            }

            // Bytes after the head are already frames; they stay in the pipe for the connection to read.
            input.AdvanceTo(consumed);
            string[] offeredExtensions = deflate is null ? [] : [PerMessageDeflateNegotiation.Name];
            string? problem = UpgradeResponse.Validate(response!, key, subprotocols, offeredExtensions, out string? subprotocol, out List<ExtensionOffer> extensions);
            PerMessageDeflateParameters? compression = null;
            // RFC 7692 §7.1: the answer's permessage-deflate parameters checked against the offer.
            problem ??= PerMessageDeflateNegotiation.ValidateResponse(extensions, deflate, out compression);
            if (problem is not null)
            {
                throw response!.StatusCode != 101
                    ? new WebSocketHandshakeException(problem, response.StatusCode)
                    : new WebSocketHandshakeException(problem);
            }

            var request = new WebSocketRequest(RequestHead(uri, requestBytes), transport.RemoteEndPoint, transport.LocalEndPoint);
            ILogger logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Sockeye.Client");
            var connection = new WebSocketConnection(transport, Role.Client, options.WebSocket.Clone(), request, subprotocol, logger, compression);
            connection.Start();
            return connection;
        }
    }

    /// <summary>True when the handshake deadline, not the caller's token, ended the wait.</summary>
    private static bool TimedOut(CancellationTokenSource timeout, CancellationToken caller) =>
        timeout.IsCancellationRequested && !caller.IsCancellationRequested;

    // Only reachable through the explicit, documented AllowInvalidCertificates switch (sockeye connect --insecure).
#pragma warning disable CA5359
    private static bool AcceptAnyCertificate(object sender, System.Security.Cryptography.X509Certificates.X509Certificate? certificate,
        System.Security.Cryptography.X509Certificates.X509Chain? chain, SslPolicyErrors errors) => true;
#pragma warning restore CA5359

    private static HttpHead RequestHead(Uri uri, byte[] requestBytes)
    {
        HttpHeadParser.TryParseRequest(new ReadOnlySequence<byte>(requestBytes), int.MaxValue, int.MaxValue,
            out HttpHead? head, out _, out _, out _);
        return head ?? throw new InvalidOperationException("Could not parse our own request for " + uri);
    }
}
