using System.Globalization;
using System.Text;

namespace Sockeye.Cli.Bench;

/// <summary>What the messages contain (<c>--payload</c>).</summary>
internal enum PayloadKind
{
    /// <summary>One message repeated: bytes 0,1,2,… (binary) or a…z (text). Compresses unrealistically well.</summary>
    Pattern,

    /// <summary>JSON-looking market ticks whose counter and values change from message to message.</summary>
    Json,
}

/// <summary>
/// The plaintext messages a connection sends, in order, cyclically. Every connection walks the
/// same cycle from its own starting point; echoes come back in order, so echo n of a connection
/// that started at s must equal message (s + n) mod <see cref="Count"/>.
/// </summary>
internal sealed class MessageSet
{
    /// <summary>
    /// JSON cycles are long enough (1024 x 64 B = 64 KiB) that a server compressing with context
    /// takeover (32 KiB window) cannot find whole earlier messages in its history.
    /// </summary>
    private const int MaxJsonMessages = 1024;

    private const int MaxTotalBytes = 4 << 20;

    private static readonly string[] Symbols = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "ORCL", "INTC", "CSCO", "ADBE", "NFLX"];
    private static readonly string[] Venues = ["XNAS", "XNYS", "ARCX", "BATS", "EDGX"];
    private static readonly string[] Words = ["order", "filled", "partial", "limit", "market", "session", "open", "close", "auction", "halt", "resume", "quote"];

    private readonly byte[][] _messages;

    private MessageSet(byte[][] messages, bool text)
    {
        _messages = messages;
        Text = text;
    }

    public bool Text { get; }

    /// <summary>Distinct messages before the cycle repeats.</summary>
    public int Count => _messages.Length;

    public int Size => _messages[0].Length;

    public ReadOnlySpan<byte> this[int index] => _messages[index];

    public static MessageSet Create(PayloadKind kind, int size, bool text)
    {
        if (kind == PayloadKind.Pattern)
        {
            var message = new byte[size];
            for (var i = 0; i < size; i++)
            {
                // Printable ASCII keeps text frames valid UTF-8.
                message[i] = (byte)(text ? 'a' + (i % 26) : i);
            }

            return new MessageSet([message], text);
        }

        var count = Math.Clamp(MaxTotalBytes / Math.Max(size, 1), 1, MaxJsonMessages);
        var messages = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            messages[i] = Json(i, size);
        }

        return new MessageSet(messages, text: true);
    }

    /// <summary>
    /// One tick of exactly <paramref name="size"/> ASCII bytes, e.g.
    /// <c>{"id":100007,"type":"tick","sym":"NVDA","price":101.37,"qty":300}</c>: fields are
    /// appended while they fit, then a string field (or spaces) pads to the exact size. Values come
    /// from a PRNG seeded by the index, so the set is the same in every run.
    /// </summary>
    internal static byte[] Json(int index, int size)
    {
        if (size < 13)
        {
            // Too small for {"id":100000}: digits of the counter, still distinct per message.
            return Encoding.ASCII.GetBytes((index % 1_000_000_000).ToString(CultureInfo.InvariantCulture).PadLeft(size, '0')[^size..]);
        }

        var random = new Random(index + 1);
        var price = 100 + (random.Next(0, 10_000) / 100.0);
        var fields = new List<string>
        {
            $"\"id\":{100_000 + index}",
            "\"type\":\"tick\"",
            $"\"sym\":\"{Symbols[random.Next(Symbols.Length)]}\"",
            $"\"price\":{price.ToString("F2", CultureInfo.InvariantCulture)}",
            $"\"qty\":{random.Next(1, 50) * 100}",
            $"\"side\":\"{(random.Next(2) == 0 ? "buy" : "sell")}\"",
            $"\"ts\":{1_764_000_000_000L + (index * 37L)}",
            $"\"venue\":\"{Venues[random.Next(Venues.Length)]}\"",
        };

        // Larger messages carry order book levels, like a depth snapshot.
        for (var level = 1; level <= 64; level++)
        {
            fields.Add($"\"bid{level}\":{(price - (level * 0.01) - (random.Next(0, 3) * 0.01)).ToString("F2", CultureInfo.InvariantCulture)}");
            fields.Add($"\"bsz{level}\":{random.Next(1, 90) * 100}");
            fields.Add($"\"ask{level}\":{(price + (level * 0.01) + (random.Next(0, 3) * 0.01)).ToString("F2", CultureInfo.InvariantCulture)}");
            fields.Add($"\"asz{level}\":{random.Next(1, 90) * 100}");
        }

        var json = new StringBuilder("{", size);
        foreach (var field in fields)
        {
            var separator = json.Length > 1 ? 1 : 0;
            if (json.Length + separator + field.Length + 1 > size)
            {
                break;
            }

            json.Append(json.Length > 1 ? "," : "").Append(field);
        }

        // Pad to the exact size: a text field, else a number field, else (at most 5) spaces.
        var remaining = size - json.Length - 1;
        const string NoteStart = ",\"note\":\"";
        const string NumberStart = ",\"n\":";
        if (remaining >= NoteStart.Length + 4)
        {
            json.Append(NoteStart);
            var text = remaining - NoteStart.Length - 1;
            while (text > 0)
            {
                var word = Words[random.Next(Words.Length)];
                var take = Math.Min(text, word.Length + 1);
                json.Append((word + " ")[..take]);
                text -= take;
            }

            json.Append('"');
        }
        else if (remaining > NumberStart.Length)
        {
            json.Append(NumberStart).Append(random.Next(1, 10));
            for (var i = NumberStart.Length + 1; i < remaining; i++)
            {
                json.Append(random.Next(0, 10));
            }
        }
        else
        {
            json.Append(' ', remaining);
        }

        json.Append('}');
        return Encoding.ASCII.GetBytes(json.ToString());
    }
}
