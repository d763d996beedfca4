using System.IO.Pipelines;
using Sockeye.Transport;

namespace Sockeye.Tests.Transport;

public class StreamTransportTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>A stream whose reads wait for the test; it records the size of the buffer each read was given.</summary>
    private sealed class GatedStream : Stream
    {
        private readonly TaskCompletionSource<int> _firstRead = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _data = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private bool _delivered;

        public Task<int> FirstReadSize => _firstRead.Task;

        public void Deliver() => _data.TrySetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _firstRead.TrySetResult(buffer.Length);
            await _data.Task.WaitAsync(cancellationToken);
            if (buffer.Length == 0 || _delivered)
            {
                return 0;
            }

            _delivered = true;
            buffer.Span[0] = 42;
            return 1;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) { }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_idle_read_holds_a_buffer_only_when_told_to_keep_it(bool releaseReadBufferWhenIdle)
    {
        var stream = new GatedStream();
        var transport = new StreamTransport(stream, releaseReadBufferWhenIdle: releaseReadBufferWhenIdle);

        ValueTask<ReadResult> read = transport.Input.ReadAsync();
        int firstReadSize = await stream.FirstReadSize.WaitAsync(Timeout);

        // Released: the idle wait is a zero-byte read (no buffer taken). Kept: a real read into a rented buffer.
        if (releaseReadBufferWhenIdle)
        {
            Assert.Equal(0, firstReadSize);
        }
        else
        {
            Assert.True(firstReadSize > 0, $"first read of {firstReadSize} bytes");
        }

        stream.Deliver();
        ReadResult result = await read.AsTask().WaitAsync(Timeout);
        Assert.Equal(new byte[] { 42 }, System.Buffers.BuffersExtensions.ToArray(result.Buffer));
        transport.Input.AdvanceTo(result.Buffer.End);
        await transport.DisposeAsync();
    }
}
