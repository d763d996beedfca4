using System.Net;
using System.Net.Sockets;
using System.Text;
using Sockeye.ScaleOut.Tests;

namespace Sockeye.Nats.Tests;

/// <summary>
/// A real <c>nats-server -js</c> (Debian package; <c>NATS_SERVER</c> overrides the path) on a free loopback port with
/// its JetStream store in a temp dir. Restarted on the same port, with its store (as after a crash of a server with
/// persistence) or without it (as after losing its disk).
/// </summary>
internal sealed class NatsServer : BackingServer
{
    private NatsServer()
        : base("nats")
    {
    }

    public string Url => $"nats://127.0.0.1:{Port}";

    public override IReadOnlyList<string> ServeArgs => ["--nats", Url, "--nats-prefix", "cli"];

    public static async Task<NatsServer> StartAsync()
    {
        var server = new NatsServer();
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts it (again) and returns when it greets a client with INFO.</summary>
    public Task RestartAsync(bool wipeStore = false)
    {
        string store = Path.Combine(Dir, "store");
        if (wipeStore && Directory.Exists(store))
        {
            Directory.Delete(store, recursive: true);
        }

        return StartProcessAsync(
            Environment.GetEnvironmentVariable("NATS_SERVER") ?? "nats-server",
            ["-js", "-a", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-sd", store],
            GreetsAsync, "nats-server greets with INFO");
    }

    private async Task<bool> GreetsAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            byte[] buffer = new byte[4];
            int read = await client.GetStream().ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            return read == 4 && Encoding.ASCII.GetString(buffer) == "INFO";
        }
        catch (SocketException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
