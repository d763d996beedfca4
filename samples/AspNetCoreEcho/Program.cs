// Sockeye endpoints inside an ASP.NET Core (Kestrel) app: /echo echoes every message, /proto answers with the HTTP
// version the WebSocket arrived over ("HTTP/1.1" or "HTTP/2"), / is a small page. `--port N` listens over plain
// HTTP/1.1; `--https-port N` over TLS with HTTP/1.1 and HTTP/2 (a self-signed certificate made at start), so
// browsers can open WebSockets over HTTP/2 (RFC 8441). `--deflate` accepts permessage-deflate.
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Sockeye;
using Sockeye.AspNetCore;
using WebSocketOptions = Sockeye.WebSocketOptions; // ASP.NET Core has a WebSocketOptions of its own

int? port = null;
int? httpsPort = null;
bool deflate = false;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--port" when i + 1 < args.Length:
            port = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--https-port" when i + 1 < args.Length:
            httpsPort = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--deflate":
            deflate = true;
            break;
        default:
            await Console.Error.WriteLineAsync($"usage: AspNetCoreEcho [--port N] [--https-port N] [--deflate]; unexpected {args[i]}");
            return 2;
    }
}

WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddFilter("Sockeye", LogLevel.Information);
builder.WebHost.ConfigureKestrel(kestrel =>
{
    if (port is { } plain)
    {
        kestrel.Listen(IPAddress.Loopback, plain, listen => listen.Protocols = HttpProtocols.Http1);
    }

    if (httpsPort is { } secure)
    {
        X509Certificate2 certificate = SelfSigned();
        kestrel.Listen(IPAddress.Loopback, secure, listen =>
        {
            listen.Protocols = HttpProtocols.Http1AndHttp2;
            listen.UseHttps(certificate);
        });
    }
});

WebApplication app = builder.Build();
var options = new SockeyeOptions { WebSocket = new WebSocketOptions { MaxMessageSize = 64 * 1024 * 1024 } };
if (deflate)
{
    options.WebSocket.Deflate = new PerMessageDeflateOptions();
}

app.MapSockeye("/echo", async ws =>
{
    while (await ws.ReceiveAsync() is { IsClose: false } message)
    {
        await ws.SendAsync(message.Type, message.Payload);
    }
}, options);
app.MapSockeye("/proto", async ws =>
{
    await ws.SendTextAsync(ws.GetHttpContext()!.Request.Protocol);
    await ws.ReceiveAsync();
});
app.MapGet("/", () => Results.Content("<!doctype html><meta charset=utf-8><title>Sockeye in ASP.NET Core</title><p>ok</p>", "text/html"));
await app.RunAsync();
return 0;

static X509Certificate2 SelfSigned()
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
