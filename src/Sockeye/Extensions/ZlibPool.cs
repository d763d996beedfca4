namespace Sockeye.Extensions;

/// <summary>
/// Process-wide pools of reset zlib streams, one per setting. A connection without context takeover borrows a stream
/// for one message only, and a connection whose stream was released while idle borrows one again for its next
/// message, so idle connections hold no zlib state and busy ones skip zlib's allocation and setup.
/// </summary>
internal static class ZlibPool
{
    // Enough for every core to be mid-message on both directions, with some slack; the rest are freed.
    private static readonly int s_maxPerKey = Math.Max(8, Environment.ProcessorCount * 4);
    private static readonly Stack<ZlibInflater>[] s_inflaters = CreateStacks<ZlibInflater>(16);
    private static readonly Dictionary<int, Stack<ZlibDeflater>> s_deflaters = [];

    private static Stack<T>[] CreateStacks<T>(int count)
    {
        var stacks = new Stack<T>[count];
        for (int i = 0; i < count; i++)
        {
            stacks[i] = new Stack<T>();
        }

        return stacks;
    }

    private static int DeflaterKey(int windowBits, int level, int memLevel) => (windowBits << 16) | (level << 8) | memLevel;

    public static ZlibInflater RentInflater(int windowBits)
    {
        Stack<ZlibInflater> stack = s_inflaters[windowBits];
        lock (stack)
        {
            if (stack.TryPop(out ZlibInflater? pooled))
            {
                return pooled;
            }
        }

        return new ZlibInflater(windowBits);
    }

    public static ZlibDeflater RentDeflater(int windowBits, int level, int memLevel)
    {
        Stack<ZlibDeflater>? stack;
        lock (s_deflaters)
        {
            stack = s_deflaters.GetValueOrDefault(DeflaterKey(windowBits, level, memLevel));
        }

        if (stack is not null)
        {
            lock (stack)
            {
                if (stack.TryPop(out ZlibDeflater? pooled))
                {
                    return pooled;
                }
            }
        }

        return new ZlibDeflater(windowBits, level, memLevel);
    }

    /// <summary>Resets <paramref name="codec"/> and keeps it for the next borrower, or frees it when the pool is full.</summary>
    public static void Return(ZlibCodec codec)
    {
        try
        {
            codec.Reset();
        }
        catch (InvalidOperationException)
        {
            codec.Dispose();
            return;
        }

        switch (codec)
        {
            case ZlibInflater inflater:
                Push(s_inflaters[inflater.WindowBits], inflater);
                break;
            case ZlibDeflater deflater:
                Stack<ZlibDeflater>? stack;
                lock (s_deflaters)
                {
                    int key = DeflaterKey(deflater.WindowBits, deflater.Level, deflater.MemLevel);
                    if (!s_deflaters.TryGetValue(key, out stack))
                    {
                        s_deflaters[key] = stack = new Stack<ZlibDeflater>();
                    }
                }

                Push(stack, deflater);
                break;
        }
    }

    private static void Push<T>(Stack<T> stack, T codec)
        where T : ZlibCodec
    {
        lock (stack)
        {
            if (stack.Count < s_maxPerKey)
            {
                stack.Push(codec);
                return;
            }
        }

        codec.Dispose();
    }
}
