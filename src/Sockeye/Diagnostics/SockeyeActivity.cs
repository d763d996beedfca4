using System.Diagnostics;
using Sockeye.Server;

namespace Sockeye.Diagnostics;

/// <summary>
/// The <see cref="ActivitySource"/> named <see cref="SourceName"/>: one activity (<c>sockeye.handshake</c>, kind
/// Server) per opening handshake that <see cref="HandshakePolicy"/> decides, in every host. Listen with an
/// <see cref="ActivityListener"/> or OpenTelemetry's <c>AddSource("Sockeye")</c>; while nobody listens nothing is
/// created.
/// </summary>
/// <remarks>
/// Tags: <c>url.path</c>, <c>http.request.method</c> and <c>http.response.status_code</c> (OpenTelemetry HTTP
/// semantic conventions), <c>sockeye.handshake.outcome</c> (<c>accepted</c> or <c>refused</c>, as on the
/// <c>sockeye.server.handshakes</c> counter), <c>sockeye.websocket.subprotocol</c> and
/// <c>sockeye.websocket.compression</c> (the agreed extension) when agreed, and <c>error.type</c> (the status) when
/// refused. A 5xx refusal sets the status to <see cref="ActivityStatusCode.Error"/>.
/// </remarks>
public static class SockeyeActivity
{
    /// <summary>The source name: <c>Sockeye</c>.</summary>
    public const string SourceName = "Sockeye";

    internal const string HandshakeName = "sockeye.handshake";

    internal static readonly ActivitySource Source = new(SourceName, typeof(SockeyeActivity).Assembly.GetName().Version?.ToString());

    internal static Activity? StartHandshake(WebSocketRequest request)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        Activity? activity = Source.StartActivity(HandshakeName, ActivityKind.Server);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("url.path", request.Path);
            activity.SetTag("http.request.method", request.Method);
        }

        return activity;
    }

    internal static void Finish(Activity? activity, HandshakeDecision decision)
    {
        if (activity is not { IsAllDataRequested: true })
        {
            return;
        }

        activity.SetTag("http.response.status_code", decision.Status);
        activity.SetTag("sockeye.handshake.outcome", decision.IsAccepted ? "accepted" : "refused");
        if (decision.IsAccepted)
        {
            activity.SetTag("sockeye.websocket.subprotocol", decision.Subprotocol);
            activity.SetTag("sockeye.websocket.compression", decision.Extensions);
        }
        else
        {
            activity.SetTag("error.type", decision.Status.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (decision.Status >= 500)
            {
                activity.SetStatus(ActivityStatusCode.Error, decision.Reason);
            }
        }
    }
}
