using Sockeye.Server;

namespace Sockeye.Cli.Exec;

/// <summary>
/// Counts live processes (or backend connections) for <c>--max-forks</c>. The handshake hook refuses with 503 when
/// the limit is reached; the slot itself is taken when the process starts, so a handshake that never reaches its
/// handler cannot leak one (two handshakes racing for the last slot: the loser is closed with 1013 right away).
/// </summary>
internal sealed class ForkLimiter(int max)
{
    private int _live;

    public int Live => Volatile.Read(ref _live);

    public ValueTask RefuseWhenFull(HandshakeContext context)
    {
        if (max > 0 && Live >= max)
        {
            context.Reject(503, $"server busy: {max} processes running (--max-forks)");
        }

        return ValueTask.CompletedTask;
    }

    public bool TryAcquire()
    {
        if (Interlocked.Increment(ref _live) <= max || max <= 0)
        {
            return true;
        }

        Interlocked.Decrement(ref _live);
        return false;
    }

    public void Release() => Interlocked.Decrement(ref _live);
}
