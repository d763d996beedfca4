using System.Diagnostics;
using System.Globalization;

namespace Sockeye.Cli.Bench;

/// <summary>Connects, drives all <see cref="LoadConnection"/>s through warm-up and measurement, and reports.</summary>
internal static class LoadRunner
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    public static async Task<LoadReport> RunAsync(BenchSettings settings, BenchTarget target, TextWriter progress, CancellationToken cancellationToken)
    {
        var messages = MessageSet.Create(settings.Payload, settings.Size, settings.Text);
        var frames = new FrameTemplate(messages, settings.Deflate, settings.Window);
        var phase = new RunPhase();
        var connections = new LoadConnection?[settings.Connections];
        var connectErrors = new ErrorTally();
        string? extensions = null;

        await Parallel.ForAsync(
            0,
            settings.Connections,
            new ParallelOptions { MaxDegreeOfParallelism = settings.ConnectConcurrency, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var buffer = LoadConnection.NewReceiveBuffer();
                var source = settings.SourceAddresses.Count == 0 ? null : settings.SourceAddresses[i % settings.SourceAddresses.Count];
                try
                {
                    var (socket, leftover, deflate) = await ClientHandshake.ConnectAsync(target, source, buffer, HandshakeTimeout, settings.DeflateOffer, ct)
                        .ConfigureAwait(false);
                    try
                    {
                        deflate?.EnsureClientWindowFits(messages.Size);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }

                    // Connections start at different points of the message cycle, as independent clients would.
                    var first = (int)((long)i * 389 % messages.Count);
                    connections[i] = new LoadConnection(socket, buffer, leftover, messages, frames, first, i % settings.VerifyEvery == 0, deflate, phase, settings);
                    Interlocked.CompareExchange(ref extensions, deflate?.Answer, null);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    connectErrors.Add($"connect: {ex.Message}");
                }
            }).ConfigureAwait(false);

        var live = connections.OfType<LoadConnection>().ToArray();
        var tasks = live.Select(c => c.RunAsync()).ToArray();

        var start = Stopwatch.GetTimestamp();
        var measureStart = start + SecondsToTicks(settings.WarmupSeconds);
        var end = measureStart + SecondsToTicks(settings.DurationSeconds);
        var nextReport = start + Stopwatch.Frequency;
        var measuring = settings.WarmupSeconds == 0;
        if (measuring)
        {
            phase.StartMeasuring();
        }

        var ownCpuStart = ProcessStats.OwnCpuSeconds();
        var serverCpuStart = settings.ServerPid > 0 ? ProcessStats.ReadCpuSeconds(settings.ServerPid) : null;
        long lastReceived = 0;
        var lastReportAt = start;
        var allTasks = Task.WhenAll(tasks);

        while (!cancellationToken.IsCancellationRequested && !allTasks.IsCompleted)
        {
            var now = Stopwatch.GetTimestamp();
            if (now >= end)
            {
                break;
            }

            var wakeAt = Math.Min(nextReport, measuring ? end : measureStart);
            if (now < wakeAt)
            {
                try
                {
                    await Task.WhenAny(allTasks, Task.Delay(Stopwatch.GetElapsedTime(now, wakeAt), cancellationToken)).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                now = Stopwatch.GetTimestamp();
            }

            if (!measuring && now >= measureStart)
            {
                // Snapshot CPU at the phase switch so the percentages cover only the measured window.
                phase.StartMeasuring();
                measuring = true;
                measureStart = now;
                end = measureStart + SecondsToTicks(settings.DurationSeconds);
                ownCpuStart = ProcessStats.OwnCpuSeconds();
                serverCpuStart = settings.ServerPid > 0 ? ProcessStats.ReadCpuSeconds(settings.ServerPid) : null;
            }

            if (now >= nextReport)
            {
                var received = live.Sum(c => c.Received);
                var rate = (received - lastReceived) / Stopwatch.GetElapsedTime(lastReportAt, now).TotalSeconds;
                var liveFailed = live.Count(c => c.Error is not null);
                progress.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"[{Stopwatch.GetElapsedTime(start, now).TotalSeconds,4:F0}s {(measuring ? "measure" : "warmup ")}] {rate,12:N0} msg/s {rate * settings.Size / 1e6,10:F1} MB/s  conns {live.Length - liveFailed}/{settings.Connections}  errors {connectErrors.Count + liveFailed}"));
                lastReceived = received;
                lastReportAt = now;
                nextReport += Stopwatch.Frequency;
            }
        }

        phase.StartStopping();
        var measureEnd = Stopwatch.GetTimestamp();
        var ownCpu = ProcessStats.OwnCpuSeconds() - ownCpuStart;
        var serverCpu = settings.ServerPid > 0 ? ProcessStats.ReadCpuSeconds(settings.ServerPid) - serverCpuStart : null;
        var serverRss = settings.ServerPid > 0 ? ProcessStats.ReadRssKb(settings.ServerPid) : null;

        foreach (var connection in live)
        {
            connection.Stop();
        }

        if (await Task.WhenAny(allTasks, Task.Delay(DrainTimeout, CancellationToken.None)).ConfigureAwait(false) != allTasks)
        {
            foreach (var connection in live)
            {
                connection.Abort($"no close handshake within {DrainTimeout.TotalSeconds:F0} s of stopping");
            }

            await allTasks.ConfigureAwait(false);
        }

        var latency = new LatencyHistogram();
        var errors = new ErrorTally();
        errors.Add(connectErrors);
        foreach (var connection in live)
        {
            latency.Add(connection.Latency);
            if (connection.Error is { } error)
            {
                errors.Add(error);
            }
        }

        var elapsed = measuring ? Stopwatch.GetElapsedTime(measureStart, measureEnd).TotalSeconds : 0;
        return new LoadReport(
            settings,
            Extensions: extensions,
            Sent: live.Sum(c => c.MeasuredSent),
            SentBytes: live.Sum(c => c.MeasuredSentBytes),
            ReceivedBytes: live.Sum(c => c.MeasuredReceivedBytes),
            Compressed: live.Sum(c => c.MeasuredCompressed),
            Verified: live.Sum(c => c.Verified),
            Messages: live.Sum(c => c.Measured),
            ElapsedSeconds: elapsed,
            Latency: latency,
            Connected: live.Length,
            Errors: errors,
            ClientCpuPercent: elapsed > 0 ? 100 * ownCpu / elapsed : null,
            ServerCpuPercent: elapsed > 0 && serverCpu is { } s ? 100 * s / elapsed : null,
            ServerRssKb: serverRss);
    }

    private static long SecondsToTicks(double seconds) => (long)(seconds * Stopwatch.Frequency);
}
