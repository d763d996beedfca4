using System.Buffers;
using System.Globalization;

namespace Sockeye.Cli.Exec;

/// <summary>
/// Writes messages to a shared process's stdin for <c>--tag-connections</c>: every line of a message gets its own
/// "ID\t" prefix. A message is split at LF, CRLF and a lone CR (each a line break to some line reader: Node's
/// readline, Python's universal newlines), so no line the program reads can start with another connection's id:
/// <c>"hi\n3\tI am 3"</c> from connection 7 is <c>"7\thi\n7\t3\tI am 3\n"</c>. Without a tag the message is written
/// as is plus '\n', as in <c>--exec</c>. Output goes through one pooled buffer, flushed when full or on request.
/// </summary>
internal sealed class LineTags(Stream output) : IDisposable
{
    private const int BufferSize = 64 * 1024;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
    private int _used;

    /// <summary>Writes <paramref name="message"/> tagged with <paramref name="connectionId"/>, or untagged when it is null.</summary>
    public void WriteLines(ReadOnlySpan<byte> message, long? connectionId)
    {
        if (connectionId is not { } id)
        {
            Put(message);
            Put("\n"u8);
            return;
        }

        Span<byte> tag = stackalloc byte[21];
        _ = id.TryFormat(tag, out int digits, default, CultureInfo.InvariantCulture);
        tag[digits] = (byte)'\t';
        tag = tag[..(digits + 1)];
        while (true)
        {
            int end = message.IndexOfAny((byte)'\r', (byte)'\n');
            Put(tag);
            Put(end < 0 ? message : message[..end]);
            Put("\n"u8);
            if (end < 0)
            {
                return;
            }

            message = message[(end + (message[end] == '\r' && end + 1 < message.Length && message[end + 1] == '\n' ? 2 : 1))..];
        }
    }

    /// <summary>Writes bytes unchanged (<c>--binary</c>).</summary>
    public void WriteRaw(ReadOnlySpan<byte> data) => Put(data);

    /// <summary>Writes what is buffered to the stream and flushes it.</summary>
    public void Flush()
    {
        if (_used > 0)
        {
            output.Write(_buffer, 0, _used);
            _used = 0;
        }

        output.Flush();
    }

    private void Put(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_used == _buffer.Length)
            {
                output.Write(_buffer, 0, _used);
                _used = 0;
            }

            int n = Math.Min(data.Length, _buffer.Length - _used);
            data[..n].CopyTo(_buffer.AsSpan(_used));
            _used += n;
            data = data[n..];
        }
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }
}
