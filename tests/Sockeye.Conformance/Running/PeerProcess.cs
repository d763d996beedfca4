using System.Diagnostics;

namespace Sockeye.Conformance.Running;

/// <summary>The echo client under test in server mode: a shell command started once per case.</summary>
internal sealed class PeerProcess : IDisposable
{
    private const int TailLines = 20;
    private const int MaxLineLength = 300;

    private readonly Process _process;
    private readonly Queue<string> _tail = new();

    private PeerProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Remember("out", e.Data);
        _process.ErrorDataReceived += (_, e) => Remember("err", e.Data);
    }

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>Starts the command through the platform shell so users can pass pipelines and quoted arguments.</summary>
    public static PeerProcess Start(string commandLine)
    {
        var info = OperatingSystem.IsWindows()
            ? new ProcessStartInfo("cmd.exe") { ArgumentList = { "/c", commandLine } }
            : new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", commandLine } };
        info.UseShellExecute = false;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.RedirectStandardInput = true;

        var process = new Process { StartInfo = info };
        var peer = new PeerProcess(process);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return peer;
    }

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>True if the process exited within <paramref name="timeout"/>; otherwise kills its whole tree and returns false.</summary>
    public async Task<bool> ExitOrKillAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None);
            return false;
        }
    }

    /// <summary>The last lines the peer printed, for the transcript.</summary>
    public IReadOnlyList<string> OutputTail()
    {
        lock (_tail)
        {
            return [.. _tail];
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private void Remember(string stream, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_tail)
        {
            _tail.Enqueue($"peer std{stream}: {(line.Length > MaxLineLength ? line[..MaxLineLength] + "..." : line)}");
            if (_tail.Count > TailLines)
            {
                _tail.Dequeue();
            }
        }
    }
}
