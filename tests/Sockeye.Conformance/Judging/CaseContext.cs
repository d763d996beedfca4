using Sockeye.Conformance.Wire;

namespace Sockeye.Conformance.Judging;

/// <summary>What a case script works with: send frames in the role's masking, await the peer's events, keep a transcript.</summary>
internal sealed class CaseContext(WireConnection connection, Timeouts timeouts, CancellationToken cancellation)
{
    private const int MaxTranscriptLines = 200;
    private readonly List<string> _transcript = [];
    private WireEvent? _pushedBack;

    public Role Role => connection.Role;

    public Timeouts Timeouts => timeouts;

    public CancellationToken Cancellation => cancellation;

    public WireConnection Connection => connection;

    /// <summary>Whether we have already sent a Close frame (then we must not answer the peer's Close with another).</summary>
    public bool CloseSent => connection.CloseSent;

    /// <summary>The status code of the peer's Close frame, if one arrived.</summary>
    public ushort? PeerCloseCode { get; private set; }

    public IReadOnlyList<string> Transcript => _transcript;

    /// <summary>Encodes a frame masked as our role requires (RFC 6455 5.1) unless the frame overrides it.</summary>
    public byte[] Encode(OutFrame frame)
    {
        if (frame.Opcode == Opcodes.Close)
        {
            connection.CloseSent = true;
        }

        return FrameEncoder.Encode(frame, frame.Masked ?? Role == Role.Client);
    }

    /// <summary>All frames in one write, so they typically share a TCP segment (Autobahn's default).</summary>
    public Task<bool> SendAsync(params OutFrame[] frames)
    {
        Log("sent", frames, "in one write");
        var encoded = frames.Select(Encode).ToArray();
        var all = new byte[encoded.Sum(e => e.Length)];
        var offset = 0;
        foreach (var bytes in encoded)
        {
            bytes.CopyTo(all, offset);
            offset += bytes.Length;
        }

        return connection.WriteAsync(all, cancellation);
    }

    /// <summary>One write per frame (Autobahn's sync = True).</summary>
    public async Task<bool> SendEachAsync(params OutFrame[] frames)
    {
        Log("sent", frames, "one write per frame");
        var ok = true;
        foreach (var frame in frames)
        {
            ok &= await connection.WriteAsync(Encode(frame), cancellation);
        }

        return ok;
    }

    /// <summary>Each frame's bytes split into writes of <paramref name="chopSize"/> bytes; the peer must be TCP-agnostic.</summary>
    public async Task<bool> SendChoppedAsync(int chopSize, params OutFrame[] frames)
    {
        Log("sent", frames, $"in {chopSize}-byte writes");
        foreach (var frame in frames)
        {
            var bytes = Encode(frame);
            for (var offset = 0; offset < bytes.Length; offset += chopSize)
            {
                if (!await connection.WriteAsync(bytes.AsMemory(offset, Math.Min(chopSize, bytes.Length - offset)), cancellation))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>Raw bytes, e.g. part of a frame whose header was sent earlier (6.4.3).</summary>
    public Task<bool> SendRawAsync(ReadOnlyMemory<byte> bytes, string description)
    {
        Note($"sent {description} ({bytes.Length} bytes)");
        return connection.WriteAsync(bytes, cancellation);
    }

    /// <summary>The next peer event or null on timeout; throws if the whole case ran out of time.</summary>
    public async Task<WireEvent?> NextAsync(TimeSpan timeout)
    {
        if (_pushedBack is { } pending)
        {
            _pushedBack = null;
            return pending;
        }

        var next = await connection.NextAsync(timeout, cancellation);
        if (next is CloseEvent close)
        {
            PeerCloseCode = close.Code;
        }

        Note(next is null ? $"nothing within {timeout.TotalSeconds:0.#} s" : $"received {next}");
        return next;
    }

    /// <summary>Makes <paramref name="wireEvent"/> the next event again, for a case that peeked before delegating to <see cref="Judge"/>.</summary>
    public void PushBack(WireEvent wireEvent) => _pushedBack = wireEvent;

    public void Note(string line)
    {
        if (_transcript.Count < MaxTranscriptLines)
        {
            _transcript.Add($"+{connection.ElapsedMs} ms {line}");
        }
    }

    private void Log(string verb, OutFrame[] frames, string how)
    {
        if (frames.Length > 8)
        {
            Note($"{verb} {frames.Length} frames, {frames.Sum(f => (long)f.Payload.Length)} payload bytes, {how}");
            return;
        }

        foreach (var f in frames)
        {
            var flags = $"{(f.Fin ? "fin" : "no-fin")}{(f.Rsv != 0 ? $" rsv={f.Rsv}" : "")}{(f.Masked is { } m ? (m ? " forced-mask" : " forced-unmasked") : "")}";
            Note($"{verb} {Opcodes.Name(f.Opcode)} frame [{flags}] {Payloads.Describe(f.Payload.Span)} {how}");
        }
    }
}
