using System.Net;
using System.Text;
using Sockeye.Server;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Server;

public sealed class StaticFilesTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "sockeye-tests-" + Guid.NewGuid().ToString("N"));

    public StaticFilesTests()
    {
        Directory.CreateDirectory(Path.Combine(_directory, "www", "sub"));
        File.WriteAllText(Path.Combine(_directory, "www", "index.html"), "<h1>home</h1>");
        File.WriteAllText(Path.Combine(_directory, "www", "app.js"), "console.log(1);");
        File.WriteAllText(Path.Combine(_directory, "www", "sub", "index.html"), "sub index");
        File.WriteAllText(Path.Combine(_directory, "secret.txt"), "TOP SECRET");
        File.WriteAllText(Path.Combine(_directory, "www-evil.txt"), "SIBLING SECRET");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private Task<TestServer> StartFromDirectory() =>
        TestServer.StartAsync(s => s.Map("/ws", TestServer.Echo), o => o.StaticFiles = StaticFiles.FromDirectory(Path.Combine(_directory, "www")));

    [Fact]
    public async Task Serves_files_from_a_directory_over_HttpClient()
    {
        await using TestServer server = await StartFromDirectory();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.Port}") };

        using HttpResponseMessage index = await http.GetAsync(new Uri("/", UriKind.Relative));
        using HttpResponseMessage script = await http.GetAsync(new Uri("/app.js", UriKind.Relative));
        using HttpResponseMessage sub = await http.GetAsync(new Uri("/sub/", UriKind.Relative));
        using HttpResponseMessage missing = await http.GetAsync(new Uri("/missing.txt", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("<h1>home</h1>", await index.Content.ReadAsStringAsync());
        Assert.Equal("text/html", index.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("console.log(1);", await script.Content.ReadAsStringAsync());
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Equal("sub index", await sub.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Serves_files_from_memory()
    {
        var files = new Dictionary<string, byte[]>
        {
            ["/index.html"] = "memory home"u8.ToArray(),
            ["/data.json"] = "{\"a\":1}"u8.ToArray(),
        };
        await using TestServer server = await TestServer.StartAsync(configure: o => o.StaticFiles = StaticFiles.FromMemory(files));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.Port}") };

        Assert.Equal("memory home", await http.GetStringAsync(new Uri("/", UriKind.Relative)));
        using HttpResponseMessage json = await http.GetAsync(new Uri("/data.json", UriKind.Relative));
        Assert.Equal("application/json", json.Content.Headers.ContentType?.MediaType);
        Assert.Equal("{\"a\":1}", await json.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Without_static_files_plain_GET_is_404()
    {
        await using TestServer server = await TestServer.StartAsync(s => s.Map("/ws", TestServer.Echo));
        using var http = new HttpClient();

        using HttpResponseMessage response = await http.GetAsync(new Uri($"http://127.0.0.1:{server.Port}/"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("/../secret.txt")]
    [InlineData("/%2e%2e/secret.txt")]
    [InlineData("/sub/../../secret.txt")]
    [InlineData("/..%2fsecret.txt")]
    [InlineData("/../www-evil.txt")]
    [InlineData("/%2e%2e%2fwww-evil.txt")]
    public async Task Path_traversal_is_refused(string target)
    {
        await using TestServer server = await StartFromDirectory();
        using RawHttp raw = await RawHttp.ConnectAsync(server.Port);

        await raw.SendAsync($"GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        byte[] all = await raw.ReadToEndAsync();

        string text = Encoding.Latin1.GetString(all);
        Assert.DoesNotContain("SECRET", text, StringComparison.Ordinal);
        Assert.True(text.StartsWith("HTTP/1.1 404 ", StringComparison.Ordinal) || text.StartsWith("HTTP/1.1 400 ", StringComparison.Ordinal), text);
    }

    [Fact]
    public async Task Keep_alive_serves_two_requests_on_one_connection()
    {
        await using TestServer server = await StartFromDirectory();
        using RawHttp raw = await RawHttp.ConnectAsync(server.Port);

        await raw.SendAsync("GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var first = await raw.ReadResponseAsync();
        await raw.SendAsync("GET /app.js HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var second = await raw.ReadResponseAsync();

        Assert.Equal(200, first.Status);
        Assert.Equal("<h1>home</h1>", Encoding.UTF8.GetString(first.Body));
        Assert.DoesNotContain("Connection: close", first.Head, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(200, second.Status);
        Assert.Equal("console.log(1);", Encoding.UTF8.GetString(second.Body));
    }

    [Fact]
    public async Task Pipelined_requests_are_answered_in_order()
    {
        await using TestServer server = await StartFromDirectory();
        using RawHttp raw = await RawHttp.ConnectAsync(server.Port);

        await raw.SendAsync("GET /app.js HTTP/1.1\r\nHost: localhost\r\n\r\nGET /missing HTTP/1.1\r\nHost: localhost\r\n\r\nGET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");

        Assert.Equal(200, (await raw.ReadResponseAsync()).Status);
        Assert.Equal(404, (await raw.ReadResponseAsync()).Status);
        var last = await raw.ReadResponseAsync();
        Assert.Equal("<h1>home</h1>", Encoding.UTF8.GetString(last.Body));
        Assert.Contains("Connection: close", last.Head, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(await raw.ReadToEndAsync()); // and the server closed
    }

    [Fact]
    public async Task Static_GET_then_WebSocket_upgrade_on_the_same_connection()
    {
        await using TestServer server = await StartFromDirectory();
        using RawHttp raw = await RawHttp.ConnectAsync(server.Port);

        await raw.SendAsync("GET /app.js HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.Equal(200, (await raw.ReadResponseAsync()).Status);
        await raw.SendAsync(Http.Upgrade("GET /ws HTTP/1.1"));
        string head = await raw.ReadHeadAsync();
        await raw.SendAsync(RawFrame.Build(Sockeye.Protocol.Opcode.Text, "hi"));

        Assert.StartsWith("HTTP/1.1 101 ", head, StringComparison.Ordinal);
        Assert.Contains($"Sec-WebSocket-Accept: {Http.SampleAccept}\r\n", head, StringComparison.Ordinal);
        Assert.Equal(Bytes.Hex("81 02 68 69"), await raw.ReadExactlyAsync(4));
    }

    [Fact]
    public async Task HEAD_returns_headers_without_a_body()
    {
        await using TestServer server = await StartFromDirectory();
        using RawHttp raw = await RawHttp.ConnectAsync(server.Port);

        await raw.SendAsync("HEAD /app.js HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        byte[] all = await raw.ReadToEndAsync();

        string text = Encoding.Latin1.GetString(all);
        Assert.StartsWith("HTTP/1.1 200 ", text, StringComparison.Ordinal);
        Assert.Contains("Content-Length: 15\r\n", text, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Non_GET_plain_request_is_405_and_closes()
    {
        await using TestServer server = await StartFromDirectory();
        using RawHttp raw = await RawHttp.ConnectAsync(server.Port);

        await raw.SendAsync("DELETE /app.js HTTP/1.1\r\nHost: localhost\r\n\r\nGET /app.js HTTP/1.1\r\nHost: localhost\r\n\r\n");
        string text = Encoding.Latin1.GetString(await raw.ReadToEndAsync());

        Assert.StartsWith("HTTP/1.1 405 ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("console.log", text, StringComparison.Ordinal);
    }
}
