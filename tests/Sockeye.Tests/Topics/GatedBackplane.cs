using System.Text;
using System.Threading.Channels;
using Sockeye.Topics;

namespace Sockeye.Tests.Topics;

/// <summary>
/// A backplane for the hub's own tests (the hub is under test, not the backplane): it assigns offsets in call order,
/// as <see cref="ITopicBackplane.PreservesPublishOrder"/> promises, but completes the publishes when the test says so
/// (<see cref="Complete"/>, in any order), or, with <c>autoComplete</c>, from a background loop that completes whatever
/// is pending newest first. It reads each payload again when it completes the publish, so a buffer the hub reused
/// under an in-flight publish shows up as a changed payload. Payloads "refuse" are refused (unavailable) and "fault"
/// fails with a non-topic exception. Nothing is delivered to the sink.
/// </summary>
internal sealed class GatedBackplane : ITopicBackplane
{
    private readonly Lock _lock = new();
    private readonly List<Call> _pending = [];
    private readonly Channel<Call> _calls = Channel.CreateUnbounded<Call>();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _releaser = Task.CompletedTask;
    private long _last;
    private int _inFlight;

    public GatedBackplane(bool autoComplete = false)
    {
        if (autoComplete)
        {
            _releaser = Task.Run(ReleaseLoopAsync);
        }
    }

    public bool PreservesPublishOrder => true;

    /// <summary>Most publishes pending at once.</summary>
    public int MaxInFlight { get; private set; }

    /// <summary>Every completed publish: the payload as read at completion, its offset (0 if refused).</summary>
    public List<(string Payload, long Offset)> Completed { get; } = [];

    public void Attach(ITopicSink sink)
    {
    }

    public ValueTask<StreamPosition> PublishAsync(string topic, TopicOptions options, MessageType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        string text = Encoding.UTF8.GetString(payload.Span);
        Call call;
        lock (_lock)
        {
            long offset = text is "refuse" or "fault" ? 0 : ++_last;
            call = new Call(text, payload, offset, new TaskCompletionSource<StreamPosition>(TaskCreationOptions.RunContinuationsAsynchronously));
            _pending.Add(call);
            MaxInFlight = Math.Max(MaxInFlight, ++_inFlight);
        }

        _calls.Writer.TryWrite(call);
        _signal.Release();
        return new ValueTask<StreamPosition>(call.Done.Task);
    }

    /// <summary>The next publish call, in call order (bounded wait).</summary>
    public async Task<Call> NextCallAsync() => await _calls.Reader.ReadAsync().AsTask().WaitAsync(TopicPeer.Timeout);

    /// <summary>Completes one pending publish (success, or its refusal/fault).</summary>
    public void Complete(Call call)
    {
        lock (_lock)
        {
            if (!_pending.Remove(call))
            {
                return;
            }

            _inFlight--;
            string now = Encoding.UTF8.GetString(call.Payload.Span);
            Completed.Add((now, call.Offset));
        }

        switch (call.Text)
        {
            case "refuse":
                call.Done.SetException(new TopicException("unavailable", "refused by the test backplane"));
                break;
            case "fault":
                call.Done.SetException(new InvalidOperationException("test backplane fault"));
                break;
            default:
                call.Done.SetResult(new StreamPosition("e", call.Offset));
                break;
        }
    }

    public ValueTask<HistoryRead> ReadAsync(string topic, StreamPosition? since, TopicOptions options, ICollection<TopicMessage> into, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return ValueTask.FromResult(new HistoryRead(new StreamPosition("e", _last), false));
        }
    }

    public ValueTask SubscribeAsync(string topic, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask UnsubscribeAsync(string topic, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask JoinAsync(string topic, PresenceMember member, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask LeaveAsync(string topic, PresenceMember member, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask<IReadOnlyList<PresenceMember>> GetPresenceAsync(string topic, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<PresenceMember>>([]);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _releaser;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    // Completes what is pending, newest first: the hub must still answer in request order.
    private async Task ReleaseLoopAsync()
    {
        while (true)
        {
            await _signal.WaitAsync(_stop.Token);
            await Task.Yield(); // let more calls arrive, so that several complete out of order
            Call[] batch;
            lock (_lock)
            {
                batch = [.. _pending];
            }

            for (int i = batch.Length - 1; i >= 0; i--)
            {
                Complete(batch[i]);
            }
        }
    }

    internal sealed record Call(string Text, ReadOnlyMemory<byte> Payload, long Offset, TaskCompletionSource<StreamPosition> Done);
}
