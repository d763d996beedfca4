using System.Threading.Channels;

namespace Sockeye.Cli.Exec;

/// <summary>A message for a shared-mode member: text (valid UTF-8) or binary, shared between members without copies.</summary>
internal readonly record struct Outgoing(MessageType Type, byte[] Data);

/// <summary>
/// One connection of a shared process. The process's output is never held up by a slow client: each member has its
/// own queue, bounded in bytes; a member that falls further behind than that is closed (1008) instead of growing
/// memory or stalling the others.
/// </summary>
internal sealed class SharedMember(WebSocketConnection connection, long budget)
{
    private readonly Channel<Outgoing> _queue = Channel.CreateUnbounded<Outgoing>(new UnboundedChannelOptions { SingleReader = true });
    private long _queued;
    private int _overflowed;

    public WebSocketConnection Connection { get; } = connection;

    /// <summary>A sockeye.v1 member: it reads the output through the path's topic (history, resume), not this queue.</summary>
    public bool ViaTopic { get; init; }

    /// <summary>Queues a message; false when the member is over its budget (the first time: the caller closes it).</summary>
    public bool TryEnqueue(Outgoing message, out bool firstOverflow)
    {
        firstOverflow = false;
        if (Interlocked.Add(ref _queued, message.Data.Length) > budget)
        {
            Interlocked.Add(ref _queued, -message.Data.Length);
            firstOverflow = Interlocked.Exchange(ref _overflowed, 1) == 0;
            return false;
        }

        return _queue.Writer.TryWrite(message);
    }

    /// <summary>Sends queued messages in order until <see cref="Complete"/> or the connection closes.</summary>
    public async Task RunSenderAsync()
    {
        await foreach (Outgoing message in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                if (message.Type == MessageType.Binary)
                {
                    await Connection.SendBinaryAsync(message.Data).ConfigureAwait(false);
                }
                else
                {
                    await Connection.SendTextAsync(message.Data.AsMemory()).ConfigureAwait(false);
                }
            }
            catch (IOException)
            {
                break; // closed
            }

            Interlocked.Add(ref _queued, -message.Data.Length);
        }
    }

    public void Complete() => _queue.Writer.TryComplete();
}
