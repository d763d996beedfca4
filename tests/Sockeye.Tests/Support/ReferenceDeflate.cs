using System.IO.Compression;

namespace Sockeye.Tests.Support;

/// <summary>
/// The test's own permessage-deflate peer, built on System.IO.Compression (.NET's bundled zlib), not on Sockeye's
/// binding to the machine's zlib: what Sockeye sends is checked by an independent implementation and vice versa.
/// Its window is always 15 bits, so it stands for a peer that did not ask to limit the window.
/// </summary>
internal static class ReferenceDeflate
{
    private static readonly byte[] Tail = [0x00, 0x00, 0xff, 0xff];

    /// <summary>Compresses one message on its own (no context takeover), tail removed (RFC 7692 §7.2.1).</summary>
    public static byte[] Compress(ReadOnlySpan<byte> message)
    {
        using var output = new MemoryStream();
        using (var deflate = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(message);
            deflate.Flush(); // Z_SYNC_FLUSH: ends with 00 00 ff ff
        }

        byte[] all = output.ToArray();
        // Disposing wrote a final empty block after the flush; keep everything up to the flush's tail.
        int end = all.AsSpan().LastIndexOf(Tail);
        Assert.True(end >= 0, "sync flush tail not found");
        return all[..end];
    }

    /// <summary>Decompresses one compressed message payload (tail appended per §7.2.2) with a fresh inflater.</summary>
    public static byte[] Decompress(ReadOnlySpan<byte> payload)
    {
        using var inflater = new Inflater();
        return inflater.Message(payload);
    }

    /// <summary>A sending context that keeps its window across messages (context takeover), 15 bits.</summary>
    internal sealed class Deflater : IDisposable
    {
        private readonly MemoryStream _output = new();
        private readonly DeflateStream _deflate;

        public Deflater() => _deflate = new DeflateStream(_output, CompressionLevel.Optimal, leaveOpen: true);

        public byte[] Message(ReadOnlySpan<byte> message)
        {
            _output.SetLength(0);
            _deflate.Write(message);
            _deflate.Flush();
            byte[] all = _output.ToArray();
            Assert.True(all.AsSpan().EndsWith(Tail), "sync flush tail not found");
            return all[..^4];
        }

        public void Dispose()
        {
            _deflate.Dispose();
            _output.Dispose();
        }
    }

    /// <summary>A receiving context that keeps its window across messages (context takeover).</summary>
    internal sealed class Inflater : IDisposable
    {
        private readonly FeedStream _feed = new();
        private readonly DeflateStream _inflate;

        public Inflater() => _inflate = new DeflateStream(_feed, CompressionMode.Decompress);

        public byte[] Message(ReadOnlySpan<byte> payload)
        {
            _feed.Add(payload.ToArray());
            _feed.Add(Tail);
            using var output = new MemoryStream();
            byte[] buffer = new byte[16384];
            int n;
            while ((n = _inflate.Read(buffer)) > 0)
            {
                output.Write(buffer, 0, n);
            }

            return output.ToArray();
        }

        public void Dispose()
        {
            _inflate.Dispose();
            _feed.Dispose();
        }
    }

    // A stream that hands out what was added and then reports "no more for now" without ending.
    private sealed class FeedStream : Stream
    {
        private readonly Queue<byte> _bytes = new();

        public int Available => _bytes.Count;

        public void Add(ReadOnlySpan<byte> data)
        {
            foreach (byte b in data)
            {
                _bytes.Enqueue(b);
            }
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = 0;
            while (n < count && _bytes.Count > 0)
            {
                buffer[offset + n++] = _bytes.Dequeue();
            }

            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
