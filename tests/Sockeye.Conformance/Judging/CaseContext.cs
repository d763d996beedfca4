using Sockeye.Conformance.Deflate;
using Sockeye.Conformance.Wire;

namespace Sockeye.Conformance.Judging;

/// <summary>What a case script works with: send frames in the role's masking, await the peer's events, keep a transcript.</summary>
internal sealed class CaseContext(WireConnection connection, Timeouts timeouts, DeflateExpectations deflateExpectations, CancellationToken cancellation)
{
    private const int MaxTranscriptLines = 200;
    private readonly List<string> _transcript = [];
    private WireEvent? _pushedBack;

    public Role Role => connection.Role;

    public Timeouts Timeouts => timeouts;

    public CancellationToken Cancellation => cancellation;

    public WireConnection Connection => connection;

    /// <summary>How permessage-deflate was negotiated, for cases that set <see cref="Cases.ConformanceCase.Deflate"/>.</summary>
    public Negotiation? Negotiation { get; set; }

    public DeflateExpectations DeflateExpectations => deflateExpectations;

    /// <summary>The compressed size of the last message sent with <see cref="SendCompressedAsync"/>.</summary>
    public int LastCompressedLength { get; private set; }

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
        return SendFramesQuietlyAsync(frames);
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

    /// <summary>
    /// Compresses a message with the negotiated permessage-deflate and sends it with RSV1 on its first frame only
    /// (RFC 7692 6.1), in frames of at most <paramref name="fragmentSize"/> compressed bytes when given.
    /// </summary>
    public Task<bool> SendCompressedAsync(byte opcode, ReadOnlyMemory<byte> payload, int? fragmentSize = null, bool log = true)
    {
        var compressed = Compress(payload.Span);
        var frames = fragmentSize is { } size ? OutFrame.Fragment(opcode, compressed, size) : [new OutFrame(opcode, compressed)];
        frames[0] = frames[0] with { Rsv = 4 };
        if (log)
        {
            Note($"sent compressed {Opcodes.Name(opcode)} message {Payloads.Describe(payload.Span)} as {compressed.Length} bytes in {frames.Length} frame(s)");
        }

        return SendFramesQuietlyAsync(frames);
    }

    /// <summary>A message's payload compressed with the negotiated permessage-deflate, for cases that frame it themselves.</summary>
    public byte[] Compress(ReadOnlySpan<byte> message)
    {
        var deflate = connection.Deflate ?? throw new InvalidOperationException("permessage-deflate is not in use on this connection");
        var compressed = deflate.Compress(message);
        LastCompressedLength = compressed.Length;
        return compressed;
    }

    /// <summary>Raw bytes, e.g. part of a frame whose header was sent earlier (6.4.3).</summary>
    public Task<bool> SendRawAsync(ReadOnlyMemory<byte> bytes, string description)
    {
        Note($"sent {description} ({bytes.Length} bytes)");
        return connection.WriteAsync(bytes, cancellation);
    }

    /// <summary>The next peer event or null on timeout; throws if the whole case ran out of time.</summary>
    public async Task<WireEvent?> NextAsync(TimeSpan timeout, bool log = true)
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

        if (log || next is not MessageEvent)
        {
            Note(next is null ? $"nothing within {timeout.TotalSeconds:0.#} s" : $"received {next}");
        }

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

    private Task<bool> SendFramesQuietlyAsync(OutFrame[] frames)
    {
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
