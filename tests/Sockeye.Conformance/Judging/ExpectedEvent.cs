using Sockeye.Conformance.Wire;

namespace Sockeye.Conformance.Judging;

/// <summary>An event a case expects from the peer, compared byte for byte.</summary>
internal sealed record ExpectedEvent(string Kind, ReadOnlyMemory<byte> Payload)
{
    public static ExpectedEvent Text(string text) => new("text message", Payloads.Utf8(text));

    public static ExpectedEvent Text(ReadOnlyMemory<byte> utf8) => new("text message", utf8);

    public static ExpectedEvent Binary(ReadOnlyMemory<byte> payload) => new("binary message", payload);

    public static ExpectedEvent Pong(string text) => new("pong", Payloads.Utf8(text));

    public static ExpectedEvent Pong(ReadOnlyMemory<byte> payload) => new("pong", payload);

    public bool Matches(WireEvent actual) => actual switch
    {
        MessageEvent m => Kind == (m.Binary ? "binary message" : "text message") && m.Payload.AsSpan().SequenceEqual(Payload.Span),
        PongEvent p => Kind == "pong" && p.Payload.AsSpan().SequenceEqual(Payload.Span),
        _ => false,
    };

    public override string ToString() => $"{Kind} {Payloads.Describe(Payload.Span)}";
}
