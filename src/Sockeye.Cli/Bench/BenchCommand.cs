using System.CommandLine;
using System.Net;

namespace Sockeye.Cli.Bench;

/// <summary>
/// <c>sockeye bench</c>: a raw-socket WebSocket echo load generator, independent of the Sockeye
/// library so that it measures Sockeye, Kestrel, Node <c>ws</c> or a byte-copy echo alike.
/// </summary>
public static class BenchCommand
{
    /// <summary>Builds the <c>bench</c> command.</summary>
    public static Command Create()
    {
        var url = new Argument<string>("url") { Description = "Echo server, ws://host:port/path" };
        var connections = new Option<int>("--connections") { Description = "Concurrent connections", DefaultValueFactory = _ => 1 };
        var size = new Option<int>("--size") { Description = "Payload bytes per message", DefaultValueFactory = _ => 64 };
        var window = new Option<int>("--window") { Description = "Messages in flight per connection", DefaultValueFactory = _ => 1 };
        var duration = new Option<double>("--duration")
        {
            Description = "Seconds to measure (with --idle: seconds to hold before reading the server's memory)",
            DefaultValueFactory = _ => 10,
        };
        var warmup = new Option<double>("--warmup") { Description = "Seconds of unmeasured load first", DefaultValueFactory = _ => 2 };
        var text = new Option<bool>("--text") { Description = "Send text messages" };
        var binary = new Option<bool>("--binary") { Description = "Send binary messages (default)" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object on stdout instead of text" };
        var rawBaseline = new Option<bool>("--raw-baseline")
        {
            Description = "Accept masked frames: the target is a byte-copy echo that returns the client's frames unchanged",
        };
        var idle = new Option<int>("--idle") { Description = "Instead of load, hold this many idle handshaken connections" };
        var sourceIps = new Option<string?>("--source-ips")
        {
            Description = "Comma-separated local addresses to connect from, round-robin (more than ~28k connections need several)",
        };
        var serverPid = new Option<int>("--server-pid") { Description = "Server process to sample for CPU and memory (/proc)" };
        var connectConcurrency = new Option<int>("--connect-concurrency")
        {
            Description = "Handshakes in progress at once",
            DefaultValueFactory = _ => 128,
        };

        var command = new Command("bench", "Measure a WebSocket echo server: throughput, latency percentiles, or memory per idle connection")
        {
            url, connections, size, window, duration, warmup, text, binary, json, rawBaseline, idle, sourceIps, serverPid, connectConcurrency,
        };

        command.SetAction(async (ParseResult pr, CancellationToken ct) =>
        {
            BenchSettings settings;
            try
            {
                settings = new BenchSettings
                {
                    Url = pr.GetValue(url)!,
                    Connections = pr.GetValue(connections),
                    Size = pr.GetValue(size),
                    Window = pr.GetValue(window),
                    DurationSeconds = pr.GetValue(duration),
                    WarmupSeconds = pr.GetValue(warmup),
                    Text = pr.GetValue(text) && !pr.GetValue(binary),
                    Json = pr.GetValue(json),
                    RawBaseline = pr.GetValue(rawBaseline),
                    Idle = pr.GetValue(idle),
                    SourceAddresses = ParseAddresses(pr.GetValue(sourceIps)),
                    ServerPid = pr.GetValue(serverPid),
                    ConnectConcurrency = pr.GetValue(connectConcurrency),
                };
            }
            catch (FormatException ex)
            {
                await Console.Error.WriteLineAsync($"bench: {ex.Message}").ConfigureAwait(false);
                return 2;
            }

            if (settings.Validate() is { } problem)
            {
                await Console.Error.WriteLineAsync($"bench: {problem}").ConfigureAwait(false);
                return 2;
            }

            return await RunAsync(settings, ct).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(BenchSettings settings, CancellationToken ct)
    {
        SocketEngineTuning.UseInlineCompletions();
        BenchTarget target;
        try
        {
            target = await BenchTarget.ResolveAsync(settings.Url, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ArgumentException or System.Net.Sockets.SocketException)
        {
            await Console.Error.WriteLineAsync($"bench: {ex.Message}").ConfigureAwait(false);
            return 2;
        }

        int errors;
        using var stdout = Console.OpenStandardOutput();
        if (settings.Idle > 0)
        {
            var report = await IdleRunner.RunAsync(settings, target, Console.Error, ct).ConfigureAwait(false);
            errors = report.Errors.Count + (report.Connected == 0 ? 1 : 0);
            Write(settings, report.WriteJson, report.WriteText, stdout);
        }
        else
        {
            var report = await LoadRunner.RunAsync(settings, target, Console.Error, ct).ConfigureAwait(false);
            errors = report.Errors.Count + (report.Connected == 0 ? 1 : 0);
            Write(settings, report.WriteJson, report.WriteText, stdout);
        }

        // Non-zero when anything failed, so scripts notice even without parsing the report.
        return errors == 0 ? 0 : 1;
    }

    private static void Write(BenchSettings settings, Action<Stream> writeJson, Action<TextWriter> writeText, Stream stdout)
    {
        if (settings.Json)
        {
            writeJson(stdout);
            stdout.Write("\n"u8);
            stdout.Flush();
        }
        else
        {
            writeText(Console.Out);
        }
    }

    private static IPAddress[] ParseAddresses(string? list) =>
        string.IsNullOrWhiteSpace(list)
            ? []
            : list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(a => IPAddress.TryParse(a, out var ip) ? ip : throw new FormatException($"--source-ips: not an IP address: {a}"))
                .ToArray();
}
