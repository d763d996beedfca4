using System.Buffers.Binary;

namespace Sockeye.Cli.Bench;

/// <summary>
/// A connection's receive buffer with a parser for server-to-client frames (RFC 6455 §5.2): unmasked, whole frames
/// (the fan-out messages are small, so a server has no reason to fragment them). Frames are read in place.
/// </summary>
internal sealed class ServerFrameBuffer
{
    private readonly byte[] _buffer;
    private int _start;
    private int _end;

    /// <param name="buffer">Receive buffer; its first <paramref name="filled"/> bytes were already received.</param>
    public ServerFrameBuffer(byte[] buffer, int filled)
    {
        _buffer = buffer;
        _end = filled;
    }

    /// <summary>Takes the next whole frame off the buffer, or returns false when more bytes are needed.</summary>
    /// <exception cref="InvalidDataException">The server broke a rule of RFC 6455 or sent an unexpected frame.</exception>
    public bool TryRead(out int opcode, out ReadOnlySpan<byte> payload)
    {
        opcode = 0;
        payload = default;
        int available = _end - _start;
        if (available < 2)
        {
            return false;
        }

        byte b0 = _buffer[_start];
        byte b1 = _buffer[_start + 1];
        if ((b1 & 0x80) != 0)
        {
            throw new InvalidDataException("masked frame from the server (RFC 6455 §5.1)");
        }

        if ((b0 & 0x70) != 0)
        {
            throw new InvalidDataException("RSV bits set, no extension was negotiated (RFC 6455 §5.2)");
        }

        if ((b0 & 0x80) == 0 || (b0 & 0x0F) == 0)
        {
            throw new InvalidDataException("fragmented message: not expected for messages this small");
        }

        long length = b1 & 0x7F;
        int header = 2;
        if (length == 126)
        {
            if (available < 4)
            {
                return false;
            }

            length = BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(_start + 2));
            header = 4;
        }
        else if (length == 127)
        {
            if (available < 10)
            {
                return false;
            }

            length = (long)BinaryPrimitives.ReadUInt64BigEndian(_buffer.AsSpan(_start + 2));
            header = 10;
        }

        if (header + length > _buffer.Length)
        {
            throw new InvalidDataException($"a frame of {length} bytes: larger than any message of this benchmark");
        }

        if (available < header + length)
        {
            return false;
        }

        opcode = b0 & 0x0F;
        payload = _buffer.AsSpan(_start + header, (int)length);
        _start += header + (int)length;
        return true;
    }

    /// <summary>Where the next receive goes: the unread bytes are moved to the front first.</summary>
    public Memory<byte> FreeSpace()
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        return _buffer.AsMemory(_end);
    }

    public void Commit(int received) => _end += received;
}
