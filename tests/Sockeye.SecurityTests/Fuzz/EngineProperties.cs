using System.Text;
using CsCheck;
using Sockeye.SecurityTests.Support;
using Xunit.Abstractions;

namespace Sockeye.SecurityTests.Fuzz;

/// <summary>
/// The whole engine under trickle: a random stream of client frames (valid messages, fragments, pings, closes,
/// protocol violations, garbage) is fed to a server-role <see cref="WebSocketConnection"/> once whole and once cut
/// at random points (or at every byte). The application sees the same messages, the connection ends with the same
/// close code, and the server writes the same frames (pongs, close code) either way. (Close reasons may differ in
/// wording: a text message cut inside a character is reported as "not valid UTF-8" when it arrives whole and as
/// "ends inside a UTF-8 sequence" when it arrives in pieces; both are 1007.)
/// </summary>
public sealed class EngineProperties(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    internal sealed record Piece(string Kind, byte[] Wire);

    internal static Gen<byte[]> Key => Gen.Byte.Array[4];

    internal static byte[] Build(byte opcode, byte[] payload, bool fin, byte[] key, byte rsv = 0, bool mask = true, ulong? declared = null) =>
        Frames.Build(opcode, payload, fin, mask, rsv, declared, key);

    internal static readonly Gen<byte[]> TextBytes = Gen.Frequency(
        (3, Gen.String.Select(s => Encoding.UTF8.GetBytes(s))),
        (1, Gen.OneOfConst("é", "€", "𝄞", "a").Array[0, 10].Select(p => Encoding.UTF8.GetBytes(string.Concat(p)))),
        (1, Gen.Byte.Array[0, 20])); // usually invalid UTF-8 → 1007

    private static readonly Gen<Piece> SingleMessage = Gen.Select(Gen.Bool, TextBytes, Gen.Byte.Array[0, 300], Key,
        (text, utf8, binary, key) => new Piece(text ? "text" : "binary", Build(text ? (byte)1 : (byte)2, text ? utf8 : binary, true, key)));

    private static readonly Gen<Piece> BigMessage = Gen.Select(Gen.Int[126, 70_000], Gen.Byte, Key,
        (length, fill, key) => new Piece("big", Build(2, Enumerable.Repeat(fill, length).ToArray(), true, key)));

    /// <summary>A message in fragments; text fragments may split a character (legal as long as the whole is valid).</summary>
    private static readonly Gen<Piece> Fragmented = Gen.Select(Gen.Bool, TextBytes, Gen.Int[0, 40].Array[0, 6], Key, Gen.Bool,
        (text, payload, cuts, key, finish) =>
        {
            var points = cuts.Select(c => Math.Min(c, payload.Length)).Order().Prepend(0).Append(payload.Length).ToList();
            var wire = new List<byte>();
            for (int i = 0; i + 1 < points.Count; i++)
            {
                bool last = i + 2 == points.Count;
                byte opcode = i == 0 ? (text ? (byte)1 : (byte)2) : (byte)0;
                wire.AddRange(Build(opcode, payload[points[i]..points[i + 1]], last && finish, key));
            }

            return new Piece("fragmented", [.. wire]);
        });

    private static readonly Gen<Piece> Control = Gen.Frequency(
        (4, Gen.Select(Gen.OneOfConst<byte>(9, 10), Gen.Byte.Array[0, 125], Key, (op, payload, key) => new Piece(op == 9 ? "ping" : "pong", Build(op, payload, true, key)))),
        (1, Gen.Select(Gen.OneOfConst<byte>(9, 10), Gen.Byte.Array[126, 130], Key, (op, payload, key) => new Piece("oversized control", Build(op, payload, true, key)))),
        (1, Gen.Select(Gen.Byte.Array[0, 10], Key, (payload, key) => new Piece("fragmented ping", Build(9, payload, false, key)))),
        (3, Gen.Select(Gen.OneOfConst<ushort>(1000, 1001, 1003, 1005, 1006, 999, 1016, 2999, 3000, 4999, 5000), TextBytes, Key, (code, reason, key) =>
            new Piece("close", Build(8, [(byte)(code >> 8), (byte)code, .. reason.Take(123)], true, key)))),
        (1, Gen.Select(Gen.Byte.Array[0, 1], Key, (body, key) => new Piece("short close", Build(8, body, true, key)))));

    private static readonly Gen<Piece> Violation = Gen.Frequency(
        (1, Gen.Select(Gen.OneOfConst<byte>(3, 4, 5, 6, 7, 11, 12, 13, 14, 15), Gen.Byte.Array[0, 10], Key, (op, payload, key) => new Piece("reserved opcode", Build(op, payload, true, key)))),
        (1, Gen.Select(Gen.Byte[1, 7], Gen.Byte.Array[0, 10], Key, (rsv, payload, key) => new Piece("rsv", Build(2, payload, true, key, rsv)))),
        (1, Gen.Select(Gen.Byte.Array[0, 10], Key, (payload, key) => new Piece("unmasked", Build(2, payload, true, key, mask: false)))),
        (1, Gen.Select(Gen.Byte.Array[0, 10], Key, Gen.Bool, (payload, key, fin) => new Piece("continuation", Build(0, payload, fin, key)))),
        (1, Gen.Select(Key, Gen.OneOfConst(0x8000_0000_0000_0000UL, 1UL << 40, 70_000UL), (key, length) => new Piece("declared length", Build(2, [], true, key, declared: length)))),
        (1, Gen.Byte.Array[1, 8].Select(bytes => new Piece("garbage", bytes))));

    internal static readonly Gen<Piece> AnyPiece = Gen.Frequency(
        (6, SingleMessage), (1, BigMessage), (3, Fragmented), (4, Control), (1, Violation));

    internal static readonly Gen<Piece[]> Streams = AnyPiece.Array[0, 12];

    internal static Gen<int[]> ChunkPlan(int length) => Gen.Frequency(
        (2, Gen.Int[1, Math.Max(1, length)].Array[0, 20]),   // cut points
        (1, Gen.Const(length <= 5_000 ? Enumerable.Range(1, Math.Max(0, length - 1)).ToArray() : [length / 2]))); // every byte

    internal static List<byte[]> Cut(byte[] data, int[] cuts)
    {
        var points = cuts.Where(c => c > 0 && c < data.Length).Distinct().Order().Prepend(0).Append(data.Length).ToList();
        var chunks = new List<byte[]>();
        for (int i = 0; i + 1 < points.Count; i++)
        {
            chunks.Add(data[points[i]..points[i + 1]]);
        }

        return chunks.Count == 0 ? [[]] : chunks;
    }

    internal sealed record Run(string Messages, ushort? CloseStatus, string Output);

    internal static async Task<Run> RunAsync(IReadOnlyList<byte[]> chunks, WebSocketOptions options, bool streamed,
        PerMessageDeflateParameters? compression = null)
    {
        var transport = new ChunkedTransport(chunks);
        WebSocketConnection connection = WebSocketConnection.Open(transport, Role.Server, options, compression: compression);
        var messages = new StringBuilder();
        Task app = Task.Run(async () =>
        {
            var current = new List<byte>();
            while (true)
            {
                WebSocketMessage message = streamed ? await connection.ReceivePartAsync() : await connection.ReceiveAsync();
                if (message.IsClose)
                {
                    break;
                }

                current.AddRange(message.ToArray());
                if (message.EndOfMessage)
                {
                    messages.Append(message.Type).Append(':').Append(Convert.ToHexString([.. current])).Append('\n');
                    current.Clear();
                }
            }
        });
        await app.WaitAsync(Timeout);
        await connection.Completion.WaitAsync(Timeout);
        byte[] written = await transport.ReadAllOutputAsync().WaitAsync(Timeout);
        await connection.DisposeAsync();
        return new Run(messages.ToString(), connection.CloseStatus, Describe(written));
    }

    /// <summary>
    /// The frames the server wrote, with close frames reduced to their code: the reason text is diagnostic and may
    /// name where in the stream an error was noticed (e.g. "not valid UTF-8" vs "ends inside a UTF-8 sequence").
    /// </summary>
    private static string Describe(byte[] written)
    {
        var sb = new StringBuilder();
        int offset = 0;
        while (offset < written.Length)
        {
            int size = Frames.TryParse(written.AsSpan(offset), out WireFrame? frame);
            if (size == 0)
            {
                sb.Append("partial:").Append(Convert.ToHexString(written.AsSpan(offset)));
                break;
            }

            sb.Append(frame!.Opcode == 0x8 ? $"close {frame.CloseCode}" : $"{frame.Opcode}:{Convert.ToHexString(frame.Payload)}").Append(';');
            offset += size;
        }

        return sb.ToString();
    }

    private static readonly Gen<(WebSocketOptions Options, bool Streamed)> Settings = Gen.Select(
        Gen.OneOfConst(64L, 1000L, 1L << 20), Gen.OneOfConst(1, 64), Gen.Bool,
        (max, charge, streamed) => (new WebSocketOptions { MaxMessageSize = max, MinFragmentCharge = charge, PingInterval = TimeSpan.Zero, CloseTimeout = TimeSpan.FromSeconds(5) }, streamed));

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _outcomes = new();

    [Fact]
    public Task Engine_gives_the_same_messages_and_close_code_however_the_stream_is_split() =>
        FuzzRun.RunAsync(output, "Engine/trickle",
            Gen.Select(Streams, Settings).SelectMany((pieces, settings) =>
            {
                byte[] data = pieces.SelectMany(p => p.Wire).ToArray();
                return ChunkPlan(data.Length).Select(cuts => (pieces, settings, cuts));
            }),
            async t =>
            {
                (Piece[] pieces, (WebSocketOptions options, bool streamed), int[] cuts) = t;
                byte[] data = pieces.SelectMany(p => p.Wire).ToArray();
                Run whole = await RunAsync([data], options, streamed);
                Run split = await RunAsync(Cut(data, cuts), options, streamed);
                Assert.Equal(whole, split);
                _outcomes.AddOrUpdate($"close {whole.CloseStatus}", 1, (_, n) => n + 1);
                _outcomes.AddOrUpdate(whole.Messages.Length == 0 ? "no message delivered" : "messages delivered", 1, (_, n) => n + 1);
                Assert.NotNull(whole.CloseStatus);
                // The peer's own (valid) code, "no status" (1005), "no close frame" (1006), or one of ours.
                Assert.True(CloseCode.IsValidOnWire(whole.CloseStatus!.Value) || whole.CloseStatus is 1005 or 1006, $"close status {whole.CloseStatus}");
            },
            iter: 1_500,
            print: t => $"{string.Join(" | ", t.Item1.Select(p => p.Kind + ":" + Convert.ToHexString(p.Wire.Take(40).ToArray())))} max={t.Item2.Options.MaxMessageSize} charge={t.Item2.Options.MinFragmentCharge} streamed={t.Item2.Streamed} cuts={t.Item3.Length}")
        .ContinueWith(t =>
        {
            output.WriteLine("outcomes: " + string.Join(", ", _outcomes.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}")));
            return t;
        }, TaskScheduler.Default).Unwrap();
}
