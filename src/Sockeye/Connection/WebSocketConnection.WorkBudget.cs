namespace Sockeye;

public sealed partial class WebSocketConnection
{
    /// <summary>
    /// How much work one connection may do on the thread it runs on before giving the thread up, in bytes of zlib work
    /// (inflated output, deflate input). With inline socket completions the read loop runs on the socket engine's
    /// I/O thread, which serves many sockets: a 1 KiB message that inflates to 1 MiB, echoed and deflated again, would
    /// hold that thread for milliseconds, and a stream of them for as long as they keep coming, starving every other
    /// socket on it (handshakes and echoes of ~20 s were measured). 64 KiB of inflating or deflating is well under a
    /// millisecond; ordinary traffic (a batch of small or uncompressed messages) stays far below it and never yields.
    /// </summary>
    internal const int WorkBudget = 64 * 1024;

    // Uncompressed payload is cheap next to zlib (unmasking and copying run at memory speed): a byte counts 1/8. Each
    // frame counts a fixed amount for parsing and handing over, so a flood of tiny frames is bounded too.
    private const int PlainByteShift = 3;
    private const int FrameCost = 64;

    // Work charged since the read loop's current batch started or the last yield. The read loop and senders on other
    // threads charge it concurrently: Interlocked keeps the count, and an occasional early or late yield is harmless.
    private int _work;

    /// <summary>Starts a new read batch: the thread that completed the read gets a fresh budget.</summary>
    private void StartWorkBatch() => Volatile.Write(ref _work, 0);

    /// <summary>
    /// Charges <paramref name="bytes"/> of work; true when the budget is spent and the caller must yield
    /// (<see cref="YieldThread"/>), which starts a new budget.
    /// </summary>
    private bool ChargeWork(long bytes)
    {
        if (Interlocked.Add(ref _work, (int)Math.Min(bytes, WorkBudget)) < WorkBudget)
        {
            return false;
        }

        Volatile.Write(ref _work, 0);
        return true;
    }

    /// <summary>Charges a frame's parsing and, for uncompressed frames, its payload (compressed payload is charged as inflated).</summary>
    private bool ChargeFrame(long plainPayload) => ChargeWork(FrameCost + (plainPayload >> PlainByteShift));

    /// <summary>
    /// Gives up the thread: the rest of the work continues as a thread-pool work item queued at the back of the global
    /// queue (Task.Yield does that, without allocating), so the I/O thread goes back to its other sockets and
    /// connections that keep yielding take turns with everything else waiting for the pool.
    /// </summary>
    private static System.Runtime.CompilerServices.YieldAwaitable YieldThread() => Task.Yield();
}
