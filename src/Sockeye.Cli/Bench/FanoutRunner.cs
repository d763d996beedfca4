using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;

namespace Sockeye.Cli.Bench;

/// <summary>
/// <c>sockeye bench --fanout</c>: connects the subscribers and the publisher, waits until a message reaches all of
/// them, then publishes through warm-up and measurement and reports deliveries per second, publish-to-last-delivery
/// latency, the server's CPU per delivery and (for a Sockeye server with SOCKEYE_REPORT_ALLOCATIONS) its allocated
/// bytes per delivery.
/// </summary>
internal static class FanoutRunner
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    public static async Task<FanoutReport> RunAsync(
        FanoutSettings settings, BenchTarget target, IReadOnlyList<BenchTarget> subscriberTargets, TextWriter progress, CancellationToken cancellationToken)
    {
        target = ForProtocol(settings, target);
        BenchTarget[] nodes = subscriberTargets.Count == 0 ? [target] : subscriberTargets.Select(t => ForProtocol(settings, t)).ToArray();

        // One mask key per run, as the echo generator does: servers cannot tell, and the client does less work.
        uint mask = BitConverter.ToUInt32(RandomNumberGenerator.GetBytes(4)) | 1;
        var phase = new RunPhase();
        var errors = new ErrorTally();
        FanoutPublisher? publisher = null;
        var ledger = new FanoutLedger(settings.Subscribers, () => publisher?.OnComplete());
        var subscribers = new FanoutConnection?[settings.Subscribers];
        var tasks = new Task?[settings.Subscribers + 1];
        var start = Stopwatch.GetTimestamp();
        var connected = 0;

        using (var reporter = new Timer(
            _ => progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{Stopwatch.GetElapsedTime(start).TotalSeconds,4:F0}s connect] {Volatile.Read(ref connected):N0}/{settings.Subscribers:N0} subscribers  errors {errors.Count}")),
            null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)))
        {
            await Parallel.ForAsync(
                0,
                settings.Subscribers,
                new ParallelOptions { MaxDegreeOfParallelism = settings.ConnectConcurrency, CancellationToken = cancellationToken },
                async (i, ct) =>
                {
                    try
                    {
                        var connection = await ConnectAsync(settings, nodes[i % nodes.Length], Source(settings, i), ledger, mask, ct).ConfigureAwait(false);
                        subscribers[i] = connection;
                        tasks[i] = connection.RunAsync();
                        Interlocked.Increment(ref connected);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                    {
                        errors.Add($"subscriber #{i}: {ex.Message}");
                    }
                }).ConfigureAwait(false);
        }

        var connectSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var live = subscribers.OfType<FanoutConnection>().ToArray();
        FanoutConnection? publisherConnection = null;
        FanoutReport.Window? window = null;
        try
        {
            if (live.Length < settings.Subscribers)
            {
                return Report(settings, live, publisher, ledger, errors, connectSeconds, window);
            }

            publisherConnection = await ConnectAsync(settings, target, Source(settings, settings.Subscribers), null, mask, cancellationToken).ConfigureAwait(false);
            tasks[settings.Subscribers] = publisherConnection.RunAsync();
            publisher = new FanoutPublisher(publisherConnection, ledger, settings, phase, mask);
            window = await PublishAsync(settings, publisher, ledger, live, publisherConnection, phase, start, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            errors.Add($"publisher: {ex.Message}");
        }
        finally
        {
            phase.StartStopping();
            await CloseAsync(live, publisherConnection, tasks).ConfigureAwait(false);
        }

        using (publisher)
        {
            return Report(settings, live, publisher, ledger, errors, connectSeconds, window);
        }
    }

    private static FanoutReport Report(
        FanoutSettings settings, FanoutConnection[] live, FanoutPublisher? publisher, FanoutLedger ledger, ErrorTally errors, double connectSeconds, FanoutReport.Window? window)
    {
        // A connection's error first: when one fails, the publisher's complaint (nothing completes) is its consequence.
        foreach (var connection in live)
        {
            if (connection.Error is { } error)
            {
                errors.Add(error);
            }
        }

        if (publisher?.Error is { } publishError)
        {
            errors.Add(publishError);
        }

        return new FanoutReport(settings, live.Length, connectSeconds, publisher?.Probes ?? 0, publisher?.MaxInFlight ?? 0, ledger.Latency, window, errors);
    }

    private static async Task<FanoutReport.Window?> PublishAsync(
        FanoutSettings settings, FanoutPublisher publisher, FanoutLedger ledger, FanoutConnection[] live, FanoutConnection publisherConnection,
        RunPhase phase, long start, TextWriter progress, CancellationToken cancellationToken)
    {
        var thread = new Thread(() =>
        {
            if (publisher.WaitUntilReady(ReadyTimeout))
            {
                publisher.Run();
            }
        })
        { IsBackground = true, Name = "publisher" };
        thread.Start();

        // Wait for readiness before the warm-up clock starts.
        while (thread.IsAlive && !publisher.IsReady && !Failed(live, publisherConnection))
        {
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }

        var readyAt = Stopwatch.GetTimestamp();
        var measureAt = readyAt + Ticks(settings.WarmupSeconds);
        var endAt = long.MaxValue;
        var nextReport = readyAt + Stopwatch.Frequency;
        long lastDeliveries = Sum(live);
        var lastReportAt = readyAt;
        Sample? first = null;
        Sample? last = null;

        while (thread.IsAlive && !cancellationToken.IsCancellationRequested && !Failed(live, publisherConnection))
        {
            var now = Stopwatch.GetTimestamp();
            if (first is null && now >= measureAt)
            {
                phase.StartMeasuring();
                first = Sample.Take(settings, live);
                endAt = first.At + Ticks(settings.DurationSeconds);
            }
            else if (first is not null && now >= endAt)
            {
                last = Sample.Take(settings, live);
                break;
            }

            if (now >= nextReport)
            {
                var deliveries = Sum(live);
                var rate = (deliveries - lastDeliveries) / Stopwatch.GetElapsedTime(lastReportAt, now).TotalSeconds;
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[{Stopwatch.GetElapsedTime(start, now).TotalSeconds,4:F0}s {(first is null ? "warmup " : "measure")}] {rate,12:N0} deliveries/s {rate / settings.Subscribers,9:N0} msg/s  sent {publisher.Sent:N0}  complete {ledger.LastCompleted:N0}"));
                lastDeliveries = deliveries;
                lastReportAt = now;
                nextReport += Stopwatch.Frequency;
            }

            var wakeAt = Math.Min(nextReport, first is null ? measureAt : endAt);
            var delay = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), wakeAt);
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay < TimeSpan.FromMilliseconds(100) ? delay : TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
            }
        }

        phase.StartStopping();
        thread.Join();

        // Let what is in flight arrive, so every subscriber is idle when the closing handshakes start.
        var drainStart = Stopwatch.GetTimestamp();
        while (publisher.Error is null && !Failed(live, publisherConnection) && ledger.LastCompleted < publisher.Sent
               && Stopwatch.GetElapsedTime(drainStart) < DrainTimeout)
        {
            await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
        }

        return first is null || last is null ? null : new FanoutReport.Window(first, last);
    }

    private static BenchTarget ForProtocol(FanoutSettings settings, BenchTarget target) =>
        settings.Protocol == FanoutProtocol.SocketIo && !target.PathAndQuery.StartsWith("/socket.io/", StringComparison.Ordinal)
            ? target with { PathAndQuery = EngineIoHandshake.Path }
            : target;

    private static bool Failed(FanoutConnection[] live, FanoutConnection publisher) =>
        publisher.Error is not null || Array.Exists(live, c => c.Error is not null);

    private static long Sum(FanoutConnection[] live)
    {
        long sum = 0;
        foreach (var connection in live)
        {
            sum += connection.Deliveries;
        }

        return sum;
    }

    private static async Task<FanoutConnection> ConnectAsync(
        FanoutSettings settings, BenchTarget target, IPAddress? source, FanoutLedger? ledger, uint mask, CancellationToken cancellationToken)
    {
        var buffer = new byte[FanoutSettings.MaxSize];
        var (socket, leftover, _) = await ClientHandshake.ConnectAsync(target, source, buffer, HandshakeTimeout, null, cancellationToken).ConfigureAwait(false);
        try
        {
            var frames = new ServerFrameBuffer(buffer, leftover);
            if (settings.Protocol == FanoutProtocol.SocketIo)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(HandshakeTimeout);
                await EngineIoHandshake.ConnectAsync(socket, frames, mask, timeout.Token).ConfigureAwait(false);
            }

            return new FanoutConnection(socket, frames, ledger, settings, mask);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static IPAddress? Source(FanoutSettings settings, int i) =>
        settings.SourceAddresses.Count == 0 ? null : settings.SourceAddresses[i % settings.SourceAddresses.Count];

    // Closing handshakes, so the servers see clean closes; whoever does not answer in time is cut.
    private static async Task CloseAsync(FanoutConnection[] live, FanoutConnection? publisher, Task?[] tasks)
    {
        foreach (var connection in live)
        {
            connection.Stop();
        }

        publisher?.Stop();
        var all = Task.WhenAll(tasks.OfType<Task>());
        await Task.WhenAny(all, Task.Delay(CloseTimeout)).ConfigureAwait(false);
        foreach (var connection in live)
        {
            connection.Socket.Dispose();
        }

        publisher?.Socket.Dispose();
        await Task.WhenAny(all, Task.Delay(CloseTimeout)).ConfigureAwait(false);
    }

    private static long Ticks(double seconds) => (long)(seconds * Stopwatch.Frequency);

    /// <summary>What the measured window's edges saw: time, deliveries, CPU, the server's allocation report.</summary>
    internal sealed record Sample(long At, long Deliveries, double ClientCpuSeconds, double? ServerCpuSeconds, long? ServerRssKb, ServerAllocations? Allocations)
    {
        public static Sample Take(FanoutSettings settings, FanoutConnection[] live) => new(
            Stopwatch.GetTimestamp(),
            Sum(live),
            ProcessStats.OwnCpuSeconds(),
            settings.ServerPid > 0 ? SumOver(settings, ProcessStats.ReadCpuSeconds) : null,
            settings.ServerPid > 0 ? SumOver(settings, ProcessStats.ReadRssKb) : null,
            settings.ServerAllocationFile is { } file ? ServerAllocations.Read(file) : null);

        // The server and every further process (--server-pids); null when any of them cannot be read.
        private static T? SumOver<T>(FanoutSettings settings, Func<int, T?> read)
            where T : struct, System.Numerics.INumber<T>
        {
            T? sum = read(settings.ServerPid);
            foreach (int pid in settings.ExtraServerPids)
            {
                sum = sum is { } a && read(pid) is { } b ? a + b : null;
            }

            return sum;
        }
    }
}
