using System.Text;

namespace Sockeye.Nats;

/// <summary>
/// The subject and name layout (docs/scale-out.md, "NATS JetStream"). A topic name may hold anything but control
/// characters (dots, <c>*</c>, <c>&gt;</c>, spaces, any Unicode), while a subject token may not hold <c>.</c>, <c>*</c>,
/// <c>&gt;</c> or whitespace and a KV key only <c>[-/_=.A-Za-z0-9]</c>: every topic is encoded into one token of
/// letters, digits and <c>-</c> kept as they are, every other UTF-8 byte as <c>_</c> and two hex digits (so <c>_</c>
/// itself is <c>_5F</c>). The encoding is injective: two topics never share a subject.
/// </summary>
internal static class NatsSubjects
{
    private const string Hex = "0123456789ABCDEF";

    /// <summary>One subject token (and KV key token) for <paramref name="name"/>.</summary>
    public static string Encode(string name)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(name);
        var token = new StringBuilder(utf8.Length + 8);
        foreach (byte b in utf8)
        {
            if (b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9') or (byte)'-')
            {
                token.Append((char)b);
            }
            else
            {
                token.Append('_').Append(Hex[b >> 4]).Append(Hex[b & 0xF]);
            }
        }

        return token.ToString();
    }

    /// <summary>The name <see cref="Encode"/> made <paramref name="token"/> from.</summary>
    public static string Decode(string token)
    {
        var utf8 = new List<byte>(token.Length);
        for (int i = 0; i < token.Length; i++)
        {
            if (token[i] == '_' && i + 2 < token.Length && byte.TryParse(token.AsSpan(i + 1, 2), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out byte b))
            {
                utf8.Add(b);
                i += 2;
            }
            else
            {
                utf8.Add((byte)token[i]);
            }
        }

        return Encoding.UTF8.GetString([.. utf8]);
    }

    /// <summary>Null when <paramref name="prefix"/> is dot-separated tokens of <c>[A-Za-z0-9_-]</c>, else the reason.</summary>
    public static string? CheckPrefix(string? prefix)
    {
        if (string.IsNullOrEmpty(prefix) || prefix.Length > 64)
        {
            return "the prefix must be 1 to 64 characters";
        }

        foreach (string token in prefix.Split('.'))
        {
            if (token.Length == 0 || !token.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '_'))
            {
                return $"the prefix '{prefix}' must be dot-separated tokens of letters, digits, '-' and '_'";
            }
        }

        return null;
    }

    /// <summary>Stream and bucket names may not hold dots: <c>sockeye.app</c> becomes <c>sockeye_app</c>.</summary>
    public static string Name(string prefix) => prefix.Replace('.', '_');
}

/// <summary>The names of one backplane's stream, buckets and subjects.</summary>
internal sealed class NatsLayout(string prefix)
{
    /// <summary>The stream of every topic's messages: subjects <c>P.t.&lt;topic&gt;</c>.</summary>
    public string Stream { get; } = NatsSubjects.Name(prefix) + "_topics";

    /// <summary>KV bucket: <c>&lt;topic&gt;.&lt;connection&gt;</c> → <c>&lt;node&gt;\n</c> + info.</summary>
    public string PresenceBucket { get; } = NatsSubjects.Name(prefix) + "_presence";

    /// <summary>KV bucket with an age limit of the presence timeout: a key per live node.</summary>
    public string NodesBucket { get; } = NatsSubjects.Name(prefix) + "_nodes";

    /// <summary>The stream's subjects.</summary>
    public string StreamSubjects { get; } = prefix + ".t.>";

    /// <summary>Where the stream republishes what it stored (in its order) for the nodes.</summary>
    public string RepublishSubjects { get; } = prefix + ".r.>";

    public string TopicPrefix { get; } = prefix + ".t.";

    public string DeliveryPrefix { get; } = prefix + ".r.";

    public string PresencePrefix { get; } = prefix + ".p.";
}

/// <summary>One topic's subjects.</summary>
internal sealed class TopicSubjects(NatsLayout layout, string topic)
{
    public string Token { get; } = NatsSubjects.Encode(topic);

    /// <summary>Published to (and stored in the stream).</summary>
    public string Stream => _stream ??= _layout.TopicPrefix + Token;

    /// <summary>The republished copy every node with subscribers listens to.</summary>
    public string Delivery => _delivery ??= _layout.DeliveryPrefix + Token;

    /// <summary>Presence events (core NATS).</summary>
    public string Presence => _presence ??= _layout.PresencePrefix + Token;

    private readonly NatsLayout _layout = layout;
    private string? _stream;
    private string? _delivery;
    private string? _presence;
}
