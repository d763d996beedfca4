using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sockeye.Redis.Tests;

/// <summary>
/// A real <c>redis-server</c> (Debian package; <c>REDIS_SERVER</c> overrides the path) on a free loopback port, without
/// persistence: killing it loses its data, as a crash of a cache-only Redis does. Restarted on the same port.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(20);
    private readonly string _dir = Directory.CreateTempSubdirectory("sockeye-redis-").FullName;
    private Process? _process;

    private RedisServer(int port) => Port = port;

    public int Port { get; }

    public string Configuration => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        var server = new RedisServer(FreePort());
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts it (again) and returns when it answers PING.</summary>
    public async Task RestartAsync()
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("REDIS_SERVER") ?? "redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", _dir, "--protected-mode", "no" })
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitUntilAsync(() => PingAsync(), "redis-server answers PING");
    }

    /// <summary>SIGKILL, and wait for the port to be closed.</summary>
    public async Task KillAsync()
    {
        _process!.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

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

    /// <summary>Polls <paramref name="condition"/> (every 20 ms, at most 20 s) and fails naming it if it never holds.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > Ready)
            {
                throw new TimeoutException($"timed out waiting until {what}");
            }

            await Task.Delay(20);
        }
    }

    public static Task WaitUntilAsync(Func<bool> condition, string what) => WaitUntilAsync(() => Task.FromResult(condition()), what);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await KillAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }
}
