using System.Diagnostics;
using System.Text.Json;

namespace Sockeye.Cli.Bench;

/// <summary>Outcome of a load run: throughput over the measured window, latency percentiles, errors.</summary>
/// <param name="Extensions">The server's permessage-deflate answer (first connection), or null.</param>
/// <param name="Sent">Messages sent while measuring.</param>
/// <param name="SentBytes">Frame bytes (headers and payloads) sent while measuring.</param>
/// <param name="ReceivedBytes">Frame bytes of the echoes received while measuring.</param>
/// <param name="Compressed">Echoes received compressed while measuring.</param>
/// <param name="Verified">Echoes whose contents were checked, in any phase.</param>
/// <param name="Messages">Echoes received while measuring.</param>
internal sealed record LoadReport(
    BenchSettings Settings,
    string? Extensions,
    long Sent,
    long SentBytes,
    long ReceivedBytes,
    long Compressed,
    long Verified,
    long Messages,
    double ElapsedSeconds,
    LatencyHistogram Latency,
    int Connected,
    ErrorTally Errors,
    double? ClientCpuPercent,
    double? ServerCpuPercent,
    long? ServerRssKb)
{
    public double MessagesPerSecond => ElapsedSeconds > 0 ? Messages / ElapsedSeconds : 0;

    /// <summary>Payload bytes echoed per second, in 10^6 bytes; frame headers are not counted.</summary>
    public double MegabytesPerSecond => MessagesPerSecond * Settings.Size / 1e6;

    public double PercentileMicros(double percentile) => TicksToMicros(Latency.Percentile(percentile));

    /// <summary>Average frame bytes per message, client to server.</summary>
    public double? SentBytesPerMessage => Sent > 0 ? (double)SentBytes / Sent : null;

    /// <summary>Average frame bytes per echo, server to client.</summary>
    public double? ReceivedBytesPerMessage => Messages > 0 ? (double)ReceivedBytes / Messages : null;

    public double? CompressedPercent => Messages > 0 ? 100.0 * Compressed / Messages : null;

    public void WriteJson(Stream stream)
    {
        using var json = new Utf8JsonWriter(stream);
        json.WriteStartObject();
        json.WriteString("mode", "load");
        json.WriteString("url", Settings.Url);
        json.WriteNumber("connections", Settings.Connections);
        json.WriteNumber("connected", Connected);
        json.WriteNumber("size", Settings.Size);
        json.WriteNumber("window", Settings.Window);
        json.WriteString("type", Settings.Text ? "text" : "binary");
        json.WriteString("payload", Settings.Payload == PayloadKind.Json ? "json" : "pattern");
        WriteOptional(json, "deflate_offer", Settings.DeflateOffer);
        WriteOptional(json, "extensions", Extensions);
        json.WriteBoolean("raw_baseline", Settings.RawBaseline);
        json.WriteNumber("warmup_s", Settings.WarmupSeconds);
        json.WriteNumber("duration_s", Math.Round(ElapsedSeconds, 3));
        json.WriteNumber("messages", Messages);
        json.WriteNumber("msgs_per_s", Math.Round(MessagesPerSecond, 1));
        json.WriteNumber("mb_per_s", Math.Round(MegabytesPerSecond, 3));
        json.WriteNumber("p50_us", Math.Round(PercentileMicros(50), 1));
        json.WriteNumber("p90_us", Math.Round(PercentileMicros(90), 1));
        json.WriteNumber("p99_us", Math.Round(PercentileMicros(99), 1));
        json.WriteNumber("p999_us", Math.Round(PercentileMicros(99.9), 1));
        json.WriteNumber("max_us", Math.Round(TicksToMicros(Latency.Max), 1));
        json.WriteNumber("mean_us", Math.Round(Latency.Count > 0 ? TicksToMicros(Latency.Sum / Latency.Count) : 0, 1));
        json.WriteNumber("errors", Errors.Count);
        WriteOptional(json, "first_error", Errors.First);
        WriteOptional(json, "client_cpu_pct", ClientCpuPercent);
        WriteOptional(json, "server_cpu_pct", ServerCpuPercent);
        WriteOptional(json, "server_rss_kb", ServerRssKb);

        // Bytes on the wire are WebSocket frames (headers and payloads), not TCP/IP overhead.
        WriteOptional(json, "tx_bytes_per_msg", SentBytesPerMessage);
        WriteOptional(json, "rx_bytes_per_msg", ReceivedBytesPerMessage);
        json.WriteNumber("compressed_replies", Compressed);
        WriteOptional(json, "compressed_pct", CompressedPercent);
        json.WriteNumber("verified_replies", Verified);
        if (Settings.Deflate)
        {
            json.WriteNumber("verify_every", Settings.VerifyEvery);
        }

        json.WriteEndObject();
    }

    public void WriteText(TextWriter output)
    {
        var s = Settings;
        output.WriteLine($"{s.Url}: {s.Connections} conn x {s.Size} B {(s.Text ? "text" : "binary")}{(s.Payload == PayloadKind.Json ? " json" : "")}, window {s.Window}, {ElapsedSeconds:F1} s measured after {s.WarmupSeconds:F1} s warm-up{(s.RawBaseline ? ", raw baseline" : "")}");
        output.WriteLine($"  throughput  {MessagesPerSecond,14:N0} msg/s  {MegabytesPerSecond,10:F2} MB/s  ({Messages:N0} messages)");
        output.WriteLine($"  wire        {SentBytesPerMessage:F1} B/msg sent, {ReceivedBytesPerMessage:F1} B/msg received (frame headers + payloads)");
        if (s.Deflate)
        {
            output.WriteLine($"  deflate     offered '{s.DeflateOffer}', server answered '{Extensions}'");
            output.WriteLine($"              {CompressedPercent:F1}% of echoes compressed; {Verified:N0} echo contents checked ({(s.VerifyEvery == 1 ? "all" : $"every echo on 1 in {s.VerifyEvery} connections, the first on the others")})");
        }

        output.WriteLine($"  latency us  p50 {PercentileMicros(50):F1}  p90 {PercentileMicros(90):F1}  p99 {PercentileMicros(99):F1}  p99.9 {PercentileMicros(99.9):F1}  max {TicksToMicros(Latency.Max):F1}");
        output.WriteLine($"  errors      {Errors.Count}{(Errors.First is null ? "" : $" (first: {Errors.First})")}");
        if (ClientCpuPercent is not null || ServerCpuPercent is not null)
        {
            output.WriteLine($"  cpu         client {ClientCpuPercent:F0}%  server {(ServerCpuPercent is { } p ? $"{p:F0}%" : "n/a")}");
        }
    }

    internal static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    internal static void WriteOptional(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, Math.Round(v, 1));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static double TicksToMicros(double ticks) => ticks * 1e6 / Stopwatch.Frequency;
}
