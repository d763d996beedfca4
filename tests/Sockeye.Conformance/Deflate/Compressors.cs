using System.IO.Compression;

namespace Sockeye.Conformance.Deflate;

/// <summary>Compresses one message for the wire (RFC 7692 7.2.1), keeping or dropping the LZ77 window between messages.</summary>
internal interface IMessageCompressor : IDisposable
{
    /// <summary>The payload of a compressed message: DEFLATE data ending in a sync flush without its 00 00 ff ff.</summary>
    byte[] Compress(ReadOnlySpan<byte> message);
}

/// <summary>
/// System.IO.Compression (zlib) for a 15-bit window, the only size it produces. Flush() emits a sync flush
/// (an empty stored block), whose trailing 00 00 ff ff RFC 7692 7.2.1 removes. With context takeover one stream runs
/// for the whole connection; without, every message gets a new one (7.1.1).
/// </summary>
internal sealed class SystemDeflater(bool noContextTakeover) : IMessageCompressor
{
    private readonly MemoryStream _sink = new();
    private DeflateStream? _stream;

    public byte[] Compress(ReadOnlySpan<byte> message)
    {
        if (_stream is null || noContextTakeover)
        {
            _stream?.Dispose();
            _stream = new DeflateStream(_sink, CompressionLevel.Optimal, leaveOpen: true);
        }

        _sink.SetLength(0);
        _stream.Write(message);
        _stream.Flush();
        var bytes = _sink.ToArray();
        var length = bytes.AsSpan().EndsWith((ReadOnlySpan<byte>)[0x00, 0x00, 0xFF, 0xFF]) ? bytes.Length - 4 : bytes.Length;
        // zlib writes nothing for an empty message; RFC 7692 7.2.3.6 sends it as a single 0x00 (an empty stored block).
        return length == 0 ? [0x00] : bytes[..length];
    }

    public void Dispose()
    {
        _stream?.Dispose();
        _sink.Dispose();
    }
}

/// <summary>
/// Our own encoder for windows below 15 bits, which zlib cannot be limited to: greedy LZ77 over hash chains whose
/// back-references never reach farther than 2^windowBits bytes (RFC 7692 7.1.2), coded with the fixed Huffman codes
/// (RFC 1951 3.2.6), or stored blocks when that is smaller. Each message ends like a sync flush.
/// </summary>
internal sealed class WindowedDeflater(int windowBits, bool noContextTakeover) : IMessageCompressor
{
    private const int MinMatch = 3;
    private const int MaxMatch = 258;
    private const int MaxChain = 64;
    private const int HashBits = 15;
    private const int MaxStored = 65535;

    private static readonly ushort[] LengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
    private static readonly byte[] LengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
    private static readonly ushort[] DistanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
    private static readonly byte[] DistanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

    private readonly int _window = 1 << windowBits;
    private byte[] _history = [];

    public byte[] Compress(ReadOnlySpan<byte> message)
    {
        var history = noContextTakeover ? [] : _history;
        var data = new byte[history.Length + message.Length];
        history.CopyTo(data, 0);
        message.CopyTo(data.AsSpan(history.Length));
        if (!noContextTakeover)
        {
            _history = data.AsSpan(Math.Max(0, data.Length - _window)).ToArray();
        }

        var huffman = FixedHuffman(data, history.Length);
        var storedSize = 5 * Math.Max(1, (message.Length + MaxStored - 1) / MaxStored) + message.Length + 1;
        return huffman.Length <= storedSize ? huffman : Stored(message);
    }

    public void Dispose()
    {
        // Nothing to release; the interface is disposable for the zlib-backed compressor.
    }

    private byte[] FixedHuffman(byte[] data, int start)
    {
        var writer = new BitWriter(data.Length - start + 64);
        writer.Write(0, 1); // BFINAL = 0: more messages follow on the same stream (RFC 7692 7.2.3.4)
        writer.Write(1, 2); // BTYPE = 01: fixed Huffman codes

        var head = new int[1 << HashBits];
        Array.Fill(head, -1);
        var previous = new int[data.Length];
        for (var i = 0; i < start; i++)
        {
            Insert(i); // the retained window of earlier messages (context takeover)
        }

        var position = start;
        while (position < data.Length)
        {
            var (length, distance) = LongestMatch(position);
            if (length < MinMatch)
            {
                WriteLiteralOrLength(writer, data[position]);
                Insert(position++);
                continue;
            }

            WriteMatch(writer, length, distance);
            for (var i = 0; i < length; i++)
            {
                Insert(position++);
            }
        }

        WriteLiteralOrLength(writer, 256); // end of block
        // Sync flush: an empty non-final stored block, byte-aligned; its LEN/NLEN (00 00 ff ff) is what 7.2.1 strips.
        writer.Write(0, 3);
        return writer.ToArray();

        int Hash(int i) => ((data[i] << 10) ^ (data[i + 1] << 5) ^ data[i + 2]) & ((1 << HashBits) - 1);

        void Insert(int i)
        {
            if (i + MinMatch <= data.Length)
            {
                var h = Hash(i);
                previous[i] = head[h];
                head[h] = i;
            }
        }

        (int Length, int Distance) LongestMatch(int i)
        {
            if (i + MinMatch > data.Length)
            {
                return (0, 0);
            }

            var limit = Math.Min(MaxMatch, data.Length - i);
            int bestLength = 0, bestDistance = 0;
            var candidate = head[Hash(i)];
            for (var chain = 0; candidate >= 0 && chain < MaxChain; chain++, candidate = previous[candidate])
            {
                var distance = i - candidate;
                if (distance > _window)
                {
                    break; // chains run backwards: everything further is outside the window too
                }

                var length = data.AsSpan(candidate, limit).CommonPrefixLength(data.AsSpan(i, limit));
                if (length > bestLength)
                {
                    (bestLength, bestDistance) = (length, distance);
                    if (length == limit)
                    {
                        break;
                    }
                }
            }

            return (bestLength, bestDistance);
        }
    }

    /// <summary>RFC 1951 3.2.4 stored blocks, then the sync flush's empty stored block header (one 0x00 byte).</summary>
    private static byte[] Stored(ReadOnlySpan<byte> message)
    {
        var output = new List<byte>(message.Length + 16);
        var offset = 0;
        do
        {
            var length = Math.Min(MaxStored, message.Length - offset);
            output.AddRange([0x00, (byte)length, (byte)(length >> 8), (byte)~length, (byte)(~length >> 8)]);
            output.AddRange(message.Slice(offset, length));
            offset += length;
        }
        while (offset < message.Length);
        output.Add(0x00);
        return [.. output];
    }

    /// <summary>RFC 1951 3.2.6: fixed literal/length codes.</summary>
    private static void WriteLiteralOrLength(BitWriter writer, int symbol)
    {
        switch (symbol)
        {
            case < 144:
                writer.WriteHuffman(0x30 + symbol, 8);
                break;
            case < 256:
                writer.WriteHuffman(0x190 + symbol - 144, 9);
                break;
            case < 280:
                writer.WriteHuffman(symbol - 256, 7);
                break;
            default:
                writer.WriteHuffman(0xC0 + symbol - 280, 8);
                break;
        }
    }

    private static void WriteMatch(BitWriter writer, int length, int distance)
    {
        var lengthCode = LastAtMost(LengthBase, length);
        WriteLiteralOrLength(writer, 257 + lengthCode);
        writer.Write(length - LengthBase[lengthCode], LengthExtra[lengthCode]);
        var distanceCode = LastAtMost(DistanceBase, distance);
        writer.WriteHuffman(distanceCode, 5); // fixed distance codes are 5-bit (RFC 1951 3.2.6)
        writer.Write(distance - DistanceBase[distanceCode], DistanceExtra[distanceCode]);
    }

    private static int LastAtMost(ushort[] bases, int value)
    {
        var index = Array.BinarySearch(bases, (ushort)value);
        return index >= 0 ? index : ~index - 1;
    }

    /// <summary>Least-significant-bit-first writer (RFC 1951 3.1.1).</summary>
    private sealed class BitWriter(int capacity)
    {
        private readonly List<byte> _bytes = new(capacity);
        private uint _bits;
        private int _count;

        public void Write(int value, int bits)
        {
            _bits |= (uint)value << _count;
            _count += bits;
            while (_count >= 8)
            {
                _bytes.Add((byte)_bits);
                _bits >>= 8;
                _count -= 8;
            }
        }

        /// <summary>Huffman codes are packed most significant bit first (RFC 1951 3.1.1).</summary>
        public void WriteHuffman(int code, int bits)
        {
            var reversed = 0;
            for (var i = 0; i < bits; i++)
            {
                reversed = (reversed << 1) | ((code >> i) & 1);
            }

            Write(reversed, bits);
        }

        /// <summary>Pads the last byte with zero bits.</summary>
        public byte[] ToArray()
        {
            if (_count > 0)
            {
                _bytes.Add((byte)_bits);
            }

            return [.. _bytes];
        }
    }
}
