namespace Sockeye.Conformance.Wire;

/// <summary>A parsed HTTP/1.1 request or response head: the start line plus case-insensitive headers.</summary>
internal sealed class HttpHead
{
    private readonly Dictionary<string, string> _headers = new(StringComparer.OrdinalIgnoreCase);

    private HttpHead(string startLine) => StartLine = startLine;

    public string StartLine { get; }

    public static HttpHead Parse(string head)
    {
        var lines = head.Split("\r\n");
        var parsed = new HttpHead(lines[0]);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            // Repeated headers combine into a comma-separated list (RFC 9110 5.3).
            parsed._headers[name] = parsed._headers.TryGetValue(name, out var existing) ? $"{existing}, {value}" : value;
        }

        return parsed;
    }

    public string? this[string name] => _headers.TryGetValue(name, out var value) ? value : null;

    /// <summary>Whether a comma-separated header contains <paramref name="token"/>, ignoring case.</summary>
    public bool HasToken(string name, string token) =>
        this[name]?.Split(',').Any(t => t.Trim().Equals(token, StringComparison.OrdinalIgnoreCase)) ?? false;
}
