using System.Text;

namespace Sockeye.Protocol;

/// <summary>One element of a <c>Sec-WebSocket-Extensions</c> list: an extension name and its parameters.</summary>
/// <param name="Name">The extension token, e.g. <c>permessage-deflate</c>.</param>
/// <param name="Parameters">Parameters in order; a parameter without a value has a null value.</param>
/// <param name="IsValid">False when the element broke the RFC 6455 §9.1 grammar (it must then be declined).</param>
internal sealed record ExtensionOffer(string Name, IReadOnlyList<KeyValuePair<string, string?>> Parameters, bool IsValid)
{
    /// <summary>The header text of this element, e.g. <c>permessage-deflate; client_max_window_bits</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(Name);
        foreach (var p in Parameters)
        {
            sb.Append("; ").Append(p.Key);
            if (p.Value is not null)
            {
                sb.Append('=').Append(p.Value);
            }
        }

        return sb.ToString();
    }
}

/// <summary>
/// Parses <c>Sec-WebSocket-Extensions</c> (RFC 6455 §9.1): <c>extension *( ";" param [ "=" (token | quoted-string) ] )</c>
/// elements separated by commas, across any number of header lines. Quoted values are unescaped and must be tokens.
/// </summary>
internal static class ExtensionHeader
{
    /// <summary>All elements of all <paramref name="values"/> (one per header line), in order.</summary>
    public static List<ExtensionOffer> Parse(IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var result = new List<ExtensionOffer>();
        foreach (string value in values)
        {
            foreach (string element in SplitOutsideQuotes(value, ','))
            {
                if (element.Trim(' ', '\t').Length > 0)
                {
                    result.Add(ParseElement(element));
                }
            }
        }

        return result;
    }

    /// <summary>The values of every <c>Sec-WebSocket-Extensions</c> line of <paramref name="head"/>.</summary>
    public static List<ExtensionOffer> Parse(HttpHead head)
    {
        ArgumentNullException.ThrowIfNull(head);
        var values = new List<string>();
        foreach (var field in head.Fields)
        {
            if (string.Equals(field.Key, "Sec-WebSocket-Extensions", StringComparison.OrdinalIgnoreCase))
            {
                values.Add(field.Value);
            }
        }

        return Parse(values);
    }

    private static ExtensionOffer ParseElement(string element)
    {
        List<string> parts = SplitOutsideQuotes(element, ';');
        string name = parts[0].Trim(' ', '\t');
        bool valid = IsToken(name);
        var parameters = new List<KeyValuePair<string, string?>>();
        for (int i = 1; i < parts.Count; i++)
        {
            string part = parts[i].Trim(' ', '\t');
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            string key = (eq < 0 ? part : part[..eq]).Trim(' ', '\t');
            string? value = null;
            if (eq >= 0)
            {
                value = part[(eq + 1)..].Trim(' ', '\t');
                if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
                {
                    value = Unquote(value[1..^1], out bool ok);
                    valid &= ok;
                }

                // §9.1: a value (quoted or not) must be a token.
                valid &= IsToken(value);
            }

            valid &= IsToken(key);
            parameters.Add(new(key, value));
        }

        return new ExtensionOffer(name, parameters, valid);
    }

    private static string Unquote(string quoted, out bool ok)
    {
        ok = true;
        var sb = new StringBuilder(quoted.Length);
        for (int i = 0; i < quoted.Length; i++)
        {
            char c = quoted[i];
            if (c == '\\')
            {
                if (++i == quoted.Length)
                {
                    ok = false;
                    break;
                }

                c = quoted[i];
            }
            else if (c == '"')
            {
                ok = false;
            }

            sb.Append(c);
        }

        return sb.ToString();
    }

    private static List<string> SplitOutsideQuotes(string value, char separator)
    {
        var parts = new List<string>();
        int start = 0;
        bool quoted = false;
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (quoted && c == '\\')
            {
                i++;
            }
            else if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == separator && !quoted)
            {
                parts.Add(value[start..i]);
                start = i + 1;
            }
        }

        parts.Add(value[start..]);
        return parts;
    }

    /// <summary>RFC 9110 §5.6.2 token: one or more tchar.</summary>
    public static bool IsToken(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (s.Length == 0)
        {
            return false;
        }

        foreach (char c in s)
        {
            bool tchar = c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' ||
                "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);
            if (!tchar)
            {
                return false;
            }
        }

        return true;
    }
}
