using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using Sockeye.Server;

namespace Sockeye.Tests.Server;

public class SendDeadlineTests
{
    [Fact]
    public async Task A_flush_nobody_drains_fails_after_the_timeout()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1024, resumeWriterThreshold: 512, useSynchronizationContext: false));
        using var deadline = new SendDeadline(TimeSpan.FromMilliseconds(300));
        pipe.Writer.Write(new byte[4096].AsSpan());
        var clock = Stopwatch.StartNew();

        bool flushed = await deadline.FlushAsync(pipe.Writer).AsTask().WaitAsync(TimeSpan.FromSeconds(20));

        Assert.False(flushed);
        Assert.True(deadline.TimedOut);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(290), $"gave up after {clock.Elapsed}");
    }

    [Fact]
    public async Task Flushes_that_drain_in_time_succeed_however_many()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1024, resumeWriterThreshold: 512, useSynchronizationContext: false));
        using var deadline = new SendDeadline(TimeSpan.FromSeconds(10));
        for (int i = 0; i < 100; i++)
        {
            pipe.Writer.Write(new byte[4096].AsSpan());
            ValueTask<bool> flush = deadline.FlushAsync(pipe.Writer);
            ReadResult read = await pipe.Reader.ReadAsync();
            pipe.Reader.AdvanceTo(read.Buffer.End);
            Assert.True(await flush);
        }

        Assert.False(deadline.TimedOut);
    }

    [Fact]
    public async Task A_reader_that_is_gone_ends_the_response_without_a_timeout()
    {
        var pipe = new Pipe();
        using var deadline = new SendDeadline(TimeSpan.FromSeconds(10));
        await pipe.Reader.CompleteAsync();
        pipe.Writer.Write(new byte[10].AsSpan());

        Assert.False(await deadline.FlushAsync(pipe.Writer));
        Assert.False(deadline.TimedOut);
    }
}
