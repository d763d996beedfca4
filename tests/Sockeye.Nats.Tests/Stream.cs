using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Sockeye.Nats.Tests;

/// <summary>A test's own NATS connection to the backplane's stream, to make faults a real deployment can have.</summary>
internal sealed class Stream : IAsyncDisposable
{
    private readonly NatsConnection _connection;

    private Stream(NatsConnection connection, string name)
    {
        _connection = connection;
        Js = new NatsJSContext(connection);
        Name = name;
    }

    public NatsJSContext Js { get; }

    public string Name { get; }

    public static Stream Open(NatsServer nats, string prefix = "test") =>
        new(new NatsConnection(new NatsOpts { Url = nats.Url }), new NatsLayout(prefix).Stream);

    /// <summary>The stream sequence of the last message of <paramref name="topic"/>.</summary>
    public async Task<ulong> LastSeqAsync(string topic, string prefix = "test")
    {
        INatsJSStream stream = await Js.GetStreamAsync(Name);
        StreamMsgGetResponse last = await stream.GetAsync(new StreamMsgGetRequest { LastBySubj = new TopicSubjects(new NatsLayout(prefix), topic).Stream });
        return last.Message.Seq;
    }

    public async Task DeleteMessageAsync(ulong seq)
    {
        INatsJSStream stream = await Js.GetStreamAsync(Name);
        await stream.DeleteMessageAsync(new StreamMsgDeleteRequest { Seq = seq, NoErase = true });
    }

    /// <summary>Removes every message of <paramref name="topic"/>: its continuity is gone.</summary>
    public async Task PurgeTopicAsync(string topic, string prefix = "test")
    {
        INatsJSStream stream = await Js.GetStreamAsync(Name);
        await stream.PurgeAsync(new StreamPurgeRequest { Filter = new TopicSubjects(new NatsLayout(prefix), topic).Stream });
    }

    /// <summary>Publishes raw bytes (with optional headers) on a core subject, as a stray or broken client could.</summary>
    public ValueTask PublishRawAsync(string subject, byte[] payload, NatsHeaders? headers = null) =>
        _connection.PublishAsync(subject, payload, headers);

    /// <summary>
    /// Returns once the server has processed everything published so far on this connection (a PING answered after
    /// it): what the server routes later reaches a subscriber after it. Core publishes are buffered by the client, so
    /// without this a message published afterwards through another connection may arrive first.
    /// </summary>
    public async Task SettleAsync() => await _connection.PingAsync();

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
