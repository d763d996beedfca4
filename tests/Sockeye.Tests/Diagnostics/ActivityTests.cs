using System.Diagnostics;
using Sockeye.Diagnostics;
using Sockeye.Server;
using Sockeye.Tests.Server;

namespace Sockeye.Tests.Diagnostics;

// The activity source is process-wide: these tests run with the serial metrics tests, after the parallel ones, so no
// other test's listener is attached while they count allocations.
[Collection(nameof(MetricsTests))]
public sealed class ActivityTests
{
    [Fact]
    public async Task A_handshake_allocates_no_activity_while_nobody_listens()
    {
        WebSocketRequest request = HandshakePolicyTests.Get("/quiet");
        HandshakeDecision decision = await new HandshakePolicy(new WebSocketServerOptions()).DecideAsync(request, false, 0);
        Assert.False(SockeyeActivity.Source.HasListeners());

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            using Activity? activity = SockeyeActivity.StartHandshake(request);
            SockeyeActivity.Finish(activity, decision);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public async Task Each_handshake_is_one_activity_with_its_outcome()
    {
        // The source is process-wide: keep only this test's handshakes (its own paths).
        var seen = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == SockeyeActivity.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem("url.path") is "/traced" or "/untraced-404")
                {
                    lock (seen)
                    {
                        seen.Add(activity);
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        var options = new WebSocketServerOptions { WebSocket = new WebSocketOptions { Deflate = new PerMessageDeflateOptions() } };
        var policy = new HandshakePolicy(options);
        var endpoint = new EndpointOptions();
        endpoint.Subprotocols.Add("chat");
        policy.Map("/traced", _ => Task.CompletedTask, endpoint);

        await policy.DecideAsync(HandshakePolicyTests.Get("/traced", ("Sec-WebSocket-Protocol", "chat"), ("Sec-WebSocket-Extensions", "permessage-deflate")), false, 0);
        await policy.DecideAsync(HandshakePolicyTests.Get("/untraced-404"), false, 0);

        lock (seen)
        {
            Assert.Equal(2, seen.Count);
            Activity accepted = seen.Single(a => (string?)a.GetTagItem("url.path") == "/traced");
            Assert.Equal(("sockeye.handshake", ActivityKind.Server), (accepted.OperationName, accepted.Kind));
            Assert.Equal("accepted", accepted.GetTagItem("sockeye.handshake.outcome"));
            Assert.Equal(101, accepted.GetTagItem("http.response.status_code"));
            Assert.Equal("GET", accepted.GetTagItem("http.request.method"));
            Assert.Equal("chat", accepted.GetTagItem("sockeye.websocket.subprotocol"));
            Assert.Equal("permessage-deflate", accepted.GetTagItem("sockeye.websocket.compression"));
            Activity refused = seen.Single(a => (string?)a.GetTagItem("url.path") == "/untraced-404");
            Assert.Equal("refused", refused.GetTagItem("sockeye.handshake.outcome"));
            Assert.Equal(404, refused.GetTagItem("http.response.status_code"));
            Assert.Equal("404", refused.GetTagItem("error.type"));
        }
    }

}
