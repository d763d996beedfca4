namespace Sockeye.Conformance.Wire;

/// <summary>Something the peer did, as observed on the wire.</summary>
internal abstract record WireEvent
{
    /// <summary>Milliseconds since the connection was opened.</summary>
    public long AtMs { get; init; }
}

/// <summary>A complete (reassembled) data message; <see cref="Frames"/> is how many frames carried it.</summary>
internal sealed record MessageEvent(bool Binary, byte[] Payload, int Frames) : WireEvent
{
    /// <summary>Whether the first frame had RSV1 set and the payload was inflated (RFC 7692 6).</summary>
    public bool Compressed { get; init; }

    /// <summary>The payload bytes as they were on the wire (compressed size for compressed messages).</summary>
    public int WireLength { get; init; }

    public override string ToString() =>
        $"{(Binary ? "binary" : "text")} message {Payloads.Describe(Payload)}{(Compressed ? $" compressed to {WireLength} bytes" : "")}";
}

internal sealed record PingEvent(byte[] Payload) : WireEvent
{
    public override string ToString() => $"ping {Payloads.Describe(Payload)}";
}

internal sealed record PongEvent(byte[] Payload) : WireEvent
{
    public override string ToString() => $"pong {Payloads.Describe(Payload)}";
}

/// <summary>A close frame; <see cref="Code"/> is null when the frame had no payload.</summary>
internal sealed record CloseEvent(ushort? Code, string Reason) : WireEvent
{
    public override string ToString() => Code is null ? "close (no status code)" : $"close {Code}{(Reason.Length > 0 ? $" \"{Reason}\"" : "")}";
}

/// <summary>The TCP connection ended (EOF or reset). Terminal.</summary>
internal sealed record DisconnectedEvent(string How) : WireEvent
{
    public override string ToString() => $"TCP {How}";
}

/// <summary>The peer broke RFC 6455 itself (unmasked client frame, bad close payload, ...). Terminal.</summary>
internal sealed record ViolationEvent(string Reason) : WireEvent
{
    public override string ToString() => $"peer sent {Reason}";
}
