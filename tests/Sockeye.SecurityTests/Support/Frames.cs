using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Sockeye.SecurityTests.Support;

/// <summary>A frame read off the wire by <see cref="Frames.TryParse"/>, independently of the library's parser.</summary>
internal sealed record WireFrame(bool Fin, byte Rsv, byte Opcode, bool Masked, uint MaskingKey, byte[] Payload)
{
    public string Text => Encoding.UTF8.GetString(Payload);

    public ushort CloseCode => Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(Payload) : (ushort)1005;

    public string CloseReason => Payload.Length > 2 ? Encoding.UTF8.GetString(Payload.AsSpan(2)) : string.Empty;

    public override string ToString() => $"op={Opcode} fin={Fin} len={Payload.Length}" + (Opcode == 8 ? $" close={CloseCode} '{CloseReason}'" : string.Empty);
}

/// <summary>Builds and parses raw frames, written from RFC 6455 §5.2 without the library's FrameHeader.</summary>
internal static class Frames
{
    /// <summary>
    /// Encodes a frame. <paramref name="declaredLength"/> overrides the length field (the payload sent may then be
    /// shorter, or absent, as attacks need); <paramref name="key"/> defaults to fresh random bytes when masking.
    /// </summary>
    public static byte[] Build(byte opcode, ReadOnlySpan<byte> payload, bool fin = true, bool mask = true, byte rsv = 0,
        ulong? declaredLength = null, byte[]? key = null)
    {
        ulong length = declaredLength ?? (ulong)payload.Length;
        var frame = new List<byte>(payload.Length + 14) { (byte)((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0F)) };
        byte maskBit = mask ? (byte)0x80 : (byte)0;
        if (length <= 125)
        {
            frame.Add((byte)(maskBit | (byte)length));
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

        if (mask)
        {
            key ??= RandomNumberGenerator.GetBytes(4);
            frame.AddRange(key);
            for (int i = 0; i < payload.Length; i++)
            {
                frame.Add((byte)(payload[i] ^ key[i & 3]));
            }
        }
        else
        {
            frame.AddRange(payload.ToArray());
        }

        return [.. frame];
    }

    public static byte[] Text(string text, bool fin = true) => Build(0x1, Encoding.UTF8.GetBytes(text), fin);

    public static byte[] Close(ushort code, ReadOnlySpan<byte> reason)
    {
        byte[] body = new byte[2 + reason.Length];
        BinaryPrimitives.WriteUInt16BigEndian(body, code);
        reason.CopyTo(body.AsSpan(2));
        return Build(0x8, body);
    }

    /// <summary>Parses one frame from the start of <paramref name="data"/>; returns its total size, or 0 if incomplete.</summary>
    public static int TryParse(ReadOnlySpan<byte> data, out WireFrame? frame)
    {
        frame = null;
        if (data.Length < 2)
        {
            return 0;
        }

        bool masked = (data[1] & 0x80) != 0;
        int code = data[1] & 0x7F;
        int offset = 2;
        ulong length = (ulong)code;
        if (code == 126)
        {
            if (data.Length < 4)
            {
                return 0;
            }

            length = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
            offset = 4;
        }
        else if (code == 127)
        {
            if (data.Length < 10)
            {
                return 0;
            }

            length = BinaryPrimitives.ReadUInt64BigEndian(data[2..]);
            offset = 10;
        }

        uint key = 0;
        if (masked)
        {
            if (data.Length < offset + 4)
            {
                return 0;
            }

            key = BinaryPrimitives.ReadUInt32LittleEndian(data[offset..]);
            offset += 4;
        }

        if ((ulong)(data.Length - offset) < length)
        {
            return 0;
        }

        byte[] payload = data.Slice(offset, (int)length).ToArray();
        if (masked)
        {
            for (int i = 0; i < payload.Length; i++)
            {
                payload[i] ^= (byte)(key >> (8 * (i & 3)));
            }
        }

        frame = new WireFrame((data[0] & 0x80) != 0, (byte)((data[0] >> 4) & 7), (byte)(data[0] & 0x0F), masked, key, payload);
        return offset + (int)length;
    }
}
