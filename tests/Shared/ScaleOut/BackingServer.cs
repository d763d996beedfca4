using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Sockeye.ScaleOut.Tests;

/// <summary>
/// A real backplane server process (redis-server, nats-server) on a free loopback port with a temp dir, killed and
/// restarted on the same port by the tests. Shared by the Redis and NATS test projects (linked source).
/// </summary>
internal abstract class BackingServer : IAsyncDisposable
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(20);
    private Process? _process;

    protected BackingServer(string name)
    {
        Dir = Directory.CreateTempSubdirectory($"sockeye-{name}-").FullName;
        Port = FreePort();
    }

    public int Port { get; }

    /// <summary>The server's temp dir, deleted at dispose.</summary>
    protected string Dir { get; }

    /// <summary>The options of <c>sockeye serve --broadcast</c> that put a node on this server (prefix <c>cli</c>).</summary>
    public abstract IReadOnlyList<string> ServeArgs { get; }

    /// <summary>Starts <paramref name="executable"/> and returns when <paramref name="ready"/> holds.</summary>
    protected async Task StartProcessAsync(string executable, IEnumerable<string> args, Func<Task<bool>> ready, string what)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException($"{executable} did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitUntilAsync(ready, what);
    }

    /// <summary>SIGKILL: no goodbye to the clients.</summary>
    public async Task KillAsync()
    {
        _process!.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
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

    public static int FreePort()
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

        Directory.Delete(Dir, recursive: true);
    }
}
