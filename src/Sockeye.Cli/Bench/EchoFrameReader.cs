using System.Buffers.Binary;

namespace Sockeye.Cli.Bench;

/// <summary>
/// Streaming parser for the echoed frames: reads headers just far enough to count complete
/// messages and check their type and length, skipping payloads without touching them unless a
/// <see cref="Sink"/> wants them.
/// </summary>
/// <param name="expectedLength">Length every uncompressed echo must have.</param>
/// <param name="text">Echoes must be text (else binary) messages.</param>
/// <param name="allowMasked">Accept masked frames (byte-copy echo baseline).</param>
/// <param name="deflate">permessage-deflate was negotiated: RSV1 marks a compressed message.</param>
internal sealed class EchoFrameReader(int expectedLength, bool text, bool allowMasked, bool deflate = false)
{
    private readonly int _expectedOpcode = text ? 0x1 : 0x2;
    private long _remaining;
    private bool _frameIsData;
    private bool _frameFin;
    private bool _frameIsClose;
    private bool _inMessage;
    private bool _messageCompressed;
    private long _messageLength;
    private long _messageWireBytes;

    /// <summary>Payload bytes of the current frame not yet seen.</summary>
    public long PayloadRemaining => _remaining;

    /// <summary>Receives data payloads and message ends; null to skip payloads untouched.</summary>
    public IEchoSink? Sink { get; set; }

    /// <summary>Frame bytes (headers and payloads) of all complete data messages so far.</summary>
    public long WireBytes { get; private set; }

    /// <summary>Complete messages that arrived compressed (RSV1).</summary>
    public long CompressedMessages { get; private set; }

    /// <summary>
    /// Accounts for payload bytes that were discarded without being read. At least one payload
    /// byte must remain, so the end of the frame is still handled by <see cref="Parse"/>.
    /// </summary>
    public void SkipPayload(int count)
    {
        if (count >= _remaining)
        {
            throw new ArgumentOutOfRangeException(nameof(count), "must leave the last payload byte to Parse");
        }

        _remaining -= count;
    }

    /// <summary>
    /// Parses as much of <paramref name="data"/> as possible. Unconsumed bytes are a partial
    /// frame header (at most 13 bytes) that must be presented again with more data.
    /// </summary>
    /// <returns>Bytes consumed.</returns>
    public int Parse(ReadOnlySpan<byte> data, out int messages, out bool closed)
    {
        messages = 0;
        closed = false;
        var pos = 0;
        while (pos < data.Length)
        {
            if (_remaining > 0)
            {
                var take = (int)Math.Min(_remaining, data.Length - pos);
                if (_frameIsData && Sink is { } sink)
                {
                    sink.Payload(data.Slice(pos, take));
                }

                pos += take;
                _remaining -= take;
                if (_remaining > 0)
                {
                    break;
                }
            }
            else
            {
                var headerLength = ReadHeader(data[pos..]);
                if (headerLength == 0)
                {
                    break;
                }

                pos += headerLength;
                if (_remaining > 0)
                {
                    continue;
                }
            }

            // A frame has ended.
            if (_frameIsClose)
            {
                _frameIsClose = false;
                closed = true;
                return pos;
            }

            if (_frameIsData && _frameFin)
            {
                // A compressed echo's length says nothing until inflated (the sink does that).
                if (!_messageCompressed && _messageLength != expectedLength)
                {
                    throw new InvalidDataException($"echoed message has {_messageLength} bytes, sent {expectedLength}");
                }

                _inMessage = false;
                WireBytes += _messageWireBytes;
                if (_messageCompressed)
                {
                    CompressedMessages++;
                }

                Sink?.MessageEnd(_messageCompressed);
                messages++;
            }
        }

        return pos;
    }

    /// <returns>Header length, or 0 when <paramref name="data"/> holds only part of a header.</returns>
    private int ReadHeader(ReadOnlySpan<byte> data)
    {
        if (data.Length < 2)
        {
            return 0;
        }

        var b0 = data[0];
        var b1 = data[1];
        var masked = (b1 & 0x80) != 0;
        var length7 = b1 & 0x7F;
        var headerLength = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + (masked ? 4 : 0);
        if (data.Length < headerLength)
        {
            return 0;
        }

        if (masked && !allowMasked)
        {
            throw new InvalidDataException("server sent a masked frame (use --raw-baseline for a byte-copy echo)");
        }

        var rsv1 = (b0 & 0x40) != 0;
        if ((b0 & 0x30) != 0 || (rsv1 && !deflate))
        {
            throw new InvalidDataException(deflate
                ? "server frame has RSV2 or RSV3 set"
                : "server frame has RSV bits set, no extension was negotiated");
        }

        long length = length7 switch
        {
            126 => BinaryPrimitives.ReadUInt16BigEndian(data[2..]),
            127 => (long)BinaryPrimitives.ReadUInt64BigEndian(data[2..]),
            _ => length7,
        };
        var opcode = b0 & 0x0F;
        _frameFin = (b0 & 0x80) != 0;
        _frameIsData = opcode <= 0x2;
        _frameIsClose = opcode == 0x8;
        switch (opcode)
        {
            case 0x0 when !_inMessage:
                throw new InvalidDataException("continuation frame outside a message");
            case 0x0 when rsv1:
                throw new InvalidDataException("RSV1 set on a continuation frame (RFC 7692 §6.1: only on the first)");
            case 0x0:
                _messageLength += length;
                _messageWireBytes += headerLength + length;
                break;
            case 0x1 or 0x2 when _inMessage:
                throw new InvalidDataException("new data frame inside a fragmented message");
            case 0x1 or 0x2 when opcode != _expectedOpcode:
                throw new InvalidDataException($"echo changed the message type to opcode {opcode}");
            case 0x1 or 0x2:
                _inMessage = true;
                _messageCompressed = rsv1;
                _messageLength = length;
                _messageWireBytes = headerLength + length;
                break;
            case 0x8 or 0x9 or 0xA when !_frameFin || length > 125:
                throw new InvalidDataException("invalid control frame");
            case 0x8 or 0x9 or 0xA when rsv1:
                throw new InvalidDataException("RSV1 set on a control frame");
            case 0x8 or 0x9 or 0xA:
                // Pings are ignored: a benchmark run is shorter than any keep-alive timeout.
                break;
            default:
                throw new InvalidDataException($"reserved opcode {opcode}");
        }

        _remaining = length;
        return headerLength;
    }
}

/// <summary>Consumer of echoed payload bytes, for checking contents.</summary>
internal interface IEchoSink
{
    /// <summary>The next bytes of the current data message's payload (as on the wire, possibly compressed).</summary>
    void Payload(ReadOnlySpan<byte> chunk);

    /// <summary>The current message is complete.</summary>
    /// <exception cref="InvalidDataException">It is not the expected echo.</exception>
    void MessageEnd(bool compressed);
}
