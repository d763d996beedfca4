namespace Sockeye.Tests.Support;

/// <summary>Hex helpers for byte-for-byte assertions.</summary>
internal static class Bytes
{
    /// <summary>Parses "81 05 48" style hex (spaces optional).</summary>
    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));

    /// <summary>Formats bytes as space-separated lowercase hex, for readable assertion failures.</summary>
    public static string ToHex(ReadOnlySpan<byte> bytes) =>
        string.Join(' ', bytes.ToArray().Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    public static byte[] Pattern(int length)
    {
        var data = new byte[length];
        for (int i = 0; i < length; i++)
        {
            data[i] = (byte)((i * 31) + (i >> 8));
        }

        return data;
    }
}
