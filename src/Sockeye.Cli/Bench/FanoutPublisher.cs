using System.Diagnostics;

namespace Sockeye.Cli.Bench;

/// <summary>
/// The one publisher, on a thread of its own: first readiness probes until a message reaches every subscriber, then
/// either saturation (as fast as deliveries complete, at most <see cref="FanoutSettings.Window"/> messages not yet
/// delivered to every subscriber) or a fixed rate. Each message carries its sequence number and send time; messages
/// due together leave in one <c>send</c>.
/// </summary>
internal sealed class FanoutPublisher : IDisposable
{
    private const int MaxBatch = 64;
    private static readonly TimeSpan InitialProbeWait = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxProbeWait = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(15);

    private readonly FanoutConnection _connection;
    private readonly FanoutLedger _ledger;
    private readonly FanoutSettings _settings;
    private readonly RunPhase _phase;
    private readonly uint _mask;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly byte[] _batch;
    private volatile bool _waiting;
    private volatile bool _ready;
    private long _sent;

    public FanoutPublisher(FanoutConnection connection, FanoutLedger ledger, FanoutSettings settings, RunPhase phase, uint mask)
    {
        _connection = connection;
        _ledger = ledger;
        _settings = settings;
        _phase = phase;
        _mask = mask;
        _batch = new byte[MaxBatch * FanoutPayload.MaxFrameLength(settings.Size)];
    }

    /// <summary>The last sequence number sent.</summary>
    public long Sent => Volatile.Read(ref _sent);

    /// <summary>Messages sent before the first one that reached every subscriber.</summary>
    public int Probes { get; private set; }

    /// <summary>The most messages that were in flight at once after the probes (fixed rate: the server falling behind).</summary>
    public long MaxInFlight { get; private set; }

    /// <summary>True once a probe reached every subscriber.</summary>
    public bool IsReady => _ready;

    /// <summary>Why publishing stopped early, or null.</summary>
    public string? Error { get; private set; }

    /// <summary>Wakes the publisher after a completion; called on the completing (receive) thread.</summary>
    public void OnComplete()
    {
        if (_waiting)
        {
            _wake.Release();
        }
    }

    /// <summary>
    /// Sends probes until one reaches every subscriber: a server may subscribe a connection some time after its
    /// handshake (Sockeye's plain clients subscribe in their handler), and messages before that miss it. The wait per
    /// probe doubles (0.25 s up to 4 s), so a server busy fanning out one probe is not flooded with more. False (with
    /// <see cref="Error"/>) if none does in time.
    /// </summary>
    public bool WaitUntilReady(TimeSpan timeout)
    {
        var start = Stopwatch.GetTimestamp();
        var wait = InitialProbeWait;
        while (Stopwatch.GetElapsedTime(start) < timeout && !_phase.Stopping && _connection.Error is null)
        {
            Probes++;
            if (!SendBatch(1, measured: false))
            {
                return false;
            }

            var sentAt = Stopwatch.GetTimestamp();
            while (_ledger.LastCompleted == 0 && Stopwatch.GetElapsedTime(sentAt) < wait && _connection.Error is null)
            {
                WaitForCompletion(1, TimeSpan.FromMilliseconds(20));
            }

            if (_ledger.LastCompleted is var completed and > 0)
            {
                // Every subscriber got probe `completed`, so each receives all later messages; earlier probes that
                // reached only the subscribers already listening will never complete.
                _ledger.ForgetBefore(completed);
                _ready = true;
                return true;
            }

            wait = wait * 2 < MaxProbeWait ? wait * 2 : MaxProbeWait;
        }

        // Stopped from outside (a connection failed, Ctrl+C): that is the error to report, not this.
        if (!_phase.Stopping && _connection.Error is null)
        {
            Error ??= $"no message reached all {_settings.Subscribers} subscribers within {timeout.TotalSeconds:F0} s ({Probes} probes)";
        }

        return false;
    }

    /// <summary>Publishes until the run stops.</summary>
    public void Run()
    {
        if (_settings.Saturate)
        {
            Saturate();
        }
        else
        {
            Paced();
        }
    }

    private void Saturate()
    {
        var lastProgress = Stopwatch.GetTimestamp();
        long lastCompleted = _ledger.LastCompleted;
        while (!_phase.Stopping)
        {
            long completed = _ledger.LastCompleted;
            long allowed = completed + _settings.Window - _sent;
            if (completed != lastCompleted)
            {
                lastCompleted = completed;
                lastProgress = Stopwatch.GetTimestamp();
            }
            else if (Stopwatch.GetElapsedTime(lastProgress) > StallTimeout)
            {
                Error = $"no message completed for {StallTimeout.TotalSeconds:F0} s (last complete {completed}, sent {_sent})";
                return;
            }

            if (allowed <= 0)
            {
                WaitForCompletion(_sent - _settings.Window + 1, TimeSpan.FromMilliseconds(100));
                continue;
            }

            if (!SendBatch((int)Math.Min(allowed, MaxBatch), _phase.Measuring))
            {
                return;
            }
        }
    }

    private void Paced()
    {
        double period = Stopwatch.Frequency / _settings.Rate;
        long start = Stopwatch.GetTimestamp();
        long due = 0; // messages due so far
        while (!_phase.Stopping)
        {
            long now = Stopwatch.GetTimestamp();
            long dueNow = (long)((now - start) / period) + 1;
            if (dueNow <= due)
            {
                // Sleeping (not spinning: the receivers share this core); the send time is taken when it goes.
                double waitMs = ((start + (due * period)) - now) * 1000.0 / Stopwatch.Frequency;
                Thread.Sleep(Math.Max(1, (int)Math.Ceiling(waitMs)));
                continue;
            }

            int count = (int)Math.Min(dueNow - due, MaxBatch);
            if (!SendBatch(count, _phase.Measuring))
            {
                return;
            }

            due += count;
            MaxInFlight = Math.Max(MaxInFlight, _sent - _ledger.LastCompleted);
        }
    }

    private bool SendBatch(int count, bool measured)
    {
        long now = Stopwatch.GetTimestamp();
        int length = 0;
        for (int i = 0; i < count; i++)
        {
            long seq = _sent + 1 + i;
            if (!_ledger.Begin(seq, now, measured))
            {
                Error = $"{FanoutLedger.Capacity} messages in flight: the server fell too far behind";
                return false;
            }

            length += FanoutPayload.WriteFrame(_batch.AsSpan(length), _settings.Protocol, _settings.Size, seq, now, _mask);
        }

        try
        {
            _connection.Send(_batch.AsSpan(0, length));
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            Error = $"publisher: {ex.Message}";
            return false;
        }

        Volatile.Write(ref _sent, _sent + count);
        return true;
    }

    public void Dispose() => _wake.Dispose();

    // Sleeps until message `seq` has reached every subscriber (or the timeout). The flag is raised before the last
    // check and the completer reads it after publishing its progress, so a completion cannot fall between the two.
    private void WaitForCompletion(long seq, TimeSpan timeout)
    {
        _waiting = true;
        Interlocked.MemoryBarrier();
        if (_ledger.LastCompleted < seq)
        {
            _wake.Wait(timeout);
        }

        _waiting = false;
    }
}
