using System.Text.Unicode;
using Sockeye.Conformance.Wire;

namespace Sockeye.Conformance.Cases;

/// <summary>
/// The UTF-8 decoder test table behind Autobahn's cases 6.5 to 6.23, in the same order (from Markus Kuhn's
/// UTF-8-test.txt). Each category becomes one sub-group; validity follows RFC 3629.
/// </summary>
internal static class Utf8Sequences
{
    /// <summary>"κόσμε": the valid multi-byte string used throughout group 6.</summary>
    public static readonly byte[] Kosme = Payloads.Hex("ce ba e1 bd b9 cf 83 ce bc ce b5");

    private static readonly string[] MissingLastContinuation =
        ["c0", "e0 80", "f0 80 80", "f8 80 80 80", "fc 80 80 80 80", "df", "ef bf", "f7 bf bf", "fb bf bf bf", "fd bf bf bf bf"];

    public static IReadOnlyList<(string Title, IReadOnlyList<(bool Valid, byte[] Bytes)> Sequences)> Categories { get; } =
    [
        ("Some valid UTF-8 sequences", [Valid("68656c6c6f24776f726c64"), Valid("68656c6c6fc2a2776f726c64"), Valid("68656c6c6fe282ac776f726c64"), Valid("68656c6c6ff0a4ada2776f726c64"), (true, Kosme)]),
        ("All prefixes of a valid UTF-8 string that contains multi-byte code points", [.. Enumerable.Range(1, Kosme.Length).Select(n => (Utf8.IsValid(Kosme.AsSpan(0, n)), Kosme[..n]))]),
        ("First possible sequence of a certain length", [Valid("00"), Valid("c2 80"), Valid("e0 a0 80"), Valid("f0 90 80 80")]),
        ("First possible sequence length 5/6 (invalid codepoints)", [Invalid("f8 88 80 80 80"), Invalid("fc 84 80 80 80 80")]),
        ("Last possible sequence of a certain length", [Valid("7f"), Valid("df bf"), Valid("ef bf bf"), Valid("f4 8f bf bf")]),
        ("Last possible sequence length 4/5/6 (invalid codepoints)", [Invalid("f7 bf bf bf"), Invalid("fb bf bf bf bf"), Invalid("fd bf bf bf bf bf")]),
        ("Other boundary conditions", [Valid("ed 9f bf"), Valid("ee 80 80"), Valid("ef bf bd"), Valid("f4 8f bf bf"), Invalid("f4 90 80 80")]),
        ("Unexpected continuation bytes", [Invalid("80"), Invalid("bf"), Invalid("80 bf"), Invalid("80 bf 80"), Invalid("80 bf 80 bf"), Invalid("80 bf 80 bf 80"), Invalid("80 bf 80 bf 80 bf"), (false, Range(0x80, 0xBF, spaced: false))]),
        ("Lonely start characters", [(false, Range(0xC0, 0xDF, spaced: true)), (false, Range(0xE0, 0xEF, spaced: true)), (false, Range(0xF0, 0xF7, spaced: true)), (false, Range(0xF8, 0xFB, spaced: true)), (false, Range(0xFC, 0xFD, spaced: true))]),
        ("Sequences with last continuation byte missing", [.. MissingLastContinuation.Select(Invalid)]),
        ("Concatenation of incomplete sequences", [Invalid(string.Concat(MissingLastContinuation))]),
        ("Impossible bytes", [Invalid("fe"), Invalid("ff"), Invalid("fe fe ff ff")]),
        ("Examples of an overlong ASCII character", [Invalid("c0 af"), Invalid("e0 80 af"), Invalid("f0 80 80 af"), Invalid("f8 80 80 80 af"), Invalid("fc 80 80 80 80 af")]),
        ("Maximum overlong sequences", [Invalid("c1 bf"), Invalid("e0 9f bf"), Invalid("f0 8f bf bf"), Invalid("f8 87 bf bf bf"), Invalid("fc 83 bf bf bf bf")]),
        ("Overlong representation of the NUL character", [Invalid("c0 80"), Invalid("e0 80 80"), Invalid("f0 80 80 80"), Invalid("f8 80 80 80 80"), Invalid("fc 80 80 80 80 80")]),
        ("Single UTF-16 surrogates", [Invalid("ed a0 80"), Invalid("ed ad bf"), Invalid("ed ae 80"), Invalid("ed af bf"), Invalid("ed b0 80"), Invalid("ed be 80"), Invalid("ed bf bf")]),
        ("Paired UTF-16 surrogates", [Invalid("ed a0 80 ed b0 80"), Invalid("ed a0 80 ed bf bf"), Invalid("ed ad bf ed b0 80"), Invalid("ed ad bf ed bf bf"), Invalid("ed ae 80 ed b0 80"), Invalid("ed ae 80 ed bf bf"), Invalid("ed af bf ed b0 80"), Invalid("ed af bf ed bf bf")]),
        ("Non-character code points (valid UTF-8)", [Valid("ef bf be"), Valid("ef bf bf"), .. NonCharacters()]),
        ("Unicode specials (i.e. replacement char)", [Valid("ef bf b9"), Valid("ef bf ba"), Valid("ef bf bb"), Valid("ef bf bc"), Valid("ef bf bd"), Valid("ef bf be"), Valid("ef bf bf")]),
    ];

    private static (bool, byte[]) Valid(string hex) => (true, Payloads.Hex(hex));

    private static (bool, byte[]) Invalid(string hex) => (false, Payloads.Hex(hex));

    /// <summary>Bytes first..last-1 (Autobahn's xrange), each followed by a space when <paramref name="spaced"/>.</summary>
    private static byte[] Range(int first, int last, bool spaced) =>
        [.. Enumerable.Range(first, last - first).SelectMany(b => spaced ? new[] { (byte)b, (byte)0x20 } : [(byte)b])];

    /// <summary>Non-characters U+nFFFE/U+nFFFF of planes 1-16: valid UTF-8 that must be accepted.</summary>
    private static IEnumerable<(bool, byte[])> NonCharacters()
    {
        foreach (var lead in new byte[] { 0xF0, 0xF1, 0xF2, 0xF3, 0xF4 })
        {
            foreach (var second in new byte[] { 0x8F, 0x9F, 0xAF, 0xBF })
            {
                if (lead == 0xF4 && second != 0x8F)
                {
                    continue; // beyond U+10FFFF
                }

                foreach (var last in new byte[] { 0xBE, 0xBF })
                {
                    if (lead == 0xF0 && second == 0x8F)
                    {
                        continue; // overlong
                    }

                    yield return (true, [lead, second, 0xBF, last]);
                }
            }
        }
    }
}
