using System.Text.Unicode;

namespace Sockeye.Protocol;

/// <summary>
/// Incremental UTF-8 validation across fragments (RFC 6455 §8.1, §5.6). Fails fast: <see cref="Append"/> returns
/// false as soon as the bytes seen so far cannot begin any valid UTF-8 text, even mid-sequence, so a text message
/// is failed with 1007 at the first bad byte rather than when it ends. Bulk runs use the framework's vectorized
/// <see cref="Utf8.IsValid(ReadOnlySpan{byte})"/>; only sequences split across chunks go through the byte-wise
/// state machine below.
/// </summary>
internal struct Utf8Validator
{
    // Continuation bytes still expected for the current sequence, and the allowed range of the next one.
    private int _needed;
    private byte _lower;
    private byte _upper;

    /// <summary>True when no multi-byte sequence is open: the text so far is complete, valid UTF-8.</summary>
    public readonly bool IsComplete => _needed == 0;

    /// <summary>Resets to the start of a new message.</summary>
    public void Reset() => this = default;

    /// <summary>Validates the next chunk. Returns false when the text is invalid (no completion can fix it).</summary>
    public bool Append(ReadOnlySpan<byte> chunk)
    {
        int i = 0;
        while (_needed > 0 && i < chunk.Length)
        {
            if (!Step(chunk[i++]))
            {
                return false;
            }
        }

        if (_needed > 0 || i == chunk.Length)
        {
            return true;
        }

        ReadOnlySpan<byte> rest = chunk[i..];
        int tail = IncompleteTailStart(rest);
        if (!Utf8.IsValid(rest[..tail]))
        {
            return false;
        }

        foreach (byte b in rest[tail..])
        {
            if (!Step(b))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Validates a whole text (e.g. a close reason) in one call.</summary>
    public static bool IsValid(ReadOnlySpan<byte> text) => Utf8.IsValid(text);

    // Index where a trailing multi-byte sequence that the chunk cuts short begins (or the length if there is none).
    private static int IncompleteTailStart(ReadOnlySpan<byte> span)
    {
        for (int back = 1; back <= 3 && back <= span.Length; back++)
        {
            byte b = span[^back];
            if ((b & 0xC0) == 0x80)
            {
                continue; // continuation byte: keep looking for its lead byte
            }

            if (b < 0xC0)
            {
                return span.Length; // ASCII: nothing open
            }

            int sequenceLength = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
            return sequenceLength > back ? span.Length - back : span.Length;
        }

        return span.Length;
    }

    // One byte of the RFC 3629 §4 grammar; the second-byte ranges exclude overlongs, surrogates and > U+10FFFF.
    private bool Step(byte b)
    {
        if (_needed == 0)
        {
            switch (b)
            {
                case < 0x80:
                    return true;
                case >= 0xC2 and <= 0xDF:
                    Open(1, 0x80, 0xBF);
                    return true;
                case 0xE0:
                    Open(2, 0xA0, 0xBF);
                    return true;
                case (>= 0xE1 and <= 0xEC) or 0xEE or 0xEF:
                    Open(2, 0x80, 0xBF);
                    return true;
                case 0xED:
                    Open(2, 0x80, 0x9F);
                    return true;
                case 0xF0:
                    Open(3, 0x90, 0xBF);
                    return true;
                case >= 0xF1 and <= 0xF3:
                    Open(3, 0x80, 0xBF);
                    return true;
                case 0xF4:
                    Open(3, 0x80, 0x8F);
                    return true;
                default:
                    return false;
            }
        }

        if (b < _lower || b > _upper)
        {
            return false;
        }

        _needed--;
        _lower = 0x80;
        _upper = 0xBF;
        return true;
    }

    private void Open(int needed, byte lower, byte upper)
    {
        _needed = needed;
        _lower = lower;
        _upper = upper;
    }
}
