using System.Text;
using Sockeye.Server;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Server;

/// <summary>What a static directory must never do: leave its root, show hidden files, block on a FIFO, lie about a length.</summary>
public sealed class StaticFilesSafetyTests : IDisposable
{
    private static readonly string Real = string.Concat(Enumerable.Repeat("real file contents\n", 50));
    private readonly string _base = Path.Combine(Path.GetTempPath(), "sockeye-safety-" + Guid.NewGuid().ToString("N"));
    private readonly string _www;

    public StaticFilesSafetyTests()
    {
        _www = Path.Combine(_base, "www");
        Directory.CreateDirectory(Path.Combine(_www, "sub"));
        Directory.CreateDirectory(Path.Combine(_www, ".git"));
        Directory.CreateDirectory(Path.Combine(_base, "outside"));
        File.WriteAllText(Path.Combine(_www, "real.txt"), Real);
        File.WriteAllText(Path.Combine(_www, "sub", "page.txt"), "sub page");
        File.WriteAllText(Path.Combine(_www, ".env"), "API_KEY=hunter2");
        File.WriteAllText(Path.Combine(_www, ".git", "config"), "[core]");
        File.WriteAllText(Path.Combine(_base, "outside", "secret.txt"), "OUTSIDE SECRET");
        File.CreateSymbolicLink(Path.Combine(_www, "link.txt"), "real.txt");
        File.CreateSymbolicLink(Path.Combine(_www, "out.txt"), "../outside/secret.txt");
        File.CreateSymbolicLink(Path.Combine(_www, "env-link"), ".env");
        Directory.CreateSymbolicLink(Path.Combine(_www, "subdir"), "sub");
        Directory.CreateSymbolicLink(Path.Combine(_www, "outdir"), Path.Combine(_base, "outside"));
        Directory.CreateSymbolicLink(Path.Combine(_www, "loop"), "loop");
    }

    public void Dispose() => Directory.Delete(_base, recursive: true);

    private static string Get(string path, string host = "localhost") => $"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n";

    [Fact]
    public void A_symlink_is_opened_with_its_targets_length()
    {
        using StaticFile? file = StaticFiles.FromDirectory(_www).Open("/link.txt");

        Assert.NotNull(file);
        Assert.Equal(Real.Length, file.Length);
        Assert.Equal("text/plain; charset=utf-8", file.ContentType);
        Assert.NotNull(file.LastModified);
    }

    [Theory]
    [InlineData("/out.txt")]
    [InlineData("/outdir/secret.txt")]
    [InlineData("/subdir/../out.txt")]
    [InlineData("/../outside/secret.txt")]
    [InlineData("/loop/x")]
    public void Nothing_outside_the_root_is_opened(string path)
    {
        Assert.Null(StaticFiles.FromDirectory(_www, serveHidden: true).Open(path));
    }

    [Fact]
    public void A_symlinked_directory_inside_the_root_is_followed()
    {
        using StaticFile? file = StaticFiles.FromDirectory(_www).Open("/subdir/page.txt");

        Assert.Equal(8, file?.Length);
    }

    [Fact]
    public void A_root_reached_through_a_symlink_still_works()
    {
        string alias = Path.Combine(_base, "alias");
        Directory.CreateSymbolicLink(alias, _www);

        using StaticFile? file = StaticFiles.FromDirectory(alias).Open("/real.txt");

        Assert.Equal(Real.Length, file?.Length);
    }

    [Theory]
    [InlineData("/.env")]
    [InlineData("/.git/config")]
    [InlineData("/env-link")] // a visible name for a hidden file
    public void Hidden_names_are_refused_unless_allowed(string path)
    {
        Assert.Null(StaticFiles.FromDirectory(_www).Open(path));
        using StaticFile? allowed = StaticFiles.FromDirectory(_www, serveHidden: true).Open(path);
        Assert.NotNull(allowed);
    }

    [Fact]
    public async Task A_FIFO_is_refused_at_once_without_blocking()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return; // FIFOs in a directory tree are a Unix thing
        }

        string fifo = Path.Combine(_www, "pipe.txt");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", fifo))
        {
            await mkfifo.WaitForExitAsync().WaitAsync(TestServer.Timeout);
        }

        // A plain open of a FIFO without a writer never returns; run it where a hang fails the test instead of xunit.
        StaticFile? file = await Task.Run(() => StaticFiles.FromDirectory(_www).Open("/pipe.txt")).WaitAsync(TestServer.Timeout);

        Assert.Null(file);
    }

    [Fact]
    public void A_path_of_very_many_segments_is_refused_without_walking_it()
    {
        string path = string.Concat(Enumerable.Repeat("/sub/..", 200)) + "/real.txt";

        Assert.Null(StaticFiles.FromDirectory(_www, serveHidden: true).Open(path));
        using StaticFile? shortOne = StaticFiles.FromDirectory(_www, serveHidden: true).Open("/sub/../sub/../real.txt");
        Assert.NotNull(shortOne);
    }

    [Fact]
    public void A_directory_itself_is_not_a_file()
    {
        Assert.Null(StaticFiles.FromDirectory(_www).Open("/sub"));
    }

    [Fact]
    public async Task Keep_alive_responses_stay_in_step_after_a_symlink()
    {
        await using TestServer server = await TestServer.StartAsync(configure: o => o.StaticFiles = StaticFiles.FromDirectory(_www));
        using RawHttp raw = await RawHttp.ConnectAsync(server.Port);

        await raw.SendAsync(Get("/link.txt") + Get("/real.txt"));
        var first = await raw.ReadResponseAsync();
        var second = await raw.ReadResponseAsync();

        Assert.Equal(Real, Encoding.UTF8.GetString(first.Body));
        Assert.Equal(200, second.Status);
        Assert.Equal(Real, Encoding.UTF8.GetString(second.Body));
    }

    [Fact]
    public async Task Ranges_answer_206_and_416_with_Content_Range()
    {
        await using TestServer server = await TestServer.StartAsync(configure: o => o.StaticFiles = StaticFiles.FromDirectory(_www));
        using RawHttp raw = await RawHttp.ConnectAsync(server.Port);

        await raw.SendAsync($"GET /real.txt HTTP/1.1\r\nHost: localhost\r\nRange: bytes=5-8\r\n\r\n");
        var partial = await raw.ReadResponseAsync();
        await raw.SendAsync($"GET /real.txt HTTP/1.1\r\nHost: localhost\r\nRange: bytes={Real.Length}-\r\n\r\n");
        var unsatisfiable = await raw.ReadResponseAsync();
        await raw.SendAsync(Get("/real.txt"));
        var whole = await raw.ReadResponseAsync();

        Assert.Equal(206, partial.Status);
        Assert.Contains($"\r\nContent-Range: bytes 5-8/{Real.Length}\r\n", partial.Head, StringComparison.Ordinal);
        Assert.Equal(Real[5..9], Encoding.UTF8.GetString(partial.Body));
        Assert.Equal(416, unsatisfiable.Status);
        Assert.Contains($"\r\nContent-Range: bytes */{Real.Length}\r\n", unsatisfiable.Head, StringComparison.Ordinal);
        Assert.Equal(200, whole.Status);
        Assert.Contains("\r\nAccept-Ranges: bytes\r\n", whole.Head, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_matching_ETag_gets_304_without_a_body()
    {
        await using TestServer server = await TestServer.StartAsync(configure: o => o.StaticFiles = StaticFiles.FromDirectory(_www));
        using RawHttp raw = await RawHttp.ConnectAsync(server.Port);

        await raw.SendAsync(Get("/real.txt"));
        string etag = (await raw.ReadResponseAsync()).Head.Split("\r\n").Single(l => l.StartsWith("ETag: ", StringComparison.Ordinal))[6..];
        await raw.SendAsync($"GET /real.txt HTTP/1.1\r\nHost: localhost\r\nIf-None-Match: W/{etag}\r\n\r\n");
        var notModified = await raw.ReadResponseAsync();
        await raw.SendAsync(Get("/sub/page.txt"));
        var next = await raw.ReadResponseAsync();

        Assert.Equal(304, notModified.Status);
        Assert.Empty(notModified.Body);
        Assert.Equal("sub page", Encoding.UTF8.GetString(next.Body)); // in step: the 304 had no body
    }

    [Theory]
    [InlineData("GET /real.txt HTTP/1.1\r\n\r\n", 400)]                                     // RFC 9112 §3.2: no Host
    [InlineData("GET /real.txt HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\n\r\n", 400)] // two Hosts
    [InlineData("GET /real.txt HTTP/1.1\r\nHost: a b\r\n\r\n", 400)]                        // invalid Host
    [InlineData("GET /real.txt HTTP/1.1\r\nHost: evil.example\r\n\r\n", 421)]               // DNS rebinding
    [InlineData("GET /real.txt HTTP/2.0\r\nHost: localhost\r\n\r\n", 505)]
    [InlineData("GET /real.txt HTTP/1.0\r\n\r\n", 200)]                                     // HTTP/1.0 needs no Host
    public async Task Request_rules_for_static_files(string request, int status)
    {
        await using TestServer server = await TestServer.StartAsync(configure: o => o.StaticFiles = StaticFiles.FromDirectory(_www));
        using RawHttp raw = await RawHttp.ConnectAsync(server.Port);

        await raw.SendAsync(request);
        var response = await raw.ReadResponseAsync();

        Assert.Equal(status, response.Status);
        Assert.Equal(status == 200, Encoding.UTF8.GetString(response.Body) == Real);
    }

    [Fact]
    public async Task AllowedHosts_lets_a_listed_name_through()
    {
        await using TestServer server = await TestServer.StartAsync(configure: o =>
        {
            o.StaticFiles = StaticFiles.FromDirectory(_www);
            o.AllowedHosts.Add("app.example");
        });
        using RawHttp raw = await RawHttp.ConnectAsync(server.Port);

        await raw.SendAsync(Get("/real.txt", "app.example:8080"));

        Assert.Equal(200, (await raw.ReadResponseAsync()).Status);
    }
}
