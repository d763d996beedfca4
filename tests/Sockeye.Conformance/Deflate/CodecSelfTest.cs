using System.Diagnostics;
using System.IO.Compression;

namespace Sockeye.Conformance.Deflate;

/// <summary>
/// `sockeye-conformance selftest`: checks the suite's own deflate code against System.IO.Compression (zlib) before it
/// is trusted to judge a peer: zlib's output decodes with our inflater, our encoder's output decodes with zlib, the
/// window and context-takeover checks fire when they should, and garbage never crashes the inflater.
/// </summary>
internal static class CodecSelfTest
{
    private static readonly int[] Sizes = [0, 1, 16, 64, 255, 256, 257, 1024, 4096, 8192, 40000, 65536, 70000, 131072];

    public static int Run(TextWriter output)
    {
        var clock = Stopwatch.StartNew();
        var failures = new List<string>();
        void Check(bool ok, string what)
        {
            if (!ok)
            {
                failures.Add(what);
                output.WriteLine($"FAIL {what}");
            }
        }

        foreach (var kind in Enum.GetValues<PayloadKind>())
        {
            foreach (var noContext in new[] { false, true })
            {
                // zlib → our inflater.
                var messages = Messages(kind);
                using (var zlib = new SystemDeflater(noContext))
                {
                    var inflater = new Inflater(15, noContext);
                    foreach (var m in messages)
                    {
                        Check(Try(() => inflater.Inflate(zlib.Compress(m), 1 << 24)) is { } back && back.AsSpan().SequenceEqual(m), $"zlib → inflater, {kind}, {m.Length} bytes, no context takeover {noContext}");
                    }
                }

                // Our encoder → zlib and → our inflater with the same window.
                for (var bits = 8; bits <= 15; bits++)
                {
                    using var encoder = new WindowedDeflater(bits, noContext);
                    var inflater = new Inflater(bits, noContext);
                    var stream = new MemoryStream();
                    foreach (var m in messages)
                    {
                        var compressed = encoder.Compress(m);
                        Check(Try(() => inflater.Inflate(compressed, 1 << 24)) is { } back && back.AsSpan().SequenceEqual(m), $"encoder → inflater, {kind}, {bits} bits, {m.Length} bytes, no context takeover {noContext}");
                        stream.Write(compressed);
                        stream.Write([0x00, 0x00, 0xFF, 0xFF]);
                    }

                    if (!noContext && bits is 8 or 15)
                    {
                        output.WriteLine($"  {kind,-8} own encoder, {bits,2}-bit window: {messages.Sum(m => m.Length)} bytes → {stream.Length - (4 * messages.Count)}");
                    }

                    var all = messages.SelectMany(m => m).ToArray();
                    stream.Position = 0;
                    using var zlibInflate = new DeflateStream(stream, CompressionMode.Decompress);
                    var decoded = new MemoryStream();
                    zlibInflate.CopyTo(decoded);
                    Check(decoded.ToArray().AsSpan().SequenceEqual(all), $"encoder → zlib, {kind}, {bits} bits, no context takeover {noContext}");
                }
            }
        }

        // The checks must catch what a lax peer does. A 15-bit stream with far references, read as a 9-bit window:
        var far = new DeflatePayloads(PayloadKind.Text).Next(20000);
        using (var zlib = new SystemDeflater(noContextTakeover: false))
        {
            Check(Error(() => new Inflater(9, false).Inflate(zlib.Compress(far), 1 << 24))?.Contains("window", StringComparison.Ordinal) == true, "a 9-bit inflater rejects zlib's 15-bit distances");
        }

        // ... and a second message that reuses the first, read without context takeover.
        using (var zlib = new SystemDeflater(noContextTakeover: false))
        {
            var inflater = new Inflater(15, noContextTakeover: true);
            inflater.Inflate(zlib.Compress(far), 1 << 24);
            Check(Error(() => inflater.Inflate(zlib.Compress(far), 1 << 24))?.Contains("earlier message", StringComparison.Ordinal) == true, "an inflater without context takeover rejects references into the previous message");
        }

        Check(Error(() => new Inflater(15, false).Inflate(new SystemDeflater(false).Compress(far), 1000))?.Contains("more than", StringComparison.Ordinal) == true, "the size limit holds");

        // Garbage: only InvalidDataException, never an index error or a hang.
        var random = new Random(1951);
        for (var i = 0; i < 20000; i++)
        {
            var junk = new byte[random.Next(0, 64)];
            random.NextBytes(junk);
            if (i % 2 == 0 && junk.Length > 0)
            {
                junk[0] = (byte)((junk[0] & ~0x6) | 0x4); // BTYPE = 10: exercise the dynamic table parser
            }

            try
            {
                new Inflater(random.Next(8, 16), random.Next(2) == 0).Inflate(junk, 1 << 20);
            }
            catch (InvalidDataException)
            {
                // Expected for most inputs.
            }
            catch (Exception ex) when (ex is IndexOutOfRangeException or ArgumentException or InvalidOperationException)
            {
                Check(false, $"inflater crashed on {Convert.ToHexString(junk)}: {ex.GetType().Name} {ex.Message}");
                break;
            }
        }

        // Damaged zlib output (dynamic Huffman tables, long matches): flipped bits and truncations reach deep into the
        // decoder where random bytes rarely do. Any result but a crash is fine: some damage still decodes.
        byte[] sample;
        using (var zlib = new SystemDeflater(noContextTakeover: true))
        {
            sample = zlib.Compress(new DeflatePayloads(PayloadKind.Json).Next(4096));
        }

        for (var i = 0; i < 20000; i++)
        {
            var damaged = sample.AsSpan(0, i % 3 == 0 ? random.Next(sample.Length) : sample.Length).ToArray();
            for (var flips = random.Next(1, 4); flips > 0 && damaged.Length > 0; flips--)
            {
                damaged[random.Next(damaged.Length)] ^= (byte)(1 << random.Next(8));
            }

            try
            {
                new Inflater(random.Next(8, 16), noContextTakeover: true).Inflate(damaged, 1 << 20);
            }
            catch (InvalidDataException)
            {
                // Expected for most inputs.
            }
            catch (Exception ex) when (ex is IndexOutOfRangeException or ArgumentException or InvalidOperationException)
            {
                Check(false, $"inflater crashed on damaged data {Convert.ToHexString(damaged)}: {ex.GetType().Name} {ex.Message}");
                break;
            }
        }

        output.WriteLine(failures.Count == 0 ? $"codec self-test passed in {clock.ElapsedMilliseconds} ms" : $"{failures.Count} codec self-test failure(s)");
        return failures.Count == 0 ? 0 : 1;
    }

    private static List<byte[]> Messages(PayloadKind kind)
    {
        var payloads = new DeflatePayloads(kind);
        return [.. Sizes.Select(payloads.Next), .. Sizes.Select(payloads.Next)];
    }

    private static byte[]? Try(Func<byte[]> f)
    {
        try
        {
            return f();
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    private static string? Error(Func<byte[]> f)
    {
        try
        {
            f();
            return null;
        }
        catch (InvalidDataException ex)
        {
            return ex.Message;
        }
    }
}
