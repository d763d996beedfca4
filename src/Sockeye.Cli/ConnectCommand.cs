using System.CommandLine;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Sockeye.Client;
using Sockeye.Protocol;

namespace Sockeye.Cli;

/// <summary>
/// <c>sockeye connect</c>: an interactive and scriptable client. stdin lines go out as text messages; received text
/// messages are printed one per line; binary messages are printed as <c>bin:</c> followed by base64.
/// </summary>
internal static class ConnectCommand
{
    /// <summary>Prefix of a line that carries a binary message, base64-encoded.</summary>
    public const string BinaryPrefix = "bin:";

    public static Command Create()
    {
        var url = new Argument<string>("URL") { Description = "ws:// or wss:// URL to connect to." };
        var echo = new Option<bool>("--echo") { Description = "Send every received message straight back (text as text, binary as binary) until the server closes; ignore stdin." };
        var subprotocols = new Option<string[]>("--subprotocol") { Description = "Offer a subprotocol (repeatable, in order of preference).", AllowMultipleArgumentsPerToken = false };
        var headers = new Option<string[]>("--header", "-H") { Description = "Extra request header 'Name: value' (repeatable), e.g. Origin or Authorization." };
        var maxMessage = new Option<long>("--max-message") { Description = "Largest message accepted, in bytes; larger ones are closed with 1009.", DefaultValueFactory = _ => 16 * 1024 * 1024 };
        maxMessage.HelpName = "BYTES";
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Log verbosity on stderr.", DefaultValueFactory = _ => LogLevel.Warning };
        var insecure = new Option<bool>("--insecure", "-k") { Description = "wss://: accept any server certificate (testing only; validation is on by default)." };
        var pingInterval = new Option<double>("--ping-interval") { Description = "Seconds between keepalive pings (0 = off).", DefaultValueFactory = _ => 20 };
        var pingTimeout = new Option<double>("--ping-timeout") { Description = "Seconds to wait for a pong before closing with 1011.", DefaultValueFactory = _ => 20 };

        var command = new Command("connect", "Connect to a WebSocket server. Each stdin line is sent as a text message; each received text message is printed as one line; a binary message is printed as one line 'bin:' + base64 of its payload. At stdin EOF, sends close 1000, prints what still arrives, waits for the close reply and exits 0. Errors go to stderr with a non-zero exit.")
        {
            url, echo, subprotocols, headers, maxMessage, logLevel, insecure, pingInterval, pingTimeout,
        };
        var deflate = new DeflateCliOptions();
        deflate.AddToConnect(command);

        command.SetAction(async (parse, cancellationToken) =>
        {
            using ILoggerFactory logging = CliLogging.Create(parse.GetValue(logLevel));
            var options = new WebSocketClientOptions
            {
                LoggerFactory = logging,
                AllowInvalidCertificates = parse.GetValue(insecure),
                WebSocket = new WebSocketOptions
                {
                    MaxMessageSize = parse.GetValue(maxMessage),
                    PingInterval = TimeSpan.FromSeconds(parse.GetValue(pingInterval)),
                    PingTimeout = TimeSpan.FromSeconds(parse.GetValue(pingTimeout)),
                },
            };
            options.WebSocket.Deflate = deflate.ForConnect(parse, out string? deflateError);
            if (deflateError is not null)
            {
                await Console.Error.WriteLineAsync($"sockeye: {deflateError}").ConfigureAwait(false);
                return 2;
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
                    return 2;
                }

                options.Headers.Add(new(h[..colon].Trim(), h[(colon + 1)..].Trim()));
            }

            if (!Uri.TryCreate(parse.GetValue(url), UriKind.Absolute, out Uri? target))
            {
                await Console.Error.WriteLineAsync($"sockeye: not a URL: {parse.GetValue(url)}").ConfigureAwait(false);
                return 2;
            }

            WebSocketConnection connection;
            try
            {
                connection = await WebSocketClient.ConnectAsync(target, options, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or IOException or System.Security.Authentication.AuthenticationException or ArgumentException or NotSupportedException or OperationCanceledException)
            {
                await Console.Error.WriteLineAsync($"sockeye: cannot connect to {target}: {ex.Message}").ConfigureAwait(false);
                return 1;
            }

            await using (connection.ConfigureAwait(false))
            {
                if (options.WebSocket.Deflate is not null)
                {
                    await Console.Error.WriteLineAsync($"sockeye: extensions: {connection.Extensions ?? "none"}").ConfigureAwait(false);
                }

                if (parse.GetValue(echo))
                {
                    await EchoAsync(connection).ConfigureAwait(false);
                }
                else
                {
                    await InteractAsync(connection).ConfigureAwait(false);
                }

                await connection.Completion.ConfigureAwait(false);
                return Report(connection);
            }
        });
        return command;
    }

    private static async Task EchoAsync(WebSocketConnection connection)
    {
        try
        {
            while (await connection.ReceiveAsync().ConfigureAwait(false) is { IsClose: false } message)
            {
                await connection.SendAsync(message.Type, message.Payload).ConfigureAwait(false);
            }
        }
        catch (WebSocketClosedException)
        {
            // The connection closed while echoing; the close status tells how.
        }
    }

    private static async Task InteractAsync(WebSocketConnection connection)
    {
        Task printing = PrintAsync(connection);
        // Console reads block a thread, so stdin gets its own; when the server closes first we exit without
        // waiting for stdin (the thread is a background one). On stdin EOF it sends close and printing goes on
        // until the close reply.
        _ = Task.Run(() => SendStdinAsync(connection));
        await printing.ConfigureAwait(false);
    }

    private static async Task SendStdinAsync(WebSocketConnection connection)
    {
        try
        {
            while (await Console.In.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                await connection.SendTextAsync(line).ConfigureAwait(false);
            }

            await connection.CloseAsync(CloseCode.NormalClosure).ConfigureAwait(false);
        }
        catch (WebSocketClosedException)
        {
        }
    }

    private static async Task PrintAsync(WebSocketConnection connection)
    {
        TextWriter stdout = Console.Out;
        while (await connection.ReceiveAsync().ConfigureAwait(false) is { IsClose: false } message)
        {
            string line = message.Type == MessageType.Text ? message.GetText() : BinaryPrefix + Convert.ToBase64String(message.ToArray());
            await stdout.WriteLineAsync(line).ConfigureAwait(false);
        }

        await stdout.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>Exit 0 for a normal close (1000, 1001, or no status), 1 otherwise with the reason on stderr.</summary>
    private static int Report(WebSocketConnection connection)
    {
        ushort code = connection.CloseStatus ?? CloseCode.AbnormalClosure;
        if (code is CloseCode.NormalClosure or CloseCode.GoingAway or CloseCode.NoStatusReceived)
        {
            return 0;
        }

        Console.Error.WriteLine($"sockeye: connection closed with {code}{(string.IsNullOrEmpty(connection.CloseReason) ? "" : ": " + connection.CloseReason)}");
        return 1;
    }
}
