using System.Diagnostics;
using System.Text.Json;

namespace Sockeye.Cli.Bench;

/// <summary>Outcome of a fan-out run: deliveries per second, publish-to-last-delivery latency, server cost per delivery.</summary>
/// <param name="Connected">Subscribers connected (the publisher not included).</param>
/// <param name="Probes">Messages the publisher sent until one reached every subscriber.</param>
/// <param name="MaxInFlight">Fixed rate: the most messages at once not yet delivered to every subscriber.</param>
/// <param name="Latency">Publish-to-last-delivery times (Stopwatch ticks) of the messages sent while measuring.</param>
/// <param name="Measured">The measured window's edges, or null when the run ended before it did.</param>
internal sealed record FanoutReport(
    FanoutSettings Settings,
    int Connected,
    double ConnectSeconds,
    int Probes,
    long MaxInFlight,
    LatencyHistogram Latency,
    FanoutReport.Window? Measured,
    ErrorTally Errors)
{
    public double Seconds => Measured is { } w ? Stopwatch.GetElapsedTime(w.First.At, w.Last.At).TotalSeconds : 0;

    /// <summary>Messages received by the subscribers in the measured window (the publisher's own copies not counted).</summary>
    public long Deliveries => Measured is { } w ? w.Last.Deliveries - w.First.Deliveries : 0;

    public double DeliveriesPerSecond => Seconds > 0 ? Deliveries / Seconds : 0;

    public double? ServerCpuSeconds => Measured is { First.ServerCpuSeconds: { } a, Last.ServerCpuSeconds: { } b } ? b - a : null;

    /// <summary>Server CPU (user + system) seconds per million deliveries.</summary>
    public double? ServerCpuSecondsPerMillion => ServerCpuSeconds is { } cpu && Deliveries > 0 ? cpu / (Deliveries / 1e6) : null;

    public double? ClientCpuPercent => Measured is { } w && Seconds > 0 ? 100 * (w.Last.ClientCpuSeconds - w.First.ClientCpuSeconds) / Seconds : null;

    public double? ServerCpuPercent => ServerCpuSeconds is { } cpu && Seconds > 0 ? 100 * cpu / Seconds : null;

    /// <summary>The server's own figures between its two allocation reports nearest the window's edges.</summary>
    public (long Allocated, long Delivered, long Published, long Gen0, long Gen1, long Gen2)? ServerAllocations =>
        Measured is { First.Allocations: { } a, Last.Allocations: { } b }
            ? (b.AllocatedBytes - a.AllocatedBytes, b.Delivered - a.Delivered, b.Published - a.Published, b.Gen0 - a.Gen0, b.Gen1 - a.Gen1, b.Gen2 - a.Gen2)
            : null;

    /// <summary>Bytes the server allocated per frame its hub delivered (the publisher's copies included on both sides).</summary>
    public double? ServerBytesPerDelivery => ServerAllocations is { Delivered: > 0 } s ? (double)s.Allocated / s.Delivered : null;

    public double PercentileMicros(double percentile) => TicksToMicros(Latency.Percentile(percentile));

    public void WriteJson(Stream stream)
    {
        var s = Settings;
        using var json = new Utf8JsonWriter(stream);
        json.WriteStartObject();
        json.WriteString("mode", "fanout");
        json.WriteString("protocol", s.Protocol == FanoutProtocol.SocketIo ? "socketio" : "websocket");
        json.WriteString("url", s.Url);
        json.WriteString("load", s.Saturate ? "saturate" : "rate");
        json.WriteNumber("subscribers", s.Subscribers);
        json.WriteNumber("connections", s.Subscribers);
        json.WriteNumber("nodes", Math.Max(1, s.SubscriberUrls.Count));
        json.WriteNumber("server_processes", s.ServerPid > 0 ? 1 + s.ExtraServerPids.Count : 0);
        json.WriteNumber("connected", Connected);
        json.WriteNumber("connect_s", Math.Round(ConnectSeconds, 2));
        json.WriteNumber("size", s.Size);
        if (s.Saturate)
        {
            json.WriteNumber("window", s.Window);
            json.WriteNull("rate");
        }
        else
        {
            json.WriteNull("window");
            json.WriteNumber("rate", s.Rate);
        }

        json.WriteNumber("warmup_s", s.WarmupSeconds);
        json.WriteNumber("duration_s", Math.Round(Seconds, 3));
        json.WriteNumber("probes", Probes);
        json.WriteNumber("deliveries", Deliveries);
        json.WriteNumber("deliveries_per_s", Math.Round(DeliveriesPerSecond, 1));
        json.WriteNumber("msgs_per_s", Math.Round(DeliveriesPerSecond / s.Subscribers, 2));
        json.WriteNumber("latency_samples", Latency.Count);
        json.WriteNumber("p50_us", Math.Round(PercentileMicros(50), 1));
        json.WriteNumber("p90_us", Math.Round(PercentileMicros(90), 1));
        json.WriteNumber("p99_us", Math.Round(PercentileMicros(99), 1));
        json.WriteNumber("p999_us", Math.Round(PercentileMicros(99.9), 1));
        json.WriteNumber("max_us", Math.Round(TicksToMicros(Latency.Max), 1));
        json.WriteNumber("mean_us", Math.Round(Latency.Count > 0 ? TicksToMicros(Latency.Sum / Latency.Count) : 0, 1));
        json.WriteNumber("max_in_flight", MaxInFlight);
        json.WriteNumber("errors", Errors.Count);
        LoadReport.WriteOptional(json, "first_error", Errors.First);
        LoadReport.WriteOptional(json, "client_cpu_pct", ClientCpuPercent);
        LoadReport.WriteOptional(json, "server_cpu_pct", ServerCpuPercent);
        WriteRounded(json, "server_cpu_s", ServerCpuSeconds, 3);
        WriteRounded(json, "server_cpu_s_per_m_deliveries", ServerCpuSecondsPerMillion, 4);
        LoadReport.WriteOptional(json, "server_rss_kb", Measured?.Last.ServerRssKb);
        if (ServerAllocations is { } a)
        {
            json.WriteNumber("server_alloc_bytes", a.Allocated);
            json.WriteNumber("server_deliveries", a.Delivered);
            json.WriteNumber("server_published", a.Published);
            WriteRounded(json, "server_alloc_bytes_per_delivery", ServerBytesPerDelivery, 4);
            json.WriteNumber("server_gc_gen0", a.Gen0);
            json.WriteNumber("server_gc_gen1", a.Gen1);
            json.WriteNumber("server_gc_gen2", a.Gen2);
        }
        else
        {
            json.WriteNull("server_alloc_bytes_per_delivery");
        }

        json.WriteEndObject();
    }

    public void WriteText(TextWriter output)
    {
        var s = Settings;
        output.WriteLine($"{s.Url}: fan-out, 1 publisher to {Connected:N0}/{s.Subscribers:N0} subscribers ({(s.Protocol == FanoutProtocol.SocketIo ? "Socket.IO" : "WebSocket")}), {s.Size} B text, "
            + $"{(s.Saturate ? $"saturating with {s.Window} messages in flight" : $"{s.Rate:N0} msg/s")}, {Seconds:F1} s measured after {s.WarmupSeconds:F1} s warm-up ({Probes} readiness probes, connected in {ConnectSeconds:F1} s)");
        output.WriteLine($"  throughput  {DeliveriesPerSecond,14:N0} deliveries/s  {DeliveriesPerSecond / s.Subscribers,10:N1} msg/s  ({Deliveries:N0} deliveries)");
        output.WriteLine($"  latency us  publish to last delivery: p50 {PercentileMicros(50):F1}  p90 {PercentileMicros(90):F1}  p99 {PercentileMicros(99):F1}  max {TicksToMicros(Latency.Max):F1}  ({Latency.Count:N0} messages)");
        output.WriteLine($"  cpu         client {ClientCpuPercent:F0}%  server {(ServerCpuPercent is { } p ? $"{p:F0}%" : "n/a")}  server cpu-s per million deliveries {(ServerCpuSecondsPerMillion is { } m ? $"{m:F3}" : "n/a")}");
        if (ServerAllocations is { } a)
        {
            output.WriteLine($"  allocation  server {a.Allocated:N0} B for {a.Delivered:N0} deliveries = {ServerBytesPerDelivery:F3} B/delivery; GCs gen0 {a.Gen0} gen1 {a.Gen1} gen2 {a.Gen2}");
        }

        if (!s.Saturate)
        {
            output.WriteLine($"  in flight   at most {MaxInFlight:N0} messages");
        }

        output.WriteLine($"  errors      {Errors.Count}{(Errors.First is null ? "" : $" (first: {Errors.First})")}");
    }

    private static void WriteRounded(Utf8JsonWriter json, string name, double? value, int digits)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, Math.Round(v, digits));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static double TicksToMicros(double ticks) => ticks * 1e6 / Stopwatch.Frequency;

    /// <summary>The measured window's first and last samples.</summary>
    internal sealed record Window(FanoutRunner.Sample First, FanoutRunner.Sample Last);
}
