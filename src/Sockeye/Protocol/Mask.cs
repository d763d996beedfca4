using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Sockeye.Protocol;

/// <summary>
/// Payload masking (RFC 6455 §5.3): octet i is XORed with octet (i mod 4) of the masking key. Vectorized; returns
/// the key offset after the data so a payload split across buffers can be unmasked piece by piece.
/// </summary>
internal static class Mask
{
    /// <summary>
    /// XORs <paramref name="data"/> in place with the masking key, starting at key octet <paramref name="keyOffset"/>
    /// (0–3). Returns the key offset to use for the bytes that follow.
    /// </summary>
    public static int Apply(Span<byte> data, uint maskingKey, int keyOffset)
    {
        if (data.IsEmpty)
        {
            return keyOffset;
        }

        // Rotate the key so that data[0] lines up with key octet 'keyOffset' (key is little-endian in a uint).
        uint rotated = BitOperations.RotateRight(maskingKey, keyOffset * 8);
        int i = 0;

        if (Vector.IsHardwareAccelerated && data.Length >= Vector<byte>.Count)
        {
            var keyVector = new Vector<uint>(rotated);
            var vectors = MemoryMarshal.Cast<byte, Vector<byte>>(data);
            var keyBytes = Vector.AsVectorByte(keyVector);
            for (int v = 0; v < vectors.Length; v++)
            {
                vectors[v] ^= keyBytes;
            }

            i = vectors.Length * Vector<byte>.Count;
        }

        // Vector<byte>.Count is a multiple of 4, so the key phase is unchanged here.
        ulong wideKey = rotated | ((ulong)rotated << 32);
        for (; i + 8 <= data.Length; i += 8)
        {
            var slot = data.Slice(i, 8);
            BinaryPrimitives.WriteUInt64LittleEndian(slot, BinaryPrimitives.ReadUInt64LittleEndian(slot) ^ wideKey);
        }

        for (; i < data.Length; i++)
        {
            data[i] ^= (byte)(rotated >> ((i & 3) * 8));
        }

        return (keyOffset + data.Length) & 3;
    }

    /// <summary>Copies <paramref name="source"/> to <paramref name="destination"/> and masks the copy.</summary>
    public static int CopyAndApply(ReadOnlySpan<byte> source, Span<byte> destination, uint maskingKey, int keyOffset)
    {
        source.CopyTo(destination);
        return Apply(destination[..source.Length], maskingKey, keyOffset);
    }
}
