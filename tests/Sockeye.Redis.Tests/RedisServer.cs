using System.Net;
using System.Net.Sockets;
using System.Text;
using Sockeye.ScaleOut.Tests;

namespace Sockeye.Redis.Tests;

/// <summary>
/// A real <c>redis-server</c> (Debian package; <c>REDIS_SERVER</c> overrides the path) on a free loopback port, without
/// persistence: killing it loses its data, as a crash of a cache-only Redis does. Restarted on the same port.
/// </summary>
internal sealed class RedisServer : BackingServer
{
    private RedisServer()
        : base("redis")
    {
    }

    public string Configuration => $"127.0.0.1:{Port}";

    public override IReadOnlyList<string> ServeArgs => ["--redis", Configuration, "--redis-prefix", "cli:"];

    public static async Task<RedisServer> StartAsync()
    {
        var server = new RedisServer();
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts it (again) and returns when it answers PING.</summary>
    public Task RestartAsync() => StartProcessAsync(
        Environment.GetEnvironmentVariable("REDIS_SERVER") ?? "redis-server",
        ["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", Dir, "--protected-mode", "no"],
        PingAsync, "redis-server answers PING");

    /// <summary>Sends one command (inline form) and returns the raw first reply line.</summary>
    public async Task<string> CommandAsync(string command)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port);
        NetworkStream stream = client.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(command + "\r\n"));
        byte[] buffer = new byte[4096];
        int read = await stream.ReadAsync(buffer);
        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    private async Task<bool> PingAsync()
    {
        try
        {
            return (await CommandAsync("PING")).StartsWith("+PONG", StringComparison.Ordinal);
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
