using System.CommandLine;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using Sockeye.Client;
using Sockeye.Topics;

namespace Sockeye.Cli;

/// <summary>
/// <c>sockeye connect</c>: an interactive and scriptable client. stdin lines go out as text messages (or all of
/// stdin as one binary message with --binary); received text messages are printed one per line, binary messages as
/// <c>bin:</c> followed by base64. After stdin EOF it keeps printing until the server closes (see
/// <see cref="ConnectSession"/>).
/// </summary>
internal static class ConnectCommand
{
    /// <summary>Default message limit with --echo, which holds whole messages (printing streams them: no limit).</summary>
    private const long EchoMaxMessage = 16 * 1024 * 1024;

    public static Command Create()
    {
        var url = new Argument<string>("URL") { Description = "ws:// or wss:// URL to connect to; host:port[/path] means ws://host:port[/path]." };
        var echo = new Option<bool>("--echo") { Description = "Send every received message straight back (text as text, binary as binary) until the server closes; ignore stdin." };
        var subprotocols = new Option<string[]>("--subprotocol") { Description = "Offer a subprotocol (repeatable, in order of preference).", AllowMultipleArgumentsPerToken = false };
        var headers = new Option<string[]>("--header", "-H") { Description = "Extra request header 'Name: value' (repeatable), e.g. Origin or Authorization." };
        var maxMessage = new Option<long?>("--max-message") { Description = $"Largest message accepted, in bytes; larger ones are closed with 1009 (default: no limit when printing, which streams messages to stdout; {EchoMaxMessage / (1024 * 1024)} MiB with --echo, which holds them whole).", HelpName = "BYTES" }.Bytes();
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Log verbosity on stderr.", DefaultValueFactory = _ => LogLevel.Warning };
        var insecure = new Option<bool>("--insecure", "-k") { Description = "wss://: accept any server certificate (testing only; validation is on by default)." };
        var pingInterval = new Option<double>("--ping-interval") { Description = "Seconds between keepalive pings (0 = off).", DefaultValueFactory = _ => 20, HelpName = "SECONDS" }.Seconds(zero: true);
        var pingTimeout = new Option<double>("--ping-timeout") { Description = "Seconds to wait for a pong before closing with 1011.", DefaultValueFactory = _ => 20, HelpName = "SECONDS" }.Seconds(zero: false);
        var connectTimeout = new Option<double>("--connect-timeout") { Description = "Seconds allowed for the TCP connect, TLS handshake and WebSocket handshake together; the error says which step got no answer.", DefaultValueFactory = _ => 10, HelpName = "SECONDS" }.Seconds(zero: false);
        var binary = new Option<bool>("--binary") { Description = "Send all of stdin as ONE binary message, streamed in fragments as it is read (default: each line is a text message). Empty stdin sends nothing." };
        var quietTime = new Option<double>("--quiet-time") { Description = "After stdin EOF, close 1000 once nothing has arrived for SECONDS (default: keep printing until the server closes).", HelpName = "SECONDS" }.Seconds(zero: true);
        var topic = new Option<string?>("--topic") { Description = "Speak the topics protocol (sockeye.v1, e.g. with 'serve --broadcast'): print every message of TOPIC, publish each stdin line to it with acknowledgement, reconnect and resume by itself. At exit stderr shows the last position for --since.", HelpName = "TOPIC" };
        var since = new Option<string?>("--since") { Description = "With --topic, resume after this position (EPOCH:OFFSET, as printed at exit): the missed messages come first if the server still has them, otherwise stderr says it could not resume.", HelpName = "POSITION" };
        var noWait = new Option<bool>("--no-wait") { Description = "Close 1000 as soon as stdin ends (messages that arrive before the server's close reply are still printed, but a server may stop sending when it sees the close)." };

        var command = new Command("connect", "Connect to a WebSocket server. Each stdin line is sent as a text message (--binary: all of stdin as one binary message); each received text message is printed as one line, a binary message as one line 'bin:' + base64 of its payload, streamed as it arrives. After stdin EOF it keeps printing until the server closes (--quiet-time, --no-wait: close sooner), then closes 1000. When the server closes, 'sockeye: closed: CODE MEANING: REASON' goes to stderr. Exit 0 for a normal close (1000, 1001, 1005), 1 for any other close or a failed connect, 2 for bad usage, 130 after Ctrl-C.")
        {
            url, echo, subprotocols, headers, maxMessage, logLevel, insecure, pingInterval, pingTimeout, connectTimeout, binary, quietTime, noWait, topic, since,
        };
        var deflate = new DeflateCliOptions();
        deflate.AddToConnect(command);

        command.SetAction(async (parse, cancellationToken) =>
        {
            bool echoing = parse.GetValue(echo);
            bool quiet = parse.GetResult(quietTime) is not null;
            if (Usage(echoing, parse.GetValue(binary), quiet, parse.GetValue(noWait)) is { } usage)
            {
                await Console.Error.WriteLineAsync($"sockeye: {usage}").ConfigureAwait(false);
                return ParseErrors.ExitCode;
            }

            if (!ConnectTarget.TryParse(parse.GetValue(url)!, out Uri target, out string urlError))
            {
                await Console.Error.WriteLineAsync($"sockeye: {urlError}").ConfigureAwait(false);
                return ParseErrors.ExitCode;
            }

            using ILoggerFactory logging = CliLogging.Create(parse.GetValue(logLevel));
            long? limit = parse.GetValue(maxMessage);
            var options = new WebSocketClientOptions
            {
                LoggerFactory = logging,
                AllowInvalidCertificates = parse.GetValue(insecure),
                HandshakeTimeout = TimeSpan.FromSeconds(parse.GetValue(connectTimeout)),
                WebSocket = new WebSocketOptions
                {
                    // Printing streams each message (ReceivePartAsync), where only the frame limit applies.
                    MaxMessageSize = limit ?? EchoMaxMessage,
                    MaxFrameSize = limit ?? (echoing ? EchoMaxMessage : long.MaxValue),
                    PingInterval = TimeSpan.FromSeconds(parse.GetValue(pingInterval)),
                    PingTimeout = TimeSpan.FromSeconds(parse.GetValue(pingTimeout)),
                },
            };
            options.WebSocket.Deflate = deflate.ForConnect(parse, out string? deflateError);
            if (deflateError is not null)
            {
                await Console.Error.WriteLineAsync($"sockeye: {deflateError}").ConfigureAwait(false);
                return ParseErrors.ExitCode;
            }

            foreach (string p in parse.GetValue(subprotocols) ?? [])
            {
                options.Subprotocols.Add(p);
            }

            foreach (string h in parse.GetValue(headers) ?? [])
            {
                int colon = h.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    await Console.Error.WriteLineAsync($"sockeye: --header must be 'Name: value', got '{h}'").ConfigureAwait(false);
                    return ParseErrors.ExitCode;
                }

                options.Headers.Add(new(h[..colon].Trim(), h[(colon + 1)..].Trim()));
            }

            if (parse.GetValue(topic) is { } topicName)
            {
                if (echoing || parse.GetValue(binary))
                {
                    await Console.Error.WriteLineAsync("sockeye: --topic publishes stdin lines; it cannot be combined with --echo or --binary").ConfigureAwait(false);
                    return ParseErrors.ExitCode;
                }

                var topicStdin = new ConnectStdin
                {
                    CloseAtEof = parse.GetValue(noWait),
                    QuietTime = quiet ? TimeSpan.FromSeconds(parse.GetValue(quietTime)) : null,
                };
                return await TopicConnect.RunAsync(target, options, topicName, parse.GetValue(since), topicStdin, cancellationToken).ConfigureAwait(false);
            }

            if (parse.GetValue(since) is not null)
            {
                await Console.Error.WriteLineAsync("sockeye: --since needs --topic").ConfigureAwait(false);
                return ParseErrors.ExitCode;
            }

            WebSocketConnection connection;
            try
            {
                connection = await WebSocketClient.ConnectAsync(target, options, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or IOException or AuthenticationException or TimeoutException or ArgumentException or NotSupportedException or OperationCanceledException)
            {
                await Console.Error.WriteLineAsync($"sockeye: cannot connect to {target}: {Explain(ex, target)}").ConfigureAwait(false);
                return cancellationToken.IsCancellationRequested ? ConnectSession.InterruptedExit : CloseReport.AbnormalExit;
            }

            await using (connection.ConfigureAwait(false))
            {
                if (options.WebSocket.Deflate is not null)
                {
                    await Console.Error.WriteLineAsync($"sockeye: extensions: {connection.Extensions ?? "none"}").ConfigureAwait(false);
                }

                var stdin = new ConnectStdin
                {
                    Binary = parse.GetValue(binary),
                    CloseAtEof = parse.GetValue(noWait),
                    QuietTime = quiet ? TimeSpan.FromSeconds(parse.GetValue(quietTime)) : null,
                };
                return echoing
                    ? await ConnectSession.EchoAsync(connection, cancellationToken).ConfigureAwait(false)
                    : await ConnectSession.RunAsync(connection, stdin, cancellationToken).ConfigureAwait(false);
            }
        });
        return command;
    }

    /// <summary>Combinations that cannot mean anything; null when the options fit together.</summary>
    private static string? Usage(bool echo, bool binary, bool quietTime, bool noWait)
    {
        if (echo && (binary || quietTime || noWait))
        {
            return "--binary, --quiet-time and --no-wait are about stdin, which --echo ignores";
        }

        return quietTime && noWait ? "use only one of --quiet-time and --no-wait" : null;
    }

    /// <summary>The failure, with the likely cause when the exception alone would not say it.</summary>
    private static string Explain(Exception ex, Uri target) => ex switch
    {
        AuthenticationException when target.Scheme is "wss" or "https" =>
            $"TLS handshake failed: {ex.Message} (is the server serving TLS on this port? for a plain server use ws://; for a self-signed certificate --insecure)",
        WebSocketHandshakeException when target.Scheme is "ws" or "http" && ex.Message.Contains("closed the connection", StringComparison.Ordinal) =>
            $"{ex.Message} (does the server expect TLS? then use wss://)",
        OperationCanceledException => "interrupted",
        _ => ex.Message,
    };
}
