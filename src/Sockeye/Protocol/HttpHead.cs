namespace Sockeye.Protocol;

/// <summary>
/// A parsed HTTP/1.1 request or response head (RFC 9112 §2–5): the start line and the header fields in arrival
/// order. Field names compare case-insensitively; repeated fields are kept as separate entries.
/// </summary>
public sealed class HttpHead
{
    private readonly List<KeyValuePair<string, string>> _fields = [];

    /// <summary>Request method (requests only).</summary>
    public string Method { get; internal set; } = string.Empty;

    /// <summary>Request target, e.g. <c>/chat?room=1</c> (requests only).</summary>
    public string Target { get; internal set; } = string.Empty;

    /// <summary>Status code (responses only).</summary>
    public int StatusCode { get; internal set; }

    /// <summary>Reason phrase (responses only).</summary>
    public string ReasonPhrase { get; internal set; } = string.Empty;

    /// <summary>HTTP major version.</summary>
    public int VersionMajor { get; internal set; }

    /// <summary>HTTP minor version.</summary>
    public int VersionMinor { get; internal set; }

    /// <summary>All header fields in arrival order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Fields => _fields;

    /// <summary>True for HTTP/1.1 and later.</summary>
    public bool IsHttp11OrLater => VersionMajor > 1 || (VersionMajor == 1 && VersionMinor >= 1);

    internal void Add(string name, string value) => _fields.Add(new(name, value));

    /// <summary>Number of fields named <paramref name="name"/>.</summary>
    public int Count(string name)
    {
        int n = 0;
        foreach (var field in _fields)
        {
            if (string.Equals(field.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                n++;
            }
        }

        return n;
    }

    /// <summary>
    /// The value of <paramref name="name"/>; repeated fields are combined with ", " as RFC 9110 §5.3 allows for
    /// list-valued fields. Null when absent.
    /// </summary>
    public string? Get(string name)
    {
        string? result = null;
        foreach (var field in _fields)
        {
            if (string.Equals(field.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                result = result is null ? field.Value : result + ", " + field.Value;
            }
        }

        return result;
    }

    /// <summary>True when the comma-separated list field <paramref name="name"/> contains <paramref name="token"/>.</summary>
    public bool HasToken(string name, string token)
    {
        foreach (var field in _fields)
        {
            if (string.Equals(field.Key, name, StringComparison.OrdinalIgnoreCase) && HeaderTokens.Contains(field.Value, token))
            {
                return true;
            }
        }

        return false;
    }
}
