namespace Sockeye.Topics.Backplanes;

/// <summary>
/// Counts shared by the <see cref="OrderedDelivery"/> sequencers of one backplane (one instance per backplane), for
/// the backplane's own counters.
/// </summary>
public sealed class DeliveryCounters
{
    private long _discontinuities;
    private long _fetched;
    private long _duplicates;

    /// <summary>Discontinuities reported to the sink (<c>reset</c>).</summary>
    public long Discontinuities => Interlocked.Read(ref _discontinuities);

    /// <summary>Messages missed on the live path and delivered from a read of the stream instead.</summary>
    public long Fetched => Interlocked.Read(ref _fetched);

    /// <summary>Messages received again (after a reconnect or a sync) and delivered once.</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);

    internal void CountDiscontinuity() => Interlocked.Increment(ref _discontinuities);

    internal void CountFetched() => Interlocked.Increment(ref _fetched);

    internal void CountDuplicate() => Interlocked.Increment(ref _duplicates);
}
