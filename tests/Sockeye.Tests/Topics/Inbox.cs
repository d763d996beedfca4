using System.Threading.Channels;
using Sockeye.Topics;

namespace Sockeye.Tests.Topics;

/// <summary>What a subscription received, copied out of the handler, with bounded waits for the next ones.</summary>
internal sealed class Inbox
{
    private readonly Channel<Received> _channel = Channel.CreateUnbounded<Received>();

    public List<Received> All { get; } = [];

    public void Handler(TopicClientMessage message) =>
        _channel.Writer.TryWrite(new Received(message.Position, message.Type, message.ToArray()));

    public async Task<Received> NextAsync()
    {
        Received next = await _channel.Reader.ReadAsync().AsTask().WaitAsync(TopicTests.Timeout);
        All.Add(next);
        return next;
    }

    /// <summary>Waits until <paramref name="count"/> messages in all have arrived.</summary>
    public async Task UntilAsync(int count)
    {
        while (All.Count < count)
        {
            await NextAsync();
        }
    }

    public bool HasMore => _channel.Reader.TryPeek(out _);
}

internal sealed record Received(StreamPosition Position, MessageType Type, byte[] Payload)
{
    public string Text => System.Text.Encoding.UTF8.GetString(Payload);
}
