using Sockeye.Extensions;
using Sockeye.Protocol;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Extensions;

/// <summary>Runs alone: it counts the process's allocations, which tests running beside it would add to.</summary>
[CollectionDefinition(nameof(DecompressionBombTests), DisableParallelization = true)]
public sealed class RunsAlone;

[Collection(nameof(DecompressionBombTests))]
public class DecompressionBombTests
{
    [Fact]
    public async Task A_decompression_bomb_closes_with_1009_without_allocating_its_output()
    {
        await using var h = EngineHarness.Start(Role.Server, o => (o.MaxMessageSize, o.Deflate) = (1024 * 1024, new PerMessageDeflateOptions()), new PerMessageDeflateParameters(false, false, 15, 15, "permessage-deflate"));
        _ = h.RunEchoAsync();
        byte[] bomb = ReferenceDeflate.Compress(new byte[256 * 1024 * 1024]); // 256 MiB of zeros
        Assert.True(bomb.Length < 300 * 1024, $"bomb is {bomb.Length} bytes on the wire");
        long before = GC.GetTotalAllocatedBytes(precise: true);

        h.SendRaw(RawFrame.Build(Opcode.Binary, bomb, rsv: PerMessageDeflate.Rsv1));
        RawFrame close = await h.ExpectCloseThenEndAsync(CloseCode.MessageTooBig);

        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Contains("decompressed", close.CloseReason, StringComparison.Ordinal);
        Assert.True(allocated < 16 * 1024 * 1024, $"allocated {allocated} bytes while refusing a 256 MiB bomb");
    }
}
