using System.Globalization;
using Sockeye.Client;
using Sockeye.Topics;

namespace Sockeye.Cli;

/// <summary>
/// <c>sockeye connect --topic T</c>: speaks <c>sockeye.v1</c> through <see cref="TopicClient"/>. Every message of the
/// topic is printed (text as a line, binary as <c>bin:</c> + base64), each stdin line is published with
/// acknowledgement, and the client reconnects and resumes by itself. stderr says where the subscription starts, any
/// reset, and at exit the last position, which <c>--since</c> resumes from later.
/// </summary>
internal static class TopicConnect
{
    public static async Task<int> RunAsync(Uri target, WebSocketClientOptions connection, string topic, string? since, ConnectStdin stdin, CancellationToken cancellationToken)
    {
        StreamPosition? from = null;
        if (since is not null)
        {
            if (!TryParsePosition(since, out StreamPosition parsed))
            {
                await Console.Error.WriteLineAsync($"sockeye: --since: '{since}' is not a position EPOCH:OFFSET (as printed by 'last position')").ConfigureAwait(false);
                return ParseErrors.ExitCode;
            }

            from = parsed;
        }

        TopicClient client;
        try
        {
            client = await TopicClient.ConnectAsync(target, new TopicClientOptions { Connection = connection }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or TimeoutException or WebSocketHandshakeException or System.Net.Sockets.SocketException or OperationCanceledException)
        {
            await Console.Error.WriteLineAsync($"sockeye: cannot connect to {target} with sockeye.v1: {ex.Message}").ConfigureAwait(false);
            return cancellationToken.IsCancellationRequested ? ConnectSession.InterruptedExit : CloseReport.AbnormalExit;
        }

        await using (client.ConfigureAwait(false))
        {
            using var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
            StreamPosition? last = from;
            long lastArrival = Environment.TickCount64;
            var printLock = new Lock();
            var options = new TopicSubscribeOptions
            {
                Since = from,
                OnReset = position => Console.Error.WriteLine($"sockeye: could not resume '{topic}' (history gone or another epoch); continuing from {Format(position)}"),
                OnGap = (first, lastDropped) => Console.Error.WriteLine($"sockeye: the server dropped offsets {first}-{lastDropped} of '{topic}' (this client read too slowly)"),
            };
            TopicSubscription subscription;
            try
            {
                subscription = await client.SubscribeAsync(topic, message =>
                {
                    string line = message.Type == MessageType.Text ? message.GetText() : "bin:" + Convert.ToBase64String(message.Payload.Span);
                    lock (printLock)
                    {
                        stdout.WriteLine(line);
                        last = message.Position;
                        Volatile.Write(ref lastArrival, Environment.TickCount64);
                    }
                }, options, cancellationToken).ConfigureAwait(false);
            }
            catch (TopicException ex)
            {
                await Console.Error.WriteLineAsync($"sockeye: subscribe to '{topic}' refused: {ex.Code}: {ex.Message}").ConfigureAwait(false);
                return CloseReport.AbnormalExit;
            }

            await Console.Error.WriteLineAsync($"sockeye: subscribed to '{topic}'{(from is null ? "" : $" from {Format(from.Value)}")}").ConfigureAwait(false);
            int exit = 0;
            try
            {
                // stdin lines are published in order, each acknowledged before the next.
                while (await Console.In.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
                {
                    try
                    {
                        await client.PublishTextAsync(topic, line, cancellationToken).ConfigureAwait(false);
                    }
                    catch (TopicException ex)
                    {
                        await Console.Error.WriteLineAsync($"sockeye: publish refused: {ex.Code}: {ex.Message}").ConfigureAwait(false);
                        exit = CloseReport.AbnormalExit;
                    }
                }

                if (stdin.QuietTime is { } quiet)
                {
                    // Bounded by the quiet time: each pass waits at most what is left of it.
                    while (true)
                    {
                        long idle = Environment.TickCount64 - Volatile.Read(ref lastArrival);
                        long left = (long)quiet.TotalMilliseconds - idle;
                        if (left <= 0)
                        {
                            break;
                        }

                        await Task.Delay(TimeSpan.FromMilliseconds(left), cancellationToken).ConfigureAwait(false);
                    }
                }
                else if (!stdin.CloseAtEof)
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false); // a subscriber: until Ctrl-C
                }
            }
            catch (OperationCanceledException)
            {
                exit = ConnectSession.InterruptedExit;
            }

            await subscription.DisposeAsync().ConfigureAwait(false);
            lock (printLock)
            {
                if (last is { } position)
                {
                    Console.Error.WriteLine($"sockeye: last position {Format(position)} (resume with --since {Format(position)})");
                }
            }

            return exit;
        }
    }

    internal static string Format(StreamPosition position) => $"{position.Epoch}:{position.Offset.ToString(CultureInfo.InvariantCulture)}";

    internal static bool TryParsePosition(string text, out StreamPosition position)
    {
        int colon = text.LastIndexOf(':');
        position = default;
        if (colon <= 0 || !long.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long offset))
        {
            return false;
        }

        position = new StreamPosition(text[..colon], offset);
        return true;
    }
}
