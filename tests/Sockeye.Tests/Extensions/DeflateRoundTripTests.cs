using System.Text;
using Sockeye.Client;
using Sockeye.Server;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Extensions;

/// <summary>
/// Modelled on Autobahn groups 12 and 13: messages of many sizes and kinds echoed over real sockets by a Sockeye
/// server to a Sockeye client, under each parameter combination negotiated in a real opening handshake.
/// </summary>
public class DeflateRoundTripTests
{
    private static readonly int[] Sizes = [0, 1, 16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072];

    public static TheoryData<string, string> Offers => new()
    {
        { "", "permessage-deflate" },
        { "client_no_context_takeover", "permessage-deflate; client_no_context_takeover" },
        { "server_no_context_takeover", "permessage-deflate; server_no_context_takeover" },
        { "server_no_context_takeover; client_no_context_takeover", "permessage-deflate; server_no_context_takeover; client_no_context_takeover" },
        { "server_max_window_bits=8", "permessage-deflate; server_max_window_bits=8" },
        { "server_max_window_bits=9", "permessage-deflate; server_max_window_bits=9" },
        { "server_max_window_bits=12", "permessage-deflate; server_max_window_bits=12" },
        { "client_max_window_bits=8", "permessage-deflate; client_max_window_bits=8" },
        { "client_max_window_bits=9", "permessage-deflate; client_max_window_bits=9" },
        { "client_no_context_takeover; client_max_window_bits=9", "permessage-deflate; client_no_context_takeover; client_max_window_bits=9" },
        { "server_no_context_takeover; server_max_window_bits=9; client_max_window_bits=10", "permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_max_window_bits=10" },
    };

    private static PerMessageDeflateOptions ClientOptions(string offer)
    {
        var o = new PerMessageDeflateOptions { Threshold = 0 };
        foreach (string part in offer.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] kv = part.Split('=');
            switch (kv[0])
            {
                case "client_no_context_takeover": o.ClientNoContextTakeover = true; break;
                case "server_no_context_takeover": o.ServerNoContextTakeover = true; break;
                case "server_max_window_bits": o.ServerMaxWindowBits = int.Parse(kv[1], System.Globalization.CultureInfo.InvariantCulture); break;
                case "client_max_window_bits": o.ClientMaxWindowBits = int.Parse(kv[1], System.Globalization.CultureInfo.InvariantCulture); break;
            }
        }

        return o;
    }

    private static byte[] Payload(int size, int kind, int seed)
    {
        var random = new Random(size * 31 + kind * 7 + seed);
        if (kind == 0)
        {
            // Compressible text, like a JSON stream.
            var sb = new StringBuilder(size + 64);
            while (sb.Length < size)
            {
                sb.Append("{\"seq\":").Append(random.Next(1000)).Append(",\"event\":\"update\",\"value\":").Append(random.Next()).Append('}');
            }

            return Encoding.ASCII.GetBytes(sb.ToString(0, size));
        }

        byte[] data = new byte[size];
        random.NextBytes(data);
        return data;
    }

    [Theory]
    [MemberData(nameof(Offers))]
    public async Task Messages_of_every_size_round_trip_under_each_parameter_combination(string offer, string agreed)
    {
        await using var server = await TestServer.StartAsync(s => s.MapFallback(TestServer.Echo), o =>
        {
            o.WebSocket.Deflate = new PerMessageDeflateOptions { Threshold = 0 };
            o.WebSocket.MaxMessageSize = 1 << 20;
        });
        var options = new WebSocketClientOptions { WebSocket = new WebSocketOptions { Deflate = ClientOptions(offer) } };
        await using WebSocketConnection client = await server.ConnectAsync("/", options);

        Assert.Equal(agreed, client.Extensions);
        foreach (int size in Sizes)
        {
            for (int kind = 0; kind < 2; kind++)
            {
                for (int i = 0; i < 5; i++)
                {
                    byte[] payload = Payload(size, kind, i);
                    if (kind == 0)
                    {
                        await client.SendTextAsync(payload.AsMemory());
                    }
                    else
                    {
                        await client.SendBinaryAsync(payload);
                    }

                    WebSocketMessage echo = await client.ReceiveAsync().AsTask().WaitAsync(TestServer.Timeout);
                    Assert.Equal(kind == 0 ? MessageType.Text : MessageType.Binary, echo.Type);
                    Assert.True(payload.AsSpan().SequenceEqual(echo.ToArray()), $"size {size} kind {kind} #{i}");
                }
            }
        }

        await client.CloseAsync(CloseCode.NormalClosure).WaitAsync(TestServer.Timeout);
        Assert.Equal(CloseCode.NormalClosure, client.CloseStatus);
    }

    [Fact]
    public async Task Server_without_deflate_settings_declines_and_the_client_goes_on_uncompressed()
    {
        await using var server = await TestServer.StartAsync(s => s.MapFallback(TestServer.Echo));
        var options = new WebSocketClientOptions { WebSocket = new WebSocketOptions { Deflate = new PerMessageDeflateOptions() } };
        await using WebSocketConnection client = await server.ConnectAsync("/", options);

        Assert.Null(client.Extensions);
        await client.SendTextAsync(new string('x', 1000));
        Assert.Equal(new string('x', 1000), (await client.ReceiveAsync()).GetText());
    }

    [Fact]
    public async Task Both_sides_report_what_was_agreed()
    {
        var serverSide = new TaskCompletionSource<WebSocketConnection>();
        await using var server = await TestServer.StartAsync(s => s.MapFallback(async ws =>
        {
            serverSide.TrySetResult(ws);
            await TestServer.Echo(ws);
        }), o => o.WebSocket.Deflate = new PerMessageDeflateOptions { ClientNoContextTakeover = true, ServerMaxWindowBits = 12 });
        var options = new WebSocketClientOptions { WebSocket = new WebSocketOptions { Deflate = new PerMessageDeflateOptions() } };
        await using WebSocketConnection client = await server.ConnectAsync("/", options);
        WebSocketConnection ws = await serverSide.Task.WaitAsync(TestServer.Timeout);

        Assert.Equal("permessage-deflate; client_no_context_takeover; server_max_window_bits=12", client.Extensions);
        Assert.Equal(client.Compression, ws.Compression);
    }

    [Fact]
    public async Task Client_refuses_a_server_that_answers_with_an_extension_it_did_not_offer()
    {
        await using var server = await TestServer.StartAsync(s => s.MapFallback(TestServer.Echo),
            o => o.WebSocket.Deflate = new PerMessageDeflateOptions());
        // A hook that forces the header the client never asked for.
        server.Server.Options.OnHandshake = ctx =>
        {
            ctx.ResponseHeaders.Add(new("Sec-WebSocket-Extensions", "permessage-deflate"));
            return ValueTask.CompletedTask;
        };

        var error = await Assert.ThrowsAsync<WebSocketHandshakeException>(() => server.ConnectAsync("/"));
        Assert.Contains("not offered", error.Message, StringComparison.Ordinal);
    }
}
