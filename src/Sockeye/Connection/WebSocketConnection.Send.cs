using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Sockeye.Diagnostics;
using Sockeye.Protocol;

namespace Sockeye;

public sealed partial class WebSocketConnection
{
    // Flush at least this often while writing a large message, so it streams instead of filling memory first.
    private const int FlushChunk = 64 * 1024;

    // _messageLock keeps data messages whole and in call order; _frameLock keeps frames whole, and lets control
    // frames go out between the fragments of a streamed message (§5.4).
    private readonly SemaphoreSlim _messageLock = new(1, 1);
    private readonly SemaphoreSlim _frameLock = new(1, 1);
    private byte[]? _maskKeys; // client role only, allocated on first send
    private int _maskKeyIndex;
    private bool _closeSent;
    private bool _outputClosed;
    private bool _sendTimedOut;

    // Corking (uWebSockets' term): while the read loop processes a batch, frames are written without flushing and
    // one flush at the end sends them in a single socket write.
    private volatile bool _corked;
    private int _flushPending;

    // The pong owed for the latest ping while the frame lock was busy (AnswerPingAsync); -1: none owed.
    private readonly Lock _owedPongLock = new();
    private byte[]? _owedPong;
    private int _owedPongLength = -1;

    /// <summary>Sends a text message.</summary>
    public ValueTask SendTextAsync(string text, CancellationToken cancellationToken = default) =>
        SendTextAsync(text, SendOptions.None, cancellationToken);

    /// <summary>Sends a text message; <paramref name="options"/> can opt it out of compression.</summary>
    public ValueTask SendTextAsync(string text, SendOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        int byteCount = Encoding.UTF8.GetByteCount(text);
        bool compress = ShouldCompress(byteCount, options);
        if (byteCount <= FlushChunk && !compress)
        {
            return SendMessageAsync(Opcode.Text, default, text, compress, cancellationToken);
        }

        return SendEncodedTextAsync(text, byteCount, compress, cancellationToken);
    }

    private async ValueTask SendEncodedTextAsync(string text, int byteCount, bool compress, CancellationToken cancellationToken)
    {
        byte[] rented = ArrayPool<byte>.Shared.Rent(byteCount);
        try
        {
            int n = Encoding.UTF8.GetBytes(text, rented);
            await SendMessageAsync(Opcode.Text, new ReadOnlySequence<byte>(rented, 0, n), null, compress, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Sends a text message already encoded as UTF-8. Throws <see cref="ArgumentException"/> if it is not valid UTF-8.</summary>
    public ValueTask SendTextAsync(ReadOnlyMemory<byte> utf8, CancellationToken cancellationToken = default) =>
        SendTextAsync(utf8, SendOptions.None, cancellationToken);

    /// <summary>Sends a text message already encoded as UTF-8; <paramref name="options"/> can opt it out of compression.</summary>
    public ValueTask SendTextAsync(ReadOnlyMemory<byte> utf8, SendOptions options, CancellationToken cancellationToken = default)
    {
        if (!Utf8Validator.IsValid(utf8.Span))
        {
            throw new ArgumentException("Text messages must be valid UTF-8 (RFC 6455 §5.6).", nameof(utf8));
        }

        return SendMessageAsync(Opcode.Text, new ReadOnlySequence<byte>(utf8), null, ShouldCompress(utf8.Length, options), cancellationToken);
    }

    /// <summary>Sends a binary message.</summary>
    public ValueTask SendBinaryAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        SendBinaryAsync(data, SendOptions.None, cancellationToken);

    /// <summary>Sends a binary message; <paramref name="options"/> can opt it out of compression.</summary>
    public ValueTask SendBinaryAsync(ReadOnlyMemory<byte> data, SendOptions options, CancellationToken cancellationToken = default) =>
        SendMessageAsync(Opcode.Binary, new ReadOnlySequence<byte>(data), null, ShouldCompress(data.Length, options), cancellationToken);

    // RFC 7692: only when deflate was agreed, the message is not opted out, and it is big enough to gain.
    private bool ShouldCompress(long length, SendOptions options) =>
        _deflate is not null && (options & SendOptions.NoCompression) == 0 && _deflate.ShouldCompress(length);

    /// <summary>
    /// Sends a message of <paramref name="type"/> (Text or Binary) from a possibly multi-segment payload, e.g. the
    /// payload of a received <see cref="WebSocketMessage"/>. Text payloads must be valid UTF-8.
    /// </summary>
    public ValueTask SendAsync(MessageType type, ReadOnlySequence<byte> payload, CancellationToken cancellationToken = default) =>
        SendAsync(type, payload, SendOptions.None, cancellationToken);

    /// <summary>As <see cref="SendAsync(MessageType, ReadOnlySequence{byte}, CancellationToken)"/>; <paramref name="options"/> can opt the message out of compression.</summary>
    public ValueTask SendAsync(MessageType type, ReadOnlySequence<byte> payload, SendOptions options, CancellationToken cancellationToken = default)
    {
        if (type == MessageType.Close)
        {
            throw new ArgumentException("Use CloseAsync to close the connection.", nameof(type));
        }

        return SendMessageAsync(type == MessageType.Text ? Opcode.Text : Opcode.Binary, payload, null, ShouldCompress(payload.Length, options), cancellationToken);
    }

    /// <summary>
    /// Sends a message framed once with <see cref="PreparedMessage.Create"/> (server role only: prepared frames are
    /// unmasked). The frame's bytes are copied into this connection's output; <paramref name="message"/> may be
    /// disposed once the returned task completes.
    /// </summary>
    public ValueTask SendAsync(PreparedMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        return SendPreparedAsync(message, default, cancellationToken);
    }

    /// <summary>
    /// Sends several prepared messages in order with one flush (they leave in as few socket writes as fit), e.g. what a
    /// fan-out queued for this connection while it was busy. Server role only.
    /// </summary>
    public ValueTask SendAsync(ReadOnlyMemory<PreparedMessage> messages, CancellationToken cancellationToken = default) =>
        messages.IsEmpty ? ValueTask.CompletedTask : SendPreparedAsync(null, messages, cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendPreparedAsync(PreparedMessage? one, ReadOnlyMemory<PreparedMessage> many, CancellationToken cancellationToken)
    {
        if (_role != Role.Server)
        {
            throw new InvalidOperationException("Prepared messages are unmasked frames; only a server may send them (RFC 6455 §5.1).");
        }

        await _messageLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _frameLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (_outputClosed || _closeSent)
                {
                    throw new WebSocketClosedException("The connection is closing; the message was not sent.");
                }

                if (one is not null)
                {
                    _output.Write(one.FrameFor(_deflate).Span);
                    SockeyeMetrics.Sent(one.Payload.Length, 1);
                }
                else
                {
                    long sinceFlush = 0;
                    for (int i = 0; i < many.Length; i++)
                    {
                        ReadOnlyMemory<byte> frame = many.Span[i].FrameFor(_deflate);
                        _output.Write(frame.Span);
                        SockeyeMetrics.Sent(many.Span[i].Payload.Length, 1);
                        sinceFlush += frame.Length;
                        if (sinceFlush >= FlushChunk && i < many.Length - 1)
                        {
                            sinceFlush = 0;
                            await FlushOutputAsync(cancellationToken).ConfigureAwait(false);
                        }
                    }
                }

                await FlushOrDeferAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _frameLock.Release();
            }
        }
        finally
        {
            _messageLock.Release();
        }
    }

    /// <summary>
    /// Starts a message sent in fragments (§5.4), for content produced piece by piece. Other data messages wait
    /// until the returned writer completes; control frames may still go out between its fragments.
    /// </summary>
    public ValueTask<WebSocketMessageWriter> BeginMessageAsync(MessageType type, CancellationToken cancellationToken = default) =>
        BeginMessageAsync(type, SendOptions.None, cancellationToken);

    /// <summary>
    /// As <see cref="BeginMessageAsync(MessageType, CancellationToken)"/>. A streamed message is compressed whenever
    /// deflate was agreed (its size is not known up front) unless <paramref name="options"/> opts it out; each fragment
    /// is flushed, so it reaches the peer without waiting for the next.
    /// </summary>
    public async ValueTask<WebSocketMessageWriter> BeginMessageAsync(MessageType type, SendOptions options, CancellationToken cancellationToken = default)
    {
        if (type == MessageType.Close)
        {
            throw new ArgumentException("Use CloseAsync to close the connection.", nameof(type));
        }

        await _messageLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new WebSocketMessageWriter(this, type == MessageType.Text ? Opcode.Text : Opcode.Binary, ShouldCompress(long.MaxValue, options));
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    internal async ValueTask WriteFragmentAsync(Opcode opcode, ReadOnlySequence<byte> payload, bool fin, bool compress, CancellationToken cancellationToken)
    {
        await _frameLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await WriteFrameLockedAsync(opcode, fin, payload, null, isControl: false, compress, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _frameLock.Release();
        }
    }

    internal void EndMessage() => _messageLock.Release();

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendMessageAsync(Opcode opcode, ReadOnlySequence<byte> payload, string? text, bool compress, CancellationToken cancellationToken)
    {
        await _messageLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _frameLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await WriteFrameLockedAsync(opcode, fin: true, payload, text, isControl: false, compress, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _frameLock.Release();
            }
        }
        finally
        {
            _messageLock.Release();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendControlFrameAsync(Opcode opcode, ReadOnlyMemory<byte> payload)
    {
        await _frameLock.WaitAsync().ConfigureAwait(false);
        try
        {
            await WriteControlLockedAsync(opcode, payload).ConfigureAwait(false);
        }
        finally
        {
            _frameLock.Release();
        }
    }

    /// <summary>Writes a control frame unless our close went out already. Caller holds <see cref="_frameLock"/>.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteControlLockedAsync(Opcode opcode, ReadOnlyMemory<byte> payload)
    {
        try
        {
            if (!_closeSent && !_outputClosed)
            {
                await WriteFrameLockedAsync(opcode, fin: true, new ReadOnlySequence<byte>(payload), null, isControl: true, compress: false, default).ConfigureAwait(false);
            }
        }
        catch (WebSocketClosedException)
        {
            // The transport is gone; the read loop will see the end too.
        }
    }

    /// <summary>
    /// Answers a ping from the read loop without waiting for the peer: when a send holds the frame lock (it waits for
    /// the peer to read), the pong is owed and goes out once the lock is free, so the loop goes on reading. §5.5.3 lets
    /// an endpoint answer only the most recent of several pings, so one owed pong is kept: a ping flood costs nothing.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AnswerPingAsync(byte[] body, int length)
    {
        if (!_frameLock.Wait(0))
        {
            bool start;
            lock (_owedPongLock)
            {
                _owedPong ??= new byte[FrameHeader.MaxControlPayload];
                body.AsSpan(0, length).CopyTo(_owedPong);
                start = _owedPongLength < 0;
                _owedPongLength = length;
            }

            if (start)
            {
                _ = SendOwedPongAsync();
            }

            return;
        }

        try
        {
            await WriteControlLockedAsync(Opcode.Pong, body.AsMemory(0, length)).ConfigureAwait(false);
        }
        finally
        {
            _frameLock.Release();
        }
    }

    private async Task SendOwedPongAsync()
    {
        await _frameLock.WaitAsync().ConfigureAwait(false);
        byte[] payload = ArrayPool<byte>.Shared.Rent(FrameHeader.MaxControlPayload);
        try
        {
            int length;
            lock (_owedPongLock)
            {
                length = _owedPongLength;
                _owedPong.AsSpan(0, length).CopyTo(payload);
                _owedPongLength = -1; // a ping after this point owes a pong of its own
            }

            await WriteControlLockedAsync(Opcode.Pong, payload.AsMemory(0, length)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException)
        {
            // The output was completed under us while closing; nothing is owed any more.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(payload);
            _frameLock.Release();
        }
    }

    /// <summary>Sends our close frame once (§5.5.1); later data sends fail with <see cref="WebSocketClosedException"/>.</summary>
    private async ValueTask SendCloseFrameAsync(ushort code, string? reason)
    {
        await _frameLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_closeSent || _outputClosed)
            {
                return;
            }

            byte[] body = new byte[FrameHeader.MaxControlPayload];
            int length = ClosePayload.Write(body, code, reason);
            await WriteFrameLockedAsync(Opcode.Close, fin: true, new ReadOnlySequence<byte>(body, 0, length), null, isControl: true, compress: false, default).ConfigureAwait(false);
            _closeSent = true;
        }
        catch (WebSocketClosedException)
        {
            _closeSent = true;
        }
        finally
        {
            _frameLock.Release();
        }
    }

    /// <summary>Writes one frame into the output pipe and flushes. Caller holds <see cref="_frameLock"/>.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteFrameLockedAsync(Opcode opcode, bool fin, ReadOnlySequence<byte> payload, string? text,
        bool isControl, bool compress, CancellationToken cancellationToken)
    {
        if (_outputClosed || (_closeSent && !isControl))
        {
            throw new WebSocketClosedException("The connection is closing; the message was not sent.");
        }

        bool masked = _role == Role.Client;
        uint key = masked && !compress ? NextMaskingKey() : 0;
        long length = payload.Length;
        if (compress)
        {
            await WriteCompressedLockedAsync(opcode, fin, payload, cancellationToken).ConfigureAwait(false);
        }
        else if (text is not null)
        {
            length = WriteTextFrame(opcode, text, masked, key);
        }
        else
        {
            WriteHeader(opcode, fin, payload.Length, masked, key);
            int keyOffset = 0;
            long sinceFlush = 0;
            foreach (ReadOnlyMemory<byte> segment in payload)
            {
                for (ReadOnlyMemory<byte> rest = segment; !rest.IsEmpty;)
                {
                    int n = CopyToOutput(rest.Span, masked, key, ref keyOffset);
                    rest = rest[n..];
                    sinceFlush += n;
                    if (sinceFlush >= FlushChunk)
                    {
                        sinceFlush = 0;
                        await FlushOutputAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }

        if (!isControl)
        {
            SockeyeMetrics.Sent(length, fin ? 1 : 0);
        }

        await FlushOrDeferAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Flushes what was written, unless the read loop is corked and will flush at the end of its batch.</summary>
    private ValueTask FlushOrDeferAsync(CancellationToken cancellationToken)
    {
        if (_corked && _output.UnflushedBytes < FlushChunk)
        {
            // Dekker-style handshake with Uncork (both sides use full fences): either the read loop sees the
            // pending flush, or we see that the cork is gone and flush ourselves. A flush is never lost.
            Interlocked.Exchange(ref _flushPending, 1);
            if (_corked)
            {
                return ValueTask.CompletedTask;
            }
        }

        return FlushOutputAsync(cancellationToken);
    }

    /// <summary>
    /// Ends a cork: flushes what was written while corked, without ever waiting for the peer. The read loop must go on
    /// reading while a send waits for the peer to read: otherwise two peers that each read only once their sends went
    /// out deadlock (this side's read loop stuck behind its full output, the peer's sends stuck behind this side not
    /// reading). A flush that cannot complete at once finishes in the background, holding the frame lock as any
    /// waiting send does, so later sends still queue behind it and the send timeout still applies.
    /// </summary>
    private void Uncork()
    {
        _corked = false;
        if (Interlocked.CompareExchange(ref _flushPending, 0, 1) == 0)
        {
            return; // nothing was written under the cork (or its writer flushed it)
        }

        if (!_frameLock.Wait(0))
        {
            // A sender holds the lock: it may be waiting on a full buffer, or have deferred its flush just before the
            // cork ended. Flush once the lock is free rather than wait here.
            _ = FlushWhenFreeAsync();
            return;
        }

        bool handedOff = false;
        try
        {
            if (!_outputClosed)
            {
                ValueTask<FlushResult> flush = _output.FlushAsync();
                if (flush.IsCompletedSuccessfully)
                {
                    ThrowIfOutputEnded(flush.Result);
                }
                else
                {
                    handedOff = true;
                    _ = FinishFlushAsync(flush);
                }
            }
        }
        catch (WebSocketClosedException)
        {
            // The output is gone; the read loop sees the end too.
        }
        finally
        {
            if (!handedOff)
            {
                _frameLock.Release();
            }
        }
    }

    // The background end of a corked flush that had to wait: releases the frame lock the uncork took.
    private async Task FinishFlushAsync(ValueTask<FlushResult> flush)
    {
        try
        {
            await AwaitSlowFlushAsync(flush).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketClosedException or InvalidOperationException or OperationCanceledException)
        {
            // The output is gone (or the send timed out, which closed it); the read loop sees the end too.
        }
        finally
        {
            _frameLock.Release();
        }
    }

    private async Task FlushWhenFreeAsync()
    {
        await _frameLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_outputClosed)
            {
                await FlushOutputAsync(default).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketClosedException or InvalidOperationException or OperationCanceledException)
        {
        }
        finally
        {
            _frameLock.Release();
        }
    }

    private ValueTask FlushOutputAsync(CancellationToken cancellationToken)
    {
        ValueTask<FlushResult> flush = _output.FlushAsync(cancellationToken);
        if (flush.IsCompletedSuccessfully)
        {
            return CheckFlush(flush.Result);
        }

        return AwaitSlowFlushAsync(flush);
    }

    private ValueTask CheckFlush(FlushResult result)
    {
        ThrowIfOutputEnded(result);
        return ValueTask.CompletedTask;
    }

    private void ThrowIfOutputEnded(FlushResult result)
    {
        if (result.IsCompleted || result.IsCanceled)
        {
            _outputClosed = true;
            OnOutputLost();
            throw new WebSocketClosedException(_sendTimedOut
                ? "The peer did not read for longer than the send timeout; the connection was closed (1008) and this message was not sent."
                : "The connection's transport is closed; the message may not have been sent.");
        }
    }

    // The send buffer is full (the peer reads slower than we write): wait, but not forever.
    private async ValueTask AwaitSlowFlushAsync(ValueTask<FlushResult> flush)
    {
        using var timer = new Timer(static s => ((WebSocketConnection)s!).OnSendTimeout(), this, _options.SendTimeout, Timeout.InfiniteTimeSpan);
        bool counted = SockeyeMetrics.StallStarted();

        FlushResult result;
        try
        {
            result = await flush.ConfigureAwait(false);
        }
        finally
        {
            if (counted)
            {
                SockeyeMetrics.StallEnded();
            }
        }

        await CheckFlush(result).ConfigureAwait(false);
    }

    private void OnSendTimeout()
    {
        _sendTimedOut = true;
        Log.SlowConsumer(_logger, Id, _options.SendTimeout);
        SockeyeMetrics.SendTimedOut();
        if (CloseStatus is null)
        {
            CloseStatus = CloseCode.PolicyViolation;
            CloseReason = "peer too slow to read";
        }

        // The close frame could not get through a full buffer: cut the connection and fail the waiting send.
        _failed = true;
        _transport.Abort();
        _output.CancelPendingFlush();
        _handoff.Complete();
    }

    /// <summary>
    /// The output is gone (send timeout, peer reset, transport failure) while the connection is not finishing: it can
    /// never send again, not even a close frame, so it is failed (§7.1.7). The read loop may be parked waiting for a
    /// receive that the application, whose send just failed, will never make; completing the hand-off wakes it so
    /// the connection ends and its slot, buffers and socket are released.
    /// </summary>
    private void OnOutputLost()
    {
        if (Volatile.Read(ref _finishing) != 0)
        {
            return; // closing already: FinishAsync releases everything
        }

        if (CloseStatus is null)
        {
            CloseStatus = CloseCode.AbnormalClosure;
            CloseReason = "transport closed while sending";
        }

        _failed = true;
        _transport.Abort();
        _handoff.Complete();
    }

    private void WriteHeader(Opcode opcode, bool fin, long length, bool masked, uint key, byte rsv = 0)
    {
        // Ask for room for the payload's first chunk too, so header and payload share a buffer segment and leave
        // in one send call instead of two.
        Span<byte> span = _output.GetSpan(FrameHeader.MaxSize + (int)Math.Min(length, FlushChunk));
        _output.Advance(FrameHeader.Write(span, fin, opcode, length, masked, key, rsv));
    }

    private int CopyToOutput(ReadOnlySpan<byte> source, bool masked, uint key, ref int keyOffset)
    {
        Span<byte> destination = _output.GetSpan(Math.Min(source.Length, FlushChunk));
        int n = Math.Min(destination.Length, source.Length);
        source[..n].CopyTo(destination);
        if (masked)
        {
            keyOffset = Mask.Apply(destination[..n], key, keyOffset);
        }

        _output.Advance(n);
        return n;
    }

    // Small texts are encoded straight into the output pipe: no intermediate byte array.
    private int WriteTextFrame(Opcode opcode, string text, bool masked, uint key)
    {
        int byteCount = Encoding.UTF8.GetByteCount(text);
        WriteHeader(opcode, fin: true, byteCount, masked, key);
        Span<byte> destination = _output.GetSpan(byteCount);
        int written = Encoding.UTF8.GetBytes(text, destination);
        if (masked)
        {
            Mask.Apply(destination[..written], key, 0);
        }

        _output.Advance(written);
        return written;
    }

    // §5.3: masking keys must be unpredictable, so they come from a cryptographic RNG, drawn 64 at a time.
    private uint NextMaskingKey()
    {
        _maskKeys ??= new byte[256];
        if (_maskKeyIndex == 0 || _maskKeyIndex >= _maskKeys.Length)
        {
            RandomNumberGenerator.Fill(_maskKeys);
            _maskKeyIndex = 0;
        }

        uint key = BitConverter.ToUInt32(_maskKeys, _maskKeyIndex);
        _maskKeyIndex += 4;
        return key;
    }
}
