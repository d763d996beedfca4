namespace Sockeye.Protocol;

/// <summary>What a <c>Range</c> header asks of a representation (RFC 9110 §14.2).</summary>
internal enum RangeKind
{
    /// <summary>No usable range: send the whole representation (200).</summary>
    Whole,
    /// <summary>One satisfiable range: 206 with <c>Content-Range</c>.</summary>
    Partial,
    /// <summary>No byte of the range exists: 416 with <c>Content-Range: bytes */length</c>.</summary>
    Unsatisfiable,
}

/// <summary>Parses <c>Range: bytes=…</c> (RFC 9110 §14.1.2) for a representation of known length.</summary>
internal static class ByteRange
{
    /// <summary>
    /// One range (<c>bytes=a-b</c>, <c>bytes=a-</c>, <c>bytes=-n</c>) gives <see cref="RangeKind.Partial"/> with the
    /// clamped <paramref name="start"/> and <paramref name="count"/>, or <see cref="RangeKind.Unsatisfiable"/>
    /// (§14.1.1: a first position at or past the end, or a zero suffix). Anything else is
    /// <see cref="RangeKind.Whole"/>: a missing, invalid or non-<c>bytes</c> header may be ignored (§14.2), and so
    /// are several ranges (a multipart/byteranges answer is not implemented).
    /// </summary>
    public static RangeKind Parse(string? value, long length, out long start, out long count)
    {
        start = 0;
        count = length;
        const string Unit = "bytes=";
        if (value is null || !value.StartsWith(Unit, StringComparison.OrdinalIgnoreCase))
        {
            return RangeKind.Whole;
        }

        // range-set = 1#range-spec: a list, so empty elements and OWS around commas are allowed (RFC 9110 §5.6.1).
        ReadOnlySpan<char> set = value.AsSpan(Unit.Length);
        ReadOnlySpan<char> spec = default;
        int specs = 0;
        foreach (Range part in set.Split(','))
        {
            ReadOnlySpan<char> element = set[part].Trim(" \t");
            if (!element.IsEmpty)
            {
                spec = element;
                specs++;
            }
        }

        int dash = spec.IndexOf('-');
        if (specs != 1 || dash < 0)
        {
            return RangeKind.Whole;
        }

        ReadOnlySpan<char> first = spec[..dash];
        ReadOnlySpan<char> last = spec[(dash + 1)..];
        if (first.IsEmpty)
        {
            // suffix-range = "-" suffix-length: the last n bytes.
            if (!TryDigits(last, out long suffix))
            {
                return RangeKind.Whole;
            }

            if (suffix == 0)
            {
                return RangeKind.Unsatisfiable;
            }

            if (length == 0)
            {
                return RangeKind.Whole; // satisfiable but empty: nothing to put in a Content-Range
            }

            count = Math.Min(suffix, length);
            start = length - count;
            return RangeKind.Partial;
        }

        // int-range = first-pos "-" [ last-pos ]; last-pos < first-pos is invalid, hence ignored.
        if (!TryDigits(first, out long from))
        {
            return RangeKind.Whole;
        }

        long to = long.MaxValue;
        if (!last.IsEmpty && (!TryDigits(last, out to) || to < from))
        {
            return RangeKind.Whole;
        }

        if (from >= length)
        {
            return RangeKind.Unsatisfiable;
        }

        start = from;
        count = Math.Min(to, length - 1) - from + 1;
        return RangeKind.Partial;
    }

    // 1*DIGIT; values past long.MaxValue saturate (they are past any file's end anyway).
    private static bool TryDigits(ReadOnlySpan<char> digits, out long value)
    {
        value = 0;
        if (digits.IsEmpty || digits.ContainsAnyExceptInRange('0', '9'))
        {
            return false;
        }

        foreach (char c in digits)
        {
            value = value > (long.MaxValue - 9) / 10 ? long.MaxValue : (value * 10) + (c - '0');
        }

        return true;
    }
}
