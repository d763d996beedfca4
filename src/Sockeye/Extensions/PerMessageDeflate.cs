
namespace Sockeye.Extensions;

/// <summary>
/// permessage-deflate on one connection (RFC 7692 §6–7): a compression context for what this side sends and one for
/// what it receives, each with the agreed window and context-takeover rule for its direction.
/// </summary>
internal sealed class PerMessageDeflate : IWebSocketExtension
{
    /// <summary>RSV1: "Per-Message Compressed" (§6).</summary>
    public const byte Rsv1 = 0b100;

    /// <summary>The tail removed by the sender and appended by the receiver (§7.2.1, §7.2.2).</summary>
    public static ReadOnlySpan<byte> Tail => TailBytes.Span;

    /// <summary><see cref="Tail"/> as memory, for feeding the inflater across awaits.</summary>
    public static ReadOnlyMemory<byte> TailBytes { get; } = new byte[] { 0x00, 0x00, 0xff, 0xff };

    private readonly PerMessageDeflateOptions _options;

    public PerMessageDeflate(Role role, PerMessageDeflateParameters agreed, PerMessageDeflateOptions options)
    {
        Parameters = agreed;
        _options = options;
        bool server = role == Role.Server;
        int sendBits = server ? agreed.ServerMaxWindowBits : agreed.ClientMaxWindowBits;
        int receiveBits = server ? agreed.ClientMaxWindowBits : agreed.ServerMaxWindowBits;
        bool sendTakeover = !(server ? agreed.ServerNoContextTakeover : agreed.ClientNoContextTakeover);
        bool receiveTakeover = !(server ? agreed.ClientNoContextTakeover : agreed.ServerNoContextTakeover);
        int level = options.CompressionLevel, memLevel = options.MemoryLevel;
        SendsIndependently = !sendTakeover;
        SendSettingsKey = (sendBits * 100) + (level * 10) + memLevel;
        SendWindowBits = sendBits;
        Level = level;
        MemoryLevel = memLevel;
        Outbound = new ZlibContext<ZlibDeflater>(() => ZlibPool.RentDeflater(sendBits, level, memLevel), sendTakeover, options.IdleRelease);
        Inbound = new ZlibContext<ZlibInflater>(() => ZlibPool.RentInflater(receiveBits), receiveTakeover, options.IdleRelease);
    }

    public string Name => PerMessageDeflateNegotiation.Name;

    public byte RsvBits => Rsv1;

    public string Header => Parameters.Header;

    public PerMessageDeflateParameters Parameters { get; }

    /// <summary>
    /// Our messages are compressed each on its own (no context takeover on our side, §7.1.1), so a message compressed
    /// once with <see cref="SendSettingsKey"/>'s settings is valid on every connection that agreed the same.
    /// </summary>
    public bool SendsIndependently { get; }

    /// <summary>Window bits, level and memory level of our compressor, as one comparable number.</summary>
    public int SendSettingsKey { get; }

    public int SendWindowBits { get; }

    public int Level { get; }

    public int MemoryLevel { get; }

    /// <summary>Compressor context for messages this side sends.</summary>
    public ZlibContext<ZlibDeflater> Outbound { get; }

    /// <summary>Decompressor context for messages this side receives.</summary>
    public ZlibContext<ZlibInflater> Inbound { get; }

    /// <summary>Whether a message of <paramref name="length"/> bytes is worth compressing.</summary>
    public bool ShouldCompress(long length) => length >= _options.Threshold;

    public void Dispose()
    {
        Outbound.Dispose();
        Inbound.Dispose();
    }
}
