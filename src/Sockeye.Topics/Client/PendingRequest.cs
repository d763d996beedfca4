using System.Collections.Concurrent;
using System.Threading.Tasks.Sources;

namespace Sockeye.Topics;

/// <summary>What a request waits for: an <c>ack</c>'s position, a <c>presence</c> answer's members, or just an answer.</summary>
internal readonly record struct RequestAnswer(StreamPosition Position, IReadOnlyList<PresenceMember>? Members);

/// <summary>
/// A request waiting for its answer (<c>pub</c>, <c>presence</c>, <c>unsub</c>), awaited as a <see cref="ValueTask{T}"/>
/// and recycled once the awaiter took its result, so a publish with acknowledgement allocates nothing of its own.
/// </summary>
/// <remarks>
/// The client's pending table decides who completes it: whoever removes it from the table (answer, timeout,
/// disconnect, cancellation, dispose) completes it, exactly once. Late callbacks find its id gone and do nothing.
/// </remarks>
internal sealed class PendingRequest : IValueTaskSource<RequestAnswer>
{
    private const int MaxPooled = 256;
    private static readonly ConcurrentQueue<PendingRequest> s_pool = new();
    private static int s_pooled;

    private ManualResetValueTaskSourceCore<RequestAnswer> _core = new() { RunContinuationsAsynchronously = true };

    public long Id;
    public string Op = "";
    public string Topic = "";

    /// <summary>The frame while it waits for a connection; null once handed to a send.</summary>
    public OutgoingFrame? Frame;

    /// <summary>The connection it was sent on: if that connection drops before the answer, its outcome is unknown.</summary>
    public WebSocketConnection? SentOn;

    public long DeadlineMs;
    public CancellationTokenRegistration Registration;

    public ValueTask<RequestAnswer> Task => new(this, _core.Version);

    public static PendingRequest Rent(long id, string op, string topic, long deadlineMs)
    {
        if (s_pool.TryDequeue(out PendingRequest? pooled))
        {
            Interlocked.Decrement(ref s_pooled);
        }

        PendingRequest request = pooled ?? new PendingRequest();
        request.Id = id;
        request.Op = op;
        request.Topic = topic;
        request.DeadlineMs = deadlineMs;
        return request;
    }

    public void SetResult(RequestAnswer answer) => _core.SetResult(answer);

    public void SetException(Exception error) => _core.SetException(error);

    public RequestAnswer GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            Recycle();
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private void Recycle()
    {
        Registration.Dispose();
        Registration = default;
        Frame = null;
        SentOn = null;
        Topic = "";
        _core.Reset();
        if (Interlocked.Increment(ref s_pooled) <= MaxPooled)
        {
            s_pool.Enqueue(this);
        }
        else
        {
            Interlocked.Decrement(ref s_pooled);
        }
    }
}
