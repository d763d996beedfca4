using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Sockeye.Client;
using Sockeye.SecurityTests.Support;
using Sockeye.Server;

namespace Sockeye.SecurityTests.Attacks;

/// <summary>TLS: wss:// and https:// on one port with a self-signed certificate made by the test.</summary>
public sealed class TlsTests
{
    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using X509Certificate2 ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        // Round-trip through PKCS#12 so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }

    [Fact]
    public async Task Wss_connects_with_AllowInvalidCertificates_and_fails_validation_without_it()
    {
        using X509Certificate2 certificate = SelfSigned();
        byte[] page = Encoding.UTF8.GetBytes("<h1>over TLS</h1>");
        await using var server = await Servers.StartEchoAsync(o =>
        {
            o.Certificate = certificate;
            o.StaticFiles = StaticFiles.FromMemory(new Dictionary<string, byte[]> { ["/index.html"] = page });
        });
        var uri = new Uri($"wss://127.0.0.1:{server.Port}/");

        // Trusting nothing extra: the self-signed certificate fails validation and no connection is made.
        var strict = new WebSocketClientOptions();
        await Assert.ThrowsAsync<AuthenticationException>(() => WebSocketClient.ConnectAsync(uri, strict));

        var lenient = new WebSocketClientOptions { AllowInvalidCertificates = true };
        lenient.WebSocket.PingInterval = TimeSpan.Zero;
        await using (WebSocketConnection client = await WebSocketClient.ConnectAsync(uri, lenient))
        {
            await client.SendTextAsync("secret");
            Assert.Equal("secret", (await client.ReceiveAsync()).GetText());
            await client.CloseAsync();
            Assert.Equal(CloseCode.NormalClosure, client.CloseStatus);
        }

        // A pinned certificate is accepted without disabling validation wholesale.
        var pinned = new WebSocketClientOptions { RemoteCertificateValidation = (_, cert, _, _) => cert is not null && cert.GetCertHashString() == certificate.GetCertHashString() };
        await using (WebSocketConnection client = await WebSocketClient.ConnectAsync(uri, pinned))
        {
            await client.CloseAsync();
        }

        // Static files over https on the same port.
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert?.GetCertHashString() == certificate.GetCertHashString() };
        using var http = new HttpClient(handler);
        using HttpResponseMessage response = await http.GetAsync(new Uri($"https://127.0.0.1:{server.Port}/index.html"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(page, await response.Content.ReadAsByteArrayAsync());

        // Plain HTTP to the TLS port gets nothing (the TLS handshake fails), and the server carries on.
        await using (RawClient plain = await RawClient.ConnectAsync(server.Port))
        {
            await plain.TrySendAsync(Encoding.ASCII.GetBytes(Handshake.Request(server.Port)));
            byte[] answer = await plain.ReadToEndAsync();
            Assert.DoesNotContain("HTTP/1.1 101", Encoding.Latin1.GetString(answer), StringComparison.Ordinal);
        }

        await Servers.AssertHealthyAsync(server);
    }
}
