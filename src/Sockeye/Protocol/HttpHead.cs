using System.Text;

namespace Sockeye.Protocol;

/// <summary>
/// A parsed HTTP/1.1 request or response head (RFC 9112 §2–5): the start line and the header fields in arrival
/// order. Field names compare case-insensitively; repeated fields are kept as separate entries.
/// </summary>
internal sealed class HttpHead
{
    private List<KeyValuePair<string, string>>? _fields = [];

    // After Compact: the fields as Latin-1 "name:value\n" lines, a third of the size of the strings and list.
    private byte[]? _packed;

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
    public IReadOnlyList<KeyValuePair<string, string>> Fields => _fields ?? Unpack(_packed!);

    /// <summary>True for HTTP/1.1 and later.</summary>
    public bool IsHttp11OrLater => VersionMajor > 1 || (VersionMajor == 1 && VersionMinor >= 1);

    internal void Add(string name, string value) => (_fields ?? throw new InvalidOperationException("compacted")).Add(new(name, value));

    /// <summary>
    /// Packs the fields into one byte array. Used for requests kept for the life of a connection, where the
    /// headers are rarely read again: an idle connection then holds one small array instead of a list of strings.
    /// Reads still work (they unpack on demand).
    /// </summary>
    internal void Compact()
    {
        if (_fields is null)
        {
            return;
        }

        var text = new StringBuilder();
        foreach (var field in Fields)
        {
            // Names are tokens (no ':'); values never hold CR, LF or NUL: the parser refused those.
            text.Append(field.Key).Append(':').Append(field.Value).Append('\n');
        }

        _packed = Encoding.Latin1.GetBytes(text.ToString());
        _fields = null;
    }

    private static List<KeyValuePair<string, string>> Unpack(byte[] packed)
    {
        var fields = new List<KeyValuePair<string, string>>();
        foreach (string line in Encoding.Latin1.GetString(packed).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            fields.Add(new(line[..colon], line[(colon + 1)..]));
        }

        return fields;
    }

    /// <summary>Number of fields named <paramref name="name"/>.</summary>
    public int Count(string name)
    {
        int n = 0;
        foreach (var field in Fields)
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
        foreach (var field in Fields)
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
        foreach (var field in Fields)
        {
            if (string.Equals(field.Key, name, StringComparison.OrdinalIgnoreCase) && HeaderTokens.Contains(field.Value, token))
            {
                return true;
            }
        }

        return false;
    }
}
