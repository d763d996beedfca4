namespace Sockeye.Topics.Backplanes;

/// <summary>
/// What a backplane read from its stream for an <see cref="OrderedDelivery"/> sync: the topic's position when read,
/// and the messages it still has after the position asked for, in offset order. The range owns a reference to each
/// message; the sequencer delivers or releases them.
/// </summary>
/// <param name="epoch">The topic's epoch when read.</param>
/// <param name="offset">The topic's last offset when read (0: none yet).</param>
/// <param name="tag">The backplane's own marker of that position (e.g. a stream sequence; 0 when not used).</param>
public sealed class StreamRange(string epoch, long offset, ulong tag)
{
    internal readonly List<(TopicMessage Message, ulong Tag)> Messages = [];

    /// <summary>The topic's epoch when read.</summary>
    public string Epoch { get; } = epoch ?? throw new ArgumentNullException(nameof(epoch));

    /// <summary>The topic's last offset when read.</summary>
    public long Offset { get; } = offset;

    /// <summary>The backplane's marker of <see cref="Offset"/>.</summary>
    public ulong Tag { get; } = tag;

    /// <summary>Adds the next message read (its reference passes to the range) with the backplane's marker of it.</summary>
    public void Add(TopicMessage message, ulong tag = 0)
    {
        ArgumentNullException.ThrowIfNull(message);
        Messages.Add((message, tag));
    }

    internal void ReleaseAll()
    {
        foreach ((TopicMessage message, _) in Messages)
        {
            message.Release();
        }

        Messages.Clear();
    }
}
