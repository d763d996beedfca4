using System.Diagnostics;

namespace Sockeye.Cli.Bench;

/// <summary>
/// Which published messages every subscriber has received: one slot per message in flight (a ring indexed by sequence
/// number) with its send time and how many subscribers still have to get it. The delivery that brings the count to
/// zero is the last one, and records publish-to-last-delivery latency. Per delivery it costs one interlocked
/// decrement and allocates nothing.
/// </summary>
/// <remarks>
/// Each subscriber receives in order, so a message is complete only after every earlier one is: completions come in
/// sequence order, and <see cref="LastCompleted"/> is how far the whole fan-out has got.
/// </remarks>
internal sealed class FanoutLedger
{
    /// <summary>Messages that can be in flight at once.</summary>
    public const int Capacity = 1 << 16;

    private const int Mask = Capacity - 1;

    private readonly int _subscribers;
    private readonly long[] _sentAt = new long[Capacity];
    private readonly int[] _remaining = new int[Capacity];
    private readonly bool[] _measured = new bool[Capacity];
    private readonly LatencyHistogram _latency = new();
    private readonly Lock _latencyLock = new();
    private readonly Action _onComplete;
    private long _lastCompleted;

    /// <param name="onComplete">Called (on the completing thread) after each message reached every subscriber.</param>
    public FanoutLedger(int subscribers, Action onComplete)
    {
        _subscribers = subscribers;
        _onComplete = onComplete;
    }

    /// <summary>The highest sequence number delivered to every subscriber.</summary>
    public long LastCompleted => Volatile.Read(ref _lastCompleted);

    /// <summary>Publish-to-last-delivery times, in Stopwatch ticks, of the messages sent while measuring.</summary>
    public LatencyHistogram Latency
    {
        get
        {
            lock (_latencyLock)
            {
                var copy = new LatencyHistogram();
                copy.Add(_latency);
                return copy;
            }
        }
    }

    /// <summary>Registers message <paramref name="seq"/> before it is sent; false when its slot is still in flight.</summary>
    public bool Begin(long seq, long sentAt, bool measured)
    {
        int slot = (int)(seq & Mask);
        if (Volatile.Read(ref _remaining[slot]) != 0)
        {
            return false;
        }

        _sentAt[slot] = sentAt;
        _measured[slot] = measured;
        Volatile.Write(ref _remaining[slot], _subscribers);
        return true;
    }

    /// <summary>Counts one subscriber's delivery of <paramref name="seq"/>; false when it was delivered too often.</summary>
    public bool Deliver(long seq)
    {
        int slot = (int)(seq & Mask);
        int left = Interlocked.Decrement(ref _remaining[slot]);
        if (left > 0)
        {
            return true;
        }

        if (left < 0)
        {
            Interlocked.Increment(ref _remaining[slot]);
            return false;
        }

        if (_measured[slot])
        {
            long elapsed = Stopwatch.GetTimestamp() - _sentAt[slot];
            lock (_latencyLock)
            {
                _latency.Record(elapsed);
            }
        }

        long last = Volatile.Read(ref _lastCompleted);
        while (seq > last)
        {
            long seen = Interlocked.CompareExchange(ref _lastCompleted, seq, last);
            if (seen == last)
            {
                break;
            }

            last = seen;
        }

        _onComplete();
        return true;
    }

    /// <summary>
    /// Abandons the readiness probes before <paramref name="completed"/>, which reached only the subscribers already
    /// listening then. Safe once <paramref name="completed"/> is complete: each subscriber handled its earlier
    /// deliveries before that one.
    /// </summary>
    public void ForgetBefore(long completed)
    {
        for (long seq = Math.Max(0, completed - Capacity + 1); seq < completed; seq++)
        {
            Volatile.Write(ref _remaining[(int)(seq & Mask)], 0);
        }

        long last = Volatile.Read(ref _lastCompleted);
        while (completed > last && Interlocked.CompareExchange(ref _lastCompleted, completed, last) != last)
        {
            last = Volatile.Read(ref _lastCompleted);
        }
    }
}
