namespace Sockeye.Topics;

/// <summary>
/// A protocol frame (hello, ack, subscribed, presence, error) queued for one or more subscribers. Reference-counted
/// like <see cref="TopicMessage"/> so a presence event is built once for all the members of a topic.
/// </summary>
internal sealed class ControlFrame
{
    private int _refs;

    public ControlFrame(PreparedMessage frame, int refs = 1)
    {
        Frame = frame;
        _refs = refs;
    }

    public PreparedMessage Frame { get; }

    public void Retain() => Interlocked.Increment(ref _refs);

    public void Release()
    {
        if (Interlocked.Decrement(ref _refs) == 0)
        {
            Frame.Dispose();
        }
    }
}
