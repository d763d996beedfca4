using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;

namespace Sockeye.Cli.Bench;

/// <summary>
/// Client frames built once and shared read-only by every connection: the masked data frames of a
/// <see cref="MessageSet"/> laid end to end (and continued past the end of the cycle), so that
/// sending k consecutive messages is one slice and one syscall. One mask key per run (RFC 6455
/// wants a fresh one per frame; servers cannot tell and re-masking would put the load generator's
/// cost into the measurement).
/// </summary>
/// <remarks>
/// With <c>compress</c>, each payload is the raw DEFLATE of its message on its own, sync-flushed
/// with the trailing 00 00 ff ff removed (RFC 7692 §7.2.1), and RSV1 is set. Compressing every
/// message independently is always allowed (and required under client_no_context_takeover), which
/// is what makes prebuilt frames possible.
/// </remarks>
internal sealed class FrameTemplate
{
    /// <summary>Upper bound for the prebuilt buffer; larger windows send it several times.</summary>
    private const int MaxBufferBytes = 4 << 20;

    private static readonly byte[] SyncFlushTail = [0x00, 0x00, 0xFF, 0xFF];

    private readonly byte[] _frames;

    /// <summary>Start of frame k in <see cref="_frames"/>; frame k carries message k mod <see cref="Distinct"/>.</summary>
    private readonly int[] _offsets;

    public FrameTemplate(MessageSet messages, bool compress, int window)
    {
        Distinct = messages.Count;
        var payloads = new byte[Distinct][];
        for (var i = 0; i < Distinct; i++)
        {
            payloads[i] = compress ? Deflate(messages[i]) : messages[i].ToArray();
        }

        var mask = new byte[4];
        RandomNumberGenerator.Fill(mask);
        var frames = payloads.Select(p => Frame(p, messages.Text, compress, mask)).ToArray();
        MaxPayloadLength = payloads.Max(p => p.Length);
        var maxFrame = frames.Max(f => f.Length);
        Copies = Math.Clamp(MaxBufferBytes / maxFrame, 1, window);

        // Any run of up to Copies frames starting inside the cycle must be contiguous: frames
        // 0..Distinct-1, then the first Copies-1 again (a single message needs no repetition
        // beyond Copies copies of itself).
        var count = Distinct == 1 ? Copies : Distinct + Copies - 1;
        _offsets = new int[count + 1];
        for (var k = 0; k < count; k++)
        {
            _offsets[k + 1] = _offsets[k] + frames[k % Distinct].Length;
        }

        _frames = new byte[_offsets[count]];
        for (var k = 0; k < count; k++)
        {
            frames[k % Distinct].CopyTo(_frames, _offsets[k]);
        }
    }

    /// <summary>Messages before the frames repeat.</summary>
    public int Distinct { get; }

    /// <summary>How many frames one <see cref="Frames"/> slice can hold.</summary>
    public int Copies { get; }

    /// <summary>The largest payload on the wire (compressed, when compressing).</summary>
    public int MaxPayloadLength { get; }

    /// <summary>A masked close frame with status 1000.</summary>
    public static ReadOnlyMemory<byte> CloseFrame { get; } = BuildCloseFrame();

    /// <summary>The frames of messages <paramref name="first"/> .. first + count - 1 (mod <see cref="Distinct"/>).</summary>
    /// <param name="first">Index in the cycle, 0 .. <see cref="Distinct"/> - 1.</param>
    /// <param name="count">1 .. <see cref="Copies"/>.</param>
    public ReadOnlyMemory<byte> Frames(int first, int count)
    {
        if (Distinct == 1)
        {
            first = 0;
        }

        return _frames.AsMemory(_offsets[first], _offsets[first + count] - _offsets[first]);
    }

    /// <summary>
    /// Raw DEFLATE of one message from a fresh compressor, sync-flushed, without the 00 00 ff ff
    /// that the receiver appends again (RFC 7692 §7.2.1).
    /// </summary>
    internal static byte[] Deflate(ReadOnlySpan<byte> message)
    {
        using var output = new MemoryStream();
        using (var deflate = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(message);

            // DeflateStream.Flush is Z_SYNC_FLUSH: the output ends with an empty stored block.
            deflate.Flush();
            var flushed = output.ToArray();
            if (flushed.Length == 0)
            {
                // Nothing written: §7.2.3.6 sends an empty message as a single 0x00 byte.
                return [0x00];
            }

            if (!flushed.AsSpan().EndsWith(SyncFlushTail))
            {
                throw new InvalidOperationException("DeflateStream.Flush did not end with a sync-flush block");
            }

            // Disposing would append a final block; only the flushed part is the message.
            return flushed[..^SyncFlushTail.Length];
        }
    }

    private static byte[] Frame(byte[] payload, bool text, bool compressed, byte[] mask)
    {
        var length = payload.Length;
        var header = length < 126 ? 2 : length <= ushort.MaxValue ? 4 : 10;
        var frame = new byte[header + 4 + length];
        frame[0] = (byte)(0x80 | (compressed ? 0x40 : 0) | (text ? 0x1 : 0x2));
        switch (header)
        {
            case 2:
                frame[1] = (byte)(0x80 | length);
                break;
            case 4:
                frame[1] = 0x80 | 126;
                BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)length);
                break;
            default:
                frame[1] = 0x80 | 127;
                BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)length);
                break;
        }

        mask.CopyTo(frame, header);
        var masked = frame.AsSpan(header + 4);
        for (var i = 0; i < length; i++)
        {
            masked[i] = (byte)(payload[i] ^ mask[i & 3]);
        }

        return frame;
    }

    private static byte[] BuildCloseFrame()
    {
        var close = new byte[8];
        close[0] = 0x88;
        close[1] = 0x80 | 2;
        RandomNumberGenerator.Fill(close.AsSpan(2, 4));
        close[6] = (byte)(0x03 ^ close[2]);
        close[7] = (byte)(0xE8 ^ close[3]);
        return close;
    }
}
