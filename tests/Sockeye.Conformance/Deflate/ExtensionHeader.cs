using System.Text;

namespace Sockeye.Conformance.Deflate;

/// <summary>One extension parameter; <see cref="Value"/> is null when the parameter has no value, unquoted when it was quoted.</summary>
internal sealed record ExtensionParam(string Name, string? Value, bool Quoted)
{
    public override string ToString() => Value is null ? Name : Quoted ? $"{Name}=\"{Value}\"" : $"{Name}={Value}";
}

/// <summary>One element of a Sec-WebSocket-Extensions list; <see cref="SyntaxError"/> is set when it does not parse.</summary>
internal sealed record ExtensionElement(string Name, IReadOnlyList<ExtensionParam> Params, string? SyntaxError)
{
    public override string ToString() => string.Join("; ", [Name, .. Params.Select(p => p.ToString())]);
}

/// <summary>
/// Parses Sec-WebSocket-Extensions (RFC 6455 9.1): extension-list = 1#extension, extension = token *( ";" param ),
/// param = token [ "=" (token | quoted-string) ]. A quoted value must be a token once unescaped (RFC 6455 9.1).
/// Elements are split on commas outside quoted strings, so several offers in one header (and across header lines,
/// which HttpHead joins with ", ") come out in order.
/// </summary>
internal static class ExtensionHeader
{
    public static IReadOnlyList<ExtensionElement> Parse(string? header)
    {
        var elements = new List<ExtensionElement>();
        if (string.IsNullOrWhiteSpace(header))
        {
            return elements;
        }

        foreach (var raw in SplitOutsideQuotes(header, ','))
        {
            if (raw.Trim().Length == 0)
            {
                continue; // RFC 9110 5.6.1: empty list elements are ignored
            }

            elements.Add(ParseElement(raw));
        }

        return elements;
    }

    /// <summary>RFC 9110 5.6.2 tchar.</summary>
    public static bool IsToken(string text) => text.Length > 0 && text.All(c => c < 0x7F && (char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal)));

    private static ExtensionElement ParseElement(string raw)
    {
        var parts = SplitOutsideQuotes(raw, ';');
        var name = parts[0].Trim();
        var parameters = new List<ExtensionParam>();
        string? error = IsToken(name) ? null : $"extension name \"{name}\" is not a token";
        foreach (var part in parts.Skip(1))
        {
            var text = part.Trim();
            var equals = text.IndexOf('=', StringComparison.Ordinal);
            var paramName = (equals < 0 ? text : text[..equals]).Trim();
            if (!IsToken(paramName))
            {
                error ??= $"parameter \"{text}\" has no valid name";
                continue;
            }

            if (equals < 0)
            {
                parameters.Add(new ExtensionParam(paramName, null, Quoted: false));
                continue;
            }

            var value = text[(equals + 1)..].Trim();
            if (value.StartsWith('"'))
            {
                var unquoted = Unquote(value);
                if (unquoted is null || !IsToken(unquoted))
                {
                    error ??= $"parameter {paramName} has a malformed quoted value {value} (RFC 6455 9.1: it must unescape to a token)";
                    continue;
                }

                parameters.Add(new ExtensionParam(paramName, unquoted, Quoted: true));
            }
            else if (IsToken(value))
            {
                parameters.Add(new ExtensionParam(paramName, value, Quoted: false));
            }
            else
            {
                error ??= $"parameter {paramName} has a value \"{value}\" that is not a token";
            }
        }

        return new ExtensionElement(name, parameters, error);
    }

    /// <summary>The content of a quoted-string with backslash escapes resolved, or null if malformed.</summary>
    private static string? Unquote(string value)
    {
        if (value.Length < 2 || value[^1] != '"')
        {
            return null;
        }

        var result = new StringBuilder();
        for (var i = 1; i < value.Length - 1; i++)
        {
            var c = value[i];
            if (c == '"')
            {
                return null;
            }

            if (c == '\\')
            {
                if (++i >= value.Length - 1)
                {
                    return null;
                }

                c = value[i];
            }

            result.Append(c);
        }

        return result.ToString();
    }

    private static List<string> SplitOutsideQuotes(string text, char separator)
    {
        var parts = new List<string>();
        var start = 0;
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
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
                parts.Add(text[start..i]);
                start = i + 1;
            }
        }

        parts.Add(text[start..]);
        return parts;
    }
}
