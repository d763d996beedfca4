using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sockeye.Topics;

namespace Sockeye.AspNetCore.Tests;

/// <summary>How a test client reaches the app.</summary>
public enum Wire
{
    /// <summary>HTTP/1.1 upgrade, plain TCP.</summary>
    Http11,
    /// <summary>HTTP/2 with prior knowledge over plain TCP (h2c), extended CONNECT.</summary>
    H2c,
    /// <summary>HTTP/2 over TLS (ALPN h2), extended CONNECT.</summary>
    H2Tls,
    /// <summary>HTTP/1.1 upgrade over TLS.</summary>
    Http11Tls,
}

/// <summary>
/// One real Kestrel app for the whole test class, listening on three loopback ports chosen by the kernel: HTTP/1.1
/// only, HTTP/2 only (h2c), and HTTPS with HTTP/1.1 and HTTP/2 (a self-signed certificate made here).
/// </summary>
public sealed class KestrelApp : IAsyncLifetime
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private WebApplication? _app;

    public int Http1Port { get; private set; }

    public int H2cPort { get; private set; }

    public int HttpsPort { get; private set; }

    /// <summary>Log lines of the categories Sockeye.*, as "Level: message".</summary>
    public ConcurrentQueue<string> Logs { get; } = new();

    /// <summary>Handlers that ended, by the id the client gave in the query (?id=...), with the close status seen.</summary>
    public ConcurrentDictionary<string, TaskCompletionSource<ushort?>> Ended { get; } = new();

    public TopicHub Hub { get; } = new(new TopicHubOptions());

    public async Task InitializeAsync()
    {
        X509Certificate2 certificate = SelfSigned();
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new QueueLoggerProvider(Logs));
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http1);
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
            kestrel.Listen(IPAddress.Loopback, 0, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(certificate);
            });
        });
        builder.Services.AddAuthentication("header").AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>("header", null);
        builder.Services.AddAuthorization();
        _app = builder.Build();
        _app.UseAuthentication();
        _app.UseAuthorization();
        Map(_app);
        await _app.StartAsync();

        // Addresses come in the order of the Listen calls.
        string[] addresses = [.. _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses];
        Assert.Equal(3, addresses.Length);
        Http1Port = new Uri(addresses[0]).Port;
        H2cPort = new Uri(addresses[1]).Port;
        HttpsPort = new Uri(addresses[2]).Port;
    }

    private void Map(WebApplication app)
    {
        app.MapSockeye("/echo", async ws =>
        {
            try
            {
                while (await ws.ReceiveAsync() is { IsClose: false } message)
                {
                    await ws.SendAsync(message.Type, message.Payload);
                }
            }
            finally
            {
                if (ws.Request.GetQuery("id") is { } id)
                {
                    Ended.GetOrAdd(id, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(ws.CloseStatus);
                }
            }
        }, new SockeyeOptions { WebSocket = new WebSocketOptions { MaxMessageSize = 16 * 1024 * 1024 } });

        var deflate = new SockeyeOptions { WebSocket = new WebSocketOptions { Deflate = new PerMessageDeflateOptions() } };
        app.MapSockeye("/deflate", async ws =>
        {
            await ws.SendTextAsync("extensions: " + (ws.Extensions ?? "none"));
            while (await ws.ReceiveAsync() is { IsClose: false } message)
            {
                await ws.SendAsync(message.Type, message.Payload);
            }
        }, deflate);

        // What the server saw of the request: its HTTP version and the user.
        app.MapSockeye("/whoami", async ws =>
        {
            HttpContext http = ws.GetHttpContext()!;
            await ws.SendTextAsync($"{http.Request.Protocol} {http.User.Identity?.Name ?? "anonymous"}");
            await ws.ReceiveAsync();
        });
        app.MapSockeye("/secure", async ws =>
        {
            await ws.SendTextAsync("user " + ws.GetHttpContext()!.User.Identity!.Name);
            await ws.ReceiveAsync();
        }).RequireAuthorization();

        // A handshake hook that decides on the ASP.NET Core user: only "ann" may connect; the handler gets its claim.
        app.MapSockeye("/hooked", async ws =>
        {
            await ws.SendTextAsync("state " + ws.State);
            await ws.ReceiveAsync();
        }, new SockeyeOptions
        {
            OnHandshake = context =>
            {
                string? user = context.GetHttpContext()?.User.Identity?.Name;
                if (user != "ann")
                {
                    context.Reject(403, $"user {user ?? "anonymous"} may not connect");
                }

                context.State = user;
                return ValueTask.CompletedTask;
            },
        });

        app.MapSockeye("/close", ws => ws.CloseAsync(4001, "custom reason"));
        app.MapSockeye("/small", TestHandlers.Echo, new SockeyeOptions { WebSocket = new WebSocketOptions { MaxMessageSize = 1024 } });
        var chat = new SockeyeOptions();
        chat.Subprotocols.Add("chat.v1");
        app.MapSockeye("/chat", async ws => await ws.SendTextAsync("subprotocol " + ws.Subprotocol), chat);
        app.MapSockeyeTopics("/live", Hub);
        app.MapGet("/", () => Results.Text("<!doctype html><title>sockeye</title>", "text/html"));
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    public Uri Uri(Wire wire, string pathAndQuery) => wire switch
    {
        Wire.Http11 => new($"ws://127.0.0.1:{Http1Port}{pathAndQuery}"),
        Wire.H2c => new($"ws://127.0.0.1:{H2cPort}{pathAndQuery}"),
        _ => new($"wss://127.0.0.1:{HttpsPort}{pathAndQuery}"),
    };

    /// <summary>A ClientWebSocket set for <paramref name="wire"/> (HTTP version exact), not yet connected.</summary>
    public static ClientWebSocket Client(Wire wire, Action<ClientWebSocketOptions>? configure = null)
    {
        var ws = new ClientWebSocket();
        ws.Options.CollectHttpResponseDetails = true;
        bool h2 = wire is Wire.H2c or Wire.H2Tls;
        ws.Options.HttpVersion = h2 ? HttpVersion.Version20 : HttpVersion.Version11;
        ws.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        configure?.Invoke(ws.Options);
        return ws;
    }

    /// <summary>Connects <paramref name="ws"/>; TLS trusts the test certificate.</summary>
    public async Task ConnectAsync(ClientWebSocket ws, Wire wire, string pathAndQuery)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        await ws.ConnectAsync(Uri(wire, pathAndQuery), new HttpMessageInvoker(handler), timeout.Token);
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using X509Certificate2 created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
    }

    /// <summary>Authenticated when the request has X-User (its value is the name); otherwise anonymous.</summary>
    private sealed class HeaderAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            string? user = Request.Headers["X-User"];
            if (string.IsNullOrEmpty(user))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, user)], Scheme.Name);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
        }
    }

    private sealed class QueueLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new QueueLogger(categoryName.StartsWith("Sockeye", StringComparison.Ordinal) ? lines : null);

        public void Dispose()
        {
        }

        private sealed class QueueLogger(ConcurrentQueue<string>? lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => lines is not null;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines?.Enqueue($"{logLevel}: {formatter(state, exception)}");
        }
    }
}

internal static class TestHandlers
{
    public static async Task Echo(WebSocketConnection ws)
    {
        while (await ws.ReceiveAsync() is { IsClose: false } message)
        {
            await ws.SendAsync(message.Type, message.Payload);
        }
    }
}
