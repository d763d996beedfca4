using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Sockeye.Topics;
using Sockeye.Transport;

namespace Sockeye.Tests.Topics;

/// <summary>
/// A server-side connection for a <see cref="TopicHub"/> and the client connection at the other end of an in-memory
/// pipe, read by the test. The pipe pauses its writer at 64 KiB, so a peer that stops reading really applies
/// backpressure to the server connection, as TCP would.
/// </summary>
internal sealed class TopicPeer : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private TopicPeer(string? subprotocol, long maxSendBuffer)
    {
        (InMemoryTransport server, InMemoryTransport client) = InMemoryTransport.CreatePair(
            new PipeOptions(pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024, useSynchronizationContext: false));
        var options = new WebSocketOptions { PingInterval = TimeSpan.Zero, MaxSendBuffer = maxSendBuffer, SendTimeout = TimeSpan.FromMinutes(5), CloseTimeout = TimeSpan.FromSeconds(1) };
        Server = WebSocketConnection.Open(server, Role.Server, options, subprotocol);
        Client = WebSocketConnection.Open(client, Role.Client, options, subprotocol);
    }

    public WebSocketConnection Server { get; }

    public WebSocketConnection Client { get; }

    public static TopicPeer Plain(long maxSendBuffer = 64 * 1024) => new(null, maxSendBuffer);

    public static TopicPeer V1(long maxSendBuffer = 64 * 1024) => new(TopicHub.Subprotocol, maxSendBuffer);

    /// <summary>The next message's text (binary payloads as text too), or null when the connection closed.</summary>
    public async Task<string?> ReceiveTextAsync()
    {
        WebSocketMessage message = await Client.ReceiveAsync().AsTask().WaitAsync(Timeout);
        return message.IsClose ? null : Encoding.UTF8.GetString(message.Payload);
    }

    /// <summary>The next sockeye.v1 frame as JSON (binary frames: the JSON header, payload under "$payload").</summary>
    public async Task<JsonElement?> ReceiveJsonAsync()
    {
        WebSocketMessage message = await Client.ReceiveAsync().AsTask().WaitAsync(Timeout);
        if (message.IsClose)
        {
            return null;
        }

        byte[] bytes = message.ToArray();
        if (message.Type == MessageType.Text)
        {
            return JsonDocument.Parse(bytes).RootElement.Clone();
        }

        int length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes);
        using JsonDocument header = JsonDocument.Parse(bytes.AsMemory(4, length));
        var merged = new Dictionary<string, object?>();
        foreach (JsonProperty property in header.RootElement.EnumerateObject())
        {
            merged[property.Name] = property.Value.Clone();
        }

        merged["$payload"] = Convert.ToHexString(bytes, 4 + length, bytes.Length - 4 - length);
        return JsonSerializer.SerializeToElement(merged);
    }

    /// <summary>Skips frames until one with this op arrives.</summary>
    public async Task<JsonElement> ExpectOpAsync(string op)
    {
        while (true)
        {
            JsonElement? frame = await ReceiveJsonAsync() ?? throw new InvalidOperationException($"closed while waiting for '{op}'");
            if (frame.Value.GetProperty("op").GetString() == op)
            {
                return frame.Value;
            }
        }
    }

    public Task SendJsonAsync(string json) => Client.SendTextAsync(json).AsTask();

    public async ValueTask DisposeAsync()
    {
        Client.Abort();
        Server.Abort();
        await Task.WhenAny(Server.Completion, Task.Delay(Timeout));
    }
}

