using CsCheck;
using Sockeye.Protocol;

namespace Sockeye.Tests.Protocol;

public class MaskTests
{
    // Octet i is XORed with octet (i + offset) mod 4 of the key, key octet 0 in the low byte (RFC 6455 §5.3).
    private static byte[] Naive(byte[] data, uint key, int offset)
    {
        byte[] keyBytes = BitConverter.GetBytes(key);
        var result = new byte[data.Length];
        for (int i = 0; i < data.Length; i++)
        {
            result[i] = (byte)(data[i] ^ keyBytes[(i + offset) % 4]);
        }

        return result;
    }

    [Fact]
    public void Unmasks_the_RFC_example_Hello()
    {
        byte[] data = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        uint key = BitConverter.ToUInt32([0x37, 0xfa, 0x21, 0x3d]);

        int next = Mask.Apply(data, key, 0);

        Assert.Equal("Hello"u8.ToArray(), data);
        Assert.Equal(1, next);
    }

    [Fact]
    public void Matches_naive_reference_for_every_length_0_to_300_and_every_key_offset()
    {
        var random = new Random(6455);
        for (int length = 0; length <= 300; length++)
        {
            var data = new byte[length];
            random.NextBytes(data);
            uint key = (uint)random.NextInt64(0, 1L << 32);
            for (int offset = 0; offset < 4; offset++)
            {
                byte[] actual = (byte[])data.Clone();

                int next = Mask.Apply(actual, key, offset);

                Assert.Equal(Naive(data, key, offset), actual);
                Assert.Equal((offset + length) % 4, next);
            }
        }
    }

    [Fact]
    public void Applying_in_pieces_equals_applying_whole()
    {
        Gen.Select(Gen.Byte.Array[0, 300], Gen.UInt, Gen.Int[0, 3], Gen.Int[0, 300])
            .Sample((data, key, offset, splitSeed) =>
            {
                int split = data.Length == 0 ? 0 : splitSeed % (data.Length + 1);
                byte[] whole = (byte[])data.Clone();
                byte[] pieces = (byte[])data.Clone();

                int wholeNext = Mask.Apply(whole, key, offset);
                int middle = Mask.Apply(pieces.AsSpan(0, split), key, offset);
                int pieceNext = Mask.Apply(pieces.AsSpan(split), key, middle);

                return whole.AsSpan().SequenceEqual(pieces) && wholeNext == pieceNext
                    && whole.AsSpan().SequenceEqual(Naive(data, key, offset));
            });
    }

    [Fact]
    public void Masking_twice_restores_the_data()
    {
        Gen.Select(Gen.Byte.Array[0, 300], Gen.UInt, Gen.Int[0, 3])
            .Sample((data, key, offset) =>
            {
                byte[] copy = (byte[])data.Clone();
                Mask.Apply(copy, key, offset);
                Mask.Apply(copy, key, offset);
                return copy.AsSpan().SequenceEqual(data);
            });
    }

    [Fact]
    public void CopyAndApply_leaves_the_source_untouched()
    {
        byte[] source = "Hello"u8.ToArray();
        var destination = new byte[8];
        uint key = BitConverter.ToUInt32([0x37, 0xfa, 0x21, 0x3d]);

        Mask.CopyAndApply(source, destination, key, 0);

        Assert.Equal("Hello"u8.ToArray(), source);
        Assert.Equal(new byte[] { 0x7f, 0x9f, 0x4d, 0x51, 0x58, 0, 0, 0 }, destination);
    }
}
