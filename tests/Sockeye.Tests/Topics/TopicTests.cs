using Sockeye.Server;
using Sockeye.Tests.Support;
using Sockeye.Topics;

namespace Sockeye.Tests.Topics;

/// <summary>A <see cref="TopicHub"/> mapped on a real <see cref="WebSocketServer"/> (every path), and clients for it.</summary>
internal sealed class TopicTests : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly List<TopicClient> _clients = [];

    private TopicTests(TestServer server, TopicHub hub)
    {
        Server = server;
        Hub = hub;
    }

    public TestServer Server { get; }

    public TopicHub Hub { get; }

    public static async Task<TopicTests> StartAsync(TopicHubOptions? options = null, int port = 0)
    {
        var hub = new TopicHub(options);
        TestServer server = await TestServer.StartAsync(s => s.MapTopics(null, hub), o => o.Port = port);
        return new TopicTests(server, hub);
    }

    /// <summary>Reconnects fast, so tests of reconnection take milliseconds, not seconds.</summary>
    public static TopicClientOptions FastReconnect(TimeSpan? requestTimeout = null) => new()
    {
        MinReconnectDelay = TimeSpan.FromMilliseconds(10),
        MaxReconnectDelay = TimeSpan.FromMilliseconds(200),
        RequestTimeout = requestTimeout ?? TimeSpan.FromSeconds(10),
    };

    public async Task<TopicClient> ConnectAsync(TopicClientOptions? options = null)
    {
        TopicClient client = await TopicClient.ConnectAsync(Server.Uri("/"), options ?? FastReconnect()).WaitAsync(Timeout);
        _clients.Add(client);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (TopicClient client in _clients)
        {
            await client.DisposeAsync().AsTask().WaitAsync(Timeout);
        }

        await Server.DisposeAsync();
        await Hub.DisposeAsync();
    }

    /// <summary>Completes when <paramref name="client"/> next enters <paramref name="state"/>.</summary>
    public static Task Next(TopicClient client, TopicClientState state)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.StateChanged += (_, e) =>
        {
            if (e.State == state)
            {
                reached.TrySetResult();
            }
        };
        return reached.Task.WaitAsync(Timeout);
    }
}
