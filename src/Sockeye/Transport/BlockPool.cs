using System.Buffers;
using System.Collections.Concurrent;

namespace Sockeye.Transport;

/// <summary>
/// The memory pool behind every connection's pipes: 4 KiB blocks, pinned (they go straight to the socket), kept in
/// one process-wide queue of reusable owners.
/// </summary>
/// <remarks>
/// Why not <see cref="MemoryPool{T}.Shared"/>: it rents from <see cref="ArrayPool{T}.Shared"/>, whose caches are
/// per thread and per core and small, and wraps each rent in a new owner object. A fan-out rents a block on the
/// thread that writes a subscriber's frames and returns it on the thread whose socket send completed; across many
/// connections the small caches overflow and every flush allocates. Here a returned block is reused by whichever
/// thread asks next, owner included, so steady-state traffic allocates nothing. At most <see cref="MaxRetained"/>
/// blocks (32 MiB) are kept; more in flight are left to the GC when returned. Idle connections hold no block
/// (zero-byte receives), so what is retained is what traffic needed at its peak.
/// </remarks>
internal sealed class BlockPool : MemoryPool<byte>
{
    public const int BlockSize = 4096;
    private const int MaxRetained = 8192;

    public static BlockPool Instance { get; } = new();

    private readonly ConcurrentQueue<Block> _free = new();
    private int _retained;

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > BlockSize)
        {
            throw new ArgumentOutOfRangeException(nameof(minBufferSize), minBufferSize, $"Blocks are {BlockSize} bytes.");
        }

        if (_free.TryDequeue(out Block? block))
        {
            Interlocked.Decrement(ref _retained);
            block.Rented = true;
            return block;
        }

        return new Block(this);
    }

    protected override void Dispose(bool disposing)
    {
        // The shared pool lives as long as the process.
    }

    private void Return(Block block)
    {
        if (Interlocked.Increment(ref _retained) <= MaxRetained)
        {
            _free.Enqueue(block);
        }
        else
        {
            Interlocked.Decrement(ref _retained);
        }
    }

    private sealed class Block(BlockPool pool) : IMemoryOwner<byte>
    {
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);

        public bool Rented { get; set; } = true;

        public Memory<byte> Memory => _array;

        public void Dispose()
        {
            if (!Rented)
            {
                return; // disposed twice: the block is already back
            }

            Rented = false;
            pool.Return(this);
        }
    }
}
