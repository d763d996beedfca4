using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Sockeye;
using Sockeye.Topics;

namespace Dashboard;

/// <summary>Publishes a sample of this process's metrics to <see cref="Topic"/> at a fixed interval.</summary>
internal sealed class MetricsPublisher(TopicHub hub, TimeSpan interval) : BackgroundService
{
    public const string Topic = "metrics";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval);
        var buffer = new ArrayBufferWriter<byte>(256);
        using var json = new Utf8JsonWriter(buffer);
        using Process self = Process.GetCurrentProcess();
        TimeSpan lastCpu = self.TotalProcessorTime;
        long lastTicks = Stopwatch.GetTimestamp();
        do
        {
            self.Refresh();
            TimeSpan cpu = self.TotalProcessorTime;
            long ticks = Stopwatch.GetTimestamp();
            double busy = (cpu - lastCpu).TotalMilliseconds / Stopwatch.GetElapsedTime(lastTicks, ticks).TotalMilliseconds / Environment.ProcessorCount;
            (lastCpu, lastTicks) = (cpu, ticks);

            buffer.ResetWrittenCount();
            json.Reset(buffer);
            json.WriteStartObject();
            json.WriteNumber("time", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            json.WriteNumber("cpu", Math.Round(100 * busy, 1));
            json.WriteNumber("workingSetMiB", Math.Round(self.WorkingSet64 / 1048576.0, 1));
            json.WriteNumber("heapMiB", Math.Round(GC.GetTotalMemory(false) / 1048576.0, 1));
            json.WriteNumber("gen0", GC.CollectionCount(0));
            json.WriteNumber("threads", self.Threads.Count);
            json.WriteNumber("viewers", hub.SubscriberCount(Topic));
            json.WriteEndObject();
            json.Flush();
            // The hub copies the payload, so one buffer serves every sample.
            await hub.PublishAsync(Topic, MessageType.Text, buffer.WrittenMemory, stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
