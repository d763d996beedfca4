using System.Collections.Concurrent;

namespace Sockeye.Cli.Exec;

/// <summary>Every live child process, so that server shutdown can make sure none outlives it.</summary>
internal sealed class ProcessRegistry
{
    private readonly ConcurrentDictionary<ChildProcess, byte> _live = new();

    public void Add(ChildProcess child) => _live.TryAdd(child, 0);

    public void Remove(ChildProcess child) => _live.TryRemove(child, out _);

    /// <summary>SIGKILL to whatever is still running (after connections were closed and processes had their grace).</summary>
    public Task KillAllAsync() => Task.WhenAll(_live.Keys.Select(child => child.KillAsync()));
}
