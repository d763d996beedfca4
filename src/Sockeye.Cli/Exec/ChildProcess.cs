using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Sockeye.Protocol;

namespace Sockeye.Cli.Exec;

/// <summary>
/// A started program with stdin, stdout and stderr redirected: stderr goes to the log, tagged; stopping it is EOF,
/// then SIGTERM, then SIGKILL to it and its descendants. .NET reaps the process when it exits, so no zombies.
/// </summary>
internal sealed class ChildProcess : IBridgePeer, IDisposable
{
    private readonly Process _process;
    private readonly ILogger _log;
    private readonly string _tag;
    private readonly long _started = Stopwatch.GetTimestamp();
    private int _inputClosed;
    private int _exitLogged;
    private int _exitCode;

    private ChildProcess(Process process, ILogger log, string tag)
    {
        _process = process;
        _log = log;
        _tag = tag;
        Id = process.Id;
        Name = $"pid {Id}";
        Ended = WaitForExitAsync();
        StderrDone = DedicatedThread.Run($"{tag} err", LogStderr);
    }

    public int Id { get; }

    public string Name { get; }

    public Stream Input => _process.StandardInput.BaseStream;

    public Stream Output => _process.StandardOutput.BaseStream;

    public Task Ended { get; }

    /// <summary>Completes when stderr reaches EOF.</summary>
    public Task StderrDone { get; }

    /// <summary>Starts <paramref name="spec"/>. Throws <see cref="System.ComponentModel.Win32Exception"/> when it cannot be run.</summary>
    public static ChildProcess Start(LaunchSpec spec, ILogger log, string tag)
    {
        var info = new ProcessStartInfo(spec.FileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardInputEncoding = new UTF8Encoding(false),
        };
        foreach (string argument in spec.Arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Clear();
        foreach (var (name, value) in spec.Environment)
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch
        {
            process.Dispose();
            throw;
        }

        var child = new ChildProcess(process, log, tag);
        log.LogInformation("{Tag} started pid {Pid}: {Command}", tag, child.Id, spec.Display);
        return child;
    }

    public void CloseInput()
    {
        if (Interlocked.Exchange(ref _inputClosed, 1) != 0)
        {
            return;
        }

        try
        {
            _process.StandardInput.Dispose();
        }
        catch (IOException)
        {
            // Broken pipe: the process is gone or closed its stdin; it has EOF either way.
        }
    }

    public (ushort Code, string? Reason) EndStatus()
    {
        int status = _exitCode;
        if (status == 0)
        {
            LogExit(LogLevel.Information, "exited with status 0");
            return (CloseCode.NormalClosure, null);
        }

        // .NET reports death by signal N as 128 + N, as shells do.
        string reason = status > 128 ? $"process killed by signal {status - 128}" : $"process exited with status {status}";
        LogExit(LogLevel.Warning, reason);
        return (CloseCode.InternalError, reason);
    }

    private void LogExit(LogLevel level, string how)
    {
        if (Interlocked.Exchange(ref _exitLogged, 1) == 0)
        {
            _log.Log(level, "{Tag} pid {Pid} {How} after {Ms:0} ms", _tag, Id, how, Stopwatch.GetElapsedTime(_started).TotalMilliseconds);
        }
    }

    public async Task StopAsync(TimeSpan grace, Task outputDone)
    {
        await StopCoreAsync(grace).ConfigureAwait(false);
        int status = _exitCode;
        LogExit(LogLevel.Information, status > 128 ? $"ended by signal {status - 128}" : $"exited with status {status}");
    }

    private async Task StopCoreAsync(TimeSpan grace)
    {
        if (await ExitsWithinAsync(grace).ConfigureAwait(false))
        {
            return;
        }

        List<int> tree = ProcessTree.Collect(Id);
        _log.LogInformation("{Tag} pid {Pid} still running {Grace} s after EOF; sending SIGTERM", _tag, Id, grace.TotalSeconds);
        ProcessTree.Signal(tree, Libc.SIGTERM);
        long termSent = Stopwatch.GetTimestamp();
        if (!await ExitsWithinAsync(grace).ConfigureAwait(false))
        {
            tree = [.. tree.Union(ProcessTree.Collect(Id))];
            _log.LogWarning("{Tag} pid {Pid} ignored SIGTERM for {Grace} s; sending SIGKILL", _tag, Id, grace.TotalSeconds);
            ProcessTree.Signal(tree, Libc.SIGKILL);
            await Ended.ConfigureAwait(false);
            return;
        }

        // The process obeyed; descendants that outlive it get the rest of the grace period, then SIGKILL.
        List<int> survivors = tree.Skip(1).Where(Libc.Exists).ToList();
        if (survivors.Count > 0)
        {
            TimeSpan left = grace - Stopwatch.GetElapsedTime(termSent);
            if (left > TimeSpan.Zero)
            {
                await Task.Delay(left).ConfigureAwait(false);
            }

            ProcessTree.Signal(survivors.Where(Libc.Exists), Libc.SIGKILL);
        }
    }

    /// <summary>SIGKILL to the process and its descendants, for server shutdown.</summary>
    public async Task KillAsync()
    {
        if (!Ended.IsCompleted)
        {
            ProcessTree.Signal(ProcessTree.Collect(Id), Libc.SIGKILL);
        }

        await Ended.ConfigureAwait(false);
    }

    // The status is kept, so it can be read after the Process object was disposed.
    private async Task WaitForExitAsync()
    {
        await _process.WaitForExitAsync().ConfigureAwait(false);
        _exitCode = _process.ExitCode;
    }

    private async Task<bool> ExitsWithinAsync(TimeSpan time)
    {
        await Task.WhenAny(Ended, Task.Delay(time)).ConfigureAwait(false);
        return Ended.IsCompleted;
    }

    private void LogStderr()
    {
        try
        {
            // Bounded like stdout: a huge stderr line is logged in pieces rather than buffered whole.
            using var lines = new LineReader(_process.StandardError.BaseStream, 8 * 1024);
            while (lines.TryReadLine(out ReadOnlyMemory<byte> line))
            {
                _log.LogInformation("{Tag} pid {Pid} stderr: {Line}", _tag, Id, Encoding.UTF8.GetString(line.Span));
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // stderr closed under us: nothing more to log.
        }
    }

    public void Dispose() => _process.Dispose();
}
