using System.Globalization;
using Sockeye.Protocol;

namespace Sockeye.Server;

/// <summary>The conditional requests a static file answers (RFC 9110 §13.1): If-None-Match, If-Modified-Since, If-Range.</summary>
internal static class StaticValidators
{
    /// <summary>
    /// True when a GET/HEAD may be answered 304 (§13.2.2 steps 3–4): If-None-Match, when present, decides alone
    /// (weak comparison, "*" matches); otherwise If-Modified-Since, when the file has not changed since that date.
    /// </summary>
    public static bool IsNotModified(HttpHead head, string? etag, DateTimeOffset? modified)
    {
        string? noneMatch = head.Get("If-None-Match");
        if (noneMatch is not null)
        {
            return etag is not null && MatchesWeakly(noneMatch, etag);
        }

        return modified is { } time && TryParseDate(head.Get("If-Modified-Since"), out DateTimeOffset since) && time <= since;
    }

    /// <summary>
    /// §13.1.5: a Range applies only while If-Range (when sent) still names the current file: the same strong
    /// entity tag, or exactly its Last-Modified date. Otherwise the whole file is sent.
    /// </summary>
    public static bool IfRangeHolds(HttpHead head, string? etag, DateTimeOffset? modified)
    {
        string? ifRange = head.Get("If-Range");
        if (ifRange is null)
        {
            return true;
        }

        ifRange = ifRange.Trim();
        if (ifRange.StartsWith('"') || ifRange.StartsWith("W/", StringComparison.Ordinal))
        {
            return etag is not null && string.Equals(ifRange, etag, StringComparison.Ordinal); // strong comparison: W/ never matches
        }

        return modified is { } time && TryParseDate(ifRange, out DateTimeOffset date) && date == time;
    }

    // entity-tag list (§8.8.3); weak comparison ignores the W/ prefix (ours is strong, so only theirs can have it).
    private static bool MatchesWeakly(string list, string etag)
    {
        foreach (string element in HeaderTokens.Split(list))
        {
            if (element == "*" || string.Equals(StripWeak(element), etag, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static string StripWeak(string tag) => tag.StartsWith("W/", StringComparison.Ordinal) ? tag[2..] : tag;

    // HTTP-date in its IMF-fixdate form (§5.6.7); the obsolete forms are ignored, so the request is just unconditional.
    private static bool TryParseDate(string? value, out DateTimeOffset date) =>
        DateTimeOffset.TryParseExact(value?.Trim(), "r", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out date);
}
