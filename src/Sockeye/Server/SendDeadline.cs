using System.IO.Pipelines;

namespace Sockeye.Server;

/// <summary>
/// Bounds every flush of one plain HTTP response by the send timeout: a client that stops reading (so the output
/// pipe stays full) is reported after that long instead of holding the connection and its file forever.
/// </summary>
internal sealed class SendDeadline(TimeSpan timeout) : IDisposable
{
    private CancellationTokenSource _timer = new();

    /// <summary>True once a flush waited longer than the timeout.</summary>
    public bool TimedOut { get; private set; }

    /// <summary>Flushes; false when the peer is gone or the deadline passed (see <see cref="TimedOut"/>).</summary>
    public async ValueTask<bool> FlushAsync(PipeWriter output)
    {
        if (_timer.IsCancellationRequested)
        {
            // The timer fired just after the previous flush completed: that one was in time; start afresh.
            _timer.Dispose();
            _timer = new CancellationTokenSource();
        }

        ValueTask<FlushResult> flush = output.FlushAsync(_timer.Token);
        if (flush.IsCompletedSuccessfully)
        {
            FlushResult done = flush.Result;
            return !done.IsCompleted && !done.IsCanceled;
        }

        // Only a flush that waits (the pipe is over its limit because the client is not reading) starts the clock.
        _timer.CancelAfter(timeout);
        try
        {
            FlushResult result = await flush.ConfigureAwait(false);
            _timer.CancelAfter(Timeout.InfiniteTimeSpan);
            return !result.IsCompleted && !result.IsCanceled;
        }
        catch (Exception ex) when (ex is OperationCanceledException || (ex is IOException && _timer.IsCancellationRequested))
        {
            // A stream transport (TLS) may report its canceled write as an IOException.
            TimedOut = true;
            return false;
        }
    }

    public void Dispose() => _timer.Dispose();
}
