using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace Sockeye.Cli.Bench;

/// <summary>
/// Opens many handshaken connections that then stay silent, to measure a server's memory per
/// idle connection. The server's RSS baseline is taken after a first slice of connections, so
/// the code paths that the first connections JIT-compile are not charged to the rest. With
/// <c>--idle-echo</c> each connection first exchanges one message (compressed with
/// <c>--deflate</c>), so whatever state the server keeps after using a connection is counted.
/// </summary>
internal static class IdleRunner
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(30);

    public static async Task<IdleReport> RunAsync(BenchSettings settings, BenchTarget target, TextWriter progress, CancellationToken cancellationToken)
    {
        var total = settings.Idle;
        var sockets = new Socket?[total];
        var errors = new ErrorTally();
        var connected = 0;
        var echoes = 0;
        var compressedEchoes = 0;
        string? extensions = null;
        var messages = settings.IdleEcho ? MessageSet.Create(settings.Payload, settings.Size, settings.Text) : null;
        var frames = messages is null ? null : new FrameTemplate(messages, settings.Deflate, window: 1);
        var warm = Math.Clamp(total / 10, 1, 100);
        var start = Stopwatch.GetTimestamp();

        using var reporter = new Timer(
            _ => progress.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"[{Stopwatch.GetElapsedTime(start).TotalSeconds,4:F0}s idle   ] connected {Volatile.Read(ref connected):N0}/{total:N0}  errors {errors.Count}")),
            null,
            TimeSpan.FromSeconds(1),
            TimeSpan.FromSeconds(1));

        async Task OpenAsync(int from, int to)
        {
            // One small handshake buffer per worker: idle connections themselves own no buffers.
            var workers = Math.Min(settings.ConnectConcurrency, to - from);
            var next = from - 1;
            var tasks = Enumerable.Range(0, workers).Select(async _ =>
            {
                var buffer = new byte[4096];
                int i;
                while ((i = Interlocked.Increment(ref next)) < to && !cancellationToken.IsCancellationRequested)
                {
                    var source = settings.SourceAddresses.Count == 0 ? null : settings.SourceAddresses[i % settings.SourceAddresses.Count];
                    try
                    {
                        var (socket, leftover, deflate) = await ClientHandshake.ConnectAsync(
                            target, source, buffer, HandshakeTimeout, settings.DeflateOffer, cancellationToken).ConfigureAwait(false);
                        sockets[i] = socket;
                        Interlocked.CompareExchange(ref extensions, deflate?.Answer, null);
                        if (messages is not null && frames is not null)
                        {
                            deflate?.EnsureClientWindowFits(messages.Size);
                            var compressed = await ExchangeOneAsync(socket, buffer, leftover, messages, frames, i % messages.Count, deflate, settings, cancellationToken)
                                .ConfigureAwait(false);
                            Interlocked.Increment(ref echoes);
                            if (compressed)
                            {
                                Interlocked.Increment(ref compressedEchoes);
                            }
                        }

                        Interlocked.Increment(ref connected);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                    {
                        errors.Add($"connect #{i}: {ex.Message}");
                    }
                }
            });
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }

        try
        {
            await OpenAsync(0, warm).ConfigureAwait(false);
            await DelayAsync(TimeSpan.FromSeconds(0.5), cancellationToken).ConfigureAwait(false);
            var rssBefore = Rss(settings);
            var baselineConnections = Volatile.Read(ref connected);

            await OpenAsync(warm, total).ConfigureAwait(false);
            var connectSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;

            // Hold, letting the server settle (deferred allocations, GC) before reading its RSS.
            await DelayAsync(TimeSpan.FromSeconds(settings.DurationSeconds), cancellationToken).ConfigureAwait(false);
            var rssAfter = Rss(settings);

            var dropped = sockets.Count(s => s is not null && IsClosedByPeer(s));
            if (dropped > 0)
            {
                errors.Add($"server dropped {dropped} idle connections");
            }

            return new IdleReport(settings, connected, baselineConnections, connectSeconds, rssBefore, rssAfter, dropped, errors)
            {
                Echoes = echoes,
                CompressedEchoes = compressedEchoes,
                Extensions = extensions,
            };
        }
        finally
        {
            await reporter.DisposeAsync().ConfigureAwait(false);
            CloseAll(sockets);
        }
    }

    /// <summary>Sends message <paramref name="index"/> and checks its echo, contents included.</summary>
    /// <returns>Whether the echo came back compressed.</returns>
    private static async Task<bool> ExchangeOneAsync(
        Socket socket, byte[] buffer, int leftover, MessageSet messages, FrameTemplate frames, int index, DeflateAgreement? deflate,
        BenchSettings settings, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(HandshakeTimeout);
        await ClientHandshake.SendAllAsync(socket, frames.Frames(index, 1), timeout.Token).ConfigureAwait(false);

        var reader = new EchoFrameReader(messages.Size, messages.Text, allowMasked: false, deflate is not null);
        using var verifier = new EchoVerifier(reader, messages, index, allMessages: false);
        reader.Sink = verifier;
        var filled = leftover;
        while (true)
        {
            var consumed = reader.Parse(buffer.AsSpan(0, filled), out var received, out var closed);
            if (closed)
            {
                throw new InvalidDataException("server sent a close frame instead of the echo");
            }

            if (received > 0)
            {
                return reader.CompressedMessages > 0;
            }

            filled -= consumed;
            buffer.AsSpan(consumed, filled).CopyTo(buffer);
            var n = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, timeout.Token).ConfigureAwait(false);
            if (n == 0)
            {
                throw new InvalidDataException("server closed the connection before echoing");
            }

            filled += n;
        }
    }

    /// <summary>Waits, but returns early rather than throwing on Ctrl+C, so a report is still printed.</summary>
    private static async Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static long? Rss(BenchSettings settings) => settings.ServerPid > 0 ? ProcessStats.ReadRssKb(settings.ServerPid) : null;

    private static bool IsClosedByPeer(Socket socket)
    {
        try
        {
            return socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    private static void CloseAll(Socket?[] sockets)
    {
        var close = FrameTemplate.CloseFrame.Span;
        foreach (var socket in sockets)
        {
            if (socket is null)
            {
                continue;
            }

            try
            {
                // Best effort, so the server sees a clean close rather than a reset.
                socket.Blocking = false;
                socket.Send(close);
            }
            catch (SocketException)
            {
            }

            socket.Dispose();
        }
    }
}
