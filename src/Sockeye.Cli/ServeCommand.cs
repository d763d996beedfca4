using System.CommandLine;
using System.Reflection;
using Microsoft.Extensions.Logging;
using Sockeye.Cli.Exec;
using Sockeye.Server;
using Sockeye.Topics;

namespace Sockeye.Cli;

/// <summary>
/// <c>sockeye serve</c>: the demo page (or a static directory) plus an echo endpoint on every path, or with
/// <c>--exec</c>, <c>--dir</c>, <c>--proxy</c> or <c>--exec-shared</c> a bridge to programs or sockets (docs/exec.md).
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var host = new Option<string>("--host") { Description = "Address to listen on (0.0.0.0 or :: for all interfaces).", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "TCP port to listen on (0 = any free port).", DefaultValueFactory = _ => 9876 }.Port();
        var staticDir = new Option<DirectoryInfo?>("--static") { Description = "Serve the files in DIR to plain HTTP GET requests (index.html for /) instead of the demo page." };
        staticDir.HelpName = "DIR";
        var staticHidden = new Option<bool>("--static-hidden") { Description = "With --static, also serve hidden files and directories (names starting with '.', e.g. .well-known/); by default they get 404 so .env or .git/ never leak." };
        var maxMessage = new Option<long>("--max-message") { Description = "Largest message accepted, in bytes; larger ones are closed with 1009.", DefaultValueFactory = _ => 1024 * 1024 }.Bytes();
        maxMessage.HelpName = "BYTES";
        var maxFrame = new Option<long?>("--max-frame") { Description = "Largest frame accepted, in bytes (default: --max-message)." }.Bytes();
        maxFrame.HelpName = "BYTES";
        var closeTimeout = new Option<double>("--close-timeout") { Description = "Seconds to wait for the peer's close reply before cutting the connection (0 = cut at once).", DefaultValueFactory = _ => 5 }.Seconds(zero: true);
        closeTimeout.HelpName = "SECONDS";
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Log verbosity (Trace, Debug, Information, Warning, Error).", DefaultValueFactory = _ => LogLevel.Information };

        var command = new Command("serve", "Serve the demo page (or --static DIR) over HTTP and echo every WebSocket message back to its sender, text as text and binary as binary, on any path. With --exec, --dir, --proxy or --exec-shared, bridge connections to programs or sockets instead (see docs/exec.md). Ctrl-C or SIGTERM stops it.")
        {
            host, port, staticDir, staticHidden, maxMessage, maxFrame, closeTimeout, logLevel,
        };
        var inline = new Option<bool?>("--inline-completions") { Description = "Run socket completions on the I/O thread, without a thread-pool hop (default: on for the echo server and static files, off with --exec/--dir/--proxy/--exec-shared)." };
        command.Options.Add(inline);
        var safety = new ServeSafetyOptions();
        safety.AddTo(command);
        var deflate = new DeflateCliOptions();
        deflate.AddToServe(command);
        var broadcast = new BroadcastOptions();
        broadcast.AddTo(command);
        var redis = new RedisCliOptions();
        redis.AddTo(command);
        var nats = new NatsCliOptions();
        nats.AddTo(command);
        var metrics = new MetricsOptions();
        metrics.AddTo(command);
        var exec = new ExecOptions();
        foreach (Option option in exec.All)
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            using ILoggerFactory logging = CliLogging.Create(parse.GetValue(logLevel));
            ILogger log = logging.CreateLogger("sockeye");
            if (!exec.TryBuild(parse, parse.GetValue(maxMessage), out ExecSettings? execSettings, out string execError))
            {
                await Console.Error.WriteLineAsync($"sockeye: {execError}").ConfigureAwait(false);
                return 2;
            }

            TopicOptions? topics = null;
            if (broadcast.Enabled(parse) || execSettings?.Mode == ExecMode.Shared)
            {
                topics = broadcast.Build(parse, out string? broadcastError);
                if (execSettings is not null && broadcast.Enabled(parse))
                {
                    broadcastError ??= "--broadcast cannot be combined with --exec, --dir, --proxy or --exec-shared";
                }

                if (broadcastError is not null)
                {
                    await Console.Error.WriteLineAsync($"sockeye: {broadcastError}").ConfigureAwait(false);
                    return 2;
                }
            }

            if (redis.Check(parse, broadcast.Enabled(parse) && execSettings is null) is { } redisError)
            {
                await Console.Error.WriteLineAsync($"sockeye: {redisError}").ConfigureAwait(false);
                return 2;
            }

            if (nats.Check(parse, broadcast.Enabled(parse) && execSettings is null, redis.Given(parse)) is { } natsError)
            {
                await Console.Error.WriteLineAsync($"sockeye: {natsError}").ConfigureAwait(false);
                return 2;
            }

            if (parse.GetValue(inline) ?? execSettings is null)
            {
                SocketEngineTuning.UseInlineCompletions();
            }

            DirectoryInfo? dir = parse.GetValue(staticDir);
            StaticFiles files;
            if (dir is not null)
            {
                if (!dir.Exists)
                {
                    await Console.Error.WriteLineAsync($"sockeye: static directory not found: {dir.FullName}").ConfigureAwait(false);
                    return 2;
                }

                files = StaticFiles.FromDirectory(dir.FullName, serveHidden: parse.GetValue(staticHidden));
            }
            else
            {
                files = StaticFiles.FromMemory(new Dictionary<string, byte[]> { ["/index.html"] = LoadDemoPage() });
            }

            var options = new WebSocketServerOptions
            {
                Host = parse.GetValue(host)!,
                Port = parse.GetValue(port),
                StaticFiles = new ClientScript(files),
                LoggerFactory = logging,
                WebSocket = new WebSocketOptions
                {
                    MaxMessageSize = parse.GetValue(maxMessage),
                    MaxFrameSize = parse.GetValue(maxFrame),
                    CloseTimeout = TimeSpan.FromSeconds(parse.GetValue(closeTimeout)),
                },
            };
            options.WebSocket.Deflate = deflate.ForServe(parse, out string? deflateError);
            if (deflateError is not null)
            {
                await Console.Error.WriteLineAsync($"sockeye: {deflateError}").ConfigureAwait(false);
                return 2;
            }

            if (safety.Apply(parse, options) is { } safetyError)
            {
                await Console.Error.WriteLineAsync($"sockeye: {safetyError}").ConfigureAwait(false);
                return 2;
            }

            safety.ScaleDefaultMaxConnections(parse, options, execSettings?.Mode switch
            {
                ExecMode.Exec or ExecMode.Dir => 4, // the socket and the child's stdin, stdout and stderr pipes
                ExecMode.Proxy => 2,                // the socket and the backend's
                _ => 1,
            });
            using OpenTelemetry.Metrics.MeterProvider? meters = metrics.Start(parse, log, out string? metricsError, out int metricsExit);
            if (metricsError is not null)
            {
                await Console.Error.WriteLineAsync($"sockeye: {metricsError}").ConfigureAwait(false);
                return metricsExit;
            }

            await using var server = new WebSocketServer(options);
            ExecHost? bridge = execSettings is null ? null : ExecHost.Map(server, execSettings, logging, topics);
            await using ITopicBackplane? backplane = nats.Given(parse) && topics is not null
                ? await nats.ConnectAsync(parse, topics, logging, cancellationToken).ConfigureAwait(false)
                : await redis.ConnectAsync(parse, logging, cancellationToken).ConfigureAwait(false);
            await using TopicHub? hub = topics is null || bridge is not null ? null : BroadcastOptions.Map(server, topics, logging, backplane);
            if (bridge is null && hub is null)
            {
                server.MapFallback(EchoAsync);
            }

            using var shutdown = new ShutdownSignal();
            try
            {
                await server.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or FormatException)
            {
                await Console.Error.WriteLineAsync($"sockeye: cannot listen on {options.Host}:{options.Port}: {ex.Message}").ConfigureAwait(false);
                return 1;
            }

            try
            {
                await Task.Delay(Timeout.Infinite, shutdown.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                log.LogInformation("shutting down");
            }

            await server.StopAsync().ConfigureAwait(false);
            if (bridge is not null)
            {
                await bridge.StopAsync().ConfigureAwait(false);
            }

            return 0;
        });
        return command;
    }

    /// <summary>The echo endpoint: every message goes back to its sender with its type.</summary>
    internal static async Task EchoAsync(WebSocketConnection connection)
    {
        while (true)
        {
            WebSocketMessage message = await connection.ReceiveAsync().ConfigureAwait(false);
            if (message.IsClose)
            {
                return;
            }

            await connection.SendAsync(message.Type, message.Payload).ConfigureAwait(false);
        }
    }

    private static byte[] LoadDemoPage()
    {
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("demo/index.html")
            ?? throw new InvalidOperationException("demo page resource missing");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
