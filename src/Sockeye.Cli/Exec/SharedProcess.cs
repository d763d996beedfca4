using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Unicode;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Sockeye.Topics;

namespace Sockeye.Cli.Exec;

/// <summary>
/// <c>--exec-shared</c>: one process for all connections of a path. Every message goes to its stdin (one writer,
/// so lines never interleave; with <c>--tag-connections</c> every line of it prefixed "ID\t", see <see cref="LineTags"/>);
/// every stdout line goes to every member, or with <c>--tag-connections</c> a line "ID\ttext" only to member ID. When
/// the process exits, its members are closed (1000 for status 0, 1011 otherwise) and the next connection starts a new one.
/// </summary>
internal sealed class SharedProcess
{
    // Messages waiting for stdin: a process that stops reading fills this, then every member's receive loop waits.
    private const int InputQueueLength = 64;

    private readonly ChildProcess _child;
    private readonly ExecSettings _settings;
    private readonly ILogger _log;
    private readonly string _tag;
    private readonly ConcurrentDictionary<long, SharedMember> _members = new();
    private readonly Channel<Pending> _input = Channel.CreateBounded<Pending>(new BoundedChannelOptions(InputQueueLength) { SingleReader = true });
    private readonly Lock _gate = new();
    private bool _finished;

    /// <summary>A message waiting for stdin: a pooled copy of its payload and its sender.</summary>
    private readonly record struct Pending(byte[] Data, int Length, long ConnectionId);

    private readonly TopicHub? _topics;
    private readonly string _path;

    private SharedProcess(ChildProcess child, ExecSettings settings, ILogger log, string tag, TopicHub? topics, string path)
    {
        _topics = topics;
        _path = path;
        _child = child;
        _settings = settings;
        _log = log;
        _tag = tag;
        Task input = DedicatedThread.Run($"{tag} in", PumpInput);
        Task output = DedicatedThread.Run($"{tag} out", PumpOutput);
        Finished = FinishAsync(output, input);
    }

    public ChildProcess Child => _child;

    /// <summary>Completes when the process has exited and its members were closed.</summary>
    public Task Finished { get; }

    public static SharedProcess Start(LaunchSpec spec, ExecSettings settings, ILogger log, string tag, TopicHub? topics, string path) =>
        new(ChildProcess.Start(spec, log, tag, settings.CloseGrace), settings, log, tag, topics, path);

    /// <summary>Adds a connection; null when the process has already finished (start a new one).</summary>
    public SharedMember? TryJoin(WebSocketConnection connection, bool viaTopic = false)
    {
        lock (_gate)
        {
            if (_finished)
            {
                return null;
            }

            var member = new SharedMember(connection, Math.Max(4L << 20, 2L * _settings.MaxMessage)) { ViaTopic = viaTopic };
            _members[connection.Id] = member;
            return member;
        }
    }

    public void Leave(SharedMember member)
    {
        _members.TryRemove(member.Connection.Id, out _);
        member.Complete();
    }

    /// <summary>Queues a message for stdin; waits while the queue is full. False once the process is gone.</summary>
    public ValueTask<bool> WriteAsync(WebSocketMessage message, long connectionId) =>
        WriteAsync(message.Payload, connectionId);

    /// <summary>Queues bytes for stdin (a sockeye.v1 member's publish to the path's topic).</summary>
    public async ValueTask<bool> WriteAsync(ReadOnlySequence<byte> payload, long connectionId)
    {
        // A pooled copy: the message's buffers are reused once the next one is received.
        int length = (int)payload.Length;
        byte[] data = ArrayPool<byte>.Shared.Rent(Math.Max(1, length));
        payload.CopyTo(data);
        try
        {
            await _input.Writer.WriteAsync(new Pending(data, length, connectionId)).ConfigureAwait(false);
            return true;
        }
        catch (ChannelClosedException)
        {
            ArrayPool<byte>.Shared.Return(data);
            return false;
        }
    }

    /// <summary>Server shutdown: EOF on stdin, then the usual SIGTERM / SIGKILL escalation.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        _input.Writer.TryComplete();
        await _child.StopAsync(grace, Task.CompletedTask).ConfigureAwait(false);
        await Finished.ConfigureAwait(false);
    }

    private async Task FinishAsync(Task output, Task input)
    {
        await Task.WhenAll(output, _child.Ended).ConfigureAwait(false);
        (ushort code, string? reason) = _child.EndStatus();
        reason = reason is null ? "shared process exited" : "shared " + reason;
        SharedMember[] members;
        lock (_gate)
        {
            _finished = true;
            members = [.. _members.Values];
        }

        _input.Writer.TryComplete();
        _log.LogInformation("{Tag} shared process ended; closing {Count} connection(s) with {Code}", _tag, members.Length, code);
        await Task.WhenAll(members.Select(m => Bridge.CloseQuietlyAsync(m.Connection, code, reason))).ConfigureAwait(false);
        await input.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _child.Finished.ConfigureAwait(false); // what it left in its process group is stopped too
        _child.Dispose();
    }

    private void PumpInput()
    {
        ChannelReader<Pending> reader = _input.Reader;
        using var writer = new LineTags(_child.Input);
        try
        {
            while (DedicatedThread.Wait(reader.WaitToReadAsync()))
            {
                while (reader.TryRead(out Pending pending))
                {
                    try
                    {
                        ReadOnlySpan<byte> data = pending.Data.AsSpan(0, pending.Length);
                        if (_settings.Binary)
                        {
                            writer.WriteRaw(data);
                        }
                        else
                        {
                            writer.WriteLines(data, _settings.TagConnections ? pending.ConnectionId : null);
                        }
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(pending.Data);
                    }
                }

                writer.Flush();
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            _log.LogDebug("{Tag} shared process no longer reads stdin: {Error}", _tag, ex.Message);
            _input.Writer.TryComplete(); // writers waiting on a full queue give up
        }
        finally
        {
            _child.CloseInput();
        }
    }

    private void PumpOutput()
    {
        try
        {
            if (_settings.Binary)
            {
                byte[] chunk = new byte[Math.Min(64 * 1024, _settings.MaxMessage)];
                int n;
                while ((n = _child.Output.Read(chunk)) > 0)
                {
                    Broadcast(new Outgoing(MessageType.Binary, chunk[..n]));
                }

                return;
            }

            using var lines = new LineReader(_child.Output, _settings.MaxMessage);
            while (lines.TryReadLine(out ReadOnlyMemory<byte> line))
            {
                if (_settings.TagConnections && TryParseTag(line.Span, out long id, out int skip))
                {
                    if (_members.TryGetValue(id, out SharedMember? member) && !member.ViaTopic)
                    {
                        Deliver(member, Text(line.Span[skip..]));
                    }
                    else
                    {
                        _log.LogDebug("{Tag} line for connection {Id}, which is not connected: dropped", _tag, id);
                    }

                    continue;
                }

                Broadcast(Text(line.Span));
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            _log.LogDebug("{Tag} shared process output ended: {Error}", _tag, ex.Message);
        }
    }

    private void Broadcast(Outgoing message)
    {
        foreach (SharedMember member in _members.Values)
        {
            if (!member.ViaTopic)
            {
                Deliver(member, message);
            }
        }

        // The path's topic keeps the output (--history) for sockeye.v1 clients that reconnect and resume.
        if (_topics is not null)
        {
            try
            {
                ValueTask<StreamPosition> published = _topics.PublishAsync(_path, message.Type, message.Data);
                if (!published.IsCompleted)
                {
                    published.AsTask().GetAwaiter().GetResult(); // the output thread is dedicated: it may wait
                }
            }
            catch (TopicException ex)
            {
                _log.LogWarning("{Tag} output not kept in the topic: {Reason}", _tag, ex.Message);
            }
        }
    }

    private void Deliver(SharedMember member, Outgoing message)
    {
        if (!member.TryEnqueue(message, out bool firstOverflow) && firstOverflow)
        {
            _log.LogWarning("{Tag} #{Id} fell too far behind the shared output; closing with 1008", _tag, member.Connection.Id);
            _ = Bridge.CloseQuietlyAsync(member.Connection, CloseCode.PolicyViolation, "too slow for the shared stream");
        }
    }

    // Text messages must be UTF-8 (§5.6): invalid bytes become U+FFFD.
    private static Outgoing Text(ReadOnlySpan<byte> line) =>
        new(MessageType.Text, Utf8.IsValid(line) ? line.ToArray() : Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(line)));

    /// <summary>"123\trest": the connection id and where the text starts.</summary>
    private static bool TryParseTag(ReadOnlySpan<byte> line, out long id, out int skip)
    {
        int tab = line.IndexOf((byte)'\t');
        id = 0;
        skip = tab + 1;
        return tab is > 0 and <= 19 && long.TryParse(line[..tab], NumberStyles.None, CultureInfo.InvariantCulture, out id);
    }
}
