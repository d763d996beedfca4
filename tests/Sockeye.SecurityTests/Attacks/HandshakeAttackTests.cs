using System.Diagnostics;
using System.Text;
using Sockeye.SecurityTests.Support;

namespace Sockeye.SecurityTests.Attacks;

/// <summary>Attacks on the HTTP/1.1 opening handshake, over real loopback sockets against an echo server.</summary>
public sealed class HandshakeAttackTests
{
    private static async Task<(int Status, byte[] After)> SendRawRequestAsync(int port, string request)
    {
        await using RawClient client = await RawClient.ConnectAsync(port);
        await client.TrySendAsync(Encoding.Latin1.GetBytes(request));
        string head = await client.ReadHeadAsync();
        int status = Handshake.Status(head);
        byte[] rest = status == 101 ? [] : await client.ReadToEndAsync(); // the server closes after any refusal
        return (status, rest);
    }

    [Fact]
    public async Task ReDoS_pathological_token_lists_are_answered_quickly()
    {
        await using var server = await Servers.StartEchoAsync();
        // ~12 KiB of commas and whitespace in the list-valued headers the server parses, just under the head limit.
        string commas = string.Concat(Enumerable.Repeat(", \t,", 1_500));
        var watch = Stopwatch.StartNew();
        await using (RawClient ok = await RawClient.UpgradeAsync(server.Port, "/", null, $"Sec-WebSocket-Protocol: {commas}chat{commas}"))
        {
            await ok.SendAsync(Frames.Text("ping"));
            Assert.Equal("ping", (await ok.ReadFrameAsync())!.Text);
        }

        (int status, _) = await SendRawRequestAsync(server.Port,
            $"GET / HTTP/1.1\r\nHost: 127.0.0.1:{server.Port}\r\nUpgrade: websocket\r\nConnection: {commas}keep-alive{commas}\r\nSec-WebSocket-Key: {Handshake.Key}\r\nSec-WebSocket-Version: 13\r\n\r\n");
        Assert.Equal(400, status); // Connection lacks "Upgrade"
        (status, _) = await SendRawRequestAsync(server.Port,
            $"GET / HTTP/1.1\r\nHost: 127.0.0.1:{server.Port}\r\nUpgrade: {string.Concat(Enumerable.Repeat("x,", 7_000))}websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {Handshake.Key}\r\nSec-WebSocket-Version: 13\r\n\r\n");
        Assert.Equal(101, status);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"pathological heads took {watch.Elapsed}");

        // The token parser itself is linear: a million commas split in well under a second.
        watch.Restart();
        Assert.Empty(HeaderTokens.Split(new string(',', 1_000_000)));
        Assert.False(HeaderTokens.Contains(string.Concat(Enumerable.Repeat(" ,\t", 300_000)), "Upgrade"));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"token parsing took {watch.Elapsed}");
        await Servers.AssertHealthyAsync(server);
    }

    [Fact]
    public async Task Thousands_of_header_fields_get_431()
    {
        await using var server = await Servers.StartEchoAsync();
        string many = string.Concat(Enumerable.Range(0, 2_000).Select(i => $"x{i}:1\r\n"));
        (int status, _) = await SendRawRequestAsync(server.Port, Handshake.Request(server.Port).Replace("\r\n\r\n", "\r\n" + many + "\r\n", StringComparison.Ordinal));
        Assert.Equal(431, status);
        // Also refused while still incomplete: an endless stream of short fields is not buffered to the size limit.
        (status, _) = await SendRawRequestAsync(server.Port, "GET / HTTP/1.1\r\n" + string.Concat(Enumerable.Repeat("a:b\r\n", 150)));
        Assert.Equal(431, status);
        await Servers.AssertHealthyAsync(server);
    }

    [Fact]
    public async Task A_head_over_16_KiB_gets_431_complete_or_not()
    {
        await using var server = await Servers.StartEchoAsync();
        string big = new('a', 17 * 1024);
        (int status, _) = await SendRawRequestAsync(server.Port, Handshake.Request(server.Port, "/", $"X-Big: {big}"));
        Assert.Equal(431, status);
        (status, _) = await SendRawRequestAsync(server.Port, $"GET / HTTP/1.1\r\nX-Big: {big}"); // never terminated
        Assert.Equal(431, status);
        await Servers.AssertHealthyAsync(server);
    }

    [Fact]
    public async Task Slowloris_a_head_trickled_slower_than_the_handshake_timeout_is_disconnected()
    {
        await using var server = await Servers.StartEchoAsync(o => o.HandshakeTimeout = TimeSpan.FromMilliseconds(500));
        byte[] request = Encoding.ASCII.GetBytes(Handshake.Request(server.Port, "/", "X-Slow: " + new string('z', 200)));
        // The clock starts before the connection exists: the server's 500 ms timer starts when it accepts, so it can
        // never have been running longer than this watch (started after the connect, a busy machine could put
        // 100 ms and more between the server's accept and the watch, and the lower bound failed).
        var watch = Stopwatch.StartNew();
        await using RawClient client = await RawClient.ConnectAsync(server.Port);
        Task<byte[]> end = client.ReadToEndAsync(TimeSpan.FromSeconds(10));
        // One byte every 20 ms: the whole head would take ~6 s, each byte arrives well within any per-read timeout.
        int sent = 0;
        while (!end.IsCompleted && sent < request.Length && await client.TrySendAsync(request.AsMemory(sent, 1)))
        {
            sent++;
            await Task.WhenAny(end, Task.Delay(20));
        }

        byte[] answer = await end;
        Assert.True(sent < request.Length, "the whole head was accepted");
        Assert.DoesNotContain("101", Encoding.Latin1.GetString(answer), StringComparison.Ordinal);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(5));
        await Servers.AssertHealthyAsync(server);
    }

    [Fact]
    public async Task Without_deflate_settings_an_offer_is_ignored_and_RSV1_is_a_protocol_error()
    {
        await using var server = await Servers.StartEchoAsync();
        await using RawClient client = await RawClient.ConnectAsync(server.Port);
        await client.SendAsync(Handshake.Request(server.Port, "/", "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"));
        string head = await client.ReadHeadAsync();
        Assert.StartsWith("HTTP/1.1 101", head, StringComparison.Ordinal);
        Assert.DoesNotContain("Sec-WebSocket-Extensions", head, StringComparison.OrdinalIgnoreCase);
        await client.SendAsync(Frames.Build(0x2, [0xF2, 0x48, 0x00, 0x00], rsv: 4));
        Assert.Equal(CloseCode.ProtocolError, (await client.ReadCloseAsync()).CloseCode);
        await Servers.AssertHealthyAsync(server);
    }

    [Theory]
    [InlineData(null, false, 101)]                        // no Origin: not a browser
    [InlineData("http://127.0.0.1:{port}", false, 101)]   // same origin
    [InlineData("http://evil.example", false, 403)]       // cross-site WebSocket hijacking attempt
    [InlineData("null", false, 403)]                      // opaque origin
    [InlineData("http://127.0.0.1:1", false, 403)]        // same host, other port
    [InlineData("http://evil.example", true, 101)]        // AllowedOrigins = *
    public async Task Origin_is_checked(string? origin, bool allowAll, int expected)
    {
        await using var server = await Servers.StartEchoAsync(o =>
        {
            if (allowAll)
            {
                o.AllowedOrigins.Add("*");
            }
        });
        string[] extra = origin is null ? [] : [$"Origin: {origin.Replace("{port}", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)}"];
        await using RawClient client = await RawClient.ConnectAsync(server.Port);
        await client.SendAsync(Handshake.Request(server.Port, "/", extra));
        string head = await client.ReadHeadAsync();
        Assert.Equal(expected, Handshake.Status(head));
        if (expected == 101)
        {
            await client.SendAsync(Frames.Text("hi"));
            Assert.Equal("hi", (await client.ReadFrameAsync())!.Text);
        }
        else
        {
            await client.ExpectEndAsync();
        }

        await Servers.AssertHealthyAsync(server);
    }

    [Theory]
    [InlineData("Content-Length: 5", "hello")]
    [InlineData("Transfer-Encoding: chunked", "5\r\nhello\r\n0\r\n\r\n")]
    public async Task A_request_body_on_the_upgrade_gets_400(string header, string body)
    {
        await using var server = await Servers.StartEchoAsync();
        (int status, byte[] rest) = await SendRawRequestAsync(server.Port, Handshake.Request(server.Port, "/", header) + body);
        Assert.Equal(400, status);
        Assert.DoesNotContain("101", Encoding.Latin1.GetString(rest), StringComparison.Ordinal);
        await Servers.AssertHealthyAsync(server);
    }

    [Fact]
    public async Task Bytes_pipelined_after_a_refused_upgrade_are_never_processed()
    {
        await using var server = await Servers.StartEchoAsync();
        string refused = Handshake.Request(server.Port).Replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8", StringComparison.Ordinal);
        string valid = Handshake.Request(server.Port);
        await using RawClient client = await RawClient.ConnectAsync(server.Port);
        // One write: the refused request, a valid upgrade and a frame, all in the server's buffer together.
        await client.SendAsync(Encoding.ASCII.GetBytes(refused + valid).Concat(Frames.Text("smuggled")).ToArray());
        string head = await client.ReadHeadAsync();
        Assert.Equal(426, Handshake.Status(head));
        Assert.Contains("Sec-WebSocket-Version: 13", head, StringComparison.Ordinal);
        string rest = Encoding.Latin1.GetString(await client.ReadToEndAsync());
        Assert.DoesNotContain("HTTP/1.1 101", rest, StringComparison.Ordinal);
        Assert.DoesNotContain("smuggled", rest, StringComparison.Ordinal);
        Assert.Equal(0, server.ConnectionCount);
        await Servers.AssertHealthyAsync(server);
    }

    [Fact]
    public async Task Max_connections_answers_503_beyond_the_limit_and_recovers()
    {
        await using var server = await Servers.StartEchoAsync(o => o.MaxConnections = 3);
        var open = new List<RawClient>();
        for (int i = 0; i < 3; i++)
        {
            open.Add(await RawClient.UpgradeAsync(server.Port));
        }

        await Servers.EventuallyAsync(() => server.ConnectionCount == 3, "3 connections registered");
        await using (RawClient extra = await RawClient.ConnectAsync(server.Port))
        {
            await extra.SendAsync(Handshake.Request(server.Port));
            Assert.Equal(503, Handshake.Status(await extra.ReadHeadAsync()));
            await extra.ExpectEndAsync();
        }

        // The limit is about open connections: one leaves, a newcomer gets in.
        await open[0].SendAsync(Frames.Close(1000, []));
        await open[0].ReadCloseAsync();
        await Servers.EventuallyAsync(() => server.ConnectionCount == 2, "the closed connection unregistered");
        await Servers.AssertHealthyAsync(server);
        foreach (RawClient client in open)
        {
            await client.DisposeAsync();
        }
    }
}
