namespace Sockeye.Conformance.Deflate;

/// <summary>
/// Our own raw DEFLATE (RFC 1951) decoder for the peer's compressed messages (RFC 7692 7.2.2). zlib and
/// System.IO.Compression would accept any distance their 32 KiB window can serve; this one also checks what the peer
/// agreed to: no back-reference farther than the negotiated LZ77 window (RFC 7692 7.1.2) and, under
/// no_context_takeover, none into an earlier message (7.1.1). Code validity follows zlib's rules.
/// </summary>
internal sealed class Inflater
{
    private static readonly byte[] SyncTail = [0x00, 0x00, 0xFF, 0xFF];
    private static readonly ushort[] LengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
    private static readonly byte[] LengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
    private static readonly ushort[] DistanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
    private static readonly byte[] DistanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

    /// <summary>RFC 1951 3.2.7: the order in which code length code lengths are sent.</summary>
    private static readonly byte[] CodeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

    private static readonly Huffman FixedLiterals = Huffman.Build([.. Enumerable.Range(0, 288).Select(s => (byte)(s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8))], "fixed literal/length")!;
    private static readonly Huffman FixedDistances = Huffman.Build([.. Enumerable.Repeat((byte)5, 32)], "fixed distance")!;

    private readonly int _windowBits;
    private readonly int _window;
    private readonly bool _noContextTakeover;
    private byte[] _history = [];
    private long _earlierBytes;

    public Inflater(int windowBits, bool noContextTakeover)
    {
        _windowBits = windowBits;
        _window = 1 << windowBits;
        _noContextTakeover = noContextTakeover;
    }

    /// <summary>Decompresses one message's payload; throws <see cref="InvalidDataException"/> with the reason.</summary>
    public byte[] Inflate(ReadOnlySpan<byte> payload, int maxLength)
    {
        // RFC 7692 7.2.2: append 00 00 ff ff (the stripped end of the sync flush), then inflate.
        var input = new byte[payload.Length + SyncTail.Length];
        payload.CopyTo(input);
        SyncTail.CopyTo(input, payload.Length);

        var history = _noContextTakeover ? [] : _history;
        var output = new Output(history, maxLength);
        var reader = new BitReader(input);
        while (!reader.AtEnd)
        {
            var final = reader.Bits(1) == 1;
            switch (reader.Bits(2))
            {
                case 0:
                    Stored(reader, output);
                    break;
                case 1:
                    Compressed(reader, output, FixedLiterals, FixedDistances);
                    break;
                case 2:
                    var (literals, distances) = DynamicTables(reader);
                    Compressed(reader, output, literals, distances);
                    break;
                default:
                    throw new InvalidDataException("a block with reserved type 3 (RFC 1951 3.2.3)");
            }

            if (final)
            {
                break; // RFC 7692 7.2.3.4 allows a final block; what follows it is only our appended tail
            }
        }

        var message = output.Message();
        _earlierBytes += message.Length;
        if (!_noContextTakeover)
        {
            _history = output.Tail(_window);
        }

        return message;

        void Stored(BitReader r, Output o)
        {
            var (length, complement) = r.StoredHeader();
            if (length != (~complement & 0xFFFF))
            {
                throw new InvalidDataException("a stored block whose LEN and NLEN do not match (RFC 1951 3.2.4)");
            }

            o.Write(r.Bytes(length));
        }

        void Compressed(BitReader r, Output o, Huffman literals, Huffman distances)
        {
            while (true)
            {
                var symbol = literals.Decode(r);
                if (symbol < 256)
                {
                    o.Write((byte)symbol);
                    continue;
                }

                if (symbol == 256)
                {
                    return;
                }

                symbol -= 257;
                if (symbol >= LengthBase.Length)
                {
                    throw new InvalidDataException($"invalid literal/length code {symbol + 257} (RFC 1951 3.2.5)");
                }

                var length = LengthBase[symbol] + r.Bits(LengthExtra[symbol]);
                var distanceSymbol = distances.Decode(r);
                if (distanceSymbol >= DistanceBase.Length)
                {
                    throw new InvalidDataException($"invalid distance code {distanceSymbol} (RFC 1951 3.2.5)");
                }

                var distance = DistanceBase[distanceSymbol] + r.Bits(DistanceExtra[distanceSymbol]);
                if (distance > _window)
                {
                    throw new InvalidDataException($"a back-reference {distance} bytes back, beyond the negotiated {_windowBits}-bit LZ77 window of {_window} bytes (RFC 7692 7.1.2)");
                }

                if (distance > o.Available)
                {
                    throw new InvalidDataException(_noContextTakeover && _earlierBytes > 0
                        ? $"a back-reference {distance} bytes back into an earlier message, though no context takeover was agreed for this direction (RFC 7692 7.1.1)"
                        : $"a back-reference {distance} bytes back, before the start of the data (RFC 1951 3.2.3)");
                }

                o.Copy(distance, length);
            }
        }
    }

    /// <summary>RFC 1951 3.2.7: the code length code, then the literal/length and distance code lengths.</summary>
    private static (Huffman Literals, Huffman Distances) DynamicTables(BitReader r)
    {
        var literalCount = r.Bits(5) + 257;
        var distanceCount = r.Bits(5) + 1;
        var codeLengthCount = r.Bits(4) + 4;
        if (literalCount > 286 || distanceCount > 30)
        {
            throw new InvalidDataException($"a dynamic block declaring {literalCount} literal/length and {distanceCount} distance codes (RFC 1951 3.2.7: at most 286 and 30)");
        }

        var codeLengths = new byte[19];
        for (var i = 0; i < codeLengthCount; i++)
        {
            codeLengths[CodeLengthOrder[i]] = (byte)r.Bits(3);
        }

        var codeLengthCode = Huffman.Build(codeLengths, "code length", allowIncomplete: false);
        var lengths = new byte[literalCount + distanceCount];
        var n = 0;
        while (n < lengths.Length)
        {
            var symbol = codeLengthCode.Decode(r);
            if (symbol < 16)
            {
                lengths[n++] = (byte)symbol;
                continue;
            }

            byte value = 0;
            int repeat;
            if (symbol == 16)
            {
                if (n == 0)
                {
                    throw new InvalidDataException("a code length repeat with no previous length (RFC 1951 3.2.7)");
                }

                value = lengths[n - 1];
                repeat = 3 + r.Bits(2);
            }
            else
            {
                repeat = symbol == 17 ? 3 + r.Bits(3) : 11 + r.Bits(7);
            }

            if (n + repeat > lengths.Length)
            {
                throw new InvalidDataException("code length repeats running past the declared number of codes (RFC 1951 3.2.7)");
            }

            lengths.AsSpan(n, repeat).Fill(value);
            n += repeat;
        }

        if (lengths[256] == 0)
        {
            throw new InvalidDataException("a dynamic block without an end-of-block code (RFC 1951 3.2.7)");
        }

        return (Huffman.Build(lengths.AsSpan(0, literalCount), "literal/length"), Huffman.Build(lengths.AsSpan(literalCount), "distance"));
    }

    /// <summary>Least-significant-bit-first reader (RFC 1951 3.1.1) with a 64-bit buffer.</summary>
    private sealed class BitReader(byte[] data)
    {
        private int _position;
        private ulong _bits;
        private int _count;

        public bool AtEnd => _count == 0 && _position == data.Length;

        /// <summary>The next <paramref name="n"/> bits without consuming them, zero-padded past the end.</summary>
        public int Peek(int n)
        {
            if (_count < n)
            {
                while (_count <= 56 && _position < data.Length)
                {
                    _bits |= (ulong)data[_position++] << _count;
                    _count += 8;
                }
            }

            return (int)(_bits & ((1UL << n) - 1));
        }

        public void Drop(int n)
        {
            if (n > _count)
            {
                throw new InvalidDataException("the compressed data ends in the middle of a block (RFC 7692 7.2.2)");
            }

            _bits >>= n;
            _count -= n;
        }

        public int Bits(int n)
        {
            if (n == 0)
            {
                return 0;
            }

            var value = Peek(n);
            Drop(n);
            return value;
        }

        /// <summary>RFC 1951 3.2.4: skip to the byte boundary, then LEN and NLEN.</summary>
        public (int Length, int Complement) StoredHeader()
        {
            Drop(_count & 7);
            // Hand the whole bytes still buffered back to the byte stream.
            _position -= _count / 8;
            _bits = 0;
            _count = 0;
            var header = Bytes(4);
            return (header[0] | (header[1] << 8), header[2] | (header[3] << 8));
        }

        /// <summary>Raw bytes; only valid at a byte boundary with an empty bit buffer (inside stored blocks).</summary>
        public ReadOnlySpan<byte> Bytes(int n)
        {
            if (_position + n > data.Length)
            {
                throw new InvalidDataException("the compressed data ends in the middle of a stored block (RFC 7692 7.2.2)");
            }

            var span = data.AsSpan(_position, n);
            _position += n;
            return span;
        }
    }

    /// <summary>The decompressed message behind the retained history of earlier messages.</summary>
    private sealed class Output
    {
        private readonly int _start;
        private readonly int _maxLength;
        private byte[] _buffer;
        private int _length;

        public Output(byte[] history, int maxLength)
        {
            _buffer = new byte[history.Length + 4096];
            history.CopyTo(_buffer, 0);
            _start = _length = history.Length;
            _maxLength = maxLength;
        }

        /// <summary>How far back a reference may reach: this message plus the history.</summary>
        public int Available => _length;

        public void Write(byte value)
        {
            Ensure(1);
            _buffer[_length++] = value;
        }

        public void Write(ReadOnlySpan<byte> bytes)
        {
            Ensure(bytes.Length);
            bytes.CopyTo(_buffer.AsSpan(_length));
            _length += bytes.Length;
        }

        public void Copy(int distance, int length)
        {
            Ensure(length);
            var from = _length - distance;
            if (distance >= length)
            {
                _buffer.AsSpan(from, length).CopyTo(_buffer.AsSpan(_length));
                _length += length;
                return;
            }

            for (var i = 0; i < length; i++)
            {
                _buffer[_length++] = _buffer[from + i]; // overlapping: repeats the last `distance` bytes
            }
        }

        public byte[] Message() => _buffer.AsSpan(_start, _length - _start).ToArray();

        public byte[] Tail(int max) => _buffer.AsSpan(Math.Max(0, _length - max), Math.Min(max, _length)).ToArray();

        private void Ensure(int more)
        {
            if (_length - _start + more > _maxLength)
            {
                throw new InvalidDataException($"the message inflates to more than {_maxLength} bytes");
            }

            if (_length + more > _buffer.Length)
            {
                Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + more));
            }
        }
    }

    /// <summary>A canonical Huffman code (RFC 1951 3.2.2): a lookup table for short codes, a bit-by-bit walk for long ones.</summary>
    private sealed class Huffman
    {
        private const int MaxBits = 15;
        private const int FastBits = 9;

        private readonly ushort[] _fast = new ushort[1 << FastBits];
        private readonly short[] _count = new short[MaxBits + 1];
        private readonly short[] _symbols;
        private readonly string _name;

        private Huffman(int symbolCount, string name)
        {
            _symbols = new short[symbolCount];
            _name = name;
        }

        /// <summary>
        /// Builds the code from its lengths; like zlib, rejects over-subscribed codes and incomplete ones other than a
        /// single one-bit code (an empty distance code is allowed: the block then has literals only).
        /// </summary>
        public static Huffman Build(ReadOnlySpan<byte> lengths, string name, bool allowIncomplete = true)
        {
            var code = new Huffman(lengths.Length, name);
            foreach (var length in lengths)
            {
                code._count[length]++;
            }

            if (code._count[0] == lengths.Length)
            {
                return allowIncomplete ? code : throw new InvalidDataException($"an empty {name} code (RFC 1951 3.2.7)");
            }

            var left = 1;
            var max = 0;
            for (var bits = 1; bits <= MaxBits; bits++)
            {
                left = (left << 1) - code._count[bits];
                if (left < 0)
                {
                    throw new InvalidDataException($"an over-subscribed {name} code (RFC 1951 3.2.2)");
                }

                if (code._count[bits] > 0)
                {
                    max = bits;
                }
            }

            if (left > 0 && (!allowIncomplete || max != 1))
            {
                throw new InvalidDataException($"an incomplete {name} code (RFC 1951 3.2.2)");
            }

            Span<int> offsets = stackalloc int[MaxBits + 2];
            Span<int> next = stackalloc int[MaxBits + 1];
            var canonical = 0;
            for (var bits = 1; bits <= MaxBits; bits++)
            {
                offsets[bits + 1] = offsets[bits] + code._count[bits];
                var shorter = bits > 1 ? code._count[bits - 1] : 0; // _count[0] counts unused symbols
                canonical = (canonical + shorter) << 1;
                next[bits] = canonical;
            }

            for (var symbol = 0; symbol < lengths.Length; symbol++)
            {
                var bits = lengths[symbol];
                if (bits == 0)
                {
                    continue;
                }

                code._symbols[offsets[bits]++] = (short)symbol;
                var reversed = Reverse(next[bits]++, bits);
                if (bits <= FastBits)
                {
                    for (var i = reversed; i < code._fast.Length; i += 1 << bits)
                    {
                        code._fast[i] = (ushort)((symbol << 4) | bits);
                    }
                }
            }

            return code;
        }

        public int Decode(BitReader reader)
        {
            var entry = _fast[reader.Peek(FastBits)];
            if (entry != 0)
            {
                reader.Drop(entry & 0xF);
                return entry >> 4;
            }

            // Codes longer than FastBits (or invalid ones): walk the canonical code one bit at a time.
            var bits = reader.Peek(MaxBits);
            int codeValue = 0, first = 0, index = 0;
            for (var length = 1; length <= MaxBits; length++)
            {
                codeValue |= (bits >> (length - 1)) & 1;
                int count = _count[length];
                if (codeValue - count < first)
                {
                    reader.Drop(length);
                    return _symbols[index + (codeValue - first)];
                }

                index += count;
                first = (first + count) << 1;
                codeValue <<= 1;
            }

            throw new InvalidDataException($"a bit pattern that is no {_name} code (RFC 1951 3.2.2)");
        }

        private static int Reverse(int value, int bits)
        {
            var result = 0;
            for (var i = 0; i < bits; i++)
            {
                result = (result << 1) | ((value >> i) & 1);
            }

            return result;
        }
    }
}
