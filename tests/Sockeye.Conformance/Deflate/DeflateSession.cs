using Sockeye.Conformance.Wire;

namespace Sockeye.Conformance.Deflate;

/// <summary>
/// permessage-deflate on one connection: our compressor for what we send and our checking inflater for what the peer
/// sends, each configured with its direction's window and context takeover (RFC 7692 7.1).
/// </summary>
internal sealed class DeflateSession : IDisposable
{
    private readonly IMessageCompressor _compressor;
    private readonly Inflater _inflater;

    public DeflateSession(Role role, DeflateAgreement agreement)
    {
        Agreement = agreement;
        var (sendNoContext, sendBits, receiveNoContext, receiveBits) = role == Role.Client
            ? (agreement.ClientNoContextTakeover, agreement.ClientWindowBits, agreement.ServerNoContextTakeover, agreement.ServerWindowBits)
            : (agreement.ServerNoContextTakeover, agreement.ServerWindowBits, agreement.ClientNoContextTakeover, agreement.ClientWindowBits);
        _compressor = sendBits == 15 ? new SystemDeflater(sendNoContext) : new WindowedDeflater(sendBits, sendNoContext);
        _inflater = new Inflater(receiveBits, receiveNoContext);
        Compressor = sendBits == 15 ? "zlib (System.IO.Compression), 15-bit window" : $"own fixed-Huffman LZ77 encoder, {sendBits}-bit window";
    }

    public DeflateAgreement Agreement { get; }

    /// <summary>What compresses our messages, for the transcript.</summary>
    public string Compressor { get; }

    /// <summary>Only the case's task sends, so the compressor needs no lock.</summary>
    public byte[] Compress(ReadOnlySpan<byte> message) => _compressor.Compress(message);

    /// <summary>Only the read loop receives; throws <see cref="InvalidDataException"/> with the reason.</summary>
    public byte[] Inflate(ReadOnlySpan<byte> payload, int maxLength) => _inflater.Inflate(payload, maxLength);

    public void Dispose() => _compressor.Dispose();
}
