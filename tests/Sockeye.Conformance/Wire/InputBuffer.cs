using System.Text;

namespace Sockeye.Conformance.Wire;

/// <summary>
/// Buffered reader over the socket stream, shared by the HTTP handshake and the frame reader so that
/// bytes arriving right behind the handshake (frames sent together with the 101) are not lost.
/// </summary>
internal sealed class InputBuffer(Stream stream)
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private int Buffered => _end - _start;

    /// <summary>Reads the HTTP head up to and including the blank line; null on EOF before it completed.</summary>
    public async Task<string?> ReadHttpHeadAsync(int maxBytes, CancellationToken cancellationToken)
    {
        while (true)
        {
            var index = _buffer.AsSpan(_start, Buffered).IndexOf("\r\n\r\n"u8);
            if (index >= 0)
            {
                var head = Encoding.Latin1.GetString(_buffer, _start, index);
                _start += index + 4;
                return head;
            }

            if (Buffered > maxBytes || !await FillAsync(cancellationToken))
            {
                return null;
            }
        }
    }

    /// <summary>Fills <paramref name="destination"/>; false on a clean EOF before the first byte, throws on EOF mid-way.</summary>
    public async Task<bool> TryReadExactlyAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        var copied = 0;
        while (copied < destination.Length)
        {
            if (Buffered == 0)
            {
                // Large payloads bypass the buffer: read straight into the destination.
                if (destination.Length - copied >= _buffer.Length)
                {
                    var n = await stream.ReadAsync(destination[copied..], cancellationToken);
                    if (n == 0)
                    {
                        return copied == 0 ? false : throw new EndOfStreamException("connection closed in the middle of a frame");
                    }

                    copied += n;
                    continue;
                }

                if (!await FillAsync(cancellationToken))
                {
                    return copied == 0 ? false : throw new EndOfStreamException("connection closed in the middle of a frame");
                }
            }

            var take = Math.Min(Buffered, destination.Length - copied);
            _buffer.AsMemory(_start, take).CopyTo(destination[copied..]);
            _start += take;
            copied += take;
        }

        return true;
    }

    public async Task ReadExactlyAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (!await TryReadExactlyAsync(destination, cancellationToken) && destination.Length > 0)
        {
            throw new EndOfStreamException("connection closed in the middle of a frame");
        }
    }

    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, Buffered);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            return false;
        }

        var n = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        _end += n;
        return n > 0;
    }
}
