using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sockeye.Server;
using Sockeye.Transport;

namespace Sockeye.AspNetCore;

/// <summary>
/// One mapped endpoint's request delegate: the request as a <see cref="WebSocketRequest"/>, the
/// <see cref="HandshakePolicy"/>'s decision, the answer, then the connection over the upgraded stream.
/// </summary>
internal sealed class SockeyeUpgrader(HandshakePolicy policy, bool releaseReadBufferWhenIdle)
{
    private int _open;

    public async Task HandleAsync(HttpContext context)
    {
        ILoggerFactory loggers = context.RequestServices.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
        ILogger logger = loggers.CreateLogger("Sockeye.AspNetCore");
        IHttpExtendedConnectFeature? connect = context.Features.Get<IHttpExtendedConnectFeature>();
        IHttpUpgradeFeature? upgrade = context.Features.Get<IHttpUpgradeFeature>();
        bool extendedConnect = connect is { IsExtendedConnect: true };

        // RFC 8441 §4: an extended CONNECT names the protocol it wants; only "websocket" is served here.
        if (extendedConnect && !string.Equals(connect!.Protocol, "websocket", StringComparison.OrdinalIgnoreCase))
        {
            await RefuseAsync(context, logger, 400, $"extended CONNECT for protocol {connect.Protocol}, not websocket").ConfigureAwait(false);
            return;
        }

        WebSocketRequest request = CreateRequest(context, extendedConnect);
        SockeyeHttpContext.Attach(request, context); // for OnHandshake hooks (HandshakeContext.GetHttpContext)
        CancellationToken stopping = context.RequestServices.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? default;
        HandshakeDecision decision = await policy.DecideAsync(request, context.Request.IsHttps, Volatile.Read(ref _open), stopping).ConfigureAwait(false);
        if (!decision.IsAccepted)
        {
            await RefuseAsync(context, logger, decision.Status, decision.Reason ?? "refused").ConfigureAwait(false);
            return;
        }

        if (!extendedConnect && upgrade is not { IsUpgradableRequest: true })
        {
            // Valid WebSocket fields, but the server cannot switch this request (e.g. it has a body).
            await RefuseAsync(context, logger, 400, "this request cannot be upgraded").ConfigureAwait(false);
            return;
        }

        foreach (KeyValuePair<string, string> header in decision.ResponseHeaders)
        {
            context.Response.Headers.Append(header.Key, header.Value);
        }

        Interlocked.Increment(ref _open);
        try
        {
            Stream stream;
            if (extendedConnect)
            {
                // The WebSocket is this request's body and response: no body size limit or minimum rate applies.
                if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
                {
                    size.MaxRequestBodySize = null;
                }

                if (context.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } rate)
                {
                    rate.MinDataRate = null;
                }

                stream = await connect!.AcceptAsync().ConfigureAwait(false); // RFC 8441 §5: 200, then the stream is the connection
            }
            else
            {
                stream = await upgrade!.UpgradeAsync().ConfigureAwait(false); // 101 Switching Protocols
            }

            if (!extendedConnect)
            {
                await RunAsync(context, decision, stream, loggers, logger).ConfigureAwait(false);
                return;
            }

            WebSocketConnection connection = await RunAsync(context, decision, new ConnectStream(stream), loggers, logger).ConfigureAwait(false);
            // RFC 8441 §6: END_STREAM (this delegate returning) is the orderly close. After a failure (a protocol or
            // limit close, e.g. 1009) the engine no longer reads, so a client still sending a message larger than
            // the flow-control window would wait for credit forever and never read the close frame: discard what it
            // sends until its stream ends, as TCP would deliver it, within the close timeout.
            if (connection.CloseStatus is 1002 or 1007 or 1009 or 1010)
            {
                await DiscardUntilEndAsync(stream, decision.Options!.CloseTimeout, context.RequestAborted).ConfigureAwait(false);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }

    private async Task<WebSocketConnection> RunAsync(HttpContext context, HandshakeDecision decision, Stream stream, ILoggerFactory loggers, ILogger logger)
    {
        var transport = new StreamTransport(stream, EndPoint(context.Connection.RemoteIpAddress, context.Connection.RemotePort),
            EndPoint(context.Connection.LocalIpAddress, context.Connection.LocalPort), releaseReadBufferWhenIdle);
        WebSocketConnection connection = decision.CreateConnection(transport, loggers.CreateLogger("Sockeye.Connection"));
        SockeyeHttpContext.Attach(connection, context);
        logger.LogDebug("{Remote} #{Id} upgraded on {Path} over {Protocol} (subprotocol {Subprotocol}, extensions {Extensions})",
            Remote(context), connection.Id, Escape(context.Request.Path.Value), context.Request.Protocol,
            Escape(decision.Subprotocol) ?? "none", decision.Extensions ?? "none");

        // The host stopping closes with 1001 (going away) like WebSocketServer.StopAsync; a connection the server
        // drops (client gone, HTTP/2 stream reset) ends at once.
        IHostApplicationLifetime? lifetime = context.RequestServices.GetService<IHostApplicationLifetime>();
        using CancellationTokenRegistration stopping = lifetime?.ApplicationStopping.Register(static state =>
            _ = ((WebSocketConnection)state!).CloseAsync(1001, "server shutting down").ContinueWith(static t => _ = t.Exception,
                CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default), connection) ?? default;
        using CancellationTokenRegistration aborted = context.RequestAborted.Register(static state =>
            ((WebSocketConnection)state!).Abort("request aborted"), connection);
        await decision.RunAsync(connection, logger).ConfigureAwait(false);
        return connection;
    }

    private static async Task DiscardUntilEndAsync(Stream stream, TimeSpan limit, CancellationToken aborted)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        timeout.CancelAfter(limit);
        byte[] scratch = new byte[4096];
        try
        {
            while (await stream.ReadAsync(scratch, timeout.Token).ConfigureAwait(false) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    /// <summary>A refusal: its status, the reason as a text body, one log line.</summary>
    private static async Task RefuseAsync(HttpContext context, ILogger logger, int status, string reason)
    {
        logger.LogInformation("{Remote} refused {Path} over {Protocol} with {Status}: {Reason}", Remote(context),
            Escape(context.Request.Path.Value), context.Request.Protocol, status, Escape(reason));
        context.Response.StatusCode = status;
        if (status == 426)
        {
            context.Response.Headers["Sec-WebSocket-Version"] = "13"; // RFC 6455 §4.4
        }

        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(reason + "\n").ConfigureAwait(false);
    }

    /// <summary>
    /// The request as the policy reads it: GET for HTTP/1.1, CONNECT for an extended CONNECT (RFC 8441 §4), the
    /// target as sent, the fields (HTTP/2's <c>:authority</c> as Host, RFC 9113 §8.3.1).
    /// </summary>
    private static WebSocketRequest CreateRequest(HttpContext context, bool extendedConnect)
    {
        HttpRequest http = context.Request;
        string? raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        string target = raw is not null && raw.StartsWith('/') ? raw : (http.PathBase + http.Path).ToUriComponent() + http.QueryString.ToUriComponent();
        var headers = new List<KeyValuePair<string, string>>(http.Headers.Count + 1);
        bool hasHost = false;
        foreach (KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues> field in http.Headers)
        {
            hasHost |= string.Equals(field.Key, "Host", StringComparison.OrdinalIgnoreCase);
            foreach (string? value in field.Value)
            {
                headers.Add(new(field.Key, value ?? string.Empty));
            }
        }

        if (!hasHost && http.Host.HasValue)
        {
            headers.Add(new("Host", http.Host.Value));
        }

        string method = extendedConnect ? "CONNECT" : http.Method;
        return new WebSocketRequest(method, target, headers,
            EndPoint(context.Connection.RemoteIpAddress, context.Connection.RemotePort),
            EndPoint(context.Connection.LocalIpAddress, context.Connection.LocalPort));
    }

    private static IPEndPoint? EndPoint(IPAddress? address, int port) => address is null ? null : new IPEndPoint(address, port);

    private static string Remote(HttpContext context) =>
        EndPoint(context.Connection.RemoteIpAddress, context.Connection.RemotePort)?.ToString() ?? "?";

    /// <summary>Client text for a log line: control characters as \xNN, so a request cannot forge log lines.</summary>
    private static string? Escape(string? text)
    {
        if (text is null || !text.Any(char.IsControl))
        {
            return text;
        }

        var escaped = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            if (char.IsControl(c))
            {
                escaped.Append("\\x").Append(((int)c).ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                escaped.Append(c);
            }
        }

        return escaped.ToString();
    }
}
