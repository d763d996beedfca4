using System.Text.Json;

namespace Sockeye.Cli.Bench;

/// <summary>Outcome of an idle run: connections held and the server's memory per connection.</summary>
internal sealed record IdleReport(
    BenchSettings Settings,
    int Connected,
    int BaselineConnections,
    double ConnectSeconds,
    long? RssBeforeKb,
    long? RssAfterKb,
    int Dropped,
    ErrorTally Errors)
{
    /// <summary>With --idle-echo: connections whose one message was echoed correctly.</summary>
    public int Echoes { get; init; }

    /// <summary>Of <see cref="Echoes"/>, those that came back compressed.</summary>
    public int CompressedEchoes { get; init; }

    /// <summary>The server's permessage-deflate answer (first connection), or null.</summary>
    public string? Extensions { get; init; }

    /// <summary>Server RSS growth per connection opened after the baseline, in KiB.</summary>
    public double? KbPerConnection =>
        RssBeforeKb is { } before && RssAfterKb is { } after && Connected > BaselineConnections
            ? (double)(after - before) / (Connected - BaselineConnections)
            : null;

    public void WriteJson(Stream stream)
    {
        using var json = new Utf8JsonWriter(stream);
        json.WriteStartObject();
        json.WriteString("mode", "idle");
        json.WriteString("url", Settings.Url);
        json.WriteNumber("connections", Settings.Idle);
        json.WriteNumber("connected", Connected);
        json.WriteNumber("baseline_connections", BaselineConnections);
        json.WriteNumber("source_addresses", Settings.SourceAddresses.Count);
        json.WriteNumber("connect_s", Math.Round(ConnectSeconds, 2));
        json.WriteNumber("hold_s", Settings.DurationSeconds);
        LoadReport.WriteOptional(json, "rss_before_kb", RssBeforeKb);
        LoadReport.WriteOptional(json, "rss_after_kb", RssAfterKb);
        LoadReport.WriteOptional(json, "kb_per_conn", KbPerConnection);
        json.WriteNumber("dropped", Dropped);
        json.WriteBoolean("idle_echo", Settings.IdleEcho);
        if (Settings.IdleEcho)
        {
            json.WriteNumber("size", Settings.Size);
            json.WriteString("payload", Settings.Payload == PayloadKind.Json ? "json" : "pattern");
            json.WriteNumber("echoes", Echoes);
            json.WriteNumber("compressed_echoes", CompressedEchoes);
        }

        LoadReport.WriteOptional(json, "deflate_offer", Settings.DeflateOffer);
        LoadReport.WriteOptional(json, "extensions", Extensions);

        // Throughput fields keep the schema of load runs.
        json.WriteNumber("msgs_per_s", 0);
        json.WriteNumber("mb_per_s", 0);
        json.WriteNumber("p50_us", 0);
        json.WriteNumber("p90_us", 0);
        json.WriteNumber("p99_us", 0);
        json.WriteNumber("p999_us", 0);
        json.WriteNumber("errors", Errors.Count);
        LoadReport.WriteOptional(json, "first_error", Errors.First);
        json.WriteEndObject();
    }

    public void WriteText(TextWriter output)
    {
        output.WriteLine($"{Settings.Url}: {Connected:N0}/{Settings.Idle:N0} idle connections in {ConnectSeconds:F1} s from {Math.Max(1, Settings.SourceAddresses.Count)} source address(es), held {Settings.DurationSeconds:F1} s");
        if (RssBeforeKb is not null)
        {
            output.WriteLine($"  server rss  {RssBeforeKb:N0} KiB with {BaselineConnections} -> {RssAfterKb:N0} KiB = {KbPerConnection:F2} KiB per connection");
        }

        if (Settings.IdleEcho)
        {
            output.WriteLine($"  echo        one {Settings.Size} B {(Settings.Payload == PayloadKind.Json ? "json" : "pattern")} message per connection: {Echoes:N0} echoed, {CompressedEchoes:N0} compressed");
        }

        if (Settings.Deflate)
        {
            output.WriteLine($"  deflate     offered '{Settings.DeflateOffer}', server answered '{Extensions}'");
        }

        output.WriteLine($"  errors      {Errors.Count}{(Errors.First is null ? "" : $" (first: {Errors.First})")}");
    }
}
