namespace Sockeye.Topics;

/// <summary>
/// Where a message sits in its topic's stream: offsets start at 1 and grow by one per message; the epoch changes
/// whenever continuity is lost (a restart without persistent history, an evicted topic), so a position from another
/// epoch cannot be resumed.
/// </summary>
/// <param name="Epoch">Opaque identifier of the stream's continuity.</param>
/// <param name="Offset">The message's offset (1, 2, …); 0 means "before the first message".</param>
public readonly record struct StreamPosition(string Epoch, long Offset);
