using System.Text.Json;

namespace Sockeye.Topics;

/// <summary>
/// Turns topic names read from JSON into strings without allocating a new one each time a client publishes to the
/// topic it used last (the common case: a client talks to few topics).
/// </summary>
internal sealed class TopicNameCache
{
    private const int Size = 4;
    private readonly byte[]?[] _utf8 = new byte[Size][];
    private readonly string?[] _names = new string[Size];
    private int _next;

    public string Get(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            ReadOnlySpan<byte> value = reader.ValueSpan;
            for (int i = 0; i < Size; i++)
            {
                if (_utf8[i] is { } known && value.SequenceEqual(known))
                {
                    return _names[i]!;
                }
            }

            string name = reader.GetString()!;
            _utf8[_next] = value.ToArray();
            _names[_next] = name;
            _next = (_next + 1) % Size;
            return name;
        }

        return reader.GetString()!;
    }
}
