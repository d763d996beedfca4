using System.CommandLine;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using Sockeye.Diagnostics;
using Sockeye.Topics;

namespace Sockeye.Cli;

/// <summary><c>serve --metrics [HOST:]PORT</c>: the Sockeye meters in Prometheus text format at <c>/metrics</c>.</summary>
internal sealed class MetricsOptions
{
    private readonly Option<string?> _metrics = new("--metrics") { Description = "Serve the server's metrics (connections, handshakes, messages, bytes, closes, topics) in Prometheus text format at http://HOST:PORT/metrics, on a port of its own. HOST defaults to localhost; scrape with the same host name (HttpListener matches the Host header); * answers any name on every address (docs/architecture.md)." };

    public void AddTo(Command command)
    {
        _metrics.HelpName = "[HOST:]PORT";
        command.Options.Add(_metrics);
    }

    /// <summary>
    /// Starts the exporter, or returns null without <c>--metrics</c>. <paramref name="error"/> names the option at
    /// fault (exit code 2) or the listen failure (exit code 1).
    /// </summary>
    public MeterProvider? Start(ParseResult parse, ILogger log, out string? error, out int exitCode)
    {
        error = null;
        exitCode = 0;
        if (parse.GetValue(_metrics) is not { } value)
        {
            return null;
        }

        if (!TryParse(value, out string host, out int port))
        {
            error = $"--metrics: '{value}' is not [HOST:]PORT with a port from 1 to 65535";
            exitCode = 2;
            return null;
        }

        string prefix = $"http://{host}:{port.ToString(CultureInfo.InvariantCulture)}/";
        try
        {
            MeterProvider provider = Sdk.CreateMeterProviderBuilder()
                .AddMeter(SockeyeMetrics.MeterName, TopicHubMetrics.MeterName)
                .AddPrometheusHttpListener(o =>
                {
                    o.Host = host;
                    o.Port = port;
                    o.ScrapeResponseCacheDurationMilliseconds = 0; // every scrape current: scrapes are rare
                })
                .Build();
            log.LogInformation("metrics on {Prefix}metrics", prefix);
            return provider;
        }
        catch (Exception ex) when (ex is HttpListenerException or InvalidOperationException or ArgumentException)
        {
            error = $"cannot serve metrics on {prefix}: {ex.Message}";
            exitCode = 1;
            return null;
        }
    }

    /// <summary>PORT, HOST:PORT or [IPv6]:PORT; HttpListener takes localhost, *, + or an address as the host.</summary>
    internal static bool TryParse(string value, out string host, out int port)
    {
        host = "localhost";
        string portText = value;
        int colon = value.LastIndexOf(':');
        if (colon >= 0)
        {
            host = value[..colon];
            portText = value[(colon + 1)..];
            bool named = host is "localhost" or "*" or "+";
            bool bracketed = host.Length > 2 && host[0] == '[' && host[^1] == ']' && IPAddress.TryParse(host[1..^1], out _);
            if (!named && !bracketed && !(IPAddress.TryParse(host, out IPAddress? address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork))
            {
                port = 0;
                return false;
            }
        }

        return int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 1 and <= 65535;
    }
}
