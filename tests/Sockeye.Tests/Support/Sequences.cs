using System.Buffers;

namespace Sockeye.Tests.Support;

/// <summary>Builds multi-segment <see cref="ReadOnlySequence{T}"/>s, as a pipe delivers them.</summary>
internal static class Sequences
{
    /// <summary>Splits <paramref name="data"/> into segments at the given (ascending) offsets.</summary>
    public static ReadOnlySequence<byte> Split(byte[] data, params int[] offsets)
    {
        var bounds = new List<int> { 0 };
        bounds.AddRange(offsets);
        bounds.Add(data.Length);
        Segment first = new(data.AsMemory(bounds[0], bounds[1] - bounds[0]));
        Segment last = first;
        for (int i = 1; i < bounds.Count - 1; i++)
        {
            last = last.Append(data.AsMemory(bounds[i], bounds[i + 1] - bounds[i]));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
