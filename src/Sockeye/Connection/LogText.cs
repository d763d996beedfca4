using System.Buffers;
using System.Globalization;
using System.Text;

namespace Sockeye;

/// <summary>
/// Client-supplied text (paths, header values, close reasons) made safe for one log line: control characters
/// (C0, DEL, C1), line and paragraph separators and bidirectional overrides are written as <c>\xNN</c> /
/// <c>\uNNNN</c>, so a client can neither forge log lines nor send escape sequences to an operator's terminal.
/// </summary>
internal static class LogText
{
    private static readonly SearchValues<char> Unsafe = SearchValues.Create(
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000A\u000B\u000C\u000D\u000E\u000F" +
        "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\u007F" +
        "\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008A\u008B\u008C\u008D\u008E\u008F" +
        "\u0090\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009A\u009B\u009C\u009D\u009E\u009F" +
        "\u061C\u200E\u200F\u2028\u2029\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069");

    /// <summary>The text with unsafe characters escaped; the same instance when there are none (no allocation).</summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(text))]
    public static string? Escape(string? text)
    {
        int first = text is null ? -1 : text.AsSpan().IndexOfAny(Unsafe);
        if (first < 0)
        {
            return text;
        }

        var sb = new StringBuilder(text!.Length + 16).Append(text, 0, first);
        foreach (char c in text.AsSpan(first))
        {
            if (!Unsafe.Contains(c))
            {
                sb.Append(c);
            }
            else if (c <= '\u00FF')
            {
                sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            }
            else
            {
                sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }
}
