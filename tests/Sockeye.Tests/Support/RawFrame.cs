using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;
using Sockeye.Protocol;

namespace Sockeye.Tests.Support;

/// <summary>A frame as seen on the wire, parsed and built independently of the library's own FrameHeader.</summary>
internal sealed record RawFrame(bool Fin, byte Rsv, Opcode Opcode, bool Masked, byte[] MaskingKey, byte[] Payload, byte[] Wire)
{
    public string Text => Encoding.UTF8.GetString(Payload);

    public ushort CloseCode => BinaryPrimitives.ReadUInt16BigEndian(Payload);

    public string CloseReason => Encoding.UTF8.GetString(Payload.AsSpan(2));

    /// <summary>Encodes a frame; masked frames use <paramref name="key"/> (default 37 fa 21 3d, the RFC example key).</summary>
    public static byte[] Build(Opcode opcode, ReadOnlySpan<byte> payload, bool fin = true, bool mask = true, byte[]? key = null, byte rsv = 0,
        long? declaredLength = null)
    {
        long length = declaredLength ?? payload.Length;
        var frame = new List<byte> { (byte)((fin ? 0x80 : 0) | (rsv << 4) | (byte)opcode) };
        byte maskBit = mask ? (byte)0x80 : (byte)0;
        if (length <= 125)
        {
            frame.Add((byte)(maskBit | length));
        }
        else if (length <= 0xFFFF)
        {
            frame.Add((byte)(maskBit | 126));
            frame.Add((byte)(length >> 8));
            frame.Add((byte)length);
        }
        else
        {
            frame.Add((byte)(maskBit | 127));
            for (int shift = 56; shift >= 0; shift -= 8)
            {
                frame.Add((byte)(length >> shift));
            }
        }

        key ??= [0x37, 0xfa, 0x21, 0x3d];
        if (mask)
        {
            frame.AddRange(key);
        }

        for (int i = 0; i < payload.Length; i++)
        {
            frame.Add(mask ? (byte)(payload[i] ^ key[i % 4]) : payload[i]);
        }

        return [.. frame];
    }

    public static byte[] Build(Opcode opcode, string text, bool fin = true, bool mask = true) =>
        Build(opcode, Encoding.UTF8.GetBytes(text), fin, mask);

    public static byte[] Close(ushort code, string reason = "", bool mask = true)
    {
        byte[] body = new byte[2 + Encoding.UTF8.GetByteCount(reason)];
        BinaryPrimitives.WriteUInt16BigEndian(body, code);
        Encoding.UTF8.GetBytes(reason, body.AsSpan(2));
        return Build(Opcode.Close, body, mask: mask);
    }

    /// <summary>Reads the next whole frame from <paramref name="reader"/>, or null at the end of the stream.</summary>
    public static async Task<RawFrame?> ReadAsync(PipeReader reader, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await reader.ReadAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no complete frame within {timeout}");
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            if (TryParse(ref buffer, out RawFrame? frame))
            {
                reader.AdvanceTo(buffer.Start);
                return frame;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                Assert.True(buffer.IsEmpty, $"stream ended inside a frame: {Bytes.ToHex(buffer.ToArray())}");
                return null;
            }
        }
    }

    private static bool TryParse(ref ReadOnlySequence<byte> buffer, out RawFrame? frame)
    {
        frame = null;
        if (buffer.Length < 2)
        {
            return false;
        }

        byte[] head = buffer.Slice(0, Math.Min(14, buffer.Length)).ToArray();
        bool masked = (head[1] & 0x80) != 0;
        int code = head[1] & 0x7F;
        int offset = code == 126 ? 4 : code == 127 ? 10 : 2;
        if (head.Length < offset + (masked ? 4 : 0))
        {
            return false;
        }

        long length = code == 126 ? BinaryPrimitives.ReadUInt16BigEndian(head.AsSpan(2)) :
            code == 127 ? (long)BinaryPrimitives.ReadUInt64BigEndian(head.AsSpan(2)) : code;
        byte[] key = masked ? head[offset..(offset + 4)] : [];
        int size = offset + key.Length;
        if (buffer.Length < size + length)
        {
            return false;
        }

        byte[] wire = buffer.Slice(0, size + length).ToArray();
        byte[] payload = wire[size..];
        for (int i = 0; masked && i < payload.Length; i++)
        {
            payload[i] ^= key[i % 4];
        }

        frame = new RawFrame((head[0] & 0x80) != 0, (byte)((head[0] >> 4) & 7), (Opcode)(head[0] & 0x0F), masked, key, payload, wire);
        buffer = buffer.Slice(size + length);
        return true;
    }
}
