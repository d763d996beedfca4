namespace Sockeye.Protocol;

/// <summary>Comma-separated header list handling (RFC 9110 §5.6.1), e.g. <c>Connection: keep-alive, Upgrade</c>.</summary>
internal static class HeaderTokens
{
    /// <summary>True when the list <paramref name="value"/> has an element equal to <paramref name="token"/>, ignoring case.</summary>
    public static bool Contains(string value, string token)
    {
        foreach (var range in value.AsSpan().Split(','))
        {
            if (value.AsSpan()[range].Trim(" \t").Equals(token, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The non-empty elements of the list <paramref name="value"/>, trimmed.</summary>
    public static List<string> Split(string? value)
    {
        var result = new List<string>();
        if (value is null)
        {
            return result;
        }

        foreach (var range in value.AsSpan().Split(','))
        {
            var element = value.AsSpan()[range].Trim(" \t");
            if (!element.IsEmpty)
            {
                result.Add(element.ToString());
            }
        }

        return result;
    }
}
