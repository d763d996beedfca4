using System.Text;
using System.Text.Unicode;
using CsCheck;
using Sockeye.Protocol;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Protocol;

public class Utf8ValidatorTests
{
    private static (bool Ok, bool Complete) Validate(params byte[][] chunks)
    {
        var validator = new Utf8Validator();
        foreach (byte[] chunk in chunks)
        {
            if (!validator.Append(chunk))
            {
                return (false, validator.IsComplete);
            }
        }

        return (true, validator.IsComplete);
    }

    [Theory]
    [InlineData("")]
    [InlineData("48 65 6c 6c 6f")] // Hello
    [InlineData("c2 80")] // U+0080, smallest 2-byte
    [InlineData("df bf")] // U+07FF
    [InlineData("e0 a0 80")] // U+0800, smallest 3-byte
    [InlineData("ed 9f bf")] // U+D7FF, just below the surrogates
    [InlineData("ee 80 80")] // U+E000, just above the surrogates
    [InlineData("ef bf bf")] // U+FFFF
    [InlineData("f0 90 80 80")] // U+10000, smallest 4-byte
    [InlineData("f4 8f bf bf")] // U+10FFFF, the largest code point
    [InlineData("ce ba e1 bd b9 cf 83 ce bc ce b5")] // κόσμε
    public void Accepts_valid_UTF8(string hex)
    {
        byte[] bytes = Bytes.Hex(hex);

        Assert.Equal((true, true), Validate(bytes));
        Assert.True(Utf8Validator.IsValid(bytes));
    }

    [Theory]
    [InlineData("c0 80")] // overlong NUL
    [InlineData("c1 bf")] // overlong 2-byte
    [InlineData("e0 80 80")] // overlong 3-byte
    [InlineData("e0 9f bf")] // overlong 3-byte (U+07FF)
    [InlineData("f0 80 80 80")] // overlong 4-byte
    [InlineData("f0 8f bf bf")] // overlong 4-byte (U+FFFF)
    [InlineData("ed a0 80")] // U+D800, a surrogate
    [InlineData("ed bf bf")] // U+DFFF, a surrogate
    [InlineData("f4 90 80 80")] // U+110000, above U+10FFFF
    [InlineData("f5 80 80 80")] // lead byte beyond the range
    [InlineData("ff")]
    [InlineData("fe")]
    [InlineData("80")] // lone continuation
    [InlineData("41 bf 41")] // lone continuation between ASCII
    [InlineData("c2 41")] // lead byte followed by ASCII
    [InlineData("e1 80 41")] // 3-byte sequence cut by ASCII
    public void Rejects_invalid_UTF8(string hex)
    {
        byte[] bytes = Bytes.Hex(hex);

        Assert.False(Validate(bytes).Ok);
        Assert.False(Utf8Validator.IsValid(bytes));
    }

    [Theory]
    [InlineData("c2")]
    [InlineData("e1 80")]
    [InlineData("f0 90 80")]
    [InlineData("48 65 f4 8f bf")]
    public void Sequence_truncated_at_end_is_not_complete(string hex)
    {
        (bool ok, bool complete) = Validate(Bytes.Hex(hex));

        Assert.True(ok); // could still be completed by the next fragment
        Assert.False(complete);
    }

    [Fact]
    public void Sequence_split_across_chunks_is_valid()
    {
        byte[] text = Encoding.UTF8.GetBytes("a€😀b"); // 61 e2 82 ac f0 9f 98 80 62
        for (int split = 0; split <= text.Length; split++)
        {
            Assert.Equal((true, true), Validate(text[..split], text[split..]));
        }

        for (int a = 0; a <= text.Length; a++)
        {
            for (int b = a; b <= text.Length; b++)
            {
                Assert.Equal((true, true), Validate(text[..a], text[a..b], text[b..]));
            }
        }
    }

    [Theory]
    [InlineData("f4 90")] // can only continue above U+10FFFF
    [InlineData("ed a0")] // can only continue to a surrogate
    [InlineData("e0 80")] // can only be overlong
    [InlineData("f0 80")] // can only be overlong
    [InlineData("48 65 6c 6c 6f f4 90")]
    [InlineData("c0")] // never valid
    [InlineData("f5")]
    public void Fails_fast_on_the_chunk_containing_an_invalid_prefix(string hex)
    {
        var validator = new Utf8Validator();

        Assert.True(validator.Append("ok "u8));
        Assert.False(validator.Append(Bytes.Hex(hex)));
    }

    [Fact]
    public void Fails_fast_when_the_invalid_byte_arrives_alone_after_a_split()
    {
        var validator = new Utf8Validator();

        Assert.True(validator.Append([0x61, 0xF4]));
        Assert.False(validator.Append([0x90]));
    }

    [Fact]
    public void Reset_starts_a_new_message()
    {
        var validator = new Utf8Validator();
        Assert.True(validator.Append([0xE2, 0x82]));
        Assert.False(validator.IsComplete);

        validator.Reset();

        Assert.True(validator.IsComplete);
        Assert.True(validator.Append("plain"u8));
        Assert.True(validator.IsComplete);
    }

    // Mostly-valid UTF-8 with occasional corruption, so both outcomes are well represented.
    private static readonly Gen<byte[]> TextLike = Gen.OneOf(
        Gen.Byte.Array[0, 40],
        CodePoints().Select(Encoding.UTF8.GetBytes),
        Gen.Select(CodePoints().Select(Encoding.UTF8.GetBytes), Gen.Int[0, 1000], Gen.Byte)
            .Select((bytes, at, value) =>
            {
                if (bytes.Length > 0)
                {
                    bytes[at % bytes.Length] = value;
                }

                return bytes;
            }),
        Gen.Select(CodePoints().Select(Encoding.UTF8.GetBytes), Gen.Int[0, 1000])
            .Select((bytes, cut) => bytes[..(bytes.Length == 0 ? 0 : cut % bytes.Length)]));

    private static Gen<string> CodePoints() =>
        Gen.OneOf(Gen.Int[0, 0x7F], Gen.Int[0x80, 0x7FF], Gen.Int[0x800, 0xD7FF], Gen.Int[0xE000, 0xFFFF], Gen.Int[0x10000, 0x10FFFF])
            .Array[0, 20]
            .Select(cps => string.Concat(cps.Select(cp => new Rune(cp).ToString())));

    private static readonly Gen<(byte[] Data, int[] Splits)> Chunked =
        TextLike.SelectMany(data => Gen.Int[0, data.Length].Array[0, 6].Select(splits => (data, splits.Order().ToArray())));

    private static byte[][] Chunks(byte[] data, int[] splits)
    {
        var chunks = new List<byte[]>();
        int start = 0;
        foreach (int split in splits)
        {
            chunks.Add(data[start..split]);
            start = split;
        }

        chunks.Add(data[start..]);
        return [.. chunks];
    }

    [Fact]
    public void Incremental_result_equals_whole_validation_for_random_splits()
    {
        Chunked.Sample(input =>
        {
            (bool ok, bool complete) = Validate(Chunks(input.Data, input.Splits));
            return (ok && complete) == Utf8.IsValid(input.Data);
        });
    }

    [Fact]
    public void Chunked_validation_fails_in_the_chunk_where_byte_by_byte_validation_fails()
    {
        Chunked.Sample(input =>
        {
            // Byte by byte: index of the first byte that makes the prefix unrecoverable, or -1.
            var single = new Utf8Validator();
            int failAt = -1;
            for (int i = 0; i < input.Data.Length; i++)
            {
                if (!single.Append(input.Data.AsSpan(i, 1)))
                {
                    failAt = i;
                    break;
                }
            }

            var chunked = new Utf8Validator();
            int start = 0;
            int chunkFailEnd = -1;
            foreach (byte[] chunk in Chunks(input.Data, input.Splits))
            {
                if (!chunked.Append(chunk))
                {
                    chunkFailEnd = start + chunk.Length;
                    break;
                }

                start += chunk.Length;
            }

            // The failing chunk is the one that contains the first bad byte.
            return failAt < 0 ? chunkFailEnd < 0 : chunkFailEnd > failAt && start <= failAt;
        });
    }

    [Fact]
    public void Byte_by_byte_failure_point_is_where_no_completion_remains()
    {
        // A prefix is accepted only if some continuation makes it valid: check against the framework by trying
        // every possible short completion of the incomplete tail.
        TextLike.Sample(data =>
        {
            var validator = new Utf8Validator();
            for (int i = 0; i < data.Length; i++)
            {
                bool accepted = validator.Append(data.AsSpan(i, 1));
                bool completable = IsCompletable(data.AsSpan(0, i + 1));
                if (accepted != completable)
                {
                    return false;
                }

                if (!accepted)
                {
                    break;
                }
            }

            return true;
        });
    }

    private static bool IsCompletable(ReadOnlySpan<byte> prefix)
    {
        if (Utf8.IsValid(prefix))
        {
            return true;
        }

        // At most three continuation bytes can be missing; the continuation byte values 0x80..0xBF decide.
        for (int missing = 1; missing <= 3; missing++)
        {
            var candidate = new byte[prefix.Length + missing];
            prefix.CopyTo(candidate);
            if (TryContinuations(candidate, prefix.Length))
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryContinuations(byte[] candidate, int index)
    {
        if (index == candidate.Length)
        {
            return Utf8.IsValid(candidate);
        }

        foreach (byte b in new byte[] { 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF })
        {
            candidate[index] = b;
            if (TryContinuations(candidate, index + 1))
            {
                return true;
            }
        }

        return false;
    }
}
