using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Sockeye.Client;

namespace Sockeye.ScaleOut.Tests;

/// <summary>A real <c>sockeye serve --broadcast</c> process on a backplane server (SOCKEYE_DLL, or the Release build in src/Sockeye.Cli).</summary>
internal sealed class CliNode : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private CliNode(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static async Task<CliNode> StartAsync(BackingServer server, params string[] extra)
    {
        int port = BackingServer.FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { Dll(), "serve", "--broadcast" }.Concat(server.ServeArgs).Concat(["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]).Concat(extra))
        {
            start.ArgumentList.Add(arg);
        }

        var node = new CliNode(Process.Start(start) ?? throw new InvalidOperationException("sockeye did not start"), port);
        node._process.OutputDataReceived += (_, e) => node.Append(e.Data);
        node._process.ErrorDataReceived += (_, e) => node.Append(e.Data);
        node._process.BeginOutputReadLine();
        node._process.BeginErrorReadLine();
        await BackingServer.WaitUntilAsync(async () =>
        {
            Assert.False(node._process.HasExited, $"sockeye exited: {node.Log}");
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }, $"sockeye listens on {port}");
        return node;
    }

    public Task<WebSocketConnection> ConnectAsync(string path, string? subprotocol = null)
    {
        var options = new WebSocketClientOptions();
        if (subprotocol is not null)
        {
            options.Subprotocols.Add(subprotocol);
        }

        return WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{Port}{path}"), options);
    }

    /// <summary>SIGKILL: no goodbye to the backplane, no leaving presence.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public static async Task<JsonElement> ReceiveJsonAsync(WebSocketConnection connection)
    {
        WebSocketMessage message = await connection.ReceiveAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(15));
        Assert.False(message.IsClose, "closed");
        return JsonDocument.Parse(message.ToArray()).RootElement.Clone();
    }

    public static async Task<JsonElement> ExpectOpAsync(WebSocketConnection connection, string op)
    {
        for (int i = 0; i < 100_000; i++)
        {
            JsonElement frame = await ReceiveJsonAsync(connection);
            if (frame.GetProperty("op").GetString() == op)
            {
                return frame;
            }
        }

        throw new InvalidOperationException($"no '{op}'");
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }

    /// <summary>Runs <c>sockeye ARGS</c> to its end: exit code and standard error.</summary>
    public static async Task<(int Exit, string Error)> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Dll());
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException("sockeye did not start");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await output;
        return (process.ExitCode, await error);
    }

    private static string Dll()
    {
        if (Environment.GetEnvironmentVariable("SOCKEYE_DLL") is { Length: > 0 } dll)
        {
            return dll;
        }

        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "src", "Sockeye.Cli", "bin", "Release", "net10.0", "sockeye.dll");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("sockeye.dll not found: build src/Sockeye.Cli in Release or set SOCKEYE_DLL");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }
}
