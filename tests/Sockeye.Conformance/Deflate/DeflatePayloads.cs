using System.Globalization;
using System.Text;

namespace Sockeye.Conformance.Deflate;

/// <summary>The kinds of data groups 12 and 13 send, standing in for Autobahn's test files (text, JSON, images, PDF).</summary>
internal enum PayloadKind
{
    /// <summary>Prose with multi-byte UTF-8 (German, French, Japanese, emoji): moderately compressible text.</summary>
    Text,

    /// <summary>Image-like bytes: smooth gradients with noise, moderately compressible binary.</summary>
    Binary,

    /// <summary>Repeated JSON records that differ in a few fields: highly compressible text.</summary>
    Json,

    /// <summary>Pseudo-random bytes: incompressible, so deflate output is larger than the input.</summary>
    Random,

    /// <summary>Fixed-layout binary records with slowly changing fields: highly compressible binary.</summary>
    Records,
}

/// <summary>
/// Deterministic corpora per kind; messages are consecutive slices of a ring over the corpus, as Autobahn takes them
/// from its files, so neighbouring messages share content and context takeover pays off.
/// </summary>
internal sealed class DeflatePayloads
{
    private const int CorpusBytes = 384 * 1024;

    private static readonly string[] Words =
    [
        "the", "deflate", "window", "message", "frame", "compression", "server", "client", "context", "takeover",
        "Grüße", "naïve", "façade", "Straße", "déjà", "vu", "日本語", "テキスト", "圧縮", "ƒ(x)", "€", "→", "🦀", "🐟",
        "über", "Ångström", "sockeye", "salmon", "river", "upstream", "and", "of", "to", "in", "is", "a", "with",
    ];

    private readonly byte[] _corpus;
    private readonly bool _text;
    private int _offset;

    public DeflatePayloads(PayloadKind kind)
    {
        Kind = kind;
        _text = kind is PayloadKind.Text or PayloadKind.Json;
        _corpus = Corpus(kind);
    }

    public PayloadKind Kind { get; }

    public bool IsText => _text;

    public static string Describe(PayloadKind kind) => kind switch
    {
        PayloadKind.Text => "UTF-8 prose with multi-byte characters (text)",
        PayloadKind.Binary => "image-like bytes (binary)",
        PayloadKind.Json => "repetitive JSON records (text, highly compressible)",
        PayloadKind.Random => "pseudo-random bytes (binary, incompressible)",
        _ => "fixed-layout records (binary, highly compressible)",
    };

    /// <summary>The next <paramref name="length"/> bytes of the ring; text is kept valid UTF-8 by blanking cut characters.</summary>
    public byte[] Next(int length)
    {
        var message = new byte[length];
        for (var copied = 0; copied < length;)
        {
            var n = Math.Min(length - copied, _corpus.Length - _offset);
            _corpus.AsSpan(_offset, n).CopyTo(message.AsSpan(copied));
            copied += n;
            _offset = (_offset + n) % _corpus.Length;
        }

        if (_text)
        {
            MendUtf8(message);
        }

        return message;
    }

    /// <summary>Replaces the bytes of characters cut at either end (and at the ring's seam) with spaces.</summary>
    private static void MendUtf8(byte[] message)
    {
        var i = 0;
        while (i < message.Length)
        {
            var b = message[i];
            var length = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
            if (length == 0 || i + length > message.Length || !System.Text.Unicode.Utf8.IsValid(message.AsSpan(i, length)))
            {
                message[i++] = (byte)' ';
                continue;
            }

            i += length;
        }
    }

    private static byte[] Corpus(PayloadKind kind)
    {
        var random = new Random(7692 + (int)kind);
        var bytes = new List<byte>(CorpusBytes + 1024);
        switch (kind)
        {
            case PayloadKind.Text:
                while (bytes.Count < CorpusBytes)
                {
                    var sentence = new StringBuilder();
                    for (var w = random.Next(4, 14); w > 0; w--)
                    {
                        sentence.Append(Words[random.Next(Words.Length)]).Append(' ');
                    }

                    sentence.Append(random.Next(3) == 0 ? ".\n" : ". ");
                    bytes.AddRange(Encoding.UTF8.GetBytes(sentence.ToString()));
                }

                return [.. bytes];
            case PayloadKind.Json:
                for (var id = 1; bytes.Count < CorpusBytes; id++)
                {
                    var record = string.Create(CultureInfo.InvariantCulture, $"{{\"id\":{id},\"user\":\"user-{id % 97}\",\"email\":\"user{id % 97}@example.org\",\"active\":{(id % 3 == 0 ? "false" : "true")},\"score\":{random.Next(1000) / 10.0},\"tags\":[\"deflate\",\"rfc7692\",\"{Words[random.Next(Words.Length)]}\"]}},\n");
                    bytes.AddRange(Encoding.UTF8.GetBytes(record));
                }

                return [.. bytes];
            case PayloadKind.Binary:
                const int width = 512;
                for (var y = 0; bytes.Count < CorpusBytes; y++)
                {
                    for (var x = 0; x < width; x++)
                    {
                        bytes.Add((byte)((x / 4) + (y / 2) + ((x * y) >> 9) + random.Next(6)));
                    }
                }

                return [.. bytes];
            case PayloadKind.Random:
                var noise = new byte[CorpusBytes];
                random.NextBytes(noise);
                return noise;
            default:
                for (uint n = 0; bytes.Count < CorpusBytes; n++)
                {
                    bytes.AddRange("REC\0"u8.ToArray());
                    bytes.AddRange(BitConverter.GetBytes(n));
                    bytes.AddRange(BitConverter.GetBytes(1_700_000_000L + (n * 15)));
                    bytes.AddRange(BitConverter.GetBytes((float)Math.Sin(n / 50.0)));
                    bytes.Add((byte)(n % 7));
                    bytes.AddRange(new byte[11]);
                }

                return [.. bytes];
        }
    }
}
