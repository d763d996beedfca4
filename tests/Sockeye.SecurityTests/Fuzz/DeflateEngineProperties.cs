using System.IO.Compression;
using CsCheck;
using Xunit.Abstractions;
using static Sockeye.SecurityTests.Fuzz.EngineProperties;

namespace Sockeye.SecurityTests.Fuzz;

/// <summary>
/// The engine with permessage-deflate under trickle: streams mixing compressed messages (whole and fragmented, from
/// System.IO.Compression), decompression bombs, corrupt deflate data, RSV1 in the wrong places and every frame of the
/// plain property, fed whole and cut at random points. Same messages, same close code, same frames written either
/// way; never a crash or a hang, and the close code is always a legal one.
/// </summary>
public sealed class DeflateEngineProperties(ITestOutputHelper output)
{
    private const byte Rsv1 = 4;

    private static byte[] Deflate(byte[] data)
    {
        using var stream = new MemoryStream();
        using (var deflate = new DeflateStream(stream, CompressionLevel.Fastest, leaveOpen: true))
        {
            deflate.Write(data);
            deflate.Flush();
        }

        byte[] all = stream.ToArray();
        int tail = all.AsSpan().LastIndexOf((ReadOnlySpan<byte>)[0x00, 0x00, 0xff, 0xff]);
        // Nothing written: .NET flushes nothing, so send the first byte of an empty stored block (RFC 7692 §7.2.3.6).
        return tail < 0 ? [0x00] : all[..tail];
    }

    private static readonly Gen<Piece> Compressed = Gen.Select(Gen.Bool, TextBytes, Gen.Byte.Array[0, 300], Key,
        (text, utf8, binary, key) => new Piece("deflated", Build(text ? (byte)1 : (byte)2, Deflate(text ? utf8 : binary), true, key, Rsv1)));

    private static readonly Gen<Piece> CompressedFragments = Gen.Select(TextBytes, Gen.Int[0, 40].Array[0, 5], Key,
        (payload, cuts, key) =>
        {
            byte[] packed = Deflate(payload);
            var points = cuts.Select(c => Math.Min(c, packed.Length)).Order().Prepend(0).Append(packed.Length).ToList();
            var wire = new List<byte>();
            for (int i = 0; i + 1 < points.Count; i++)
            {
                wire.AddRange(Build(i == 0 ? (byte)1 : (byte)0, packed[points[i]..points[i + 1]], i + 2 == points.Count, key, i == 0 ? Rsv1 : (byte)0));
            }

            return new Piece("deflated fragments", [.. wire]);
        });

    private static readonly Gen<Piece> Bomb = Gen.Select(Gen.Int[1, 4], Key,
        (mib, key) => new Piece("bomb", Build(2, Deflate(new byte[mib * 1024 * 1024]), true, key, Rsv1)));

    private static readonly Gen<Piece> Corrupt = Gen.Select(Gen.Byte.Array[1, 40], Key,
        (bytes, key) => new Piece("corrupt deflate", Build(2, bytes, true, key, Rsv1)));

    private static readonly Gen<Piece> MisplacedRsv1 = Gen.Select(Gen.Byte.Array[0, 10], Key, Gen.Bool,
        (payload, key, ping) => new Piece("misplaced rsv1", ping
            ? Build(9, payload, true, key, Rsv1)
            : [.. Build(2, Deflate(payload), false, key, Rsv1), .. Build(0, [], true, key, Rsv1)]));

    private static readonly Gen<Piece[]> Streams = Gen.Frequency(
        (8, AnyPiece), (6, Compressed), (3, CompressedFragments), (1, Bomb), (2, Corrupt), (1, MisplacedRsv1)).Array[0, 10];

    private static readonly Gen<(WebSocketOptions Options, bool Streamed, PerMessageDeflateParameters Agreed)> Settings = Gen.Select(
        Gen.OneOfConst(64L, 1000L, 1L << 20), Gen.Bool, Gen.Bool, Gen.Int[9, 15],
        (max, streamed, clientNoContext, bits) => (
            new WebSocketOptions { MaxMessageSize = max, MaxFrameSize = 1L << 20, PingInterval = TimeSpan.Zero, CloseTimeout = TimeSpan.FromSeconds(5), Deflate = new PerMessageDeflateOptions() },
            streamed,
            new PerMessageDeflateParameters(false, clientNoContext, 15, bits, "permessage-deflate")));

    [Fact]
    public Task Compressed_streams_give_the_same_outcome_however_they_are_split() =>
        FuzzRun.RunAsync(output, "Engine/deflate-trickle",
            Gen.Select(Streams, Settings).SelectMany((pieces, settings) =>
            {
                byte[] data = pieces.SelectMany(p => p.Wire).ToArray();
                return ChunkPlan(data.Length).Select(cuts => (pieces, settings, cuts));
            }),
            async t =>
            {
                (Piece[] pieces, (WebSocketOptions options, bool streamed, PerMessageDeflateParameters agreed), int[] cuts) = t;
                byte[] data = pieces.SelectMany(p => p.Wire).ToArray();
                Run whole = await RunAsync([data], options, streamed, agreed);
                Run split = await RunAsync(Cut(data, cuts), options, streamed, agreed);
                Assert.Equal(whole, split);
                Assert.NotNull(whole.CloseStatus);
                Assert.True(CloseCode.IsValidOnWire(whole.CloseStatus!.Value) || whole.CloseStatus is 1005 or 1006, $"close status {whole.CloseStatus}");
            },
            iter: 600,
            print: t => $"{string.Join(" | ", (t.Item1 ?? []).Select(p => p.Kind + ":" + Convert.ToHexString(p.Wire.Take(40).ToArray())))} max={t.Item2.Options?.MaxMessageSize} streamed={t.Item2.Streamed} cuts={t.Item3?.Length}");
}
