using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Sockeye.Client;
using Sockeye.Server;

namespace Sockeye.Hosting.Tests;

public class HostedServerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static async Task Echo(WebSocketConnection ws)
    {
        while (await ws.ReceiveAsync() is { IsClose: false } message)
        {
            await ws.SendAsync(message.Type, message.Payload);
        }
    }

    /// <summary>A host whose "Sockeye" section holds <paramref name="settings"/>, serving echo on /echo.</summary>
    private static IHost BuildHost(Dictionary<string, string?> settings, Action<SockeyeBuilder>? more = null)
    {
        // No default sources (appsettings, environment): the test's settings are the only ones.
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings.ToDictionary(kv => "Sockeye:" + kv.Key, kv => kv.Value));
        builder.Services.AddSockeye(builder.Configuration.GetSection("Sockeye"), b =>
        {
            b.Map("/echo", Echo);
            more?.Invoke(b);
        });
        return builder.Build();
    }

    private static Task<WebSocketConnection> Connect(IHost host, string path = "/echo") =>
        WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{host.Services.GetRequiredService<WebSocketServer>().Port}{path}")).WaitAsync(Timeout);

    [Fact]
    public async Task Host_start_listens_and_a_client_echoes()
    {
        using IHost host = BuildHost(new() { ["Port"] = "0" });
        await host.StartAsync().WaitAsync(Timeout);
        await using WebSocketConnection client = await Connect(host);

        await client.SendTextAsync("hello").AsTask().WaitAsync(Timeout);
        Assert.Equal("hello", (await client.ReceiveAsync().AsTask().WaitAsync(Timeout)).GetText());

        await host.StopAsync().WaitAsync(Timeout);
    }

    [Fact]
    public async Task Host_stop_closes_open_connections_with_1001()
    {
        using IHost host = BuildHost(new() { ["Port"] = "0" });
        await host.StartAsync().WaitAsync(Timeout);
        await using WebSocketConnection client = await Connect(host);
        // A round trip first: the server has registered the connection and runs its handler.
        await client.SendTextAsync("ping").AsTask().WaitAsync(Timeout);
        Assert.Equal("ping", (await client.ReceiveAsync().AsTask().WaitAsync(Timeout)).GetText());

        Task stopping = host.StopAsync();
        WebSocketMessage message = await client.ReceiveAsync().AsTask().WaitAsync(Timeout);
        await stopping.WaitAsync(Timeout);

        Assert.True(message.IsClose);
        Assert.Equal(CloseCode.GoingAway, client.CloseStatus);
    }

    [Fact]
    public async Task Host_stop_releases_a_handler_waiting_on_Aborted_and_the_client_gets_1001()
    {
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using IHost host = BuildHost(new() { ["Port"] = "0" }, b => b.Map("/wait", async ws =>
        {
            waiting.TrySetResult();
            try
            {
                await Task.Delay(System.Threading.Timeout.Infinite, ws.Aborted);
            }
            catch (OperationCanceledException)
            {
                released.TrySetResult();
            }
        }));
        await host.StartAsync().WaitAsync(Timeout);
        await using WebSocketConnection client = await Connect(host, "/wait");
        await waiting.Task.WaitAsync(Timeout);
        Task<WebSocketMessage> closing = client.ReceiveAsync().AsTask();

        await host.StopAsync().WaitAsync(Timeout);

        await released.Task.WaitAsync(Timeout);
        Assert.True((await closing.WaitAsync(Timeout)).IsClose);
        Assert.Equal(CloseCode.GoingAway, client.CloseStatus);
    }

    [Fact]
    public async Task Settings_come_from_configuration()
    {
        using IHost host = BuildHost(new() { ["Port"] = "0", ["MaxMessageSize"] = "16", ["AllowedOrigins:0"] = "https://app.example" });
        await host.StartAsync().WaitAsync(Timeout);
        WebSocketServer server = host.Services.GetRequiredService<WebSocketServer>();
        Assert.Equal(["https://app.example"], server.Options.AllowedOrigins);
        await using WebSocketConnection client = await Connect(host);

        await client.SendTextAsync(new string('x', 17)).AsTask().WaitAsync(Timeout); // one byte over the bound limit
        WebSocketMessage message = await client.ReceiveAsync().AsTask().WaitAsync(Timeout);

        Assert.True(message.IsClose);
        Assert.Equal(CloseCode.MessageTooBig, client.CloseStatus);
        await host.StopAsync().WaitAsync(Timeout);
    }

    [Fact]
    public async Task Compression_and_timeouts_come_from_configuration()
    {
        using IHost host = BuildHost(new()
        {
            ["Port"] = "0",
            ["EnableCompression"] = "true",
            ["Compression:ServerNoContextTakeover"] = "true",
            ["Compression:CompressionLevel"] = "6",
            ["SendTimeout"] = "00:00:07",
            ["PingTimeout"] = "00:00:09",
            ["CloseTimeout"] = "00:00:03",
        });
        await host.StartAsync().WaitAsync(Timeout);
        WebSocketOptions applied = host.Services.GetRequiredService<WebSocketServer>().Options.WebSocket;
        Assert.Equal(TimeSpan.FromSeconds(7), applied.SendTimeout);
        Assert.Equal(TimeSpan.FromSeconds(9), applied.PingTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), applied.CloseTimeout);
        Assert.Equal(6, applied.Deflate?.CompressionLevel);

        var clientOptions = new WebSocketClientOptions();
        clientOptions.WebSocket.Deflate = new PerMessageDeflateOptions();
        int port = host.Services.GetRequiredService<WebSocketServer>().Port;
        await using WebSocketConnection client = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/echo"), clientOptions).WaitAsync(Timeout);

        // The server accepted the offer with the configured server_no_context_takeover (RFC 7692 §7.1.1.1).
        Assert.True(client.Compression?.ServerNoContextTakeover);
        string text = string.Concat(Enumerable.Repeat("compress me ", 100));
        await client.SendTextAsync(text).AsTask().WaitAsync(Timeout);
        Assert.Equal(text, (await client.ReceiveAsync().AsTask().WaitAsync(Timeout)).GetText());
        await host.StopAsync().WaitAsync(Timeout);
    }

    [Fact]
    public async Task Compression_is_off_unless_enabled()
    {
        using IHost host = BuildHost(new() { ["Port"] = "0", ["Compression:CompressionLevel"] = "6" });
        await host.StartAsync().WaitAsync(Timeout);
        var clientOptions = new WebSocketClientOptions();
        clientOptions.WebSocket.Deflate = new PerMessageDeflateOptions();
        int port = host.Services.GetRequiredService<WebSocketServer>().Port;
        await using WebSocketConnection client = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/echo"), clientOptions).WaitAsync(Timeout);

        Assert.Null(client.Compression);
        await host.StopAsync().WaitAsync(Timeout);
    }

    [Fact]
    public async Task Fallback_and_server_callback_map_endpoints()
    {
        using IHost host = BuildHost(new() { ["Port"] = "0" }, b => b
            .MapFallback(ws => ws.SendTextAsync("fallback").AsTask())
            .ConfigureServer((_, server) => server.Map("/hi", ws => ws.SendTextAsync("hi").AsTask())));
        await host.StartAsync().WaitAsync(Timeout);

        await using (WebSocketConnection client = await Connect(host, "/hi"))
        {
            Assert.Equal("hi", (await client.ReceiveAsync().AsTask().WaitAsync(Timeout)).GetText());
        }

        await using (WebSocketConnection client = await Connect(host, "/elsewhere"))
        {
            Assert.Equal("fallback", (await client.ReceiveAsync().AsTask().WaitAsync(Timeout)).GetText());
        }

        await host.StopAsync().WaitAsync(Timeout);
    }

    [Theory]
    [InlineData("Port", "70000")]
    [InlineData("Port", "-1")]
    [InlineData("MaxMessageSize", "-5")]
    [InlineData("MaxFrameSize", "0")]
    [InlineData("MaxConnections", "0")]
    [InlineData("Host", "not-an-address")]
    [InlineData("ShutdownTimeout", "-00:00:01")]
    [InlineData("PingTimeout", "00:00:00")]
    [InlineData("SendTimeout", "-00:00:01")]
    [InlineData("CloseTimeout", "00:00:00")]
    [InlineData("Compression:CompressionLevel", "12")]
    [InlineData("Compression:ServerMaxWindowBits", "7")]
    public async Task Invalid_setting_fails_host_start_naming_it_before_anything_listens(string option, string value)
    {
        int port = FreePort();
        bool serverCreated = false;
        var settings = new Dictionary<string, string?> { ["Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture), [option] = value };
        using IHost host = BuildHost(settings, b => b.ConfigureServer((_, _) => serverCreated = true));

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Timeout));

        Assert.Contains($"Sockeye option {option} must be", error.Message, StringComparison.Ordinal);
        Assert.False(serverCreated);
        // And nothing is listening on the port the valid part of the settings named.
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        SocketException refused = await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, port).WaitAsync(Timeout));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public void Adding_twice_is_refused()
    {
        var services = new ServiceCollection();
        services.AddSockeye(o => o.Port = 0, b => b.Map("/echo", Echo));
        Assert.Throws<InvalidOperationException>(() => services.AddSockeye(o => o.Port = 0, b => b.Map("/echo", Echo)));
    }

    /// <summary>A loopback port free a moment ago (the OS does not hand it out again at once).</summary>
    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
