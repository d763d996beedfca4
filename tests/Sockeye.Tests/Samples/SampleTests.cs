using System.Text.Json;
using Sockeye.Tests.Topics;
using Sockeye.Topics;

namespace Sockeye.Tests.Samples;

/// <summary>Each sample, run as its own process from its build output: it serves its page and sockeye.js, and topics work.</summary>
public class SampleTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task ChatServer_serves_its_page_and_sockeye_js_and_a_room_round_trips_with_presence()
    {
        await using SampleProcess chat = await SampleProcess.StartAsync("ChatServer", "0");
        await AssertServesPageAndClientAsync(chat);

        await using TopicClient client = await TopicClient.ConnectAsync(chat.WebSocketUrl("/chat"), TopicTests.FastReconnect()).WaitAsync(Timeout);
        var inbox = new Inbox();
        await client.SubscribeAsync("/chat/test", inbox.Handler, new TopicSubscribeOptions { Presence = """{"name":"tester"}""" }).WaitAsync(Timeout);
        StreamPosition ack = await client.PublishTextAsync("/chat/test", """{"name":"tester","text":"hi"}""").AsTask().WaitAsync(Timeout);

        Received received = await inbox.NextAsync();
        Assert.Equal(ack, received.Position);
        Assert.Equal("""{"name":"tester","text":"hi"}""", received.Text);
        PresenceMember member = Assert.Single(await client.GetPresenceAsync("/chat/test").WaitAsync(Timeout));
        Assert.Equal((client.ConnectionId, """{"name":"tester"}"""), (member.Connection, member.Info));
        TopicException outside = await Assert.ThrowsAsync<TopicException>(() => client.PublishTextAsync("elsewhere", "x").AsTask().WaitAsync(Timeout));
        Assert.Equal("forbidden", outside.Code);
    }

    [Fact]
    public async Task Dashboard_serves_its_page_and_publishes_metrics_with_history_to_resume_from()
    {
        await using SampleProcess dashboard = await SampleProcess.StartAsync("Dashboard", "--port", "0", "--interval-ms", "50");
        await AssertServesPageAndClientAsync(dashboard);

        await using TopicClient first = await TopicClient.ConnectAsync(dashboard.WebSocketUrl("/"), TopicTests.FastReconnect()).WaitAsync(Timeout);
        var inbox = new Inbox();
        await first.SubscribeAsync("metrics", inbox.Handler).WaitAsync(Timeout);
        Received sample = await inbox.NextAsync();
        using (JsonDocument metrics = JsonDocument.Parse(sample.Payload))
        {
            Assert.True(metrics.RootElement.GetProperty("workingSetMiB").GetDouble() > 0);
            Assert.True(metrics.RootElement.TryGetProperty("cpu", out _));
        }

        // A page coming back with its stored position resumes right after it, from the topic's history.
        await using TopicClient later = await TopicClient.ConnectAsync(dashboard.WebSocketUrl("/"), TopicTests.FastReconnect()).WaitAsync(Timeout);
        var resumed = new Inbox();
        int resets = 0;
        await later.SubscribeAsync("metrics", resumed.Handler, new TopicSubscribeOptions { Since = sample.Position, OnReset = _ => resets++ }).WaitAsync(Timeout);
        Received next = await resumed.NextAsync();
        Assert.Equal(new StreamPosition(sample.Position.Epoch, sample.Position.Offset + 1), next.Position);
        Assert.Equal(0, resets);

        TopicException readOnly = await Assert.ThrowsAsync<TopicException>(() => later.PublishTextAsync("metrics", "{}").AsTask().WaitAsync(Timeout));
        Assert.Equal("forbidden", readOnly.Code);
    }

    private static async Task AssertServesPageAndClientAsync(SampleProcess sample)
    {
        using var http = new HttpClient { Timeout = Timeout };
        string page = await http.GetStringAsync(sample.Url);
        Assert.Contains("""import { connect } from "/sockeye.js";""", page, StringComparison.Ordinal);

        using HttpResponseMessage script = await http.GetAsync(new Uri(sample.Url, "/sockeye.js"));
        Assert.Equal(System.Net.HttpStatusCode.OK, script.StatusCode);
        Assert.StartsWith("text/javascript", script.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        // The very file of clients/js, copied by the build, not a stale duplicate.
        byte[] expected = await File.ReadAllBytesAsync(Path.Combine(SampleProcess.RepositoryRoot(), "clients", "js", "sockeye.js"));
        Assert.Equal(expected, await script.Content.ReadAsByteArrayAsync());
    }
}
