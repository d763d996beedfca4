using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Sockeye.Cli.Bench;

/// <summary>
/// Client frames built once and shared read-only by every connection: several copies of the
/// same masked data frame laid end to end, so that sending k messages is one slice and one
/// syscall. One mask key per run (RFC 6455 wants a fresh one per frame; servers cannot tell
/// and re-masking would put the load generator's cost into the measurement).
/// </summary>
internal sealed class FrameTemplate
{
    /// <summary>Upper bound for the prebuilt buffer; larger windows send it several times.</summary>
    private const int MaxBufferBytes = 4 << 20;

    private readonly byte[] _frames;

    public FrameTemplate(int payloadSize, bool text, int window)
    {
        var header = payloadSize < 126 ? 2 : payloadSize <= ushort.MaxValue ? 4 : 10;
        FrameLength = header + 4 + payloadSize;
        Copies = (int)Math.Clamp(MaxBufferBytes / FrameLength, 1, window);

        var frame = new byte[FrameLength];
        frame[0] = (byte)(0x80 | (text ? 0x1 : 0x2));
        switch (header)
        {
            case 2:
                frame[1] = (byte)(0x80 | payloadSize);
                break;
            case 4:
                frame[1] = 0x80 | 126;
                BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payloadSize);
                break;
            default:
                frame[1] = 0x80 | 127;
                BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)payloadSize);
                break;
        }

        var mask = frame.AsSpan(header, 4);
        RandomNumberGenerator.Fill(mask);
        var payload = frame.AsSpan(header + 4);
        for (var i = 0; i < payload.Length; i++)
        {
            // Printable ASCII keeps text frames valid UTF-8.
            var plain = (byte)(text ? 'a' + (i % 26) : i);
            payload[i] = (byte)(plain ^ mask[i & 3]);
        }

        _frames = new byte[FrameLength * Copies];
        for (var i = 0; i < Copies; i++)
        {
            frame.CopyTo(_frames, i * FrameLength);
        }

        CloseFrame = BuildCloseFrame();
    }

    public int FrameLength { get; }

    /// <summary>How many frames one <see cref="Frames"/> slice can hold.</summary>
    public int Copies { get; }

    /// <summary>A masked close frame with status 1000.</summary>
    public ReadOnlyMemory<byte> CloseFrame { get; }

    public ReadOnlyMemory<byte> Frames(int count) => _frames.AsMemory(0, count * FrameLength);

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
