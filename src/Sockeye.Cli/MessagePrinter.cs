using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;

namespace Sockeye.Cli;

/// <summary>
/// Prints received messages on stdout as they stream in: a text message as its UTF-8 bytes and a newline, a binary
/// message as <c>bin:</c>, its base64 and a newline. Parts are written as they arrive, so a message of any size
/// needs no more memory than the connection's read buffers and reaches stdout whole.
/// </summary>
/// <remarks>
/// stdout is written synchronously, on purpose. The connection runs a receive's continuation inline on its read
/// loop, so the next receive is already pending when the loop looks for it; with asynchronous writes the loop could
/// find none while a write is in flight, and once our close has gone out it drops data that finds no receive
/// (WebSocketConnection.CloseAsync), which would cut a message still arriving. A slow stdout also slows the read
/// loop, which is the backpressure we want.
/// </remarks>
internal sealed class MessagePrinter : IDisposable
{
    /// <summary>Prefix of a line that carries a binary message, base64-encoded.</summary>
    public static ReadOnlySpan<byte> BinaryPrefix => "bin:"u8;

    private const int ChunkBytes = 3 * 16 * 1024; // whole base64 groups: no padding until the message ends

    private readonly Stream _stdout;
    private readonly byte[] _base64 = ArrayPool<byte>.Shared.Rent(Base64.GetMaxEncodedToUtf8Length(ChunkBytes));
    private readonly byte[] _carry = new byte[3]; // the last 1-2 bytes of a part that do not fill a base64 group
    private int _carried;
    private long _lastPart = Stopwatch.GetTimestamp();

    public MessagePrinter(Stream stdout) => _stdout = new BufferedStream(stdout, 64 * 1024);

    /// <summary>When the last part arrived or was written out (a <see cref="Stopwatch"/> timestamp).</summary>
    public long LastPart => Volatile.Read(ref _lastPart);

    /// <summary>Prints until the connection closes.</summary>
    public async Task RunAsync(WebSocketConnection connection)
    {
        bool inMessage = false;
        try
        {
            while (await connection.ReceivePartAsync(CancellationToken.None).ConfigureAwait(false) is { IsClose: false } part)
            {
                Volatile.Write(ref _lastPart, Stopwatch.GetTimestamp());
                Print(part, inMessage);
                inMessage = !part.EndOfMessage;
                Volatile.Write(ref _lastPart, Stopwatch.GetTimestamp());
            }
        }
        finally
        {
            // A message cut short by the connection's end still shows what arrived of it.
            _stdout.Flush();
        }
    }

    private void Print(in WebSocketMessage part, bool inMessage)
    {
        if (part.Type == MessageType.Text)
        {
            foreach (ReadOnlyMemory<byte> segment in part.Payload)
            {
                _stdout.Write(segment.Span);
            }
        }
        else
        {
            if (!inMessage)
            {
                _stdout.Write(BinaryPrefix);
            }

            WriteBase64(part.Payload, part.EndOfMessage);
        }

        if (part.EndOfMessage)
        {
            _stdout.WriteByte((byte)'\n');
            _stdout.Flush(); // a message is printed as soon as it has arrived
        }
    }

    /// <summary>Base64 of one part; bytes that do not fill a 3-byte group wait for the next part or the end.</summary>
    private void WriteBase64(in ReadOnlySequence<byte> payload, bool end)
    {
        foreach (ReadOnlyMemory<byte> segment in payload)
        {
            ReadOnlySpan<byte> rest = segment.Span;
            if (_carried > 0)
            {
                int take = Math.Min(3 - _carried, rest.Length);
                rest[..take].CopyTo(_carry.AsSpan(_carried));
                _carried += take;
                rest = rest[take..];
                if (_carried < 3)
                {
                    continue;
                }

                Encode(_carry);
                _carried = 0;
            }

            int whole = rest.Length - (rest.Length % 3);
            for (int offset = 0; offset < whole; offset += ChunkBytes)
            {
                Encode(rest.Slice(offset, Math.Min(ChunkBytes, whole - offset)));
            }

            rest[whole..].CopyTo(_carry);
            _carried = rest.Length - whole;
        }

        if (end && _carried > 0)
        {
            Encode(_carry.AsSpan(0, _carried)); // the final group, padded
            _carried = 0;
        }
    }

    private void Encode(ReadOnlySpan<byte> data)
    {
        Base64.EncodeToUtf8(data, _base64, out _, out int written);
        _stdout.Write(_base64, 0, written);
    }

    public void Dispose()
    {
        _stdout.Dispose();
        ArrayPool<byte>.Shared.Return(_base64);
    }
}
