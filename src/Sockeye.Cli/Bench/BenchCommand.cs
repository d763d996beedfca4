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

        var payload = new Option<PayloadKind>("--payload")
        {
            Description = "Message contents: pattern (one repeated message) or json (text ticks with a counter and varying values)",
            DefaultValueFactory = _ => PayloadKind.Pattern,
        };
        var deflate = new Option<bool>("--deflate")
        {
            Description = $"Offer permessage-deflate ({DeflateNegotiation.DefaultOfferParameters}) and send every message compressed",
        };
        var deflateOffer = new Option<string?>("--deflate-offer")
        {
            Description = "Offer exactly 'permessage-deflate; PARAMS' instead (implies --deflate); a value starting with permessage-deflate is sent as is",
        };
        var verifyEvery = new Option<int>("--verify-every")
        {
            Description = "With --deflate: inflate and check every echo on 1 in N connections, only the first echo on the others (default 1: all)",
            DefaultValueFactory = _ => 1,
        };
        var idleEcho = new Option<bool>("--idle-echo")
        {
            Description = "With --idle: each connection sends one message (--size, --payload, --deflate) and checks its echo before going idle",
        };

        var command = new Command("bench", "Measure a WebSocket echo server: throughput, latency percentiles, or memory per idle connection; or, with --fanout, a broadcast server")
        {
            url, connections, size, window, duration, warmup, text, binary, json, rawBaseline, idle, sourceIps, serverPid, connectConcurrency,
            payload, deflate, deflateOffer, verifyEvery, idleEcho,
        };
        var fanout = new FanoutOptions();
        foreach (Option option in fanout.All)
        {
            command.Options.Add(option);
        }

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
                    // JSON is text unless --binary asks otherwise (which Validate rejects).
                    Text = pr.GetValue(payload) == PayloadKind.Json ? !pr.GetValue(binary) : pr.GetValue(text) && !pr.GetValue(binary),
                    Json = pr.GetValue(json),
                    RawBaseline = pr.GetValue(rawBaseline),
                    Idle = pr.GetValue(idle),
                    SourceAddresses = ParseAddresses(pr.GetValue(sourceIps)),
                    ServerPid = pr.GetValue(serverPid),
                    ConnectConcurrency = pr.GetValue(connectConcurrency),
                    Payload = pr.GetValue(payload),
                    DeflateOffer = pr.GetValue(deflate) || pr.GetValue(deflateOffer) is not null
                        ? DeflateNegotiation.OfferHeader(pr.GetValue(deflateOffer))
                        : null,
                    VerifyEvery = pr.GetValue(verifyEvery),
                    IdleEcho = pr.GetValue(idleEcho),
                };
            }
            catch (FormatException ex)
            {
                await Console.Error.WriteLineAsync($"bench: {ex.Message}").ConfigureAwait(false);
                return 2;
            }

            if (fanout.Enabled(pr))
            {
                if (fanout.Build(pr, settings, window, out string? fanoutError) is not { } fanoutSettings)
                {
                    await Console.Error.WriteLineAsync($"bench: {fanoutError}").ConfigureAwait(false);
                    return 2;
                }

                return await RunFanoutAsync(fanoutSettings, ct).ConfigureAwait(false);
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

    private static async Task<int> RunFanoutAsync(FanoutSettings settings, CancellationToken ct)
    {
        SocketEngineTuning.UseInlineCompletions();
        BenchTarget target;
        var subscriberTargets = new List<BenchTarget>();
        try
        {
            target = await BenchTarget.ResolveAsync(settings.Url, ct).ConfigureAwait(false);
            foreach (string url in settings.SubscriberUrls)
            {
                subscriberTargets.Add(await BenchTarget.ResolveAsync(url, ct).ConfigureAwait(false));
            }
        }
        catch (Exception ex) when (ex is ArgumentException or System.Net.Sockets.SocketException)
        {
            await Console.Error.WriteLineAsync($"bench: {ex.Message}").ConfigureAwait(false);
            return 2;
        }

        var report = await FanoutRunner.RunAsync(settings, target, subscriberTargets, Console.Error, ct).ConfigureAwait(false);
        using var stdout = Console.OpenStandardOutput();
        if (settings.Json)
        {
            report.WriteJson(stdout);
            stdout.Write("\n"u8);
            stdout.Flush();
        }
        else
        {
            report.WriteText(Console.Out);
        }

        return report.Errors.Count == 0 && report.Connected > 0 && report.Measured is not null ? 0 : 1;
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
