using System.Diagnostics.Metrics;

namespace Sockeye.Diagnostics;

/// <summary>
/// The <see cref="System.Diagnostics.Metrics"/> instruments of the WebSocket server and connections, on the meter
/// named <see cref="MeterName"/>. Listen with a <see cref="MeterListener"/> or an OpenTelemetry
/// <c>AddMeter("Sockeye")</c>; nothing is measured while nobody listens.
/// </summary>
/// <remarks>
/// Names follow the OpenTelemetry conventions (dot-separated, unit in <c>Instrument.Unit</c>, attribute names from
/// the semantic conventions where one exists, e.g. <c>http.response.status_code</c>). Hot paths check
/// <c>Enabled</c> first and add without tags, so a message costs no allocation.
/// </remarks>
public static class SockeyeMetrics
{
    /// <summary>The meter name: <c>Sockeye</c>.</summary>
    public const string MeterName = "Sockeye";

    internal static readonly Meter Meter = new(MeterName, typeof(SockeyeMetrics).Assembly.GetName().Version?.ToString());

    /// <summary>WebSocket connections open on a server (upgraded, not yet released).</summary>
    internal static readonly UpDownCounter<long> ActiveConnections = Meter.CreateUpDownCounter<long>(
        "sockeye.server.active_connections", "{connection}", "WebSocket connections currently open on the server.");

    /// <summary>Upgrade requests answered, tagged <c>sockeye.handshake.outcome</c> and <c>http.response.status_code</c>.</summary>
    internal static readonly Counter<long> Handshakes = Meter.CreateCounter<long>(
        "sockeye.server.handshakes", "{handshake}", "WebSocket opening handshakes, by outcome (accepted, refused) and HTTP status.");

    /// <summary>Connections released, tagged <c>sockeye.close.code</c> (RFC 6455 §7.4; 1006 when no close frame).</summary>
    internal static readonly Counter<long> Closes = Meter.CreateCounter<long>(
        "sockeye.server.closes", "{connection}", "WebSocket connections closed, by close code.");

    /// <summary>Whole data messages received (server and client connections).</summary>
    internal static readonly Counter<long> MessagesReceived = Meter.CreateCounter<long>(
        "sockeye.connection.received.messages", "{message}", "WebSocket data messages received.");

    /// <summary>Data payload bytes received (after decompression).</summary>
    internal static readonly Counter<long> BytesReceived = Meter.CreateCounter<long>(
        "sockeye.connection.received.bytes", "By", "WebSocket data payload bytes received (uncompressed).");

    /// <summary>Whole data messages sent.</summary>
    internal static readonly Counter<long> MessagesSent = Meter.CreateCounter<long>(
        "sockeye.connection.sent.messages", "{message}", "WebSocket data messages sent.");

    /// <summary>Data payload bytes sent (before compression).</summary>
    internal static readonly Counter<long> BytesSent = Meter.CreateCounter<long>(
        "sockeye.connection.sent.bytes", "By", "WebSocket data payload bytes sent (uncompressed).");

    /// <summary>Sends that found the send buffer full and had to wait for the peer to read (backpressure).</summary>
    internal static readonly Counter<long> SendStalls = Meter.CreateCounter<long>(
        "sockeye.connection.send.stalls", "{send}", "Sends that waited because the connection's send buffer was full (the peer reads slower than it is sent to).");

    /// <summary>Sends waiting for a full send buffer right now: the depth of the send queue in blocked senders.</summary>
    internal static readonly UpDownCounter<long> SendsWaiting = Meter.CreateUpDownCounter<long>(
        "sockeye.connection.send.waiting", "{send}", "Sends currently waiting for a full send buffer to drain.");

    /// <summary>Connections cut because a send waited longer than the send timeout (closed with 1008).</summary>
    internal static readonly Counter<long> SendTimeouts = Meter.CreateCounter<long>(
        "sockeye.connection.send.timeouts", "{connection}", "Connections cut because the peer did not read within the send timeout.");

    private static readonly KeyValuePair<string, object?> s_accepted = new("sockeye.handshake.outcome", "accepted");
    private static readonly KeyValuePair<string, object?> s_refused = new("sockeye.handshake.outcome", "refused");
    private static readonly KeyValuePair<string, object?> s_status101 = new("http.response.status_code", 101);
    private static readonly KeyValuePair<string, object?> s_status200 = new("http.response.status_code", 200);

    /// <summary>An accepted upgrade: 101 over HTTP/1.1, 200 for an extended CONNECT (RFC 8441 §5).</summary>
    internal static void HandshakeAccepted(int status = 101)
    {
        if (Handshakes.Enabled)
        {
            Handshakes.Add(1, s_accepted, status == 200 ? s_status200 : s_status101);
        }
    }

    internal static void HandshakeRefused(int status)
    {
        if (Handshakes.Enabled)
        {
            Handshakes.Add(1, s_refused, new KeyValuePair<string, object?>("http.response.status_code", status));
        }
    }

    internal static void Closed(ushort? code)
    {
        if (Closes.Enabled)
        {
            Closes.Add(1, new KeyValuePair<string, object?>("sockeye.close.code", (int)(code ?? 1006)));
        }
    }

    internal static void Received(long bytes, bool endOfMessage)
    {
        if (BytesReceived.Enabled)
        {
            BytesReceived.Add(bytes);
        }

        if (endOfMessage && MessagesReceived.Enabled)
        {
            MessagesReceived.Add(1);
        }
    }

    /// <summary>
    /// A send starts waiting for a full buffer. Returns whether it was added to <see cref="SendsWaiting"/>: only then
    /// does <see cref="StallEnded"/> take it off (a listener that arrives mid-wait must not see a -1 without its +1).
    /// </summary>
    internal static bool StallStarted()
    {
        if (SendStalls.Enabled)
        {
            SendStalls.Add(1);
        }

        if (SendsWaiting.Enabled)
        {
            SendsWaiting.Add(1);
            return true;
        }

        return false;
    }

    internal static void StallEnded()
    {
        if (SendsWaiting.Enabled)
        {
            SendsWaiting.Add(-1);
        }
    }

    internal static void SendTimedOut()
    {
        if (SendTimeouts.Enabled)
        {
            SendTimeouts.Add(1);
        }
    }

    internal static void Sent(long bytes, long messages)
    {
        if (BytesSent.Enabled)
        {
            BytesSent.Add(bytes);
        }

        if (messages > 0 && MessagesSent.Enabled)
        {
            MessagesSent.Add(messages);
        }
    }
}
