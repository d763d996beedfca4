using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Sockeye.Cli.Exec;

/// <summary>
/// A started program, leader of its own process group (<see cref="ProcessSpawner"/>), with stdin, stdout and stderr
/// on pipes; stderr goes to the log, tagged. The program's life is its leader's: when the leader exits, whatever it
/// left running in the group (a shell's <c>sleep 300 &amp;</c> holding stdout) gets SIGTERM, then SIGKILL after the
/// grace. Stopping it early is EOF, then SIGTERM, then SIGKILL, to the whole group.
/// </summary>
/// <remarks>
/// The leader is waited for with waitid(WNOWAIT) and reaped only after its group was dealt with: while it is a zombie
/// its pid cannot be reused, so kill(-pgid) cannot reach another program's group. Every started program is reaped
/// (no zombies). Four small dedicated threads: stderr, the wait, and the bridge's stdin and stdout pumps.
/// </remarks>
internal sealed class ChildProcess : IBridgePeer, IDisposable
{
    private static readonly TimeSpan GroupPoll = TimeSpan.FromMilliseconds(50);

    private readonly ILogger _log;
    private readonly string _tag;
    private readonly TimeSpan _grace;
    private readonly FileStream _input;
    private readonly FileStream _output;
    private readonly FileStream _error;
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly Lock _signalGate = new();
    private bool _reaped;
    private long _termSent;
    private int _inputClosed;
    private int _exitLogged;
    private int _exitCode;

    private ChildProcess(ProcessSpawner.Started started, ILogger log, string tag, TimeSpan grace)
    {
        _log = log;
        _tag = tag;
        _grace = grace;
        Id = started.Pid;
        Name = $"pid {Id}";
        _input = new FileStream(started.Stdin, FileAccess.Write, bufferSize: 0);
        _output = new FileStream(started.Stdout, FileAccess.Read, bufferSize: 0);
        _error = new FileStream(started.Stderr, FileAccess.Read, bufferSize: 0);
        Ended = DedicatedThread.Run($"{tag} wait", WaitForExit);
        StderrDone = DedicatedThread.Run($"{tag} err", LogStderr);
        Finished = FinishAsync();
    }

    /// <summary>The leader's pid, which is also the process group id.</summary>
    public int Id { get; }

    public string Name { get; }

    public Stream Input => _input;

    public Stream Output => _output;

    /// <summary>Completes when the program (the group leader) has exited; its status is known then.</summary>
    public Task Ended { get; }

    /// <summary>Completes when the program has exited, nothing of its process group is left and it was reaped.</summary>
    public Task Finished { get; }

    /// <summary>Completes when stderr reaches EOF.</summary>
    public Task StderrDone { get; }

    /// <summary>Starts <paramref name="spec"/>. Throws <see cref="System.ComponentModel.Win32Exception"/> when it cannot be run.</summary>
    public static ChildProcess Start(LaunchSpec spec, ILogger log, string tag, TimeSpan grace)
    {
        var child = new ChildProcess(ProcessSpawner.Spawn(spec), log, tag, grace);
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
            _input.Dispose();
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

        // Death by signal N is reported as 128 + N, as shells do.
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

    /// <summary>The client has gone (stdin already at EOF): SIGTERM to the group after the grace, SIGKILL after another.</summary>
    public async Task StopAsync(TimeSpan grace, Task outputDone)
    {
        if (!await ExitsWithinAsync(grace).ConfigureAwait(false))
        {
            _log.LogInformation("{Tag} pid {Pid} still running {Grace} s after EOF; sending SIGTERM", _tag, Id, grace.TotalSeconds);
            SignalGroup(Libc.SIGTERM);
            if (!await ExitsWithinAsync(grace).ConfigureAwait(false))
            {
                _log.LogWarning("{Tag} pid {Pid} ignored SIGTERM for {Grace} s; sending SIGKILL", _tag, Id, grace.TotalSeconds);
                SignalGroup(Libc.SIGKILL);
            }
        }

        await Finished.ConfigureAwait(false);
        int status = _exitCode;
        LogExit(LogLevel.Information, status > 128 ? $"ended by signal {status - 128}" : $"exited with status {status}");
    }

    /// <summary>SIGKILL to the process group, for server shutdown; completes when it is gone and reaped.</summary>
    public async Task KillAsync()
    {
        SignalGroup(Libc.SIGKILL);
        await Finished.ConfigureAwait(false);
    }

    /// <summary>
    /// The signal to the process group, and to descendants that left it while the leader still runs. Nothing after
    /// the leader was reaped: its group id may belong to someone else by then.
    /// </summary>
    private void SignalGroup(int signal)
    {
        lock (_signalGate)
        {
            if (_reaped)
            {
                return;
            }

            if (signal == Libc.SIGTERM)
            {
                _ = Interlocked.CompareExchange(ref _termSent, Stopwatch.GetTimestamp(), 0);
            }

            _ = Libc.Kill(-Id, signal);
            if (!Ended.IsCompleted)
            {
                ProcessTree.Signal(ProcessTree.Collect(Id).Skip(1), signal);
            }
        }
    }

    private async Task FinishAsync()
    {
        await Ended.ConfigureAwait(false);
        await StopLeftoversAsync().ConfigureAwait(false);
        lock (_signalGate)
        {
            _reaped = true;
            while (Libc.WaitPid(Id, out _, 0) < 0 && Marshal.GetLastPInvokeError() == Libc.EINTR)
            {
            }
        }
    }

    /// <summary>The leader has exited: what is left of its group gets SIGTERM, and SIGKILL when the grace (counted
    /// from the first SIGTERM) is over. The group is polled in /proc only when something was left.</summary>
    private async Task StopLeftoversAsync()
    {
        int left = ProcessTree.CountLiveMembers(Id);
        if (left == 0)
        {
            return;
        }

        if (Interlocked.Read(ref _termSent) == 0)
        {
            _log.LogInformation("{Tag} pid {Pid} exited; {Count} process(es) left in its group; sending SIGTERM", _tag, Id, left);
            SignalGroup(Libc.SIGTERM);
        }

        long termSent = Interlocked.Read(ref _termSent);
        while (ProcessTree.CountLiveMembers(Id) is var count and > 0)
        {
            TimeSpan remaining = _grace - Stopwatch.GetElapsedTime(termSent);
            if (remaining <= TimeSpan.Zero)
            {
                _log.LogWarning("{Tag} {Count} process(es) in the group of pid {Pid} ignored SIGTERM for {Grace} s; sending SIGKILL",
                    _tag, count, Id, _grace.TotalSeconds);
                SignalGroup(Libc.SIGKILL);
                return;
            }

            await Task.Delay(remaining < GroupPoll ? remaining : GroupPoll).ConfigureAwait(false);
        }
    }

    /// <summary>Blocks until the leader exits, leaving it a zombie (WNOWAIT), and keeps its status, 128 + N for signal N.</summary>
    private void WaitForExit()
    {
        IntPtr info = Marshal.AllocHGlobal(Libc.OpaqueSize);
        try
        {
            while (Libc.WaitId(Libc.P_PID, Id, info, Libc.WEXITED | Libc.WNOWAIT) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != Libc.EINTR)
                {
                    // ECHILD: reaped by someone else (only if the server was started with SIGCHLD ignored).
                    _log.LogWarning("{Tag} pid {Pid}: cannot wait for it (errno {Errno}); its exit status is unknown", _tag, Id, errno);
                    _exitCode = 255;
                    lock (_signalGate)
                    {
                        _reaped = true;
                    }

                    return;
                }
            }

            // siginfo_t on Linux (64-bit): si_code at offset 8, si_status at 24.
            int code = Marshal.ReadInt32(info, 8);
            int status = Marshal.ReadInt32(info, 24);
            _exitCode = code == Libc.CLD_EXITED ? status : 128 + status;
        }
        finally
        {
            Marshal.FreeHGlobal(info);
        }
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
            using var lines = new LineReader(_error, 8 * 1024);
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

    /// <summary>Closes our pipe ends. A program still running then (a failure path) is killed; it is reaped all the same.</summary>
    public void Dispose()
    {
        if (!Finished.IsCompleted)
        {
            SignalGroup(Libc.SIGKILL);
        }

        CloseInput();
        _output.Dispose();
        _error.Dispose();
    }
}
