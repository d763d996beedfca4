using Sockeye.Client;
using Sockeye.Topics;

namespace Sockeye.Tests.Topics;

/// <summary>Topic hooks get their cancellation from the connection they are asked about (<see cref="WebSocketConnection.Aborted"/>).</summary>
public class TopicHookAbortedTests
{
    [Fact]
    public async Task A_subscribe_hook_waiting_on_the_connections_Aborted_is_released_by_StopAsync()
    {
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new TopicHubOptions
        {
            AuthorizeSubscribe = async (connection, _) =>
            {
                waiting.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, connection.Aborted);
                }
                catch (OperationCanceledException)
                {
                    released.TrySetResult();
                    throw;
                }

                return null;
            },
        };
        await using TopicTests topics = await TopicTests.StartAsync(options);
        var clientOptions = new WebSocketClientOptions();
        clientOptions.Subprotocols.Add(TopicHub.Subprotocol);
        await using WebSocketConnection client = await topics.Server.ConnectAsync("/", clientOptions);
        Assert.Contains("\"op\":\"hello\"", (await client.ReceiveAsync().AsTask().WaitAsync(TopicTests.Timeout)).GetText(), StringComparison.Ordinal);
        await client.SendTextAsync("""{"op":"sub","id":1,"topic":"t"}""").AsTask().WaitAsync(TopicTests.Timeout);
        await waiting.Task.WaitAsync(TopicTests.Timeout);

        await topics.Server.Server.StopAsync().WaitAsync(TopicTests.Timeout);

        await released.Task.WaitAsync(TopicTests.Timeout);
        while (!(await client.ReceiveAsync().AsTask().WaitAsync(TopicTests.Timeout)).IsClose)
        {
        }

        Assert.Equal(CloseCode.GoingAway, client.CloseStatus);
    }
}
