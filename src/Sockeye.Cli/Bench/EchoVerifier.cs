using System.IO.Compression;

namespace Sockeye.Cli.Bench;

/// <summary>
/// Checks echo contents on a permessage-deflate connection: collects each echoed payload,
/// inflates compressed ones and compares the result with the message that was sent.
/// </summary>
/// <remarks>
/// The server may compress with context takeover, so one inflater lives as long as the
/// connection and is fed every compressed echo in order. Checking all echoes of one connection
/// therefore means inflating all of them; a connection that is not sampled
/// (<paramref name="allMessages"/> false) checks only its first echo, which needs no history, and
/// then detaches from the reader so the rest are skipped untouched.
/// </remarks>
internal sealed class EchoVerifier(EchoFrameReader reader, MessageSet messages, int first, bool allMessages) : IEchoSink, IDisposable
{
    private readonly MessageInflater _inflater = new();
    private byte[] _payload = new byte[Math.Max(256, messages.Size + 64)];
    private int _length;
    private int _next = first;

    /// <summary>Echoes whose contents were checked.</summary>
    public long Verified { get; private set; }

    public void Payload(ReadOnlySpan<byte> chunk)
    {
        if (_length + chunk.Length > _payload.Length)
        {
            Array.Resize(ref _payload, Math.Max(_payload.Length * 2, _length + chunk.Length));
        }

        chunk.CopyTo(_payload.AsSpan(_length));
        _length += chunk.Length;
    }

    public void MessageEnd(bool compressed)
    {
        var expected = messages[_next];
        var payload = _payload.AsMemory(0, _length);
        _length = 0;
        _next = _next + 1 == messages.Count ? 0 : _next + 1;

        if (compressed)
        {
            _inflater.InflateAndCompare(payload, expected);
        }
        else if (!payload.Span.SequenceEqual(expected))
        {
            throw new InvalidDataException($"echo differs from the message sent ({payload.Length} bytes, sent {expected.Length})");
        }

        Verified++;
        if (!allMessages)
        {
            reader.Sink = null;
            Dispose();
        }
    }

    public void Dispose() => _inflater.Dispose();
}

/// <summary>
/// Inflates the messages of one permessage-deflate stream in order (RFC 7692 §7.2.2): each
/// message's payload plus 00 00 ff ff goes through one long-lived <see cref="DeflateStream"/>,
/// so LZ77 history carries over between messages as the server's compressor may expect.
/// </summary>
internal sealed class MessageInflater : IDisposable
{
    private readonly Feeder _feeder = new();
    private readonly DeflateStream _inflate;
    private readonly byte[] _output = new byte[4096];

    public MessageInflater() => _inflate = new DeflateStream(_feeder, CompressionMode.Decompress);

    /// <exception cref="InvalidDataException">Corrupt data, or the output is not <paramref name="expected"/>.</exception>
    public void InflateAndCompare(ReadOnlyMemory<byte> payload, ReadOnlySpan<byte> expected)
    {
        _feeder.Set(payload);
        var position = 0;
        int n;

        // Read until the inflater has consumed the message and its tail and asks for more
        // input, which the feeder answers with end-of-stream (Read returns 0). DeflateStream
        // does not treat that as truncation, and keeps its state for the next message. (A server
        // ending a message with a BFINAL block would end the stream: the next echo then inflates
        // to nothing and is reported as a mismatch.)
        while ((n = _inflate.Read(_output)) > 0)
        {
            var same = _output.AsSpan(0, n).CommonPrefixLength(expected[Math.Min(position, expected.Length)..]);
            if (same < n)
            {
                throw new InvalidDataException($"inflated echo differs from the message sent (at byte {position + same}, sent {expected.Length} bytes)");
            }

            position += n;
        }

        if (position != expected.Length)
        {
            throw new InvalidDataException($"inflated echo has {position} bytes, sent {expected.Length}");
        }
    }

    public void Dispose() => _inflate.Dispose();

    /// <summary>Read-only stream presenting the current payload followed by 00 00 ff ff, then end-of-stream.</summary>
    private sealed class Feeder : Stream
    {
        private static readonly byte[] Tail = [0x00, 0x00, 0xFF, 0xFF];
        private ReadOnlyMemory<byte> _data;
        private int _tail = Tail.Length;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public void Set(ReadOnlyMemory<byte> data)
        {
            _data = data;
            _tail = 0;
        }

        public override int Read(Span<byte> buffer)
        {
            var n = Math.Min(buffer.Length, _data.Length);
            _data.Span[..n].CopyTo(buffer);
            _data = _data[n..];
            while (n < buffer.Length && _tail < Tail.Length)
            {
                buffer[n++] = Tail[_tail++];
            }

            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
