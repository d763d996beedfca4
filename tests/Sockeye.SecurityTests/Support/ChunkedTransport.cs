using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Sockeye.Transport;

namespace Sockeye.SecurityTests.Support;

/// <summary>
/// An in-memory transport whose input hands the connection exactly one more chunk per read, as a multi-segment
/// buffer of everything not yet consumed: a deterministic "trickle" of a byte stream cut at chosen points. The
/// input ends (IsCompleted) after the last chunk. Output goes to a pipe without backpressure.
/// </summary>
internal sealed class ChunkedTransport : IWebSocketTransport
{
    private readonly Pipe _output = new(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false));

    public ChunkedTransport(IReadOnlyList<byte[]> chunks)
    {
        Input = new ChunkedReader(chunks);
    }

    public PipeReader Input { get; }

    public PipeWriter Output => _output.Writer;

    /// <summary>What the connection wrote.</summary>
    public PipeReader PeerInput => _output.Reader;

    public EndPoint? RemoteEndPoint { get; } = new IPEndPoint(IPAddress.Loopback, 1);

    public EndPoint? LocalEndPoint { get; } = new IPEndPoint(IPAddress.Loopback, 2);

    public Task CloseAsync(TimeSpan lingerTimeout)
    {
        _output.Writer.Complete();
        return Task.CompletedTask;
    }

    public void Abort() => ((ChunkedReader)Input).Abort();

    /// <summary>Everything the connection sent, once it closed its output.</summary>
    public async Task<byte[]> ReadAllOutputAsync()
    {
        var all = new List<byte>();
        while (true)
        {
            ReadResult result = await _output.Reader.ReadAsync();
            foreach (ReadOnlyMemory<byte> segment in result.Buffer)
            {
                all.AddRange(segment.Span);
            }

            _output.Reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return [.. all];
            }
        }
    }

    private sealed class ChunkedReader(IReadOnlyList<byte[]> chunks) : PipeReader
    {
        private readonly List<ReadOnlyMemory<byte>> _pending = [];
        private int _next;
        private bool _aborted;
        private ReadOnlySequence<byte> _lastBuffer;

        public void Abort() => _aborted = true;

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            TryRead(out ReadResult result);
            return ValueTask.FromResult(result);
        }

        public override bool TryRead(out ReadResult result)
        {
            if (_next < chunks.Count && !_aborted)
            {
                // A fresh copy per read: the engine unmasks in place, as it may in a pipe's own buffers.
                _pending.Add(chunks[_next++].ToArray());
            }

            bool completed = _aborted || _next >= chunks.Count;
            _lastBuffer = Build();
            result = new ReadResult(_lastBuffer, isCanceled: false, isCompleted: completed);
            return true;
        }

        private ReadOnlySequence<byte> Build()
        {
            var memories = _pending.Where(m => !m.IsEmpty).ToList();
            if (memories.Count == 0)
            {
                return ReadOnlySequence<byte>.Empty;
            }

            var first = new Segment(memories[0], 0);
            Segment last = first;
            foreach (ReadOnlyMemory<byte> memory in memories.Skip(1))
            {
                last = last.Append(memory);
            }

            return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        }

        public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            long drop = _lastBuffer.Slice(_lastBuffer.Start, consumed).Length;
            while (drop > 0 && _pending.Count > 0)
            {
                ReadOnlyMemory<byte> head = _pending[0];
                if (head.Length <= drop)
                {
                    drop -= head.Length;
                    _pending.RemoveAt(0);
                }
                else
                {
                    _pending[0] = head[(int)drop..];
                    drop = 0;
                }
            }
        }

        public override void CancelPendingRead() => _aborted = true;

        public override void Complete(Exception? exception = null) => _aborted = true;

        private sealed class Segment : ReadOnlySequenceSegment<byte>
        {
            public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
            {
                Memory = memory;
                RunningIndex = runningIndex;
            }

            public Segment Append(ReadOnlyMemory<byte> memory)
            {
                var next = new Segment(memory, RunningIndex + Memory.Length);
                Next = next;
                return next;
            }
        }
    }
}
