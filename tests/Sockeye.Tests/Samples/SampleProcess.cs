using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Sockeye.Tests.Samples;

/// <summary>A sample program started from its build output (dotnet Sample.dll args), killed on dispose.</summary>
internal sealed partial class SampleProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly StringBuilder _output;

    private SampleProcess(Process process, StringBuilder output, Uri url)
    {
        _process = process;
        _output = output;
        Url = url;
    }

    /// <summary>The http:// URL the sample printed once it was listening.</summary>
    public Uri Url { get; }

    /// <summary>The same host and port as ws://.</summary>
    public Uri WebSocketUrl(string path) => new($"ws://{Url.Authority}{path}");

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Sockeye.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Sockeye.sln not found above " + AppContext.BaseDirectory);
    }

    public static async Task<SampleProcess> StartAsync(string name, params string[] args)
    {
        string dll = Path.Combine(RepositoryRoot(), "samples", name, "bin", Configuration, "net10.0", name + ".dll");
        Assert.True(File.Exists(dll), $"{dll} is not built (the test project builds it; build Sockeye.sln)");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var output = new StringBuilder();
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                listening.TrySetException(new InvalidOperationException($"{name} exited before listening"));
                return;
            }

            lock (output)
            {
                output.AppendLine(e.Data);
            }

            // The samples print "… on http://127.0.0.1:PORT/" once the port is bound.
            if (UrlLine().Match(e.Data) is { Success: true } match)
            {
                listening.TrySetResult(new Uri(match.Value));
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            Uri url = await listening.Task.WaitAsync(StartTimeout);
            return new SampleProcess(process, output, url);
        }
        catch (Exception ex)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            string seen;
            lock (output)
            {
                seen = output.ToString();
            }

            process.Dispose();
            throw new InvalidOperationException($"{name} did not start: {ex.Message}\n{seen}", ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        _process.Dispose();
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+/")]
    private static partial Regex UrlLine();
}
