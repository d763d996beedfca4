using System.Buffers;

namespace Sockeye.Cli.Exec;

/// <summary>
/// Splits a byte stream into lines with a bounded buffer: it never reads further ahead than one line (at most
/// <c>maxLine</c> bytes), so a consumer that stops taking lines stops the reads, and the writer blocks.
/// </summary>
/// <remarks>
/// A line ends at '\n'; the '\n' and a '\r' before it are removed. A line longer than <c>maxLine</c> bytes is returned
/// in pieces of at most <c>maxLine</c> bytes, cut at a UTF-8 character boundary. A last line without '\n' is returned
/// at end of stream.
/// </remarks>
internal sealed class LineReader : IDisposable
{
    private const int InitialSize = 16 * 1024;
    private readonly Stream _source;
    private readonly int _maxLine;
    private byte[] _buffer;
    private int _start;
    private int _scanned;
    private int _end;
    private bool _eof;

    public LineReader(Stream source, int maxLine)
    {
        _source = source;
        _maxLine = Math.Max(1, maxLine);
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Min(InitialSize, _maxLine + 1));
    }

    /// <summary>Reads the next line; the memory is valid until the next call. False at end of stream.</summary>
    public bool TryReadLine(out ReadOnlyMemory<byte> line)
    {
        while (true)
        {
            // Only the first maxLine + 1 bytes can hold the end of a line that fits.
            int window = Math.Min(_end, _start + _maxLine + 1);
            int newline = _buffer.AsSpan(_scanned, Math.Max(0, window - _scanned)).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                int lineEnd = _scanned + newline;
                int contentEnd = lineEnd > _start && _buffer[lineEnd - 1] == '\r' ? lineEnd - 1 : lineEnd;
                line = _buffer.AsMemory(_start, contentEnd - _start);
                _start = _scanned = lineEnd + 1;
                return true;
            }

            _scanned = window;
            int pending = _end - _start;
            if (pending > _maxLine)
            {
                int cut = CharacterBoundary(_buffer.AsSpan(_start, _maxLine + 1));
                line = _buffer.AsMemory(_start, cut);
                _start = _scanned = _start + cut;
                return true;
            }

            if (_eof)
            {
                line = _buffer.AsMemory(_start, pending);
                _start = _scanned = _end;
                return pending > 0;
            }

            MakeRoom(pending);
            int n = _source.Read(_buffer, _end, _buffer.Length - _end);
            if (n == 0)
            {
                _eof = true;
            }

            _end += n;
        }
    }

    /// <summary>Bytes that may be taken from the start of <paramref name="span"/> (longer than the limit by one) without splitting a character.</summary>
    private static int CharacterBoundary(ReadOnlySpan<byte> span)
    {
        int cut = span.Length - 1;
        // Back up over at most 3 continuation bytes (10xxxxxx) so the cut lands before a character's first byte.
        for (int i = 0; i < 3 && cut > 0 && (span[cut] & 0xC0) == 0x80; i++)
        {
            cut--;
        }

        return cut > 0 ? cut : span.Length - 1;
    }

    private void MakeRoom(int pending)
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, pending).CopyTo(_buffer);
            _scanned -= _start;
            _end = pending;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Min(_buffer.Length * 2, _maxLine + 1));
            _buffer.AsSpan(0, _end).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }
}
