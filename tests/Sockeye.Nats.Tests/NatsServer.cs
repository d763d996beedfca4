using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sockeye.Nats.Tests;

/// <summary>
/// A real <c>nats-server -js</c> (Debian package; <c>NATS_SERVER</c> overrides the path) on a free loopback port with
/// its JetStream store in a temp dir. Restarted on the same port, with its store (as after a crash of a server with
/// persistence) or without it (as after losing its disk).
/// </summary>
internal sealed class NatsServer : IAsyncDisposable
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(20);
    private readonly string _dir = Directory.CreateTempSubdirectory("sockeye-nats-").FullName;
    private Process? _process;

    private NatsServer(int port) => Port = port;

    public int Port { get; }

    public string Url => $"nats://127.0.0.1:{Port}";

    public static async Task<NatsServer> StartAsync()
    {
        var server = new NatsServer(FreePort());
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts it (again) and returns when it greets a client with INFO.</summary>
    public async Task RestartAsync(bool wipeStore = false)
    {
        string store = Path.Combine(_dir, "store");
        if (wipeStore && Directory.Exists(store))
        {
            Directory.Delete(store, recursive: true);
        }

        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("NATS_SERVER") ?? "nats-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "-js", "-a", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-sd", store })
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("nats-server did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitUntilAsync(GreetsAsync, "nats-server greets with INFO");
    }

    /// <summary>SIGKILL: no goodbye to the clients.</summary>
    public async Task KillAsync()
    {
        _process!.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
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

    /// <summary>Polls <paramref name="condition"/> (every 20 ms, at most 20 s) and fails naming it if it never holds.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > (within ?? Ready))
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
