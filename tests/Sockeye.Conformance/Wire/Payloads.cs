using System.Text;

namespace Sockeye.Conformance.Wire;

/// <summary>Payload builders shared by the cases.</summary>
internal static class Payloads
{
    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary><paramref name="length"/> bytes made of <paramref name="pattern"/> repeated (Autobahn's payload_len).</summary>
    public static byte[] Repeat(ReadOnlySpan<byte> pattern, int length)
    {
        var result = new byte[length];
        for (var offset = 0; offset < length; offset += pattern.Length)
        {
            var n = Math.Min(pattern.Length, length - offset);
            pattern[..n].CopyTo(result.AsSpan(offset));
        }

        return result;
    }

    public static byte[] Repeat(string asciiPattern, int length) => Repeat(Encoding.ASCII.GetBytes(asciiPattern), length);

    public static byte[] Filled(byte value, int length)
    {
        var result = new byte[length];
        result.AsSpan().Fill(value);
        return result;
    }

    /// <summary>Parses "ce ba e1" style hex, the notation the UTF-8 test tables use.</summary>
    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    /// <summary>A short printable rendering for reports: text if it is ASCII, hex otherwise.</summary>
    public static string Describe(ReadOnlySpan<byte> payload, int max = 32)
    {
        var shown = payload[..Math.Min(max, payload.Length)];
        var ascii = true;
        foreach (var b in shown)
        {
            ascii &= b is >= 0x20 and < 0x7F;
        }

        var body = ascii ? $"\"{Encoding.ASCII.GetString(shown)}\"" : Convert.ToHexString(shown).ToLowerInvariant();
        return payload.Length > max ? $"{body}... ({payload.Length} bytes)" : $"{body} ({payload.Length} bytes)";
    }
}
