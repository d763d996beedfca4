using Sockeye.SecurityTests.Support;

namespace Sockeye.SecurityTests.Attacks;

/// <summary>
/// Tests that measure the whole process's memory or allocations run in this collection: alone, after the others,
/// so what a fuzz property allocates beside them is not counted against the server.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunsAlone
{
    /// <summary>The collection's name.</summary>
    public const string Name = "runs alone (measures process memory)";
}

/// <summary>Decompression bombs against a server with permessage-deflate (RFC 7692), over loopback.</summary>
[Collection(RunsAlone.Name)]
public class DecompressionBombTests
{
    [Theory]
    [InlineData(1)]       // 256 MiB of zeros in one ~250 KiB frame
    [InlineData(4096)]    // the same bomb in 4096 fragments
    public async Task A_decompression_bomb_is_refused_with_1009_and_the_server_stays_healthy(int fragments)
    {
        await using var server = await Servers.StartEchoAsync(o =>
        {
            o.WebSocket.Deflate = new PerMessageDeflateOptions();
            o.WebSocket.MaxMessageSize = 1024 * 1024;
        });
        await using RawClient client = await RawClient.UpgradeAsync(server.Port, "/", null, "Sec-WebSocket-Extensions: permessage-deflate");
        byte[] bomb;
        using (var packed = new MemoryStream())
        {
            using (var deflate = new System.IO.Compression.DeflateStream(packed, System.IO.Compression.CompressionLevel.SmallestSize, leaveOpen: true))
            {
                byte[] zeros = new byte[1024 * 1024];
                for (int i = 0; i < 256; i++)
                {
                    deflate.Write(zeros);
                }

                deflate.Flush();
            }

            bomb = packed.ToArray();
        }

        long before = GC.GetTotalAllocatedBytes(precise: true);
        int step = (bomb.Length + fragments - 1) / fragments;
        for (int offset = 0, i = 0; offset < bomb.Length; offset += step, i++)
        {
            byte[] part = bomb[offset..Math.Min(bomb.Length, offset + step)];
            bool last = offset + step >= bomb.Length;
            if (!await client.TrySendAsync(Frames.Build(i == 0 ? (byte)0x2 : (byte)0x0, part, fin: last, rsv: i == 0 ? (byte)4 : (byte)0)))
            {
                break; // the server already closed
            }
        }

        WireFrame close = await client.ReadCloseAsync();
        Assert.Equal(CloseCode.MessageTooBig, close.CloseCode);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.True(allocated < 64L * 1024 * 1024, $"the process allocated {allocated} bytes while a 256 MiB bomb was refused");
        await Servers.AssertHealthyAsync(server);
    }
}
